"""A port of the authors' allocator, ``sampling_budget_by_knapsack``, quirks included.

The reference mode of :func:`theory.knapsack.allocate` (``mode="reference"``);
the quirks it keeps on purpose are listed in ``docs/models/knapsack.md``,
section "Disagreements with the authors' code".
"""

from __future__ import annotations

import numpy as np

from theory._params import check_bool, check_choice, check_int, check_real
from theory.knapsack._common import _batch_p, _spread, _valid_mask
from theory.knapsack.coverage import _cost
from theory.knapsack.params import COSTS

__all__ = ["allocate_reference"]


def _dp_reference(pr, min_n, K, W):
    """The authors' exact-fill DP over extra rollouts (``solve_by_dp``), quirks included.

    ``k = 0`` scores 0 (not ``Value(min_n, p)``); strict ``>`` keeps the earlier
    option and the smaller ``k``; the largest feasible ``w <= W`` is used and
    the leftover spread uniformly over the prompts (no cap).
    """
    E = pr.size
    extra = np.zeros(E, dtype=np.int64)
    if W <= 0:
        return extra
    dp = np.full(W + 1, -np.inf)
    dp[0] = 0.0
    choice = np.zeros((E, W + 1), dtype=np.int32)
    ks = np.arange(1, K + 1)
    for j in range(E):
        pj = pr[j]
        if pj == 0.0 or pj == 1.0:
            gains = np.zeros(K)
        else:
            n = ks + min_n
            gains = (1.0 - pj**n - (1.0 - pj) ** n) * pj * ((1.0 - pj) ** 2)
        new = dp.copy()  # k = 0: gain 0
        arg = choice[j]
        for k in range(1, min(K, W) + 1):
            cand = dp[: W + 1 - k] + gains[k - 1]
            better = cand > new[k:]
            new[k:][better] = cand[better]
            arg[k:][better] = k
        dp = new
    w_star = W
    while w_star > 0 and dp[w_star] == -np.inf:
        w_star -= 1
    if w_star > 0:
        w = w_star
        for j in range(E - 1, -1, -1):
            k = int(choice[j, w])
            extra[j] = k
            w -= k
    left = W - w_star
    if left > 0:
        _spread(extra, np.arange(E), left)
    return extra


def allocate_reference(p, valid=None, n=8, min_n=2, max_n=128, alpha=0.9, cost="probability",
                       allow_fallback=True, negative_n=None, positive_n=None, budget=None):
    """Port of the authors' ``sampling_budget_by_knapsack`` with its quirks.

    ``docs/models/knapsack.md``, section "Disagreements with the authors' code".

    Reproduces ``verl/trainer/ppo/exploration_utils.py`` (commits 05eeb92 /
    ca5d5f5): invalid prompts get ``n``; valid ones ``min_n`` (``negative_n`` at
    ``p = 0``, ``positive_n`` at ``p = 1``). With no informative prompt the
    rest ``R`` goes uniformly to the zero-rate prompts, else everyone gets
    ``n``. Otherwise ``C = sum floor(min(max_n, c(p_i)))`` over informative
    prompts (``docs/models/knapsack.md (11)``); if ``C < R`` (and
    ``allow_fallback``) the surplus ``R - C`` goes uniformly to the zero-rate
    prompts (else to all non-informative prompts) and the DP gets ``C``.
    Quirks kept on purpose: the DP scores ``k = 0`` extra as 0; invalid
    prompts count as zero-rate (their rate stays 0); no cap on the fallback
    or leftover; success rates are stored as float32 (the DP follows the
    code's Numba path: float64 arithmetic on float32 rates);
    and the final ``sum == budget`` assertion, which fails when every prompt is
    informative and the fallback fires (the code then divides by an empty
    candidate list and loses the surplus).

    Parameters
    ----------
    p : array_like
        1-D estimated success rates in ``[0, 1]`` (ignored where invalid).
    valid : array_like of bool or None
        Whether each prompt has a usable estimate; ``None`` = all valid.
    n : int, default 8
        Homogeneous budget per prompt, ``>= 1``.
    min_n, max_n : int, default 2, 128
        ``1 <= min_n <= max_n``.
    alpha : float, default 0.9
        In ``(0, 1)``.
    cost : {"probability", "expectation"}, default "probability"
    allow_fallback : bool, default True
    negative_n, positive_n : int or None
        Budgets of zero- and one-rate prompts, ``>= 0``; ``None`` = ``min_n``.
    budget : int or None
        Total budget; ``None`` = ``M * n``.

    Returns
    -------
    N : ndarray of int64
    info : dict
        ``fallback`` (bool) and ``fallback_effective_ratio`` (``C / R``, 1.0 when
        the fallback did not fire), as in the code; plus ``coverage_cost`` (C).

    Raises
    ------
    AssertionError
        Where the authors' code fails its budget assertion.
    """
    p = _batch_p(p)
    M = p.size
    valid = _valid_mask(valid, M)
    n = check_int("n", n, 1)
    min_n = check_int("min_n", min_n, 1)
    max_n = check_int("max_n", max_n, min_n)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    check_choice("cost", cost, COSTS)
    allow_fallback = check_bool("allow_fallback", allow_fallback)
    negative_n = min_n if negative_n is None else check_int("negative_n", negative_n, 0)
    positive_n = min_n if positive_n is None else check_int("positive_n", positive_n, 0)
    B = M * n if budget is None else check_int("budget", budget, 0)

    eff = valid & (p > 0.0) & (p < 1.0)
    zero = valid & (p == 0.0)
    one = valid & (p == 1.0)
    N = np.where(valid, 0, n).astype(np.int64)
    N[eff] = min_n
    N[zero] = negative_n
    N[one] = positive_n
    pr32 = np.where(valid, p, 0.0).astype(np.float32)  # quirk: invalid prompts stay at rate 0
    zero_rate = np.nonzero(pr32 == 0.0)[0]
    e_idx = np.nonzero(eff)[0]
    R = B - int(N.sum())
    fallback, ratio, C = False, 1.0, 0
    if R > 0 and e_idx.size == 0:
        if zero_rate.size:
            _spread(N, zero_rate, R)
        else:
            N[:] = n
    else:
        c = np.zeros(M, dtype=np.float32)
        c[e_idx] = _cost(p[e_idx], alpha, cost)  # costs are stored as float32 in the code
        C = int(np.trunc(np.minimum(np.float32(max_n), c[e_idx])).astype(np.int64).sum())
        if C < R and allow_fallback:
            fallback, ratio = True, C / R
            surplus = R - C
            cand = zero_rate if zero_rate.size else np.nonzero(~eff)[0]
            if cand.size:
                _spread(N, cand, surplus)
            R = C  # with no candidate the code loses the surplus here
        pr = pr32[e_idx].astype(np.float64)
        N[e_idx] += _dp_reference(pr, min_n, max_n - min_n, R)
    if int(N.sum()) != B:
        raise AssertionError(f"Budget mismatch: expected {B}, got {int(N.sum())}")
    return N, {"fallback": fallback, "fallback_effective_ratio": ratio, "coverage_cost": C}
