"""``--dataset`` and ``lcgan pack`` end to end through ``main([...])``, on tiny copies of the
datasets' layouts (tests/preset_layouts.py)."""

import argparse
import json

import numpy as np
import pytest
from PIL import Image

import preset_layouts as layouts
from lcgan.cli import add_train_arguments, main, source_from_args
from lcgan.data.presets import get_preset
from lcgan.data.tfds_builder import TfdsSource


def _run(capsys, *argv):
    """``main(argv)`` -> (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(status, err, fragment):
    lines = [line for line in err.strip().splitlines() if line.startswith("lcgan ")]
    assert status == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], lines[0]


def test_sample_shows_the_preset_legend_colours(capsys, tmp_path):
    layouts.write_loveda(tmp_path / "LoveDA")
    status, out, _ = _run(capsys, "sample", "--dataset", "loveda", "--data", tmp_path / "LoveDA",
                          "--split", "val", "--image-size", 32, "--batch-size", 2, "--batches", 1,
                          "--out", tmp_path / "grids")
    assert status == 0 and "samples_0.png" in out
    grid = np.asarray(Image.open(tmp_path / "grids" / "samples_0.png"))
    assert grid.shape == (2 * 32, 4 * 32, 3)
    shown = {tuple(c) for c in grid[:, 32:64].reshape(-1, 3)}  # the landcover column
    palette = {tuple(c) for c in get_preset("loveda").legend.palette.tolist()}
    assert shown <= palette | {(0, 0, 0)} and len(shown & palette) >= 3


def test_train_flags_resolve_the_preset(tmp_path):
    layouts.write_loveda(tmp_path)
    parser = add_train_arguments(argparse.ArgumentParser(), "mixlc")  # as examples/train_*.py
    args = parser.parse_args(["--dataset", "loveda", "--data-dir", str(tmp_path), "--split",
                              "val", "--image-size", "640"])
    source = source_from_args(args)
    assert (source.preset, source.split, source.window) == ("loveda", "val", (640, 640))
    assert source.legend == get_preset("loveda").legend


def test_pack_a_preset_then_train_from_the_folder_given(capsys, tmp_path):
    layouts.write_potsdam(tmp_path / "Potsdam", size=(520, 516), tiles=("2_10",))
    status, out, err = _run(capsys, "pack", "--dataset", "potsdam", "--data-dir",
                            tmp_path / "Potsdam", "--out", tmp_path / "packed", "--shard-size", 3)
    assert status == 0, err
    assert "wrote 4 tiles of legend 'isprs_potsdam'" in out  # 2 x 2 windows of 512 px
    assert f"lcgan train --tfds-dir {tmp_path / 'packed'}" in out
    packed = TfdsSource(tmp_path / "packed")
    assert len(packed) == 4 and packed.legend == get_preset("potsdam").legend
    status, out, err = _run(capsys, "train", "--tfds-dir", tmp_path / "packed", "--epochs", 1,
                            "--steps-per-epoch", 1, "--image-size", 32, "--batch-size", 2,
                            "--width", 4, "--vgg-weights", "none", "--out", tmp_path / "run")
    assert status == 0, err
    exported = json.dumps(json.loads(next((tmp_path / "run" / "export").rglob("*.json")).read_text()))
    assert "isprs_potsdam" in exported and "clutter" in exported


def test_errors_are_one_line(capsys, tmp_path):
    layouts.write_loveda(tmp_path / "LoveDA")
    (tmp_path / "legend.json").write_text(json.dumps(get_preset("dubai").legend.to_dict()))
    _one_line_error(*_run(capsys, "train", "--dataset", "loveda")[::2],
                    "`dataset` 'loveda' reads `data_dir`, the folder LoveDA was extracted into")
    _one_line_error(*_run(capsys, "sample", "--dataset", "openearthmap", "--data", tmp_path,
                          "--out", tmp_path / "o")[::2],
                    f"{tmp_path} does not look like OpenEarthMap: the split list train.txt")
    _one_line_error(*_run(capsys, "sample", "--split", "val", "--out", tmp_path / "o")[::2],
                    "`split` 'val' needs `dataset`")
    _one_line_error(*_run(capsys, "pack", "--dataset", "loveda", "--data-dir", tmp_path / "LoveDA",
                          "--legend", tmp_path / "legend.json", "--out", tmp_path / "o")[::2],
                    "`dataset` 'loveda' has its own legend")
    _one_line_error(*_run(capsys, "pack", "--dataset", "loveda", "--data-dir", tmp_path / "LoveDA",
                          "--split", "test", "--out", tmp_path / "o")[::2],
                    "`split` of dataset 'loveda' must be one of ['train', 'val']")
    _one_line_error(*_run(capsys, "train", "--tfds-dir", tmp_path / "LoveDA")[::2],
                    "is not a dataset written by build_tfds (lcgan pack)")
    with pytest.raises(SystemExit):
        main(["pack", "--dataset", "nope", "--out", str(tmp_path)])
    assert "invalid choice: 'nope'" in capsys.readouterr().err
