"""OpenEarthMap (Xia et al., "OpenEarthMap: A Benchmark Dataset for Global High-Resolution Land
Cover Mapping", WACV 2023, arXiv:2210.10732): aerial and satellite RGB GeoTIFFs at 0.25-0.5 m
over 97 regions in 44 countries, 1000 x 1000 (1024 x 1024 for the xBD-derived tiles).

Legend: the publishers' code (github.com/bao18/open_earth_map, ``oem/utils.py``:
``class_grey_oem`` values and ``class_rgb_oem`` colours; class names as in the paper). Labels
are single-band GeoTIFFs of values:

=====  ================  ===============  =======
value  class             display colour   here
=====  ================  ===============  =======
0      unknown           0, 0, 0          ignore
1      bareland          128, 0, 0        id 0
2      rangeland         0, 255, 36       id 1
3      developed space   148, 148, 148    id 2
4      road              255, 255, 255    id 3
5      tree              34, 97, 38       id 4
6      water             0, 69, 255       id 5
7      agriculture land  75, 181, 73      id 6
8      building          222, 31, 7       id 7
=====  ================  ===============  =======

Layout (the dataset's ``readme.txt``, Zenodo record 7223446): ``ROOT/<region>/images/
<region>_<n>.tif`` with ``labels/<region>_<n>.tif`` beside ``images``, and the official split
lists ``ROOT/train.txt``, ``val.txt``, ``test.txt`` of file names. The release ships no images
for the xBD-derived tiles (``xbd_files.csv`` says how to add them from xView2); listed tiles
without an image, or without a label, are left out with a warning.
"""

from __future__ import annotations

from lcgan.data.legend import Legend
from lcgan.data.presets.base import Preset, not_like, pair_listed

TITLE = "OpenEarthMap"
LEGEND = Legend(
    ["bareland", "rangeland", "developed_space", "road", "tree", "water", "agriculture_land",
     "building"],
    [(128, 0, 0), (0, 255, 36), (148, 148, 148), (255, 255, 255), (34, 97, 38), (0, 69, 255),
     (75, 181, 73), (222, 31, 7)],
    values=[1, 2, 3, 4, 5, 6, 7, 8], ignore_value=0, name="openearthmap")


def find_pairs(root, split):
    if not (root / f"{split}.txt").is_file():  # the archive's own top folder, one level down
        inner = [p for p in root.iterdir() if p.is_dir() and (p / f"{split}.txt").is_file()]
        root = inner[0] if len(inner) == 1 else root
    listing = root / f"{split}.txt"
    if not listing.is_file():
        raise not_like(TITLE, root, f"the split list {split}.txt is missing (expected ROOT/"
                                    f"{split}.txt and ROOT/<region>/images|labels/<region>_<n>.tif).")
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    images = {p.name: p for p in root.glob("*/images/*.tif")}
    labels = {p.name: p for p in root.glob("*/labels/*.tif")}
    if not labels:
        raise not_like(TITLE, root, "no ROOT/<region>/labels/<region>_<n>.tif under it.")
    return pair_listed(TITLE, split, names, images, labels, root=root, no_image_hint=(
        "OpenEarthMap ships no images for its xBD tiles: add them as its xbd_files.csv says."))


PRESET = Preset(
    name="openearthmap", title=TITLE, legend=LEGEND, reader="GeoTiffSource",
    splits=("train", "val", "test"), default_split="train", find_pairs=find_pairs,
    mask_encoding="values",
    reads="ROOT/<region>/images/*.tif + labels/*.tif GeoTIFFs listed in ROOT/train|val|test.txt "
          "(0 = unknown)")
