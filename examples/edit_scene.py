"""Edit a GeoTIFF scene: turn a box of its landcover into another class and re-render only that.

The script gets a generator (``--model``: an export directory; without it, a short Mix LC
training run), writes a bundled tile as a georeferenced GeoTIFF pair (rgb and landcover), changes
a box of the landcover to the class ``--to`` (a name of the legend), runs ``lcgan.edit_scene`` and
writes ``before_after.png`` (rgb and landcover, before above after) into ``--out``::

    python examples/edit_scene.py             # trains 2 x 20 steps first; runs/edit_scene/
    python examples/edit_scene.py --model runs/mixlc/export --to vegetation --box 200 300 360 460
    python examples/edit_scene.py --model runs/mixlc/export --tile 19 --from land --to water
    python examples/edit_scene.py --model runs/mixlc/export --tile 19 --from land --to water --match-colors

The CRS and transform written here are illustrative (the bundled tiles carry no georeferencing):
EPSG:32640, WGS 84 / UTM zone 40N, which covers Dubai, with 0.5 m pixels. A real scene keeps
its own; the output has the input's CRS, transform, dtype and nodata. ``lcgan edit`` is the same
step from the command line.
"""

import argparse
import itertools
import os

import numpy as np
from PIL import Image

import lcgan
from lcgan import data
from lcgan.data import raster

# ## Setup

lcgan.one_line_errors()  # a user error: one line "edit_scene.py: error: ...", status 2
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--model", help="export directory (default: train a generator briefly)")
parser.add_argument("--to", default="water", help="class name painted into the box (water)")
parser.add_argument("--box", type=int, nargs=4, metavar=("TOP", "LEFT", "BOTTOM", "RIGHT"),
                    help="pixel rows TOP..BOTTOM, columns LEFT..RIGHT (default: a centred square)")
parser.add_argument("--from", dest="from_class", metavar="CLASS",
                    help="change only the box's pixels of this class (default: the whole box), so "
                         "the new area follows the scene's own boundaries")
parser.add_argument("--match-colors", action="store_true",
                    help="shift each generated class to its mean colour in the rest of the scene")
parser.add_argument("--tile", type=int, default=0, help="index of the tile to edit (0)")
parser.add_argument("--data-dir", help="images/ + masks/ tile folder (default: bundled sample)")
for flag, default in (("--epochs", 2), ("--steps-per-epoch", 20), ("--image-size", 64),
                      ("--width", 16), ("--batch-size", 8)):
    parser.add_argument(flag, type=int, default=default, help=f"without --model ({default})")
parser.add_argument("--out", default=os.path.join("runs", "edit_scene"), help="output folder")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)
source = data.resolve_source(args.data_dir)

# ## A generator
# An export of any lcgan run; without one, `lcgan.train` runs a short Mix LC training (the recipe
# of `examples/train_mixlc.py`) and exports it.

if args.model is None:
    run = lcgan.train("mixlc", source, out=os.path.join(args.out, "model"), resume=False,
                      epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                      image_size=args.image_size, width=args.width, batch_size=args.batch_size)
    args.model = run.export_dir
generator = lcgan.load_generator(args.model)
legend = generator.legend  # the classes the generator was trained on
print(f"generator: {generator.metadata['task']} at {generator.metadata['image_size']} px, "
      f"classes {legend.names}")

# ## A georeferenced scene
# The landcover raster holds the legend's raw values (`value` of each class) with a nodata value
# for unlabelled pixels; the rgb raster is uint8, bands first.

rgb, ids = next(itertools.islice(source.tiles(), args.tile, None))  # (H, W, 3) uint8, (H, W)
height, width = ids.shape
crs, west, north, pixel = "EPSG:32640", 326_000.0, 2_788_000.0, 0.5  # illustrative
transform = raster.transform_from_bounds(west, north - pixel * height, west + pixel * width,
                                         north, width, height)
values = np.array([c.value for c in legend.classes])  # raw value of each class id
nodata = int(values.max()) + 1
landcover = np.where(ids == data.IGNORE, nodata, values[ids]).astype(np.min_scalar_type(nodata))
paths = {name: os.path.join(args.out, f"{name}.tif")
         for name in ("rgb", "landcover", "landcover_edited", "edited")}
raster.write_geotiff(paths["rgb"], rgb.transpose(2, 0, 1), crs=crs, transform=transform,
                     overwrite=True)
raster.write_geotiff(paths["landcover"], landcover, crs=crs, transform=transform, nodata=nodata,
                     overwrite=True)

# ## The edit
# Paint the box (or only its pixels of class `--from`) with the chosen class, by name.

side = min(height, width) // 4
top, left, bottom, right = args.box or ((height - side) // 2, (width - side) // 2,
                                        (height + side) // 2, (width + side) // 2)
if not (0 <= top < bottom <= height and 0 <= left < right <= width):
    raise ValueError(f"`--box` must lie inside the {height} x {width} tile with TOP < BOTTOM and "
                     f"LEFT < RIGHT. Received: {[top, left, bottom, right]}")
area = np.zeros_like(ids, dtype=bool)  # (H, W): the pixels that change class
area[top:bottom, left:right] = True
if args.from_class is not None:
    area &= ids == legend.class_id(args.from_class)
edited = np.where(area, values[legend.class_id(args.to)], landcover).astype(landcover.dtype)
raster.write_geotiff(paths["landcover_edited"], edited, crs=crs, transform=transform,
                     nodata=nodata, overwrite=True)

# ## Re-render
# `edit_scene` finds the changed area (where the two landcover rasters differ, grown by `grow`
# pixels), runs the generator over overlapping windows that touch it, blends their overlaps, and
# replaces only that area: every other pixel is copied bit for bit. The generators are fully
# convolutional, so the windows need not be the training size: `lcgan edit`'s 256 px (or the
# training size, if larger) gives each window more context and the scene fewer window edges.
# With `match_colors`, the generated pixels of each class are shifted, window by window, to that
# class's mean colour over the scene's unchanged pixels: the generator paints water in the shade
# of its training tiles' water, this moves it to this scene's (the texture stays the generator's).

window = max(256, generator.metadata["image_size"][0])
lcgan.edit_scene(generator, paths["rgb"], paths["landcover_edited"], paths["edited"],
                 original_landcover_path=paths["landcover"], window=window, overlap=window // 4,
                 grow=3, match_colors=args.match_colors, overwrite=True, progress=False)

# ## Before and after

with raster.RasterReader(paths["edited"]) as reader:
    after = reader.read(0, 0, height, width).transpose(1, 2, 0)  # (H, W, 3) uint8
    print(f"wrote {paths['edited']} ({reader.profile['crs']}, {width} x {height} px)")
changed = np.any(after != rgb, axis=-1)  # (H, W)
grown = np.zeros_like(changed)
grown[max(top - 3, 0):bottom + 3, max(left - 3, 0):right + 3] = True
print(f"{changed.sum()} pixels changed, {(changed & ~grown).sum()} of them outside the box grown "
      f"by 3 px")
# Does the new area look like its class elsewhere in the scene? Compare the mean colours.
elsewhere = (ids == legend.class_id(args.to)) & ~grown  # (H, W)
if area.any() and elsewhere.any():
    print(f"mean rgb of the new {args.to}: {np.round(after[area].mean(axis=0)).astype(int)}; of "
          f"the scene's other {args.to}: {np.round(rgb[elsewhere].mean(axis=0)).astype(int)}")
edited_ids = np.where(area, legend.class_id(args.to), ids)
figure = np.concatenate([np.concatenate([rgb, legend.colorize(ids)], axis=1),
                         np.concatenate([after, legend.colorize(edited_ids)], axis=1)], axis=0)
Image.fromarray(figure).save(os.path.join(args.out, "before_after.png"))
print(f"wrote {os.path.join(args.out, 'before_after.png')}: rgb | landcover, before above after")
