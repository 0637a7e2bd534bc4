"""Training recipes of the two experiments, shared by ``examples/train_*.py`` and ``lcgan train``.

``mixlc`` (mixed-square landcover editing): UNet generator + conditional PatchGAN, L1 + least
squares GAN + VGG16 feature loss. ``inpaint`` (masked-class inpainting): dual-branch generator
(mask input, composite output) + ACGAN discriminator, L1 + least squares GAN + ACGAN loss.

Example:
    >>> parser = argparse.ArgumentParser()
    >>> add_train_arguments(parser, "mixlc")
    >>> run_training(parser.parse_args(["--epochs", "1"]))  # -> "runs/mixlc"
"""

import argparse
import importlib.util
import os

TASKS = ("mixlc", "inpaint")
TASK_DEFAULTS = {
    "mixlc": dict(l1_weight=100.0, gan_weight=1.0, feature_weight=0.01, acgan_weight=0.0),
    "inpaint": dict(l1_weight=100.0, gan_weight=1.0, feature_weight=0.0, acgan_weight=1.0),
}
PRECISIONS = ("off", "auto", "mixed_bfloat16", "mixed_float16")


def add_train_arguments(parser, task):
    """Add the training flags of ``task`` (``"mixlc"`` or ``"inpaint"``) to an argparse parser."""
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}. Received: {task!r}")
    defaults = TASK_DEFAULTS[task]
    parser.set_defaults(task=task)
    data = parser.add_argument_group("data (default: the bundled Dubai sample)")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--data-dir", help="folder of images/*.jpg + masks/*.png tile pairs "
                        "(legend.json inside, or --legend)")
    source.add_argument("--geotiff", nargs=2, action="append", metavar=("RGB", "LC"),
                        help="an aligned (rgb, landcover) GeoTIFF pair; repeat for more (needs --legend)")
    source.add_argument("--tfds-dir", help="dataset directory written by lcgan.data.build_tfds")
    data.add_argument("--legend", help="legend JSON (for --geotiff, or to override --data-dir's)")
    data.add_argument("--image-size", type=int, default=64, help="square crop size in pixels (64)")
    data.add_argument("--batch-size", type=int, default=8, help="batch size (8)")
    data.add_argument("--samples-in-step", action="store_true",
                      help="build masked/mixed samples inside the train step (on the GPU)")
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=10, help="epochs (10)")
    train.add_argument("--steps-per-epoch", type=int, default=20, help="steps per epoch (20)")
    train.add_argument("--width", type=int, default=16, help="channels of the first layers (16)")
    train.add_argument("--learning-rate", type=float, default=2e-4, help="Adam rate of G and D (2e-4)")
    train.add_argument("--gan-loss", choices=("lsgan", "hinge"), default="lsgan",
                       help="adversarial loss (lsgan)")
    for name, value in defaults.items():
        train.add_argument(f"--{name.replace('_', '-')}", type=float, default=value,
                           help=f"weight of the {name[:-7]} loss ({value})")
    train.add_argument("--l1-inside-weight", type=float, default=1.0,
                       help="L1 weight of pixels inside the mask (1)")
    train.add_argument("--l1-outside-weight", type=float, default=1.0,
                       help="L1 weight of pixels outside the mask (1)")
    train.add_argument("--ema-decay", type=float, default=0.999,
                       help="decay of the exported moving-average generator; 0 disables it (0.999)")
    train.add_argument("--vgg-weights", default="imagenet",
                       help="VGG16 weights of the feature loss: imagenet (Keras cache, downloaded "
                       "when online), a weights file PATH, or none (imagenet)")
    train.add_argument("--require-vgg", action="store_true",
                       help="fail instead of training without the feature loss when the VGG16 "
                       "weights cannot be had")
    train.add_argument("--mixed-precision", choices=PRECISIONS, default="off",
                       help="off; auto (mixed_float16 on GPU, mixed_bfloat16 on CPU); or a policy")
    train.add_argument("--seed", type=int, default=0, help="random seed (0)")
    out = parser.add_argument_group("output")
    out.add_argument("--out", default=os.path.join("runs", task),
                     help=f"output folder (runs/{task})")
    out.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                     help="continue from the checkpoint in OUT/checkpoints (default on)")
    return parser


def main(task, argv=None, description=None):
    """Command-line entry of a training script: parse ``argv`` for ``task``, train, return OUT."""
    parser = argparse.ArgumentParser(description=description)
    add_train_arguments(parser, task)
    return run_training(parser.parse_args(argv))


def _set_precision(mode):
    import keras
    import tensorflow as tf

    if mode == "auto":
        mode = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy("float32" if mode == "off" else mode)


def _source(args):
    from lcgan.data import FolderSource, GeoTiffSource, Legend, TfdsSource, sample_source

    legend = Legend.from_json(args.legend) if args.legend else None
    if args.data_dir:
        return FolderSource(args.data_dir, legend=legend)
    if args.geotiff:
        if legend is None:
            raise ValueError("`--geotiff` needs `--legend LEGEND.json` mapping raster values to classes.")
        return GeoTiffSource([tuple(pair) for pair in args.geotiff], legend=legend,
                             tile_size=args.image_size)
    if args.tfds_dir:
        return TfdsSource(args.tfds_dir)
    return sample_source()


def _networks(args, num_classes):
    from lcgan import models

    shape = dict(image_size=args.image_size, num_classes=num_classes, width=args.width)
    if args.task == "mixlc":
        return models.unet_generator(**shape), models.patch_discriminator(**shape)
    return (models.dual_branch_generator(**shape, use_mask=True, composite=True),
            models.acgan_discriminator(**shape))


def _feature_loss(args):
    """The VGG feature loss, or None (said loudly) when its weights cannot be had offline."""
    from lcgan.errors import WeightsUnavailableError
    from lcgan.losses import VGGFeatureLoss

    if args.feature_weight <= 0 or args.vgg_weights.lower() == "none":
        return None
    try:
        return VGGFeatureLoss(weights=args.vgg_weights)
    except WeightsUnavailableError as error:
        if args.require_vgg:
            raise
        bar = "!" * 78
        print(f"{bar}\nlcgan: THE VGG16 FEATURE LOSS IS OFF for this run: {error}\n"
              f"Training continues with L1 + GAN losses only (pass --require-vgg to make this an "
              f"error).\n{bar}", flush=True)
        return None


def _preview(source, args):
    from lcgan.data import make_dataset

    batch = make_dataset(source, task=args.task, image_size=args.image_size,
                         batch_size=args.batch_size, seed=args.seed + 12345, augment=False,
                         repeat=True)
    return {name: value[:4] for name, value in next(iter(batch)).items()}  # 4 rows


def run_training(args):
    """Train the recipe of ``args.task`` as configured by :func:`add_train_arguments` flags.

    Resumes from ``OUT/checkpoints`` when ``args.resume`` (same command -> same run continued).
    Writes ``OUT/gen_N.png`` sample grids, TensorBoard logs in ``OUT/logs``, ``OUT/history.csv``,
    the (EMA) generator as ``OUT/generator.keras`` and an export in ``OUT/export``.

    Returns:
        The output folder.

    Raises:
        WeightsUnavailableError: the VGG16 weights cannot be had and ``args.require_vgg``.
        FloatingPointError: a loss became NaN or Inf (the last good checkpoint is kept).
    """
    import keras

    from lcgan.callbacks import NaNGuard, SampleGrid, TrainingCheckpoint, saved_epoch
    from lcgan.data import make_dataset
    from lcgan.data.samples import sample_builder
    from lcgan.export import export_generator
    from lcgan.gan import LandcoverGAN

    out = os.path.abspath(args.out)
    checkpoints = os.path.join(out, "checkpoints")
    logs = os.path.join(out, "logs")
    os.makedirs(out, exist_ok=True)
    _set_precision(args.mixed_precision)
    keras.utils.set_random_seed(args.seed)
    source = _source(args)
    legend = source.legend
    done = saved_epoch(checkpoints) if args.resume else 0
    dataset = make_dataset(source, task=args.task, image_size=args.image_size,
                           batch_size=args.batch_size, seed=args.seed + done,
                           build=not args.samples_in_step, cache=True)
    feature_loss = _feature_loss(args)
    generator, discriminator = _networks(args, legend.num_classes)
    gan = LandcoverGAN(
        generator, discriminator, l1_weight=args.l1_weight, gan_weight=args.gan_weight,
        feature_weight=args.feature_weight if feature_loss else 0.0,
        acgan_weight=args.acgan_weight, l1_inside_weight=args.l1_inside_weight,
        l1_outside_weight=args.l1_outside_weight, gan_loss=args.gan_loss,
        feature_loss=feature_loss, ema_decay=args.ema_decay or None, seed=args.seed,
        sample_builder=(sample_builder(args.task, num_classes=legend.num_classes)
                        if args.samples_in_step else None))
    gan.compile(g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5))
    callbacks = [TrainingCheckpoint(checkpoints, resume=args.resume), NaNGuard(checkpoints),
                 SampleGrid(_preview(source, args), legend, out, log_dir=logs),
                 keras.callbacks.CSVLogger(os.path.join(out, "history.csv"), append=done > 0)]
    if importlib.util.find_spec("tensorboard"):
        callbacks.append(keras.callbacks.TensorBoard(logs, write_graph=False))
    else:
        print("lcgan: tensorboard is not installed; no TensorBoard logs (pip install tensorboard)")
    gan.fit(dataset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, callbacks=callbacks)

    shown = gan.ema_generator or gan.generator
    shown.save(os.path.join(out, "generator.keras"))
    export_generator(gan, os.path.join(out, "export"), legend=legend, task=args.task,
                     image_size=args.image_size, overwrite=True)
    print(f"lcgan: outputs of the {args.task} run are in {out}:\n"
          f"  generator.keras      the {'EMA ' if gan.ema_generator else ''}generator\n"
          f"  export/              SavedModel export (lcgan.load_generator)\n"
          f"  gen_N.png            sample grids: input | landcover | generated | target\n"
          f"  history.csv, logs/   losses per epoch; TensorBoard (tensorboard --logdir {logs})\n"
          f"  checkpoints/         training state (run the same command to continue)")
    return out
