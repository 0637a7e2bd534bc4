"""Scene editing: apply an exported generator to GeoTIFF scenes of any size.

The scene is cut into windows with stride ``window - overlap``; the window count rounds up and the
last window of each row and column is aligned to the scene edge, so every pixel is covered.
Windows are processed one horizontal strip (a row of windows) at a time and batched; outputs are
blended with separable weights that fall off linearly over the overlap towards the window edges
(with a small floor, so every pixel has weight > 0), and each strip's finished rows are written,
in whole rows of output blocks, once no later window touches them. Reading the next strip, running
the model and writing finished rows run in background threads while the calling thread builds
the next batch's inputs and blends the last batch's outputs (:mod:`lcgan.scenes.strip_runner`).
Memory is bounded by ``window x scene width`` (plus one batch and GDAL's bounded block cache), not
by the scene: ids are kept in the smallest integer dtype and finished rows are blended into the
strip's uint8 rgb a block of columns at a time. Windows without any changed pixel are skipped:
they cannot affect the output. Only the changed area is replaced; every other pixel is copied bit
for bit.
With ``match_colors``, a first pass pools each class's mean colour over the unchanged pixels and
each window's generated classes are shifted to it before blending (:mod:`lcgan.scenes.colors`).

Example:
    >>> edit_scene("exports/mixlc", "rgb.tif", "landcover_forest.tif", "out.tif",
    ...            original_landcover_path="landcover.tif")
"""

from __future__ import annotations

import os

import numpy as np

from lcgan.data import raster
from lcgan.data.tasks import BLANKED_TASKS
from lcgan.errors import DataError, LegendError
from lcgan.outputs import check_output_file
from lcgan.scenes.colors import scene_class_means
from lcgan.scenes.provenance import probe
from lcgan.scenes.strip_runner import run_strips
from lcgan.scenes.windows import grow_mask, id_dtype, nodata_pixels

_ID_ROWS = 32  # rows of landcover values mapped to ids per step (bounds int64 temporaries)


def _load_model(model):
    if isinstance(model, (str, os.PathLike)):
        from lcgan.scenes.export import load_generator

        return load_generator(model)
    return model


def _check_arguments(window, overlap, batch_size, grow, mask_path, original_landcover_path):
    if (mask_path is None) == (original_landcover_path is None):
        raise ValueError("Give exactly one of `mask_path` and `original_landcover_path` (the "
                         "changed area is the mask, or where the landcover differs). Received "
                         f"{mask_path!r} and {original_landcover_path!r}.")
    if window <= 0 or not 0 <= overlap < window:
        raise ValueError(f"`overlap` must be in [0, window) and `window` positive. Received "
                         f"window={window}, overlap={overlap}.")
    if batch_size <= 0 or grow < 0:
        raise ValueError(f"`batch_size` must be positive and `grow` >= 0. Received "
                         f"batch_size={batch_size}, grow={grow}.")


class _Scene:
    """The input rasters of an edit, read one strip of rows at a time."""

    def __init__(self, rgb_path, landcover_path, change_path, change_is_mask):
        self.profile, _ = raster.check_aligned(rgb_path, landcover_path)
        raster.check_aligned(rgb_path, change_path)
        if self.profile["count"] < 3 or self.profile["dtype"] != "uint8":
            raise DataError(f"{rgb_path}: expected an RGB uint8 raster (3 or more bands). Received "
                            f"{self.profile['count']} band(s) of {self.profile['dtype']}.")
        self.readers = [raster.RasterReader(p) for p in (rgb_path, landcover_path, change_path)]
        self.change_is_mask = change_is_mask

    def close(self):
        for reader in self.readers:
            reader.close()

    def read_strip(self, row: int, height: int, width: int, grow: int, legend):
        """Rows ``row .. row + height`` (padded past the scene edges) of the inputs.

        Returns:
            rgb (bands, height, width) as stored, landcover ids (height, width) in the smallest
            signed dtype holding the legend's classes (:func:`~lcgan.scenes.windows.id_dtype`) and the
            changed area (height, width) bool (grown by ``grow``; never outside the scene or on
            rgb nodata).
        """
        rgb_src, lc_src, change_src = self.readers
        rgb = rgb_src.read(row, 0, height, width)  # (bands, h, w)
        raw = lc_src.read(row - grow, 0, height + 2 * grow, width, bands=[1])[0]
        other = change_src.read(row - grow, 0, height + 2 * grow, width, bands=[1])[0]
        if self.change_is_mask:
            changed = _valid(other, change_src.profile["nodata"]) & (other != 0)
        else:
            changed = raw != other
        rows = np.arange(row - grow, row + height + grow)[:, None]
        inside = (rows >= 0) & (rows < self.profile["height"]) & (
            np.arange(width)[None] < self.profile["width"])
        changed = grow_mask(changed & inside, grow)[grow:grow + height]
        changed &= ~nodata_pixels(rgb, rgb_src.profile["nodata"])
        raw, inside = raw[grow:grow + height], inside[grow:grow + height]
        usable = inside & _valid(raw, lc_src.profile["nodata"])
        ids = np.full(raw.shape, -1, id_dtype(legend.num_classes))
        for top in range(0, height, _ID_ROWS):  # the legend lookup makes int64 temporaries
            part = usable[top:top + _ID_ROWS]
            ids[top:top + _ID_ROWS][part] = legend.ids_from_values(
                raw[top:top + _ID_ROWS][part], source=lc_src.path)
        return rgb, ids, changed


def _valid(values: np.ndarray, nodata) -> np.ndarray:
    return np.ones(values.shape, bool) if nodata is None else values != nodata


def edit_scene(model, rgb_path, landcover_path, out_path, *, mask_path=None,
               original_landcover_path=None, legend=None, window: int = 256, overlap: int = 64,
               batch_size: int = 8, grow: int = 3, match_colors: bool = False,
               overwrite: bool = False, progress: bool = True) -> str:
    """Re-render the changed area of an RGB GeoTIFF from an edited landcover GeoTIFF.

    The changed area is ``mask_path`` (non-zero pixels), or where ``landcover_path`` differs from
    ``original_landcover_path``, grown by ``grow`` pixels. The generator sees the edited landcover
    and, for ``task="inpaint"`` and ``"cycle"`` exports, the rgb with the changed area blanked
    (0.0, as in training); it gets the changed area as ``mask`` when it takes one. The output has the input's
    CRS, transform, dtype, nodata and band count; outside the changed area it is bit-identical.

    Args:
        model: an export directory, or a loaded generator (:func:`lcgan.scenes.export.load_generator`,
            or any callable ``f(rgb=, landcover=, mask=)`` with a ``metadata`` dict).
        rgb_path: uint8 RGB GeoTIFF (bands 1-3 are edited, further bands are copied).
        landcover_path: the edited landcover, raw legend values (raster nodata = no class).
        out_path: GeoTIFF to write (via a temporary file, renamed when complete).
        mask_path: raster of the area to re-render (non-zero = change).
        original_landcover_path: the landcover before the edit.
        legend: :class:`~lcgan.data.legend.Legend` of the landcover values (default: the
            export's legend); its class count must match the model's.
        window, overlap: window size and overlap in pixels (stride = window - overlap).
        batch_size: windows per model call.
        grow: pixels by which the changed area is dilated.
        match_colors: shift the generated pixels of each class, window by window, so that their
            mean colour is that class's mean over the scene's unchanged pixels (classes with at
            least :data:`~lcgan.scenes.colors.MIN_PIXELS` of them; :mod:`lcgan.scenes.colors`):
            new water as dark as this scene's sea, whatever the training tiles' water was. Suits
            classes of one colour (water, grass, sand) better than classes of many (roofs get
            the scene's average shade). Costs one more read of the scene.
        overwrite: replace an existing ``out_path``.
        progress: show a tqdm bar over windows.

    Returns:
        ``out_path`` as a string.

    Raises:
        DataError: a file is missing or unreadable, or the rgb raster is not uint8 with 3+ bands.
        RasterMismatchError: the rasters differ in CRS, transform or size.
        LegendError: the legend's class count differs from the model's, or landcover values are
            not in the legend.
        FileExistsError: ``out_path`` exists and ``overwrite`` is False.
        OutputError: ``out_path`` is a folder, or its folder cannot be written (checked first).
        ValueError: bad window/overlap/batch/grow arguments, or a window size the model cannot
            run at (found by one probe run before the scene is read).
    """
    from tqdm.auto import tqdm

    from lcgan.data.legend import Legend

    _check_arguments(window, overlap, batch_size, grow, mask_path, original_landcover_path)
    check_output_file(out_path, overwrite=overwrite, what="output GeoTIFF")
    scene = _Scene(rgb_path, landcover_path, mask_path or original_landcover_path,
                   mask_path is not None)
    try:
        output = raster.RasterWriter(out_path, scene.profile, overwrite=overwrite)
        model = _load_model(model)
        meta = model.metadata
        legend = Legend.from_dict(meta["legend"]) if legend is None else legend
        if legend.num_classes != meta["num_classes"]:
            raise LegendError(f"The legend {legend.name!r} has {legend.num_classes} classes but "
                              f"the model was exported for {meta['num_classes']} classes.")
        fixed = [s for s in meta.get("spatial_size") or () if s is not None]
        if fixed and fixed != [window] * len(fixed):
            raise ValueError(f"`window` must be {fixed[0]} for this model (fixed input size). "
                             f"Received {window}.")
        probe(model, window, window, takes_mask=meta["takes_mask"], argument="window")
        colors = scene_class_means(scene, legend, window=window, grow=grow) if match_colors \
            else None
        with output as writer:
            run_strips(model, scene, writer, legend, window=window, overlap=overlap,
                       batch_size=batch_size, grow=grow, blank=meta["task"] in BLANKED_TASKS,
                       takes_mask=meta["takes_mask"], class_means=colors,
                       bar=tqdm(disable=not progress, unit="window", desc="edit_scene"))
    finally:
        scene.close()
    return os.fspath(out_path)
