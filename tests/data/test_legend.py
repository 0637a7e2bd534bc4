import numpy as np
import pytest
from PIL import Image

from lcgan.data.legend import IGNORE, Legend, sample_legend
from lcgan.errors import LegendError


@pytest.fixture
def legend():
    return Legend(["water", "forest", "urban"], [(0, 0, 255), (0, 128, 0), (200, 0, 0)],
                  values=[10, 20, 30], ignore_color=(0, 0, 0), ignore_value=0, name="toy")


def test_colour_mask_to_ids_with_ignore(legend):
    mask = np.array([[[0, 0, 255], [0, 128, 0]], [[200, 0, 0], [0, 0, 0]]], np.uint8)
    np.testing.assert_array_equal(legend.ids_from_colors(mask), [[0, 1], [2, IGNORE]])
    assert legend.ids_from_colors(mask).dtype == np.int32


def test_palette_png_maps_like_rgb(legend, tmp_path):
    ids = np.array([[0, 1, 2], [2, 1, IGNORE]])
    image = Image.fromarray(np.where(ids < 0, 3, ids).astype(np.uint8), mode="P")
    image.putpalette([0, 0, 255, 0, 128, 0, 200, 0, 0, 0, 0, 0])
    image.save(tmp_path / "palette.png")
    reread = Image.open(tmp_path / "palette.png")
    assert reread.mode == "P"
    np.testing.assert_array_equal(legend.ids_from_colors(np.asarray(reread.convert("RGB"))), ids)


def test_unknown_colour_names_source_and_colour(legend):
    mask = np.zeros((2, 2, 3), np.uint8)
    mask[0, 0] = (1, 2, 3)
    with pytest.raises(LegendError, match=r"tile7.png: 1 pixels .*\(1, 2, 3\)"):
        legend.ids_from_colors(mask, source="tile7.png")
    with pytest.raises(LegendError, match=r"must be \(H, W, 3\)"):
        legend.ids_from_colors(mask[..., 0])


def test_index_values_to_ids(legend):
    raw = np.array([[10, 20], [30, 0]], np.uint16)
    np.testing.assert_array_equal(legend.ids_from_values(raw), [[0, 1], [2, IGNORE]])
    with pytest.raises(LegendError, match=r"lc.tif: values \[7\] are not class values"):
        legend.ids_from_values(np.array([[7, 10]]), source="lc.tif")
    with pytest.raises(LegendError, match="must hold integers"):
        legend.ids_from_values(np.array([[1.5]]))


def test_colorize_and_palette(legend):
    np.testing.assert_array_equal(legend.colorize([[1, IGNORE]]), [[[0, 128, 0], [0, 0, 0]]])
    assert legend.palette.shape == (3, 3) and legend.palette.dtype == np.uint8
    assert legend.class_id("urban") == 2
    with pytest.raises(ValueError, match="Unknown class name 'sand'"):
        legend.class_id("sand")


def test_json_round_trip(legend, tmp_path):
    legend.to_json(tmp_path / "legend.json")
    again = Legend.from_json(tmp_path / "legend.json")
    assert again == legend
    assert again.ignore_value == 0 and again.ignore_color == (0, 0, 0)
    assert [c.value for c in again.classes] == [10, 20, 30]


def test_bad_legends_are_rejected(tmp_path):
    with pytest.raises(LegendError, match="not found: .*nolegend.json"):
        Legend.from_json(tmp_path / "nolegend.json")
    (tmp_path / "bad.json").write_text('{"classes": [{"id": 1, "name": "a", "color": [1, 2, 3]}]}')
    with pytest.raises(LegendError, match=r"bad.json: class ids must be 0..0"):
        Legend.from_json(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="distinct"):
        Legend(["a", "b"], [(1, 2, 3), (1, 2, 3)])


def test_sample_legend():
    legend = sample_legend()
    assert legend.num_classes == 6 and legend.ignore_color == (0, 0, 0)
    assert legend.names[0] == "building"
