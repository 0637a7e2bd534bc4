"""Writing outputs safely: complete-or-nothing files and folders, umask modes, the debris that
interrupted writes leave behind, and early checks of output paths.

An output ``NAME`` is written under a temporary name beside it, ``.NAME.tmp-PID-TOKEN``, and
renamed onto ``NAME`` only when complete; a folder that replaces an older one moves that one
aside as ``.NAME.old-PID-TOKEN`` first and deletes it after. The process id in the name tells
:func:`clean_stale` which temporaries belong to a process that is gone (killed, crashed): it
removes them, and finishes or undoes a replacement that was cut between its two renames. Files and
folders are created with the modes the umask allows (not ``mkstemp``'s 0600 / 0700).

Example:
    >>> with atomic_file("runs/a/history.csv") as tmp:
    ...     write_csv(tmp)  # history.csv is the old one or the new one, never a part of one
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil

from lcgan.errors import OutputError

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]{8}(\.\w+)?$")
_MINE: set[str] = set()  # temporaries of this process that are still being written


def temp_path(path, kind: str = "tmp", suffix: str = "") -> str:
    """A fresh temporary name beside ``path`` (``kind``: "tmp" or "old"; ``suffix``: ".keras")."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    tmp = os.path.join(folder, f".{name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}{suffix}")
    _MINE.add(tmp)
    return tmp


def _alive(pid: int, path: str) -> bool:
    if pid == os.getpid():  # this process, or an earlier one that had the same pid
        return path in _MINE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)
    _MINE.discard(path)


@contextlib.contextmanager
def atomic_file(path, *, suffix: str = ""):
    """Yield a temporary file name beside ``path``; it replaces ``path`` when the block ends
    without an error and is removed otherwise. The writer creates the file (umask modes)."""
    tmp = temp_path(path, suffix=suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def make_temp_dir(path) -> str:
    """Create and return a temporary folder beside ``path`` (umask modes)."""
    tmp = temp_path(path)
    os.mkdir(tmp)
    return tmp


def replace_dir(tmp: str, path) -> None:
    """Put the complete folder ``tmp`` in the place of ``path``; an old ``path`` is deleted only
    once the new one is in place (a kill in between is repaired by :func:`clean_stale`)."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.lexists(path):
        os.rename(tmp, path)
        _MINE.discard(tmp)
        return
    old = temp_path(path, "old")
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except OSError:
        os.rename(old, path)
        raise
    _MINE.discard(tmp)
    _remove(old)


def clean_stale(path) -> list[str]:
    """Remove what interrupted writes of ``path`` by processes that are gone left beside it.

    A replacement cut between its renames (``path`` missing, its ``.old-`` copy present) is
    finished with the complete new version when there is one, else the old one is put back.

    Returns:
        One line per action (also printed).
    """
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    return _clean(folder, name)


def clean_stale_in(folder) -> list[str]:
    """:func:`clean_stale` for every output of ``folder`` (e.g. the files of a run folder)."""
    return _clean(os.path.abspath(os.fspath(folder)), None)


def _clean(folder: str, only: str | None) -> list[str]:
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    stale = {}  # (name, pid) -> {"tmp": [paths], "old": [paths]}
    for entry in entries:
        match = _TEMP.match(entry)
        full = os.path.join(folder, entry)
        if match and only in (None, match["name"]) and not _alive(int(match["pid"]), full):
            key = (match["name"], int(match["pid"]))
            stale.setdefault(key, {"tmp": [], "old": []})[match["kind"]].append(full)
    notes = []
    for (name, pid), found in sorted(stale.items()):
        path = os.path.join(folder, name)
        for old in found["old"]:
            if not os.path.lexists(path) and found["tmp"]:
                os.rename(found["tmp"].pop(), path)
                notes.append(f"finished the replacement of {path} that process {pid} began")
            elif not os.path.lexists(path):
                os.rename(old, path)
                notes.append(f"put back {path}, which process {pid} had moved aside")
                continue
            _remove(old)
        for tmp in found["tmp"]:
            _remove(tmp)
            notes.append(f"removed {tmp}, left by the interrupted process {pid}")
    for note in notes:
        print(f"lcgan: {note}", flush=True)
    return notes


def check_folder(folder, what: str) -> str:
    """Create ``folder`` if needed and check that files can be written into it.

    Raises:
        OutputError: ``folder`` is a file, cannot be created, or is not writable (read-only
            disk, permissions), naming it.
    """
    folder = os.path.abspath(os.fspath(folder))
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise OutputError(f"{what} {folder} is a file, not a folder.")
    try:
        os.makedirs(folder, exist_ok=True)
        probe = temp_path(os.path.join(folder, "write-test"))
        with open(probe, "x"):
            pass
        _remove(probe)
    except OSError as err:
        raise OutputError(f"Cannot write into {what} {folder}: {err.strerror or err}.") from err
    return folder


def check_output_file(path, *, overwrite: bool, what: str = "output file") -> str:
    """Check an output file before any work: not a folder, absent unless ``overwrite``, in a
    writable folder (created if missing); stale temporaries of it are removed.

    Returns:
        The absolute path.

    Raises:
        OutputError: ``path`` is a folder, or its folder cannot be written.
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise OutputError(f"The {what} {path} is a folder; give the name of a file.")
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True (--overwrite) to "
                              "replace it.")
    check_folder(os.path.dirname(path), f"the folder of the {what}")
    clean_stale(path)
    return path


def check_free_space(folder, needed: int, what: str) -> None:
    """Raise OutputError when ``folder``'s disk has less than ``needed`` bytes free for ``what``."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OutputError(f"Not enough free space in {folder} for {what}: {free / 2**20:.1f} MB "
                          f"free, about {needed / 2**20:.1f} MB needed.")
