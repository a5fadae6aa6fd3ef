"""Closed forms of the workflow model: DAGs of LLM subtasks under a budget and a deadline.

Wang et al., "On Time, Within Budget: Constraint-Driven Online Resource
Allocation for Agentic Workflows", arXiv 2605.06110 (2026); the authors' code
is https://github.com/WangXinglin/MCPP. The model, its numbered equations and
their provenance are in ``docs/models/workflow.md``; every docstring cites an
equation there as ``docs/models/workflow.md (N)`` or ``(N)``.

* :mod:`~theory.workflow.params` -- :class:`WorkflowParams` (the model's
  parameter class), the shapes, laws, policies and the template library's
  statistics;
* :mod:`~theory.workflow.latency` -- the moment-matched latency laws with the
  floor, their quantiles and the mean time of a batch;
* :mod:`~theory.workflow.chain` -- Seq-k on chains (negative binomial,
  incomplete beta), fork-joins, ``mu H_k``;
* :mod:`~theory.workflow.loader` -- the LOADER surrogate and its Lambert-W
  optimum;
* :mod:`~theory.workflow.planner` -- the Hoeffding radius of the planner's
  estimates and the portfolio bound.
"""

from theory.workflow.chain import (
    batch_success,
    chain_success,
    chain_success_general,
    chain_success_sum,
    expected_max_exponential,
    fork_join_success,
    max_batches,
    seq_chain_success,
)
from theory.workflow.latency import (
    expected_max,
    gamma_params,
    latency_cdf,
    latency_quantile,
    latency_tail_quantile,
    law_moments,
    lognormal_params,
)
from theory.workflow.loader import (
    loader_integer,
    loader_r_star,
    node_objective,
    stationarity_residual,
    surrogate_cost,
    surrogate_delay,
)
from theory.workflow.params import (
    BASELINES,
    DEFAULT_K,
    DEFAULT_POLICIES,
    FLOOR,
    LAWS,
    LIBRARY,
    POLICIES,
    PRICES,
    SHAPES,
    TOKENS_PER_SECOND,
    WorkflowParams,
    check_k_values,
    parse_policy,
)
from theory.workflow.planner import hoeffding_radius, n_pairs, portfolio_lower_bound

__all__ = [
    "WorkflowParams", "SHAPES", "LAWS", "POLICIES", "BASELINES", "DEFAULT_POLICIES", "DEFAULT_K",
    "LIBRARY", "PRICES", "FLOOR", "TOKENS_PER_SECOND", "parse_policy", "check_k_values",
    # latency
    "lognormal_params", "gamma_params", "law_moments", "latency_cdf", "latency_quantile",
    "latency_tail_quantile", "expected_max",
    # chains and fork-joins
    "batch_success", "max_batches", "chain_success", "chain_success_sum", "seq_chain_success",
    "chain_success_general", "fork_join_success", "expected_max_exponential",
    # LOADER
    "surrogate_delay", "surrogate_cost", "node_objective", "loader_r_star", "loader_integer",
    "stationarity_residual",
    # planner
    "hoeffding_radius", "n_pairs", "portfolio_lower_bound",
]
