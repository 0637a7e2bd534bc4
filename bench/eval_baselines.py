"""What do the baselines score on held-out tile 3, and do the region measures tell them from real?

Runs :func:`lcgan.evaluate` without a generator (``generator=None``: the baselines alone) on
the held-out tile 3 of the bundled Dubai sample, for Mix LC and inpainting, with the evaluation
segmenter (default: the packaged one), the class-mean baseline painting the mean colours of the
training tiles 1-2. The ratios that answer the question are in the table itself: sharpness
(1.0 = as sharp as the real target), seam (1.0 = as visible as natural edges), LC ratio (1.0 =
read as the requested class as often as the real target), region FD (0 = real-like regions).
Writes one markdown file with the command, the machine, the segmenter and a table per task.

    python bench/eval_baselines.py --image-size 64 --batch-size 8 --batches 16 \\
        --out bench/results/eval_baselines.md
"""

import argparse
import os
import pathlib
import platform
import shlex
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import lcgan  # noqa: E402
from lcgan.data import FolderSource, sample_source  # noqa: E402
from lcgan.evaluation.report import results_table  # noqa: E402


def split_sample(train=("tile1", "tile2"), test=("tile3",)):
    """``(train, test)`` sources of the bundled sample, split by tile folder."""
    sample = sample_source()

    def tiles(names):
        pairs = [pair for pair in sample.pairs
                 if pathlib.Path(pair[0]).relative_to(sample.root).parts[0] in names]
        return FolderSource(sample.root, legend=sample.legend, pairs=pairs)

    return tiles(train), tiles(test)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["mixlc", "inpaint"])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--segmenter", default=None,
                        help="segmenter .keras (default: the packaged Dubai segmenter)")
    parser.add_argument("--out", default="bench/results/eval_baselines.md")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    train, test = split_sample()
    sections = [f"# Baselines on held-out tile 3 ({args.image_size} px)",
                f"`python {shlex.join(['bench/eval_baselines.py', *sys.argv[1:]])}`",
                f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
                f"(shared), TensorFlow CPU. Class-mean colours from tiles 1-2; {args.batches} "
                f"batches of {args.batch_size} crops of tile 3, seed {args.seed}."]
    for task in args.tasks:
        start = time.perf_counter()
        result = lcgan.evaluate(None, test, task=task, image_size=args.image_size,
                                batch_size=args.batch_size, batches=args.batches, seed=args.seed,
                                segmenter=args.segmenter, train_tiles=train)
        seconds = time.perf_counter() - start
        sections += [f"## {task}: {result.num_images} images, {seconds:.0f} s", result.segmenter,
                     results_table(result.table)]
        print(f"{task}: {seconds:.0f} s\n{results_table(result.table)}\n", flush=True)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(sections) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
