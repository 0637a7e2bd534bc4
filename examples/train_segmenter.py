"""Train the landcover segmenter that ``lcgan.evaluate`` uses to judge generated imagery.

The segmenter (``lcgan.models.segmenter``) is a small UNet that classifies each pixel of an rgb
tile into the legend's classes. ``lcgan.evaluate(..., segmenter=...)`` runs it on generated pixels
to ask "does this look like the landcover that was requested?" and uses its pooled bottleneck
features for a domain Frechet distance. Landcover classes are imbalanced (desert "land" covers
about half of the Dubai pixels), so the loss weighs each class by its median frequency.

    python examples/train_segmenter.py              # bundled sample; runs/segmenter/
    python examples/train_segmenter.py --data-dir my_tiles --image-size 128 --out runs/seg

Writes ``segmenter.keras`` (any input size divisible by 8, no optimizer state) into ``--out`` and
prints validation pixel accuracy, mean class accuracy and mean IoU, per class too.
"""

import argparse
import os

import keras
import numpy as np

import lcgan
from lcgan import data
from lcgan.data.legend import IGNORE
from lcgan.evaluation import metrics
from lcgan.models.segmenter import WeightedCrossEntropy, class_weights, segmenter
from lcgan.training.recipes import CACHE_MAX_TILES

# ## Setup

lcgan.one_line_errors()  # a user error: one line "train_segmenter.py: error: ...", status 2
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data-dir", "--data",
                    help="images/ + masks/ tile folder (default: bundled sample)")
for flag, kind, default in (("--image-size", int, 64), ("--width", int, 32),
                            ("--batch-size", int, 16), ("--epochs", int, 20),
                            ("--steps-per-epoch", int, 50), ("--val-batches", int, 10),
                            ("--learning-rate", float, 1e-3), ("--seed", int, 0)):
    parser.add_argument(flag, type=kind, default=default, help=f"default {default}")
parser.add_argument("--val-every", type=int, default=5, help="hold out every n-th tile (5)")
parser.add_argument("--out", default=os.path.join("runs", "segmenter"), help="output folder")
args = parser.parse_args()
keras.utils.set_random_seed(args.seed)


# ## Data
# Split by tile, never by crop: every `--val-every`-th tile is held out. Training batches are
# random crops with flips and quarter turns, straight from the pipeline without building GAN
# samples (`build=False`: raw `{"rgb", "landcover"}` batches). A small source's decoded tiles
# (at most `CACHE_MAX_TILES`, as in `lcgan train`) stay in memory, so a step costs crops, not one
# JPEG decode per tile; a large one is decoded every pass, in parallel.

class TileSubset(data.TileSource):
    """The tiles of ``source`` whose index ``i`` satisfies ``keep(i)`` (a Python or TF integer)."""

    def __init__(self, source, keep):
        self.source, self.keep, self.legend = source, keep, source.legend
        self.count = sum(1 for i in range(len(source)) if keep(i))

    def __len__(self):
        return self.count

    def tiles(self):
        return (tile for i, tile in enumerate(self.source.tiles()) if self.keep(i))

    def as_dataset(self):  # the source's own (parallel, native) decoding, filtered
        tiles = self.source.as_dataset().enumerate().filter(lambda i, tile: self.keep(i))
        return tiles.map(lambda i, tile: tile)


source = data.resolve_source(args.data_dir)
if len(source) < 2:
    raise ValueError(f"The segmenter needs at least 2 tiles (train and validation); "
                     f"{args.data_dir or 'the sample'} has {len(source)}.")
train = TileSubset(source, lambda i: i % args.val_every != args.val_every - 1)
val = TileSubset(source, lambda i: i % args.val_every == args.val_every - 1)
legend = source.legend
num_classes = legend.num_classes
print(f"{len(train)} training tiles, {len(val)} validation tiles")


def crops(tiles, *, seed, augment):
    """``({"rgb": (B, S, S, 3)}, landcover ids (B, S, S))`` batches of random crops, for fit."""
    batches = data.make_dataset(tiles, task="inpaint", image_size=args.image_size,
                                batch_size=args.batch_size, seed=seed, augment=augment,
                                build=False, cache=len(tiles) <= CACHE_MAX_TILES)
    return batches.map(lambda batch: ({"rgb": batch["rgb"]}, batch["landcover"]))


# ## Model and loss
# Median-frequency class weights from the training pixels (`class_weights`: rare classes weigh
# more, clipped to [1/10, 10]) in a cross-entropy that leaves unlabelled (IGNORE) pixels out.

counts = np.zeros(num_classes, np.int64)
for tile in train.as_dataset():
    ids = tile["landcover"].numpy()
    counts += np.bincount(ids[ids != IGNORE], minlength=num_classes)
weights = class_weights(counts)
print("class weights " + ", ".join(f"{n} {w:.2f}" for n, w in zip(legend.names, weights)))

model = segmenter(image_size=args.image_size, num_classes=num_classes, width=args.width)
model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
              loss=WeightedCrossEntropy(weights),
              metrics=[metrics.ConfusionMatrixMetric(num_classes, "mean_iou")])

# ## Train

model.fit(crops(train, seed=args.seed, augment=True), epochs=args.epochs,
          steps_per_epoch=args.steps_per_epoch, verbose=2)

# ## Validation
# Confusion matrix over held-out crops (IGNORE pixels left out), then the scores of the evaluation.

confusion = np.zeros((num_classes, num_classes))
for inputs, ids in crops(val, seed=args.seed + 1, augment=False).take(args.val_batches):
    predicted = np.argmax(model(inputs, training=False), axis=-1)  # (B, S, S)
    confusion += metrics.confusion_matrix(ids, predicted, num_classes=num_classes).numpy()
results = {"pixel_accuracy": metrics.pixel_accuracy(confusion),
           "mean_accuracy": metrics.mean_accuracy(confusion),
           "mean_iou": metrics.mean_iou(confusion)}
print("validation " + ", ".join(f"{k} {v:.3f}" for k, v in results.items()))
for name, acc, iou in zip(legend.names, metrics.per_class_accuracy(confusion),
                          metrics.per_class_iou(confusion)):
    print(f"  {name:>20s}: accuracy {acc:.3f}  IoU {iou:.3f}")

# ## Save
# The same weights in a model built for any input size (train on large crops, judge 64 px tiles
# or whole scenes), without the optimizer state.

portable = segmenter(image_size=None, num_classes=num_classes, width=args.width)
portable.set_weights(model.get_weights())
os.makedirs(args.out, exist_ok=True)
path = os.path.join(args.out, "segmenter.keras")
portable.save(path)
print(f"saved {path}")
