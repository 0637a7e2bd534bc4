"""Helpers shared by the test modules (import as ``from helpers import ...``; tests/ is on sys.path
because tests/conftest.py lives there)."""

import os

import keras
import numpy as np


def assert_save_load_roundtrip(model, inputs, tmp_path, *, atol=1e-6):
    """Save ``model`` as ``.keras``, reload it, and assert it gives the same outputs on ``inputs``.

    Both models are called in inference mode (``training=False``), so dropout and batch statistics
    do not differ between the calls.

    Args:
        model: A Keras model whose custom objects are registered (serialisable).
        inputs: What ``model`` is called with (a tensor, or a dict of named inputs).
        tmp_path: pytest's ``tmp_path``; the file is ``tmp_path / f"{model.name}.keras"``.
        atol: Absolute tolerance of the comparison (outputs must otherwise be identical).

    Returns:
        The reloaded model.
    """
    expected = model(inputs, training=False)
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    actual = loaded(inputs, training=False)
    keras.tree.assert_same_structure(expected, actual)
    for want, got in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want),
                                   rtol=0, atol=atol)
    assert type(loaded) is type(model)
    return loaded


def export_and_run_at_another_size(model, tmp_path):
    """Export ``model`` (4 classes, trained size 32, task inpaint), load it back and run it on one
    random 48 x 40 image with a box mask.

    Returns:
        (output (1, 48, 40, 3), the input rgb (1, 48, 40, 3), the mask (1, 48, 40, 1)), numpy.
    """
    from lcgan.data.legend import Legend
    from lcgan.scenes.export import export_generator, load_generator

    legend = Legend(["a", "b", "c", "d"], [(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)], name="t")
    loaded = load_generator(export_generator(model, tmp_path / "export", legend=legend,
                                             task="inpaint", image_size=32))
    rng = np.random.default_rng(0)
    rgb = rng.uniform(-1, 1, (1, 48, 40, 3)).astype("float32")
    mask = np.zeros((1, 48, 40, 1), "float32")
    mask[:, 8:32, 8:24] = 1
    out = loaded(rgb=rgb, landcover=rng.integers(0, 4, (1, 48, 40)).astype("int32"), mask=mask)
    return out, rgb, mask


def random_inputs(model, *, batch=1, seed=0):
    """Random inputs for a model with named inputs ``rgb``, ``landcover`` and/or ``mask``.

    ``rgb`` is uniform in [-1, 1], ``landcover`` a one-hot of random class ids, ``mask`` ones inside
    a random square covering a quarter of the side, zeros elsewhere. Shapes follow ``model.inputs``.

    Returns:
        ``{name: float32 np.ndarray of shape (batch, H, W, C)}`` for each input of ``model``.
    """
    rng = np.random.default_rng(seed)
    inputs = {}
    for tensor in model.inputs:
        height, width, channels = tensor.shape[1:]
        if tensor.name == "landcover_onehot":
            ids = rng.integers(0, channels, (batch, height, width))
            inputs["landcover_onehot"] = np.eye(channels, dtype="float32")[ids]
        elif tensor.name == "mask":
            side = max(height // 4, 1)
            mask = np.zeros((batch, height, width, 1), "float32")
            for sample in mask:
                top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
                sample[top:top + side, left:left + side] = 1.0
            inputs["mask"] = mask
        else:
            inputs[tensor.name] = rng.uniform(-1, 1, (batch, height, width, channels)).astype("float32")
    return inputs


def assert_edit_confined(folder, *, rgb="rgb.tif", edited="edited.tif", landcover="landcover.tif",
                         edited_landcover="landcover_edited.tif", grow=3):
    """Assert that a scene edit changed the rgb only where the landcover was relabelled.

    Reads four aligned GeoTIFFs of ``folder``: the rgb before and after ``lcgan.edit_scene`` and the
    landcover before and after the edit. Outside the relabelled pixels grown by ``grow`` the rgb must
    be bit-identical, inside it most pixels must differ, and CRS and transform must be kept.

    Returns:
        The (H, W) bool array of changed rgb pixels.
    """
    from lcgan.data import raster
    from lcgan.scenes.windows import grow_mask

    arrays, profiles = {}, {}
    for name in (rgb, edited, landcover, edited_landcover):
        with raster.RasterReader(os.path.join(folder, name)) as reader:
            profiles[name] = reader.profile
            arrays[name] = reader.read(0, 0, reader.profile["height"], reader.profile["width"])
    for key in ("crs", "transform", "width", "height"):
        assert profiles[edited][key] == profiles[rgb][key], key
    changed = np.any(arrays[rgb] != arrays[edited], axis=0)  # (H, W)
    relabelled = grow_mask(arrays[landcover][0] != arrays[edited_landcover][0], grow)
    assert relabelled.any() and changed[relabelled].mean() > 0.5
    assert not (changed & ~relabelled).any()
    return changed
