import csv
import pathlib
import shutil

import numpy as np
import pytest
from PIL import Image

from lcgan.data.legend import Legend, sample_legend
from lcgan.data import FolderSource
from lcgan.evaluation import evaluate
from lcgan.evaluation.evaluator import _reference_batch
from lcgan.scenes.export import export_generator
from lcgan.models import unet_generator
from lcgan.models.segmenter import segmenter


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    """Five 40 px tiles with the sample legend: blocks of classes, each class a flat colour + noise."""
    root = tmp_path_factory.mktemp("tiles")
    legend = sample_legend()
    shutil.copy(pathlib.Path(__file__).resolve().parents[2] / "lcgan/data/sample/legend.json", root)
    (root / "images").mkdir()
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for t in range(5):
        ids = np.repeat(np.repeat(rng.integers(0, legend.num_classes, (4, 4)), 10, 0), 10, 1)
        rgb = np.clip(legend.palette[::-1][ids] + rng.normal(0, 8, ids.shape + (3,)), 0, 255)
        Image.fromarray(rgb.astype(np.uint8)).save(root / "images" / f"t{t}.png")
        Image.fromarray(legend.palette[ids]).save(root / "masks" / f"t{t}.png")
    return root


@pytest.mark.parametrize("task", ["mixlc", "inpaint"])
def test_evaluation_end_to_end_writes_tables_and_figure(task, tiles, tmp_path):
    generator = unet_generator(image_size=32, num_classes=6, width=8, use_mask=task == "inpaint")
    if task == "inpaint":  # an export directory (lcgan.scenes.export)
        generator_path = tmp_path / "export"
        export_generator(generator, generator_path, legend=sample_legend(), task=task, image_size=32)
    else:  # a .keras file
        generator_path = tmp_path / "g.keras"
        generator.save(generator_path)
    segmenter(image_size=32, num_classes=6, width=8, depth=2).save(tmp_path / "seg.keras")
    out = tmp_path / "eval"
    result = evaluate(generator_path, FolderSource(tiles), segmenter=tmp_path / "seg.keras",
                      task=task, image_size=32, batch_size=4, batches=2, examples=3, out=out)
    table = result.table
    assert result.num_images == 8 and len(result.files) == 4
    assert set(table) == {"real", "lcgan", "class_mean", "biharmonic", "copy_input"}
    assert table["real"]["masked_l1"] == 0.0 and table["real"]["domain_fd"] == pytest.approx(0, abs=1e-6)
    assert 0.0 <= table["lcgan"]["lc_miou"] <= 1.0 and table["lcgan"]["masked_l1"] > 0
    real = table["real"]
    assert real["sharpness"] == real["sharpness_lap"] == real["lc_ratio"] == 1.0
    assert real["region_fd"] == pytest.approx(0, abs=1e-6) and table["lcgan"]["region_fd"] > 0
    # the class-mean fill keeps the class boundaries but not the noise of the tiles' classes;
    # the pasted squares of mixlc targets are hard seams
    assert table["class_mean"]["sharpness"] < 1.0
    assert np.isfinite([table[m]["seam"] for m in table]).all()
    if task == "mixlc":
        assert real["seam"] > 1.0 and 0.0 <= table["lcgan"]["lc_original"] <= 1.0
    else:  # inpainting changes no class: nothing can be read as the original class
        assert np.isnan(table["lcgan"]["lc_original"])
    assert result.segmenter == f"Segmenter: {tmp_path / 'seg.keras'}."
    # flat-colour classes: the class mean fill must beat copying the input inside the mask
    assert table["class_mean"]["masked_l1"] < table["copy_input"]["masked_l1"]
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == list(table)
    assert float(rows[1]["masked_l1"]) == pytest.approx(table["lcgan"]["masked_l1"])
    report = (out / "results.md").read_text()
    assert "by requested class" in report and "masked-area fraction" in report and "| road |" in report
    assert result.segmenter in report and "- **region FD** (`region_fd`): " in report
    with open(out / "breakdown.csv", newline="") as f:
        assert {r["breakdown"] for r in csv.DictReader(f)} == {"class", "area"}
    figure = Image.open(out / "examples.png")
    assert figure.size == (64 * 7, 14 + 64 * 3)


def test_evaluation_without_a_segmenter_for_the_legend_leaves_landcover_columns_out(tiles):
    legend = sample_legend()
    renamed = Legend([f"class {k}" for k in range(legend.num_classes)], legend.palette.tolist(),
                     ignore_color=legend.ignore_colors)  # the same colours, other class names
    generator = unet_generator(image_size=32, num_classes=6, width=4)
    result = evaluate(generator, FolderSource(tiles, legend=renamed), image_size=32, batch_size=2,
                      batches=1)
    assert "examples/train_segmenter.py" in result.segmenter
    assert not {"lc_pixel_acc", "lc_ratio", "region_fd", "domain_fd"} & set(result.row())
    assert {"sharpness", "seam", "masked_l1"} <= set(result.row())


def test_baselines_alone_on_the_cycle_task(tiles, tmp_path):
    train = [(np.full((8, 8, 3), 60, np.uint8), np.zeros((8, 8), int))]  # only class 0: grey 60
    options = dict(task="cycle", image_size=32, batch_size=2, batches=2, segmenter=False)
    result = evaluate(None, FolderSource(tiles), train_tiles=train, out=tmp_path, examples=2,
                      **options)
    assert set(result.table) == {"real", "class_mean", "biharmonic", "copy_input"}
    assert result.table["real"]["sharpness"] == 1.0
    assert "Task cycle has no target of the edit" in (tmp_path / "results.md").read_text()
    own_colours = evaluate(None, FolderSource(tiles), **options)
    assert own_colours.table["class_mean"]["masked_l1"] != result.table["class_mean"]["masked_l1"]


def test_the_cycle_reference_is_the_real_pixels_of_the_requested_classes():
    before = np.array([[[0, 1, 2, -1]]])  # (1, 1, 4)
    requested = np.array([[[2, 1, 2, 2]]])
    mask = np.array([1, 0, 0, 1], np.float32).reshape(1, 1, 4, 1)  # classes 2 asked (and IGNORE)
    batch = {"landcover_before": before, "landcover": requested, "mask": mask,
             "landcover_onehot": np.eye(3)[np.maximum(requested, 0)] * (requested >= 0)[..., None]}
    reference = _reference_batch(batch, "cycle")
    np.testing.assert_array_equal(reference["mask"][..., 0], [[[0, 0, 1, 0]]])
    np.testing.assert_array_equal(reference["landcover"], before)
    assert _reference_batch(batch, "mixlc") is batch
