"""Semantic segmentation of aerial imagery, Dubai (Humans in the Loop, CC0; Kaggle
humansintheloop/semantic-segmentation-of-aerial-imagery): MBRSC satellite RGB JPEG tiles with
colour-coded PNG masks, the source of lcgan's bundled sample.

Legend: the bundled sample's ``lcgan/data/sample/legend.json``, from the dataset's own
``classes.json`` (building #3C1098, land #8429F6, road #6EC1E4, vegetation #FEDD3A, water
#E2A929, unlabeled #9B9B9B, which is a class here as it is there); black (0, 0, 0) is ignore
(an unannotated area in ``Tile 8``). Some masks are palette PNGs; they are read as colours.

Layout, as published: ``ROOT/Tile N/images/image_part_00K.jpg`` with
``ROOT/Tile N/masks/image_part_00K.png`` (72 pairs). There is no official split: ``all``.
"""

from __future__ import annotations

from lcgan.data.legend import sample_legend
from lcgan.data.presets.base import Preset, not_like, rglob_files

TITLE = "the Dubai aerial dataset"


def find_pairs(root, split):
    images = [p for p in rglob_files(root, "*.jpg") if p.parent.name == "images"]
    if not images:
        raise not_like(TITLE, root, "no <tile>/images/<name>.jpg under it (expected "
                                    "ROOT/Tile 1/images/image_part_001.jpg with "
                                    "ROOT/Tile 1/masks/image_part_001.png).")
    return [(image, image.parent.parent / "masks" / f"{image.stem}.png") for image in images]


PRESET = Preset(
    name="dubai", title="Dubai aerial (Humans in the Loop)", legend=sample_legend(),
    reader="FolderSource", splits=("all",), default_split="all", find_pairs=find_pairs,
    mask_encoding="colors", window=None,
    reads="ROOT/Tile N/images/*.jpg + Tile N/masks/*.png (colour masks)")
