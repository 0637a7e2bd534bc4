"""Pipeline benchmark: do the batched sample builders and the tf.data pipeline keep up?

Two questions, each answered by a ratio measured in this one run (warm-up, then medians):

1. Samples/s of ``mixed_square`` and ``masked_class`` (one ``tf.function`` call per batch, plain
   and XLA-compiled with ``jit_compile=True``, timed until the outputs are computed, and with a
   copy of every output to NumPy) against a plain per-sample NumPy loop doing the same work by
   slicing. Goal: >= 0.5x on a CPU.
2. Samples/s delivered by ``make_dataset(sample_source(), ...)`` against the samples/s that a
   256-px ``LandcoverGAN`` train step (UNet generator + PatchGAN, library defaults) consumes.
   Goal: >= 20x, so that data never stalls training.

Usage:
    python bench/bench_pipeline.py [--image-size 256] [--batch-size 8] [--repeats 5]
        [--builder-repeats 25] [--train-steps 3]

Results are printed and written to ``bench/results/pipeline.txt``.
"""

import argparse
import os
import pathlib
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import lcgan  # noqa: E402
from lcgan.data import make_dataset, masked_class, mixed_square, sample_source  # noqa: E402
from lcgan.training.gan import LandcoverGAN  # noqa: E402
from lcgan.models import patch_discriminator, unet_generator  # noqa: E402
from timing import timed  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results" / "pipeline.txt"


def median_rate(run, samples, repeats):
    """Median samples/s of ``run()`` over ``repeats`` timed calls, after one warm-up call."""
    return samples / timed(run, warmup=1, repeats=repeats)


def numpy_mixed_square(rgb, lc, side_range, rng):
    """Per-sample NumPy reference of the mixlc pairing plus ``mixed_square``."""
    batch, height, width = lc.shape
    order, partner = rng.permutation(batch), np.empty(batch, int)
    partner[order] = np.roll(order, -rng.integers(1, batch))  # no fixed points
    rgb_ab, lc_ab = rgb.copy(), lc.copy()
    mask = np.zeros(lc.shape + (1,), np.float32)
    for i in range(batch):
        side = rng.integers(side_range[0], side_range[1] + 1)
        top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        window = np.s_[top:top + side, left:left + side]
        rgb_ab[i][window] = rgb[partner[i]][window]
        lc_ab[i][window] = lc[partner[i]][window]
        mask[i][window] = 1.0
    return rgb_ab, lc_ab, mask


def numpy_masked_class(rgb, lc, num_patches, patch_size, num_classes, rng):
    """Per-sample, per-patch NumPy reference of ``masked_class``."""
    batch, height, width = lc.shape
    removed = np.zeros(lc.shape, bool)
    for i in range(batch):
        for _ in range(num_patches):
            top = rng.integers(0, height - patch_size + 1)
            left = rng.integers(0, width - patch_size + 1)
            window = np.s_[top:top + patch_size, left:left + patch_size]
            patch = lc[i][window]
            counts = np.bincount(patch[patch >= 0], minlength=num_classes)
            if counts.max() > 0:
                removed[i][window] |= patch == counts.argmax()
    return np.where(removed[..., None], np.float32(0.0), rgb), removed[..., None].astype(np.float32)


def builder_rates(raw, num_classes, repeats):
    """Samples/s of both builders on one raw batch, at the library defaults.

    Returns ``{name: {"TF": .., "TF XLA": .., "TF XLA + .numpy()": .., "NumPy loop": ..}}``.
    A TF call is timed until all its outputs are computed on the device (``sync_devices``), which
    is what a train step or ``tf.data`` consumes; the ``+ .numpy()`` column also copies every
    output into a NumPy array, the form the NumPy loop produces (fresh arrays, not views). The XLA
    (``jit_compile=True``) outputs are checked to equal the plain ``tf.function`` ones for the
    same seed, whose semantics tests/data/test_samples.py covers.
    """
    rgb, lc = raw["rgb"], raw["landcover"]  # (B, H, W, 3) float32 in [-1, 1], (B, H, W) int32
    batch, size = lc.shape[0], lc.shape[1]
    side_range, patch_size, num_patches = (size // 4, size // 2), size // 4, 3
    partner = tf.roll(tf.range(batch), 1, axis=0)
    calls = 0

    def next_seed():
        nonlocal calls
        calls += 1
        return tf.constant([calls, 0], tf.int64)

    def tf_mixed(seed):
        return mixed_square(rgb, lc, tf.gather(rgb, partner), tf.gather(lc, partner),
                            size=side_range, seed=seed)

    def tf_masked(seed):
        return masked_class(rgb, lc, num_patches=num_patches, patch_size=patch_size, seed=seed,
                            num_classes=num_classes)

    def computed(call):
        call(next_seed())
        tf.test.experimental.sync_devices()

    def as_numpy(call):
        return [value.numpy() for value in call(next_seed()).values()]

    def tf_rates(builder):
        plain, xla = (tf.function(builder, jit_compile=jit) for jit in (False, True))
        seed = tf.constant([0, 1], tf.int64)
        expected, compiled = plain(seed), xla(seed)
        for key, value in expected.items():
            np.testing.assert_array_equal(compiled[key].numpy(), value.numpy(), err_msg=key)
        return {"TF": median_rate(lambda: computed(plain), batch, repeats),
                "TF XLA": median_rate(lambda: computed(xla), batch, repeats),
                "TF XLA + .numpy()": median_rate(lambda: as_numpy(xla), batch, repeats)}

    rgb_np, lc_np = rgb.numpy(), lc.numpy()
    rng = np.random.default_rng(0)
    return {
        "mixed_square": {**tf_rates(tf_mixed), "NumPy loop": median_rate(
            lambda: numpy_mixed_square(rgb_np, lc_np, side_range, rng), batch, repeats)},
        "masked_class": {**tf_rates(tf_masked), "NumPy loop": median_rate(
            lambda: numpy_masked_class(rgb_np, lc_np, num_patches, patch_size, num_classes, rng),
            batch, repeats)},
    }


def pipeline_rate(source, task, image_size, batch_size, repeats, cache, batches_per_repeat=4):
    """Median samples/s of ``make_dataset`` over windows of a few batches, after a warm-up."""
    iterator = iter(make_dataset(source, task=task, image_size=image_size, batch_size=batch_size,
                                 seed=0, cache=cache))
    for _ in range(-(-len(source) // batch_size) + 1):  # a full pass: buffer, cache and traces
        next(iterator)

    def window():
        for _ in range(batches_per_repeat):
            next(iterator)

    return median_rate(window, batches_per_repeat * batch_size, repeats)


class _StepTimer(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def train_step_rate(ready_batch, image_size, num_classes, steps):
    """Samples/s consumed by the library's default 256-px GAN train step (median step time)."""
    gan = LandcoverGAN(unet_generator(image_size=image_size, num_classes=num_classes),
                       patch_discriminator(image_size=image_size, num_classes=num_classes))
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    data = tf.data.Dataset.from_tensors(ready_batch).repeat()
    timer = _StepTimer()
    timer.times = []
    gan.fit(data, epochs=1, steps_per_epoch=steps + 1, verbose=0, callbacks=[timer])
    step = statistics.median(timer.times[1:])  # the first step traces and compiles
    return ready_batch["rgb"].shape[0] / step, step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--builder-repeats", type=int, default=25,
                        help="timed calls per builder in part 1 (each takes milliseconds)")
    parser.add_argument("--train-steps", type=int, default=3)
    args = parser.parse_args()

    source = sample_source()
    num_classes = source.legend.num_classes
    lines = [f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
             f"TF {tf.__version__}, Keras {keras.__version__}, lcgan {lcgan.__version__}, "
             f"GPUs: {len(tf.config.list_physical_devices('GPU'))}",
             f"image {args.image_size} px, batch {args.batch_size}, medians of {args.repeats} "
             f"({args.builder_repeats} in part 1) after a warm-up; source: bundled Dubai sample "
             f"({len(source)} tiles)", ""]

    def report(line):
        print(line, flush=True)
        lines.append(line)

    for line in lines:
        print(line)
    raw = next(iter(make_dataset(source, task="inpaint", image_size=args.image_size,
                                 batch_size=args.batch_size, build=False, shuffle_buffer=8)))
    report("1. batched TF builders vs per-sample NumPy loop (goal >= 0.5x; XLA = jit_compile=True)")
    builders = builder_rates(raw, num_classes, args.builder_repeats)
    for name, rates in builders.items():
        numpy_rate = rates.pop("NumPy loop")
        report(f"   {name:13s} NumPy loop {numpy_rate:8.1f} samples/s; " + ", ".join(
            f"{kind} {rate:7.1f} = {rate / numpy_rate:4.2f}x" for kind, rate in rates.items()))

    report("2. full pipeline (make_dataset, bundled sample) vs 256-px GAN train step (goal >= 20x)")
    rates = {}
    for task in ("mixlc", "inpaint"):
        for cache in (False, True):
            rates[task, cache] = pipeline_rate(source, task, args.image_size, args.batch_size,
                                               args.repeats, cache)
            report(f"   pipeline {task:8s} cache={cache!s:5s} {rates[task, cache]:8.1f} samples/s")
    ready = next(iter(make_dataset(source, task="mixlc", image_size=args.image_size,
                                   batch_size=args.batch_size, shuffle_buffer=8)))
    step_rate, step_time = train_step_rate(ready, args.image_size, num_classes, args.train_steps)
    report(f"   train step (LandcoverGAN, unet_generator + patch_discriminator defaults): "
           f"{step_time:.2f} s per batch = {step_rate:.2f} samples/s")
    for (task, cache), rate in rates.items():
        report(f"   {task:8s} cache={cache!s:5s} pipeline / train step: {rate / step_rate:8.1f}x")

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
