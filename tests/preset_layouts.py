"""Tiny copies of the public datasets' layouts and encodings, written from scratch for tests.

Each ``write_*`` function writes a few small files in the folder structure, file names and mask
encoding the dataset's publishers use (nothing is copied from the datasets) and returns the
class ids (-1 = ignore) that each mask must decode to, keyed by the image path, so tests can
check that the right classes come out of the right pixel codes. Import as
``from preset_layouts import ...`` (tests/ is on sys.path).
"""

from __future__ import annotations

import pathlib

import numpy as np
from PIL import Image

from lcgan.data import raster

CRS = "EPSG:32633"


def class_stripes(h, w, codes, seed=0):
    """(h, w) indices into ``codes``: one band of rows per code, shuffled per seed, so every code
    appears in every window of at least ``h / len(codes)`` rows."""
    order = np.random.default_rng(seed).permutation(len(codes))
    rows = (np.arange(h) * len(codes) // h)[:, None]
    return np.broadcast_to(order[rows], (h, w)).copy()


def image(h, w, seed=0, bands=3):
    return np.random.default_rng(seed).integers(0, 256, (h, w, bands), dtype=np.uint8)


def _save(array, path, **kwargs):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, **kwargs).save(path)
    return path


# ---------------------------------------------------------------------------------- DeepGlobe
DEEPGLOBE_CODES = [(0, 255, 255), (255, 255, 0), (255, 0, 255), (0, 255, 0), (0, 0, 255),
                   (255, 255, 255), (0, 0, 0)]  # classes 0..5, then "unknown"
DEEPGLOBE_IDS = [0, 1, 2, 3, 4, 5, -1]


def write_deepglobe(root, size=(48, 40), ids=(101, 202)):
    """``train/<id>_sat.jpg`` + ``<id>_mask.png`` (colours off by up to 60 from 0/255, as the
    challenge warns), ``valid/<id>_sat.jpg`` without masks."""
    expected = {}
    h, w = size
    for k, number in enumerate(ids):
        index = class_stripes(h, w, DEEPGLOBE_CODES, seed=k)
        noisy = np.array(DEEPGLOBE_CODES)[index]
        jitter = np.random.default_rng(k).integers(0, 61, noisy.shape)
        noisy = np.where(noisy == 255, 255 - jitter, jitter).astype(np.uint8)  # never crosses 128
        sat = _save(image(h, w, k), root / "train" / f"{number}_sat.jpg")
        _save(noisy, root / "train" / f"{number}_mask.png")
        expected[sat] = np.array(DEEPGLOBE_IDS)[index]
    _save(image(h, w, 9), root / "valid" / "999_sat.jpg")
    return expected


# ------------------------------------------------------------------------------------- LoveDA
LOVEDA_CODES = list(range(8))  # 0 no-data, 1..7 classes
LOVEDA_IDS = [-1, 0, 1, 2, 3, 4, 5, 6]


def write_loveda(root, size=(48, 40)):
    """``Train|Val/Urban|Rural/images_png/<n>.png`` + ``masks_png/<n>.png`` (8-bit index masks;
    one of them a palette PNG whose palette is not the identity, to check indices are read)."""
    expected = {}
    h, w = size
    for s, (split, scene, number) in enumerate([("Train", "Urban", 1366), ("Train", "Rural", 0),
                                                ("Val", "Urban", 3514), ("Val", "Rural", 2522)]):
        folder = root / split / scene
        index = class_stripes(h, w, LOVEDA_CODES, seed=s)
        path = _save(image(h, w, s), folder / "images_png" / f"{number}.png")
        mask = Image.fromarray(np.array(LOVEDA_CODES, np.uint8)[index])
        if scene == "Rural" and split == "Train":
            mask = mask.convert("P")
            mask.putpalette([v for i in range(256) for v in (255 - i, i, 7)])
        (folder / "masks_png").mkdir(parents=True, exist_ok=True)
        mask.save(folder / "masks_png" / f"{number}.png")
        expected[path] = np.array(LOVEDA_IDS)[index]
    return expected


# ------------------------------------------------------------------------------- OpenEarthMap
OEM_CODES = list(range(9))  # 0 unknown, 1..8 classes
OEM_IDS = [-1, 0, 1, 2, 3, 4, 5, 6, 7]


def write_openearthmap(root, size=(64, 48)):
    """``OpenEarthMap_wo_xBD/<region>/images|labels/<region>_<n>.tif`` GeoTIFFs (UTM, 0.5 m),
    ``train.txt`` / ``val.txt`` / ``test.txt``; one listed xBD-style tile has a label only."""
    base = root / "OpenEarthMap_wo_xBD"
    expected = {}
    h, w = size
    names = {"train": ["aachen_1.tif", "buenos_aires_12.tif", "mexico_3.tif"],
             "val": ["aachen_2.tif"], "test": ["aachen_3.tif"]}
    for s, name in enumerate(sum(names.values(), [])):
        region = name.rsplit("_", 1)[0]
        transform = raster.transform_from_bounds(500000 + 100 * s, 4000000, 500000 + 100 * s + w / 2,
                                                 4000000 + h / 2, w, h)
        index = class_stripes(h, w, OEM_CODES, seed=s)
        for folder in ("images", "labels"):
            (base / region / folder).mkdir(parents=True, exist_ok=True)
        raster.write_geotiff(base / region / "labels" / name, np.array(OEM_CODES, np.uint8)[index],
                             crs=CRS, transform=transform)
        if region != "mexico":  # the xBD tiles ship without images
            path = base / region / "images" / name
            raster.write_geotiff(path, image(h, w, s).transpose(2, 0, 1), crs=CRS,
                                 transform=transform)
            expected[path] = np.array(OEM_IDS)[index]
    for split, listed in names.items():
        (base / f"{split}.txt").write_text("".join(f"{n}\n" for n in listed))
    return expected


# ----------------------------------------------------------------------------------- ISPRS
ISPRS_CODES = [(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0),
               (255, 0, 0), (252, 255, 0), (0, 0, 0)]  # 6 classes, an off-palette car, black
ISPRS_IDS = [0, 1, 2, 3, 4, 5, 4, -1]


def _isprs_label(h, w, seed, eroded):
    codes = ISPRS_CODES if eroded else ISPRS_CODES[:-1]  # black only in the eroded variants
    index = class_stripes(h, w, codes, seed=seed)
    return np.array(codes, np.uint8)[index], np.array(ISPRS_IDS)[index]


def write_potsdam(root, size=(80, 72), tiles=("2_10", "2_13")):
    """``2_Ortho_RGB/top_potsdam_R_C_RGB.tif`` (georeferenced GeoTIFF), ``5_Labels_all/
    top_potsdam_R_C_label.tif`` and ``5_Labels_all_noBoundary/..._label_noBoundary.tif``
    (plain colour TIFFs, as published). Returns ``{"full": {...}, "eroded": {...}}``."""
    expected = {"full": {}, "eroded": {}}
    h, w = size
    for s, tile in enumerate(tiles):
        row, col = map(int, tile.split("_"))
        transform = raster.transform_from_bounds(367000 + 300 * col, 5808000 - 300 * row,
                                                 367000 + 300 * col + w * 0.05,
                                                 5808000 - 300 * row + h * 0.05, w, h)
        (root / "2_Ortho_RGB").mkdir(parents=True, exist_ok=True)
        path = root / "2_Ortho_RGB" / f"top_potsdam_{tile}_RGB.tif"
        raster.write_geotiff(path, image(h, w, s).transpose(2, 0, 1), crs=CRS,
                             transform=transform)
        for kind, folder, suffix in (("full", "5_Labels_all", "_label"),
                                     ("eroded", "5_Labels_all_noBoundary", "_label_noBoundary")):
            colors, ids = _isprs_label(h, w, s, kind == "eroded")
            _save(colors, root / folder / f"top_potsdam_{tile}{suffix}.tif")
            expected[kind][path] = ids
    return expected


def write_vaihingen(root, size=(72, 64), areas=("1", "2")):
    """``top/top_mosaic_09cm_areaN.tif`` (IRRG, plain TIFF), labels of training area 1 in
    ``gts_for_participants/``, of test area 2 in the COMPLETE ground-truth folder, eroded ones
    (``_noBoundary``) in ``gts_eroded_for_participants/``."""
    expected = {"full": {}, "eroded": {}}
    h, w = size
    for s, area in enumerate(areas):
        name = f"top_mosaic_09cm_area{area}.tif"
        path = _save(image(h, w, s), root / "top" / name)
        folder = ("gts_for_participants" if area == "1"
                  else "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE")
        colors, ids = _isprs_label(h, w, s, False)
        _save(colors, root / folder / name)
        expected["full"][path] = ids
        colors, ids = _isprs_label(h, w, s, True)
        _save(colors, root / "gts_eroded_for_participants" / name.replace(".tif", "_noBoundary.tif"))
        expected["eroded"][path] = ids
    return expected


# -------------------------------------------------------------------------------------- Dubai
DUBAI_CODES = [(60, 16, 152), (132, 41, 246), (110, 193, 228), (254, 221, 58), (226, 169, 41),
               (155, 155, 155), (0, 0, 0)]
DUBAI_IDS = [0, 1, 2, 3, 4, 5, -1]


def write_dubai(root, size=(40, 36)):
    """``Tile N/images/image_part_00K.jpg`` + ``Tile N/masks/image_part_00K.png`` (RGB masks;
    the one of Tile 2 a palette PNG, as in the published data)."""
    expected = {}
    h, w = size
    for s, tile in enumerate(("Tile 1", "Tile 2")):
        index = class_stripes(h, w, DUBAI_CODES, seed=s)
        path = _save(image(h, w, s), root / tile / "images" / "image_part_001.jpg")
        mask = Image.fromarray(np.array(DUBAI_CODES, np.uint8)[index])
        if tile == "Tile 2":
            mask = mask.quantize(colors=len(DUBAI_CODES))
        (root / tile / "masks").mkdir(parents=True, exist_ok=True)
        mask.save(root / tile / "masks" / "image_part_001.png")
        expected[path] = np.array(DUBAI_IDS)[index]
    return expected
