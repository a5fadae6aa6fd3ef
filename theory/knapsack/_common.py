"""Input checks and small helpers shared by the modules of :mod:`theory.knapsack`.

Conventions of the package (``docs/models/knapsack.md``, section "Conventions"):
``p`` is a success rate in ``[0, 1]``; ``N`` a rollout count, an integer
``>= 1`` (``f(0, p) = -1`` has no meaning, so ``N < 1`` is rejected); closed
forms broadcast and return a ``float`` for scalar input, an ``ndarray``
otherwise; ratios of an allocation reduce over the last axis; invalid input
raises a one-line :class:`ValueError` or :class:`TypeError` naming the
parameter, the value and the allowed range.
"""

from __future__ import annotations

import numpy as np

from theory._params import check_bool_array, check_int, check_int_array, check_real_array


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def _p_array(p, name="p"):
    """Success rates in ``[0, 1]`` as a float array."""
    return check_real_array(name, p, 0.0, 1.0)


def _batch_p(p):
    """One batch of success rates: a 1-D float array in ``[0, 1]``."""
    arr = check_real_array("p", p, 0.0, 1.0)
    if arr.ndim != 1:
        raise ValueError(f"p must be a 1-D array of success rates, got {arr.ndim} dimensions")
    return arr


def _valid_mask(valid, m):
    """The validity mask of ``m`` prompts (all valid when ``valid`` is None)."""
    if valid is None:
        return np.ones(m, dtype=bool)
    v = check_bool_array("valid", valid)
    if v.shape != (m,):
        raise ValueError(f"valid must have the shape of p ({m},), got shape {v.shape}")
    return v


def _bounds(n_low, n_up):
    """Checked bounds ``1 <= n_low <= n_up``."""
    n_low = check_int("n_low", n_low, 1)
    n_up = check_int("n_up", n_up, n_low)
    return n_low, n_up


def _budget_vs_bounds(budget, m, n_low):
    """Checked budget, at least ``m * n_low`` (smaller budgets are infeasible)."""
    budget = check_int("budget", budget, 0)
    if m * n_low > budget:
        raise ValueError(
            f"budget must be at least n_low * M = {m * n_low} (infeasible bounds), got {budget}"
        )
    return budget


def _allocation_args(N, p):
    """Checked allocation and rates, broadcast, with at least one axis of prompts."""
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    N, p = np.broadcast_arrays(N, p)
    if N.ndim == 0:
        raise ValueError("N must have at least one axis of prompts, got a scalar")
    return N, p


def _spread(N, idx, amount):
    """Add ``amount`` over ``idx`` uniformly, the first ``amount % len`` get +1 (the authors' rule).

    ``docs/models/knapsack.md (16)``.
    """
    q, r = divmod(int(amount), idx.size)
    N[idx] += q
    N[idx[:r]] += 1
