"""The Numba query kernel, parallel over blocks of queries.

Bit-identical to the array kernel (:mod:`sim.memory.kernel_array`) and the
NumPy reference (:mod:`sim.memory.reference`): the words come from the layout
of :mod:`sim.memory.layout` and become uniforms through
:func:`sim.rng.uniform`; sums are integers, so the order of the blocks does
not matter.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from sim import rng as _rng
from sim.memory.layout import JOB_WORD, LEVEL_WORD, READ_WORD, word_counter

__all__ = ["run_queries", "BLOCK"]

#: Queries per parallel block.
BLOCK = 4096


@njit(parallel=True, cache=True)
def run_queries(tables, by_truth, success, costs, hard_share, signal, start, stop, key):
    """Right answers and costs of every policy over queries ``start .. stop - 1``.

    ``tables`` (int64, policies x 2**m x m), ``by_truth`` (bool), ``success``
    (float64, tiers x 2), ``costs`` (int64) and ``key`` (uint64) as in
    :func:`sim.memory.kernel_array.run_queries`; returns three int64 arrays of
    one entry per policy.
    """
    n_pol, _, m = tables.shape
    n = stop - start
    blocks = (n + BLOCK - 1) // BLOCK
    part = np.zeros((blocks, 3, n_pol), np.int64)
    mm = uint64(m)
    for b in prange(blocks):
        hard = np.empty(m, np.bool_)
        job = np.empty(m, np.float64)
        lo = start + b * BLOCK
        hi = min(stop, lo + BLOCK)
        for j in range(lo, hi):
            qj = uint64(j)
            read_pattern = 0
            true_pattern = 0
            for i in range(m):
                ii = uint64(i)
                h = _rng.uniform(_rng.splitmix64(key, word_counter(qj, ii, mm,
                                                                   uint64(LEVEL_WORD)))) \
                    < hard_share
                right_read = _rng.uniform(_rng.splitmix64(key, word_counter(
                    qj, ii, mm, uint64(READ_WORD)))) < signal
                job[i] = _rng.uniform(_rng.splitmix64(key, word_counter(qj, ii, mm,
                                                                        uint64(JOB_WORD))))
                hard[i] = h
                if h:
                    true_pattern |= 1 << i
                if h == right_read:
                    read_pattern |= 1 << i
            for p in range(n_pol):
                pattern = true_pattern if by_truth[p] else read_pattern
                ok = True
                cost = 0
                for i in range(m):
                    t = tables[p, pattern, i]
                    cost += costs[t]
                    if not job[i] < success[t, 1 if hard[i] else 0]:
                        ok = False
                if ok:
                    part[b, 0, p] += 1
                part[b, 1, p] += cost
                part[b, 2, p] += cost * cost
    out = part.sum(axis=0)
    return out[0], out[1], out[2]
