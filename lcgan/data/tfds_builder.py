"""Pack any tile source into a sharded TFDS dataset offline, and stream it back.

The tiles are written once as a real ``tensorflow_datasets`` dataset (TFRecord shards plus
``dataset_info.json``, no download step) under ``DATA_DIR/NAME/1.0.0``, with the legend next to
them as ``legend.json``; :class:`TfdsSource` reads it with tfds' own TFRecord reader, so large
collections stream from disk without Python on the read path.

Example:
    >>> path = build_tfds(sample_source(), "/data/tfds", name="dubai", shard_size=9)
    >>> source = TfdsSource(path)
    >>> ds = source.as_dataset()  # {"rgb": (H, W, 3) uint8, "landcover": (H, W) int32}
"""

from __future__ import annotations

import os
import pathlib
import shutil

import numpy as np

from lcgan.data.legend import Legend
from lcgan.data.sources import TileSource
from lcgan.errors import DataError

VERSION = "1.0.0"
LEGEND_FILE = "legend.json"
SPLIT = "train"


def _features():
    import tensorflow_datasets as tfds

    return tfds.features.FeaturesDict({
        "rgb": tfds.features.Image(shape=(None, None, 3), dtype=np.uint8, encoding_format="png"),
        "landcover": tfds.features.Tensor(shape=(None, None), dtype=np.int32,
                                          encoding=tfds.features.Encoding.ZLIB),
    })


def _builder_class():
    """AdhocBuilder without a code path: tfds 4.9.10 resolves the code path of a builder through
    ``importlib_resources``, a package it only declares for Python < 3.9; a builder made at run
    time has no code (nor checksums) anyway."""
    import tensorflow_datasets as tfds

    class TileBuilder(tfds.dataset_builders.AdhocBuilder, skip_registration=True):
        code_path = None

    return TileBuilder


def build_tfds(source: TileSource, data_dir, *, name: str = "lcgan_tiles", shard_size: int = 256,
               overwrite: bool = False) -> pathlib.Path:
    """Write every tile of ``source`` into a TFDS dataset (one split, ``"train"``), offline.

    Args:
        source: any :class:`~lcgan.data.sources.TileSource`.
        data_dir: TFDS data directory; the dataset goes to ``data_dir/name/1.0.0``.
        name: dataset name (a Python identifier in lower case, as TFDS requires).
        shard_size: tiles per TFRecord shard (the last shard may hold fewer).
        overwrite: replace an existing dataset of that name.

    Returns:
        The dataset directory ``data_dir/name/1.0.0`` (give it to :class:`TfdsSource`).

    Raises:
        FileExistsError: the dataset exists and ``overwrite`` is False.
        ValueError: a bad ``name`` or ``shard_size``.
    """
    import tensorflow_datasets as tfds

    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"`name` must be a lower-case identifier such as 'dubai_tiles'. "
                         f"Received {name!r}.")
    if shard_size < 1:
        raise ValueError(f"`shard_size` must be >= 1 tile. Received {shard_size}.")
    root = pathlib.Path(data_dir) / name
    if root.exists():
        if not overwrite:
            raise FileExistsError(f"TFDS dataset {root} already exists; pass overwrite=True to "
                                  f"replace it.")
        shutil.rmtree(root)
    examples = ((f"{i:08d}", {"rgb": rgb, "landcover": landcover.astype(np.int32)})
                for i, (rgb, landcover) in enumerate(source.tiles()))
    builder = _builder_class()(
        name=name, version=VERSION, features=_features(), split_datasets={SPLIT: examples},
        data_dir=os.fspath(data_dir),
        description=f"lcgan tiles of legend {source.legend.name!r} "
                    f"({source.legend.num_classes} classes).")
    config = tfds.download.DownloadConfig(num_shards=-(-len(source) // shard_size),
                                          compute_stats=tfds.download.ComputeStatsMode.SKIP)
    builder.download_and_prepare(download_config=config)
    path = pathlib.Path(builder.data_dir)
    source.legend.to_json(path / LEGEND_FILE)
    return path


def find_tfds_dataset(path) -> pathlib.Path:
    """The dataset directory of :func:`build_tfds` at or under ``path``.

    ``path`` may be the dataset directory itself (``data_dir/name/1.0.0``), the dataset's folder
    (``data_dir/name``, its one version is taken) or the data directory given to
    :func:`build_tfds` (``data_dir``, if it holds one dataset).

    Raises:
        DataError: ``path`` is missing, or holds no such dataset, or several (lists them).
    """
    path = pathlib.Path(path)
    if not path.is_dir():
        raise DataError(f"TFDS folder not found: {path}")

    def written(folder):
        return (folder / "dataset_info.json").is_file() and (folder / LEGEND_FILE).is_file()

    if written(path):
        return path
    found = sorted(p for pattern in ("*", "*/*") for p in path.glob(pattern)
                   if p.is_dir() and written(p))
    if len(found) == 1:
        return found[0]
    if not found:
        raise DataError(f"{path} is not a dataset written by build_tfds (lcgan pack): expected "
                        f"dataset_info.json and {LEGEND_FILE} in it, in NAME/{VERSION} or in "
                        f"{VERSION} under it.")
    raise DataError(f"{path} holds {len(found)} datasets written by build_tfds: "
                    f"{[str(p) for p in found]}; give one of them.")


class TfdsSource(TileSource):
    """Tiles of a dataset written by :func:`build_tfds`, streamed from its TFRecord shards.

    Args:
        path: the dataset directory returned by :func:`build_tfds` (``data_dir/name/1.0.0``),
            or a folder above it holding one such dataset (the ``data_dir`` given to
            :func:`build_tfds`, or ``data_dir/name``); see :func:`find_tfds_dataset`.

    Raises:
        DataError: no dataset written by :func:`build_tfds` is at ``path``, or several are.
    """

    def __init__(self, path):
        import tensorflow_datasets as tfds

        self.path = find_tfds_dataset(path)
        self.builder = tfds.builder_from_directory(os.fspath(self.path))
        self.legend = Legend.from_json(self.path / LEGEND_FILE)

    def __len__(self) -> int:
        return self.builder.info.splits[SPLIT].num_examples

    def as_dataset(self, *, shuffle_files: bool = False):
        """``tf.data.Dataset`` of ``{"rgb": (H, W, 3) uint8, "landcover": (H, W) int32}``,
        read by tfds (``shuffle_files`` interleaves the shards in random order)."""
        return self.builder.as_dataset(split=SPLIT, shuffle_files=shuffle_files)

    def tiles(self):
        for example in self.as_dataset().as_numpy_iterator():
            yield example["rgb"], example["landcover"]
