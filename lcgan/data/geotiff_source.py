"""GeoTIFF tile source: aligned rgb and landcover rasters read in windows through ``raster``.

Rasters far larger than memory can be sampled: only one window is held at a time.
"""

from __future__ import annotations

import os

import numpy as np

from lcgan.data import raster
from lcgan.data.legend import IGNORE, Legend
from lcgan.data.sources import TileSource, pair_of_sizes
from lcgan.errors import DataError


def _nodata_mask(array: np.ndarray, nodata) -> np.ndarray:
    """(bands, h, w) -> (h, w) bool, True where any band is ``nodata`` (or NaN)."""
    missing = np.zeros(array.shape[1:], bool)
    if array.dtype.kind == "f":
        missing |= np.isnan(array).any(0)
    if nodata is not None and not np.isnan(nodata):
        missing |= (array == nodata).any(0)
    return missing


class GeoTiffSource(TileSource):
    """Tiles read in windows from aligned (rgb or multiband, landcover) GeoTIFF pairs.

    Windows of ``tile_size`` step over each raster by ``stride`` (the last row and column of
    windows is moved back inside the raster, so the edge is covered). Pixels that are nodata in
    the landcover raster (its nodata value or ``legend.ignore_value``) or in any rgb band get the
    id IGNORE (and rgb nodata pixels are 0); windows with a larger nodata fraction than ``max_nodata_fraction`` are
    skipped, so by default nodata is never training content. The rasters are scanned once,
    window by window, at construction: memory use is bounded by one window.

    Args:
        pairs: an rgb raster path (then give ``landcover_path``) or a list of
            ``(rgb_path, landcover_path)`` pairs.
        landcover_path: the landcover raster of a single rgb path.
        legend: maps the landcover raster's raw values to ids (``Legend(values=...)``).
        tile_size: int or (height, width) window size.
        stride: window step (default: ``tile_size``, no overlap).
        bands: three 1-based band numbers of the rgb raster, in red, green, blue order.
        scaling: how to turn the bands into uint8: None (the raster must be uint8), or
            ``("factor", f)`` for ``clip(x * f, 0, 255)`` (e.g. ``255 * 3.5 / 10000`` for
            Sentinel-2 L1C digital numbers, ``255 * 3.5`` for float reflectance), or
            ``("percentile", lo, hi)`` for a per-band linear stretch between the ``lo`` and
            ``hi`` percentiles of the valid pixels of up to 16 windows spread over the data.
        max_nodata_fraction: largest tolerated fraction of nodata pixels in a window.

    Raises:
        DataError: a file is missing or unreadable, has too few bands, the landcover raster
            has more than one band, a raster is smaller than ``tile_size``, or no window
            qualifies (names the files).
        RasterMismatchError: a pair differs in CRS, transform or size (names both files).
        LegendError: the landcover raster holds values not in the legend.
        ValueError: a bad ``bands``, ``scaling``, ``tile_size`` or ``stride``.
    """

    def __init__(self, pairs, landcover_path=None, *, legend: Legend, tile_size=256, stride=None,
                 bands=(1, 2, 3), scaling=None, max_nodata_fraction: float = 0.0):
        if landcover_path is not None:
            pairs = [(pairs, landcover_path)]
        elif isinstance(pairs, (str, os.PathLike)):
            raise ValueError(f"Give `landcover_path` with the single rgb raster {pairs}.")
        self.pairs = [(os.fspath(rgb), os.fspath(lc)) for rgb, lc in pairs]
        if not self.pairs:
            raise ValueError("`pairs` must hold at least one (rgb_path, landcover_path) pair.")
        self.bands = tuple(int(b) for b in bands)
        if len(self.bands) != 3:
            raise ValueError(f"`bands` must name three bands (red, green, blue). Received {bands}.")
        self.tile_size = pair_of_sizes(tile_size)
        self.stride = self.tile_size if stride is None else pair_of_sizes(stride)
        if not 0.0 <= max_nodata_fraction <= 1.0:
            raise ValueError(f"`max_nodata_fraction` must be in [0, 1]. "
                             f"Received {max_nodata_fraction}.")
        self.max_nodata_fraction = max_nodata_fraction
        self.legend = legend
        self._profiles = [self._check_pair(rgb, lc) for rgb, lc in self.pairs]
        self.windows = [(i, r, c) for i in range(len(self.pairs)) for r, c in self._scan(i)]
        if not self.windows:
            raise DataError(f"No {self.tile_size[0]} x {self.tile_size[1]} window of {self.pairs} "
                            f"has a nodata fraction <= {max_nodata_fraction}.")
        self._scale = self._make_scaling(scaling)

    def _check_pair(self, rgb_path, landcover_path) -> tuple[dict, dict]:
        rgb, landcover = raster.check_aligned(rgb_path, landcover_path)
        if rgb["count"] < max(self.bands):
            raise DataError(f"{rgb_path} has {rgb['count']} band(s); `bands` {self.bands} needs "
                            f"at least {max(self.bands)}.")
        if landcover["count"] != 1:
            raise DataError(f"Landcover raster {landcover_path} must have 1 band. "
                            f"Received {landcover['count']}.")
        if rgb["height"] < self.tile_size[0] or rgb["width"] < self.tile_size[1]:
            raise DataError(f"{rgb_path} is {rgb['height']} x {rgb['width']}, smaller than "
                            f"`tile_size` {self.tile_size}.")
        return rgb, landcover

    def _grid(self, index: int):
        profile = self._profiles[index][0]
        for size, step, extent in zip(self.tile_size, self.stride, (profile["height"],
                                                                     profile["width"])):
            count = -(-(extent - size) // step) + 1  # windows, rounding up to cover the edge
            yield [min(k * step, extent - size) for k in range(count)]

    def _read_window(self, index: int, row: int, col: int, rgb=True):
        """Read one window: ``(bands (3, h, w) raw or None, landcover ids (h, w) int32)``."""
        (rgb_path, lc_path), (rgb_profile, lc_profile) = self.pairs[index], self._profiles[index]
        h, w = self.tile_size
        with raster.RasterReader(lc_path) as src:
            raw = src.read(row, col, h, w)
        missing = _nodata_mask(raw, lc_profile["nodata"])
        codes = np.where(missing, self.legend.classes[0].value, raw[0]).astype(np.int64)
        ids = self.legend.ids_from_values(codes, source=f"{lc_path} window ({row}, {col})")
        bands = None
        if rgb or rgb_profile["nodata"] is not None or rgb_profile["dtype"].startswith("float"):
            with raster.RasterReader(rgb_path) as src:
                bands = src.read(row, col, h, w, bands=self.bands)
            missing |= _nodata_mask(bands, rgb_profile["nodata"])
        return bands, np.where(missing, IGNORE, ids).astype(np.int32)

    def _scan(self, index: int):
        rows, cols = self._grid(index)
        limit = self.max_nodata_fraction * self.tile_size[0] * self.tile_size[1]
        for row in rows:
            for col in cols:
                _, ids = self._read_window(index, row, col, rgb=False)
                if (ids == IGNORE).sum() <= limit:
                    yield row, col

    def _make_scaling(self, scaling):
        """Return a function (3, h, w) raw bands -> (3, h, w) float in 0..255 (or None for uint8)."""
        dtypes = {profile[0]["dtype"] for profile in self._profiles}
        if scaling is None:
            if dtypes != {"uint8"}:
                raise ValueError(f"The rgb rasters of {self.pairs} hold {sorted(dtypes)}; give "
                                 f"`scaling`, e.g. ('percentile', 2, 98) or ('factor', 0.0255).")
            return None
        kind, *params = scaling
        if kind == "factor" and len(params) == 1:
            return lambda bands: bands.astype(np.float32) * params[0]
        if kind == "percentile" and len(params) == 2 and 0 <= params[0] < params[1] <= 100:
            step = max(1, len(self.windows) // 16)
            samples = []
            for index, row, col in self.windows[::step]:
                bands, ids = self._read_window(index, row, col)
                samples.append(bands[:, ids != IGNORE])
            samples = np.concatenate(samples, 1)
            if not samples.size:
                raise DataError(f"No valid pixels in {self.pairs} to compute `scaling` {scaling}.")
            lo, hi = np.percentile(samples, params, axis=1)[..., None, None]
            span = np.maximum(hi - lo, 1e-12)
            return lambda bands: (bands.astype(np.float32) - lo) / span * 255
        raise ValueError(f"`scaling` must be None, ('factor', f) or ('percentile', lo, hi) with "
                         f"0 <= lo < hi <= 100. Received {scaling}.")

    def __len__(self) -> int:
        return len(self.windows)

    def tiles(self):
        for index, row, col in self.windows:
            bands, ids = self._read_window(index, row, col)
            values = bands if self._scale is None else self._scale(bands)
            rgb = np.clip(np.round(np.nan_to_num(values)), 0, 255).astype(np.uint8)
            rgb[:, _nodata_mask(bands, self._profiles[index][0]["nodata"])] = 0
            yield rgb.transpose(1, 2, 0), ids
