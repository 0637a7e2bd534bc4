"""Property tests of the batched sample builders against plain NumPy references."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lcgan.data import IGNORE, build_samples, masked_class, mixed_square


def _random_batch(batch, height, width, num_classes, seed):
    """Float rgb in [-1, 1] (distinct everywhere) and int landcover with some IGNORE pixels."""
    rng = np.random.default_rng(seed)
    rgb = rng.uniform(-1, 1, (batch, height, width, 3)).astype(np.float32)
    # Blocky landcover so that patches have clear (and sometimes tied) majorities.
    coarse = rng.integers(IGNORE, num_classes, (batch, height // 4 + 1, width // 4 + 1))
    lc = coarse.repeat(4, axis=1).repeat(4, axis=2)[:, :height, :width].astype(np.int32)
    return rgb, lc


def _reference_mask(lc, boxes, num_classes, exclude=()):
    """NumPy reference of masked_class's rule, patch by patch, from the returned boxes."""
    mask = np.zeros(lc.shape, bool)
    classes = np.full(boxes.shape[:2], IGNORE)
    for i, sample_boxes in enumerate(boxes):
        for p, (top, left, bottom, right) in enumerate(sample_boxes):
            patch = lc[i, top:bottom, left:right]
            counts = np.bincount(patch[patch >= 0], minlength=num_classes)
            counts[list(exclude)] = 0
            if counts.max() > 0:
                classes[i, p] = np.argmax(counts)  # NumPy: first (lowest) id among ties
                mask[i, top:bottom, left:right] |= patch == classes[i, p]
    return mask, classes


@pytest.mark.parametrize("batch,height,width,size,centered", [
    (2, 16, 16, 5, False), (3, 32, 24, (4, 20), False), (5, 40, 40, (7, 9), True),
    (4, 20, 33, 20, False)])
def test_mixed_square_pastes_b_inside_square_and_keeps_a_outside(batch, height, width, size,
                                                                  centered):
    rgb_a, lc_a = _random_batch(batch, height, width, 5, seed=1)
    rgb_b, lc_b = _random_batch(batch, height, width, 5, seed=2)
    out = mixed_square(rgb_a, lc_a, rgb_b, lc_b, size=size, centered=centered, seed=7)
    inside = out["mask"].numpy()[..., 0] == 1
    lo, hi = (size, size) if isinstance(size, int) else size
    for i in range(batch):
        rows, cols = np.nonzero(inside[i])
        side = rows.max() - rows.min() + 1
        assert lo <= side <= hi and cols.max() - cols.min() + 1 == side
        assert inside[i].sum() == side * side  # one filled square
        if centered:
            assert (rows.min(), cols.min()) == ((height - side) // 2, (width - side) // 2)
    np.testing.assert_array_equal(out["rgb_ab"].numpy(), np.where(inside[..., None], rgb_b, rgb_a))
    np.testing.assert_array_equal(out["lc_ab"].numpy(), np.where(inside, lc_b, lc_a))
    changed = (out["rgb_ab"].numpy() != rgb_a).any(-1)
    np.testing.assert_array_equal(changed, inside)  # the mask is exactly what changed
    assert set(np.unique(out["mask"].numpy())) <= {0.0, 1.0}


def test_mixed_square_positions_vary_per_sample():
    rgb, lc = _random_batch(8, 32, 32, 3, seed=0)
    mask = mixed_square(rgb, lc, rgb[::-1], lc[::-1], size=8, seed=3)["mask"].numpy()
    corners = {tuple(np.argwhere(m[..., 0])[0]) for m in mask}
    assert len(corners) > 1


@pytest.mark.parametrize("batch", [2, 3, 7])
@pytest.mark.parametrize("variant", ["a", "b"])
def test_mixlc_partner_is_a_permutation_without_fixed_points(batch, variant):
    # Sample i is constant i, so each pasted square tells which sample B was.
    rgb = np.broadcast_to(np.arange(batch, dtype=np.float32)[:, None, None, None],
                          (batch, 12, 12, 3))
    ids = np.broadcast_to(np.arange(batch, dtype=np.int32)[:, None, None], (batch, 12, 12))
    for seed in range(6):
        out = build_samples({"rgb": rgb, "landcover": ids}, task="mixlc", num_classes=batch,
                            seed=seed, square_size=(3, 6), variant=variant)
        inside = out["mask"].numpy()[..., 0] == 1
        partner = np.array([out["target"].numpy()[i][inside[i]][0, 0] for i in range(batch)])
        assert (partner != np.arange(batch)).all()
        assert sorted(partner) == list(range(batch))
        np.testing.assert_array_equal(out["landcover"].numpy(),
                                      out["target"].numpy()[..., 0].astype(np.int32))
        np.testing.assert_array_equal(out["landcover_onehot"].numpy().argmax(-1),
                                      out["landcover"].numpy())
        expected_rgb = rgb if variant == "a" else rgb[partner.astype(int)]
        np.testing.assert_array_equal(out["rgb"].numpy(), expected_rgb)
        # landcover_before: the landcover of the rgb the generator gets
        np.testing.assert_array_equal(out["landcover_before"].numpy(),
                                      expected_rgb[..., 0].astype(np.int32))


@pytest.mark.parametrize("batch,size,num_patches,patch_size,exclude", [
    (1, 16, 1, 8, ()), (3, 32, 4, (5, 12), ()), (4, 24, 3, 9, (0, 2)), (2, 48, 6, (16, 40), (1,))])
def test_masked_class_masks_exactly_each_patch_majority(batch, size, num_patches, patch_size,
                                                        exclude):
    num_classes = 4
    rgb, lc = _random_batch(batch, size, size, num_classes, seed=size)
    out = masked_class(rgb, lc, num_patches=num_patches, patch_size=patch_size, seed=11,
                       exclude_classes=exclude, fill_value=-1.0, num_classes=num_classes)
    boxes = out["boxes"].numpy()
    lo, hi = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
    sides = boxes[..., 2] - boxes[..., 0]
    assert ((sides == boxes[..., 3] - boxes[..., 1]) & (sides >= lo) & (sides <= hi)).all()
    assert (boxes[..., :2] >= 0).all() and (boxes[..., 2:] <= size).all()
    expected, classes = _reference_mask(lc, boxes, num_classes, exclude)
    mask = out["mask"].numpy()[..., 0] == 1
    np.testing.assert_array_equal(mask, expected)
    np.testing.assert_array_equal(out["classes"].numpy(), classes)
    assert not np.isin(lc[mask], [IGNORE, *exclude]).any()
    np.testing.assert_array_equal(out["rgb_masked"].numpy(),
                                  np.where(mask[..., None], np.float32(-1.0), rgb))


def _whole_image_mask(lc, **options):
    """Mask of one patch covering the whole (1, H, W) landcover image."""
    lc = np.asarray(lc, np.int32)[None]
    out = masked_class(np.zeros(lc.shape + (3,), np.float32), lc, num_patches=1,
                       patch_size=lc.shape[1], seed=0, num_classes=4, **options)
    return out["mask"].numpy()[0, ..., 0].astype(int)


def test_masked_class_rules_for_ties_ignore_and_excluded_classes():
    tie = [[3, 3, 1, 1], [3, 3, 1, 1], [2, 2, 2, -1], [2, 0, 0, 0]]  # 4x1, 4x3, 4x2
    # Ties go to the lowest id, and IGNORE pixels are neither counted nor masked.
    np.testing.assert_array_equal(_whole_image_mask(tie), np.array(tie) == 1)
    np.testing.assert_array_equal(_whole_image_mask(tie, exclude_classes=[1]), np.array(tie) == 2)
    np.testing.assert_array_equal(_whole_image_mask(tie, exclude_classes=[0, 1, 2]),
                                  np.array(tie) == 3)
    mostly_ignored = [[-1, -1, -1, -1], [-1, 2, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, -1]]
    np.testing.assert_array_equal(_whole_image_mask(mostly_ignored), np.array(mostly_ignored) == 2)
    assert _whole_image_mask(np.full((4, 4), IGNORE)).sum() == 0  # nothing eligible, nothing masked
    assert _whole_image_mask(np.zeros((4, 4)), exclude_classes=[0]).sum() == 0


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("task", ["mixlc", "inpaint"])
def test_same_seed_same_samples_inside_and_outside_tf_function(task, jit_compile):
    rgb, lc = _random_batch(4, 32, 32, 5, seed=3)
    batch = {"rgb": rgb, "landcover": lc}
    seed = keras.random.SeedGenerator(5).next()

    @tf.function(jit_compile=jit_compile)  # XLA must draw the same squares and patches
    def step(batch, seed):
        return build_samples(batch, task=task, num_classes=5, seed=seed)

    compiled = step(batch, seed)
    eager = build_samples(batch, task=task, num_classes=5, seed=seed)
    other = build_samples(batch, task=task, num_classes=5, seed=tf.constant([6, 0]))
    assert set(compiled) == {"rgb", "landcover", "landcover_onehot", "mask", "target",
                             "landcover_before"}
    for key, value in compiled.items():
        assert value.shape[:3] == (4, 32, 32)
        np.testing.assert_array_equal(value.numpy(), eager[key].numpy())
    assert compiled["landcover_onehot"].shape == (4, 32, 32, 5)
    assert not np.array_equal(compiled["mask"].numpy(), other["mask"].numpy())
    int_seed = [build_samples(batch, task=task, num_classes=5, seed=9)["mask"] for _ in range(2)]
    np.testing.assert_array_equal(*int_seed)
    assert build_samples(batch, task=task, num_classes=5)["mask"].shape == (4, 32, 32, 1)


def test_inpaint_sample_keeps_full_landcover_and_targets_original_rgb():
    rgb, lc = _random_batch(3, 32, 32, 4, seed=5)
    out = build_samples({"rgb": rgb, "landcover": lc}, task="inpaint", num_classes=4, seed=2,
                        num_patches=2, patch_size=12, exclude_classes=[3])
    mask = out["mask"].numpy()[..., 0] == 1
    assert mask.any()
    np.testing.assert_array_equal(out["target"].numpy(), rgb)
    np.testing.assert_array_equal(out["landcover"].numpy(), lc)
    np.testing.assert_array_equal(out["rgb"].numpy(), np.where(mask[..., None], 0.0, rgb))
    assert (out["landcover_onehot"].numpy()[lc == IGNORE] == 0).all()  # one-hot of IGNORE is zeros


def test_builders_keep_static_shapes_in_a_tf_data_map_after_batch():
    rgb, lc = _random_batch(6, 16, 16, 3, seed=0)
    dataset = tf.data.Dataset.from_tensor_slices({"rgb": rgb, "landcover": lc}).batch(
        3, drop_remainder=True)
    built = dataset.map(lambda batch: build_samples(batch, task="mixlc", num_classes=3, seed=1))
    assert built.element_spec["landcover_onehot"].shape == (3, 16, 16, 3)
    assert built.element_spec["mask"].shape == (3, 16, 16, 1)
    assert len(list(built)) == 2


@pytest.mark.parametrize("call,message", [
    (lambda b: mixed_square(b["rgb"], b["landcover"], b["rgb"], b["landcover"], size=20),
     "`size` must be <= the image size 16. Received: 20"),
    (lambda b: mixed_square(b["rgb"], b["landcover"], b["rgb"], b["landcover"],
                            size=(9, 4)), "`size` must be an int >= 1"),
    (lambda b: masked_class(b["rgb"], b["landcover"], num_patches=2, patch_size=(4, 17)),
     r"`patch_size` must be <= the image size 16. Received: \(4, 17\)"),
    (lambda b: masked_class(b["rgb"], b["landcover"], num_patches=0, patch_size=4),
     "`num_patches` must be an int >= 1. Received: 0"),
    (lambda b: masked_class(b["rgb"], b["landcover"], num_patches=1, patch_size=4,
                            exclude_classes=[7], num_classes=3), "`exclude_classes`"),
    (lambda b: build_samples(b, task="mix", num_classes=3), "`task` must be one of"),
    (lambda b: build_samples(b, task="mixlc", num_classes=3, patch_size=4), r"\['patch_size'\]"),
    (lambda b: build_samples(b, task="mixlc", num_classes=3, variant="c"), "`variant`"),
    (lambda b: build_samples(b, task="inpaint", num_classes=0), "`num_classes`"),
    (lambda b: build_samples({"rgb": b["rgb"]}, task="inpaint", num_classes=3), "landcover"),
    (lambda b: build_samples({k: v[:1] for k, v in b.items()}, task="mixlc", num_classes=3),
     "batch size must be >= 2. Received: 1"),
    (lambda b: build_samples(b, task="mixlc", num_classes=3, seed=tf.constant([1, 2, 3])),
     "`seed` must be None, an int or a shape-\\(2,\\) int tensor"),
])
def test_bad_arguments_raise_errors_naming_them(call, message):
    rgb, lc = _random_batch(2, 16, 16, 3, seed=0)
    with pytest.raises(ValueError, match=message):
        call({"rgb": rgb, "landcover": lc})
