"""Failure modes, messages: which errors become one line (and what it says), which stay bugs.

Cases: the library's errors, bad arguments, missing/read-only/full disks, TensorFlow file and
memory errors, errors unwrapped from traced code, bugs (kept as tracebacks); the ``lcgan``
command and a script using ``one_line_errors`` print ``PROG: error: ...`` and exit 2.
"""

import errno
import os
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from lcgan.cli import main
from lcgan.data import make_dataset, sample_source
from lcgan.errors import DataError, ExportError, report_user_errors, untraced, user_message


def _raise(error):
    raise error


def _traced_value_error():
    try:
        make_dataset(sample_source(), task="mixlc", image_size=32, batch_size=2, square_size=48)
    except ValueError as err:
        return err


@pytest.mark.parametrize("error, expected", [
    (DataError("Cannot read image file a.jpg:\n image file is truncated"),
     "Cannot read image file a.jpg: image file is truncated"),
    (ExportError("Export directory e already exists"), "Export directory e already exists"),
    (ValueError("`window` must be > 0. Received: 0"), "`window` must be > 0. Received: 0"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/run/ckpt-4.index"),
     "/data/run/ckpt-4.index: No space left on device"),
    (PermissionError(errno.EROFS, "Read-only file system", "/ro/out.tif"),
     "/ro/out.tif: Read-only file system"),
    (FileExistsError("out.tif already exists; pass overwrite=True"),
     "out.tif already exists; pass overwrite=True"),
    (FloatingPointError("Training stopped: non-finite loss"), "Training stopped: non-finite loss"),
    (tf.errors.NotFoundError(None, None, "{{function_node x}} a.png; No such file [[{{node y}}]]"),
     "a.png; No such file"),
    (tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"),
     "OOM when allocating tensor (out of memory or disk: lower --batch-size or --image-size, "
     "or free disk space)"),
], ids=["data_error", "export_error", "bad_argument", "disk_full", "read_only", "exists",
        "nan_guard", "tf_not_found", "tf_out_of_memory"])
def test_user_errors_become_one_line(error, expected):
    assert user_message(error) == expected


@pytest.mark.parametrize("error", [KeyError("x"), TypeError("bad operand"), AttributeError("a"),
                                   tf.errors.InvalidArgumentError(None, None, "shape mismatch")],
                         ids=["key_error", "type_error", "attribute_error", "tf_invalid_argument"])
def test_bugs_keep_their_traceback(error):
    assert user_message(error) is None
    with pytest.raises(type(error)):
        report_user_errors("lcgan x", lambda: _raise(error))


def test_error_raised_while_tracing_is_unwrapped_to_its_own_line():
    error = _traced_value_error()
    assert str(error) == "`square_size` must be <= the image size 32. Received: 48"
    assert untraced(error) is error and "in user code" not in user_message(error)


def test_lcgan_command_reports_a_user_error_in_one_line_with_status_2(capsys, tmp_path):
    status = main(["sample", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and lines == [f"lcgan sample: error: Tile folder not found: "
                                     f"{tmp_path / 'nowhere'}"]


@pytest.mark.parametrize("raised, status, one_line", [
    ("DataError('Cannot read image file a.jpg')", 2, True),
    ("KeyError('a bug')", 1, False),
], ids=["user_error", "bug"])
def test_script_with_one_line_errors(tmp_path, raised, status, one_line):
    script = tmp_path / "my_script.py"
    script.write_text(textwrap.dedent(f"""
        from lcgan.errors import DataError, one_line_errors
        one_line_errors()
        raise {raised}
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=120)
    assert done.returncode == status
    if one_line:
        assert done.stderr.strip().splitlines() == [
            "my_script.py: error: Cannot read image file a.jpg"]
    else:
        assert "Traceback" in done.stderr and "KeyError: 'a bug'" in done.stderr
