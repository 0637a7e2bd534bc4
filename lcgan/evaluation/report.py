"""Writes evaluation results: a markdown report, CSV tables and a PNG of side-by-side examples.

Used by :func:`lcgan.evaluation.evaluator.evaluate`; needs only numpy and Pillow.
"""

import csv
import math
import os

import numpy as np
from PIL import Image, ImageDraw

from lcgan.evaluation import metrics
from lcgan.images import to_uint8

COLUMN_LEGEND = {
    "masked_l1": ("masked L1", "mean |target - output| inside the mask, [0, 1] scale (lower is "
                  "better; a pixel metric rewards the mean, i.e. blur, where content is uncertain)"),
    "masked_psnr": ("masked PSNR", "PSNR inside the mask, dB (higher is better; same bias as L1)"),
    "masked_ssim": ("masked SSIM", "SSIM windows weighted by their mask share (higher is better)"),
    "l1": ("L1", "masked L1 over the whole image (the untouched context dominates)"),
    "psnr": ("PSNR", "PSNR over the whole image"),
    "ssim": ("SSIM", "SSIM over the whole image"),
    "sharpness": ("sharpness", "mean Sobel gradient inside the mask's interior over the real "
                  "target's (1.0 = as sharp as real; blur is far below, noise above)"),
    "sharpness_lap": ("Laplacian sharpness", "mean |Laplacian| inside the mask's interior over the "
                      "real target's (1.0 = as much fine detail as real)"),
    "seam": ("seam", "intensity steps across the mask boundary over natural steps between pixels "
             "of the same classes in the real images (1.0 = natural; a hard seam is above 1, a smeared "
             "one below; a Mix LC target is a pasted square, so its own seam is no goal)"),
    "lc_pixel_acc": ("LC pixel acc", "masked pixels the segmenter reads as the requested class"),
    "lc_ratio": ("LC ratio", "LC pixel acc over the real target's (1.0 = as recognisable as real)"),
    "lc_original": ("LC original", "changed masked pixels still read as their class before the "
                    "edit (lower is better; high = the input was reproduced)"),
    "lc_mean_acc": ("LC mean acc", "masked-pixel accuracy averaged over requested classes"),
    "lc_miou": ("LC mIoU", "masked-pixel IoU averaged over requested classes"),
    "region_fd": ("region FD", "Frechet distance of the segmenter's decoder features pooled "
                  "inside the mask, generated vs real regions (0 = real-like content; lower is "
                  "better)"),
    "domain_fd": ("domain FD", "Frechet distance of the segmenter's bottleneck features averaged "
                  "over whole tiles (the untouched context dominates)"),
    "inception_fid": ("Inception FID", "ImageNet InceptionV3 FID of whole tiles"),
    "inception_kid": ("Inception KID", "ImageNet InceptionV3 KID of whole tiles"),
}
"""Column -> (header, what it measures and rewards), in table order."""

HEADERS = {column: header for column, (header, _) in COLUMN_LEGEND.items()}


def _fmt(value):
    return "-" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def results_table(table):
    """The main results as markdown: one line per method, the computed columns in table order,
    then the legend of those columns (what each measures and rewards).

    Args:
        table: ``{method: {column: value}}`` (:attr:`EvaluationResult.table`).

    Returns:
        str.
    """
    columns = [c for c in HEADERS if any(c in row for row in table.values())]
    lines = _markdown(["method"] + [HEADERS[c] for c in columns],
                      [[m] + [_fmt(row.get(c)) for c in columns] for m, row in table.items()])
    legend = "\n".join(f"- **{HEADERS[c]}** (`{c}`): {COLUMN_LEGEND[c][1]}" for c in columns)
    return f"{lines}\n\n{legend}"


def _breakdowns(scores, bins, bin_labels, legend):
    """Long-format rows ``(breakdown, group, method, metric, value, count)``."""
    rows = []
    for method, s in scores.items():
        sums, counts = s.class_l1
        accuracy = metrics.per_class_accuracy(s.confusion) if s.features else None
        for k, name in enumerate(legend.names):
            value = sums[k] / counts[k] if counts[k] else float("nan")
            rows.append(("class", name, method, "masked_l1", value, int(counts[k])))
            if accuracy is not None:
                rows.append(("class", name, method, "lc_acc", accuracy[k], int(counts[k])))
        for metric in ("masked_l1", "masked_ssim"):
            values = np.concatenate(s.per_image[metric])
            for b, label in enumerate(bin_labels):
                chosen = values[(bins == b) & np.isfinite(values)]
                rows.append(("area", label, method, metric,
                             float(chosen.mean()) if chosen.size else float("nan"), int(chosen.size)))
    return rows


def _pivot(rows, breakdown, metric, methods):
    """Markdown table: one line per group, one column per method, plus the count n."""
    groups = list(dict.fromkeys(r[1] for r in rows if r[0] == breakdown))
    cell = {(r[1], r[2]): r for r in rows if r[0] == breakdown and r[3] == metric}
    present = [m for m in methods if any((g, m) in cell for g in groups)]
    lines = [[g, cell[(g, present[0])][5]] + [_fmt(cell[(g, m)][4]) for m in present] for g in groups]
    return _markdown([breakdown, "n"] + present, lines)


def _tile(rgb):
    return Image.fromarray(to_uint8(rgb))


def _figure(examples, legend, path):
    """Rows of examples: input, requested landcover (mask outlined), target, each method."""
    columns = ["input", "landcover"] + list(examples[0]["outputs"])
    size = examples[0]["batch"]["rgb"].shape[0]
    cell, header = max(size, 64), 14
    figure = Image.new("RGB", (cell * len(columns), header + cell * len(examples)), "white")
    draw = ImageDraw.Draw(figure)
    for c, name in enumerate(columns):
        draw.text((c * cell + 2, 1), "target" if name == "real" else name, fill="black")
    for r, example in enumerate(examples):
        batch = example["batch"]
        landcover = legend.colorize(batch["landcover"])  # (H, W, 3) uint8
        edge = batch["mask"][..., 0] > 0.5
        edge = edge & ~(np.roll(edge, 1, 0) & np.roll(edge, -1, 0) & np.roll(edge, 1, 1)
                        & np.roll(edge, -1, 1))
        landcover[edge] = 255
        tiles = [_tile(batch["rgb"]), Image.fromarray(landcover)]
        tiles += [_tile(out) for out in example["outputs"].values()]
        for c, tile in enumerate(tiles):
            figure.paste(tile.resize((cell, cell), Image.NEAREST), (c * cell, header + r * cell))
    figure.save(path)


def write_report(out, *, table, scores, bins, bin_labels, legend, examples, title, notes=()):
    """Write ``results.md``, ``results.csv``, ``breakdown.csv`` and ``examples.png`` into ``out``.

    Args:
        out: output folder (created).
        table: ``{method: {column: value}}`` main results.
        scores: per-method accumulators of :mod:`lcgan.evaluation.evaluator` (per-image values, confusion
            matrices, per-class L1 sums).
        bins: (N,) area-bin index of each evaluated image.
        bin_labels: label of each bin.
        legend: the :class:`~lcgan.data.legend.Legend` (class names, colours).
        examples: list of ``{"batch": {key: array}, "outputs": {method: (H, W, 3)}}``.
        title: first line of the markdown report.
        notes: lines printed under the title (e.g. which segmenter judged the landcover).

    Returns:
        list of the paths written.
    """
    os.makedirs(out, exist_ok=True)
    columns = [c for c in HEADERS if any(c in row for row in table.values())]
    paths = {name: os.path.join(out, name) for name in
             ("results.md", "results.csv", "breakdown.csv", "examples.png")}
    with open(paths["results.csv"], "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["method"] + columns)
        writer.writerows([method] + [row.get(c, "") for c in columns] for method, row in table.items())
    rows = _breakdowns(scores, bins, bin_labels, legend)
    with open(paths["breakdown.csv"], "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["breakdown", "group", "method", "metric", "value", "count"])
        writer.writerows(rows)
    methods = list(table)
    sections = [f"# Evaluation: {title}", f"{len(bins)} images; `real` scores the real target "
                "images (landcover columns: the segmenter's ceiling).", *notes, results_table(table),
                "## Masked L1 by requested class of the masked pixels",
                _pivot(rows, "class", "masked_l1", methods)]
    if any(r[3] == "lc_acc" for r in rows):
        sections += ["## Landcover accuracy of the masked pixels by requested class",
                     _pivot(rows, "class", "lc_acc", methods)]
    sections += ["## Masked L1 by masked-area fraction", _pivot(rows, "area", "masked_l1", methods),
                 "## Masked SSIM by masked-area fraction", _pivot(rows, "area", "masked_ssim", methods)]
    with open(paths["results.md"], "w", encoding="utf-8") as f:
        f.write("\n\n".join(sections) + "\n")
    _figure(examples, legend, paths["examples.png"])
    return list(paths.values())
