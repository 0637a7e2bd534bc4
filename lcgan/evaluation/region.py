"""Measures of the edited region alone, where pixel metrics reward blur and the context dominates.

Images are float (B, H, W, 3) in [-1, 1]; masks (B, H, W, 1) float, 1 inside the edited region;
landcover (B, H, W) int ids (:data:`~lcgan.data.legend.IGNORE` = no class). Every function is
vectorised over the batch and returns numpy sums and counts, so that an evaluation adds them up
over batches and divides once at the end (:func:`ratio_of_means`, :func:`seam_ratio`).

| measure | function | 1.0 / 0 means | rewards | blind to |
|---|---|---|---|---|
| sharpness | :func:`texture_sums` (``"gradient"``) | 1.0: as much edge contrast as real | texture, edges; blur falls far below 1, noise above | whether the texture is the right one |
| Laplacian sharpness | :func:`texture_sums` (``"laplacian"``) | 1.0: as much fine detail as real | the finest scale (mean absolute Laplacian) | coarse structure |
| seam | :func:`edge_sums` | 1.0: the mask boundary is as strong as natural edges of the same kind | continuing the surroundings (a hard rectangular seam > 1, a smeared one < 1) | the region's inside |
| region FD | :func:`masked_pool` + :func:`~lcgan.evaluation.fid.frechet_distance` | 0: regions distributed like real ones | realistic content for the class, in the segmenter's decoder features | pixel alignment with a target |
| read as requested | :func:`~lcgan.evaluation.metrics.confusion_matrix` on the mask | ratio 1.0: read as the requested class as often as real pixels of it | pixels that show the requested landcover | realism beyond what the segmenter knows |
| read as original | :func:`original_class_counts` | 0: no changed pixel still shows its old class | actually editing (not reproducing the input) | anything else |

Sharpness is measured on the mask's interior (pixels whose 3 x 3 neighbourhood lies inside the
mask) so that the seam does not count as texture; the seam is measured separately on the pixel
pairs that straddle the mask boundary.

Example:
    >>> mine, real = texture_sums(output, mask), texture_sums(target, mask)
    >>> sharpness = ratio_of_means(mine["gradient"], real["gradient"], mine["pixels"], real["pixels"])
"""

import numpy as np
import tensorflow as tf

from lcgan.data.legend import IGNORE

SAME_CLASS, CLASS_CHANGE = 0, 1
"""Index of the two kinds of pixel pairs in :func:`edge_sums`: both sides of the same class, or not."""


def _unit(images):
    """[-1, 1] float images -> float32 on the [0, 1] scale."""
    return (tf.cast(images, tf.float32) + 1.0) / 2.0


def interior(mask):
    """Pixels whose 3 x 3 neighbourhood (clipped at the image border) lies inside ``mask``.

    Args:
        mask: (B, H, W, 1) float, 1 inside.

    Returns:
        (B, H, W, 1) float32 in {0, 1}: the mask eroded by one pixel.
    """
    mask = tf.cast(tf.cast(mask, tf.float32) > 0.5, tf.float32)
    return -tf.nn.max_pool2d(-mask, 3, strides=1, padding="SAME")  # SAME pooling skips padding


def gradient_magnitude(images):
    """Sobel gradient magnitude per pixel, averaged over channels, on the [0, 1] scale.

    Args:
        images: (B, H, W, C) float in [-1, 1].

    Returns:
        (B, H, W, 1) float32, intensity change per pixel (a step of 1 between neighbours gives
        1 next to it); the border uses reflected pixels.
    """
    edges = tf.image.sobel_edges(_unit(images)) / 8.0  # (B, H, W, C, 2): d/dy, d/dx
    return tf.reduce_mean(tf.norm(edges, axis=-1), axis=-1, keepdims=True)


def laplacian(images):
    """4-neighbour Laplacian per pixel and channel on the [0, 1] scale, reflected at the border.

    Args:
        images: (B, H, W, C) float in [-1, 1].

    Returns:
        (B, H, W, C) float32.
    """
    x = tf.pad(_unit(images), [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")  # (B, H+2, W+2, C)
    return (x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:]
            - 4.0 * x[:, 1:-1, 1:-1])


def texture_sums(images, mask):
    """Texture of each image inside the interior of ``mask``, as sums over its pixels.

    Args:
        images: (B, H, W, C) float in [-1, 1].
        mask: (B, H, W, 1) float, 1 inside the region.

    Returns:
        dict of (B,) float64 numpy arrays: ``"gradient"`` (sum of :func:`gradient_magnitude`),
        ``"laplacian"`` (sum of the channel mean of ``|``:func:`laplacian```|``) and
        ``"pixels"`` (interior pixels counted).
    """
    inside = interior(mask)  # (B, H, W, 1)
    detail = tf.reduce_mean(tf.abs(laplacian(images)), axis=-1, keepdims=True)  # (B, H, W, 1)
    sums = {"gradient": gradient_magnitude(images) * inside, "laplacian": detail * inside,
            "pixels": inside}
    return {name: tf.reduce_sum(value, axis=[1, 2, 3]).numpy().astype(np.float64)
            for name, value in sums.items()}


def ratio_of_means(sums, reference_sums, counts, reference_counts):
    """``mean / reference mean`` with means ``sum(sums) / sum(counts)`` over all images.

    Used for sharpness (on the ``"gradient"`` sums of :func:`texture_sums`) and Laplacian
    sharpness (on its ``"laplacian"`` sums).

    Returns:
        float; NaN when either set counted nothing or the reference mean is 0.
    """
    total, ref_total = float(np.sum(counts)), float(np.sum(reference_counts))
    if total == 0 or ref_total == 0:
        return float("nan")
    reference = float(np.sum(reference_sums)) / ref_total
    if reference == 0:
        return float("nan")
    return float(np.sum(sums)) / total / reference


def masked_pool(features, mask):
    """Average of feature maps over the region: each cell weighted by the mask fraction it covers.

    Args:
        features: (B, h, w, D) feature maps of (B, H, W, ...) images (e.g. a segmenter's
            bottleneck, H / h = W / w an integer).
        mask: (B, H, W, 1) float, 1 inside the region.

    Returns:
        ``(pooled, weight)``: (B, D) float64 numpy region features (NaN rows where the mask is
        empty) and (B,) float64 numpy total weight (mask pixels / cell area; keep rows > 0).
    """
    features = tf.cast(features, tf.float32)
    cells = tf.image.resize(tf.cast(mask, tf.float32), tf.shape(features)[1:3], method="area")
    weight = tf.reduce_sum(cells, axis=[1, 2, 3])  # (B,)
    total = tf.reduce_sum(features * cells, axis=[1, 2])  # (B, D)
    pooled = tf.where(weight[:, None] > 0, total / tf.maximum(weight, 1e-12)[:, None], np.nan)
    return pooled.numpy().astype(np.float64), weight.numpy().astype(np.float64)


def _pairs(x):
    """Both sides of every horizontal and vertical 4-neighbour pair of (B, H, W, C) maps:
    ``(first, second)``, each (B, N, C) with N = H (W - 1) + (H - 1) W."""
    shape = [tf.shape(x)[0], -1, x.shape[-1]]
    first = tf.concat([tf.reshape(x[:, :, :-1], shape), tf.reshape(x[:, :-1], shape)], axis=1)
    second = tf.concat([tf.reshape(x[:, :, 1:], shape), tf.reshape(x[:, 1:], shape)], axis=1)
    return first, second


def edge_sums(images, landcover, mask, *, across_mask):
    """Intensity steps between 4-neighbours, added up by kind: same class or class change.

    A pair counts when both of its pixels have a class (not IGNORE) and it straddles the mask
    boundary (``across_mask=True``: the seam of an edit) or does not (``across_mask=False``: the
    natural edges of real images, away from a pasted or edited boundary). The step of a pair is
    the channel mean of ``|difference|`` on the [0, 1] scale.

    Args:
        images: (B, H, W, C) float in [-1, 1].
        landcover: (B, H, W) int ids the image shows (or was asked to show).
        mask: (B, H, W, 1) float, 1 inside the edited region.
        across_mask: which pairs to count, see above.

    Returns:
        ``(sums, counts)``: two (2,) float64 numpy arrays indexed by :data:`SAME_CLASS` and
        :data:`CLASS_CHANGE`, totals over the batch.
    """
    step_a, step_b = _pairs(_unit(images))  # (B, N, C)
    step = tf.reduce_mean(tf.abs(step_a - step_b), axis=-1)  # (B, N)
    ids_a, ids_b = (t[..., 0] for t in _pairs(tf.cast(landcover, tf.int32)[..., None]))  # (B, N)
    inside_a, inside_b = (t[..., 0] for t in _pairs(tf.cast(mask, tf.float32) > 0.5))  # (B, N)
    keep = (ids_a != IGNORE) & (ids_b != IGNORE) & ((inside_a != inside_b) == across_mask)
    kind = tf.boolean_mask(tf.cast(ids_a != ids_b, tf.int32), keep)
    sums = tf.math.unsorted_segment_sum(tf.cast(tf.boolean_mask(step, keep), tf.float64), kind, 2)
    counts = tf.math.bincount(kind, minlength=2, maxlength=2, dtype=tf.float64)
    return sums.numpy(), counts.numpy()


def seam_ratio(sums, counts, reference_sums, reference_counts):
    """Strength of the seam relative to natural edges of the same kinds.

    ``sum(seam steps) / sum_k(count_k * reference mean_k)`` over the kinds ``k`` (same class,
    class change) that the reference has: each seam pair is compared with what a real image shows
    between two pixels of the same classes. 1.0: the seam is as visible as a natural edge; a hard
    seam is above, a smeared one below.

    Args:
        sums, counts: (2,) seam totals of :func:`edge_sums` (``across_mask=True``).
        reference_sums, reference_counts: (2,) natural-edge totals (``across_mask=False`` on
            real images).

    Returns:
        float; NaN when no seam pair has a reference of its kind.
    """
    sums, counts = np.asarray(sums, np.float64), np.asarray(counts, np.float64)
    reference_sums = np.asarray(reference_sums, np.float64)
    reference_counts = np.asarray(reference_counts, np.float64)
    known = reference_counts > 0
    expected = np.sum(counts[known] * reference_sums[known] / reference_counts[known])
    return float(np.sum(sums[known]) / expected) if expected > 0 else float("nan")


def original_class_counts(predicted, requested, before, mask):
    """How many changed pixels of the region a segmenter still reads as their original class.

    A pixel counts when it is inside ``mask``, both its requested and original classes are
    known (not IGNORE) and they differ: only there can "still the original" be told apart from
    "as requested".

    Args:
        predicted: (B, H, W) int classes read by the segmenter.
        requested: (B, H, W) int landcover asked for.
        before: (B, H, W) int landcover of the input before the edit.
        mask: (B, H, W, 1) or (B, H, W) float, 1 inside the edited region.

    Returns:
        ``(read_as_original, changed)``: two float64 counts over the batch.
    """
    predicted, requested, before = (tf.cast(t, tf.int32) for t in (predicted, requested, before))
    inside = tf.reshape(tf.cast(mask, tf.float32), tf.shape(requested)) > 0.5
    changed = inside & (requested != IGNORE) & (before != IGNORE) & (requested != before)
    kept = changed & (predicted == before)
    return (float(tf.reduce_sum(tf.cast(kept, tf.float64))),
            float(tf.reduce_sum(tf.cast(changed, tf.float64))))
