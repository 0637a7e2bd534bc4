import numpy as np
import pytest

from lcgan.data.legend import Legend, sample_legend
from lcgan.errors import DataError
from lcgan.evaluation import segmenters
from lcgan.models.segmenter import segmenter


@pytest.fixture(scope="module")
def fixed_size(tmp_path_factory):
    """A 32 px fixed-size segmenter with non-trivial batch-norm statistics, saved as .keras."""
    model = segmenter(image_size=32, num_classes=6, width=4, depth=2)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) if w.ndim else w
                       for w in model.get_weights()])
    path = tmp_path_factory.mktemp("seg") / "seg.keras"
    model.save(path)
    return model, path


def _rgb(size, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (2, size, size, 3)).astype(np.float32)


def test_a_fixed_size_segmenter_is_rebuilt_with_free_spatial_dims(fixed_size):
    model, path = fixed_size
    free = segmenters.load_segmenter(path)
    assert tuple(free.inputs[0].shape) == (None, None, None, 3)
    np.testing.assert_allclose(np.asarray(free({"rgb": _rgb(32)}, training=False)),
                               np.asarray(model({"rgb": _rgb(32)}, training=False)), atol=1e-5)
    assert free({"rgb": _rgb(48)}, training=False).shape == (2, 48, 48, 6)
    assert segmenters.with_free_size(free) is free  # already free: unchanged


def test_segmenter_heads_give_logits_and_bottleneck_maps(fixed_size):
    heads = segmenters.segmenter_heads(segmenters.load_segmenter(fixed_size[1]))
    out = heads({"rgb": _rgb(64)}, training=False)
    assert out["logits"].shape == (2, 64, 64, 6) and out["features"].shape == (2, 16, 16, 16)
    assert out["region"].shape == (2, 32, 32, 8)  # the decoder at half resolution (up1)


def test_resolve_judge_checks_classes_and_size(fixed_size):
    _, path = fixed_size
    heads, note = segmenters.resolve_judge(path, sample_legend(), 64)
    assert heads is not None and str(path) in note
    other = Legend(["a", "b"], [(1, 2, 3), (4, 5, 6)], name="other")
    with pytest.raises(ValueError, match="predicts 6 classes but the legend has 2"):
        segmenters.resolve_judge(path, other, 64)
    with pytest.raises(ValueError, match="cannot take 30 px tiles"):
        segmenters.resolve_judge(path, sample_legend(), 30)
    with pytest.raises(DataError, match="does not exist"):
        segmenters.resolve_judge(path.parent / "missing.keras", sample_legend(), 64)
    assert segmenters.resolve_judge(False, sample_legend(), 64)[0] is None


def test_the_packaged_segmenter_serves_only_the_dubai_legend(fixed_size, monkeypatch):
    monkeypatch.setitem(segmenters.PACKAGED, "default", fixed_size[1])
    dubai = sample_legend()
    assert segmenters.packaged_segmenter(dubai) == fixed_size[1]
    renamed = Legend.from_dict({**dubai.to_dict(), "name": "dubai_preset"})
    assert segmenters.packaged_segmenter(renamed) == fixed_size[1]  # same classes, other name
    swapped = Legend(dubai.names[::-1], dubai.palette.tolist()[::-1])
    assert segmenters.packaged_segmenter(swapped) is None
    heads, note = segmenters.resolve_judge(None, swapped, 64)
    assert heads is None and "examples/train_segmenter.py" in note
    heads, note = segmenters.resolve_judge(None, dubai, 64)
    assert heads is not None and "packaged Dubai segmenter" in note
    monkeypatch.setitem(segmenters.PACKAGED, "second", fixed_size[1])
    assert "Dubai tiles 4-8, seed 1" in segmenters.resolve_judge(None, dubai, 64, role="second")[1]
    monkeypatch.setitem(segmenters.PACKAGED, "default", fixed_size[1].parent / "absent.keras")
    assert segmenters.packaged_segmenter(dubai) is None
    with pytest.raises(ValueError, match="`role`"):
        segmenters.packaged_segmenter(dubai, role="third")


def test_the_packaged_second_segmenter_judges_the_bundled_legend_at_any_size():
    path = segmenters.packaged_segmenter(sample_legend(), role="second")
    assert path == segmenters.PACKAGED["second"] and path.is_file()
    heads, note = segmenters.resolve_judge(None, sample_legend(), 48, role="second")
    out = heads({"rgb": _rgb(48)}, training=False)
    assert out["logits"].shape == (2, 48, 48, 6) and "tiles 4-8" in note
