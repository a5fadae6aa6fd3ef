"""What a parameter sweep of the search model needs: :data:`SWEEP`.

A point is :func:`sim.search.core.simulate`: a row per rule whose
``estimate`` is its success rate with the binomial standard error and whose
``theory`` is the closed form where one exists (docs/models/search.md (14),
(17)), else NaN. Every field of :class:`theory.search.SearchParams` can be
swept: ``python -m sim.search.sweep`` is not a command;
``python -m sim.sweep search --budget 5,10,20 --out DIR`` is.
"""

from __future__ import annotations

from sim.interface import SweepModel, params_of
from sim.search.core import simulate
from sim.search.plot import plot_sweep
from theory.search import SearchParams

__all__ = ["SWEEP", "TRIALS", "point", "plot", "validate"]

#: Runs per rule at one sweep point.
TRIALS = 2000


def point(values, seed, trials, backend):
    """One sweep point: ``quantity``, ``theory``, ``estimate``, ``se`` per rule."""
    df = simulate(SearchParams(**values), trials, seed, backend)
    df["quantity"] = "success"
    df["estimate"] = df["success"]
    return df


def plot(df, manifest, ax=None):
    """The sweep figure, :func:`sim.search.plot.plot_sweep`."""
    return plot_sweep(df, manifest, ax)


def validate(values):
    """Raise the one-line error of :class:`theory.search.SearchParams` for an invalid point."""
    SearchParams(**values)


SWEEP = SweepModel("search", params_of(SearchParams, kinds={"token_budget": int}), point,
                   trials=TRIALS, plot=plot, validate=validate)
