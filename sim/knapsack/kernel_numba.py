"""The Numba kernels of the knapsack model: the rollouts and the greedy allocator.

:func:`successes` rolls out a batch in parallel over replicates, bit-identical
to the array kernel (:mod:`sim.knapsack.kernel_array`) and the NumPy reference
(:mod:`sim.knapsack.reference`): the words come from the layout of
:mod:`sim.knapsack.layout` and become uniforms through :func:`sim.rng.uniform`.
:func:`allocate_greedy_numba` is the exact greedy allocator of
:func:`theory.knapsack.allocate_greedy` (heap, InfoGain weight), compiled.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from sim import rng as _rng
from sim.knapsack.layout import rollout_counter

__all__ = ["successes", "allocate_greedy_numba"]


@njit(parallel=True, cache=True)
def successes(N, p, replicates, key, first=0):
    """Successes ``K`` (replicates, M) of ``N_i`` Bernoulli(``p_i``) rollouts per prompt.

    ``N`` (int64), ``p`` (float64), ``key`` (uint64) and ``first`` (the index of the first
    replicate) as in :func:`sim.knapsack.kernel_array.successes`;
    ``docs/models/knapsack.md (21)``.
    """
    M = N.shape[0]
    start = np.zeros(M, np.int64)
    for i in range(1, M):
        start[i] = start[i - 1] + N[i - 1]
    total = uint64(start[M - 1] + N[M - 1]) if M > 0 else uint64(0)
    out = np.zeros((replicates, M), np.int64)
    for r in prange(replicates):
        for i in range(M):
            k = 0
            for j in range(N[i]):
                word = _rng.splitmix64(key, rollout_counter(uint64(first + r),
                                                            uint64(start[i] + j), total))
                if _rng.uniform(word) < p[i]:
                    k += 1
            out[r, i] = k
    return out


@njit(inline="always")
def _sift_down(heap, size, i, gain, cnt):
    """Restore the heap below ``i``: larger gain first, ties to the smaller count, then position."""
    while True:
        c = 2 * i + 1
        if c >= size:
            return
        if c + 1 < size:
            a, b = heap[c + 1], heap[c]
            if gain[a] > gain[b] or (gain[a] == gain[b] and (
                    cnt[a] < cnt[b] or (cnt[a] == cnt[b] and a < b))):
                c += 1
        a, b = heap[c], heap[i]
        if gain[a] > gain[b] or (gain[a] == gain[b] and (
                cnt[a] < cnt[b] or (cnt[a] == cnt[b] and a < b))):
            heap[i], heap[c] = a, b
            i = c
        else:
            return


@njit(cache=True)
def allocate_greedy_numba(p, budget, n_low, n_up):
    """Exact greedy marginal-gain allocation, compiled; ``docs/models/knapsack.md (6)``.

    The same algorithm, arithmetic and tie rule as
    :func:`theory.knapsack.allocate_greedy` with ``method="heap"`` and the
    InfoGain weight: uninformative prompts (``p`` in {0, 1}) stay at ``n_low``;
    each further rollout goes to the informative prompt with the largest
    ``w_i Delta(N_i, p_i)`` (gains kept as running products ``p**N``,
    ``(1-p)**N``), ties to the smaller current ``N`` and then the lower index,
    until the budget is spent or every informative prompt is at ``n_up``.
    No input checks: ``p`` is a float64 array in ``[0, 1]`` and
    ``budget >= len(p) * n_low``.
    """
    M = p.shape[0]
    N = np.full(M, n_low, np.int64)
    left = budget - M * n_low
    idx = np.empty(M, np.int64)
    E = 0
    for i in range(M):
        if 0.0 < p[i] < 1.0:
            idx[E] = i
            E += 1
    if left <= 0 or n_up <= n_low or E == 0:
        return N
    pl = np.empty(E)
    ql = np.empty(E)
    wl = np.empty(E)
    pw = np.empty(E)
    qw = np.empty(E)
    gain = np.empty(E)
    cnt = np.full(E, n_low, np.int64)
    for j in range(E):
        pj = p[idx[j]]
        qj = 1.0 - pj
        pl[j] = pj
        ql[j] = qj
        wl[j] = pj * qj * qj
        pw[j] = pj ** float(n_low)
        qw[j] = qj ** float(n_low)
        gain[j] = wl[j] * (pw[j] * qj + pj * qw[j])
    # binary max-heap of positions, ordered by (gain desc, count asc, position asc);
    # a prompt at n_up gets gain -1 and is never popped again
    heap = np.arange(E)
    for root in range(E // 2 - 1, -1, -1):
        _sift_down(heap, E, root, gain, cnt)
    while left > 0:
        top = heap[0]
        if gain[top] < 0.0:
            break
        N[idx[top]] += 1
        left -= 1
        cnt[top] += 1
        if cnt[top] < n_up:
            pw[top] *= pl[top]
            qw[top] *= ql[top]
            gain[top] = wl[top] * (pw[top] * ql[top] + pl[top] * qw[top])
        else:
            gain[top] = -1.0
        _sift_down(heap, E, 0, gain, cnt)
    return N
