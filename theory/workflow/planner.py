"""What the planner's estimates guarantee: the Hoeffding radius and the portfolio bound.

``docs/models/workflow.md`` (9)-(10). The planner estimates ``N_pairs`` success
probabilities, each from ``M`` independent continuation rollouts; by Hoeffding's
inequality and a union bound over the pairs, every estimate is within
``eps = sqrt(ln(2 N_pairs / delta) / (2 M))`` of its mean with probability at
least ``1 - delta`` (the authors' code). Because every base policy's first
action is a candidate, the chosen estimate is at least every base policy's, so
the chosen action's value is within ``2 eps`` of the best base policy's
(derived here).
"""

from __future__ import annotations

import numpy as np

from theory._params import accepts_params, check_int_array, check_real
from theory.workflow._common import _out

__all__ = ["hoeffding_radius", "n_pairs", "portfolio_lower_bound"]


@accepts_params
def hoeffding_radius(n_pairs, rollouts, delta=0.05):
    """``eps = sqrt(ln(2 N_pairs / delta) / (2 M))``, the radius of every estimate, (10).

    Parameters
    ----------
    n_pairs : array_like of int
        Estimated (action, base policy) pairs, ``>= 1``.
    rollouts : array_like of int
        Rollouts ``M`` per pair, ``>= 1``.
    delta : float, default 0.05
        Confidence level, in ``(0, 1]``.

    Returns
    -------
    float or ndarray
    """
    n = check_int_array("n_pairs", n_pairs, 1)
    m = check_int_array("rollouts", rollouts, 1)
    delta = check_real("delta", delta, 0.0, 1.0, lo_open=True)
    return _out(np.sqrt(np.log(2.0 * n / delta) / (2.0 * m)))


def n_pairs(actions, models, levels):
    """``|A_cand| * |M| * |K|``: the pairs one decision estimates, (10)."""
    a = check_int_array("actions", actions, 1)
    m = check_int_array("models", models, 1)
    k = check_int_array("levels", levels, 1)
    return _out(a * m * k)


def portfolio_lower_bound(base_values, epsilon):
    """``max_k V(Seq-k) - 2 eps``: the chosen action's value is at least this w.p. ``1 - delta``."""
    v = np.asarray(base_values, dtype=float)
    eps = check_real("epsilon", epsilon, 0.0)
    return float(np.max(v) - 2.0 * eps)
