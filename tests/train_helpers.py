"""Tiny GANs and batches shared by the training tests (32 px, width 4)."""

import keras
import numpy as np
import tensorflow as tf

from lcgan.data.samples import build_samples
from lcgan.training.gan import LandcoverGAN
from lcgan.models import (acgan_discriminator, dual_branch_generator, patch_discriminator,
                          unet_generator)

SIZE = 32
CLASSES = 4


def raw_batch(count=8, *, seed=0):
    """Raw tiles {"rgb": (N, 32, 32, 3) in [-1, 1], "landcover": (N, 32, 32)}: blocky classes."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, CLASSES, (count, SIZE // 8, SIZE // 8)).repeat(8, 1).repeat(8, 2)
    palette = rng.uniform(-0.8, 0.8, (CLASSES, 3))
    rgb = palette[ids] + rng.normal(0, 0.05, (count, SIZE, SIZE, 3))
    return {"rgb": np.clip(rgb, -1, 1).astype("float32"), "landcover": ids.astype("int32")}


def ready_dataset(task, *, count=8, batch_size=4, seed=0):
    """Deterministic finite dataset of model-ready batches (same batches every epoch)."""
    options = {"square_size": 12} if task == "mixlc" else {"num_patches": 1, "patch_size": 12}
    ready = build_samples(raw_batch(count, seed=seed), task=task, num_classes=CLASSES, seed=seed,
                          **options)
    return tf.data.Dataset.from_tensor_slices(ready).batch(batch_size, drop_remainder=True)


def tiny_gan(task="mixlc", *, seed=0, norm="batch", optimizer="adam", **gan_options):
    """A compiled LandcoverGAN with width-4 networks, deterministic initial weights.

    ``optimizer="sgd"`` makes updates proportional to the gradients (Adam hides a loss scale).
    """
    keras.utils.set_random_seed(seed)
    shape = dict(image_size=SIZE, num_classes=CLASSES, width=4, norm=norm)
    if task == "mixlc":
        generator = unet_generator(**shape, dropout=0.0)
        discriminator = patch_discriminator(**shape, depth=3)
    else:
        generator = dual_branch_generator(**shape, dropout=0.0, use_mask=True, composite=True)
        discriminator = acgan_discriminator(**shape, depth=3)
        gan_options.setdefault("acgan_weight", 1.0)
    gan = LandcoverGAN(generator, discriminator, seed=seed, **gan_options)
    make = {"adam": lambda: keras.optimizers.Adam(1e-3, beta_1=0.5),
            "sgd": lambda: keras.optimizers.SGD(0.05)}[optimizer]
    gan.compile(g_optimizer=make(), d_optimizer=make())
    return gan


def all_weights(gan):
    """Every weight of generator, discriminator and EMA copy as numpy arrays."""
    models = [gan.generator, gan.discriminator] + ([gan.ema_generator] if gan.ema_generator else [])
    return [keras.ops.convert_to_numpy(w) for model in models for w in model.weights]
