import numpy as np
import pytest
from helpers import assert_save_load_roundtrip

from lcgan.models.segmenter import segmenter, segmenter_features


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
