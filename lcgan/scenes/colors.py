"""This scene's colour of each class, and edits shifted to it.

A generator paints a class in the colours it learned: the mean of its training tiles' water,
sand or forest. A scene of another place, sensor or season has its own (the water of the
bundled training tiles averages rgb 21 / 34 / 23, the sea of tile 3's image 2 is 17 / 17 / 16),
so an edit comes out in the right class but the wrong shade, and a window wholly inside a large
edit has no context to take the shade from. Colour transfer by matching means (Reinhard et al., IEEE CG&A 2001), per class and
against the whole scene, fixes the shade and keeps the generated texture:
:func:`scene_class_means` pools each class's mean colour over the scene's unchanged pixels, and
:func:`match_class_means` shifts each window's generated pixels of a class so that their mean is
that colour.

Example:
    >>> colors = scene_class_means(scene, legend, window=256, grow=3)  # ClassMeans
    >>> match_class_means(outputs, ids, changed, colors)  # outputs shifted in place
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lcgan.images import to_unit
from lcgan.scenes.windows import nodata_pixels

MIN_PIXELS = 256
"""Unchanged pixels a class needs in the scene (a 16 x 16 patch) before its mean is trusted."""


@dataclasses.dataclass
class ClassMeans:
    """Mean colour of each class over a scene's unchanged pixels.

    Attributes:
        means: (K, 3) float64 rgb in [-1, 1] (the model's scale); rows of unseen classes are 0.
        counts: (K,) int64 unchanged pixels of each class.
    """

    means: np.ndarray
    counts: np.ndarray

    @property
    def seen(self) -> np.ndarray:
        """(K,) bool: classes with at least :data:`MIN_PIXELS` unchanged pixels."""
        return self.counts >= MIN_PIXELS


def scene_class_means(scene, legend, *, window, grow) -> ClassMeans:
    """Pool each class's rgb over the pixels of ``scene`` outside its changed area.

    Args:
        scene: the edit's inputs, with ``profile`` and ``read_strip(row, height, width, grow,
            legend)`` (:class:`lcgan.scenes.inference._Scene`).
        legend: the landcover legend.
        window: rows read at a time.
        grow: pixels by which the changed area is dilated (as in the edit).

    Returns:
        A :class:`ClassMeans`.
    """
    num_classes = legend.num_classes
    sums, counts = np.zeros((num_classes, 3)), np.zeros(num_classes, np.int64)
    height, width = scene.profile["height"], scene.profile["width"]
    for row in range(0, height, window):
        rows = min(window, height - row)
        rgb, ids, changed = scene.read_strip(row, rows, width, grow, legend)
        known = ~changed & (ids >= 0) & ~nodata_pixels(rgb, scene.profile["nodata"])
        labels = ids[known].astype(np.int64)
        counts += np.bincount(labels, minlength=num_classes)
        for band in range(3):
            sums[:, band] += np.bincount(labels, weights=to_unit(rgb[band][known]),
                                         minlength=num_classes)
    means = sums / np.maximum(counts, 1)[:, None]
    return ClassMeans(means=means, counts=counts)


def match_class_means(outputs, ids, changed, colors: ClassMeans) -> None:
    """Shift the changed pixels of each seen class in each window to the scene's class mean.

    Args:
        outputs: (b, h, w, 3) float32 generated windows in [-1, 1], changed in place (clipped
            to [-1, 1]).
        ids: (b, h, w) landcover ids of the windows (after the edit; < 0 = no class).
        changed: (b, h, w) bool, the pixels the edit replaces.
        colors: the scene's :class:`ClassMeans`.
    """
    seen = colors.seen
    for output, window_ids, window_changed in zip(outputs, ids, changed):
        for k in np.unique(window_ids[window_changed]):
            if k < 0 or not seen[k]:
                continue
            where = window_changed & (window_ids == k)
            pixels = output[where]  # (n, 3)
            output[where] = np.clip(pixels + (colors.means[k] - pixels.mean(axis=0)), -1.0, 1.0)
