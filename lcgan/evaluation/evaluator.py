"""Evaluate a generator next to the baselines on real tiles: tables (markdown, CSV) and a figure.

:func:`evaluate` draws ``batches`` model-ready batches of the task from a tile source with a
fixed seed, runs the generator and every baseline of :mod:`lcgan.evaluation.baselines` on the same
batches, and scores all of them (:mod:`lcgan.evaluation.scores` lists the columns):

* masked-region and whole-image L1, PSNR, SSIM (means over images; :mod:`lcgan.evaluation.metrics`);
* measures of the edited region alone (:mod:`lcgan.evaluation.region`): sharpness of its texture
  and the visibility of its seam, relative to real imagery;
* with a segmenter (by default the packaged one, when the legend is the bundled Dubai legend; see
  :mod:`lcgan.evaluation.segmenters`): landcover consistency of the masked pixels (read as the
  requested class, next to the real target's rate; still read as the class before the edit),
  the region Frechet distance in segmenter features pooled inside the mask, and the domain
  Frechet distance of whole tiles (and Inception FID/KID with ``inception_weights``); the row
  ``real`` scores the real target images, the ceiling of the landcover measures;
* breakdowns by requested class of the masked pixels and by masked-area size.

Generator output is composited with the input outside the mask (as scene editing does) unless
``composite=False``. Outputs in ``out``: ``results.md``, ``results.csv``,
``breakdown.csv``, ``examples.png``.

Example:
    >>> result = evaluate("runs/mixlc/export", task="mixlc", out="runs/mixlc/eval")
    >>> result.table["lcgan"]["region_fd"], result.segmenter, result.files
"""

import dataclasses

import numpy as np

from lcgan.data.legend import IGNORE
from lcgan.evaluation import baselines, fid, metrics
from lcgan.evaluation.scores import MethodScores
from lcgan.evaluation.segmenters import resolve_judge
from lcgan.images import composite as compose


CYCLE_NOTE = ("Task cycle has no target of the edit: the pixel columns (L1, PSNR, SSIM) compare with "
              "the image before the edit (close inside the mask = the edit was not made), and the "
              "`real` row, the reference of sharpness, region FD and LC ratio, is the real pixels "
              "of the requested classes in the same images.")


@dataclasses.dataclass
class EvaluationResult:
    """What :func:`evaluate` measured and wrote.

    Attributes:
        table: ``{method: {column: value}}`` (methods ``real``, ``lcgan`` and the baselines;
            the columns of :data:`lcgan.evaluation.scores.COLUMNS` that were computed).
        files: paths written (empty when ``out`` was None).
        task: the task evaluated.
        num_images: images scored per method.
        segmenter: which segmenter judged the landcover columns, or why there are none.
    """

    table: dict
    files: list
    task: str
    num_images: int
    segmenter: str = ""

    def row(self, method: str = "lcgan") -> dict:
        """The columns of one method."""
        return self.table[method]


def _methods(generator, train_tiles, num_classes, task):
    """``{name: batch -> (B, H, W, 3)}``: the generator (``lcgan``, unless None) and the baselines."""
    from lcgan.scenes.export import load_any_generator

    means = baselines.class_mean_colors(train_tiles, num_classes=num_classes)
    generated = {} if generator is None else {"lcgan": load_any_generator(generator, task=task)}
    return {**generated, **baselines.make_baselines(means)}


def _outputs(batch, methods, composite):
    """Every method's output on one numpy batch, ``real`` (the target) first."""
    outputs = {"real": batch["target"]}
    for name, method in methods.items():
        outputs[name] = np.asarray(method(batch), dtype=np.float32)
    if composite and "lcgan" in outputs:
        outputs["lcgan"] = compose(outputs["lcgan"], batch["rgb"], batch["mask"])
    return outputs


def _reference_batch(batch, task):
    """The batch that the ``real`` row (every method's reference) is scored on.

    Mix LC and inpainting have a real target of the edit: the target inside the mask. Task
    ``cycle`` has none (its ``target`` is the image before the edit), so its reference is the real
    pixels, anywhere in the same image, of the classes requested inside that image's mask, with
    their real landcover.
    """
    if task != "cycle":
        return batch
    before = batch["landcover_before"]  # (B, H, W)
    requested = batch["landcover_onehot"] * batch["mask"]  # (B, H, W, K)
    asked = requested.max(axis=(1, 2)) > 0  # (B, K): classes requested in each image
    known = before != IGNORE
    flat = np.where(known, before, 0).reshape(len(before), -1)
    chosen = np.take_along_axis(asked, flat, axis=1).reshape(before.shape) & known  # (B, H, W)
    return {**batch, "mask": chosen[..., None].astype(np.float32), "landcover": before}


def _score_batches(batches, methods, scores, *, task, heads, inception, composite, area_bins,
                   examples):
    """Run and score every method on every batch; returns (area bin of each image, examples)."""
    bins, shown = [], []
    for batch in batches:
        batch = {key: np.asarray(value) for key, value in batch.items()}
        outputs = _outputs(batch, methods, composite)
        reference = _reference_batch(batch, task)
        scores["real"].add_natural_edges(batch["target"], reference["landcover"], batch["mask"])
        for name, output in outputs.items():
            scores[name].update(reference if name == "real" else batch, output, heads)
            if inception is not None:
                scores[name].inception.append(
                    fid.extract_features(inception, output, resize_to=fid.INCEPTION_SIZE))
        bins.append(metrics.area_bins(batch["mask"], area_bins))
        shown.extend({"batch": {k: v[i] for k, v in batch.items()},
                      "outputs": {k: v[i] for k, v in outputs.items()}}
                     for i in range(min(len(batch["rgb"]), examples - len(shown))))
    return np.concatenate(bins), shown


def evaluate(generator, source=None, *, task="mixlc", image_size=64, batch_size=8, batches=8,
             seed=0, segmenter=None, task_options=None, composite=True, inception_weights=None,
             area_bins=(0.05, 0.15), examples=6, train_tiles=None, out=None) -> EvaluationResult:
    """Score ``generator`` and the baselines on the same fixed-seed batches of ``source``.

    Args:
        generator: anything :func:`lcgan.scenes.load_any_generator` takes (export directory,
            ``.keras`` file, Keras model, ``LandcoverGAN``); None scores the baselines alone.
        source: a :class:`~lcgan.data.TileSource` (default: the bundled sample).
        task: ``"mixlc"`` or ``"inpaint"``.
        image_size, batch_size, batches, seed: the evaluated crops. Their tiles' order also
            follows TensorFlow's global seed when one is set (:mod:`lcgan.data.pipeline`):
            ``lcgan evaluate`` sets none, so to get its crops from Python, call this where no
            global seed was set (not after :func:`lcgan.train` or ``keras.utils.set_random_seed``
            in the same process). Every method of one call is scored on the same crops.
        segmenter: a segmenter model or ``.keras`` path for the landcover columns and the
            Frechet distances (any input size: a fixed-size model is rebuilt with free spatial
            dims); None uses the packaged segmenter when the source's legend is the bundled Dubai
            legend (else those columns are left out and the report says how to train one): for
            task ``cycle``, whose training pleases the default one, the second one (other tiles,
            other seed); False: none.
        task_options: sample options of the task (e.g. ``{"square_size": 24}``).
        composite: paste the generated pixels into the input outside the mask, as scene editing
            does (False: score the raw output).
        inception_weights: ``"imagenet"``, a weights path or ``"none"`` to add Inception FID/KID.
        area_bins: masked-area fractions separating the size bins of the breakdown.
        examples: rows of ``examples.png``.
        train_tiles: the tiles whose class mean colours the ``class_mean`` baseline paints: the
            generator's training tiles (a source or ``(rgb, landcover)`` pairs); default
            ``source`` itself, which shows that baseline the evaluated tiles' own colours.
        out: folder for ``results.md``, ``results.csv``, ``breakdown.csv``, ``examples.png``
            (None: write nothing).

    Returns:
        An :class:`EvaluationResult`.

    Raises:
        ValueError: a bad option, a generator file or export trained for another ``task``, or a
            segmenter of another class count or that cannot take ``image_size`` px tiles.
        DataError: a tile file is unreadable or holds classes not in the legend (naming it).
    """
    from lcgan.data import make_dataset, resolve_source
    from lcgan.data.checks import check_tile_sizes, reading

    source = resolve_source() if source is None else source
    check_tile_sizes(source, image_size)
    num_classes = source.legend.num_classes
    methods = _methods(generator, source if train_tiles is None else train_tiles, num_classes,
                       task)
    heads, judge = resolve_judge(segmenter, source.legend, image_size,
                                 role="second" if task == "cycle" else "default")
    inception = fid.inception_model(inception_weights) if inception_weights else None
    dataset = make_dataset(source, task=task, image_size=image_size, batch_size=batch_size,
                           seed=seed, num_classes=num_classes, augment=False, repeat=True,
                           **(task_options or {}))
    scores = {name: MethodScores(num_classes) for name in ("real", *methods)}
    with reading(source):  # a bad tile file raises its DataError, naming it
        bins, shown = _score_batches(dataset.take(batches), methods, scores, task=task,
                                     heads=heads, inception=inception, composite=composite,
                                     area_bins=area_bins, examples=examples)
    table = {name: s.row(scores["real"]) for name, s in scores.items()}
    files, notes = [], [judge] + ([CYCLE_NOTE] if task == "cycle" else [])
    if out is not None:
        from lcgan.evaluation.report import write_report

        files = write_report(out, table=table, scores=scores, bins=bins,
                             bin_labels=metrics.area_bin_labels(area_bins), legend=source.legend,
                             examples=shown, notes=notes,
                             title=f"{task} on {getattr(source, 'root', None) or 'the bundled sample'}")
    return EvaluationResult(table=table, files=files, task=task, num_images=len(bins),
                            segmenter=judge)
