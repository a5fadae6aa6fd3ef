"""One run: every policy at every budget, queries simulated, the exact theory beside each estimate.

The queries, the router's reads and the modules' jobs come from the shared
counter-based stream (:mod:`sim.memory.layout`); the policies
(:mod:`sim.memory.policies`) route the same queries, and the realised
accuracy and cost per query stand beside their exact values,
``docs/models/memory.md (12)`` and ``(13)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim import _cli, guard
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.memory import kernel_array, kernel_numba, reference
from sim.memory.layout import STREAM, WORDS_PER_MODULE
from sim.memory.policies import POLICIES, policy_tables, tier_label
from theory import memory as th
from theory._params import check_int
from theory.memory import MemoryParams

__all__ = ["DEFAULT_TRIALS", "MAX_WORK", "cost", "run_queries", "simulate"]

#: Queries per run (the command line's ``--trials``).
DEFAULT_TRIALS = 100_000
#: The work limit of a run without ``allow`` (``--yes``), in nanoseconds of one core (the
#: costs below are measured with Numba): about a minute on this 2-core machine.
MAX_WORK = 5e10
#: Nanoseconds of one routing-table entry (a budget, a difficulty pattern, a module) and per
#: unit of the budget it is solved at (measured: 2 to 5 microseconds, growing with the budget).
TABLE_ENTRY_OPS, TABLE_BUDGET_OPS = 3000, 10
#: Nanoseconds of one module call of one simulated query (measured: about 0.6 to 0.8).
CALL_OPS = 4


def cost(params, trials):
    """The size of :func:`simulate` for :func:`sim.guard.check`: work (ns) and peak bytes.

    Every policy's routing table at every budget (``budgets * 2**modules * modules``
    entries) and ``trials`` queries through every
    table; the queries go in chunks of bounded memory.
    """
    m = params.modules
    top = params.budget if params.budget is not None else params.max_budget
    budgets = 1.0 if params.budget is not None else float(params.max_budget - params.min_budget
                                                          + 1)
    entries = budgets * len(POLICIES) * 2.0**m * m
    return dict(work=entries * (TABLE_ENTRY_OPS + TABLE_BUDGET_OPS * float(top))
                + float(trials) * budgets * len(POLICIES) * m * CALL_OPS,
                memory=entries * 8 * 3, unit="operations (ns)", work_limit=MAX_WORK)



def run_queries(params, tables, by_truth, trials, seed, backend="numba"):
    """Right answers and costs of routing tables over ``trials`` queries.

    Parameters
    ----------
    params : theory.memory.MemoryParams
        The pipeline (tiers' success and cost, ``hard_share``, ``signal``).
    tables : array_like of int, shape (policies, 2**modules, modules)
    by_truth : sequence of bool, one per policy
    trials : int
        Queries, ``>= 1``; query ``j`` draws the same words for every policy
        and backend.
    seed : int
        Root seed; the words come from the stream :data:`sim.memory.layout.STREAM`.
    backend : {"numpy", "numba", "cupy", "auto"}

    Returns
    -------
    right, cost_sum, cost_sq : ndarray of int64, one entry per policy
    """
    name = resolve_backend(backend)
    trials = check_int("trials", trials, 1)
    key = _rng.stream_key(check_int("seed", seed, 0), STREAM)
    tables = np.ascontiguousarray(tables, dtype=np.int64)
    by_truth = np.ascontiguousarray(by_truth, dtype=np.bool_)
    success = np.ascontiguousarray(np.stack([params.easy, params.hard], axis=1), dtype=float)
    costs = np.ascontiguousarray(params.costs, dtype=np.int64)
    args = (tables, by_truth, success, costs, params.hard_share, params.signal)
    if name == "numba":
        return kernel_numba.run_queries(*args, 0, trials, key)
    per_query = params.modules * (WORDS_PER_MODULE * 8 * 3 + 8 * tables.shape[0])
    total = np.zeros((3, tables.shape[0]), dtype=np.int64)
    for lo, hi in guard.chunks(trials, per_query):
        if name == "numpy":
            part = reference.run_queries(*args, lo, hi, key)
        else:
            part = [x.get() for x in kernel_array.run_queries(array_module(name), *args, lo, hi,
                                                              key)]
        total += np.asarray(part, dtype=np.int64)
    return total[0], total[1], total[2]


def simulate(params=None, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED, backend="auto",
             allow=False):
    """The model's Monte Carlo run (:class:`sim.interface.Model`): every policy at every budget.

    Parameters
    ----------
    params : theory.memory.MemoryParams or None
        The pipeline (``None``: the defaults); ``params.budget`` picks one
        budget, ``None`` every budget from the cheapest to the dearest
        pipeline (the accuracy-cost frontier).
    trials : int
        Queries, ``>= 2``, shared by every policy and budget.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}
    allow : bool
        Run even when :func:`cost` exceeds this machine's limits (:func:`sim.guard.check`).

    Returns
    -------
    pandas.DataFrame
        One row per budget and policy (:data:`sim.memory.policies.POLICIES`):
        ``budget``, ``name``, ``tiers`` (the fixed tiers, ``routed`` for the
        routers), ``accuracy`` (exact, ``docs/models/memory.md (12)``),
        ``accuracy_sim``, ``accuracy_se``, ``cost`` (exact, (13)), ``cost_sim``,
        ``cost_se``, the parameters, ``trials`` and the provenance ``seed``,
        ``backend``, ``version``.
    """
    params = MemoryParams() if params is None else params
    if not isinstance(params, MemoryParams):
        raise TypeError(f"params must be a MemoryParams, got {type(params).__name__}")
    trials = check_int("trials", trials, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    guard.check("trials", allow=allow, **cost(params, trials))
    budgets = np.asarray(params.budgets, dtype=np.int64)
    tables, by_truth, fixed = policy_tables(params, budgets)
    stacked = np.concatenate([tables[p] for p in POLICIES])  # policy-major
    truth = np.repeat([by_truth[p] for p in POLICIES], budgets.size)
    right, cost_sum, cost_sq = run_queries(params, stacked, truth, trials, seed, name)
    rows = []
    for k, policy in enumerate(POLICIES):
        signal = 1.0 if by_truth[policy] else params.signal
        for j, b in enumerate(budgets):
            idx = k * budgets.size + j
            acc = right[idx] / trials
            mean = cost_sum[idx] / trials
            var = max(cost_sq[idx] - cost_sum[idx] * mean, 0.0) / (trials - 1)
            table = tables[policy][j]
            rows.append(dict(
                budget=int(b), name=policy,
                tiers=tier_label(fixed[j]) if policy == "fixed" else "routed",
                accuracy=th.routed_accuracy(table, params.easy, params.hard, params.hard_share,
                                            signal),
                accuracy_sim=float(acc), accuracy_se=math.sqrt(acc * (1 - acc) / trials),
                cost=th.routed_cost(table, params.costs, params.hard_share, signal),
                cost_sim=float(mean), cost_se=math.sqrt(var / trials),
            ))
    df = pd.DataFrame(rows).sort_values(["budget", "name"], key=_policy_order, kind="stable")
    df = df.reset_index(drop=True)
    for k in ("modules", "costs", "easy", "hard", "hard_share", "signal"):
        v = getattr(params, k)
        df[k] = ",".join(f"{x:g}" for x in v) if isinstance(v, tuple) else v
    df["trials"] = trials
    _cli.add_provenance(df, seed, name)
    return df


def _policy_order(col):
    if col.name == "name":
        return col.map({p: i for i, p in enumerate(POLICIES)})
    return col
