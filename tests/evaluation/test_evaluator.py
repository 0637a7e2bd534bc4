import csv
import importlib.util
import pathlib
import shutil

import numpy as np
import pytest
from PIL import Image

from lcgan.data.legend import sample_legend
from lcgan.data import FolderSource
from lcgan.evaluation import evaluate
from lcgan.scenes.export import export_generator
from lcgan.models import unet_generator
from lcgan.models.segmenter import segmenter

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


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
    # flat-colour classes: the class mean fill must beat copying the input inside the mask
    assert table["class_mean"]["masked_l1"] < table["copy_input"]["masked_l1"]
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == list(table)
    assert float(rows[1]["masked_l1"]) == pytest.approx(table["lcgan"]["masked_l1"])
    report = (out / "results.md").read_text()
    assert "by requested class" in report and "masked-area fraction" in report and "| road |" in report
    with open(out / "breakdown.csv", newline="") as f:
        assert {r["breakdown"] for r in csv.DictReader(f)} == {"class", "area"}
    figure = Image.open(out / "examples.png")
    assert figure.size == (64 * 7, 14 + 64 * 3)


def test_evaluation_rejects_a_segmenter_of_another_size(tiles, tmp_path):
    unet_generator(image_size=32, num_classes=6, width=8).save(tmp_path / "g.keras")
    segmenter(image_size=64, num_classes=6, width=8, depth=2).save(tmp_path / "seg.keras")
    with pytest.raises(ValueError, match="takes 64 px tiles"):
        evaluate(tmp_path / "g.keras", FolderSource(tiles), segmenter=tmp_path / "seg.keras",
                 image_size=32)


def test_train_segmenter_example_tiny(tiles, tmp_path):
    spec = importlib.util.spec_from_file_location("train_segmenter", EXAMPLES / "train_segmenter.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    result = script.main(["--data", str(tiles), "--image-size", "32", "--width", "8", "--batch-size", "4",
                          "--epochs", "1", "--steps-per-epoch", "2", "--val-batches", "1",
                          "--val-every", "3", "--out", str(tmp_path)])
    assert pathlib.Path(result["path"]).is_file()
    assert 0.0 <= result["mean_iou"] <= 1.0
