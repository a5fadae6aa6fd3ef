"""Closed forms of the memory model: budget-tier routing of a memory pipeline.

Zhang, Yue, Feng, Long, Bao, Jin, Zhang, Li, You, Qin and Wang, "BudgetMem",
arXiv 2602.06025 (2026); the authors' code is
https://github.com/ViktorAxelsen/BudgetMem. The model, its numbered equations
and their provenance are in ``docs/models/memory.md``; every docstring cites
an equation there as ``docs/models/memory.md (N)``.

* :mod:`~theory.memory.params` -- :class:`MemoryParams`, the simulated
  pipeline (the model's parameter class);
* :mod:`~theory.memory.mckp` -- the multiple-choice knapsack of one tier per
  module: the exact dynamic program, the linear relaxation on each module's
  upper hull, the greedy choice with its certified gap, the Lagrangian dual
  and the relaxation's frontier, (1)-(6);
* :mod:`~theory.memory.routing` -- the pipeline's accuracy and cost under
  fixed tiers and under a router that reads each module's difficulty, exact
  sums over the patterns the router can read, (7)-(13);
* :mod:`~theory.memory.reward` -- the authors' normalised cost and router
  reward, (14)-(15).

Public functions raise one-line errors naming the parameter and its range and
also take the parameter object where their arguments are its fields:
``population_success(MemoryParams())``.
"""

from theory.memory.mckp import (
    GreedySolution,
    LPSolution,
    frontier,
    greedy_many,
    lagrangian_bound,
    min_cost,
    pipeline_value,
    solve_dp,
    solve_greedy,
    solve_lp,
    upper_hull,
)
from theory.memory.params import MAX_MODULES, MAX_TIERS, TIER_LETTERS, MemoryParams
from theory.memory.reward import WINDOW, cost_efficiency, normalized_cost, router_reward
from theory.memory.routing import (
    SOLVERS,
    fixed_accuracy,
    fixed_table,
    fixed_tiers,
    hard_posterior,
    log_value,
    pattern_probability,
    patterns,
    population_success,
    posterior_success,
    read_probability,
    route,
    routed_accuracy,
    routed_cost,
)

__all__ = [
    "MemoryParams",
    "MAX_MODULES",
    "MAX_TIERS",
    "TIER_LETTERS",
    "SOLVERS",
    "WINDOW",
    # the knapsack
    "solve_dp",
    "solve_lp",
    "solve_greedy",
    "greedy_many",
    "upper_hull",
    "lagrangian_bound",
    "frontier",
    "pipeline_value",
    "min_cost",
    "LPSolution",
    "GreedySolution",
    # routing
    "read_probability",
    "hard_posterior",
    "posterior_success",
    "population_success",
    "patterns",
    "pattern_probability",
    "log_value",
    "route",
    "fixed_tiers",
    "fixed_table",
    "routed_accuracy",
    "routed_cost",
    "fixed_accuracy",
    # the reward
    "normalized_cost",
    "cost_efficiency",
    "router_reward",
]
