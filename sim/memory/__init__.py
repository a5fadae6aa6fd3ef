"""The memory model: budget-tier routing of a memory pipeline.

Zhang et al., "BudgetMem", arXiv 2602.06025. Each module of a memory
pipeline runs at a Low, Mid or High tier; choosing one tier per module within
a budget is a multiple-choice knapsack, and a router that reads each query's
difficulty chooses per query. The model, its numbered equations and a tour
of the command line and this API are in ``docs/models/memory.md``; the
closed forms are in :mod:`theory.memory`.

* :func:`simulate` -- every policy (fixed tiers, the exact and the greedy
  router, an oracle) at every budget on the same simulated queries, the
  realised accuracy and cost beside their exact values;
* :func:`run_queries` -- the query kernel (NumPy reference, Numba, CuPy);
* :func:`policy_tables` -- the policies' routing tables;
* :func:`allocate_tiers`, :func:`load_tiers`, :func:`instance_frontier` --
  one tier per module from a table of (module, tier, cost, accuracy);
* :func:`plot_frontier`, :func:`plot_instance` -- figures;
* :data:`SWEEP` -- what ``python -m sim.sweep memory`` needs.

``Params`` is :class:`theory.memory.MemoryParams`; its defaults are the
command line's (``python -m sim.memory``).
"""

from sim.memory.allocate import (
    ALLOCATE_SOLVERS,
    OBJECTIVES,
    allocate_tiers,
    instance_frontier,
    load_tiers,
    tier_instance,
)
from sim.memory.core import DEFAULT_TRIALS, run_queries, simulate
from sim.memory.plot import plot_frontier, plot_instance
from sim.memory.policies import POLICIES, policy_tables, tier_label
from sim.memory.sweep import SWEEP
from theory.memory import MemoryParams

#: The model's name (:mod:`sim.registry`).
NAME = "memory"
#: The model's parameter class (:class:`sim.interface.Model`).
Params = MemoryParams

__all__ = [
    "NAME",
    "Params",
    "MemoryParams",
    "SWEEP",
    "DEFAULT_TRIALS",
    "POLICIES",
    "OBJECTIVES",
    "ALLOCATE_SOLVERS",
    "simulate",
    "run_queries",
    "policy_tables",
    "tier_label",
    "allocate_tiers",
    "load_tiers",
    "tier_instance",
    "instance_frontier",
    "plot_frontier",
    "plot_instance",
]
