"""The ``lcgan`` command, end to end through ``main([...])``: help, edit, export, sample, errors."""

import sys

import numpy as np
import pytest
from PIL import Image

from lcgan.cli import COMMANDS, main
from lcgan.data import raster
from lcgan.data.legend import Legend
from lcgan.scenes.export import export_generator, load_generator
from lcgan.models import unet_generator

LEGEND = Legend(["water", "forest", "urban", "field"],
                [(0, 0, 255), (0, 128, 0), (128, 128, 128), (255, 255, 0)], name="test")
K = LEGEND.num_classes


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny exported 4-class generator, and the .keras file it came from."""
    folder = tmp_path_factory.mktemp("model")
    generator = unet_generator(image_size=32, num_classes=K, width=8)
    generator.save(folder / "generator.keras")
    path = export_generator(generator, folder / "export", legend=LEGEND, task="mixlc",
                            image_size=32, keras_file=False)
    return path, folder / "generator.keras"


def _run(capsys, *argv):
    """``main(argv)`` -> (exit status, stderr)."""
    status = main([str(a) for a in argv])
    return status, capsys.readouterr().err


def _assert_one_line_error(status, err, *fragments):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lcgan ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_of_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: lcgan {name}")


def test_no_or_unknown_command(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == 2


def test_edit_end_to_end_and_its_errors(capsys, exported, geotiff_pair, tmp_path):
    scene = geotiff_pair(height=80, width=72, num_classes=K)
    edited = scene.landcover.copy()
    edited[20:50, 10:40] = LEGEND.class_id("forest")
    raster.write_geotiff(tmp_path / "edited.tif", edited, crs=scene.crs, transform=scene.transform)
    out = tmp_path / "out.tif"
    base = ["edit", "--model", exported[0], "--rgb", scene.rgb_path, "--landcover",
            tmp_path / "edited.tif", "--out", out, "--window", 32, "--overlap", 8,
            "--no-progress"]
    original = ["--original-landcover", scene.landcover_path]
    assert _run(capsys, *base, *original)[0] == 0
    with raster.RasterReader(out) as src:
        assert src.profile["crs"] == scene.crs and src.profile["transform"] == scene.transform
        assert not np.array_equal(src.read(0, 0, 80, 72), scene.rgb)

    _assert_one_line_error(*_run(capsys, *base, *original), "out.tif", "already exists")
    assert _run(capsys, *base, *original, "--overwrite", "--match-colors")[0] == 0
    _assert_one_line_error(*_run(capsys, *base, "--mask", tmp_path / "nowhere.tif",
                                 "--overwrite"), "nowhere.tif", "not found")
    lc = edited[None]
    raster.write_geotiff(tmp_path / "utm32.tif", lc, crs="EPSG:32632", transform=scene.transform)
    _assert_one_line_error(*_run(capsys, *base, "--mask", tmp_path / "utm32.tif",
                                 "--overwrite"), "utm32.tif", "CRS")
    raster.write_geotiff(tmp_path / "small.tif", lc[:, :40], crs=scene.crs,
                         transform=scene.transform)
    _assert_one_line_error(*_run(capsys, *base, "--mask", tmp_path / "small.tif",
                                 "--overwrite"), "small.tif", "Size")
    five = Legend([str(i) for i in range(5)], [(i, i, i) for i in range(5)])
    five.to_json(tmp_path / "five.json")
    _assert_one_line_error(*_run(capsys, *base, *original, "--overwrite", "--legend",
                                 tmp_path / "five.json"), "5 classes", "4 classes")
    _assert_one_line_error(*_run(capsys, *[a if a != exported[0] else tmp_path for a in base],
                                 *original, "--overwrite"), "not a complete lcgan export")


def test_export_from_keras_file(capsys, exported, tmp_path):
    LEGEND.to_json(tmp_path / "legend.json")
    argv = ["export", "--generator", exported[1], "--legend", tmp_path / "legend.json",
            "--task", "mixlc", "--image-size", 32, "--out", tmp_path / "e"]
    assert _run(capsys, *argv)[0] == 0
    assert load_generator(tmp_path / "e").metadata["task"] == "mixlc"
    _assert_one_line_error(*_run(capsys, *argv), "already exists")
    assert _run(capsys, *argv, "--overwrite", "--no-keras-file")[0] == 0
    missing = [a if a != exported[1] else tmp_path / "none.keras" for a in argv]
    _assert_one_line_error(*_run(capsys, *missing, "--overwrite"), "none.keras")
    bundled = [a for a in argv if a not in ("--legend", tmp_path / "legend.json")]
    _assert_one_line_error(*_run(capsys, *bundled, "--overwrite"), "6 classes")


def test_sample_writes_grids(capsys, tmp_path):
    status, _ = _run(capsys, "sample", "--synthetic", "--image-size", 32, "--batch-size", 2,
                     "--batches", 2, "--out", tmp_path / "grids")
    assert status == 0
    for index in range(2):
        grid = np.asarray(Image.open(tmp_path / "grids" / f"samples_{index}.png"))
        assert grid.shape == (2 * 32, 4 * 32, 3)


def test_train_require_vgg_offline_is_a_one_line_error(capsys, offline, tmp_path):
    status, err = _run(capsys, "train", "--require-vgg", "--image-size", 32, "--batch-size", 2,
                       "--width", 4, "--steps-per-epoch", 1, "--out", tmp_path / "run")
    _assert_one_line_error(status, err, "vgg16_weights_tf_dim_ordering_tf_kernels_notop")
