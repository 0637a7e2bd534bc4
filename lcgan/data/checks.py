"""Tile sources checked before training, and the errors TF raises while reading them made to
name the file and the argument at fault.

tf.data decodes tiles inside the graph, so a corrupt JPEG stops the iteration with TF's
``jpeg::Uncompress failed`` that names no file, and a mask colour not in the legend arrives
wrapped in a dump of the op that found it. :func:`reading` catches those errors where a pipeline
is iterated and re-raises the library's own error: the one the pipeline carried, or the one
that reading each file of the source with PIL finds, which names the file.

Example:
    >>> check_tile_sizes(source, 256)  # ValueError naming a file smaller than 256 px
    >>> with reading(source):
    ...     gan.fit(make_dataset(source, ...), ...)  # a bad file raises DataError naming it
"""

from __future__ import annotations

import contextlib
import re

from PIL import Image

from lcgan import errors

_CARRIED = re.compile(r"\b(LegendError|DataError|RasterMismatchError): (.+?)(?:\n|$)")
_TILE_SHAPE = re.compile(r"\] \[(\d+) (\d+)\]")
_PIPELINE = ("IteratorGetNext", "Error in user-defined function", "transformation")


def _tile_sizes(source):
    """``[(file, (height, width) of its tiles)]`` where the source can tell without decoding."""
    from lcgan.data.sources import FolderSource

    if isinstance(source, FolderSource):
        sizes = []
        for image_path, _ in source.pairs:
            try:
                with Image.open(image_path) as image:
                    width, height = image.size
            except OSError as err:
                raise errors.DataError(f"Cannot read image file {image_path}: {err}") from err
            window = source.window or (height, width)
            sizes.append((image_path, (min(height, window[0]), min(width, window[1]))))
        return sizes
    size = getattr(source, "tile_size", None)
    return [] if size is None else [(type(source).__name__, tuple(size))]


def check_tile_sizes(source, image_size: int) -> None:
    """Check that every tile of ``source`` can give an ``image_size`` crop (where it can be told
    from file headers or the source's ``tile_size``; other sources are checked while reading).

    Raises:
        ValueError: a tile is smaller than ``image_size``, naming the file (and how many are).
        DataError: an image header cannot be read.
    """
    small = [(name, size) for name, size in _tile_sizes(source) if min(size) < image_size]
    if small:
        name, (height, width) = small[0]
        more = f" ({len(small) - 1} more tiles are)" if len(small) > 1 else ""
        raise ValueError(f"`image_size` {image_size} is larger than the tiles of {name}: "
                         f"{height} x {width} px{more}; every tile must be at least "
                         f"{image_size} x {image_size}. Received: image_size={image_size}")


def explain(source, error) -> Exception | None:
    """The library's error behind a TF error raised while reading ``source``, or None."""
    message = getattr(error, "message", None) or str(error)
    carried = _CARRIED.search(message)
    if carried:
        return getattr(errors, carried[1])(carried[2].strip())
    if "is larger than a tile of the source" in message:
        shape = _TILE_SHAPE.search(message)
        found = f" A tile is {shape[1]} x {shape[2]} px." if shape else ""
        return ValueError(message.split("[", 2)[1].split("Tile (")[0].strip() + found)
    if not any(marker in message for marker in _PIPELINE) or not hasattr(source, "read_pair"):
        return None
    for image_path, mask_path in source.pairs:  # the file TF would not name
        try:
            source.read_pair(image_path, mask_path)
        except errors.DataError as err:
            return err
        for path in (image_path, mask_path):  # TF's decoders may refuse what PIL reads
            problem = _tf_decode_problem(path)
            if problem:
                return errors.DataError(f"Cannot decode image file {path}: {problem}")
    return None


def _tf_decode_problem(path) -> str | None:
    import tensorflow as tf

    try:
        tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False)
    except tf.errors.OpError as err:
        return err.message.strip().splitlines()[0]
    return None


@contextlib.contextmanager
def reading(source):
    """Re-raise a TF error raised while iterating a pipeline of ``source`` as the library's
    error naming the file or argument (:func:`explain`); other errors pass unchanged."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.OpError as error:
        explained = explain(source, error)
        if explained is None:
            raise
        raise explained from error
