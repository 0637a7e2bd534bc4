"""Tests of lcgan.training.callbacks: resume equals an uninterrupted run, NaN guard, sample grids."""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lcgan.training.callbacks import NaNGuard, SampleGrid, TrainingCheckpoint
from lcgan.data.legend import Legend
from train_helpers import CLASSES, SIZE, all_weights, ready_dataset, tiny_gan


class Killed(Exception):
    """Stands for the process being killed."""


class KillAt(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Killed()


def test_killed_run_resumes_and_ends_like_an_uninterrupted_run(tmp_path):
    data = ready_dataset("mixlc")  # 2 identical batches per epoch
    reference = tiny_gan("mixlc")
    reference.fit(data, epochs=3, verbose=0)

    directory = str(tmp_path / "checkpoints")
    with pytest.raises(Killed):  # killed in the middle of the third epoch
        tiny_gan("mixlc").fit(data, epochs=3, verbose=0,
                              callbacks=[TrainingCheckpoint(directory), KillAt(2, 1)])
    resumed = tiny_gan("mixlc")  # "the same command again"
    checkpoint = TrainingCheckpoint(directory)
    history = resumed.fit(data, epochs=3, verbose=0, callbacks=[checkpoint]).history
    assert checkpoint.restored_epoch == 2
    assert len(history["g_loss"]) == 1  # only the last epoch ran
    assert int(resumed.g_optimizer.iterations.numpy()) == 6
    np.testing.assert_array_equal(resumed.seed_generator.state.numpy(),
                                  reference.seed_generator.state.numpy())
    for got, want in zip(all_weights(resumed), all_weights(reference)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    directory = str(tmp_path / "checkpoints")
    data = ready_dataset("mixlc")
    gan = tiny_gan("mixlc")
    gan.fit(data, epochs=1, verbose=0, callbacks=[TrainingCheckpoint(directory), NaNGuard(directory)])
    good = all_weights(gan)
    poisoned = data.map(lambda batch: {**batch, "target": batch["target"] * np.nan})
    with pytest.raises(FloatingPointError, match="non-finite loss at epoch 2.*g_l1=nan.*intact"):
        gan.fit(poisoned, epochs=3, verbose=0,
                callbacks=[TrainingCheckpoint(directory), NaNGuard(directory)])
    assert os.path.basename(tf.train.latest_checkpoint(directory)) == "ckpt-2"  # step 2: epoch 1
    restored = tiny_gan("mixlc", seed=5)
    restored.fit(data, epochs=1, verbose=0, callbacks=[TrainingCheckpoint(directory)])  # no-op epoch
    for got, want in zip(all_weights(restored), good):
        np.testing.assert_array_equal(got, want)


def test_sample_grid_writes_png_and_tensorboard_images(tmp_path):
    legend = Legend(["water", "sand", "road", "tree"],
                    [(0, 0, 255), (255, 255, 0), (128, 128, 128), (0, 128, 0)])
    data = ready_dataset("inpaint")
    preview = next(iter(data.take(1)))
    logs = str(tmp_path / "logs")
    grid = SampleGrid(preview, legend, str(tmp_path), log_dir=logs)
    gan = tiny_gan("inpaint")
    gan.fit(data, epochs=2, verbose=0,
            callbacks=[grid, keras.callbacks.TensorBoard(logs, write_graph=False)])
    assert [os.path.basename(p) for p in grid.paths] == ["gen_1.png", "gen_2.png"]
    image = np.asarray(Image.open(grid.paths[-1]))
    assert image.shape == (4 * SIZE, 4 * SIZE, 3)  # 4 examples x (input|landcover|generated|target)
    landcover_column = image[:SIZE, SIZE:2 * SIZE].reshape(-1, 3)
    assert {tuple(c) for c in landcover_column} <= {tuple(c) for c in legend.palette}
    np.testing.assert_allclose(image[:SIZE, 3 * SIZE:] / 127.5 - 1.0, preview["target"][0], atol=0.01)
    tags = set()
    for path in glob.glob(os.path.join(logs, "**", "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    assert "input | landcover | generated | target" in tags
    assert any("g_loss" in tag for tag in tags)
    assert CLASSES == legend.num_classes
