"""Evaluate a generator next to the baselines on real tiles: tables (markdown, CSV) and a figure.

``run_evaluation`` draws ``--batches`` model-ready batches of the task from a tile source with a
fixed seed, runs the generator and every baseline of :mod:`lcgan.baselines` on the same batches,
and scores all of them with :mod:`lcgan.metrics`:

* masked-region and whole-image L1, PSNR, SSIM (means over images; see :mod:`lcgan.metrics`);
* landcover consistency (with ``--segmenter``): the segmenter classifies the masked pixels, and
  their pixel accuracy, mean class accuracy and mean IoU against the requested landcover are
  reported; the row ``real`` scores the real target images, the ceiling of this measure;
* the domain Frechet distance between generated and real whole tiles in the segmenter's pooled
  bottleneck features (and Inception FID/KID with ``--inception``);
* breakdowns by requested class of the masked pixels and by masked-area size.

Generator output is composited with the input outside the mask (as scene editing does) unless
``--no-composite`` is given. Outputs in ``--out``: ``results.md``, ``results.csv``,
``breakdown.csv``, ``examples.png``.

Example:
    >>> parser = argparse.ArgumentParser(); add_evaluate_arguments(parser)
    >>> run_evaluation(parser.parse_args(["--generator", "runs/mixlc/export", "--out", "eval"]))
"""

import os

import numpy as np

from lcgan import baselines, fid, metrics

COLUMNS = ("masked_l1", "masked_psnr", "masked_ssim", "l1", "psnr", "ssim",
           "lc_pixel_acc", "lc_mean_acc", "lc_miou", "domain_fd", "inception_fid", "inception_kid")


def add_evaluate_arguments(parser):
    """Add the evaluation options to an ``argparse`` parser (used by examples/evaluate.py and the CLI)."""
    parser.add_argument("--generator", required=True,
                        help="an lcgan export directory (lcgan.export) or a generator .keras file")
    parser.add_argument("--segmenter", default=None,
                        help="segmenter .keras file (examples/train_segmenter.py) for landcover "
                             "consistency and the domain Frechet distance")
    parser.add_argument("--data", default=None,
                        help="folder of images/ and masks/ tiles (default: the bundled Dubai sample)")
    parser.add_argument("--task", choices=("mixlc", "inpaint"), default="mixlc")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=8, help="number of batches to evaluate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--square-size", type=int, default=None, help="mixlc square side (pixels)")
    parser.add_argument("--num-patches", type=int, default=None, help="inpaint patches per tile")
    parser.add_argument("--patch-size", type=int, default=None, help="inpaint patch side (pixels)")
    parser.add_argument("--area-bins", type=float, nargs="+", default=[0.05, 0.15],
                        help="masked-area fractions separating the size bins")
    parser.add_argument("--no-composite", action="store_true",
                        help="score raw generator output instead of compositing it into the input")
    parser.add_argument("--inception", action="store_true", help="also compute Inception FID/KID")
    parser.add_argument("--inception-weights", default="imagenet",
                        help="'imagenet' (the Keras cache file, default), a path of the InceptionV3 "
                        "no-top .h5 weights, or 'none' (random weights)")
    parser.add_argument("--examples", type=int, default=6, help="rows in examples.png")
    parser.add_argument("--out", required=True, help="output folder")
    return parser


def load_generator_fn(path):
    """A callable ``batch -> (B, H, W, 3) numpy`` for an export directory or a ``.keras`` file."""
    path = os.fspath(path)
    if os.path.isdir(path):
        from lcgan.export import load_generator

        generator = load_generator(path)
        return lambda batch: generator(rgb=batch["rgb"], landcover=batch["landcover_ids"],
                                       mask=batch["mask"] if generator.takes_mask else None)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`--generator` not found: {path} (expected an export directory "
                                "or a .keras file)")
    import keras

    from lcgan.models.blocks import select_inputs  # also registers lcgan's custom layers

    model = keras.saving.load_model(path, compile=False)
    return lambda batch: np.asarray(model(select_inputs(model, batch), training=False))


def _source(data):
    from lcgan.data import FolderSource, sample_source

    return sample_source() if data is None else FolderSource(data)


def _task_options(args):
    names = ("square_size",) if args.task == "mixlc" else ("num_patches", "patch_size")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


class _Scores:
    """Everything measured for one method, accumulated batch by batch."""

    def __init__(self, num_classes):
        self.per_image = {name: [] for name in COLUMNS[:6]}
        self.confusion = np.zeros((num_classes, num_classes))
        self.class_l1 = np.zeros((2, num_classes))  # sums, counts
        self.features, self.inception = [], []

    def update(self, batch, output, segmenter, num_classes):
        target, mask = batch["target"], batch["mask"]
        for name, fn in metrics.IMAGE_METRICS.items():
            self.per_image[f"masked_{name}"].append(np.asarray(fn(target, output, mask)))
            self.per_image[name].append(np.asarray(fn(target, output)))
        pixel_l1 = np.abs(target - output).mean(axis=-1) / 2.0  # (B, H, W)
        self.class_l1 += metrics.class_sums(pixel_l1, batch["landcover_ids"], mask,
                                            num_classes=num_classes)
        if segmenter is not None:
            logits = segmenter["model"]({"rgb": output}, training=False)  # (B, H, W, K)
            predicted = np.argmax(logits, axis=-1)
            self.confusion += metrics.confusion_matrix(batch["landcover_ids"], predicted,
                                                       num_classes=num_classes, mask=mask).numpy()
            self.features.append(np.asarray(segmenter["features"](output, training=False)))

    def row(self, real):
        row = {}
        for name, values in self.per_image.items():
            values = np.concatenate(values)
            row[name] = float(np.mean(values[np.isfinite(values)])) if np.isfinite(values).any() \
                else float("nan")
        if self.features:
            row.update(lc_pixel_acc=metrics.pixel_accuracy(self.confusion),
                       lc_mean_acc=metrics.mean_accuracy(self.confusion),
                       lc_miou=metrics.mean_iou(self.confusion),
                       domain_fd=fid.frechet_distance(np.concatenate(real.features),
                                                      np.concatenate(self.features)))
        if self.inception:
            real_inc, own = np.concatenate(real.inception), np.concatenate(self.inception)
            row["inception_fid"] = fid.frechet_distance(real_inc, own)
            row["inception_kid"] = fid.kernel_distance(real_inc, own)[0]
        return row


def _load_segmenter(path, image_size):
    if path is None:
        return None
    import keras

    from lcgan.models.segmenter import segmenter_features

    model = keras.saving.load_model(path, compile=False)
    size = model.inputs[0].shape[1]
    if size not in (None, image_size):
        raise ValueError(f"The segmenter {path} takes {size} px tiles but `--image-size` is "
                         f"{image_size}; train it at that size (examples/train_segmenter.py).")
    return {"model": model, "features": segmenter_features(model)}


def run_evaluation(args):
    """Run the evaluation described by parsed ``args`` (see :func:`add_evaluate_arguments`).

    Returns:
        dict ``{"table": {method: {column: value}}, "files": [paths written]}``.
    """
    from lcgan.data import make_dataset

    source = _source(args.data)
    num_classes = source.legend.num_classes
    methods = {"lcgan": load_generator_fn(args.generator),
               **baselines.make_baselines(baselines.class_mean_colors(source, num_classes=num_classes))}
    segmenter = _load_segmenter(args.segmenter, args.image_size)
    inception = fid.inception_model(args.inception_weights) if args.inception else None
    dataset = make_dataset(source, task=args.task, image_size=args.image_size,
                           batch_size=args.batch_size, seed=args.seed, num_classes=num_classes,
                           augment=False, repeat=True, **_task_options(args))
    scores = {name: _Scores(num_classes) for name in ("real", *methods)}
    bins, examples = [], []
    for batch in dataset.take(args.batches):
        batch = {key: np.asarray(value) for key, value in batch.items()}
        outputs = {"real": batch["target"]}
        for name, method in methods.items():
            outputs[name] = np.asarray(method(batch), dtype=np.float32)
        if not args.no_composite:
            outputs["lcgan"] = batch["mask"] * outputs["lcgan"] + (1 - batch["mask"]) * batch["rgb"]
        for name, output in outputs.items():
            scores[name].update(batch, output, segmenter, num_classes)
            if inception is not None:
                scores[name].inception.append(
                    fid.extract_features(inception, output, resize_to=fid.INCEPTION_SIZE))
        bins.append(metrics.area_bins(batch["mask"], args.area_bins))
        if len(examples) < args.examples:
            examples.extend({"batch": {k: v[i] for k, v in batch.items()},
                             "outputs": {k: v[i] for k, v in outputs.items()}}
                            for i in range(min(len(batch["rgb"]), args.examples - len(examples))))
    table = {name: s.row(scores["real"]) for name, s in scores.items()}
    from lcgan.report import write_report

    files = write_report(args.out, table=table, scores=scores, bins=np.concatenate(bins),
                         bin_labels=metrics.area_bin_labels(args.area_bins), legend=source.legend,
                         examples=examples, title=f"{args.task} on {args.data or 'the bundled sample'}")
    return {"table": table, "files": files}
