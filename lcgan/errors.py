"""The library's exceptions, and the one place where user errors become one line.

Each exception names the file or argument at fault. :func:`user_message` turns an error that a
user can fix (a bad argument, a bad file, a full or read-only disk) into one line;
:func:`report_user_errors` (the ``lcgan`` command) and :func:`one_line_errors` (the example
scripts) print it as ``PROG: error: ...`` and exit with status 2. Anything else is a bug and
keeps its traceback.

Example:
    >>> user_message(DataError("Cannot read image file a.jpg: image file is truncated"))
    'Cannot read image file a.jpg: image file is truncated'
    >>> user_message(KeyError("x")) is None
    True
"""

from __future__ import annotations

import contextlib
import os
import re
import sys


class LcganError(Exception):
    """Base class of every error lcgan raises on purpose."""


class DataError(LcganError, ValueError):
    """A data file is missing, unreadable, empty or inconsistent (message names the file)."""


class LegendError(DataError):
    """A landcover mask holds colours or class ids that the legend does not define."""


class RasterMismatchError(DataError):
    """Two rasters that must be aligned differ in CRS, transform, size or band count."""


class WeightsUnavailableError(LcganError, RuntimeError):
    """Pretrained weights were asked for but cannot be loaded (offline, missing file)."""


class ExportError(LcganError):
    """An export directory is missing, incomplete, or would be overwritten without consent."""


class OutputError(LcganError):
    """An output cannot be written: a missing or read-only folder, a file where a folder is
    expected, or too little free space (message names the path)."""


class RunFolderError(OutputError):
    """A run folder holds another run, a different configuration, or is in use."""


class CheckpointError(LcganError):
    """No intact checkpoint can be restored, or a checkpoint does not fit the model."""


_TF_USER_ERRORS = {  # TensorFlow errors that come from files, disks or memory, not from bugs
    "NotFoundError": "", "PermissionDeniedError": "", "DataLossError": "",
    "AlreadyExistsError": "", "FailedPreconditionError": "",
    "ResourceExhaustedError": " (out of memory or disk: lower --batch-size or --image-size, "
                              "or free disk space)",
}
_TF_NOISE = re.compile(r"\{\{[^}]*\}\}\s*|\s*\[\[.*|\s*\[Op:\w+\].*")


def untraced(error: BaseException) -> BaseException:
    """The error raised inside a traced function (tf.function, a tf.data map), without the
    ``in user code: ...`` dump that AutoGraph wraps around it; other errors unchanged."""
    while (getattr(error, "ag_error_metadata", None) is not None
           and str(error).lstrip().startswith("in user code:")
           and isinstance(error.__context__, type(error))):
        error = error.__context__
    return error


@contextlib.contextmanager
def plain_traced_errors():
    """Re-raise an error raised while tracing (e.g. a bad option found inside ``dataset.map``)
    as the original exception, so its message is the library's one line."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 -- re-raised, only unwrapped
        original = untraced(error)
        if original is error:
            raise
        raise original from None


def _os_message(error: OSError) -> str:
    if error.strerror and error.filename is not None:
        paths = " -> ".join(str(p) for p in (error.filename, error.filename2) if p is not None)
        return f"{paths}: {error.strerror}"
    return str(error)


def _tf_message(error: BaseException) -> str | None:
    module = sys.modules.get("tensorflow")
    name = type(error).__name__
    if module is None or name not in _TF_USER_ERRORS or not isinstance(
            error, module.errors.OpError):
        return None
    text = _TF_NOISE.sub(" ", error.message.strip().splitlines()[0] if error.message else name)
    return f"{text.strip()}{_TF_USER_ERRORS[name]}"


def user_message(error: BaseException) -> str | None:
    """The one-line message of an error that the user can fix, or None for a bug.

    User errors: the library's own exceptions, ``ValueError`` (bad arguments), ``OSError``
    (missing, read-only or full disks; the path named), ``FloatingPointError`` (the NaN guard)
    and TensorFlow's file, disk and memory errors. Errors raised inside traced functions are
    unwrapped first (:func:`untraced`).

    Returns:
        The message on one line, or None.
    """
    error = untraced(error)
    if isinstance(error, (LcganError, ValueError, FloatingPointError)):
        text = str(error)
    elif isinstance(error, OSError):
        text = _os_message(error)
    else:
        text = _tf_message(error)
        if text is None:
            return None
    return " ".join(text.split()) or type(error).__name__


def report_user_errors(prog: str, run) -> int:
    """Call ``run()``; a user error (:func:`user_message`) becomes one line ``PROG: error: ...``
    on stderr and status 2, an interrupt status 130; 0 when ``run`` returns."""
    try:
        run()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 -- a bug is re-raised with its traceback
        message = user_message(err)
        if message is None:
            raise
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    return 0


def one_line_errors(prog: str | None = None) -> None:
    """Make the calling script report user errors as the ``lcgan`` command does: one line
    ``PROG: error: ...`` on stderr and exit status 2 (through ``sys.excepthook``; bugs keep
    their traceback). Call it once, near the top of the script.

    Example:
        >>> from lcgan.errors import one_line_errors
        >>> one_line_errors()
    """
    prog = prog or os.path.basename(sys.argv[0])
    default = sys.excepthook

    def hook(kind, error, traceback):
        message = None if issubclass(kind, KeyboardInterrupt) else user_message(error)
        if message is None:
            return default(kind, error, traceback)
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)  # raised by an excepthook, this is the interpreter's exit status

    sys.excepthook = hook
