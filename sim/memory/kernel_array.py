"""The query kernel on whole arrays, for NumPy or CuPy (``xp``).

Bit-identical to :func:`sim.memory.kernel_numba.run_queries`: the same words
(:mod:`sim.memory.layout`), the same conversion (:func:`sim.rng.uniform`) and
comparisons, integer sums. The CuPy backend is this function run on CuPy
arrays (``sim.backends.array_module("cupy")``).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.memory.layout import JOB_WORD, LEVEL_WORD, READ_WORD, WORDS_PER_MODULE, word_counter

__all__ = ["run_queries"]


def run_queries(xp, tables, by_truth, success, costs, hard_share, signal, start, stop, key):
    """Right answers and costs of every policy over queries ``start .. stop - 1``.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    tables : array_like of int, shape (policies, 2**modules, modules)
        Each policy's routing table: tiers per pattern.
    by_truth : sequence of bool, one per policy
        Whether the policy routes on the true difficulties (the oracle)
        instead of the router's reads.
    success : array_like, shape (tiers, 2)
        Probability that a tier does its job on an easy (column 0) and a hard
        (column 1) input.
    costs : array_like of int, shape (tiers,)
    hard_share, signal : float
        ``docs/models/memory.md (7)``, (8).
    start, stop : int
        The queries (their numbers fix their words).
    key : numpy.uint64
        Stream key (:func:`sim.rng.stream_key` of :data:`sim.memory.layout.STREAM`).

    Returns
    -------
    right, cost_sum, cost_sq : int64 arrays of ``xp``, shape (policies,)
        Right answers, total cost and total squared cost per query, per policy.
    """
    tables = xp.asarray(tables, dtype=np.int64)
    success = xp.asarray(success, dtype=np.float64)
    costs = xp.asarray(costs, dtype=np.int64)
    n_pol, _, m = tables.shape
    q = xp.arange(start, stop, dtype=np.uint64)[:, None, None]
    mods = xp.arange(m, dtype=np.uint64)[None, :, None]
    words = xp.arange(WORDS_PER_MODULE, dtype=np.uint64)[None, None, :]
    u = _rng.uniform(_rng.splitmix64(key, word_counter(q, mods, np.uint64(m), words)))
    hard = u[:, :, LEVEL_WORD] < hard_share
    read_hard = xp.where(u[:, :, READ_WORD] < signal, hard, ~hard)
    job = u[:, :, JOB_WORD]
    bit = xp.left_shift(xp.ones(m, dtype=np.int64), xp.arange(m, dtype=np.int64))
    patterns = ((read_hard.astype(np.int64) * bit).sum(axis=1),
                (hard.astype(np.int64) * bit).sum(axis=1))
    level = hard.astype(np.int64)
    rows = []
    for p in range(n_pol):
        tiers = tables[p][patterns[1] if by_truth[p] else patterns[0]]
        right = xp.all(job < success[tiers, level], axis=1).sum()
        cost = costs[tiers].sum(axis=1)
        rows.append(xp.stack([right.astype(np.int64), cost.sum(), (cost * cost).sum()]))
    out = xp.stack(rows) if rows else xp.zeros((0, 3), dtype=np.int64)
    return out[:, 0], out[:, 1], out[:, 2]
