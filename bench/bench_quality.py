"""Which networks and losses paint the most believable landcover at the same CPU budget?

Trains every configuration of :data:`CONFIGS` for one task at the same budget (the same steps,
image size, batch and width) with several seeds on tiles 1-2 of the bundled sample, scores each
run's export on held-out tile 3 with :func:`lcgan.evaluate` (the baselines on the same images come
with it), and writes a markdown table per task: the seed mean and spread (half the range) of
every column, the baselines below. Every run keeps its export, so ``--rescore`` scores the saved
runs again (e.g. once the evaluation gains columns) without training.

    python bench/bench_quality.py --task mixlc --steps 400 --seeds 0 1 --out runs/quality
    python bench/bench_quality.py --task inpaint --steps 400 --seeds 0 1 --out runs/quality
    python bench/bench_quality.py --rescore --task mixlc --out runs/quality   # new columns

Runs already scored in ``--out`` are skipped, so an interrupted ablation continues where it stopped.
"""

import argparse
import json
import os
import pathlib
import platform
import time

import numpy as np

OFF = dict(noise_channels=0, seam_weight=0.0, low_frequency_weight=0.0, texture_weight=0.0,
           class_colors=False)
"""The options that became recipe defaults after the ablation began, off unless a name says so,
so that every configuration trains as its name reads whatever today's defaults are."""


def _config(generator, discriminator, *, mask_input, fm=0.0, l1_inside=1.0, **more):
    """Every network and loss field the ablation varies, spelled out (not the moving defaults)."""
    return dict(OFF, generator=generator, discriminator=discriminator, mask_input=mask_input,
                feature_matching_weight=fm, l1_inside_weight=l1_inside, **more)


CONFIGS = {
    "mixlc": {
        "unet+patch": _config("unet", "patch", mask_input=False),
        "unet+patch, mask input, FM": _config("unet", "patch", mask_input=True, fm=10.0),
        "unet+oasis, mask input": _config("unet", "oasis", mask_input=True),
        "unet+oasis, mask input, FM": _config("unet", "oasis", mask_input=True, fm=10.0),
        "unet+oasis, mask input, FM, L1 in 0.1": _config("unet", "oasis", mask_input=True,
                                                         fm=10.0, l1_inside=0.1),
        "unet+local_global, mask input, FM, L1 in 0.1": _config(
            "unet", "local_global", mask_input=True, fm=10.0, l1_inside=0.1),
        "unet+oasis, mask input, FM, L1 in 0.1, noise 8": _config(
            "unet", "oasis", mask_input=True, fm=10.0, l1_inside=0.1, noise_channels=8),
        "unet+oasis, mask input, FM, L1 in 0, noise 8": _config(
            "unet", "oasis", mask_input=True, fm=10.0, l1_inside=0.0, noise_channels=8),
        "unet+oasis, mask input, FM, L1 in 0.1, noise 8, seam 5": _config(
            "unet", "oasis", mask_input=True, fm=10.0, l1_inside=0.1, noise_channels=8,
            seam_weight=5.0),
        "unet+oasis, mask input, FM, L1 in 0.1, noise 8, low 8 x10": _config(
            "unet", "oasis", mask_input=True, fm=10.0, l1_inside=0.1, noise_channels=8,
            low_frequency_weight=10.0, low_frequency_size=8),
        # The seeds' other generator: two encoders, dilated convolutions in the landcover one.
        "dual_branch+oasis, mask input, FM, L1 in 0.1, noise 8, dilated": _config(
            "dual_branch", "oasis", mask_input=True, fm=10.0, l1_inside=0.1, noise_channels=8,
            dilated=True),
        # Texture statistics, not pixels: luma and chroma texture energies as the real ones.
        **{f"unet+oasis, mask input, FM, L1 in 0.1, noise 8, texture {weight:g}": _config(
            "unet", "oasis", mask_input=True, fm=10.0, l1_inside=0.1, noise_channels=8,
            texture_weight=weight) for weight in (10.0, 30.0)},
        "unet+oasis, mask input, FM, L1 in 0.1, noise 8, class colors": _config(
            "unet", "oasis", mask_input=True, fm=10.0, l1_inside=0.1, noise_channels=8,
            class_colors=True),
    },
    "inpaint": {
        "dual_branch+acgan": _config("dual_branch", "acgan", mask_input=True, dilated=True,
                                     acgan_weight=1.0),
        "dual_branch+acgan, FM": _config("dual_branch", "acgan", mask_input=True, dilated=True,
                                         acgan_weight=1.0, fm=10.0),
        "dual_branch+oasis": _config("dual_branch", "oasis", mask_input=True, dilated=True),
        "dual_branch+oasis, FM": _config("dual_branch", "oasis", mask_input=True, dilated=True,
                                         fm=10.0),
        "dual_branch+oasis, noise 8": _config("dual_branch", "oasis", mask_input=True,
                                              dilated=True, noise_channels=8),
        # LaMa's pixel loss (l1 weight_missing 0 / 0.1 of the known weight): the hole left to the
        # discriminator and its feature matching.
        **{f"dual_branch+oasis, noise 8{fm_name}, L1 in {l1_inside:g}": _config(
            "dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8, fm=fm,
            l1_inside=l1_inside)
           for fm_name, fm, l1_inside in ((", FM", 10.0, 0.0), (", FM", 10.0, 0.1), (", FM", 10.0, 0.3),
                                          (", FM 30", 30.0, 0.1), ("", 0.0, 0.1))},
        # The partial-convolution boundary term: the fill must continue the kept pixels at its edge.
        **{f"dual_branch+oasis, noise 8, FM, L1 in {l1_inside:g}, seam 5": _config(
            "dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8, fm=10.0,
            l1_inside=l1_inside, seam_weight=5.0) for l1_inside in (0.0, 0.1)},
        # Frequency separation: L1 on block means (colour, coarse layout), texture left to D.
        **{f"dual_branch+oasis, noise 8, FM, L1 in 0.1, seam 5, low {size} x{weight:g}": _config(
            "dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8, fm=10.0,
            l1_inside=0.1, seam_weight=5.0, low_frequency_weight=weight, low_frequency_size=size)
           for size, weight in ((8, 10.0), (8, 30.0), (4, 30.0))},
        # The fill's hue per pixel (Cb, Cr), its brightness texture left to D.
        **{f"dual_branch+oasis, noise 8, FM, L1 in 0.1, seam 5, low 8 x10, chroma {weight:g}":
           _config("dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8,
                   fm=10.0, l1_inside=0.1, seam_weight=5.0, low_frequency_weight=10.0,
                   low_frequency_size=8, chroma_weight=weight)
           for weight in (10.0, 30.0)},
        # The restoration losses' structure term (Zhao et al. 2017): 1 - SSIM inside the mask.
        **{f"dual_branch+oasis, noise 8, FM, L1 in 0.1, seam 5, low 8 x10, SSIM {weight:g}":
           _config("dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8,
                   fm=10.0, l1_inside=0.1, seam_weight=5.0, low_frequency_weight=10.0,
                   low_frequency_size=8, ssim_weight=weight)
           for weight in (3.0, 10.0)},
        "dual_branch+oasis, noise 8, FM, L1 in 0.1, seam 5, low 8 x10, texture 10": _config(
            "dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8, fm=10.0,
            l1_inside=0.1, seam_weight=5.0, low_frequency_weight=10.0, low_frequency_size=8,
            texture_weight=10.0),
        # SEAN-style region codes from the image itself: each class's colour mean and spread.
        "dual_branch+oasis, noise 8, FM, L1 in 0.1, seam 5, low 8 x10, class colors": _config(
            "dual_branch", "oasis", mask_input=True, dilated=True, noise_channels=8, fm=10.0,
            l1_inside=0.1, seam_weight=5.0, low_frequency_weight=10.0, low_frequency_size=8,
            class_colors=True),
    },
}
"""Per task: configuration name -> ``lcgan.train`` options. Every other option is the same for all
(``l1_weight`` 100, ``gan_weight`` 1, resize upsampling, no VGG loss offline)."""

BASELINES = ("class_mean", "biharmonic", "copy_input")


def split_sample():
    """Train (tiles 1-2) and test (tile 3) sources of the bundled sample, split by tile folder."""
    from lcgan.data import FolderSource, sample_source

    sample = sample_source()

    def tiles(*names):
        pairs = [pair for pair in sample.pairs
                 if pathlib.Path(pair[0]).relative_to(sample.root).parts[0] in names]
        return FolderSource(sample.root, legend=sample.legend, pairs=pairs)

    return tiles("tile1", "tile2"), tiles("tile3")


def run_dir(out, task, name, seed):
    slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    return os.path.join(out, task, slug, f"seed{seed}")


def train_and_score(task, name, seed, args, train_source, test_source):
    """Train one configuration (unless ``--rescore``) and score its export; the scores record.

    Writes ``train.json`` (options, seconds) after training and ``scores.json`` after scoring; a
    failed scoring is reported and leaves the export for ``--rescore``.
    """
    import lcgan

    folder = run_dir(args.out, task, name, seed)
    train_file = os.path.join(folder, "train.json")
    if not args.rescore and os.path.exists(os.path.join(folder, "scores.json")):
        return None  # trained and scored by an earlier call
    if args.rescore:
        if not os.path.exists(train_file):
            return None
    else:
        steps_per_epoch = min(args.steps, 100)
        start = time.perf_counter()
        lcgan.train(task, train_source, out=folder, resume=False, verbose=0,
                    image_size=args.image_size, batch_size=args.batch_size, width=args.width,
                    epochs=args.steps // steps_per_epoch, steps_per_epoch=steps_per_epoch,
                    seed=seed, vgg_weights="none", **CONFIGS[task][name])
        with open(train_file, "w") as f:
            json.dump({"task": task, "config": name, "options": CONFIGS[task][name], "seed": seed,
                       "steps": args.steps, "train_seconds": time.perf_counter() - start}, f)
    record = json.load(open(train_file))
    try:
        result = lcgan.evaluate(os.path.join(folder, "export"), test_source, task=task,
                                image_size=args.image_size, batch_size=args.batch_size,
                                batches=args.eval_batches, seed=0, segmenter=args.segmenter,
                                out=os.path.join(folder, "eval"))
    except Exception as error:  # keep training the others; --rescore scores this one later
        print(f"{task} | {name} | seed {seed}: SCORING FAILED ({error!r}); run --rescore", flush=True)
        return None
    record.update(table=result.table, num_images=result.num_images)
    with open(os.path.join(folder, "scores.json"), "w") as f:
        json.dump(record, f, indent=1, default=float)
    print(f"{task} | {name} | seed {seed}: {record['train_seconds']:.0f} s training; "
          + ", ".join(f"{k} {v:.4g}" for k, v in result.table["lcgan"].items()), flush=True)
    return record


def _cell(values):
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if not len(values):
        return "-"
    spread = (values.max() - values.min()) / 2
    return f"{values.mean():.4g} ± {spread:.2g}" if len(values) > 1 else f"{values.mean():.4g}"


def task_table(records):
    """Markdown table of one task's records: configurations (seed mean ± half range), baselines."""
    columns = [c for c in records[0]["table"]["lcgan"]]
    lines = ["| configuration | seeds | train s | " + " | ".join(columns) + " |",
             "|---" * (len(columns) + 3) + "|"]
    by_config = {}
    for record in records:
        by_config.setdefault(record["config"], []).append(record)
    for name, runs in by_config.items():
        cells = [_cell([r["table"]["lcgan"].get(c) for r in runs]) for c in columns]
        lines.append(f"| {name} | {len(runs)} | {_cell([r['train_seconds'] for r in runs])} | "
                     + " | ".join(cells) + " |")
    # Each seed's runs are scored on that seed's images (the crops' shuffle follows TF's global
    # seed, which lcgan.train sets to the run's seed), the same for every configuration: the
    # baselines are averaged over the seeds like the configurations.
    per_seed = {record["seed"]: record["table"] for record in records}
    for method in ("real", *BASELINES):
        if all(method in table for table in per_seed.values()):
            cells = [_cell([table[method].get(c) for table in per_seed.values()]) for c in columns]
            lines.append(f"| *{method}* | - | - | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_summary(out, results_file, args):
    """Collect every ``scores.json`` under ``out`` into the markdown file ``results_file``."""
    records = [json.load(open(p)) for p in sorted(pathlib.Path(out).glob("*/*/seed*/scores.json"))]
    parts = [f"# Quality ablation (`bench/bench_quality.py`)\n\nMachine: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs (shared). Trained on tiles 1-2 of the bundled sample, scored on held-out "
             f"tile 3 with `lcgan.evaluate` (seed 0; the crops follow TF's global seed too, which "
             f"training sets to the run's seed, so each seed's runs and baselines share their "
             f"images). Cells: mean over seeds ± half the range. L1 on the [0, 1] scale.\n"]
    for task in CONFIGS:
        mine = [r for r in records if r["task"] == task]
        if mine:
            first = mine[0]
            parts.append(f"## {task}\n\n{first['steps']} steps per run, {first['num_images']} test images.\n\n"
                         + task_table(mine) + "\n")
    pathlib.Path(results_file).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(results_file).write_text("\n".join(parts))
    print(f"wrote {results_file}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--configs", nargs="*", default=None, help="names from CONFIGS (default all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--eval-batches", type=int, default=16)
    parser.add_argument("--segmenter", default=None, help="segmenter .keras for the landcover columns")
    parser.add_argument("--out", default="runs/quality")
    parser.add_argument("--results", default="bench/results/quality.md")
    parser.add_argument("--rescore", action="store_true", help="score the saved exports again")
    args = parser.parse_args(argv)
    train_source, test_source = split_sample()
    for seed in args.seeds:  # every configuration once before the second seed
        for name in args.configs or CONFIGS[args.task]:
            train_and_score(args.task, name, seed, args, train_source, test_source)
            write_summary(args.out, args.results, args)


if __name__ == "__main__":
    main()
