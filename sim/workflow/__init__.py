"""The workflow model: DAGs of LLM subtasks under a budget and a deadline, and the MCPP planner.

Wang et al., "On Time, Within Budget: Constraint-Driven Online Resource
Allocation for Agentic Workflows", arXiv 2605.06110 (2026). The model, its
numbered equations and a tour of the command line and this API are in
``docs/models/workflow.md``; the closed forms are in :mod:`theory.workflow`.

* :func:`simulate` (:func:`evaluate`, :func:`grid`) -- every policy's
  completion probability on one workflow, with intervals, cost and time, the
  exact value beside it where there is one;
* workflows (:mod:`sim.workflow.graph`): :func:`synthetic`, :func:`load_workflow`,
  :func:`load_records`;
* the executor (:func:`run_episode`), the planner (:class:`MCPP`) and the
  baselines (:func:`fixed_policy`, :class:`LoaderDual`);
* the rollout kernel: NumPy reference, Numba and array kernel (NumPy or CuPy)
  on one counter layout (:mod:`sim.workflow.layout`);
* :func:`plot_policies`, :func:`plot_surface`, :func:`plot_advantage` -- figures;
* :data:`SWEEP` -- what ``python -m sim.sweep workflow`` needs.

``Params`` is :class:`theory.workflow.WorkflowParams`; its defaults are the
command line's (``python -m sim.workflow``).
"""

from sim.workflow.core import DEFAULT_TRIALS, evaluate, exact_seq, grid, run_kernel, simulate
from sim.workflow.encode import encode, make_plans, start_state, with_levels
from sim.workflow.executor import Episode, View, policy_key, run_episode
from sim.workflow.graph import Workflow, from_parents, load_records, load_workflow, synthetic
from sim.workflow.planner import MCPP, Decision, candidate_actions
from sim.workflow.plot import plot_advantage, plot_policies, plot_surface
from sim.workflow.policies import Fixed, LoaderDual, fixed_policy, loader_plan
from sim.workflow.sweep import SWEEP
from theory.workflow import WorkflowParams

#: The model's name (:mod:`sim.registry`).
NAME = "workflow"
#: The model's parameter class (:class:`sim.interface.Model`).
Params = WorkflowParams

__all__ = [
    "NAME", "Params", "WorkflowParams", "SWEEP", "DEFAULT_TRIALS",
    "simulate", "evaluate", "grid", "exact_seq", "run_kernel",
    "Workflow", "synthetic", "load_workflow", "load_records", "from_parents",
    "encode", "with_levels", "start_state", "make_plans",
    "run_episode", "policy_key", "View", "Episode",
    "MCPP", "Decision", "candidate_actions",
    "Fixed", "LoaderDual", "fixed_policy", "loader_plan",
    "plot_policies", "plot_surface", "plot_advantage",
]
