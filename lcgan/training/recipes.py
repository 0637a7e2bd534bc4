"""The training recipes of the two experiments as one Python call: :func:`train`.

The networks and losses are :class:`~lcgan.training.config.TrainConfig` fields (``generator``,
``discriminator``, ``mask_input``, ``dilated``, ``upsample``, the loss weights), with per-task
defaults in :data:`~lcgan.training.config.TASK_DEFAULTS`.
``lcgan train`` and the examples call the same functions; nothing here parses a command line.

Example:
    >>> run = train("mixlc", epochs=2, steps_per_epoch=10, out="runs/mixlc")
    >>> run.history["g_loss"][-1], run.export_dir
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os

from lcgan.training.config import TrainConfig

CACHE_MAX_TILES = 512
"""Sources with at most this many tiles are decoded once and kept in memory while training (the
bundled sample: 27); larger ones (DeepGlobe, LoveDA, Potsdam windows: gigabytes) are decoded
every pass, in parallel."""


@dataclasses.dataclass
class TrainingRun:
    """What :func:`train` leaves behind.

    Attributes:
        gan: the trained :class:`~lcgan.training.gan.LandcoverGAN`.
        out: the run folder (absolute).
        config: the :class:`~lcgan.training.config.TrainConfig` that was trained.
        legend: the legend of the training tiles.
        history: ``{metric: [value per epoch of this call]}`` (``fit``'s ``History.history``).
    """

    gan: object
    out: str
    config: TrainConfig
    legend: object
    history: dict

    @property
    def export_dir(self) -> str:
        """The SavedModel export of the (EMA) generator (:func:`lcgan.load_generator`)."""
        return os.path.join(self.out, "export")

    @property
    def generator_file(self) -> str:
        """The (EMA) generator as a ``.keras`` file."""
        return os.path.join(self.out, "generator.keras")


def set_precision(mode: str) -> None:
    """Set Keras' global dtype policy: ``off``, ``auto`` (float16 on GPU, bfloat16 on CPU) or a policy."""
    import keras
    import tensorflow as tf

    if mode == "auto":
        mode = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy("float32" if mode == "off" else mode)


def build_networks(config: TrainConfig, num_classes: int):
    """The (generator, discriminator) that ``config.generator`` and ``config.discriminator`` name.

    With ``config.mask_input`` the generator's rgb is blanked inside the mask, the mask is an
    input channel and the output is composited; the discriminator exposes its intermediate
    features when ``config.feature_matching_weight`` > 0.
    """
    from lcgan import models

    shape = dict(image_size=config.image_size, num_classes=num_classes, width=config.width)
    synthesis = dict(upsample=config.upsample, noise_channels=config.noise_channels,
                     class_colors=config.class_colors)
    # cycle: the sample blanks the edit's input; the cycle pass must see the edited pixels.
    masking = dict(use_mask=config.mask_input,
                   blank_input=config.mask_input and config.task != "cycle",
                   composite=config.mask_input)
    if config.generator == "unet":
        generator = models.unet_generator(**shape, **synthesis, **masking)
    else:
        generator = models.dual_branch_generator(**shape, **synthesis, dilated=config.dilated,
                                                 **masking)
    build = {"patch": models.patch_discriminator, "acgan": models.acgan_discriminator,
             "local_global": models.local_global_discriminator,
             "oasis": models.oasis_discriminator}[config.discriminator]
    return generator, build(**shape, features=config.feature_matching_weight > 0)


def feature_loss(config: TrainConfig):
    """The VGG feature loss, or None (said loudly) when its weights cannot be had offline."""
    from lcgan.errors import WeightsUnavailableError
    from lcgan.training.losses import VGGFeatureLoss

    if config.feature_weight <= 0 or config.vgg_weights.lower() == "none":
        return None
    try:
        return VGGFeatureLoss(weights=config.vgg_weights)
    except WeightsUnavailableError as error:
        if config.require_vgg:
            raise
        bar = "!" * 78
        print(f"{bar}\nlcgan: THE VGG16 FEATURE LOSS IS OFF for this run: {error}\n"
              f"Training continues with L1 + GAN losses only (require_vgg=True / --require-vgg "
              f"makes this an error).\n{bar}", flush=True)
        return None


def task_options(config: TrainConfig, legend) -> dict:
    """The sample options of ``config.task`` that the config sets (``cycle``: the transitions)."""
    if config.task != "cycle" or not config.transitions:
        return {}
    from lcgan.data.edits import load_transitions

    return {"transitions": load_transitions(config.transitions, legend).tolist()}


def cycle_segmenter(config: TrainConfig, legend):
    """The frozen segmenter of a ``cycle`` run: ``config.segmenter``, else the packaged one.

    Raises:
        ValueError: no segmenter was given and none is packaged for ``legend``.
        DataError: the segmenter file is missing or unreadable.
    """
    from lcgan.evaluation.segmenters import TRAIN_HINT, load_segmenter, packaged_segmenter

    path = config.segmenter or packaged_segmenter(legend)
    if path is None:
        raise ValueError(f"Task 'cycle' needs a segmenter trained on real imagery of the legend "
                         f"{legend.name!r}: {TRAIN_HINT} (`segmenter=` / --segmenter).")
    return load_segmenter(path)


def build_gan(config: TrainConfig, num_classes: int, *, legend=None):
    """The compiled GAN of ``config`` (fresh weights): a :class:`~lcgan.training.gan.LandcoverGAN`,
    or for task ``cycle`` a :class:`~lcgan.training.cycle.CycleEditGAN` (needs ``legend``)."""
    import keras

    from lcgan.data.samples import sample_builder
    from lcgan.training.gan import LandcoverGAN

    if config.task == "cycle" and legend is None:
        raise ValueError("Task 'cycle' needs the `legend` (its segmenter and transitions).")
    vgg = feature_loss(config)
    generator, discriminator = build_networks(config, num_classes)
    options = dict(
        gan_weight=config.gan_weight, feature_weight=config.feature_weight if vgg else 0.0,
        acgan_weight=config.acgan_weight if config.discriminator == "acgan" else 0.0,
        feature_matching_weight=config.feature_matching_weight,
        l1_inside_weight=config.l1_inside_weight, l1_outside_weight=config.l1_outside_weight,
        seam_weight=config.seam_weight, low_frequency_weight=config.low_frequency_weight,
        low_frequency_size=config.low_frequency_size, chroma_weight=config.chroma_weight,
        ssim_weight=config.ssim_weight, texture_weight=config.texture_weight,
        gan_loss=config.gan_loss, feature_loss=vgg,
        ema_decay=config.ema_decay or None, seed=config.seed,
        sample_builder=(sample_builder(config.task, num_classes=num_classes,
                                       **task_options(config, legend))
                        if config.samples_in_step else None))
    if config.task == "cycle":
        from lcgan.training.cycle import CycleEditGAN

        gan = CycleEditGAN(generator, discriminator, cycle_segmenter(config, legend),
                           consistency_weight=config.consistency_weight,
                           consistency_margin=config.consistency_margin,
                           consistency_balanced=config.consistency_balanced,
                           cycle_weight=config.l1_weight, **options)
    else:
        gan = LandcoverGAN(generator, discriminator, l1_weight=config.l1_weight, **options)
    gan.compile(g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5))
    return gan


def preview_batch(source, config: TrainConfig, rows: int = 4) -> dict:
    """A fixed model-ready batch of ``rows`` examples for the sample grids (numpy arrays)."""
    from lcgan.data import make_dataset

    batch = make_dataset(source, task=config.task, image_size=config.image_size,
                         batch_size=max(config.batch_size, rows), seed=config.seed + 12345,
                         augment=False, repeat=True, **task_options(config, source.legend))
    return {name: value[:rows] for name, value in next(iter(batch)).items()}


def standard_callbacks(gan, source, config: TrainConfig, out: str, *, resume: bool = True,
                       save_every: int = 0):
    """Sample grids, history CSV, checkpoint/resume, NaN guard and (if installed) TensorBoard.

    In this order, so that an epoch's grid and history row are written before its checkpoint.
    """
    import keras

    from lcgan.training.callbacks import HistoryCSV, NaNGuard, SampleGrid, TrainingCheckpoint

    checkpoints, logs = os.path.join(out, "checkpoints"), os.path.join(out, "logs")
    callbacks = [SampleGrid(preview_batch(source, config), source.legend, out, log_dir=logs),
                 HistoryCSV(os.path.join(out, "history.csv")),
                 TrainingCheckpoint(checkpoints, save_every=save_every, resume=resume),
                 NaNGuard(checkpoints)]
    if importlib.util.find_spec("tensorboard"):
        callbacks.append(keras.callbacks.TensorBoard(logs, write_graph=False))
    else:
        print("lcgan: tensorboard is not installed; no TensorBoard logs (pip install tensorboard)")
    return callbacks


def train(task: str = "mixlc", source=None, *, out=None, resume: bool = True,
          overwrite: bool = False, save_every: int = 0, callbacks=(), verbose="auto",
          config: TrainConfig | None = None, **options) -> TrainingRun:
    """Train the recipe of ``task`` and export its generator.

    The same call again continues the run where it stopped (killed, interrupted, or asked for
    more ``epochs``) and ends with the very weights an uninterrupted run has. What may change
    between calls into one folder, and what ``overwrite`` does, is
    :func:`~lcgan.training.run_folder.open_run_folder`'s.

    Args:
        task: ``"mixlc"``, ``"inpaint"`` or ``"cycle"`` (unpaired editing, needs a segmenter:
            ``config.segmenter`` or the packaged one of the bundled legend).
        source: a :class:`~lcgan.data.TileSource` (default: the bundled Dubai sample); see
            :func:`lcgan.data.resolve_source` for folders, GeoTIFFs and TFDS.
        out: run folder (default ``runs/<task>``). Holds ``config.json``, ``checkpoints/``,
            ``gen_N.png`` sample grids, ``history.csv``, ``logs/`` (TensorBoard),
            ``generator.keras`` and the SavedModel ``export/``.
        resume: continue from the newest intact checkpoint in ``out/checkpoints``.
        overwrite: a new run may replace the run in ``out``, once the new one has finished.
        save_every: also checkpoint every that many steps (0: at epoch ends only).
        callbacks: extra Keras callbacks, passed to ``fit`` after the standard ones.
        verbose: ``fit``'s verbosity.
        config: a full :class:`TrainConfig` (then ``task`` and ``options`` must not be given).
        **options: :class:`TrainConfig` fields, e.g. ``image_size=128, width=32, epochs=20``.

    Returns:
        A :class:`TrainingRun`.

    Raises:
        ValueError: an unknown option or a bad value (naming it), tiles smaller than
            ``image_size``, or ``epochs=0`` for a new run.
        RunFolderError: ``out`` holds a run this call would destroy or cannot continue.
        DataError: a tile file is unreadable or holds classes not in the legend (naming it).
        OutputError: ``out`` cannot be written or its disk is too full.
        WeightsUnavailableError: the VGG16 weights cannot be had and ``require_vgg``.
        FloatingPointError: a loss became NaN or Inf (checkpoints of good weights are kept).
    """
    import keras

    from lcgan.data import make_dataset, resolve_source
    from lcgan.data.checks import check_tile_sizes, reading
    from lcgan.outputs import check_free_space
    from lcgan.scenes.export import export_generator, save_keras_generator
    from lcgan.training.checkpoints import TrainingCheckpoint, fit_from, state_bytes
    from lcgan.training.run_folder import apply_config, open_run_folder

    if config is None:
        config = TrainConfig.for_task(task, **options)
    elif options or task != config.task:
        raise ValueError("Give either `config` or `task` and options, not both.")
    source = resolve_source() if source is None else source
    check_tile_sizes(source, config.image_size)
    folder = open_run_folder(out or os.path.join("runs", config.task), config, resume=resume,
                             overwrite=overwrite)
    try:
        set_precision(config.mixed_precision)
        keras.utils.set_random_seed(config.seed)
        gan = build_gan(config, source.legend.num_classes, legend=source.legend)
        check_free_space(folder.work, 3 * state_bytes(gan) + 2**23, "the checkpoints and export")
        with reading(source):
            standard = standard_callbacks(gan, source, config, folder.work, resume=False,
                                          save_every=save_every)
            checkpoint = next(c for c in standard if isinstance(c, TrainingCheckpoint))
            if folder.resumed:
                checkpoint.restore(gan)
                apply_config(gan, config)
            config.save(folder.path("config.json"))
            history = fit_from(
                gan, lambda start: make_dataset(
                    source, task=config.task, image_size=config.image_size,
                    batch_size=config.batch_size, seed=config.seed, start=start,
                    build=not config.samples_in_step, cache=len(source) <= CACHE_MAX_TILES,
                    **task_options(config, source.legend)),
                checkpoint.position, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                callbacks=[*standard, *callbacks], verbose=verbose)
        info = dict(task=config.task, image_size=config.image_size, legend=source.legend)
        save_keras_generator(gan, folder.path("generator.keras"), **info)
        export_generator(gan, folder.path("export"), **info, overwrite=True)
        folder.finish()
    finally:
        folder.close()
    return TrainingRun(gan=gan, out=folder.out, config=config, legend=source.legend,
                       history=history)


def describe_outputs(run: TrainingRun) -> str:
    """A few lines naming what a run wrote, for scripts to print."""
    logs = os.path.join(run.out, "logs")
    ema = "EMA " if run.gan.ema_generator is not None else ""
    return (f"lcgan: outputs of the {run.config.task} run are in {run.out}:\n"
            f"  generator.keras      the {ema}generator\n"
            f"  export/              SavedModel export (lcgan.load_generator)\n"
            f"  gen_N.png            sample grids: input | landcover | generated | target\n"
            f"  history.csv, logs/   losses per epoch; TensorBoard (tensorboard --logdir {logs})\n"
            f"  checkpoints/         training state (run the same command to continue)\n"
            f"  config.json          the training configuration")
