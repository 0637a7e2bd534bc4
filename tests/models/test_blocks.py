"""Tests of lcgan.models.blocks: input selection, validation, spectral norm, composite."""

import keras
import numpy as np
import pytest
from helpers import assert_save_load_roundtrip, random_inputs

from lcgan.models import (acgan_discriminator, dual_branch_generator, local_global_discriminator,
                          patch_discriminator, unet_generator)
from lcgan.models.blocks import Composite, SpectralConv2D, check_choice, normalization, resolve_depth, select_inputs


def _two_input_model():
    rgb = keras.Input((8, 8, 3), name="rgb")
    mask = keras.Input((8, 8, 1), name="mask")
    return keras.Model({"rgb": rgb, "mask": mask}, keras.layers.Concatenate()([rgb, mask]))


def test_select_inputs_keeps_only_the_model_inputs():
    model = _two_input_model()
    batch = {"rgb": np.ones((1, 8, 8, 3), "float32"), "mask": np.zeros((1, 8, 8, 1), "float32"),
             "target": np.zeros((1, 8, 8, 3), "float32"), "landcover": np.zeros((1, 8, 8), "int32")}
    selected = select_inputs(model, batch)
    assert set(selected) == {"rgb", "mask"}
    assert selected["rgb"] is batch["rgb"]
    assert model(selected).shape == (1, 8, 8, 4)


def test_select_inputs_names_the_missing_input():
    with pytest.raises(KeyError, match=r"lacks \['mask'\]"):
        select_inputs(_two_input_model(), {"rgb": np.ones((1, 8, 8, 3), "float32")})


@pytest.mark.parametrize("image_size, depth", [(64, 4), (128, 5), (256, 6), (96, 4), (8, 1), (2048, 8)])
def test_default_depth_keeps_a_small_bottleneck(image_size, depth):
    assert resolve_depth(image_size, None) == depth


def test_explicit_depth_accepts_any_multiple():
    assert resolve_depth(96, 5) == 5


@pytest.mark.parametrize("image_size, depth, message", [
    (100, 4, r"`image_size` must be divisible by 2\*\*`depth` = 16 \(depth=4\). Received: image_size=100"),
    (64, 0, r"`depth` must be an integer >= 1. Received: 0"),
    (63, None, r"`image_size` must be even and >= 8"),
    (64.0, None, r"`image_size` must be an integer"),
])
def test_resolve_depth_errors_name_the_arguments(image_size, depth, message):
    with pytest.raises(ValueError, match=message):
        resolve_depth(image_size, depth)


def test_unknown_choice_is_named():
    with pytest.raises(ValueError, match=r"`norm` must be one of \['batch', 'instance', 'none'\]. Received: 'layer'"):
        normalization("layer", "n")
    with pytest.raises(ValueError, match="`upsample` must be one of"):
        check_choice("upsample", "nearest", ("transpose", "resize"))


def test_instance_norm_normalises_each_channel_of_each_sample():
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 8, 8, 4)).astype("float32")
    y = keras.ops.convert_to_numpy(normalization("instance", "n")(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-2)


def test_spectral_conv_has_unit_spectral_norm_after_power_iterations():
    keras.utils.set_random_seed(0)  # the convergence rate depends on the random kernel
    layer = SpectralConv2D(6, 3, padding="same", use_bias=False, power_iterations=10)
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 5)).astype("float32")
    for _ in range(10):  # refine the singular-vector estimate
        layer(x, training=True)
    matrix = keras.ops.convert_to_numpy(layer.kernel).reshape(-1, 6)
    sigma = np.linalg.svd(matrix, compute_uv=False)[0]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), keras.ops.convert_to_numpy(
        keras.ops.conv(x, layer.kernel / sigma, padding="same")), rtol=1e-3, atol=1e-4)


def test_spectral_conv_gradient_flows_through_the_normalisation():
    import tensorflow as tf
    layer = SpectralConv2D(4, 3)
    x = np.ones((1, 6, 6, 2), "float32")
    layer(x, training=True)
    with tf.GradientTape() as tape:
        loss = keras.ops.sum(layer(x, training=True))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert np.abs(grads[0].numpy()).sum() > 0


def test_spectral_conv_round_trip(tmp_path):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, SpectralConv2D(4, 3, power_iterations=2, name="sn")(inputs))
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    model(x, training=True)  # moves vector_u away from its initial value
    loaded = assert_save_load_roundtrip(model, x, tmp_path)
    assert loaded.get_layer("sn").power_iterations == 2


def test_spectral_conv_rejects_bad_power_iterations():
    with pytest.raises(ValueError, match="`power_iterations` must be >= 1. Received: 0"):
        SpectralConv2D(4, 3, power_iterations=0)


def test_composite_keeps_known_pixels():
    generated = np.full((1, 4, 4, 3), 0.5, "float32")
    rgb = np.full((1, 4, 4, 3), -1.0, "float32")
    mask = np.zeros((1, 4, 4, 1), "float32")
    mask[:, 1:3, 1:3] = 1.0
    out = keras.ops.convert_to_numpy(Composite()([generated, rgb, mask]))
    np.testing.assert_array_equal(out[0, 1:3, 1:3], 0.5)
    np.testing.assert_array_equal(out[0, 0], -1.0)


@pytest.mark.parametrize("build", [unet_generator, dual_branch_generator, patch_discriminator,
                                   local_global_discriminator, acgan_discriminator])
@pytest.mark.parametrize("name, channels, expected", [("rgb", 4, 3), ("landcover_onehot", 7, 6)])
def test_every_model_names_the_input_with_wrong_channels(build, name, channels, expected):
    model = build(image_size=32, num_classes=6, width=4)
    inputs = dict(random_inputs(model), **{name: np.zeros((1, 32, 32, channels), "float32")})
    with pytest.raises(ValueError, match=rf"name '{name}'.*expected shape=\(None, 32, 32, {expected}\), "
                                         rf"found shape=\(1, 32, 32, {channels}\)"):
        model(inputs)
