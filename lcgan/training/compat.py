"""Work-arounds for Keras / TensorFlow behaviour, each with the version it is for and a guard test.

Each entry names the Keras version it was written against (3.15.1, TensorFlow 2.21) and the
upstream code or report it works around. ``tests/training/test_compat.py`` checks that the
upstream behaviour is still there; when a test there fails after an upgrade, the upstream code
changed: re-check the work-around and delete it if it is no longer needed.

1. :class:`NoSymbolicBuild`: Keras' ``fit`` builds a model "symbolically" from the first batch
   (``keras/src/backend/tensorflow/trainer.py``, ``TensorFlowTrainer._maybe_symbolic_build``).
   For a dict batch under ``MultiWorkerMirroredStrategy`` that step reduces the batch across
   workers and fails. LandcoverGAN's networks and optimizers are built in ``__init__`` and
   ``compile``, so the step is skipped.
2. :func:`per_worker_logs`: under ``MultiWorkerMirroredStrategy`` Keras reduces step outputs with
   ``_multi_worker_concat``, which gathers along axis 0, which scalars lack
   (keras-team/keras#19280 reports the related mean-reduction problem). The logs, already
   synchronised by the metric objects, are given a leading axis of 1.
3. :func:`set_initial_epoch`: ``fit`` reads the private ``model._initial_epoch`` (set by
   ``keras.callbacks.BackupAndRestore``) to resume at a later epoch; there is no public hook for a
   callback that restores a checkpoint in ``on_train_begin``.
"""

import tensorflow as tf

KERAS_VERSION = "3.15.1"
"""The Keras release these work-arounds were written and checked against."""


class NoSymbolicBuild:
    """Mixin for a ``keras.Model`` whose networks are built before ``fit`` (work-around 1)."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skip Keras' symbolic build: every network and optimizer is already built."""


def per_worker_logs(logs: dict) -> dict:
    """Give scalar logs a leading axis under MultiWorkerMirroredStrategy (work-around 2)."""
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: value[None] for name, value in logs.items()}
    return logs


def set_initial_epoch(model, epoch: int) -> None:
    """Make a running ``fit`` continue at ``epoch`` (work-around 3; read once ``fit`` starts)."""
    model._initial_epoch = epoch
