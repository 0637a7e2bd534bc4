"""The timings of ``bench/gpu_check.sh``: lcgan's training and scene editing on the device it finds.

Rows, in the order they run (each row is written to ``--out`` as soon as it is measured, and a row
that would start after ``--budget`` seconds is listed as skipped instead):

1. the bf16 matmul peak of the device (fastest ``n^3`` ``tf.matmul``; n = 8192 on a GPU);
2. the equal-configuration ratio of ``bench_train_throughput.py`` (``LandcoverGAN`` vs the plain
   pix2pix tutorial step on the same UNet + PatchGAN), interleaved medians, per dtype policy;
3. the two recipes (``mixlc``, ``inpaint``) in float32, mixed_float16 and mixed_bfloat16, with the
   samples built inside the train step (``samples_in_step``, under ``fit``'s XLA on a GPU) vs in
   ``tf.data`` (``make_dataset(build=True)``), each fed by ``make_dataset`` over the bundled
   sample (cached tiles), as ``fit`` runs them; % of the bf16 matmul peak;
4. the scene path (``edit_scene`` on a generated GeoTIFF) vs the raw exported model on the same
   windows in memory (``bench_scene.py``'s measurement).

mixed_float16 rows are skipped without a GPU (float16 is emulated on CPUs). ``--smoke`` shrinks
everything (32-px crops, width 4, one round, float32, one recipe row per task) so that the whole
script runs in well under a minute on a CPU: it checks that the script works, its numbers mean
nothing.

    python bench/gpu_check.py --out bench/results/gpu.md [--smoke] [--budget 240]
"""

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import bench_scene  # noqa: E402
import bench_train_throughput as throughput  # noqa: E402
from lcgan.data import make_dataset, sample_source  # noqa: E402
from timing import timed  # noqa: E402

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
RECIPES = (("mixlc", True), ("mixlc", False), ("inpaint", True), ("inpaint", False))
"""(task, samples built in the step) pairs; the smoke run keeps one of each task and placement."""
FULL = dict(size=256, width=32, batch=8, warmup=2, steps=10, rounds=7, peak_n=8192,
            scene_size=2048, window=256, scene_widths=(16, 64), repeats=3, policies=POLICIES,
            recipes=RECIPES)
SMOKE = dict(size=32, width=4, batch=2, warmup=1, steps=1, rounds=1, peak_n=256, scene_size=128,
             window=64, scene_widths=(4,), repeats=1, policies=("float32",), recipes=RECIPES[::3])


class Report:
    """Markdown rows written to ``path`` after each one; rows past the time budget are skipped."""

    def __init__(self, path, budget, header):
        self.path, self.budget, self.start = pathlib.Path(path), budget, time.perf_counter()
        self.lines = header
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.write()

    def row(self, label, measure):
        """Append ``| label | measure() |``, or a skip note once the budget is spent."""
        if time.perf_counter() - self.start > self.budget:
            text = f"skipped: the time budget of {self.budget:.0f} s was spent"
        else:
            text = measure()
        self.lines.append(f"| {label} | {text} |")
        print(self.lines[-1], flush=True)
        self.write()

    def write(self):
        self.path.write_text("\n".join(self.lines) + "\n")


def gpu_name():
    devices = tf.config.list_physical_devices("GPU")
    if not devices:
        return None
    return tf.config.experimental.get_device_details(devices[0]).get("device_name", devices[0].name)


def equal_ratio(policy, cfg):
    """lcgan / reference images/s at equal configuration (interleaved medians)."""
    cases = {c: throughput.build_case(c, cfg["size"], policy, cfg["batch"], cfg["width"])
             for c in ("reference", "lcgan")}
    times = throughput.interleaved(cases, warmup=cfg["warmup"], rounds=cfg["rounds"])
    ratio = statistics.median(r / s for r, s in zip(times["reference"], times["lcgan"]))
    return (f"{ratio:.2f}x (lcgan {cfg['batch'] / statistics.median(times['lcgan']):.1f} vs "
            f"reference {cfg['batch'] / statistics.median(times['reference']):.1f} images/s)")


def recipe_speed(task, policy, in_step, cfg, peak):
    """Images/s and % of the bf16 peak of ``task``'s recipe step fed by ``make_dataset``."""
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        source = sample_source()
        dataset = make_dataset(source, task=task, image_size=cfg["size"], batch_size=cfg["batch"],
                               build=not in_step, cache=True)
        gan = throughput.make_gan(task, cfg["size"], cfg["width"], samples_in_step=in_step)
        gan.make_train_function()
        iterator = iter(dataset)
        flops = throughput.flops(tf.function(gan.train_step), next(iter(dataset)))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    seconds = timed(lambda: throughput.sync(gan.train_function(iterator)), warmup=cfg["warmup"],
                    repeats=cfg["steps"])
    return (f"{cfg['batch'] / seconds:.2f} images/s, {flops / seconds / 1e9:.3g} GFLOP/s = "
            f"{100 * flops / seconds / 1e9 / peak:.2g}% of the bf16 peak (XLA: {gan.jit_compile})")


def scene_ratio(width, cfg, folder):
    """Scene path / raw model megapixels/s on a generated scene (``bench_scene``'s measurement)."""
    scene = bench_scene.write_scene(folder, cfg["scene_size"])
    model = bench_scene.export_model(folder / f"width{width}", cfg["window"], width)
    args = types.SimpleNamespace(scene=json.dumps(scene), model=model, window=cfg["window"],
                                 overlap=cfg["window"] // 4, batch_size=cfg["batch"],
                                 repeats=cfg["repeats"])
    result = bench_scene.child_throughput(args)
    return (f"{result['scene_mp_per_s'] / result['raw_mp_per_s']:.3f} (scene path "
            f"{result['scene_mp_per_s']:.2f} vs raw model {result['raw_mp_per_s']:.2f} MP/s, "
            f"{result['windows']} windows)")


def plan(cfg, policies, peak, folder):
    """[(label, measure)] in order of importance, so that a short budget keeps what matters most:
    the equal-configuration ratio, the recipes in the GPU's usual policy, the scene path, the rest."""
    usual = next(p for p in ("mixed_float16", "mixed_bfloat16", "float32") if p in policies)
    others = [p for p in policies if p != usual]
    rows = [(f"equal configuration, float32, {cfg['size']} px",
             lambda: equal_ratio("float32", cfg))]
    for order in ([usual], others):
        for policy in order:
            rows += [(f"{task} recipe, {policy}, samples {'in the step' if in_step else 'in tf.data'}",
                      lambda t=task, p=policy, s=in_step: recipe_speed(t, p, s, cfg, peak))
                     for task, in_step in cfg["recipes"]]
        if order == [usual]:
            rows += [(f"scene path / raw model, width {w}, {cfg['scene_size']} px scene",
                      lambda w=w: scene_ratio(w, cfg, folder)) for w in cfg["scene_widths"]]
    rows += [(f"equal configuration, {p}, {cfg['size']} px", lambda p=p: equal_ratio(p, cfg))
             for p in policies if p != "float32"]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results" / "gpu.md"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script only")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds after which the remaining rows are skipped")
    args = parser.parse_args(argv)
    cfg, gpu = SMOKE if args.smoke else FULL, gpu_name()
    policies = [p for p in cfg["policies"] if gpu or p != "mixed_float16"]
    report = Report(args.out, args.budget, [
        f"# GPU check ({time.strftime('%Y-%m-%d %H:%M')}{', smoke run' if args.smoke else ''})", "",
        f"Device: {gpu or f'no GPU (CPU only, {os.cpu_count()} cores): GPU rows skipped'}. "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}. {cfg['size']} px, width "
        f"{cfg['width']}, batch {cfg['batch']}; recipes: median of {cfg['steps']} steps after "
        f"{cfg['warmup']}; "
        f"equal configuration: median of {cfg['rounds']} interleaved rounds.", "",
        "| measurement | result |", "|---|---|"])
    if not gpu:
        report.lines.append("| mixed_float16 rows | skipped: no GPU |")
    peak = throughput.matmul_peak(tf.bfloat16, n=cfg["peak_n"])
    report.row(f"bf16 matmul peak ({cfg['peak_n']}^3)", lambda: f"{peak:.0f} GFLOP/s")
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        for label, measure in plan(cfg, policies, peak, pathlib.Path(tmp)):
            report.row(label, measure)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
