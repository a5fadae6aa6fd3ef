"""What a parameter sweep of the workflow model needs: :data:`SWEEP`.

One sweep point is :func:`sim.workflow.core.simulate` at the point's
:class:`theory.workflow.WorkflowParams`: a row per policy whose ``estimate`` is
the simulated completion probability with its binomial standard error and
whose ``theory`` is the exact value where there is one
(``docs/models/workflow.md`` (22), (23)). Every scalar field can be swept
(``k_values`` and ``policies`` are fixed per sweep):
``python -m sim.sweep workflow --budget 100:400:4 --out DIR``.
"""

from __future__ import annotations

from sim.interface import SweepModel, params_of
from sim.workflow.core import cost as _cost
from sim.workflow.core import simulate
from sim.workflow.graph import synthetic
from sim.workflow.plot import plot_sweep
from theory.workflow import WorkflowParams

__all__ = ["SWEEP", "TRIALS", "point", "validate", "cost"]

#: Episodes per policy at one sweep point.
TRIALS = 50


def point(values, seed, trials, backend):
    """One sweep point: ``quantity``, ``theory``, ``estimate``, ``se`` per policy."""
    df = simulate(WorkflowParams(**values), trials, seed, backend, allow=True)  # sized by cost
    df["quantity"] = "completion"
    df["estimate"] = df["success"]
    return df


def validate(values):
    """Raise the one-line error of :class:`theory.workflow.WorkflowParams` for an invalid point."""
    WorkflowParams(**values)


def cost(values, trials):
    """One point's size for :func:`sim.guard.check` (:func:`sim.workflow.core.cost`)."""
    params = WorkflowParams(**values)
    return dict(_cost(synthetic(params), params, trials, params.policies), param="trials")


SWEEP = SweepModel("workflow", params_of(WorkflowParams, skip=("k_values", "policies"),
                                         kinds={"p": float, "latency": float,
                                                "latency_sd": float, "cost": float,
                                                "max_candidates": int}),
                   point, trials=TRIALS, plot=plot_sweep, validate=validate, cost=cost)
