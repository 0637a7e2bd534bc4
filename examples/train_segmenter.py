"""Train the landcover segmenter that the evaluation uses to judge generated imagery.

The segmenter (``lcgan.models.segmenter``) is a small UNet that classifies each pixel of a real
rgb tile into the legend's landcover classes. ``lcgan evaluate --segmenter`` runs it on generated
pixels to ask "does this look like the landcover that was requested?", and uses its pooled
bottleneck features for a domain Frechet distance.

The tiles are split by tile (every ``--val-every``-th tile is held out), cropped at random to
``--image-size`` by lcgan's pipeline (raw batches, ``build=False``: no inpainting samples needed),
and unlabelled pixels (IGNORE) are left out of the loss and the metrics.

    python examples/train_segmenter.py --out runs/segmenter            # bundled Dubai sample
    python examples/train_segmenter.py --data my_tiles/ --image-size 128 --epochs 30 --out runs/seg

Writes ``segmenter.keras`` into ``--out`` and prints validation pixel accuracy, mean class
accuracy and mean IoU.
"""

import argparse
import os

import keras
import numpy as np

from lcgan.evaluation import metrics
from lcgan.data import FolderSource, TileSource, make_dataset, sample_source
from lcgan.data.legend import IGNORE
from lcgan.models.segmenter import segmenter


class TileSubset(TileSource):
    """The tiles of ``source`` whose index satisfies ``keep(index)`` (a train/validation split)."""

    def __init__(self, source, keep):
        self.source, self.keep, self.legend = source, keep, source.legend
        self.count = sum(1 for i in range(len(source)) if keep(i))

    def __len__(self):
        return self.count

    def tiles(self):
        return (tile for i, tile in enumerate(self.source.tiles()) if self.keep(i))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="tile folder (default: bundled sample)")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps-per-epoch", type=int, default=50)
    parser.add_argument("--val-batches", type=int, default=10)
    parser.add_argument("--val-every", type=int, default=5, help="hold out every n-th tile")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


def _pairs(source, args, *, seed, augment):
    """(rgb, landcover) batches: random crops of the source's tiles."""
    dataset = make_dataset(source, task="inpaint", image_size=args.image_size,
                           batch_size=args.batch_size, seed=seed, augment=augment, build=False)
    return dataset.map(lambda batch: ({"rgb": batch["rgb"]}, batch["landcover"]))


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    source = sample_source() if args.data is None else FolderSource(args.data)
    if len(source) < 2:
        raise ValueError(f"The segmenter needs at least 2 tiles (train and validation); "
                         f"{args.data or 'the sample'} has {len(source)}.")
    train = TileSubset(source, lambda i: i % args.val_every != args.val_every - 1)
    val = TileSubset(source, lambda i: i % args.val_every == args.val_every - 1)
    num_classes = source.legend.num_classes

    model = segmenter(image_size=args.image_size, num_classes=num_classes, width=args.width)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                  ignore_class=IGNORE),
                  metrics=[metrics.ConfusionMatrixMetric(num_classes, "mean_iou")])
    model.fit(_pairs(train, args, seed=args.seed, augment=True), epochs=args.epochs,
              steps_per_epoch=args.steps_per_epoch, verbose=2)

    confusion = np.zeros((num_classes, num_classes))
    for inputs, ids in _pairs(val, args, seed=args.seed + 1, augment=False).take(args.val_batches):
        predicted = np.argmax(model(inputs, training=False), axis=-1)
        confusion += metrics.confusion_matrix(ids, predicted, num_classes=num_classes).numpy()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "segmenter.keras")
    model.save(path)
    results = {"pixel_accuracy": metrics.pixel_accuracy(confusion),
               "mean_accuracy": metrics.mean_accuracy(confusion), "mean_iou": metrics.mean_iou(confusion)}
    print(f"saved {path}")
    print("validation " + ", ".join(f"{k} {v:.3f}" for k, v in results.items()))
    for name, acc, iou in zip(source.legend.names, metrics.per_class_accuracy(confusion),
                              metrics.per_class_iou(confusion)):
        print(f"  {name:>20s}: accuracy {acc:.3f}  IoU {iou:.3f}")
    return {"path": path, **results}


if __name__ == "__main__":
    main()
