"""The sweep figure of each model, drawn from collected rows; helpers the models share."""

from __future__ import annotations

import pandas as pd

from sim.sweep.spec import sweep_model
from sim.sweep.store import collect, read_manifest


def plot_sweep(out_or_df, manifest=None, ax=None):
    """Draw the model's standard figure from a sweep directory (or collected rows).

    phase: heat map of the simulated root accuracy over (rho, gamma) with the
    theoretical critical line; bbam: accuracy-token frontier over budgets;
    knapsack: EGR against the first axis per allocator; coop: effort against
    loyalty per team size; gamma: budget adherence against the first axis per
    decoding rule. Axes outside the figure are held at their first value.
    Draws on ``ax`` (new axes when None) and returns the axes.
    """
    if isinstance(out_or_df, pd.DataFrame):
        df, man = out_or_df, manifest
    else:
        df, man = collect(out_or_df), read_manifest(out_or_df)
    if df.empty:
        raise ValueError("the sweep has no finished points to plot")
    if not man["axes"]:
        raise ValueError("a figure needs at least one parameter with a range")
    from sim._plot import axes_or_new

    return sweep_model(man["model"]).plot(df, man, axes_or_new(ax))

