"""The NumPy reference of the query kernel, written to be read.

For a block of queries: draw each module's difficulty, the router's read and
the module's job word (:mod:`sim.memory.layout`); turn the reads and the true
difficulties into pattern numbers; then, policy by policy, look the tiers up
in the policy's routing table, decide every module's job and add up right
answers and costs. The kernels of :mod:`sim.memory.kernel_numba` and
:mod:`sim.memory.kernel_array` give the same sums, bit for bit,
``docs/models/memory.md (16)``.
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.memory.layout import JOB_WORD, LEVEL_WORD, READ_WORD, word_counter

__all__ = ["run_queries"]


def run_queries(tables, by_truth, success, costs, hard_share, signal, start, stop, key):
    """Right answers and costs of every policy over queries ``start .. stop - 1``.

    Arguments and result as in :func:`sim.memory.kernel_array.run_queries`.
    """
    tables = np.asarray(tables, dtype=np.int64)
    n_pol, _, m = tables.shape
    queries = np.arange(start, stop, dtype=np.uint64)
    right = np.zeros(n_pol, dtype=np.int64)
    cost_sum = np.zeros(n_pol, dtype=np.int64)
    cost_sq = np.zeros(n_pol, dtype=np.int64)
    if queries.size == 0:
        return right, cost_sum, cost_sq

    def uniforms(word):
        ctr = word_counter(queries[:, None], np.arange(m, dtype=np.uint64)[None, :],
                           np.uint64(m), np.uint64(word))
        return _rng.uniform(_rng.splitmix64(key, ctr))

    hard = uniforms(LEVEL_WORD) < hard_share            # (queries, modules)
    read_right = uniforms(READ_WORD) < signal
    read_hard = np.where(read_right, hard, ~hard)
    job = uniforms(JOB_WORD)
    bit = np.int64(1) << np.arange(m, dtype=np.int64)
    read_pattern = (read_hard * bit).sum(axis=1)
    true_pattern = (hard * bit).sum(axis=1)
    for p in range(n_pol):
        pattern = true_pattern if by_truth[p] else read_pattern
        tiers = tables[p][pattern]                       # (queries, modules)
        done = job < success[tiers, hard.astype(np.int64)]
        right[p] = np.all(done, axis=1).sum()
        cost = costs[tiers].sum(axis=1)
        cost_sum[p] = cost.sum()
        cost_sq[p] = (cost * cost).sum()
    return right, cost_sum, cost_sq
