"""What a parameter sweep of the knapsack model needs: :data:`SWEEP`.

A point is one batch (:func:`sim.knapsack.core.simulate_batch`): per
allocator, the simulated effective-gradient ratio against its expectation,
``docs/models/knapsack.md (12)``. Every field of
:class:`theory.knapsack.KnapsackSimParams` but ``mixture`` can be swept, and
``rates``, a file of true success rates (a column ``p``, as ``--rates`` of
``python -m sim.knapsack``), replaces the population; with a file,
``prompts`` must be its number of rows, so that every row of the sweep tells
the batch it ran.
"""

from __future__ import annotations

import functools
import os
import pathlib

from sim.interface import Param, SweepModel, params_of
from sim.knapsack.core import cost as _batch_cost
from sim.knapsack.core import simulate_batch
from sim.knapsack.plot import plot_sweep
from sim.knapsack.rates import load_rates
from theory.knapsack import KnapsackSimParams

__all__ = ["SWEEP", "point", "plot", "validate", "cost"]

#: Batch replicates of one sweep point.
TRIALS = 500


@functools.lru_cache(maxsize=16)
def _rates(path, mtime_ns, size):
    """The rates of a file, read once per version of it."""
    return load_rates(path)


def _load(path):
    st = os.stat(path)
    return _rates(path, st.st_mtime_ns, st.st_size)


def _scenario(values):
    """``(params, rates)`` of a point; ``rates`` is None without a file."""
    values = dict(values)
    path = values.pop("rates", None)
    rates = None if path is None else _load(path)
    if rates is not None and values["prompts"] != rates.size:
        raise ValueError(f"prompts must be the number of rates in {path} ({rates.size}) when "
                         f"rates is given, got {values['prompts']}; pass --prompts "
                         f"{rates.size}")
    return KnapsackSimParams(**values), rates


def point(values, seed, trials, backend):
    """One sweep point: ``quantity``, ``theory``, ``estimate``, ``se`` per allocator."""
    params, rates = _scenario(values)
    df = simulate_batch(params, rates, trials, seed, backend, allow=True)[0]  # sized by cost
    df["quantity"] = "effective_gradient_ratio"
    df["theory"] = df["egr_expected"]
    df["estimate"] = df["egr_sim"]
    df["se"] = df["egr_se"]
    return df


def plot(df, manifest, ax=None):
    """The sweep figure, :func:`sim.knapsack.plot.plot_sweep`."""
    return plot_sweep(df, manifest, ax)


def cost(values, trials):
    """One point's size for :func:`sim.guard.check` (:func:`sim.knapsack.core.cost`)."""
    params, _ = _scenario(values)
    return _batch_cost(params, trials)


def validate(values):
    """Raise the scenario's one-line error when ``values`` is not a valid point."""
    _scenario(values)


SWEEP = SweepModel("knapsack", params_of(KnapsackSimParams, skip=("mixture",),
                                         kinds={"budget": int})
                   + (Param("rates", pathlib.Path, None),),
                   point, trials=TRIALS, plot=plot, validate=validate, cost=cost)
