"""The README's "Using the library" Python block, run as written, offline, in a temporary folder."""

import math
import os
import re

import numpy as np

from helpers import assert_edit_confined

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def readme_block(section):
    """The first ```python block of the README section titled ``section``."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## )", text, re.S | re.M).group(1)
    return re.search(r"^```python\n(.*?)^```", body, re.S | re.M).group(1)


def test_using_the_library_runs(offline, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # offline: the VGG16 feature loss is switched off, and says so
    code = readme_block("Using the library")
    assert "argparse" not in code
    namespace = {}
    exec(compile(code, "README.md: Using the library", "exec"), namespace)

    assert all(math.isfinite(v) for v in namespace["run"].history["g_l1"])
    assert os.path.isfile(tmp_path / "runs" / "api" / "eval" / "results.md")
    assert 0.0 <= namespace["result"].table["lcgan"]["masked_l1"] <= 1.0
    assert namespace["rgb"].shape == (4, 64, 64, 3) and np.isfinite(namespace["rgb"]).all()
    assert_edit_confined(tmp_path / "runs" / "api", landcover="lc.tif",
                         edited_landcover="lc_water.tif")
    assert "THE VGG16 FEATURE LOSS IS OFF" in capsys.readouterr().out
