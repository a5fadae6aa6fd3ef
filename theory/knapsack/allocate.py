"""One batch's rollout budget: uniform, the clean knapsack with its fallback, or the port.

:func:`allocate` is the one entry point the simulators use: the clean
knapsack (``docs/models/knapsack.md (5)``, solved exactly) with an explicit
fallback for the budget it cannot use, or the port of the authors' allocator
(``mode="reference"``). :func:`allocate_uniform` is the homogeneous baseline.
"""

from __future__ import annotations

import numpy as np

from theory._params import check_int
from theory.knapsack._common import _batch_p, _spread, _valid_mask
from theory.knapsack.coverage import _cost
from theory.knapsack.greedy import _solve_extra
from theory.knapsack.params import KnapsackParams, KnapsackSimParams
from theory.knapsack.reference import allocate_reference
from theory.knapsack.value import _weight_values

__all__ = ["allocate", "allocate_uniform"]


def allocate_uniform(m, budget):
    """Homogeneous allocation: ``budget // m`` each, the first ``budget % m`` get one more.

    The GRPO baseline ``N_i = N_bar`` when ``budget = m N_bar``; the remainder
    rule is the authors' uniform spreading, ``docs/models/knapsack.md (16)``.

    Parameters
    ----------
    m : int
        Number of prompts, ``>= 1``.
    budget : int
        Total rollouts, ``>= 0``.

    Returns
    -------
    ndarray of int64
    """
    m = check_int("m", m, 1)
    budget = check_int("budget", budget, 0)
    N = np.full(m, budget // m, dtype=np.int64)
    N[: budget % m] += 1
    return N


def allocate(p, valid=None, params=None):
    """Allocate one batch's rollout budget: the clean default or the reference port.

    ``params.mode == "reference"`` calls :func:`allocate_reference`. Clean mode
    (the open choices of ``docs/models/knapsack.md``, section "Open choices",
    at their defaults; none of them is the paper's):

    1. Invalid prompts get ``n`` and take no further part (open choice
       "invalid prompts", a fix of the authors' code). Valid prompts start
       at ``n_low``; ``R`` is the rest of the budget (an error if negative).
    2. Trigger (open choice "fallback trigger"): with
       ``fallback_trigger="coverage"`` and ``fallback !=
       "none"``, ``C = sum floor(min(n_up, c(p_i)))`` over informative prompts
       (``docs/models/knapsack.md (11)``); if ``C < R`` the surplus ``R - C``
       is set aside for the fallback and the knapsack gets ``C`` (the
       authors' rule).
    3. The knapsack over informative prompts is solved exactly (``solver``).
    4. Spending (open choices "budget constraint", "fallback" and
       "fallback cap"): the surplus, plus (with ``strict_budget``) the
       leftover the knapsack cannot use, goes uniformly to the valid
       zero-rate prompts up to ``fallback_cap`` (default ``n_up``), then to
       the valid one-rate prompts (``"zero_first"``), or to both at once
       (``"uniform"``); the first prompts by index get the odd rollouts, as
       in the code. What the caps do not allow is reported as ``unspent``.

    Parameters
    ----------
    p : array_like
        1-D estimated success rates in ``[0, 1]``.
    valid : array_like of bool or None
        ``None`` = all valid.
    params : KnapsackParams, KnapsackSimParams or None
        ``None`` = ``KnapsackParams()``; a :class:`KnapsackSimParams` stands
        for its :meth:`~KnapsackSimParams.theory_params`.

    Returns
    -------
    N : ndarray of int64
    info : dict
        ``fallback`` (bool), ``fallback_effective_ratio`` (``C / R`` when it
        fired, else 1.0), ``coverage_cost`` (C, 0 when not computed),
        ``unspent`` (int, rollouts not allocated), ``budget`` (int).
    """
    if params is None:
        params = KnapsackParams()
    if isinstance(params, KnapsackSimParams):
        params = params.theory_params()
    if not isinstance(params, KnapsackParams):
        raise TypeError(f"params must be a KnapsackParams, got {type(params).__name__}")
    p = _batch_p(p)
    M = p.size
    valid = _valid_mask(valid, M)
    B = M * params.n if params.budget is None else params.budget
    if params.mode == "reference":
        if params.weight != "info_gain":
            raise ValueError(f"weight must be 'info_gain' in reference mode, got {params.weight!r}")
        N, info = allocate_reference(
            p, valid, n=params.n, min_n=params.n_low, max_n=params.n_up, alpha=params.alpha,
            cost=params.cost, allow_fallback=params.fallback != "none", budget=B)
        info.update(unspent=0, budget=B)
        return N, info

    n_low, n_up = params.n_low, params.n_up
    eff = valid & (p > 0.0) & (p < 1.0)
    N = np.where(valid, n_low, params.n).astype(np.int64)
    base = int(N.sum())
    if base > B:
        raise ValueError(
            f"budget must be at least n_low * valid + n * invalid = {base} (infeasible "
            f"bounds), got {B}")
    R = B - base
    e_idx = np.nonzero(eff)[0]
    fired, ratio, C, surplus, W = False, 1.0, 0, 0, R
    if params.fallback != "none" and params.fallback_trigger == "coverage" and R > 0:
        c = _cost(p[e_idx], params.alpha, params.cost)
        C = int(np.trunc(np.minimum(float(n_up), c)).astype(np.int64).sum())
        if C < R:
            fired, ratio, surplus, W = True, C / R, R - C, C
    w = _weight_values(p[e_idx], params.weight)
    extra = _solve_extra(p[e_idx], w, W, n_low, n_up, params.solver)
    N[e_idx] += extra
    leftover = W - int(extra.sum())
    spend = surplus + (leftover if params.strict_budget and params.fallback != "none" else 0)
    unspent = R - int(extra.sum()) - spend
    cap = n_up if params.fallback_cap is None else params.fallback_cap
    if spend > 0:
        zero = np.nonzero(valid & (p == 0.0))[0]
        one = np.nonzero(valid & (p == 1.0))[0]
        tiers = [zero, one] if params.fallback == "zero_first" else [np.union1d(zero, one)]
        for tier in tiers:
            if spend == 0 or tier.size == 0:
                continue
            give = min(spend, tier.size * (cap - n_low))
            if give > 0:
                _spread(N, tier, give)
            spend -= give
        unspent += spend
    return N, {"fallback": fired, "fallback_effective_ratio": ratio, "coverage_cost": C,
               "unspent": int(unspent), "budget": B}
