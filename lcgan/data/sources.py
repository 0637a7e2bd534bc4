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

from lcgan.data import folder_decode, synthetic
from lcgan.data.grid import window_offsets
from lcgan.data.legend import Legend, binarize_colors, sample_legend
from lcgan.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
MASK_ENCODINGS = ("auto", "colors", "values")


class TileSource(abc.ABC):
    """Base class of tile sources.

    Attributes:
        legend: the :class:`~lcgan.data.legend.Legend` of the landcover ids.
    """

    legend: Legend

    @classmethod
    def from_preset(cls, name: str, root, *, split=None, **options):
        """The tiles of a public dataset, from its files as published (see
        :mod:`lcgan.data.presets`; ``options`` as for :func:`~lcgan.data.presets.preset_source`).

        Example:
            >>> source = FolderSource.from_preset("loveda", "/data/LoveDA", split="train")

        Raises:
            ValueError: ``name`` is no preset, or a preset read by another source class.
        """
        from lcgan.data.presets import get_preset, preset_source

        reader = get_preset(name).reader
        if cls is not TileSource and reader != cls.__name__:
            raise ValueError(f"Preset {name!r} is read by {reader}, not {cls.__name__}: call "
                             f"{reader}.from_preset or lcgan.data.preset_source.")
        return preset_source(name, root, split=split, **options)

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
    With ``window``, each file is decoded once per pass and cut into a grid of windows (the last
    row and column moved back inside the image), so a large file gives many tiles per decode.

    Args:
        root: the folder.
        legend: a Legend; default: ``ROOT/legend.json``.
        pairs: ``(image, mask)`` paths to read instead of discovering them under ``root``.
        mask_encoding: ``"auto"`` (colour masks for RGB, RGBA and palette PNGs, index masks for
            single-channel ones), ``"colors"`` or ``"values"`` (palette PNGs then hold indices).
        color_threshold: binarise colour masks first (each channel 255 where ``>=`` it, else 0).
        window: None (whole files as tiles), or an int or (height, width): cut each file into
            windows of that size (a file smaller than it along an axis is kept whole there).

    Raises:
        DataError: ``root`` is missing or holds no pairs, an image has no mask, or (while
            reading) a file is unreadable or an image and its mask differ in size.
        LegendError: no legend given nor found, or (while reading) a mask holds colours or
            values not in the legend.
    """

    def __init__(self, root, legend: Legend | None = None, *, pairs=None, mask_encoding="auto",
                 color_threshold=None, window=None):
        self.root = pathlib.Path(root)
        if not self.root.is_dir():
            raise DataError(f"Tile folder not found: {self.root}")
        if mask_encoding not in MASK_ENCODINGS:
            raise ValueError(f"`mask_encoding` must be one of {MASK_ENCODINGS}. "
                             f"Received: {mask_encoding!r}")
        if color_threshold is not None and not (isinstance(color_threshold, int)
                                                and 1 <= color_threshold <= 255):
            raise ValueError(f"`color_threshold` must be None or an int in 1..255. "
                             f"Received: {color_threshold!r}")
        self.mask_encoding, self.color_threshold = mask_encoding, color_threshold
        self.window = None if window is None else pair_of_sizes(window)
        self.legend = Legend.from_json(self.root / "legend.json") if legend is None else legend
        self.pairs = self._discover() if pairs is None else [
            (pathlib.Path(image), pathlib.Path(mask)) for image, mask in pairs]
        if not self.pairs:
            raise DataError(f"No image/mask pairs given for {self.root}.")
        for image, mask in self.pairs:
            if not image.is_file():
                raise DataError(f"Image file not found: {image}")
            if not mask.is_file():
                raise DataError(f"Image {image} has no mask: expected {mask}.")
        self._sizes = None

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
        return pairs

    def __len__(self) -> int:
        if self.window is None:
            return len(self.pairs)
        if self._sizes is None:  # (width, height) of each image, from its header
            self._sizes = []
            for image_path, _ in self.pairs:
                with _read_image(image_path, load=False) as image:
                    self._sizes.append(image.size)
        return sum(len(window_offsets(h, self.window[0], self.window[0]))
                   * len(window_offsets(w, self.window[1], self.window[1]))
                   for w, h in self._sizes)

    def _check_pair(self, image, mask, image_path, mask_path) -> str:
        """Check the sizes and modes of an opened pair; return the mask kind "colors"/"values"."""
        if image.size != mask.size:
            raise DataError(f"Image {image_path} is {image.size[0]} x {image.size[1]} (w x h) but "
                            f"its mask {mask_path} is {mask.size[0]} x {mask.size[1]}.")
        if image.mode not in ("RGB", "RGBA", "L", "P"):
            raise DataError(f"Image {image_path} has mode {image.mode!r}; expected 8-bit RGB or "
                            f"grey (use GeoTiffSource for multiband or 16-bit rasters).")
        colors, values = ("RGB", "RGBA", "P"), ("L", "I", "I;16")
        if self.mask_encoding == "values":  # palette PNGs hold indices
            values = values + ("P",)
        if mask.mode in colors and self.mask_encoding != "values":
            return "colors"
        if mask.mode in values and self.mask_encoding != "colors":
            return "values"
        expected = {"auto": "a colour (RGB or palette) or an index (single-channel 8/16-bit) PNG",
                    "colors": "a colour mask (RGB or palette)",
                    "values": "an index mask (single-channel 8/16-bit or palette)"}
        raise DataError(f"Mask {mask_path} has mode {mask.mode!r}; expected "
                        f"{expected[self.mask_encoding]}.")

    def read_pair(self, image_path, mask_path) -> tuple[np.ndarray, np.ndarray]:
        """Read one pair with PIL: ``(rgb (H, W, 3) uint8, landcover (H, W) int32)``."""
        image, mask = _read_image(image_path), _read_image(mask_path)
        kind = self._check_pair(image, mask, image_path, mask_path)
        rgb = np.asarray(image.convert("RGB"))
        if kind == "colors":
            mask_rgb = np.asarray(mask.convert("RGB"))
            if self.color_threshold is not None:
                mask_rgb = binarize_colors(mask_rgb, self.color_threshold)
            return rgb, self.legend.ids_from_colors(mask_rgb, source=str(mask_path))
        return rgb, self.legend.ids_from_values(np.asarray(mask), source=str(mask_path))

    def tiles(self):
        for image_path, mask_path in self.pairs:
            rgb, landcover = self.read_pair(image_path, mask_path)
            if self.window is None:
                yield rgb, landcover
                continue
            (h, w), (wh, ww) = landcover.shape, self.window
            for row in window_offsets(h, wh, wh):
                for col in window_offsets(w, ww, ww):
                    yield (rgb[row:row + wh, col:col + ww],
                           landcover[row:row + wh, col:col + ww])

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
                if (image.format not in ("JPEG", "PNG") or mask.format != "PNG"
                        or (kind == "values" and mask.mode == "P")):  # TF expands palettes
                    return super().as_dataset()
                columns.append((str(image_path), str(mask_path), image.format == "JPEG",
                                kind == "colors", mask.mode != "L"))
        dataset = tf.data.Dataset.from_tensor_slices(tuple(map(list, zip(*columns)))).map(
            folder_decode.pair_decoder(self.legend, self.color_threshold),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return (dataset if self.window is None
                else dataset.flat_map(folder_decode.window_splitter(self.window)))


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
