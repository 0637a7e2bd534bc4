"""Training throughput of lcgan's two example configurations against a plain pix2pix step.

Question: what do lcgan's features (the GAN wrapper, EMA, VGG feature loss, ACGAN head, the
dual-branch generator) cost per training image, and how close does a step get to the machine's
matmul peak?

Measured in one process, for each image size and dtype policy:

* ``reference``: pix2pix written the simplest way, inline below: UNet (4x4 stride-2 convs, channels
  ``width * 2**level`` capped at ``8 * width``, same depth as lcgan's default) + conditional
  PatchGAN, ``100 * L1 + BCE`` GAN loss, one ``tf.function`` with two tapes and two Adam optimizers;
* ``mixlc``: ``unet_generator`` + ``patch_discriminator`` in ``LandcoverGAN`` with L1, LSGAN, EMA and
  the VGG16 feature loss (``weights=None``: random weights, same compute as ImageNet ones);
* ``inpaint``: ``dual_branch_generator(use_mask=True, composite=True)`` + ``acgan_discriminator`` in
  ``LandcoverGAN`` with L1, LSGAN, ACGAN loss and EMA.

Each step is a ``tf.function`` fed the same model-ready batch already in memory (no input
pipeline). Times are medians of ``--repeats`` timed steps after ``--warmup`` untimed ones (which
include tracing). FLOPs per step are TF's per-op statistics (the profiler's) summed over the ops a
step executes (forward, backward, optimizer); the peak is the median rate of a large ``tf.matmul`` in the same dtype,
timed in this process.

    python bench/bench_train_throughput.py                  # 64/128/256 px, float32 + mixed_bfloat16
    python bench/bench_train_throughput.py --sizes 64 --dtypes float32 --width 16   # quick look
"""

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import ops as tf_ops  # noqa: E402  (per-op FLOP statistics)
from tensorflow.python.profiler.internal import flops_registry  # noqa: E402, F401  (registers them)

from lcgan.data.samples import build_samples  # noqa: E402
from lcgan.training.gan import LandcoverGAN  # noqa: E402
from lcgan.training.losses import VGGFeatureLoss  # noqa: E402
from lcgan.models import (acgan_discriminator, dual_branch_generator, patch_discriminator,  # noqa: E402
                          unet_generator)
from lcgan.models.blocks import resolve_depth  # noqa: E402
from timing import timed  # noqa: E402

NUM_CLASSES = 6
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "train_throughput.md")


# ------------------------------------------------------------------ plain pix2pix reference
def _reference_models(size, width):
    layers = keras.layers
    depth = resolve_depth(size, None)
    rgb, lc = keras.Input((size, size, 3)), keras.Input((size, size, NUM_CLASSES))
    x, skips = layers.Concatenate()([rgb, lc]), []
    for level in range(depth):
        x = layers.Conv2D(width * min(2 ** level, 8), 4, 2, "same")(x)
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization()(x) if level else x)
        skips.append(x)
    for level in reversed(range(depth - 1)):
        x = layers.Conv2DTranspose(width * min(2 ** level, 8), 4, 2, "same")(x)
        x = layers.Concatenate()([layers.ReLU()(layers.BatchNormalization()(x)), skips[level]])
    out = layers.Conv2DTranspose(3, 4, 2, "same", activation="tanh")(x)
    generator = keras.Model([rgb, lc], out)
    image, cond = keras.Input((size, size, 3)), keras.Input((size, size, NUM_CLASSES))
    y = layers.Concatenate()([image, cond])
    for level in range(4):
        y = layers.Conv2D(width * min(2 ** level, 8), 4, 2, "same")(y)
        y = layers.LeakyReLU(0.2)(layers.BatchNormalization()(y) if level else y)
    discriminator = keras.Model([image, cond], layers.Conv2D(1, 4, 1, "same")(y))
    return generator, discriminator


def _reference_step(size, width):
    generator, discriminator = _reference_models(size, width)
    g_opt, d_opt = keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(batch):
        rgb, lc, target = batch["rgb"], batch["landcover"], batch["target"]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator([rgb, lc], training=True)
            real_score = discriminator([target, lc], training=True)
            fake_score = discriminator([fake, lc], training=True)
            d_loss = bce(tf.ones_like(real_score), real_score) + bce(tf.zeros_like(fake_score), fake_score)
            g_loss = bce(tf.ones_like(fake_score), fake_score) + 100.0 * tf.reduce_mean(
                tf.abs(target - tf.cast(fake, tf.float32)))
        g_opt.apply(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables)
        d_opt.apply(d_tape.gradient(d_loss, discriminator.trainable_variables),
                    discriminator.trainable_variables)
        return g_loss

    return step


# ------------------------------------------------------------------------ lcgan configurations
def _lcgan_step(config, size, width):
    if config == "mixlc":
        generator = unet_generator(image_size=size, num_classes=NUM_CLASSES, width=width)
        discriminator = patch_discriminator(image_size=size, num_classes=NUM_CLASSES, width=width)
        gan = LandcoverGAN(generator, discriminator, l1_weight=100.0, gan_weight=1.0, feature_weight=10.0,
                           feature_loss=VGGFeatureLoss(weights=None), gan_loss="lsgan", seed=0)
    else:
        generator = dual_branch_generator(image_size=size, num_classes=NUM_CLASSES, width=width,
                                          use_mask=True, composite=True)
        discriminator = acgan_discriminator(image_size=size, num_classes=NUM_CLASSES, width=width)
        gan = LandcoverGAN(generator, discriminator, l1_weight=100.0, gan_weight=1.0, acgan_weight=1.0,
                           gan_loss="lsgan", seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, 0.5), d_optimizer=keras.optimizers.Adam(2e-4, 0.5))
    return tf.function(gan.train_step)


def _batch(task, size, batch_size):
    rng = np.random.default_rng(0)
    raw = {"rgb": tf.constant(rng.uniform(-1, 1, (batch_size, size, size, 3)), tf.float32),
           "landcover": tf.constant(rng.integers(0, NUM_CLASSES, (batch_size, size, size)), tf.int32)}
    return build_samples(raw, task=task, num_classes=NUM_CLASSES, seed=0)


def _flops(step, batch):
    """Float operations of one call of the tf.function ``step``.

    Counted with TF's per-op FLOP statistics (those of the tf.compat.v1 profiler) over the ops that
    the call executes: the ancestors of the function's outputs and stateful control outputs
    (variable updates). TF's Conv2D gradient builds both backprop ops even when one is unused
    (e.g. filter gradients of the frozen VGG); execution prunes those, so this count does too.
    """
    graph = step.get_concrete_function(batch).graph
    pending = [t.op for t in graph.outputs] + list(graph.control_outputs)
    seen, total = set(), 0
    while pending:
        op = pending.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        pending += [t.op for t in op.inputs] + list(op.control_inputs)
        try:
            total += tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
        except ValueError:  # op type without a FLOP statistic (not arithmetic)
            pass
    return total


def matmul_peak(dtype, n=2048, repeats=5):
    """Best GFLOP/s of an (n x n) @ (n x n) matmul in ``dtype`` (fastest of ``repeats``)."""
    a = tf.random.stateless_normal((n, n), seed=[1, 2], dtype=dtype)
    b = tf.random.stateless_normal((n, n), seed=[3, 4], dtype=dtype)
    matmul = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32)))
    return 2 * n ** 3 / timed(lambda: matmul().numpy(), warmup=2, repeats=repeats, summary=min) / 1e9


def measure(config, size, policy, args):
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        batch_size = args.batch_size if size < 256 else args.batch_size_256
        task = "inpaint" if config == "inpaint" else "mixlc"
        batch = _batch(task, size, batch_size)
        step = _reference_step(size, args.width) if config == "reference" else _lcgan_step(
            config, size, args.width)
        flops = _flops(step, batch)
        repeats = args.repeats if size < 256 else args.repeats_256
        seconds = timed(lambda: tf.nest.map_structure(lambda t: t.numpy(), step(batch)),
                        warmup=args.warmup, repeats=repeats)
        return {"images_per_s": batch_size / seconds, "gflops": flops / seconds / 1e9,
                "gflop_per_image": flops / batch_size / 1e9, "batch": batch_size}
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--configs", nargs="+", default=["reference", "mixlc", "inpaint"])
    parser.add_argument("--width", type=int, default=64, help="generator/discriminator width")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--batch-size-256", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--repeats-256", type=int, default=3)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)

    devices = tf.config.list_physical_devices("GPU")
    machine = (f"{devices[0].name} ({tf.config.experimental.get_device_details(devices[0]).get('device_name')})"
               if devices else f"CPU only, {os.cpu_count()} cores ({platform.processor() or platform.machine()})")
    peaks = {policy: matmul_peak(tf.float32 if policy == "float32" else tf.bfloat16)
             for policy in args.dtypes}
    print(f"machine: {machine}; matmul peak " + ", ".join(f"{p}: {v:.0f} GFLOP/s" for p, v in peaks.items()))
    lines = [f"# Training throughput ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {machine}. TensorFlow {tf.__version__}, Keras {keras.__version__}. Width "
             f"{args.width}, batch {args.batch_size} ({args.batch_size_256} at 256 px), median of "
             f"{args.repeats} steps ({args.repeats_256} at 256 px) after {args.warmup} warm-up steps. "
             "Matmul peak (fastest 2048^3 matmul, same run): " + ", ".join(f"{p} {v:.0f} GFLOP/s" for p, v in peaks.items()),
             "", "| size | dtype | config | batch | images/s | vs reference | GFLOP/image | GFLOP/s | % of peak |",
             "|---|---|---|---|---|---|---|---|---|"]
    notes = ["", "`vs reference`: images/s of the configuration divided by the plain pix2pix step at the "
             "same size and dtype (lower = lcgan's extra features cost more). GFLOP: TF's per-op FLOP "
             "statistics summed over the ops each step executes (forward, backward, optimizer)."]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    for size in args.sizes:
        for policy in args.dtypes:
            reference = None
            for config in args.configs:
                r = measure(config, size, policy, args)
                reference = r["images_per_s"] if config == "reference" else reference
                ratio = f"{r['images_per_s'] / reference:.2f}" if reference else "-"
                row = (f"| {size} | {policy} | {config} | {r['batch']} | {r['images_per_s']:.2f} | {ratio} | "
                       f"{r['gflop_per_image']:.1f} | {r['gflops']:.0f} | {100 * r['gflops'] / peaks[policy]:.0f}% |")
                print(row, flush=True)
                lines.append(row)
                with open(args.out, "w", encoding="utf-8") as f:  # rewritten per row: partial runs count
                    f.write("\n".join(lines + notes) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
