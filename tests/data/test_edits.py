"""Tests of the landcover edit builders of task "cycle" (lcgan.data.edits)."""

import json

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from lcgan.data import edits
from lcgan.data.legend import IGNORE
from lcgan.data.samples import build_samples, sample_builder
from lcgan.errors import DataError

K = 4


def blocky_maps(count=8, size=48, block=8, seed=0):
    """(N, S, S) int32 maps of random classes in ``block``-pixel squares."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, K, (count, size // block, size // block))
    return cells.repeat(block, 1).repeat(block, 2).astype(np.int32)


def run(kind, lc, matrix, seed=0, **options):
    """One kind of edit over a batch -> numpy (lc_edit, mask (B, H, W) bool)."""
    out = edits.landcover_edits(lc, num_classes=K, kinds=(kind,), transitions=matrix,
                                size=(12, 24), seed=seed, **options)
    return out["lc_edit"].numpy(), out["mask"].numpy()[..., 0] > 0.5


@pytest.mark.parametrize("kind", edits.EDIT_KINDS)
def test_only_the_masked_region_changes_and_every_change_follows_the_matrix(kind):
    lc = blocky_maps()
    matrix = np.zeros((K, K))
    matrix[0, 1] = matrix[2, 3] = matrix[1, 0] = 1.0  # only these class changes exist
    lc_edit, mask = run(kind, lc, matrix)
    assert np.array_equal(lc_edit[~mask], lc[~mask])
    moved = lc_edit != lc
    assert moved.any()
    pairs = set(zip(lc[moved].tolist(), lc_edit[moved].tolist()))
    assert pairs <= {(0, 1), (2, 3), (1, 0)}


def test_new_classes_are_drawn_in_proportion_to_the_matrix_row():
    lc = np.zeros((64, 32, 32), np.int32)  # every seed is class 0
    matrix = np.zeros((K, K))
    matrix[0, 1], matrix[0, 3] = 3.0, 1.0
    out = edits.class_transition(lc, transitions=matrix, size=8, seed=5)
    targets = out["target"].numpy()
    assert set(targets.tolist()) == {1, 3}
    assert 0.6 < np.mean(targets == 1) < 0.9  # 0.75 expected; 64 draws


def test_same_seed_same_edits_and_other_seeds_differ():
    lc = blocky_maps()
    first = edits.landcover_edits(lc, num_classes=K, seed=7)
    again = edits.landcover_edits(lc, num_classes=K, seed=tf.constant([7, 0], tf.int64))
    other = edits.landcover_edits(lc, num_classes=K, seed=8)
    for name in first:
        assert np.array_equal(first[name].numpy(), again[name].numpy())
    assert not np.array_equal(first["mask"].numpy(), other["mask"].numpy())


def test_the_same_edits_come_out_of_an_xla_compiled_function():
    lc = blocky_maps()
    compiled = tf.function(lambda lc, seed: edits.landcover_edits(lc, num_classes=K, seed=seed),
                           jit_compile=True)
    seed = tf.constant([3, 1], tf.int64)
    eager, xla = edits.landcover_edits(lc, num_classes=K, seed=seed), compiled(lc, seed)
    for name in eager:
        assert np.array_equal(eager[name].numpy(), xla[name].numpy())


@pytest.mark.parametrize("kind", edits.EDIT_KINDS)
def test_ignore_pixels_are_never_edited_nor_written(kind):
    lc = blocky_maps()
    lc[:, ::3] = IGNORE  # a third of the rows carry no class, in every map (and every partner)
    lc_edit, mask = run(kind, lc, None)
    assert not mask[lc == IGNORE].any()
    assert np.array_equal(lc_edit == IGNORE, lc == IGNORE)
    assert mask.any()


def test_maps_without_a_possible_transition_are_left_alone():
    lc = blocky_maps(count=4)
    lc[:2] = 2  # two maps of class 2 only, which may not change
    matrix = np.ones((K, K))
    matrix[2] = 0.0
    for kind in ("transition", "shape"):
        lc_edit, mask = run(kind, lc, matrix)
        assert not mask[:2].any() and np.array_equal(lc_edit[:2], lc[:2])
        assert mask[2:].any()
    lc[:] = IGNORE
    assert not run("transition", lc, None)[1].any()


def test_a_transition_region_is_one_connected_region_of_one_class():
    lc = blocky_maps(count=8, block=4)
    lc_edit, mask = run("transition", lc, None, seed=3)
    for before, region in zip(lc, mask):
        assert len(np.unique(before[region])) == 1
        assert ndimage.label(region)[1] == 1  # 4-connected (scipy's default structure)


def test_a_component_transition_takes_the_whole_connected_component():
    lc = blocky_maps(count=8, block=4)
    lc_edit, mask = run("transition", lc, None, seed=3, region="component")
    for before, region in zip(lc, mask):
        labels, _ = ndimage.label(before == before[region][0])
        assert np.array_equal(region, labels == labels[region][0])


def test_transition_matrix_from_names_with_wildcards():
    names = ["land", "water", "road"]
    matrix = edits.transition_matrix({"*": {"*": 1, "water": 0}, "road": {"water": 2}}, 3,
                                     names=names)
    np.testing.assert_array_equal(matrix, [[0, 0, 1], [1, 0, 1], [1, 2, 0]])
    np.testing.assert_array_equal(edits.transition_matrix(None, 2), [[0, 1], [1, 0]])


@pytest.mark.parametrize("spec,message", [
    ([[0, 1]], "matrix"), ([[0, -1], [1, 0]], ">= 0"), ([[1, 0], [0, 1]], "no class change"),
    ({"forest": {"*": 1}}, "unknown class 'forest'")])
def test_bad_transition_matrices_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        edits.transition_matrix(spec, 2, names=["land", "water"])


def test_load_transitions_names_the_bad_file(tmp_path):
    from lcgan.data.legend import sample_legend

    legend = sample_legend()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"*": {"*": 1, "unlabeled": 0}}))
    bad.write_text("{not json")
    matrix = edits.load_transitions(good, legend)
    assert matrix.shape == (legend.num_classes,) * 2
    assert not matrix[:, legend.class_id("unlabeled")].any()
    with pytest.raises(DataError, match="bad.json"):
        edits.load_transitions(bad, legend)


def test_cycle_samples_blank_the_mask_and_keep_the_original_as_target():
    rng = np.random.default_rng(1)
    lc = blocky_maps(count=4)
    rgb = rng.uniform(-1, 1, lc.shape + (3,)).astype(np.float32)
    sample = build_samples({"rgb": rgb, "landcover": lc}, task="cycle", num_classes=K, seed=2,
                           fill_value=0.5)
    mask = sample["mask"].numpy()[..., 0] > 0.5
    assert mask.any()
    np.testing.assert_array_equal(sample["rgb"].numpy()[mask], 0.5)
    np.testing.assert_array_equal(sample["rgb"].numpy()[~mask], rgb[~mask])
    np.testing.assert_array_equal(sample["target"].numpy(), rgb)
    np.testing.assert_array_equal(sample["landcover_before"].numpy(), lc)
    ids = sample["landcover"].numpy()
    np.testing.assert_array_equal(np.argmax(sample["landcover_onehot"].numpy(), -1), ids)


def test_bad_cycle_options_are_named():
    batch = {"rgb": np.zeros((1, 32, 32, 3), np.float32), "landcover": blocky_maps(1, 32)}
    with pytest.raises(ValueError, match="batch size must be >= 2"):
        sample_builder("cycle", num_classes=K)(batch, 0)
    with pytest.raises(ValueError, match="`kinds`"):
        sample_builder("cycle", num_classes=K, kinds=("circle",))(batch, 0)
    with pytest.raises(ValueError, match="`region`"):
        sample_builder("cycle", num_classes=K, region="square")(batch, 0)
    with pytest.raises(ValueError, match="`size`"):
        sample_builder("cycle", num_classes=K, kinds=("shape",), edit_size=40)(batch, 0)
