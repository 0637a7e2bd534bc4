"""Export a trained generator as a self-describing TensorFlow SavedModel, and load it back.

An export directory holds::

    saved_model.pb, variables/   TF SavedModel, signature ``serving_default`` (below)
    generator.keras              the Keras generator (optional, for fine-tuning in Keras)
    lcgan_export.json            metadata, plain JSON readable without lcgan; written last

The ``serving_default`` signature takes named inputs

- ``rgb``: float32 (B, H, W, 3) in [-1, 1];
- ``landcover``: int32 (B, H, W) class ids ``0 .. K-1``; ``-1`` (IGNORE) one-hot encodes to zeros;
- ``mask``: float32 (B, H, W, 1), 1 = area to generate (only for generators that take a mask);

and returns ``{"rgb": float32 (B, H, W, 3) in [-1, 1]}``. B, H and W are free (H and W must suit
the network, e.g. multiples of 2**depth for a U-Net); the metadata's ``spatial_size`` is
``[null, null]`` unless the network fixes its input size.

Size: the SavedModel is written with ``tf.saved_model.save`` of a ``tf.Module`` that tracks the
Keras model, so every variable is stored once (Keras 3's ``model.export`` stores them twice).
The ``.keras`` copy is a second, independent format holding the same weights again (about 1x the
weights on top of the SavedModel's 1x); it is kept by default because it is what
``keras.models.load_model`` and fine-tuning need, and ``keras_file=False`` leaves it out for a
serving-only export of half the size.

Example:
    >>> export_generator(gan, "exports/mixlc", legend=legend, task="mixlc", image_size=256)
    >>> generator = load_generator("exports/mixlc")
    >>> out = generator(rgb=rgb, landcover=ids)  # numpy (B, H, W, 3) in [-1, 1]
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np

from lcgan.data.tasks import TASKS
from lcgan.errors import ExportError
from lcgan.images import shown_generator
from lcgan.outputs import check_folder, clean_stale, make_temp_dir, replace_dir
from lcgan.scenes.provenance import check_task, keras_record, probe, save_keras_generator

METADATA_FILE = "lcgan_export.json"
KERAS_FILE = "generator.keras"
SIGNATURE = "serving_default"
FORMAT_VERSION = 1


def _input_shapes(generator) -> dict:
    """Input name -> shape tuple of a Keras functional generator (checked against the contract)."""
    shapes = {t.name: tuple(t.shape) for t in getattr(generator, "inputs", None) or ()}
    unknown = sorted(set(shapes) - {"rgb", "landcover_onehot", "mask"})
    if "rgb" not in shapes or "landcover_onehot" not in shapes or unknown:
        raise ValueError(f"`generator` must be a Keras functional model with inputs 'rgb', "
                         f"'landcover_onehot' (and optionally 'mask'). "
                         f"Received inputs {sorted(shapes)}.")
    return shapes


def _serving_module(generator, num_classes: int, takes_mask: bool, spatial: tuple):
    """A tf.Module tracking ``generator`` once, and its ``serving_default`` concrete function."""
    import tensorflow as tf

    specs = {"rgb": tf.TensorSpec((None, *spatial, 3), tf.float32, name="rgb"),
             "landcover": tf.TensorSpec((None, *spatial), tf.int32, name="landcover")}
    if takes_mask:
        specs["mask"] = tf.TensorSpec((None, *spatial, 1), tf.float32, name="mask")

    def serve(**inputs):
        inputs["landcover_onehot"] = tf.one_hot(inputs.pop("landcover"), num_classes, dtype=tf.float32)
        return {"rgb": module.generator(inputs, training=False)}  # (B, H, W, 3)

    module = tf.Module()
    module.generator = generator
    module.serve = tf.function(serve)
    return module, module.serve.get_concrete_function(**specs)


def export_generator(generator_or_gan, path, *, legend, task: str, image_size,
                     overwrite: bool = False, keras_file: bool = True) -> str:
    """Write a generator as a SavedModel (+ ``.keras`` file + JSON metadata) into ``path``.

    The directory is built beside ``path`` under a temporary name and renamed onto ``path`` only
    when complete; with ``overwrite`` the old export is replaced after the new one is complete.
    Temporaries that interrupted exports to ``path`` left are removed first. The generator is run
    once at ``image_size`` before anything is written, so the recorded size is one it can run at.

    Args:
        generator_or_gan: a Keras generator with named inputs ``rgb``, ``landcover`` (one-hot,
            K channels) and optionally ``mask``; or a ``LandcoverGAN`` (its ``ema_generator``
            is exported when present, else its ``generator``).
        path: export directory to create.
        legend: the :class:`~lcgan.data.legend.Legend` of the training data (K classes).
        task: ``"mixlc"`` or ``"inpaint"`` (tells scene editing how to prepare the rgb input).
        image_size: training size, int or (height, width) (checked by a probe run, recorded).
        overwrite: replace an existing export at ``path``.
        keras_file: also write ``generator.keras`` (duplicates the weights, see module doc).

    Returns:
        ``path`` as a string.

    Raises:
        ExportError: ``path`` exists and ``overwrite`` is False, or it is not a directory.
        ValueError: bad ``task``/``image_size``, a size the generator cannot run at, or the
            legend's class count differs from the generator's landcover channels.
    """
    import keras
    import tensorflow as tf

    import lcgan

    path = os.path.abspath(os.fspath(path))
    _check_target(path, overwrite)
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}. Received {task!r}.")
    size = [image_size] * 2 if isinstance(image_size, int) else [int(s) for s in image_size]
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"`image_size` must be a positive int or (height, width). "
                         f"Received {image_size!r}.")
    generator = shown_generator(generator_or_gan)
    shapes = _input_shapes(generator)
    num_classes = int(shapes["landcover_onehot"][-1])
    if num_classes != legend.num_classes:
        raise ValueError(f"`legend` {legend.name!r} has {legend.num_classes} classes but the "
                         f"generator's 'landcover_onehot' input has {num_classes} channels.")
    takes_mask = "mask" in shapes
    spatial = shapes["rgb"][1:3]
    try:  # prefer free spatial dims; a network with fixed-size layers keeps its own size
        module, serving = _serving_module(generator, num_classes, takes_mask, (None, None))
        spatial = (None, None)
    except (ValueError, TypeError):
        module, serving = _serving_module(generator, num_classes, takes_mask, spatial)
    probe(lambda **inputs: serving(**inputs)["rgb"], *size, takes_mask=takes_mask,
          argument="image_size")

    check_folder(os.path.dirname(path), "the folder of the export")
    clean_stale(path)
    tmp = make_temp_dir(path)
    try:
        tf.saved_model.save(module, tmp, signatures={SIGNATURE: serving})
        if keras_file:
            save_keras_generator(generator, os.path.join(tmp, KERAS_FILE), task=task,
                                 image_size=size, legend=legend)
        metadata = {
            "format": "lcgan-generator", "format_version": FORMAT_VERSION,
            "lcgan_version": lcgan.__version__, "tensorflow_version": tf.__version__,
            "keras_version": keras.__version__,
            "task": task, "image_size": size, "num_classes": num_classes,
            "spatial_size": list(spatial), "legend": legend.to_dict(),
            "signature": SIGNATURE, "inputs": sorted(serving.structured_input_signature[1]),
            "outputs": ["rgb"], "takes_mask": takes_mask,
            "keras_file": KERAS_FILE if keras_file else None,
            "generator_name": generator.name,
        }
        with open(os.path.join(tmp, METADATA_FILE), "w", encoding="utf-8") as f:
            json.dump(metadata, f, indent=2)
        _check_target(path, overwrite)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _check_target(path: str, overwrite: bool) -> None:
    if os.path.exists(path) and not overwrite:
        raise ExportError(f"Export directory {path} already exists; pass overwrite=True "
                          f"(--overwrite) to replace it.")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ExportError(f"Export path {path} exists and is not a directory.")


def read_metadata(path) -> dict:
    """The metadata dict of the export at ``path`` (plain JSON; see the module docstring).

    Raises:
        ExportError: ``path`` is missing, or not a complete lcgan export.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise ExportError(f"Export directory not found: {path}")
    meta_path = os.path.join(path, METADATA_FILE)
    if not os.path.isfile(meta_path) or not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ExportError(f"{path} is not a complete lcgan export (expected saved_model.pb and "
                          f"{METADATA_FILE}); export it again with lcgan.scenes.export.export_generator.")
    try:
        with open(meta_path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ExportError(f"Cannot read export metadata {meta_path}: {err}") from err


class LoadedGenerator:
    """An exported generator, callable without the training code.

    Attributes:
        path: the export directory.
        metadata: dict read from ``lcgan_export.json`` (legend, task, image_size, num_classes,
            spatial_size, inputs, takes_mask, lcgan_version, ...).
        legend: the training :class:`~lcgan.data.legend.Legend`.
    """

    def __init__(self, path):
        import tensorflow as tf

        from lcgan.data.legend import Legend

        self.path = os.fspath(path)
        self.metadata = read_metadata(self.path)
        self.legend = Legend.from_dict(self.metadata["legend"], source=self.path)
        try:
            self._saved = tf.saved_model.load(self.path)
            self._serve = self._saved.signatures[self.metadata["signature"]]
        except Exception as err:  # noqa: BLE001 -- a damaged export fails in many ways
            text = err.message if isinstance(err, tf.errors.OpError) else str(err)
            raise ExportError(f"Cannot load the SavedModel in {self.path} (damaged or incomplete "
                              f"export?): {type(err).__name__}: {' '.join(text.split())[:300]}"
                              ) from err

    @property
    def takes_mask(self) -> bool:
        return bool(self.metadata["takes_mask"])

    def __call__(self, *, rgb, landcover, mask=None) -> np.ndarray:
        """Generate rgb for a batch.

        Args:
            rgb: (B, H, W, 3) float in [-1, 1].
            landcover: (B, H, W) integer class ids (-1 = no class).
            mask: (B, H, W, 1) float, 1 = generate; required exactly when ``takes_mask``.

        Returns:
            numpy float32 (B, H, W, 3) in [-1, 1].

        Raises:
            ValueError: ``mask`` given to a generator without a mask input, or missing.
        """
        import tensorflow as tf

        inputs = {"rgb": tf.convert_to_tensor(rgb, tf.float32),
                  "landcover": tf.convert_to_tensor(landcover, tf.int32)}
        if (mask is not None) != self.takes_mask:
            raise ValueError(f"The generator in {self.path} "
                             f"{'needs' if self.takes_mask else 'takes no'} `mask`.")
        if mask is not None:
            inputs["mask"] = tf.convert_to_tensor(mask, tf.float32)
        return self._serve(**inputs)["rgb"].numpy()


def load_generator(path) -> LoadedGenerator:
    """Load an export written by :func:`export_generator` (needs TensorFlow, not lcgan's models).

    Raises:
        ExportError: ``path`` is missing or not a complete export.
    """
    return LoadedGenerator(path)


def load_keras_generator(path):
    """Load a generator ``.keras`` file (lcgan's custom layers registered).

    Raises:
        ExportError: ``path`` is missing or is not a readable Keras model file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ExportError(f"Generator file not found: {path} (expected a .keras file or an "
                          "export directory)")
    import keras

    import lcgan.models.blocks  # noqa: F401  (registers lcgan's custom layers for loading)

    if not zipfile.is_zipfile(path):
        raise ExportError(f"Cannot load the generator {path}: not a complete .keras file (a "
                          "truncated or damaged file, or another format).")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # zip/h5/JSON errors of a damaged file: one message for all
        raise ExportError(f"Cannot load the generator {path} (damaged file?): "
                          f"{type(err).__name__}: {' '.join(str(err).split())[:300]}") from err


def load_any_generator(generator, *, task=None):
    """A callable ``batch -> (B, H, W, 3) numpy`` in [-1, 1] for any form of trained generator.

    Args:
        generator: an export directory (:func:`export_generator`), a ``.keras`` file, a Keras
            generator model, a ``LandcoverGAN`` (its EMA generator when it keeps one), or a
            callable already taking a batch dict.
        task: the task it is used for; an export or ``.keras`` file trained for another one is
            refused (:func:`~lcgan.scenes.provenance.check_task`).

    The callable reads the batch keys it needs: ``rgb``, ``landcover`` (class ids) or
    ``landcover_onehot``, and ``mask`` for generators that take one.

    Raises:
        ExportError: a missing or damaged export or file.
        ValueError: ``generator`` is a file or export trained for another ``task``.
    """
    from lcgan.models.blocks import select_inputs

    if isinstance(generator, (str, os.PathLike)):
        if os.path.isdir(generator):
            loaded = load_generator(generator)
            if task is not None:
                check_task(task, takes_mask=loaded.takes_mask, record=loaded.metadata,
                           where=generator)
            return lambda batch: loaded(rgb=batch["rgb"], landcover=batch["landcover"],
                                        mask=batch["mask"] if loaded.takes_mask else None)
        path, generator = generator, load_keras_generator(generator)
        if task is not None:
            check_task(task, takes_mask="mask" in [t.name for t in generator.inputs],
                       record=keras_record(path), where=path)
    model = shown_generator(generator)
    if not hasattr(model, "inputs"):
        return model  # already a batch callable
    return lambda batch: np.asarray(model(select_inputs(model, batch), training=False))
