"""The routing policies the simulator compares, by name, as routing tables.

A policy is a routing table (tiers per pattern the router can read, see
:mod:`theory.memory.routing`) and whether it routes on the router's reads or
on the true difficulties:

* ``fixed`` -- the best fixed tiers within the budget, the same for every
  query, ``docs/models/memory.md (11)``;
* ``router`` -- the query-aware router solving its knapsack exactly (10);
* ``router-greedy`` -- the same router with the greedy choice (5);
* ``oracle`` -- a router that knows every module's true difficulty (the
  exact router at ``signal = 1``).
"""

from __future__ import annotations

import numpy as np

from theory import memory as th

__all__ = ["POLICIES", "policy_tables", "tier_label"]

#: The policies of a run, in the order of every table and figure.
POLICIES = ("fixed", "router", "router-greedy", "oracle")


def policy_tables(params, budgets):
    """Routing tables of every policy at every budget.

    Parameters
    ----------
    params : theory.memory.MemoryParams
    budgets : sequence of int

    Returns
    -------
    tables : dict
        Policy name -> int64 array ``(budgets, 2**modules, modules)``.
    by_truth : dict
        Policy name -> whether it routes on the true difficulties.
    fixed : ndarray of int64, shape (budgets, modules)
        The best fixed tiers at each budget.
    """
    b = np.asarray(budgets, dtype=np.int64)
    m = params.modules
    fixed = th.fixed_tiers(params, budget=b)
    tables = {
        "fixed": np.broadcast_to(fixed[:, None, :], (b.size, 2**m, m)).copy(),
        "router": th.route(params, budget=b),
        "router-greedy": th.route(params, budget=b, solver="greedy"),
        "oracle": th.route(params, budget=b, signal=1.0),
    }
    by_truth = {name: name == "oracle" for name in POLICIES}
    return tables, by_truth, fixed


def tier_label(tiers):
    """Tiers as a short word: one letter per module (``L``/``M``/``H`` for three tiers)."""
    t = np.asarray(tiers, dtype=np.int64).reshape(-1)
    letters = th.TIER_LETTERS if int(t.max(initial=0)) < len(th.TIER_LETTERS) else "0123456789"
    return "".join(letters[int(x)] for x in t)
