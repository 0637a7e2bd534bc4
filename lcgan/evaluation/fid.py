"""Distances between feature distributions: Frechet distance (FID) and kernel distance (KID).

Two feature spaces are offered:

* the features of lcgan's landcover segmenter (:func:`lcgan.evaluation.segmenters.segmenter_heads`),
  which need no download: its bottleneck averaged over whole tiles, the "domain FD" of the
  evaluation tables; its decoder features averaged inside the edited region
  (:func:`lcgan.evaluation.region.masked_pool`), its "region FD";
* ImageNet InceptionV3 pool features (the standard FID/KID), available only when the Keras weight
  file is on disk; otherwise :class:`lcgan.errors.WeightsUnavailableError` says which file to put where.

Example:
    >>> fd = frechet_distance(real_features, generated_features)   # (N, D), (M, D) numpy
    >>> kid = kernel_distance(real_features, generated_features)
"""

import keras
import numpy as np
import tensorflow as tf

from lcgan.weights import resolve_pretrained

INCEPTION_SIZE = 299


def _psd_sqrt(matrix):
    """Square root of a symmetric positive semi-definite matrix via eigen-decomposition."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two feature sets.

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, where the trace of the square root is
    computed as ``sum(sqrt(eig(S_a^(1/2) S_b S_a^(1/2))))`` (a symmetric PSD matrix with the same
    eigenvalues as ``S_a S_b``), so only numpy's ``eigh`` is needed and the result is real.

    Args:
        features_a: (N, D) array, N >= 2.
        features_b: (M, D) array, M >= 2.

    Returns:
        float, >= 0 up to rounding.
    """
    a, b = (np.asarray(f, dtype=np.float64) for f in (features_a, features_b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError("`features_a` and `features_b` must be (N, D) and (M, D) with N, M >= 2. "
                         f"Received shapes {a.shape} and {b.shape}.")
    cov_a, cov_b = np.cov(a, rowvar=False).reshape(a.shape[1], -1), np.cov(b, rowvar=False).reshape(
        b.shape[1], -1)
    root_a = _psd_sqrt(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0, None)).sum()
    mean_term = np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2)
    return float(max(mean_term + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross, 0.0))


def _polynomial_mmd(a, b):
    """Unbiased MMD^2 with the kernel ``k(x, y) = (x.y / D + 1)^3``."""
    dim = a.shape[1]
    k_aa, k_bb, k_ab = ((x @ y.T / dim + 1.0) ** 3 for x, y in ((a, a), (b, b), (a, b)))
    n, m = len(a), len(b)
    return ((k_aa.sum() - np.trace(k_aa)) / (n * (n - 1)) + (k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
            - 2.0 * k_ab.mean())


def kernel_distance(features_a, features_b, *, num_subsets=10, subset_size=1000, seed=0):
    """Kernel (Inception) distance: unbiased polynomial-kernel MMD^2, averaged over random subsets.

    Args:
        features_a: (N, D) array.
        features_b: (M, D) array.
        num_subsets: number of random subset pairs.
        subset_size: subset size, capped at ``min(N, M)`` (must be >= 2).
        seed: numpy seed of the subset draw.

    Returns:
        ``(mean, std)`` over subsets; the mean is ~0 (can be slightly negative) for one distribution.
    """
    a, b = (np.asarray(f, dtype=np.float64) for f in (features_a, features_b))
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples per set. Received {len(a)} and {len(b)}.")
    rng = np.random.default_rng(seed)
    values = [_polynomial_mmd(a[rng.choice(len(a), size, replace=False)],
                              b[rng.choice(len(b), size, replace=False)]) for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))


def inception_model(weights="imagenet"):
    """InceptionV3 without top, average-pooled: (B, 299, 299, 3) in [-1, 1] -> (B, 2048).

    Args:
        weights: ``"imagenet"`` (the Keras cache file, downloaded only if reachable), a path to
            the no-top weights file, or None (random weights, for tests only); see
            :func:`lcgan.weights.resolve_pretrained`.

    Raises:
        WeightsUnavailableError: the weights are neither cached nor downloadable, or the path is
            missing; the message names the file and where to put it.
    """
    return keras.applications.InceptionV3(
        include_top=False, weights=resolve_pretrained("inception_v3", weights), pooling="avg",
        input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))


def extract_features(model, images, *, batch_size=32, resize_to=None):
    """Features of ``images`` (N, H, W, 3) in [-1, 1] from a one-input model, as a numpy array.

    Args:
        model: a Keras model returning (B, D) features (e.g. :func:`inception_model`).
        images: array or tensor of images in [-1, 1].
        batch_size: images per forward pass.
        resize_to: optional square size to resize to first (299 for Inception, bilinear).

    Returns:
        (N, D) float64 numpy array.
    """
    out = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[start:start + batch_size], tf.float32)  # (b, H, W, 3)
        if resize_to is not None:
            batch = tf.image.resize(batch, (resize_to, resize_to))
        out.append(np.asarray(model(batch, training=False), dtype=np.float64))
    return np.concatenate(out, axis=0)
