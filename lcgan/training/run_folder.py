"""The run folder of :func:`lcgan.train`: what may continue in it, and what must not be lost.

A run folder holds ``config.json`` (the :class:`~lcgan.training.config.TrainConfig` it was
trained with), ``checkpoints/``, ``history.csv``, ``gen_N.png``, ``logs/``, ``generator.keras``
and ``export/``. :func:`open_run_folder` decides, before any work, what a new call may do there:

* continue (``resume``) from its newest intact checkpoint when the configuration is the same
  apart from :data:`CHANGEABLE` fields, whose new values then take effect (listed on stdout);
  any other difference is an error listing each one;
* start over only when nothing of value is there, or with ``overwrite``: the new run is then
  written into a temporary folder beside it and replaces the old one only once it has finished,
  so an interrupted or failed new run leaves the old run as it was;
* never write into a folder that is not an lcgan run (``--out .``) or that another lcgan
  process is training in.

Example:
    >>> folder = open_run_folder("runs/mixlc", config, resume=True, overwrite=False)
    >>> ...  # write into folder.work
    >>> folder.finish()
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil

from lcgan.errors import RunFolderError
from lcgan.outputs import check_folder, clean_stale, clean_stale_in, make_temp_dir, replace_dir
from lcgan.training.checkpoints import checkpoint_prefixes, newest_intact
from lcgan.training.config import TrainConfig

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, folders are not locked
    fcntl = None

CHANGEABLE = frozenset({
    "epochs", "learning_rate", "l1_weight", "gan_weight", "feature_weight", "acgan_weight",
    "feature_matching_weight", "l1_inside_weight", "l1_outside_weight", "ema_decay",
    "vgg_weights", "require_vgg"})
"""Fields a continued run may change (the new values take effect); all others must match."""
SWITCHES = frozenset({"ema_decay", "feature_matching_weight"})
"""Changeable fields that may not go from zero to non-zero or back (they add or remove parts)."""
RUN_ENTRIES = ("config.json", "checkpoints", "history.csv", "logs", "generator.keras", "export")


def _valuable(folder: str) -> list[str]:
    """The entries of ``folder`` that a new run in its place would destroy."""
    found = [name for name in ("export", "generator.keras", "history.csv")
             if os.path.exists(os.path.join(folder, name))]
    if checkpoint_prefixes(os.path.join(folder, "checkpoints")):
        found.append("checkpoints/")
    return found + sorted(os.path.basename(p) for p in glob.glob(os.path.join(folder, "gen_*.png")))


def _refused(new: TrainConfig, old: TrainConfig) -> list[str]:
    """``name=old (now new)`` for each difference a continued run cannot take."""
    return [f"{name}={before!r} (now {after!r})"
            for name, (before, after) in old.differences(new).items()
            if name not in CHANGEABLE or (name in SWITCHES and bool(before) != bool(after))]


@dataclasses.dataclass
class RunFolder:
    """Where a training run writes.

    Attributes:
        out: the run folder (absolute).
        work: the folder written now: ``out``, or a temporary folder beside it that replaces
            ``out`` in :meth:`finish` (a run that starts over with ``overwrite``).
        resumed: the newest intact checkpoint's prefix, or None (a new run).
        changes: ``{field: (old, new)}`` applied to the continued run.
    """

    out: str
    work: str
    resumed: str | None = None
    changes: dict = dataclasses.field(default_factory=dict)
    _lock: object = None

    def path(self, *parts) -> str:
        return os.path.join(self.work, *parts)

    def finish(self) -> None:
        """Put a new run in place of the old one (if any); release the folder."""
        if self.work != self.out:
            replace_dir(self.work, self.out)
            self.work = self.out
        self.close()

    def close(self) -> None:
        """Release the folder; a temporary new run that did not finish is deleted."""
        if self.work != self.out:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = self.out
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _lock(folder: str):
    """Lock ``folder`` itself (no lock file: the lock ends with the process, even on kill -9)."""
    if fcntl is None:
        return None
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(descriptor)
        raise RunFolderError(f"Another lcgan process is training in {folder}; wait for it or "
                             "give another --out.") from err
    return descriptor


def _saved_config(folder: str):
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        return None
    try:
        return TrainConfig.load(path)
    except (OSError, ValueError, TypeError) as err:
        raise RunFolderError(f"Cannot read the run configuration {path} ({err}); give another "
                             "--out, or --overwrite to replace that run.") from err


def open_run_folder(out, config: TrainConfig, *, resume: bool = True,
                    overwrite: bool = False) -> RunFolder:
    """Check ``out`` against ``config`` before any work and decide where the run writes.

    Args:
        out: the run folder (created when missing).
        config: the configuration of this call.
        resume: continue from the newest intact checkpoint when there is one.
        overwrite: a run that starts over may replace the run in ``out`` (once it finishes).

    Returns:
        A :class:`RunFolder` holding the folder's lock; call ``finish()`` (success) or
        ``close()``.

    Raises:
        RunFolderError: ``out`` is a file, not an lcgan run folder, in use, or holds a run that
            this call would destroy (no ``overwrite``) or cannot continue (settings differ,
            each named).
        OutputError: ``out`` cannot be created or written.
        ValueError: ``epochs`` is 0 for a new run.
    """
    out = os.path.abspath(os.fspath(out))
    if os.path.lexists(out) and not os.path.isdir(out):
        raise RunFolderError(f"--out {out} is a file; give a folder for the run.")
    check_folder(out, "the run folder")
    clean_stale(out)
    clean_stale_in(out)
    foreign = sorted(set(os.listdir(out)) - set(RUN_ENTRIES))
    if foreign and not any(os.path.exists(os.path.join(out, n)) for n in RUN_ENTRIES[:2]):
        raise RunFolderError(f"--out {out} is not empty and holds no lcgan run "
                             f"({', '.join(foreign[:5])}...); give a new or empty folder.")
    folder = RunFolder(out=out, work=out, _lock=_lock(out))
    try:
        _decide(folder, config, resume=resume, overwrite=overwrite)
    except BaseException:
        folder.close()
        raise
    return folder


def _decide(folder: RunFolder, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    out = folder.out
    prefix = newest_intact(os.path.join(out, "checkpoints"), quiet=True)[0] if resume else None
    saved = _saved_config(out) if prefix else None
    refused = _refused(config, saved) if saved else []
    if prefix and not refused:
        folder.resumed, folder.changes = prefix, saved.differences(config) if saved else {}
        if saved is None:
            print(f"lcgan: {out} has no config.json; the checkpoint is assumed to fit", flush=True)
        elif folder.changes:
            print(f"lcgan: continuing the run in {out} with changed settings: " + ", ".join(
                f"{k} {a!r} -> {b!r}" for k, (a, b) in folder.changes.items()), flush=True)
        return
    if refused and not overwrite:
        raise RunFolderError(
            f"--out {out} holds a run with other settings: {', '.join(refused)}. A run continues "
            "only with the same data, networks and seed; give another --out, or --overwrite to "
            "replace that run once the new one has finished.")
    if config.epochs == 0:
        raise ValueError(f"`epochs` is 0 and {out} has no checkpoint to continue: nothing would "
                         "be trained. Received: epochs=0")
    valuable = _valuable(out)
    if valuable and not overwrite:
        why = "its checkpoints are damaged" if prefix is None and resume and (
            "checkpoints/" in valuable) else "this call starts a new run"
        raise RunFolderError(
            f"--out {out} holds a run ({', '.join(valuable[:6])}) and {why}; continue it (leave "
            "resume on), give another --out, or --overwrite to replace it once the new run has "
            "finished.")
    if valuable:
        folder.work = make_temp_dir(out)


def apply_config(gan, config: TrainConfig) -> None:
    """Make the values a continued run may change take effect after a restore: the learning
    rates (a checkpoint restores the old ones; loss weights come from ``config`` anyway)."""
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        optimizer.learning_rate.assign(config.learning_rate)
