"""The ``lcgan`` command: thin subcommands over the library.

``lcgan train|export|edit|sample|evaluate|pack --help`` lists each command's options. Commands import
their implementation only when run, so ``lcgan --help`` is fast. A user error (missing file,
misaligned rasters, legend/model mismatch, existing output without ``--overwrite``, bad option)
prints one line ``lcgan COMMAND: error: ...`` on stderr and exits with status 2.

Example:
    $ lcgan edit --model runs/mixlc/export --rgb rgb.tif --landcover forest.tif \\
          --original-landcover landcover.tif --out edited.tif
    $ lcgan pack --dataset loveda --data-dir /data/LoveDA --out packed
    $ lcgan train --tfds-dir packed
"""

from __future__ import annotations

import argparse
import os
import sys

from lcgan.data.tasks import TASKS
from lcgan.errors import report_user_errors


# ----------------------------------------------------------------------------- train
def add_data_arguments(parser, *, image_size=True):
    """Tile location flags (one of --data-dir, --geotiff, --tfds-dir; default the bundled sample)."""
    data = parser.add_argument_group("data (default: the bundled Dubai sample)")
    where = data.add_mutually_exclusive_group()
    where.add_argument("--data-dir", help="folder of images/*.jpg + masks/*.png tile pairs "
                       "(legend.json inside, or --legend)")
    where.add_argument("--geotiff", nargs=2, action="append", metavar=("RGB", "LC"),
                       help="an aligned (rgb, landcover) GeoTIFF pair; repeat for more (needs --legend)")
    where.add_argument("--tfds-dir", help="folder written by lcgan pack (its --out) or "
                       "lcgan.data.build_tfds; the dataset version inside it is found")
    data.add_argument("--legend", help="legend JSON (for --geotiff, or to override --data-dir's)")
    data.add_argument("--scaling", nargs="+", metavar="KIND",
                      help="--geotiff rasters that are not uint8 (16-bit, float reflectance): "
                           "'factor F' (x * F, clipped to 0..255) or 'percentile LO HI' (a per-band "
                           "stretch), e.g. --scaling percentile 2 98")
    add_dataset_arguments(data, "--data-dir")
    return data


def _scaling(values):
    """``--scaling`` words -> the ``scaling`` tuple of GeoTiffSource (None when not given)."""
    if not values:
        return None
    kind, *numbers = values
    try:
        return (kind, *map(float, numbers))
    except ValueError:
        raise ValueError(f"`--scaling` takes 'factor F' or 'percentile LO HI' with numbers. "
                         f"Received: {' '.join(values)}") from None


def add_dataset_arguments(group, flag):
    """``--dataset NAME`` (a public dataset read from ``flag``, as published) and ``--split``."""
    from lcgan.data.presets import preset_names

    group.add_argument("--dataset", choices=preset_names(), default=None,
                       help=f"read {flag} as this public dataset, from its files as published, "
                            f"with its own legend")
    group.add_argument("--split", default=None,
                       help="split of --dataset (default: its training split; dubai: all)")


def source_from_args(args):
    """The tile source named by :func:`add_data_arguments` flags."""
    from lcgan.data import resolve_source

    return resolve_source(args.data_dir, geotiff=args.geotiff, tfds_dir=args.tfds_dir,
                          legend=args.legend, tile_size=getattr(args, "image_size", None),
                          dataset=args.dataset, split=args.split, scaling=_scaling(args.scaling))


_TRAIN_HELP = {
    "image_size": "square crop size in pixels", "batch_size": "batch size",
    "epochs": "epochs", "steps_per_epoch": "steps per epoch",
    "width": "channels of the first layers", "learning_rate": "Adam rate of G and D",
    "gan_loss": "adversarial loss", "l1_inside_weight": "L1 weight of pixels inside the mask",
    "l1_outside_weight": "L1 weight of pixels outside the mask",
    "ema_decay": "decay of the exported moving-average generator; 0 disables it",
    "vgg_weights": "VGG16 weights of the feature loss: imagenet (Keras cache, downloaded when "
                   "online), a weights file PATH, or none",
    "require_vgg": "fail instead of training without the feature loss when the VGG16 weights "
                   "cannot be had",
    "mixed_precision": "off; auto (mixed_float16 on GPU, mixed_bfloat16 on CPU); or a policy",
    "samples_in_step": "build masked/mixed samples inside the train step (on the GPU)",
    "generator": "generator: unet (rgb + landcover concatenated) or dual_branch (two encoders)",
    "discriminator": "discriminator: patch (PatchGAN), acgan (+ class head), local_global "
                     "(GLCIC), oasis (per-pixel K+1-class segmenter, replaces the GAN terms)",
    "dilated": "dilated convolutions in the landcover encoder (dual_branch only)",
    "mask_input": "blank the rgb inside the mask, feed the mask, composite the output",
    "upsample": "upsampling: resize (then convolve, no checkerboard) or transpose",
    "noise_channels": "per-pixel noise maps fed to the generator inside the mask, new on every "
                      "call: the latent of texture (0: deterministic)",
    "class_colors": "feed the generator each class's colour mean and spread over the known "
                    "pixels (this scene's colour of each class)",
    "feature_matching_weight": "weight of the discriminator feature-matching loss (0: off)",
    "seam_weight": "weight of the colour step across the mask's edge (0: off)",
    "low_frequency_weight": "weight of the L1 of block means inside the mask: the fill's colour "
                            "and coarse layout, not its texture (0: off)",
    "low_frequency_size": "block side in pixels of the low-frequency L1",
    "chroma_weight": "weight of the per-pixel hue (Cb, Cr) L1 inside the mask: no colour cast, "
                     "texture left to brightness (0: off)",
    "ssim_weight": "weight of 1 - SSIM inside the mask: structure that lines up with the "
                   "context, neither grain nor blur (0: off)",
    "texture_weight": "weight of the L1 between the generated and real texture energies (luma, "
                      "chroma) inside the mask: as much texture as real, no colour speckle (0: off)",
    "consistency_margin": "cycle: pixels next to the edit's edge left out of the consistency loss",
    "consistency_balanced": "cycle: weigh the requested classes alike in the consistency loss "
                            "(OASIS class balancing)",
    "segmenter": "cycle: frozen segmenter (.keras) that must read the edits as requested "
                 "(default: the packaged one of the bundled legend)",
    "transitions": "cycle: JSON class-transition matrix of the edits, e.g. "
                   '{"*": {"*": 1, "unlabeled": 0}} (default: every change alike)',
    "seed": "random seed",
}
_CHOICES = {"gan_loss": "GAN_LOSSES", "mixed_precision": "PRECISIONS", "generator": "GENERATORS",
            "discriminator": "DISCRIMINATORS", "upsample": "UPSAMPLES"}


def add_train_arguments(parser, task):
    """Add every :class:`~lcgan.training.config.TrainConfig` field of ``task`` as a flag."""
    import dataclasses

    from lcgan.training import config as config_module

    defaults = config_module.TrainConfig.for_task(task)
    parser.set_defaults(task=task)
    add_data_arguments(parser)
    group = parser.add_argument_group("training")
    for field in dataclasses.fields(defaults):
        if field.name == "task":
            continue
        value, flag = getattr(defaults, field.name), f"--{field.name.replace('_', '-')}"
        help_text = _TRAIN_HELP.get(field.name, f"weight of the {field.name[:-7]} loss")
        if isinstance(value, bool):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=value,
                               help=f"{help_text} ({'on' if value else 'off'})")
            continue
        choices = getattr(config_module, _CHOICES[field.name]) if field.name in _CHOICES else None
        group.add_argument(flag, type=type(value), default=value, choices=choices,
                           help=f"{help_text} ({value})")
    out = parser.add_argument_group("output")
    out.add_argument("--out", default=os.path.join("runs", task), help=f"output folder (runs/{task})")
    out.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                     help="continue from the checkpoint in OUT/checkpoints (default on)")
    out.add_argument("--overwrite", action="store_true",
                     help="a new run may replace the run in OUT (once the new one has finished)")
    out.add_argument("--save-every", type=int, default=0, metavar="STEPS",
                     help="also checkpoint every STEPS steps (default 0: at epoch ends only)")
    return parser


def config_from_args(args):
    """The :class:`~lcgan.training.config.TrainConfig` of parsed :func:`add_train_arguments` flags."""
    import dataclasses

    from lcgan.training.config import TrainConfig

    return TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})


def _train_arguments(parser, argv):
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--task", choices=TASKS, default="mixlc")
    task = pre.parse_known_args(argv)[0].task
    parser.add_argument("--task", choices=TASKS, default="mixlc",
                        help="mixlc: landcover mixing; inpaint: class inpainting; cycle: unpaired "
                             "landcover editing (default mixlc)")
    add_train_arguments(parser, task)


def _train(args):
    from lcgan.training.recipes import describe_outputs, train

    run = train(source=source_from_args(args), config=config_from_args(args), out=args.out,
                resume=args.resume, overwrite=args.overwrite, save_every=args.save_every,
                task=args.task)
    print(describe_outputs(run))
    print(f"lcgan train: finished; outputs in {run.out}")


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
    from lcgan.data.legend import Legend, sample_legend
    from lcgan.scenes.export import export_generator, load_keras_generator
    from lcgan.scenes.provenance import check_task, keras_record

    legend = sample_legend() if args.legend is None else Legend.from_json(args.legend)
    generator = load_keras_generator(args.generator)
    check_task(args.task, takes_mask="mask" in [t.name for t in generator.inputs],
               record=keras_record(args.generator), where=args.generator)
    path = export_generator(generator, args.out, legend=legend,
                            task=args.task, image_size=args.image_size, overwrite=args.overwrite,
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
    parser.add_argument("--match-colors", action="store_true",
                        help="shift each generated class to its mean colour over the scene's "
                        "unchanged pixels (new water as dark as this scene's sea)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _edit(args):
    from lcgan.data.legend import Legend
    from lcgan.scenes.inference import edit_scene

    legend = None if args.legend is None else Legend.from_json(args.legend)
    path = edit_scene(args.model, args.rgb, args.landcover, args.out, mask_path=args.mask,
                      original_landcover_path=args.original_landcover, legend=legend,
                      window=args.window, overlap=args.overlap, batch_size=args.batch_size,
                      grow=args.grow, match_colors=args.match_colors, overwrite=args.overwrite,
                      progress=not args.no_progress)
    print(f"lcgan edit: wrote {path}")


# ---------------------------------------------------------------------------- sample
def _sample_arguments(parser, argv):
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", default=None,
                        help="folder of image/mask tiles (default: the bundled Dubai sample)")
    source.add_argument("--synthetic", action="store_true", help="procedural synthetic tiles")
    parser.add_argument("--legend", default=None, help="legend JSON (default: DATA/legend.json)")
    add_dataset_arguments(parser, "--data")
    parser.add_argument("--task", choices=TASKS, default="mixlc")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=2, help="number of grids to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder of the PNG grids")


def _sample(args):
    import numpy as np
    from PIL import Image

    from lcgan.data import SyntheticSource, make_dataset, resolve_source
    from lcgan.data.checks import check_tile_sizes, reading
    from lcgan.outputs import check_folder
    from lcgan.training.callbacks import sample_grid

    if args.synthetic:
        if args.dataset:
            raise ValueError("--synthetic and --dataset exclude each other.")
        source = SyntheticSource(num_tiles=4 * args.batch_size, tile_size=args.image_size,
                                 seed=args.seed)
    else:
        source = resolve_source(args.data, legend=args.legend, tile_size=args.image_size,
                                dataset=args.dataset, split=args.split)
    check_tile_sizes(source, args.image_size)
    dataset = make_dataset(source, task=args.task, image_size=args.image_size,
                           batch_size=args.batch_size, seed=args.seed)
    check_folder(args.out, "--out")
    with reading(source):
        batches = [{name: value.numpy() for name, value in batch.items()}
                   for batch in dataset.take(args.batches)]
    for index, batch in enumerate(batches):
        mask = np.repeat(batch["mask"], 3, axis=-1) * 2.0 - 1.0  # shown in the "generated" column
        path = os.path.join(args.out, f"samples_{index}.png")
        Image.fromarray(sample_grid(batch, mask, source.legend)).save(path)
        print(f"lcgan sample: wrote {path} (columns: input | landcover | mask | target)")


# -------------------------------------------------------------------------- evaluate
def add_evaluate_arguments(parser):
    """The options of :func:`lcgan.evaluation.evaluator` as flags (the CLI and examples/evaluate.py)."""
    parser.add_argument("--generator", required=True,
                        help="an lcgan export directory or a generator .keras file")
    parser.add_argument("--segmenter", default=None,
                        help="segmenter .keras file (examples/train_segmenter.py) for landcover "
                             "consistency and the region and domain Frechet distances (default: "
                             "the packaged one when the data has the bundled Dubai legend)")
    parser.add_argument("--data", default=None,
                        help="folder of images/ and masks/ tiles (default: the bundled Dubai sample)")
    parser.add_argument("--legend", default=None, help="legend JSON (default: DATA/legend.json)")
    add_dataset_arguments(parser, "--data")
    parser.add_argument("--task", choices=TASKS, default="mixlc")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=8, help="number of batches to evaluate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--square-size", type=int, default=None, help="mixlc square side (pixels)")
    parser.add_argument("--num-patches", type=int, default=None, help="inpaint patches per tile")
    parser.add_argument("--patch-size", type=int, default=None, help="inpaint patch side (pixels)")
    parser.add_argument("--area-bins", type=float, nargs="+", default=[0.05, 0.15],
                        help="masked-area fractions separating the size bins")
    parser.add_argument("--no-composite", action="store_true",
                        help="score raw generator output instead of compositing it into the input")
    parser.add_argument("--inception", action="store_true", help="also compute Inception FID/KID")
    parser.add_argument("--inception-weights", default="imagenet",
                        help="'imagenet' (the Keras cache file, default), a path of the InceptionV3 "
                        "no-top .h5 weights, or 'none' (random weights)")
    parser.add_argument("--examples", type=int, default=6, help="rows in examples.png")
    parser.add_argument("--out", required=True, help="output folder")
    return parser


def evaluate_from_args(args):
    """Run :func:`lcgan.evaluation.evaluator` with parsed :func:`add_evaluate_arguments` flags."""
    from lcgan.data import resolve_source
    from lcgan.evaluation.evaluator import evaluate
    from lcgan.outputs import check_folder

    check_folder(args.out, "--out")
    names = ("square_size",) if args.task == "mixlc" else ("num_patches", "patch_size")
    options = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    source = resolve_source(args.data, legend=args.legend, tile_size=args.image_size,
                            dataset=args.dataset, split=args.split)
    return evaluate(args.generator, source, task=args.task,
                    image_size=args.image_size, batch_size=args.batch_size, batches=args.batches,
                    seed=args.seed, segmenter=args.segmenter, task_options=options,
                    composite=not args.no_composite,
                    inception_weights=args.inception_weights if args.inception else None,
                    area_bins=tuple(args.area_bins), examples=args.examples, out=args.out)


def _evaluate_arguments(parser, argv):
    add_evaluate_arguments(parser)


def _evaluate(args):
    result = evaluate_from_args(args)
    print("\n".join(f"lcgan evaluate: wrote {path}" for path in result.files))


# ------------------------------------------------------------------------------ pack
def _pack_arguments(parser, argv):
    add_data_arguments(parser)
    parser.add_argument("--out", required=True,
                        help="TFDS data directory to write (the dataset goes to OUT/NAME/1.0.0; "
                             "give OUT to --tfds-dir)")
    parser.add_argument("--name", default="lcgan_tiles", help="dataset name (lcgan_tiles)")
    parser.add_argument("--shard-size", type=int, default=256, help="tiles per shard (256)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT/NAME")


def _pack(args):
    from lcgan.data import build_tfds

    source = source_from_args(args)
    path = build_tfds(source, args.out, name=args.name, shard_size=args.shard_size,
                      overwrite=args.overwrite)
    print(f"lcgan pack: wrote {len(source)} tiles of legend {source.legend.name!r} to {path}; "
          f"train from them with: lcgan train --tfds-dir {args.out}")


COMMANDS = {
    "train": ("train a LandcoverGAN (the examples' options)", _train_arguments, _train),
    "export": ("export a trained .keras generator as a SavedModel", _export_arguments, _export),
    "edit": ("re-render the changed area of a GeoTIFF scene", _edit_arguments, _edit),
    "sample": ("render sample grids of a dataset to PNG", _sample_arguments, _sample),
    "evaluate": ("score a generator against the baselines", _evaluate_arguments, _evaluate),
    "pack": ("write a dataset's tiles as TFRecord shards (for --tfds-dir)", _pack_arguments, _pack),
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(prog=f"lcgan {name}", description=summary,
                                     conflict_handler="resolve")

    def command():
        add_arguments(parser, rest)
        run(parser.parse_args(rest))

    return report_user_errors(parser.prog, command)
