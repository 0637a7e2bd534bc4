"""Train the evaluation segmenter on whole Dubai tiles and score it on a held-out tile.

The question: how well does lcgan's landcover segmenter (the measuring instrument of the GAN
evaluation) classify real imagery of a tile it never saw? Training takes random crops of the
``--train-tiles`` (lcgan's pipeline: cached decoded tiles, flips and quarter turns, raw batches),
a median-frequency class-weighted cross-entropy, mild colour jitter and AdamW with a cosine
schedule. The test tiles are scored two ways, leaving IGNORE pixels out:

* ``scene``: sliding windows of ``--eval-window`` px over every whole image (stride half a window,
  overlaps blended with weights falling towards the window edges; the edge is covered);
* ``tiles64``: the image cut into non-overlapping 64 px tiles, each classified alone, as
  ``lcgan evaluate --image-size 64`` sees generated tiles.

The saved model takes any input size divisible by ``2 ** depth`` (``segmenter(image_size=None)``)
and holds no optimizer state. The run's numbers go to a section of the
markdown ``--report`` named after the model file (other sections are kept), and to ``--json``.

    python bench/train_eval_segmenter.py --data-root ../shared/data/dubai_aerial \\
        --steps 6000 --out lcgan/evaluation/assets/dubai_segmenter.keras
"""

import argparse
import json
import os
import pathlib
import platform
import re
import shlex
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from lcgan.data import IGNORE, FolderSource, Legend, TileSource, make_dataset  # noqa: E402
from lcgan.models.segmenter import WeightedCrossEntropy, class_weights, segmenter  # noqa: E402

ATTRIBUTION = ("Dubai aerial imagery: Mohammed Bin Rashid Space Centre (MBRSC); masks by Humans in "
               "the Loop (\"Semantic segmentation of aerial imagery\", segmented by the trainees of "
               "the Roia Foundation); CC0 1.0.")


class TileSet(TileSource):
    """Tiles ``tileN`` of a Dubai-style root: one FolderSource per tile folder, concatenated,
    cut into pieces of ``piece`` to ``2 * piece`` px a side, decoded once and kept in memory
    (the same cached dataset is returned on every call).

    The pipeline takes one crop per element, so pieces of about equal area sample every pixel
    about equally often (the images range from 0.28 to 3.7 Mpx), and a crop no longer stacks a
    whole 3.7 Mpx image first.
    """

    def __init__(self, root, tiles, piece=512):
        root = pathlib.Path(root)
        self.legend = Legend.from_json(root / "legend.json")
        self.sources = [FolderSource(root / f"tile{t}", legend=self.legend) for t in tiles]
        self.piece = piece
        self._dataset = None

    def __len__(self):
        return sum(len(s) for s in self.sources)

    def tiles(self):
        for source in self.sources:
            yield from source.tiles()

    def as_dataset(self):
        if self._dataset is None:
            dataset = self.sources[0].as_dataset()
            for source in self.sources[1:]:
                dataset = dataset.concatenate(source.as_dataset())
            self._dataset = dataset.flat_map(self._pieces).cache()
        return self._dataset

    def _pieces(self, tile):
        shape = tf.shape(tile["landcover"])
        rows, cols = tf.maximum(shape[0] // self.piece, 1), tf.maximum(shape[1] // self.piece, 1)
        h, w = shape[0] // rows, shape[1] // cols

        def cut(j):
            y, x = (j // cols) * h, (j % cols) * w
            return {key: value[y:y + h, x:x + w] for key, value in tile.items()}

        return tf.data.Dataset.range(tf.cast(rows * cols, tf.int64)).map(
            lambda j: cut(tf.cast(j, tf.int32)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", required=True, help="the dubai_aerial folder (tileN/...)")
    parser.add_argument("--train-tiles", default="1,2,4,5,6,7,8")
    parser.add_argument("--test-tiles", default="3")
    parser.add_argument("--image-size", type=int, default=128, help="training crop size")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--max-class-weight", type=float, default=5.0)
    parser.add_argument("--piece", type=int, default=512,
                        help="training images are cut into pieces of this to twice this size")
    parser.add_argument("--eval-window", type=int, default=256)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the .keras file to write")
    parser.add_argument("--checkpoint", default=None,
                        help="compiled .keras file saved every --log-every steps; if it exists, "
                             "training resumes from it (with a fresh data stream)")
    parser.add_argument("--report", default="bench/results/eval_segmenter.md")
    parser.add_argument("--json", default=None,
                        help="the run's numbers (default: next to --report, named after --out)")
    return parser.parse_args(argv)


def _tiles(text):
    return [int(t) for t in text.split(",") if t.strip()]


def _jitter(batch, seed):
    """Per-sample brightness, contrast and saturation jitter of rgb (B, S, S, 3) in [-1, 1]."""
    rgb = (batch["rgb"] + 1.0) / 2.0  # (B, S, S, 3) in [0, 1]
    b = tf.shape(rgb)[0]
    u = tf.random.stateless_uniform([3, b, 1, 1, 1], seed, -1.0, 1.0)
    grey = tf.reduce_mean(rgb, axis=-1, keepdims=True)
    rgb = grey + (rgb - grey) * (1.0 + 0.2 * u[0])  # saturation +-20 %
    mean = tf.reduce_mean(rgb, axis=[1, 2, 3], keepdims=True)
    rgb = mean + (rgb - mean) * (1.0 + 0.2 * u[1]) + 0.08 * u[2]  # contrast +-20 %, brightness
    ids = batch["landcover_ids"] if "landcover_ids" in batch else batch["landcover"]  # (B, S, S)
    return {"rgb": tf.clip_by_value(rgb, 0.0, 1.0) * 2.0 - 1.0}, ids


def train_pairs(source, args, seed):
    dataset = make_dataset(source, task="inpaint", image_size=args.image_size,
                           batch_size=args.batch_size, seed=seed, augment=True, build=False,
                           shuffle_buffer=source.num_pieces)
    key = tf.constant([seed, 1], tf.int64)
    return dataset.enumerate().map(
        lambda i, batch: _jitter(batch, tf.random.experimental.stateless_fold_in(key, i)),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def _starts(length, window, stride):
    """Window starts covering ``0 .. length`` (the count rounds up; the last one ends at the edge)."""
    if length <= window:
        return [0]
    count = -(-(length - window) // stride) + 1
    return sorted({min(i * stride, length - window) for i in range(count)})


def predict_scene(model, rgb, window, multiple):
    """Class ids (H, W) of one image (H, W, 3) in [-1, 1] by blended sliding windows."""
    h, w = rgb.shape[:2]
    padded = [-(-max(n, window) // multiple) * multiple for n in (h, w)]  # divisible sizes
    rgb = np.pad(rgb, ((0, padded[0] - h), (0, padded[1] - w), (0, 0)), mode="reflect")
    win_h, win_w = min(window, rgb.shape[0]), min(window, rgb.shape[1])
    ramp = lambda n: np.minimum(np.arange(n) + 0.5, n - np.arange(n) - 0.5) / (n / 2)  # noqa: E731
    weight = np.outer(ramp(win_h), ramp(win_w))[..., None] + 1e-3  # (win, win, 1): low at edges
    total = np.zeros(rgb.shape[:2] + (model.output.shape[-1],), np.float32)
    for y in _starts(rgb.shape[0], win_h, win_h // 2):
        for x in _starts(rgb.shape[1], win_w, win_w // 2):
            logits = model({"rgb": rgb[None, y:y + win_h, x:x + win_w]}, training=False)[0]
            total[y:y + win_h, x:x + win_w] += weight * keras.ops.convert_to_numpy(
                keras.ops.softmax(logits, axis=-1))
    return np.argmax(total[:h, :w], axis=-1)


def predict_tiles(model, rgb, size=64):
    """(ids (h, w), covered h, w): non-overlapping ``size`` px tiles, each classified alone."""
    rows, cols = rgb.shape[0] // size, rgb.shape[1] // size
    tiles = rgb[:rows * size, :cols * size].reshape(rows, size, cols, size, 3).swapaxes(1, 2)
    logits = model.predict({"rgb": tiles.reshape(-1, size, size, 3)}, batch_size=64, verbose=0)
    ids = np.argmax(logits, -1).reshape(rows, cols, size, size).swapaxes(1, 2)
    return ids.reshape(rows * size, cols * size)


def confusion(true, predicted, k):
    valid = true != IGNORE
    return np.bincount(true[valid] * k + predicted[valid], minlength=k * k).reshape(k, k)


def scores(matrix, names):
    """Pixel accuracy, per-class IoU and mIoU (over classes present in truth or prediction)."""
    tp = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - tp
    iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    return {"pixel_accuracy": float(tp.sum() / matrix.sum()), "mean_iou": float(np.nanmean(iou)),
            "iou": {n: (None if np.isnan(v) else float(v)) for n, v in zip(names, iou)},
            "pixels": int(matrix.sum())}


def evaluate(model, root, tiles, args):
    legend = Legend.from_json(pathlib.Path(root) / "legend.json")
    k, multiple = legend.num_classes, 2 ** args.depth
    mats = {"scene": np.zeros((k, k), np.int64), "tiles64": np.zeros((k, k), np.int64)}
    for t in tiles:
        for rgb, ids in FolderSource(pathlib.Path(root) / f"tile{t}", legend=legend).tiles():
            rgb = rgb.astype(np.float32) / 127.5 - 1.0  # (H, W, 3) in [-1, 1]
            mats["scene"] += confusion(ids, predict_scene(model, rgb, args.eval_window, multiple), k)
            small = predict_tiles(model, rgb)
            mats["tiles64"] += confusion(ids[:small.shape[0], :small.shape[1]], small, k)
    return {name: scores(m, legend.names) for name, m in mats.items()}


def write_report(path, section, result):
    """Replace (or append) this model's section of the markdown report."""
    path = pathlib.Path(path)
    text = path.read_text() if path.exists() else (
        "# Evaluation segmenter: held-out tile scores\n\nWritten by `bench/train_eval_segmenter.py`; "
        f"one section per model file.\n\nData: {ATTRIBUTION}\n\nScores leave IGNORE pixels out; "
        "mIoU is the mean IoU over the classes present in the truth or the prediction. `scene`: "
        "blended sliding windows over each whole test image; `tiles64`: each non-overlapping 64 px "
        "tile classified alone (what `lcgan evaluate --image-size 64` sees).\n")
    names = list(result["test"]["scene"]["iou"])
    landcover = [n for n in names if n != "unlabeled"]  # the Dubai legend's "annotator skipped"

    def landcover_miou(r):
        values = [r["iou"][n] for n in landcover if r["iou"][n] is not None]
        return f"{np.mean(values):.3f}" if values else "-"

    rows = [f"| {mode} | {r['pixel_accuracy']:.3f} | {r['mean_iou']:.3f} | {landcover_miou(r)} | " +
            " | ".join("-" if r["iou"][n] is None else f"{r['iou'][n]:.3f}" for n in names) + " |"
            for mode, r in result["test"].items()]
    body = "\n".join([
        f"<!-- section {section} -->", f"## {section}", "",
        f"Command: `{result['command']}`", "",
        f"Train tiles {result['train_tiles']}, test tile(s) {result['test_tiles']}; class weights "
        f"{result['class_weights']}; {result['steps']} steps of {result['batch_size']} x "
        f"{result['image_size']} px; {result['params']} parameters, file {result['file_mb']:.2f} MB.",
        f"Wall time {result['wall_s'] / 60:.1f} min"
        f"{' (the resumed process only)' if result.get('resumed') else ''}; training "
        f"{result['train_s'] / 60:.1f} min in all, median {result['step_s']:.3f} s/step, on "
        f"{result['machine']}.", "",
        "| scored as | pixel acc. | mIoU | mIoU without unlabeled | " + " | ".join(names) + " |",
        "|---|---|---|---|" + "---|" * len(names), *rows, "",
        f"Training loss (mean of each {result['log_every']} steps): " +
        ", ".join(f"{v:.3f}" for v in result["losses"]), f"<!-- end {section} -->", ""])
    pattern = re.compile(rf"<!-- section {re.escape(section)} -->.*?<!-- end {re.escape(section)} -->\n",
                         re.S)
    text = pattern.sub(lambda _: body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv=None):
    args = parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in ([sys.argv[0]] + (argv or sys.argv[1:])))
    print(command, flush=True)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    source = TileSet(args.data_root, _tiles(args.train_tiles), piece=max(args.piece, args.image_size))
    k = source.legend.num_classes
    counts, source.num_pieces = np.zeros(k, np.int64), 0
    for tile in source.as_dataset():  # fills the cache
        ids = tile["landcover"].numpy()
        counts += np.bincount(ids[ids != IGNORE], minlength=k)
        source.num_pieces += 1
    weights = class_weights(counts, max_weight=args.max_class_weight)
    print(f"{len(source)} training images ({source.num_pieces} pieces), "
          f"{counts.sum() / 1e6:.1f} Mpx decoded in "
          f"{time.perf_counter() - start:.0f} s; class weights {np.round(weights, 2).tolist()}",
          flush=True)

    checkpoint = pathlib.Path(args.checkpoint) if args.checkpoint else None
    history = {"losses": [], "interval_s": [], "step_s": []}
    if checkpoint and checkpoint.exists():  # resume: weights, optimizer state and step count
        model = keras.models.load_model(checkpoint)
        history = json.loads(checkpoint.with_suffix(".json").read_text())
        print(f"resumed from {checkpoint} at step {int(model.optimizer.iterations)}", flush=True)
    else:
        model = segmenter(image_size=args.image_size, num_classes=k, width=args.width,
                          depth=args.depth)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, args.steps - args.steps // 20, alpha=0.01, warmup_target=args.learning_rate,
            warmup_steps=args.steps // 20)
        model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay),
                      loss=WeightedCrossEntropy(weights))
    first_epoch = int(model.optimizer.iterations) // args.log_every
    times, losses = [], history["losses"]

    class Log(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            losses.append(float(logs["loss"]))
            history["step_s"].append(float(np.median(times[-args.log_every:])))
            history["interval_s"].append(time.perf_counter() - self.epoch_start)
            print(f"step {(epoch + 1) * args.log_every}: loss {logs['loss']:.4f}, median "
                  f"{history['step_s'][-1]:.3f} s/step, "
                  f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
            if checkpoint:
                self.model.save(checkpoint)
                checkpoint.with_suffix(".json").write_text(json.dumps(history))

    model.fit(train_pairs(source, args, args.seed + first_epoch), epochs=args.steps // args.log_every,
              initial_epoch=first_epoch, steps_per_epoch=args.log_every, verbose=0,
              callbacks=[Log()])
    train_s = float(np.sum(history["interval_s"]))

    final = segmenter(image_size=None, num_classes=k, width=args.width, depth=args.depth)
    final.set_weights(model.get_weights())  # any input size, no optimizer state in the file
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    final.save(out)
    test = evaluate(final, args.data_root, _tiles(args.test_tiles), args)
    result = {"command": command, "train_tiles": args.train_tiles, "test_tiles": args.test_tiles,
              "class_weights": np.round(weights, 3).tolist(), "steps": args.steps,
              "batch_size": args.batch_size, "image_size": args.image_size,
              "params": final.count_params(), "file_mb": out.stat().st_size / 2**20,
              "step_s": float(np.median(history["step_s"])), "train_s": train_s,
              "resumed": first_epoch > 0,
              "wall_s": time.perf_counter() - start, "log_every": args.log_every, "losses": losses,
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                         f"{args.threads} TF threads", "test": test}
    report = pathlib.Path(args.report)
    json_path = args.json or report.with_name(f"{report.stem}_{out.stem}.json")
    report.parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(json_path).write_text(json.dumps(result, indent=1))
    write_report(args.report, out.name, result)
    for mode, r in test.items():
        print(f"{mode}: pixel accuracy {r['pixel_accuracy']:.3f}, mIoU {r['mean_iou']:.3f}, IoU " +
              ", ".join(f"{n} {'-' if v is None else f'{v:.3f}'}" for n, v in r["iou"].items()))
    print(f"saved {out} ({result['file_mb']:.2f} MB); wall {result['wall_s'] / 60:.1f} min")
    return result


if __name__ == "__main__":
    main()
