"""Tests of make_dataset: determinism, static shapes, aligned augmentation, clear errors."""

import numpy as np
import pytest
import tensorflow as tf

from lcgan.data import Legend, SyntheticSource, TileSource, make_dataset, sample_source


class _CodedSource(TileSource):
    """Tiles whose rgb encodes each pixel's class and original (row, col), to follow crops."""

    legend = Legend(["a", "b", "c"], [(255, 0, 0), (0, 255, 0), (0, 0, 255)])

    def __init__(self, sizes):
        self.sizes = sizes

    def __len__(self):
        return len(self.sizes)

    def tiles(self):
        for i, (height, width) in enumerate(self.sizes):
            rows, cols = np.mgrid[:height, :width]
            landcover = ((rows // 5 + cols // 7 + i) % 3).astype(np.int32)
            rgb = np.stack([landcover * 40, rows, cols], axis=-1).astype(np.uint8)
            yield rgb, landcover


def _take(dataset, count):
    return [{k: v.numpy() for k, v in batch.items()} for batch in dataset.take(count)]


@pytest.mark.parametrize("task", ["mixlc", "inpaint"])
def test_same_seed_gives_same_batches_with_or_without_cache(task):
    source = SyntheticSource(num_tiles=5, tile_size=40, seed=0)
    options = dict(task=task, image_size=32, batch_size=2, shuffle_buffer=4)
    first, again = (_take(make_dataset(source, seed=5, cache=cache, **options), 3)
                    for cache in (False, True))
    other = _take(make_dataset(source, seed=6, **options), 3)
    for batch, same in zip(first, again):
        for key in batch:
            np.testing.assert_array_equal(batch[key], same[key])
    assert any(not np.array_equal(a["rgb"], b["rgb"]) for a, b in zip(first, other))


def test_model_ready_batches_have_static_shapes_and_value_ranges():
    source = SyntheticSource(num_tiles=4, tile_size=(36, 44), seed=1)
    num_classes = source.legend.num_classes
    dataset = make_dataset(source, task="inpaint", image_size=32, batch_size=2, seed=0,
                           repeat=False, shuffle_buffer=4, num_patches=2, patch_size=8)
    spec = dataset.element_spec
    assert {k: tuple(v.shape) for k, v in spec.items()} == {
        "rgb": (2, 32, 32, 3), "landcover_onehot": (2, 32, 32, num_classes),
        "landcover": (2, 32, 32), "mask": (2, 32, 32, 1), "target": (2, 32, 32, 3),
        "landcover_before": (2, 32, 32)}
    batches = _take(dataset, 10)
    assert len(batches) == 2  # 4 tiles, no repeat
    for batch in batches:
        assert -1.0 <= batch["target"].min() and batch["target"].max() <= 1.0
        assert batch["mask"].any()
        np.testing.assert_array_equal(batch["landcover_onehot"].argmax(-1)[batch["landcover"] >= 0],
                                      batch["landcover"][batch["landcover"] >= 0])


@pytest.mark.parametrize("augment", [False, True])
def test_crops_flips_and_rotations_are_identical_for_rgb_and_landcover(augment):
    source = _CodedSource([(30, 40), (50, 24), (24, 24)])
    dataset = make_dataset(source, task="mixlc", image_size=24, batch_size=3, seed=2,
                           augment=augment, build=False, shuffle_buffer=3)
    orientations = set()
    for batch in _take(dataset, 4):
        assert set(batch) == {"rgb", "landcover"}
        pixels = np.rint((batch["rgb"] + 1.0) * 127.5).astype(int)  # back to uint8 values
        np.testing.assert_array_equal(pixels[..., 0], batch["landcover"] * 40)
        for rows, cols in zip(pixels[..., 1], pixels[..., 2]):
            # Each crop is a 24 x 24 window of its tile, turned by one of the 8 symmetries.
            assert rows.max() - rows.min() == 23 and cols.max() - cols.min() == 23
            assert len({(r, c) for r, c in zip(rows.ravel(), cols.ravel())}) == 24 * 24
            down, right = rows[1, 0] - rows[0, 0], cols[1, 0] - cols[0, 0]
            orientations.add((down, right, rows[0, 1] - rows[0, 0], cols[0, 1] - cols[0, 0]))
    if augment:
        assert len(orientations) > 2
    else:
        assert orientations == {(1, 0, 0, 1)}


def test_bundled_sample_pipeline_delivers_both_tasks():
    source = sample_source()
    for task in ("mixlc", "inpaint"):
        (batch,) = _take(make_dataset(source, task=task, image_size=64, batch_size=2,
                                      shuffle_buffer=2), 1)
        assert batch["landcover_onehot"].shape == (2, 64, 64, source.legend.num_classes)
        assert batch["mask"].any()


def test_tile_smaller_than_image_size_is_a_clear_error():
    source = SyntheticSource(num_tiles=2, tile_size=(40, 20), seed=0)
    dataset = make_dataset(source, task="inpaint", image_size=32, batch_size=2, patch_size=8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`image_size` 32 is larger than a tile"):
        _take(dataset, 1)


@pytest.mark.parametrize("kwargs,message", [
    (dict(task="mixlc", batch_size=1), "`batch_size` must be >= 2. Received: 1"),
    (dict(task="paint"), "`task` must be one of"),
    (dict(task="inpaint", image_size=0), "`image_size` must be an int >= 1. Received: 0"),
    (dict(task="inpaint", seed="a"), "`seed` must be an int or None"),
    (dict(task="mixlc", square_size=40), "`square_size` must be <= the image size 32. Received: 40"),
    (dict(task="inpaint", patch_size=33, build=False), "`patch_size` must be <= the image size 32"),
    (dict(task="inpaint", square_size=8), r"Unknown option\(s\) \['square_size'\]"),
])
def test_bad_arguments_raise_value_errors_naming_them(kwargs, message):
    options = dict(image_size=32, batch_size=2) | kwargs
    with pytest.raises(ValueError, match=message):
        make_dataset(SyntheticSource(num_tiles=2, tile_size=40, seed=0), **options)
