import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from lcgan.data.legend import IGNORE
from lcgan.evaluation import fid, region
from lcgan.evaluation.region import CLASS_CHANGE, SAME_CLASS
from lcgan.evaluation.scores import MethodScores


@pytest.fixture
def textured():
    """Two 32 px images of random texture and a mask: a 12 px square and a 10 x 14 box."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    mask = np.zeros((2, 32, 32, 1), np.float32)
    mask[0, 4:16, 8:20] = 1
    mask[1, 20:30, 2:16] = 1
    return images, mask


def _sharpness(output, target, mask, key="gradient"):
    mine, real = region.texture_sums(output, mask), region.texture_sums(target, mask)
    return region.ratio_of_means(mine[key], real[key], mine["pixels"], real["pixels"])


def test_interior_is_the_mask_eroded_by_one_pixel(textured):
    _, mask = textured
    inside = region.interior(mask).numpy()
    expected = np.zeros_like(mask)
    expected[0, 5:15, 9:19] = 1
    expected[1, 21:29, 3:15] = 1
    np.testing.assert_array_equal(inside, expected)
    border = np.zeros((1, 8, 8, 1), np.float32)
    border[0, :3, :3] = 1  # touching the image corner: the border is not a mask edge
    assert region.interior(border).numpy()[0, :, :, 0].sum() == 4


@pytest.mark.parametrize("key", ["gradient", "laplacian"])
def test_sharpness_is_one_for_a_copy_below_for_blur_above_for_noise(textured, key):
    images, mask = textured
    blurred = gaussian_filter(images, sigma=(0, 1.5, 1.5, 0)).astype(np.float32)
    noisy = (blurred + np.random.default_rng(1).normal(0, 0.1, images.shape)).astype(np.float32)
    assert _sharpness(images, images, mask, key) == pytest.approx(1.0)
    assert _sharpness(blurred, images, mask, key) < 0.5
    assert _sharpness(images, blurred, mask, key) > 2.0
    assert _sharpness(noisy, blurred, mask, key) > 1.2  # noise counts as texture
    flat = np.zeros_like(images)
    assert _sharpness(flat, images, mask, key) == 0.0
    assert np.isnan(_sharpness(images, flat, mask, key))  # no reference texture


def test_sharpness_ignores_pixels_outside_the_mask_interior(textured):
    images, mask = textured
    changed = images.copy()
    changed[mask[..., 0] == 0] = 0.0  # outside: flat
    assert _sharpness(changed, images, region.interior(region.interior(mask)).numpy()) == \
        pytest.approx(1.0)


def test_gradient_and_laplacian_of_hand_made_images():
    ramp = np.broadcast_to(np.linspace(-1, 1, 9, dtype=np.float32)[None, None, :, None],
                           (1, 9, 9, 3))  # [0, 1] scale: +1/8 per column
    np.testing.assert_allclose(region.gradient_magnitude(ramp).numpy()[0, :, 1:-1, 0], 1 / 8,
                               rtol=1e-5)
    np.testing.assert_allclose(region.laplacian(ramp).numpy()[0, :, 1:-1], 0.0, atol=1e-6)
    dot = -np.ones((1, 5, 5, 1), np.float32)
    dot[0, 2, 2] = 1.0
    lap = region.laplacian(dot).numpy()[0, ..., 0]
    assert lap[2, 2] == pytest.approx(-4.0) and lap[1, 2] == pytest.approx(1.0)


def test_masked_pool_weights_cells_by_their_mask_share():
    features = np.arange(2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3)  # (B, 2, 2, D)
    mask = np.zeros((2, 8, 8, 1), np.float32)
    mask[0, :4, :4] = 1  # exactly cell (0, 0)
    mask[1, :4, 2:6] = 1  # half of cells (0, 0) and (0, 1)
    pooled, weight = region.masked_pool(features, mask)
    np.testing.assert_allclose(pooled[0], features[0, 0, 0])
    np.testing.assert_allclose(pooled[1], features[1, 0, :].mean(axis=0))
    np.testing.assert_allclose(weight, [1.0, 1.0])
    pooled, weight = region.masked_pool(features, np.zeros_like(mask))
    assert np.isnan(pooled).all() and (weight == 0).all()


def test_edge_sums_split_pairs_by_mask_boundary_and_class_change():
    unit = np.array([0.0, 0.5, 1.0, 1.0], np.float32)  # one row, [0, 1] scale
    images = np.broadcast_to((unit * 2 - 1)[None, None, :, None], (1, 1, 4, 3))
    landcover = np.array([[[0, 0, 1, 1]]])
    mask = np.array([0, 1, 1, 1], np.float32).reshape(1, 1, 4, 1)
    sums, counts = region.edge_sums(images, landcover, mask, across_mask=True)
    np.testing.assert_allclose(sums, [0.5, 0.0])  # pair 0|1: same class, step 0.5
    np.testing.assert_array_equal(counts, [1, 0])
    sums, counts = region.edge_sums(images, landcover, mask, across_mask=False)
    np.testing.assert_allclose(sums, [0.0, 0.5])  # pair 1|2 changes class, pair 2|3 flat
    np.testing.assert_array_equal(counts, [1, 1])
    landcover = np.array([[[IGNORE, 0, 1, 1]]])
    _, counts = region.edge_sums(images, landcover, mask, across_mask=True)
    np.testing.assert_array_equal(counts, [0, 0])  # a pair touching IGNORE does not count


def test_seam_ratio_compares_each_pair_with_natural_edges_of_its_kind():
    # seam: 4 same-class pairs summing 2, 1 class-change pair of 3; reference means 0.5 and 2
    assert region.seam_ratio([2.0, 3.0], [4, 1], [4.0, 10.0], [8, 5]) == pytest.approx(5 / 4)
    # a kind without reference is left out of both sides
    assert region.seam_ratio([2.0, 3.0], [4, 1], [4.0, 0.0], [8, 0]) == pytest.approx(1.0)
    assert np.isnan(region.seam_ratio([2.0, 3.0], [4, 1], [0.0, 0.0], [0, 0]))


def test_seam_of_an_unchanged_image_is_one_and_a_pasted_square_is_above(textured):
    images, mask = textured
    landcover = np.zeros(images.shape[:3], np.int32)
    seam = region.edge_sums(images, landcover, mask, across_mask=True)
    natural = region.edge_sums(images, landcover, mask, across_mask=False)
    assert seam[1][CLASS_CHANGE] == 0 and seam[1][SAME_CLASS] == 24 * 2 + 10 * 2 + 14 * 2
    assert region.seam_ratio(*seam, *natural) == pytest.approx(1.0, abs=0.1)
    smooth = gaussian_filter(images, sigma=(0, 2, 2, 0)).astype(np.float32)
    pasted = np.where(mask > 0, 1.0, smooth).astype(np.float32)  # bright square in a smooth image
    natural = region.edge_sums(smooth, landcover, mask, across_mask=False)
    assert region.seam_ratio(*region.edge_sums(pasted, landcover, mask, across_mask=True),
                             *natural) > 3.0


def test_original_class_counts_only_pixels_whose_class_changed():
    requested = np.array([[[1, 1, 2, 2, IGNORE]]])
    before = np.array([[[0, 1, 0, 3, 0]]])  # pixel 1: unchanged; pixel 4: no requested class
    predicted = np.array([[[0, 0, 2, 3, 0]]])
    mask = np.ones((1, 1, 5, 1), np.float32)
    assert region.original_class_counts(predicted, requested, before, mask) == (2.0, 3.0)
    mask[0, 0, 0] = 0
    assert region.original_class_counts(predicted, requested, before, mask) == (1.0, 2.0)


LEVELS = np.linspace(-1, 1, 4)


def _perfect_segmenter(inputs, training=False):
    """Stub reading class k from a red level; features: the rgb averaged over 4 x 4 cells."""
    rgb = np.asarray(inputs["rgb"])
    logits = -np.abs(rgb[..., :1] - LEVELS)  # (B, H, W, 4)
    b, h, w, _ = rgb.shape
    features = rgb.reshape(b, h // 4, 4, w // 4, 4, 3).mean(axis=(2, 4))
    return {"logits": logits, "features": features, "region": features}


def _painted(ids, rng):
    rgb = rng.uniform(-1, 1, ids.shape + (3,)).astype(np.float32)
    rgb[..., 0] = LEVELS[ids]
    return rgb


def test_scores_with_a_perfect_segmenter():
    rng = np.random.default_rng(3)
    requested = rng.integers(0, 4, (6, 16, 16))
    before = (requested + 1) % 4  # every masked pixel changes class
    mask = np.zeros((6, 16, 16, 1), np.float32)
    mask[:, 4:12, 4:12] = 1
    target = _painted(requested, rng)
    batch = {"target": target, "mask": mask, "landcover": requested, "landcover_before": before}
    scores = {name: MethodScores(4) for name in ("real", "kept", "edit")}
    outputs = {"real": target, "kept": _painted(before, rng), "edit": _painted(requested, rng)}
    for name, output in outputs.items():
        scores[name].update(batch, output, _perfect_segmenter)
    rows = {name: s.row(scores["real"]) for name, s in scores.items()}
    assert rows["real"]["lc_pixel_acc"] == 1.0 and rows["real"]["lc_ratio"] == 1.0
    assert rows["real"]["lc_original"] == 0.0 and rows["real"]["region_fd"] == pytest.approx(0)
    assert rows["real"]["sharpness"] == 1.0 and rows["real"]["domain_fd"] == pytest.approx(0)
    assert rows["edit"]["lc_ratio"] == 1.0 and rows["edit"]["lc_original"] == 0.0
    assert rows["kept"]["lc_pixel_acc"] == 0.0 and rows["kept"]["lc_original"] == 1.0
    assert rows["kept"]["region_fd"] > 0
    real_regions = np.concatenate(scores["real"].region_features)
    assert real_regions.shape == (6, 3)  # one pooled region per image
    assert rows["edit"]["region_fd"] == pytest.approx(
        fid.frechet_distance(real_regions, np.concatenate(scores["edit"].region_features)))
