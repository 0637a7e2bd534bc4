"""Train the mixed-square landcover editing GAN (UNet + PatchGAN; L1 + least squares + VGG16).

Each training sample pastes a random square of the landcover of tile B into tile A; the generator
sees rgb A and the mixed landcover and must paint the target: tile A with tile B's pixels in the
square. Run with no arguments to train a small configuration on the bundled Dubai sample for a
few minutes on a CPU::

    python examples/train_mixlc.py                  # outputs in runs/mixlc/
    python examples/train_mixlc.py --help           # every flag
    python examples/train_mixlc.py --data-dir my_tiles --image-size 256 --width 64 --epochs 200

Running the same command again continues from ``runs/mixlc/checkpoints`` (``--no-resume`` starts
over). The VGG16 feature loss needs ImageNet weights: Keras downloads them once when online; offline,
the run says loudly that the feature loss is off (``--require-vgg`` makes that an error, and
``--vgg-weights PATH`` takes a local weights file).
"""

import argparse
import sys

from lcgan.cli import add_train_arguments, config_from_args, source_from_args
from lcgan.training.recipes import describe_outputs, train


def main(argv=None):
    """Parse ``argv`` (default: the command line), train, and return the output folder."""
    parser = add_train_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
                                 "mixlc")
    args = parser.parse_args(argv)
    run = train(source=source_from_args(args), config=config_from_args(args), out=args.out,
                resume=args.resume, task="mixlc")
    print(describe_outputs(run))
    return run.out


if __name__ == "__main__":
    main(sys.argv[1:])
