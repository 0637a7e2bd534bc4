"""examples/colab_quickstart.ipynb, run headless through a real Jupyter kernel on tiny settings."""

import os

import nbformat
from nbclient import NotebookClient

from helpers import assert_edit_confined

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                        "colab_quickstart.ipynb")
TINY = {"EPOCHS": 1, "STEPS_PER_EPOCH": 2, "IMAGE_SIZE": 32, "WIDTH": 4, "BATCH_SIZE": 2,
        "VGG_WEIGHTS": "none"}


def _set_parameters(notebook, **values):
    """Replace the assignments ``NAME = ...`` of the cell tagged "parameters" with ``values``."""
    cell, = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    lines = cell.source.splitlines()
    for name, value in values.items():
        index, = [i for i, line in enumerate(lines) if line.startswith(f"{name} =")]
        lines[index] = f"{name} = {value!r}"
    cell.source = "\n".join(lines)


def _outputs(notebook, kind):
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if kind in output.get("data", {})]


def test_notebook_trains_exports_and_edits_a_geotiff(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    out = tmp_path / "run"
    _set_parameters(notebook, **TINY, OUT=str(out))
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    assert len(_outputs(notebook, "image/png")) >= 4  # legend, sample grid, losses, before/after
    for name in ("gen_1.png", "history.csv", "export/saved_model.pb",
                 "serving/lcgan_export.json", "scene/edited.tif"):
        assert os.path.exists(out / name), name
    assert not os.path.exists(out / "serving" / "generator.keras")
    assert_edit_confined(out / "scene")
