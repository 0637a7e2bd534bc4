"""Score a trained generator next to simple baselines on real tiles.

Runs the generator and the baselines of ``lcgan.evaluation.baselines`` (class mean colour fill, biharmonic
inpainting, copy-the-input) on the same fixed-seed batches and writes ``results.md``,
``results.csv``, ``breakdown.csv`` and ``examples.png`` into ``--out``:

    python examples/train_segmenter.py --out runs/segmenter
    python examples/evaluate.py --generator runs/mixlc/export --segmenter runs/segmenter/segmenter.keras \
        --task mixlc --batches 16 --out runs/mixlc/eval

``lcgan evaluate`` takes the same options.
"""

import argparse

from lcgan.cli import add_evaluate_arguments, evaluate_from_args


def main(argv=None):
    parser = add_evaluate_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    result = evaluate_from_args(parser.parse_args(argv))
    print("\n".join(f"wrote {path}" for path in result.files))
    return result


if __name__ == "__main__":
    main()
