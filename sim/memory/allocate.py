"""A tier per module from a table of (module, tier, cost, accuracy): the ``allocate`` form.

The table lists, for each module of a pipeline, the tiers it offers with
their cost and accuracy (for instance measured on a development set). With a
budget, :func:`allocate_tiers` chooses one tier per module by the exact
dynamic program or greedily (``docs/models/memory.md (4)``, (5)), for one of
two objectives:

* ``product`` -- the pipeline is right when every module is, so its accuracy
  is the product of the modules' accuracies and the knapsack runs on their
  logarithms (10);
* ``sum`` -- the accuracies add up (the plain multiple-choice knapsack (1)).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from theory import memory as th
from theory._params import check_choice

__all__ = ["COLUMNS", "OBJECTIVES", "ALLOCATE_SOLVERS", "load_tiers", "tier_instance",
           "allocate_tiers", "instance_frontier"]

#: Columns a tier table must have.
COLUMNS = ("module", "tier", "cost", "accuracy")
#: How the modules' accuracies combine.
OBJECTIVES = ("product", "sum")
#: Which choice ``allocate`` writes out.
ALLOCATE_SOLVERS = ("dp", "greedy")
#: Most budgets drawn in an instance's figure.
FRONTIER_POINTS = 400


def load_tiers(path):
    """Read and check a tier table (CSV, or Parquet by extension ``.parquet``/``.pq``).

    Returns
    -------
    pandas.DataFrame
        ``module`` and ``tier`` as strings, ``cost`` and ``accuracy`` as floats,
        in file order.

    Raises
    ------
    ValueError
        One line naming the problem (a missing column, a bad value and its row).
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    try:
        df = pd.read_parquet(path) if ext in (".parquet", ".pq") else pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"tier table {path} cannot be read: {msg}") from None
    return _check_table(df, path)


def _check_table(df, name="tier table"):
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{name} must have the columns {', '.join(COLUMNS)}; missing "
                         f"{', '.join(missing)}")
    if len(df) == 0:
        raise ValueError(f"{name} has no rows")
    out = pd.DataFrame({"module": df["module"].astype(str), "tier": df["tier"].astype(str)})
    for col, lo, hi in (("cost", 0.0, np.inf), ("accuracy", 0.0, 1.0)):
        x = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x) | (x < lo) | (x > hi)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            rng = "[0, inf)" if hi == np.inf else "[0, 1]"
            raw = df[col].iloc[row]
            shown = repr(raw) if isinstance(raw, str) else str(raw)
            raise ValueError(f"{col} must be a number in {rng}, got {shown} in row {row + 1} of "
                             f"{name}")
        out[col] = x
    dup = out.duplicated(["module", "tier"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"module {out.module.iloc[row]!r} lists tier {out.tier.iloc[row]!r} "
                         f"twice (row {row + 1} of {name})")
    return out


def tier_instance(table):
    """A checked table as arrays: ``(modules, tiers, cost, accuracy, valid)``.

    ``modules`` are in order of first appearance and ``tiers[i]`` are module
    ``i``'s tier names in file order; ``cost`` and ``accuracy`` have shape
    ``(modules, most tiers)``, ``valid`` marks the entries a module offers.
    """
    table = _check_table(table)
    modules = list(dict.fromkeys(table["module"]))
    groups = {m: g for m, g in table.groupby("module", sort=False)}
    T = max(len(g) for g in groups.values())
    cost = np.zeros((len(modules), T))
    acc = np.zeros((len(modules), T))
    valid = np.zeros((len(modules), T), dtype=bool)
    tiers = []
    for i, m in enumerate(modules):
        g = groups[m]
        k = len(g)
        cost[i, :k] = g["cost"].to_numpy()
        acc[i, :k] = g["accuracy"].to_numpy()
        valid[i, :k] = True
        tiers.append(list(g["tier"]))
    return modules, tiers, cost, acc, valid


def _values(acc, objective):
    return th.log_value(acc) if objective == "product" else acc


def _integer_costs(cost, valid):
    if np.any(cost[valid] != np.round(cost[valid])):
        raise ValueError("cost must be integers for --solver dp (scale the costs, e.g. to "
                         "tokens, or use --solver greedy)")
    return np.where(valid, np.round(cost), 0).astype(np.int64)


def allocate_tiers(table, budget, solver="dp", objective="product"):
    """One tier per module within ``budget``; the chosen rows and a report.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``module``, ``tier``, ``cost``, ``accuracy`` (:func:`load_tiers`).
    budget : float
        Total cost allowed, at least the cheapest choice's cost; an integer
        for ``solver="dp"``.
    solver : {"dp", "greedy"}
        Which choice is returned: the exact optimum (4) (integer costs) or
        the greedy choice (5). Both are reported.
    objective : {"product", "sum"}

    Returns
    -------
    choice : pandas.DataFrame
        One row per module (input order): ``module``, ``tier``, ``cost``,
        ``accuracy``.
    report : dict
        ``total_cost``, ``value`` (the objective: the pipeline's accuracy for
        ``product``, the total for ``sum``), ``bound`` (the relaxation's
        optimum (3), in the same units), ``greedy_value`` and, with integer
        costs, ``optimum`` (the dynamic program's value), ``gap_bound`` (the
        greedy choice's certified loss in the knapsack's units: log-accuracy
        for ``product``) and ``solver``.
    """
    check_choice("solver", solver, ALLOCATE_SOLVERS)
    check_choice("objective", objective, OBJECTIVES)
    modules, tiers, cost, acc, valid = tier_instance(table)
    values = _values(acc, objective)
    g = th.solve_greedy(cost, values, float(budget), valid)
    integer = bool(np.all(cost[valid] == np.round(cost[valid])))
    if solver == "dp":
        _integer_costs(cost, valid)
        if float(budget) != round(float(budget)):
            raise ValueError(f"budget must be an integer for --solver dp, got {budget:g}")
    optimum, chosen = None, g.tiers
    if integer:
        dp = th.solve_dp(_integer_costs(cost, valid), values, int(np.floor(budget)), valid)
        optimum = th.pipeline_value(cost, values, dp)[1]
        if solver == "dp":
            chosen = dp
    rows = np.arange(len(modules))
    choice = pd.DataFrame(dict(module=modules, tier=[tiers[i][t] for i, t in enumerate(chosen)],
                               cost=cost[rows, chosen], accuracy=acc[rows, chosen]))
    out = (lambda v: float(np.exp(v))) if objective == "product" else float
    value = th.pipeline_value(cost, values, chosen)[1]
    report = dict(solver=solver, objective=objective, budget=float(budget),
                  total_cost=float(choice["cost"].sum()), value=out(value), bound=out(g.lp_value),
                  greedy_value=out(g.value),
                  optimum=None if optimum is None else out(optimum),
                  gap_bound=float(g.gap_bound), max_range=float(g.max_range))
    return choice, report


def instance_frontier(table, objective="product", points=FRONTIER_POINTS):
    """Optimum, greedy choice and relaxation bound at budgets from the cheapest to the dearest.

    Integer budgets (at most ``points`` of them, evenly spread); ``dp`` is NaN
    when the costs are not integers. Values are in the knapsack's units
    (log-accuracy for ``product``).

    Returns
    -------
    pandas.DataFrame
        ``budget``, ``dp``, ``greedy``, ``lp``.
    """
    check_choice("objective", objective, OBJECTIVES)
    _, _, cost, acc, valid = tier_instance(table)
    values = _values(acc, objective)
    lo = int(np.ceil(th.min_cost(cost, valid)))
    hi = int(np.ceil(np.where(valid, cost, -np.inf).max(axis=1).sum()))
    budgets = np.unique(np.linspace(lo, hi, min(points, hi - lo + 1)).round().astype(np.int64))
    integer = bool(np.all(cost[valid] == np.round(cost[valid])))
    dp = (th.pipeline_value(cost, values,
                            th.solve_dp(_integer_costs(cost, valid), values, budgets, valid))[1]
          if integer else np.full(budgets.size, np.nan))
    rows = []
    for b, v in zip(budgets, dp):
        g = th.solve_greedy(cost, values, float(b), valid)
        rows.append(dict(budget=int(b), dp=float(v), greedy=g.value, lp=g.lp_value))
    return pd.DataFrame(rows)
