"""Timing helper shared by the benchmark scripts (run as ``python bench/<script>.py``)."""

import statistics
import time


def timed(fn, *, warmup, repeats, summary=statistics.median):
    """``summary`` (median, or min for a peak) of ``repeats`` timed calls of ``fn()`` in seconds,
    after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return summary(times)
