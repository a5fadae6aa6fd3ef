"""The rollout kernel on whole arrays, for NumPy or CuPy (``xp``).

Bit-identical to :func:`sim.knapsack.kernel_numba.successes`: the same words
(:mod:`sim.knapsack.layout`), the same conversion (:func:`sim.rng.uniform`).
The CuPy backend is this function run on CuPy arrays
(``sim.backends.array_module("cupy")``).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.knapsack.layout import rollout_counter

__all__ = ["successes"]


def successes(xp, N, p, replicates, key):
    """Successes per replicate and prompt of ``N_i`` Bernoulli(``p_i``) rollouts.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    N : array_like of int
        Rollouts per prompt, ``>= 0``, shape ``(M,)``.
    p : array_like
        Success rate per prompt, in ``[0, 1]``.
    replicates : int
        Independent rollouts of the whole batch.
    key : numpy.uint64
        Stream key (:func:`sim.rng.stream_key` of :data:`sim.knapsack.layout.STREAM`).

    Returns
    -------
    int64 array of ``xp``, shape ``(replicates, M)``
        ``K``; ``docs/models/knapsack.md (21)``.
    """
    N = xp.asarray(N, dtype=np.int64)
    p = xp.asarray(p, dtype=np.float64)
    total = int(N.sum())
    owner = xp.repeat(xp.arange(N.shape[0]), N)
    ctr = rollout_counter(xp.arange(replicates, dtype=np.uint64)[:, None],
                          xp.arange(total, dtype=np.uint64)[None, :], np.uint64(total))
    hit = (_rng.uniform(_rng.splitmix64(key, ctr)) < p[owner][None, :]).astype(np.int64)
    cs = xp.concatenate([xp.zeros((replicates, 1), dtype=np.int64), xp.cumsum(hit, axis=1)],
                        axis=1)
    ends = xp.cumsum(N)
    return cs[:, ends] - cs[:, ends - N]
