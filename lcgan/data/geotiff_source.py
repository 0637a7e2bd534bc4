"""GeoTIFF tile source: aligned rgb and landcover rasters read in windows through ``raster``.

Rasters far larger than memory can be sampled: only one window is held at a time.
"""

from __future__ import annotations

import itertools
import os
import warnings

import numpy as np

from lcgan.data import raster
from lcgan.data.grid import window_offsets
from lcgan.data.legend import IGNORE, Legend, binarize_colors
from lcgan.data.sources import TileSource, pair_of_sizes
from lcgan.errors import DataError, RasterMismatchError


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
        max_nodata_fraction: largest tolerated fraction of nodata pixels in a window; at 1.0
            every window qualifies and the rasters are not scanned at construction.
        mask_encoding: ``"values"`` (a 1-band landcover raster of raw codes) or ``"colors"``
            (a 3-band colour-coded label raster, mapped by ``legend.ids_from_colors``).
        color_threshold: binarise colour labels first (each band 255 where ``>=`` it, else 0).
        align: ``"georef"`` (a pair must share CRS, transform and size) or ``"pixels"`` (only
            the size must match; for label rasters published without georeferencing). The rgb
            raster's CRS and transform are kept either way (:meth:`window_georef`).
        interleave: order the windows round-robin over the rasters (first window of each
            raster, then the second of each, ...), so that consecutive tiles come from different
            rasters; default: all windows of the first raster, then of the second, ...

    Raises:
        DataError: a file is missing or unreadable, has too few bands, the landcover raster
            has the wrong band count, a raster is smaller than ``tile_size``, or no window
            qualifies (names the files).
        RasterMismatchError: a pair differs in CRS, transform or size (names both files).
        LegendError: the landcover raster holds values not in the legend.
        ValueError: a bad ``bands``, ``scaling``, ``tile_size`` or ``stride``.
    """

    def __init__(self, pairs, landcover_path=None, *, legend: Legend, tile_size=256, stride=None,
                 bands=(1, 2, 3), scaling=None, max_nodata_fraction: float = 0.0,
                 mask_encoding="values", color_threshold=None, align="georef",
                 interleave: bool = False):
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
        for arg, value, allowed in (("mask_encoding", mask_encoding, ("values", "colors")),
                                    ("align", align, ("georef", "pixels"))):
            if value not in allowed:
                raise ValueError(f"`{arg}` must be one of {allowed}. Received: {value!r}")
        self.mask_encoding, self.color_threshold, self.align = mask_encoding, color_threshold, align
        self._label_bands = [1, 2, 3] if mask_encoding == "colors" else [1]
        self.legend = legend
        self._profiles = [self._check_pair(rgb, lc) for rgb, lc in self.pairs]
        per_raster = [[(i, r, c) for r, c in self._scan(i)] for i in range(len(self.pairs))]
        self.windows = ([w for ws in itertools.zip_longest(*per_raster) for w in ws if w]
                        if interleave else [w for ws in per_raster for w in ws])
        if not self.windows:
            raise DataError(f"No {self.tile_size[0]} x {self.tile_size[1]} window of {self.pairs} "
                            f"has a nodata fraction <= {max_nodata_fraction}.")
        self._scale = self._make_scaling(scaling)

    def _check_pair(self, rgb_path, landcover_path) -> tuple[dict, dict]:
        if self.align == "georef":
            rgb, landcover = raster.check_aligned(rgb_path, landcover_path)
        else:
            with self._open(rgb_path) as a, self._open(landcover_path) as b:
                rgb, landcover = a.profile, b.profile
            if (rgb["height"], rgb["width"]) != (landcover["height"], landcover["width"]):
                raise RasterMismatchError(
                    f"Size differs between {rgb_path} ({rgb['height']} x {rgb['width']}) and its "
                    f"labels {landcover_path} ({landcover['height']} x {landcover['width']}).")
        if rgb["count"] < max(self.bands):
            raise DataError(f"{rgb_path} has {rgb['count']} band(s); `bands` {self.bands} needs "
                            f"at least {max(self.bands)}.")
        if self.mask_encoding == "values" and landcover["count"] != 1:
            raise DataError(f"Landcover raster {landcover_path} must have 1 band. "
                            f"Received {landcover['count']}.")
        if self.mask_encoding == "colors" and (landcover["count"] not in (3, 4)
                                               or landcover["dtype"] != "uint8"):
            raise DataError(f"Colour label raster {landcover_path} must have 3 (or 4) uint8 "
                            f"bands. Received {landcover['count']} {landcover['dtype']} band(s).")
        if rgb["height"] < self.tile_size[0] or rgb["width"] < self.tile_size[1]:
            raise DataError(f"{rgb_path} is {rgb['height']} x {rgb['width']}, smaller than "
                            f"`tile_size` {self.tile_size}.")
        return rgb, landcover

    def _open(self, path) -> raster.RasterReader:
        with warnings.catch_warnings():
            if self.align == "pixels":  # e.g. ISPRS: plain TIFFs, no georeferencing, as expected
                warnings.filterwarnings("ignore", message="Dataset has no geotransform")
            return raster.RasterReader(path)

    def _grid(self, index: int):
        profile = self._profiles[index][0]
        for size, step, extent in zip(self.tile_size, self.stride, (profile["height"],
                                                                     profile["width"])):
            yield window_offsets(extent, size, step)

    def _read_window(self, index: int, row: int, col: int, rgb=True):
        """Read one window: ``(bands (3, h, w) raw or None, landcover ids (h, w) int32)``."""
        (rgb_path, lc_path), (rgb_profile, lc_profile) = self.pairs[index], self._profiles[index]
        h, w = self.tile_size
        with self._open(lc_path) as src:
            raw = src.read(row, col, h, w, bands=self._label_bands)
        missing = raster.nodata_mask(raw, lc_profile["nodata"])
        where = f"{lc_path} window ({row}, {col})"
        if self.mask_encoding == "colors":
            colors = raw.transpose(1, 2, 0)  # (h, w, 3)
            if self.color_threshold is not None:
                colors = binarize_colors(colors, self.color_threshold)
            colors = np.where(missing[..., None], self.legend.classes[0].color, colors)
            ids = self.legend.ids_from_colors(colors, source=where)
        else:
            codes = np.where(missing, self.legend.classes[0].value, raw[0]).astype(np.int64)
            ids = self.legend.ids_from_values(codes, source=where)
        bands = None
        if rgb or rgb_profile["nodata"] is not None or rgb_profile["dtype"].startswith("float"):
            with self._open(rgb_path) as src:
                bands = src.read(row, col, h, w, bands=self.bands)
            missing |= raster.nodata_mask(bands, rgb_profile["nodata"])
        return bands, np.where(missing, IGNORE, ids).astype(np.int32)

    def _scan(self, index: int):
        rows, cols = self._grid(index)
        if self.max_nodata_fraction >= 1.0:  # every window qualifies: no need to read them
            yield from ((row, col) for row in rows for col in cols)
            return
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
                raise ValueError(f"The rgb rasters of {self.pairs} hold {sorted(dtypes)}, not "
                                 f"uint8; give `scaling`, e.g. ('percentile', 2, 98) or "
                                 f"('factor', 0.0255) (lcgan train: --scaling percentile 2 98).")
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

    def window_georef(self, k: int) -> tuple:
        """``(crs, transform)`` of tile ``k``: the rgb raster's CRS and the affine transform of
        that window (None, and the pixel-grid transform, for rasters without georeferencing)."""
        index, row, col = self.windows[k]
        profile = self._profiles[index][0]
        transform = profile["transform"]
        return profile["crs"], transform @ type(transform).translation(col, row)

    def tiles(self):
        for index, row, col in self.windows:
            bands, ids = self._read_window(index, row, col)
            values = bands if self._scale is None else self._scale(bands)
            rgb = np.clip(np.round(np.nan_to_num(values)), 0, 255).astype(np.uint8)
            rgb[:, raster.nodata_mask(bands, self._profiles[index][0]["nodata"])] = 0
            yield rgb.transpose(1, 2, 0), ids
