"""GeoTIFF input and output: the only module of lcgan that imports rasterio.

Readers hand out windows as ``(bands, h, w)`` arrays, so a raster far larger than memory can be
sampled; writers build the file under a temporary name in the target folder and rename it onto
the target only when writing finished cleanly.

Example:
    >>> check_aligned("scene_rgb.tif", "scene_landcover.tif")
    >>> with RasterReader("scene_rgb.tif") as src:
    ...     window = src.read(0, 0, 256, 256, bands=[4, 3, 2])  # (3, 256, 256)
    >>> write_geotiff("out.tif", window, crs=src.profile["crs"], transform=src.profile["transform"])
"""

from __future__ import annotations

import os
import threading

import affine
import numpy as np
import rasterio
from rasterio.windows import Window

from lcgan.errors import DataError, RasterMismatchError
from lcgan.outputs import atomic_file

_PROFILE_KEYS = ("crs", "transform", "width", "height", "count", "dtype", "nodata")
DEFAULT_CACHE_MB = 32


class _BlockCacheLimit:
    """Bounds GDAL's block cache while lcgan datasets are open (process-wide, thread-safe).

    GDAL has one block cache per process, 5% of RAM by default; it keeps written blocks until it
    fills, so without a bound a long write grows with the raster. Each open dataset holds its
    limit here; the smallest held limit applies, and GDAL's own setting comes back when the last
    one is released. Unlike nested ``rasterio.Env`` blocks, datasets may close in any order and
    from any thread.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._held: list[int] = []
        self._saved = None

    def acquire(self, megabytes) -> None:
        if megabytes is None:
            return
        with self._lock:
            if not self._held:
                self._saved = rasterio.env.get_gdal_config("GDAL_CACHEMAX")
            self._held.append(int(megabytes))
            rasterio.env.set_gdal_config("GDAL_CACHEMAX", min(self._held))

    def release(self, megabytes) -> None:
        if megabytes is None:
            return
        with self._lock:
            self._held.remove(int(megabytes))
            value = min(self._held) if self._held else self._saved
            rasterio.env.set_gdal_config("GDAL_CACHEMAX", value)


_CACHE_LIMIT = _BlockCacheLimit()


def _check_cache_mb(cache_mb):
    if cache_mb is not None and (isinstance(cache_mb, bool) or not isinstance(cache_mb, int)
                                 or not 1 <= cache_mb < 100_000):
        raise ValueError(f"`cache_mb` must be None or an int in [1, 100000) (megabytes). "
                         f"Received: {cache_mb!r}")
    return cache_mb


def _open(path):
    """Open ``path`` for reading, turning rasterio's failures into a DataError naming the file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"Raster file not found: {path}")
    try:
        return rasterio.open(path)
    except (rasterio.errors.RasterioError, OSError) as err:
        raise DataError(f"Cannot read raster {path}: {err}") from err


class RasterReader:
    """Windowed reader of one raster file (a context manager).

    Args:
        path: GeoTIFF (or any GDAL raster) to read.
        cache_mb: bound on GDAL's (process-wide) block cache in MB while the file is open
            (see ``DEFAULT_CACHE_MB``); None leaves GDAL's setting (``GDAL_CACHEMAX``) alone.

    Attributes:
        path: the file name, as given.
        profile: dict with ``crs`` (rasterio CRS, compares equal to e.g. ``"EPSG:32633"``),
            ``transform`` (affine.Affine), ``width``, ``height``, ``count`` (bands), ``dtype``
            (numpy dtype name) and ``nodata`` (float or None).

    Raises:
        DataError: the file is missing or not a readable raster.
    """

    def __init__(self, path, *, cache_mb: int | None = DEFAULT_CACHE_MB):
        self.path = os.fspath(path)
        self._cache_mb = _check_cache_mb(cache_mb)
        self._dataset = _open(self.path)
        _CACHE_LIMIT.acquire(self._cache_mb)
        ds = self._dataset
        self.profile = {"crs": ds.crs, "transform": ds.transform, "width": ds.width,
                        "height": ds.height, "count": ds.count, "dtype": ds.dtypes[0],
                        "nodata": ds.nodata}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):  # a reader dropped without close() must not keep the cache bound
        if hasattr(self, "_dataset"):
            self.close()

    def close(self) -> None:
        if not self._dataset.closed:
            self._dataset.close()
            _CACHE_LIMIT.release(self._cache_mb)

    def read(self, row_off: int, col_off: int, height: int, width: int, bands=None,
             boundless: bool = True) -> np.ndarray:
        """Read a window; pixels outside the raster are filled with nodata (or 0 without nodata).

        Args:
            row_off, col_off: top-left pixel of the window (may be negative when boundless).
            height, width: window size in pixels.
            bands: 1-based band numbers, in output order (default: all bands).
            boundless: if False, a window reaching outside the raster is an error.

        Returns:
            (len(bands), height, width) array of the raster's dtype.

        Raises:
            DataError: a band number is outside ``1..count`` (the raster has the wrong band
                count), or the window leaves the raster with ``boundless=False``.
        """
        count, rows, cols = self.profile["count"], self.profile["height"], self.profile["width"]
        bands = list(range(1, count + 1)) if bands is None else [int(b) for b in bands]
        bad = [b for b in bands if not 1 <= b <= count]
        if bad:
            raise DataError(f"{self.path}: has {count} band(s), cannot read band(s) {bad} "
                            f"(band numbers are 1-based).")
        if height <= 0 or width <= 0:
            raise ValueError(f"Window `height` and `width` must be positive. Received "
                             f"{height} x {width}.")
        r0, c0 = max(row_off, 0), max(col_off, 0)
        r1, c1 = min(row_off + height, rows), min(col_off + width, cols)
        inside = (r0, c0, r1, c1) == (row_off, col_off, row_off + height, col_off + width)
        if not inside and not boundless:
            raise DataError(f"{self.path}: window rows {row_off}..{row_off + height}, cols "
                            f"{col_off}..{col_off + width} leaves the {rows} x {cols} raster.")
        if inside:
            return self._dataset.read(bands, window=Window(col_off, row_off, width, height))
        nodata = self.profile["nodata"]
        out = np.full((len(bands), height, width), 0 if nodata is None else nodata,
                      dtype=self.profile["dtype"])
        if r1 > r0 and c1 > c0:
            out[:, r0 - row_off:r1 - row_off, c0 - col_off:c1 - col_off] = self._dataset.read(
                bands, window=Window(c0, r0, c1 - c0, r1 - r0))
        return out


def check_aligned(path_a, path_b) -> tuple[dict, dict]:
    """Check that two rasters share CRS, transform and size (pixel-to-pixel alignment).

    Returns:
        The two profiles (see :class:`RasterReader`).

    Raises:
        DataError: a file is missing or unreadable (names it).
        RasterMismatchError: CRS, transform or size differ (names both files and both values).
    """
    with RasterReader(path_a) as a, RasterReader(path_b) as b:
        pa, pb = a.profile, b.profile
    for key, what in (("crs", "CRS"), ("transform", "transform")):
        if pa[key] != pb[key]:
            va, vb = (_describe(p[key]) for p in (pa, pb))
            raise RasterMismatchError(f"{what} differs between {a.path} ({va}) and "
                                      f"{b.path} ({vb}); the rasters must be aligned.")
    if (pa["height"], pa["width"]) != (pb["height"], pb["width"]):
        raise RasterMismatchError(
            f"Size differs between {a.path} ({pa['height']} x {pa['width']}) and {b.path} "
            f"({pb['height']} x {pb['width']}); the rasters must be aligned.")
    return pa, pb


def _describe(value) -> str:
    """One-line text of a CRS (its authority code or WKT) or an affine transform (a..f)."""
    if hasattr(value, "to_string"):
        return value.to_string()
    if isinstance(value, affine.Affine):
        return str(tuple(value)[:6])
    return str(value)


class RasterWriter:
    """Write a GeoTIFF atomically, window by window (a context manager).

    The file is built as a hidden temporary file in the folder of ``path`` (see
    :mod:`lcgan.outputs`; umask modes) and renamed onto ``path`` only when the ``with`` block
    exits without an exception; otherwise the temporary file is deleted and ``path`` is left
    untouched.

    Args:
        path: target GeoTIFF.
        profile: dict with ``crs``, ``transform``, ``width``, ``height``, ``count``, ``dtype``
            and optionally ``nodata`` (as :attr:`RasterReader.profile`); other keys are GDAL
            creation options (default ``compress="deflate"``, 256-px tiles for large rasters).
        overwrite: replace an existing ``path``.
        cache_mb: bound on GDAL's block cache while writing, as for :class:`RasterReader`;
            written blocks are compressed and flushed to disk once it is full.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False (the message names it).
        ValueError: ``profile`` lacks a required key, or a bad ``cache_mb``.

    Example:
        >>> with RasterWriter("out.tif", reader.profile) as dst:
        ...     dst.write(window, row_off=0, col_off=256)  # window: (count, h, w)
    """

    def __init__(self, path, profile: dict, *, overwrite: bool = False,
                 cache_mb: int | None = DEFAULT_CACHE_MB):
        self.path = os.fspath(path)
        self._cache_mb = _check_cache_mb(cache_mb)
        missing = [k for k in _PROFILE_KEYS[:-1] if k not in profile]
        if missing:
            raise ValueError(f"`profile` for {self.path} lacks {missing}. Expected keys "
                             f"{list(_PROFILE_KEYS)}.")
        if os.path.exists(self.path) and not overwrite:
            raise FileExistsError(f"{self.path} already exists; pass overwrite=True to replace it.")
        self.profile = dict(profile)
        self._dataset = None
        self._tmp = None

    def __enter__(self):
        options = {"driver": "GTiff", "compress": "deflate"}
        if self.profile["width"] >= 256 and self.profile["height"] >= 256:
            options.update(tiled=True, blockxsize=256, blockysize=256)
        options.update(self.profile)
        self._atomic = atomic_file(self.path, suffix=".tif")
        self._tmp = self._atomic.__enter__()
        try:
            self._dataset = rasterio.open(self._tmp, "w", **options)
        except (rasterio.errors.RasterioError, OSError, TypeError) as err:
            self._atomic.__exit__(type(err), err, err.__traceback__)
            raise DataError(f"Cannot create raster {self.path}: {err}") from err
        _CACHE_LIMIT.acquire(self._cache_mb)
        return self

    @property
    def block_rows(self) -> int:
        """Height of the file's blocks (tiles or strips), known inside the ``with`` block.

        Writing whole rows of blocks (row offsets and heights that are multiples of it, or
        reaching the last row) compresses each block once; a block written in parts is
        compressed, read back and stored again, which costs time and leaves dead space.
        """
        return self._dataset.block_shapes[0][0]

    def write(self, array, row_off: int = 0, col_off: int = 0) -> None:
        """Write ``array`` (count, h, w) with its top-left pixel at (``row_off``, ``col_off``).

        Raises:
            ValueError: wrong band count, or the window leaves the raster.
        """
        array = np.asarray(array)
        p = self.profile
        if array.ndim != 3 or array.shape[0] != p["count"]:
            raise ValueError(f"`array` for {self.path} must be ({p['count']}, h, w). "
                             f"Received {array.shape}.")
        h, w = array.shape[1:]
        if row_off < 0 or col_off < 0 or row_off + h > p["height"] or col_off + w > p["width"]:
            raise ValueError(f"Window rows {row_off}..{row_off + h}, cols {col_off}..{col_off + w} "
                             f"leaves the {p['height']} x {p['width']} raster {self.path}.")
        self._dataset.write(array.astype(p["dtype"], copy=False),
                            window=Window(col_off, row_off, w, h))

    def __exit__(self, exc_type, exc, traceback):
        try:
            try:
                self._dataset.close()
            finally:
                _CACHE_LIMIT.release(self._cache_mb)
        except BaseException as err:  # e.g. a full disk while flushing: the file is not kept
            self._atomic.__exit__(type(err), err, err.__traceback__)
            raise
        self._atomic.__exit__(exc_type, exc, traceback)


def nodata_mask(bands: np.ndarray, nodata) -> np.ndarray:
    """lcgan's one nodata rule: (bands, h, w) -> (h, w) bool, True where the pixel has no data.

    A pixel has no data when it is NaN in any band, or equals ``nodata`` in EVERY band (GDAL's
    per-band nodata: a dark pixel with one band at the nodata value, e.g. (0, 0, 120) with
    nodata 0, is still data). ``nodata`` None (or NaN) leaves only the NaN test. Works band by
    band, so no (bands, h, w) temporary is made.
    """
    missing = np.zeros(bands.shape[1:], bool)
    if bands.dtype.kind == "f":
        for band in bands:
            missing |= np.isnan(band)
    if nodata is not None and not np.isnan(nodata):
        value = np.asarray(nodata).astype(bands.dtype)
        blank = np.ones(bands.shape[1:], bool)
        for band in bands:
            blank &= band == value
        missing |= blank
    return missing


def write_geotiff(path, array, *, crs, transform, nodata=None, overwrite: bool = False) -> None:
    """Write a whole array as a GeoTIFF (atomically, see :class:`RasterWriter`).

    Args:
        path: target file.
        array: (bands, H, W) array, or (H, W) for a single band; its dtype is kept.
        crs: e.g. ``"EPSG:32633"`` or a profile's ``crs``.
        transform: affine.Affine (e.g. from :func:`transform_from_bounds`).
        nodata: value marking pixels without data.
        overwrite: replace an existing ``path``.
    """
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"`array` must be (bands, H, W) or (H, W). Received {array.shape}.")
    profile = {"crs": crs, "transform": transform, "count": array.shape[0],
               "height": array.shape[1], "width": array.shape[2], "dtype": array.dtype.name,
               "nodata": nodata}
    with RasterWriter(path, profile, overwrite=overwrite) as dst:
        dst.write(array)


def transform_from_bounds(west, south, east, north, width: int, height: int):
    """Affine transform of a north-up raster of ``width`` x ``height`` pixels covering the bounds."""
    return (affine.Affine.translation(west, north)
            @ affine.Affine.scale((east - west) / width, (south - north) / height))
