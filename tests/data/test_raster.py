import numpy as np
import pytest

from lcgan.data import raster
from lcgan.errors import DataError, RasterMismatchError


def test_write_read_round_trip_keeps_georeference(geotiff_pair):
    pair = geotiff_pair(height=40, width=30, dtype="uint16", rgb_nodata=0)
    with raster.RasterReader(pair.rgb_path) as src:
        profile = src.profile
        window = src.read(5, 7, 10, 12, bands=[3, 1])
        full = src.read(0, 0, 40, 30)
    assert profile["crs"] == "EPSG:32633"
    assert profile["transform"] == pair.transform
    assert (profile["height"], profile["width"], profile["count"]) == (40, 30, 3)
    assert profile["dtype"] == "uint16" and profile["nodata"] == 0
    np.testing.assert_array_equal(full, pair.rgb)
    np.testing.assert_array_equal(window, pair.rgb[[2, 0], 5:15, 7:19])


def test_boundless_read_fills_with_nodata(geotiff_pair):
    pair = geotiff_pair(height=20, width=20, landcover_nodata=255)
    with raster.RasterReader(pair.landcover_path) as src:
        window = src.read(-3, 15, 8, 8)  # (1, 8, 8), partly above and right of the raster
        with pytest.raises(DataError, match="leaves the 20 x 20 raster"):
            src.read(-3, 15, 8, 8, boundless=False)
    assert window.shape == (1, 8, 8)
    np.testing.assert_array_equal(window[0, 3:, :5], pair.landcover[:5, 15:])
    assert (window[0, :3] == 255).all() and (window[0, :, 5:] == 255).all()


def test_read_wrong_band_names_file(geotiff_pair):
    pair = geotiff_pair()
    with raster.RasterReader(pair.landcover_path) as src:
        with pytest.raises(DataError, match=r"landcover\.tif: has 1 band\(s\), cannot read .*\[2\]"):
            src.read(0, 0, 4, 4, bands=[1, 2])


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="not found: .*nothere.tif"):
        raster.RasterReader(tmp_path / "nothere.tif")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"this is not a tiff")
    with pytest.raises(DataError, match="Cannot read raster .*junk.tif"):
        raster.RasterReader(junk)


def test_check_aligned_accepts_pair_and_names_both_files_on_mismatch(geotiff_pair, tmp_path):
    pair = geotiff_pair()
    profile_a, profile_b = raster.check_aligned(pair.rgb_path, pair.landcover_path)
    assert profile_a["transform"] == profile_b["transform"]

    other_crs = tmp_path / "other_crs.tif"
    raster.write_geotiff(other_crs, pair.landcover, crs="EPSG:4326", transform=pair.transform)
    with pytest.raises(RasterMismatchError, match=r"CRS differs .*rgb.tif .*EPSG:32633.*other_crs"):
        raster.check_aligned(pair.rgb_path, other_crs)

    shifted = tmp_path / "shifted.tif"
    raster.write_geotiff(shifted, pair.landcover, crs=pair.crs,
                         transform=pair.transform @ pair.transform.translation(1, 0))
    with pytest.raises(RasterMismatchError, match=r"transform differs .*rgb.tif.*shifted.tif"):
        raster.check_aligned(pair.rgb_path, shifted)

    smaller = tmp_path / "smaller.tif"
    raster.write_geotiff(smaller, pair.landcover[:-1], crs=pair.crs, transform=pair.transform)
    with pytest.raises(RasterMismatchError, match=r"Size differs .*rgb.tif \(64 x 48\).*smaller"):
        raster.check_aligned(pair.rgb_path, smaller)

    with pytest.raises(DataError, match="not found: .*missing.tif"):
        raster.check_aligned(pair.rgb_path, tmp_path / "missing.tif")


def test_writer_is_atomic_and_refuses_to_overwrite(geotiff_pair, tmp_path):
    pair = geotiff_pair(height=16, width=16)
    with raster.RasterReader(pair.rgb_path) as src:
        profile = src.profile
    target = tmp_path / "out.tif"
    with pytest.raises(RuntimeError, match="boom"):
        with raster.RasterWriter(target, profile) as dst:
            dst.write(pair.rgb[:, :8], row_off=0)
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_landcover.tif", "scene_rgb.tif"]

    with raster.RasterWriter(target, profile) as dst:
        dst.write(pair.rgb[:, 8:], row_off=8)
        dst.write(pair.rgb[:, :8], row_off=0)
        with pytest.raises(ValueError, match=r"leaves the 16 x 16 raster"):
            dst.write(pair.rgb[:, :8], row_off=12)
        with pytest.raises(ValueError, match=r"must be \(3, h, w\)"):
            dst.write(pair.rgb[:1])
    with raster.RasterReader(target) as src:
        np.testing.assert_array_equal(src.read(0, 0, 16, 16), pair.rgb)

    with pytest.raises(FileExistsError, match="out.tif already exists"):
        raster.write_geotiff(target, pair.rgb, crs=pair.crs, transform=pair.transform)
    raster.write_geotiff(target, pair.rgb[:1], crs=pair.crs, transform=pair.transform,
                         overwrite=True)
    with raster.RasterReader(target) as src:
        assert src.profile["count"] == 1


def test_open_datasets_bound_gdal_block_cache_and_restore_it_in_any_close_order(geotiff_pair,
                                                                               tmp_path):
    from rasterio.env import get_gdal_config  # GDAL's process-wide setting under test

    pair = geotiff_pair(height=8, width=8)
    before = get_gdal_config("GDAL_CACHEMAX")
    assert before not in (16, 40, raster.DEFAULT_CACHE_MB)
    first = raster.RasterReader(pair.rgb_path)
    assert get_gdal_config("GDAL_CACHEMAX") == raster.DEFAULT_CACHE_MB
    second = raster.RasterReader(pair.landcover_path, cache_mb=16)
    with raster.RasterWriter(tmp_path / "out.tif", first.profile, cache_mb=40) as dst:
        assert get_gdal_config("GDAL_CACHEMAX") == 16  # the smallest bound held applies
        first.close()  # not in the order of opening
        dst.write(pair.rgb)
    assert get_gdal_config("GDAL_CACHEMAX") == 16
    second.close()
    second.close()  # closing twice releases once
    assert get_gdal_config("GDAL_CACHEMAX") == before
    with raster.RasterReader(pair.rgb_path, cache_mb=None):
        assert get_gdal_config("GDAL_CACHEMAX") == before
    with pytest.raises(ValueError, match=r"`cache_mb` must be .* Received: 0"):
        raster.RasterReader(pair.rgb_path, cache_mb=0)
    with pytest.raises(ValueError, match=r"`cache_mb` must be .* Received: '64'"):
        raster.RasterWriter(tmp_path / "other.tif", first.profile, cache_mb="64")
    assert get_gdal_config("GDAL_CACHEMAX") == before


def test_nodata_rule_nan_in_any_band_or_nodata_in_every_band():
    bands = np.array([[[0, 0, 5]], [[0, 7, 5]], [[0, 0, 5]]], np.uint8)  # (3, 1, 3)
    np.testing.assert_array_equal(raster.nodata_mask(bands, 0), [[True, False, False]])
    np.testing.assert_array_equal(raster.nodata_mask(bands, None), [[False, False, False]])
    floats = bands.astype(np.float32)
    floats[1, 0, 2] = np.nan
    np.testing.assert_array_equal(raster.nodata_mask(floats, float("nan")), [[False, False, True]])
