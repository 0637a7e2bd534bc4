"""Unpaired landcover editing: an inpainting CycleGAN, held to the edit by a landcover segmenter.

Nobody has a photograph of a field after it became forest, so there is no target to train an
edit against. Each training sample edits a real landcover map instead (a square of another
tile's landcover pasted in, a connected region changing class, a class forced inside a random
blob) and blanks the rgb where the landcover changed. The generator paints the blanked area for
the edited landcover; then, from its own edit and the landcover before it, it must give the
original pixels back (the cycle). A discriminator conditioned on the landcover keeps the edit
realistic, and a frozen segmenter trained on real imagery must read the edited pixels as the
requested classes, so that the easiest way to close the cycle, painting the original again, does
not pay. There is no identity loss inside the mask (it is what makes a CycleGAN conservative).

Run with no arguments to train 200 steps at 64 px, width 16, on the bundled Dubai sample, with the
packaged Dubai segmenter (outputs in ``runs/cycle/``)::

    python examples/train_cycle_edit.py
    python examples/train_cycle_edit.py --data-dir my_tiles --segmenter my_segmenter.keras

Running the same command again continues from ``runs/cycle/checkpoints`` (``--no-resume``
starts over). ``lcgan train --task cycle`` runs the same recipe with every option (``--help``);
from Python the whole run is ``lcgan.train("cycle", ...)``. Judge the result with a segmenter
the generator was not trained to please: ``bench/bench_cycle.py``.
"""

import argparse
import os

import keras
import numpy as np

import lcgan
from lcgan import data, models
from lcgan.data.edits import changed
from lcgan.images import shown_generator
from lcgan.training.cycle import CycleEditGAN
from lcgan.training.recipes import (TrainingRun, cycle_segmenter, describe_outputs, set_precision,
                                    standard_callbacks, task_options)

# ## Setup
# The run's settings are a `TrainConfig` with the cycle recipe's loss weights: GAN 1, ACGAN 1,
# segmenter consistency 3, seam 2, cycle L1 10 and cycle feature matching 1. `--transitions` takes a
# JSON class-transition matrix, e.g. `{"*": {"*": 1, "unlabeled": 0}}`: every change alike, but
# nothing becomes "unlabeled".

DEFAULTS = lcgan.TrainConfig.for_task("cycle")
lcgan.one_line_errors()  # a user error: one line "train_cycle_edit.py: error: ...", status 2
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
for flag in ("--epochs", "--steps-per-epoch", "--image-size", "--width", "--batch-size", "--seed"):
    parser.add_argument(flag, type=int, default=getattr(DEFAULTS, flag[2:].replace("-", "_")))
parser.add_argument("--data-dir", help="images/ + masks/ tile folder (default: bundled sample)")
parser.add_argument("--segmenter", default="",
                    help="frozen segmenter .keras (default: the packaged one of the sample)")
parser.add_argument("--transitions", default="", help="class-transition JSON (default: uniform)")
parser.add_argument("--out", default=os.path.join("runs", "cycle"), help="run folder")
parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True)
args = parser.parse_args()

config = lcgan.TrainConfig.for_task(
    "cycle", epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
    image_size=args.image_size, width=args.width, batch_size=args.batch_size, seed=args.seed,
    segmenter=args.segmenter, transitions=args.transitions)
out = os.path.abspath(args.out)
os.makedirs(out, exist_ok=True)
config.save(os.path.join(out, "config.json"))
set_precision(config.mixed_precision)
keras.utils.set_random_seed(config.seed)

# ## Edits from real maps
# A sample holds the blanked `rgb`, the edited ids `landcover` (B, S, S) and their one-hot
# `landcover_onehot` (B, S, S, K), the `mask` (B, S, S, 1) of the re-rendered area, the
# original rgb as `target` (only the cycle compares with it) and `landcover_before`. Outside the
# mask the edited landcover is the original one; no edit writes or changes an unannotated pixel,
# and no edit makes a change that the transition matrix forbids.

source = data.resolve_source(args.data_dir)
legend = source.legend
options = task_options(config, legend)
dataset = data.make_dataset(source, task="cycle", image_size=config.image_size,
                            batch_size=config.batch_size, seed=config.seed, cache=True, **options)
batch = next(iter(dataset))
moved = changed(batch["landcover_before"], batch["landcover"], batch["mask"])
print(f"{float(np.mean(batch['mask'])):.1%} of the pixels of a batch are re-rendered, "
      f"{float(np.mean(moved)):.1%} change class")

# ## Models
# The dual-branch generator takes the mask as a channel (and per-pixel noise inside it, the latent
# of texture) and composites its output with its rgb input outside the mask. It must not blank its input itself: the cycle feeds it the edited pixels.
# The discriminator is conditioned on the landcover (ACGAN: patch scores and per-pixel class
# logits) and also returns its intermediate activations, for feature matching on the cycle. The
# segmenter is frozen: nothing of it is trained here.

shape = dict(image_size=config.image_size, num_classes=legend.num_classes, width=config.width)
generator = models.dual_branch_generator(**shape, use_mask=True, composite=True,
                                         noise_channels=config.noise_channels)
discriminator = models.acgan_discriminator(**shape, features=config.feature_matching_weight > 0)
segmenter = cycle_segmenter(config, legend)
print(f"generator {generator.count_params():,} parameters, "
      f"discriminator {discriminator.count_params():,}, frozen segmenter "
      f"{segmenter.count_params():,}")

# ## Losses and the train step
# `CycleEditGAN` is `LandcoverGAN`'s train step with two generator passes. On the edit: the
# adversarial and ACGAN terms given the edited landcover, and `g_consistency`, the segmenter's
# cross-entropy against the edited landcover over the mask, and `g_seam`, the colour step between
# each edited pixel on the edge of the mask and the kept pixel beside it (without it the segmenter
# term paints a fringe along the edge, twice as strong as real class boundaries). On the cycle:
# `g_cycle_l1`, the L1
# to the original pixels, and `g_cycle_fm`, the L1 between the discriminator's activations on the
# cycle and on the original. The discriminator sees real images with their own landcover and
# edits with the edited one.

gan = CycleEditGAN(generator, discriminator, segmenter,
                   consistency_weight=config.consistency_weight,
                   consistency_margin=config.consistency_margin,
                   consistency_balanced=config.consistency_balanced, cycle_weight=config.l1_weight,
                   gan_weight=config.gan_weight, acgan_weight=config.acgan_weight,
                   feature_matching_weight=config.feature_matching_weight,
                   seam_weight=config.seam_weight, gan_loss=config.gan_loss,
                   ema_decay=config.ema_decay, seed=config.seed)
gan.compile(g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5))

# ## Callbacks
# Sample grids `gen_N.png` (blanked input | edited landcover | edit | original), `history.csv`,
# checkpoint and resume, NaN guard and TensorBoard logs, as for every lcgan run.

callbacks = standard_callbacks(gan, source, config, out, resume=args.resume)

# ## Train

history = gan.fit(dataset, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                  callbacks=callbacks)

# ## Export
# The export takes `rgb`, `landcover` (the edited ids) and `mask`; `lcgan edit` blanks the
# changed area of a scene before calling it, as training did.

shown_generator(gan).save(os.path.join(out, "generator.keras"))
lcgan.export_generator(gan, os.path.join(out, "export"), legend=legend, task="cycle",
                       image_size=config.image_size, overwrite=True)
run = TrainingRun(gan=gan, out=out, config=config, legend=legend, history=history.history)
print(describe_outputs(run))

# ## An edit
# New edits, through the export. The training segmenter's reading of the changed pixels is the
# quantity the generator was trained to raise, so it flatters; `bench/bench_cycle.py` asks an
# independent segmenter, next to real pixels of the requested classes and the baselines.

edit = lcgan.load_generator(run.export_dir)
batch = next(iter(data.make_dataset(source, task="cycle", image_size=config.image_size,
                                    batch_size=config.batch_size, seed=config.seed + 1000,
                                    **options)))
generated = edit(rgb=batch["rgb"], landcover=batch["landcover"], mask=batch["mask"])
read = np.argmax(segmenter({"rgb": generated}, training=False), axis=-1)
moved = np.asarray(changed(batch["landcover_before"], batch["landcover"], batch["mask"]))
as_asked = float(np.mean(read[moved] == np.asarray(batch["landcover"])[moved]))
as_before = float(np.mean(read[moved] == np.asarray(batch["landcover_before"])[moved]))
print(f"changed pixels read as the requested class: {as_asked:.1%}, "
      f"as the class before the edit: {as_before:.1%} (training segmenter)")
