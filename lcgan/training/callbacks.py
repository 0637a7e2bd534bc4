"""Callbacks for LandcoverGAN training: sample grids, NaN guard, checkpoint and resume.

Scalar losses go to TensorBoard through the stock ``keras.callbacks.TensorBoard``; the Keras
progress bar is left as it is.

Example:
    >>> callbacks = [TrainingCheckpoint("runs/mixlc/checkpoints"), NaNGuard(),
    ...              SampleGrid(preview_batch, legend, "runs/mixlc", log_dir="runs/mixlc/logs")]
    >>> gan.fit(dataset, epochs=10, steps_per_epoch=50, callbacks=callbacks)
"""

import math
import os

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from lcgan.models.blocks import select_inputs
from lcgan.training import compat
from lcgan.images import shown_generator, to_uint8


def nonfinite_logs(logs):
    """Names of the entries of a Keras ``logs`` dict that are NaN or infinite."""
    return sorted(name for name, value in (logs or {}).items()
                  if not math.isfinite(float(np.asarray(value))))


class NaNGuard(keras.callbacks.Callback):
    """Stop training at the first NaN or Inf metric, with a message saying what to do.

    Raises ``FloatingPointError`` from inside ``fit``, so no later epoch end (and so no
    checkpoint of the broken weights) happens: the last good checkpoint stays intact.

    Args:
        checkpoint_dir: where the last good checkpoint is, named in the message (optional).
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
        where = (f"The last good checkpoint in {self.checkpoint_dir} is intact; run the same "
                 "command again to resume from it" if self.checkpoint_dir else "No checkpoint")
        raise FloatingPointError(
            f"Training stopped: non-finite loss at epoch {self._epoch + 1}, batch {batch + 1} "
            f"({values}). {where}. Lower the learning rates or the loss weights, or train "
            "without mixed precision.")


def saved_epoch(directory):
    """Number of finished epochs in the latest :class:`TrainingCheckpoint` of ``directory`` (0: none)."""
    latest = tf.train.latest_checkpoint(os.fspath(directory))
    return 0 if latest is None else int(latest.rsplit("-", 1)[1])


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save the whole training state each epoch and resume from it at the start of ``fit``.

    Saved: generator, discriminator, EMA generator, both optimizers (with their step counters),
    the step's random seed states and the number of finished epochs. Writes go through
    ``tf.train.CheckpointManager``, whose index file is replaced atomically after the data files
    are complete, so a run killed while saving resumes from the previous checkpoint. A run
    restarted with the same ``fit`` call continues at the epoch after the last save (steps since
    then are repeated). Epochs whose logs are not finite are not saved.

    Args:
        directory: checkpoint folder (created).
        max_to_keep: number of checkpoints kept.
        resume: restore the latest checkpoint in ``directory`` when training begins.
    """

    def __init__(self, directory, *, max_to_keep=2, resume=True):
        super().__init__()
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep
        self.resume = resume
        self.restored_epoch = None
        self._manager = None

    def _checkpoint(self):
        gan = self.model
        parts = dict(generator=gan.generator, discriminator=gan.discriminator,
                     g_optimizer=gan.g_optimizer, d_optimizer=gan.d_optimizer,
                     train_seeds=gan.seed_generator.state.value,
                     eval_seeds=gan.eval_seed_generator.state.value,
                     epoch=tf.Variable(0, dtype=tf.int64, trainable=False))
        if gan.ema_generator is not None:
            parts["ema_generator"] = gan.ema_generator
        return tf.train.Checkpoint(**parts)

    def on_train_begin(self, logs=None):
        self._ckpt = self._checkpoint()
        self._manager = tf.train.CheckpointManager(self._ckpt, self.directory,
                                                   max_to_keep=self.max_to_keep)
        if self.resume and self._manager.latest_checkpoint:
            self._ckpt.restore(self._manager.latest_checkpoint).assert_existing_objects_matched()
            self.restored_epoch = int(self._ckpt.epoch.numpy())
            compat.set_initial_epoch(self.model, self.restored_epoch)
            print(f"lcgan: resumed from {self._manager.latest_checkpoint} "
                  f"(epoch {self.restored_epoch} done, "
                  f"step {int(self.model.g_optimizer.iterations.numpy())})")

    def on_epoch_end(self, epoch, logs=None):
        bad = nonfinite_logs(logs)
        if bad:
            print(f"lcgan: not saving epoch {epoch + 1}: non-finite {bad}")
            return
        self._ckpt.epoch.assign(epoch + 1)
        self._manager.save(checkpoint_number=epoch + 1)


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
        Image.fromarray(grid).save(path)
        self.paths.append(path)
        if self._writer is not None:
            with self._writer.as_default():
                tf.summary.image("input | landcover | generated | target", grid[None],
                                 step=epoch + 1)
            self._writer.flush()
