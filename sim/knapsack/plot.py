"""Figures of the knapsack model: ``plot_x(df, ax=None, ...) -> Axes``.

* :func:`plot_allocation` -- rollouts per prompt against the estimated
  success rate, one marker per allocator (the frame of
  :func:`sim.knapsack.core.allocation_table`);
* :func:`plot_training` -- a metric of the toy training run over epochs, one
  line per allocator (the frame of :func:`sim.knapsack.training.simulate_training`);
* :func:`plot_sweep` -- the sweep figure: expected and simulated
  effective-gradient ratio per allocator against the first swept parameter.

They draw on the axes given (new axes of the current pyplot figure when
``ax`` is None) and choose no backend; ``python -m sim.knapsack --plot`` makes
its own figure.
"""

from __future__ import annotations

from sim._plot import axes_or_new, plain_log_axis, plot_xy

__all__ = ["plot_allocation", "plot_training", "plot_sweep", "STYLE"]

#: Colour, marker and line style of each allocator, shared by every knapsack figure.
STYLE = {
    "uniform": dict(color="0.35", marker="_", ls="-"),
    "uniform-2x": dict(color="0.6", marker="|", ls="--"),
    "knapsack": dict(color="C0", marker="o", ls="-"),
    "knapsack-reference": dict(color="C3", marker="x", ls="-."),
    "knapsack-no-fallback": dict(color="C2", marker="^", ls=":"),
}
_OTHER = dict(color="C4", marker=".", ls="-")

_LABELS = {
    "egr": "effective-gradient ratio (realised)",
    "prompt_ratio": "effective-prompt ratio (realised)",
    "mean_p": "mean success rate",
    "stuck": "fraction of prompts with p < 0.01",
    "max_budget": "largest rollouts per prompt",
}


def plot_allocation(table, ax=None, allocators=None):
    """Rollouts per prompt against the estimated success rate, one marker per allocator.

    Parameters
    ----------
    table : pandas.DataFrame
        ``allocator``, ``p_hat`` and ``N`` per prompt
        (:func:`sim.knapsack.core.allocation_table`).
    ax : matplotlib.axes.Axes or None
    allocators : sequence of str or None
        Which allocators to draw, in this order (default: all, in table order).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 5.0, 3.6)
    names = list(dict.fromkeys(table["allocator"])) if allocators is None else list(allocators)
    for name in names:
        rows = table[table["allocator"] == name]
        st = STYLE.get(name, _OTHER)
        if st["marker"] in ("x", "_", "|", "."):  # line markers: no face to leave open
            colors = dict(c=st["color"])
        else:
            colors = dict(facecolors="none", edgecolors=st["color"])
        ax.scatter(rows["p_hat"], rows["N"], s=16, marker=st["marker"], linewidths=0.9,
                   label=name, alpha=0.8, zorder=3, **colors)
    ax.set_xlabel(r"estimated success rate $\hat p$")
    ax.set_ylabel(r"rollouts per prompt $N_i$")
    ax.set_xlim(-0.02, 1.02)
    ax.set_yscale("log")
    plain_log_axis(ax, "y")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_training(train, ax=None, metric="egr"):
    """A metric of the toy training run over epochs, one line per allocator.

    Parameters
    ----------
    train : pandas.DataFrame
        ``allocator``, ``epoch`` and the metric
        (:func:`sim.knapsack.training.simulate_training`).
    ax : matplotlib.axes.Axes or None
    metric : str, default "egr"
        A column: ``egr``, ``prompt_ratio``, ``mean_p``, ``stuck`` or
        ``max_budget``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in train.columns:
        raise ValueError(f"metric must be a column of the training frame "
                         f"({', '.join(_LABELS)}), got {metric!r}")
    ax = axes_or_new(ax, 5.0, 3.6)
    for name, g in train.groupby("allocator", sort=False):
        st = STYLE.get(name, _OTHER)
        ax.plot(g["epoch"], g[metric], color=st["color"], ls=st["ls"], marker=st["marker"],
                ms=4, lw=1.3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(_LABELS.get(metric, metric))
    if metric in ("egr", "prompt_ratio", "mean_p", "stuck"):
        ax.set_ylim(0, 1)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_sweep(df, manifest, ax=None):
    """Expected (lines) and simulated (points, 95% intervals) EGR per allocator, first axis.

    The expectation is ``docs/models/knapsack.md (12)``. Swept parameters
    other than the first are held at their first value and named in the
    title; a random design has no lines, only points.

    Parameters
    ----------
    df : pandas.DataFrame
        Collected sweep rows (``name``, ``theory``, ``estimate``, ``se`` and
        the swept parameters).
    manifest : dict
        The sweep's manifest (``axes``: parameter -> values; ``design``).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    def style(name, i):
        st = STYLE.get(name, _OTHER)
        return dict(color=st["color"], ls=st["ls"], marker=st["marker"])

    return plot_xy(df, manifest, axes_or_new(ax, 5.0, 3.6),
                   "effective-gradient ratio (95% interval)", "expected and simulated EGR",
                   group="name", style=style, theory_label="expected")
