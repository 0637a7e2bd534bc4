"""Failure modes, data: every bad input file is named in one line, also from inside tf.data.

Cases (real files: crops of the bundled tiles, written here): a truncated JPEG, a JPEG with
garbage in its data, a mask colour that is not in the legend, a tile smaller than the crop, a
mask without its image, duplicate class names in a legend; through ``lcgan sample`` and
``lcgan train``. A 16-bit GeoTIFF asks for ``--scaling``, which the command line takes.
"""

import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from failure_helpers import one_line_error
from lcgan.data import raster
from lcgan.data.sources import sample_source

SIDE = 72


@pytest.fixture
def tiles(tmp_path):
    """A folder of 4 real 72 x 72 tile pairs (crops of the bundled sample) and its legend."""
    root = tmp_path / "tiles"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    shutil.copy(sample_source().root / "legend.json", root / "legend.json")
    for index, (image, mask) in enumerate(sample_source().pairs[:4]):
        Image.open(image).crop((0, 0, SIDE, SIDE)).save(root / "images" / f"t{index}.jpg",
                                                         quality=95)
        Image.open(mask).convert("RGB").crop((0, 0, SIDE, SIDE)).save(
            root / "masks" / f"t{index}.png")
    return root


def _truncated_jpeg(root):
    path = root / "images" / "t2.jpg"
    path.write_bytes(path.read_bytes()[:400])
    return path


def _garbage_jpeg(root):
    path = root / "images" / "t1.jpg"
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 300] = np.random.default_rng(0).bytes(300)
    path.write_bytes(bytes(data))
    return path


def _unknown_mask_colour(root):
    path = root / "masks" / "t3.png"
    mask = np.asarray(Image.open(path)).copy()
    mask[10:14, 10:14] = (1, 2, 3)
    Image.fromarray(mask).save(path)
    return path


def _small_tile(root):
    for sub, suffix in (("images", "jpg"), ("masks", "png")):
        path = root / sub / f"t0.{suffix}"
        Image.open(path).crop((0, 0, 40, 40)).save(path)
    return root / "images" / "t0.jpg"


def _image_without_mask(root):
    os.remove(root / "masks" / "t1.png")
    return root / "masks" / "t1.png"


def _duplicate_class_name(root):
    legend = json.loads((root / "legend.json").read_text())
    legend["classes"][1]["name"] = legend["classes"][0]["name"]
    (root / "legend.json").write_text(json.dumps(legend))
    return root / "legend.json"


BAD_DATA = {  # case -> (make the fault, words the error must hold besides the file name)
    "truncated_jpeg": (_truncated_jpeg, "Cannot read image file"),
    "garbage_in_jpeg": (_garbage_jpeg, "Cannot read image file"),
    "mask_colour_not_in_legend": (_unknown_mask_colour, "not in legend"),
    "tile_smaller_than_image_size": (_small_tile, "`image_size` 64"),
    "image_without_mask": (_image_without_mask, "has no mask"),
    "duplicate_class_names": (_duplicate_class_name, "must be distinct"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_lcgan_sample_names_the_bad_file(case, tiles, tmp_path, capsys):
    fault, words = BAD_DATA[case]
    path = fault(tiles)
    line = one_line_error(capsys, ["sample", "--data", tiles, "--image-size", 64,
                                    "--batch-size", 2, "--batches", 2, "--out", tmp_path / "o"])
    assert str(path) in line and words in line, line


@pytest.mark.parametrize("case", ["garbage_in_jpeg", "tile_smaller_than_image_size"])
def test_lcgan_train_names_the_bad_file_before_training(case, tiles, tmp_path, capsys):
    fault, words = BAD_DATA[case]
    path = fault(tiles)
    line = one_line_error(capsys, [
        "train", "--data-dir", tiles, "--image-size", 64, "--batch-size", 2, "--width", 4,
        "--epochs", 1, "--steps-per-epoch", 1, "--vgg-weights", "none", "--out", tmp_path / "run"])
    assert str(path) in line and words in line, line
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_16_bit_geotiff_asks_for_scaling_and_the_command_line_takes_it(geotiff_pair, tmp_path,
                                                                       capsys):
    scene = geotiff_pair(height=40, width=40, dtype="uint16", num_classes=3)
    legend = tmp_path / "legend.json"
    legend.write_text(json.dumps({"classes": [
        {"id": i, "name": f"c{i}", "color": [i * 60, 0, 0]} for i in range(3)]}))
    base = ["train", "--geotiff", scene.rgb_path, scene.landcover_path, "--legend", legend,
            "--image-size", 32, "--out", tmp_path / "run"]
    line = one_line_error(capsys, base)
    assert "not uint8" in line and "--scaling percentile 2 98" in line, line
    line = one_line_error(capsys, [*base, "--scaling", "percentile", "low", "high"])
    assert "`--scaling` takes 'factor F' or 'percentile LO HI'" in line, line
    line = one_line_error(capsys, [*base, "--scaling", "factor", 0.0039, "--epochs", 0])
    assert "nothing would be trained" in line, line  # the scaled source was accepted
    with raster.RasterReader(scene.rgb_path) as src:
        assert src.profile["dtype"] == "uint16"
