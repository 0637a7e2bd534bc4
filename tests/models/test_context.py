"""Per-class colour statistics of the known pixels (``class_colors``): values, generators, export."""

import keras
import numpy as np
import pytest

from helpers import assert_save_load_roundtrip, export_and_run_at_another_size

from lcgan.models import dual_branch_generator, unet_generator
from lcgan.models.context import STAT_CHANNELS, ClassColorStats

MASKING = dict(use_mask=True, blank_input=True, composite=True)


def _stats(*inputs):
    return keras.ops.convert_to_numpy(ClassColorStats()([np.asarray(x, "float32") for x in inputs]))


def _scene():
    """One 4x4 image: class 0 on the top half (two colours), class 1 below, one ignored pixel."""
    rgb = np.zeros((1, 4, 4, 3), "float32")
    rgb[0, 0], rgb[0, 1] = 0.2, 0.6  # class 0: rows of 0.2 and 0.6
    rgb[0, 2:] = [-0.5, 0.0, 0.5]  # class 1: one colour
    ids = np.array([[0] * 4, [0] * 4, [1] * 4, [1, 1, 1, -1]])
    onehot = (ids[None, ..., None] == np.arange(3)).astype("float32")  # class 2 absent; -1: zeros
    return rgb, onehot


def test_the_statistics_of_each_class_cover_its_known_pixels_only():
    rgb, onehot = _scene()
    mask = np.zeros((1, 4, 4, 1), "float32")
    mask[0, 1] = 1.0  # class 0's 0.6 row is to be painted: only the 0.2 row is known
    mask[0, 2:] = 1.0  # all of class 1 is to be painted: not seen
    got = _stats(rgb, onehot, mask)
    assert got.shape == (1, 4, 4, STAT_CHANNELS)
    np.testing.assert_allclose(got[0, 1, 2], [0.2] * 3 + [1e-3] * 3 + [1.0], atol=1e-6)
    np.testing.assert_allclose(got[0, 2, 0], [0.0] * 7)  # a class with no known pixel
    np.testing.assert_allclose(got[0, 3, 3], [0.0] * 7)  # ignored landcover
    whole = _stats(rgb, onehot)  # without a mask every pixel of the class counts
    np.testing.assert_allclose(whole[0, 0, 0], [0.4] * 3 + [np.sqrt(0.04 + 1e-6)] * 3 + [1.0],
                               atol=1e-6)
    np.testing.assert_allclose(whole[0, 3, 0], [-0.5, 0.0, 0.5, 1e-3, 1e-3, 1e-3, 1.0], atol=1e-6)


@pytest.mark.parametrize("build", [unet_generator, dual_branch_generator])
def test_a_generator_with_class_colors_sees_the_scene_colour_of_the_class(build, tmp_path):
    model = build(image_size=32, num_classes=4, width=4, class_colors=True, **MASKING)
    rng = np.random.default_rng(0)
    ids = np.zeros((2, 32, 32), "int64")
    ids[:, :, 16:] = 1
    inputs = {"rgb": rng.uniform(-0.2, 0.2, (2, 32, 32, 3)).astype("float32"),
              "landcover_onehot": keras.ops.convert_to_numpy(keras.ops.one_hot(ids, 4)),
              "mask": np.zeros((2, 32, 32, 1), "float32")}
    inputs["mask"][:, 8:24, 20:28] = 1.0  # inside class 1
    recoloured = dict(inputs, rgb=np.where(ids[..., None] == 1, inputs["rgb"] + 0.5, inputs["rgb"]))
    out, out_recoloured = (keras.ops.convert_to_numpy(model(x, training=False))
                           for x in (inputs, recoloured))
    inside = inputs["mask"][..., 0] > 0
    assert np.abs(out - out_recoloured)[inside].mean() > 1e-4
    assert_save_load_roundtrip(model, inputs, tmp_path)


def test_the_export_of_a_class_colors_generator_runs_at_another_size(tmp_path):
    model = dual_branch_generator(image_size=32, num_classes=4, width=4, depth=3,
                                  class_colors=True, **MASKING)
    out, _, _ = export_and_run_at_another_size(model, tmp_path)
    assert out.shape == (1, 48, 40, 3) and np.isfinite(out).all()
