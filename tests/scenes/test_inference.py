"""Scene editing over GeoTIFFs: georeferencing, untouched pixels, seams, interruption, errors."""

import os
import threading

import keras
import numpy as np
import pytest

from lcgan.data import raster
from lcgan.data.grid import window_offsets
from lcgan.data.legend import Legend
from lcgan.errors import DataError, LegendError, RasterMismatchError
from lcgan.scenes.export import export_generator
from lcgan.scenes.inference import edit_scene
from lcgan.models import unet_generator
from lcgan.scenes.windows import grow_mask

LEGEND = Legend(["water", "forest", "urban", "field"],
                [(0, 0, 255), (0, 128, 0), (128, 128, 128), (255, 255, 0)], name="test")
K = LEGEND.num_classes
EDIT = (slice(30, 60), slice(20, 50))  # rows, cols of the block turned into forest


class FakeModel:
    """A loaded-generator stand-in: ``fn(rgb, landcover, mask)`` per call, inputs recorded."""

    def __init__(self, fn, *, task="mixlc", takes_mask=False, num_classes=K):
        self.fn, self.calls = fn, []
        self.metadata = {"legend": LEGEND.to_dict(), "num_classes": num_classes, "task": task,
                         "takes_mask": takes_mask, "spatial_size": [None, None]}

    def __call__(self, *, rgb, landcover, mask=None):
        self.calls.append({"rgb": rgb, "landcover": landcover, "mask": mask})
        return self.fn(rgb, landcover, mask)


def _constant(value):
    return FakeModel(lambda rgb, lc, mask: np.full(rgb.shape, value, np.float32))


@pytest.fixture
def scene(geotiff_pair, tmp_path):
    """A 100 x 70 scene, its landcover with ``EDIT`` set to forest, and the out path."""
    pair = geotiff_pair(height=100, width=70, num_classes=K, rgb_nodata=0)
    edited = pair.landcover.copy()
    edited[EDIT] = LEGEND.class_id("forest")
    pair.edited_path = tmp_path / "edited_landcover.tif"
    raster.write_geotiff(pair.edited_path, edited, crs=pair.crs, transform=pair.transform)
    pair.changed = grow_mask(edited != pair.landcover, 3)
    pair.out_path = tmp_path / "out.tif"
    return pair


def _edit(model, scene, **kwargs):
    options = dict(original_landcover_path=scene.landcover_path, window=32, overlap=8,
                   batch_size=4, progress=False)
    options.update(kwargs)
    edit_scene(model, scene.rgb_path, scene.edited_path, scene.out_path, **options)
    with raster.RasterReader(scene.out_path) as src:
        return src.profile, src.read(0, 0, src.profile["height"], src.profile["width"])


def test_exported_unet_keeps_georeferencing_and_unchanged_pixels(scene, tmp_path):
    rgb = scene.rgb.copy()
    rgb[:, 40, 30:35] = 0  # nodata pixels inside the edited block stay nodata
    raster.write_geotiff(scene.rgb_path, rgb, crs=scene.crs, transform=scene.transform,
                         nodata=0, overwrite=True)
    export = export_generator(unet_generator(image_size=32, num_classes=K, width=8),
                              tmp_path / "export", legend=LEGEND, task="mixlc", image_size=32)
    profile, out = _edit(export, scene)
    with raster.RasterReader(scene.rgb_path) as src:
        assert profile == src.profile
    assert profile["crs"] == "EPSG:32633" and profile["nodata"] == 0
    np.testing.assert_array_equal(out[:, ~scene.changed], rgb[:, ~scene.changed])
    np.testing.assert_array_equal(out[:, 40, 30:35], 0)
    assert (out[:, scene.changed] != rgb[:, scene.changed]).mean() > 0.5


def test_constant_model_gives_constant_result_across_window_borders(scene):
    _, out = _edit(_constant(0.25), scene, mask_path=scene.edited_path,
                   original_landcover_path=None, grow=0)
    changed = np.asarray(raster.RasterReader(scene.edited_path).read(0, 0, 100, 70)[0]) != 0
    assert changed.sum() > 32 * 32  # the mask spans many windows and their borders
    np.testing.assert_array_equal(out[:, changed], round(1.25 * 127.5))
    np.testing.assert_array_equal(out[:, ~changed], scene.rgb[:, ~changed])


def test_per_pixel_model_is_seamless(scene, tmp_path):
    """A 1x1-conv generator gives every window the same value per pixel: blending must keep it."""
    inputs = {"rgb": keras.Input((None, None, 3), name="rgb"),
              "landcover_onehot": keras.Input((None, None, K), name="landcover_onehot")}
    x = keras.layers.Concatenate()(list(inputs.values()))
    pointwise = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="tanh")(x))
    export = export_generator(pointwise, tmp_path / "export", legend=LEGEND, task="mixlc",
                              image_size=32, keras_file=False)
    _, out = _edit(export, scene, window=32, overlap=12)
    with raster.RasterReader(scene.edited_path) as src:
        ids = src.read(0, 0, 100, 70)[0].astype(np.int32)
    unit = scene.rgb.transpose(1, 2, 0)[None] / 127.5 - 1.0
    whole = pointwise({"rgb": keras.ops.convert_to_tensor(unit, "float32"),
                       "landcover_onehot": keras.ops.one_hot(ids[None], K)}).numpy()[0]
    expected = np.clip(np.rint((whole + 1.0) * 127.5), 0, 255).transpose(2, 0, 1)
    diff = np.abs(out[:, scene.changed].astype(int) - expected[:, scene.changed])
    assert diff.max() <= 1


def test_inpaint_model_gets_blanked_rgb_and_mask_and_skips_unchanged_windows(scene):
    model = FakeModel(lambda rgb, lc, mask: rgb, task="inpaint", takes_mask=True)
    _edit(model, scene, batch_size=2)
    probe, *calls = model.calls  # the first call is the probe run at the window size
    assert probe["rgb"].shape == (1, 32, 32, 3) and not probe["rgb"].any()
    windows = sum(len(call["rgb"]) for call in calls)
    assert 0 < windows < len(window_offsets(100, 32, 24)) * len(window_offsets(70, 32, 24))
    for call in calls:
        assert call["mask"].shape == call["rgb"].shape[:3] + (1,) and call["mask"].max() == 1
        np.testing.assert_array_equal(call["rgb"][call["mask"][..., 0] == 1], 0.0)
        assert call["landcover"].dtype == np.int32 and call["landcover"].max() < K


def test_interruption_leaves_no_output_and_no_temp_file(scene):
    def fail_third(rgb, lc, mask):
        if len(model.calls) == 3:
            raise RuntimeError("interrupted")
        return rgb

    model = FakeModel(fail_third)
    before = sorted(os.listdir(scene.out_path.parent))
    with pytest.raises(RuntimeError, match="interrupted"):
        _edit(model, scene, batch_size=1)
    assert sorted(os.listdir(scene.out_path.parent)) == before
    assert not _io_threads()


def _io_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith("edit_scene")]


def test_write_error_in_the_writer_thread_reaches_the_caller(scene, monkeypatch):
    def fail_second(self, array, row_off=0, col_off=0):
        if row_off:
            raise OSError("disk full")
        write(self, array, row_off, col_off)

    write = raster.RasterWriter.write
    monkeypatch.setattr(raster.RasterWriter, "write", fail_second)
    before = sorted(os.listdir(scene.out_path.parent))
    with pytest.raises(OSError, match="disk full"):
        _edit(_constant(0.0), scene, mask_path=scene.edited_path, original_landcover_path=None,
              window=16, overlap=4)
    assert sorted(os.listdir(scene.out_path.parent)) == before
    assert not _io_threads()


def test_output_rows_are_written_once_in_whole_blocks(scene, monkeypatch):
    """Strips end between blocks; each compressed block must still be written exactly once."""
    writes = []

    def record(self, array, row_off=0, col_off=0):
        writes.append((row_off, array.shape[1], array.shape[2], self.block_rows))
        write(self, array, row_off, col_off)

    write = raster.RasterWriter.write
    monkeypatch.setattr(raster.RasterWriter, "write", record)
    _, out = _edit(_constant(0.25), scene, window=16, overlap=4)
    block = writes[0][3]
    assert 1 < block < 100 and block % 12 != 0  # strides of 12 rows end inside blocks
    assert [(r, w) for r, _, w, _ in writes] == [(r, 70) for r in range(0, 100, block)]
    assert all(h == min(block, 100 - r) for r, h, _, _ in writes)
    np.testing.assert_array_equal(out[:, ~scene.changed], scene.rgb[:, ~scene.changed])


def test_input_errors(scene, geotiff_pair, tmp_path):
    model = _constant(0.0)
    with pytest.raises(DataError, match="missing.tif"):
        edit_scene(model, scene.rgb_path, tmp_path / "missing.tif", scene.out_path,
                   mask_path=scene.edited_path, progress=False)
    other = geotiff_pair(height=100, width=70, name="other")
    with raster.RasterReader(other.landcover_path) as src:
        lc = src.read(0, 0, 100, 70)
    shifted = raster.transform_from_bounds(0, 0, 700, 1000, 70, 100)
    raster.write_geotiff(tmp_path / "utm32.tif", lc, crs="EPSG:32632", transform=scene.transform)
    raster.write_geotiff(tmp_path / "shifted.tif", lc, crs=scene.crs, transform=shifted)
    raster.write_geotiff(tmp_path / "small.tif", lc[:, :50], crs=scene.crs,
                         transform=scene.transform)
    for name in ("utm32.tif", "shifted.tif", "small.tif"):
        with pytest.raises(RasterMismatchError, match=name):
            _edit(model, scene, original_landcover_path=tmp_path / name)
    with pytest.raises(LegendError, match="exported for 5 classes"):
        _edit(FakeModel(lambda *a: a[0], num_classes=5), scene)
    raster.write_geotiff(tmp_path / "bad_values.tif", np.full_like(lc, 9), crs=scene.crs,
                         transform=scene.transform)
    with pytest.raises(LegendError, match=r"bad_values.tif: values \[9\]"):
        edit_scene(model, scene.rgb_path, tmp_path / "bad_values.tif", scene.out_path,
                   original_landcover_path=scene.landcover_path, progress=False)
    assert not scene.out_path.exists()
    with pytest.raises(ValueError, match="exactly one"):
        _edit(model, scene, mask_path=scene.edited_path)
    with pytest.raises(ValueError, match="`overlap`"):
        _edit(model, scene, overlap=32)
    _edit(model, scene)
    with pytest.raises(FileExistsError, match="out.tif"):
        _edit(model, scene)
    _edit(model, scene, overwrite=True)




def test_match_colors_gives_the_edit_the_scenes_colour_of_the_class(scene):
    """A generator painting forest grey is shifted to the mean of the scene's other forest."""
    forest = LEGEND.class_id("forest")
    rgb = scene.rgb.copy()
    rng = np.random.default_rng(1)
    others = (scene.landcover == forest) & ~scene.changed
    rgb[:, others] = rng.integers(10, 60, (3, others.sum())) + np.array([[0], [80], [10]])
    raster.write_geotiff(scene.rgb_path, rgb, crs=scene.crs, transform=scene.transform,
                         nodata=0, overwrite=True)
    columns = np.where(np.arange(32) % 2 == 0, 0.1, -0.1)[None, None, :, None]  # grey stripes
    textured = FakeModel(lambda rgb, lc, mask: np.broadcast_to(columns, rgb.shape).astype(np.float32))
    _, plain = _edit(textured, scene)
    _, matched = _edit(textured, scene, match_colors=True, overwrite=True)
    new_forest = np.zeros_like(scene.changed)
    new_forest[EDIT] = True
    scene_mean = rgb[:, others].mean(axis=1)  # about (35, 115, 45)
    assert np.abs(plain[:, new_forest].mean(axis=1) - scene_mean).max() > 50
    np.testing.assert_allclose(matched[:, new_forest].mean(axis=1), scene_mean, atol=2.0)
    assert matched[:, new_forest].std(axis=1).min() > 10  # the stripes survive the shift
    np.testing.assert_array_equal(matched[:, ~scene.changed], rgb[:, ~scene.changed])
