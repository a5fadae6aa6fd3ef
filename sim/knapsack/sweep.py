"""What a parameter sweep of the knapsack model needs: :data:`SWEEP`.

A point is one batch (:func:`sim.knapsack.core.simulate`): per allocator, the
simulated effective-gradient ratio against its expectation,
``docs/models/knapsack.md (12)``. Every field of
:class:`theory.knapsack.KnapsackSimParams` but ``mixture`` can be swept.
"""

from __future__ import annotations

from sim.interface import SweepModel, params_of
from sim.knapsack.core import simulate
from sim.knapsack.plot import plot_sweep
from theory.knapsack import KnapsackSimParams

__all__ = ["SWEEP", "point", "plot", "validate"]

#: Batch replicates of one sweep point.
TRIALS = 500


def point(values, seed, trials, backend):
    """One sweep point: ``quantity``, ``theory``, ``estimate``, ``se`` per allocator."""
    df = simulate(KnapsackSimParams(**values), trials, seed, backend)
    df["quantity"] = "effective_gradient_ratio"
    df["theory"] = df["egr_expected"]
    df["estimate"] = df["egr_sim"]
    df["se"] = df["egr_se"]
    return df


def plot(df, manifest, ax=None):
    """The sweep figure, :func:`sim.knapsack.plot.plot_sweep`."""
    return plot_sweep(df, manifest, ax)


def validate(values):
    """Raise the scenario's one-line error when ``values`` is not a valid point."""
    KnapsackSimParams(**values)


SWEEP = SweepModel("knapsack", params_of(KnapsackSimParams, skip=("mixture",),
                                         kinds={"budget": int}),
                   point, trials=TRIALS, plot=plot, validate=validate)
