"""Mix LC: a UNet learns to paint the landcover it is given (UNet + OASIS discriminator).

From two tiles A and B the pipeline pastes a random square of B into A, in the rgb and in the
landcover alike. The generator sees rgb A (blanked inside the square), the square and the mixed
landcover (one-hot) and must paint the mixed rgb: tile A with tile B's pixels in the square, which
it knows only by their landcover. An OASIS discriminator segments every pixel into the landcover
classes or "fake"; the generator also learns from L1, VGG16 features and feature matching.

Run with no arguments to train 200 steps at 64 px, width 16, on the bundled Dubai sample (about
20 s of training on 2 CPU cores; outputs in ``runs/mixlc/``)::

    python examples/train_mixlc.py
    python examples/train_mixlc.py --data-dir my_tiles --image-size 256 --width 64 --epochs 200

Running the same command again continues from ``runs/mixlc/checkpoints`` (``--no-resume`` starts
over). The defaults and the outputs are those of ``lcgan train --task mixlc``, which has every
option (``--help``); from Python the whole run is ``lcgan.train("mixlc", ...)``. Each section
below is a few library calls that can be pasted into a notebook cell.
"""

import argparse
import os

import keras
import numpy as np

import lcgan
from lcgan import data, models
from lcgan.evaluation import metrics
from lcgan.scenes.export import save_keras_generator
from lcgan.training import losses
from lcgan.training.callbacks import saved_epoch
from lcgan.training.recipes import (CACHE_MAX_TILES, TrainingRun, describe_outputs, feature_loss,
                                    set_precision, standard_callbacks)

# ## Setup
# A run is described by a `TrainConfig`, the dataclass `lcgan train` fills from its flags, so the
# defaults here are that command's. This script takes a few flags; everything else keeps the
# recipe's value (`lcgan.TrainConfig.for_task("mixlc")` shows them all).

DEFAULTS = lcgan.TrainConfig.for_task("mixlc")
lcgan.one_line_errors()  # a user error: one line "train_mixlc.py: error: ...", status 2
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
for flag in ("--epochs", "--steps-per-epoch", "--image-size", "--width", "--batch-size", "--seed"):
    parser.add_argument(flag, type=int, default=getattr(DEFAULTS, flag[2:].replace("-", "_")))
parser.add_argument("--data-dir", help="images/ + masks/ tile folder (default: bundled sample)")
parser.add_argument("--out", default=os.path.join("runs", "mixlc"), help="run folder")
parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True)
args = parser.parse_args()

config = lcgan.TrainConfig.for_task(
    "mixlc", epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, image_size=args.image_size,
    width=args.width, batch_size=args.batch_size, seed=args.seed)
out = os.path.abspath(args.out)
os.makedirs(out, exist_ok=True)
config.save(os.path.join(out, "config.json"))
set_precision(config.mixed_precision)  # "off": float32 ("auto" picks mixed precision on a GPU)
keras.utils.set_random_seed(config.seed)
done = saved_epoch(os.path.join(out, "checkpoints")) if args.resume else 0  # epochs already trained

# ## Data
# A tile source yields whole (rgb, landcover ids) tiles; `make_dataset` crops, flips and turns
# them and builds the task's samples batch by batch: `rgb` (B, S, S, 3) in [-1, 1] is rgb A,
# `landcover` (B, S, S) the class ids of the mixed landcover and `landcover_onehot` (B, S, S, K)
# their one-hot (the models' input), `mask` (B, S, S, 1) the pasted square, `target` the mixed rgb.
# A small source's decoded tiles (at most `CACHE_MAX_TILES`, as `lcgan train` does) stay in
# memory; the stream is seeded, and a resumed run starts it at the first batch after its
# checkpoint (`start`), so it sees what an uninterrupted run sees.

source = data.resolve_source(args.data_dir)  # a folder of tiles, or the bundled Dubai sample
legend = source.legend
print(f"{len(source)} tiles, {legend.num_classes} classes: {', '.join(legend.names)}")
dataset = data.make_dataset(source, task="mixlc", image_size=config.image_size,
                            batch_size=config.batch_size, seed=config.seed,
                            start=done * config.steps_per_epoch,
                            cache=len(source) <= CACHE_MAX_TILES)
batch = next(iter(dataset))
print({name: tuple(value.shape) for name, value in batch.items()})

# ## Models
# The generator is a pix2pix UNet that sees rgb and one-hot landcover concatenated. As in GLCIC and
# DeepFill, its rgb is blanked inside the mask, the mask is an extra input channel and the output
# keeps rgb A outside the mask (`blank_input`, `use_mask`, `composite`). The discriminator is an
# OASIS segmenter of the rgb alone: K + 1 logits per pixel, the landcover classes and "fake"; it
# also returns its intermediate activations for feature matching (`features=True`). Inside the
# blanked square every pixel of one class sees the same input, so the generator also gets 8 maps of
# per-pixel noise there (`noise_channels`), new on every call: the latent it turns into texture
# instead of one flat colour. Both are plain Keras functional models with named inputs
# (`lcgan train --generator/--discriminator` has more).

generator = models.unet_generator(image_size=config.image_size, num_classes=legend.num_classes,
                                  width=config.width, upsample="resize", blank_input=True,
                                  use_mask=True, composite=True,
                                  noise_channels=config.noise_channels)
discriminator = models.oasis_discriminator(image_size=config.image_size,
                                           num_classes=legend.num_classes, width=config.width,
                                           features=True)
print(f"generator {generator.count_params():,} parameters, discriminator "
      f"{discriminator.count_params():,}, logits {discriminator.output['segmentation'].shape}")

# ## Losses and the train step
# `LandcoverGAN.train_step` runs the generator once per step. With an OASIS discriminator the
# adversarial terms are class-balanced segmentation losses: the discriminator learns to give real
# pixels their landcover class and generated pixels the class "fake", the generator to have its
# pixels read as the requested class. The generator's total is `l1_weight * L1` (pixels inside
# the mask weigh `l1_inside_weight`, outside 1) `+ gan_weight * OASIS + feature_weight * VGG16
# relu3_3 distance + feature_matching_weight * distance of the discriminator's activations +
# low_frequency_weight * L1 of the 8 x 8 block means inside the mask` (the square's colour and
# coarse layout; its texture is left to the discriminator; off in this recipe) `+ texture_weight *
# L1 of the texture energies` (`g_texture`: the spread of each pixel around its 3 x 3 mean, in
# luma and in chroma, over the square, against the real square's: as much texture as real, and
# no colour speckle, without asking for the texture's unknowable layout).
# `feature_loss` builds `losses.VGGFeatureLoss(weights="imagenet")`; offline without the cached
# ImageNet weights it says loudly that the feature loss is off and returns None. The generator's
# moving average (`ema_decay`) is what gets exported. For scale, the weighted L1 of copying rgb A
# (on the [-1, 1] scale):

copy_l1 = losses.reconstruction_l1(batch["target"], batch["rgb"], batch["mask"],
                                   inside_weight=config.l1_inside_weight)  # (B,)
print(f"L1 of copying the input: {float(np.mean(copy_l1)):.4f}")
vgg = feature_loss(config)
gan = lcgan.LandcoverGAN(generator, discriminator, l1_weight=config.l1_weight,
                         l1_inside_weight=config.l1_inside_weight, gan_weight=config.gan_weight,
                         gan_loss=config.gan_loss, feature_loss=vgg,
                         feature_weight=config.feature_weight if vgg else 0.0,
                         feature_matching_weight=config.feature_matching_weight,
                         low_frequency_weight=config.low_frequency_weight,
                         low_frequency_size=config.low_frequency_size,
                         texture_weight=config.texture_weight,
                         ema_decay=config.ema_decay, seed=config.seed)
gan.compile(g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5))

# ## Callbacks
# The recipe's callbacks, in this order: `SampleGrid` (`gen_N.png`: input | landcover |
# generated | target, also to TensorBoard), `HistoryCSV` (`history.csv`), `TrainingCheckpoint`
# (the whole training state each epoch, restored when the run starts again), `NaNGuard` (stops at
# the first non-finite loss; non-finite weights are never checkpointed) and
# `keras.callbacks.TensorBoard` (`logs/`). Append your own Keras callbacks to the list.

callbacks = standard_callbacks(gan, source, config, out, resume=args.resume)

# ## Train

history = gan.fit(dataset, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                  callbacks=callbacks)

# ## Export
# The EMA generator as a `.keras` file (to fine-tune in Keras; it records the task, size and
# legend it was trained for) and as a self-describing SavedModel whose serving signature takes
# rgb and landcover ids (what `lcgan edit` and `lcgan.edit_scene` run).

save_keras_generator(gan, os.path.join(out, "generator.keras"), task="mixlc",
                     image_size=config.image_size, legend=legend)
lcgan.export_generator(gan, os.path.join(out, "export"), legend=legend, task="mixlc",
                       image_size=config.image_size, overwrite=True)
run = TrainingRun(gan=gan, out=out, config=config, legend=legend, history=history.history)
print(describe_outputs(run))

# ## Inference
# The export needs TensorFlow only. On a fresh batch (new squares and crops of the same tiles)
# and scored on the square (L1 on the [0, 1] scale, the metric of `lcgan.evaluate`), the
# generator should beat copying rgb A after a few hundred steps.

edit = lcgan.load_generator(run.export_dir)
batch = next(iter(data.make_dataset(source, task="mixlc", image_size=config.image_size,
                                    batch_size=config.batch_size, seed=config.seed + 1000)))
generated = edit(rgb=batch["rgb"], landcover=batch["landcover"],
                 mask=batch["mask"])  # (B, S, S, 3) in [-1, 1]
for name, image in (("generated", generated), ("copy of rgb A", batch["rgb"])):
    l1 = np.nanmean(metrics.masked_l1(batch["target"], image, batch["mask"]))
    print(f"masked L1 of the {name}: {l1:.4f}")
