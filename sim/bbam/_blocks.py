"""Run a vectorised function over blocks of questions on all cores."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["BLOCK", "blocked"]

#: Questions per block when allocating and evaluating closed forms; blocks keep
#: the temporaries of the vectorised formulas in cache.
BLOCK = 1 << 15


def blocked(n, fn):
    """Apply ``fn`` to consecutive slices of ``range(n)`` on all cores and stack the results.

    NumPy releases the GIL inside its array operations, so threads run the
    blocks in parallel; the result does not depend on the number of threads.
    ``fn(slice)`` returns an array or a tuple of arrays (stacked element-wise).
    """
    slices = [slice(i, min(n, i + BLOCK)) for i in range(0, n, BLOCK)]
    if len(slices) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            parts = list(pool.map(fn, slices))
    else:
        parts = [fn(slices[0])]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts))
    return np.concatenate(parts)
