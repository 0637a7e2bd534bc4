"""One call from a tile source to a ready ``tf.data.Dataset`` of training samples.

source tiles -> (repeat) -> shuffle -> random crop -> identical flips/rotations of rgb and
landcover -> rgb to [-1, 1] -> batch -> :func:`~lcgan.data.samples.build_samples` -> prefetch.

Every random choice but the tile order is a stateless op keyed by ``seed`` and the position in the
stream (tile or batch index). The tile order is ``tf.data``'s shuffle with ``seed``, which
TensorFlow combines with its global seed when one is set (``tf.random.set_seed``,
``keras.utils.set_random_seed``; :func:`lcgan.train` sets it to the run's seed). So the same seed
under the same global seed (or none) gives the same batches, whatever the parallelism.

Example:
    >>> from lcgan.data import make_dataset, sample_source
    >>> dataset = make_dataset(sample_source(), task="mixlc", image_size=256, batch_size=8,
    ...                        square_size=(64, 128))
    >>> batch = next(iter(dataset))  # rgb, landcover, landcover, mask, target
"""

from __future__ import annotations

import random

import tensorflow as tf

from lcgan.data.samples import sample_builder
from lcgan.errors import plain_traced_errors
from lcgan.images import to_unit


def make_dataset(source, *, task, image_size, batch_size, seed=0, num_classes=None, augment=True,
                 shuffle_buffer=64, repeat=True, build=True, cache=False, start=0,
                 **task_options) -> tf.data.Dataset:
    """Build the training pipeline of ``task`` from a tile source.

    Args:
        source: a :class:`~lcgan.data.sources.TileSource` (anything with ``as_dataset()`` and,
            unless ``num_classes`` is given, ``legend``).
        task: ``"mixlc"`` or ``"inpaint"`` (see :func:`~lcgan.data.samples.sample_builder`).
        image_size: side of the square training crops, in pixels. Every tile must be at least
            this large.
        batch_size: samples per batch (the last partial batch is dropped; mixlc needs >= 2).
        seed: an int, or None for a different stream on every call (the tile order also follows
            TensorFlow's global seed when one is set: see the module docstring).
        num_classes: depth of the one-hot landcover (default ``source.legend.num_classes``).
        augment: apply a random flip and a random multiple of 90 degrees rotation, identical for
            rgb and landcover.
        shuffle_buffer: tiles held by the shuffle buffer.
        repeat: cycle over the source forever.
        build: deliver model-ready samples; False delivers raw batches
            ``{"rgb": (B, S, S, 3) float32 in [-1, 1], "landcover": (B, S, S) int32}`` so
            that a train step builds the samples on the accelerator with
            ``sample_builder(task, num_classes=..., **task_options)``.
        cache: keep the decoded tiles in memory after the first pass (for small sources such
            as the bundled sample, about 3.5 MB per 800 x 650 tile; decoding is the slowest stage).
        start: the stream begins at its batch ``start`` (the same batches that ``start=0``
            gives from there on), so that a resumed run continues an uninterrupted one's data.
            The tiles of the skipped batches are read (from the cache when ``cache``), not
            cropped or built.
        **task_options: options of ``task`` (validated even when ``build`` is False).

    Returns:
        ``tf.data.Dataset`` of dicts with static shapes: model-ready (``rgb``, ``landcover``
        one-hot, ``landcover``, ``mask``, ``target``; see
        :func:`~lcgan.data.samples.build_samples`) or raw batches.

    Raises:
        ValueError: bad ``task``, task option, ``image_size``, ``batch_size``, ``seed`` or
            ``start``, or a square/patch larger than ``image_size`` (raised here, not in tf.data).
        tf.errors.InvalidArgumentError: while iterating, when a tile is smaller than
            ``image_size`` (the message names ``image_size`` and gives the tile's size).
    """
    if num_classes is None:
        num_classes = source.legend.num_classes
    builder = sample_builder(task, num_classes=num_classes, **task_options)
    for name, value, least in (("image_size", image_size, 1), ("batch_size", batch_size, 1),
                               ("shuffle_buffer", shuffle_buffer, 1), ("start", start, 0)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"`{name}` must be an int >= {least}. Received: {value!r}")
    if task == "mixlc" and batch_size < 2:
        raise ValueError(f"Task 'mixlc' pairs each sample with another one of its batch, so "
                         f"`batch_size` must be >= 2. Received: {batch_size}")
    if seed is None:
        seed = random.getrandbits(31)
    if not isinstance(seed, int):
        raise ValueError(f"`seed` must be an int or None. Received: {seed!r}")
    tile_seed, batch_seed = tf.unstack(tf.random.experimental.stateless_split([seed, 0], 2))

    def prepare(index, tile):
        key = tf.random.experimental.stateless_fold_in(tile_seed, index)
        return _crop_and_augment(tile, image_size, key, augment)

    def build_batch(index, batch):
        return builder(batch, tf.random.experimental.stateless_fold_in(batch_seed, index))

    dataset = source.as_dataset()
    if cache:
        dataset = dataset.cache()
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.shuffle(shuffle_buffer, seed=seed).enumerate().skip(start * batch_size)
    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    with plain_traced_errors():  # a bad option is found while tracing: raise its own message
        if build:
            dataset = dataset.enumerate(start).map(build_batch, num_parallel_calls=tf.data.AUTOTUNE)
        else:  # trace once so that options that depend on the crop size are checked now
            tf.function(builder).get_concrete_function(dataset.element_spec,
                                                       tf.TensorSpec([2], tf.int64))
    return dataset.prefetch(tf.data.AUTOTUNE)


def _crop_and_augment(tile, image_size, seed, augment):
    """One tile -> ``{"rgb": (S, S, 3) float32 in [-1, 1], "landcover": (S, S) int32}``."""
    # rgb and landcover travel as one (H, W, 4) tensor so they get the very same crop and moves.
    landcover = tf.cast(tile["landcover"], tf.int32)[..., None]
    stack = tf.concat([tf.cast(tile["rgb"], tf.int32), landcover], axis=-1)  # (H, W, 4)
    tile_shape = tf.shape(stack)[:2]
    check = tf.debugging.assert_greater_equal(
        tile_shape, image_size,
        message=f"`image_size` {image_size} is larger than a tile of the source; every tile "
                f"must be at least {image_size} x {image_size}. Tile (height, width):")
    crop_seed, flip_seed, turn_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    with tf.control_dependencies([check]):
        stack = tf.image.stateless_random_crop(stack, [image_size, image_size, 4], crop_seed)
    if augment:  # a flip and 0-3 quarter turns: all 8 symmetries of the square, equally likely
        stack = tf.image.stateless_random_flip_left_right(stack, flip_seed)
        turns = tf.random.stateless_uniform([], turn_seed, minval=0, maxval=4, dtype=tf.int32)
        stack = tf.ensure_shape(tf.image.rot90(stack, turns), [image_size, image_size, 4])
    rgb = to_unit(stack[..., :3])  # (S, S, 3) in [-1, 1]
    return {"rgb": rgb, "landcover": stack[..., 3]}
