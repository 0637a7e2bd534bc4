"""Tests that need a GPU (marked ``gpu``; skipped without one). ``bench/gpu_check.sh`` runs them.

They check what a CPU run cannot: float16 training with loss scaling, the sample builders
compiled by XLA inside the train step on the device, and an export that reloads and runs there.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from lcgan.data.legend import Legend
from lcgan.data.samples import sample_builder
from lcgan.scenes.export import export_generator, load_generator
from train_helpers import CLASSES, SIZE, raw_batch, ready_dataset, tiny_gan

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not tf.config.list_physical_devices("GPU"),
                                                  reason="needs a GPU")]


def test_mixed_float16_steps_stay_finite_with_loss_scaling(mixed_float16):
    gan = tiny_gan("mixlc")
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert gan.generator.output.dtype == "float32"  # the tanh output stays float32
    history = gan.fit(ready_dataset("mixlc").repeat(), epochs=2, steps_per_epoch=5, verbose=0).history
    assert all(math.isfinite(v) for values in history.values() for v in values)
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in gan.generator.weights)
    assert int(gan.g_optimizer.iterations.numpy()) == 10


def test_samples_are_built_inside_a_jit_compiled_step_on_the_gpu():
    builder = sample_builder("inpaint", num_classes=CLASSES, num_patches=1, patch_size=12)
    gan = tiny_gan("inpaint", sample_builder=builder)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3),
                jit_compile=True)
    raw = tf.data.Dataset.from_tensor_slices(raw_batch(8)).batch(4, drop_remainder=True)
    history = gan.fit(raw, epochs=2, verbose=0).history
    assert gan.jit_compile
    assert all(math.isfinite(values[-1]) for values in history.values())
    assert "GPU" in gan.generator.weights[0].value.device


def test_export_reloads_and_runs_on_the_gpu(tmp_path):
    gan = tiny_gan("mixlc")
    legend = Legend([f"class{i}" for i in range(CLASSES)],
                    [(60 * i, 255 - 60 * i, 30 * i) for i in range(CLASSES)], name="gpu_test")
    path = export_generator(gan, tmp_path / "export", legend=legend, task="mixlc",
                            image_size=SIZE, keras_file=False)
    loaded = load_generator(path)
    batch = raw_batch(2)
    tf.config.experimental.reset_memory_stats("GPU:0")
    out = loaded(rgb=batch["rgb"], landcover=batch["landcover"])
    assert tf.config.experimental.get_memory_info("GPU:0")["peak"] > 0  # it ran on the GPU
    expected = gan.ema_generator({"rgb": tf.constant(batch["rgb"]),
                                  "landcover_onehot": tf.one_hot(batch["landcover"], CLASSES)},
                                 training=False)
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(expected), atol=1e-4)
