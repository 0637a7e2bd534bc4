"""Export of generators as SavedModels: reload parity, other sizes, size on disk, overwrite."""

import json
import os
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from lcgan.data.legend import Legend
from lcgan.errors import ExportError
from lcgan.scenes.export import KERAS_FILE, METADATA_FILE, export_generator, load_generator
from lcgan.models import dual_branch_generator, unet_generator

LEGEND = Legend(["water", "forest", "urban", "field"],
                [(0, 0, 255), (0, 128, 0), (128, 128, 128), (255, 255, 0)], name="test")
K = LEGEND.num_classes


def _batch(size, batch=2, seed=0, mask=False):
    rng = np.random.default_rng(seed)
    out = {"rgb": rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32),
           "landcover": rng.integers(-1, K, (batch, size, size)).astype(np.int32)}
    if mask:
        out["mask"] = (rng.random((batch, size, size, 1)) < 0.5).astype(np.float32)
    return out


def _keras_call(generator, batch):
    """The generator's own output for a batch of class ids (one-hot like the signature)."""
    inputs = {name: tf.constant(value) for name, value in batch.items()}
    inputs["landcover_onehot"] = tf.one_hot(inputs.pop("landcover"), K)
    return generator(inputs, training=False).numpy()


def _du(path):
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path)
               for f in files)


@pytest.mark.parametrize("build,kwargs", [(unet_generator, {}),
                                           (dual_branch_generator, {"use_mask": True})])
def test_reload_parity_at_training_and_other_sizes(tmp_path, build, kwargs):
    generator = build(image_size=32, num_classes=K, width=8, depth=3, **kwargs)
    path = export_generator(generator, tmp_path / "export", legend=LEGEND, task="mixlc",
                            image_size=32)
    loaded = load_generator(path)
    takes_mask = kwargs.get("use_mask", False)
    assert loaded.takes_mask == takes_mask
    batch = _batch(32, batch=3, mask=takes_mask)
    np.testing.assert_allclose(loaded(**batch), _keras_call(generator, batch), atol=1e-5)
    # 64 px: the same weights in a network built for 64 px give the same result
    bigger = build(image_size=64, num_classes=K, width=8, depth=3, **kwargs)
    bigger.set_weights(generator.get_weights())
    batch = _batch(64, batch=1, seed=1, mask=takes_mask)
    out = loaded(**batch)
    assert out.shape == (1, 64, 64, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, _keras_call(bigger, batch), atol=1e-5)


def test_signature_and_metadata_are_plain(tmp_path):
    generator = dual_branch_generator(image_size=32, num_classes=K, width=8, use_mask=True)
    path = export_generator(generator, tmp_path / "export", legend=LEGEND, task="inpaint",
                            image_size=32)
    with open(os.path.join(path, METADATA_FILE), encoding="utf-8") as f:
        meta = json.load(f)
    assert meta["task"] == "inpaint" and meta["image_size"] == [32, 32]
    assert meta["num_classes"] == K and Legend.from_dict(meta["legend"]) == LEGEND
    assert meta["inputs"] == ["landcover", "mask", "rgb"] and meta["lcgan_version"]
    serving = tf.saved_model.load(path).signatures["serving_default"]
    specs = serving.structured_input_signature[1]
    assert specs["landcover"].dtype == tf.int32 and specs["landcover"].shape.as_list() == [None] * 3
    assert specs["rgb"].shape.as_list() == [None, None, None, 3]
    assert list(serving.structured_outputs) == ["rgb"]
    with pytest.raises(ValueError, match="needs `mask`"):
        load_generator(path)(**_batch(32))


def test_ignore_ids_one_hot_to_zeros(tmp_path):
    generator = unet_generator(image_size=32, num_classes=K, width=8)
    loaded = load_generator(export_generator(generator, tmp_path / "e", legend=LEGEND,
                                             task="mixlc", image_size=32))
    batch = _batch(32)
    batch["landcover"][:] = -1
    zeros = generator({"rgb": tf.constant(batch["rgb"]), "landcover_onehot": tf.zeros((2, 32, 32, K))},
                      training=False).numpy()
    np.testing.assert_allclose(loaded(**batch), zeros, atol=1e-5)


def test_gan_exports_its_ema_generator(tmp_path):
    plain = unet_generator(image_size=32, num_classes=K, width=8)
    ema = unet_generator(image_size=32, num_classes=K, width=8)
    ema.set_weights([w + 0.05 for w in plain.get_weights()])
    gan = types.SimpleNamespace(generator=plain, ema_generator=ema)
    loaded = load_generator(export_generator(gan, tmp_path / "e", legend=LEGEND, task="mixlc",
                                             image_size=32))
    batch = _batch(32)
    np.testing.assert_allclose(loaded(**batch), _keras_call(ema, batch), atol=1e-5)
    assert np.abs(loaded(**batch) - _keras_call(plain, batch)).max() > 1e-3


def test_weights_are_stored_once(tmp_path):
    generator = unet_generator(image_size=32, num_classes=K, width=16)
    weight_bytes = sum(w.numpy().nbytes for w in generator.weights)
    path = export_generator(generator, tmp_path / "e", legend=LEGEND, task="mixlc",
                            image_size=32, keras_file=False)
    assert not os.path.exists(os.path.join(path, KERAS_FILE))
    assert weight_bytes <= _du(os.path.join(path, "variables")) < 1.2 * weight_bytes
    with_keras = export_generator(generator, tmp_path / "k", legend=LEGEND, task="mixlc",
                                  image_size=32)
    restored = keras.models.load_model(os.path.join(with_keras, KERAS_FILE))
    batch = _batch(32)
    np.testing.assert_allclose(_keras_call(restored, batch), _keras_call(generator, batch),
                               atol=1e-6)


def test_overwrite_rules(tmp_path, monkeypatch):
    generator = unet_generator(image_size=32, num_classes=K, width=8)
    target = tmp_path / "e"
    export_generator(generator, target, legend=LEGEND, task="mixlc", image_size=32,
                     keras_file=False)
    with pytest.raises(ExportError, match=str(target)):
        export_generator(generator, target, legend=LEGEND, task="inpaint", image_size=32)

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_generator(generator, target, legend=LEGEND, task="inpaint", image_size=32,
                         overwrite=True)
    monkeypatch.undo()
    assert load_generator(target).metadata["task"] == "mixlc"
    assert sorted(os.listdir(tmp_path)) == ["e"]  # no temp dir left behind
    export_generator(generator, target, legend=LEGEND, task="inpaint", image_size=32,
                     overwrite=True, keras_file=False)
    assert load_generator(target).metadata["task"] == "inpaint"
    assert sorted(os.listdir(tmp_path)) == ["e"]


def test_load_errors(tmp_path):
    with pytest.raises(ExportError, match="not found"):
        load_generator(tmp_path / "missing")
    generator = unet_generator(image_size=32, num_classes=K, width=8)
    path = export_generator(generator, tmp_path / "e", legend=LEGEND, task="mixlc",
                            image_size=32, keras_file=False)
    os.remove(os.path.join(path, METADATA_FILE))
    with pytest.raises(ExportError, match="not a complete lcgan export"):
        load_generator(path)


def test_argument_errors(tmp_path):
    generator = unet_generator(image_size=32, num_classes=K, width=8)
    six = Legend([str(i) for i in range(6)], [(i, i, i) for i in range(6)])
    with pytest.raises(ValueError, match="has 6 classes"):
        export_generator(generator, tmp_path / "e", legend=six, task="mixlc", image_size=32)
    with pytest.raises(ValueError, match="`task`"):
        export_generator(generator, tmp_path / "e", legend=LEGEND, task="paint", image_size=32)
    with pytest.raises(ValueError, match="`generator`"):
        export_generator(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]),
                         tmp_path / "e", legend=LEGEND, task="mixlc", image_size=32)
    assert not os.listdir(tmp_path)
