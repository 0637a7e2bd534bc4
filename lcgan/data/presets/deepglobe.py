"""DeepGlobe 2018 Land Cover Classification challenge (DigitalGlobe RGB, 50 cm, 2448 x 2448).

Legend: the challenge's own description (Demir et al., "DeepGlobe 2018: A Challenge to Parse
the Earth through Satellite Images", CVPR workshops 2018, arXiv:1805.06561, and the challenge
page https://competitions.codalab.org/competitions/18468), as repeated by torchgeo's
``DeepGlobeLandCover`` (torchgeo/datasets/deepglobelandcover.py): 7 colour codes

=================  =============  ==========================================
class              mask colour    here
=================  =============  ==========================================
urban land         0, 255, 255    id 0
agriculture land   255, 255, 0    id 1
rangeland          255, 0, 255    id 2
forest land        0, 255, 0      id 3
water              0, 0, 255      id 4
barren land        255, 255, 255  id 5
unknown            0, 0, 0        ignore ("clouds and others"; torchgeo keeps it as class 6,
                                  the challenge does not score it)
=================  =============  ==========================================

"The values of the mask image may not be pure 0 and 255. When converting to labels, please
binarize them at threshold 128": masks are binarised (``>= 128`` -> 255) before the lookup, so
only the eighth corner of the colour cube, red (255, 0, 0), is an error.

Layout, as published (challenge archive ``land-train/``, Kaggle copy ``train/``): ``<id>_sat.jpg``
with ``<id>_mask.png`` beside it. Only the training images have masks (the ``valid/`` and
``test/`` images were never labelled publicly), so the one split is ``train``.
"""

from __future__ import annotations

from lcgan.data.legend import Legend
from lcgan.data.presets.base import Preset, not_like, rglob_files
from lcgan.errors import DataError

TITLE = "DeepGlobe Land Cover"
LEGEND = Legend(
    ["urban_land", "agriculture_land", "rangeland", "forest_land", "water", "barren_land"],
    [(0, 255, 255), (255, 255, 0), (255, 0, 255), (0, 255, 0), (0, 0, 255), (255, 255, 255)],
    ignore_color=(0, 0, 0), name="deepglobe_landcover")


def find_pairs(root, split):
    sats = rglob_files(root, "*_sat.jpg")
    if not sats:
        raise not_like(TITLE, root, "no <id>_sat.jpg under it (expected e.g. ROOT/train/"
                                    "<id>_sat.jpg with <id>_mask.png beside it).")
    folders = {}
    for sat in sats:
        folders.setdefault(sat.parent, []).append(sat)
    pairs = []
    for folder, images in folders.items():
        masks = [image.with_name(image.name[:-len("_sat.jpg")] + "_mask.png") for image in images]
        present = [mask.is_file() for mask in masks]
        if not any(present):  # valid/ and test/: images only
            continue
        if not all(present):
            missing = [str(m) for m, ok in zip(masks, present) if not ok]
            raise DataError(f"{TITLE}: {len(missing)} images in {folder} have no mask, e.g. "
                            f"{missing[0]} is missing.")
        pairs += list(zip(images, masks))
    if not pairs:
        raise not_like(TITLE, root, f"the folders holding <id>_sat.jpg ({sorted(map(str, folders))})"
                                    f" hold no <id>_mask.png; only the training images (train/ "
                                    f"or land-train/) have masks.")
    return pairs


PRESET = Preset(
    name="deepglobe", title=TITLE, legend=LEGEND, reader="FolderSource", splits=("train",),
    default_split="train", find_pairs=find_pairs, mask_encoding="colors", color_threshold=128,
    reads="ROOT/**/<id>_sat.jpg + <id>_mask.png (colour masks, binarised at 128)")
