"""Helpers of the failure-mode tests (``tests/test_failures_*.py``): the one-line error of a
command, and scripts run in a subprocess that may ``kill -9`` themselves."""

import hashlib
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

from lcgan.cli import main


def one_line_error(capsys, argv) -> str:
    """Run ``lcgan ARGV``; assert it exits 2 with exactly one stderr line and no traceback."""
    status = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"lcgan {argv[0]}: error: "), lines[0]
    return lines[0]


def run_script(tmp_path, code: str, *, killed: bool) -> subprocess.CompletedProcess:
    """Run ``code`` (dedented) as a script; ``killed``: assert it died of SIGKILL, else of 0.

    The script may call ``die()``: ``os.kill(os.getpid(), signal.SIGKILL)``, a real kill -9.
    """
    script = pathlib.Path(tmp_path) / "script.py"
    script.write_text("import os, signal\n\ndef die():\n    os.kill(os.getpid(), signal.SIGKILL)\n"
                      + textwrap.dedent(code))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    assert done.returncode == (-signal.SIGKILL if killed else 0), done.stderr[-3000:]
    return done


def file_hashes(folder) -> dict:
    """``{relative path: sha256}`` of every file under ``folder``."""
    root = pathlib.Path(folder)
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
