"""Shared test fixtures: small georeferenced rasters written into ``tmp_path``."""

import os
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lcgan.data import raster  # noqa: E402

CRS = "EPSG:32633"
ORIGIN = (465180.0, 5080260.0)  # west, north of the test scenes (UTM 33N, Slovenia), 10 m pixels


@pytest.fixture
def geotiff_pair(tmp_path):
    """Factory writing an aligned (rgb, landcover) GeoTIFF pair with a real CRS and transform.

    Call ``geotiff_pair(height=64, width=48, bands=3, dtype="uint8", num_classes=4, rgb_nodata=None,
    landcover_nodata=None, name="scene", seed=0)``. Returns a namespace with ``rgb_path``,
    ``landcover_path``, ``rgb`` (bands, H, W) and ``landcover`` (H, W) arrays as written, ``crs`` and
    ``transform``. Landcover values are class ids ``0 .. num_classes - 1`` (uint8), rgb values are
    uniform random over the dtype's range (0..1 for floats).
    """

    def make(height=64, width=48, *, bands=3, dtype="uint8", num_classes=4, rgb_nodata=None,
             landcover_nodata=None, name="scene", seed=0):
        rng = np.random.default_rng(seed)
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            rgb = rng.random((bands, height, width)).astype(dtype)
        else:
            rgb = rng.integers(0, np.iinfo(dtype).max, (bands, height, width), endpoint=True
                               ).astype(dtype)
        landcover = rng.integers(0, num_classes, (height, width)).astype(np.uint8)
        west, north = ORIGIN
        transform = raster.transform_from_bounds(west, north - 10 * height, west + 10 * width,
                                                 north, width, height)
        rgb_path = tmp_path / f"{name}_rgb.tif"
        landcover_path = tmp_path / f"{name}_landcover.tif"
        raster.write_geotiff(rgb_path, rgb, crs=CRS, transform=transform, nodata=rgb_nodata)
        raster.write_geotiff(landcover_path, landcover, crs=CRS, transform=transform,
                             nodata=landcover_nodata)
        return types.SimpleNamespace(rgb_path=rgb_path, landcover_path=landcover_path, rgb=rgb,
                                     landcover=landcover, crs=CRS, transform=transform)

    return make


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty Keras cache: ImageNet weights (VGG16, InceptionV3) cannot be had."""
    import keras

    def unreachable(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(keras.utils, "get_file", unreachable)


@pytest.fixture
def mixed_float16():
    """Keras' global dtype policy set to ``mixed_float16`` for the test, float32 again after it."""
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")
