"""Generator noise (``noise_channels``): texture latent inside the mask, reproducible, exportable."""

import json

import keras
import numpy as np
import pytest
from helpers import export_and_run_at_another_size, random_inputs
from train_helpers import CLASSES, SIZE, ready_dataset

from lcgan.models import dual_branch_generator, unet_generator
from lcgan.models.blocks import SpatialNoise
from lcgan.training.config import TrainConfig
from lcgan.training.ema import ema_copy, update_ema
from lcgan.training.recipes import build_gan

BUILDERS = [unet_generator, dual_branch_generator]
MASKING = dict(use_mask=True, blank_input=True, composite=True)


def _numpy(model, inputs):
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def _counter(model):
    return [int(w.numpy()) for w in model.weights if w.path.endswith("calls")]


@pytest.mark.parametrize("build", BUILDERS)
def test_noise_changes_the_masked_pixels_only_and_is_new_on_every_call(build):
    model = build(image_size=32, num_classes=4, width=4, noise_channels=4, **MASKING)
    inputs = random_inputs(model, batch=2)
    first, second = _numpy(model, inputs), _numpy(model, inputs)
    inside = np.broadcast_to(inputs["mask"] > 0, first.shape)
    assert np.abs(first - second)[inside].mean() > 1e-3  # a new draw: another texture
    np.testing.assert_array_equal(first[~inside], second[~inside])  # the context is kept
    assert _counter(model) == [2]


def test_a_generator_without_noise_is_deterministic():
    model = unet_generator(image_size=32, num_classes=4, width=4, **MASKING)
    inputs = random_inputs(model, batch=2)
    np.testing.assert_array_equal(_numpy(model, inputs), _numpy(model, inputs))
    assert not any(isinstance(layer, SpatialNoise) for layer in model.layers)


def test_without_a_mask_the_noise_covers_the_whole_image():
    layer = SpatialNoise(3, seed=5)
    noise = keras.ops.convert_to_numpy(layer(np.zeros((2, 8, 6, 1), "float32")))
    assert noise.shape == (2, 8, 6, 3)
    assert abs(noise.mean()) < 0.3 and 0.7 < noise.std() < 1.3  # standard normal, everywhere
    assert (noise != 0).all()


def test_the_same_seed_and_count_draw_the_same_noise_and_the_count_moves_on():
    a, b = SpatialNoise(2, seed=7), SpatialNoise(2, seed=7)
    x = np.zeros((1, 4, 4, 1), "float32")
    first_a, first_b = (keras.ops.convert_to_numpy(layer(x)) for layer in (a, b))
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, keras.ops.convert_to_numpy(a(x)))
    other = keras.ops.convert_to_numpy(SpatialNoise(2, seed=8)(x))
    assert not np.array_equal(first_a, other)


@pytest.mark.parametrize("channels", [0, -1, 1.5, True])
def test_bad_channel_counts_are_named(channels):
    with pytest.raises(ValueError, match="noise_channels"):
        SpatialNoise(channels)


@pytest.mark.parametrize("build", BUILDERS)
def test_keras_file_keeps_the_seed_and_the_count(build, tmp_path):
    model = build(image_size=32, num_classes=4, width=4, noise_channels=2, **MASKING)
    inputs = random_inputs(model, batch=1)
    _numpy(model, inputs)  # the count moves to 1, and is saved
    model.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    assert _counter(loaded) == [1]
    np.testing.assert_allclose(_numpy(loaded, inputs), _numpy(model, inputs), atol=1e-6)


def test_the_ema_copy_follows_the_generator_count():
    model = unet_generator(image_size=32, num_classes=4, width=4, noise_channels=2, **MASKING)
    ema = ema_copy(model)
    for _ in range(3):
        _numpy(model, random_inputs(model))
    update_ema(ema, model, decay=0.9, step=0)
    assert _counter(ema) == _counter(model) == [3]


def test_the_export_takes_any_size_and_keeps_the_context(tmp_path):
    model = dual_branch_generator(image_size=32, num_classes=4, width=4, depth=3,
                                  noise_channels=2, **MASKING)
    out, rgb, mask = export_and_run_at_another_size(model, tmp_path)
    assert out.shape == (1, 48, 40, 3) and np.isfinite(out).all()
    np.testing.assert_allclose(out[mask[..., 0] == 0], rgb[mask[..., 0] == 0], atol=1e-6)


def test_one_train_step_draws_the_noise_once():
    config = TrainConfig.for_task("inpaint", image_size=SIZE, width=4, vgg_weights="none",
                                  noise_channels=2, ema_decay=0.0)
    gan = build_gan(config, CLASSES)
    history = gan.fit(ready_dataset("inpaint", count=8), epochs=1, verbose=0).history  # 2 steps
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert _counter(gan.generator) == [2]  # one generator forward per step


def test_config_checks_noise_channels_and_old_files_load_without_noise(tmp_path):
    with pytest.raises(ValueError, match="`noise_channels`"):
        TrainConfig.for_task("mixlc", noise_channels=-2)
    path = tmp_path / "config.json"
    TrainConfig.for_task("mixlc", noise_channels=8).save(path)
    assert TrainConfig.load(path).noise_channels == 8
    older = {k: v for k, v in json.loads(path.read_text()).items() if k != "noise_channels"}
    path.write_text(json.dumps(older))
    assert TrainConfig.load(path).noise_channels == 0  # trained before generators took noise
