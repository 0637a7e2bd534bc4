"""``bench/gpu_check.sh --smoke`` runs end to end on any machine (its GPU rows skipped on a CPU)."""

import os
import pathlib
import subprocess
import sys

import tensorflow as tf

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_gpu_check_smoke_run_measures_every_row(tmp_path):
    out = tmp_path / "gpu.md"
    done = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), "--smoke", str(out)],
                          cwd=ROOT, env={**os.environ, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = dict(line.strip("|").split(" | ", 1) for line in out.read_text().splitlines()
                if line.startswith("| ") and not line.startswith("| measurement"))
    rows = {label.strip(): result.strip(" |") for label, result in rows.items()}
    assert rows["bf16 matmul peak (256^3)"].endswith("GFLOP/s")
    assert rows["equal configuration, float32, 32 px"].split("x (lcgan ")[0].replace(".", "").isdigit()
    for label in ("mixlc recipe, float32, samples in the step",
                  "inpaint recipe, float32, samples in tf.data"):
        assert "images/s" in rows[label] and "% of the bf16 peak" in rows[label]
    assert "MP/s" in rows["scene path / raw model, width 4, 128 px scene"]
    if not tf.config.list_physical_devices("GPU"):
        assert rows["mixed_float16 rows"] == "skipped: no GPU"
    text = out.read_text()
    assert "- install: skipped (--smoke)" in text and "- gpu tests (exit 0)" in text
    assert "- gpu_check.py exit status: 0" in text
