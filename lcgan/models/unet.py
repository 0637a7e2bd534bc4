"""Concatenated-input UNet generator (pix2pix-style encoder/decoder with skip connections)."""

import keras

from lcgan.models.blocks import (check_model_args, decoder, encoder, finish_generator, generator_rgb, image_inputs,
                                 noise_channels as noise_maps, upsample as upsample_layer)
from lcgan.models.context import class_color_channels


def unet_generator(*, image_size, num_classes, width=64, depth=None, norm="batch", upsample="resize",
                   dropout=0.5, use_mask=False, blank_input=False, composite=False, noise_channels=0,
                   class_colors=False, name="unet_generator"):
    """Build a UNet that sees rgb and one-hot landcover concatenated at its input.

    ``depth`` stride-2 blocks (4x4 convs, LeakyReLU, channels ``width * 2**level`` capped at ``8 * width``)
    go down to a ``image_size / 2**depth`` bottleneck; up blocks (ReLU, dropout in the three deepest)
    come back, each concatenated with the encoder features of its level; a last upsampling to 3
    channels ends in tanh.

    Args:
        image_size: Side of the square input in pixels; any multiple of ``2**depth``.
        num_classes: Number of landcover classes K (channels of the one-hot ``landcover_onehot`` input).
        width: Channels of the first encoder block.
        depth: Number of halvings; None halves while the side stays >= 4 (64 -> 4, 128 -> 5, 256 -> 6),
            at most 8.
        norm: "batch", "instance" (per-channel GroupNormalization) or "none".
        upsample: "resize" (bilinear resize + 3x3 conv, free of the checkerboard artefacts of
            transposed convolutions, Odena et al. 2016) or "transpose" (4x4 stride-2 transposed convs).
        dropout: Dropout rate of the three deepest decoder blocks (0 disables it).
        use_mask: Feed the ``mask`` input to the network as an extra input channel.
        blank_input: Set the masked pixels of ``rgb`` to 0 before the network sees them (GLCIC).
        composite: Output ``mask * generated + (1 - mask) * rgb`` (keeps the known pixels).
        noise_channels: Per-pixel N(0, 1) maps concatenated at the input (inside the mask when
            the generator takes one), drawn anew on every call: the latent that lets a blanked
            region get texture instead of one flat colour (0: a deterministic generator).
        class_colors: Also feed the per-class colour mean and spread of the known pixels
            (:class:`lcgan.models.context.ClassColorStats`, 7 channels) with the rgb: this
            scene's colour of each class, so a fill need not recall the training tiles' colours.
        name: Model name.

    Inputs (dict):
        ``rgb`` (B, H, W, 3) float in [-1, 1]; ``landcover_onehot`` (B, H, W, K) one-hot float;
        ``mask`` (B, H, W, 1) float, 1 = to generate (only when ``use_mask``, ``blank_input`` or ``composite``).

    Returns:
        A ``keras.Model`` mapping the input dict to rgb (B, H, W, 3) in [-1, 1].
        Parameters at the defaults (256 px, 6 classes, width 64, depth 6, batch norm, resize):
        21,345,283 (6,784 of them non-trainable BatchNormalization statistics).

    Raises:
        ValueError: If ``image_size`` is not divisible by ``2**depth``, ``num_classes`` or ``width`` < 1,
            or ``norm`` / ``upsample`` is unknown.

    Example:
        >>> g = unet_generator(image_size=64, num_classes=6, width=8)
        >>> g({"rgb": keras.ops.zeros((1, 64, 64, 3)), "landcover_onehot": keras.ops.zeros((1, 64, 64, 6))}).shape
        TensorShape([1, 64, 64, 3])
    """
    depth = check_model_args(image_size=image_size, num_classes=num_classes, width=width, depth=depth,
                             norm=norm, upsample=upsample)
    inputs = image_inputs(image_size, num_classes, mask=use_mask or blank_input or composite)
    channels_in = [generator_rgb(inputs, blank=blank_input), inputs["landcover_onehot"]] + ([inputs["mask"]] if use_mask else [])
    if noise_channels:
        channels_in.append(noise_maps(inputs, noise_channels))
    if class_colors:
        channels_in.append(class_color_channels(inputs))
    x = keras.layers.Concatenate(name="input_concat")(channels_in)  # (B, H, W, 3 + K [+ 1] [+ N] [+ 7])
    features = encoder(x, width=width, depth=depth, norm=norm, name="down")
    x = decoder(features[-1], [[skip] for skip in features[:-1]], width=width, norm=norm, mode=upsample,
                dropout=dropout, name="up")  # (B, H/2, W/2, 2 * width)
    x = upsample_layer(x, 3, mode=upsample, name="output")
    generated = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)  # (B, H, W, 3)
    return finish_generator(inputs, generated, composite=composite, name=name)
