"""Train a tiny GAN for a few steps under a tf.distribute strategy; save its weights (.npz).

Run as a subprocess by tests/test_distribute.py, since logical devices and TF_CONFIG must be set
before TensorFlow starts: ``python distribute_worker.py {single,mirrored,multiworker} OUT.npz``.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

STEPS = 3
GLOBAL_BATCH = 4


def strategy_for(mode):
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    if mode == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def train(mode):
    """Return the trained weights {name: array} of generator, discriminator and EMA copy."""
    from train_helpers import all_weights, ready_dataset, tiny_gan

    strategy = strategy_for(mode)
    with strategy.scope():
        gan = tiny_gan("inpaint", norm="instance", optimizer="sgd", ema_decay=0.5)
    data = ready_dataset("inpaint", count=GLOBAL_BATCH * STEPS, batch_size=GLOBAL_BATCH)
    start = all_weights(gan)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    history = gan.fit(data.with_options(options), epochs=1, verbose=0).history
    weights = all_weights(gan)
    moved = max(float(np.abs(a - b).max()) for a, b in zip(weights, start))
    return {**{f"w{i}": w for i, w in enumerate(weights)}, "moved": np.array(moved), "g_loss": np.array(history["g_loss"][-1]),
            "replicas": np.array(strategy.num_replicas_in_sync),
            "steps": np.array(int(gan.g_optimizer.iterations.numpy()))}


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    mode, out = sys.argv[1], sys.argv[2]
    np.savez(out, **train(mode))
