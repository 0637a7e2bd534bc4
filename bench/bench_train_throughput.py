"""Training throughput: lcgan's step against a plain pix2pix step, at equal configuration and as recipes.

Questions, each answered by ratios measured in one process, steps interleaved round by round:

1. **Equal configuration.** Does ``LandcoverGAN``'s step cost more than the TF pix2pix tutorial's
   step on the very same networks and losses? Both sides get ``unet_generator`` +
   ``patch_discriminator`` (same architecture, same initial weights), ``100 * L1 + LSGAN``, no
   EMA, no VGG, two Adam optimizers. ``reference`` is the tutorial's step written inline below
   (one generator forward, two tapes); ``lcgan`` is ``LandcoverGAN.train_step`` run by Keras'
   own train function (what ``fit`` calls once per step). Goal: ``lcgan / reference`` >= 1.0.
2. **Recipes.** What do the recipes' extra features cost per image: ``mixlc`` and ``inpaint`` as
   ``lcgan.training.recipes.build_gan`` builds them from ``TrainConfig.for_task`` (their
   networks, losses and EMA; the VGG16 feature loss with random weights, the same compute as
   ImageNet's). The networks are named in the output.
3. **mixed_bfloat16.** How much faster is each step under ``mixed_bfloat16`` than in float32
   (column ``bf16 / f32``, same configuration, same round)? Goal for mixlc at 256 px: >= 1.3x.

Every step is fed one model-ready batch held in memory (no input pipeline). Times are medians of
``--rounds`` rounds after ``--warmup`` untimed steps each (tracing included there); in each round
every configuration runs once, in an order that alternates between rounds, so drift and other
jobs on the machine hit all of them alike. FLOPs per step are TF's per-op statistics (the
profiler's) summed over the ops a step executes (forward, backward, optimizer); the matmul peak
(fastest 2048^3 ``tf.matmul`` in the same dtype) is timed in this process before each size.

    python bench/bench_train_throughput.py                                  # 64/128/256 px, f32 + bf16
    python bench/bench_train_throughput.py --sizes 64 --dtypes float32 --rounds 3   # quick look
"""

import argparse
import atexit
import functools
import os
import platform
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import ops as tf_ops  # noqa: E402  (per-op FLOP statistics)
from tensorflow.python.profiler.internal import flops_registry  # noqa: E402, F401  (registers them)

from lcgan.data.samples import build_samples  # noqa: E402
from lcgan.models import patch_discriminator, unet_generator  # noqa: E402
from lcgan.training.config import TrainConfig  # noqa: E402
from lcgan.training.gan import LandcoverGAN  # noqa: E402
from lcgan.training.recipes import build_gan  # noqa: E402
from timing import timed  # noqa: E402

NUM_CLASSES = 6
CONFIGS = ("reference", "lcgan", "mixlc", "inpaint")
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "train_throughput.md")


def _adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def _equal_networks(size, width):
    keras.utils.set_random_seed(0)  # both sides start from the same weights
    return (unet_generator(image_size=size, num_classes=NUM_CLASSES, width=width),
            patch_discriminator(image_size=size, num_classes=NUM_CLASSES, width=width))


def keras_auto_jit():
    """What ``compile(jit_compile="auto")`` picks for these models: XLA with a GPU, not on a CPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def reference_step(generator, discriminator):
    """The TF pix2pix tutorial's step on ``generator`` / ``discriminator``: one generator forward,
    two tapes, ``100 * L1 + LSGAN``, two Adam optimizers. Returns a ``tf.function(batch)``,
    compiled with XLA where Keras' ``fit`` would compile lcgan's step with it."""
    g_opt, d_opt = _adam(), _adam()

    @tf.function(jit_compile=keras_auto_jit())
    def step(batch):
        lc = batch["landcover_onehot"]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator({"rgb": batch["rgb"], "landcover_onehot": lc}, training=True)
            real_score = tf.cast(discriminator({"rgb": batch["target"], "landcover_onehot": lc},
                                               training=True), tf.float32)
            fake_score = tf.cast(discriminator({"rgb": fake, "landcover_onehot": lc},
                                               training=True), tf.float32)
            d_loss = tf.reduce_mean(tf.square(real_score - 1.0)) + tf.reduce_mean(tf.square(fake_score))
            g_loss = tf.reduce_mean(tf.square(fake_score - 1.0)) + 100.0 * tf.reduce_mean(
                tf.abs(batch["target"] - tf.cast(fake, tf.float32)))
        d_opt.apply(d_tape.gradient(d_loss, discriminator.trainable_variables),
                    discriminator.trainable_variables)
        g_opt.apply(g_tape.gradient(g_loss, generator.trainable_variables),
                    generator.trainable_variables)
        return {"d_loss": d_loss, "g_loss": g_loss}

    return step


def make_gan(config, size, width, *, samples_in_step=False):
    """The compiled LandcoverGAN of ``config``: the equal configuration, or a recipe exactly as
    ``lcgan.training.recipes.build_gan`` builds it, its VGG16 feature loss with random weights
    (same compute as ImageNet's, from a file written once: no download)."""
    if config == "lcgan":
        gan = LandcoverGAN(*_equal_networks(size, width), l1_weight=100.0, gan_weight=1.0,
                           gan_loss="lsgan", ema_decay=None, seed=0)
        gan.compile(g_optimizer=_adam(), d_optimizer=_adam())
        return gan
    recipe = TrainConfig.for_task(config, image_size=size, width=width, vgg_weights=_random_vgg(),
                                  require_vgg=True, samples_in_step=samples_in_step)
    return build_gan(recipe, NUM_CLASSES)


@functools.lru_cache(maxsize=1)
def _random_vgg():
    folder = tempfile.mkdtemp(prefix="bench_vgg_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, "vgg16_random.weights.h5")
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    vgg.save_weights(path)
    return path


def model_ready_batch(task, size, batch_size):
    rng = np.random.default_rng(0)
    raw = {"rgb": tf.constant(rng.uniform(-1, 1, (batch_size, size, size, 3)), tf.float32),
           "landcover": tf.constant(rng.integers(0, NUM_CLASSES, (batch_size, size, size)), tf.int32)}
    return build_samples(raw, task=task, num_classes=NUM_CLASSES, seed=0)


def build_case(config, size, policy, batch_size, width):
    """``{"run": () -> None (one synchronised step), "flops": per step}`` of one configuration."""
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        batch = model_ready_batch("inpaint" if config == "inpaint" else "mixlc", size, batch_size)
        if config == "reference":
            step = reference_step(*_equal_networks(size, width))
            return {"run": lambda: sync(step(batch)), "flops": flops(step, batch)}
        gan = make_gan(config, size, width)
        gan.make_train_function()  # the function fit calls once per step, on fit's iterator
        if gan.jit_compile != keras_auto_jit():
            raise RuntimeError(f"fit compiles lcgan's step with jit_compile={gan.jit_compile}; "
                               "the reference step must be compiled the same way")
        iterator = iter(tf.data.Dataset.from_tensors(batch).repeat())
        return {"run": lambda: sync(gan.train_function(iterator)),
                "flops": flops(tf.function(gan.train_step), batch),
                "networks": f"{gan.generator.name} + {gan.discriminator.name}"
                            + (" + VGG16 feature loss" if gan.feature_loss else "")
                            + (" + EMA" if gan.ema_generator is not None else "")}
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def sync(outputs):
    tf.nest.map_structure(lambda t: t.numpy(), outputs)


def flops(step, batch):
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


def interleaved(cases, *, warmup, rounds):
    """{key: [seconds per round]}: every case once per round, order reversed every other round."""
    for case in cases.values():
        for _ in range(warmup):
            case["run"]()
    keys, times = list(cases), {key: [] for key in cases}
    for r in range(rounds):
        for key in keys if r % 2 == 0 else keys[::-1]:
            start = time.perf_counter()
            cases[key]["run"]()
            times[key].append(time.perf_counter() - start)
    return times


def table_rows(size, times, cases, batch_size, peaks):
    """Markdown rows of one size: images/s, ratios, FLOP rates (ratios per round, then median)."""
    rows = []
    for (config, policy), seconds in times.items():
        median = statistics.median(seconds)
        ref = times[("reference", policy)]
        vs_ref = statistics.median(r / s for r, s in zip(ref, seconds))
        f32 = times.get((config, "float32"))
        speedup = (f"{statistics.median(f / s for f, s in zip(f32, seconds)):.2f}"
                   if f32 and policy != "float32" else "-")
        gflop = cases[(config, policy)]["flops"] / 1e9
        rows.append(f"| {size} | {policy} | {config} | {batch_size} | {batch_size / median:.2f} | "
                    f"{vs_ref:.2f} ({min(r / s for r, s in zip(ref, seconds)):.2f}-"
                    f"{max(r / s for r, s in zip(ref, seconds)):.2f}) | {speedup} | "
                    f"{gflop / batch_size:.2f} | {gflop / median:.0f} | "
                    f"{100 * gflop / median / peaks[policy]:.0f}% |")
    return rows


def _machine():
    devices = tf.config.list_physical_devices("GPU")
    if devices:
        return f"{devices[0].name} ({tf.config.experimental.get_device_details(devices[0]).get('device_name')})"
    return f"CPU only, {os.cpu_count()} cores ({platform.processor() or platform.machine()})"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS,
                        help="reference is always measured (the ratios need it)")
    parser.add_argument("--width", type=int, default=32, help="generator/discriminator width")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batch-size-256", type=int, default=4, help="batch at 256 px and above")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--rounds-256", type=int, default=5)
    parser.add_argument("--out", default=RESULTS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    configs = ["reference"] + [c for c in args.configs if c != "reference"]
    head = [f"# Training throughput ({time.strftime('%Y-%m-%d %H:%M')})", "",
            f"Machine: {_machine()}. TensorFlow {tf.__version__}, Keras {keras.__version__}. Width "
            f"{args.width}, batch {args.batch_size} ({args.batch_size_256} at 256 px), medians of "
            f"{args.rounds} interleaved rounds ({args.rounds_256} at 256 px) after {args.warmup} "
            "warm-up steps.", ""]
    peak_lines, table = [], [
        "", "| size | dtype | config | batch | images/s | vs reference (min-max) | bf16 / f32 | "
        "GFLOP/image | GFLOP/s | % of peak |", "|---|---|---|---|---|---|---|---|---|---|"]
    notes = ["", "`vs reference`: the configuration's images/s over the plain pix2pix step's at the same "
             "size and dtype, per round (median, and the range over rounds); for `lcgan` the networks and "
             "losses are the same, so it measures lcgan's own overhead. `bf16 / f32`: the speed-up of "
             "mixed_bfloat16 over float32 for the same configuration, per round. % of peak: achieved "
             "GFLOP/s over the matmul peak of the same dtype, timed just before the size's steps."]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    for size in args.sizes:
        batch_size = args.batch_size if size < 256 else args.batch_size_256
        peaks = {p: matmul_peak(tf.float32 if p == "float32" else tf.bfloat16) for p in args.dtypes}
        peak_lines.append(f"Matmul peak before the {size}-px steps: " + ", ".join(
            f"{p} {v:.0f} GFLOP/s" for p, v in peaks.items()) + ".")
        cases = {(c, p): build_case(c, size, p, batch_size, args.width) for p in args.dtypes
                 for c in configs}
        times = interleaved(cases, warmup=args.warmup,
                            rounds=args.rounds if size < 256 else args.rounds_256)
        if size == args.sizes[0]:
            notes += [""] + [f"- `{config}`: {case['networks']}" for (config, policy), case in
                             cases.items() if policy == args.dtypes[0] and "networks" in case]
        for row in table_rows(size, times, cases, batch_size, peaks):
            print(row, flush=True)
            table.append(row)
        with open(args.out, "w", encoding="utf-8") as f:  # rewritten per size: partial runs count
            f.write("\n".join(head + peak_lines + table + notes) + "\n")
        keras.backend.clear_session()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
