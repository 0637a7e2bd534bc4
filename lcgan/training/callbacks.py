"""Callbacks for LandcoverGAN training: sample grids, history CSV, NaN guard, checkpoints.

Scalar losses go to TensorBoard through the stock ``keras.callbacks.TensorBoard``; the Keras
progress bar is left as it is. Files are written whole or not at all (:mod:`lcgan.outputs`), and
listed before :class:`~lcgan.training.checkpoints.TrainingCheckpoint` they are written before the
epoch's checkpoint, so a run folder agrees with its newest checkpoint after a kill.

Example:
    >>> callbacks = [SampleGrid(preview_batch, legend, "runs/mixlc", log_dir="runs/mixlc/logs"),
    ...              HistoryCSV("runs/mixlc/history.csv"),
    ...              TrainingCheckpoint("runs/mixlc/checkpoints"), NaNGuard("runs/mixlc/checkpoints")]
    >>> gan.fit(dataset, epochs=10, steps_per_epoch=50, callbacks=callbacks)
"""

import csv
import os

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from lcgan.images import shown_generator, to_uint8
from lcgan.models.blocks import select_inputs
from lcgan.outputs import atomic_file
from lcgan.training.checkpoints import (  # noqa: F401  (TrainingCheckpoint, saved_epoch: this set)
    TrainingCheckpoint, newest_intact, nonfinite_logs, saved_epoch)


class NaNGuard(keras.callbacks.Callback):
    """Stop training at the first NaN or Inf metric, with a message saying what to do.

    Raises ``FloatingPointError`` from inside ``fit``, so no later save of the broken weights
    happens. The message says whether ``checkpoint_dir`` holds a checkpoint to continue from,
    and which, as it is at that moment.

    Args:
        checkpoint_dir: the run's checkpoint folder (optional).
    """

    def __init__(self, checkpoint_dir=None):
        super().__init__()
        self.checkpoint_dir = checkpoint_dir
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = nonfinite_logs(logs)
        if not bad:
            return
        values = ", ".join(f"{name}={float(np.asarray(logs[name]))}" for name in bad)
        prefix, position, _ = (newest_intact(self.checkpoint_dir, quiet=True)
                               if self.checkpoint_dir else (None, None, None))
        if prefix is None:
            where = ("No checkpoint was saved yet, so a new run starts from the beginning"
                     if self.checkpoint_dir else "No checkpoint is kept by this fit")
        else:
            where = (f"The checkpoint {prefix} (epoch {position['epoch']} done, step "
                     f"{position['step']}) is intact: the same command continues from it, with "
                     "any new learning rate or loss weight applied")
        step = int(self.model.optimizer.iterations.numpy())
        raise FloatingPointError(
            f"Training stopped: non-finite loss at epoch {self._epoch + 1}, step {step} "
            f"({values}). {where}. Lower the learning rate (--learning-rate) or the loss "
            "weights, or train without mixed precision.")


class HistoryCSV(keras.callbacks.Callback):
    """One row of epoch logs per epoch in a CSV file (``epoch`` counted from 0, as CSVLogger).

    The file is rewritten whole at each epoch end. When ``fit`` starts (or continues) at epoch
    ``e``, rows of epoch ``e`` and later, written by a run killed before its checkpoint, are
    dropped, so every row belongs to the checkpointed run.

    Args:
        path: the CSV file.
    """

    def __init__(self, path):
        super().__init__()
        self.path = os.fspath(path)
        self.rows = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.rows is None:
            self.rows = []
            if os.path.exists(self.path):
                with open(self.path, newline="") as f:
                    self.rows = [row for row in csv.DictReader(f) if int(row["epoch"]) < epoch]

    def on_epoch_end(self, epoch, logs=None):
        self.rows = [row for row in self.rows if int(row["epoch"]) < epoch]
        self.rows.append({"epoch": str(epoch), **{k: repr(float(np.asarray(v)))
                                                  for k, v in (logs or {}).items()}})
        names = ["epoch"] + sorted({name for row in self.rows for name in row} - {"epoch"})
        with atomic_file(self.path) as tmp:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, names, restval="NA")
                writer.writeheader()
                writer.writerows(self.rows)

    def on_train_end(self, logs=None):
        self.rows = None


def sample_grid(batch, generated, legend):
    """Compose rows ``input | landcover | generated | target``, one row per example.

    Args:
        batch: model-ready dict of numpy arrays (``rgb``, ``landcover``, ``target``).
        generated: (B, H, W, 3) generator output in [-1, 1].
        legend: :class:`lcgan.data.Legend` giving the landcover colours.

    Returns:
        (B * H, 4 * W, 3) uint8 image.
    """
    columns = [to_uint8(batch["rgb"]), legend.colorize(np.asarray(batch["landcover"])),
               to_uint8(generated), to_uint8(batch["target"])]
    rows = np.concatenate(columns, axis=2)  # (B, H, 4W, 3)
    return rows.reshape(-1, *rows.shape[2:])


class SampleGrid(keras.callbacks.Callback):
    """Each ``every`` epochs write ``gen_{epoch}.png`` (epochs counted from 1) and a TensorBoard image.

    Uses the EMA generator when the model has one.

    Args:
        batch: a fixed model-ready batch (dict of arrays/tensors) to render.
        legend: legend giving landcover colours.
        out_dir: folder of the PNG files (created).
        log_dir: TensorBoard folder (images go to ``log_dir/samples``), or None.
        every: epoch interval.
    """

    def __init__(self, batch, legend, out_dir, *, log_dir=None, every=1):
        super().__init__()
        self.batch = {name: np.asarray(value) for name, value in batch.items()}
        self.legend = legend
        self.out_dir = os.fspath(out_dir)
        self.every = every
        self._writer = None if log_dir is None else tf.summary.create_file_writer(
            os.path.join(os.fspath(log_dir), "samples"))
        self.paths = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        generator = shown_generator(self.model)
        generated = generator(select_inputs(generator, self.batch), training=False)
        grid = sample_grid(self.batch, keras.ops.convert_to_numpy(generated), self.legend)
        os.makedirs(self.out_dir, exist_ok=True)
        path = os.path.join(self.out_dir, f"gen_{epoch + 1}.png")
        with atomic_file(path, suffix=".png") as tmp:
            Image.fromarray(grid).save(tmp)
        self.paths.append(path)
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("input | landcover | generated | target", grid[None],
                                 step=epoch + 1)
            self._writer.flush()
