"""How much masked SSIM does texture cost? The SSIM / sharpness trade-off of an inpainting export.

Masked SSIM compares 11x11-window means, contrasts and correlations. Texture whose layout differs
from the real one (all that the masked pixels allow a fill to paint) lowers the correlation term,
while a flat or smooth fill keeps the contrast term near 1 wherever the real ground is smooth: the
measure rewards blur. This script puts numbers on it for one export. It splits every fill into a
low-frequency part (a Gaussian blur of ``--sigma`` px) and the rest (texture), recombines parts of
different origins, and scores each recombination with :func:`lcgan.evaluate` on the same images
(the generator's noise is drawn once per batch and reused):

* ``generator x a``: the export's low frequencies plus ``a`` times its texture (a = 1 is the
  export itself; lower a trades sharpness for SSIM along the generator's own curve);
* ``biharmonic low + generator texture``: classical interpolation's layout, the export's texture;
* ``oracle: real low + generator texture``: the true layout (unknowable at inference), the
  export's texture: what a perfect layout would buy;
* ``oracle: real low + real texture moved N px``: the true layout and the very ground's own
  texture, displaced: a fill as sharp and real as possible whose texture is not the hidden one;
* ``oracle: real low only``: the true layout without texture.

    python bench/bench_ssim_tradeoff.py --generator runs/reference4/inpaint_cc_seed0/export \
        --data runs/reference3/split/test --image-size 128 --batches 8 \
        --results bench/results/ssim_tradeoff.md
"""

import argparse
import pathlib

import numpy as np

COLUMNS = ("masked_l1", "masked_psnr", "masked_ssim", "sharpness", "region_fd")


def gaussian_blur(images, sigma):
    """Same-size Gaussian blur with reflected borders: (B, H, W, C) float32 -> (B, H, W, C)."""
    import tensorflow as tf

    radius = max(1, int(3 * sigma + 0.5))
    taps = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2 * sigma ** 2)).astype(np.float32)
    taps /= taps.sum()
    channels = images.shape[-1]
    kernel = np.tile((taps[:, None] * taps[None, :])[:, :, None, None], [1, 1, channels, 1])
    padded = np.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="reflect")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID").numpy()


def once_per_batch(method):
    """``method`` with its output kept per batch (keyed by the batch's rgb), so every variant that
    uses it sees the same noise draw."""
    kept = {}

    def call(batch):
        key = np.asarray(batch["rgb"]).tobytes()
        if key not in kept:
            kept[key] = np.asarray(method(batch), dtype=np.float32)
        return kept[key]
    return call


def variants(generator, *, sigma, shift):
    """``{name: batch -> (B, H, W, 3)}``: the recombinations described in the module docstring."""
    from lcgan.evaluation.baselines import biharmonic_inpaint

    def parts(images):
        low = gaussian_blur(np.asarray(images, dtype=np.float32), sigma)
        return low, np.asarray(images, dtype=np.float32) - low

    biharmonic = once_per_batch(biharmonic_inpaint)

    def scaled(amount):
        def fill(batch):
            low, texture = parts(generator(batch))
            return low + amount * texture
        return fill

    def on_real_low(texture):
        return lambda batch: parts(batch["target"])[0] + texture(batch)

    return {
        **{f"generator x {a:g}": scaled(a) for a in (1.0, 0.7, 0.5, 0.0)},
        "biharmonic low + generator texture":
            lambda batch: parts(biharmonic(batch))[0] + parts(generator(batch))[1],
        "oracle: real low + generator texture": on_real_low(lambda b: parts(generator(b))[1]),
        f"oracle: real low + real texture moved {shift} px":
            on_real_low(lambda b: np.roll(parts(b["target"])[1], (shift, shift), axis=(1, 2))),
        "oracle: real low only": on_real_low(lambda b: 0.0),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", required=True, help="an inpaint export or .keras file")
    parser.add_argument("--data", required=True, help="the held-out tiles (folder)")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--sigma", type=float, default=2.0, help="low-pass Gaussian sigma, px")
    parser.add_argument("--shift", type=int, default=9, help="texture displacement of the oracle, px")
    parser.add_argument("--results", required=True, help="markdown file to write")
    args = parser.parse_args(argv)

    import lcgan
    from lcgan.data import resolve_source
    from lcgan.scenes.export import load_any_generator

    source = resolve_source(args.data, tile_size=args.image_size)
    generator = once_per_batch(load_any_generator(args.generator, task="inpaint"))
    rows = {}
    for name, method in variants(generator, sigma=args.sigma, shift=args.shift).items():
        result = lcgan.evaluate(method, source, task="inpaint", image_size=args.image_size,
                                batch_size=args.batch_size, batches=args.batches)
        rows[name] = result.row("lcgan")
        rows.setdefault("*biharmonic*", result.row("biharmonic"))
        rows.setdefault("*class_mean*", result.row("class_mean"))
        print(name, {c: round(float(rows[name][c]), 4) for c in COLUMNS}, flush=True)
    lines = [f"# Masked SSIM against sharpness: `{args.generator}`", "",
             f"{result.num_images} images of `{args.data}` at {args.image_size} px; low frequencies: "
             f"Gaussian blur, sigma {args.sigma:g} px; texture: the rest. Command: "
             f"`python bench/bench_ssim_tradeoff.py --generator {args.generator} --data {args.data} "
             f"--image-size {args.image_size} --batches {args.batches} --results {args.results}`", "",
             "| fill | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{float(row[c]):.4g}" for c in COLUMNS) + " |"
              for name, row in rows.items()]
    pathlib.Path(args.results).write_text("\n".join(lines) + "\n")
    print("wrote", args.results)


if __name__ == "__main__":
    main()
