"""Guards of lcgan.training.compat: each fails once the upstream code it works around changes."""

import inspect

import keras
from keras.src.backend.tensorflow import trainer as tf_trainer

from lcgan.training import compat
from lcgan.training.gan import LandcoverGAN


def test_symbolic_build_hook_still_exists_and_is_overridden():
    # If Keras renames the hook, NoSymbolicBuild silently stops working: re-check work-around 1.
    assert hasattr(tf_trainer.TensorFlowTrainer, "_maybe_symbolic_build")
    assert LandcoverGAN._maybe_symbolic_build is compat.NoSymbolicBuild._maybe_symbolic_build


def test_multi_worker_reduction_still_gathers_along_axis_0():
    # When Keras stops gathering step outputs along axis 0, per_worker_logs can go (work-around 2).
    assert "strategy.gather(v, axis=0)" in inspect.getsource(tf_trainer._multi_worker_concat)


def test_fit_still_reads_the_private_initial_epoch():
    # When fit stops reading model._initial_epoch, resuming needs another hook (work-around 3).
    assert "self._initial_epoch or initial_epoch" in inspect.getsource(tf_trainer.TensorFlowTrainer.fit)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    compat.set_initial_epoch(model, 3)
    assert model._initial_epoch == 3


def test_logs_are_unchanged_outside_multi_worker():
    logs = {"g_loss": keras.ops.convert_to_tensor(1.0)}
    assert compat.per_worker_logs(logs) is logs
