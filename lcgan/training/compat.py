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
4. :class:`OneFunctionStep`: Keras 3's ``fit`` / ``evaluate`` call, per step, a ``tf.function``
   that reads the iterator into a ``tf.experimental.Optional`` and calls a second, nested
   ``tf.function`` holding the step (``TensorFlowTrainer._make_function``); the Optional is then
   checked and unpacked eagerly. On a CPU that cost 8% of a 64-px GAN step against the pix2pix
   reference (``bench/bench_train_throughput.py``: 0.92x before, 1.01x with this). Where that
   nesting buys nothing (no XLA, one step per execution, not eager) lcgan's models build Keras 2's
   one-function step instead: the batch read and the step in one graph; the end of a finite
   dataset raises ``OutOfRangeError``, which ``fit``'s epoch iterator turns into the end of the
   epoch (``TFEpochIterator.catch_stop_iteration``).
"""

import tensorflow as tf
from keras.src.backend.tensorflow.trainer import reduce_per_replica

KERAS_VERSION = "3.15.1"
"""The Keras release these work-arounds were written and checked against."""


class NoSymbolicBuild:
    """Mixin for a ``keras.Model`` whose networks are built before ``fit`` (work-around 1)."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skip Keras' symbolic build: every network and optimizer is already built."""


class OneFunctionStep:
    """Mixin for a ``keras.Model``: ``fit`` / ``evaluate`` run each step as one ``tf.function``
    (work-around 4); with XLA, ``steps_per_execution`` > 1 or ``run_eagerly`` Keras' own."""

    def _one_function_applies(self):
        return not self.run_eagerly and not self.jit_compile and self.steps_per_execution == 1

    def make_train_function(self, force=False):
        if not self._one_function_applies():
            return super().make_train_function(force)
        if self.train_function is None or force:
            self.train_function = one_function_step(self, self.train_step)
        return self.train_function

    def make_test_function(self, force=False):
        if not self._one_function_applies():
            return super().make_test_function(force)
        if self.test_function is None or force:
            self.test_function = one_function_step(self, self.test_step)
        return self.test_function


def one_function_step(model, step):
    """``function(iterator) -> logs``: ``step`` on the iterator's next batch under the model's
    distribution strategy, the read and the step in one ``tf.function`` (``fit``, ``evaluate``)."""
    strategy = model.distribute_strategy

    @tf.autograph.experimental.do_not_convert  # as Keras': the step is traced as written
    def function(iterator):
        outputs = strategy.run(step, args=(next(iterator),))
        return reduce_per_replica(outputs, strategy, reduction="auto")

    return tf.function(function, reduce_retracing=True)


def per_worker_logs(logs: dict) -> dict:
    """Give scalar logs a leading axis under MultiWorkerMirroredStrategy (work-around 2)."""
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: value[None] for name, value in logs.items()}
    return logs


def set_initial_epoch(model, epoch: int) -> None:
    """Make a running ``fit`` continue at ``epoch`` (work-around 3; read once ``fit`` starts)."""
    model._initial_epoch = epoch
