"""Dataset presets, on tiny copies of each dataset's own layout and encoding (tests/preset_layouts.py)."""

import pathlib
import warnings

import numpy as np
import pytest
from PIL import Image

import preset_layouts as layouts
from lcgan.data import make_dataset, preset_names, preset_source
from lcgan.data.geotiff_source import GeoTiffSource
from lcgan.data.grid import window_offsets
from lcgan.data.legend import Legend
from lcgan.data.presets import get_preset
from lcgan.data.sources import FolderSource, TileSource
from lcgan.data.tfds_builder import TfdsSource, build_tfds
from lcgan.errors import DataError, LegendError

WRITERS = {"deepglobe": layouts.write_deepglobe, "loveda": layouts.write_loveda,
           "openearthmap": layouts.write_openearthmap, "potsdam": layouts.write_potsdam,
           "vaihingen": layouts.write_vaihingen, "dubai": layouts.write_dubai}


def quiet(name, root, **kwargs):
    """preset_source, without the warning about the split's tiles missing from a tiny fixture."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return preset_source(name, root, **kwargs)


def expected_windows(source, expected, size):
    """The ids each tile of ``source`` must hold, in its order (FolderSource or GeoTiffSource)."""
    if isinstance(source, GeoTiffSource):
        return [expected[pathlib.Path(source.pairs[i][0])][r:r + size, c:c + size]
                for i, r, c in source.windows]
    out = []
    for image, _ in source.pairs:
        ids = expected[image]
        h, w = ids.shape
        out += [ids[r:r + size, c:c + size] for r in window_offsets(h, size, size)
                for c in window_offsets(w, size, size)]
    return out


def assert_tiles(source, expected, size):
    """Tiles (PIL/rasterio path) hold the expected classes; the TF path gives the same tiles."""
    tiles = list(source.tiles())
    want = expected_windows(source, expected, size)
    assert len(tiles) == len(want) == len(source)
    for (rgb, ids), ids_want in zip(tiles, want):
        assert rgb.dtype == np.uint8 and rgb.shape == ids.shape + (3,)
        np.testing.assert_array_equal(ids, ids_want)
    if isinstance(source, FolderSource):
        elements = list(source.as_dataset().as_numpy_iterator())
        assert len(elements) == len(tiles)
        for element, (rgb, ids) in zip(elements, tiles):
            np.testing.assert_array_equal(element["rgb"], rgb)
            np.testing.assert_array_equal(element["landcover"], ids)
    return tiles


# ---------------------------------------------------------------------------------- registry
def test_registry_legends():
    assert preset_names() == ["deepglobe", "loveda", "openearthmap", "potsdam", "vaihingen",
                              "dubai"]
    counts = {name: get_preset(name).legend.num_classes for name in preset_names()}
    assert counts == {"deepglobe": 6, "loveda": 7, "openearthmap": 8, "potsdam": 6,
                      "vaihingen": 6, "dubai": 6}
    assert get_preset("vaihingen").legend.channels == ("near-infrared", "red", "green")
    assert get_preset("potsdam").legend.channels == ("red", "green", "blue")
    assert get_preset("potsdam").legend.class_id("clutter") == 5
    assert get_preset("loveda").legend.ignore_value == 0
    assert get_preset("deepglobe").legend.ignore_color == (0, 0, 0)
    with pytest.raises(ValueError, match=r"Unknown dataset preset 'nope'. Expected one of \['deepglobe'"):
        get_preset("nope")


def test_bad_root_split_and_option(tmp_path):
    with pytest.raises(DataError, match="LoveDA folder not found: .*missing"):
        preset_source("loveda", tmp_path / "missing")
    with pytest.raises(ValueError, match=r"`split` of dataset 'loveda' must be one of \['train', "
                                         r"'val'\]. Received: 'test'"):
        preset_source("loveda", tmp_path, split="test")
    with pytest.raises(ValueError, match=r"takes the options \['scene'\]. Received unknown \['eroded'\]"):
        preset_source("loveda", tmp_path, eroded=True)
    for name, pattern in [("deepglobe", "no <id>_sat.jpg under it"),
                          ("loveda", r"Train/Urban/images_png is missing"),
                          ("openearthmap", "the split list train.txt is missing"),
                          ("potsdam", "no top_potsdam_<row>_<col>_RGB.tif under it .*2_Ortho_RGB"),
                          ("vaihingen", "no top/top_mosaic_09cm_area<N>.tif under it"),
                          ("dubai", r"no <tile>/images/<name>.jpg under it")]:
        with pytest.raises(DataError, match=f"{tmp_path} does not look like .*{pattern}"):
            preset_source(name, tmp_path)


def test_from_preset_checks_the_source_class(tmp_path):
    layouts.write_loveda(tmp_path)
    assert isinstance(FolderSource.from_preset("loveda", tmp_path, split="val"), FolderSource)
    assert isinstance(TileSource.from_preset("loveda", tmp_path), FolderSource)
    with pytest.raises(ValueError, match="Preset 'potsdam' is read by GeoTiffSource, not FolderSource"):
        FolderSource.from_preset("potsdam", tmp_path)


# --------------------------------------------------------------------------------- DeepGlobe
def test_deepglobe_binarised_colours_windows_and_unknown(tmp_path):
    expected = layouts.write_deepglobe(tmp_path)
    whole = preset_source("deepglobe", tmp_path, window=None)
    assert [p[1].name for p in whole.pairs] == ["101_mask.png", "202_mask.png"]  # valid/ skipped
    assert_tiles(whole, expected, 10**6)
    windowed = preset_source("deepglobe", tmp_path, window=32)  # 48 x 40 -> 2 x 2 windows
    tiles = assert_tiles(windowed, expected, 32)
    assert len(tiles) == 8 and tiles[1][1].shape == (32, 32)
    assert (tiles[0][1] == -1).any()  # "unknown" (0, 0, 0) is ignore
    assert len(preset_source("deepglobe", tmp_path, window=64)) == 2  # window > file: whole


def test_deepglobe_errors(tmp_path):
    layouts.write_deepglobe(tmp_path)
    mask = tmp_path / "train" / "202_mask.png"
    colors = np.array(Image.open(mask))
    colors[3, 4] = (230, 20, 10)  # binarises to red, no DeepGlobe code
    Image.fromarray(colors).save(mask)
    source = preset_source("deepglobe", tmp_path)
    with pytest.raises(LegendError, match=r"202_mask.png: 1 pixels have colours not in legend "
                                          r"'deepglobe_landcover', e.g. \[\(255, 0, 0\)\]"):
        list(source.tiles())
    with pytest.raises(Exception, match=r"202_mask.png: 1 pixels .*\(255, 0, 0\)"):
        list(source.as_dataset())
    (tmp_path / "train" / "303_sat.jpg").write_bytes((tmp_path / "train" / "101_sat.jpg").read_bytes())
    with pytest.raises(DataError, match=r"1 images in .*train have no mask, e.g. .*303_mask.png"):
        preset_source("deepglobe", tmp_path)
    with pytest.raises(DataError, match=r"hold no <id>_mask.png; only the training images"):
        preset_source("deepglobe", tmp_path / "valid")


# ------------------------------------------------------------------------------------ LoveDA
def test_loveda_splits_scenes_and_no_data(tmp_path):
    expected = layouts.write_loveda(tmp_path)
    train = preset_source("loveda", tmp_path)
    assert [(p.parent.parent.name, p.name) for p, _ in train.pairs] == [("Urban", "1366.png"),
                                                                         ("Rural", "0.png")]
    tiles = assert_tiles(train, expected, 512)  # the Rural mask is a palette PNG: indices read
    assert all((ids == -1).any() for _, ids in tiles)  # value 0, no-data
    val = preset_source("loveda", tmp_path, split="val", window=16)
    assert len(assert_tiles(val, expected, 16)) == 2 * 3 * 3
    rural = preset_source("loveda", tmp_path, scene="rural")
    assert [p.name for p, _ in rural.pairs] == ["0.png"]
    with pytest.raises(ValueError, match="`scene` must be 'urban', 'rural' or both"):
        preset_source("loveda", tmp_path, scene="suburban")


def test_loveda_values_outside_the_legend(tmp_path):
    layouts.write_loveda(tmp_path)
    mask = tmp_path / "Val" / "Urban" / "masks_png" / "3514.png"
    values = np.array(Image.open(mask))
    values[0, :3] = 9
    Image.fromarray(values).save(mask)
    with pytest.raises(LegendError, match=r"3514.png: values \[9\] are not class values of legend "
                                          r"'loveda' \(expected \[1, 2, 3, 4, 5, 6, 7\], ignore 0\)"):
        list(preset_source("loveda", tmp_path, split="val").tiles())


# ------------------------------------------------------------------------------ OpenEarthMap
def test_openearthmap_split_lists_georef_and_missing_xbd_images(tmp_path):
    expected = layouts.write_openearthmap(tmp_path)
    with pytest.warns(UserWarning, match=r"OpenEarthMap split 'train': reading 2 of its 3 tiles; "
                                         r"1 have no image .*mexico_3.tif.*xbd_files.csv"):
        train = preset_source("openearthmap", tmp_path, window=32)  # the archive folder's parent
    assert isinstance(train, GeoTiffSource) and train.preset == "openearthmap"
    assert [p.split("/")[-1] for p, _ in train.pairs] == ["aachen_1.tif", "buenos_aires_12.tif"]
    tiles = assert_tiles(train, expected, 32)
    assert len(tiles) == 2 * 2 * 2 and any((ids == -1).any() for _, ids in tiles)  # unknown
    assert [i for i, _, _ in train.windows[:4]] == [0, 1, 0, 1]  # interleaved over the rasters
    crs, transform = train.window_georef(1)  # second raster, first window
    index, row, col = train.windows[1]
    from lcgan.data import raster
    with raster.RasterReader(train.pairs[index][0]) as src:
        assert crs == src.profile["crs"] == layouts.CRS
        assert transform == src.profile["transform"] @ type(transform).translation(col, row)
    crs, transform = train.window_georef(7)
    assert transform.c == src.profile["transform"].c + 16 * 0.5  # col 16 of 48, 0.5 m pixels
    val = preset_source("openearthmap", tmp_path / "OpenEarthMap_wo_xBD", split="val", window=32)
    assert [p.split("/")[-1] for p, _ in val.pairs] == ["aachen_2.tif"]


def test_openearthmap_values_outside_the_legend(tmp_path):
    layouts.write_openearthmap(tmp_path)
    label = tmp_path / "OpenEarthMap_wo_xBD" / "aachen" / "labels" / "aachen_2.tif"
    from lcgan.data import raster
    with raster.RasterReader(label) as src:
        values, profile = src.read(0, 0, 64, 48), src.profile
    values[0, 5, 5] = 12
    raster.write_geotiff(label, values, crs=profile["crs"], transform=profile["transform"],
                         overwrite=True)
    with pytest.raises(LegendError, match=r"aachen_2.tif window \(0, 0\): values \[12\] are not "
                                          r"class values of legend 'openearthmap'"):
        list(preset_source("openearthmap", tmp_path, split="val", window=32).tiles())


# ------------------------------------------------------------------------------------- ISPRS
def test_potsdam_colours_off_palette_cars_eroded_and_splits(tmp_path):
    expected = layouts.write_potsdam(tmp_path)
    with pytest.warns(UserWarning, match=r"ISPRS Potsdam split 'train': reading 1 of its 24 tiles"):
        train = preset_source("potsdam", tmp_path, window=32)
    assert [p.split("/")[-1] for p, _ in train.pairs] == ["top_potsdam_2_10_RGB.tif"]
    tiles = assert_tiles(train, expected["full"], 32)  # (252, 255, 0) cars are cars
    assert len(tiles) == 9 and not any((ids == -1).any() for _, ids in tiles)
    eroded = quiet("potsdam", tmp_path, split="test", window=32, eroded=True)
    assert [p.split("/")[-1] for p, l in eroded.pairs] == ["top_potsdam_2_13_RGB.tif"]
    assert eroded.pairs[0][1].endswith("5_Labels_all_noBoundary/top_potsdam_2_13_label_noBoundary.tif")
    assert any((ids == -1).any() for _, ids in assert_tiles(eroded, expected["eroded"], 32))
    both = quiet("potsdam", tmp_path, split="all", window=40)
    assert len(both) == 2 * 2 * 2
    assert both.window_georef(0)[0] == layouts.CRS  # the labels have none; the image's is kept


def test_potsdam_rgbir_images_and_missing_labels(tmp_path):
    layouts.write_potsdam(tmp_path, tiles=("2_10",))
    from lcgan.data import raster
    rgb = tmp_path / "2_Ortho_RGB" / "top_potsdam_2_10_RGB.tif"
    with raster.RasterReader(rgb) as src:
        bands, profile = src.read(0, 0, 80, 72), src.profile
    (tmp_path / "4_Ortho_RGBIR").mkdir()
    raster.write_geotiff(tmp_path / "4_Ortho_RGBIR" / "top_potsdam_2_10_RGBIR.tif",
                         np.concatenate([bands, bands[:1] // 2]), crs=profile["crs"],
                         transform=profile["transform"])
    rgb.unlink()
    source = quiet("potsdam", tmp_path, window=32)
    assert source.pairs[0][0].endswith("top_potsdam_2_10_RGBIR.tif")
    np.testing.assert_array_equal(next(source.tiles())[0], bands[:, :32, :32].transpose(1, 2, 0))
    for label in (tmp_path / "5_Labels_all").iterdir():
        label.unlink()
    with pytest.raises(DataError, match=r"no top_potsdam_<row>_<col>_label.tif under it "
                                        r"\(expected in 5_Labels_all/"):
        preset_source("potsdam", tmp_path)


def test_vaihingen_irrg_label_folders_and_magenta(tmp_path):
    expected = layouts.write_vaihingen(tmp_path)
    train = quiet("vaihingen", tmp_path, window=32)
    assert [l.split("/")[-2] for _, l in train.pairs] == ["gts_for_participants"]
    assert train.legend.channels == ("near-infrared", "red", "green")
    assert_tiles(train, expected["full"], 32)
    test = quiet("vaihingen", tmp_path, split="test", window=32)
    assert test.pairs[0][1].endswith("ground_truth_COMPLETE/top_mosaic_09cm_area2.tif")
    assert_tiles(test, expected["full"], 32)
    eroded = quiet("vaihingen", tmp_path, split="all", window=32, eroded=True)
    assert all(l.endswith("_noBoundary.tif") for _, l in eroded.pairs)
    assert_tiles(eroded, expected["eroded"], 32)
    assert eroded.window_georef(0)[0] is None  # plain TIFFs: no CRS to keep
    label = tmp_path / "gts_for_participants" / "top_mosaic_09cm_area1.tif"
    colors = np.array(Image.open(label))
    colors[0, :2] = [(255, 0, 255), (240, 12, 250)]  # re-encoding artefacts: ignore
    Image.fromarray(colors).save(label)
    ids = next(quiet("vaihingen", tmp_path, window=32).tiles())[1]
    assert ids[0, :2].tolist() == [-1, -1]
    Image.fromarray(colors[:-1]).save(label)
    with pytest.raises(DataError, match=r"Size differs between .*area1.tif \(72 x 64\) and its "
                                        r"labels .*area1.tif \(71 x 64\)"):
        quiet("vaihingen", tmp_path, window=32)


# ------------------------------------------------------------------------------------- Dubai
def test_dubai(tmp_path):
    expected = layouts.write_dubai(tmp_path)
    source = preset_source("dubai", tmp_path)
    assert source.window is None and source.legend.name == "dubai_aerial"
    assert Image.open(source.pairs[1][1]).mode == "P"
    assert_tiles(source, expected, 10**6)


# ------------------------------------------------------------------------------ into training
@pytest.mark.parametrize("name", preset_names())
def test_make_dataset_batch_from_each_preset(tmp_path, name):
    WRITERS[name](tmp_path)
    source = quiet(name, tmp_path, split={"dubai": "all"}.get(name, "train"),
                   window=None if name == "dubai" else 32)
    batch = next(iter(make_dataset(source, task="mixlc", image_size=32, batch_size=2, seed=1)))
    assert batch["rgb"].shape == (2, 32, 32, 3)
    one_hot = [v for v in batch.values() if v.shape == (2, 32, 32, source.legend.num_classes)]
    assert one_hot and float(np.asarray(one_hot[0]).max()) == 1.0


def test_pack_a_preset_and_read_it_from_the_folder_given(tmp_path):
    layouts.write_loveda(tmp_path / "loveda")
    source = preset_source("loveda", tmp_path / "loveda", window=32)
    path = build_tfds(source, tmp_path / "packed", shard_size=3)
    assert path == tmp_path / "packed" / "lcgan_tiles" / "1.0.0"
    for given in (tmp_path / "packed", tmp_path / "packed" / "lcgan_tiles", path):
        packed = TfdsSource(given)
        assert packed.path == path and len(packed) == len(source) == 2 * 2 * 2
        assert packed.legend == source.legend and packed.legend.ignore_value == 0
    assert sorted(ids.tobytes() for _, ids in packed.tiles()) == sorted(
        ids.tobytes() for _, ids in source.tiles())
    build_tfds(source, tmp_path / "packed", name="other")
    with pytest.raises(DataError, match=r"packed holds 2 datasets written by build_tfds: .*give one"):
        TfdsSource(tmp_path / "packed")


# ------------------------------------------------------------------ legend features they use
def test_legend_several_ignore_colours_and_channels_round_trip(tmp_path):
    legend = get_preset("vaihingen").legend
    assert legend.ignore_colors == ((0, 0, 0), (255, 0, 255)) and legend.ignore_color == (0, 0, 0)
    legend.to_json(tmp_path / "legend.json")
    again = Legend.from_json(tmp_path / "legend.json")
    assert again == legend and again.channels == legend.channels
    assert again.ignore_colors == legend.ignore_colors
    assert "channels" not in get_preset("potsdam").legend.to_dict()
    ids = legend.ids_from_colors(np.array([[(255, 0, 255), (0, 0, 0), (255, 0, 0)]], np.uint8))
    assert ids.tolist() == [[-1, -1, 5]]
    with pytest.raises(ValueError, match="ignore colour must be .* not a class colour"):
        Legend(["a"], [(1, 2, 3)], ignore_color=[(0, 0, 0), (1, 2, 3)])
    with pytest.raises(ValueError, match="`channels` must name three image channels"):
        Legend(["a"], [(1, 2, 3)], channels=("nir", "red"))
