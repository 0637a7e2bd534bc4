"""Inpaint the most common class: a dual-branch generator repaints removed landcover (+ OASIS).

In a few random patches of each crop, the pixels of the class that is most common inside the patch
are removed. The generator sees the masked rgb, the mask and the full landcover and restores the
rgb; its output keeps the known pixels. An OASIS discriminator segments every pixel into the
landcover classes or "fake", which pushes the generator to paint pixels that read as the
requested class.

Run with no arguments to train 200 steps at 64 px, width 16, on the bundled Dubai sample (outputs
in ``runs/inpaint/``)::

    python examples/train_inpaint_class.py
    python examples/train_inpaint_class.py --data-dir my_tiles --image-size 128 --width 32

Running the same command again continues from ``runs/inpaint/checkpoints`` (``--no-resume``
starts over). The defaults and the outputs are those of ``lcgan train --task inpaint``, which has
every option (``--help``); from Python the whole run is ``lcgan.train("inpaint", ...)``.
"""

import argparse
import os

import keras
import numpy as np

import lcgan
from lcgan import data, models
from lcgan.evaluation import baselines, metrics
from lcgan.scenes.export import save_keras_generator
from lcgan.training.callbacks import saved_epoch
from lcgan.training.recipes import (CACHE_MAX_TILES, TrainingRun, describe_outputs, set_precision,
                                    standard_callbacks)

# ## Setup
# The run's settings are a `TrainConfig` (the dataclass behind `lcgan train`) with the inpainting
# recipe's loss weights: L1 100 outside the removed area and 10 inside it (`l1_inside_weight`
# 0.1: pixel loss rewards the blurry mean where the content is uncertain, so it weighs less there),
# GAN (OASIS) 1, discriminator feature matching 10, seam 5, low-frequency L1 10 (8-px blocks),
# no VGG feature loss; the generator also sees each class's colours in the image (`class_colors`).

DEFAULTS = lcgan.TrainConfig.for_task("inpaint")
lcgan.one_line_errors()  # a user error: one line "train_inpaint_class.py: error: ...", status 2
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
for flag in ("--epochs", "--steps-per-epoch", "--image-size", "--width", "--batch-size", "--seed"):
    parser.add_argument(flag, type=int, default=getattr(DEFAULTS, flag[2:].replace("-", "_")))
parser.add_argument("--data-dir", help="images/ + masks/ tile folder (default: bundled sample)")
parser.add_argument("--out", default=os.path.join("runs", "inpaint"), help="run folder")
parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True)
args = parser.parse_args()

config = lcgan.TrainConfig.for_task(
    "inpaint", epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
    image_size=args.image_size, width=args.width, batch_size=args.batch_size, seed=args.seed)
out = os.path.abspath(args.out)
os.makedirs(out, exist_ok=True)
config.save(os.path.join(out, "config.json"))
set_precision(config.mixed_precision)
keras.utils.set_random_seed(config.seed)
done = saved_epoch(os.path.join(out, "checkpoints")) if args.resume else 0

# ## Data
# Each sample holds the masked `rgb` (removed pixels set to 0, mid grey), the full `landcover`
# ids (B, S, S) and their one-hot `landcover_onehot` (B, S, S, K), the `mask` (B, S, S, 1) of
# the removed pixels and the original rgb as `target`. `num_patches` and `patch_size` of
# `make_dataset` change how much is removed (default 3 patches of S / 4).

source = data.resolve_source(args.data_dir)
legend = source.legend
dataset = data.make_dataset(source, task="inpaint", image_size=config.image_size,
                            batch_size=config.batch_size, seed=config.seed,
                            start=done * config.steps_per_epoch,
                            cache=len(source) <= CACHE_MAX_TILES)
batch = next(iter(dataset))
print(f"{float(np.mean(batch['mask'])):.1%} of the pixels of a batch are removed")

# ## Models
# Two encoders side by side, one for the blanked rgb and the mask, one (with dilated
# convolutions) for the landcover, joined in one decoder; `composite=True` pastes the known pixels
# back over the output, and per-pixel noise maps inside the mask (`noise_channels`) give the
# removed area a latent to paint texture from. With `class_colors`, every pixel also carries the
# colour mean and spread of its class over the kept pixels of the image (7 channels, SEAN-style
# region codes pooled from the image itself): the fill takes this scene's colour of its class
# instead of recalling the training tiles'. The OASIS discriminator returns
# `{"segmentation": (B, S, S, K + 1) logits}`: the landcover classes and "fake", per pixel, from the
# rgb alone.

generator = models.dual_branch_generator(image_size=config.image_size,
                                         num_classes=legend.num_classes, width=config.width,
                                         upsample="resize", dilated=True, blank_input=True,
                                         use_mask=True, composite=True,
                                         noise_channels=config.noise_channels,
                                         class_colors=config.class_colors)
discriminator = models.oasis_discriminator(image_size=config.image_size,
                                           num_classes=legend.num_classes, width=config.width,
                                           features=config.feature_matching_weight > 0)
print(f"generator {generator.count_params():,} parameters, "
      f"discriminator {discriminator.count_params():,}")

# ## Losses and the train step
# With a segmentation discriminator, `LandcoverGAN`'s adversarial terms are OASIS's
# class-balanced losses: the discriminator labels real pixels with their landcover and generated
# ones "fake" (`d_loss`), the generator is asked for pixels read as the requested landcover
# (`g_gan`); L1 (`g_l1`) ties the output to the removed pixels, and feature matching (`g_fm`,
# pix2pixHD) pulls the discriminator's activations on the generated image towards those on the
# real one, a perceptual loss that needs no pretrained weights. The seam term (`g_seam`, the
# boundary term of partial-convolution inpainting) is the colour step between each generated
# pixel on the edge of the removed area and the kept pixel next to it: the fill must continue its
# surroundings. The low-frequency term (`g_low`) is the L1 of the 8 x 8 block means inside the
# removed area: the fill's colour and coarse layout must be the removed pixels', its texture
# within each block is left to the discriminator. (`lcgan train --discriminator acgan` trains
# lcgan 0.1's ACGAN recipe: real/fake patch scores plus a class head.)

gan = lcgan.LandcoverGAN(generator, discriminator, l1_weight=config.l1_weight,
                         l1_inside_weight=config.l1_inside_weight, gan_weight=config.gan_weight,
                         gan_loss=config.gan_loss,
                         feature_matching_weight=config.feature_matching_weight,
                         seam_weight=config.seam_weight,
                         low_frequency_weight=config.low_frequency_weight,
                         low_frequency_size=config.low_frequency_size, ema_decay=config.ema_decay,
                         seed=config.seed)
gan.compile(g_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(config.learning_rate, beta_1=0.5))

# ## Callbacks
# Checkpoint and resume, NaN guard, sample grids `gen_N.png`, `history.csv` and TensorBoard
# logs, as for every lcgan run (see `examples/train_mixlc.py`).

callbacks = standard_callbacks(gan, source, config, out, resume=args.resume)

# ## Train

history = gan.fit(dataset, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                  callbacks=callbacks)

# ## Export

save_keras_generator(gan, os.path.join(out, "generator.keras"), task="inpaint",
                     image_size=config.image_size, legend=legend)
lcgan.export_generator(gan, os.path.join(out, "export"), legend=legend, task="inpaint",
                       image_size=config.image_size, overwrite=True)
run = TrainingRun(gan=gan, out=out, config=config, legend=legend, history=history.history)
print(describe_outputs(run))

# ## Inference
# This export takes the mask too. The baseline to beat: fill each removed pixel with the mean
# colour of its class over the tiles (`lcgan.evaluate` scores it and two more baselines).

inpaint = lcgan.load_generator(run.export_dir)
batch = next(iter(data.make_dataset(source, task="inpaint", image_size=config.image_size,
                                    batch_size=config.batch_size, seed=config.seed + 1000)))
generated = inpaint(rgb=batch["rgb"], landcover=batch["landcover"], mask=batch["mask"])
class_mean = baselines.class_mean_fill(baselines.class_mean_colors(
    source, num_classes=legend.num_classes))
for name, image in (("generated", generated), ("class mean colour", class_mean(batch))):
    l1 = np.nanmean(metrics.masked_l1(batch["target"], image, batch["mask"]))
    print(f"masked L1 of the {name}: {l1:.4f}")
