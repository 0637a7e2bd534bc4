"""Where does a judge still read an edit as the original class? By distance to the edit's edge,
and by class transition.

``lc_original`` of ``bench_cycle.py`` is one number over every changed pixel. This breaks it down
on the same fixed-seed edits, for the cycle generator and class-mean fill:

- by the Chebyshev distance of the pixel to the nearest unedited pixel (1 = on the edge), next to
  the same rate on **real class boundaries** of the unedited images: the share of real pixels at
  that distance from a pixel of another class that the judge reads as that other class (a judge
  reads a pixel partly from its surroundings; this is the floor of ``lc_original`` for edits of
  the same shape, and its "all" row weighs the bands as the edits do);
- by transition (original class -> requested class), with the judge's accuracy on real pixels of
  the requested class in the same images next to it: a class the judge barely recognises on real
  imagery cannot be recognised on an edit either.

    python bench/cycle_original_breakdown.py --cycle runs/cycle_run/export \\
        --out bench/results/cycle_original_breakdown.md
"""

import argparse
import collections
import os
import pathlib
import shlex
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from lcgan.data import make_dataset, resolve_source  # noqa: E402
from lcgan.data.edits import load_transitions  # noqa: E402
from lcgan.data.legend import IGNORE  # noqa: E402
from lcgan.evaluation import baselines  # noqa: E402
from lcgan.evaluation.segmenters import PACKAGED, load_segmenter  # noqa: E402
from lcgan.images import composite  # noqa: E402
from lcgan.scenes import load_any_generator  # noqa: E402

from eval_baselines import split_sample  # noqa: E402  (bench/ is on sys.path when run)

BANDS = {"1 (the edge)": (1, 1), "2-3": (2, 3), "4-7": (4, 7), ">= 8": (8, np.inf)}
"""Distance bands: label -> (lowest, highest) distance in pixels."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycle", required=True, help="export of the cycle generator")
    parser.add_argument("--judge", default=str(PACKAGED["default"]),
                        help="the independent segmenter (.keras) that reads the edits")
    parser.add_argument("--transitions", default=None, help="JSON class-transition matrix")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench/results/cycle_original_breakdown.md")
    return parser.parse_args(argv)


def edge_distance(mask):
    """(B, H, W) bool -> (B, H, W) int Chebyshev distance to the nearest unmasked pixel
    (0 outside)."""
    return np.stack([ndimage.distance_transform_cdt(m, metric="chessboard") for m in mask])


def boundary_distance(landcover):
    """(B, H, W) class ids -> (distance to the nearest pixel of another class, that class), each
    (B, H, W) int (IGNORE pixels: distance 0)."""
    distance, across = np.zeros_like(landcover), np.full_like(landcover, IGNORE)
    for b, ids in enumerate(landcover):
        for k in np.unique(ids[ids != IGNORE]):
            own = ids == k
            d, (rows, cols) = ndimage.distance_transform_cdt(own, metric="chessboard",
                                                            return_indices=True)
            distance[b][own], across[b][own] = d[own], ids[rows, cols][own]
    return distance, across


def count(counts, key, hits, where):
    counts[key] += np.array([hits[where].sum(), where.sum()], dtype=np.float64)


def tally(args):
    """Counts {method: {key: [read as original, changed]}} and the judge's accuracy on real
    pixels of each class {class id: [read as itself, pixels]}."""
    train, test = split_sample()
    legend = test.legend
    options = ({"transitions": load_transitions(args.transitions, legend).tolist()}
               if args.transitions else {})
    fill = baselines.class_mean_fill(
        baselines.class_mean_colors(train, num_classes=legend.num_classes))
    generator = load_any_generator(args.cycle, task="cycle")
    judge = load_segmenter(args.judge)
    dataset = make_dataset(test, task="cycle", image_size=args.image_size,
                           batch_size=args.batch_size, seed=args.seed,
                           num_classes=legend.num_classes, augment=False, repeat=True, **options)
    counts = {name: collections.defaultdict(lambda: np.zeros(2)) for name in
              ("cycle (lcgan)", "class_mean", "real class boundaries")}
    real = collections.defaultdict(lambda: np.zeros(2))
    for batch in dataset.take(args.batches):
        batch = {key: np.asarray(value) for key, value in batch.items()}
        requested, before = batch["landcover"], batch["landcover_before"]
        mask = batch["mask"][..., 0] > 0.5
        changed = mask & (requested >= 0) & (before >= 0) & (requested != before)
        distance = edge_distance(mask)
        edited = composite(np.asarray(generator(batch)), batch["rgb"], batch["mask"])
        images = {"cycle (lcgan)": edited,
                  "class_mean": fill(batch)}
        read = np.argmax(np.asarray(judge({"rgb": batch["target"]}, training=False)), axis=-1)
        for k in range(legend.num_classes):
            count(real, k, read == before, before == k)
        real_distance, across = boundary_distance(before)
        for label, (low, high) in BANDS.items():
            count(counts["real class boundaries"], label, read == across,
                  (across != IGNORE) & (real_distance >= low) & (real_distance <= high))
        for name, image in images.items():
            read = np.argmax(np.asarray(judge({"rgb": image}, training=False)), axis=-1)
            original = read == before
            count(counts[name], "all", original, changed)
            for label, (low, high) in BANDS.items():
                band = (distance >= low) & (distance <= high)
                count(counts[name], label, original, changed & band)
            for old, new in zip(*np.nonzero(np.bincount(
                    (before * legend.num_classes + requested)[changed],
                    minlength=legend.num_classes ** 2).reshape(legend.num_classes, -1))):
                count(counts[name], (int(old), int(new)), original,
                      changed & (before == old) & (requested == new))
    return counts, real, legend


def rate(pair):
    return f"{pair[0] / pair[1]:.3f}" if pair[1] else "-"


def report(args, counts, real, legend):
    names = list(counts)
    edits, boundaries = counts[names[0]], counts["real class boundaries"]
    # the real boundaries' rate at the edits' distances: each band weighs its changed pixels
    boundaries["all"] = np.array([sum(edits[b][1] * boundaries[b][0] / max(boundaries[b][1], 1)
                                      for b in BANDS), edits["all"][1]])
    lines = [f"# Edits read as their original class: where (`{shlex.join(sys.argv)}`)", "",
             f"Judge: `{args.judge}`; {args.batches} batches of {args.batch_size} edits at "
             f"{args.image_size} px (seed {args.seed}) of held-out tile 3; transitions: "
             f"{args.transitions or 'every change alike'}. Cells: share of changed pixels the "
             "judge reads as their class before the edit; for real class boundaries, share of "
             "the real pixels at that distance from another class that it reads as that class "
             "(the 'all' row weighs the bands by the edits' changed pixels).", "",
             "| distance to the edge (px) | changed pixels | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for label in (*BANDS, "all"):
        lines.append(f"| {label} | {int(edits[label][1])} | "
                     + " | ".join(rate(counts[n][label]) for n in names) + " |")
    lines += ["", "| transition | changed pixels | judge accuracy on real pixels of the requested "
              "class | " + " | ".join(names[:2]) + " |", "|---|---|---|" + "---|" * 2]
    pairs = sorted((key for key in counts[names[0]] if isinstance(key, tuple)),
                   key=lambda key: -counts[names[0]][key][1])
    for old, new in pairs:
        lines.append(f"| {legend.names[old]} -> {legend.names[new]} | "
                     f"{int(counts[names[0]][(old, new)][1])} | {rate(real[new])} | "
                     + " | ".join(rate(counts[n][(old, new)]) for n in names[:2]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    counts, real, legend = tally(args)
    text = report(args, counts, real, legend)
    print(text)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
