"""The configuration of a training run: one dataclass shared by ``lcgan.train``, the CLI and resume.

A run folder keeps its configuration as ``config.json`` so a later run in the same folder can be
compared with it (see :meth:`TrainConfig.differences`).

Example:
    >>> config = TrainConfig.for_task("inpaint", image_size=128, width=32)
    >>> config.acgan_weight
    1.0
"""

from __future__ import annotations

import dataclasses
import json

from lcgan.data.tasks import TASKS

PRECISIONS = ("off", "auto", "mixed_bfloat16", "mixed_float16")
GAN_LOSSES = ("lsgan", "hinge")
GENERATORS = ("unet", "dual_branch")
DISCRIMINATORS = ("patch", "acgan", "local_global", "oasis")
UPSAMPLES = ("resize", "transpose")

TASK_DEFAULTS = {
    # mixlc and inpaint: the winners of bench/bench_quality.py (bench/results/quality*.md), checked
    # at 128 px (bench/results/reference.md: class colours won there, not at 64 px); cycle:
    # noise, consistency 3 and seam 2 from bench/bench_cycle.py (bench/results/cycle*.md).
    "mixlc": dict(generator="unet", discriminator="oasis", dilated=False, mask_input=True,
                  noise_channels=8, l1_weight=100.0, l1_inside_weight=0.1, gan_weight=1.0,
                  feature_weight=0.01, feature_matching_weight=10.0, texture_weight=10.0,
                  acgan_weight=0.0),
    "inpaint": dict(generator="dual_branch", discriminator="oasis", dilated=True, mask_input=True,
                    noise_channels=8, class_colors=True, l1_weight=100.0, l1_inside_weight=0.1,
                    gan_weight=1.0, feature_weight=0.0, feature_matching_weight=10.0, seam_weight=5.0,
                    low_frequency_weight=10.0, acgan_weight=1.0),
    "cycle": dict(generator="dual_branch", discriminator="acgan", dilated=True, mask_input=True,
                  noise_channels=8, l1_weight=10.0, gan_weight=1.0, feature_weight=0.0,
                  acgan_weight=1.0, feature_matching_weight=1.0, consistency_weight=3.0,
                  seam_weight=2.0),
}
"""Networks and loss weights that differ between the tasks' recipes."""


LEGACY_NETWORKS = {
    "mixlc": dict(generator="unet", discriminator="patch", dilated=False, mask_input=False,
                  upsample="transpose", feature_matching_weight=0.0),
    "inpaint": dict(generator="dual_branch", discriminator="acgan", dilated=True, mask_input=True,
                    upsample="transpose", feature_matching_weight=0.0),
}
"""What lcgan 0.1 trained before the networks became options: the fields a ``config.json`` of
that version lacks (:meth:`TrainConfig.load`), so its checkpoints resume into the same networks."""


@dataclasses.dataclass
class TrainConfig:
    """Everything that decides what a training run computes (not where it reads or writes).

    Attributes:
        task: ``"mixlc"`` or ``"inpaint"``.
        image_size: square crop size in pixels.
        batch_size: images per step.
        epochs: epochs to train (``fit``'s ``epochs``).
        steps_per_epoch: steps per epoch.
        width: channels of the networks' first layers.
        generator: ``"unet"`` (rgb and landcover concatenated) or ``"dual_branch"`` (two encoders).
        discriminator: ``"patch"`` (conditional PatchGAN), ``"acgan"`` (PatchGAN + per-pixel class
            head), ``"local_global"`` (GLCIC: a branch on a crop around the mask + a global one)
            or ``"oasis"`` (per-pixel (K+1)-class segmenter; replaces the GAN and ACGAN terms).
        dilated: dilated convolutions in the landcover encoder (``dual_branch`` only).
        mask_input: the generator's rgb is blanked inside the mask, the mask is an input channel
            and the output is composited with the input outside it (GLCIC / DeepFill).
        upsample: ``"resize"`` (resize then convolve, no checkerboard) or ``"transpose"``.
        noise_channels: per-pixel N(0, 1) latent maps fed to the generator inside the mask, drawn
            anew on every call (0: a deterministic generator); see
            :func:`lcgan.models.blocks.noise_channels`.
        class_colors: the generator also gets each class's colour mean and spread over the
            known pixels of its input (:class:`lcgan.models.context.ClassColorStats`).
        learning_rate: Adam rate of generator and discriminator.
        gan_loss: ``"lsgan"`` or ``"hinge"``.
        l1_weight, gan_weight, feature_weight, acgan_weight: loss weights (task defaults);
            ``acgan_weight`` applies to the ``acgan`` discriminator only. For ``cycle`` the L1,
            VGG and feature-matching terms compare the cycle with the original (there is no
            paired target of the edit).
        consistency_weight: ``cycle`` only: weight of the segmenter consistency term.
        consistency_margin: ``cycle`` only: pixels next to the edit's edge that the consistency
            term leaves out, so the edit may blend into its surroundings there.
        consistency_balanced: ``cycle`` only: the requested classes weigh alike in the
            consistency term (OASIS class balancing over the batch's edited pixels).
        segmenter: ``cycle`` only: the frozen segmenter (``.keras``) that must read the edit as
            requested; "" takes the packaged one for the bundled Dubai legend.
        transitions: ``cycle`` only: JSON file of the class-transition matrix of the edits (see
            :func:`lcgan.data.edits.transition_matrix`); "" makes every change equally likely.
        feature_matching_weight: weight of the discriminator feature-matching loss (0: off).
        l1_inside_weight, l1_outside_weight: L1 weights inside / outside the mask.
        seam_weight: weight of the colour step across the mask's edge
            (:func:`lcgan.training.losses.seam_loss`; for ``cycle``, of the edit).
        low_frequency_weight: weight of the L1 of block means inside the mask
            (:func:`lcgan.training.losses.low_frequency_l1`; for ``cycle``, of the cycle).
        low_frequency_size: block side in pixels of that term.
        chroma_weight: weight of the per-pixel hue (Cb, Cr) L1 inside the mask
            (:func:`lcgan.training.losses.chroma_l1`; for ``cycle``, of the cycle).
        ssim_weight: weight of 1 - SSIM of the masked area
            (:func:`lcgan.training.losses.ssim_loss`; for ``cycle``, of the cycle).
        texture_weight: weight of the L1 of the luma and chroma texture energies inside the mask
            (:func:`lcgan.training.losses.texture_energy_l1`; for ``cycle``, of the cycle).
        ema_decay: decay of the exported moving-average generator; 0 disables it.
        vgg_weights: VGG16 weights of the feature loss: ``"imagenet"``, a file path, or ``"none"``.
        require_vgg: fail instead of training without the feature loss when VGG16 weights lack.
        mixed_precision: one of ``PRECISIONS``.
        samples_in_step: build samples inside the train step (on the accelerator).
        seed: random seed.
    """

    task: str = "mixlc"
    image_size: int = 64
    batch_size: int = 8
    epochs: int = 10
    steps_per_epoch: int = 20
    width: int = 16
    generator: str = "unet"
    discriminator: str = "patch"
    dilated: bool = False
    mask_input: bool = False
    upsample: str = "resize"
    noise_channels: int = 0
    class_colors: bool = False
    learning_rate: float = 2e-4
    gan_loss: str = "lsgan"
    l1_weight: float = 100.0
    gan_weight: float = 1.0
    feature_weight: float = 0.01
    acgan_weight: float = 0.0
    feature_matching_weight: float = 0.0
    consistency_weight: float = 0.0
    consistency_margin: int = 0
    consistency_balanced: bool = False
    segmenter: str = ""
    transitions: str = ""
    l1_inside_weight: float = 1.0
    l1_outside_weight: float = 1.0
    seam_weight: float = 0.0
    low_frequency_weight: float = 0.0
    low_frequency_size: int = 8
    chroma_weight: float = 0.0
    ssim_weight: float = 0.0
    texture_weight: float = 0.0
    ema_decay: float = 0.999
    vgg_weights: str = "imagenet"
    require_vgg: bool = False
    mixed_precision: str = "off"
    samples_in_step: bool = False
    seed: int = 0

    def __post_init__(self):
        for name, choices in (("task", TASKS), ("gan_loss", GAN_LOSSES),
                              ("mixed_precision", PRECISIONS), ("generator", GENERATORS),
                              ("discriminator", DISCRIMINATORS), ("upsample", UPSAMPLES)):
            if getattr(self, name) not in choices:
                raise ValueError(f"`{name}` must be one of {list(choices)}. "
                                 f"Received: {getattr(self, name)!r}")
        for name in ("image_size", "batch_size", "steps_per_epoch", "width", "low_frequency_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be an integer >= 1. Received: {value!r}")
        for name in ("epochs", "noise_channels", "consistency_margin"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be an integer >= 0. Received: {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0. Received: {self.learning_rate!r}")
        for name in ("l1_weight", "gan_weight", "feature_weight", "acgan_weight",
                     "feature_matching_weight", "consistency_weight", "l1_inside_weight",
                     "l1_outside_weight", "seam_weight", "low_frequency_weight", "chroma_weight",
                     "ssim_weight", "texture_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0. Received: {getattr(self, name)!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in [0, 1). Received: {self.ema_decay!r}")
        if self.task == "cycle" and not self.mask_input:
            raise ValueError("Task 'cycle' re-renders the masked area only: `mask_input` must be "
                             "True (mask channel, composited output).")
        cycle_only = {"consistency_weight": 0.0, "consistency_margin": 0,
                      "consistency_balanced": False, "segmenter": "",
                      "transitions": ""}
        given = [name for name, off in cycle_only.items() if getattr(self, name) != off]
        if self.task != "cycle" and given:
            raise ValueError(f"{given} apply to task 'cycle' only. Received task {self.task!r}.")

    @classmethod
    def for_task(cls, task: str, **overrides) -> "TrainConfig":
        """The recipe of ``task`` with its loss-weight defaults, then ``overrides`` applied.

        Raises:
            ValueError: an unknown task or option (naming it), or a bad value.
        """
        if task not in TASKS:
            raise ValueError(f"`task` must be one of {list(TASKS)}. Received: {task!r}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"Unknown training option(s) {unknown}; known: {sorted(known)}.")
        return cls(**{"task": task, **TASK_DEFAULTS[task], **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path) -> None:
        """Write ``path`` (JSON) atomically."""
        from lcgan.outputs import atomic_file

        with atomic_file(path) as tmp, open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)

    @classmethod
    def load(cls, path) -> "TrainConfig":
        with open(path) as f:
            values = json.load(f)
        known = {field.name for field in dataclasses.fields(cls)} - {"task"}
        task = values.get("task", "mixlc")
        # A file without the network fields was written when the networks were fixed per task;
        # one without noise_channels (consistency_margin, ...), before generators could take noise
        # (before the consistency margin, its class balancing, the seam, low-frequency and
        # chroma, SSIM and texture terms, class colours).
        values = {**LEGACY_NETWORKS.get(task, {}), "noise_channels": 0, "consistency_margin": 0,
                  "consistency_balanced": False, "class_colors": False, "seam_weight": 0.0,
                  "low_frequency_weight": 0.0, "chroma_weight": 0.0, "ssim_weight": 0.0,
                  "texture_weight": 0.0, **values}
        return cls.for_task(task, **{k: v for k, v in values.items() if k in known})

    def differences(self, other: "TrainConfig") -> dict:
        """``{name: (self's value, other's value)}`` of the fields that differ."""
        mine, theirs = self.to_dict(), other.to_dict()
        return {name: (mine[name], theirs[name]) for name in mine if mine[name] != theirs[name]}
