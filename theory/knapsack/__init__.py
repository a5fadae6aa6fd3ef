"""Closed forms and allocators of Knapsack RL: rollout-budget allocation for GRPO.

Li, Chen, Yang, Ding, Sun, Zhang, Huang and Luo, "Knapsack RL: Unlocking
Exploration of LLMs via Optimizing Budget Allocation", arXiv 2509.25849
(2025); the authors' code is https://github.com/liziniu/KnapsackRL. The model,
its numbered equations and their provenance are in ``docs/models/knapsack.md``;
every docstring cites an equation there as ``docs/models/knapsack.md (N)``.

* :mod:`~theory.knapsack.params` -- :class:`KnapsackParams` (one allocation)
  and :class:`KnapsackSimParams` (the simulated scenario, the model's
  parameter class);
* :mod:`~theory.knapsack.value` -- ``f(N, p)``, its marginal gain, InfoGain,
  the task value and the knapsack objective;
* :mod:`~theory.knapsack.coverage` -- the first mixed position ``T``: its
  survival, mean, high-probability and exact budgets, the fallback's costs;
* :mod:`~theory.knapsack.ratios` -- expected effective-gradient and
  effective-prompt ratios of an allocation;
* :mod:`~theory.knapsack.grpo` -- GRPO advantages with variable group size;
* :mod:`~theory.knapsack.greedy`, :mod:`~theory.knapsack.lagrangian`,
  :mod:`~theory.knapsack.dp` -- exact solvers of the knapsack;
* :mod:`~theory.knapsack.reference` -- the port of the authors' allocator;
* :mod:`~theory.knapsack.allocate` -- one batch's allocation (uniform, clean
  knapsack with fallback, or the port);
* :mod:`~theory.knapsack.duet` -- DUET under a token budget: the
  cost-weighted Neyman allocation, its multiplier, the length cap, the
  informativeness surrogate, the stop and abort rule, the SNIPS weights and
  the gain over uniform (``docs/models/knapsack.md (22)-(32)``).

Public functions broadcast, return a ``float`` for scalar input, raise one-line
errors naming the parameter and its range, and (where their arguments are
fields of a parameter class) also take the parameter object:
``coverage_budget(KnapsackParams(alpha=0.5), p=0.1)``.
"""

from theory.knapsack.allocate import allocate, allocate_uniform
from theory.knapsack.coverage import (
    coverage_budget,
    exact_coverage_budget,
    expected_rollouts,
    first_mixed_survival,
    rollout_cost,
)
from theory.knapsack.dp import allocate_dp
from theory.knapsack.duet import (
    DuetParams,
    DuetSimParams,
    duet_allocate,
    neyman_allocation,
    neyman_gain,
    variance_ratio,
)
from theory.knapsack.greedy import SORT_MAX_ENTRIES, allocate_greedy, allocate_lagrangian
from theory.knapsack.grpo import expected_clipped_fraction, grpo_advantages, grpo_group_advantages
from theory.knapsack.params import (
    COSTS,
    FALLBACK_TRIGGERS,
    FALLBACKS,
    MODES,
    SOLVERS,
    WEIGHTS,
    KnapsackParams,
    KnapsackSimParams,
)
from theory.knapsack.ratios import effective_gradient_ratio, effective_prompt_ratio
from theory.knapsack.reference import allocate_reference
from theory.knapsack.value import (
    info_gain,
    marginal_gain,
    prob_nonzero_gradient,
    total_value,
    value,
)

__all__ = [
    "KnapsackParams",
    "KnapsackSimParams",
    "WEIGHTS",
    "SOLVERS",
    "FALLBACKS",
    "FALLBACK_TRIGGERS",
    "COSTS",
    "MODES",
    "SORT_MAX_ENTRIES",
    # closed forms
    "prob_nonzero_gradient",
    "marginal_gain",
    "info_gain",
    "value",
    "total_value",
    "first_mixed_survival",
    "expected_rollouts",
    "coverage_budget",
    "exact_coverage_budget",
    "rollout_cost",
    "effective_gradient_ratio",
    "effective_prompt_ratio",
    "grpo_advantages",
    "grpo_group_advantages",
    "expected_clipped_fraction",
    # allocators
    "allocate_greedy",
    "allocate_lagrangian",
    "allocate_dp",
    "allocate_uniform",
    "allocate_reference",
    "allocate",
    # DUET under a token budget (theory.knapsack.duet)
    "DuetParams",
    "DuetSimParams",
    "neyman_allocation",
    "duet_allocate",
    "neyman_gain",
    "variance_ratio",
]
