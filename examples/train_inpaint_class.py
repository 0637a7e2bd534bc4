"""Train the masked-class inpainting GAN (dual-branch generator + ACGAN discriminator).

Each training sample removes a few squares of the image (the class patches to repaint); the
generator sees the masked rgb, the mask and the full landcover and fills the holes (its output
keeps the known pixels). The ACGAN discriminator also predicts the landcover from the rgb, so the
generator is pushed to paint pixels that read as the requested class. Run with no arguments to
train a small configuration on the bundled Dubai sample for a few minutes on a CPU::

    python examples/train_inpaint_class.py          # outputs in runs/inpaint/
    python examples/train_inpaint_class.py --help   # every flag
    python examples/train_inpaint_class.py --geotiff rgb.tif landcover.tif --legend legend.json

Running the same command again continues from ``runs/inpaint/checkpoints`` (``--no-resume``
starts over).
"""

import argparse
import sys

from lcgan.cli import add_train_arguments, config_from_args, source_from_args
from lcgan.training.recipes import describe_outputs, train


def main(argv=None):
    """Parse ``argv`` (default: the command line), train, and return the output folder."""
    parser = add_train_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]),
                                 "inpaint")
    args = parser.parse_args(argv)
    run = train(source=source_from_args(args), config=config_from_args(args), out=args.out,
                resume=args.resume, task="inpaint")
    print(describe_outputs(run))
    return run.out


if __name__ == "__main__":
    main(sys.argv[1:])
