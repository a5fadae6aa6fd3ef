"""Figures of the memory model: ``plot_x(df, ax=None, ...) -> Axes``.

* :func:`plot_frontier` -- accuracy against mean cost per query, one curve
  per policy over the budgets of a run (the frame of
  :func:`sim.memory.simulate`), exact lines and simulated points;
* :func:`plot_instance` -- a file's tier choice against the budget: the
  exact optimum, the greedy choice and the relaxation's bound (the frame of
  :func:`sim.memory.instance_frontier`);
* :func:`plot_sweep` -- the sweep figure: exact and simulated accuracy per
  policy against the first swept parameter.

They draw on the axes given (new axes of the current pyplot figure when
``ax`` is None) and choose no backend; ``python -m sim.memory --plot`` makes
its own figure.
"""

from __future__ import annotations

import numpy as np

from sim._plot import axes_or_new, plot_xy

__all__ = ["STYLE", "plot_frontier", "plot_instance", "plot_sweep"]

#: Colour, marker and line style of each policy, shared by every memory figure.
STYLE = {
    "fixed": dict(color="0.35", marker="s", ls="-"),
    "router": dict(color="C0", marker="o", ls="-"),
    "router-greedy": dict(color="C1", marker="x", ls="--"),
    "oracle": dict(color="C2", marker="^", ls=":"),
}
_OTHER = dict(color="C4", marker=".", ls="-")


def plot_frontier(df, ax=None):
    """Accuracy against mean cost per query, one curve per policy, over a run's budgets.

    Lines join the exact points (``cost``, ``accuracy``,
    ``docs/models/memory.md (12)``, (13)) in order of budget; markers with 95 %
    intervals are the simulated ones (``cost_sim``, ``accuracy_sim``).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`sim.memory.simulate` (``name``, ``budget``, ``cost``,
        ``accuracy``, ``cost_sim``, ``accuracy_sim``, ``accuracy_se``).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 6.4, 4.2)
    for name, g in df.groupby("name", sort=False):
        st = STYLE.get(name, _OTHER)
        g = g.sort_values("budget")
        ax.plot(g["cost"], g["accuracy"], ls=st["ls"], color=st["color"], lw=1.3,
                drawstyle="default", label=f"{name}: exact")
        ax.errorbar(g["cost_sim"], g["accuracy_sim"], yerr=1.96 * g["accuracy_se"],
                    fmt=st["marker"], ms=3.5, color=st["color"], capsize=2, ls="none",
                    label=f"{name}: simulated")
    budgets = sorted(df["budget"].unique())
    span = f"{budgets[0]}" if len(budgets) == 1 else f"{budgets[0]}..{budgets[-1]}"
    ax.set_xlabel("mean cost per query")
    ax.set_ylabel("pipeline accuracy")
    ax.set_title(f"accuracy-cost frontier, budgets {span} per query "
                 "(docs/models/memory.md (12), (13))", fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.grid(True, alpha=0.3)
    return ax


def plot_instance(frame, ax=None, budget=None, objective="product"):
    """A tier-choice instance against the budget: optimum, greedy and the relaxation's bound.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of :func:`sim.memory.instance_frontier` (``budget``, ``dp``,
        ``greedy``, ``lp``), in the objective's units (accuracy for
        ``product``: the values are exponentiated here).
    ax : matplotlib.axes.Axes or None
    budget : float or None
        The budget asked for, marked by a vertical line.
    objective : {"product", "sum"}

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 6.0, 4.0)
    tf = np.exp if objective == "product" else (lambda x: x)
    b = frame["budget"].to_numpy()
    with np.errstate(over="ignore"):
        ax.plot(b, tf(frame["lp"].to_numpy()), color="0.6", ls=":", lw=1.2,
                label="linear relaxation (bound, (3))")
        ax.step(b, tf(frame["dp"].to_numpy()), where="post", color="C0", lw=1.5,
                label="exact optimum (4)")
        ax.step(b, tf(frame["greedy"].to_numpy()), where="post", color="C1", ls="--", lw=1.2,
                label="greedy choice (5)")
    if budget is not None:
        ax.axvline(budget, color="k", lw=0.8, alpha=0.6)
    ax.set_xlabel("budget")
    ax.set_ylabel("pipeline accuracy (product)" if objective == "product" else "total accuracy")
    ax.set_title("one tier per module: value against budget (docs/models/memory.md)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.3)
    return ax


def plot_sweep(df, manifest, ax=None):
    """The sweep figure: exact (lines) and simulated (points) accuracy per policy."""
    ax = axes_or_new(ax)
    return plot_xy(df, manifest, ax, "pipeline accuracy",
                   "memory: accuracy per policy (docs/models/memory.md (12))", group="name",
                   style=lambda name, i: STYLE.get(name, _OTHER))
