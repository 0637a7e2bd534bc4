"""Tests of the OASIS segmentation discriminator and the ``features`` outputs of every discriminator."""

import keras
import numpy as np
import pytest
from helpers import assert_save_load_roundtrip, random_inputs

from lcgan.models import (acgan_discriminator, local_global_discriminator, oasis_discriminator,
                          patch_discriminator)

ALL = [patch_discriminator, acgan_discriminator, local_global_discriminator, oasis_discriminator]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("image_size,num_classes", [(32, 4), (64, 11)])
def test_oasis_segments_every_pixel_into_k_plus_one_classes_from_rgb_alone(image_size, num_classes):
    model = oasis_discriminator(image_size=image_size, num_classes=num_classes, width=4)
    assert [t.name for t in model.inputs] == ["rgb"]
    out = model(random_inputs(model, batch=2))
    assert tuple(out["segmentation"].shape) == (2, image_size, image_size, num_classes + 1)
    assert all(isinstance(layer, keras.layers.Layer) and not isinstance(layer, keras.layers.Conv2DTranspose)
               for layer in model.layers)
    assert "SpectralConv2D" in {type(layer).__name__ for layer in model.layers}


def test_oasis_spectral_norm_round_trip(tmp_path):
    model = oasis_discriminator(image_size=32, num_classes=4, width=4, features=True)
    inputs = random_inputs(model, batch=2)
    model(inputs, training=True)  # refines the saved singular-vector estimates
    assert_save_load_roundtrip(model, inputs, tmp_path)


@pytest.mark.parametrize("build", ALL)
def test_features_are_an_extra_output_that_leaves_the_scores_unchanged(build):
    keras.utils.set_random_seed(1)
    plain = build(image_size=32, num_classes=4, width=4, norm="none")
    keras.utils.set_random_seed(1)
    with_features = build(image_size=32, num_classes=4, width=4, norm="none", features=True)
    inputs = random_inputs(plain, batch=2)
    expected, out = plain(inputs), with_features(inputs)
    expected = expected if isinstance(expected, dict) else {"patch": expected}
    assert set(out) == set(expected) | {"features"}
    for key, value in expected.items():
        np.testing.assert_allclose(_numpy(out[key]), _numpy(value), rtol=1e-6)
    assert len(out["features"]) >= 3
    assert all(f.shape[0] == 2 and f.shape[-1] >= 4 for f in out["features"])


def test_oasis_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`image_size` must be divisible by 2\*\*`depth` = 16"):
        oasis_discriminator(image_size=40, num_classes=4, depth=4)
    with pytest.raises(ValueError, match="`num_classes` must be an integer >= 1. Received: 0"):
        oasis_discriminator(image_size=32, num_classes=0)
