"""Tests specific to dual_branch_generator (the shared generator contract is in test_unet.py)."""

import numpy as np
import pytest

from lcgan.models import dual_branch_generator


def _dilated(model):
    return [layer for layer in model.layers if layer.name.endswith("_dilated_conv")]


@pytest.mark.parametrize("dilated", [True, False])
def test_dilated_convolutions_only_in_the_landcover_branch(dilated):
    model = dual_branch_generator(image_size=64, num_classes=6, width=4, dilated=dilated)
    layers = _dilated(model)
    assert len(layers) == (4 if dilated else 0)
    assert all(layer.name.startswith("landcover_down") and layer.dilation_rate == (2, 2) for layer in layers)


def test_two_encoders_fused_with_skips_from_both():
    model = dual_branch_generator(image_size=64, num_classes=6, width=4, use_mask=True)
    assert model.get_layer("rgb_down0_conv").kernel.shape == (4, 4, 4, 4)  # rgb + mask channels
    assert model.get_layer("landcover_down0_conv").kernel.shape == (4, 4, 6, 4)
    bottleneck = model.get_layer("bottleneck_concat").output.shape
    assert bottleneck == (None, 4, 4, 2 * 32)
    skip = model.get_layer("up0_skip")  # up block (4) + rgb skip (4) + landcover skip (4)
    assert skip.output.shape == (None, 32, 32, 12)
    assert model.get_layer("output_conv").output.shape == (None, 64, 64, 3)


def test_parameter_count_at_default_width():
    model = dual_branch_generator(image_size=256, num_classes=6)  # documented in the docstring
    assert model.count_params() == 11_704_611
    assert sum(int(np.prod(w.shape)) for w in model.non_trainable_weights) == 7_296
