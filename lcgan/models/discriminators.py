"""Conditional PatchGAN and ACGAN discriminators (raw scores, no sigmoid).

Both see the landcover with the rgb. The local + global discriminator lives in
:mod:`lcgan.models.local_global`, the OASIS segmentation discriminator in :mod:`lcgan.models.oasis`.
Every builder takes ``features``: True adds a ``"features"`` output, the list of the intermediate
activations that the feature-matching loss compares (pix2pixHD), and makes the output a dict.
"""

import keras

from lcgan.models.blocks import (channels, check_model_args, conv, decoder, encoder, image_inputs, norm_act,
                                 upsample as upsample_layer)


def patch_head(x, *, width, depth, norm, spectral_norm, name):
    """4x4 conv (``channels(width, depth)``, norm, LeakyReLU) then a 4x4 conv to one score per cell.

    ``(B, h, w, C) -> (B, h, w, 1)`` raw scores.
    """
    x = conv(x, channels(width, depth), kernel_size=4, spectral_norm=spectral_norm, name=f"{name}_conv")
    x = norm_act(x, norm=norm, activation="leaky", name=name)
    x = conv(x, 1, kernel_size=4, spectral_norm=spectral_norm, name=f"{name}_score")
    return keras.layers.Activation("linear", dtype="float32", name=name)(x)


def with_features(outputs, features, wanted):
    """``outputs`` (a tensor -> ``{"patch": tensor}``) with ``"features": features`` when ``wanted``."""
    if not wanted:
        return outputs
    outputs = dict(outputs) if isinstance(outputs, dict) else {"patch": outputs}
    return {**outputs, "features": list(features)}


def patch_discriminator(*, image_size, num_classes, width=64, depth=4, norm="batch", spectral_norm=False,
                        features=False, name="patch_discriminator"):
    """Build a conditional PatchGAN: one raw real/fake score per ``2**depth``-pixel square.

    rgb and one-hot landcover are concatenated, then ``depth`` stride-2 blocks (4x4 convs, LeakyReLU,
    channels ``width * 2**level`` capped at ``8 * width``, no norm in the first) and a stride-1 head.
    For the least-squares or hinge GAN losses (no sigmoid).

    Args:
        image_size: Side of the square input in pixels; any multiple of ``2**depth``.
        num_classes: Number of landcover classes K.
        width: Channels of the first block.
        depth: Number of halvings; the grid is ``image_size / 2**depth`` (256 px -> 16 x 16 by default).
        norm: "batch", "instance" or "none" (often "none" with ``spectral_norm``).
        spectral_norm: Spectrally normalise every convolution.
        features: Also return the ``depth`` block outputs (see the module docstring).
        name: Model name.

    Inputs (dict):
        ``rgb`` (B, H, W, 3) float in [-1, 1]; ``landcover_onehot`` (B, H, W, K) one-hot float.

    Returns:
        A ``keras.Model`` mapping the input dict to scores (B, H / 2**depth, W / 2**depth, 1)
        (with ``features``: ``{"patch": scores, "features": [(B, H / 2**(l+1), W / 2**(l+1), C_l)]}``).
        Parameters at the defaults (256 px, 6 classes, width 64, depth 4, batch norm):
        6,971,329 (2,816 non-trainable).

    Raises:
        ValueError: If ``image_size`` is not divisible by ``2**depth``, ``num_classes`` or ``width`` < 1,
            or ``norm`` is unknown.

    Example:
        >>> d = patch_discriminator(image_size=64, num_classes=6, width=8)
        >>> d.output.shape
        (None, 4, 4, 1)
    """
    depth = check_model_args(image_size=image_size, num_classes=num_classes, width=width, depth=depth,
                             norm=norm)
    inputs = image_inputs(image_size, num_classes, mask=False)
    x = keras.layers.Concatenate(name="input_concat")([inputs["rgb"], inputs["landcover_onehot"]])  # (B, H, W, 3 + K)
    blocks = encoder(x, width=width, depth=depth, norm=norm, name="down", spectral_norm=spectral_norm)
    scores = patch_head(blocks[-1], width=width, depth=depth, norm=norm, spectral_norm=spectral_norm,
                        name="patch")
    return keras.Model(inputs, with_features(scores, blocks, features), name=name)


def acgan_discriminator(*, image_size, num_classes, width=64, depth=4, norm="batch", spectral_norm=False,
                        upsample="resize", features=False, name="acgan_discriminator"):
    """Build an ACGAN discriminator: a shared rgb trunk with a patch head and a per-pixel class head.

    The trunk (as in :func:`patch_discriminator`, on rgb alone) feeds two heads side by side:

    - ``"classes"``: a decoder (with skips from the trunk) back to full resolution predicting the
      landcover of every pixel from the rgb alone. Train it on real images with their true landcover;
      train the generator so that it reads the generated rgb as the requested landcover.
    - ``"patch"``: real/fake scores from the trunk features concatenated with the landcover one-hot
      average-pooled to the grid (class fractions per cell), so the patch head is conditional too.

    Args:
        image_size: Side of the square input in pixels; any multiple of ``2**depth``.
        num_classes: Number of landcover classes K.
        width: Channels of the first trunk block.
        depth: Number of halvings of the trunk; the patch grid is ``image_size / 2**depth``.
        norm: "batch", "instance" or "none".
        spectral_norm: Spectrally normalise the trunk and patch-head convolutions (the class head is
            trained as a classifier and stays unconstrained).
        upsample: "resize" or "transpose" upsampling in the class head.
        features: Also return the trunk's ``depth`` block outputs as ``"features"``.
        name: Model name.

    Inputs (dict):
        ``rgb`` (B, H, W, 3) float in [-1, 1]; ``landcover_onehot`` (B, H, W, K) one-hot float.

    Returns:
        A ``keras.Model`` mapping the input dict to ``{"patch": (B, H / 2**depth, W / 2**depth, 1) raw
        scores, "classes": (B, H, W, K) logits}`` (and ``"features"`` when asked).
        Parameters at the defaults (256 px, 6 classes, width 64, depth 4, batch norm):
        8,940,423 (3,712 non-trainable).

    Raises:
        ValueError: If ``image_size`` is not divisible by ``2**depth``, ``num_classes`` or ``width`` < 1,
            or ``norm`` / ``upsample`` is unknown.

    Example:
        >>> d = acgan_discriminator(image_size=64, num_classes=6, width=8)
        >>> {k: v.shape for k, v in d.output.items()}
        {'patch': (None, 4, 4, 1), 'classes': (None, 64, 64, 6)}
    """
    depth = check_model_args(image_size=image_size, num_classes=num_classes, width=width, depth=depth,
                             norm=norm, upsample=upsample)
    inputs = image_inputs(image_size, num_classes, mask=False)
    trunk = encoder(inputs["rgb"], width=width, depth=depth, norm=norm, name="trunk",
                    spectral_norm=spectral_norm)
    pooled = keras.layers.AveragePooling2D(2 ** depth, name="landcover_pool")(inputs["landcover_onehot"])  # (B,h,w,K)
    x = keras.layers.Concatenate(name="patch_concat")([trunk[-1], pooled])
    scores = patch_head(x, width=width, depth=depth, norm=norm, spectral_norm=spectral_norm, name="patch")
    x = decoder(trunk[-1], [[skip] for skip in trunk[:-1]], width=width, norm=norm, mode=upsample,
                dropout=0.0, name="classes_up")  # (B, H/2, W/2, 2 * width)
    x = upsample_layer(x, num_classes, mode=upsample, name="classes_out")  # (B, H, W, K)
    logits = keras.layers.Activation("linear", dtype="float32", name="classes")(x)
    return keras.Model(inputs, with_features({"patch": scores, "classes": logits}, trunk, features),
                       name=name)
