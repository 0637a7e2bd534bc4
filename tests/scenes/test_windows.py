"""Window grids, blend ramps, mask growing and the blend accumulator of scene editing."""

import numpy as np

from lcgan.data.grid import window_offsets
from lcgan.images import to_uint8
from lcgan.scenes.windows import BlendAccumulator, grow_mask, id_dtype, ramp_cover, window_ramp


def test_window_offsets_cover_the_edges():
    assert window_offsets(500, 256, 192) == [0, 192, 244]
    assert window_offsets(256, 256, 192) == [0]
    assert window_offsets(100, 256, 192) == [0]
    assert window_offsets(448, 256, 192) == [0, 192]
    offsets = window_offsets(1000, 64, 48)
    assert offsets[-1] == 1000 - 64 and np.diff(offsets).max() <= 48


def test_window_ramp_falls_towards_edges_and_stays_positive():
    ramp = window_ramp(32, 8)
    assert ramp.shape == (32,) and ramp.min() > 0 and ramp[16] == 1.0
    assert ramp[0] < ramp[2] < ramp[4] < ramp[7] and np.allclose(ramp, ramp[::-1])


def test_grow_mask():
    mask = np.zeros((9, 9), bool)
    mask[4, 4] = True
    grown = grow_mask(mask, 2)
    assert grown.sum() == 25 and grown[2:7, 2:7].all()
    assert grow_mask(mask, 0).sum() == 1


def test_id_dtype_is_the_smallest_signed_type():
    assert id_dtype(6) == np.int8 and id_dtype(128) == np.int8 and id_dtype(129) == np.int16
    assert id_dtype(40000) == np.int32


def test_accumulator_composes_blocks_of_columns_and_keeps_overlap_rows():
    ramp, rng = window_ramp(8, 2), np.random.default_rng(0)
    rows, cols = ramp_cover(14, [0, 6], ramp), ramp_cover(1500, window_offsets(1500, 8, 6), ramp)
    acc = BlendAccumulator(rows, cols, capacity=8)
    acc.extend(14)  # grows past the capacity
    acc.rgb[:14] = rng.uniform(-1, 1, (14, 1500, 3)).astype(np.float32)
    expected = to_uint8(acc.rgb[:14] / (rows[:, None] * cols[None])[..., None])
    tail = acc.rgb[6:14].copy()
    out, where = np.zeros((4, 6, 1500), np.uint8), np.ones((6, 1500), bool)
    where[0, 0] = False
    acc.compose(6, out, where)
    np.testing.assert_array_equal(out[:3, 0, 1:], expected[0, 1:].T)
    np.testing.assert_array_equal(out[:3, 1:], expected[1:6].transpose(2, 0, 1))
    assert not out[:, 0, 0].any() and not out[3].any()
    np.testing.assert_array_equal(acc.rgb[:8], tail)
    assert acc.top == 6 and acc.rows == 8 and not acc.rgb[8:].any()
