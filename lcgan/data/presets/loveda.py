"""LoveDA (Wang et al., "LoveDA: A Remote Sensing Land-Cover Dataset for Domain Adaptive
Semantic Segmentation", NeurIPS 2021 datasets track, arXiv:2110.08733): Google Earth RGB at
0.3 m over Nanjing, Changzhou and Wuhan, 1024 x 1024 PNG tiles, urban and rural scenes.

Legend: the publishers' repository (github.com/Junjue-Wang/LoveDA, README and
``Semantic_Segmentation/render.py``: ``COLOR_MAP``), as in torchgeo's ``LoveDA``
(torchgeo/datasets/loveda.py, "No-data regions assigned with 0 and should be ignored"). Masks
are single-channel index PNGs:

=====  ============  =====================  =======
value  class         display colour (repo)  here
=====  ============  =====================  =======
0      no-data       (0, 0, 0)              ignore
1      background    255, 255, 255          id 0
2      building      255, 0, 0              id 1
3      road          255, 255, 0            id 2
4      water         0, 0, 255              id 3
5      barren        159, 129, 183          id 4
6      forest        0, 255, 0              id 5
7      agriculture   255, 195, 128          id 6
=====  ============  =====================  =======

Layout, as the Zenodo archives ``Train.zip`` / ``Val.zip`` extract (record 5706578):
``ROOT/Train|Val/Urban|Rural/images_png/<n>.png`` with ``masks_png/<n>.png`` beside
``images_png``. ``Test.zip`` has no masks, so the splits are ``train`` and ``val``.
"""

from __future__ import annotations

from lcgan.data.legend import Legend
from lcgan.data.presets.base import Preset, not_like

TITLE = "LoveDA"
SCENES = ("urban", "rural")
LEGEND = Legend(
    ["background", "building", "road", "water", "barren", "forest", "agriculture"],
    [(255, 255, 255), (255, 0, 0), (255, 255, 0), (0, 0, 255), (159, 129, 183), (0, 255, 0),
     (255, 195, 128)],
    values=[1, 2, 3, 4, 5, 6, 7], ignore_value=0, name="loveda")


def find_pairs(root, split, scene=SCENES):
    scenes = (scene,) if isinstance(scene, str) else tuple(scene)
    if not scenes or any(s not in SCENES for s in scenes):
        raise ValueError(f"`scene` must be 'urban', 'rural' or both. Received: {scene!r}")
    pairs = []
    for name in scenes:
        folder = root / split.capitalize() / name.capitalize()
        images = folder / "images_png"
        if not images.is_dir():
            raise not_like(TITLE, root, f"{images} is missing (expected ROOT/Train|Val/"
                                        f"Urban|Rural/images_png/<n>.png with masks_png/<n>.png "
                                        f"beside images_png).")
        found = sorted(images.glob("*.png"))
        if not found:
            raise not_like(TITLE, root, f"{images} holds no .png image.")
        pairs += [(image, folder / "masks_png" / image.name) for image in found]
    return pairs


PRESET = Preset(
    name="loveda", title=TITLE, legend=LEGEND, reader="FolderSource", splits=("train", "val"),
    default_split="train", find_pairs=find_pairs, mask_encoding="values",
    reads="ROOT/Train|Val/Urban|Rural/images_png/*.png + masks_png/*.png (index masks, 0 = no-data)",
    options={"scene": SCENES})
