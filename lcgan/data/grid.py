"""Window grids over rasters: the offsets that cover an axis, shared by tile sampling and scenes."""

from __future__ import annotations

import math


def window_offsets(length: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows covering ``length`` pixels; the last one ends at the edge.

    Example:
        >>> window_offsets(500, 256, 192)
        [0, 192, 244]
    """
    if length <= window:
        return [0]
    count = math.ceil((length - window) / stride) + 1
    return [min(i * stride, length - window) for i in range(count)]
