"""Checkpoints of a whole training state, every epoch and every N steps, and exact resumption.

A checkpoint ``ckpt-STEP`` holds the generator, discriminator and EMA generator, both optimizers
(learning rates and step counters included), every random state (the train step's seeds and the
networks' dropout seeds), the loss trackers of the epoch in progress, and its position: ``step``
(batches trained), ``epoch`` (epochs finished) and ``epoch_step`` (steps into the next epoch).
Restoring it and continuing the data stream at batch ``step`` (``make_dataset(..., start=step)``)
continues the very run that was never interrupted: :func:`fit_from` does both.

Every checkpoint is read back in full (checksums included) before it is trusted: a truncated or
damaged newest checkpoint is reported, deleted, and the newest intact one is used.

Example:
    >>> checkpoint = TrainingCheckpoint("runs/a/checkpoints", save_every=500)
    >>> checkpoint.restore(gan)
    >>> fit_from(gan, lambda start: make_dataset(..., start=start), checkpoint.position,
    ...          epochs=10, steps_per_epoch=1000, callbacks=[checkpoint])
"""

from __future__ import annotations

import math
import os
import re
import shutil

import keras
import numpy as np
import tensorflow as tf

from lcgan.errors import CheckpointError
from lcgan.outputs import atomic_file, clean_stale_in
from lcgan.training import compat

_NAME = re.compile(r"^ckpt-(\d+)\.index$")
_PARTIAL = re.compile(r"^ckpt-\d+_temp$")  # what tf.train.Checkpoint.write leaves when killed
POSITION = ("step", "epoch", "epoch_step")


def _read_position(prefix: str) -> dict:
    """Read every tensor of checkpoint ``prefix`` (so checksums are verified); its position.

    Raises:
        CheckpointError: the checkpoint is incomplete or damaged.
    """
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        return {key: int(reader.get_tensor(f"{key}/.ATTRIBUTES/VARIABLE_VALUE"))
                for key in POSITION}
    except (tf.errors.OpError, ValueError, IndexError) as err:  # IndexError: a short data file
        lines = (err.message if isinstance(err, tf.errors.OpError) else str(err)).splitlines()
        raise CheckpointError(f"checkpoint {prefix} is damaged or incomplete "
                              f"({lines[0] if lines else type(err).__name__})") from err


def checkpoint_prefixes(directory) -> list[str]:
    """``ckpt-STEP`` prefixes in ``directory``, newest first (found by their files)."""
    try:
        names = os.listdir(os.fspath(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    steps = sorted((int(m[1]) for m in map(_NAME.match, names) if m), reverse=True)
    return [os.path.join(os.fspath(directory), f"ckpt-{step}") for step in steps]


def newest_intact(directory, *, quiet: bool = False):
    """The newest checkpoint of ``directory`` that reads back in full.

    Returns:
        ``(prefix, position, damaged)``: prefix and position dict are None when none is intact;
        ``damaged`` lists the newer prefixes that failed (each reported unless ``quiet``).
    """
    damaged = []
    for prefix in checkpoint_prefixes(directory):
        try:
            return prefix, _read_position(prefix), damaged
        except CheckpointError as err:
            damaged.append(prefix)
            if not quiet:
                print(f"lcgan: {err}; trying the previous checkpoint", flush=True)
    return None, None, damaged


def saved_epoch(directory) -> int:
    """Epochs finished in the newest intact checkpoint of ``directory`` (0: none)."""
    return (newest_intact(directory, quiet=True)[1] or {"epoch": 0})["epoch"]


def state_bytes(gan) -> int:
    """Bytes of the variables a checkpoint of ``gan`` holds (networks and optimizer slots)."""
    networks = [gan.generator, gan.discriminator] + [gan.ema_generator] * (gan.ema_generator
                                                                          is not None)
    variables = [v for n in networks for v in n.weights] + list(gan.g_optimizer.variables) + list(
        gan.d_optimizer.variables)
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)


def _delete(prefix: str) -> None:
    folder, name = os.path.split(prefix)
    for entry in os.listdir(folder):
        if entry == f"{name}.index" or entry.startswith(f"{name}.data-"):
            os.remove(os.path.join(folder, entry))


def _dropout_seeds(model) -> list:
    """A model's variables that are not weights: the seed states of its dropout layers."""
    weights = {id(w) for w in model.weights}
    return [v.value for v in model.variables if id(v) not in weights]


def nonfinite_logs(logs) -> list[str]:
    """Names of the entries of a Keras ``logs`` dict that are NaN or infinite."""
    return sorted(name for name, value in (logs or {}).items()
                  if not math.isfinite(float(np.asarray(value))))


def _all_finite(gan) -> bool:
    variables = gan.generator.trainable_variables + gan.discriminator.trainable_variables
    return all(bool(np.isfinite(keras.ops.convert_to_numpy(v)).all()) for v in variables)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save the whole training state at each epoch end and every ``save_every`` steps.

    Non-finite weights or losses are never saved (the NaN guard then stops the run). The
    checkpoint of an epoch's last step is its epoch-end one, written after the callbacks listed
    before this one (sample grid, history row), so after a kill at any moment the run folder
    agrees with its newest checkpoint. Older checkpoints beyond ``max_to_keep`` are deleted.

    Args:
        directory: checkpoint folder (created).
        save_every: also save every that many steps (0: at epoch ends only).
        max_to_keep: checkpoints kept.
        resume: restore the newest intact checkpoint when ``fit`` begins unless :meth:`restore`
            ran before; a plain ``fit`` continues only from an epoch end, :func:`fit_from`
            from any step.

    Attributes:
        position: ``{"step", "epoch", "epoch_step"}`` of the model's state (restored or trained).
    """

    def __init__(self, directory, *, save_every: int = 0, max_to_keep: int = 2,
                 resume: bool = True):
        super().__init__()
        if isinstance(save_every, bool) or not isinstance(save_every, int) or save_every < 0:
            raise ValueError(f"`save_every` must be an int >= 0 (steps). Received: {save_every!r}")
        self.directory = os.fspath(directory)
        self.save_every, self.max_to_keep, self.resume = save_every, max_to_keep, resume
        self.position = dict.fromkeys(POSITION, 0)
        self.restored_epoch = None
        self._parts = None
        self._resumed_trackers = None  # loss trackers of a mid-epoch checkpoint, put back once

    def _checkpoints(self, gan):
        """tf.train.Checkpoints of what must be restored, of the loss trackers, of everything."""
        if self._parts is None:
            networks = {"generator": gan.generator, "discriminator": gan.discriminator}
            if gan.ema_generator is not None:
                networks["ema_generator"] = gan.ema_generator
            self._variables = {key: tf.Variable(0, dtype=tf.int64, trainable=False)
                               for key in POSITION}
            core = dict(**networks, g_optimizer=gan.g_optimizer, d_optimizer=gan.d_optimizer,
                        train_seeds=gan.seed_generator.state.value,
                        eval_seeds=gan.eval_seed_generator.state.value,
                        dropout_seeds={k: _dropout_seeds(n) for k, n in networks.items()},
                        **self._variables)
            trackers = {t.name: [v.value for v in t.variables] for t in gan.metrics}
            self._parts = (tf.train.Checkpoint(**core), tf.train.Checkpoint(trackers=trackers),
                           tf.train.Checkpoint(**core, trackers=trackers))
            self._parts[2].save_counter  # created now, so it is saved and the parts restore it
        return self._parts

    def restore(self, gan=None) -> int:
        """Restore the newest intact checkpoint into ``gan`` (default: the model being fitted).

        Returns:
            The restored ``step``; 0 when there is no checkpoint (nothing is changed).

        Raises:
            CheckpointError: checkpoints exist but none is intact, or the newest intact one does
                not fit the networks (another width, task, image size or network option).
        """
        gan = gan or self.model
        self.set_model(gan)
        core, trackers, _ = self._checkpoints(gan)
        self._clean()
        prefix, position, damaged = newest_intact(self.directory)
        self.resume = False
        if prefix is None:
            if damaged:
                raise CheckpointError(f"No intact checkpoint in {self.directory}: "
                                      f"{', '.join(map(os.path.basename, damaged))} damaged.")
            return 0
        try:
            core.restore(prefix).assert_existing_objects_matched().expect_partial()
        except (ValueError, AssertionError) as err:
            raise CheckpointError(
                f"The checkpoint {prefix} does not fit these networks (another --width, --task, "
                f"--image-size or network option?): {' '.join(str(err).split())[:300]}") from err
        trackers.restore(prefix).expect_partial()
        for stale in damaged:
            _delete(stale)
        self.position, self.restored_epoch = position, position["epoch"]
        if position["epoch_step"]:
            self._resumed_trackers = [v.numpy() for t in gan.metrics for v in t.variables]
        print(f"lcgan: resumed from {prefix} (epoch {position['epoch']} done, step "
              f"{position['step']})", flush=True)
        return position["step"]

    def _clean(self) -> None:
        """Remove what a kill during a save left: partial checkpoints, a temporary index."""
        clean_stale_in(self.directory)
        for entry in os.listdir(self.directory) if os.path.isdir(self.directory) else ():
            if _PARTIAL.match(entry):
                shutil.rmtree(os.path.join(self.directory, entry), ignore_errors=True)
                print(f"lcgan: removed the partial checkpoint {entry} of an interrupted save")

    def on_train_begin(self, logs=None):
        self._checkpoints(self.model)
        if self.resume:
            self.restore()
            if self.position["epoch_step"]:
                raise CheckpointError(
                    f"The newest checkpoint in {self.directory} was saved in the middle of an "
                    "epoch; a plain fit cannot continue there: use "
                    "lcgan.training.checkpoints.fit_from (lcgan.train does).")
            compat.set_initial_epoch(self.model, self.position["epoch"])

    def on_train_end(self, logs=None):
        compat.set_initial_epoch(self.model, 0)

    def on_epoch_begin(self, epoch, logs=None):
        self._base = (self.position["step"], self.position["epoch_step"])
        if self._resumed_trackers is not None:  # fit has just reset them
            variables = [v for t in self.model.metrics for v in t.variables]
            for variable, value in zip(variables, self._resumed_trackers):
                variable.assign(value)
            self._resumed_trackers = None

    def on_train_batch_end(self, batch, logs=None):
        step, epoch_step = (base + batch + 1 for base in self._base)
        self.position = {"step": step, "epoch": self.position["epoch"], "epoch_step": epoch_step}
        if self.save_every and step % self.save_every == 0 and batch + 1 != self.params["steps"]:
            self._save(logs)

    def on_epoch_end(self, epoch, logs=None):
        self.position = {"step": self.position["step"], "epoch": epoch + 1, "epoch_step": 0}
        self._save(logs)

    def _save(self, logs) -> None:
        bad = nonfinite_logs(logs)
        if bad or not _all_finite(self.model):
            print(f"lcgan: not saving step {self.position['step']}: non-finite "
                  f"{', '.join(bad) or 'weights'}", flush=True)
            return
        for key, variable in self._variables.items():
            variable.assign(self.position[key])
        os.makedirs(self.directory, exist_ok=True)
        prefix = os.path.join(self.directory, f"ckpt-{self.position['step']}")
        self._checkpoints(self.model)[2].write(prefix)
        kept = checkpoint_prefixes(self.directory)
        with atomic_file(os.path.join(self.directory, "checkpoint")) as tmp:
            with open(tmp, "w") as f:  # the index tf.train.latest_checkpoint reads
                f.write(f'model_checkpoint_path: "ckpt-{self.position["step"]}"\n' + "".join(
                    f'all_model_checkpoint_paths: "{os.path.basename(p)}"\n'
                    for p in reversed(kept[:self.max_to_keep])))
        for old in kept[self.max_to_keep:]:
            _delete(old)


def fit_from(gan, dataset_at, position, *, epochs: int, steps_per_epoch: int, callbacks=(),
             verbose="auto") -> dict:
    """Continue training from ``position`` exactly as a run that was never interrupted.

    A position in the middle of an epoch is finished by a first ``fit`` of the remaining steps
    (the callbacks see that epoch with fewer steps; its loss averages cover the whole epoch),
    then the later epochs run in a second ``fit``.

    Args:
        gan: the model, restored to ``position``.
        dataset_at: ``start -> tf.data.Dataset`` of the batches from stream batch ``start`` on.
        position: ``{"step", "epoch", "epoch_step"}`` (:attr:`TrainingCheckpoint.position`).
        epochs, steps_per_epoch: as for ``fit``.
        callbacks: the callbacks of both ``fit`` calls (the :class:`TrainingCheckpoint` among them).
        verbose: ``fit``'s verbosity.

    Returns:
        ``{metric: [value per epoch trained]}``.
    """
    epoch, into, step = position["epoch"], position["epoch_step"], position["step"]
    parts = []
    if into and epoch < epochs:
        parts.append((epoch, epoch + 1, steps_per_epoch - into, step))
    first = epoch + bool(into)
    if first < epochs:
        parts.append((first, epochs, steps_per_epoch,
                      step + (steps_per_epoch - into) % steps_per_epoch))
    if not parts:
        print(f"lcgan: {epoch} of {epochs} epochs are done; nothing to train (raise `epochs` to "
              "train on)", flush=True)
    history = {}
    for initial, end, steps, start in parts:
        logs = gan.fit(dataset_at(start), initial_epoch=initial, epochs=end, steps_per_epoch=steps,
                       callbacks=list(callbacks), verbose=verbose).history
        for name, values in logs.items():
            history.setdefault(name, []).extend(values)
    return history
