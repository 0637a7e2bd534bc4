"""LandcoverGAN: trains a landcover-conditioned generator against a discriminator with ``fit``.

Each ``train_step`` runs the generator once, takes both losses from that forward, updates the
discriminator and the generator, then the generator's EMA copy (see :meth:`LandcoverGAN.train_step`).
Batches are MODEL-READY dicts (``rgb``, ``landcover``, ``landcover``, ``mask``, ``target``; see
``lcgan.data.build_samples``) or raw tile batches turned into samples inside the step by
``sample_builder(batch, seed)``, so that work runs on the accelerator.

Reported metrics (the names are stable):

=============  ==============================================================================
``d_loss``     discriminator total: adversarial + ``acgan_weight`` * ``d_acgan`` (OASIS: the
               class-balanced segmentation loss on real + the "fake"-class loss on generated pixels)
``d_real``     mean discriminator score on real images (OASIS: probability of "not fake")
``d_fake``     mean discriminator score on generated images
``d_acgan``    ACGAN cross-entropy on real images (ACGAN discriminators only)
``g_loss``     generator total: weighted sum of the terms below
``g_l1``       masked L1 between output and target (inside/outside weights applied)
``g_gan``      generator adversarial loss (OASIS: the class-balanced segmentation loss on its images)
``g_feature``  VGG feature loss (when a ``feature_loss`` is given)
``g_fm``       discriminator feature matching (when ``feature_matching_weight`` > 0)
``g_acgan``    ACGAN cross-entropy on generated images (ACGAN discriminators only)
``g_seam``     colour step across the mask's edge (when ``seam_weight`` > 0)
``g_low``      L1 of the block means inside the mask (when ``low_frequency_weight`` > 0)
``g_chroma``   L1 of the colour-difference channels inside the mask (when ``chroma_weight`` > 0)
``g_ssim``     1 - SSIM of the masked area (when ``ssim_weight`` > 0)
``g_texture``  L1 of the luma and chroma texture energies inside the mask (when
               ``texture_weight`` > 0)
``masked_l1``  ``evaluate`` only: :func:`lcgan.evaluation.metrics.masked_l1` inside the mask, [0, 1] scale
``psnr``       ``evaluate`` only: whole-image :func:`lcgan.evaluation.metrics.masked_psnr` in dB, peak 1 on
               the [0, 1] scale (``max_val=2`` in [-1, 1])
=============  ==============================================================================

The two ``evaluate`` metrics score the EMA generator when there is one, average over images and
skip images where they are undefined (an empty mask, or identical images for PSNR); they use the
evaluation scale of :mod:`lcgan.evaluation.metrics`, whereas the ``g_*`` terms are losses on the [-1, 1] scale.

Example:
    >>> gan = LandcoverGAN(generator, discriminator, l1_weight=100.0, ema_decay=0.999)
    >>> gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> gan.fit(dataset, epochs=10, steps_per_epoch=100)
"""

import keras
import tensorflow as tf
from keras import ops

from lcgan.training import compat, losses
from lcgan.training.ema import ema_copy, update_ema
from lcgan.evaluation.metrics import ImageMetric
from lcgan.models.blocks import select_inputs
from lcgan.images import shown_generator

TRAIN_METRICS = ("d_loss", "d_real", "d_fake", "d_acgan", "g_loss", "g_l1", "g_gan", "g_feature",
                 "g_fm", "g_acgan", "g_seam", "g_low", "g_chroma", "g_ssim", "g_texture")
MASKED_TERMS = {"g_chroma": ("chroma_weight", losses.chroma_l1),
                "g_ssim": ("ssim_weight", losses.ssim_loss),
                "g_texture": ("texture_weight", losses.texture_energy_l1)}
"""Metric -> (weight name, ``loss(target, output, mask) -> (B,)``): the terms that compare the
generated region with the target's by one call and nothing else."""
PAIRED_METRICS = ("g_l1", "g_low", *MASKED_TERMS, "g_fm", "g_feature")
"""The terms of :meth:`LandcoverGAN._paired_terms`: they compare the output with a target."""
DISCRIMINATOR_OUTPUTS = ({"patch"}, {"patch", "classes"}, {"segmentation"})
"""The output layouts a discriminator may have (each optionally with ``"features"``): PatchGAN or
local + global scores, ACGAN scores + class logits, OASIS (K+1)-class segmentation logits."""
EVAL_METRICS = ("masked_l1", "psnr")


def _average(per_example):
    """(B,) -> scalar divided by the global batch size (sums correctly across replicas)."""
    return tf.nn.compute_average_loss(ops.cast(per_example, "float32"))


def _mean_score(scores):
    """(B, ...) scores -> (B,) float32 mean per example (patch grids and single scores alike)."""
    return ops.mean(ops.cast(scores, "float32"), axis=tuple(range(1, len(scores.shape))))


class LandcoverGAN(compat.NoSymbolicBuild, compat.OneFunctionStep, keras.Model):
    """Conditional GAN trainer for any lcgan generator / discriminator pair.

    Args:
        generator: model with named inputs ``rgb``, ``landcover`` (and ``mask``), output (B,H,W,3).
        discriminator: model with inputs among ``rgb``, ``landcover_onehot``, ``mask`` returning raw
            patch scores (B,h,w,1), or a dict of one of the :data:`DISCRIMINATOR_OUTPUTS` layouts:
            ``{"patch": ..., "classes": (B,H,W,K) logits}`` (ACGAN), ``{"segmentation": (B,H,W,K+1)
            logits}`` (OASIS: replaces the real/fake loss), each optionally with ``"features"``, a
            list of intermediate activations (needed by ``feature_matching_weight``).
        l1_weight: weight of the masked L1 term.
        gan_weight: weight of the generator adversarial term.
        feature_weight: weight of the feature (perceptual) term; needs ``feature_loss``.
        acgan_weight: weight of the ACGAN class terms; needs a dict-output discriminator.
        feature_matching_weight: weight of the discriminator feature-matching term (pix2pixHD);
            needs a discriminator with a ``"features"`` output.
        l1_inside_weight: L1 weight of pixels inside the mask.
        l1_outside_weight: L1 weight of pixels outside the mask.
        seam_weight: weight of :func:`lcgan.training.losses.seam_loss` on the output (the colour
            step across the mask's edge; needs a ``mask`` in the batches).
        low_frequency_weight: weight of :func:`lcgan.training.losses.low_frequency_l1`, the L1
            of ``low_frequency_size`` x ``low_frequency_size`` block means inside the mask.
        low_frequency_size: block side in pixels of that term.
        chroma_weight: weight of :func:`lcgan.training.losses.chroma_l1`, the per-pixel hue
            (Cb, Cr) L1 inside the mask.
        ssim_weight: weight of :func:`lcgan.training.losses.ssim_loss`, 1 - SSIM of the masked
            area.
        texture_weight: weight of :func:`lcgan.training.losses.texture_energy_l1`, the L1 of the
            luma and chroma texture energies inside the mask.
        gan_loss: ``"lsgan"`` (least squares) or ``"hinge"``.
        feature_loss: callable ``(target, output) -> (B,)``, e.g. :class:`lcgan.training.losses.VGGFeatureLoss`.
        ema_decay: decay of the generator's moving average copy, or None for no copy.
        sample_builder: callable ``(raw_batch, seed) -> model-ready dict`` applied inside the step.
        seed: int seed of the step's SeedGenerator (None: random).
    """

    def __init__(self, generator, discriminator, *, l1_weight=100.0, gan_weight=1.0,
                 feature_weight=0.0, acgan_weight=0.0, feature_matching_weight=0.0, l1_inside_weight=1.0,
                 l1_outside_weight=1.0, seam_weight=0.0, low_frequency_weight=0.0,
                 low_frequency_size=8, chroma_weight=0.0, ssim_weight=0.0, texture_weight=0.0,
                 gan_loss="lsgan", feature_loss=None, ema_decay=0.999, sample_builder=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        weights = dict(l1_weight=l1_weight, gan_weight=gan_weight, feature_weight=feature_weight,
                       acgan_weight=acgan_weight, feature_matching_weight=feature_matching_weight,
                       l1_inside_weight=l1_inside_weight,
                       l1_outside_weight=l1_outside_weight, seam_weight=seam_weight,
                       low_frequency_weight=low_frequency_weight, chroma_weight=chroma_weight,
                       ssim_weight=ssim_weight, texture_weight=texture_weight)
        for name, value in weights.items():
            if value < 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {value}")
        if isinstance(low_frequency_size, bool) or not isinstance(low_frequency_size, int) \
                or low_frequency_size < 1:
            raise ValueError(f"`low_frequency_size` must be an integer >= 1. "
                             f"Received: {low_frequency_size!r}")
        if gan_loss not in losses.GAN_LOSSES:
            raise ValueError(f"`gan_loss` must be one of {losses.GAN_LOSSES}. Received: {gan_loss!r}")
        if feature_weight > 0 and feature_loss is None:
            raise ValueError(f"`feature_weight` is {feature_weight} but no `feature_loss` was "
                             "given; pass feature_loss=VGGFeatureLoss(...) or feature_weight=0.")
        keys = set(discriminator.output) if isinstance(discriminator.output, dict) else {"patch"}
        if keys - {"features"} not in DISCRIMINATOR_OUTPUTS:
            raise ValueError("A dict-output `discriminator` must return the keys of one of "
                             f"{[sorted(k) for k in DISCRIMINATOR_OUTPUTS]} (and optionally "
                             f"'features'). Received: {sorted(keys)}")
        self.acgan, self.oasis = "classes" in keys, "segmentation" in keys
        if feature_matching_weight > 0 and "features" not in keys:
            raise ValueError(f"`feature_matching_weight` is {feature_matching_weight} but "
                             f"`discriminator` {discriminator.name!r} has no 'features' output "
                             "(build it with features=True).")
        if acgan_weight > 0 and not self.acgan:
            raise ValueError(f"`acgan_weight` is {acgan_weight} but `discriminator` "
                             f"{discriminator.name!r} has no 'classes' output (use "
                             "acgan_discriminator or acgan_weight=0).")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in [0, 1) or None. Received: {ema_decay}")
        self.generator = generator
        self.discriminator = discriminator
        self.ema_generator = None if ema_decay is None else ema_copy(generator)
        self.loss_weights = weights
        self.low_frequency_size = low_frequency_size
        self.gan_loss = gan_loss
        self.feature_loss = feature_loss
        self.ema_decay = ema_decay
        self.sample_builder = sample_builder
        self.seed_generator = keras.random.SeedGenerator(seed, name="train_seeds")
        self.eval_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1, name="eval_seeds")
        used = {"d_acgan": self.acgan, "g_acgan": self.acgan, "g_feature": feature_loss is not None,
                "g_fm": feature_matching_weight > 0, "g_seam": seam_weight > 0,
                "g_low": low_frequency_weight > 0,
                **{name: weights[weight] > 0 for name, (weight, _) in MASKED_TERMS.items()}}
        self.train_metric_names = tuple(n for n in TRAIN_METRICS if used.get(n, True))
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.train_metric_names}
        self.trackers["masked_l1"] = ImageMetric("l1", masked=True, name="masked_l1")
        self.trackers["psnr"] = ImageMetric("psnr", masked=False, name="psnr")
        self.built = True  # the networks are built; the wrapper has no weights of its own

    @property
    def metrics(self):
        """The trackers Keras resets each epoch (train names, then ``masked_l1``, ``psnr``)."""
        return list(self.trackers.values())

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        """Set the two optimizers (wrapped for loss scaling under ``mixed_float16``).

        Args:
            g_optimizer: optimizer of the generator.
            d_optimizer: optimizer of the discriminator.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``, ``steps_per_execution``).
        """
        if keras.mixed_precision.dtype_policy().name == "mixed_float16":
            g_optimizer, d_optimizer = (
                opt if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(opt) for opt in (g_optimizer, d_optimizer))
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        # Keras sees the generator's optimizer (its iterations count steps for callbacks).
        super().compile(optimizer=g_optimizer, **kwargs)
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)

    def call(self, inputs, training=False):
        """Generate images for a model-ready batch dict: (B, H, W, 3) in [-1, 1]."""
        return self.generator(select_inputs(self.generator, inputs), training=training)

    def _prepare(self, data, seed_generator):
        if self.sample_builder is None:
            return data
        return self.sample_builder(data, seed_generator.next())

    def _discriminate(self, batch, rgb, training):
        """Discriminator outputs on ``rgb``: ``{"scores": (B,h,w,1) (OASIS: (B,H,W,1) probability of
        not "fake"), "classes": ACGAN logits, "segmentation": OASIS logits, "features": list}``
        (None where the discriminator has no such output)."""
        out = self.discriminator(select_inputs(self.discriminator, {**batch, "rgb": rgb}),
                                 training=training)
        out = out if isinstance(out, dict) else {"patch": out}
        segmentation = out.get("segmentation")
        scores = out["patch"] if segmentation is None else losses.oasis_realness(segmentation)
        return {"scores": scores, "classes": out.get("classes"), "segmentation": segmentation,
                "features": out.get("features")}

    def _forward(self, batch, training):
        """One generator forward and the discriminator on real and generated images.

        Returns:
            (generated (B, H, W, 3), discriminator outputs on real, on generated). For OASIS the
            generated outputs also hold ``"generated"`` (B, H, W): 1 where the output differs from
            the target (a composited pixel copied from the input is real, not fake).
        """
        fake = self.generator(select_inputs(self.generator, batch), training=training)
        real_out = self._discriminate(batch, batch["target"], training)
        fake_out = self._discriminate(batch, fake, training)
        if self.oasis:
            differs = ops.not_equal(fake, ops.cast(batch["target"], fake.dtype))
            fake_out["generated"] = ops.cast(ops.any(differs, axis=-1), "float32")
        return fake, real_out, fake_out

    def _discriminator_terms(self, batch, real_out, fake_out):
        """Per-example discriminator terms {name: (B,)} and the total ``d_loss``."""
        real_scores, fake_scores = real_out["scores"], fake_out["scores"]
        if self.oasis:
            adversarial = (
                losses.oasis_loss(batch["landcover"], real_out["segmentation"], real=True)
                + losses.oasis_loss(batch["landcover"], fake_out["segmentation"], real=False,
                                    region=fake_out["generated"]))
        else:
            adversarial = losses.discriminator_loss(real_scores, fake_scores, kind=self.gan_loss)
        terms = {"d_real": _mean_score(real_scores), "d_fake": _mean_score(fake_scores)}
        if self.acgan:
            terms["d_acgan"] = losses.acgan_loss(batch["landcover"], real_out["classes"])
            adversarial = adversarial + self.loss_weights["acgan_weight"] * terms["d_acgan"]
        terms["d_loss"] = adversarial
        return terms

    def _generator_terms(self, batch, fake, real_out, fake_out):
        """Per-example generator terms {name: (B,)} including the weighted total ``g_loss``."""
        terms, total = self._unpaired_terms(batch, fake, fake_out)
        paired, paired_total = self._paired_terms(batch, fake, real_out, fake_out)
        return {**terms, **paired, "g_loss": total + paired_total}

    def _unpaired_terms(self, batch, fake, fake_out):
        """What the discriminator says of ``fake`` given ``batch["landcover"]``, and its seam: the
        terms that need no target.

        Returns:
            ({"g_gan": (B,), "g_acgan": (B,) for ACGAN, "g_seam": (B,) with ``seam_weight``},
            their weighted sum (B,)).
        """
        w = self.loss_weights
        terms = {"g_gan": (losses.oasis_loss(batch["landcover"], fake_out["segmentation"], real=True)
                           if self.oasis else
                           losses.generator_adversarial_loss(fake_out["scores"], kind=self.gan_loss))}
        total = w["gan_weight"] * terms["g_gan"]
        if self.acgan:
            terms["g_acgan"] = losses.acgan_loss(batch["landcover"], fake_out["classes"])
            total = total + w["acgan_weight"] * terms["g_acgan"]
        if w["seam_weight"] > 0:
            terms["g_seam"] = losses.seam_loss(fake, batch["mask"])
            total = total + w["seam_weight"] * terms["g_seam"]
        return terms, total

    def _paired_terms(self, batch, fake, real_out, fake_out):
        """The terms comparing ``fake`` with ``batch["target"]``: L1, low frequencies, chroma,
        SSIM, texture energy, feature matching, VGG.

        Returns:
            ({"g_l1": (B,), then each of :data:`PAIRED_METRICS` that is enabled}, their weighted
            sum (B,)).
        """
        w = self.loss_weights
        terms = {"g_l1": losses.reconstruction_l1(batch["target"], fake, batch.get("mask"),
                                                  inside_weight=w["l1_inside_weight"],
                                                  outside_weight=w["l1_outside_weight"])}
        total = w["l1_weight"] * terms["g_l1"]
        if w["low_frequency_weight"] > 0:
            terms["g_low"] = losses.low_frequency_l1(batch["target"], fake, batch["mask"],
                                                     self.low_frequency_size)
            total = total + w["low_frequency_weight"] * terms["g_low"]
        for name, (weight, loss) in MASKED_TERMS.items():
            if w[weight] > 0:
                terms[name] = loss(batch["target"], fake, batch["mask"])
                total = total + w[weight] * terms[name]
        if w["feature_matching_weight"] > 0:
            terms["g_fm"] = losses.feature_matching_loss(real_out["features"], fake_out["features"])
            total = total + w["feature_matching_weight"] * terms["g_fm"]
        if self.feature_loss is not None:
            terms["g_feature"] = self.feature_loss(batch["target"], fake)
            total = total + w["feature_weight"] * terms["g_feature"]
        return terms, total

    def _apply(self, tape, scaled_loss, network, optimizer):
        """Apply the gradients of ``scaled_loss`` (``optimizer.scale_loss`` of the loss, computed
        under ``tape``: a product taken after the tape closed has no gradient)."""
        variables = network.trainable_variables
        optimizer.apply(tape.gradient(scaled_loss, variables), variables)

    def _record(self, terms):
        for name, per_example in terms.items():
            self.trackers[name].update_state(ops.mean(ops.cast(per_example, "float32")))

    def _logs(self, names):
        """Tracker results by name (already synchronised across replicas and workers)."""
        return compat.per_worker_logs({name: self.trackers[name].result() for name in names})

    def train_step(self, data):
        """One training step, in order (the TF pix2pix tutorial's semantics: simultaneous updates):

        1. build the samples from a raw batch (when a ``sample_builder`` is set);
        2. run the generator ONCE and the discriminator on the real and on the generated images,
           under two tapes (one per network);
        3. take the discriminator loss and the generator loss from those same outputs;
        4. apply the discriminator's gradients, then the generator's (both computed from the
           discriminator before its update), then update the EMA generator.

        One forward feeds both losses, so batch-norm statistics advance once per step and the
        step costs one generator pass, not two.
        """
        batch = self._prepare(data, self.seed_generator)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake, real_out, fake_out = self._forward(batch, training=True)
            d_terms = self._discriminator_terms(batch, real_out, fake_out)
            g_terms = self._generator_terms(batch, fake, real_out, fake_out)
            d_loss, g_loss = _average(d_terms["d_loss"]), _average(g_terms["g_loss"])
            d_scaled, g_scaled = self.d_optimizer.scale_loss(d_loss), self.g_optimizer.scale_loss(g_loss)
        self._apply(d_tape, d_scaled, self.discriminator, self.d_optimizer)
        self._apply(g_tape, g_scaled, self.generator, self.g_optimizer)
        if self.ema_generator is not None:
            update_ema(self.ema_generator, self.generator, decay=self.ema_decay,
                       step=self.g_optimizer.iterations)
        self._record(d_terms)
        self._record(g_terms)
        return self._logs(self.train_metric_names)

    def test_step(self, data):
        batch = self._prepare(data, self.eval_seed_generator)
        fake, real_out, fake_out = self._forward(batch, training=False)
        self._record(self._discriminator_terms(batch, real_out, fake_out))
        self._record(self._generator_terms(batch, fake, real_out, fake_out))
        self._update_eval_metrics(batch)
        return self._logs(self.trackers)

    def _update_eval_metrics(self, batch):
        """The ``evaluate``-only metrics, of the shown (EMA) generator."""
        shown = shown_generator(self)
        output = shown(select_inputs(shown, batch), training=False)
        for name in EVAL_METRICS:  # ImageMetric: (target, generated, mask) -> running mean
            self.trackers[name].update_state(batch["target"], output, batch["mask"])
