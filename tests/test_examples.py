"""The example scripts, run as scripts (``runpy``, in this process) on tiny settings."""

import csv
import math
import os
import runpy
import sys

import keras
import numpy as np
import pytest

from lcgan.data import raster, sample_legend, sample_source
from lcgan.models import unet_generator
from lcgan.scenes.export import export_generator
from lcgan.scenes.provenance import keras_record
from lcgan.training.recipes import build_gan

from helpers import assert_edit_confined

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--image-size", "32", "--batch-size", "2", "--steps-per-epoch", "2", "--width", "4"]


def _run(monkeypatch, name, *argv):
    """Run ``examples/<name>.py`` with ``argv`` as its command line; returns its globals."""
    path = os.path.join(ROOT, "examples", f"{name}.py")
    monkeypatch.setattr(sys, "argv", [path, *map(str, argv)])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # a script may install its own
    return runpy.run_path(path, run_name="__main__")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """An untrained 32 px Mix LC export with the sample's legend (what the scripts load)."""
    path = tmp_path_factory.mktemp("model") / "export"
    generator = unet_generator(image_size=32, num_classes=sample_legend().num_classes, width=4)
    return export_generator(generator, path, legend=sample_legend(), task="mixlc", image_size=32)


def _history(out):
    """Rows of history.csv without the empty validation columns CSVLogger adds ("NA")."""
    with open(os.path.join(out, "history.csv")) as f:
        return [{k: v for k, v in row.items() if v != "NA"} for row in csv.DictReader(f)]


def _finite(rows):
    return all(math.isfinite(float(v)) for row in rows for k, v in row.items() if k != "epoch")


def _assert_follows_the_recipe(done):
    """The networks and loss weights the example built are those ``lcgan train`` builds for its
    configuration (so the example cannot drift from the recipe's defaults unnoticed)."""
    gan, recipe = done["gan"], build_gan(done["config"], sample_legend().num_classes)
    for mine, theirs in ((gan.generator, recipe.generator),
                         (gan.discriminator, recipe.discriminator)):
        assert mine.name == theirs.name and mine.count_params() == theirs.count_params()
        assert sorted(t.name for t in mine.inputs) == sorted(t.name for t in theirs.inputs)
        assert keras.tree.map_structure(lambda t: t.shape, mine.output) == \
            keras.tree.map_structure(lambda t: t.shape, theirs.output)
    assert gan.loss_weights == recipe.loss_weights and gan.gan_loss == recipe.gan_loss
    assert gan.ema_decay == recipe.ema_decay


def test_train_mixlc_offline_writes_the_outputs_of_lcgan_train(offline, tmp_path, monkeypatch,
                                                               capsys):
    out = tmp_path / "run"
    done = _run(monkeypatch, "train_mixlc", *TINY, "--epochs", "1", "--out", out)
    printed = capsys.readouterr().out
    assert "THE VGG16 FEATURE LOSS IS OFF" in printed and str(out) in printed
    for name in ("gen_1.png", "generator.keras", "export/saved_model.pb", "checkpoints", "logs",
                 "config.json"):
        assert os.path.exists(out / name), name
    rows = _history(out)
    assert len(rows) == 1 and "g_feature" not in rows[0] and _finite(rows)
    assert done["config"] == done["config"].load(out / "config.json")
    assert keras_record(out / "generator.keras")["task"] == "mixlc"
    _assert_follows_the_recipe(done)
    assert done["generated"].shape == (2, 32, 32, 3)


def test_train_inpaint_class_runs_and_the_same_command_resumes(tmp_path, monkeypatch, capsys):
    command = [*TINY, "--out", tmp_path / "run", "--epochs"]
    _run(monkeypatch, "train_inpaint_class", *command, "1")
    done = _run(monkeypatch, "train_inpaint_class", *command, "2")  # the same run, one more epoch
    assert "resumed from" in capsys.readouterr().out
    rows = _history(tmp_path / "run")
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert {"d_loss", "g_gan", "g_l1"} <= set(rows[0]) and _finite(rows)
    _assert_follows_the_recipe(done)
    assert os.path.exists(tmp_path / "run" / "gen_2.png")


def test_train_segmenter_saves_a_model_for_any_size(tmp_path, monkeypatch, capsys):
    _run(monkeypatch, "train_segmenter", *TINY, "--epochs", "1", "--val-batches", "1",
         "--out", tmp_path)
    tiles = len(sample_source())
    held_out = sum(1 for i in range(tiles) if i % 5 == 4)  # every 5th tile (--val-every 5)
    printed = capsys.readouterr().out
    assert f"{tiles - held_out} training tiles, {held_out} validation tiles" in printed
    assert "mean_iou" in printed
    model = keras.saving.load_model(tmp_path / "segmenter.keras", compile=False)
    assert model.inputs[0].shape[1:3] == (None, None)
    logits = model({"rgb": np.zeros((1, 48, 40, 3), "float32")})
    assert logits.shape == (1, 48, 40, sample_legend().num_classes)
    assert np.isfinite(keras.ops.convert_to_numpy(logits)).all()


def test_evaluate_scores_the_generator_and_the_baselines(export, tmp_path, monkeypatch):
    done = _run(monkeypatch, "evaluate", "--generator", export, "--image-size", "32",
                "--batch-size", "2", "--batches", "1", "--out", tmp_path)
    table = done["result"].table
    assert {"lcgan", "class_mean", "biharmonic", "copy_input"} <= set(table)
    assert 0.0 <= table["lcgan"]["masked_l1"] <= 1.0
    assert os.path.exists(tmp_path / "results.md") and os.path.exists(tmp_path / "examples.png")


def test_edit_scene_trains_briefly_and_changes_only_the_box(tmp_path, monkeypatch):
    box = (100, 150, 164, 230)
    _run(monkeypatch, "edit_scene", *TINY, "--epochs", "1", "--steps-per-epoch", "1",
         "--to", "water", "--box", *box, "--out", tmp_path)
    assert os.path.isfile(tmp_path / "model" / "export" / "saved_model.pb")
    changed = assert_edit_confined(tmp_path)
    top, left, bottom, right = box
    assert not changed[:top - 3].any() and not changed[bottom + 3:].any()
    assert not changed[:, :left - 3].any() and not changed[:, right + 3:].any()
    with raster.RasterReader(tmp_path / "edited.tif") as edited:
        assert edited.profile["crs"] == "EPSG:32640"
    assert os.path.exists(tmp_path / "before_after.png")


def test_edit_scene_from_a_class_relabels_only_that_class_inside_the_box(export, tmp_path,
                                                                         monkeypatch):
    box = (200, 200, 400, 420)
    _run(monkeypatch, "edit_scene", "--model", export, "--tile", "19", "--from", "land",
         "--to", "water", "--box", *box, "--out", tmp_path)
    legend = sample_legend()
    values = np.array([c.value for c in legend.classes])
    with raster.RasterReader(tmp_path / "landcover.tif") as before, \
            raster.RasterReader(tmp_path / "landcover_edited.tif") as after:
        old, new = (r.read(0, 0, r.profile["height"], r.profile["width"])[0] for r in (before, after))
    relabelled = old != new
    top, left, bottom, right = box
    inside = np.zeros_like(relabelled)
    inside[top:bottom, left:right] = True
    assert relabelled.any() and not (relabelled & ~inside).any()
    land, water = (values[legend.class_id(name)] for name in ("land", "water"))
    assert (old[relabelled] == land).all() and (new[relabelled] == water).all()
    assert (new[inside & (old != land)] == old[inside & (old != land)]).all()  # others kept
    assert_edit_confined(tmp_path)


def test_edit_scene_rejects_a_box_outside_the_tile(export, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="--box"):
        _run(monkeypatch, "edit_scene", "--model", export, "--box", 0, 0, 5000, 10,
             "--out", tmp_path)
