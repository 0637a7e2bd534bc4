"""Building blocks shared by the generators and discriminators.

Down and up blocks, the normalisation choice, a spectrally normalised convolution, input
validation for the model builders, and :func:`select_inputs` to feed a model from a batch dict.
All tensors are channels-last: ``(B, H, W, C)``.
"""

import random
import warnings

import keras
from keras import ops

from lcgan.images import composite

NORMS = ("batch", "instance", "none")
UPSAMPLES = ("transpose", "resize")


def select_inputs(model, batch):
    """Pick from ``batch`` the entries that ``model`` takes as inputs.

    Args:
        model: A functional Keras model with named inputs (e.g. ``"rgb"``, ``"landcover_onehot"``, ``"mask"``).
        batch: A dict of tensors holding at least the model's input names (extra keys are ignored).

    Returns:
        A dict ``{name: batch[name]}`` for each input name of ``model``.

    Raises:
        KeyError: If ``batch`` lacks one of the model's inputs; the message names it and the keys present.

    Example:
        >>> outputs = generator(select_inputs(generator, batch))  # doctest: +SKIP
    """
    keys = {tensor.name: _batch_key(model, tensor) for tensor in model.inputs}
    missing = [key for key in keys.values() if key not in batch]
    if missing:
        raise KeyError(f"Model {model.name!r} needs inputs {list(keys)}; the batch lacks {missing}. "
                       f"Batch keys: {sorted(batch)}")
    return {name: batch[key] for name, key in keys.items()}


def _batch_key(model, tensor):
    """The batch key feeding ``tensor``; lcgan 0.1 models named their one-hot input "landcover"."""
    if tensor.name == "landcover" and len(tensor.shape) == 4:
        warnings.warn(f"Model {model.name!r} was built by lcgan 0.1, whose one-hot input was named "
                      "'landcover'; it is fed batch['landcover_onehot']. Rebuild or re-save the "
                      "model to silence this warning.", DeprecationWarning, stacklevel=3)
        return "landcover_onehot"
    return tensor.name


def check_choice(argument, value, choices):
    """Raise ``ValueError`` naming ``argument`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"`{argument}` must be one of {list(choices)}. Received: {value!r}")


def check_positive(argument, value):
    """Raise ``ValueError`` naming ``argument`` unless ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{argument}` must be an integer >= 1. Received: {value!r}")


def check_model_args(*, image_size, num_classes, width, depth, norm, upsample="resize"):
    """Validate the arguments shared by the model builders and return the checked ``depth``.

    Raises:
        ValueError: Naming the argument, as in :func:`check_positive`, :func:`check_choice` and
            :func:`resolve_depth`.
    """
    check_positive("num_classes", num_classes)
    check_positive("width", width)
    check_choice("norm", norm, NORMS)
    check_choice("upsample", upsample, UPSAMPLES)
    return resolve_depth(image_size, depth)


def resolve_depth(image_size, depth, *, min_size=4, max_depth=8, argument="image_size"):
    """Check ``image_size`` against ``depth`` (number of stride-2 halvings) and return the depth.

    Args:
        image_size: Side of the square input in pixels.
        depth: Number of halvings, or None for the default: halve while the result stays an
            integer >= ``min_size``, at most ``max_depth`` times (256 -> 6 with the defaults).
        min_size: Smallest side the default depth may reach.
        max_depth: Largest default depth.
        argument: Name of the size argument in error messages.

    Returns:
        The depth (int >= 1).

    Raises:
        ValueError: If ``image_size`` is not a positive integer, ``depth`` < 1, or ``image_size`` is
            not divisible by ``2**depth`` (the message names both).
    """
    if not isinstance(image_size, int) or image_size < 2:
        raise ValueError(f"`{argument}` must be an integer >= 2. Received: {image_size!r}")
    if depth is None:
        depth = 0
        while (depth < max_depth and image_size % 2 ** (depth + 1) == 0
               and image_size // 2 ** (depth + 1) >= min_size):
            depth += 1
        if depth == 0:
            raise ValueError(f"`{argument}` must be even and >= {2 * min_size} for the default `depth`; "
                             f"pass `depth` explicitly. Received: {argument}={image_size}")
        return depth
    check_positive("depth", depth)
    if image_size % 2 ** depth:
        raise ValueError(f"`{argument}` must be divisible by 2**`depth` = {2 ** depth} (depth={depth}). "
                         f"Received: {argument}={image_size}")
    return depth


def normalization(norm, name):
    """Return the normalisation layer for ``norm`` ("batch", "instance" or "none" -> None)."""
    check_choice("norm", norm, NORMS)
    if norm == "batch":
        return keras.layers.BatchNormalization(name=name)
    if norm == "instance":
        # groups=-1: one group per channel, i.e. instance normalisation with a learned affine.
        return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)
    return None


@keras.saving.register_keras_serializable(package="lcgan")
class SpectralConv2D(keras.layers.Conv2D):
    """``Conv2D`` whose kernel is divided by its largest singular value (Miyato et al. 2018).

    Unlike ``keras.layers.SpectralNormalization`` (which overwrites the kernel variable with the
    normalised one during training), the normalisation here is part of the forward pass, so the
    gradient flows through ``W / sigma(W)``. One power iteration per training call refines the
    singular-vector estimate ``vector_u`` (a non-trainable weight, saved with the model).
    Channels-last only.
    """

    def __init__(self, *args, power_iterations=1, **kwargs):
        super().__init__(*args, **kwargs)
        if self.data_format != "channels_last":
            raise ValueError(f"SpectralConv2D supports channels_last only. Received: {self.data_format!r}")
        if power_iterations < 1:
            raise ValueError(f"`power_iterations` must be >= 1. Received: {power_iterations}")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.vector_u = self.add_weight(
            shape=(1, self.filters), initializer=keras.initializers.TruncatedNormal(stddev=1.0),
            trainable=False, name="vector_u")

    def call(self, inputs, training=False):
        matrix = ops.reshape(self.kernel, (-1, self.filters))  # (kh*kw*cin, cout)
        u = self.vector_u
        for _ in range(self.power_iterations):
            v = _unit(ops.matmul(u, ops.transpose(matrix)))  # (1, kh*kw*cin)
            u = _unit(ops.matmul(v, matrix))  # (1, cout)
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.sum(ops.matmul(v, matrix) * u)
        if training:
            self.vector_u.assign(u)
        outputs = self.convolution_op(inputs, self.kernel / sigma)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    # Conv2D saves only kernel and bias; the generic Layer methods also save ``vector_u``.
    save_own_variables = keras.layers.Layer.save_own_variables
    load_own_variables = keras.layers.Layer.load_own_variables

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _unit(x):
    return x / (ops.sqrt(ops.sum(x * x)) + 1e-12)


def conv(x, filters, *, kernel_size=3, strides=1, dilation_rate=1, padding="same", spectral_norm=False,
         name=None):
    """Apply a convolution (spectrally normalised if asked): ``(B,H,W,C) -> (B,H/s,W/s,filters)`` when same-padded."""
    layer = SpectralConv2D if spectral_norm else keras.layers.Conv2D
    return layer(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation_rate,
                 name=name)(x)


def norm_act(x, *, norm, activation, name):
    """Apply the normalisation chosen by ``norm`` then ``activation`` ("leaky" = LeakyReLU(0.2), or "relu")."""
    layer = normalization(norm, f"{name}_norm")
    if layer is not None:
        x = layer(x)
    if activation == "leaky":
        return keras.layers.LeakyReLU(0.2, name=f"{name}_act")(x)
    return keras.layers.ReLU(name=f"{name}_act")(x)


def down_block(x, filters, *, norm, name, spectral_norm=False, dilation_rate=1):
    """4x4 stride-2 conv, norm, LeakyReLU: ``(B,H,W,C) -> (B,H/2,W/2,filters)``.

    With ``dilation_rate`` > 1 a 3x3 dilated conv (norm, LeakyReLU) follows at the new resolution,
    widening the receptive field without further downsampling.
    """
    x = conv(x, filters, kernel_size=4, strides=2, spectral_norm=spectral_norm, name=f"{name}_conv")
    x = norm_act(x, norm=norm, activation="leaky", name=name)
    if dilation_rate > 1:
        x = conv(x, filters, dilation_rate=dilation_rate, spectral_norm=spectral_norm,
                 name=f"{name}_dilated_conv")
        x = norm_act(x, norm=norm, activation="leaky", name=f"{name}_dilated")
    return x


@keras.saving.register_keras_serializable(package="lcgan")
class BilinearUpsample(keras.layers.Layer):
    """Bilinear 2x upsampling ``(B,H,W,C) -> (B,2H,2W,C)`` that also traces with unknown H and W.

    ``keras.layers.UpSampling2D(interpolation="bilinear")`` (Keras 3.15) needs static spatial
    dims, so a generator using it could not be exported with free input sizes.
    """

    def call(self, x):
        import tensorflow as tf

        size = tf.shape(x)[1:3] * 2
        return tf.cast(tf.image.resize(x, size, method="bilinear"), x.dtype)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else 2 * h, None if w is None else 2 * w, c)


def upsample(x, filters, *, mode, name, spectral_norm=False):
    """Double the resolution: ``(B,H,W,C) -> (B,2H,2W,filters)``.

    ``mode="transpose"``: 4x4 stride-2 transposed conv. ``mode="resize"``: bilinear resize then a 3x3
    conv (no checkerboard artefacts). Spectral normalisation is available for ``"resize"`` only.
    """
    check_choice("upsample", mode, UPSAMPLES)
    if mode == "transpose":
        return keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name=f"{name}_tconv")(x)
    x = BilinearUpsample(name=f"{name}_resize")(x)
    return conv(x, filters, spectral_norm=spectral_norm, name=f"{name}_conv")


def up_block(x, filters, *, norm, mode, dropout, name, skip=None, spectral_norm=False):
    """Upsample, norm, optional dropout, ReLU, then concatenate ``skip``: ``(B,H,W,C) -> (B,2H,2W,filters+Cs)``."""
    x = upsample(x, filters, mode=mode, name=name, spectral_norm=spectral_norm)
    layer = normalization(norm, f"{name}_norm")
    if layer is not None:
        x = layer(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = keras.layers.ReLU(name=f"{name}_act")(x)
    if skip is not None:
        x = keras.layers.Concatenate(name=f"{name}_skip")([x, *skip])
    return x


def encoder(x, *, width, depth, norm, name, spectral_norm=False, dilation_rate=1):
    """Stack ``depth`` down blocks (no norm in the first, as in pix2pix).

    Args:
        x: (B, H, W, C) input.
        width: Channels of the first block; level ``l`` has ``channels(width, l)``.
        depth: Number of stride-2 blocks.
        norm: "batch", "instance" or "none".
        name: Prefix of the layer names.
        spectral_norm: Spectrally normalise the convolutions.
        dilation_rate: > 1 adds a dilated conv to each block (see :func:`down_block`).

    Returns:
        List of ``depth`` features; level ``l`` is (B, H/2**(l+1), W/2**(l+1), channels(width, l)).
    """
    features = []
    for level in range(depth):
        x = down_block(x, channels(width, level), norm="none" if level == 0 else norm, name=f"{name}{level}",
                       spectral_norm=spectral_norm, dilation_rate=dilation_rate)
        features.append(x)
    return features


def decoder(x, skips, *, width, norm, mode, dropout, name, dropout_blocks=3, spectral_norm=False):
    """Up blocks from the bottleneck back to half resolution, concatenating the skips of each level.

    Args:
        x: (B, H/2**depth, W/2**depth, C) bottleneck.
        skips: ``depth - 1`` lists of tensors; ``skips[l]`` is concatenated at (B, H/2**(l+1), W/2**(l+1), ·).
        width, norm: As in :func:`encoder`; the block of level ``l`` has ``channels(width, l)`` channels.
        mode: "transpose" or "resize" (see :func:`upsample`).
        dropout: Dropout rate of the first ``dropout_blocks`` blocks (the deepest).
        name: Prefix of the layer names.
        spectral_norm: Spectrally normalise the upsampling convolutions (``mode="resize"``).

    Returns:
        (B, H/2, W/2, width + skip channels) features.
    """
    for i, level in enumerate(reversed(range(len(skips)))):
        x = up_block(x, channels(width, level), norm=norm, mode=mode, name=f"{name}{level}",
                     dropout=dropout if i < dropout_blocks else 0.0, skip=skips[level],
                     spectral_norm=spectral_norm)
    return x


def channels(width, level, cap=8):
    """Channels at encoder ``level`` (0-based): ``width * 2**level`` capped at ``cap * width``."""
    return width * min(2 ** level, cap)


def image_inputs(image_size, num_classes, *, mask):
    """Named ``keras.Input`` dict: ``rgb`` (B,H,W,3), ``landcover_onehot`` (B,H,W,K) and, if ``mask``, ``mask`` (B,H,W,1)."""
    inputs = {
        "rgb": keras.Input((image_size, image_size, 3), name="rgb"),
        "landcover_onehot": keras.Input((image_size, image_size, num_classes), name="landcover_onehot"),
    }
    if mask:
        inputs["mask"] = keras.Input((image_size, image_size, 1), name="mask")
    return inputs


def generator_rgb(inputs, *, blank):
    """The rgb a generator sees: ``inputs["rgb"]``, or with ``blank`` its masked pixels set to 0.

    Blanking (GLCIC / DeepFill) hides the content to be replaced, so the network must paint it from
    the landcover and the surroundings: ``(B, H, W, 3) -> (B, H, W, 3)``; needs ``inputs["mask"]``.
    """
    if not blank:
        return inputs["rgb"]
    return Blank(name="blank_input")([inputs["rgb"], inputs["mask"]])


def noise_channels(inputs, channels, *, name="noise"):
    """Per-pixel latent noise for a generator: ``channels`` N(0, 1) maps, zero outside the mask.

    A convolutional generator fed a blanked region of one class sees the same input at every pixel
    there, so away from the region's edge it can only paint one flat colour, the mean that L1
    rewards. Spatial noise (StyleGAN's noise inputs; OASIS' 3D noise) gives it something to turn
    into texture. The noise is drawn on every call, at inference too: it is the generator's latent,
    not a regulariser. Where the generator takes a mask, pixels outside it get zeros, so the known
    context stays deterministic.

    Args:
        inputs: The named input dict of :func:`image_inputs`.
        channels: Number of noise maps (>= 1).
        name: Layer name prefix.

    Returns:
        (B, H, W, channels) tensor.
    """
    noise = SpatialNoise(channels, name=name)(inputs["rgb"])
    if "mask" in inputs:
        noise = keras.layers.Multiply(name=f"{name}_in_mask")([noise, inputs["mask"]])
    return noise


def finish_generator(inputs, generated, *, composite, name):
    """Wrap a generator graph: with ``composite``, output = mask*generated + (1-mask)*rgb.

    Args:
        inputs: The named input dict (must hold ``mask`` when ``composite``).
        generated: (B,H,W,3) tanh output of the network.
        composite: Keep the known pixels of ``inputs["rgb"]`` outside the mask.
        name: Model name.

    Returns:
        The functional ``keras.Model`` with output (B,H,W,3).
    """
    if composite:
        generated = Composite(name="composite")([generated, inputs["rgb"], inputs["mask"]])
    return keras.Model(inputs, generated, name=name)


@keras.saving.register_keras_serializable(package="lcgan")
class Composite(keras.layers.Layer):
    """``[generated, rgb, mask] -> mask * generated + (1 - mask) * rgb`` (all (B,H,W,·), mask (B,H,W,1))."""

    def call(self, inputs):
        generated, rgb, mask = inputs
        return composite(generated, rgb, mask)

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


@keras.saving.register_keras_serializable(package="lcgan")
class Blank(keras.layers.Layer):
    """``[rgb (B,H,W,C), mask (B,H,W,1)] -> (1 - mask) * rgb``: the masked pixels set to 0 (grey in [-1, 1])."""

    def call(self, inputs):
        rgb, mask = inputs
        return rgb * (1.0 - ops.cast(mask, rgb.dtype))

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


@keras.saving.register_keras_serializable(package="lcgan")
class SpatialNoise(keras.layers.Layer):
    """``reference (B, H, W, ·) -> (B, H, W, channels)`` standard normal noise, new on every call.

    Each call draws with the stateless seed ``(seed, calls)`` and counts itself in ``calls``, a
    non-trainable int64 weight: it is saved with the model and in training checkpoints, so a
    resumed run draws what an uninterrupted one would, and the EMA copy (which copies
    non-trainable weights) follows it. ``seed`` None picks one from Python's ``random`` (seeded
    by ``keras.utils.set_random_seed``) and keeps it in the config.
    """

    def __init__(self, channels, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_positive("noise_channels", channels)
        self.channels = int(channels)
        self.seed = int(random.randrange(2 ** 31)) if seed is None else int(seed)

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), dtype="int64", initializer="zeros",
                                     trainable=False, aggregation="only_first_replica",
                                     name="calls")

    def call(self, reference):
        import tensorflow as tf

        shape = tf.concat([tf.shape(reference)[:3], [self.channels]], axis=0)
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.calls.value])
        self.calls.assign_add(1)
        return tf.random.stateless_normal(shape, seed, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "seed": self.seed}
