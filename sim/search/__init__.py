"""The search model: budget-aware value tree search against parallel sampling at equal budget.

Li, Deng, Li and Li, "Spend Less, Reason Better", arXiv 2603.12634
(budget-aware value tree search, BAVT). The model, its numbered equations
and a tour of the command line and this API are in ``docs/models/search.md``;
the closed forms are in :mod:`theory.search`, the cost unit in
:mod:`theory.cost`.

* :func:`simulate` -- every rule (majority vote, greedy, fixed-temperature
  softmax, BAVT's annealed rule) at one budget in the synthetic tree
  environment, success with intervals, tokens, tool calls and unified cost,
  the closed form beside each estimate where one exists;
* :func:`run_rule` -- the runs of one rule on a backend (NumPy reference,
  Numba, or the array kernel on CuPy), bit-identical across backends;
* :func:`budget_curve` -- the comparison over tool budgets;
* :func:`advantage_map` -- where the annealed rule beats majority vote, over
  ``p``, critic noise and budget;
* :func:`plot_success`, :func:`plot_tokens`, :func:`plot_map` -- figures;
* :data:`SWEEP` -- what ``python -m sim.sweep search`` needs.

``Params`` is :class:`theory.search.SearchParams`; its defaults are the
command line's (``python -m sim.search``).
"""

from sim.search.compare import MAP_BUDGETS, MAP_NOISE, MAP_P, advantage_map, summarize
from sim.search.core import (
    DEFAULT_BUDGETS,
    DEFAULT_TRIALS,
    budget_curve,
    rule_theory,
    run_rule,
    simulate,
)
from sim.search.plot import plot_map, plot_success, plot_tokens
from sim.search.sweep import SWEEP
from theory.search import RULES, SearchParams

#: The model's name (:mod:`sim.registry`).
NAME = "search"
#: The model's parameter class (:class:`sim.interface.Model`).
Params = SearchParams

__all__ = [
    "NAME",
    "Params",
    "SearchParams",
    "SWEEP",
    "RULES",
    "DEFAULT_TRIALS",
    "DEFAULT_BUDGETS",
    "MAP_P",
    "MAP_NOISE",
    "MAP_BUDGETS",
    "simulate",
    "run_rule",
    "rule_theory",
    "budget_curve",
    "advantage_map",
    "summarize",
    "plot_success",
    "plot_tokens",
    "plot_map",
]
