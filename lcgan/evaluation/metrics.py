"""Image-quality and landcover-consistency metrics on batches (TensorFlow ops).

Images are float tensors in [-1, 1] of shape (B, H, W, 3) (the model world, see the contract);
masks are (B, H, W, 1) float with 1 inside the edited region. Every per-image function returns a
(B,) tensor so callers can average, break results down (:func:`area_bins`) or feed a Keras metric
(:class:`ImageMetric`, :class:`ConfusionMatrixMetric`), which makes them usable inside
``model.evaluate`` and on their own.

Conventions:
    * L1 is reported on the [0, 1] intensity scale (half the mean absolute difference in [-1, 1]).
    * PSNR uses a peak of 1 on that scale (``max_val=2`` in [-1, 1]), in dB.
    * SSIM is ``tf.image.ssim``'s definition (11x11 Gaussian window, sigma 1.5, K1=0.01, K2=0.03,
      valid positions only). Masked SSIM averages the SSIM map weighted by the fraction of each
      window that lies inside the mask (the mask filtered with the same Gaussian window), so a
      window counts in proportion to how much of it covers edited pixels.
    * A masked value of an image whose mask is empty is NaN; aggregate with ``nanmean``.
    * Landcover ids equal to :data:`lcgan.data.legend.IGNORE` are left out of confusion matrices.

Example:
    >>> l1 = masked_l1(target, generated, mask)     # (B,)
    >>> cm = confusion_matrix(ids, predicted_ids, num_classes=6, mask=mask)
    >>> mean_iou(cm)
"""

import numpy as np
import keras
import tensorflow as tf

from lcgan.data.legend import IGNORE

_SSIM_SIZE, _SSIM_SIGMA, _K1, _K2 = 11, 1.5, 0.01, 0.03


def _region(mask, like):
    """(B, H, W, 1) weights: the mask, or ones over the whole image when ``mask`` is None."""
    if mask is None:
        return tf.ones_like(like[..., :1])
    return tf.cast(mask, like.dtype)


def _weighted_mean(values, weights):
    """Per-image mean of ``values`` (B, H, W, C) weighted by ``weights`` (B, H, W, 1); NaN if empty."""
    channels = tf.cast(tf.shape(values)[-1], values.dtype)
    total = tf.reduce_sum(values * weights, axis=[1, 2, 3])  # (B,)
    count = tf.reduce_sum(weights, axis=[1, 2, 3]) * channels  # (B,)
    return tf.where(count > 0, total / tf.maximum(count, 1e-12), tf.constant(np.nan, values.dtype))


def masked_l1(target, generated, mask=None):
    """Mean absolute error per image on the [0, 1] scale, over ``mask`` (or the whole image).

    Args:
        target, generated: (B, H, W, C) float in [-1, 1].
        mask: (B, H, W, 1) float, 1 = counted; None counts every pixel.

    Returns:
        (B,) float32.
    """
    target, generated = tf.cast(target, tf.float32), tf.cast(generated, tf.float32)
    return _weighted_mean(tf.abs(target - generated) / 2.0, _region(mask, target))


def masked_psnr(target, generated, mask=None):
    """Peak signal-to-noise ratio per image in dB (peak 1 on the [0, 1] scale) over ``mask``.

    Identical images give +inf. Arguments as in :func:`masked_l1`. Returns (B,) float32.
    """
    target, generated = tf.cast(target, tf.float32), tf.cast(generated, tf.float32)
    mse = _weighted_mean(tf.square((target - generated) / 2.0), _region(mask, target))
    return 10.0 * tf.math.log(1.0 / mse) / tf.math.log(10.0)


def _gaussian_filter(images):
    """Valid 11x11 Gaussian filtering of each channel: (B, H, W, C) -> (B, H-10, W-10, C)."""
    coords = tf.range(_SSIM_SIZE, dtype=tf.float32) - (_SSIM_SIZE - 1) / 2.0
    g = tf.exp(-tf.square(coords) / (2.0 * _SSIM_SIGMA ** 2))
    g = g / tf.reduce_sum(g)
    channels = tf.shape(images)[-1]
    kernel = tf.tile((g[:, None] * g[None, :])[:, :, None, None], [1, 1, channels, 1])
    return tf.nn.depthwise_conv2d(images, kernel, strides=[1, 1, 1, 1], padding="VALID")


def ssim_map(target, generated):
    """Per-position SSIM, averaged over channels: (B, H, W, C) in [-1, 1] -> (B, H-10, W-10, 1).

    Its mean equals ``tf.image.ssim(target, generated, max_val=2.0)``. Images must be >= 11 px.
    """
    x, y = tf.cast(target, tf.float32), tf.cast(generated, tf.float32)
    if x.shape[1] is not None and (x.shape[1] < _SSIM_SIZE or x.shape[2] < _SSIM_SIZE):
        raise ValueError(f"SSIM needs images of at least {_SSIM_SIZE}x{_SSIM_SIZE} pixels. "
                         f"Received {x.shape[1]}x{x.shape[2]}.")
    c1, c2 = (_K1 * 2.0) ** 2, (_K2 * 2.0) ** 2
    mu_x, mu_y = _gaussian_filter(x), _gaussian_filter(y)
    var_x = _gaussian_filter(x * x) - mu_x ** 2
    var_y = _gaussian_filter(y * y) - mu_y ** 2
    cov = _gaussian_filter(x * y) - mu_x * mu_y
    luminance = (2.0 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1)
    structure = (2.0 * cov + c2) / (var_x + var_y + c2)
    return tf.reduce_mean(luminance * structure, axis=-1, keepdims=True)


def masked_ssim(target, generated, mask=None):
    """SSIM per image; with ``mask``, the SSIM map weighted by each window's mask fraction.

    Arguments as in :func:`masked_l1`. Returns (B,) float32 (NaN where a mask is empty).
    """
    values = ssim_map(target, generated)  # (B, H-10, W-10, 1)
    if mask is None:
        return tf.reduce_mean(values, axis=[1, 2, 3])
    return _weighted_mean(values, ssim_window_weights(mask))


def ssim_window_weights(mask):
    """Share of each SSIM window inside ``mask``: (B, H, W, 1) -> (B, H-10, W-10, 1), the weights
    of masked SSIM (the mask filtered with the SSIM's Gaussian window)."""
    return _gaussian_filter(tf.cast(mask, tf.float32))


IMAGE_METRICS = {"l1": masked_l1, "psnr": masked_psnr, "ssim": masked_ssim}
"""Name -> per-image function ``(target, generated, mask=None) -> (B,)``."""


# ----------------------------------------------------------------- landcover consistency
def confusion_matrix(true_ids, predicted_ids, *, num_classes, mask=None):
    """Confusion matrix (rows: requested class, columns: predicted class) over valid pixels.

    Args:
        true_ids: (B, H, W) int landcover that was asked for; IGNORE pixels are skipped.
        predicted_ids: (B, H, W) int predicted classes (e.g. ``argmax`` of segmenter logits).
        num_classes: K.
        mask: optional (B, H, W, 1) or (B, H, W); only pixels where it is > 0.5 count.

    Returns:
        (K, K) float64 tensor of pixel counts.
    """
    true_ids = tf.reshape(tf.cast(true_ids, tf.int32), [-1])
    predicted_ids = tf.reshape(tf.cast(predicted_ids, tf.int32), [-1])
    valid = true_ids != IGNORE
    if mask is not None:
        valid &= tf.reshape(mask, [-1]) > 0.5
    return tf.math.confusion_matrix(tf.boolean_mask(true_ids, valid),
                                    tf.boolean_mask(predicted_ids, valid),
                                    num_classes=num_classes, dtype=tf.float64)


def per_class_accuracy(cm):
    """Per-class accuracy (recall) diag / row sum from a (K, K) confusion matrix; NaN if absent."""
    cm = np.asarray(cm, dtype=np.float64)
    rows = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(cm) / rows, np.nan)


def per_class_iou(cm):
    """Per-class intersection over union diag / (row + col - diag); NaN for absent classes."""
    cm = np.asarray(cm, dtype=np.float64)
    union = cm.sum(axis=1) + cm.sum(axis=0) - np.diag(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cm.sum(axis=1) > 0, np.diag(cm) / union, np.nan)


def mean_accuracy(cm):
    """Mean of :func:`per_class_accuracy` over classes present in the requested landcover."""
    values = per_class_accuracy(cm)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def mean_iou(cm):
    """Mean of :func:`per_class_iou` over classes present in the requested landcover."""
    values = per_class_iou(cm)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def pixel_accuracy(cm):
    """Fraction of all counted pixels classified as requested."""
    cm = np.asarray(cm, dtype=np.float64)
    return float(np.trace(cm) / cm.sum()) if cm.sum() > 0 else float("nan")


# ------------------------------------------------------------------------ breakdowns
def class_sums(values, landcover, mask, *, num_classes):
    """Sum and count of per-pixel ``values`` grouped by the requested class of masked pixels.

    Args:
        values: (B, H, W) float per-pixel values (e.g. ``mean |target - generated| / 2`` over RGB).
        landcover: (B, H, W) int; IGNORE pixels are skipped.
        mask: (B, H, W, 1) float; only pixels > 0.5 count.
        num_classes: K.

    Returns:
        ``(sums, counts)``, two (K,) float64 numpy arrays; ``sums / counts`` is the class mean.
    """
    ids = tf.reshape(tf.cast(landcover, tf.int32), [-1])
    keep = (ids != IGNORE) & (tf.reshape(mask, [-1]) > 0.5)
    ids = tf.boolean_mask(ids, keep)
    values = tf.cast(tf.boolean_mask(tf.reshape(values, [-1]), keep), tf.float64)
    sums = tf.math.unsorted_segment_sum(values, ids, num_classes)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(values), ids, num_classes)
    return sums.numpy(), counts.numpy()


def area_bins(mask, edges=(0.05, 0.15)):
    """Bin index of each image's masked fraction: 0 for < edges[0], ..., len(edges) for the rest.

    Args:
        mask: (B, H, W, 1) float.
        edges: increasing fractions of the image area separating the bins.

    Returns:
        (B,) int32 numpy array.
    """
    if list(edges) != sorted(edges):
        raise ValueError(f"`edges` must be increasing. Received {edges}.")
    fraction = tf.reduce_mean(tf.cast(mask, tf.float32), axis=[1, 2, 3]).numpy()
    return np.searchsorted(np.asarray(edges, dtype=np.float64), fraction, side="right").astype(np.int32)


def area_bin_labels(edges=(0.05, 0.15)):
    """Human-readable labels of the bins of :func:`area_bins`, e.g. ``["<5%", "5-15%", ">=15%"]``."""
    pct = [f"{100 * e:g}" for e in edges]
    return [f"<{pct[0]}%"] + [f"{a}-{b}%" for a, b in zip(pct, pct[1:])] + [f">={pct[-1]}%"]


# ---------------------------------------------------------------------- Keras metrics
@keras.saving.register_keras_serializable(package="lcgan")
class ImageMetric(keras.metrics.Metric):
    """Running mean over images of one of :data:`IMAGE_METRICS`, masked or whole-image.

    ``update_state(target, generated, mask=None)``; images with an empty mask (or an infinite PSNR)
    are not counted.

    Args:
        metric: ``"l1"``, ``"psnr"`` or ``"ssim"``.
        masked: average over the mask (True) or over the whole image (False).
    """

    def __init__(self, metric="l1", masked=True, name=None, **kwargs):
        if metric not in IMAGE_METRICS:
            raise ValueError(f"`metric` must be one of {sorted(IMAGE_METRICS)}. Received: {metric!r}")
        super().__init__(name=name or f"{'masked_' if masked else ''}{metric}", **kwargs)
        self.metric, self.masked = metric, masked
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, target, generated, mask=None):
        values = IMAGE_METRICS[self.metric](target, generated, mask if self.masked else None)
        finite = tf.math.is_finite(values)
        self.total.assign_add(tf.reduce_sum(tf.where(finite, values, 0.0)))
        self.count.assign_add(tf.reduce_sum(tf.cast(finite, tf.float32)))

    def result(self):
        return tf.math.divide_no_nan(self.total, self.count)

    def get_config(self):
        return {**super().get_config(), "metric": self.metric, "masked": self.masked}


@keras.saving.register_keras_serializable(package="lcgan")
class ConfusionMatrixMetric(keras.metrics.Metric):
    """Landcover consistency as a Keras metric: accumulates a confusion matrix of logits vs ids.

    ``update_state(true_ids (B,H,W), logits (B,H,W,K), sample_weight=None)`` (sample_weight acts as a
    mask); IGNORE ids are skipped. ``result()`` is the mean IoU or mean accuracy over present classes.

    Args:
        num_classes: K.
        result: ``"mean_iou"`` or ``"mean_accuracy"``.
    """

    def __init__(self, num_classes, result="mean_iou", name=None, **kwargs):
        if result not in ("mean_iou", "mean_accuracy"):
            raise ValueError(f"`result` must be 'mean_iou' or 'mean_accuracy'. Received: {result!r}")
        super().__init__(name=name or result, **kwargs)
        self.num_classes, self.result_name = num_classes, result
        self.matrix = self.add_variable(shape=(num_classes, num_classes), initializer="zeros",
                                        name="matrix", dtype="float64")

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = tf.argmax(y_pred, axis=-1, output_type=tf.int32)
        self.matrix.assign_add(confusion_matrix(y_true, predicted, num_classes=self.num_classes,
                                                mask=sample_weight))

    def result(self):
        cm = tf.convert_to_tensor(self.matrix)
        diag, rows = tf.linalg.diag_part(cm), tf.reduce_sum(cm, axis=1)
        denominator = rows if self.result_name == "mean_accuracy" else (
            rows + tf.reduce_sum(cm, axis=0) - diag)
        present = rows > 0
        return tf.cast(tf.reduce_mean(tf.boolean_mask(diag / tf.where(present, denominator, 1.0),
                                                      present)), tf.float32)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "result": self.result_name}
