"""Tile sources: each yields aligned ``(rgb uint8 (H, W, 3), landcover int32 (H, W))`` pairs.

Landcover ids are ``0 .. legend.num_classes - 1`` and :data:`~lcgan.data.legend.IGNORE` (-1)
where a pixel has no class (unannotated, nodata). Tiles of one source may differ in size.

Example:
    >>> source = sample_source()  # the bundled Dubai tiles
    >>> rgb, landcover = next(source.tiles())  # (H, W, 3) uint8, (H, W) int32
    >>> ds = source.as_dataset()  # {"rgb": (H, W, 3) uint8, "landcover": (H, W) int32}
"""

from __future__ import annotations

import abc
import os
import pathlib

import numpy as np
from PIL import Image, UnidentifiedImageError

from lcgan.data import synthetic
from lcgan.data.legend import IGNORE, Legend, pack_rgb, sample_legend
from lcgan.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


class TileSource(abc.ABC):
    """Base class of tile sources.

    Attributes:
        legend: the :class:`~lcgan.data.legend.Legend` of the landcover ids.
    """

    legend: Legend

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of tiles."""

    @abc.abstractmethod
    def tiles(self):
        """Iterate over ``(rgb (H, W, 3) uint8, landcover (H, W) int32)`` numpy pairs."""

    def as_dataset(self):
        """The tiles as a ``tf.data.Dataset`` of dicts ``{"rgb": (H, W, 3) uint8,
        "landcover": (H, W) int32}`` (spatial dimensions unknown)."""
        import tensorflow as tf

        signature = {"rgb": tf.TensorSpec((None, None, 3), tf.uint8),
                     "landcover": tf.TensorSpec((None, None), tf.int32)}
        return tf.data.Dataset.from_generator(
            lambda: ({"rgb": rgb, "landcover": lc} for rgb, lc in self.tiles()),
            output_signature=signature)


def _read_image(path: pathlib.Path, *, load: bool = True) -> Image.Image:
    """Open an image with PIL (``load=False``: header only; close it when done)."""
    try:
        image = Image.open(path)
        if load:
            image.load()
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"Cannot read image file {path}: {err}") from err
    return image


class FolderSource(TileSource):
    """A folder of image/mask pairs.

    Two layouts are recognised (the first wins if the folder holds any ``images`` folder):

    * nested: ``ROOT/**/images/NAME.(jpg|jpeg|png|tif|tiff)`` with ``masks/NAME.png`` next to
      that ``images`` folder (the layout of the bundled sample);
    * flat: ``ROOT/**/NAME.(jpg|jpeg|png|tif|tiff)`` with ``NAME_mask.png`` in the same folder.

    Masks are colour-coded (RGB, RGBA or palette PNG, mapped by ``legend.ids_from_colors``) or
    index masks (single channel, raw codes mapped by ``legend.ids_from_values``). Images are 8-bit
    RGB or grey (JPEG, PNG, TIFF); for multiband or 16-bit rasters use :class:`GeoTiffSource`.

    :meth:`tiles` reads with PIL; :meth:`as_dataset` decodes JPEG and PNG files with TF ops in
    parallel and gives the very same tiles (JPEGs with the accurate integer DCT, as PIL does).

    Args:
        root: the folder.
        legend: a Legend; default: ``ROOT/legend.json``.

    Raises:
        DataError: ``root`` is missing or holds no pairs, an image has no mask, or (while
            reading) a file is unreadable or an image and its mask differ in size.
        LegendError: no legend given nor found, or (while reading) a mask holds colours or
            values not in the legend.
    """

    def __init__(self, root, legend: Legend | None = None):
        self.root = pathlib.Path(root)
        if not self.root.is_dir():
            raise DataError(f"Tile folder not found: {self.root}")
        self.legend = Legend.from_json(self.root / "legend.json") if legend is None else legend
        self.pairs = self._discover()

    def _discover(self) -> list[tuple[pathlib.Path, pathlib.Path]]:
        images = sorted(p for p in self.root.rglob("*")
                        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        nested = [p for p in images if p.parent.name == "images"]
        if nested:
            pairs = [(p, p.parent.parent / "masks" / f"{p.stem}.png") for p in nested]
        else:
            pairs = [(p, p.with_name(f"{p.stem}_mask.png"))
                     for p in images if not p.stem.endswith("_mask")]
        if not pairs:
            raise DataError(f"No image/mask pairs in {self.root}. Expected images/NAME.jpg with "
                            f"masks/NAME.png, or NAME.jpg with NAME_mask.png.")
        for image, mask in pairs:
            if not mask.is_file():
                raise DataError(f"Image {image} has no mask: expected {mask}.")
        return pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def _check_pair(self, image, mask, image_path, mask_path) -> str:
        """Check the sizes and modes of an opened pair; return the mask kind "colors"/"values"."""
        if image.size != mask.size:
            raise DataError(f"Image {image_path} is {image.size[0]} x {image.size[1]} (w x h) but "
                            f"its mask {mask_path} is {mask.size[0]} x {mask.size[1]}.")
        if image.mode not in ("RGB", "RGBA", "L", "P"):
            raise DataError(f"Image {image_path} has mode {image.mode!r}; expected 8-bit RGB or "
                            f"grey (use GeoTiffSource for multiband or 16-bit rasters).")
        if mask.mode in ("RGB", "RGBA", "P"):
            return "colors"
        if mask.mode in ("L", "I", "I;16"):
            return "values"
        raise DataError(f"Mask {mask_path} has mode {mask.mode!r}; expected a colour (RGB or "
                        f"palette) or an index (single-channel 8/16-bit) PNG.")

    def read_pair(self, image_path, mask_path) -> tuple[np.ndarray, np.ndarray]:
        """Read one pair with PIL: ``(rgb (H, W, 3) uint8, landcover (H, W) int32)``."""
        image, mask = _read_image(image_path), _read_image(mask_path)
        kind = self._check_pair(image, mask, image_path, mask_path)
        rgb = np.asarray(image.convert("RGB"))
        if kind == "colors":
            return rgb, self.legend.ids_from_colors(np.asarray(mask.convert("RGB")),
                                                    source=str(mask_path))
        return rgb, self.legend.ids_from_values(np.asarray(mask), source=str(mask_path))

    def tiles(self):
        for image_path, mask_path in self.pairs:
            yield self.read_pair(image_path, mask_path)

    def as_dataset(self, *, validate: bool = False):
        """The tiles, decoded by TF ops in parallel, in :meth:`tiles` order.

        The headers of all files are read now (PIL), so that unreadable files, size mismatches
        and unsupported modes raise their DataError at once. Mask colours or values not in the
        legend are found while iterating: they stop it with a ``tf.errors.InvalidArgumentError``
        carrying the LegendError message of :meth:`tiles`, which names the mask file. A file
        whose header is fine but whose data is corrupt stops it with TF's decoding error, which
        does not name the file: ``validate=True`` finds it. A source holding files that TF cannot
        decode (TIFF) is read through :meth:`tiles` in a ``from_generator`` dataset instead.

        Args:
            validate: first read every pair with PIL (:meth:`read_pair`), so that any bad file
                raises its DataError or LegendError here, naming the file.

        Returns:
            ``tf.data.Dataset`` of ``{"rgb": (H, W, 3) uint8, "landcover": (H, W) int32}``.
        """
        import tensorflow as tf

        if validate:
            for image_path, mask_path in self.pairs:
                self.read_pair(image_path, mask_path)
        columns = []  # per pair: image path, mask path, is JPEG, colour mask, 16-bit mask
        for image_path, mask_path in self.pairs:
            image, mask = _read_image(image_path, load=False), _read_image(mask_path, load=False)
            with image, mask:
                kind = self._check_pair(image, mask, image_path, mask_path)
                if image.format not in ("JPEG", "PNG") or mask.format != "PNG":
                    return super().as_dataset()
                columns.append((str(image_path), str(mask_path), image.format == "JPEG",
                                kind == "colors", mask.mode != "L"))
        return tf.data.Dataset.from_tensor_slices(tuple(map(list, zip(*columns)))).map(
            _pair_decoder(self.legend), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _lookup_table(keys, ignore_key) -> tuple[np.ndarray, np.ndarray]:
    """Sorted int32 ``(keys, ids)``: ``keys[i]`` -> id ``i``, ``ignore_key`` (if any) -> IGNORE.

    Keys that no mask pixel can hold (outside ``0 .. 2**24 - 1``) become -1, which matches nothing.
    """
    keys, ids = list(keys), list(range(len(keys)))
    if ignore_key is not None:
        keys, ids = keys + [int(ignore_key)], ids + [IGNORE]
    keys = np.asarray(keys, np.int64)
    keys = np.where((keys >= 0) & (keys < 2**24), keys, -1)
    order = np.argsort(keys, kind="stable")
    return keys[order].astype(np.int32), np.asarray(ids, np.int32)[order]


def _pair_decoder(legend: Legend):
    """TF function ``(image path, mask path, is JPEG, colour mask, 16-bit mask)`` -> tile dict.

    Colour masks are packed to ``r * 65536 + g * 256 + b`` codes and index masks read as raw
    values; both are mapped to ids by a sorted-table search. If a code is not in the legend,
    the Legend method that the PIL path uses runs in a ``tf.numpy_function`` and raises its
    LegendError (naming the mask file), which stops the iteration with that message.
    """
    import tensorflow as tf

    ignore_color = legend.ignore_color
    color_table = _lookup_table(pack_rgb(legend.palette),
                                None if ignore_color is None else pack_rgb(np.array(ignore_color)))
    value_table = _lookup_table([c.value for c in legend.classes], legend.ignore_value)

    def lookup(codes, table, explain, mask, mask_path):  # codes (H, W) int32 -> ids (H, W)
        keys, ids = tf.constant(table[0]), tf.constant(table[1])
        flat = tf.reshape(codes, [1, -1])  # (1, H * W)
        pos = tf.minimum(tf.searchsorted(keys[None], flat)[0], len(table[0]) - 1)
        return tf.cond(
            tf.reduce_all(tf.gather(keys, pos) == flat[0]),
            lambda: tf.reshape(tf.gather(ids, pos), tf.shape(codes)),
            lambda: tf.numpy_function(lambda m, p: explain(m, source=p.decode()),
                                      [mask, mask_path], tf.int32, stateful=False))

    def from_colors(mask, mask_path):
        mask_rgb = tf.io.decode_png(mask, channels=3)  # (H, W, 3); palettes expand to colours
        rgb = tf.cast(mask_rgb, tf.int32)
        codes = rgb[..., 0] * 65536 + rgb[..., 1] * 256 + rgb[..., 2]
        return lookup(codes, color_table, legend.ids_from_colors, mask_rgb, mask_path)

    def from_values(mask, mask_path, bits16):
        raw = tf.cond(bits16, lambda: tf.io.decode_png(mask, channels=1, dtype=tf.uint16),
                      lambda: tf.cast(tf.io.decode_png(mask, channels=1), tf.uint16))
        raw = raw[..., 0]  # (H, W)
        return lookup(tf.cast(raw, tf.int32), value_table, legend.ids_from_values, raw, mask_path)

    def decode(image_path, mask_path, is_jpeg, colors, bits16):
        image, mask = tf.io.read_file(image_path), tf.io.read_file(mask_path)
        rgb = tf.cond(  # PIL decodes JPEGs with the accurate integer DCT too: same bytes
            is_jpeg, lambda: tf.io.decode_jpeg(image, channels=3, dct_method="INTEGER_ACCURATE"),
            lambda: tf.io.decode_png(image, channels=3))
        landcover = tf.cond(colors, lambda: from_colors(mask, mask_path),
                            lambda: from_values(mask, mask_path, bits16))
        return {"rgb": tf.ensure_shape(rgb, [None, None, 3]),
                "landcover": tf.ensure_shape(landcover, [None, None])}

    return decode


def sample_source() -> FolderSource:
    """The bundled real Dubai aerial tiles (CC0) with their 6-class legend."""
    return FolderSource(pathlib.Path(__file__).parent / "sample", legend=sample_legend())


class SyntheticSource(TileSource):
    """Procedural tiles from :mod:`lcgan.data.synthetic` (blobs, a river, roads; textured RGB).

    Tile ``i`` depends only on ``(seed, i)``, so every pass yields the same tiles.

    Args:
        num_tiles: number of tiles.
        tile_size: int or (height, width).
        seed: None (a random seed drawn once, at construction) or an int.
    """

    def __init__(self, num_tiles: int = 16, tile_size=64, *, seed=None):
        if num_tiles < 1:
            raise ValueError(f"`num_tiles` must be >= 1. Received {num_tiles}.")
        self.tile_size = pair_of_sizes(tile_size)
        self.num_tiles = num_tiles
        self.seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
        self.legend = synthetic.synthetic_legend()

    def __len__(self) -> int:
        return self.num_tiles

    def tiles(self):
        for i in range(self.num_tiles):
            yield synthetic.synthetic_tile(*self.tile_size, seed=(self.seed, i))


def pair_of_sizes(tile_size) -> tuple[int, int]:
    size = (tile_size, tile_size) if np.isscalar(tile_size) else tuple(tile_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"`tile_size` must be a positive int or (height, width). "
                         f"Received {tile_size}.")
    return int(size[0]), int(size[1])
