import numpy as np
import pytest

from lcgan.data.legend import IGNORE
from lcgan.data.sources import SyntheticSource
from lcgan.data.tfds_builder import build_tfds, TfdsSource
from lcgan.errors import DataError


class WithIgnore(SyntheticSource):
    """Synthetic tiles of two sizes with some IGNORE pixels, to test the round trip."""

    def tiles(self):
        for i, (rgb, landcover) in enumerate(super().tiles()):
            landcover[: i + 1, :3] = IGNORE
            yield (rgb, landcover) if i % 2 else (rgb[:-5], landcover[:-5])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    source = WithIgnore(5, (24, 20), seed=2)
    data_dir = tmp_path_factory.mktemp("tfds")
    return source, data_dir, build_tfds(source, data_dir, name="toy_tiles", shard_size=2)


def test_round_trip_keeps_tiles_and_legend(built):
    source, _, path = built
    assert sorted(p.name for p in path.glob("*.tfrecord-*")) == [
        f"toy_tiles-train.tfrecord-0000{i}-of-00003" for i in range(3)]
    packed = TfdsSource(path)
    assert len(packed) == 5 and packed.legend == source.legend
    original = {rgb.tobytes(): lc for rgb, lc in source.tiles()}  # tfds shuffles at write time
    back = list(packed.tiles())
    assert len(back) == 5 and {rgb.tobytes() for rgb, _ in back} == set(original)
    for rgb, lc in back:
        np.testing.assert_array_equal(lc, original[rgb.tobytes()])
        assert lc.dtype == np.int32 and rgb.dtype == np.uint8
    assert [lc.shape for _, lc in back] == [lc.shape for _, lc in packed.tiles()]  # fixed order


def test_as_dataset_is_a_tfds_dataset(built):
    import tensorflow as tf

    ds = TfdsSource(built[2]).as_dataset(shuffle_files=True)
    assert ds.element_spec == {"rgb": tf.TensorSpec((None, None, 3), tf.uint8),
                               "landcover": tf.TensorSpec((None, None), tf.int32)}
    assert sorted(e["rgb"].shape[0] for e in ds.as_numpy_iterator()) == [19, 19, 19, 24, 24]


def test_errors(built, tmp_path):
    source, data_dir, _ = built
    with pytest.raises(FileExistsError, match="toy_tiles already exists; pass overwrite=True"):
        build_tfds(source, data_dir, name="toy_tiles")
    with pytest.raises(ValueError, match="`name` must be a lower-case identifier"):
        build_tfds(source, data_dir, name="Toy-Tiles")
    with pytest.raises(ValueError, match="`shard_size` must be >= 1 tile. Received 0"):
        build_tfds(source, data_dir, name="other", shard_size=0)
    with pytest.raises(DataError, match="is not a dataset written by build_tfds"):
        TfdsSource(tmp_path)
