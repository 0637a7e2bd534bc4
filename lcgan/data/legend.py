"""Landcover legend: class ids, names, colours and the ignore value.

Class ids are contiguous integers ``0 .. num_classes - 1``. Pixels that carry no class
(unannotated, nodata) get the id :data:`IGNORE` (-1) everywhere inside lcgan; one-hot encoding
turns them into all-zero vectors. Index masks on disk may use other raw codes (``value``), which
the legend maps to ids.

Example:
    >>> legend = Legend.from_json("lcgan/data/sample/legend.json")
    >>> ids = legend.ids_from_colors(mask_rgb)  # (H, W) int32, -1 where black
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from lcgan.errors import LegendError

IGNORE = -1
DEFAULT_CHANNELS = ("red", "green", "blue")


@dataclasses.dataclass(frozen=True)
class LandcoverClass:
    """One class: contiguous ``id``, ``name``, display ``color`` (RGB) and raw ``value`` on disk."""

    id: int
    name: str
    color: tuple[int, int, int]
    value: int


class Legend:
    """The set of landcover classes of a dataset.

    Args:
        names: class names, in id order.
        colors: one (r, g, b) display/mask colour per class.
        values: raw codes of the classes in index masks (default: the ids).
        ignore_color: mask colour meaning "not annotated" (maps to :data:`IGNORE`), or a list
            of such colours (the first is the display colour of ignored pixels).
        ignore_value: raw index-mask code meaning "no data" (maps to :data:`IGNORE`).
        name: dataset name, for messages and export metadata.
        channels: names of the three image channels, in order (default red, green, blue;
            e.g. ``("near-infrared", "red", "green")`` for false-colour IRRG imagery).
    """

    def __init__(self, names, colors, *, values=None, ignore_color=None, ignore_value=None,
                 name="landcover", channels=None):
        names = list(names)
        colors = [tuple(int(c) for c in color) for color in colors]
        values = list(range(len(names))) if values is None else [int(v) for v in values]
        if not names:
            raise ValueError("`names` must list at least one class. Received an empty list.")
        if len(colors) != len(names) or len(values) != len(names):
            raise ValueError(
                f"`names`, `colors` and `values` must have one entry per class. Received "
                f"{len(names)} names, {len(colors)} colors, {len(values)} values.")
        for color in colors:
            if len(color) != 3 or not all(0 <= c <= 255 for c in color):
                raise ValueError(f"Each colour must be (r, g, b) in 0..255. Received {color}.")
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"Class names must be distinct. Received {twice} more than once.")
        if len(set(colors)) != len(colors):
            raise ValueError(f"Class colours must be distinct. Received {colors}.")
        if len(set(values)) != len(values):
            raise ValueError(f"Class values must be distinct. Received {values}.")
        if ignore_value is not None and int(ignore_value) in values:
            raise ValueError(f"`ignore_value` {ignore_value} is also a class value {values}.")
        ignore_colors = [] if ignore_color is None else (
            [ignore_color] if np.ndim(ignore_color) == 1 else list(ignore_color))
        ignore_colors = [tuple(int(c) for c in color) for color in ignore_colors]
        for color in ignore_colors:
            if len(color) != 3 or not all(0 <= c <= 255 for c in color) or color in colors:
                raise ValueError(f"Each ignore colour must be (r, g, b) in 0..255 and not a class "
                                 f"colour. Received {ignore_color}.")
        channels = DEFAULT_CHANNELS if channels is None else tuple(str(c) for c in channels)
        if len(channels) != 3:
            raise ValueError(f"`channels` must name three image channels. Received {channels}.")
        self.name = name
        self.classes = tuple(LandcoverClass(i, n, c, v)
                             for i, (n, c, v) in enumerate(zip(names, colors, values)))
        self.ignore_colors = tuple(ignore_colors)
        self.ignore_color = self.ignore_colors[0] if self.ignore_colors else None
        self.channels = channels
        self.ignore_value = None if ignore_value is None else int(ignore_value)

    # ------------------------------------------------------------------ basics
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def palette(self) -> np.ndarray:
        """(num_classes, 3) uint8 display colours."""
        return np.array([c.color for c in self.classes], dtype=np.uint8)

    def __repr__(self):
        return f"Legend({self.name!r}, {self.names})"

    def __eq__(self, other):
        return isinstance(other, Legend) and self.to_dict() == other.to_dict()

    def class_id(self, name: str) -> int:
        """Id of the class called ``name``."""
        for c in self.classes:
            if c.name == name:
                return c.id
        raise ValueError(f"Unknown class name {name!r}. Expected one of {self.names}.")

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict:
        out = {"name": self.name,
               "classes": [{"id": c.id, "name": c.name, "color": list(c.color), "value": c.value}
                           for c in self.classes]}
        if len(self.ignore_colors) == 1:
            out["ignore_color"] = list(self.ignore_color)
        elif self.ignore_colors:
            out["ignore_color"] = [list(color) for color in self.ignore_colors]
        if self.channels != DEFAULT_CHANNELS:
            out["channels"] = list(self.channels)
        if self.ignore_value is not None:
            out["ignore_value"] = self.ignore_value
        return out

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "legend") -> "Legend":
        try:
            classes = sorted(data["classes"], key=lambda c: c["id"])
            ids = [int(c["id"]) for c in classes]
            if ids != list(range(len(ids))):
                raise LegendError(f"{source}: class ids must be 0..{len(ids) - 1}. Received {ids}.")
            return cls([c["name"] for c in classes], [c["color"] for c in classes],
                       values=[c.get("value", c["id"]) for c in classes],
                       ignore_color=data.get("ignore_color"), ignore_value=data.get("ignore_value"),
                       name=data.get("name", "landcover"), channels=data.get("channels"))
        except (KeyError, TypeError) as err:
            raise LegendError(f"{source}: not a valid legend ({err!r}). Expected "
                              '{"classes": [{"id": 0, "name": ..., "color": [r, g, b]}, ...]}.'
                              ) from err
        except LegendError:
            raise
        except ValueError as err:  # duplicate names or colours, bad values: name the file
            raise LegendError(f"{source}: {err}") from err

    @classmethod
    def from_json(cls, path) -> "Legend":
        """Read a legend file (see ``lcgan/data/sample/legend.json`` for the format)."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError as err:
            raise LegendError(f"Legend file not found: {path}") from err
        except (OSError, json.JSONDecodeError) as err:
            raise LegendError(f"Cannot read legend file {path}: {err}") from err
        return cls.from_dict(data, source=path)

    def to_json(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)

    # ------------------------------------------------------------ conversions
    def ids_from_colors(self, mask_rgb, *, source: str = "mask") -> np.ndarray:
        """Colour-coded mask (H, W, 3) uint8 -> class ids (H, W) int32.

        Raises:
            LegendError: a colour is neither a class colour nor the ignore colour
                (the message lists up to five such colours and names ``source``).
        """
        mask_rgb = np.asarray(mask_rgb)
        if mask_rgb.ndim != 3 or mask_rgb.shape[-1] != 3:
            raise LegendError(f"{source}: a colour mask must be (H, W, 3). Received {mask_rgb.shape}.")
        codes = pack_rgb(mask_rgb)
        known = np.array([pack_rgb(np.array(c.color)) for c in self.classes], dtype=np.int64)
        order = np.argsort(known)
        pos = np.clip(np.searchsorted(known[order], codes), 0, len(known) - 1)
        ids = order[pos].astype(np.int32)
        found = known[order][pos] == codes
        for color in self.ignore_colors:
            ignore = codes == pack_rgb(np.array(color))
            ids[ignore] = IGNORE
            found |= ignore
        if not found.all():
            bad = np.unique(codes[~found])[:5]
            colours = [tuple(int(x) for x in ((b >> 16) & 255, (b >> 8) & 255, b & 255)) for b in bad]
            raise LegendError(f"{source}: {int((~found).sum())} pixels have colours not in legend "
                              f"{self.name!r}, e.g. {colours}. Known: "
                              f"{[c.color for c in self.classes]}, ignore "
                              f"{', '.join(map(str, self.ignore_colors)) or None}.")
        return ids

    def ids_from_values(self, raw, *, source: str = "mask") -> np.ndarray:
        """Index mask of raw codes (H, W) -> class ids (H, W) int32 (``ignore_value`` -> -1).

        Raises:
            LegendError: a code is neither a class value nor ``ignore_value``.
        """
        raw = np.asarray(raw)
        if raw.dtype.kind not in "iu":
            raise LegendError(f"{source}: an index mask must hold integers. Received {raw.dtype}.")
        lut_keys = np.array([c.value for c in self.classes], dtype=np.int64)
        order = np.argsort(lut_keys)
        flat = raw.astype(np.int64)
        pos = np.clip(np.searchsorted(lut_keys[order], flat), 0, len(lut_keys) - 1)
        ids = order[pos].astype(np.int32)
        found = lut_keys[order][pos] == flat
        if self.ignore_value is not None:
            ignore = flat == self.ignore_value
            ids[ignore] = IGNORE
            found |= ignore
        if not found.all():
            bad = np.unique(flat[~found])[:5].tolist()
            raise LegendError(f"{source}: values {bad} are not class values of legend "
                              f"{self.name!r} (expected {lut_keys.tolist()}, "
                              f"ignore {self.ignore_value}).")
        return ids

    def colorize(self, ids) -> np.ndarray:
        """Class ids (..., H, W) -> display colours (..., H, W, 3) uint8; ignore -> ignore colour/black."""
        ids = np.asarray(ids)
        table = np.concatenate([self.palette, [self.ignore_color or (0, 0, 0)]]).astype(np.uint8)
        return table[np.where(ids < 0, self.num_classes, np.minimum(ids, self.num_classes))]


def binarize_colors(mask_rgb, threshold: int) -> np.ndarray:
    """Colour mask (..., 3) -> uint8, each channel 255 where ``>= threshold`` and 0 elsewhere.

    For masks whose classes are coded by saturated colours (each channel 0 or 255) but whose
    files hold other values near them (lossy re-encoding, blended edges); DeepGlobe's challenge
    says "binarize them at threshold 128".
    """
    return np.where(np.asarray(mask_rgb) >= threshold, 255, 0).astype(np.uint8)


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours -> (...) int64 codes ``r << 16 | g << 8 | b``."""
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def sample_legend() -> Legend:
    """The legend of the bundled Dubai sample (6 classes, black = not annotated)."""
    here = os.path.join(os.path.dirname(__file__), "sample", "legend.json")
    return Legend.from_json(here)
