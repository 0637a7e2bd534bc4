"""Local + global discriminator (Iizuka et al. 2017, "Globally and Locally Consistent Image Completion")."""

import keras
import tensorflow as tf
from keras import ops

from lcgan.models.blocks import channels, check_model_args, conv, encoder, image_inputs, resolve_depth
from lcgan.models.discriminators import with_features


@keras.saving.register_keras_serializable(package="lcgan")
class MaskCrop(keras.layers.Layer):
    """Crop a ``size`` x ``size`` window around the mask of each sample, inside the graph.

    The window is centred on the bounding box of the mask pixels > 0.5 and shifted to stay inside
    the image; a sample with an empty mask gets the centre window. Pixels are copied (gather), not
    resampled, and gradients flow to the image.

    Call: ``[image (B, H, W, C), mask (B, H, W, 1)] -> (B, size, size, C)``.
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, inputs):
        image, mask = inputs
        top = self._start(ops.max(mask, axis=(2, 3)) > 0.5, image.shape[1])  # (B,)
        left = self._start(ops.max(mask, axis=(1, 3)) > 0.5, image.shape[2])  # (B,)
        offsets = ops.arange(self.size, dtype="int32")
        rows = top[:, None] + offsets  # (B, size)
        cols = left[:, None] + offsets  # (B, size)
        crop = tf.gather(image, rows, axis=1, batch_dims=1)  # (B, size, W, C)
        return tf.gather(crop, cols, axis=2, batch_dims=1)  # (B, size, size, C)

    def _start(self, hits, length):
        """First index of the window along one axis; ``hits`` (B, length) marks rows/cols with mask."""
        if self.size > length:
            raise ValueError(f"MaskCrop `size` {self.size} exceeds the image side {length}")
        index = ops.arange(length, dtype="int32")
        found = ops.any(hits, axis=1)
        first = ops.where(found, ops.min(ops.where(hits, index, length), axis=1), 0)
        last = ops.where(found, ops.max(ops.where(hits, index, -1), axis=1), length - 1)
        return ops.clip((first + last + 1) // 2 - self.size // 2, 0, length - self.size)

    def compute_output_shape(self, input_shapes):
        image_shape = input_shapes[0]
        return (image_shape[0], self.size, self.size, image_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def _branch(x, *, width, norm, spectral_norm, name):
    """Down blocks to a 4-pixel-ish side, then a conv over the whole map (a dense layer).

    Returns:
        (the (B, 1, 1, 8*width) dense output, the list of the down blocks' outputs).
    """
    depth = resolve_depth(x.shape[1], None)
    blocks = encoder(x, width=width, depth=depth, norm=norm, name=f"{name}_down", spectral_norm=spectral_norm)
    x = conv(blocks[-1], channels(width, 3), kernel_size=blocks[-1].shape[1], padding="valid",
             spectral_norm=spectral_norm, name=f"{name}_dense")
    return keras.layers.LeakyReLU(0.2, name=f"{name}_dense_act")(x), blocks


def local_global_discriminator(*, image_size, num_classes, local_size=None, width=64, norm="batch",
                               spectral_norm=False, features=False, name="local_global_discriminator"):
    """Build a discriminator with a global branch on the whole image and a local branch around the mask.

    Both branches see rgb concatenated with the one-hot landcover. The local branch sees a
    ``local_size`` crop centred on the bounding box of the mask, taken per sample inside the graph
    (:class:`MaskCrop`). Each branch halves its input while the side stays >= 4 (channels
    ``width * 2**level`` capped at ``8 * width``) and ends in a dense layer (a conv over the whole map) of
    ``8 * width`` units; the two are concatenated and mapped to one raw score.

    Args:
        image_size: Side of the square input in pixels (even, >= 8).
        num_classes: Number of landcover classes K.
        local_size: Side of the local crop; None -> ``image_size // 2``. Must be even, >= 8 and
            <= ``image_size``.
        width: Channels of the first block of each branch.
        norm: "batch", "instance" or "none".
        spectral_norm: Spectrally normalise every convolution.
        features: Also return the down blocks of both branches as ``"features"`` (global first).
        name: Model name.

    Inputs (dict):
        ``rgb`` (B, H, W, 3) float in [-1, 1]; ``landcover_onehot`` (B, H, W, K) one-hot float;
        ``mask`` (B, H, W, 1) float, 1 = edited pixels (locates the local crop).

    Returns:
        A ``keras.Model`` mapping the input dict to scores (B, 1) (with ``features``:
        ``{"patch": scores, "features": [...]}``).
        Parameters at the defaults (256 px, 6 classes, local 128, width 64, batch norm):
        26,513,793 (6,656 non-trainable).

    Raises:
        ValueError: If ``image_size`` or ``local_size`` is not a valid size, ``local_size`` exceeds
            ``image_size``, ``num_classes`` or ``width`` < 1, or ``norm`` is unknown.

    Example:
        >>> d = local_global_discriminator(image_size=64, num_classes=6, width=8)
        >>> d.output.shape
        (None, 1)
    """
    check_model_args(image_size=image_size, num_classes=num_classes, width=width, depth=None, norm=norm)
    local_size = image_size // 2 if local_size is None else local_size
    resolve_depth(local_size, None, argument="local_size")
    if local_size > image_size:
        raise ValueError(f"`local_size` must be <= `image_size` {image_size}. Received: {local_size}")
    inputs = image_inputs(image_size, num_classes, mask=True)
    x = keras.layers.Concatenate(name="input_concat")([inputs["rgb"], inputs["landcover_onehot"]])  # (B, H, W, 3 + K)
    crop = MaskCrop(local_size, name="local_crop")([x, inputs["mask"]])  # (B, L, L, 3 + K)
    branches = [_branch(x, width=width, norm=norm, spectral_norm=spectral_norm, name="global"),
                _branch(crop, width=width, norm=norm, spectral_norm=spectral_norm, name="local")]
    x = keras.layers.Concatenate(name="fusion_concat")([dense for dense, _ in branches])  # (B, 1, 1, 16 * width)
    x = conv(x, 1, kernel_size=1, spectral_norm=spectral_norm, name="fusion_score")
    scores = keras.layers.Reshape((1,), dtype="float32", name="score")(x)  # (B, 1)
    blocks = [block for _, branch_blocks in branches for block in branch_blocks]
    return keras.Model(inputs, with_features(scores, blocks, features), name=name)
