"""The strip pipeline of scene editing: read, run the model, blend and write, all overlapped.

:func:`run_strips` takes the scene one strip (a row of windows) at a time. Four stages run at
once, each in its own thread, with at most one item waiting between two stages, so memory stays
bounded by the scene width:

1. ``edit_scene-read`` reads and decodes strip ``i + 1``;
2. the calling thread builds the inputs of batch ``n + 1`` (stacking windows, to [-1, 1]), then
   blends batch ``n - 1``'s outputs (shifted to the scene's class colours first, when given) and
   composes the strips they finish;
3. ``edit_scene-model`` runs the model on batch ``n``;
4. ``edit_scene-write`` encodes and writes finished rows, in whole rows of output blocks.

GDAL, TensorFlow and NumPy's large array operations release the GIL, so the model's call overlaps
the CPU work around it. Each dataset is used by one thread at a time; the blend accumulator and
the strips are touched by the calling thread only.

Example:
    >>> run_strips(model, scene, writer, legend, window=256, overlap=64, batch_size=8, grow=3,
    ...            blank=False, takes_mask=False, bar=tqdm(disable=True))  # doctest: +SKIP
"""

from __future__ import annotations

import collections
from concurrent import futures

import numpy as np

from lcgan.data.grid import window_offsets
from lcgan.images import to_unit
from lcgan.scenes.colors import match_class_means
from lcgan.scenes.windows import BlendAccumulator, ramp_cover, window_ramp


def run_strips(model, scene, writer, legend, *, window, overlap, batch_size, grow, blank,
               takes_mask, bar, class_means=None) -> None:
    """Run the changed windows of ``scene`` through ``model`` and write the blended result.

    Args:
        model: callable ``model(rgb=, landcover=[, mask=])`` -> (b, window, window, 3) in [-1, 1].
        scene: the inputs, with ``profile`` and ``read_strip(row, height, width, grow, legend)``.
        writer: an open :class:`lcgan.data.raster.RasterWriter` of the output.
        legend: the landcover legend.
        window, overlap: window size and overlap in pixels.
        batch_size: windows per model call (a batch may span strips).
        grow: pixels by which the changed area is dilated.
        blank: set the changed area of the model's rgb input to 0.0 (inpainting models).
        takes_mask: pass the changed area as ``mask`` (b, window, window, 1) float32.
        bar: a tqdm progress bar over windows.
        class_means: the scene's :class:`~lcgan.scenes.colors.ClassMeans`: each window's
            changed pixels of a class are shifted to that class's mean colour before blending
            (:func:`~lcgan.scenes.colors.match_class_means`); None leaves the outputs as they are.
    """
    runner = _StripRunner(model, scene, writer, legend, window=window, overlap=overlap,
                          batch_size=batch_size, grow=grow, blank=blank, takes_mask=takes_mask,
                          bar=bar, class_means=class_means)
    try:
        runner.run()
    finally:  # on an error too: no thread may touch a dataset or the model once this returns
        runner.shutdown()
    bar.close()


class _StripRunner:
    """The state of one edit: the window grid, the accumulator, the strips and the threads."""

    def __init__(self, model, scene, writer, legend, *, window, overlap, batch_size, grow, blank,
                 takes_mask, bar, class_means):
        self.model, self.scene, self.legend, self.bar = model, scene, legend, bar
        self.class_means = class_means
        self.window, self.batch_size, self.grow = window, batch_size, grow
        self.blank, self.takes_mask = blank, takes_mask
        self.height, self.width = scene.profile["height"], scene.profile["width"]
        self.padded = max(self.width, window)
        self.rows = window_offsets(self.height, window, window - overlap)
        self.cols = window_offsets(self.width, window, window - overlap)
        ramp = window_ramp(window, overlap)
        self.weights = np.outer(ramp, ramp)[None, ..., None]  # (1, window, window, 1)
        self.acc = BlendAccumulator(ramp_cover(max(self.height, window), self.rows, ramp),
                                    ramp_cover(self.padded, self.cols, ramp),
                                    capacity=min(max(self.height, window), 2 * window - overlap))
        self.strips = collections.deque()  # read, not yet written
        self.queue = []  # (strip, column) windows not yet sent to the model
        self.running = None  # (batch, future of its model outputs) not yet blended
        self.pools = {stage: futures.ThreadPoolExecutor(1, thread_name_prefix=f"edit_scene-{stage}")
                      for stage in ("read", "model", "write")}
        self.rows_out, self.pending_write = _RowWriter(writer, self.height), None

    def run(self) -> None:
        """Read every strip, send its changed windows to the model in batches, write the rows."""
        self.bar.reset(total=len(self.rows) * len(self.cols))
        next_strip = self.pools["read"].submit(self.read, 0)
        for i in range(len(self.rows)):
            strip = next_strip.result()
            if i + 1 < len(self.rows):
                next_strip = self.pools["read"].submit(self.read, i + 1)
            self.strips.append(strip)
            self.queue.extend((strip, c) for c in strip.todo)
            self.bar.update(len(self.cols) - len(strip.todo))
            while len(self.queue) >= self.batch_size:
                self.submit(self.queue[:self.batch_size])
                del self.queue[:self.batch_size]
            self.flush()
        self.submit(self.queue)
        self.submit([])  # blends the last batch
        if self.pending_write is not None:
            self.pending_write.result()

    def shutdown(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(cancel_futures=True)

    def read(self, i: int) -> "_Strip":
        """Strip ``i`` of the scene (runs in the reader thread)."""
        row, window = self.rows[i], self.window
        end = min(self.rows[i + 1] if i + 1 < len(self.rows) else self.height, self.height)
        strip = _Strip(row, end, *self.scene.read_strip(row, window, self.padded, self.grow,
                                                        self.legend))
        strip.todo = [c for c in self.cols if strip.changed[:, c:c + window].any()]
        strip.pending = len(strip.todo)
        return strip

    def submit(self, batch) -> None:
        """Start the model on ``batch`` (if any), then blend the batch before it meanwhile."""
        future = self.pools["model"].submit(self.predict, self.inputs(batch)) if batch else None
        if self.running is not None:
            self.blend(*self.running)
        self.running = (batch, future) if batch else None
        self.flush()

    def inputs(self, batch) -> dict:
        """The model's inputs for the windows ``batch`` [(strip, column)]."""
        window = self.window
        inputs = {"rgb": to_unit(np.stack([s.rgb[:3, :, c:c + window].transpose(1, 2, 0)
                                           for s, c in batch])),  # (b, window, window, 3)
                  "landcover": np.stack([s.ids[:, c:c + window] for s, c in batch]
                                        ).astype(np.int32)}  # (b, window, window)
        masks = np.stack([s.changed[:, c:c + window, None] for s, c in batch])  # (b, w, w, 1)
        if self.blank:
            inputs["rgb"][masks[..., 0]] = 0.0
        if self.takes_mask:
            inputs["mask"] = masks.astype(np.float32)
        return inputs

    def predict(self, inputs) -> np.ndarray:
        """The model's (b, window, window, 3) output as a float32 array that no one else holds,
        so the blend may weight it in place (runs in the model thread)."""
        out = np.asarray(self.model(**inputs), dtype=np.float32)
        if not out.flags.writeable or any(np.may_share_memory(out, v) for v in inputs.values()):
            out = out.copy()
        return out

    def blend(self, batch, future) -> None:
        """Add the weighted outputs of ``batch`` to the accumulator."""
        outputs = future.result()  # (b, window, window, 3), ours to overwrite
        if self.class_means is not None:
            window = self.window
            match_class_means(outputs, [s.ids[:, c:c + window] for s, c in batch],
                              [s.changed[:, c:c + window] for s, c in batch], self.class_means)
        np.multiply(outputs, self.weights, out=outputs)
        for (strip, c), tile in zip(batch, outputs):
            self.acc.extend(strip.row + self.window)
            self.acc.add(strip.row, c, tile)
            strip.pending -= 1
        self.bar.update(len(batch))

    def flush(self) -> None:
        """Compose the strips whose windows are all blended and hand their rows to the writer."""
        while self.strips and self.strips[0].pending == 0:
            strip = self.strips.popleft()
            count = strip.end - strip.row
            result = strip.rgb[:, :count, :self.width]  # (bands, h, width), composed in place
            self.acc.extend(strip.end)
            self.acc.compose(strip.end, result, strip.changed[:count, :self.width])
            strip.rgb = strip.ids = strip.changed = None  # the writer holds just ``result``
            if self.pending_write is not None:
                self.pending_write.result()  # one write in flight at most; raises its error
            self.pending_write = self.pools["write"].submit(self.rows_out.write_rows, result)


class _RowWriter:
    """Writes an output's rows top to bottom, in whole rows of its blocks (so each compressed
    block is encoded once); rows short of a block boundary wait for the next call."""

    def __init__(self, writer, height):
        self.writer, self.height, self.top = writer, height, 0
        self.rows = None  # (bands, h, width) rows from ``top`` not yet written

    def write_rows(self, result):
        """Add the next (bands, h, width) rows of the output."""
        rows = result if self.rows is None or not self.rows.shape[1] else np.concatenate(
            [self.rows, result], axis=1)
        bottom = self.top + rows.shape[1]
        block = self.writer.block_rows
        cut = bottom if bottom == self.height else bottom // block * block
        if cut > self.top:
            self.writer.write(rows[:, :cut - self.top], self.top, 0)
        self.rows, self.top = rows[:, cut - self.top:].copy(), cut  # frees the rows written


class _Strip:
    """One row of windows: rows ``row .. row + window`` of the inputs; ``row .. end`` final."""

    def __init__(self, row, end, rgb, ids, changed):
        self.row, self.end, self.rgb, self.ids, self.changed = row, end, rgb, ids, changed
        self.todo = []  # offsets of the columns of windows to run (touching a change)
        self.pending = 0  # windows of this strip not yet blended
