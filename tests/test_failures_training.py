"""Failure modes, training: kills, damaged checkpoints, changed settings, reused run folders.

Cases: ``kill -9`` in the middle of an epoch, and a kill between an epoch's history row and its
checkpoint, then the same call again (the very weights and history of an uninterrupted run);
a truncated / damaged newest checkpoint (the previous one is used, and said); a partial save;
continuing with other settings (one line naming each) or a changed learning rate (applied);
``--no-resume`` into a finished run (refused, nothing changed); ``--overwrite`` killed before
it finishes (the old run stays, the debris goes); ``--out`` a file, a folder that is no run, a
folder in use; ``--epochs 0``; the NaN guard's message without and with a checkpoint.
"""

import os
import shutil

import keras
import numpy as np
import pytest

from failure_helpers import file_hashes, one_line_error, run_script
from lcgan.errors import CheckpointError, RunFolderError
from lcgan.training.callbacks import NaNGuard, TrainingCheckpoint
from lcgan.training.config import TrainConfig
from lcgan.training.recipes import build_gan, train
from lcgan.training.run_folder import open_run_folder
from train_helpers import ready_dataset, tiny_gan

OPTIONS = dict(image_size=32, batch_size=2, width=4, steps_per_epoch=3, epochs=2,
               vgg_weights="none")
FLAGS = ["--image-size", "32", "--batch-size", "2", "--width", "4", "--steps-per-epoch", "3",
         "--epochs", "2", "--vgg-weights", "none"]


def _weights(gan):
    networks = [gan.generator, gan.discriminator, gan.ema_generator]
    return [keras.ops.convert_to_numpy(w) for n in networks for w in n.weights]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A finished uninterrupted run (2 epochs of 3 steps, checkpoints every 2 steps)."""
    return train("mixlc", out=tmp_path_factory.mktemp("reference") / "run", save_every=2,
                 verbose=0, **OPTIONS)


def _assert_same_as_uninterrupted(run, reference):
    for got, want in zip(_weights(run.gan), _weights(reference.gan)):
        np.testing.assert_array_equal(got, want)
    with open(os.path.join(run.out, "history.csv")) as f:
        with open(os.path.join(reference.out, "history.csv")) as g:
            assert f.read() == g.read()
    assert sorted(p for p in os.listdir(run.out) if p.startswith("gen_")) == [
        "gen_1.png", "gen_2.png"]
    assert not [p for p in os.listdir(os.path.dirname(run.out)) if p.startswith(".run.")]


def test_kill_9_in_the_middle_of_an_epoch_then_the_same_call_gives_the_same_run(reference,
                                                                                tmp_path):
    out = tmp_path / "run"
    run_script(tmp_path, f"""
        import keras
        from lcgan.training.recipes import train

        class KillAt(keras.callbacks.Callback):  # the newest checkpoint: step 4, in epoch 2
            def on_train_batch_end(self, batch, logs=None):
                if int(self.model.optimizer.iterations.numpy()) == 5:
                    die()

        train("mixlc", out={str(out)!r}, save_every=2, verbose=0, callbacks=[KillAt()],
              **{OPTIONS!r})
    """, killed=True)
    _assert_same_as_uninterrupted(train("mixlc", out=out, verbose=0, **OPTIONS), reference)


class Killed(Exception):
    """A kill where kill -9 would leave the folder just as an exception does (in place)."""


def test_kill_between_history_row_and_checkpoint_then_the_same_call_gives_the_same_run(
        reference, tmp_path, monkeypatch):
    out = tmp_path / "run"
    save = TrainingCheckpoint._save

    def save_or_die(self, logs):  # epoch 2's grid and history row are written by then
        if self.position == {"step": 6, "epoch": 2, "epoch_step": 0}:
            raise Killed()
        save(self, logs)

    monkeypatch.setattr(TrainingCheckpoint, "_save", save_or_die)
    with pytest.raises(Killed):
        train("mixlc", out=out, verbose=0, **OPTIONS)
    assert (out / "gen_2.png").exists() and len((out / "history.csv").read_text().split()) == 3
    monkeypatch.undo()
    _assert_same_as_uninterrupted(train("mixlc", out=out, verbose=0, **OPTIONS), reference)


def _checkpoint_copy(reference, tmp_path):
    folder = tmp_path / "checkpoints"
    shutil.copytree(os.path.join(reference.out, "checkpoints"), folder)
    return folder


def _truncate(path):
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def _flip_bytes(path):
    data = bytearray(path.read_bytes())
    data[-200:-190] = bytes(10)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, file", [
    (_truncate, "ckpt-6.data-00000-of-00001"), (_truncate, "ckpt-6.index"),
    (_flip_bytes, "ckpt-6.data-00000-of-00001"), (os.remove, "ckpt-6.data-00000-of-00001"),
], ids=["data_truncated", "index_truncated", "bytes_changed", "data_missing"])
def test_damaged_newest_checkpoint_falls_back_to_the_previous(damage, file, reference, tmp_path,
                                                               capsys):
    folder = _checkpoint_copy(reference, tmp_path)
    damage(folder / file)
    (folder / "ckpt-7_temp").mkdir()  # what a kill during a save leaves
    gan = build_gan(TrainConfig.for_task("mixlc", **OPTIONS), reference.legend.num_classes)
    assert TrainingCheckpoint(folder).restore(gan) == 4
    printed = capsys.readouterr().out
    assert "ckpt-6 is damaged or incomplete" in printed and "resumed from" in printed
    assert sorted(os.listdir(folder)) == ["checkpoint", "ckpt-4.data-00000-of-00001",
                                          "ckpt-4.index"]
    _truncate(folder / "ckpt-4.data-00000-of-00001")
    with pytest.raises(CheckpointError, match="No intact checkpoint .* ckpt-4 damaged"):
        TrainingCheckpoint(folder).restore(gan)


@pytest.mark.parametrize("flag, value, listed", [
    ("--width", 8, "width=4 (now 8)"), ("--task", "inpaint", "task='mixlc' (now 'inpaint')"),
    ("--image-size", 64, "image_size=32 (now 64)"), ("--batch-size", 4, "batch_size=2 (now 4)"),
    ("--seed", 1, "seed=0 (now 1)"), ("--ema-decay", 0, "ema_decay=0.999 (now 0.0)"),
], ids=["width", "task", "image_size", "batch_size", "seed", "ema_off"])
def test_continuing_with_other_settings_is_refused_naming_each(flag, value, listed, reference,
                                                               capsys):
    before = file_hashes(reference.out)
    line = one_line_error(capsys, ["train", *FLAGS, "--out", reference.out, flag, value])
    assert line.startswith("lcgan train: error: --out") and listed in line, line
    assert "--overwrite" in line and file_hashes(reference.out) == before


def test_no_resume_into_a_finished_run_is_refused_and_changes_nothing(reference, capsys):
    before = file_hashes(reference.out)
    line = one_line_error(capsys, ["train", *FLAGS, "--out", reference.out, "--no-resume"])
    assert "holds a run" in line and "export" in line and "--overwrite" in line, line
    assert file_hashes(reference.out) == before


def test_changed_learning_rate_takes_effect_when_the_run_continues(reference, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(reference.out, out)
    run = train("mixlc", out=out, verbose=0, **{**OPTIONS, "epochs": 3, "learning_rate": 1e-4})
    printed = capsys.readouterr().out
    assert "changed settings: epochs 2 -> 3, learning_rate 0.0002 -> 0.0001" in printed
    for optimizer in (run.gan.g_optimizer, run.gan.d_optimizer):
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    assert TrainConfig.load(out / "config.json").learning_rate == 1e-4
    assert len(run.history["g_loss"]) == 1  # only the new epoch ran


def test_overwrite_keeps_the_old_run_until_the_new_one_has_finished(reference, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference.out, out)
    before = file_hashes(out)
    run_script(tmp_path, f"""
        import keras
        from lcgan.training.recipes import train

        class KillAt(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                die()

        train("mixlc", out={str(out)!r}, resume=False, overwrite=True, verbose=0,
              callbacks=[KillAt()], **{OPTIONS!r})
    """, killed=True)
    assert file_hashes(out) == before  # the old run, byte for byte
    assert [p for p in os.listdir(tmp_path) if p.startswith(".run.tmp-")]  # the killed new run
    run = train("mixlc", out=out, resume=False, overwrite=True, verbose=0,
                **{**OPTIONS, "epochs": 1, "steps_per_epoch": 1, "seed": 3})
    assert TrainConfig.load(out / "config.json").seed == 3 and len(run.history["g_loss"]) == 1
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".run.")]  # debris removed
    assert sorted(p for p in os.listdir(out) if p.startswith("gen_")) == ["gen_1.png"]


def _out_is_a_file(tmp_path):
    (tmp_path / "out").write_text("notes")


def _out_holds_other_files(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("chapter 1")


@pytest.mark.parametrize("make, config, words", [
    (_out_is_a_file, {}, "is a file"),
    (_out_holds_other_files, {}, r"holds no lcgan run \(thesis.tex"),
    (lambda tmp_path: None, {"epochs": 0}, "nothing would be trained"),
], ids=["out_is_a_file", "out_is_not_a_run_folder", "epochs_0_for_a_new_run"])
def test_unusable_run_folder_is_refused(make, config, words, tmp_path):
    make(tmp_path)
    with pytest.raises((RunFolderError, ValueError), match=words):
        open_run_folder(tmp_path / "out", TrainConfig.for_task("mixlc", **config)).close()


def test_run_folder_in_use_by_another_process_is_refused(tmp_path):
    held = open_run_folder(tmp_path / "out", TrainConfig())
    try:
        with pytest.raises(RunFolderError, match="Another lcgan process is training in"):
            open_run_folder(tmp_path / "out", TrainConfig())
    finally:
        held.close()
    open_run_folder(tmp_path / "out", TrainConfig()).close()  # free again


def test_nan_guard_says_truthfully_whether_a_checkpoint_exists(tmp_path):
    directory = str(tmp_path / "checkpoints")
    data = ready_dataset("mixlc")
    poisoned = data.map(lambda batch: {**batch, "target": batch["target"] * np.nan})
    gan = tiny_gan("mixlc")
    with pytest.raises(FloatingPointError, match="non-finite loss.*No checkpoint was saved yet"):
        gan.fit(poisoned, epochs=1, verbose=0,
                callbacks=[TrainingCheckpoint(directory), NaNGuard(directory)])
    gan = tiny_gan("mixlc")
    gan.fit(data, epochs=1, verbose=0, callbacks=[TrainingCheckpoint(directory)])
    with pytest.raises(FloatingPointError, match=r"non-finite loss at epoch 2, step 3 .*"
                       r"checkpoints/ckpt-2 \(epoch 1 done, step 2\) is intact"):
        gan.fit(poisoned, epochs=2, verbose=0,
                callbacks=[TrainingCheckpoint(directory), NaNGuard(directory)])
