"""Simple alternatives to the generator, run on the same model-ready batches with the same metrics.

Each baseline is a callable ``batch -> rgb`` taking the model-ready dict of the contract
(``"rgb"`` (B, H, W, 3) in [-1, 1], ``"landcover"`` (B, H, W), ``"mask"`` (B, H, W, 1), ...)
and returning a numpy float32 (B, H, W, 3) in [-1, 1]. Pixels outside the mask are always the
input's; only masked pixels are filled:

* ``class_mean``: each masked pixel gets the mean colour of its requested class, measured on
  training tiles (:func:`class_mean_colors`); unlabelled pixels get the mean of all pixels.
* ``biharmonic``: classical inpainting from the unmasked surroundings
  (``skimage.restoration.inpaint_biharmonic``); ignores the requested landcover.
* ``copy_input``: the generator's rgb input unchanged (mixlc: ``rgb_a``; inpaint: the masked image).

Example:
    >>> methods = make_baselines(class_mean_colors(lcgan.data.sample_source(), num_classes=6))
    >>> filled = methods["biharmonic"](batch)   # (B, H, W, 3)
"""

import numpy as np
from skimage.restoration import inpaint_biharmonic

from lcgan.data.legend import IGNORE
from lcgan.images import composite


def class_mean_colors(tiles, *, num_classes):
    """Mean rgb of each class over training tiles, in [-1, 1].

    Args:
        tiles: a :class:`~lcgan.data.sources.TileSource` (its ``tiles()`` are used) or an iterable
            of ``(rgb uint8 (H, W, 3), landcover int (H, W))`` pairs.
        num_classes: K.

    Returns:
        (K + 1, 3) float32: rows 0..K-1 the class means (the overall mean for a class never seen),
        row K the mean of all pixels (used for IGNORE).

    Raises:
        ValueError: no tiles were given.
    """
    pairs = tiles.tiles() if hasattr(tiles, "tiles") else tiles
    sums, counts = np.zeros((num_classes + 1, 3)), np.zeros(num_classes + 1)
    for rgb, landcover in pairs:
        ids = np.where(np.asarray(landcover) == IGNORE, num_classes, landcover).reshape(-1)
        pixels = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
        np.add.at(sums, ids, pixels)
        counts += np.bincount(ids, minlength=num_classes + 1)
    if counts.sum() == 0:
        raise ValueError("`tiles` holds no pixels; class mean colours need training tiles.")
    overall = sums.sum(axis=0) / counts.sum()
    means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], overall)
    means[num_classes] = overall
    return (means / 127.5 - 1.0).astype(np.float32)


def _composite(batch, filled):
    """Keep the input outside the mask: mask * filled + (1 - mask) * rgb, as float32 numpy."""
    return composite(np.asarray(filled, np.float32), np.asarray(batch["rgb"], np.float32),
                     np.asarray(batch["mask"], np.float32))


def class_mean_fill(means):
    """Baseline filling masked pixels with the mean colour of their requested class.

    Args:
        means: (K + 1, 3) array from :func:`class_mean_colors`.

    Returns:
        callable ``batch -> (B, H, W, 3)`` numpy float32.
    """
    means = np.asarray(means, dtype=np.float32)
    num_classes = len(means) - 1

    def fill(batch):
        ids = np.asarray(batch["landcover"])
        return _composite(batch, means[np.where(ids == IGNORE, num_classes, ids)])  # (B, H, W, 3)

    return fill


def biharmonic_inpaint(batch):
    """Baseline inpainting masked pixels from their surroundings (biharmonic equation, per image)."""
    rgb = np.asarray(batch["rgb"], dtype=np.float64)
    mask = np.asarray(batch["mask"])[..., 0] > 0.5  # (B, H, W)
    filled = np.stack([
        inpaint_biharmonic(image, hole, channel_axis=-1) if hole.any() and not hole.all() else image
        for image, hole in zip(rgb, mask)])
    return _composite(batch, filled)


def copy_input(batch):
    """Baseline returning the generator's rgb input unchanged."""
    return np.asarray(batch["rgb"], dtype=np.float32)


def make_baselines(class_means):
    """All baselines by name: ``{"class_mean", "biharmonic", "copy_input"}`` -> callable."""
    return {"class_mean": class_mean_fill(class_means), "biharmonic": biharmonic_inpaint,
            "copy_input": copy_input}
