"""The knapsack model: allocating a batch's GRPO rollouts across prompts.

Li et al., "Knapsack RL: Unlocking Exploration of LLMs via Optimizing Budget
Allocation", arXiv 2509.25849. The model, its numbered equations and a tour of
the command line and this API are in ``docs/models/knapsack.md``; the closed
forms and allocators are in :mod:`theory.knapsack`.

* :func:`simulate` (:func:`simulate_batch`) -- one batch: true rates from the
  population or a file, stale estimates, every allocator, each allocation
  rolled out ``trials`` times, the realised effective-gradient and
  effective-prompt ratios beside their expectations;
* :func:`simulate_training` -- a toy GRPO training run under each allocator;
* :func:`mixed_groups` -- the rollout kernel (NumPy reference, Numba, CuPy),
  :func:`allocate_greedy_numba` -- the compiled greedy allocator;
* :func:`allocate_table` -- allocation on the user's own rates, exactly as
  given (the command ``python -m sim.knapsack allocate``), with the knapsack
  or DUET's allocator under a token budget;
* :func:`sampling_budget_by_knapsack` -- the drop-in for the KnapsackRL/verl
  trainer (``docs/integrations/verl.md``);
* :func:`simulate_duet` -- DUET's allocation and length axis beside the
  knapsack at equal token budget (``python -m sim.knapsack duet``);
* :func:`plot_allocation`, :func:`plot_training` -- figures;
* :data:`SWEEP` -- what ``python -m sim.sweep knapsack`` needs.

``Params`` is :class:`theory.knapsack.KnapsackSimParams`; its defaults are the
command line's (``python -m sim.knapsack``).
"""

from sim.knapsack.allocation import ALLOCATORS, TRAIN_ALLOCATORS, allocate_batch
from sim.knapsack.core import (
    DEFAULT_TRIALS,
    allocation_table,
    mixed_groups,
    simulate,
    simulate_batch,
)
from sim.knapsack.duet import DUET_ALLOCATORS, simulate_duet
from sim.knapsack.estimator import estimate_from_history, estimate_rates
from sim.knapsack.kernel_numba import allocate_greedy_numba
from sim.knapsack.plot import plot_allocation, plot_training
from sim.knapsack.population import sample_rates
from sim.knapsack.rates import load_rates
from sim.knapsack.sweep import SWEEP
from sim.knapsack.training import simulate_training
from sim.knapsack.userdata import allocate_table, read_table
from sim.knapsack.verl import sampling_budget_by_knapsack
from theory.knapsack import KnapsackSimParams

#: The model's name (:mod:`sim.registry`).
NAME = "knapsack"
#: The model's parameter class (:class:`sim.interface.Model`).
Params = KnapsackSimParams

__all__ = [
    "NAME",
    "Params",
    "KnapsackSimParams",
    "SWEEP",
    "DEFAULT_TRIALS",
    "ALLOCATORS",
    "TRAIN_ALLOCATORS",
    "simulate",
    "simulate_batch",
    "simulate_training",
    "mixed_groups",
    "allocate_greedy_numba",
    "allocate_batch",
    "allocation_table",
    "sample_rates",
    "estimate_rates",
    "estimate_from_history",
    "load_rates",
    "allocate_table",
    "read_table",
    "sampling_budget_by_knapsack",
    "simulate_duet",
    "DUET_ALLOCATORS",
    "plot_allocation",
    "plot_training",
]
