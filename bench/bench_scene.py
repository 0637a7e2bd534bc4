"""Scene editing benchmark: is memory bounded by the window, and what do I/O and blending cost?

Two questions, each answered by a ratio measured in this one run:

1. Peak resident memory (``VmHWM`` of ``/proc/self/status``; not ``ru_maxrss``, which Linux
   carries over from the parent process at ``exec``) of ``edit_scene`` on a 1k x 1k and
   an 8k x 8k generated GeoTIFF scene, each in a fresh subprocess with the library's defaults
   (``lcgan.data.raster`` bounds GDAL's block cache to ``DEFAULT_CACHE_MB`` while a dataset is
   open; no ``GDAL_CACHEMAX`` needed). Goal: large / small < 1.2.
2. Megapixels/s of the scene path (``edit_scene``: read windows, run, blend, write GeoTIFF)
   against the raw exported model on in-memory batches of the very same windows (same inputs,
   batches of ``--batch-size``), alternating, medians after a warm-up. Goal: >= 0.9. Measured
   for each of ``--widths``: 16 is the examples' default generator (about 5 ms per 256-px window
   on 2 CPU cores, so I/O and blending weigh the most), 64 the library's default
   ``unet_generator`` (the size the README suggests for real runs).

The mask covers the whole scene, so every window is run. The generators are UNets from
``lcgan.models``, exported with :func:`lcgan.scenes.export.export_generator`; the memory part uses the
first of ``--widths``.

Usage:
    python bench/bench_scene.py [--sizes 1024 8192] [--throughput-size 2048] [--widths 16 64]
                                [--repeats 5]

Results are printed and written to ``bench/results/scene.txt``.
"""

import argparse
import contextlib
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from lcgan.data import raster  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results" / "scene.txt"
NUM_CLASSES = 6


def write_scene(folder: pathlib.Path, size: int, strip: int = 256) -> dict:
    """Write ``rgb.tif``, ``landcover.tif`` and an all-ones ``mask.tif`` of ``size`` x ``size``."""
    transform = raster.transform_from_bounds(465180.0, 5080260.0 - 10 * size,
                                             465180.0 + 10 * size, 5080260.0, size, size)
    paths = {name: folder / f"{name}_{size}.tif" for name in ("rgb", "landcover", "mask")}
    rng = np.random.default_rng(0)
    profiles = {name: {"crs": "EPSG:32633", "transform": transform, "width": size,
                       "height": size, "count": 3 if name == "rgb" else 1, "dtype": "uint8",
                       "nodata": None} for name in paths}
    with contextlib.ExitStack() as stack:
        writers = {name: stack.enter_context(raster.RasterWriter(path, profiles[name],
                                                                 overwrite=True))
                   for name, path in paths.items()}
        for row in range(0, size, strip):
            _write_strip(writers, rng, row, min(row + strip, size), size)
    return {name: str(path) for name, path in paths.items()}


def _write_strip(writers, rng, row, end, size):
    x = np.arange(size)[None]
    y = np.arange(row, end)[:, None]
    base = 120 + 60 * np.sin(x / 37.0) * np.cos(y / 53.0)  # (h, size) smooth texture
    rgb = np.stack([base + 20 * c for c in range(3)]) + rng.normal(0, 6, (3,) + base.shape)
    writers["rgb"].write(np.clip(rgb, 0, 255).astype(np.uint8), row, 0)
    classes = (x // 97 + y // 89) % NUM_CLASSES  # (h, size) blocks of classes
    writers["landcover"].write(classes[None].astype(np.uint8), row, 0)
    writers["mask"].write(np.ones((1,) + classes.shape, np.uint8), row, 0)


def export_model(folder: pathlib.Path, window: int, width: int, upsample: str = "resize") -> str:
    from lcgan.data.legend import sample_legend
    from lcgan.scenes.export import export_generator
    from lcgan.models import unet_generator

    folder.mkdir(parents=True, exist_ok=True)
    generator = unet_generator(image_size=window, num_classes=NUM_CLASSES, width=width,
                               dropout=0.0, upsample=upsample)
    return export_generator(generator, folder / "export", legend=sample_legend(), task="mixlc",
                            image_size=window, overwrite=True, keras_file=False)


def edit(model, scene, out, args):
    from lcgan.scenes.inference import edit_scene

    edit_scene(model, scene["rgb"], scene["landcover"], out, mask_path=scene["mask"],
               window=args.window, overlap=args.overlap, batch_size=args.batch_size,
               overwrite=True, progress=False)


def child_memory(args) -> dict:
    """Edit one scene; report time and peak resident memory of this process."""
    from lcgan.scenes.export import load_generator

    scene = json.loads(args.scene)
    model = load_generator(args.model)
    start = time.perf_counter()
    edit(model, scene, pathlib.Path(scene["rgb"]).with_name("out.tif"), args)
    return {"seconds": time.perf_counter() - start,
            "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB. ``ru_maxrss`` is the fallback off Linux; on
    Linux it is at least the parent's resident size when this process was started."""
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_throughput(args) -> dict:
    """Scene path vs the raw model on the same windows in memory, alternating, medians."""
    from lcgan.scenes.export import load_generator
    from lcgan.data.grid import window_offsets

    scene = json.loads(args.scene)
    model = load_generator(args.model)
    out = pathlib.Path(scene["rgb"]).with_name("out.tif")
    with raster.RasterReader(scene["rgb"]) as src, raster.RasterReader(scene["landcover"]) as lc:
        size = src.profile["height"]
        offsets = window_offsets(size, args.window, args.window - args.overlap)
        windows = [(r, c) for r in offsets for c in offsets]
        rgb = np.stack([src.read(r, c, args.window, args.window).transpose(1, 2, 0)
                        for r, c in windows]).astype(np.float32) / 127.5 - 1.0
        ids = np.stack([lc.read(r, c, args.window, args.window)[0] for r, c in windows]
                       ).astype(np.int32)

    def raw():
        for start in range(0, len(windows), args.batch_size):
            model(rgb=rgb[start:start + args.batch_size],
                  landcover=ids[start:start + args.batch_size])

    def cpu_seconds():  # user + system time of this process, all threads
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    runs = {"scene": lambda: edit(model, scene, out, args), "raw": raw}
    times, cpu = {name: [] for name in runs}, {name: [] for name in runs}
    for repeat in range(args.repeats + 1):  # the first round is the warm-up
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), cpu_seconds()
            run()
            if repeat:
                times[name].append(time.perf_counter() - start)
                cpu[name].append(cpu_seconds() - start_cpu)
    megapixels = size * size / 1e6
    return {"windows": len(windows), "megapixels": megapixels,
            **{f"{name}_mp_per_s": megapixels / statistics.median(t) for name, t in times.items()},
            **{f"{name}_seconds": t for name, t in times.items()},
            **{f"{name}_cpu_seconds": statistics.median(t) for name, t in cpu.items()}}


def run_child(kind: str, scene: dict, model: str, args) -> dict:
    argv = [sys.executable, __file__, "--child", kind, "--scene", json.dumps(scene),
            "--model", model, "--window", str(args.window), "--overlap", str(args.overlap),
            "--batch-size", str(args.batch_size), "--repeats", str(args.repeats)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1024, 8192])
    parser.add_argument("--throughput-size", type=int, default=2048)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64],
                        help="UNet widths of the generators (throughput per width)")
    parser.add_argument("--upsample", choices=("resize", "transpose"), default="resize",
                        help="decoder upsampling of the generators (unet_generator's default: "
                             "resize; transpose is lighter, so the scene path's own work weighs more)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", choices=("memory", "throughput"), help=argparse.SUPPRESS)
    parser.add_argument("--scene", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (child_memory if args.child == "memory" else child_throughput)(args)
        print(json.dumps(result))
        return

    lines = [f"bench_scene.py on {platform.node()} ({platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs), {time.strftime('%Y-%m-%d %H:%M')}",
             f"generators: unet_generator(width=W, upsample={args.upsample!r}, depth default) "
             f"exported, W in {args.widths}; "
             f"window {args.window}, overlap {args.overlap}, batch {args.batch_size}; "
             f"mask = whole scene"]
    with tempfile.TemporaryDirectory(prefix="bench_scene_") as tmp:
        folder = pathlib.Path(tmp)
        models = {width: export_model(folder / f"width{width}", args.window, width, args.upsample)
                  for width in args.widths}
        model = models[args.widths[0]]
        memory = {}
        for size in args.sizes:
            scene = write_scene(folder, size)
            result = run_child("memory", scene, model, args)
            memory[size] = result["peak_rss_mb"]
            lines.append(f"memory {size:5d} x {size:<5d} (width {args.widths[0]}, cache_mb="
                         f"{raster.DEFAULT_CACHE_MB}): "
                         f"peak RSS {result['peak_rss_mb']:7.1f} MB, edit "
                         f"{result['seconds']:6.1f} s "
                         f"({size * size / 1e6 / result['seconds']:.2f} MP/s)")
            for path in scene.values():
                os.remove(path)
        small, large = (memory[size] for size in args.sizes)
        lines.append(f"memory ratio {args.sizes[1]} / {args.sizes[0]}: {large / small:.3f} "
                     f"(goal < 1.2)")
        size = args.throughput_size
        scene = write_scene(folder, size)
        for width, path in models.items():
            result = run_child("throughput", scene, path, args)
            lines.append(f"throughput {size} x {size}, width {width} ({result['windows']} "
                         f"windows, medians of {args.repeats} after a warm-up): scene path "
                         f"{result['scene_mp_per_s']:.2f} MP/s, raw model "
                         f"{result['raw_mp_per_s']:.2f} MP/s, ratio "
                         f"{result['scene_mp_per_s'] / result['raw_mp_per_s']:.3f} (goal >= 0.9)")
            lines.append("  times (s): scene " + ", ".join(
                f"{t:.2f}" for t in result["scene_seconds"]) + "; raw " + ", ".join(
                f"{t:.2f}" for t in result["raw_seconds"]))
            lines.append(f"  CPU time (s, all threads, medians): scene "
                         f"{result['scene_cpu_seconds']:.2f}, raw {result['raw_cpu_seconds']:.2f}")
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
