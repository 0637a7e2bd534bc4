"""The image conversions every part of lcgan shares: one scale, one rounding rule, one composite.

lcgan's models see rgb as float32 in [-1, 1]; files and figures hold uint8. The mapping is
``unit = u8 / 127.5 - 1`` one way and ``u8 = rint((unit + 1) * 127.5)`` clipped to [0, 255] the
other (round half to even, NumPy's and TensorFlow's rule), so a uint8 image survives the round
trip bit for bit.

Example:
    >>> u8 = np.array([[[0, 128, 255]]], np.uint8)
    >>> to_uint8(to_unit(u8)).tolist()
    [[[0, 128, 255]]]
"""

from __future__ import annotations

import numpy as np


def to_unit(rgb_u8):
    """uint8 (or [0, 255] valued) rgb -> float32 in [-1, 1], same shape.

    NumPy arrays are converted in two passes into one new array; TF tensors with TF ops (so the
    same rule runs inside ``tf.data`` and traced functions).
    """
    if isinstance(rgb_u8, np.ndarray):
        unit = np.divide(rgb_u8, np.float32(127.5), dtype=np.float32)
        unit -= 1.0
        return unit
    import tensorflow as tf

    return tf.cast(rgb_u8, tf.float32) / 127.5 - 1.0


def to_uint8(rgb, *, inplace: bool = False) -> np.ndarray:
    """float rgb in [-1, 1] (NumPy or tensor) -> uint8 NumPy array, same shape.

    Args:
        rgb: (..., C) values in [-1, 1]; values outside are clipped.
        inplace: overwrite ``rgb`` (a float32 NumPy array) as scratch space instead of copying
            it, for large scene buffers.
    """
    if inplace and isinstance(rgb, np.ndarray) and rgb.dtype == np.float32:
        work = rgb
    else:
        work = np.array(rgb, dtype=np.float32)
    work += 1.0
    work *= 127.5
    return np.clip(np.rint(work, out=work), 0, 255, out=work).astype(np.uint8)


def composite(generated, rgb, mask):
    """``mask * generated + (1 - mask) * rgb``: generated pixels inside the mask, input outside.

    Works on NumPy arrays and tensors alike: generated, rgb (B, H, W, C); mask (B, H, W, 1) in
    [0, 1].
    """
    return mask * generated + (1.0 - mask) * rgb


def shown_generator(generator_or_gan):
    """The generator to show or export: a ``LandcoverGAN``'s EMA copy when it keeps one.

    Accepts a ``LandcoverGAN`` (or anything with ``generator`` / ``ema_generator`` attributes)
    or a bare generator model, which is returned unchanged.
    """
    ema = getattr(generator_or_gan, "ema_generator", None)
    if ema is not None:
        return ema
    return getattr(generator_or_gan, "generator", generator_or_gan)
