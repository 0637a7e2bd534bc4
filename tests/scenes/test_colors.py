"""Matching generated classes to the scene's class colours (``lcgan.scenes.colors``)."""

import numpy as np

from lcgan.scenes.colors import MIN_PIXELS, ClassMeans, match_class_means


def _colors(means, counts):
    return ClassMeans(means=np.asarray(means, np.float64), counts=np.asarray(counts, np.int64))


def test_changed_pixels_of_a_seen_class_take_its_mean_and_keep_their_texture():
    rng = np.random.default_rng(0)
    outputs = rng.uniform(-0.3, 0.3, (2, 16, 16, 3)).astype(np.float32)
    before = outputs.copy()
    ids = np.zeros((2, 16, 16), np.int64)
    ids[:, 8:] = 1  # class 1 (seen) in the lower half, class 0 (seen too) above
    ids[1, :, 12:] = 2  # class 2: too few scene pixels, left alone
    ids[0, 0, 0] = -1  # no class
    changed = np.zeros((2, 16, 16), bool)
    changed[:, 4:14, 2:14] = True
    changed[0, 0, 0] = True
    colors = _colors([[0.1, 0.2, 0.3], [-0.5, -0.2, -0.6], [0.9, 0.9, 0.9]],
                     [MIN_PIXELS, 10 * MIN_PIXELS, MIN_PIXELS - 1])
    match_class_means(outputs, ids, changed, colors)
    for i in range(2):
        for k in (0, 1):
            where = changed[i] & (ids[i] == k)
            np.testing.assert_allclose(outputs[i][where].mean(axis=0), colors.means[k], atol=1e-5)
            shift = outputs[i][where] - before[i][where]  # one offset per window, class, band
            np.testing.assert_allclose(shift, np.broadcast_to(shift[:1], shift.shape), atol=1e-6)
    untouched = ~changed | (ids == 2) | (ids < 0)
    np.testing.assert_array_equal(outputs[untouched], before[untouched])


def test_the_shift_is_clipped_to_the_image_range():
    outputs = np.full((1, 4, 4, 3), -0.9, np.float32)
    outputs[0, 0, 0] = 0.9
    match_class_means(outputs, np.zeros((1, 4, 4), np.int64), np.ones((1, 4, 4), bool),
                      _colors([[0.95, 0.95, 0.95]], [MIN_PIXELS]))
    assert outputs.max() == 1.0 and outputs.min() >= -1.0
