"""Plan-and-Budget: decay schedules, shares, the integer allocation and the level budgets.

``docs/models/bbam.md`` (10)-(12) and (14), as the authors' code computes them
(``inference/_5_planned_local_weighted_model.py`` and ``utils/utils.py`` of
https://github.com/junhongmit/P-and-B at commit ``7f75b44``): a planner's
credits ``w_j`` times a positional decay ``f(j; m)``, normalised, times the
budget, rounded to integers that sum exactly to the budget.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from theory._params import accepts_params, check_choice, check_int, check_int_array, check_real
from theory.bbam._layout import POS, checked, layout, reshape_out

__all__ = ["SCHEDULES", "ROUNDINGS", "schedule_weights", "plan_and_budget_shares",
           "allocate_plan_and_budget", "LEVEL_BUDGET", "level_budget"]

#: The five decay schedules, by their ``--decay`` flag in the authors' code.
SCHEDULES = ("constant", "linear", "polynomial", "exponential", "cosine")
#: Integer rounding rules of :func:`allocate_plan_and_budget`.
ROUNDINGS = ("paper", "largest_remainder")
#: Query-level budget by difficulty level (``level_map`` in the authors' code),
#: docs/models/bbam.md (14).
LEVEL_BUDGET = {1: 200, 2: 250, 3: 350, 4: 450, 5: 600}
_LEVEL_TABLE = np.array([0, 200, 250, 350, 450, 600], dtype=np.int64)


def _schedule_params(p, gamma, offset):
    p = check_real("p", p, 0.0, math.inf, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    offset = check_real("offset", offset, 0.0, math.inf, hi_open=True)
    return p, gamma, offset


@lru_cache(maxsize=256)
def _schedule_row(name, m, p, gamma, offset):
    """f(i; m) for i = 0..m-1, with the authors' scalar arithmetic, docs/models/bbam.md (10)."""
    if name == "constant":
        vals = [1.0] * m
    elif name == "linear":
        vals = [float(m - i) for i in range(m)]
    elif name == "polynomial":
        vals = [float((m - i) ** p) for i in range(m)]
    elif name == "exponential":
        vals = [float(gamma**i) for i in range(m)]
    elif m > 1:  # cosine
        vals = [float(0.5 * (1 + np.cos(np.pi * i / (m - 1))) + offset) for i in range(m)]
    else:
        vals = [1.0]
    return tuple(vals)


def schedule_weights(name, m, p=2.0, gamma=0.9, offset=0.1):
    """Positional decay-schedule multipliers ``f(i; m)``, ``i = 0..m-1``, docs/models/bbam.md (10).

    ========================= ======================================================
    ``constant`` (non-decay)  ``1``
    ``linear``                ``m - i``
    ``polynomial``            ``(m - i)**p``
    ``exponential``           ``gamma**i``
    ``cosine`` (annealing)    ``(1 + cos(pi i / (m-1)))/2 + offset`` (``1`` if ``m = 1``)
    ========================= ======================================================

    The formulas are the authors' code's
    (``inference/_5_planned_local_weighted_model.py``); the paper lists the same
    five families. The defaults ``p = 2`` and ``gamma = 0.9`` are the code's
    fixed values; whether the paper varies them is not known. The cosine
    ``offset = 0.1`` exists only in the code; the paper's formula is the plain
    ``(1 + cos)/2`` (``offset = 0``), which gives the last sub-question no
    tokens (docs/models/bbam.md, "Known disagreements with the papers"). All
    five are non-increasing in ``i``
    for these parameter ranges; constant factors drop out on normalisation.

    Parameters
    ----------
    name : {"constant", "linear", "polynomial", "exponential", "cosine"}
    m : int
        Number of sub-questions, ``>= 1``.
    p : float, default 2.0
        Polynomial power, ``>= 0``.
    gamma : float, default 0.9
        Exponential base, in ``(0, 1]``.
    offset : float, default 0.1
        Cosine offset, ``>= 0``.

    Returns
    -------
    ndarray, shape (m,)
    """
    check_choice("schedule", name, SCHEDULES)
    m = check_int("m", m, 1)
    p, gamma, offset = _schedule_params(p, gamma, offset)
    return np.array(_schedule_row(name, m, p, gamma, offset))


def _pb_prepare(credits, schedule, mask, budget, p=2.0, gamma=0.9, offset=0.1):
    """Layout, checks and real shares ``s`` (N, m) of (11), with the authors' float operations."""
    check_choice("schedule", schedule, SCHEDULES)
    p, gamma, offset = _schedule_params(p, gamma, offset)
    (cr,), mask2, budget1, lead, m = layout("credits", credits, (), mask, budget)
    cr = checked("credits", cr, mask2, **POS)
    n = cr.shape[0]
    if mask2 is None:
        counts = np.full(n, m)
        pos = np.broadcast_to(np.arange(m), (n, m))
    else:
        counts = mask2.sum(axis=-1)
        pos = np.cumsum(mask2, axis=-1) - 1
    table = np.zeros((m + 1, m))
    for k in np.unique(counts):
        table[k, :k] = _schedule_row(schedule, int(k), p, gamma, offset)
    f = table[counts[:, None], pos]
    g = cr * f
    if mask2 is not None:
        g[~mask2] = 0.0
    # Normalise each question over its own m entries with the code's float
    # sum. numpy adds a[0] + (a[1] + a[2] + ...) in order when fewer than 9
    # values are summed, so zeros of masked-out slots change nothing there;
    # longer rows are summed pairwise, so they are packed and summed over
    # exactly their own m entries.
    total = np.empty(n)
    if mask2 is None or m <= 8:
        total[:] = g.sum(axis=-1)
    else:
        order = np.argsort(~mask2, axis=-1, kind="stable")
        packed = np.take_along_axis(g, order, axis=-1)
        for k in np.unique(counts):
            rows = counts == k
            total[rows] = packed[rows, :k].sum(axis=-1)
    s = g / total[:, None]
    return s, mask2, budget1, counts, lead, m


def plan_and_budget_shares(credits, schedule="constant", mask=None, **schedule_params):
    """Real Plan-and-Budget shares, docs/models/bbam.md (11) (paper Eq. (7) of v3).

    ``s_j = w_j f(j; m) / sum_k w_k f(k; m)``.

    ``w_j`` are the planner's credits (normalisation drops out) and ``f`` the
    decay schedule of :func:`schedule_weights`, applied at each existing
    sub-question's position among the existing ones of its question. The
    allocation before rounding is ``B s_j``.

    Parameters
    ----------
    credits : array_like
        Planner credits ``> 0`` (integers 1..100 summing to 100 in the code),
        sub-questions on the last axis.
    schedule : str, default "constant"
        One of :data:`SCHEDULES`.
    mask : array_like of bool, optional
    **schedule_params
        ``p``, ``gamma``, ``offset`` of :func:`schedule_weights`.

    Returns
    -------
    ndarray
        Shares summing to 1 over each question, 0 at masked-out entries.
    """
    s, _, _, _, lead, m = _pb_prepare(credits, schedule, mask, None, **schedule_params)
    return reshape_out(s, lead, m)


@accepts_params
def allocate_plan_and_budget(credits, budget, schedule="constant", rounding="paper", mask=None,
                             min_tokens=0, **schedule_params):
    """Integer Plan-and-Budget allocation, docs/models/bbam.md (11) rounded by (12).

    ``s`` as in :func:`plan_and_budget_shares`; ``b_j = floor(B s_j)``; the
    ``r = B - sum_j b_j`` missing tokens (``0 <= r <= m - 1``) then go one each
    to ``r`` positions chosen by ``rounding``:

    * ``"paper"`` (default): the rule of the authors' ``allocate_tokens``, the
      ``r`` largest **shares** ``s_j`` ("largest-weight" rounding), so
      ``|b_j - B s_j| <= 1`` and the bound is attained. The code breaks ties
      with numpy's unstable default sort; here ties go to the earlier position
      (a stable sort), which the golden vectors of the tests assume.
    * ``"largest_remainder"``: the ``r`` largest fractional parts
      ``B s_j - floor(B s_j)`` (ties to the earlier position), so
      ``|b_j - B s_j| < 1``. Not the code's rule; offered for comparison.

    ``min_tokens > 0`` (a choice of this project; off by default because the
    authors' code allows 0 tokens) first gives every existing sub-question
    ``min_tokens`` and allocates the remaining ``B - m min_tokens`` by the same
    rule.

    Takes a :class:`~theory.bbam.BbamParams` for ``rounding`` and ``min_tokens``; the budget
    must then be given as an integer keyword, since the parameter class holds
    a real one: ``allocate_plan_and_budget(params, credits=w, budget=400)``.

    Parameters
    ----------
    credits : array_like
        Planner credits ``> 0``, sub-questions on the last axis.
    budget : int or array_like of int
        Total budgets ``B_i >= 0`` (integers), broadcast against the leading
        axes of ``credits``.
    schedule : str, default "constant"
        One of :data:`SCHEDULES`.
    rounding : {"paper", "largest_remainder"}, default "paper"
    mask : array_like of bool, optional
    min_tokens : int, default 0
        Minimum per existing sub-question; needs ``B >= m min_tokens``.
    **schedule_params
        ``p``, ``gamma``, ``offset`` of :func:`schedule_weights`.

    Returns
    -------
    ndarray of int64
        Sums exactly to ``B`` over each question; 0 at masked-out entries.
    """
    check_choice("rounding", rounding, ROUNDINGS)
    min_tokens = check_int("min_tokens", min_tokens, 0)
    s, mask2, budget1, counts, lead, m = _pb_prepare(credits, schedule, mask, budget,
                                                     **schedule_params)
    budget1 = check_int_array("budget", budget1, 0)
    spend = budget1 - min_tokens * counts
    if (spend < 0).any():
        i = int(np.flatnonzero(spend < 0)[0])
        raise ValueError(
            f"budget must be >= min_tokens * m = {min_tokens * int(counts[i])}, "
            f"got {int(budget1[i])}"
        )
    exact = s * spend[:, None]  # the code's combined * total_tokens
    b = np.floor(exact)
    missing = spend - b.sum(axis=-1).astype(np.int64)
    key = -s if rounding == "paper" else -(exact - b)
    if mask2 is not None:
        key[~mask2] = np.inf
    order = np.argsort(key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(m), order.shape), axis=-1)
    out = b.astype(np.int64) + (rank < missing[:, None])
    if min_tokens:
        out += min_tokens
    if mask2 is not None:
        out[~mask2] = 0
    return reshape_out(out, lead, m)


def level_budget(level):
    """Query budget ``B_i`` of a difficulty level, docs/models/bbam.md (14) (the authors' code).

    ``{1: 200, 2: 250, 3: 350, 4: 450, 5: 600}``; the code labels the levels
    simple/simple/medium/medium/hard and maps TravelPlanner's
    easy/medium/hard to 1/3/5.

    Parameters
    ----------
    level : int or array_like of int
        Levels in ``1..5``.

    Returns
    -------
    int or ndarray of int64
    """
    level = check_int_array("level", level, 1, 5)
    out = _LEVEL_TABLE[level]
    return int(out) if out.ndim == 0 else out


