"""Training samples built from whole batches with TF ops: mixed squares and masked classes.

Both builders are pure TensorFlow on batched tensors (no per-sample Python, no ``py_function``),
keep static shapes, and take a ``seed`` (None, a Python int, or a shape-(2,) int tensor) that
drives stateless random ops only, so the same seed gives the same samples on any device, with or
without XLA. They run inside a ``tf.data`` ``map`` after ``batch`` as well as inside a
``tf.function`` train step (``jit_compile=True`` included: on a CPU, XLA fuses each builder into a
few loops and runs it 2-3x faster).

- :func:`mixed_square` ("mix LC"): sample A with a square taken from sample B at the same place,
  in both rgb and landcover.
- :func:`masked_class` ("inpaint the most common class"): in a few random patches per sample,
  remove the pixels of the class that is most common inside the patch.
- :func:`sample_builder` / :func:`build_samples` turn a raw batch
  ``{"rgb": (B, H, W, 3) float32 in [-1, 1], "landcover": (B, H, W) int32}`` into the
  model-ready dict ``rgb``, ``landcover`` (one-hot), ``landcover``, ``mask``, ``target``.

Example:
    >>> batch = {"rgb": tf.zeros([4, 64, 64, 3]), "landcover": tf.zeros([4, 64, 64], tf.int32)}
    >>> sample = build_samples(batch, task="mixlc", num_classes=6, seed=1, square_size=(16, 32))
    >>> sample["landcover_onehot"].shape
    TensorShape([4, 64, 64, 6])
"""

from __future__ import annotations

import math
import numbers

import tensorflow as tf

from lcgan.data.legend import IGNORE
from lcgan.data.tasks import TASK_OPTIONS, TASKS  # noqa: F401  (TASKS: part of this API)


_ALG = "philox"
"""Stateless RNG algorithm, fixed so that eager, ``tf.function`` and XLA (``jit_compile=True``)
runs draw the same squares and patches from the same seed ("auto_select" differs under XLA)."""


def as_seed(seed) -> tf.Tensor:
    """Normalise a ``seed`` argument to a shape-(2,) int64 tensor for stateless random ops.

    Args:
        seed: None (draws a fresh random seed), a Python int, or a shape-(2,) int tensor such as
            ``keras.random.SeedGenerator(...).next()``.

    Raises:
        ValueError: ``seed`` is a tensor whose static shape is not (2,).
    """
    if seed is None:
        return tf.random.uniform([2], maxval=tf.int64.max, dtype=tf.int64)
    if isinstance(seed, int):
        return tf.constant([seed, 0], dtype=tf.int64)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank is not None and seed.shape.as_list() != [2]:
        raise ValueError(f"`seed` must be None, an int or a shape-(2,) int tensor. "
                         f"Received a tensor of shape {seed.shape}.")
    return tf.cast(seed, tf.int64)


def mixed_square(rgb_a, lc_a, rgb_b, lc_b, *, size, centered=False, seed=None) -> dict:
    """Paste a square of B into A at the same place, in rgb and landcover alike.

    Args:
        rgb_a, rgb_b: (B, H, W, C) images (any dtype, usually float32 in [-1, 1]).
        lc_a, lc_b: (B, H, W) int landcover ids.
        size: side of the square in pixels: an int, or a ``(min, max)`` pair (inclusive) drawn
            per sample.
        centered: put the square in the middle of the image instead of at a random position
            (drawn per sample).
        seed: None, an int or a shape-(2,) int tensor (see :func:`as_seed`).

    Returns:
        dict with ``rgb_ab`` (B, H, W, C) of rgb's dtype, ``lc_ab`` (B, H, W) int32 and ``mask``
        (B, H, W, 1) float32, 1 inside the pasted square.

    Raises:
        ValueError: the square is larger than the image, or A and B have different shapes.

    Example:
        >>> out = mixed_square(rgb, lc, tf.roll(rgb, 1, 0), tf.roll(lc, 1, 0), size=(8, 16), seed=3)
        >>> out["mask"].shape
        TensorShape([4, 64, 64, 1])
    """
    rgb_a, rgb_b = tf.convert_to_tensor(rgb_a), tf.convert_to_tensor(rgb_b)
    lc_a, lc_b = tf.cast(lc_a, tf.int32), tf.cast(lc_b, tf.int32)
    for name, a, b in (("rgb", rgb_a, rgb_b), ("lc", lc_a, lc_b)):
        if not a.shape.is_compatible_with(b.shape):
            raise ValueError(f"`{name}_a` and `{name}_b` must have the same shape. "
                             f"Received: {a.shape} and {b.shape}.")
    batch, height, width = _dims(lc_a)
    side_range = _size_range(size, "size", height, width)
    top, left, side = _random_squares(as_seed(seed), batch, 1, side_range, height, width, centered)
    in_rows, in_cols = _spans(top, side, height)[:, 0], _spans(left, side, width)[:, 0]  # (B, H/W)
    # Built in 4-D: XLA gives `inside[..., None]` of a (B, H, W) mask a transposed layout and
    # then copies the whole mask back before returning it (about 10% of the builder's time).
    inside = in_rows[:, :, None, None] & in_cols[:, None, :, None]  # (B, H, W, 1)
    return {
        "rgb_ab": _paste_square(in_rows, in_cols, rgb_b, rgb_a),
        "lc_ab": _paste_square(in_rows, in_cols, lc_b, lc_a),
        "mask": tf.cast(inside, tf.float32),
    }


def masked_class(rgb, lc, *, num_patches, patch_size, seed=None, exclude_classes=(),
                 fill_value=0.0, num_classes=None) -> dict:
    """Remove, in random patches, the pixels of each patch's most common class.

    Rules: IGNORE (-1) pixels (and ids outside ``0..num_classes-1``) are never counted and never
    masked; ties go to the lowest class id; classes in ``exclude_classes`` are never chosen (the
    most common of the remaining classes is masked instead); a patch without any eligible pixel
    masks nothing. Patches may overlap; the mask is the union over patches.

    Args:
        rgb: (B, H, W, C) images.
        lc: (B, H, W) int landcover ids.
        num_patches: patches per sample (>= 1).
        patch_size: side of the square patches: an int or a ``(min, max)`` pair (inclusive).
        seed: None, an int or a shape-(2,) int tensor (see :func:`as_seed`).
        exclude_classes: class ids that are never masked.
        fill_value: value written into ``rgb_masked`` where the mask is 1.
        num_classes: number of classes; default ``max(lc) + 1`` of the batch.

    Returns:
        dict with ``rgb_masked`` (B, H, W, C), ``mask`` (B, H, W, 1) float32 (1 = removed),
        ``boxes`` (B, P, 4) int32 patches as ``(top, left, bottom, right)`` (end exclusive) and
        ``classes`` (B, P) int32 class masked in each patch (IGNORE when none).

    Raises:
        ValueError: a patch is larger than the image, ``num_patches`` < 1, or a bad class id in
            ``exclude_classes``.

    Example:
        >>> out = masked_class(rgb, lc, num_patches=3, patch_size=16, seed=0, exclude_classes=[0])
        >>> out["rgb_masked"].shape
        TensorShape([4, 64, 64, 3])
    """
    rgb, lc = tf.convert_to_tensor(rgb), tf.cast(lc, tf.int32)
    batch, height, width = _dims(lc)
    side_range = _size_range(patch_size, "patch_size", height, width)
    if not isinstance(num_patches, int) or num_patches < 1:
        raise ValueError(f"`num_patches` must be an int >= 1. Received: {num_patches!r}")
    exclude_classes = [int(c) for c in exclude_classes]
    if any(c < 0 or (num_classes is not None and c >= num_classes) for c in exclude_classes):
        raise ValueError(f"`exclude_classes` must be class ids >= 0 and < `num_classes` "
                         f"{num_classes}. Received: {exclude_classes}")
    if num_classes is None:
        num_classes = tf.maximum(tf.reduce_max(lc) + 1, 1)
    top, left, side = _random_squares(as_seed(seed), batch, num_patches, side_range, height, width,
                                      centered=False)
    in_rows = _spans(top, side, height)  # (B, P, H)
    in_cols = _spans(left, side, width)  # (B, P, W)

    # Per-patch class counts as two contractions (a batched matmul, then a weighted sum).
    one_hot = tf.one_hot(lc, num_classes)  # (B, H, W, K); IGNORE and ids >= K -> zeros
    per_row = tf.matmul(tf.cast(in_rows, tf.float32), tf.reshape(one_hot, [batch, height, -1]))
    per_row = tf.reshape(per_row, [batch, num_patches, width, -1])  # (B, P, W, K)
    counts = tf.einsum("bpwk,bpw->bpk", per_row, tf.cast(in_cols, tf.float32))  # exact integers
    class_ids = tf.range(tf.shape(counts)[-1])  # (K,)
    if exclude_classes:
        excluded = tf.constant(exclude_classes)[None, :]  # (1, E)
        eligible = tf.reduce_all(class_ids[:, None] != excluded, axis=1)  # (K,)
        counts = tf.where(eligible, counts, 0.0)
    best = tf.reduce_max(counts, axis=-1, keepdims=True)  # (B, P, 1)
    found = best[..., 0] > 0  # (B, P)
    # Lowest id among the classes reaching the maximum (tf.argmax leaves ties unspecified).
    winner = tf.reduce_min(tf.where(counts == best, class_ids, tf.shape(counts)[-1]), axis=-1)
    winner = tf.where(found, winner, IGNORE)  # (B, P); IGNORE: nothing masked

    # Pixels to remove: M[b, h, w, k] counts the patches over (h, w) that mask class k.
    winner_hot = tf.one_hot(winner, num_classes)[:, :, None]  # (B, P, 1, K); IGNORE -> zeros
    cols_by_class = tf.cast(in_cols, tf.float32)[..., None] * winner_hot  # (B, P, W, K)
    rows_t = tf.transpose(tf.cast(in_rows, tf.float32), [0, 2, 1])  # (B, H, P)
    by_class = tf.matmul(rows_t, tf.reshape(cols_by_class, [batch, num_patches, -1]))  # (B, H, W*K)
    by_class = tf.reshape(by_class, _shape(one_hot))  # (B, H, W, K)
    removed = tf.reduce_sum(by_class * one_hot, axis=-1, keepdims=True) > 0  # (B, H, W, 1)
    # Broadcasting over the 3 channels is slow on CPUs; a rank-1 matmul expands the mask instead.
    keep = tf.matmul(1.0 - tf.cast(removed, rgb.dtype), tf.ones([1, rgb.shape[-1]], rgb.dtype))
    return {
        "rgb_masked": rgb * keep + tf.cast(fill_value, rgb.dtype) * (1.0 - keep),
        "mask": tf.cast(removed, tf.float32),
        "boxes": tf.stack([top, left, top + side, left + side], axis=-1),
        "classes": winner,
    }


def sample_builder(task, *, num_classes, **task_options):
    """Validate a task and its options once; return ``build(batch, seed=None) -> dict``.

    The returned callable is what :func:`build_samples` runs; pass it as a train step's sample
    builder when the pipeline delivers raw batches (``make_dataset(..., build=False)``).

    Args:
        task: ``"mixlc"`` (options ``square_size`` int or (min, max), default (S/4, S/2) for
            S = min(H, W); ``centered``; ``variant`` ``"a"`` feeds rgb_a, ``"b"`` feeds rgb_b) or
            ``"inpaint"`` (options ``num_patches`` default 3; ``patch_size`` default S/4;
            ``exclude_classes``; ``fill_value``) or ``"cycle"`` (landcover edits without a
            paired target, :mod:`lcgan.data.edits`: ``kinds``, ``transitions`` matrix,
            ``edit_size`` default (S/4, S/2), ``region``, ``fill_value``).
        num_classes: depth of the one-hot ``landcover_onehot``.
        **task_options: see above and :data:`TASK_OPTIONS`.

    Raises:
        ValueError: unknown task or option, bad ``variant`` or ``num_classes``.
    """
    if task not in TASK_OPTIONS:
        raise ValueError(f"`task` must be one of {sorted(TASK_OPTIONS)}. Received: {task!r}")
    unknown = sorted(set(task_options) - set(TASK_OPTIONS[task]))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for task {task!r}. "
                         f"Expected some of {sorted(TASK_OPTIONS[task])}.")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"`num_classes` must be an int >= 1. Received: {num_classes!r}")
    options = {**TASK_OPTIONS[task], **task_options}
    if task == "mixlc" and options["variant"] not in ("a", "b"):
        raise ValueError(f"`variant` must be 'a' or 'b'. Received: {options['variant']!r}")
    if task == "cycle":  # edits.py builds on this module, so it is imported when asked for
        from lcgan.data.edits import cycle_sample as make
    else:
        make = _mixlc_sample if task == "mixlc" else _inpaint_sample

    def build(batch, seed=None):
        missing = sorted({"rgb", "landcover"} - set(batch))
        if missing:
            raise ValueError(f"`batch` must have keys 'rgb' and 'landcover'. "
                             f"Missing: {missing}")
        rgb = tf.convert_to_tensor(batch["rgb"], tf.float32)  # (B, H, W, 3)
        ids = tf.cast(batch["landcover"], tf.int32)  # (B, H, W)
        return make(rgb, ids, num_classes, as_seed(seed), **options)

    return build


def build_samples(batch, *, task, num_classes, seed=None, **task_options) -> dict:
    """Raw batch -> model-ready dict for ``task`` (see :func:`sample_builder` for the options).

    Args:
        batch: ``{"rgb": (B, H, W, 3) float32 in [-1, 1], "landcover": (B, H, W) int32}``.
        task: ``"mixlc"`` or ``"inpaint"``.
        num_classes: depth of the one-hot ``landcover_onehot``.
        seed: None, an int or a shape-(2,) int tensor (see :func:`as_seed`).

    Returns:
        dict with ``rgb`` (B, H, W, 3) generator input (mixlc: rgb_a, or rgb_b with variant "b";
        inpaint: masked rgb), ``landcover_onehot`` (B, H, W, K) float32 one-hot of ``landcover``
        (B, H, W) int32 (mixlc: lc_ab; inpaint: the full landcover), ``mask`` (B, H, W, 1)
        float32 (1 = replaced/removed), ``target`` (B, H, W, 3) (mixlc: rgb_ab; inpaint: the
        original rgb) and ``landcover_before`` (B, H, W) int32, the landcover of the rgb input
        before the edit (mixlc: lc_a, or lc_b with variant "b"; inpaint: ``landcover`` itself),
        with which the evaluation tells whether edited pixels still show the original class.

    Raises:
        ValueError: bad task/options, a mixlc batch smaller than 2, or a square/patch larger
            than the image.

    Example:
        >>> sample = build_samples(batch, task="inpaint", num_classes=6, seed=0, patch_size=16)
        >>> sorted(sample)
        ['landcover', 'landcover_before', 'landcover_onehot', 'mask', 'rgb', 'target']
    """
    return sample_builder(task, num_classes=num_classes, **task_options)(batch, seed)


def _mixlc_sample(rgb, ids, num_classes, seed, *, square_size, centered, variant):
    batch = rgb.shape[0]
    if batch is not None and batch < 2:
        raise ValueError(f"Task 'mixlc' pairs each sample with another one of its batch, so the "
                         f"batch size must be >= 2. Received: {batch}")
    partner_seed, square_seed = _split(seed, 2)
    partner = _partner_indices(tf.shape(ids)[0], partner_seed)  # (B,)
    rgb_b, ids_b = tf.gather(rgb, partner), tf.gather(ids, partner)
    if square_size is None:
        side = _min_side(ids, "square_size")
        square_size = (max(side // 4, 1), max(side // 2, 1))
    square_size = _size_range(square_size, "square_size", ids.shape[1], ids.shape[2])
    mixed = mixed_square(rgb, ids, rgb_b, ids_b, size=square_size, centered=centered,
                         seed=square_seed)
    return _model_ready(rgb if variant == "a" else rgb_b, mixed["lc_ab"], mixed["mask"],
                        mixed["rgb_ab"], num_classes, before=ids if variant == "a" else ids_b)


def _inpaint_sample(rgb, ids, num_classes, seed, *, num_patches, patch_size, exclude_classes,
                    fill_value):
    if patch_size is None:
        patch_size = max(_min_side(ids, "patch_size") // 4, 1)
    masked = masked_class(rgb, ids, num_patches=num_patches, patch_size=patch_size, seed=seed,
                          exclude_classes=exclude_classes, fill_value=fill_value,
                          num_classes=num_classes)
    return _model_ready(masked["rgb_masked"], ids, masked["mask"], rgb, num_classes, before=ids)


def _model_ready(rgb, ids, mask, target, num_classes, *, before):
    return {"rgb": rgb, "landcover_onehot": tf.one_hot(ids, num_classes, dtype=tf.float32),
            "landcover": ids, "mask": mask, "target": target, "landcover_before": before}


def _partner_indices(batch, seed):
    """Random permutation of ``range(batch)`` without fixed points, shape (B,) int32.

    Shuffle the batch, then pair each sample with the one ``shift`` places later in the shuffled
    order, for a ``shift`` in 1..B-1: never the sample itself, every sample used exactly once.
    """
    order_seed, shift_seed = _split(seed, 2)
    order = tf.argsort(_random_bits([batch], order_seed))  # random permutation
    shift = tf.random.stateless_uniform([], shift_seed, minval=1, maxval=batch, dtype=tf.int32,
                                        alg=_ALG)
    rank = tf.argsort(order)  # rank[i]: position of sample i in `order`
    return tf.gather(order, (rank + shift) % batch)


def _random_squares(seed, batch, count, side_range, height, width, centered):
    """Random squares inside an (H, W) image: ``top``, ``left``, ``side``, each (B, count) int32."""
    side_seed, row_seed, col_seed = _split(seed, 3)
    shape = tf.stack([batch, count])
    side = tf.random.stateless_uniform(shape, side_seed, minval=side_range[0],
                                       maxval=side_range[1] + 1, dtype=tf.int32, alg=_ALG)
    if centered:
        return (height - side) // 2, (width - side) // 2, side

    def offset(op_seed, room):  # integer in [0, room) per square (bias < room / 2**32)
        return tf.cast(_random_bits(shape, op_seed) % tf.cast(room, tf.int64), tf.int32)

    return offset(row_seed, height - side + 1), offset(col_seed, width - side + 1), side


def _split(seed, count):
    """``count`` independent seeds, each shape (2,), derived from one shape-(2,) ``seed``."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, count, alg=_ALG))


def _random_bits(shape, seed):
    """Uniform int64 in [0, 2**32) from 32 random bits. Unlike float draws, these match
    bit for bit between TF kernels and XLA."""
    bits = tf.random.stateless_uniform(shape, seed, minval=None, maxval=None, dtype=tf.uint32,
                                       alg=_ALG)
    return tf.cast(bits, tf.int64)


def _paste_square(in_rows, in_cols, inside, outside):
    """``where(square, inside, outside)`` for (B, H, W, ...) tensors, the square given by its
    (B, H) row and (B, W) column spans.

    Selects on a (B, H, W * C) view: broadcasting over a small channel axis is slow on CPUs.
    """
    channels = math.prod(inside.shape[3:])
    square = in_rows[:, :, None] & tf.repeat(in_cols, channels, axis=-1)[:, None, :]  # (B, H, W*C)
    flat = _shape(inside)[:2] + [-1]
    pasted = tf.where(square, tf.reshape(inside, flat), tf.reshape(outside, flat))
    return tf.reshape(pasted, _shape(inside))


def _shape(x):
    """Shape of ``x`` as a list: static ints where known, else scalar tensors."""
    dynamic = tf.shape(x)
    return [dynamic[i] if n is None else n for i, n in enumerate(x.shape.as_list())]


def _spans(start, side, length):
    """(B, P) intervals -> (B, P, length) bool, True on ``start <= i < start + side``."""
    coords = tf.range(length)
    return (coords >= start[..., None]) & (coords < (start + side)[..., None])


def _dims(lc):
    """(B, H, W) of a landcover batch: static ints where known, else scalar tensors."""
    if lc.shape.rank != 3:
        raise ValueError(f"Landcover must be a (B, H, W) batch of ids. Received shape {lc.shape}.")
    return tuple(_shape(lc))


def _min_side(ids, name):
    height, width = ids.shape[1], ids.shape[2]
    if height is None or width is None:
        raise ValueError(f"Pass `{name}` explicitly when the image size is not static. "
                         f"Received a batch of shape {ids.shape}.")
    return min(height, width)


def _size_range(size, name, height, width):
    """``size`` int or (min, max) -> validated (min, max) against a static (H, W)."""
    pair = (size, size) if isinstance(size, numbers.Integral) else tuple(size)
    if (len(pair) != 2 or not all(isinstance(s, numbers.Integral) for s in pair)
            or not 1 <= pair[0] <= pair[1]):
        raise ValueError(f"`{name}` must be an int >= 1 or a (min, max) pair of ints with "
                         f"1 <= min <= max. Received: {size!r}")
    static = [n for n in (height, width) if isinstance(n, int)]
    if static and pair[1] > min(static):
        raise ValueError(f"`{name}` must be <= the image size {min(static)}. Received: {size!r}")
    return int(pair[0]), int(pair[1])
