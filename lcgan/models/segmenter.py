"""Landcover segmenter: a small UNet classifier used to measure landcover consistency.

The evaluation classifies generated pixels with it (do they show the landcover that was asked
for?) and uses its pooled bottleneck activations as the feature space of the domain Frechet
distance (:func:`segmenter_features`), which needs no ImageNet download.

Example:
    >>> model = segmenter(image_size=64, num_classes=6, width=16)
    >>> logits = model({"rgb": rgb})              # (B, 64, 64, 6)
    >>> features = segmenter_features(model)(rgb)  # (B, 4 * 16) pooled bottleneck
"""

import keras

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
        image_size: side of the square input; must be divisible by ``2 ** depth``.
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
    for arg, value in (("image_size", image_size), ("num_classes", num_classes), ("width", width),
                       ("depth", depth)):
        if int(value) < 1:
            raise ValueError(f"`{arg}` must be a positive integer. Received: {value}")
    if image_size % 2 ** depth:
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
