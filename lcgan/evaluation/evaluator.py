"""Evaluate a generator next to the baselines on real tiles: tables (markdown, CSV) and a figure.

:func:`evaluate` draws ``batches`` model-ready batches of the task from a tile source with a
fixed seed, runs the generator and every baseline of :mod:`lcgan.evaluation.baselines` on the same batches,
and scores all of them with :mod:`lcgan.evaluation.metrics`:

* masked-region and whole-image L1, PSNR, SSIM (means over images; see :mod:`lcgan.evaluation.metrics`);
* landcover consistency (with a ``segmenter``): the segmenter classifies the masked pixels, and
  their pixel accuracy, mean class accuracy and mean IoU against the requested landcover are
  reported; the row ``real`` scores the real target images, the ceiling of this measure;
* the domain Frechet distance between generated and real whole tiles in the segmenter's pooled
  bottleneck features (and Inception FID/KID with ``inception_weights``);
* breakdowns by requested class of the masked pixels and by masked-area size.

Generator output is composited with the input outside the mask (as scene editing does) unless
``composite=False``. Outputs in ``out``: ``results.md``, ``results.csv``,
``breakdown.csv``, ``examples.png``.

Example:
    >>> result = evaluate("runs/mixlc/export", task="mixlc", out="runs/mixlc/eval")
    >>> result.table["lcgan"]["masked_l1"], result.files
"""

import dataclasses
import os

import numpy as np

from lcgan.evaluation import baselines, fid, metrics
from lcgan.images import composite as compose

COLUMNS = ("masked_l1", "masked_psnr", "masked_ssim", "l1", "psnr", "ssim",
           "lc_pixel_acc", "lc_mean_acc", "lc_miou", "domain_fd", "inception_fid", "inception_kid")


@dataclasses.dataclass
class EvaluationResult:
    """What :func:`evaluate` measured and wrote.

    Attributes:
        table: ``{method: {column: value}}`` (methods ``real``, ``lcgan`` and the baselines;
            columns of ``COLUMNS`` that were computed).
        files: paths written (empty when ``out`` was None).
        task: the task evaluated.
        num_images: images scored per method.
    """

    table: dict
    files: list
    task: str
    num_images: int

    def row(self, method: str = "lcgan") -> dict:
        """The columns of one method."""
        return self.table[method]


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
        self.class_l1 += metrics.class_sums(pixel_l1, batch["landcover"], mask,
                                            num_classes=num_classes)
        if segmenter is not None:
            logits = segmenter["model"]({"rgb": output}, training=False)  # (B, H, W, K)
            predicted = np.argmax(logits, axis=-1)
            self.confusion += metrics.confusion_matrix(batch["landcover"], predicted,
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


def _load_segmenter(segmenter, image_size):
    """``{"model", "features"}`` of a segmenter model or ``.keras`` path (None: no segmenter)."""
    if segmenter is None:
        return None
    import keras

    from lcgan.models.segmenter import segmenter_features

    model = segmenter
    if isinstance(segmenter, (str, os.PathLike)):
        model = keras.saving.load_model(segmenter, compile=False)
    size = model.inputs[0].shape[1]
    if size not in (None, image_size):
        raise ValueError(f"The segmenter {segmenter} takes {size} px tiles but `image_size` is "
                         f"{image_size}; train it at that size (examples/train_segmenter.py).")
    return {"model": model, "features": segmenter_features(model)}


def evaluate(generator, source=None, *, task="mixlc", image_size=64, batch_size=8, batches=8,
             seed=0, segmenter=None, task_options=None, composite=True, inception_weights=None,
             area_bins=(0.05, 0.15), examples=6, out=None) -> EvaluationResult:
    """Score ``generator`` and the baselines on the same fixed-seed batches of ``source``.

    Args:
        generator: anything :func:`lcgan.scenes.load_any_generator` takes (export directory,
            ``.keras`` file, Keras model, ``LandcoverGAN``).
        source: a :class:`~lcgan.data.TileSource` (default: the bundled sample).
        task: ``"mixlc"`` or ``"inpaint"``.
        image_size, batch_size, batches, seed: the evaluated crops.
        segmenter: a segmenter model or ``.keras`` path for the landcover columns and domain FD.
        task_options: sample options of the task (e.g. ``{"square_size": 24}``).
        composite: paste the generated pixels into the input outside the mask, as scene editing
            does (False: score the raw output).
        inception_weights: ``"imagenet"``, a weights path or ``"none"`` to add Inception FID/KID.
        area_bins: masked-area fractions separating the size bins of the breakdown.
        examples: rows of ``examples.png``.
        out: folder for ``results.md``, ``results.csv``, ``breakdown.csv``, ``examples.png``
            (None: write nothing).

    Returns:
        An :class:`EvaluationResult`.
    """
    from lcgan.data import make_dataset, resolve_source
    from lcgan.scenes.export import load_any_generator

    source = resolve_source() if source is None else source
    num_classes = source.legend.num_classes
    methods = {"lcgan": load_any_generator(generator),
               **baselines.make_baselines(baselines.class_mean_colors(source, num_classes=num_classes))}
    segmenter = _load_segmenter(segmenter, image_size)
    inception = fid.inception_model(inception_weights) if inception_weights else None
    dataset = make_dataset(source, task=task, image_size=image_size, batch_size=batch_size,
                           seed=seed, num_classes=num_classes, augment=False, repeat=True,
                           **(task_options or {}))
    scores = {name: _Scores(num_classes) for name in ("real", *methods)}
    bins, shown = [], []
    for batch in dataset.take(batches):
        batch = {key: np.asarray(value) for key, value in batch.items()}
        outputs = {"real": batch["target"]}
        for name, method in methods.items():
            outputs[name] = np.asarray(method(batch), dtype=np.float32)
        if composite:
            outputs["lcgan"] = compose(outputs["lcgan"], batch["rgb"], batch["mask"])
        for name, output in outputs.items():
            scores[name].update(batch, output, segmenter, num_classes)
            if inception is not None:
                scores[name].inception.append(
                    fid.extract_features(inception, output, resize_to=fid.INCEPTION_SIZE))
        bins.append(metrics.area_bins(batch["mask"], area_bins))
        if len(shown) < examples:
            shown.extend({"batch": {k: v[i] for k, v in batch.items()},
                          "outputs": {k: v[i] for k, v in outputs.items()}}
                         for i in range(min(len(batch["rgb"]), examples - len(shown))))
    table = {name: s.row(scores["real"]) for name, s in scores.items()}
    bins = np.concatenate(bins)
    files = []
    if out is not None:
        from lcgan.evaluation.report import write_report

        files = write_report(out, table=table, scores=scores, bins=bins,
                             bin_labels=metrics.area_bin_labels(area_bins), legend=source.legend,
                             examples=shown, title=f"{task} on {getattr(source, 'root', None) or 'the bundled sample'}")
    return EvaluationResult(table=table, files=files, task=task, num_images=len(bins))
