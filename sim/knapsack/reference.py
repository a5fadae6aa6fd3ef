"""The NumPy reference of the rollout kernel, written to be read.

One replicate at a time: the batch's rollouts are laid out prompt after
prompt, each draws its word (:mod:`sim.knapsack.layout`), the word becomes a
uniform (:func:`sim.rng.uniform`) and the rollout succeeds when the uniform is
below its prompt's rate; the successes are then counted per prompt. The
kernels of :mod:`sim.knapsack.kernel_numba` and :mod:`sim.knapsack.kernel_array`
give the same counts, bit for bit.
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.knapsack.layout import rollout_counter

__all__ = ["successes"]


def successes(N, p, replicates, key, first=0):
    """Successes ``K`` (replicates, M) of ``N_i`` Bernoulli(``p_i``) rollouts per prompt.

    Arguments as in :func:`sim.knapsack.kernel_array.successes`;
    ``docs/models/knapsack.md (21)``.
    """
    N = np.asarray(N, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    total = np.uint64(N.sum())
    prompt_of_rollout = np.repeat(np.arange(N.size), N)
    rollouts = np.arange(int(total), dtype=np.uint64)
    out = np.empty((replicates, N.size), dtype=np.int64)
    for r in range(replicates):
        words = _rng.splitmix64(key, rollout_counter(np.uint64(first + r), rollouts, total))
        success = _rng.uniform(words) < p[prompt_of_rollout]
        out[r] = np.bincount(prompt_of_rollout, weights=success, minlength=N.size)
    return out
