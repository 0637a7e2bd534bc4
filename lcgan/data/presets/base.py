"""What a dataset preset is, and the file-finding helpers the presets share."""

from __future__ import annotations

import dataclasses
import pathlib
import re
import warnings
from typing import Callable, Mapping

from lcgan.data.legend import Legend
from lcgan.errors import DataError


@dataclasses.dataclass(frozen=True)
class Preset:
    """A public landcover dataset, read from its files as its publishers ship them.

    Attributes:
        name: registry key (``lcgan train --dataset NAME``).
        title: the dataset's own name, for messages.
        legend: classes, their codes in the masks, and the ignore codes.
        reader: the source class that reads it, ``"FolderSource"`` or ``"GeoTiffSource"``.
        splits: the splits that have labels; ``default_split`` is used when none is given.
        find_pairs: ``(root, split, **options) -> [(image path, mask path), ...]``; raises
            DataError naming the folder and the expected file pattern.
        reads: the files read, for documentation (``ROOT/...`` patterns).
        mask_encoding: ``"colors"`` or ``"values"``.
        color_threshold: colour masks are binarised at it first (None: used as they are).
        window: default window size; large files are cut into windows of it (None: whole).
        options: preset-specific keyword options of ``find_pairs`` and their defaults.
    """

    name: str
    title: str
    legend: Legend
    reader: str
    splits: tuple
    default_split: str
    find_pairs: Callable
    reads: str
    mask_encoding: str
    color_threshold: int | None = None
    window: int | None = 512
    options: Mapping = dataclasses.field(default_factory=dict)


def not_like(title: str, root, what: str) -> DataError:
    """The error for a root that does not look like the dataset ``title``."""
    return DataError(f"{root} does not look like {title}: {what}")


def by_key(paths, pattern: str, *, prefer=()) -> dict:
    """``{key: path}`` for the paths whose name matches ``pattern`` (key: its first group).

    Where several paths share a key (an archive extracted twice), the first path under a folder
    named in ``prefer`` wins, then the first in sorted order.
    """
    regex = re.compile(pattern, re.IGNORECASE)
    order = {name.lower(): i for i, name in enumerate(prefer)}

    def rank(path):
        ranks = [order[part.lower()] for part in path.parts if part.lower() in order]
        return min(ranks, default=len(order)), str(path)

    found = {}
    for path in sorted(paths, key=rank):
        match = regex.fullmatch(path.name)
        if match and match.group(1) not in found:
            found[match.group(1)] = path
    return found


def pair_listed(title: str, split: str, keys, images: dict, masks: dict, *, root,
                no_image_hint: str = "", no_mask_hint: str = "") -> list:
    """Pairs of ``keys`` that have both an image and a mask; warns about the ones that do not.

    Raises:
        DataError: no key of the split has both (names the folder and the counts).
    """
    keys = list(keys)
    pairs = [(images[k], masks[k]) for k in keys if k in images and k in masks]
    no_image = [k for k in keys if k not in images]
    no_mask = [k for k in keys if k in images and k not in masks]
    hints = " ".join(hint for hint, missing in ((no_image_hint, no_image), (no_mask_hint, no_mask))
                     if hint and missing)
    counts = (f"{len(no_image)} have no image and {len(no_mask)} no label under {root} "
              f"(e.g. {(no_image + no_mask)[:3]}). {hints}".strip())
    if not pairs:
        raise DataError(f"{title} split {split!r}: none of its {len(keys)} tiles has both an image "
                        f"and a label; {counts}")
    if no_image or no_mask:
        warnings.warn(f"{title} split {split!r}: reading {len(pairs)} of its {len(keys)} tiles; "
                      f"{counts}", stacklevel=3)
    return pairs


def rglob_files(root: pathlib.Path, pattern: str) -> list:
    return sorted(p for p in root.rglob(pattern) if p.is_file())
