"""TF decoding of folder tiles: image/mask files to landcover ids, and windows of a tile.

The tf.data path of :class:`~lcgan.data.sources.FolderSource`; it gives the very tiles that its
PIL path gives, and raises the same LegendError (through a ``tf.numpy_function``).
"""

from __future__ import annotations

import numpy as np

from lcgan.data.legend import IGNORE, Legend, pack_rgb


def window_splitter(window):
    """TF function: a tile dict -> dataset of its grid windows (as :meth:`~lcgan.data.sources.FolderSource.tiles`)."""
    import tensorflow as tf

    def offsets(length, size):  # tf twin of grid.window_offsets(length, size, size)
        count = tf.maximum(-(-(length - size) // size), 0) + 1
        return tf.minimum(tf.range(count) * size, tf.maximum(length - size, 0))

    def split(tile):
        shape = tf.shape(tile["landcover"])
        rows, cols = tf.meshgrid(offsets(shape[0], window[0]), offsets(shape[1], window[1]),
                                 indexing="ij")
        starts = tf.stack([tf.reshape(rows, [-1]), tf.reshape(cols, [-1])], axis=1)  # (N, 2)
        return tf.data.Dataset.from_tensor_slices(starts).map(lambda start: {
            name: value[start[0]:start[0] + window[0], start[1]:start[1] + window[1]]
            for name, value in tile.items()})

    return split


def lookup_table(keys, ignore_keys) -> tuple[np.ndarray, np.ndarray]:
    """Sorted int32 ``(keys, ids)``: ``keys[i]`` -> id ``i``, each of ``ignore_keys`` -> IGNORE.

    Keys that no mask pixel can hold (outside ``0 .. 2**24 - 1``) become -1, which matches nothing.
    """
    keys = list(keys) + [int(key) for key in ignore_keys]
    ids = list(range(len(keys) - len(ignore_keys))) + [IGNORE] * len(ignore_keys)
    keys = np.asarray(keys, np.int64)
    keys = np.where((keys >= 0) & (keys < 2**24), keys, -1)
    order = np.argsort(keys, kind="stable")
    return keys[order].astype(np.int32), np.asarray(ids, np.int32)[order]


def pair_decoder(legend: Legend, color_threshold=None):
    """TF function ``(image path, mask path, is JPEG, colour mask, 16-bit mask)`` -> tile dict.

    Colour masks are binarised at ``color_threshold`` (if given), packed to
    ``r * 65536 + g * 256 + b`` codes, and index masks read as raw values; both are mapped to
    ids by a sorted-table search. If a code is not in the legend, the Legend method that the PIL
    path uses runs in a ``tf.numpy_function`` and raises its LegendError (naming the mask
    file), which stops the iteration with that message.
    """
    import tensorflow as tf

    color_table = lookup_table(pack_rgb(legend.palette),
                                [pack_rgb(np.array(color)) for color in legend.ignore_colors])
    value_table = lookup_table([c.value for c in legend.classes],
                                [] if legend.ignore_value is None else [legend.ignore_value])

    def lookup(codes, table, explain, mask, mask_path):  # codes (H, W) int32 -> ids (H, W)
        keys, ids = tf.constant(table[0]), tf.constant(table[1])
        flat = tf.reshape(codes, [1, -1])  # (1, H * W)
        pos = tf.minimum(tf.searchsorted(keys[None], flat)[0], len(table[0]) - 1)
        return tf.cond(
            tf.reduce_all(tf.gather(keys, pos) == flat[0]),
            lambda: tf.reshape(tf.gather(ids, pos), tf.shape(codes)),
            lambda: tf.numpy_function(lambda m, p: explain(m, source=p.decode()),
                                      [mask, mask_path], tf.int32, stateful=False))

    def from_colors(mask, mask_path):
        mask_rgb = tf.io.decode_png(mask, channels=3)  # (H, W, 3); palettes expand to colours
        if color_threshold is not None:
            mask_rgb = tf.where(mask_rgb >= color_threshold, tf.constant(255, tf.uint8),
                                tf.constant(0, tf.uint8))
        rgb = tf.cast(mask_rgb, tf.int32)
        codes = rgb[..., 0] * 65536 + rgb[..., 1] * 256 + rgb[..., 2]
        return lookup(codes, color_table, legend.ids_from_colors, mask_rgb, mask_path)

    def from_values(mask, mask_path, bits16):
        raw = tf.cond(bits16, lambda: tf.io.decode_png(mask, channels=1, dtype=tf.uint16),
                      lambda: tf.cast(tf.io.decode_png(mask, channels=1), tf.uint16))
        raw = raw[..., 0]  # (H, W)
        return lookup(tf.cast(raw, tf.int32), value_table, legend.ids_from_values, raw, mask_path)

    def decode(image_path, mask_path, is_jpeg, colors, bits16):
        image, mask = tf.io.read_file(image_path), tf.io.read_file(mask_path)
        rgb = tf.cond(  # PIL decodes JPEGs with the accurate integer DCT too: same bytes
            is_jpeg, lambda: tf.io.decode_jpeg(image, channels=3, dct_method="INTEGER_ACCURATE"),
            lambda: tf.io.decode_png(image, channels=3))
        landcover = tf.cond(colors, lambda: from_colors(mask, mask_path),
                            lambda: from_values(mask, mask_path, bits16))
        return {"rgb": tf.ensure_shape(rgb, [None, None, 3]),
                "landcover": tf.ensure_shape(landcover, [None, None])}

    return decode
