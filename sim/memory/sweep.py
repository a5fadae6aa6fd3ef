"""What a parameter sweep of the memory model needs: :data:`SWEEP`.

A point is one run at one budget (:func:`sim.memory.simulate`): per policy,
the simulated accuracy against its exact value, ``docs/models/memory.md
(12)``. Every scalar field of :class:`theory.memory.MemoryParams` can be swept
(not the per-tier tuples); a point that leaves ``budget`` unset runs at
:data:`BUDGET`.
"""

from __future__ import annotations

from sim.interface import Param, SweepModel, params_of
from sim.memory.core import cost as _cost
from sim.memory.core import simulate
from sim.memory.plot import plot_sweep
from theory.memory import MemoryParams

__all__ = ["SWEEP", "BUDGET", "TRIALS", "point", "plot", "validate", "cost"]

#: Queries of one sweep point.
TRIALS = 20_000
#: Budget per query of a sweep point (a sweep runs one budget per point).
BUDGET = 10


def point(values, seed, trials, backend):
    """One sweep point: ``quantity``, ``theory``, ``estimate``, ``se`` per policy."""
    df = simulate(MemoryParams(**values), trials, seed, backend, allow=True)  # sized by cost
    df["quantity"] = "accuracy"
    df["theory"] = df["accuracy"]
    df["estimate"] = df["accuracy_sim"]
    df["se"] = df["accuracy_se"]
    return df


def plot(df, manifest, ax=None):
    """The sweep figure, :func:`sim.memory.plot.plot_sweep`."""
    return plot_sweep(df, manifest, ax)


def validate(values):
    """Raise the pipeline's one-line error when ``values`` is not a valid point."""
    MemoryParams(**values)


_PARAMS = tuple(Param("budget", int, BUDGET) if p.name == "budget" else p
                for p in params_of(MemoryParams, skip=("costs", "easy", "hard")))

#: The memory model as :mod:`sim.sweep` runs it.
def cost(values, trials):
    """One point's size for :func:`sim.guard.check` (:func:`sim.memory.core.cost`)."""
    return dict(_cost(MemoryParams(**values), trials), param="trials")


SWEEP = SweepModel("memory", _PARAMS, point, trials=TRIALS, plot=plot, validate=validate,
                   cost=cost)
