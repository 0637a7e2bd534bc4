"""mixed_float16 on any machine: the loss scale must be applied under the tapes (CPU-sized)."""

import keras
import numpy as np

from train_helpers import all_weights, ready_dataset, tiny_gan


def test_a_mixed_float16_step_updates_both_networks_through_the_loss_scale(mixed_float16):
    gan = tiny_gan("mixlc", optimizer="sgd", ema_decay=None)
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    before = all_weights(gan)
    # 4 steps: dynamic loss scaling skips a step whose scaled float16 gradients overflow
    gan.fit(ready_dataset("mixlc", count=16), epochs=1, verbose=0)
    after = all_weights(gan)
    trainable = [w.trainable for model in (gan.generator, gan.discriminator) for w in model.weights]
    moved = [not np.array_equal(b, a) for b, a, t in zip(before, after, trainable) if t]
    assert all(np.isfinite(a).all() for a in after)
    assert all(moved)  # gradients reached every trainable weight of both networks
