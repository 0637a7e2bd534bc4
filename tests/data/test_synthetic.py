import numpy as np
import pytest

from lcgan.data import synthetic


def test_legend_names_and_ids():
    legend = synthetic.synthetic_legend()
    assert legend.names == ["water", "forest", "field", "urban", "road", "bare"]
    assert legend.class_id("water") == synthetic.WATER and legend.class_id("road") == synthetic.ROAD


def test_smooth_noise_is_smooth_and_bounded():
    noise = synthetic.smooth_noise(np.random.default_rng(0), 40, 50, scale=10)
    assert noise.shape == (40, 50) and 0 <= noise.min() and noise.max() <= 1
    white = np.random.default_rng(0).random((40, 50))
    assert np.abs(np.diff(noise, axis=1)).mean() < 0.25 * np.abs(np.diff(white, axis=1)).mean()


def test_landcover_map_is_seeded_with_river_roads_and_blobs():
    maps = [synthetic.landcover_map(64, 72, seed=s) for s in range(6)]
    np.testing.assert_array_equal(maps[0], synthetic.landcover_map(64, 72, seed=0))
    assert not np.array_equal(maps[0], maps[1])
    for landcover in maps:
        assert landcover.shape == (64, 72) and landcover.dtype == np.int32
        counts = np.bincount(landcover.ravel(), minlength=6)
        assert counts[synthetic.WATER] > 64 * 2 and counts[synthetic.ROAD] > 30
        assert (counts[[synthetic.FOREST, synthetic.FIELD, synthetic.URBAN, synthetic.BARE]] > 0
                ).sum() >= 2


def test_render_rgb_is_seeded_and_class_dependent():
    landcover = synthetic.landcover_map(64, 64, seed=3)
    rgb = synthetic.render_rgb(landcover, seed=1)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, synthetic.render_rgb(landcover, seed=1))
    assert not np.array_equal(rgb, synthetic.render_rgb(landcover, seed=2))
    water = rgb[landcover == synthetic.WATER].mean(0)
    assert water[2] > water[0]  # water is bluish
    assert np.linalg.norm(water - rgb[landcover != synthetic.WATER].mean(0)) > 30
    with pytest.raises(ValueError, match=r"`landcover` must be \(H, W\) ids in 0..5"):
        synthetic.render_rgb(np.full((4, 4), 6))


def test_synthetic_tile_pairs_rgb_and_landcover():
    rgb, landcover = synthetic.synthetic_tile(32, 48, seed=(7, 1))
    assert rgb.shape == (32, 48, 3) and landcover.shape == (32, 48)
    again_rgb, again_lc = synthetic.synthetic_tile(32, 48, seed=(7, 1))
    np.testing.assert_array_equal(rgb, again_rgb)
    np.testing.assert_array_equal(landcover, again_lc)
