"""The accuracy-token frontier: every allocator over a range of budgets."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from sim.bbam.allocators import ALLOCATORS
from sim.bbam.core import simulate

__all__ = ["FRONTIER_BUDGETS", "FRONTIER_TRIALS", "frontier"]

#: Budgets of the default frontier (``python -m sim.bbam --plot``).
FRONTIER_BUDGETS = (100.0, 150.0, 200.0, 300.0, 400.0, 600.0, 800.0)
#: Questions per budget of the default frontier.
FRONTIER_TRIALS = 20_000


def frontier(params, budgets=FRONTIER_BUDGETS, trials=FRONTIER_TRIALS, seed=0, backend="auto",
             names=ALLOCATORS, progress=None, allow=False):
    """Accuracy and tokens of every allocator across budgets.

    Parameters
    ----------
    params : BbamParams
        Everything but the budget.
    budgets : sequence of float
        Budgets per question, each ``> 0``.
    trials : int
        Questions per budget.
    seed : int
        Root seed; every budget sees the same questions (the same seed).
    backend : str
    names : sequence of str
        Allocators.
    allow : bool
        Passed to :func:`sim.bbam.simulate` (run above the work limit).
    progress : callable or None
        Called once after each budget.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`sim.bbam.simulate` for each budget, with a
        ``budget`` column (one row per budget and allocator).
    """
    parts = []
    for B in budgets:
        parts.append(simulate(replace(params, budget=float(B)), trials, seed, backend, names,
                              allow=allow))
        if progress is not None:
            progress()
    return pd.concat(parts, ignore_index=True)
