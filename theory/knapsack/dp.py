"""The exact dynamic program of the knapsack, for integer rollout costs.

With unit costs it solves ``docs/models/knapsack.md (5)`` and is the reference
that the greedy solvers are checked against; with integer costs per rollout
(mean tokens, say) it solves the cost-weighted knapsack, where greedy is only
approximate (open choice "rollout cost").
"""

from __future__ import annotations

import numpy as np

from theory._params import check_int, check_int_array
from theory.knapsack._common import _batch_p, _bounds
from theory.knapsack.value import _f, _weight_values

__all__ = ["allocate_dp"]


def _dp_extra(pe, we, costs, extra, n_low, n_up):
    """Exact multiple-choice DP over extra rollouts with integer per-rollout costs."""
    K = n_up - n_low
    E = pe.size
    counts = np.zeros(E, dtype=np.int64)
    if extra <= 0 or K == 0 or E == 0:
        return counts
    W = int(extra)
    dp = np.zeros(W + 1)  # best value with extra cost <= w
    choice = np.zeros((E, W + 1), dtype=np.int32)
    ks = np.arange(K + 1)
    for j in range(E):
        vals = _f(n_low + ks, pe[j]) * we[j]
        if not (vals[1:] > vals[0]).any():
            continue  # no k > 0 strictly improves: choose k = 0 everywhere
        c = int(costs[j])
        new = dp + vals[0]
        arg = choice[j]
        for k in range(1, K + 1):
            s = k * c
            if s > W:
                break
            cand = dp[: W + 1 - s] + vals[k]
            better = cand > new[s:]
            new[s:][better] = cand[better]
            arg[s:][better] = k
        dp = new
    w = W
    for j in range(E - 1, -1, -1):
        k = int(choice[j, w])
        counts[j] = k
        w -= k * int(costs[j])
    return counts


def allocate_dp(p, budget, n_low=2, n_up=128, weight="info_gain", cost=None):
    """Exact dynamic program for the knapsack with integer costs.

    ``docs/models/knapsack.md (5)`` with a cost ``c_i`` per rollout (open
    choice "rollout cost").

    ``dp[j][w] = max_{n_low <= N <= n_up} dp[j-1][w - c_j N] + Value(N, p_j)``
    maximises ``sum_i w(p_i) f(N_i, p_i)`` subject to ``sum_i c_i N_i <= budget``
    and the bounds. With unit costs it solves the paper's problem and is
    the verification reference for :func:`allocate_greedy`; with token costs
    ``c_i`` greedy is only approximate. Among optimal choices of one
    prompt the smallest ``N`` is kept. Time ``O(M W (n_up - n_low))``, memory
    ``O(M W)`` with ``W = budget - n_low sum_i c_i``: a reference, not fast.

    Parameters
    ----------
    p : array_like
        1-D success rates in ``[0, 1]``.
    budget : int
        Total cost, ``>= n_low * sum(cost)``.
    n_low, n_up : int, default 2, 128
        Bounds, ``1 <= n_low <= n_up``.
    weight : str or callable, default "info_gain"
    cost : array_like of int or None, default None
        Cost of one rollout of each prompt, ``>= 1`` (e.g. mean tokens);
        ``None`` means unit cost.

    Returns
    -------
    ndarray of int64
    """
    p = _batch_p(p)
    n_low, n_up = _bounds(n_low, n_up)
    w = _weight_values(p, weight)
    if cost is None:
        costs = np.ones(p.size, dtype=np.int64)
    else:
        costs = check_int_array("cost", cost, 1)
        if costs.shape != p.shape:
            raise ValueError(f"cost must have the shape of p {p.shape}, got shape {costs.shape}")
    budget = check_int("budget", budget, 0)
    need = int(n_low * costs.sum())
    if need > budget:
        raise ValueError(
            f"budget must be at least n_low * sum(cost) = {need} (infeasible bounds), "
            f"got {budget}")
    return n_low + _dp_extra(p, w, costs, budget - need, n_low, n_up)
