"""How many rollouts a prompt needs before its group mixes: the first mixed position ``T``.

The survival of ``T`` (``docs/models/knapsack.md (8)``), its mean and the
high-probability budget of paper Thm 1 (``(9)`` and ``(10)``), the exact
coverage budget, and the authors' cost estimates of the fallback trigger
(``(11)``).
"""

from __future__ import annotations

import math

import numpy as np

from theory._params import (
    accepts_params,
    check_choice,
    check_int_array,
    check_real,
    check_real_array,
)
from theory.knapsack._common import _out, _p_array
from theory.knapsack.params import COSTS
from theory.knapsack.value import _f

__all__ = ["first_mixed_survival", "expected_rollouts", "coverage_budget",
           "exact_coverage_budget", "rollout_cost"]


@accepts_params
def first_mixed_survival(n, p):
    """Survival of the first mixed position ``P[T > n] = p^n + (1-p)^n``.

    ``T`` is the first rollout at which both a success and a failure have
    been seen. Derived here, ``docs/models/knapsack.md (8)``: ``P[T > 0] = 1`` and
    ``P[T <= N] = f(N, p)`` for ``N >= 1``.

    Parameters
    ----------
    n : array_like of int
        ``>= 0``.
    p : array_like
        Success rate in ``[0, 1]``.

    Returns
    -------
    float or ndarray
    """
    n = check_int_array("n", n, 0)
    p = _p_array(p)
    n, p = np.broadcast_arrays(n, p)
    with np.errstate(invalid="ignore"):
        s = np.where(n == 0, 1.0, 1.0 - _f(np.maximum(n, 1), p))
    return _out(s)


@accepts_params
def expected_rollouts(p):
    """Expected rollouts to a non-zero gradient ``E[T] = 1/(p(1-p)) - 1``.

    The expectation part of paper Thm 1, ``docs/models/knapsack.md (9)``.

    ``E[T] = 1/p + 1/(1-p) - 1``; the minimum is 3 at ``p = 1/2``, and
    ``p = 0.01`` gives 100.0101 (the paper's "about 100").

    Parameters
    ----------
    p : array_like
        Success rate in ``[0, 1]``; ``inf`` at ``p in {0, 1}``.

    Returns
    -------
    float or ndarray
    """
    p = _p_array(p)
    with np.errstate(divide="ignore"):
        return _out(1.0 / (p * (1.0 - p)) - 1.0)


@accepts_params
def coverage_budget(p, alpha=0.9):
    """High-probability bound ``N_alpha(p) = ln(1-alpha) / ln max(p, 1-p)``.

    The high-probability part of paper Thm 1, ``docs/models/knapsack.md (10)``.

    A necessary condition for ``f(N, p) >= alpha`` is ``N >= N_alpha``
    (``p^N + (1-p)^N >= max(p, 1-p)^N``, derived here). The
    paper's example ``p = 0.01, alpha = 0.9`` gives 229.1. It is also the
    authors' "probability" cost ``c_P``, ``docs/models/knapsack.md (11)``. The exact minimum is
    :func:`exact_coverage_budget`.

    Parameters
    ----------
    p : array_like
        Success rate in ``[0, 1]``; ``inf`` at ``p in {0, 1}``.
    alpha : float, default 0.9
        Target probability in ``(0, 1)``.

    Returns
    -------
    float or ndarray
    """
    p = _p_array(p)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    big = np.maximum(p, 1.0 - p)
    with np.errstate(divide="ignore"):
        return _out(math.log1p(-alpha) / np.log(big))


@accepts_params
def exact_coverage_budget(p, alpha=0.9):
    """Exact minimum ``N*_alpha(p) = min{N >= 1 : f(N, p) >= alpha}``.

    ``docs/models/knapsack.md (10)``. No closed form; found by a vectorised
    integer bisection between ``floor(N_alpha)`` and ``ceil(ln((1-alpha)/2) / ln max(p, 1-p)) + 2``
    (``p^N + (1-p)^N <= 2 max^N``, derived here), using
    :func:`prob_nonzero_gradient` in floating point. ``N*_0.9(1/2) = 5``.

    Parameters
    ----------
    p : array_like
        Success rate in ``(0, 1)``.
    alpha : float, default 0.9
        Target probability in ``(0, 1)``.

    Returns
    -------
    int or ndarray of int64
    """
    p = check_real_array("p", p, 0.0, 1.0, lo_open=True, hi_open=True)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    ln_big = np.log(np.maximum(p, 1.0 - p))
    lo = np.maximum(1, np.floor(math.log1p(-alpha) / ln_big) - 1).astype(np.int64)
    hi = np.maximum(lo, np.ceil(math.log((1.0 - alpha) / 2.0) / ln_big) + 2).astype(np.int64)
    # make sure f(hi) >= alpha in floating point
    while True:
        short = _f(hi, p) < alpha
        if not short.any():
            break
        hi = np.where(short, 2 * hi, hi)
    lo, hi, p = np.broadcast_arrays(lo, hi, p)
    lo, hi = lo.copy(), hi.copy()
    while True:
        act = lo < hi
        if not act.any():
            break
        mid = (lo + hi) // 2
        ok = _f(mid, p) >= alpha
        hi = np.where(act & ok, mid, hi)
        lo = np.where(act & ~ok, mid + 1, lo)
    return _out(lo)


@accepts_params
def rollout_cost(p, alpha=0.9, cost="probability"):
    """The authors' per-prompt cost estimate of the fallback trigger.

    From the authors' code, ``docs/models/knapsack.md (11)``:

    ``"probability"``: ``c_P(p) = ln(1-alpha) / ln max(p, 1-p)``
    (= :func:`coverage_budget`); ``"expectation"``: ``c_E(p) = 1/(p(1-p)) - 1``
    (= :func:`expected_rollouts`). The code uses them only for ``0 < p < 1``.

    Parameters
    ----------
    p : array_like
        Success rate in ``(0, 1)``.
    alpha : float, default 0.9
        In ``(0, 1)``; used by ``"probability"``.
    cost : {"probability", "expectation"}

    Returns
    -------
    float or ndarray
    """
    p = check_real_array("p", p, 0.0, 1.0, lo_open=True, hi_open=True)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    check_choice("cost", cost, COSTS)
    return _out(_cost(p, alpha, cost))


def _cost(p, alpha, cost):
    """The cost ``c(p)`` of ``docs/models/knapsack.md (11)`` (no checks)."""
    if cost == "probability":
        return math.log1p(-alpha) / np.log(np.maximum(p, 1.0 - p))
    return 1.0 / (p * (1.0 - p)) - 1.0
