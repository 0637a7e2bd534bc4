import numpy as np
import pytest

from lcgan.evaluation import baselines
from lcgan.data.legend import IGNORE


def _batch(rgb, ids, mask):
    return {"rgb": rgb.astype(np.float32), "landcover": ids.astype(np.int32),
            "mask": mask.astype(np.float32)}


@pytest.fixture
def constant_batch():
    """Two 32 px tiles of one colour each, a hole zeroed out (as masked_class fills it)."""
    rgb = np.empty((2, 32, 32, 3), np.float32)
    rgb[0], rgb[1] = [0.5, -0.25, 0.1], [-0.6, 0.3, 0.9]
    target = rgb.copy()
    mask = np.zeros((2, 32, 32, 1), np.float32)
    mask[0, 8:16, 10:20], mask[1, 20:28, 2:8] = 1.0, 1.0
    rgb = rgb * (1 - mask)
    ids = np.zeros((2, 32, 32), np.int32)
    ids[1] = 1
    return _batch(rgb, ids, mask), target


def test_class_mean_colors_from_tiles_with_ignore():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    lc = np.zeros((4, 4), np.int32)
    lc[:, 2:] = 2
    lc[0, 0] = IGNORE
    means = baselines.class_mean_colors([(red, lc)], num_classes=3)
    assert means.shape == (4, 3)
    np.testing.assert_allclose(means[0], [1.0, -1.0, -1.0])
    np.testing.assert_allclose(means[1], means[3])  # unseen class -> overall mean
    with pytest.raises(ValueError, match="`tiles` holds no pixels"):
        baselines.class_mean_colors([], num_classes=3)


def test_baselines_restore_constant_tiles_and_keep_outside(constant_batch):
    batch, target = constant_batch
    means = np.array([target[0, 0, 0], target[1, 0, 0], [0, 0, 0]], np.float32)
    methods = baselines.make_baselines(means)
    outside = batch["mask"][..., 0] == 0
    for name in ("class_mean", "biharmonic"):
        out = methods[name](batch)
        np.testing.assert_allclose(out, target, atol=1e-5, err_msg=name)
        np.testing.assert_array_equal(out[outside], batch["rgb"][outside])
    np.testing.assert_array_equal(methods["copy_input"](batch), batch["rgb"])


def test_biharmonic_interpolates_a_ramp_and_class_mean_uses_overall_for_ignore():
    ramp = np.tile(np.linspace(-1, 1, 32, dtype=np.float32)[None, :, None], (32, 1, 3))[None]
    mask = np.zeros((1, 32, 32, 1), np.float32)
    mask[0, 10:20, 12:22] = 1.0
    ids = np.full((1, 32, 32), IGNORE, np.int32)
    batch = _batch(ramp * (1 - mask), ids, mask)
    np.testing.assert_allclose(baselines.biharmonic_inpaint(batch), ramp, atol=1e-3)
    filled = baselines.class_mean_fill(np.array([[1, 1, 1], [0.2, 0.3, 0.4]]))(batch)
    np.testing.assert_allclose(filled[0, 15, 15], [0.2, 0.3, 0.4])
