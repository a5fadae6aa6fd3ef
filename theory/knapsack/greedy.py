"""The exact greedy solvers of the clean knapsack: heap, sorted gains, and the entry points.

Greedy marginal allocation is exact for the knapsack ``docs/models/knapsack.md
(5)`` because every term is concave in ``N_i`` and every rollout costs one
unit (derived here, ``(6)``). Three solvers give the same allocation bit for
bit, ties included: the textbook heap, the top-``R`` selection in the
materialised gain matrix, and the threshold (Lagrangian) search of
:mod:`theory.knapsack.lagrangian` for very large batches.
"""

from __future__ import annotations

import heapq

import numpy as np

from theory._params import accepts_params, check_choice
from theory.knapsack._common import _batch_p, _bounds, _budget_vs_bounds
from theory.knapsack.dp import _dp_extra
from theory.knapsack.lagrangian import WINDOW_MAX, threshold_extra
from theory.knapsack.value import _weight_values

__all__ = ["allocate_greedy", "allocate_lagrangian", "SORT_MAX_ENTRIES"]

#: "auto" uses the "sort" solver (which materialises the prompts x extra
#: rollouts gain matrix) up to this many entries and "lagrangian" above it;
#: the Lagrangian solver is the faster one from about 1000 prompts at n_up 128
#: (benchmarks/knapsack.py).
SORT_MAX_ENTRIES = 1 << 17


def _prepare(p, budget, n_low, n_up, weight):
    """Checked batch, budget and bounds, and the weights ``w(p)``."""
    p = _batch_p(p)
    n_low, n_up = _bounds(n_low, n_up)
    budget = _budget_vs_bounds(budget, p.size, n_low)
    w = _weight_values(p, weight)
    return p, budget, n_low, n_up, w


def _gain_matrix(pe, we, n_low, K):
    """``w_i Delta(n_low + c, p_i)`` for ``c = 0..K-1``, by repeated multiplication.

    Powers come from a running product (``np.cumprod``), so every row is
    non-increasing in exact floating point and the heap solver, which keeps
    the same running products, sees bit-identical gains.
    """
    qe = 1.0 - pe
    pw = np.empty((pe.size, K))
    qw = np.empty((pe.size, K))
    pw[:, 0] = pe**n_low
    qw[:, 0] = qe**n_low
    if K > 1:
        pw[:, 1:] = pe[:, None]
        qw[:, 1:] = qe[:, None]
        np.cumprod(pw, axis=1, out=pw)
        np.cumprod(qw, axis=1, out=qw)
    return we[:, None] * (pw * qe[:, None] + pe[:, None] * qw)


def _greedy_heap(pe, we, extra, n_low, n_up):
    """Heap greedy over informative prompts; returns extra rollouts per prompt."""
    K = n_up - n_low
    counts = np.zeros(pe.size, dtype=np.int64)
    if extra <= 0 or K == 0 or pe.size == 0:
        return counts
    qe = 1.0 - pe
    pw = (pe**n_low).tolist()
    qw = (qe**n_low).tolist()
    pl, ql, wl = pe.tolist(), qe.tolist(), we.tolist()
    # key: (-gain, current N_i, i): ties go to the smaller N_i, then the lower index
    # (open choice "tie rule")
    heap = [(-(wl[i] * (pw[i] * ql[i] + pl[i] * qw[i])), n_low, i) for i in range(pe.size)]
    heapq.heapify(heap)
    left = extra
    while left > 0 and heap:
        _, n_i, i = heapq.heappop(heap)
        counts[i] += 1
        left -= 1
        if n_i + 1 < n_up:
            pw[i] *= pl[i]
            qw[i] *= ql[i]
            heapq.heappush(heap, (-(wl[i] * (pw[i] * ql[i] + pl[i] * qw[i])), n_i + 1, i))
    return counts


def _greedy_sort(pe, we, extra, n_low, n_up):
    """Top-``extra`` marginal gains of the materialised gain matrix (same order as the heap)."""
    K = n_up - n_low
    E = pe.size
    total = E * K
    take = min(extra, total)
    if take <= 0:
        return np.zeros(E, dtype=np.int64)
    if take == total:
        return np.full(E, K, dtype=np.int64)
    G = _gain_matrix(pe, we, n_low, K)
    flat = G.ravel()
    v = np.partition(flat, total - take)[total - take]  # the take-th largest gain
    above = G > v
    counts = above.sum(axis=1).astype(np.int64)
    ties = take - int(counts.sum())
    if ties > 0:
        rows, cols = np.nonzero(G == v)
        order = np.lexsort((rows, cols))[:ties]  # smaller N first, then lower index
        counts += np.bincount(rows[order], minlength=E)
    return counts


def _greedy_lagrangian(pe, we, extra, n_low, n_up, cap=None):
    """The threshold solver (:func:`theory.knapsack.lagrangian.threshold_extra`), exact always.

    Where the threshold search gives up (extreme weights, a tie window wider
    than :data:`theory.knapsack.lagrangian.WINDOW_MAX`), the sort solver (or,
    for a huge gain matrix, the heap) answers instead. ``cap`` is passed on.
    """
    counts = threshold_extra(pe, we, extra, n_low, n_up, cap)
    if counts is not None:
        return counts
    if pe.size * (n_up - n_low) <= WINDOW_MAX:
        return _greedy_sort(pe, we, extra, n_low, n_up)
    return _greedy_heap(pe, we, extra, n_low, n_up)


def _solve_extra(pe, we, extra, n_low, n_up, solver):
    """Extra rollouts (beyond ``n_low``) of the informative prompts from one clean solver."""
    if solver == "auto":
        solver = "sort" if pe.size * (n_up - n_low) <= SORT_MAX_ENTRIES else "lagrangian"
    if solver == "heap":
        return _greedy_heap(pe, we, extra, n_low, n_up)
    if solver == "sort":
        return _greedy_sort(pe, we, extra, n_low, n_up)
    if solver == "lagrangian":
        return _greedy_lagrangian(pe, we, extra, n_low, n_up)
    return _dp_extra(pe, we, np.ones(pe.size, dtype=np.int64), extra, n_low, n_up)


@accepts_params
def allocate_greedy(p, budget, n_low=2, n_up=128, weight="info_gain", method="auto"):
    """Exact greedy marginal-gain allocation of the knapsack.

    Maximises ``sum_i w(p_i) f(N_i, p_i)`` subject to ``sum_i N_i <= budget``
    and ``n_low <= N_i <= n_up`` (the paper's problem, ``docs/models/knapsack.md
    (5)``). Every prompt starts at
    ``n_low``; each further rollout goes to the informative prompt
    (``0 < p < 1``) with the largest marginal gain ``w_i Delta(N_i, p_i)``,
    until the budget is spent or every informative prompt is at ``n_up``.
    Greedy is exact because each term is concave in ``N_i`` and costs are unit
    (derived here, ``docs/models/knapsack.md (6)``; Gross 1956, Fox 1966). Ties
    go to the smaller current ``N_i``, then to the lower index (open choice
    "tie rule"), so the
    allocation nests as the budget grows. Uninformative prompts stay at
    ``n_low``; the unspent rest is ``budget - sum(N)`` (see :func:`allocate`
    for the fallback rules).

    Parameters
    ----------
    p : array_like
        1-D success rates in ``[0, 1]``, one per prompt.
    budget : int
        Total rollouts, ``>= M * n_low`` (smaller budgets are infeasible).
    n_low, n_up : int, default 2, 128
        Bounds, ``1 <= n_low <= n_up``.
    weight : str or callable, default "info_gain"
        As in :func:`info_gain`.
    method : {"auto", "heap", "sort", "lagrangian"}, default "auto"
        ``"heap"``: the textbook heap, ``O(M + R log M)`` Python steps;
        ``"sort"``: top-``R`` selection in the materialised gain matrix
        (bit-identical to the heap); ``"lagrangian"``: vectorised threshold
        search for very large batches, no ``M x (n_up - n_low)`` matrix
        (also bit-identical to the heap);
        ``"auto"``: ``"sort"`` up to :data:`SORT_MAX_ENTRIES` entries, else
        ``"lagrangian"``.

    Returns
    -------
    ndarray of int64
        ``N``, shape ``(M,)``.
    """
    p, budget, n_low, n_up, w = _prepare(p, budget, n_low, n_up, weight)
    check_choice("method", method, ("auto", "heap", "sort", "lagrangian"))
    N = np.full(p.size, n_low, dtype=np.int64)
    e = np.nonzero((p > 0.0) & (p < 1.0))[0]
    extra = budget - p.size * n_low
    N[e] += _solve_extra(p[e], w[e], extra, n_low, n_up, method)
    return N


@accepts_params
def allocate_lagrangian(p, budget, n_low=2, n_up=128, weight="info_gain"):
    """Vectorised Lagrangian (threshold) solver of the knapsack.

    The KKT form: there is ``lambda >= 0`` with ``w_i Delta(N_i - 1) >= lambda
    >= w_i Delta(N_i)`` for interior ``N_i`` (derived here,
    ``docs/models/knapsack.md (6)``).
    Per prompt, ``N_i(lambda)`` starts from the closed-form count of the
    dominant term, ``w Delta(N) ~ w min(p,q) max(p,q)^N`` (for small ``p``,
    ``N(lambda) ~ ln(p^2 / lambda) / p``, ``(7)``), refined by a vectorised
    integer search; ``ln lambda`` is located from a subsample and bracketed by
    secant steps on the total count. The gains there use an exp/log form with
    a rigorous error margin; the few gains that the margin cannot order get
    the heap's own values (running products) and its tie order (smaller
    ``N_i``, then lower index), so the result equals
    ``allocate_greedy(method="heap")`` bit for bit (derived here).
    Time and memory ``O(M)`` per step (a few steps): use it for ``10**6``
    prompts (about 0.2 s at budget ``8 * 10**6``, ``n_up = 128``).

    Parameters
    ----------
    p, budget, n_low, n_up, weight
        As in :func:`allocate_greedy`.

    Returns
    -------
    ndarray of int64
    """
    return allocate_greedy(p, budget, n_low, n_up, weight, method="lagrangian")
