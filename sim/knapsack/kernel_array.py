"""The rollout kernel on whole arrays, for NumPy or CuPy (``xp``).

Bit-identical to :func:`sim.knapsack.kernel_numba.successes`: the same words
(:mod:`sim.knapsack.layout`), the same conversion (:func:`sim.rng.uniform`).
The CuPy backend is this function run on CuPy arrays
(``sim.backends.array_module("cupy")``).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.knapsack.layout import (
    LENGTH_WORD,
    LOTTERY_WORD,
    REWARD_WORD,
    duet_counter,
    rollout_counter,
)

__all__ = ["successes", "duet_draws"]


def successes(xp, N, p, replicates, key, first=0):
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
    first : int
        Index of the first replicate: replicates ``first .. first + replicates - 1`` are
        drawn, so a long run can go in chunks and give the same counts.

    Returns
    -------
    int64 array of ``xp``, shape ``(replicates, M)``
        ``K``; ``docs/models/knapsack.md (21)``.
    """
    N = xp.asarray(N, dtype=np.int64)
    p = xp.asarray(p, dtype=np.float64)
    total = int(N.sum())
    owner = xp.repeat(xp.arange(N.shape[0]), N)
    ctr = rollout_counter(xp.arange(first, first + replicates, dtype=np.uint64)[:, None],
                          xp.arange(total, dtype=np.uint64)[None, :], np.uint64(total))
    hit = (_rng.uniform(_rng.splitmix64(key, ctr)) < p[owner][None, :]).astype(np.int64)
    cs = xp.concatenate([xp.zeros((replicates, 1), dtype=np.int64), xp.cumsum(hit, axis=1)],
                        axis=1)
    ends = xp.cumsum(N)
    return cs[:, ends] - cs[:, ends - N]


def duet_draws(xp, n, p, eps_abort, replicates, key, first=0):
    """The random draws of the DUET simulation's rollouts, ``docs/models/knapsack.md (33)``.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    n : array_like of int
        Rollouts per prompt, shape ``(M,)``; laid out prompt after prompt.
    p : array_like
        Success rate per prompt.
    eps_abort : float
        Probability of winning the abort lottery.
    replicates : int
    key : numpy.uint64
        Stream key of :data:`sim.knapsack.layout.DUET_STREAM`.
    first : int
        Index of the first replicate (a long run goes in chunks with the same draws).

    Returns
    -------
    reward : bool array of ``xp``, shape ``(replicates, sum(n))``
    u_length : float array
        Uniforms in ``[0, 1)`` that the gamma model's quantile turns into the
        marker's position.
    lottery : bool array
        ``uniform < eps_abort``.
    """
    n = xp.asarray(n, dtype=np.int64)
    p = xp.asarray(p, dtype=np.float64)
    total = int(n.sum())
    owner = xp.repeat(xp.arange(n.shape[0]), n)
    r = xp.arange(first, first + replicates, dtype=np.uint64)[:, None]
    j = xp.arange(total, dtype=np.uint64)[None, :]
    t = np.uint64(total)

    def u(word):
        return _rng.uniform(_rng.splitmix64(key, duet_counter(r, j, t, np.uint64(word))))

    return u(REWARD_WORD) < p[owner][None, :], u(LENGTH_WORD), u(LOTTERY_WORD) < eps_abort
