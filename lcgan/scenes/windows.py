"""Pure window helpers for scene editing: window grids, blend weights, masks, pixel conversions
and the blend accumulator (no I/O; used by :mod:`lcgan.scenes.inference`).

Example:
    >>> window_offsets(500, 256, 192)
    [0, 192, 244]
"""

from __future__ import annotations

import math

import numpy as np

from lcgan.images import to_uint8

WEIGHT_FLOOR = 1e-3
_COMPOSE_COLUMNS = 1024  # columns blended per step: float temporaries stay ~window x 1024


def window_ramp(window: int, overlap: int) -> np.ndarray:
    """(window,) float32: 1 inside, linear over ``overlap`` pixels at each end, floored > 0."""
    pos = np.arange(window, dtype=np.float32) + 0.5
    return np.clip(np.minimum(pos, window - pos) / max(overlap, 1), WEIGHT_FLOOR, 1.0)


def ramp_cover(length: int, offsets, ramp) -> np.ndarray:
    """(length,) sum of ``ramp`` over the windows starting at ``offsets`` (1-D weight sums)."""
    cover = np.zeros(length, np.float32)
    for offset in offsets:
        cover[offset:offset + len(ramp)] += ramp
    return cover


def grow_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate a boolean (H, W) mask by ``pixels`` in every direction (square neighbourhood)."""
    out = mask
    for axis in (0, 1):
        grown = out.copy()
        for shift in range(1, pixels + 1):
            lead = [slice(None)] * 2
            trail = [slice(None)] * 2
            lead[axis], trail[axis] = slice(shift, None), slice(None, -shift)
            grown[tuple(lead)] |= out[tuple(trail)]
            grown[tuple(trail)] |= out[tuple(lead)]
        out = grown
    return out


def nodata_pixels(rgb: np.ndarray, nodata) -> np.ndarray:
    """(H, W) bool: pixels whose every band of ``rgb`` (bands, H, W) equals ``nodata`` (none if
    ``nodata`` is None); band by band, so no (bands, H, W) temporary."""
    blank = np.full(rgb.shape[1:], nodata is not None)
    if nodata is not None:
        for band in rgb:
            blank &= band == np.asarray(nodata, rgb.dtype)
    return blank


def id_dtype(num_classes: int) -> np.dtype:
    """Smallest signed integer dtype holding class ids ``-1 .. num_classes - 1``."""
    for dtype in (np.int8, np.int16):
        if num_classes - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int32)


class BlendAccumulator:
    """Weighted rgb sums of the scene rows ``top .. top + rows`` (a reused float32 buffer).

    The blend weights are separable and every window touching a changed pixel is run, so the
    weight sum at a changed pixel is ``row_cover[y] * col_cover[x]``: no weight buffer is needed.

    Args:
        row_cover, col_cover: 1-D weight sums of the window rows and columns (:func:`ramp_cover`).
        capacity: rows to allocate up front (the buffer grows only if more rows are held).
    """

    def __init__(self, row_cover, col_cover, capacity: int):
        self.row_cover, self.col_cover = row_cover, col_cover
        self.top, self.rows = 0, 0
        self.rgb = np.zeros((capacity, len(col_cover), 3), np.float32)  # (rows, width, 3)

    def extend(self, bottom: int) -> None:
        """Hold rows up to ``bottom`` (new rows start at zero)."""
        self.rows = max(self.rows, bottom - self.top)
        if self.rows > len(self.rgb):  # only while more strips pile up than planned for
            grown = np.zeros((self.rows,) + self.rgb.shape[1:], np.float32)
            grown[:len(self.rgb)] = self.rgb
            self.rgb = grown

    def add(self, row: int, col: int, weighted_tile: np.ndarray) -> None:
        """Add a (h, w, 3) weighted window output at scene pixel (``row``, ``col``)."""
        h, w = weighted_tile.shape[:2]
        self.rgb[row - self.top:row - self.top + h, col:col + w] += weighted_tile

    def compose(self, end: int, out: np.ndarray, where: np.ndarray) -> None:
        """Write the blended rgb of rows ``top .. end`` into ``out``; then drop those rows.

        Args:
            end: first scene row not composed.
            out: (3+, end - top, width) uint8, overwritten on bands 1-3 where ``where`` holds.
            where: (end - top, width) bool, the pixels to replace.
        """
        count, width = end - self.top, out.shape[2]
        for col in range(0, width, _COMPOSE_COLUMNS):
            stop = min(col + _COMPOSE_COLUMNS, width)
            cover = self.row_cover[self.top:end, None] * self.col_cover[None, col:stop]
            np.maximum(cover, WEIGHT_FLOOR ** 2, out=cover)  # (count, columns)
            blended = self.rgb[:count, col:stop]  # (count, columns, 3): dropped below, so scratch
            np.divide(blended, cover[..., None], out=blended)
            np.copyto(out[:3, :, col:stop], to_uint8(blended, inplace=True).transpose(2, 0, 1),
                      where=where[None, :, col:stop])
        kept = self.rows - count
        for start in range(0, kept, max(count, 1)):  # chunks of <= count rows never overlap their source
            stop = min(start + count, kept)
            self.rgb[start:stop] = self.rgb[start + count:stop + count]
        self.rgb[kept:self.rows] = 0.0
        self.top, self.rows = end, kept
