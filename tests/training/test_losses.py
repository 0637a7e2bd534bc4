"""Tests of lcgan.training.losses: values on hand-computed cases, VGG preprocessing (weights: test_weights)."""

import keras
import numpy as np
import pytest

from lcgan.evaluation import metrics
from lcgan.training import losses
from lcgan.data.legend import IGNORE


def test_masked_l1_weights_inside_and_outside():
    target = np.zeros((2, 4, 4, 3), "float32")
    output = np.ones((2, 4, 4, 3), "float32")
    mask = np.zeros((2, 4, 4, 1), "float32")
    mask[:, :2] = 1.0  # half the pixels inside
    plain = keras.ops.convert_to_numpy(losses.reconstruction_l1(target, output))
    weighted = keras.ops.convert_to_numpy(
        losses.reconstruction_l1(target, output, mask, inside_weight=3.0, outside_weight=1.0))
    np.testing.assert_allclose(plain, [1.0, 1.0])
    np.testing.assert_allclose(weighted, [2.0, 2.0])  # (3 + 1) / 2
    same = losses.reconstruction_l1(target, output, mask, inside_weight=2.5, outside_weight=2.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(same), [2.5, 2.5])  # no per-pixel map
    unmasked = losses.reconstruction_l1(target, output, None, inside_weight=3.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(unmasked), [1.0, 1.0])  # weights need a mask


@pytest.mark.parametrize("kind,d_expected,g_expected", [
    ("lsgan", (0.5 - 1) ** 2 + (-0.5) ** 2, (-0.5 - 1) ** 2),
    ("hinge", (1 - 0.5) + (1 - 0.5), 0.5),
])
def test_adversarial_losses(kind, d_expected, g_expected):
    real = np.full((2, 3, 3, 1), 0.5, "float32")
    fake = np.full((2, 3, 3, 1), -0.5, "float32")
    d = keras.ops.convert_to_numpy(losses.discriminator_loss(real, fake, kind=kind))
    g = keras.ops.convert_to_numpy(losses.generator_adversarial_loss(fake, kind=kind))
    np.testing.assert_allclose(d, [d_expected] * 2, rtol=1e-6)
    np.testing.assert_allclose(g, [g_expected] * 2, rtol=1e-6)


def test_unknown_gan_loss_names_argument():
    with pytest.raises(ValueError, match="`gan_loss` must be one of"):
        losses.generator_adversarial_loss(np.zeros((1, 2, 2, 1)), kind="wgan")


def test_acgan_loss_ignores_unannotated_pixels():
    ids = np.array([[[0, 1], [IGNORE, IGNORE]]], "int32")  # (1, 2, 2)
    logits = np.zeros((1, 2, 2, 3), "float32")
    logits[0, 0, 0, 0] = 10.0  # confident and right
    logits[0, 1, :, 2] = 50.0  # wildly wrong, but ignored
    value = keras.ops.convert_to_numpy(losses.acgan_loss(ids, logits))
    right = -np.log(np.exp(10) / (np.exp(10) + 2))
    np.testing.assert_allclose(value, [(right + np.log(3.0)) / 2], rtol=1e-5)
    empty = keras.ops.convert_to_numpy(losses.acgan_loss(np.full((1, 2, 2), IGNORE), logits))
    np.testing.assert_allclose(empty, [0.0])


def test_vgg_preprocessing_matches_keras_caffe_mode():
    loss = losses.VGGFeatureLoss(weights=None)
    images = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    caffe = keras.applications.vgg16.preprocess_input((images + 1.0) * 127.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss.features(images)),
                               keras.ops.convert_to_numpy(loss.extractor(caffe)), atol=1e-4)
    assert keras.ops.convert_to_numpy(loss.features(images)).shape == (1, 8, 8, 256)
    assert not loss.extractor.trainable_weights  # frozen
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss(images, images)), [0.0])


def test_vgg_bad_layer_names_the_argument():
    with pytest.raises(ValueError, match="`layer` must be a VGG16 layer"):
        losses.VGGFeatureLoss(weights=None, layer="block9_conv1")


def test_old_training_l1_name_warns_and_matches():
    target, output = np.zeros((1, 4, 4, 3), "float32"), np.ones((1, 4, 4, 3), "float32")
    with pytest.warns(DeprecationWarning, match="reconstruction_l1"):
        old = losses.masked_l1(target, output)
    np.testing.assert_allclose(old, losses.reconstruction_l1(target, output))


def test_oasis_class_weights_balance_present_classes_and_drop_ignore():
    landcover = np.array([[[0, 0, 0, 1], [IGNORE, 0, 0, 1]]], "int32")  # 0: 5 px, 1: 2 px, 2: none
    weights = keras.ops.convert_to_numpy(losses.oasis_class_weights(landcover, 3))
    n = 7  # annotated pixels; two classes present
    np.testing.assert_allclose(weights[0, 0], [n / 10, n / 10, n / 10, n / 4], rtol=1e-6)
    assert weights[0, 1, 0] == 0.0
    np.testing.assert_allclose(weights.sum(), n, rtol=1e-6)  # averages to 1 over annotated pixels


def test_oasis_loss_targets_the_class_on_real_and_the_fake_class_on_generated_pixels():
    landcover = np.array([[[0, 1], [1, IGNORE]]], "int32")
    logits = np.zeros((1, 2, 2, 3), "float32")  # K = 2 classes + "fake"
    logits[0, 0, 0, 0] = logits[0, 0, 1, 1] = logits[0, 1, 0, 1] = 10.0  # confident and right
    real = keras.ops.convert_to_numpy(losses.oasis_loss(landcover, logits, real=True))
    assert real[0] < 1e-3
    uniform = np.zeros((1, 2, 2, 3), "float32")
    region = np.array([[[1, 0], [0, 0]]], "float32")
    fake = keras.ops.convert_to_numpy(losses.oasis_loss(landcover, uniform, real=False, region=region))
    np.testing.assert_allclose(fake, [np.log(3.0)], rtol=1e-5)  # one pixel, uniform over 3
    hot = uniform.copy()
    hot[0, 1, 1, 2] = 10.0  # outside the region: does not count
    np.testing.assert_allclose(keras.ops.convert_to_numpy(
        losses.oasis_loss(landcover, hot, real=False, region=region)), fake, rtol=1e-6)
    # the real target weighs each class alike: 0 (1 px, weight 1.5) and 1 (2 px, weight 0.75)
    per_class = keras.ops.convert_to_numpy(losses.oasis_loss(landcover, uniform, real=True))
    np.testing.assert_allclose(per_class, [np.log(3.0) * (1.5 + 0.75 * 2) / 4], rtol=1e-5)


def test_feature_matching_is_l1_per_layer_and_passes_no_gradient_to_real():
    import tensorflow as tf

    real = [tf.zeros((2, 4, 4, 3)), tf.zeros((2, 2, 2, 5))]
    fake = [tf.Variable(tf.ones((2, 4, 4, 3))), tf.Variable(tf.fill((2, 2, 2, 5), 3.0))]
    real_var = [tf.Variable(r) for r in real]
    with tf.GradientTape() as tape:
        loss = losses.feature_matching_loss(real_var, fake)
    np.testing.assert_allclose(loss.numpy(), [2.0, 2.0])  # (1 + 3) / 2
    grads = tape.gradient(loss, real_var + fake)
    assert grads[0] is None and grads[1] is None and grads[2] is not None
    with pytest.raises(ValueError, match="same, non-zero length"):
        losses.feature_matching_loss(real, fake[:1])


def test_seam_loss_is_the_mean_step_across_the_mask_edge_only():
    # A 4x4 image, mask on the right half: the edge pairs are the 4 horizontal pairs between
    # columns 1 and 2. Steps inside the mask (column 2 -> 3) and outside it do not count.
    image = np.zeros((2, 4, 4, 3), "float32")
    image[0, :, 2] = 0.5  # every edge pair steps by 0.5
    image[0, :, 3] = -1.0  # texture inside: free
    image[0, :, 0] = 1.0  # outside: free
    image[1, 0, 2] = 0.8  # one of four edge pairs steps by 0.8
    mask = np.zeros((2, 4, 4, 1), "float32")
    mask[:, :, 2:] = 1.0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(losses.seam_loss(image, mask)),
                               [0.5, 0.2], rtol=1e-6)


def test_seam_loss_counts_vertical_pairs_and_is_zero_without_an_edge():
    image = np.zeros((2, 4, 4, 3), "float32")
    image[:, 2:] = 0.4  # the bottom half: an edge between rows 1 and 2
    mask = np.zeros((2, 4, 4, 1), "float32")
    mask[0, 2:] = 1.0  # example 0: the bottom half is the generated region
    mask[1] = 1.0  # example 1: all generated, no edge
    np.testing.assert_allclose(keras.ops.convert_to_numpy(losses.seam_loss(image, mask)),
                               [0.4, 0.0], atol=1e-7)


def test_low_frequency_l1_sees_a_colour_shift_but_not_zero_mean_texture():
    target = np.zeros((3, 16, 16, 3), "float32")
    mask = np.zeros((3, 16, 16, 1), "float32")
    mask[:, :8, :8] = 1.0  # one 8x8 block
    shifted, textured, outside = target.copy(), target.copy(), target.copy()
    shifted[0, :8, :8] = 0.5  # a colour cast inside the mask
    textured[1, :8:2, :8], textured[1, 1:8:2, :8] = 0.5, -0.5  # stripes averaging to 0
    outside[2, 8:, 8:] = 1.0  # an error outside the mask does not count
    output = shifted + textured + outside
    got = keras.ops.convert_to_numpy(losses.low_frequency_l1(target, output, mask, 8))
    np.testing.assert_allclose(got, [0.5, 0.0, 0.0], atol=1e-6)
    plain = keras.ops.convert_to_numpy(losses.low_frequency_l1(target, output, mask, 1))
    np.testing.assert_allclose(plain, [0.5, 0.5, 0.0], atol=1e-6)  # size 1: the masked L1


def test_low_frequency_l1_weighs_blocks_by_their_share_of_the_mask():
    target = np.zeros((1, 8, 8, 3), "float32")
    output = np.zeros((1, 8, 8, 3), "float32")
    output[0, :4, :4] = 0.4  # block 0: error 0.4, fully masked
    output[0, :4, 4:] = 0.8  # block 1: error 0.8, a quarter masked
    mask = np.zeros((1, 8, 8, 1), "float32")
    mask[0, :4, :4] = 1.0
    mask[0, :2, 4:6] = 1.0
    got = keras.ops.convert_to_numpy(losses.low_frequency_l1(target, output, mask, 4))
    np.testing.assert_allclose(got, [(0.4 * 1.0 + 0.8 * 0.25) / 1.25], rtol=1e-6)
    empty = keras.ops.convert_to_numpy(losses.low_frequency_l1(target, output, 0 * mask, 4))
    np.testing.assert_allclose(empty, [0.0])


def test_chroma_l1_sees_a_colour_cast_but_not_a_brightness_change():
    target = np.zeros((3, 8, 8, 3), "float32")
    mask = np.zeros((3, 8, 8, 1), "float32")
    mask[:, :4] = 1.0
    output = target.copy()
    output[0, :4] += 0.3  # brighter grey inside: no hue change
    output[1, :4, :, 2] += 0.3  # a blue cast inside: Cb +0.2658, Cr -0.0342
    output[2, 4:, :, 0] += 0.5  # a red cast outside the mask only
    got = keras.ops.convert_to_numpy(losses.chroma_l1(target, output, mask))
    np.testing.assert_allclose(got, [0.0, 0.15, 0.0], atol=1e-6)


def test_ssim_loss_penalises_grain_on_smooth_ground_and_a_flat_fill_on_texture():
    rng = np.random.default_rng(0)
    smooth = np.full((1, 32, 32, 3), 0.2, "float32")
    textured = rng.uniform(-0.5, 0.5, (1, 32, 32, 3)).astype("float32")
    target = np.concatenate([smooth, textured, textured])
    mask = np.zeros((3, 32, 32, 1), "float32")
    mask[:, 4:16, 4:16] = 1.0
    output = target.copy()
    output[0, 4:16, 4:16] += rng.uniform(-0.3, 0.3, (12, 12, 3))  # grain on smooth ground
    output[1, 4:16, 4:16] = 0.0  # a flat fill where the ground has texture
    output[2, 27:, 27:] = 1.0  # an error no 11x11 window touching the mask reaches
    got = keras.ops.convert_to_numpy(losses.ssim_loss(target, output, mask))
    assert got[0] > 0.3 and got[1] > 0.3 and abs(got[2]) < 1e-6
    expected = 1.0 - metrics.masked_ssim(target, output, mask).numpy()  # the evaluation's measure
    np.testing.assert_allclose(got, expected, atol=1e-5)
    empty = keras.ops.convert_to_numpy(losses.ssim_loss(target, output, 0 * mask))
    np.testing.assert_allclose(empty, [0.0, 0.0, 0.0])


def test_texture_energy_l1_sees_blur_grain_and_colour_speckle_but_not_the_layout():
    rng = np.random.default_rng(0)
    brightness = rng.normal(0.0, 0.1, (4, 32, 32, 1)).astype("float32")
    target = 0.2 + np.repeat(brightness, 3, axis=-1)  # grey texture: luma only
    mask = np.zeros((4, 32, 32, 1), "float32")
    mask[:, 8:24, 8:24] = 1.0
    inside = (slice(None), slice(8, 24), slice(8, 24))
    output = target.copy()
    output[0][inside[1:]] = 0.2  # blur: no texture
    output[1][inside[1:]] += rng.normal(0.0, 0.1, (16, 16, 3))  # colour speckle on top
    output[2][inside[1:]] = np.roll(target[2][inside[1:]], 5, axis=0)  # same texture, moved
    output[3, :4] = 1.0  # a change far outside the mask
    got = keras.ops.convert_to_numpy(losses.texture_energy_l1(target, output, mask))
    assert got[0] > 0.02 and got[1] > 0.02  # blur and speckle pay
    assert got[2] < 0.2 * got[0] and abs(got[3]) < 1e-6  # the layout and the outside do not
    chroma_only = keras.ops.convert_to_numpy(losses.texture_energy_l1(
        target[1:2], target[1:2] + (output[1:2] - target[1:2]) * [1.0, 0.0, 0.0], mask[1:2]))
    assert chroma_only[0] > 0.01  # red-only speckle is a chroma energy
    empty = keras.ops.convert_to_numpy(losses.texture_energy_l1(target, output, 0 * mask))
    np.testing.assert_allclose(empty, 0.0, atol=1e-6)
