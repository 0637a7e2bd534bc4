"""Per-class colour statistics of the known pixels: what this scene's sand, water and roofs look like.

A generator painting a class inside a blanked area has to find that class's colour somewhere in the
context, through a receptive field that may not reach it and with weights that remember the
training tiles' colours; on other scenes (another tile, another sensor, another season) it paints
the training colour: a cast. SEAN (Zhu et al., CVPR 2020) gives each semantic region a style code
pooled from that region of a reference image. :class:`ClassColorStats` is the simplest such code,
pooled from the known pixels of the image itself: per class, the mean and standard deviation of
its rgb outside the mask, broadcast back onto every pixel of that class, with a channel saying
whether the class was seen at all. It has no weights, so it carries over to any legend and scene.

Example:
    >>> stats = ClassColorStats()([rgb, landcover_onehot, mask])  # (B, H, W, 7)
"""

import keras
from keras import ops

STAT_CHANNELS = 7
"""Channels of :class:`ClassColorStats`: mean rgb (3), std rgb (3), class seen (1)."""


@keras.saving.register_keras_serializable(package="lcgan")
class ClassColorStats(keras.layers.Layer):
    """``[rgb (B,H,W,3), landcover_onehot (B,H,W,K)(, mask (B,H,W,1))] -> (B,H,W,7)``.

    For every class k, the mean and standard deviation of ``rgb`` over the pixels of class k
    outside ``mask`` (all pixels of class k without a mask), and 1 if there were any (else 0 and
    zero statistics), each placed on the pixels whose one-hot is k. Pixels with an all-zero one-hot
    (ignored landcover) get zeros. Computed in float32 whatever the dtype policy (sums over a whole
    image), so it is created with ``dtype="float32"``.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, inputs):
        rgb, onehot = ops.cast(inputs[0], "float32"), ops.cast(inputs[1], "float32")
        known = onehot if len(inputs) < 3 else onehot * (1.0 - ops.cast(inputs[2], "float32"))
        count = ops.sum(known, axis=(1, 2))  # (B, K)
        per_pixel = ops.maximum(count, 1.0)[:, :, None]
        mean = ops.einsum("bhwk,bhwc->bkc", known, rgb) / per_pixel  # (B, K, 3)
        square = ops.einsum("bhwk,bhwc->bkc", known, ops.square(rgb)) / per_pixel
        seen = ops.cast(count > 0, "float32")[:, :, None]  # (B, K, 1)
        std = ops.sqrt(ops.maximum(square - ops.square(mean), 0.0) + 1e-6) * seen
        codes = ops.concatenate([mean, std, seen], axis=-1)  # (B, K, 7)
        return ops.einsum("bhwk,bkc->bhwc", onehot, codes)

    def compute_output_shape(self, input_shapes):
        return (*input_shapes[0][:3], STAT_CHANNELS)


def class_color_channels(inputs):
    """The :class:`ClassColorStats` of a generator's named inputs (:func:`~lcgan.models.blocks.image_inputs`):
    the known pixels are those outside ``inputs["mask"]`` when it has one. Returns (B, H, W, 7)."""
    sources = [inputs["rgb"], inputs["landcover_onehot"]]
    if "mask" in inputs:
        sources.append(inputs["mask"])
    return ClassColorStats(name="class_colors")(sources)
