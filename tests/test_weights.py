"""Tests of lcgan.weights: ImageNet cache / download / offline error, local paths, random weights."""

import os

import keras
import numpy as np
import pytest

from lcgan import weights
from lcgan.evaluation import fid
from lcgan.training import losses
from lcgan.errors import WeightsUnavailableError


def _offline(*args, **kwargs):
    raise OSError("network unreachable")


@pytest.mark.parametrize("application", sorted(weights.PRETRAINED))
def test_imagenet_offline_error_says_which_file_to_put_where(monkeypatch, tmp_path, application):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", _offline)
    spec = weights.PRETRAINED[application]
    with pytest.raises(WeightsUnavailableError) as info:
        weights.resolve_pretrained(application, "imagenet")
    message = str(info.value)
    for part in (spec.file_name, spec.url, os.path.join(str(tmp_path), "models", spec.file_name),
                 "~/.keras/models", "weights=PATH", f"{spec.flag} PATH", "network unreachable"):
        assert part in message, part


def test_both_networks_raise_the_offline_error(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", _offline)
    with pytest.raises(WeightsUnavailableError, match=weights.PRETRAINED["vgg16"].file_name):
        losses.VGGFeatureLoss(weights="imagenet")
    with pytest.raises(WeightsUnavailableError, match=weights.PRETRAINED["inception_v3"].file_name):
        fid.inception_model("imagenet")


def test_imagenet_uses_the_cached_file_before_downloading(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", _offline)
    cached = tmp_path / "models" / weights.PRETRAINED["inception_v3"].file_name
    cached.parent.mkdir()
    cached.write_bytes(b"weights")
    assert weights.resolve_pretrained("inception_v3", "imagenet") == str(cached)


def test_imagenet_downloads_into_the_keras_cache_when_missing(monkeypatch, tmp_path):
    calls = []

    def download(file_name, url, **kwargs):
        calls.append((file_name, url, kwargs))
        return "/downloaded/" + file_name

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", download)
    spec = weights.PRETRAINED["vgg16"]
    assert weights.resolve_pretrained("vgg16", "imagenet") == "/downloaded/" + spec.file_name
    assert calls == [(spec.file_name, spec.url, {"cache_dir": str(tmp_path), "cache_subdir": "models",
                                                  "file_hash": spec.file_hash})]


@pytest.mark.parametrize("application", sorted(weights.PRETRAINED))
def test_missing_path_is_named_and_none_means_random(application, tmp_path):
    missing = str(tmp_path / "missing.h5")
    with pytest.raises(WeightsUnavailableError, match="does not exist") as info:
        weights.resolve_pretrained(application, missing)
    assert missing in str(info.value) and weights.PRETRAINED[application].flag in str(info.value)
    assert weights.resolve_pretrained(application, None) is None
    assert weights.resolve_pretrained(application, "None") is None
    with pytest.raises(ValueError, match="`application` must be one of"):
        weights.resolve_pretrained("resnet50", None)


def test_vgg_weights_from_local_file_give_identical_features(tmp_path):
    reference = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    path = os.path.join(tmp_path, "vgg16_notop.weights.h5")
    reference.save_weights(path)
    assert weights.resolve_pretrained("vgg16", path) == path
    loss = losses.VGGFeatureLoss(weights=path)
    images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    truncated = keras.Model(reference.input, reference.get_layer("block3_conv3").output)
    expected = truncated(keras.applications.vgg16.preprocess_input((images + 1.0) * 127.5))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss.features(images)),
                               keras.ops.convert_to_numpy(expected), rtol=1e-5, atol=1e-5)


def test_inception_model_loads_the_resolved_file(monkeypatch, tmp_path):
    path = tmp_path / "inception.h5"
    path.write_bytes(b"weights")
    built = {}
    monkeypatch.setattr(keras.applications, "InceptionV3", lambda **kwargs: built.update(kwargs))
    fid.inception_model(str(path))
    assert built["weights"] == str(path) and built["include_top"] is False
