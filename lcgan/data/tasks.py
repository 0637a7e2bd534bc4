"""lcgan's tasks and their sample options, defined once (no TensorFlow import: the CLI reads it)."""

EDIT_KINDS = ("square", "transition", "shape")
"""Landcover edits of task ``"cycle"`` (see :mod:`lcgan.data.edits`)."""

REGIONS = ("blob", "component")
"""Regions of a ``"transition"`` edit: inside a random blob, or the whole connected component."""

TASK_OPTIONS = {
    "mixlc": {"square_size": None, "centered": False, "variant": "a"},
    "inpaint": {"num_patches": 3, "patch_size": None, "exclude_classes": (), "fill_value": 0.0},
    "cycle": {"kinds": EDIT_KINDS, "transitions": None, "edit_size": None, "region": "blob",
              "fill_value": 0.0},
}
"""Tasks of :func:`build_samples`, their options and defaults (None: set from the image size)."""

BLANKED_TASKS = ("inpaint", "cycle")
"""Tasks whose samples blank the generator's rgb inside the mask (``fill_value``); scene editing
blanks the changed area of such exports the same way."""

TASKS = tuple(TASK_OPTIONS)
"""The names of lcgan's tasks, defined here once (``"mixlc"``, ``"inpaint"``, ``"cycle"``)."""
