"""End-to-end runs of the two training examples on tiny settings (2 steps per epoch)."""

import csv
import importlib.util
import math
import os

import keras
import pytest

from lcgan.errors import WeightsUnavailableError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--image-size", "32", "--batch-size", "2", "--steps-per-epoch", "2", "--width", "4"]


def _example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No cached VGG16 weights and no network."""
    def unreachable(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(keras.utils, "get_file", unreachable)


def _history(out):
    """Rows of history.csv without the empty validation columns CSVLogger adds ("NA")."""
    with open(os.path.join(out, "history.csv")) as f:
        return [{k: v for k, v in row.items() if v != "NA"} for row in csv.DictReader(f)]


def test_train_mixlc_offline_runs_without_feature_loss_and_says_so(offline, tmp_path, capsys):
    out = _example("train_mixlc").main(TINY + ["--epochs", "1", "--out", str(tmp_path / "run")])
    printed = capsys.readouterr().out
    assert "THE VGG16 FEATURE LOSS IS OFF" in printed and out in printed
    for name in ("gen_1.png", "generator.keras", "export", "checkpoints", "logs"):
        assert os.path.exists(os.path.join(out, name)), name
    rows = _history(out)
    assert len(rows) == 1 and "g_feature" not in rows[0]
    assert all(math.isfinite(float(v)) for k, v in rows[0].items() if k != "epoch")


def test_train_mixlc_require_vgg_fails_offline(offline, tmp_path):
    with pytest.raises(WeightsUnavailableError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop"):
        _example("train_mixlc").main(TINY + ["--require-vgg", "--out", str(tmp_path / "run")])


def test_train_inpaint_class_runs_and_the_same_command_resumes(tmp_path, capsys):
    example = _example("train_inpaint_class")
    command = TINY + ["--out", str(tmp_path / "run"), "--epochs"]
    out = example.main(command + ["1"])
    example.main(command + ["2"])  # the same run, asked for one more epoch
    assert "resumed from" in capsys.readouterr().out
    rows = _history(out)
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert {"d_acgan", "g_acgan"} <= set(rows[0])
    assert all(math.isfinite(float(v)) for row in rows for k, v in row.items() if k != "epoch")
    assert os.path.exists(os.path.join(out, "gen_2.png"))
