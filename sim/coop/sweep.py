"""What a parameter sweep of the coop model needs (:data:`SWEEP`).

A sweep point is one symmetric team (common loyalty ``theta``) played
repeatedly by ``trials`` copies (:func:`sim.coop.simulate`); its row sets
the equilibrium mean effort (docs/models/coop.md (14)) beside the mean effort
after the last round.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from sim.coop.core import NOISE, ROUNDS, simulate
from sim.coop.core import cost as _cost
from sim.interface import Param, SweepModel, params_of
from theory._params import check_int, check_real
from theory.coop import DEFAULT_THETA, CoopParams, solve

__all__ = ["SWEEP", "TRIALS", "point", "validate", "cost", "plot"]

#: Default teams per sweep point.
TRIALS = 2000
_FIELDS = {f.name for f in dataclasses.fields(CoopParams)}


def _team(values):
    """The team of a point (``theta`` common to all members) and the play settings."""
    v = dict(values)
    n, theta = v.pop("n"), v.pop("theta")
    rounds = check_int("rounds", v.pop("rounds"), 1)
    noise = check_real("noise", v.pop("noise"), 0.0, math.inf, hi_open=True)
    params = CoopParams(n=n, theta=(theta,) * n, **{k: x for k, x in v.items() if k in _FIELDS})
    return params, rounds, noise


def point(values, seed, trials, backend):
    """One sweep point: the equilibrium mean effort and that of repeated play after the last round.

    Returns
    -------
    pandas.DataFrame
        One row: ``quantity`` (``"mean_effort"``), ``theory``, ``estimate``,
        ``se`` (over teams), ``aggregate_gap`` and ``unique`` (whether the
        equilibrium's individual efforts are determined).
    """
    params, rounds, noise = _team(values)
    last = simulate(params, trials, seed, backend, rounds=rounds, noise=noise,
                    allow=True).iloc[-1]  # sized by cost
    return pd.DataFrame(dict(quantity=["mean_effort"], theory=[float(last["theory"])],
                             estimate=[float(last["estimate"])], se=[float(last["se"])],
                             aggregate_gap=[float(last["aggregate_gap"])],
                             unique=[bool(solve(params).unique)]))


def validate(values):
    """Raise the model's one-line error when ``values`` is not a valid point."""
    _team(values)


def cost(values, trials):
    """One point's size for :func:`sim.guard.check` (:func:`sim.coop.core.cost`)."""
    params, rounds, _ = _team(values)
    est = _cost(params, trials, rounds)
    est["param"] = "trials * rounds * n"
    return est


def plot(df, manifest, ax=None):
    """Effort against loyalty: equilibrium (lines) and repeated play (points), per team size."""
    from sim._plot import axes_or_new, plot_xy

    if "theta" not in manifest["axes"]:
        raise ValueError("the coop figure (effort against loyalty) needs a range of theta")
    axes = {"theta": manifest["axes"]["theta"],
            **{k: v for k, v in manifest["axes"].items() if k != "theta"}}
    group = "n" if "n" in axes else "welfare_mode"
    return plot_xy(df, dict(manifest, axes=axes), axes_or_new(ax), "mean effort per member",
                   "coop: equilibrium (lines, docs/models/coop.md (14)) and repeated play "
                   "(points)", log=True, group=group)


SWEEP = SweepModel(
    "coop",
    (Param("theta", float, DEFAULT_THETA), *params_of(CoopParams, skip=("theta", "D")),
     Param("noise", float, NOISE), Param("rounds", int, ROUNDS)),
    point, trials=TRIALS, plot=plot, validate=validate, cost=cost)
