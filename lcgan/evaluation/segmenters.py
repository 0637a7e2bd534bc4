"""The evaluation segmenter: the packaged Dubai default, loading at any size, and its two heads.

The landcover columns of an evaluation (is a generated pixel read as the requested class?) and
the Frechet distances in segmenter features need a segmenter trained on real imagery of the
evaluated legend. lcgan ships one for the legend of the bundled Dubai sample
(``assets/dubai_segmenter.keras``, trained on Dubai tiles 1, 2 and 4-8, never on tile 3, by
``bench/train_eval_segmenter.py``) and a second one trained on other tiles with another seed
(``assets/dubai_segmenter_b.keras``), which judges a generator trained to please the first
(issue 12's "judged by a second segmenter"). For any other legend, train one with
``examples/train_segmenter.py`` and pass it.

Example:
    >>> path = packaged_segmenter(source.legend)       # None unless the legend is Dubai's
    >>> judge = segmenter_heads(load_segmenter(path))   # any input size
    >>> out = judge({"rgb": rgb})                       # {"logits", "features", "region"}
"""

import os
import pathlib

import numpy as np

ASSETS = pathlib.Path(__file__).resolve().parent / "assets"
PACKAGED = {"default": ASSETS / "dubai_segmenter.keras", "second": ASSETS / "dubai_segmenter_b.keras"}
"""The packaged segmenters of the bundled Dubai legend, by role."""

TRAINED_ON = {"default": "Dubai tiles 1, 2, 4-8, seed 0", "second": "Dubai tiles 4-8, seed 1"}
"""What each packaged segmenter was trained on (never tile 3, the evaluation tile)."""

REGION_LAYERS = ("up1", "up0")
"""Candidates, in order, for the feature maps of the region FD: the segmenter's decoder at half
resolution (local enough that features pooled inside a small mask describe the mask's pixels,
not their context; on the bundled sample they separate the baselines from real regions where the
bottleneck does not), else its full-resolution decoder level."""

TRAIN_HINT = "train one with examples/train_segmenter.py and pass it (`segmenter=` / --segmenter)"


def packaged_segmenter(legend, *, role="default"):
    """Path of the packaged segmenter for ``legend``, or None if there is none.

    The packaged segmenters know the classes of the bundled Dubai sample; they are used for a
    legend with the same class names and colours, in the same order (whatever its file or
    dataset name).

    Args:
        legend: the evaluated :class:`~lcgan.data.legend.Legend`.
        role: ``"default"`` or ``"second"`` (the independent judge, other tiles and seed).

    Returns:
        ``pathlib.Path`` or None (another legend, or the file is not installed).

    Raises:
        ValueError: unknown ``role``.
    """
    from lcgan.data.legend import sample_legend

    if role not in PACKAGED:
        raise ValueError(f"`role` must be one of {sorted(PACKAGED)}. Received: {role!r}")
    bundled = sample_legend()
    same = (legend.names == bundled.names
            and np.array_equal(legend.palette, bundled.palette))
    return PACKAGED[role] if same and PACKAGED[role].is_file() else None


def with_free_size(model):
    """The same fully convolutional model with free spatial input dimensions.

    A model saved with a fixed input size (e.g. ``segmenter(image_size=128)``) is rebuilt from
    its config with (None, None) spatial dims and gets the same weights; a model whose inputs are
    already free is returned as is.

    Args:
        model: a functional ``keras.Model``.

    Returns:
        ``keras.Model``.

    Raises:
        ValueError: the model is not functional (no layer config to rebuild from).
    """
    import keras

    if all(None in tuple(x.shape)[1:3] for x in model.inputs):
        return model
    config = model.get_config()
    if "layers" not in config or "input_layers" not in config:
        raise ValueError(f"`segmenter` must be a functional Keras model to run at another size; "
                         f"received a {type(model).__name__}.")
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = list(layer["config"]["batch_shape"])
            layer["config"]["batch_shape"] = [shape[0], None, None, *shape[3:]]
    free = keras.Model.from_config(config)
    free.set_weights(model.get_weights())
    return free


def load_segmenter(segmenter):
    """A segmenter model (or ``.keras`` path) that takes any input size its net allows.

    Raises:
        lcgan.errors.DataError: the file is missing or not a Keras model.
        ValueError: see :func:`with_free_size`.
    """
    import keras

    if isinstance(segmenter, (str, os.PathLike)):
        from lcgan.errors import DataError

        if not os.path.isfile(segmenter):
            raise DataError(f"Segmenter file {os.fspath(segmenter)!r} does not exist; "
                            f"{TRAIN_HINT}.")
        try:
            segmenter = keras.saving.load_model(segmenter, compile=False)
        except (ValueError, OSError) as error:
            raise DataError(f"Cannot load the segmenter {os.fspath(segmenter)!r}: "
                            f"{error}") from error
    return with_free_size(segmenter)


def segmenter_heads(model):
    """One model giving a segmenter's logits and two of its feature maps in one pass.

    Args:
        model: a segmenter of :func:`lcgan.models.segmenter.segmenter` (layers named
            ``"bottleneck"`` and one of :data:`REGION_LAYERS`), e.g. from :func:`load_segmenter`.

    Returns:
        ``keras.Model`` mapping ``{"rgb": (B, H, W, 3)}`` in [-1, 1] to a dict: ``"logits"``
        (B, H, W, K), ``"features"`` (B, H / 2**depth, W / 2**depth, D) the bottleneck (domain
        FD) and ``"region"`` (B, H / 2, W / 2, D') the decoder level of the region FD.

    Raises:
        ValueError: the model lacks those layers.
    """
    import keras

    from lcgan.models.segmenter import BOTTLENECK

    names = {layer.name for layer in model.layers}
    region = next((name for name in REGION_LAYERS if name in names), None)
    if BOTTLENECK not in names or region is None:
        raise ValueError(f"`segmenter` must have layers named {BOTTLENECK!r} and one of "
                         f"{REGION_LAYERS} (models of lcgan.models.segmenter.segmenter do). "
                         f"Received a model with layers {sorted(names)[:8]}...")
    return keras.Model(model.input, {"logits": model.output,
                                     "features": model.get_layer(BOTTLENECK).output,
                                     "region": model.get_layer(region).output})


def resolve_judge(segmenter, legend, image_size, *, role="default"):
    """The segmenter heads an evaluation uses, and a line saying which segmenter that is.

    Args:
        segmenter: a model or ``.keras`` path; None: the packaged one of ``role`` when
            ``legend`` is the bundled Dubai legend; False: none.
        legend: the evaluated legend (its class count must match the segmenter's).
        image_size: evaluated tile size, checked with one forward pass.
        role: which packaged segmenter None stands for (see :func:`packaged_segmenter`).

    Returns:
        ``(heads or None, description)``.

    Raises:
        ValueError: the segmenter predicts another number of classes, or cannot take
            ``image_size`` px tiles.
    """
    if segmenter is False:
        return None, "No segmenter (segmenter=False): landcover columns and region FD left out."
    description = f"Segmenter: {segmenter if isinstance(segmenter, (str, os.PathLike)) else 'given model'}."
    if segmenter is None:
        segmenter = packaged_segmenter(legend, role=role)
        if segmenter is None:
            return None, (f"No segmenter for the legend {legend.name!r} ({legend.names}): the "
                          f"landcover columns and region FD are left out; {TRAIN_HINT}.")
        description = (f"Segmenter: the packaged Dubai segmenter ({segmenter.name}, trained on "
                       f"{TRAINED_ON[role]}).")
    heads = segmenter_heads(load_segmenter(segmenter))
    classes = heads.output["logits"].shape[-1]
    if classes != legend.num_classes:
        raise ValueError(f"The segmenter predicts {classes} classes but the legend has "
                         f"{legend.num_classes}; {TRAIN_HINT}.")
    try:
        heads({"rgb": np.zeros((1, image_size, image_size, 3), np.float32)}, training=False)
    except Exception as error:  # noqa: BLE001 (Keras/TF raise several types for bad shapes)
        raise ValueError(f"The segmenter cannot take {image_size} px tiles (its downsampling "
                         f"needs a size it divides). Received `image_size` {image_size}.") from error
    return heads, description
