"""What an evaluation measures for one method, added up batch by batch, and its table row.

The columns (see :data:`COLUMNS`; :mod:`lcgan.evaluation.report` writes their legend):

* pixel metrics against the target (:mod:`lcgan.evaluation.metrics`): ``masked_l1``,
  ``masked_psnr``, ``masked_ssim`` inside the mask, ``l1``, ``psnr``, ``ssim`` on whole images;
* edited-region measures (:mod:`lcgan.evaluation.region`) against the real target in the same
  mask: ``sharpness``, ``sharpness_lap`` (1.0 = as sharp as real), ``seam`` (1.0 = the mask
  boundary as visible as natural edges of the same kind in the real images);
* with a segmenter: ``lc_pixel_acc``, ``lc_mean_acc``, ``lc_miou`` of the masked pixels against
  the requested landcover, ``lc_ratio`` (``lc_pixel_acc`` over the real target's),
  ``lc_original`` (changed masked pixels still read as their class before the edit),
  ``region_fd`` (Frechet distance of decoder features pooled inside the mask, generated vs
  real regions) and ``domain_fd`` (of bottleneck features averaged over whole tiles);
* with Inception weights: ``inception_fid``, ``inception_kid`` on whole tiles.
"""

import numpy as np

from lcgan.evaluation import fid, metrics, region

IMAGE_COLUMNS = ("masked_l1", "masked_psnr", "masked_ssim", "l1", "psnr", "ssim")
COLUMNS = IMAGE_COLUMNS + ("sharpness", "sharpness_lap", "seam", "lc_pixel_acc", "lc_ratio",
                           "lc_original", "lc_mean_acc", "lc_miou", "region_fd", "domain_fd",
                           "inception_fid", "inception_kid")


def _nan_ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else float("nan")


class MethodScores:
    """Running totals of every measure of one method's outputs on the evaluated batches.

    The accumulator of the real images (the ``real`` row, every method's reference) also
    collects their natural edges (:meth:`add_natural_edges`), the reference of ``seam``.

    Args:
        num_classes: K of the legend.
    """

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.per_image = {name: [] for name in IMAGE_COLUMNS}
        self.class_l1 = np.zeros((2, num_classes))  # sums, counts by requested class
        self.texture = {"gradient": 0.0, "laplacian": 0.0, "pixels": 0.0}
        self.seam = np.zeros((2, 2))  # (sums, counts) x (same class, class change)
        self.natural_edges = np.zeros((2, 2))
        self.confusion = np.zeros((num_classes, num_classes))
        self.original = np.zeros(2)  # read as the original class, changed pixels
        self.features, self.region_features, self.inception = [], [], []

    def update(self, batch, output, heads=None):
        """Add one batch: ``batch`` the model-ready numpy dict, ``output`` (B, H, W, 3) in [-1, 1],
        ``heads`` the segmenter of :func:`lcgan.evaluation.segmenters.segmenter_heads` or None."""
        target, mask, landcover = batch["target"], batch["mask"], batch["landcover"]
        for name, fn in metrics.IMAGE_METRICS.items():
            self.per_image[f"masked_{name}"].append(np.asarray(fn(target, output, mask)))
            self.per_image[name].append(np.asarray(fn(target, output)))
        pixel_l1 = np.abs(target - output).mean(axis=-1) / 2.0  # (B, H, W)
        self.class_l1 += metrics.class_sums(pixel_l1, landcover, mask, num_classes=self.num_classes)
        for name, value in region.texture_sums(output, mask).items():
            self.texture[name] += float(value.sum())
        self.seam += region.edge_sums(output, landcover, mask, across_mask=True)
        if heads is not None:
            self._update_segmenter(batch, output, heads)

    def add_natural_edges(self, images, landcover, mask):
        """Add the steps between neighbours of real ``images`` (B, H, W, 3) showing ``landcover``
        (B, H, W), leaving out the pairs across ``mask`` (B, H, W, 1), a pasted or edited edge."""
        self.natural_edges += region.edge_sums(images, landcover, mask, across_mask=False)

    def _update_segmenter(self, batch, output, heads):
        judged = heads({"rgb": output}, training=False)
        predicted = np.argmax(judged["logits"], axis=-1)  # (B, H, W)
        self.confusion += metrics.confusion_matrix(batch["landcover"], predicted,
                                                   num_classes=self.num_classes,
                                                   mask=batch["mask"]).numpy()
        self.original += region.original_class_counts(predicted, batch["landcover"],
                                                      batch["landcover_before"], batch["mask"])
        self.features.append(np.asarray(judged["features"], np.float64).mean(axis=(1, 2)))  # (B, D)
        pooled, weight = region.masked_pool(judged["region"], batch["mask"])  # (B, D')
        self.region_features.append(pooled[weight > 0])

    def row(self, real):
        """``{column: value}`` of this method, ``real`` being the reference accumulator."""
        row = {}
        for name, values in self.per_image.items():
            values = np.concatenate(values)
            finite = np.isfinite(values)
            row[name] = float(np.mean(values[finite])) if finite.any() else float("nan")
        for column, key in (("sharpness", "gradient"), ("sharpness_lap", "laplacian")):
            row[column] = region.ratio_of_means(self.texture[key], real.texture[key],
                                                self.texture["pixels"], real.texture["pixels"])
        row["seam"] = region.seam_ratio(*self.seam, *real.natural_edges)
        if self.features:
            row.update(self._segmenter_row(real))
        if self.inception:
            real_inc, own = np.concatenate(real.inception), np.concatenate(self.inception)
            row["inception_fid"] = fid.frechet_distance(real_inc, own)
            row["inception_kid"] = fid.kernel_distance(real_inc, own)[0]
        return row

    def _segmenter_row(self, real):
        accuracy = metrics.pixel_accuracy(self.confusion)
        regions, real_regions = (np.concatenate(s.region_features) for s in (self, real))
        return {"lc_pixel_acc": accuracy,
                "lc_ratio": _nan_ratio(accuracy, metrics.pixel_accuracy(real.confusion)),
                "lc_original": _nan_ratio(*self.original),
                "lc_mean_acc": metrics.mean_accuracy(self.confusion),
                "lc_miou": metrics.mean_iou(self.confusion),
                "region_fd": fid.frechet_distance(real_regions, regions)
                if min(len(regions), len(real_regions)) >= 2 else float("nan"),
                "domain_fd": fid.frechet_distance(np.concatenate(real.features),
                                                  np.concatenate(self.features))}
