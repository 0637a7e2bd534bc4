"""Does the unpaired editing generator (task cycle) paint what is asked, judged by a segmenter it never saw?

Scores a ``cycle`` export, a Mix LC export applied to the same edits, and the baselines
(class-mean fill, biharmonic inpainting, copy of the input) with :func:`lcgan.evaluate` on the
same fixed-seed edits of the held-out tiles (default: tile 3 of the bundled sample). The judge is
an independent segmenter (default: the packaged ``dubai_segmenter_b.keras``, other tiles and
seed than the frozen segmenter the generator was trained against); a second table gives the
training segmenter's view, which the generator was trained to please. The ratios that answer the
question, each measured in this run:

- ``lc_ratio``: edited pixels read as the requested class, over the rate on real pixels of the
  requested classes in the same images (goal >= 0.8);
- ``lc_original``: changed pixels still read as their class before the edit (goal <= 10%);
- region FD and sharpness against real regions of the requested classes (goal: at least as good
  as Mix LC on the same edits); seam over the seam of real class boundaries (goal <= 1.2).

The Mix LC generator gets what its task gives it: the unblanked image and the edited landcover.

    python bench/bench_cycle.py --cycle runs/cycle_run/export --mixlc runs/cycle_mixlc/export \\
        --out bench/results/cycle.md
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
from lcgan.data import resolve_source  # noqa: E402
from lcgan.data.edits import load_transitions  # noqa: E402
from lcgan.evaluation.report import results_table  # noqa: E402
from lcgan.evaluation.segmenters import PACKAGED  # noqa: E402

from eval_baselines import split_sample  # noqa: E402  (bench/ is on sys.path when run)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycle", required=True, help="export of the cycle generator")
    parser.add_argument("--mixlc", default=None, help="export of a Mix LC generator (optional)")
    parser.add_argument("--judge", default=str(PACKAGED["second"]),
                        help="independent segmenter .keras (default: the packaged second one)")
    parser.add_argument("--trainer", default=str(PACKAGED["default"]),
                        help="the segmenter the generator was trained against ('' to skip)")
    parser.add_argument("--test-dir", default=None, help="held-out tiles (default: sample tile 3)")
    parser.add_argument("--train-dir", default=None,
                        help="training tiles, for the class-mean colours (default: tiles 1-2)")
    parser.add_argument("--transitions", default=None,
                        help="JSON class-transition matrix of the edits (default: every change "
                             "alike), as the generator's --transitions")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figures", default=os.path.join("runs", "bench_cycle"),
                        help="folder of each evaluation's report and examples.png")
    parser.add_argument("--out", default="bench/results/cycle.md")
    return parser.parse_args(argv)


def scored_table(args, segmenter, train, test, figures):
    """``{method: row}``: the cycle generator, Mix LC on the same edits and the baselines."""
    options = ({"transitions": load_transitions(args.transitions, test.legend).tolist()}
               if args.transitions else None)
    common = dict(task="cycle", image_size=args.image_size, batch_size=args.batch_size,
                  batches=args.batches, seed=args.seed, segmenter=segmenter, train_tiles=train,
                  task_options=options)
    result = lcgan.evaluate(args.cycle, test, **common, out=os.path.join(figures, "cycle"))
    table = {"real": result.table["real"], "cycle (lcgan)": result.table["lcgan"]}
    if args.mixlc:
        mixlc = lcgan.load_generator(args.mixlc)
        # Mix LC's input is the image as it is (a mask-input Mix LC blanks it itself), with the
        # edited landcover.
        edit = lambda batch: mixlc(  # noqa: E731
            rgb=batch["target"], landcover=batch["landcover"],
            mask=batch["mask"] if mixlc.takes_mask else None)
        table["mixlc (lcgan)"] = lcgan.evaluate(edit, test, **common,
                                                out=os.path.join(figures, "mixlc")).table["lcgan"]
    table.update({name: row for name, row in result.table.items() if name not in ("real", "lcgan")})
    return table, result


def goals(table):
    """Lines checking the issue's goals on a judged table."""
    mine, real = table["cycle (lcgan)"], table["real"]
    mixlc = table.get("mixlc (lcgan)")
    checks = [("lc_ratio >= 0.8", mine["lc_ratio"], mine["lc_ratio"] >= 0.8),
              ("lc_original <= 0.10", mine["lc_original"], mine["lc_original"] <= 0.10),
              ("seam / real seam <= 1.2", mine["seam"] / real["seam"],
               mine["seam"] / real["seam"] <= 1.2)]
    if mixlc is not None:
        checks += [("region_fd <= Mix LC's", mine["region_fd"] / mixlc["region_fd"],
                    mine["region_fd"] <= mixlc["region_fd"]),
                   ("|sharpness - 1| <= Mix LC's", abs(mine["sharpness"] - 1.0),
                    abs(mine["sharpness"] - 1.0) <= abs(mixlc["sharpness"] - 1.0))]
    return "\n".join(f"- {name}: {value:.3g} ({'met' if ok else 'MISSED'})"
                     for name, value, ok in checks)


def main(argv=None):
    args = parse_args(argv)
    default_train, default_test = split_sample()
    train = resolve_source(args.train_dir) if args.train_dir else default_train
    test = resolve_source(args.test_dir) if args.test_dir else default_test
    sections = [f"# Unpaired landcover editing (task cycle) on held-out tiles ({args.image_size} px)",
                f"`python {shlex.join(['bench/bench_cycle.py', *sys.argv[1:]])}`",
                f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
                f"(shared), TensorFlow CPU. {args.batches} batches of {args.batch_size} edits "
                f"(seed {args.seed}); class-mean colours from the training tiles."]
    judges = [("judge (independent segmenter)", args.judge, "judge")]
    if args.trainer:
        judges.append(("training segmenter (the one the generator was trained to please)",
                       args.trainer, "trainer"))
    for title, segmenter, folder in judges:
        start = time.perf_counter()
        table, result = scored_table(args, segmenter, train, test,
                                     os.path.join(args.figures, folder))
        seconds = time.perf_counter() - start
        sections += [f"## {title}: {result.num_images} edits, {seconds:.0f} s", result.segmenter,
                     results_table(table), "Goals:\n" + goals(table)]
        print("\n\n".join(sections[-3:]), flush=True)
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
