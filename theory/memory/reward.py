"""The router's training reward in the authors' code: a normalised cost and the weighted sum.

``docs/models/memory.md (14)``-(15). The learned router of the paper is
trained on a reward that mixes the answer's F1 score with a cost term; the
authors' code normalises a query's cost against a sliding window of recent
costs. These functions write that rule down so that its range and sign can be
checked; the simulator's router does not learn (it solves (10) exactly).
"""

from __future__ import annotations

import numpy as np

from theory._params import accepts_params, check_real

__all__ = ["WINDOW", "normalized_cost", "cost_efficiency", "router_reward"]

#: Costs the authors' code keeps in its sliding window.
WINDOW = 2000


def _window_bounds(window):
    """The 5th and 95th percentiles of ``sqrt(cost)`` over the window, with the code's repair."""
    w = np.asarray(window, dtype=float).reshape(-1)
    if w.size == 0:
        return 0.0, 1.0
    if np.any(np.isnan(w)) or np.any(np.isinf(w)):
        raise ValueError("window must hold finite costs")
    roots = np.sqrt(np.maximum(w, 0.0))
    lo, hi = (float(x) for x in np.percentile(roots, [5.0, 95.0]))
    if hi <= lo:
        if hi == 0.0:
            hi = 1.0
        else:
            lo = 0.9 * hi
    return lo, hi


@accepts_params
def normalized_cost(cost, window):
    """``clip((sqrt(c) - P5) / (P95 - P5), 0, 1)``, (14).

    ``P5`` and ``P95`` are the 5th and 95th percentiles (linear
    interpolation) of ``sqrt`` of the costs in ``window``; negative costs count
    as 0. When ``P95 <= P5`` the authors' code sets ``P95 = 1`` if it is 0, else
    ``P5 = 0.9 P95``; an empty window gives ``P5 = 0``, ``P95 = 1``. Always in
    ``[0, 1]`` and non-decreasing in ``cost``. Broadcasts over ``cost``.
    """
    c = np.asarray(cost, dtype=float)
    if np.any(np.isnan(c)):
        raise ValueError("cost must not be nan")
    lo, hi = _window_bounds(window)
    out = np.clip((np.sqrt(np.maximum(c, 0.0)) - lo) / (hi - lo), 0.0, 1.0)
    return float(out) if out.ndim == 0 else out


@accepts_params
def cost_efficiency(cost, window):
    """``1 - normalized_cost``, added to the reward in the authors' code (15); higher is cheaper."""
    out = 1.0 - np.asarray(normalized_cost(cost, window))
    return float(out) if out.ndim == 0 else out


@accepts_params
def router_reward(f1, cost, window, reward_weight=1.0, cost_weight=0.0):
    """``reward_weight * F1 + cost_weight * cost_efficiency``, (15).

    The authors' shipped scripts use ``reward_weight = 1``, ``cost_weight =
    0``; a positive ``cost_weight`` rewards cheap queries. (Their trainer also
    rescales the F1 term by the ratio of the two terms' standard deviations
    over a history; that step is left out here.)
    """
    f = np.asarray(f1, dtype=float)
    if np.any((f < 0) | (f > 1) | np.isnan(f)):
        raise ValueError("f1 must be in [0, 1]")
    wr = check_real("reward_weight", reward_weight, 0.0)
    wc = check_real("cost_weight", cost_weight)
    out = wr * f + wc * np.asarray(cost_efficiency(cost, window))
    return float(out) if out.ndim == 0 else out
