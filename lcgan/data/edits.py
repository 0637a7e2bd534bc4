"""Landcover edits made from real maps, for training without paired targets (task ``"cycle"``).

Every builder takes a batch of real landcover maps ``lc`` (B, H, W) int and returns the edited
map ``lc_edit`` (B, H, W) int32 and the ``mask`` (B, H, W, 1) float32 of the area to re-render.
Like the builders of :mod:`lcgan.data.samples` they are pure batched TensorFlow with static
shapes, driven by stateless random ops from one ``seed``, so the same seed gives the same edits
on any device, inside ``tf.data`` or a ``tf.function`` train step.

Edit kinds (:data:`EDIT_KINDS`):

- ``"square"``: the landcover of a square of another map pasted in (:func:`pasted_square`,
  built on :func:`~lcgan.data.samples.mixed_square`, without its rgb);
- ``"transition"``: one connected region of one class changes class ("this field becomes
  forest", :func:`class_transition`): the pixels of the seed's class connected to a random seed
  pixel, inside a random blob around it (``region="blob"``) or its whole connected component
  (``region="component"``); connectivity is 4-neighbour;
- ``"shape"``: a requested class forced inside a random blob (:func:`forced_shape`).

The rules, the same for every kind:

- A **transition matrix** ``T`` (K, K) of non-negative weights says which class changes can be
  made and how often: the new class of a region whose class is ``i`` is drawn with probability
  ``T[i, j] / sum_j T[i, j]``. The diagonal is ignored (a transition changes the class). Default:
  every change equally likely (:func:`transition_matrix`).
- **Impossible transitions are never made**: a pixel of class ``i`` whose new class would be
  ``j != i`` with ``T[i, j] == 0`` keeps its class and its rgb (mask 0). A class whose row is all
  zero never changes, so it is never drawn as the seed of a transition or a shape.
- **IGNORE pixels are never edited and never written**: an unannotated pixel keeps IGNORE (mask
  0), and where a pasted square is IGNORE the pixel keeps its own class.
- **No ties**: the seed pixel is drawn uniformly among the eligible pixels (so a class is picked
  in proportion to its area), and the new class from the matrix row; nothing is decided by a
  maximum.
- The **mask** is the area re-rendered. Inside a square or a shape, pixels that already have the
  new class are re-rendered but keep their class; :func:`changed` gives the pixels whose class
  changed. Outside the mask ``lc_edit == lc``.
- A sample with nothing to edit (all IGNORE, or only classes that cannot change) gets an empty
  mask and ``lc_edit == lc``.

Example:
    >>> lc = tf.random.uniform([4, 64, 64], maxval=6, dtype=tf.int32)
    >>> out = landcover_edits(lc, num_classes=6, size=(16, 32), seed=0)
    >>> out["lc_edit"].shape, out["mask"].shape
    (TensorShape([4, 64, 64]), TensorShape([4, 64, 64, 1]))
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from lcgan.data.legend import IGNORE
from lcgan.data.tasks import EDIT_KINDS, REGIONS
from lcgan.data.samples import (_dims, _min_side, _partner_indices, _random_bits, _size_range, _split,
                                as_seed, mixed_square)
from lcgan.errors import DataError

_BLOB_HARMONICS = 3  # angular harmonics of a blob's outline
_BLOB_WOBBLE = 0.5  # the blob radius varies by up to this fraction along its outline


def transition_matrix(transitions, num_classes, *, names=None) -> np.ndarray:
    """Validate a class-transition specification; return the (K, K) float32 matrix.

    Args:
        transitions: None (every change equally likely), a (K, K) nested list or array of
            non-negative weights (row: class before, column: class after), or a dict
            ``{before: {after: weight}}`` keyed by class names (with ``names``) or ids, where
            ``"*"`` stands for every class and the most specific entry wins
            (``T[i][j]`` > ``T[i]["*"]`` > ``T["*"][j]`` > ``T["*"]["*"]``; missing: 0).
        num_classes: K.
        names: class names in id order, for the dict form.

    Returns:
        (K, K) float32 with a zero diagonal.

    Raises:
        ValueError: a matrix of the wrong shape, a negative or non-finite weight, an unknown
            class name or id, or no possible transition at all.

    Example:
        >>> transition_matrix({"*": {"*": 1, "water": 0}}, 3, names=["land", "water", "road"])
        array([[0., 0., 1.], [1., 0., 1.], [1., 0., 0.]], dtype=float32)
    """
    if transitions is None:
        matrix = np.ones((num_classes, num_classes))
    elif isinstance(transitions, dict):
        matrix = _matrix_from_dict(transitions, num_classes, names)
    else:
        matrix = np.asarray(transitions, dtype=np.float64)
        if matrix.shape != (num_classes, num_classes):
            raise ValueError(f"`transitions` must be a ({num_classes}, {num_classes}) matrix, one row "
                             f"and column per class. Received shape {matrix.shape}.")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        raise ValueError(f"`transitions` weights must be finite and >= 0. Received {matrix.tolist()}")
    np.fill_diagonal(matrix, 0.0)
    if not matrix.any():
        raise ValueError("`transitions` allows no class change (every off-diagonal weight is 0).")
    return matrix.astype(np.float32)


def _matrix_from_dict(spec, num_classes, names):
    lookup = {str(i): i for i in range(num_classes)}
    lookup.update({name: i for i, name in enumerate(names or ())})

    def ids(key):
        if key == "*":
            return list(range(num_classes))
        if str(key) not in lookup:
            raise ValueError(f"`transitions` names an unknown class {key!r}. Known: "
                             f"{sorted(lookup, key=str)} and '*'.")
        return [lookup[str(key)]]

    matrix = np.zeros((num_classes, num_classes))
    # Least specific first, so that more specific entries overwrite them.
    entries = [(before, after, weight) for before, row in spec.items() for after, weight in row.items()]
    for before, after, weight in sorted(entries, key=lambda e: (e[0] != "*") * 2 + (e[1] != "*")):
        matrix[np.ix_(ids(before), ids(after))] = float(weight)
    return matrix


def load_transitions(path, legend) -> np.ndarray:
    """Read a transition specification (see :func:`transition_matrix`) from a JSON file.

    Raises:
        DataError: the file is missing, not JSON, or not a valid specification for ``legend``
            (the message names the file).
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        return transition_matrix(spec, legend.num_classes, names=legend.names)
    except (OSError, json.JSONDecodeError, ValueError) as err:
        raise DataError(f"{path}: not a usable class-transition file: {err}") from err


def changed(lc, lc_edit, mask):
    """(B, H, W) bool: pixels inside ``mask`` whose class the edit changed."""
    return (mask[..., 0] > 0.5) & (tf.cast(lc, tf.int32) != tf.cast(lc_edit, tf.int32))


def pasted_square(lc, lc_other, *, size, transitions, seed=None) -> dict:
    """Paste the landcover of a square of ``lc_other`` into ``lc`` at the same place.

    Args:
        lc, lc_other: (B, H, W) int landcover.
        size: square side, an int or a (min, max) pair drawn per sample.
        transitions: (K, K) matrix from :func:`transition_matrix`; pasted pixels whose change
            it forbids keep their class (see the module's rules).
        seed: None, an int or a shape-(2,) int tensor.

    Returns:
        ``{"lc_edit": (B, H, W) int32, "mask": (B, H, W, 1) float32}``.
    """
    lc, lc_other = tf.cast(lc, tf.int32), tf.cast(lc_other, tf.int32)
    mixed = mixed_square(lc[..., None], lc, lc_other[..., None], lc_other, size=size, seed=seed)
    allowed = _allowed(lc, mixed["lc_ab"], _matrix(transitions))
    return _apply(lc, mixed["lc_ab"], (mixed["mask"][..., 0] > 0.5) & allowed)


def class_transition(lc, *, transitions, size, region="blob", seed=None) -> dict:
    """Change the class of one connected region of each map, drawn from ``transitions``.

    Args:
        lc: (B, H, W) int landcover.
        transitions: (K, K) matrix from :func:`transition_matrix`.
        size: blob diameter in pixels, an int or a (min, max) pair drawn per sample (unused
            with ``region="component"``).
        region: ``"blob"`` (the region's pixels inside a random blob around the seed) or
            ``"component"`` (the whole connected component of the seed).
        seed: None, an int or a shape-(2,) int tensor.

    Returns:
        ``{"lc_edit", "mask", "source": (B,) class before (IGNORE: no edit), "target": (B,)
        class after}``.
    """
    if region not in REGIONS:
        raise ValueError(f"`region` must be one of {REGIONS}. Received: {region!r}")
    lc = tf.cast(lc, tf.int32)
    start, source, target, blob = _seeded_blob(lc, _matrix(transitions), size, seed)
    inside = lc == source[:, None, None]
    if region == "blob":
        inside &= blob
    area = _flood(start, inside)
    out = _apply(lc, tf.broadcast_to(target[:, None, None], tf.shape(lc)), area)
    return {**out, "source": source, "target": target}


def forced_shape(lc, *, transitions, size, seed=None) -> dict:
    """Force a class inside a random blob of each map.

    The blob is centred on a seed pixel drawn like :func:`class_transition`'s, and the forced
    class is drawn from the matrix row of the seed's class; inside the blob, every pixel that may
    change to it (or already has it) gets it.

    Arguments and returns as :func:`class_transition` (``source`` is the seed's class).
    """
    lc = tf.cast(lc, tf.int32)
    matrix = _matrix(transitions)
    _, source, target, blob = _seeded_blob(lc, matrix, size, seed)
    new = tf.broadcast_to(target[:, None, None], tf.shape(lc))
    area = blob & _allowed(lc, new, matrix) & (source != IGNORE)[:, None, None]
    return {**_apply(lc, new, area), "source": source, "target": target}


def landcover_edits(lc, *, num_classes, kinds=EDIT_KINDS, transitions=None, size=None,
                    region="blob", seed=None) -> dict:
    """One edit per map, its kind drawn uniformly from ``kinds`` (see the module's rules).

    Args:
        lc: (B, H, W) int landcover; ``"square"`` edits paste from another map of the batch,
            so B >= 2 for them.
        num_classes: K.
        kinds: some of :data:`EDIT_KINDS`.
        transitions: anything :func:`transition_matrix` takes.
        size: square side / blob diameter, an int or (min, max); default (S/4, S/2) for
            S = min(H, W).
        region: ``"blob"`` or ``"component"`` for transition edits.
        seed: None, an int or a shape-(2,) int tensor.

    Returns:
        ``{"lc_edit": (B, H, W) int32, "mask": (B, H, W, 1) float32, "kind": (B,) int32 index
        into kinds}``.

    Raises:
        ValueError: unknown kinds, a bad matrix, a size larger than the map, or a square edit
            on a batch of one.
    """
    kinds = tuple(kinds)
    if not kinds or any(kind not in EDIT_KINDS for kind in kinds):
        raise ValueError(f"`kinds` must be some of {EDIT_KINDS}. Received: {kinds!r}")
    if region not in REGIONS:
        raise ValueError(f"`region` must be one of {REGIONS}. Received: {region!r}")
    lc = tf.cast(lc, tf.int32)
    batch, height, width = _dims(lc)
    if size is None:
        side = _min_side(lc, "size")
        size = (max(side // 4, 1), max(side // 2, 1))
    size = _size_range(size, "size", height, width)
    matrix = transition_matrix(transitions, num_classes)
    kind_seed, partner_seed, *edit_seeds = _split(as_seed(seed), 2 + len(EDIT_KINDS))
    edits = []
    for kind, edit_seed in zip(kinds, edit_seeds):
        if kind == "square":
            if isinstance(batch, int) and batch < 2:
                raise ValueError(f"'square' edits paste from another map of the batch, so the "
                                 f"batch size must be >= 2. Received: {batch}")
            other = tf.gather(lc, _partner_indices(tf.shape(lc)[0], partner_seed))
            edits.append(pasted_square(lc, other, size=size, transitions=matrix, seed=edit_seed))
        elif kind == "transition":
            edits.append(class_transition(lc, transitions=matrix, size=size, region=region,
                                          seed=edit_seed))
        else:
            edits.append(forced_shape(lc, transitions=matrix, size=size, seed=edit_seed))
    kind = tf.cast(_random_bits(tf.shape(lc)[:1], kind_seed) % len(kinds), tf.int32)  # (B,)
    pick = tf.one_hot(kind, len(kinds), on_value=True, off_value=False)  # (B, kinds)
    lc_edit, mask = lc, tf.zeros_like(edits[0]["mask"])
    for index, edit in enumerate(edits):
        chosen = pick[:, index]
        lc_edit = tf.where(chosen[:, None, None], edit["lc_edit"], lc_edit)
        mask = tf.where(chosen[:, None, None, None], edit["mask"], mask)
    return {"lc_edit": lc_edit, "mask": mask, "kind": kind}


def cycle_sample(rgb, ids, num_classes, seed, *, kinds, transitions, edit_size, region, fill_value):
    """Model-ready sample of task ``"cycle"`` (called by :func:`lcgan.data.samples.sample_builder`).

    Returns:
        dict with ``rgb`` (B, H, W, 3) the image with the mask filled with ``fill_value``,
        ``landcover`` (B, H, W) the edited ids and ``landcover_onehot`` their one-hot (K
        channels), ``mask`` (B, H, W, 1), ``target`` the original rgb (no paired target exists:
        the cycle gives it back) and ``landcover_before`` the original ids.
    """
    edit = landcover_edits(ids, num_classes=num_classes, kinds=kinds, transitions=transitions,
                           size=edit_size, region=region, seed=seed)
    mask = edit["mask"]
    blanked = rgb * (1.0 - mask) + tf.cast(fill_value, rgb.dtype) * mask  # (B, H, W, 3)
    return {"rgb": blanked, "landcover": edit["lc_edit"],
            "landcover_onehot": tf.one_hot(edit["lc_edit"], num_classes, dtype=tf.float32),
            "mask": mask, "target": rgb, "landcover_before": ids}


# --------------------------------------------------------------------------- helpers
def _matrix(transitions):
    """A validated (K, K) transition matrix as a float32 tensor."""
    shape = np.shape(transitions)
    if len(shape) != 2:
        raise ValueError(f"`transitions` must be a (K, K) matrix (see transition_matrix). "
                         f"Received shape {shape}.")
    return tf.constant(transition_matrix(transitions, shape[0]))


def _allowed(lc, new, matrix):
    """(B, H, W) bool: pixel may become ``new``: both annotated, and the same class or
    a change the matrix allows."""
    valid = (lc != IGNORE) & (new != IGNORE)
    weight = tf.gather_nd(matrix, tf.stack([tf.maximum(lc, 0), tf.maximum(new, 0)], axis=-1))
    return valid & ((lc == new) | (weight > 0))


def _apply(lc, new, area):
    """``{"lc_edit": where(area, new, lc), "mask": area as (B, H, W, 1) float32}``."""
    return {"lc_edit": tf.where(area, new, lc), "mask": tf.cast(area, tf.float32)[..., None]}


def _seeded_blob(lc, matrix, size, seed):
    """Draw each map's seed pixel, its class, the new class and a blob around the seed.

    Returns:
        start (B, H, W) bool (the seed pixel; all False when nothing is eligible), source (B,)
        int32 (IGNORE when nothing is eligible), target (B,) int32, blob (B, H, W) bool.
    """
    pixel_seed, target_seed, size_seed, noise_seed = _split(as_seed(seed), 4)
    batch, height, width = _dims(lc)
    size = _size_range(size, "size", height, width)
    num_classes = matrix.shape[0]
    row_mass = tf.reduce_sum(matrix, axis=1)  # (K,)
    eligible = (lc >= 0) & (lc < num_classes)
    eligible &= tf.gather(row_mass, tf.clip_by_value(lc, 0, num_classes - 1)) > 0
    flat = tf.reshape(eligible, [batch, -1])  # (B, H*W)
    score = tf.where(flat, _random_bits(tf.shape(flat), pixel_seed),
                     tf.constant(-1, tf.int64))  # uniform among the eligible pixels
    index = tf.argmax(score, axis=1, output_type=tf.int32)  # (B,)
    found = tf.reduce_any(flat, axis=1)
    start = tf.reshape(tf.one_hot(index, height * width, on_value=True, off_value=False)
                       & flat, tf.shape(lc))
    source = tf.where(found, tf.gather(tf.reshape(lc, [batch, -1]), index, batch_dims=1), IGNORE)
    target = _draw_class(tf.gather(matrix, tf.maximum(source, 0)), target_seed)
    diameter = tf.random.stateless_uniform([batch], size_seed, minval=size[0], maxval=size[1] + 1,
                                           dtype=tf.int32, alg="philox")
    center = tf.stack([index // width, index % width], axis=-1)  # (B, 2)
    return start, source, target, _blob(center, diameter, height, width, noise_seed)


def _draw_class(weights, seed):
    """(B, K) non-negative weights -> (B,) int32 class drawn in proportion to them."""
    unit = tf.cast(_random_bits(tf.shape(weights)[:1], seed), tf.float32) / 2.0 ** 32  # [0, 1)
    cumulative = tf.cumsum(weights, axis=1)  # (B, K)
    threshold = unit[:, None] * cumulative[:, -1:]
    picked = tf.reduce_sum(tf.cast(cumulative <= threshold, tf.int32), axis=1)
    return tf.minimum(picked, tf.shape(weights)[1] - 1)


def _blob(center, diameter, height, width, seed):
    """(B, H, W) bool random star-shaped blobs around ``center`` (B, 2).

    The radius along direction ``a`` is ``diameter / 2 * (1 + w * f(a))`` with ``f`` a random sum
    of the first :data:`_BLOB_HARMONICS` angular harmonics scaled into [-1, 1], so every blob is
    connected, holds its centre, and its outline wobbles by up to ``w`` = :data:`_BLOB_WOBBLE`.
    """
    batch = tf.shape(center)[0]
    coefficients = tf.cast(_random_bits(tf.stack([batch, 2, _BLOB_HARMONICS]), seed),
                           tf.float32) / 2.0 ** 31 - 1.0  # (B, 2, n) in [-1, 1)
    top, left = (tf.reshape(center[:, axis], [-1, 1, 1]) for axis in (0, 1))  # (B, 1, 1) each
    rows = tf.cast(tf.range(height)[None, :, None] - top, tf.float32)  # (B, H, 1)
    cols = tf.cast(tf.range(width)[None, None, :] - left, tf.float32)  # (B, 1, W)
    angle = tf.atan2(rows, cols)[..., None]  # (B, H, W, 1)
    order = tf.range(1, _BLOB_HARMONICS + 1, dtype=tf.float32)  # (n,)
    wave = (coefficients[:, None, None, 0] * tf.cos(order * angle)
            + coefficients[:, None, None, 1] * tf.sin(order * angle)) / order  # (B, H, W, n)
    wave = tf.reduce_sum(wave, axis=-1) / tf.reduce_sum(2.0 / order)  # (B, H, W) in [-1, 1]
    radius = tf.reshape(tf.cast(diameter, tf.float32), [-1, 1, 1]) / 2.0
    return tf.sqrt(rows ** 2 + cols ** 2) <= radius * (1.0 + _BLOB_WOBBLE * wave)


def _flood(start, allowed):
    """(B, H, W) bool: the pixels of ``allowed`` 4-connected to ``start`` inside ``allowed``."""
    inside = tf.cast(allowed, tf.float32)[..., None]  # (B, H, W, 1)
    region = tf.cast(start & allowed, tf.float32)[..., None]

    def grow(region, _):
        padded = tf.pad(region, [[0, 0], [1, 1], [1, 1], [0, 0]])
        neighbours = tf.reduce_max(tf.stack([padded[:, :-2, 1:-1], padded[:, 2:, 1:-1],
                                             padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]), axis=0)
        grown = tf.maximum(region, neighbours) * inside
        return grown, tf.reduce_any(grown != region)

    pixels = tf.size(start) // tf.maximum(tf.shape(start)[0], 1)
    region, _ = tf.while_loop(lambda region, growing: growing, grow, (region, tf.constant(True)),
                              maximum_iterations=pixels)
    return region[..., 0] > 0.5
