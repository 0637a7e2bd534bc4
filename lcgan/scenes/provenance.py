"""What a trained generator is for, checked against what it is about to be used for.

An export records its task in ``lcgan_export.json``. A ``.keras`` generator written by
:func:`save_keras_generator` (as :func:`lcgan.train` does) carries the same record as
``lcgan_generator.json`` inside its zip archive (Keras ignores the entry). A generator without a
record is judged by its inputs where they tell: inpainting and cycle generators take a
``mask`` (Mix LC ones may, with ``mask_input``). And before a size is recorded or used, the
generator is run once at that size (:func:`probe`): a size it cannot run at is an error naming
the argument.

Example:
    >>> save_keras_generator(gan, "runs/a/generator.keras", task="mixlc", image_size=64,
    ...                      legend=legend)
    >>> check_task("inpaint", takes_mask=False, record=keras_record("runs/a/generator.keras"),
    ...            where="runs/a/generator.keras")  # ValueError: trained for task 'mixlc'
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from lcgan.data.tasks import BLANKED_TASKS
from lcgan.images import shown_generator
from lcgan.outputs import atomic_file

RECORD = "lcgan_generator.json"


def save_keras_generator(generator_or_gan, path, *, task: str, image_size, legend) -> str:
    """Save the (EMA) generator as a ``.keras`` file holding a record of what it was trained for.

    The file is written under a temporary name and renamed when complete.

    Returns:
        ``path`` (absolute).
    """
    model = shown_generator(generator_or_gan)
    path = os.path.abspath(os.fspath(path))
    record = {"format": "lcgan-generator-record", "task": task,
              "image_size": list(np.broadcast_to(image_size, 2).tolist()),
              "num_classes": legend.num_classes, "legend": legend.to_dict()}
    with atomic_file(path, suffix=".keras") as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(RECORD, json.dumps(record, indent=2))
    return path


def keras_record(path) -> dict | None:
    """The record inside a ``.keras`` file written by :func:`save_keras_generator`, or None."""
    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            return json.loads(archive.read(RECORD)) if RECORD in archive.namelist() else None
    except (OSError, zipfile.BadZipFile, ValueError):  # a damaged file: its loader says so
        return None


def check_task(task: str, *, takes_mask: bool, record: dict | None, where) -> None:
    """Refuse to use a generator for a task it was not trained for.

    Args:
        task: the task asked for.
        takes_mask: whether the generator has a ``mask`` input.
        record: its record (export metadata or :func:`keras_record`), or None.
        where: the generator's file or folder, for the message.

    Raises:
        ValueError: the record names another task, or (without a record) a generator without a
            mask input is asked for a task whose generators take one.
    """
    if record and record.get("task"):
        if record["task"] != task:
            raise ValueError(f"The generator {where} was trained for task {record['task']!r}, "
                             f"not {task!r}. Received: task={task!r}")
        return
    if takes_mask:  # Mix LC (mask_input), inpainting and cycle generators may all take one
        print(f"lcgan: {where} has no record of its task; taken for task {task!r} as told",
              flush=True)
    elif task in BLANKED_TASKS:
        raise ValueError(
            f"The generator {where} has no 'mask' input and no record of its task, so it is a Mix "
            f"LC generator (lcgan's {' and '.join(BLANKED_TASKS)} generators take the mask). "
            f"Received: task={task!r}")


def probe(call, height: int, width: int, *, takes_mask: bool, argument: str) -> None:
    """Run ``call(rgb=, landcover=[, mask=])`` once on a (1, height, width) batch of zeros.

    Raises:
        ValueError: the generator cannot run at that size, or its output is not
            (1, height, width, 3); the message names ``argument``.
    """
    import tensorflow as tf

    inputs = {"rgb": np.zeros((1, height, width, 3), np.float32),
              "landcover": np.zeros((1, height, width), np.int32)}
    if takes_mask:
        inputs["mask"] = np.zeros((1, height, width, 1), np.float32)
    try:
        shape = tuple(np.shape(call(**inputs)))
        problem = None if shape == (1, height, width, 3) else f"it gives output shape {shape}"
    except (tf.errors.OpError, ValueError, TypeError) as err:  # TypeError: a fixed input size
        message = err.message if isinstance(err, tf.errors.OpError) else str(err)
        problem = " ".join(message.strip().splitlines()[0].split())[:200]
    if problem:
        size = height if height == width else (height, width)
        raise ValueError(f"`{argument}`: the generator cannot run on {height} x {width} pixels "
                         f"({problem}). Received: {argument}={size}")
