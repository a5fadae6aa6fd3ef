"""Numbers the papers report from their own runs: calibration and validation targets.

They are data, never test constants: a test may check what this module
computes from them (an identity, a fit's mechanics), not that a model
reproduces them. ``docs/costs.md``, section "Calibration data", lists them
and says which models use them and how.

* :func:`bats_budget_curve` -- accuracy against the per-tool budget on
  BrowseComp, ReAct and ReAct with the budget tracker (Liu et al.,
  arXiv 2511.17006, Table 2 and its budget sweep; Gemini-2.5-Pro);
* :func:`bats_costs` -- the same paper's cost rows (accuracy, searches,
  browses, cost per question), and :func:`decompose_costs`, their split
  into the tool bill and the token bill of the unified cost
  (``docs/costs.md (2)``, ``(3)``);
* :func:`bavt_tiers` and :func:`bavt_scores` -- the budget tiers and the
  average exact-match scores of BAVT and of budget-matched parallel
  sampling with a majority vote (Li et al., arXiv 2603.12634, as given in
  published reading notes, not checked against the paper's text);
* :func:`calibrate_search` -- the synthetic environment of the search model
  fitted to the BAVT scores on a grid of ``p`` and critic noise.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd

__all__ = ["bats_budget_curve", "bats_costs", "decompose_costs", "bavt_tiers", "bavt_scores",
           "calibrate_search"]


def bats_budget_curve():
    """BrowseComp accuracy (%) against the budget per tool, ReAct and ReAct + budget tracker.

    Liu et al., arXiv 2511.17006 (Gemini-2.5-Pro). ReAct saturates at a budget of 100.
    """
    return pd.DataFrame({"budget": [10, 30, 50, 100, 200],
                         "react": [10.3, 10.5, 12.4, 12.6, 12.6],
                         "tracker": [12.8, 13.7, 14.4, 15.0, 15.3]})


def bats_costs():
    """Cost rows on BrowseComp: method, budget per tool, accuracy (%), searches, browses and
    the cost per question in US cents (Liu et al., arXiv 2511.17006, Table 2)."""
    return pd.DataFrame({
        "method": ["react", "react", "react", "tracker"],
        "budget": [10, 30, 100, 10],
        "accuracy": [10.3, 10.5, 12.6, 12.8],
        "searches": [7.87, 13.77, 14.24, 8.48],
        "browses": [0.60, 1.33, 1.36, 1.09],
        "cost_cents": [5.2, 8.0, 9.9, 6.8],
    })


def decompose_costs(rows=None, prices=None):
    """Split reported costs into the tool bill (2) and the token bill, ``docs/costs.md (3)``.

    The tool bill is ``(searches + browses) * price per call``; the token
    bill is what remains of the reported cost, and ``tool_share`` the tool
    bill's share of the cost.

    Parameters
    ----------
    rows : pandas.DataFrame or None
        Rows with ``searches``, ``browses`` and ``cost_cents`` (default
        :func:`bats_costs`).
    prices : theory.cost.Prices or None
        The price per call (default: the paper's USD 0.001 for both tools).
    """
    from theory.cost import call_bill

    rows = bats_costs() if rows is None else rows.copy()
    calls = {"search": rows["searches"].to_numpy(), "browse": rows["browses"].to_numpy()}
    rows["tool_cents"] = 100.0 * np.asarray(call_bill(calls, prices))
    rows["token_cents"] = rows["cost_cents"] - rows["tool_cents"]
    rows["tool_share"] = rows["tool_cents"] / rows["cost_cents"]
    return rows


def bavt_tiers():
    """The budget tiers: tool calls and a token range (Li et al., arXiv 2603.12634, via notes)."""
    return pd.DataFrame({"tier": ["low", "mid", "high"], "tools": [5, 10, 20],
                         "tokens_low": [1000, 2000, 4000], "tokens_high": [2000, 4000, 8000]})


def bavt_scores():
    """Average exact match of parallel sampling with a majority vote and of BAVT by tier.

    Li et al., arXiv 2603.12634, as given in published reading notes (the
    scores those notes state; the others are not known here).
    """
    return pd.DataFrame({
        "model": ["gpt-oss-20b"] * 3 + ["qwen3-30b-a3b"] * 3,
        "method": ["majority", "majority", "bavt"] * 2,
        "tier": ["low", "high", "low"] * 2,
        "em": [0.194, 0.334, 0.338, 0.289, 0.293, 0.386],
    })


def calibrate_search(model="gpt-oss-20b", ps=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
                     noises=(0.0, 0.2, 0.4, 0.6, 0.8, 1.2), params=None, trials=2000, seed=0,
                     backend="auto"):
    """Fit the search model's ``p`` and critic noise to one model's reported scores.

    Each reported score of :func:`bavt_scores` becomes the success of the
    same rule at the tier's tool budget (with the default token budget per
    call, the middle of the tier's token range); the grid point with the
    least squared error is the calibration. The environment is a toy, so the
    fit says which region of it resembles the reported pattern, not what the
    paper's tasks are.

    Returns
    -------
    grid : pandas.DataFrame
        ``p``, ``noise``, ``sse`` and the simulated score of every target.
    best : dict
        The grid row with the least ``sse``.
    """
    from sim.search import simulate
    from theory.search import SearchParams

    params = SearchParams() if params is None else params
    targets = bavt_scores()
    targets = targets[targets["model"] == model]
    if targets.empty:
        models = ", ".join(sorted(set(bavt_scores()["model"])))
        raise ValueError(f"model must be one of {models}, got {model!r}")
    tiers = bavt_tiers().set_index("tier")["tools"]
    rows = []
    for p, noise in itertools.product(ps, noises):
        row = {"p": p, "noise": noise}
        sse = 0.0
        for t in targets.itertuples():
            point = replace(params, p=p, noise=noise, budget=int(tiers[t.tier]),
                            token_budget=None)
            got = float(simulate(point, trials, seed, backend, (t.method,)).success.iloc[0])
            row[f"{t.method}_{t.tier}"] = got
            sse += (got - t.em) ** 2
        row["sse"] = sse
        rows.append(row)
    grid = pd.DataFrame(rows)
    best = grid.loc[grid["sse"].idxmin()].to_dict()
    return grid, best
