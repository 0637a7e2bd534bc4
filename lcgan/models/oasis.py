"""OASIS segmentation discriminator (Schönfeld et al., "You Only Need Adversarial Supervision for
Semantic Image Synthesis", ICLR 2021).

The discriminator is a per-pixel (K+1)-class segmenter of the image alone: on real images it must
find each pixel's landcover class, on generated images the extra class K, "fake". Its losses (class
balanced, see :func:`lcgan.training.losses.oasis_loss`) replace the real/fake and ACGAN terms; the
generator is trained to have its pixels read as the requested class.
"""

import keras

from lcgan.models.blocks import check_model_args, conv, decoder, encoder, upsample


def oasis_discriminator(*, image_size, num_classes, width=64, depth=None, norm="none", spectral_norm=True,
                        features=False, name="oasis_discriminator"):
    """Build an OASIS discriminator: a spectrally normalised U-Net segmenter with K+1 output classes.

    ``depth`` stride-2 blocks (4x4 convs, LeakyReLU, channels ``width * 2**level`` capped at ``8 * width``)
    go down from the rgb; resize-then-convolve up blocks come back with skips from every level, and a
    last upsampling and a 1x1 convolution give K+1 logits per pixel (classes ``0..K-1``, then "fake").
    The discriminator sees the rgb only: the landcover is what it must predict, not an input.

    Args:
        image_size: Side of the square input in pixels; any multiple of ``2**depth``.
        num_classes: Number of landcover classes K (the output has K + 1 channels).
        width: Channels of the first block.
        depth: Number of halvings; None halves while the side stays >= 4 (64 -> 4, 256 -> 6).
        norm: "none" (OASIS: spectral norm only), "batch" or "instance".
        spectral_norm: Spectrally normalise every convolution.
        features: Also return the encoder blocks and the last decoder activation as ``"features"``.
        name: Model name.

    Inputs (dict):
        ``rgb`` (B, H, W, 3) float in [-1, 1].

    Returns:
        A ``keras.Model`` mapping the input dict to ``{"segmentation": (B, H, W, K + 1) logits}``
        (and ``"features"``: a list of (B, h, w, C) activations, when asked).

    Raises:
        ValueError: If ``image_size`` is not divisible by ``2**depth``, ``num_classes`` or ``width`` < 1,
            or ``norm`` is unknown.

    Example:
        >>> d = oasis_discriminator(image_size=64, num_classes=6, width=8)
        >>> d.output["segmentation"].shape
        (None, 64, 64, 7)
    """
    depth = check_model_args(image_size=image_size, num_classes=num_classes, width=width, depth=depth,
                             norm=norm)
    inputs = {"rgb": keras.Input((image_size, image_size, 3), name="rgb")}
    blocks = encoder(inputs["rgb"], width=width, depth=depth, norm=norm, name="down",
                     spectral_norm=spectral_norm)
    x = decoder(blocks[-1], [[skip] for skip in blocks[:-1]], width=width, norm=norm, mode="resize",
                dropout=0.0, name="up", spectral_norm=spectral_norm)  # (B, H/2, W/2, 2 * width)
    x = upsample(x, width, mode="resize", spectral_norm=spectral_norm, name="full")  # (B, H, W, width)
    x = keras.layers.LeakyReLU(0.2, name="full_act")(x)
    logits = conv(x, num_classes + 1, kernel_size=1, spectral_norm=spectral_norm, name="segmentation_conv")
    outputs = {"segmentation": keras.layers.Activation("linear", dtype="float32", name="segmentation")(logits)}
    if features:
        outputs["features"] = [*blocks, x]
    return keras.Model(inputs, outputs, name=name)
