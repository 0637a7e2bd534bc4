import numpy as np
import pytest
import tensorflow as tf
from scipy.ndimage import correlate1d

from lcgan.evaluation import fid, metrics
from lcgan.data.legend import IGNORE


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    target = rng.uniform(-1, 1, (2, 24, 24, 3)).astype(np.float32)
    generated = np.clip(target + rng.normal(0, 0.2, target.shape), -1, 1).astype(np.float32)
    mask = np.zeros((2, 24, 24, 1), np.float32)
    mask[0, 4:12, 6:18] = 1.0
    mask[1, 10:20, 2:9] = 1.0
    return target, generated, mask


def _ssim_map_numpy(x, y):
    """Reference SSIM map: separable Gaussian (scipy) on [-1, 1] images, valid part, channel mean."""
    coords = np.arange(11) - 5.0
    g = np.exp(-coords ** 2 / (2 * 1.5 ** 2))
    g /= g.sum()

    def blur(a):
        return correlate1d(correlate1d(a, g, axis=1, mode="constant"), g, axis=2,
                           mode="constant")[:, 5:-5, 5:-5]

    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    ssim = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1) * (2 * cxy + c2) / (vx + vy + c2)
    return ssim.mean(axis=-1, keepdims=True), blur


def test_l1_and_psnr_match_numpy_masked_and_whole(pair):
    target, generated, mask = pair
    err = np.abs(target - generated) / 2
    for b in range(2):
        inside = mask[b, ..., 0] > 0
        np.testing.assert_allclose(metrics.masked_l1(target, generated, mask)[b], err[b][inside].mean(),
                                   rtol=1e-5)
        np.testing.assert_allclose(metrics.masked_l1(target, generated)[b], err[b].mean(), rtol=1e-5)
        mse = (err[b][inside] ** 2).mean()
        np.testing.assert_allclose(metrics.masked_psnr(target, generated, mask)[b],
                                   10 * np.log10(1 / mse), rtol=1e-4)


def test_psnr_matches_tf_image_and_empty_mask_is_nan(pair):
    target, generated, mask = pair
    np.testing.assert_allclose(metrics.masked_psnr(target, generated),
                               tf.image.psnr(target, generated, max_val=2.0), rtol=1e-4)
    mask[1] = 0.0
    assert np.isnan(metrics.masked_l1(target, generated, mask)[1])
    assert np.isfinite(metrics.masked_l1(target, generated, mask)[0])


def test_ssim_matches_tf_image_ssim_and_numpy_masked_reference(pair):
    target, generated, mask = pair
    np.testing.assert_allclose(metrics.masked_ssim(target, generated),
                               tf.image.ssim(target, generated, max_val=2.0), rtol=1e-4)
    reference_map, blur = _ssim_map_numpy(target.astype(np.float64), generated.astype(np.float64))
    weights = blur(mask.astype(np.float64))
    expected = (reference_map * weights).sum(axis=(1, 2, 3)) / weights.sum(axis=(1, 2, 3))
    np.testing.assert_allclose(metrics.masked_ssim(target, generated, mask), expected, rtol=1e-4)
    np.testing.assert_allclose(metrics.masked_ssim(target, target, mask), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.masked_ssim(target[:, :8, :8], generated[:, :8, :8])


def test_confusion_matrix_skips_ignore_and_unmasked_pixels():
    true = np.array([[[0, 0, 1, IGNORE], [2, 2, 1, 1]]], np.int32)  # (1, 2, 4)
    pred = np.array([[[0, 1, 1, 2], [2, 0, 1, 0]]], np.int32)
    cm = metrics.confusion_matrix(true, pred, num_classes=4).numpy()
    expected = np.zeros((4, 4))
    for t, p in zip(true.ravel(), pred.ravel()):
        if t != IGNORE:
            expected[t, p] += 1
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_allclose(metrics.per_class_accuracy(cm)[:3], [1 / 2, 2 / 3, 1 / 2])
    assert np.isnan(metrics.per_class_accuracy(cm)[3])  # class 3 never requested
    # IoU: class 0: 1 / (2 + 3 - 1); class 1: 2 / (3 + 3 - 2); class 2: 1 / (2 + 1 - 1)
    np.testing.assert_allclose(metrics.per_class_iou(cm)[:3], [1 / 4, 2 / 4, 1 / 2])
    assert metrics.mean_iou(cm) == pytest.approx((1 / 4 + 1 / 2 + 1 / 2) / 3)
    assert metrics.mean_accuracy(cm) == pytest.approx((1 / 2 + 2 / 3 + 1 / 2) / 3)
    assert metrics.pixel_accuracy(cm) == pytest.approx(4 / 7)
    mask = np.zeros((1, 2, 4, 1), np.float32)
    mask[0, 1] = 1.0
    assert metrics.confusion_matrix(true, pred, num_classes=4, mask=mask).numpy().sum() == 4


def test_keras_metrics_accumulate_like_the_functions(pair):
    target, generated, mask = pair
    metric = metrics.ImageMetric("l1", masked=True)
    metric.update_state(target[:1], generated[:1], mask[:1])
    metric.update_state(target[1:], generated[1:], mask[1:])
    assert float(metric.result()) == pytest.approx(
        float(np.mean(metrics.masked_l1(target, generated, mask))), rel=1e-5)
    ids = np.array([[[0, 1], [1, IGNORE]]], np.int32)
    logits = tf.one_hot([[[0, 0], [1, 1]]], 3) * 5.0
    consistency = metrics.ConfusionMatrixMetric(3, result="mean_accuracy")
    consistency.update_state(ids, logits)
    assert float(consistency.result()) == pytest.approx((1.0 + 0.5) / 2)
    assert metrics.ConfusionMatrixMetric.from_config(consistency.get_config()).num_classes == 3
    with pytest.raises(ValueError, match="`metric` must be one of"):
        metrics.ImageMetric("mse")


def test_breakdowns_by_class_and_area():
    values = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    ids = np.array([[[0, 1], [1, IGNORE]], [[2, 2], [0, 1]]], np.int32)
    mask = np.ones((2, 2, 2, 1), np.float32)
    mask[1, 0, 0] = 0.0
    sums, counts = metrics.class_sums(values, ids, mask, num_classes=3)
    np.testing.assert_array_equal(counts, [2, 3, 1])
    np.testing.assert_array_equal(sums, [0 + 6, 1 + 2 + 7, 5])
    area = np.zeros((3, 10, 10, 1), np.float32)
    area[1, :2, :2] = 1.0  # 4 %
    area[2, :5, :5] = 1.0  # 25 %
    area[0, :3, :3] = 1.0  # 9 %
    np.testing.assert_array_equal(metrics.area_bins(area), [1, 0, 2])
    assert metrics.area_bin_labels() == ["<5%", "5-15%", ">=15%"]


def test_frechet_distance_identical_zero_and_gaussian_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4000, 3))
    assert fid.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # N(0, I) vs N(m, 4 I): |m|^2 + tr(I + 4I - 2 * 2I) = |m|^2 + 3, checked on exact moments
    white = (a - a.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(a, rowvar=False)).T)
    b = 2.0 * white + np.array([1.0, -2.0, 0.5])
    assert fid.frechet_distance(white, b) == pytest.approx(1 + 4 + 0.25 + 3, rel=1e-6)
    with pytest.raises(ValueError, match="features_a"):
        fid.frechet_distance(a, a[:, :2])


def test_kernel_distance_near_zero_for_one_distribution_and_grows_with_shift():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same, _ = fid.kernel_distance(a, b, num_subsets=5, subset_size=200)
    shifted, _ = fid.kernel_distance(a, b + 1.0, num_subsets=5, subset_size=200)
    assert abs(same) < 0.05 < shifted


def test_inception_features_shape_with_random_weights():
    model = fid.inception_model(weights=None)
    images = np.zeros((2, 32, 32, 3), np.float32)
    features = fid.extract_features(model, images, batch_size=2, resize_to=fid.INCEPTION_SIZE)
    assert features.shape == (2, 2048)
