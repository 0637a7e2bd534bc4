"""Tests of LandcoverGAN: metric names and values, EMA, in-step sample building, bfloat16."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from lcgan.evaluation import metrics
from lcgan.data.samples import sample_builder
from lcgan.training.ema import ema_copy, update_ema
from lcgan.training.gan import LandcoverGAN
from lcgan.training.losses import VGGFeatureLoss
from lcgan.models.blocks import select_inputs
from train_helpers import CLASSES, raw_batch, ready_dataset, tiny_gan

MIXLC_TRAIN = ["d_fake", "d_loss", "d_real", "g_gan", "g_l1", "g_loss"]
INPAINT_TRAIN = sorted(MIXLC_TRAIN + ["d_acgan", "g_acgan"])


@pytest.mark.parametrize("task,names", [("mixlc", MIXLC_TRAIN), ("inpaint", INPAINT_TRAIN)])
def test_fit_and_evaluate_report_stable_finite_metrics(task, names):
    gan = tiny_gan(task)
    dataset = ready_dataset(task)
    history = gan.fit(dataset, epochs=1, verbose=0).history
    assert sorted(history) == names
    assert all(math.isfinite(values[-1]) for values in history.values())
    scores = gan.evaluate(dataset, verbose=0, return_dict=True)
    assert sorted(scores) == sorted(names + ["masked_l1", "psnr"])
    assert all(math.isfinite(value) for value in scores.values())
    assert int(gan.g_optimizer.iterations.numpy()) == int(gan.d_optimizer.iterations.numpy()) == 2


def test_evaluate_metrics_are_the_evaluation_metrics_of_the_ema_generator():
    gan = tiny_gan("mixlc", ema_decay=0.9)
    dataset = ready_dataset("mixlc")
    gan.fit(dataset, epochs=1, verbose=0)  # the EMA copy now differs from the generator
    scores = gan.evaluate(dataset, verbose=0, return_dict=True)
    l1, psnr = [], []
    for batch in dataset:
        output = gan.ema_generator(select_inputs(gan.ema_generator, batch), training=False)
        l1.append(metrics.masked_l1(batch["target"], output, batch["mask"]).numpy())
        psnr.append(metrics.masked_psnr(batch["target"], output).numpy())
    assert scores["masked_l1"] == pytest.approx(np.mean(np.concatenate(l1)), rel=1e-5)
    assert scores["psnr"] == pytest.approx(np.mean(np.concatenate(psnr)), rel=1e-5)


def test_feature_loss_term_is_reported_and_evaluate_changes_nothing():
    gan = tiny_gan("mixlc", feature_loss=VGGFeatureLoss(weights=None, layer="block1_conv2"),
                   feature_weight=1.0)
    dataset = ready_dataset("mixlc", count=4)
    history = gan.fit(dataset, epochs=1, verbose=0).history
    assert history["g_feature"][0] > 0
    before = [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]
    gan.evaluate(dataset, verbose=0)
    after = [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_raw_batches_are_built_into_samples_inside_the_step():
    builder = sample_builder("inpaint", num_classes=CLASSES, num_patches=1, patch_size=12)
    gan = tiny_gan("inpaint", sample_builder=builder)
    raw = tf.data.Dataset.from_tensor_slices(raw_batch(8)).batch(4, drop_remainder=True)
    history = gan.fit(raw, epochs=1, verbose=0).history
    assert all(math.isfinite(values[-1]) for values in history.values())
    assert math.isfinite(gan.evaluate(raw, verbose=0, return_dict=True)["masked_l1"])


def test_update_ema_moves_towards_the_weights_by_the_decay():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(keras.layers.Dense(3)(inputs)))
    ema = ema_copy(model)
    start = [w.numpy() for w in ema.weights]
    for w in model.weights:
        w.assign(w.numpy() + 1.0)
    update_ema(ema, model, decay=0.9, step=1000)  # warm-up over: rate = 0.9
    for e, w, s in zip(ema.weights, model.weights, start):
        expected = 0.9 * s + 0.1 * w.numpy() if w.trainable else w.numpy()  # stats copied
        np.testing.assert_allclose(e.numpy(), expected, rtol=1e-6)
    assert not ema.trainable_weights


def test_gan_ema_generator_tracks_the_generator():
    gan = tiny_gan("mixlc", ema_decay=0.99)
    start = [w.numpy() for w in gan.ema_generator.weights]
    gan.fit(ready_dataset("mixlc"), epochs=1, verbose=0)
    pairs = [(s, e.numpy(), g.numpy()) for s, e, g in
             zip(start, gan.ema_generator.weights, gan.generator.weights) if g.trainable]
    assert any(not np.allclose(s, e) for s, e, _ in pairs)  # moved
    assert any(not np.allclose(e, g) for _, e, g in pairs)  # an average, not a copy
    assert tiny_gan("mixlc", ema_decay=None).ema_generator is None


def test_argument_errors_name_the_argument():
    gan = tiny_gan("mixlc")
    with pytest.raises(ValueError, match="`feature_weight`"):
        LandcoverGAN(gan.generator, gan.discriminator, feature_weight=1.0)
    with pytest.raises(ValueError, match="`acgan_weight`"):
        LandcoverGAN(gan.generator, gan.discriminator, acgan_weight=1.0)
    with pytest.raises(ValueError, match="`gan_loss`"):
        LandcoverGAN(gan.generator, gan.discriminator, gan_loss="wgan")
    with pytest.raises(ValueError, match="`l1_weight` must be >= 0"):
        LandcoverGAN(gan.generator, gan.discriminator, l1_weight=-1.0)


def test_mixed_bfloat16_steps_are_finite():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = tiny_gan("inpaint", gan_loss="hinge")
        assert gan.generator.compute_dtype == "bfloat16"
        history = gan.fit(ready_dataset("inpaint"), epochs=2, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(math.isfinite(v) for values in history.values() for v in values)
    assert all(w.dtype == "float32" for w in gan.generator.trainable_weights)
