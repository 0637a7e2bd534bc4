import pathlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lcgan.data import raster
from lcgan.data.legend import IGNORE, Legend
from lcgan.data.geotiff_source import GeoTiffSource
from lcgan.data.sources import FolderSource, SyntheticSource, sample_source
from lcgan.errors import DataError, LegendError, RasterMismatchError

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"
TOY = Legend(["water", "forest", "urban"], [(0, 0, 255), (0, 128, 0), (200, 0, 0)],
             values=[1, 2, 3], ignore_color=(0, 0, 0), ignore_value=0, name="toy")


def write_pair(image_path, mask_path, ids, *, mask_kind="rgb", image_size=None):
    """Write a random RGB image and a mask of ``ids`` (H, W) as rgb/palette/index/index16."""
    image_path.parent.mkdir(parents=True, exist_ok=True)
    mask_path.parent.mkdir(parents=True, exist_ok=True)
    h, w = ids.shape if image_size is None else image_size
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(image_path)
    if mask_kind in ("index", "index16"):
        codes = np.array([c.value for c in TOY.classes] + [TOY.ignore_value],
                         np.uint16 if mask_kind == "index16" else np.uint8)
        Image.fromarray(codes[ids]).save(mask_path)
    elif mask_kind == "palette":
        mask = Image.fromarray(np.where(ids < 0, 3, ids).astype(np.uint8), mode="P")
        mask.putpalette([0, 0, 255, 0, 128, 0, 200, 0, 0, 0, 0, 0])
        mask.save(mask_path)
    else:
        Image.fromarray(TOY.colorize(ids)).save(mask_path)
    return rgb


def random_ids(h=12, w=10, seed=0):
    return np.random.default_rng(seed).integers(-1, 3, (h, w)).astype(np.int32)


# ------------------------------------------------------------------------------ FolderSource
def assert_dataset_equals_tiles(source):
    """``as_dataset()`` gives exactly the tiles of the PIL path ``tiles()``, in order."""
    elements = list(source.as_dataset().as_numpy_iterator())
    tiles = list(source.tiles())
    assert len(elements) == len(tiles) == len(source)
    for element, (rgb, landcover) in zip(elements, tiles):
        assert element["rgb"].dtype == np.uint8 and element["landcover"].dtype == np.int32
        np.testing.assert_array_equal(element["rgb"], rgb)
        np.testing.assert_array_equal(element["landcover"], landcover)
    return elements


def test_folder_nested_layout_all_mask_kinds(tmp_path):
    kinds = ["rgb", "palette", "index", "index16", "rgb"]
    ids = [random_ids(seed=s) for s in range(len(kinds))]
    rgbs = [write_pair(tmp_path / f"t{k}" / "images" / f"p{k}.{'jpg' if k == 4 else 'png'}",
                       tmp_path / f"t{k}" / "masks" / f"p{k}.png", ids[k], mask_kind=kind)
            for k, kind in enumerate(kinds)]
    TOY.to_json(tmp_path / "legend.json")
    source = FolderSource(tmp_path)
    assert len(source) == len(kinds) and source.legend == TOY
    assert Image.open(source.pairs[3][1]).mode == "I;16"
    for k, (rgb, landcover) in enumerate(source.tiles()):
        if k < 4:  # PNG: lossless
            np.testing.assert_array_equal(rgb, rgbs[k])
        np.testing.assert_array_equal(landcover, ids[k])
        assert rgb.dtype == np.uint8 and landcover.dtype == np.int32
    assert_dataset_equals_tiles(source)


def test_folder_flat_layout_and_dataset(tmp_path):
    ids = random_ids()
    write_pair(tmp_path / "a.png", tmp_path / "a_mask.png", ids)
    write_pair(tmp_path / "sub" / "b.jpg", tmp_path / "sub" / "b_mask.png", ids[:6])
    Image.fromarray(np.full((6, 10), 128, np.uint8)).save(tmp_path / "sub" / "c.png")  # grey
    Image.fromarray(TOY.colorize(ids[6:])).save(tmp_path / "sub" / "c_mask.png")
    source = FolderSource(tmp_path, legend=TOY)
    assert [p[0].name for p in source.pairs] == ["a.png", "b.jpg", "c.png"]
    elements = assert_dataset_equals_tiles(source)
    assert [e["landcover"].shape for e in elements] == [(12, 10), (6, 10), (6, 10)]
    np.testing.assert_array_equal(elements[0]["landcover"], ids)
    assert (elements[2]["rgb"] == 128).all()
    # TIFF images: TF cannot decode them, so the dataset reads through tiles() (PIL)
    Image.open(tmp_path / "a.png").save(tmp_path / "a.tif")  # its mask is a_mask.png too
    assert len(assert_dataset_equals_tiles(FolderSource(tmp_path, legend=TOY))) == 4


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="Tile folder not found: .*nothere"):
        FolderSource(tmp_path / "nothere", legend=TOY)
    with pytest.raises(LegendError, match="Legend file not found: .*legend.json"):
        FolderSource(tmp_path)
    with pytest.raises(DataError, match="No image/mask pairs in"):
        FolderSource(tmp_path, legend=TOY)

    ids = random_ids()
    write_pair(tmp_path / "images" / "x.png", tmp_path / "masks" / "x.png", ids)
    (tmp_path / "images" / "lonely.jpg").write_bytes((tmp_path / "images" / "x.png").read_bytes())
    with pytest.raises(DataError, match=r"Image .*lonely.jpg has no mask: expected .*masks/lonely.png"):
        FolderSource(tmp_path, legend=TOY)
    (tmp_path / "images" / "lonely.jpg").unlink()

    def first_tile():
        return next(FolderSource(tmp_path, legend=TOY).tiles())

    def first_element(validate=False):
        return next(iter(FolderSource(tmp_path, legend=TOY).as_dataset(validate=validate)))

    write_pair(tmp_path / "images" / "x.png", tmp_path / "masks" / "x.png", ids, image_size=(12, 11))
    for read in (first_tile, first_element):
        with pytest.raises(DataError, match=r"x.png is 11 x 12 .* mask .*masks/x.png is 10 x 12"):
            read()
    bad = TOY.colorize(ids)
    bad[3, 4] = (9, 9, 9)
    write_pair(tmp_path / "images" / "x.png", tmp_path / "masks" / "x.png", ids)
    Image.fromarray(bad).save(tmp_path / "masks" / "x.png")
    for read in (first_tile, lambda: first_element(validate=True)):
        with pytest.raises(LegendError, match=r"masks/x.png: 1 pixels .*\(9, 9, 9\)"):
            read()
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"LegendError: .*masks/x.png: 1 pixels .*\(9, 9, 9\)"):
        first_element()
    Image.fromarray(np.full((12, 10), 7, np.uint16)).save(tmp_path / "masks" / "x.png")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"LegendError: .*masks/x.png: values \[7\] are not class values"):
        first_element()
    Image.fromarray(np.zeros((12, 10, 2), np.uint8), mode="LA").save(tmp_path / "masks" / "x.png")
    for read in (first_tile, first_element):
        with pytest.raises(DataError, match=r"Mask .*masks/x.png has mode 'LA'"):
            read()
    (tmp_path / "masks" / "x.png").write_bytes(b"garbage")
    for read in (first_tile, first_element):
        with pytest.raises(DataError, match=r"Cannot read image file .*masks/x.png"):
            read()


def test_bundled_sample_loads_all_tiles(monkeypatch):
    source = sample_source()
    assert len(source) == 27 and source.legend.num_classes == 6
    tiles, seen = list(source.tiles()), set()
    for (rgb, landcover), (image_path, mask_path) in zip(tiles, source.pairs):
        assert image_path.suffix == ".jpg"
        assert rgb.shape == landcover.shape + (3,) and rgb.dtype == np.uint8
        assert landcover.min() >= IGNORE and landcover.max() < 6
        assert (landcover != IGNORE).mean() > 0.5, image_path
        if image_path.parts[-3] == "tile2":
            assert Image.open(mask_path).mode == "P"
        seen.update(np.unique(landcover).tolist())
    assert seen == {IGNORE, 0, 1, 2, 3, 4, 5}
    monkeypatch.setattr(source, "tiles", None)  # as_dataset() decodes with TF, not tiles()
    elements = list(source.as_dataset().as_numpy_iterator())
    for element, (rgb, landcover) in zip(elements, tiles, strict=True):
        np.testing.assert_array_equal(element["rgb"], rgb)  # JPEG: same DCT as PIL, same bytes
        np.testing.assert_array_equal(element["landcover"], landcover)  # tile2: palette PNGs


# ------------------------------------------------------------------------------ SyntheticSource
def test_synthetic_source_is_seeded():
    a, b = SyntheticSource(3, (20, 24), seed=5), SyntheticSource(3, (20, 24), seed=5)
    tiles_a, tiles_b = list(a.tiles()), list(b.tiles())
    assert len(a) == 3 and a.legend.num_classes == 6
    assert tiles_a[0][0].shape == (20, 24, 3) and tiles_a[0][1].shape == (20, 24)
    for (rgb_a, lc_a), (rgb_b, lc_b) in zip(tiles_a, tiles_b):
        np.testing.assert_array_equal(rgb_a, rgb_b)
        np.testing.assert_array_equal(lc_a, lc_b)
    assert not np.array_equal(tiles_a[0][1], tiles_a[1][1])
    assert not np.array_equal(tiles_a[0][0], next(SyntheticSource(1, (20, 24), seed=6).tiles())[0])
    with pytest.raises(ValueError, match="`num_tiles` must be >= 1. Received 0"):
        SyntheticSource(0)
    with pytest.raises(ValueError, match="`tile_size` must be a positive int"):
        SyntheticSource(1, (0, 4))


# ------------------------------------------------------------------------------ GeoTiffSource
INDEX = Legend(["a", "b", "c", "d"], [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4)])


def test_geotiff_uint8_windows_band_order_and_edge(geotiff_pair):
    pair = geotiff_pair(height=40, width=30, bands=4)
    source = GeoTiffSource(pair.rgb_path, pair.landcover_path, legend=INDEX, tile_size=16,
                           bands=(3, 2, 1))
    assert len(source) == 3 * 2  # rows 0, 16, 24 (edge moved inside); cols 0, 14
    assert [w[1:] for w in source.windows] == [(0, 0), (0, 14), (16, 0), (16, 14), (24, 0),
                                               (24, 14)]
    tiles = list(source.tiles())
    rgb, landcover = tiles[-1]
    np.testing.assert_array_equal(rgb, pair.rgb[[2, 1, 0], 24:40, 14:30].transpose(1, 2, 0))
    np.testing.assert_array_equal(landcover, pair.landcover[24:40, 14:30])
    overlapping = GeoTiffSource([(pair.rgb_path, pair.landcover_path)] * 2, legend=INDEX,
                                tile_size=(16, 30), stride=8)
    assert len(overlapping) == 2 * 4


def test_geotiff_nodata_is_never_sampled(geotiff_pair):
    pair = geotiff_pair(height=32, width=32, landcover_nodata=9, rgb_nodata=0, seed=1)
    rgb, landcover = np.maximum(pair.rgb, 1), pair.landcover.copy()
    rgb[:, 5, 20] = 0  # top-right window: one rgb nodata pixel (nodata in every band)
    rgb[1, 6, 21] = 0  # one band at the nodata value is still data
    landcover[:16, :16] = 9  # top-left window: all nodata
    landcover[20, 20] = 9  # bottom-right window: one nodata pixel
    raster.write_geotiff(pair.rgb_path, rgb, crs=pair.crs, transform=pair.transform, nodata=0,
                         overwrite=True)
    raster.write_geotiff(pair.landcover_path, landcover, crs=pair.crs, transform=pair.transform,
                         nodata=9, overwrite=True)
    nodata = (rgb == 0).all(0) | (landcover == 9)
    tolerant = GeoTiffSource(pair.rgb_path, pair.landcover_path, legend=INDEX, tile_size=16,
                             max_nodata_fraction=0.01)
    assert [w[1:] for w in tolerant.windows] == [(0, 16), (16, 0), (16, 16)]
    for (tile_rgb, ids), (_, r, c) in zip(tolerant.tiles(), tolerant.windows):
        np.testing.assert_array_equal(ids == IGNORE, nodata[r:r + 16, c:c + 16])
        np.testing.assert_array_equal((tile_rgb == 0).all(-1), (rgb == 0).all(0)[r:r + 16, c:c + 16])
    strict = GeoTiffSource(pair.rgb_path, pair.landcover_path, legend=INDEX, tile_size=16)
    assert [w[1:] for w in strict.windows] == [(16, 0)]
    np.testing.assert_array_equal(next(strict.tiles())[1], landcover[16:, :16])
    with pytest.raises(DataError, match=r"No 32 x 32 window of .*scene_rgb.tif.* nodata fraction"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, legend=INDEX, tile_size=32)


def test_geotiff_scaling(geotiff_pair):
    pair = geotiff_pair(height=20, width=20, dtype="uint16")
    kwargs = dict(legend=INDEX, tile_size=20)
    factor = GeoTiffSource(pair.rgb_path, pair.landcover_path, scaling=("factor", 0.01), **kwargs)
    rgb, _ = next(factor.tiles())
    want = np.clip(np.round(pair.rgb.astype(np.float32) * 0.01), 0, 255).transpose(1, 2, 0)
    np.testing.assert_array_equal(rgb, want)
    stretch = GeoTiffSource(pair.rgb_path, pair.landcover_path, scaling=("percentile", 2, 98),
                            **kwargs)
    rgb, _ = next(stretch.tiles())
    for band in range(3):
        assert (rgb[..., band] == 0).mean() == pytest.approx(0.02, abs=0.015)
        assert (rgb[..., band] == 255).mean() == pytest.approx(0.02, abs=0.015)
    with pytest.raises(ValueError, match=r"hold \['uint16'\], not uint8; give `scaling`.*--scaling percentile 2 98"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, **kwargs)
    with pytest.raises(ValueError, match=r"`scaling` must be None, .*Received \('percentile', 98, 2\)"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, scaling=("percentile", 98, 2), **kwargs)


def test_geotiff_errors(geotiff_pair, tmp_path):
    pair = geotiff_pair(height=20, width=20, bands=2)
    kwargs = dict(legend=INDEX, tile_size=8)
    with pytest.raises(DataError, match=r"scene_rgb.tif has 2 band\(s\); `bands` \(1, 2, 3\)"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, **kwargs)
    with pytest.raises(ValueError, match=r"`bands` must name three bands"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, bands=(1, 2), **kwargs)
    with pytest.raises(DataError, match=r"Landcover raster .*scene_rgb.tif must have 1 band"):
        GeoTiffSource(pair.rgb_path, pair.rgb_path, bands=(1, 1, 2), **kwargs)
    with pytest.raises(DataError, match=r"is 20 x 20, smaller than `tile_size` \(32, 32\)"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, bands=(1, 1, 2), legend=INDEX,
                      tile_size=32)
    other = geotiff_pair(height=20, width=21, name="other")
    with pytest.raises(RasterMismatchError, match=r"Size differs .*scene_rgb.tif.*other_landcover.tif"):
        GeoTiffSource(pair.rgb_path, other.landcover_path, bands=(1, 1, 2), **kwargs)
    with pytest.raises(DataError, match="not found: .*missing.tif"):
        GeoTiffSource(pair.rgb_path, tmp_path / "missing.tif", **kwargs)
    with pytest.raises(LegendError, match=r"scene_landcover.tif window \(0, 0\): values \[2, 3\]"):
        GeoTiffSource(pair.rgb_path, pair.landcover_path, bands=(1, 1, 2),
                      legend=Legend(["a", "b"], [(1, 1, 1), (2, 2, 2)]), tile_size=8)
    with pytest.raises(ValueError, match="Give `landcover_path`"):
        GeoTiffSource(pair.rgb_path, **kwargs)


def test_sentinel2_slovenia_round_trip(tmp_path):
    """Real Sentinel-2 L1C reflectance and LULC (0 = no data) through GeoTIFF and back."""
    data = np.load(FIXTURES / "sentinel2_slovenia" / "slovenia_2015-08-30.npz")
    reflectance, lulc, bounds = data["reflectance"], data["lulc"], data["bounds"]  # (101, 100, 4)
    transform = raster.transform_from_bounds(*bounds, 100, 101)
    rgb_path, lulc_path = tmp_path / "s2_l1c.tif", tmp_path / "lulc.tif"
    raster.write_geotiff(rgb_path, reflectance.transpose(2, 0, 1), crs="EPSG:32633",
                         transform=transform)
    raster.write_geotiff(lulc_path, lulc, crs="EPSG:32633", transform=transform, nodata=0)

    profile, _ = raster.check_aligned(rgb_path, lulc_path)
    assert profile["crs"] == "EPSG:32633" and profile["dtype"] == "float32"
    assert profile["transform"] == transform
    assert profile["transform"].c == pytest.approx(465181.05) and profile["transform"].a == \
        pytest.approx(9.995, abs=1e-3)

    legend = Legend([f"class{v}" for v in range(1, 11)], [(v, v, v) for v in range(1, 11)],
                    values=range(1, 11), name="slovenia_lulc")
    source = GeoTiffSource(rgb_path, lulc_path, legend=legend, tile_size=32, stride=16,
                           scaling=("factor", 255 * 3.5))
    grid = 6 * 6
    assert 0 < len(source) < grid  # windows touching the 155 nodata pixels are skipped
    nodata = lulc == 0
    for (rgb, ids), (_, r, c) in zip(source.tiles(), source.windows):
        assert not nodata[r:r + 32, c:c + 32].any()
        assert (ids >= 0).all()
        np.testing.assert_array_equal(ids, lulc[r:r + 32, c:c + 32].astype(np.int32) - 1)
        want = np.clip(np.round(reflectance[r:r + 32, c:c + 32, :3] * 255 * 3.5), 0, 255)
        np.testing.assert_allclose(rgb, want, atol=1)
    stretched = GeoTiffSource(rgb_path, lulc_path, legend=legend, tile_size=32, bands=(1, 2, 3),
                              scaling=("percentile", 1, 99), max_nodata_fraction=0.2)
    tiles = list(stretched.tiles())
    assert len(stretched) > len(source) // 4
    assert max(rgb.max() for rgb, _ in tiles) == 255 and min(rgb.min() for rgb, _ in tiles) == 0
    for rgb, ids in tiles:
        assert (rgb.min(-1) > 0).mean() > 0.9  # the rgb has no nodata: it is kept where LULC is 0
    assert (np.concatenate([ids.ravel() for _, ids in tiles]) == IGNORE).any()
