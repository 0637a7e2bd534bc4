"""The recipe options of issue 11: OASIS, feature matching, local + global, mask input, generators."""

import argparse
import json
import math

import keras
import numpy as np
import pytest
from helpers import random_inputs
from train_helpers import CLASSES, SIZE, ready_dataset, tiny_gan

from lcgan.cli import add_train_arguments, config_from_args
from lcgan.training.config import GENERATORS, TrainConfig
from lcgan.training.gan import LandcoverGAN
from lcgan.training.recipes import build_gan, build_networks


def _config(task, **options):
    return TrainConfig.for_task(task, image_size=SIZE, width=4, vgg_weights="none", **options)


@pytest.mark.parametrize("task", ["mixlc", "inpaint"])
@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("mask_input", [False, True])
def test_every_generator_builds_for_both_tasks_without_transposed_convs(task, generator, mask_input):
    model, _ = build_networks(_config(task, generator=generator, mask_input=mask_input), CLASSES)
    assert ("mask" in [t.name for t in model.inputs]) == mask_input
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in model.layers)


def test_mask_input_blanks_the_square_and_composites_the_output():
    # without noise: two calls must differ only if the square's rgb were seen (noise: test_noise.py)
    model, _ = build_networks(_config("mixlc", mask_input=True, noise_channels=0), CLASSES)
    inputs = random_inputs(model, batch=2)
    changed = dict(inputs, rgb=np.where(inputs["mask"] > 0, -inputs["rgb"], inputs["rgb"]))
    out, out_changed = (keras.ops.convert_to_numpy(model(x)) for x in (inputs, changed))
    outside = np.broadcast_to(inputs["mask"] == 0, out.shape)
    np.testing.assert_array_equal(out[outside], inputs["rgb"][outside])  # composited
    np.testing.assert_allclose(out, out_changed, atol=1e-6)  # the square's rgb is never seen


def test_dilated_convolutions_are_in_the_landcover_branch_only():
    model, _ = build_networks(_config("mixlc", generator="dual_branch", dilated=True), CLASSES)
    dilated = [layer.name for layer in model.layers if "dilated_conv" in layer.name]
    assert dilated and all(name.startswith("landcover_down") for name in dilated)
    plain, _ = build_networks(_config("mixlc", generator="dual_branch", dilated=False), CLASSES)
    assert not any("dilated_conv" in layer.name for layer in plain.layers)


@pytest.mark.parametrize("task,options,extra", [  # one train step each (tracing dominates)
    ("mixlc", dict(discriminator="oasis", mask_input=True, feature_matching_weight=10.0),
     ["g_fm", "g_texture"]),  # the Mix LC recipe's texture term
    ("inpaint", dict(generator="unet", discriminator="local_global", feature_matching_weight=10.0),
     ["g_fm", "g_seam", "g_low"]),  # the inpaint recipe's seam and low-frequency terms
])
def test_recipe_options_train_with_finite_reported_terms(task, options, extra):
    gan = build_gan(_config(task, **options), CLASSES)
    history = gan.fit(ready_dataset(task, count=4), epochs=1, verbose=0).history  # one step
    assert sorted(history) == sorted(["d_fake", "d_loss", "d_real", "g_gan", "g_l1", "g_loss", *extra])
    assert all(math.isfinite(values[-1]) for values in history.values())
    if "g_fm" in extra:
        assert history["g_fm"][-1] > 0


def test_oasis_fake_class_applies_to_generated_pixels_only():
    gan = build_gan(_config("inpaint", discriminator="oasis"), CLASSES)  # composited output
    batch = next(iter(ready_dataset("inpaint")))
    fake, real_out, fake_out = gan._forward(batch, training=False)
    generated = keras.ops.convert_to_numpy(fake_out["generated"])
    assert generated.max() == 1.0
    assert np.all(generated <= keras.ops.convert_to_numpy(batch["mask"])[..., 0])  # copied pixels are real
    assert tuple(fake_out["segmentation"].shape) == (4, SIZE, SIZE, CLASSES + 1)
    assert fake_out["scores"].shape[-1] == 1


def test_feature_matching_needs_a_features_output():
    generator, discriminator = build_networks(_config("mixlc", feature_matching_weight=0.0), CLASSES)
    with pytest.raises(ValueError, match="`feature_matching_weight` is 1.0 .* no 'features' output"):
        LandcoverGAN(generator, discriminator, feature_matching_weight=1.0)


def test_acgan_weight_is_left_out_for_discriminators_without_a_class_head():
    gan = build_gan(_config("inpaint", discriminator="patch"), CLASSES)
    assert gan.loss_weights["acgan_weight"] == 0.0 and not gan.acgan


def test_train_flags_follow_the_config_fields():
    parser = add_train_arguments(argparse.ArgumentParser(), "inpaint")
    args = parser.parse_args(["--discriminator", "oasis", "--generator", "unet", "--no-mask-input",
                              "--feature-matching-weight", "5", "--upsample", "transpose"])
    config = config_from_args(args)
    assert (config.discriminator, config.generator, config.mask_input) == ("oasis", "unet", False)
    assert (config.feature_matching_weight, config.upsample, config.dilated) == (5.0, "transpose", True)
    with pytest.raises(SystemExit):
        parser.parse_args(["--discriminator", "wgan"])


@pytest.mark.parametrize("field,value", [("generator", "resnet"), ("discriminator", "wgan"),
                                         ("upsample", "nearest"), ("feature_matching_weight", -1.0)])
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"`{field}`"):
        TrainConfig.for_task("mixlc", **{field: value})


def test_old_config_files_load_the_networks_they_were_trained_with(tmp_path):
    path = tmp_path / "config.json"
    TrainConfig.for_task("inpaint").save(path)
    older = {k: v for k, v in json.loads(path.read_text()).items()
             if k not in ("generator", "discriminator", "mask_input", "dilated", "upsample",
                          "feature_matching_weight")}
    path.write_text(json.dumps(older))
    loaded = TrainConfig.load(path)
    assert (loaded.generator, loaded.discriminator, loaded.upsample) == ("dual_branch", "acgan", "transpose")
    assert loaded.differences(TrainConfig.for_task("inpaint")) == {
        "discriminator": ("acgan", "oasis"), "upsample": ("transpose", "resize"),
        "feature_matching_weight": (0.0, 10.0)}


def test_an_old_cycle_config_file_loads_without_the_consistency_margin(tmp_path):
    path = tmp_path / "config.json"
    TrainConfig.for_task("cycle", consistency_margin=3, consistency_balanced=True).save(path)
    older = {k: v for k, v in json.loads(path.read_text()).items()
             if k not in ("consistency_margin", "consistency_balanced")}
    path.write_text(json.dumps(older))
    assert TrainConfig.load(path).consistency_margin == 0  # what it was trained with
    assert TrainConfig.load(path).consistency_balanced is False
    with pytest.raises(ValueError, match="consistency_balanced"):
        TrainConfig.for_task("inpaint", consistency_balanced=True)


def test_seam_weight_adds_the_seam_term_and_old_config_files_load_without_it(tmp_path):
    gan = tiny_gan("inpaint", seam_weight=2.0)
    history = gan.fit(ready_dataset("inpaint"), epochs=1, verbose=0).history
    assert "g_seam" in history and np.isfinite(history["g_seam"][-1])
    assert "g_seam" not in tiny_gan("inpaint").train_metric_names
    path = tmp_path / "config.json"
    TrainConfig.for_task("cycle", seam_weight=3.0).save(path)
    older = {k: v for k, v in json.loads(path.read_text()).items() if k != "seam_weight"}
    path.write_text(json.dumps(older))
    assert TrainConfig.load(path).seam_weight == 0.0
    with pytest.raises(ValueError, match="seam_weight"):
        TrainConfig.for_task("mixlc", seam_weight=-1.0)


def test_the_pixel_statistics_terms_add_their_metrics_and_old_configs_load_without(
        tmp_path):
    gan = tiny_gan("inpaint", low_frequency_weight=10.0, low_frequency_size=4, chroma_weight=5.0,
                   ssim_weight=3.0, texture_weight=10.0)
    history = gan.fit(ready_dataset("inpaint"), epochs=1, verbose=0).history
    for name in ("g_low", "g_chroma", "g_ssim", "g_texture"):
        assert name in history and np.isfinite(history[name][-1])
        assert name not in tiny_gan("inpaint").train_metric_names
    path = tmp_path / "config.json"
    TrainConfig.for_task("mixlc", low_frequency_weight=3.0, chroma_weight=2.0,
                         ssim_weight=1.0, texture_weight=1.0, class_colors=True).save(path)
    newer = ("chroma_weight", "ssim_weight", "texture_weight", "class_colors")
    older = {k: v for k, v in json.loads(path.read_text()).items()
             if not k.startswith("low_frequency") and k not in newer}
    path.write_text(json.dumps(older))
    for name in ("low_frequency_weight", "chroma_weight", "ssim_weight", "texture_weight",
                 "class_colors"):
        assert not getattr(TrainConfig.load(path), name)
    with pytest.raises(ValueError, match="ssim_weight"):
        TrainConfig.for_task("inpaint", ssim_weight=-1.0)
    with pytest.raises(ValueError, match="low_frequency_size"):
        TrainConfig.for_task("mixlc", low_frequency_size=0)
    with pytest.raises(ValueError, match="low_frequency_size"):
        LandcoverGAN(gan.generator, gan.discriminator, low_frequency_size=2.5)
