"""Tests of the generator contract (both builders) and of unet_generator in particular."""

import keras
import numpy as np
import pytest
from helpers import assert_save_load_roundtrip, random_inputs

from lcgan.models import dual_branch_generator, select_inputs, unet_generator

GENERATORS = [unet_generator, dual_branch_generator]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("build", GENERATORS)
@pytest.mark.parametrize("image_size", [64, 128, 256])
@pytest.mark.parametrize("num_classes", [6, 11])
def test_output_shape(build, image_size, num_classes):
    model = build(image_size=image_size, num_classes=num_classes, width=4)
    assert sorted(t.name for t in model.inputs) == ["landcover_onehot", "rgb"]
    out = _numpy(model(random_inputs(model)))
    assert out.shape == (1, image_size, image_size, 3)
    assert np.abs(out).max() <= 1.0


@pytest.mark.parametrize("build", GENERATORS)
def test_options_round_trip(build, tmp_path):
    model = build(image_size=32, num_classes=6, width=4, norm="instance", upsample="resize", use_mask=True,
                  composite=True)
    assert sorted(t.name for t in model.inputs) == ["landcover_onehot", "mask", "rgb"]
    assert_save_load_roundtrip(model, random_inputs(model, batch=2), tmp_path)


@pytest.mark.parametrize("build", GENERATORS)
def test_composite_keeps_known_pixels_and_takes_mask(build):
    model = build(image_size=32, num_classes=6, width=4, norm="none", composite=True)
    inputs = random_inputs(model)
    out = _numpy(model(inputs))
    known = inputs["mask"][..., 0] == 0
    np.testing.assert_allclose(out[known], inputs["rgb"][known], atol=1e-6)
    assert not np.allclose(out[~known], inputs["rgb"][~known])


@pytest.mark.parametrize("build", GENERATORS)
def test_use_mask_feeds_the_mask_to_the_network(build):
    model = build(image_size=32, num_classes=6, width=4, norm="none", use_mask=True)
    inputs = random_inputs(model)
    moved = dict(inputs, mask=np.roll(inputs["mask"], 8, axis=2))
    assert not np.allclose(_numpy(model(inputs)), _numpy(model(moved)))


@pytest.mark.parametrize("build", GENERATORS)
def test_output_depends_on_landcover(build):
    model = build(image_size=32, num_classes=6, width=4, norm="none")
    inputs = random_inputs(model)
    other = dict(inputs, landcover_onehot=np.roll(inputs["landcover_onehot"], 1, axis=-1))
    assert not np.allclose(_numpy(model(inputs)), _numpy(model(other)))


@pytest.mark.parametrize("build", GENERATORS)
def test_called_on_a_batch_through_select_inputs(build):
    model = build(image_size=32, num_classes=6, width=4, use_mask=True)
    batch = random_inputs(model, batch=2)
    batch.update(target=batch["rgb"], landcover=np.zeros((2, 32, 32), "int32"))
    assert model(select_inputs(model, batch)).shape == (2, 32, 32, 3)


@pytest.mark.parametrize("build", GENERATORS)
@pytest.mark.parametrize("kwargs, message", [
    (dict(image_size=100, depth=4), r"`image_size` must be divisible by 2\*\*`depth` = 16 \(depth=4\). "
                                    r"Received: image_size=100"),
    (dict(num_classes=0), r"`num_classes` must be an integer >= 1. Received: 0"),
    (dict(width=0), r"`width` must be an integer >= 1"),
    (dict(norm="layer"), r"`norm` must be one of \['batch', 'instance', 'none'\]. Received: 'layer'"),
    (dict(upsample="nearest"), r"`upsample` must be one of \['transpose', 'resize'\]. Received: 'nearest'"),
])
def test_build_errors_name_the_argument(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**{"image_size": 64, "num_classes": 6, "width": 4, **kwargs})


@pytest.mark.parametrize("image_size, depth", [(64, 4), (256, 6), (96, 4)])
def test_depth_follows_image_size(image_size, depth):
    model = unet_generator(image_size=image_size, num_classes=6, width=4)
    down = [layer for layer in model.layers if layer.name.startswith("down") and layer.name.endswith("_conv")]
    assert len(down) == depth
    assert down[-1].output.shape[1] == image_size // 2 ** depth


def test_explicit_depth_and_dropout_in_training():
    model = unet_generator(image_size=48, num_classes=6, width=4, depth=3, norm="none")
    assert [layer.name for layer in model.layers if "dropout" in layer.name] == ["up1_dropout", "up0_dropout"]
    inputs = random_inputs(model)
    assert not np.allclose(_numpy(model(inputs, training=True)), _numpy(model(inputs, training=True)))
    np.testing.assert_array_equal(_numpy(model(inputs)), _numpy(model(inputs)))


def test_parameter_count_at_default_width():
    model = unet_generator(image_size=256, num_classes=6)  # documented in the docstring
    assert model.count_params() == 21_345_283
    assert sum(int(np.prod(w.shape)) for w in model.non_trainable_weights) == 6_784
