"""Procedural landcover maps and their rendered RGB, for tests and demos (NumPy, seedable).

A map is built in layers: smooth noise blobs split the ground into forest, field, urban and bare
land; a meandering band of water crosses it as a river; one or two straight or curved roads run
over everything. The RGB rendering gives every class a natural colour, a class texture (tree
clumps, field furrows, city blocks, ripples) and sensor noise.

Example:
    >>> rgb, landcover = synthetic_tile(64, 64, seed=3)  # (64, 64) int32, (64, 64, 3) uint8
    >>> synthetic_legend().names
    ['water', 'forest', 'field', 'urban', 'road', 'bare']
"""

from __future__ import annotations

import numpy as np

from lcgan.data.legend import Legend

WATER, FOREST, FIELD, URBAN, ROAD, BARE = range(6)
_NAMES = ("water", "forest", "field", "urban", "road", "bare")
_DISPLAY = ((30, 90, 220), (20, 120, 40), (200, 210, 70), (220, 40, 40), (90, 90, 90),
            (190, 150, 100))
_NATURAL = np.array([(30, 60, 85), (50, 90, 45), (150, 160, 90), (125, 120, 115), (95, 95, 95),
                     (175, 155, 120)], np.float32)  # rendered colour of each class
_TEXTURE_AMPLITUDE = np.array([0.05, 0.25, 0.12, 0.22, 0.04, 0.10], np.float32)


def synthetic_legend() -> Legend:
    """The 6-class legend of synthetic tiles (ids as :data:`WATER` ... :data:`BARE`)."""
    return Legend(_NAMES, _DISPLAY, name="synthetic")


def smooth_noise(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """Value noise: random values on a grid every ``scale`` pixels, bilinearly interpolated.

    Returns:
        (height, width) float32 in [0, 1], smooth over about ``scale`` pixels.
    """
    rows, cols = int(np.ceil(height / scale)) + 2, int(np.ceil(width / scale)) + 2
    grid = rng.random((rows, cols), dtype=np.float32)
    y = np.arange(height, dtype=np.float32) / scale + rng.random()
    x = np.arange(width, dtype=np.float32) / scale + rng.random()
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def landcover_map(height: int, width: int, *, seed=None) -> np.ndarray:
    """A procedural landcover map with blobs, a river and roads.

    Args:
        height, width: map size in pixels.
        seed: None (non-deterministic) or an int.

    Returns:
        (height, width) int32 class ids of :func:`synthetic_legend`.
    """
    rng = np.random.default_rng(seed)
    size = max(height, width)
    ground = (FOREST, FIELD, URBAN, BARE)
    fields = np.stack([smooth_noise(rng, height, width, size / rng.uniform(2, 5))
                       for _ in ground])  # (4, H, W)
    ids = np.array(ground, np.int32)[fields.argmax(0)]
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    if rng.random() < 0.5:  # river runs top to bottom, else left to right
        along, across, length = rows, cols, height
        span = width
    else:
        along, across, length = cols, rows, width
        span = height
    centre = (span * rng.uniform(0.25, 0.75)
              + span * rng.uniform(0.08, 0.2)
              * np.sin(2 * np.pi * along / (length * rng.uniform(0.6, 1.5)) + rng.uniform(0, 7)))
    river_width = size * rng.uniform(0.04, 0.1)
    ids[np.abs(across - centre) < river_width / 2] = WATER
    for _ in range(rng.integers(1, 3)):
        angle = rng.uniform(0, np.pi)
        y0, x0 = rng.uniform(0, height), rng.uniform(0, width)
        offset = (cols - x0) * np.sin(angle) - (rows - y0) * np.cos(angle)
        distance = (cols - x0) * np.cos(angle) + (rows - y0) * np.sin(angle)
        bend = rng.choice([0.0, rng.uniform(-1.5, 1.5) / size])  # straight or parabolic
        road_width = max(1.5, size * rng.uniform(0.015, 0.03))
        ids[np.abs(offset - bend * distance ** 2) < road_width / 2] = ROAD
    return ids


def render_rgb(landcover, *, seed=None) -> np.ndarray:
    """Render a plausible aerial image of a synthetic landcover map.

    Args:
        landcover: (H, W) int class ids of :func:`synthetic_legend`.
        seed: None (non-deterministic) or an int.

    Returns:
        (H, W, 3) uint8 image: class colour (jittered per tile) x (1 + class texture) + noise.
    """
    landcover = np.asarray(landcover)
    if landcover.ndim != 2 or landcover.min() < 0 or landcover.max() >= len(_NAMES):
        raise ValueError(f"`landcover` must be (H, W) ids in 0..{len(_NAMES) - 1}. Received "
                         f"shape {landcover.shape}, range {landcover.min()}..{landcover.max()}.")
    rng = np.random.default_rng(seed)
    height, width = landcover.shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    colours = _NATURAL * rng.uniform(0.9, 1.1, (len(_NAMES), 1))
    angle = rng.uniform(0, np.pi)
    furrows = np.sin((cols * np.cos(angle) + rows * np.sin(angle)) * 2 * np.pi / rng.uniform(3, 6))
    blocks = ((cols // 6 + rows // 6) % 2) * 2 - 1 + smooth_noise(rng, height, width, 2)
    textures = np.stack([
        smooth_noise(rng, height, width, 8) * 2 - 1,  # water: slow ripples
        smooth_noise(rng, height, width, 2) * 2 - 1,  # forest: tree clumps
        furrows,  # field
        blocks - 0.5,  # urban
        np.zeros((height, width), np.float32),  # road
        smooth_noise(rng, height, width, 4) * 2 - 1,  # bare
    ])  # (6, H, W)
    texture = np.take_along_axis(textures, landcover[None].astype(np.intp), 0)[0]
    rgb = colours[landcover] * (1 + _TEXTURE_AMPLITUDE[landcover] * texture)[..., None]
    rgb += rng.normal(0, 4, rgb.shape)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def synthetic_tile(height: int, width: int, *, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic tile: ``(rgb (H, W, 3) uint8, landcover (H, W) int32)``.

    ``seed`` is None (non-deterministic), an int or a sequence of ints (e.g. ``(seed, index)``).
    """
    rng = np.random.default_rng(seed)
    landcover = landcover_map(height, width, seed=rng.integers(2**63))
    return render_rgb(landcover, seed=rng.integers(2**63)), landcover
