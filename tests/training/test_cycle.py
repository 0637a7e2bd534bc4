"""Tests of CycleEditGAN (unpaired landcover editing) and its consistency loss."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from lcgan.data.samples import build_samples, sample_builder
from lcgan.models import acgan_discriminator, dual_branch_generator, patch_discriminator
from lcgan.models.segmenter import segmenter
from lcgan.training import losses
from lcgan.training.cycle import CycleEditGAN
from train_helpers import CLASSES, SIZE, raw_batch

TRAIN = ["d_acgan", "d_fake", "d_loss", "d_real", "g_acgan", "g_consistency", "g_cycle_fm",
         "g_cycle_l1", "g_gan", "g_loss"]


@pytest.fixture(scope="module")
def trained_segmenter():
    """A width-4 segmenter fitted to blocky tiles of the training palette (raw_batch's seed 0)."""
    keras.utils.set_random_seed(0)
    model = segmenter(image_size=SIZE, num_classes=CLASSES, width=4, depth=2)
    tiles = raw_batch(32, seed=0)
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit({"rgb": tiles["rgb"]}, tiles["landcover"], batch_size=8, epochs=15, verbose=0)
    return model


def cycle_dataset(count=8, batch_size=4, seed=0):
    ready = build_samples(raw_batch(count, seed=seed), task="cycle", num_classes=CLASSES,
                          seed=seed, edit_size=(8, 16))
    return tf.data.Dataset.from_tensor_slices(ready).batch(batch_size, drop_remainder=True)


def tiny_cycle_gan(seg, *, discriminator="acgan", features=False, **options):
    keras.utils.set_random_seed(0)
    shape = dict(image_size=SIZE, num_classes=CLASSES, width=4)
    generator = dual_branch_generator(**shape, dropout=0.0, use_mask=True, composite=True)
    build = acgan_discriminator if discriminator == "acgan" else patch_discriminator
    if discriminator == "acgan":
        options.setdefault("acgan_weight", 1.0)
    gan = CycleEditGAN(generator, build(**shape, depth=3, features=features), seg, seed=0,
                       **options)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5))
    return gan


def shift_generator():
    """Composited generator ``rgb + 0.5 * mask``: the cycle of an edit shows whether the cycle
    saw the edited pixels (1.0 inside) or a blanked image (0.5)."""
    inputs = {"rgb": keras.Input((SIZE, SIZE, 3), name="rgb"),
              "landcover_onehot": keras.Input((SIZE, SIZE, CLASSES), name="landcover_onehot"),
              "mask": keras.Input((SIZE, SIZE, 1), name="mask")}
    shifted = keras.layers.Add()([inputs["rgb"], keras.layers.Rescaling(0.5)(inputs["mask"])])
    return keras.Model(inputs, shifted, name="shift")


def test_consistency_loss_on_hand_made_logits():
    requested = np.array([[[0, 1], [2, -1]]])  # (1, 2, 2); -1 = IGNORE
    mask = np.array([[[[1.0], [1.0]], [[0.0], [1.0]]]])  # (1, 2, 2, 1)
    right = 20.0 * np.eye(CLASSES)[np.maximum(requested, 0)]  # confident and right everywhere
    wrong = 20.0 * np.eye(CLASSES)[(np.maximum(requested, 0) + 1) % CLASSES]
    assert float(losses.consistency_loss(requested, right, mask)[0]) < 1e-6
    # Two masked annotated pixels, each off by a logit gap of 20: cross-entropy ~20 each.
    assert float(losses.consistency_loss(requested, wrong, mask)[0]) == pytest.approx(20.0, abs=1e-3)
    mixed = wrong.copy()
    mixed[0, 1, 0] = right[0, 1, 0]  # the unmasked pixel is right: it does not count
    mixed[0, 0, 1] = right[0, 0, 1]
    assert float(losses.consistency_loss(requested, mixed, mask)[0]) == pytest.approx(10.0, abs=1e-3)
    assert float(losses.consistency_loss(requested, wrong, np.zeros_like(mask))[0]) == 0.0


def test_erode_mask_drops_the_band_next_to_unmasked_pixels_but_not_the_image_border():
    mask = np.zeros((3, 8, 8, 1), np.float32)
    mask[0, 1:7, 1:7] = 1  # a 6x6 square inside the image
    mask[1, :4, :4] = 1  # a 4x4 square in the corner
    mask[2, 3, :] = 1  # a one-pixel line: all of it lies within the margin
    eroded = np.asarray(losses.erode_mask(mask, 1))[..., 0]
    expected = np.zeros((3, 8, 8))
    expected[0, 2:6, 2:6] = 1
    expected[1, :3, :3] = 1  # the image border is not an edge
    expected[2] = mask[2, ..., 0]  # nothing would be left: the example keeps its mask
    np.testing.assert_array_equal(eroded, expected)
    np.testing.assert_array_equal(np.asarray(losses.erode_mask(mask, 0)), mask)


def test_the_consistency_margin_leaves_out_the_edge_of_the_edit():
    requested = np.ones((1, 8, 8), np.int64)
    mask = np.zeros((1, 8, 8, 1), np.float32)
    mask[0, 1:7, 1:7] = 1
    logits = 20.0 * np.eye(CLASSES)[requested]  # right in the middle ...
    logits[0, 1, 1:7] = 20.0 * np.eye(CLASSES)[0]  # ... wrong along the top row of the edit
    assert float(losses.consistency_loss(requested, logits, mask)[0]) == pytest.approx(
        20.0 * 6 / 36, abs=1e-3)
    assert float(losses.consistency_loss(requested, logits, mask, margin=1)[0]) < 1e-6


def test_the_balanced_consistency_weighs_each_requested_class_alike():
    requested = np.zeros((2, 8, 8), np.int64)
    requested[0, :2, :2] = 1  # class 1: 4 of the 128 edited pixels, all misread
    mask = np.ones((2, 8, 8, 1), np.float32)
    mask[1, 4:] = 0  # the second example's bottom half is not edited
    logits = 20.0 * np.eye(CLASSES)[np.zeros_like(requested)]  # everything read as class 0
    plain = keras.ops.convert_to_numpy(losses.consistency_loss(requested, logits, mask))
    balanced = keras.ops.convert_to_numpy(
        losses.consistency_loss(requested, logits, mask, balanced=True))
    np.testing.assert_allclose(plain, [20.0 * 4 / 64, 0.0], atol=1e-3)
    # 96 edited pixels, 2 classes: class 1 weighs 96 / (2 * 4) = 12 per pixel
    np.testing.assert_allclose(balanced, [20.0 * 4 * 12 / 64, 0.0], rtol=1e-4, atol=1e-3)


def test_the_balanced_consistency_option_reaches_the_term(trained_segmenter):
    batch = next(iter(cycle_dataset()))
    terms = {}
    for balanced in (False, True):
        gan = tiny_cycle_gan(trained_segmenter, consistency_balanced=balanced)
        edited, real_out, fake_out = gan._forward(batch, training=False)
        terms[balanced] = keras.ops.convert_to_numpy(
            gan._generator_terms(batch, edited, real_out, fake_out)["g_consistency"])
        expected = losses.consistency_loss(batch["landcover"], fake_out["segmenter_logits"],
                                           batch["mask"], balanced=balanced)
        np.testing.assert_allclose(terms[balanced], keras.ops.convert_to_numpy(expected),
                                   rtol=1e-5)
    assert not np.allclose(terms[False], terms[True])


def test_the_cycle_sees_the_edited_pixels_and_reconstructs_the_original(trained_segmenter):
    gan = CycleEditGAN(shift_generator(), patch_discriminator(image_size=SIZE, num_classes=CLASSES,
                                                              width=4, depth=3),
                       trained_segmenter, cycle_weight=10.0, consistency_weight=0.0,
                       gan_weight=0.0, ema_decay=None)
    batch = next(iter(cycle_dataset()))
    edited, real_out, fake_out = gan._forward(batch, training=False)
    mask = batch["mask"].numpy()
    np.testing.assert_allclose(edited.numpy(), batch["rgb"].numpy() + 0.5 * mask, atol=1e-6)
    cycled = fake_out["cycled"].numpy()
    np.testing.assert_allclose(cycled, batch["rgb"].numpy() + 1.0 * mask, atol=1e-6)
    terms = gan._generator_terms(batch, edited, real_out, fake_out)
    error = np.abs(batch["target"].numpy() - cycled)  # zero outside the mask
    np.testing.assert_allclose(terms["g_cycle_l1"].numpy(), error.mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(terms["g_loss"].numpy(), 10.0 * error.mean(axis=(1, 2, 3)),
                               rtol=1e-5)


def test_real_images_are_judged_with_the_landcover_before_the_edit(trained_segmenter):
    gan = tiny_cycle_gan(trained_segmenter)
    batch = next(iter(cycle_dataset()))
    edited, real_out, fake_out = gan._forward(batch, training=False)
    terms = gan._discriminator_terms(batch, real_out, fake_out)
    expected = losses.acgan_loss(batch["landcover_before"], real_out["classes"])
    np.testing.assert_allclose(terms["d_acgan"].numpy(), expected.numpy(), rtol=1e-6)
    g_terms = gan._generator_terms(batch, edited, real_out, fake_out)
    np.testing.assert_allclose(g_terms["g_acgan"].numpy(),
                               losses.acgan_loss(batch["landcover"], fake_out["classes"]).numpy(),
                               rtol=1e-6)


@pytest.fixture(scope="module")
def training_run(trained_segmenter):
    """One short run on raw batches (samples built in the step) with every optional term:
    ACGAN, cycle feature matching; its scores before and after, and its history."""
    builder = sample_builder("cycle", num_classes=CLASSES, edit_size=(8, 16))
    gan = tiny_cycle_gan(trained_segmenter, features=True, feature_matching_weight=1.0,
                         consistency_weight=5.0, sample_builder=builder)
    raw = tf.data.Dataset.from_tensor_slices(raw_batch(16)).batch(8, drop_remainder=True)
    before = gan.evaluate(raw, verbose=0, return_dict=True)
    history = gan.fit(raw.repeat(), epochs=2, steps_per_epoch=40, verbose=0).history
    return gan, before, history, gan.evaluate(raw, verbose=0, return_dict=True)


def test_fit_and_evaluate_report_stable_finite_metrics(training_run, trained_segmenter):
    gan, before, history, after = training_run
    assert sorted(history) == TRAIN
    assert all(math.isfinite(values[-1]) for values in history.values())
    assert sorted(after) == sorted(TRAIN + ["cycle_l1", "edit_acc"])
    assert 0.0 <= after["edit_acc"] <= 1.0 and 0.0 <= after["cycle_l1"] <= 1.0
    assert history["g_cycle_fm"][0] > 0
    assert not any(w.trainable for w in trained_segmenter.weights)
    assert int(gan.g_optimizer.iterations.numpy()) == 80


def test_training_lowers_the_consistency_loss(training_run):
    _, before, history, after = training_run
    assert after["g_consistency"] < 0.6 * before["g_consistency"]
    assert after["edit_acc"] > before["edit_acc"] + 0.2


def test_the_seam_term_is_taken_on_the_edit(trained_segmenter):
    gan = tiny_cycle_gan(trained_segmenter, seam_weight=2.0)
    batch = next(iter(cycle_dataset()))
    edited, real_out, fake_out = gan._forward(batch, training=False)
    terms = gan._generator_terms(batch, edited, real_out, fake_out)
    expected = keras.ops.convert_to_numpy(losses.seam_loss(edited, batch["mask"]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(terms["g_seam"]), expected, rtol=1e-5)
    assert "g_seam" in gan.train_metric_names and np.all(expected > 0)


@pytest.mark.parametrize("options, name, loss", [
    (dict(low_frequency_weight=1.0, low_frequency_size=4), "low",
     lambda target, output, mask: losses.low_frequency_l1(target, output, mask, 4)),
    (dict(ssim_weight=1.0), "ssim", losses.ssim_loss),
    (dict(texture_weight=1.0), "texture", losses.texture_energy_l1)])
def test_the_pixel_statistics_terms_compare_the_cycle_with_the_original(
        trained_segmenter, options, name, loss):
    gan = tiny_cycle_gan(trained_segmenter, **options)
    assert f"g_cycle_{name}" in gan.train_metric_names
    assert f"g_{name}" not in gan.train_metric_names
    batch = next(iter(cycle_dataset()))
    edited, real_out, fake_out = gan._forward(batch, training=False)
    terms = gan._generator_terms(batch, edited, real_out, fake_out)
    expected = loss(batch["target"], fake_out["cycled"], batch["mask"])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(terms[f"g_cycle_{name}"]),
                               keras.ops.convert_to_numpy(expected), rtol=1e-5)


def test_bad_arguments_are_named(trained_segmenter):
    shape = dict(image_size=SIZE, num_classes=CLASSES, width=4)
    disc = patch_discriminator(**shape, depth=3)
    masked = dual_branch_generator(**shape, use_mask=True, composite=True)
    with pytest.raises(ValueError, match="cycle_weight"):
        CycleEditGAN(masked, disc, trained_segmenter, l1_weight=1.0)
    with pytest.raises(ValueError, match="'mask' input"):
        CycleEditGAN(dual_branch_generator(**shape), disc, trained_segmenter)
    with pytest.raises(ValueError, match="predicts 3 classes"):
        CycleEditGAN(masked, disc, segmenter(image_size=SIZE, num_classes=3, width=4, depth=2))
    with pytest.raises(ValueError, match="consistency_weight"):
        CycleEditGAN(masked, disc, trained_segmenter, consistency_weight=-1.0)
    for margin in (-1, 1.5, True):
        with pytest.raises(ValueError, match="consistency_margin"):
            CycleEditGAN(masked, disc, trained_segmenter, consistency_margin=margin)


def test_a_cycle_export_edits_a_geotiff_from_the_blanked_changed_area(geotiff_pair, tmp_path):
    from lcgan.data import raster
    from lcgan.data.legend import Legend
    from lcgan.scenes.export import export_generator, load_generator
    from lcgan.scenes.inference import edit_scene

    legend = Legend([f"c{i}" for i in range(CLASSES)], [(40 * i, 0, 0) for i in range(CLASSES)])
    path = export_generator(shift_generator(), tmp_path / "export", legend=legend, task="cycle",
                            image_size=SIZE)
    assert load_generator(path).takes_mask
    scene = geotiff_pair(height=48, width=40, num_classes=CLASSES)
    edited = scene.landcover.copy()
    edited[10:20, 5:15] = (edited[10:20, 5:15] + 1) % CLASSES
    edited_path = tmp_path / "edited.tif"
    raster.write_geotiff(edited_path, edited, crs=scene.crs, transform=scene.transform)
    out = edit_scene(path, scene.rgb_path, edited_path, tmp_path / "out.tif",
                     original_landcover_path=scene.landcover_path, window=SIZE, overlap=8,
                     grow=0, progress=False)
    with raster.RasterReader(out) as src:
        result = np.asarray(src.read(0, 0, 48, 40))  # (3, H, W)
    inside = np.zeros(edited.shape, bool)
    inside[10:20, 5:15] = True
    np.testing.assert_array_equal(result[:, ~inside], scene.rgb[:, ~inside])
    # Blanked to 0.0 (grey) before the model adds 0.5 inside the mask: 0.5 -> uint8 191.
    np.testing.assert_array_equal(result[:, inside], 191)


@pytest.mark.slow
def test_the_example_trains_exports_and_reports_an_edit(tmp_path, monkeypatch, capsys):
    import os
    import runpy
    import sys

    from lcgan.data.legend import sample_legend

    keras.utils.set_random_seed(0)
    seg_path = tmp_path / "segmenter.keras"
    segmenter(image_size=None, num_classes=sample_legend().num_classes, width=4,
              depth=2).save(seg_path)
    script = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "train_cycle_edit.py")
    monkeypatch.setattr(sys, "argv", [script, "--image-size", "32", "--batch-size", "2",
                                      "--steps-per-epoch", "2", "--width", "4", "--epochs", "1",
                                      "--segmenter", str(seg_path), "--out", str(tmp_path / "run")])
    done = runpy.run_path(script, run_name="__main__")
    printed = capsys.readouterr().out
    assert "read as the requested class" in printed
    assert (tmp_path / "run" / "export" / "saved_model.pb").exists()
    assert (tmp_path / "run" / "gen_1.png").exists()
    assert done["generated"].shape == (2, 32, 32, 3)


def test_mixed_bfloat16_cycle_steps_are_finite_with_a_float32_segmenter(trained_segmenter):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = tiny_cycle_gan(trained_segmenter)
        assert gan.generator.compute_dtype == "bfloat16"
        history = gan.fit(cycle_dataset(count=4), epochs=1, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(math.isfinite(values[-1]) for values in history.values())


def test_lcgan_train_task_cycle_flags_give_the_cycle_recipe():
    import argparse

    from lcgan.cli import _train_arguments, config_from_args
    from lcgan.training.config import TrainConfig

    argv = ["--task", "cycle", "--segmenter", "seg.keras", "--consistency-weight", "2",
            "--consistency-margin", "2"]
    parser = argparse.ArgumentParser(conflict_handler="resolve")
    _train_arguments(parser, argv)
    config = config_from_args(parser.parse_args(argv))
    assert config == TrainConfig.for_task("cycle", segmenter="seg.keras", consistency_weight=2.0,
                                          consistency_margin=2)
    assert config.mask_input and config.l1_weight == 10.0
    with pytest.raises(ValueError, match="task 'cycle' only"):
        TrainConfig.for_task("mixlc", segmenter="seg.keras")
    with pytest.raises(ValueError, match="task 'cycle' only"):
        TrainConfig.for_task("inpaint", consistency_margin=2)
    with pytest.raises(ValueError, match="consistency_margin"):
        TrainConfig.for_task("cycle", consistency_margin=-1)
    with pytest.raises(ValueError, match="mask_input"):
        TrainConfig.for_task("cycle", mask_input=False)
