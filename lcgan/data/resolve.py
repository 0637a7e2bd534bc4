"""One place that turns "where are my tiles" into a tile source, for the API, the CLI and examples."""

from __future__ import annotations

import os

from lcgan.data.legend import Legend


def resolve_source(data_dir=None, *, geotiff=None, tfds_dir=None, legend=None, tile_size=None,
                   dataset=None, split=None, scaling=None):
    """The tile source named by exactly one of ``data_dir``, ``geotiff``, ``tfds_dir`` (or none).

    Args:
        data_dir: folder of ``images/`` + ``masks/`` tile pairs (legend.json inside, or ``legend``),
            or with ``dataset``, the folder that public dataset was extracted into.
        geotiff: list of aligned ``(rgb_path, landcover_path)`` GeoTIFF pairs (needs ``legend``).
        tfds_dir: dataset folder written by :func:`lcgan.data.build_tfds`.
        legend: a :class:`~lcgan.data.Legend` or the path of a legend JSON; overrides the folder's.
        tile_size: window size of GeoTIFF tiles (int); default 256. For a ``dataset``, its files
            are cut into windows of its preset size (512) or of ``tile_size`` if larger.
        dataset: a preset name (:func:`lcgan.data.preset_names`): read ``data_dir`` as that
            dataset, as published, with its own legend (see :mod:`lcgan.data.presets`).
        split: the preset's split (default: its first labelled one, e.g. ``"train"``).
        scaling: how ``geotiff`` rasters that are not uint8 become uint8 (see
            :class:`~lcgan.data.GeoTiffSource`), e.g. ``("percentile", 2, 98)``.

    Returns:
        A :class:`~lcgan.data.TileSource`; with no location, the bundled Dubai sample.

    Raises:
        ValueError: more than one location, ``geotiff`` without a ``legend``, ``scaling``
            without ``geotiff``, or ``dataset`` without ``data_dir``, with a ``legend``, or
            ``split`` without ``dataset``.

    Example:
        >>> source = resolve_source("my_tiles")            # FolderSource
        >>> source = resolve_source()                      # the bundled sample
        >>> source = resolve_source("/data/LoveDA", dataset="loveda", split="val")
    """
    from lcgan.data.geotiff_source import GeoTiffSource
    from lcgan.data.sources import FolderSource, sample_source
    from lcgan.data.tfds_builder import TfdsSource

    given = [name for name, value in (("data_dir", data_dir), ("geotiff", geotiff),
                                      ("tfds_dir", tfds_dir)) if value]
    if len(given) > 1:
        raise ValueError(f"Give one tile location, not {' and '.join(given)}.")
    if scaling is not None and not geotiff:
        raise ValueError(f"`scaling` applies to `geotiff` rasters only. Received: {scaling!r}")
    if dataset or split:
        return _preset(data_dir, dataset, split, given, legend, tile_size)
    if isinstance(legend, (str, os.PathLike)):
        legend = Legend.from_json(legend)
    if data_dir:
        return FolderSource(data_dir, legend=legend)
    if geotiff:
        if legend is None:
            raise ValueError("`geotiff` pairs need a `legend` (a legend JSON mapping raster values "
                             "to classes).")
        return GeoTiffSource([tuple(pair) for pair in geotiff], legend=legend,
                             tile_size=tile_size or 256, scaling=scaling)
    if tfds_dir:
        return TfdsSource(tfds_dir)
    return sample_source()


def _preset(data_dir, dataset, split, given, legend, tile_size):
    from lcgan.data.presets import PRESET_WINDOW, get_preset, preset_source

    if not dataset:
        raise ValueError(f"`split` {split!r} needs `dataset`, the preset it is a split of.")
    preset = get_preset(dataset)
    if given != ["data_dir"]:
        raise ValueError(f"`dataset` {dataset!r} reads `data_dir`, the folder {preset.title} was "
                         f"extracted into; give that (and no other location).")
    if legend is not None:
        raise ValueError(f"`dataset` {dataset!r} has its own legend; `legend` cannot be given.")
    window = PRESET_WINDOW if preset.window is None else max(preset.window, tile_size or 0)
    return preset_source(dataset, data_dir, split=split, window=window)
