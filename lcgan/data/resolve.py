"""One place that turns "where are my tiles" into a tile source, for the API, the CLI and examples."""

from __future__ import annotations

import os

from lcgan.data.legend import Legend


def resolve_source(data_dir=None, *, geotiff=None, tfds_dir=None, legend=None, tile_size=None):
    """The tile source named by exactly one of ``data_dir``, ``geotiff``, ``tfds_dir`` (or none).

    Args:
        data_dir: folder of ``images/`` + ``masks/`` tile pairs (legend.json inside, or ``legend``).
        geotiff: list of aligned ``(rgb_path, landcover_path)`` GeoTIFF pairs (needs ``legend``).
        tfds_dir: dataset folder written by :func:`lcgan.data.build_tfds`.
        legend: a :class:`~lcgan.data.Legend` or the path of a legend JSON; overrides the folder's.
        tile_size: window size of GeoTIFF tiles (int); default 256.

    Returns:
        A :class:`~lcgan.data.TileSource`; with no location, the bundled Dubai sample.

    Raises:
        ValueError: more than one location, or ``geotiff`` without a ``legend``.

    Example:
        >>> source = resolve_source("my_tiles")            # FolderSource
        >>> source = resolve_source()                      # the bundled sample
    """
    from lcgan.data.geotiff_source import GeoTiffSource
    from lcgan.data.sources import FolderSource, sample_source
    from lcgan.data.tfds_builder import TfdsSource

    given = [name for name, value in (("data_dir", data_dir), ("geotiff", geotiff),
                                      ("tfds_dir", tfds_dir)) if value]
    if len(given) > 1:
        raise ValueError(f"Give one tile location, not {' and '.join(given)}.")
    if isinstance(legend, (str, os.PathLike)):
        legend = Legend.from_json(legend)
    if data_dir:
        return FolderSource(data_dir, legend=legend)
    if geotiff:
        if legend is None:
            raise ValueError("`geotiff` pairs need a `legend` (a legend JSON mapping raster values "
                             "to classes).")
        return GeoTiffSource([tuple(pair) for pair in geotiff], legend=legend,
                             tile_size=tile_size or 256)
    if tfds_dir:
        return TfdsSource(tfds_dir)
    return sample_source()
