"""ISPRS 2D semantic labelling benchmarks, Potsdam and Vaihingen (Rottensteiner et al., "The
ISPRS benchmark on urban object classification and 3D building reconstruction", ISPRS Annals
I-3, 2012, doi:10.5194/isprsannals-I-3-293-2012; pages www.isprs.org/education/benchmarks/
UrbanSemLab/2d-sem-label-potsdam.aspx and ...-vaihingen.aspx).

Legend: the benchmark's six colour-coded classes, as in torchgeo's ``Potsdam2D`` and
``Vaihingen2D`` (torchgeo/datasets/potsdam.py, vaihingen.py) and mmsegmentation's
``PotsdamDataset`` (same colours; the ISPRS order is kept here):

====================  =============  =====
class                 label colour   here
====================  =============  =====
impervious surfaces   255, 255, 255  id 0
building              0, 0, 255      id 1
low vegetation        0, 255, 255    id 2
tree                  0, 255, 0      id 3
car                   255, 255, 0    id 4
clutter/background    255, 0, 0      id 5
====================  =============  =====

Clutter is a class here, as in torchgeo and mmsegmentation (its pixels are real content the
generator must draw; the benchmark scores it, though papers often leave it out of mean F1).
The boundary-eroded label variants (``eroded=True``: ``*_noBoundary.tif``) paint the pixels
near class borders black, (0, 0, 0): ignore. Label colours are binarised at 128 first: two
Potsdam label tiles are off-palette (``top_potsdam_4_12_label.tif`` was re-encoded lossily, e.g.
(9, 222, 221) for cyan; ``top_potsdam_6_7_label.tif`` codes cars as (252, 255, 0)). Binarised,
every pixel is a corner of the colour cube; the one corner no class uses, magenta (255, 0, 255),
can only come from such re-encoding and is ignored as well.

Labels are read as pixel-aligned with their images (same size; the label files' own
georeferencing is not compared), and the image's CRS and transform are kept.

Splits: the benchmark's labelled training tiles and its test tiles (the lists of torchgeo and
of mmsegmentation's converters), and ``all``.
"""

from __future__ import annotations

from lcgan.data.legend import Legend
from lcgan.data.presets.base import Preset, by_key, not_like, pair_listed, rglob_files

NAMES = ["impervious_surfaces", "building", "low_vegetation", "tree", "car", "clutter"]
COLORS = [(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0)]
IGNORE_COLORS = [(0, 0, 0), (255, 0, 255)]  # eroded boundaries; the cube corner no class uses

POTSDAM_SPLITS = {
    "train": ["2_10", "2_11", "2_12", "3_10", "3_11", "3_12", "4_10", "4_11", "4_12", "5_10",
              "5_11", "5_12", "6_7", "6_8", "6_9", "6_10", "6_11", "6_12", "7_7", "7_8", "7_9",
              "7_10", "7_11", "7_12"],
    "test": ["2_13", "2_14", "3_13", "3_14", "4_13", "4_14", "4_15", "5_13", "5_14", "5_15",
             "6_13", "6_14", "6_15", "7_13"],
}
VAIHINGEN_SPLITS = {
    "train": ["1", "3", "5", "7", "11", "13", "15", "17", "21", "23", "26", "28", "30", "32",
              "34", "37"],
    "test": ["2", "4", "6", "8", "10", "12", "14", "16", "20", "22", "24", "27", "29", "31",
             "33", "35", "38"],
}
for _splits in (POTSDAM_SPLITS, VAIHINGEN_SPLITS):
    _splits["all"] = _splits["train"] + _splits["test"]

POTSDAM = Legend(NAMES, COLORS, ignore_color=IGNORE_COLORS, name="isprs_potsdam")
VAIHINGEN = Legend(NAMES, COLORS, ignore_color=IGNORE_COLORS, name="isprs_vaihingen_irrg",
                   channels=("near-infrared", "red", "green"))


def find_potsdam(root, split, eroded=False):
    title = "ISPRS Potsdam"
    images = by_key(rglob_files(root, "top_potsdam_*_RGB.tif"), r"top_potsdam_(\d+_\d+)_RGB\.tif")
    for key, path in by_key(rglob_files(root, "top_potsdam_*_RGBIR.tif"),
                            r"top_potsdam_(\d+_\d+)_RGBIR\.tif").items():
        images.setdefault(key, path)  # 4_Ortho_RGBIR: its first three bands are R, G, B
    if not images:
        raise not_like(title, root, "no top_potsdam_<row>_<col>_RGB.tif under it (expected "
                                    "ROOT/2_Ortho_RGB/top_potsdam_2_10_RGB.tif, or "
                                    "4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif).")
    suffix = "_label_noBoundary" if eroded else "_label"
    labels = by_key(rglob_files(root, f"top_potsdam_*{suffix}.tif"),
                    rf"top_potsdam_(\d+_\d+){suffix}\.tif",
                    prefer=("5_Labels_all", "5_Labels_all_noBoundary"))
    if not labels:
        folder = ("5_Labels_all_noBoundary/ (or 5_Labels_for_participants_no_Boundary/)" if eroded
                  else "5_Labels_all/ (or 5_Labels_for_participants/)")
        raise not_like(title, root, f"no top_potsdam_<row>_<col>{suffix}.tif under it (expected "
                                    f"in {folder}).")
    return pair_listed(title, split, POTSDAM_SPLITS[split], images, labels, root=root,
                       no_mask_hint="5_Labels_for_participants holds the training tiles only; "
                                       "5_Labels_all holds all 38.")


def find_vaihingen(root, split, eroded=False):
    title = "ISPRS Vaihingen"
    tops = rglob_files(root, "top_mosaic_09cm_area*.tif")
    images = by_key([p for p in tops if p.parent.name == "top"], r"top_mosaic_09cm_area(\d+)\.tif")
    if not images:
        raise not_like(title, root, "no top/top_mosaic_09cm_area<N>.tif under it (expected "
                                    "ROOT/top/top_mosaic_09cm_area1.tif, from "
                                    "ISPRS_semantic_labeling_Vaihingen.zip).")
    suffix = "_noBoundary" if eroded else ""
    labels = by_key([p for p in tops if p.parent.name != "top"],
                    rf"top_mosaic_09cm_area(\d+){suffix}\.tif")
    if not labels:
        folder = ("gts_eroded_for_participants/ or the ..._ground_truth_eroded_COMPLETE archive"
                  if eroded else "gts_for_participants/ or the ..._ground_truth_COMPLETE archive")
        raise not_like(title, root, f"no label top_mosaic_09cm_area<N>{suffix}.tif outside top/ "
                                    f"(expected in {folder}).")
    return pair_listed(title, split, VAIHINGEN_SPLITS[split], images, labels, root=root,
                       no_mask_hint="gts_for_participants holds the training areas only; the "
                                       "ground_truth_COMPLETE archive holds all 33.")


POTSDAM_PRESET = Preset(
    name="potsdam", title="ISPRS Potsdam", legend=POTSDAM, reader="GeoTiffSource",
    splits=("train", "test", "all"), default_split="train", find_pairs=find_potsdam,
    mask_encoding="colors", color_threshold=128, options={"eroded": False},
    reads="ROOT/2_Ortho_RGB/top_potsdam_R_C_RGB.tif (or 4_Ortho_RGBIR, bands 1-3) + "
          "5_Labels_all/top_potsdam_R_C_label.tif (eroded: 5_Labels_all_noBoundary), 512 px windows")
VAIHINGEN_PRESET = Preset(
    name="vaihingen", title="ISPRS Vaihingen", legend=VAIHINGEN, reader="GeoTiffSource",
    splits=("train", "test", "all"), default_split="train", find_pairs=find_vaihingen,
    mask_encoding="colors", color_threshold=128, options={"eroded": False},
    reads="ROOT/top/top_mosaic_09cm_areaN.tif (IRRG: near-infrared, red, green) + "
          "gts_for_participants/top_mosaic_09cm_areaN.tif (or the COMPLETE ground truth; "
          "eroded: *_noBoundary.tif), 512 px windows")
