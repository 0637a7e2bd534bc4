"""Score a trained generator next to simple baselines on real tiles.

The generator and the baselines of ``lcgan.evaluation.baselines`` (class mean colour fill,
biharmonic inpainting, copy-the-input) run on the same fixed-seed batches and are scored with the
same metrics; ``results.md``, ``results.csv``, ``breakdown.csv`` and ``examples.png`` go to
``--out``. A segmenter judges whether the generated pixels read as the requested landcover (and
gives the Frechet distances): by default the packaged Dubai segmenter, for tiles with the bundled
legend; for other data, one trained by ``examples/train_segmenter.py``::

    python examples/train_mixlc.py && python examples/evaluate.py     # runs/eval_mixlc/
    python examples/evaluate.py --generator runs/inpaint/export --task inpaint \
        --data-dir my_test_tiles --segmenter runs/segmenter/segmenter.keras

``lcgan evaluate`` has every option (``--help``; square and patch sizes, Inception FID/KID).
"""

import argparse
import os

import numpy as np

import lcgan
from lcgan import data
from lcgan.data.tasks import TASKS
from lcgan.evaluation import metrics
from lcgan.images import composite

# ## Setup

lcgan.one_line_errors()  # a user error: one line "evaluate.py: error: ...", status 2
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--generator", default=os.path.join("runs", "mixlc", "export"),
                    help="export directory or generator .keras file (runs/mixlc/export)")
parser.add_argument("--segmenter", help="segmenter .keras file (examples/train_segmenter.py; "
                    "default: the packaged one for the bundled legend)")
parser.add_argument("--data-dir", "--data",
                    help="images/ + masks/ tile folder (default: bundled sample)")
parser.add_argument("--task", choices=TASKS, default="mixlc")
for flag, default in (("--image-size", 64), ("--batch-size", 8), ("--batches", 8), ("--seed", 0)):
    parser.add_argument(flag, type=int, default=default, help=f"default {default}")
parser.add_argument("--out", help="output folder (default: runs/eval_TASK)")
args = parser.parse_args()
out = args.out or os.path.join("runs", f"eval_{args.task}")

# ## Data
# Evaluation batches come from the same pipeline as training, with a fixed seed and no flips or
# turns, so every method sees the very same crops, squares and patches. Use tiles the generator
# was not trained on (`--data-dir`) for a fair score.

source = data.resolve_source(args.data_dir)
dataset = data.make_dataset(source, task=args.task, image_size=args.image_size,
                            batch_size=args.batch_size, seed=args.seed, augment=False)
batch = {name: np.asarray(value) for name, value in next(iter(dataset)).items()}

# ## One batch by hand
# `load_any_generator` takes an export directory, a `.keras` file or a model and returns a
# function of a batch. Its output is pasted into the input outside the mask, as scene editing
# does, and scored with the metrics of `lcgan.evaluation.metrics`: per image, on the [0, 1] scale,
# inside the mask (NaN where a mask is empty).

generator = lcgan.load_any_generator(args.generator)
generated = composite(generator(batch), batch["rgb"], batch["mask"])  # (B, S, S, 3) in [-1, 1]
for name, image in (("generator", generated), ("copy of the input", batch["rgb"])):
    scores = {metric: np.nanmean(fn(batch["target"], image, batch["mask"]))
              for metric, fn in (("L1", metrics.masked_l1), ("PSNR", metrics.masked_psnr),
                                 ("SSIM", metrics.masked_ssim))}
    print(f"{name:>18s}: masked " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))

# ## The whole evaluation
# `lcgan.evaluate` does the same over `batches` batches for the generator and every baseline,
# adds whole-image scores, measures of the edited region, the segmenter's landcover consistency
# and breakdowns by class and by masked area, and returns an `EvaluationResult`
# (`table[method][column]`, `files`); `results.md` explains every column.

result = lcgan.evaluate(args.generator, source, task=args.task, image_size=args.image_size,
                        batch_size=args.batch_size, batches=args.batches, seed=args.seed,
                        segmenter=args.segmenter, out=out)
print(f"{result.num_images} images per method; masked L1: "
      + ", ".join(f"{method} {row['masked_l1']:.4f}" for method, row in result.table.items()))
print("\n".join(f"wrote {path}" for path in result.files))
