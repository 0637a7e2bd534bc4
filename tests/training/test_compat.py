"""Guards of lcgan.training.compat: each fails once the upstream code it works around changes."""

import inspect

import keras
import numpy as np
from keras.src.backend.tensorflow import trainer as tf_trainer

from lcgan.training import compat
from lcgan.training.gan import LandcoverGAN
from train_helpers import all_weights, ready_dataset, tiny_gan


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


def test_keras_still_nests_the_step_function_in_an_optional_reading_one():
    # When Keras' fit stops nesting the step inside an Optional-reading tf.function, re-measure
    # OneFunctionStep against it (bench/bench_train_throughput.py) and drop it if it no longer wins
    # (work-around 4).
    source = inspect.getsource(tf_trainer.TensorFlowTrainer._make_function)
    assert "multi_step_on_iterator" in source and "Optional.from_value" in source
    end_of_data = inspect.getsource(tf_trainer.TFEpochIterator.catch_stop_iteration)
    assert "tf.errors.OutOfRangeError" in end_of_data


def _steps_taken(gan):
    return int(gan.g_optimizer.iterations.numpy())


def test_one_function_step_ends_the_epoch_of_a_finite_dataset_and_counts_every_batch():
    gan = tiny_gan()
    dataset = ready_dataset("mixlc", count=12, batch_size=4)  # 3 batches, no steps_per_epoch
    gan.fit(dataset, epochs=2, verbose=0)
    assert gan.train_function is not None and _steps_taken(gan) == 6
    scores = gan.evaluate(dataset, verbose=0, return_dict=True)
    assert np.isfinite(scores["g_loss"]) and np.isfinite(scores["masked_l1"])


def test_one_function_step_trains_like_keras_own_step_function():
    # The same networks, batches and seeds through lcgan's step function and Keras' (2 steps
    # per execution selects Keras' own): the same weights afterwards.
    ours, keras_own = tiny_gan(seed=3), tiny_gan(seed=3)
    keras_own.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                      d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), steps_per_execution=2)
    assert ours._one_function_applies() and not keras_own._one_function_applies()
    for gan in (ours, keras_own):
        gan.fit(ready_dataset("mixlc", count=16, batch_size=4), epochs=1, verbose=0)
    assert _steps_taken(ours) == _steps_taken(keras_own) == 4
    for a, b in zip(all_weights(ours), all_weights(keras_own)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
