"""Whole-token allocation of one plan: a floor per sub-question, then largest remainder.

docs/models/bbam.md (28)-(29). The real-valued split of one question's budget
``B`` (the exact optimum (4), the paper's Eq. (6), i.e. (5), or uniform (6))
is first constrained to give every sub-question at least ``min_tokens``
(28), then rounded to integers summing to ``B`` by largest remainder (29).
"""

from __future__ import annotations

import numpy as np

from theory._params import check_choice, check_int, check_real_array
from theory.bbam.allocation import allocate_paper, allocate_uniform
from theory.bbam.kkt import allocate_kkt

__all__ = ["METHODS", "MIN_TOKENS", "allocate_floor", "round_largest_remainder",
           "allocate_tokens"]

#: Real-valued splits of :func:`allocate_tokens`: the exact optimum (4), the
#: paper's Eq. (6) (docs/models/bbam.md (5)) and uniform (6).
METHODS = ("exact", "paper", "uniform")
#: Default floor of whole tokens per sub-question (a choice of this project:
#: the law (1) is infinite at 0 tokens).
MIN_TOKENS = 1


def _split(method, c, beta, budget):
    if method == "exact":
        return np.asarray(allocate_kkt(c, beta, budget), float)
    if method == "paper":
        return np.asarray(allocate_paper(c, beta, budget), float)
    return np.asarray(allocate_uniform(budget, m=c.size), float)


def allocate_floor(c, beta, budget, method="exact", min_tokens=0.0):
    """Real-valued split of one question with ``b_j >= min_tokens``, docs/models/bbam.md (28).

    Sub-questions whose unconstrained share falls below the floor are set to
    it and the rest of the budget is split again among the others, until no
    share is below the floor. For ``"exact"`` this is the KKT optimum with the
    bound (derived here: the objective is separable and convex, so the bound is
    active exactly where the multiplier's stationary point lies below it, and
    clamping only raises the multiplier of the rest); for ``"paper"`` and
    ``"uniform"`` it keeps their proportions among the unclamped.

    Parameters
    ----------
    c, beta : array_like, shape (m,)
        Scales ``> 0`` and exponents ``> 0`` of one question's sub-questions.
    budget : float
        ``B >= m * min_tokens``.
    method : {"exact", "paper", "uniform"}
    min_tokens : float
        The floor, ``>= 0``.

    Returns
    -------
    ndarray, shape (m,)
        Sums to ``B``; every entry ``>= min_tokens``.
    """
    method = check_choice("method", method, METHODS)
    c = check_real_array("c", c, 0.0, lo_open=True).ravel()
    beta = np.broadcast_to(check_real_array("beta", beta, 0.0, lo_open=True), c.shape).ravel()
    floor = float(min_tokens)
    budget = float(budget)
    if budget < floor * c.size - 1e-9 * max(budget, 1.0):
        raise ValueError(f"budget must be >= min_tokens * m = {floor * c.size:g}, got {budget:g}")
    free = np.ones(c.size, dtype=bool)
    out = np.full(c.size, floor)
    while True:
        rest = budget - floor * np.count_nonzero(~free)
        if not free.any():
            return out
        if rest <= floor * np.count_nonzero(free):
            out[free] = floor
            return out
        share = _split(method, c[free], beta[free], rest)
        low = share < floor
        if not low.any():
            out[free] = share
            return out
        idx = np.flatnonzero(free)
        free[idx[low]] = False


def round_largest_remainder(x, total):
    """Integers summing to ``total`` from reals ``x`` summing to it, docs/models/bbam.md (29).

    ``floor(x_j)``, then one more token to each of the ``total - sum floor(x)``
    entries with the largest fractional parts (ties to the earlier entry), so
    ``|b_j - x_j| < 1``. Entries within ``1e-9`` of an integer are taken as
    that integer first, so that a floor reached exactly is not rounded below.
    """
    x = np.asarray(x, dtype=float)
    total = check_int("total", total, 0)
    near = np.round(x)
    x = np.where(np.abs(x - near) <= 1e-9 * np.maximum(1.0, np.abs(x)), near, x)
    base = np.floor(x)
    missing = total - int(base.sum())
    if missing < 0 or missing > x.size:
        raise ValueError(f"x must sum to total={total} to round, got {float(x.sum()):.12g}")
    order = np.argsort(-(x - base), kind="stable")
    out = base.astype(np.int64)
    out[order[:missing]] += 1
    return out


def allocate_tokens(c, beta, budget, method="exact", min_tokens=MIN_TOKENS):
    """Whole tokens for one question's sub-questions, summing exactly to ``budget``.

    docs/models/bbam.md (28)-(29): the real-valued ``method`` split with the
    floor ``min_tokens`` (:func:`allocate_floor`), rounded by largest
    remainder (:func:`round_largest_remainder`).

    Parameters
    ----------
    c, beta : array_like, shape (m,)
        Scales and exponents of the law (1), ``> 0``.
    budget : int
        ``B >= m * min_tokens``.
    method : {"exact", "paper", "uniform"}, default "exact"
    min_tokens : int, default 1
        Whole tokens every sub-question gets at least.

    Returns
    -------
    ndarray of int64, shape (m,)

    Raises
    ------
    ValueError
        One line: a bad value, or a budget below ``m * min_tokens``.
    """
    budget = check_int("budget", budget, 1)
    min_tokens = check_int("min_tokens", min_tokens, 0)
    c = check_real_array("c", c, 0.0, lo_open=True).ravel()
    if c.size == 0:
        raise ValueError("c must have at least one sub-question")
    if budget < min_tokens * c.size:
        raise ValueError(f"budget must be >= min_tokens * m = {min_tokens} * {c.size} = "
                         f"{min_tokens * c.size}, got {budget}")
    real = allocate_floor(c, beta, budget, method, min_tokens)
    real *= budget / real.sum()
    return round_largest_remainder(real, budget)
