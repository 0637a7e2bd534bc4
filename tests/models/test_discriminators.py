"""Tests of the patch, local + global and ACGAN discriminators and the in-graph mask crop."""

import keras
import numpy as np
import pytest
from helpers import assert_save_load_roundtrip, random_inputs

from lcgan.models import acgan_discriminator, local_global_discriminator, patch_discriminator
from lcgan.models.local_global import MaskCrop

DISCRIMINATORS = [patch_discriminator, local_global_discriminator, acgan_discriminator]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _shapes(outputs):
    return keras.tree.map_structure(lambda t: tuple(t.shape), outputs)


@pytest.mark.parametrize("image_size", [64, 128, 256])
@pytest.mark.parametrize("num_classes", [6, 11])
def test_output_shapes(image_size, num_classes):
    grid = image_size // 16
    expected = {
        patch_discriminator: (1, grid, grid, 1),
        local_global_discriminator: (1, 1),
        acgan_discriminator: {"classes": (1, image_size, image_size, num_classes), "patch": (1, grid, grid, 1)},
    }
    for build, shape in expected.items():
        model = build(image_size=image_size, num_classes=num_classes, width=4)
        assert _shapes(model(random_inputs(model))) == shape, build.__name__


def test_patch_grid_follows_depth():
    model = patch_discriminator(image_size=96, num_classes=6, width=4, depth=3)
    assert model.output.shape == (None, 12, 12, 1)


@pytest.mark.parametrize("build", DISCRIMINATORS)
def test_spectral_norm_round_trip(build, tmp_path):
    model = build(image_size=32, num_classes=6, width=4, norm="none", spectral_norm=True)
    inputs = random_inputs(model, batch=2)
    model(inputs, training=True)  # updates the singular-vector estimates that are saved
    assert_save_load_roundtrip(model, inputs, tmp_path)


@pytest.mark.parametrize("build", DISCRIMINATORS)
def test_instance_norm_round_trip(build, tmp_path):
    model = build(image_size=32, num_classes=6, width=4, norm="instance")
    assert_save_load_roundtrip(model, random_inputs(model, batch=2), tmp_path)


@pytest.mark.parametrize("build, kwargs, message", [
    (patch_discriminator, dict(image_size=72), r"`image_size` must be divisible by 2\*\*`depth` = 16 \(depth=4\)"),
    (acgan_discriminator, dict(image_size=40, depth=4), r"`image_size` must be divisible by 2\*\*`depth` = 16"),
    (local_global_discriminator, dict(local_size=7), r"`local_size` must be even and >= 8"),
    (local_global_discriminator, dict(local_size=128), r"`local_size` must be <= `image_size` 64. Received: 128"),
    *[(build, dict(num_classes=0), r"`num_classes` must be an integer >= 1. Received: 0") for build in DISCRIMINATORS],
    *[(build, dict(norm="group"), r"`norm` must be one of \['batch', 'instance', 'none'\]. Received: 'group'")
      for build in DISCRIMINATORS],
    (acgan_discriminator, dict(upsample="bicubic"), r"`upsample` must be one of"),
])
def test_build_errors_name_the_argument(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**{"image_size": 64, "num_classes": 6, "width": 4, **kwargs})


def test_acgan_classes_see_rgb_alone_and_patch_sees_landcover():
    model = acgan_discriminator(image_size=32, num_classes=6, width=4, norm="none")
    inputs = random_inputs(model)
    other = dict(inputs, landcover_onehot=np.roll(inputs["landcover_onehot"], 1, axis=-1))
    out, out_other = model(inputs), model(other)
    np.testing.assert_array_equal(_numpy(out["classes"]), _numpy(out_other["classes"]))
    assert not np.allclose(_numpy(out["patch"]), _numpy(out_other["patch"]))
    assert model.get_layer("trunk0_conv").kernel.shape[2] == 3  # the trunk sees rgb only


def test_local_global_score_depends_on_the_masked_area():
    model = local_global_discriminator(image_size=32, num_classes=6, width=4, local_size=8, norm="none")
    inputs = random_inputs(model)
    moved = dict(inputs, mask=np.roll(inputs["mask"], 16, axis=(1, 2)))
    assert not np.allclose(_numpy(model(inputs)), _numpy(model(moved)))


def _image(batch, side):
    return np.arange(batch * side * side, dtype="float32").reshape(batch, side, side, 1)


def test_mask_crop_centres_on_the_mask_and_clamps_to_the_image():
    image = _image(3, 16)
    mask = np.zeros((3, 16, 16, 1), "float32")
    mask[0, 6:10, 4:8] = 1  # centre (8, 6): window rows 4..11, cols 2..9
    mask[1, 2:5, 12:15] = 1  # near the top-right corner: clamped to rows 0..7, cols 8..15
    crop = _numpy(MaskCrop(8)([image, mask]))  # sample 2: empty mask -> centre window
    np.testing.assert_array_equal(crop[0], image[0, 4:12, 2:10])
    np.testing.assert_array_equal(crop[1], image[1, 0:8, 8:16])
    np.testing.assert_array_equal(crop[2], image[2, 4:12, 4:12])


def test_mask_crop_covers_the_bounding_box_of_several_patches():
    image = _image(1, 16)
    mask = np.zeros((1, 16, 16, 1), "float32")
    mask[0, 2:4, 2:4] = 1
    mask[0, 10:12, 10:12] = 1  # bounding box rows/cols 2..11, centre 7: window 3..12 (size 10)
    np.testing.assert_array_equal(_numpy(MaskCrop(10)([image, mask]))[0], image[0, 2:12, 2:12])


def test_mask_crop_passes_gradients_to_the_cropped_pixels():
    import tensorflow as tf
    image = tf.constant(_image(1, 8))
    mask = np.zeros((1, 8, 8, 1), "float32")
    mask[0, 0:2, 0:2] = 1
    with tf.GradientTape() as tape:
        tape.watch(image)
        total = tf.reduce_sum(MaskCrop(4)([image, mask]))
    grad = tape.gradient(total, image).numpy()[0, ..., 0]
    assert grad[:4, :4].sum() == 16 and grad.sum() == 16


def test_mask_crop_rejects_a_crop_larger_than_the_image():
    with pytest.raises(ValueError, match="`size` 16 exceeds the image side 8"):
        MaskCrop(16)([_image(1, 8), np.zeros((1, 8, 8, 1), "float32")])


@pytest.mark.parametrize("build, params, non_trainable", [
    (patch_discriminator, 6_971_329, 2_816),
    (local_global_discriminator, 26_513_793, 6_656),
    (acgan_discriminator, 8_940_423, 3_712),
])
def test_parameter_count_at_default_width(build, params, non_trainable):
    model = build(image_size=256, num_classes=6)  # documented in the builder's docstring
    assert model.count_params() == params
    assert sum(int(np.prod(w.shape)) for w in model.non_trainable_weights) == non_trainable
