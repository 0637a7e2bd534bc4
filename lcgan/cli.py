"""The ``lcgan`` command: thin subcommands over the library.

``lcgan train|export|edit|sample|evaluate --help`` lists each command's options. Commands import
their implementation only when run, so ``lcgan --help`` is fast. A user error (missing file,
misaligned rasters, legend/model mismatch, existing output without ``--overwrite``, bad option)
prints one line ``lcgan COMMAND: error: ...`` on stderr and exits with status 2.

Example:
    $ lcgan edit --model runs/mixlc/export --rgb rgb.tif --landcover forest.tif \\
          --original-landcover landcover.tif --out edited.tif
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from lcgan.errors import LcganError

TASKS = ("mixlc", "inpaint")


def _implementation(command: str, module: str):
    """Import a sibling module for ``command``; a missing one becomes a one-line user error."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise _UsageError(f"this command needs {module}, which cannot be imported ({err}).") from err


class _UsageError(Exception):
    """Reported as one line on stderr, exit status 2."""


# ----------------------------------------------------------------------------- train
def _train_arguments(parser, argv):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--task", choices=TASKS, default="mixlc")
    task = pre.parse_known_args(argv)[0].task
    parser.add_argument("--task", choices=TASKS, default="mixlc",
                        help="mixlc: landcover mixing; inpaint: class inpainting (default mixlc)")
    _implementation("train", "lcgan.recipes").add_train_arguments(parser, task)


def _train(args):
    out_dir = _implementation("train", "lcgan.recipes").run_training(args)
    print(f"lcgan train: finished; outputs in {out_dir}")


# ---------------------------------------------------------------------------- export
def _export_arguments(parser, argv):
    parser.add_argument("--generator", required=True, help="the trained generator (.keras file)")
    parser.add_argument("--legend", default=None,
                        help="legend JSON of the training data (default: the bundled sample's)")
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--image-size", type=int, required=True, help="training crop size")
    parser.add_argument("--out", required=True, help="export directory to create")
    parser.add_argument("--no-keras-file", action="store_true",
                        help="leave out generator.keras (halves the size; serving only)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing export")


def _export(args):
    import keras

    import lcgan.models.blocks  # noqa: F401  (registers lcgan's custom layers for loading)
    from lcgan.data.legend import Legend, sample_legend
    from lcgan.export import export_generator

    if not os.path.isfile(args.generator):
        raise FileNotFoundError(f"--generator file not found: {args.generator}")
    legend = sample_legend() if args.legend is None else Legend.from_json(args.legend)
    generator = keras.saving.load_model(args.generator, compile=False)
    path = export_generator(generator, args.out, legend=legend, task=args.task,
                            image_size=args.image_size, overwrite=args.overwrite,
                            keras_file=not args.no_keras_file)
    print(f"lcgan export: wrote {path}")


# ------------------------------------------------------------------------------ edit
def _edit_arguments(parser, argv):
    parser.add_argument("--model", required=True, help="export directory (lcgan export)")
    parser.add_argument("--rgb", required=True, help="uint8 RGB GeoTIFF to edit")
    parser.add_argument("--landcover", required=True, help="edited landcover GeoTIFF")
    change = parser.add_mutually_exclusive_group(required=True)
    change.add_argument("--mask", help="GeoTIFF of the area to re-render (non-zero = change)")
    change.add_argument("--original-landcover",
                        help="landcover before the edit: the change is where they differ")
    parser.add_argument("--out", required=True, help="output GeoTIFF")
    parser.add_argument("--legend", default=None,
                        help="legend JSON of the landcover values (default: the export's)")
    parser.add_argument("--window", type=int, default=256, help="window size in pixels")
    parser.add_argument("--overlap", type=int, default=64, help="window overlap in pixels")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per model call")
    parser.add_argument("--grow", type=int, default=3,
                        help="pixels by which the changed area is grown (default 3)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _edit(args):
    from lcgan.data.legend import Legend
    from lcgan.inference import edit_scene

    legend = None if args.legend is None else Legend.from_json(args.legend)
    path = edit_scene(args.model, args.rgb, args.landcover, args.out, mask_path=args.mask,
                      original_landcover_path=args.original_landcover, legend=legend,
                      window=args.window, overlap=args.overlap, batch_size=args.batch_size,
                      grow=args.grow, overwrite=args.overwrite, progress=not args.no_progress)
    print(f"lcgan edit: wrote {path}")


# ---------------------------------------------------------------------------- sample
def _sample_arguments(parser, argv):
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", default=None,
                        help="folder of image/mask tiles (default: the bundled Dubai sample)")
    source.add_argument("--synthetic", action="store_true", help="procedural synthetic tiles")
    parser.add_argument("--legend", default=None, help="legend JSON (default: DATA/legend.json)")
    parser.add_argument("--task", choices=TASKS, default="mixlc")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=2, help="number of grids to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder of the PNG grids")


def _sample(args):
    import numpy as np
    from PIL import Image

    from lcgan.callbacks import sample_grid
    from lcgan.data import FolderSource, Legend, SyntheticSource, make_dataset, sample_source

    if args.synthetic:
        source = SyntheticSource(num_tiles=4 * args.batch_size, tile_size=args.image_size,
                                 seed=args.seed)
    elif args.data is None:
        source = sample_source()
    else:
        legend = None if args.legend is None else Legend.from_json(args.legend)
        source = FolderSource(args.data, legend=legend)
    dataset = make_dataset(source, task=args.task, image_size=args.image_size,
                           batch_size=args.batch_size, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    for index, batch in enumerate(dataset.take(args.batches)):
        batch = {name: value.numpy() for name, value in batch.items()}
        mask = np.repeat(batch["mask"], 3, axis=-1) * 2.0 - 1.0  # shown in the "generated" column
        path = os.path.join(args.out, f"samples_{index}.png")
        Image.fromarray(sample_grid(batch, mask, source.legend)).save(path)
        print(f"lcgan sample: wrote {path} (columns: input | landcover | mask | target)")


# -------------------------------------------------------------------------- evaluate
def _evaluate_arguments(parser, argv):
    _implementation("evaluate", "lcgan.evaluation").add_evaluate_arguments(parser)


def _evaluate(args):
    _implementation("evaluate", "lcgan.evaluation").run_evaluation(args)


COMMANDS = {
    "train": ("train a LandcoverGAN (the examples' options)", _train_arguments, _train),
    "export": ("export a trained .keras generator as a SavedModel", _export_arguments, _export),
    "edit": ("re-render the changed area of a GeoTIFF scene", _edit_arguments, _edit),
    "sample": ("render sample grids of a dataset to PNG", _sample_arguments, _sample),
    "evaluate": ("score a generator against the baselines", _evaluate_arguments, _evaluate),
}


def _top_parser():
    from lcgan import __version__

    parser = argparse.ArgumentParser(
        prog="lcgan", description="Landcover-conditioned GAN editing of satellite imagery.",
        epilog="Run 'lcgan COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"lcgan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (summary, _, _) in COMMANDS.items():
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv=None) -> int:
    """Run the ``lcgan`` command line; returns the exit status (0 ok, 2 user error)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        parser = _top_parser()
        parser.parse_args(argv)  # --help, --version, unknown commands exit here
        parser.print_help(sys.stderr)
        return 2
    name, rest = argv[0], argv[1:]
    summary, add_arguments, run = COMMANDS[name]
    prog = f"lcgan {name}"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        parser = argparse.ArgumentParser(prog=prog, description=summary, conflict_handler="resolve")
        add_arguments(parser, rest)
        run(parser.parse_args(rest))
    except (_UsageError, LcganError, ValueError, FileExistsError, FileNotFoundError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    return 0
