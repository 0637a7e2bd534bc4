"""CycleEditGAN: unpaired landcover editing, an "inpainting CycleGAN" held to the edit by a segmenter.

There is no image of a landcover after an edit, so nothing is compared with a target inside the
edited area. Each step (batches of task ``"cycle"``, :mod:`lcgan.data.edits`):

1. **edit**: the generator gets the rgb blanked inside the mask, the edited landcover ``lc_edit``
   and the mask; its output is composited with the input outside the mask;
2. **cycle**: the generator gets the *edited* image (its own output, not blanked), the landcover
   before the edit and the mask, and must give back the original pixels.

Losses (per example, reduced with ``tf.nn.compute_average_loss``):

- on the edit, the unpaired terms of :class:`~lcgan.training.gan.LandcoverGAN`: the adversarial
  loss of any lcgan discriminator conditioned on ``lc_edit`` (ACGAN class term, OASIS
  segmentation term where the discriminator has them), and the **segmenter consistency**: a
  frozen segmenter trained on real imagery must read the edited pixels as ``lc_edit``
  (cross-entropy over the mask, :func:`~lcgan.training.losses.consistency_loss`);
- on the cycle, the paired terms of LandcoverGAN against the original: L1 (``cycle_weight``),
  discriminator feature matching and the VGG feature loss where enabled;
- the discriminator sees real images with the landcover before the edit and edited images with
  ``lc_edit``; for OASIS only the edited pixels count as "fake".

There is **no identity loss inside the mask**: the generator is never asked to give back the
original from the blanked image and the original landcover, which is what makes a CycleGAN
conservative (the pytorch-CycleGAN-and-pix2pix FAQ). The cycle must see the edited pixels: a
cycle from the blanked image would be that identity loss (the blanked edited image *is* the
blanked original). The generator therefore keeps ``blank_input=False``; the sample builder
blanks the edit's input. The generator runs twice per step (edit, then cycle on the edit).

Reported metrics: ``d_loss``, ``d_real``, ``d_fake`` (``d_acgan``), ``g_loss``, ``g_gan``
(``g_acgan``), ``g_consistency``, ``g_cycle_l1`` (``g_cycle_fm``, ``g_cycle_feature``); in
``evaluate`` also ``edit_acc``, the share of changed pixels of the (EMA) generator's edits that
the training segmenter reads as the requested class, and ``cycle_l1``, the cycle's masked L1 on
the [0, 1] scale. Judge a generator with an independent segmenter, not with ``edit_acc``.

Example:
    >>> gan = CycleEditGAN(generator, discriminator, segmenter, consistency_weight=1.0,
    ...                    cycle_weight=10.0, sample_builder=sample_builder("cycle", num_classes=6))
    >>> gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> gan.fit(raw_batches, epochs=10, steps_per_epoch=100)
"""

import keras
from keras import ops

from lcgan.data import edits
from lcgan.evaluation.metrics import ImageMetric
from lcgan.images import shown_generator
from lcgan.models.blocks import select_inputs
from lcgan.training import losses
from lcgan.training.gan import PAIRED_METRICS, LandcoverGAN

CYCLE_PREFIX = "g_cycle_"
"""The paired terms of the cycle pass are LandcoverGAN's, renamed ``g_l1`` -> ``g_cycle_l1``."""


def _cycle_name(name):
    return CYCLE_PREFIX + name[2:]


class CycleEditGAN(LandcoverGAN):
    """Unpaired landcover editing with a frozen segmenter (see the module docstring).

    Args:
        generator: model with inputs ``rgb``, ``landcover_onehot``, ``mask`` that composites its
            output with ``rgb`` outside the mask and does not blank its input itself.
        discriminator: any discriminator :class:`LandcoverGAN` takes.
        segmenter: frozen landcover segmenter, input ``{"rgb"}`` (B, H, W, 3) -> (B, H, W, K)
            logits, trained on real imagery (e.g. :func:`lcgan.models.segmenter`). It is set
            non-trainable here and called in inference mode.
        consistency_weight: weight of the segmenter consistency term.
        consistency_margin: pixels next to the edit's edge left out of the consistency term
            (:func:`~lcgan.training.losses.consistency_loss`).
        consistency_balanced: weigh the requested classes alike in that term (OASIS's class
            balancing over the batch's edited pixels).
        cycle_weight: weight of the cycle L1 term.
        **options: the other :class:`LandcoverGAN` arguments (``gan_weight``, ``acgan_weight``,
            ``feature_matching_weight``, ``feature_weight`` with ``feature_loss``, ``gan_loss``,
            ``ema_decay``, ``sample_builder``, ``seed``); their paired terms apply to the cycle.

    Raises:
        ValueError: a negative weight, a generator without a ``mask`` input, or a segmenter whose
            class count differs from the generator's.
    """

    def __init__(self, generator, discriminator, segmenter, *, consistency_weight=1.0,
                 consistency_margin=0, consistency_balanced=False, cycle_weight=10.0, **options):
        if "l1_weight" in options:
            raise ValueError("CycleEditGAN has no paired L1 on the edit; weigh the cycle's L1 "
                             "with `cycle_weight`.")
        super().__init__(generator, discriminator, l1_weight=cycle_weight, **options)
        if consistency_weight < 0:
            raise ValueError(f"`consistency_weight` must be >= 0. Received: {consistency_weight}")
        if isinstance(consistency_margin, bool) or not isinstance(consistency_margin, int) \
                or consistency_margin < 0:
            raise ValueError(f"`consistency_margin` must be an integer >= 0. "
                             f"Received: {consistency_margin!r}")
        self.consistency_margin = consistency_margin
        self.consistency_balanced = bool(consistency_balanced)
        names = [tensor.name for tensor in generator.inputs]
        if "mask" not in names:
            raise ValueError(f"The cycle generator must take a 'mask' input and composite its "
                             f"output. Received inputs {names}.")
        self.num_classes = int(next(t.shape[-1] for t in generator.inputs
                                    if t.name == "landcover_onehot"))
        classes = int(segmenter.output.shape[-1])
        if classes != self.num_classes:
            raise ValueError(f"`segmenter` {segmenter.name!r} predicts {classes} classes but the "
                             f"generator takes {self.num_classes}.")
        segmenter.trainable = False
        self.segmenter = segmenter
        self.loss_weights["consistency_weight"] = consistency_weight
        paired = [n for n in self.train_metric_names if n in PAIRED_METRICS]
        self.train_metric_names = tuple(
            [n for n in self.train_metric_names if n not in paired]
            + ["g_consistency"] + [_cycle_name(n) for n in paired])
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.train_metric_names}
        self.trackers["edit_acc"] = keras.metrics.Mean(name="edit_acc")
        self.trackers["cycle_l1"] = ImageMetric("l1", masked=True, name="cycle_l1")

    def before_edit(self, batch):
        """``batch`` as the original scene: ``landcover`` (and its one-hot) of before the edit."""
        if "landcover_before" not in batch:
            raise KeyError(f"A cycle batch needs 'landcover_before' (task 'cycle' samples). "
                           f"Batch keys: {sorted(batch)}")
        before = batch["landcover_before"]
        return {**batch, "landcover": before,
                "landcover_onehot": ops.one_hot(before, self.num_classes)}

    def edit_and_cycle(self, generator, batch, training=False):
        """(edited (B, H, W, 3), cycled back (B, H, W, 3)) of ``generator`` on a cycle batch."""
        edited = generator(select_inputs(generator, batch), training=training)
        back = {**self.before_edit(batch), "rgb": edited}
        return edited, generator(select_inputs(generator, back), training=training)

    def _forward(self, batch, training):
        """The edit, the cycle, the discriminator on real, edited (and cycled) images and the
        segmenter on the edit.

        Returns:
            (edited, discriminator outputs on real, on edited); the latter also holds
            ``"cycled"``, ``"cycled_out"`` (the discriminator on it, for feature matching),
            ``"segmenter_logits"`` and ``"generated"`` (B, H, W): the edited region.
        """
        edited, cycled = self.edit_and_cycle(self.generator, batch, training=training)
        original = self.before_edit(batch)
        real_out = self._discriminate(original, batch["target"], training)
        fake_out = self._discriminate(batch, edited, training)
        fake_out["cycled"] = cycled
        fake_out["cycled_out"] = (self._discriminate(original, cycled, training)
                                  if self.loss_weights["feature_matching_weight"] > 0 else None)
        fake_out["segmenter_logits"] = self.segmenter({"rgb": edited}, training=False)
        fake_out["generated"] = ops.cast(batch["mask"][..., 0], "float32")
        return edited, real_out, fake_out

    def _discriminator_terms(self, batch, real_out, fake_out):
        """LandcoverGAN's discriminator terms, real images labelled with their own landcover."""
        return super()._discriminator_terms(self.before_edit(batch), real_out, fake_out)

    def _generator_terms(self, batch, fake, real_out, fake_out):
        """Unpaired terms of the edit, consistency, and paired terms of the cycle: {name: (B,)}."""
        terms, total = self._unpaired_terms(batch, fake, fake_out)
        terms["g_consistency"] = losses.consistency_loss(
            batch["landcover"], fake_out["segmenter_logits"], batch["mask"],
            margin=self.consistency_margin, balanced=self.consistency_balanced)
        total = total + self.loss_weights["consistency_weight"] * terms["g_consistency"]
        paired, paired_total = self._paired_terms(self.before_edit(batch), fake_out["cycled"],
                                                  real_out, fake_out["cycled_out"])
        terms.update({_cycle_name(name): value for name, value in paired.items()})
        terms["g_loss"] = total + paired_total
        return terms

    def _update_eval_metrics(self, batch):
        """``edit_acc`` and ``cycle_l1`` of the shown (EMA) generator."""
        edited, cycled = self.edit_and_cycle(shown_generator(self), batch)
        predicted = ops.argmax(self.segmenter({"rgb": edited}, training=False), axis=-1)
        wanted = ops.cast(batch["landcover"], "int32")
        changed = ops.cast(edits.changed(batch["landcover_before"], wanted, batch["mask"]), "float32")
        hits = ops.cast(ops.equal(ops.cast(predicted, "int32"), wanted), "float32") * changed
        self.trackers["edit_acc"].update_state(ops.sum(hits) / ops.maximum(ops.sum(changed), 1.0),
                                               sample_weight=ops.sum(changed))
        self.trackers["cycle_l1"].update_state(batch["target"], cycled, batch["mask"])
