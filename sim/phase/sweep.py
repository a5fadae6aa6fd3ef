"""What a parameter sweep of the phase model needs (:data:`SWEEP`), and its empirical boundary.

A point is one :func:`sim.phase.simulate` run: one row per level with the
simulated accuracy (``estimate``) beside the closed form (``theory``). The
sweep figure is the phase diagram of the root rows; :func:`phase_boundary`
reads the empirical critical fidelity off a sweep.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim._plot import first_slice
from sim.interface import SweepModel, params_of
from sim.phase.core import cost, simulate
from sim.phase.plot import plot_phase_diagram
from sim.phase.summary import summary
from theory.phase import PhaseParams

__all__ = ["SWEEP", "SWEEP_TRIALS", "phase_boundary"]

#: Trees per sweep point.
SWEEP_TRIALS = 4096


def _point(values, seed, trials, backend):
    """One sweep point: the frame of :func:`sim.phase.simulate` with the sweep's columns."""
    df = simulate(PhaseParams(**values), trials, seed, backend, allow=True)  # sized by _cost
    df["quantity"] = "accuracy"
    df["theory"] = df["p_theory"]
    df["estimate"] = df["p_sim"]
    return df


def _plot(df, manifest, ax=None):
    """The sweep figure: the phase diagram of the root rows over the rho and gamma axes."""
    axes = manifest["axes"]
    if "rho" not in axes or "gamma" not in axes:
        raise ValueError("the phase figure needs ranges of both rho and gamma")
    df, _ = first_slice(df, axes, ("rho", "gamma"))  # further axes at their first value
    return plot_phase_diagram(df[df["level"] == df["depth"]], ax)


def _validate(values):
    PhaseParams(**values)


def _cost(values, trials):
    """One point's size for :func:`sim.guard.check`: :func:`sim.phase.core.cost`."""
    est = cost(PhaseParams(**values), trials)
    est["param"] = "trials * b**depth"
    est.pop("hint")
    return est


#: The phase model's sweep: every field of :class:`theory.phase.PhaseParams`.
SWEEP = SweepModel("phase", params_of(PhaseParams), _point, trials=SWEEP_TRIALS, plot=_plot,
                   validate=_validate, cost=_cost)


def phase_boundary(df):
    """Empirical critical fidelity of a phase sweep, next to the theory.

    For each setting of the parameters other than ``gamma`` the simulated
    root accuracy is compared with the leaf accuracy ``p0`` along ``gamma``:
    a tree that amplifies beats its leaves and one that washes out falls
    below them. The boundary is the ``gamma`` of the last upward crossing, by
    linear interpolation between grid points (derived here: at depth L the
    root keeps the leaves' bias exactly when the finite-depth gain is 1,
    which tends to ``alpha = 1``, paper Thm 4, as the leaf bias goes to 0).

    Parameters
    ----------
    df : pandas.DataFrame
        Collected rows of a phase sweep (``sim.sweep.collect``).

    Returns
    -------
    pandas.DataFrame
        One row per setting: ``gamma_emp`` (from ``estimate``),
        ``gamma_depth`` (the same crossing of the exact finite-depth theory
        column) and ``gamma_c`` (the model's critical fidelity from
        :func:`sim.phase.summary`, ``docs/models/phase.md (11)``); NaN where
        the grid has no crossing.
    """
    root = df[df["level"] == df["depth"]]
    keys = [p.name for p in params_of(PhaseParams) if p.name != "gamma"]
    rows = []
    for vals, g in root.groupby(keys, sort=True):
        g = g.sort_values("gamma")
        setting = dict(zip(keys, vals))
        p0 = setting["p0"]
        row = dict(setting)
        for col, out in (("estimate", "gamma_emp"), ("theory", "gamma_depth")):
            y = g[col].to_numpy() - p0
            x = g["gamma"].to_numpy()
            below = np.flatnonzero(y[:-1] < 0)
            below = below[y[below + 1] >= 0]
            if below.size:
                i = below[-1]
                row[out] = float(x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i]))
            else:
                row[out] = math.nan
        params = PhaseParams(**{k: (v.item() if hasattr(v, "item") else v)
                                for k, v in setting.items()}, gamma=1.0)
        row["gamma_c"] = summary(params)["gamma_c"]
        rows.append(row)
    return pd.DataFrame(rows)
