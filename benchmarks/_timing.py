"""Timing helper shared by the benchmark scripts (run as ``python benchmarks/<name>.py``)."""

import time


def best_of(fn, repeat):
    """The shortest of ``repeat`` wall-clock timings of ``fn()``, in seconds."""
    best = float("inf")
    for _ in range(max(1, int(repeat))):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
