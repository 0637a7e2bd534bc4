"""Where does a training step's time go? Host time per TF op type, from the TF profiler's trace.

Question: which kinds of ops make a step slow -- e.g. why ``mixed_bfloat16`` speeds a recipe
up by less than its convolutions would suggest, or what a segmenter step spends its time on.
Each configuration's step is traced for ``--steps`` steps after a warm-up (``tf.profiler``), and
the kernel time of every op is summed by op type; the table gives milliseconds per step and the
share of the traced kernel time, for each configuration side by side, so the shares compare in
one run.

Configurations: ``mixlc`` / ``inpaint`` (the recipes, as ``bench_train_throughput.py`` builds them),
``lcgan`` / ``reference`` (its equal configuration) and ``segmenter`` (the landcover segmenter
with the class-weighted cross-entropy and ``ConfusionMatrixMetric``, trained by ``fit``'s train
function), each under the dtype policies given.

    python bench/profile_step.py --configs mixlc --dtypes float32 mixed_bfloat16 --size 256
    python bench/profile_step.py --configs segmenter inpaint --size 128 --batch-size 8
"""

import argparse
import collections
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

import bench_train_throughput as throughput  # noqa: E402
from lcgan.evaluation.metrics import ConfusionMatrixMetric  # noqa: E402
from lcgan.models.segmenter import WeightedCrossEntropy, segmenter  # noqa: E402

CONFIGS = ("mixlc", "inpaint", "lcgan", "reference", "segmenter")
CALLS = {"PartitionedCall", "StatefulPartitionedCall", "While", "StatelessWhile", "If", "StatelessIf"}
"""Op types whose events contain other kernels' events (counted in those instead)."""


def segmenter_case(size, policy, batch_size, width):
    """A synchronised ``fit`` train step of the segmenter on one in-memory batch."""
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        classes = throughput.NUM_CLASSES
        model = segmenter(image_size=size, num_classes=classes, width=width)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=WeightedCrossEntropy(np.ones(classes, np.float32)),
                      metrics=[ConfusionMatrixMetric(classes, "mean_iou")])
        batch = throughput.model_ready_batch("inpaint", size, batch_size)
        model.make_train_function()
        iterator = iter(tf.data.Dataset.from_tensors(({"rgb": batch["rgb"]},
                                                      batch["landcover"])).repeat())
        return lambda: throughput.sync(model.train_function(iterator))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def op_times(run, *, warmup, steps):
    """{op type: kernel milliseconds per step} of ``steps`` traced calls of ``run``."""
    for _ in range(warmup):
        run()
    with tempfile.TemporaryDirectory(prefix="profile_step_") as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(steps):
            run()
        tf.profiler.experimental.stop()
        totals = collections.Counter()
        for path in pathlib.Path(logdir).rglob("*.xplane.pb"):
            space = xplane_pb2.XSpace.FromString(path.read_bytes())
            for plane in space.planes:
                for line in plane.lines:
                    if not line.name.startswith("tf_Compute"):
                        continue  # the executor threads: one event per kernel, "op_name:OpType"
                    for event in line.events:
                        name = plane.event_metadata[event.metadata_id].name
                        op, _, kind = name.rpartition(":")
                        if op and "::" not in name and kind not in CALLS:  # not executor events
                            totals[kind] += event.duration_ps / 1e9 / steps
    return totals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["mixlc"], choices=CONFIGS)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=14, help="op types listed (by the first column)")
    args = parser.parse_args(argv)
    columns = {}
    for config in args.configs:
        for policy in args.dtypes:
            run = (segmenter_case(args.size, policy, args.batch_size, args.width)
                   if config == "segmenter" else
                   throughput.build_case(config, args.size, policy, args.batch_size, args.width)["run"])
            start = time.perf_counter()
            columns[f"{config} {policy}"] = op_times(run, warmup=2, steps=args.steps)
            print(f"traced {config} {policy} ({time.perf_counter() - start:.0f} s)", flush=True)
    names = list(columns)
    first = columns[names[0]]
    kinds = sorted(set().union(*columns.values()), key=lambda k: -first.get(k, 0))
    print(f"\nms per step by op type, {args.size} px, batch {args.batch_size}, width {args.width} "
          f"(share of the traced kernel time)")
    print("| op type | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for kind in kinds[:args.top] + ["(all)"]:
        cells = []
        for name in names:
            total = sum(columns[name].values())
            value = total if kind == "(all)" else columns[name].get(kind, 0.0)
            cells.append(f"{value:.0f} ({100 * value / max(total, 1e-9):.0f}%)")
        print(f"| {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
