import keras
import numpy as np
import pytest
from helpers import assert_save_load_roundtrip

from lcgan.data.legend import IGNORE
from lcgan.models.segmenter import (WeightedCrossEntropy, class_weights, segmenter,
                                    segmenter_features)


def test_segmenter_shapes_features_and_save_load(tmp_path):
    model = segmenter(image_size=32, num_classes=5, width=8, depth=2)
    rgb = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    assert model({"rgb": rgb}, training=False).shape == (2, 32, 32, 5)
    assert segmenter_features(model)(rgb).shape == (2, 8 * 4)
    loaded = assert_save_load_roundtrip(model, {"rgb": rgb}, tmp_path, atol=1e-5)
    np.testing.assert_allclose(segmenter_features(loaded)(rgb), segmenter_features(model)(rgb),
                               atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"image_size": 36}, "divisible by 2 \\*\\* depth = 8"),
    ({"num_classes": 0}, "`num_classes` must be a positive integer"),
])
def test_segmenter_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        segmenter(**{"image_size": 32, "num_classes": 3, "width": 8, **kwargs})


def test_segmenter_of_any_size_takes_other_sizes_and_reloads(tmp_path):
    model = segmenter(image_size=None, num_classes=4, width=4, depth=2)
    rng = np.random.default_rng(1)
    for shape in ((1, 32, 32, 3), (2, 16, 40, 3)):
        rgb = rng.uniform(-1, 1, shape).astype(np.float32)
        assert model({"rgb": rgb}, training=False).shape == shape[:3] + (4,)
        assert segmenter_features(model)(rgb).shape == (shape[0], 4 * 4)
    assert_save_load_roundtrip(model, {"rgb": rgb}, tmp_path, atol=1e-5)


def test_segmenter_of_any_size_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`width` must be a positive integer"):
        segmenter(image_size=None, num_classes=3, width=0)


def test_class_weights_are_clipped_median_frequency():
    np.testing.assert_allclose(class_weights([50, 30, 10, 10]), [0.4, 2 / 3, 2, 2], rtol=1e-6)
    weights = class_weights([1000, 10, 10, 0], max_weight=4.0)  # median frequency 10 / 1020
    np.testing.assert_allclose(weights, [0.25, 1, 1, 4], rtol=1e-6)
    assert weights.dtype == np.float32


@pytest.mark.parametrize("counts, max_weight, match", [
    ([[1, 2]], 10.0, "`pixel_counts` must be a 1-D array"),
    ([0, 0], 10.0, "positive sum"),
    ([3, -1], 10.0, "non-negative"),
    ([1, 2], 0.0, "`max_weight` must be > 0"),
])
def test_class_weights_reject_bad_arguments(counts, max_weight, match):
    with pytest.raises(ValueError, match=match):
        class_weights(counts, max_weight=max_weight)


def test_weighted_cross_entropy_is_the_weighted_mean_over_valid_pixels():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    ids = rng.integers(0, 3, (2, 4, 4))
    ids[0, 0] = IGNORE
    weights = np.array([0.5, 1.0, 3.0], np.float32)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    valid = ids != IGNORE
    ce = -np.take_along_axis(log_p, np.where(valid, ids, 0)[..., None], -1)[..., 0]
    w = weights[np.where(valid, ids, 0)] * valid
    expected = (w * ce).sum() / w.sum()
    loss = WeightedCrossEntropy(weights)
    np.testing.assert_allclose(float(loss(ids, logits)), expected, rtol=1e-5)
    np.testing.assert_allclose(float(loss(ids[..., None], logits)), expected, rtol=1e-5)
    unweighted = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=IGNORE)
    np.testing.assert_allclose(float(WeightedCrossEntropy([2.0, 2.0, 2.0])(ids, logits)),
                               float(unweighted(ids, logits)), rtol=1e-5)
    assert float(loss(np.full((1, 2, 2), IGNORE), logits[:1, :2, :2])) == 0.0
    restored = WeightedCrossEntropy.from_config(loss.get_config())
    np.testing.assert_allclose(float(restored(ids, logits)), expected, rtol=1e-5)


def test_weighted_cross_entropy_survives_saving_a_compiled_segmenter(tmp_path):
    model = segmenter(image_size=16, num_classes=3, width=4, depth=1)
    model.compile(optimizer="adam", loss=WeightedCrossEntropy(class_weights([5, 3, 1])))
    rgb = np.random.default_rng(3).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    ids = np.random.default_rng(4).integers(-1, 3, (2, 16, 16))
    model.save(tmp_path / "compiled.keras")
    loaded = keras.models.load_model(tmp_path / "compiled.keras")
    assert isinstance(loaded.loss, WeightedCrossEntropy)
    assert loaded.loss.class_weights == model.loss.class_weights
    logits = model({"rgb": rgb}, training=False)
    np.testing.assert_allclose(float(loaded.loss(ids, logits)), float(model.loss(ids, logits)),
                               rtol=1e-6)
