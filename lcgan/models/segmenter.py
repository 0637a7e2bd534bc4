"""Landcover segmenter: a small UNet classifier used to measure landcover consistency.

The evaluation classifies generated pixels with it (do they show the landcover that was asked
for?) and uses its pooled bottleneck activations as the feature space of the domain Frechet
distance (:func:`segmenter_features`), which needs no ImageNet download. It is trained with a
class-weighted cross-entropy (:func:`class_weights`, :class:`WeightedCrossEntropy`), because
landcover classes are imbalanced (desert "land" is half of the Dubai pixels).

Example:
    >>> model = segmenter(image_size=64, num_classes=6, width=16)
    >>> logits = model({"rgb": rgb})              # (B, 64, 64, 6)
    >>> features = segmenter_features(model)(rgb)  # (B, 8 * 16) pooled bottleneck
    >>> loss = WeightedCrossEntropy(class_weights(pixel_counts))  # for model.compile
"""

import keras
import numpy as np

from lcgan.data.legend import IGNORE

BOTTLENECK = "bottleneck"


def _conv_block(x, filters, name):
    """Two 3x3 conv + batch norm + ReLU: (B, h, w, c) -> (B, h, w, filters)."""
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.ReLU(name=name if i == 2 else f"{name}_relu{i}")(x)
    return x


def segmenter(*, image_size, num_classes, width=32, depth=3):
    """Small UNet landcover classifier.

    Args:
        image_size: side of the square input; must be divisible by ``2 ** depth``. None builds a
            model that takes any square or rectangular size divisible by ``2 ** depth`` (train on
            large crops, then judge 64 px tiles or whole scenes with the same weights).
        num_classes: K, the number of landcover classes.
        width: filters of the first level; level i has ``width * 2 ** i``.
        depth: number of downsampling steps.

    Returns:
        A ``keras.Model`` with input ``"rgb"`` (B, S, S, 3) float in [-1, 1] and output
        (B, S, S, K) class logits. Its bottleneck layer is named ``"bottleneck"``
        (B, S / 2**depth, S / 2**depth, width * 2**depth).

    Raises:
        ValueError: ``image_size`` is not divisible by ``2 ** depth``, or a size is not positive.
    """
    sizes = (("num_classes", num_classes), ("width", width), ("depth", depth))
    for arg, value in sizes + ((("image_size", image_size),) if image_size is not None else ()):
        if int(value) < 1:
            raise ValueError(f"`{arg}` must be a positive integer. Received: {value}")
    if image_size is not None and image_size % 2 ** depth:
        raise ValueError(f"`image_size` must be divisible by 2 ** depth = {2 ** depth}. "
                         f"Received: {image_size}")
    rgb = keras.Input((image_size, image_size, 3), name="rgb")
    x, skips = rgb, []
    for level in range(depth):
        x = _conv_block(x, width * 2 ** level, f"down{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(name=f"pool{level}")(x)  # (B, S / 2**(level+1), ...)
    x = _conv_block(x, width * 2 ** depth, BOTTLENECK)
    for level in reversed(range(depth)):
        x = keras.layers.UpSampling2D(name=f"upsample{level}")(x)
        x = keras.layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _conv_block(x, width * 2 ** level, f"up{level}")
    logits = keras.layers.Conv2D(num_classes, 1, name="logits")(x)  # (B, S, S, K)
    return keras.Model({"rgb": rgb}, logits, name="segmenter")


def segmenter_features(model):
    """Feature extractor for the domain Frechet distance: pooled bottleneck of a segmenter.

    Args:
        model: a model built by :func:`segmenter` (or loaded from its ``.keras`` file).

    Returns:
        A ``keras.Model`` mapping rgb (B, S, S, 3) in [-1, 1] to (B, D) global-average-pooled
        bottleneck activations, D = ``width * 2 ** depth``.
    """
    pooled = keras.layers.GlobalAveragePooling2D(name="pooled_bottleneck")(
        model.get_layer(BOTTLENECK).output)
    return keras.Model(model.inputs[0], pooled, name="segmenter_features")


def class_weights(pixel_counts, *, max_weight=10.0):
    """Median-frequency class weights: ``median(f) / f_k``, clipped to ``[1 / max_weight, max_weight]``.

    Rare classes weigh more, so that the loss does not settle on the majority class (Eigen and
    Fergus 2015). Clipping keeps a nearly absent class (a few pixels) from dominating the loss.

    Args:
        pixel_counts: (K,) number of training pixels of each class.
        max_weight: largest weight (and the inverse of the smallest), > 0.

    Returns:
        (K,) float32 numpy array; a class with no pixel gets ``max_weight``.

    Raises:
        ValueError: ``pixel_counts`` is not a non-empty 1-D array of non-negative counts with a
            positive sum, or ``max_weight`` is not positive.

    Example:
        >>> class_weights([50, 30, 10, 10])  # median frequency 0.2
        array([0.4, 0.6666667, 2., 2.], dtype=float32)
    """
    counts = np.asarray(pixel_counts, np.float64)
    if counts.ndim != 1 or counts.size == 0 or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError(f"`pixel_counts` must be a 1-D array of non-negative counts with a "
                         f"positive sum. Received: {pixel_counts!r}")
    if not max_weight > 0:
        raise ValueError(f"`max_weight` must be > 0. Received: {max_weight}")
    frequency = counts / counts.sum()
    with np.errstate(divide="ignore"):
        weights = np.median(frequency) / frequency
    return np.clip(weights, 1.0 / max_weight, max_weight).astype(np.float32)


@keras.saving.register_keras_serializable(package="lcgan")
class WeightedCrossEntropy(keras.losses.Loss):
    """Class-weighted softmax cross-entropy on logits that skips IGNORE pixels.

    The loss of a batch is the weighted mean ``sum(w[y] * ce) / sum(w[y])`` over its valid pixels
    (PyTorch's ``CrossEntropyLoss(weight=...)``), so its scale does not depend on the weights or
    on the share of ignored pixels; a batch without valid pixels has loss 0.

    Args:
        class_weights: (K,) per-class weights (e.g. from :func:`class_weights`).
        ignore_class: label value left out of the loss (default IGNORE, -1).

    Call: ``loss(ids (B, H, W) int, logits (B, H, W, K)) -> scalar``.
    """

    def __init__(self, class_weights, *, ignore_class=IGNORE, name="weighted_cross_entropy",
                 **kwargs):
        super().__init__(name=name, reduction="sum", **kwargs)
        self.class_weights = [float(w) for w in np.ravel(class_weights)]
        self.ignore_class = int(ignore_class)

    def call(self, y_true, y_pred):
        ids = keras.ops.cast(y_true, "int32")  # (B, H, W)
        if len(ids.shape) == len(y_pred.shape):  # (B, H, W, 1) labels
            ids = keras.ops.squeeze(ids, -1)
        valid = keras.ops.not_equal(ids, self.ignore_class)
        safe = keras.ops.where(valid, ids, 0)
        ce = keras.ops.sparse_categorical_crossentropy(safe, y_pred, from_logits=True)  # (B, H, W)
        weights = keras.ops.take(keras.ops.convert_to_tensor(self.class_weights, y_pred.dtype),
                                 safe) * keras.ops.cast(valid, y_pred.dtype)  # (B, H, W)
        total = keras.ops.sum(weights)
        return keras.ops.sum(weights * ce) / keras.ops.maximum(total, 1e-12)

    def get_config(self):
        return {"class_weights": self.class_weights, "ignore_class": self.ignore_class,
                "name": self.name}
