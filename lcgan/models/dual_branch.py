"""Dual-branch generator: separate rgb and landcover encoders joined in a shared decoder."""

import keras

from lcgan.models.blocks import (check_model_args, conv, decoder, encoder, finish_generator, generator_rgb, image_inputs,
                                 noise_channels as noise_maps, norm_act, upsample as upsample_layer)
from lcgan.models.context import class_color_channels


def dual_branch_generator(*, image_size, num_classes, width=32, depth=None, norm="batch",
                          upsample="resize", dropout=0.5, dilated=True, use_mask=False, blank_input=False, composite=False,
                          noise_channels=0, class_colors=False, name="dual_branch_generator"):
    """Build a generator whose rgb and landcover inputs go through two encoders side by side.

    Each encoder has ``depth`` stride-2 blocks (channels ``width * 2**level`` capped at ``8 * width``).
    The two bottlenecks are concatenated; each decoder block is concatenated with the features of
    both encoders at its level. After a last upsampling to full resolution, two 3x3 convolutions
    (``width`` channels with ReLU, then 3 channels) end in tanh. With ``dilated``, every block of the
    landcover encoder (and only that one) adds a 3x3 convolution with dilation rate 2, widening the
    receptive field of the landcover branch without more downsampling.

    Args:
        image_size: Side of the square input in pixels; any multiple of ``2**depth``.
        num_classes: Number of landcover classes K (channels of the one-hot ``landcover_onehot`` input).
        width: Channels of the first block of each encoder (32: two encoders of width 32 cost about
            as much as one UNet of width 64).
        depth: Number of halvings; None halves while the side stays >= 4 (64 -> 4, 128 -> 5, 256 -> 6),
            at most 8.
        norm: "batch", "instance" (per-channel GroupNormalization) or "none".
        upsample: "resize" (bilinear resize + 3x3 conv, free of checkerboard artefacts) or "transpose".
        dropout: Dropout rate of the three deepest decoder blocks (0 disables it).
        dilated: Add dilated convolutions to the landcover encoder.
        use_mask: Feed the ``mask`` input to the rgb encoder as an extra channel.
        blank_input: Set the masked pixels of ``rgb`` to 0 before the rgb encoder sees them (GLCIC).
        composite: Output ``mask * generated + (1 - mask) * rgb`` (keeps the known pixels).
        noise_channels: Per-pixel N(0, 1) maps fed to the rgb encoder (inside the mask when the
            generator takes one), drawn anew on every call: the latent that lets a blanked region
            get texture instead of one flat colour (0: a deterministic generator).
        class_colors: Also feed the per-class colour mean and spread of the known pixels
            (:class:`lcgan.models.context.ClassColorStats`, 7 channels) to the rgb encoder: this
            scene's colour of each class, so a fill need not recall the training tiles' colours.
        name: Model name.

    Inputs (dict):
        ``rgb`` (B, H, W, 3) float in [-1, 1]; ``landcover_onehot`` (B, H, W, K) one-hot float;
        ``mask`` (B, H, W, 1) float, 1 = to generate (only when ``use_mask``, ``blank_input`` or ``composite``).

    Returns:
        A ``keras.Model`` mapping the input dict to rgb (B, H, W, 3) in [-1, 1].
        Parameters at the defaults (256 px, 6 classes, width 32, depth 6, dilated, batch norm):
        11,704,611 (7,296 non-trainable).

    Raises:
        ValueError: If ``image_size`` is not divisible by ``2**depth``, ``num_classes`` or ``width`` < 1,
            or ``norm`` / ``upsample`` is unknown.

    Example:
        >>> g = dual_branch_generator(image_size=64, num_classes=6, width=8)
        >>> g({"rgb": keras.ops.zeros((1, 64, 64, 3)), "landcover_onehot": keras.ops.zeros((1, 64, 64, 6))}).shape
        TensorShape([1, 64, 64, 3])
    """
    depth = check_model_args(image_size=image_size, num_classes=num_classes, width=width, depth=depth,
                             norm=norm, upsample=upsample)
    inputs = image_inputs(image_size, num_classes, mask=use_mask or blank_input or composite)
    rgb = generator_rgb(inputs, blank=blank_input)
    extra = [inputs["mask"]] if use_mask else []
    if noise_channels:
        extra.append(noise_maps(inputs, noise_channels))
    if class_colors:
        extra.append(class_color_channels(inputs))
    if extra:
        rgb = keras.layers.Concatenate(name="rgb_mask_concat")([rgb, *extra])  # (B, H, W, 3 [+ 1] [+ N] [+ 7])
    rgb_features = encoder(rgb, width=width, depth=depth, norm=norm, name="rgb_down")
    landcover_features = encoder(inputs["landcover_onehot"], width=width, depth=depth, norm=norm,
                                 name="landcover_down", dilation_rate=2 if dilated else 1)
    x = keras.layers.Concatenate(name="bottleneck_concat")([rgb_features[-1], landcover_features[-1]])
    skips = [list(pair) for pair in zip(rgb_features[:-1], landcover_features[:-1])]
    x = decoder(x, skips, width=width, norm=norm, mode=upsample, dropout=dropout, name="up")
    x = upsample_layer(x, width, mode=upsample, name="full")  # (B, H, W, width)
    x = norm_act(x, norm=norm, activation="relu", name="full")
    x = conv(x, width, name="head_conv")
    x = keras.layers.ReLU(name="head_act")(x)
    x = conv(x, 3, name="output_conv")
    generated = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)  # (B, H, W, 3)
    return finish_generator(inputs, generated, composite=composite, name=name)
