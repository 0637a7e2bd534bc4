"""Public landcover datasets, read from their files as published: one argument each.

Each preset knows its dataset's folder layout, legend (class names, the colours or index values
its masks use, and its no-data / unknown / boundary codes as ignore) and official splits; the
legend's source is cited in each module's docstring.

==============  ================================================  ===============
preset          dataset                                           read by
==============  ================================================  ===============
``deepglobe``   DeepGlobe 2018 Land Cover (6 classes + unknown)   FolderSource
``loveda``      LoveDA (7 classes + no-data)                      FolderSource
``openearthmap``  OpenEarthMap (8 classes + unknown)              GeoTiffSource
``potsdam``     ISPRS Potsdam, RGB (6 classes)                    GeoTiffSource
``vaihingen``   ISPRS Vaihingen, IRRG false colour (6 classes)    GeoTiffSource
``dubai``       Dubai aerial, Humans in the Loop (6 classes)      FolderSource
==============  ================================================  ===============

Large files are cut into windows (default 512 px): GeoTIFF presets read one window at a time,
PNG/JPEG presets decode a file once per pass and cut it into windows; the pipeline then takes
random crops of ``image_size`` from each window.

Example:
    >>> from lcgan.data import make_dataset, preset_source
    >>> source = preset_source("loveda", "/data/LoveDA", split="train", scene="rural")
    >>> dataset = make_dataset(source, task="mixlc", image_size=256, batch_size=8)
"""

from __future__ import annotations

import pathlib

from lcgan.data.presets import deepglobe, dubai, isprs, loveda, openearthmap
from lcgan.data.presets.base import Preset
from lcgan.errors import DataError

PRESETS = {preset.name: preset for preset in (
    deepglobe.PRESET, loveda.PRESET, openearthmap.PRESET, isprs.POTSDAM_PRESET,
    isprs.VAIHINGEN_PRESET, dubai.PRESET)}
PRESET_WINDOW = "preset"  # `window` default: the preset's own window size


def preset_names() -> list[str]:
    """Names of the presets, for ``--dataset`` choices."""
    return list(PRESETS)


def get_preset(name: str) -> Preset:
    """The :class:`~lcgan.data.presets.base.Preset` called ``name``.

    Raises:
        ValueError: no preset has that name (lists them).
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown dataset preset {name!r}. Expected one of {preset_names()}.")
    return PRESETS[name]


def preset_source(name: str, root, *, split=None, window=PRESET_WINDOW, **options):
    """The tile source of dataset ``name`` under ``root``, from its files as published.

    Args:
        name: a preset name (:func:`preset_names`).
        root: the folder the dataset was extracted into.
        split: one of the preset's labelled splits (default: its first, e.g. ``"train"``).
        window: window size in pixels that large files are cut into (default: the preset's,
            512 for all but ``dubai``); None reads whole files (FolderSource presets only).
        **options: preset options: ``scene`` (``"urban"``, ``"rural"`` or both) for
            ``loveda``; ``eroded`` (True: the boundary-eroded labels) for ``potsdam`` and
            ``vaihingen``.

    Returns:
        A :class:`~lcgan.data.sources.FolderSource` or
        :class:`~lcgan.data.geotiff_source.GeoTiffSource` with the preset's legend, and the
        attributes ``preset`` (the name) and ``split``.

    Raises:
        ValueError: unknown preset, split or option.
        DataError: ``root`` is missing or does not look like the dataset (the message names the
            folder or file pattern that was expected), or an image has no mask.
        LegendError: (while reading) a mask holds a code outside the preset's legend.
    """
    preset = get_preset(name)
    split = preset.default_split if split is None else split
    if split not in preset.splits:
        raise ValueError(f"`split` of dataset {name!r} must be one of {list(preset.splits)}. "
                         f"Received: {split!r}")
    unknown = sorted(set(options) - set(preset.options))
    if unknown:
        raise ValueError(f"Dataset {name!r} takes the options {sorted(preset.options)}. "
                         f"Received unknown {unknown}.")
    root = pathlib.Path(root)
    if not root.is_dir():
        raise DataError(f"{preset.title} folder not found: {root}")
    pairs = preset.find_pairs(root, split, **{**preset.options, **options})
    window = preset.window if window == PRESET_WINDOW else window
    if preset.reader == "FolderSource":
        from lcgan.data.sources import FolderSource

        source = FolderSource(root, legend=preset.legend, pairs=pairs,
                              mask_encoding=preset.mask_encoding,
                              color_threshold=preset.color_threshold, window=window)
    else:
        from lcgan.data.geotiff_source import GeoTiffSource

        if window is None:
            raise ValueError(f"Dataset {name!r} is read in windows: `window` must be a size in "
                             f"pixels. Received: None")
        source = GeoTiffSource(pairs, legend=preset.legend, tile_size=window,
                               max_nodata_fraction=1.0, mask_encoding=preset.mask_encoding,
                               color_threshold=preset.color_threshold, align="pixels",
                               interleave=True)
    source.preset, source.split = preset.name, split
    return source
