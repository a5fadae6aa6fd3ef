"""Figures of the bbam model: ``plot_x(df, ax=None, ...) -> Axes``."""

from __future__ import annotations

import math

import numpy as np

from sim._plot import axes_or_new

__all__ = ["plot_frontier"]

#: Line style of each allocator: dashed and dotted black for the baselines,
#: circles for the two closed forms, solid colours for the schedules.
STYLES = {"uniform": "k--", "global": "k:", "paper": "C3-o", "exact": "C0-o", "oracle": "C0:",
          "constant": "C1-", "linear": "C2-", "polynomial": "C4-", "exponential": "C5-",
          "cosine": "C6-"}


def plot_frontier(df, ax=None):
    """Accuracy against tokens per allocator over budgets, with iso-E3 curves.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`sim.bbam.frontier` (``name``, ``tokens``,
        ``accuracy``, ``e3``, ``budget``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (new axes of the current pyplot figure if None).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The grey curves are ``A = sqrt(E3 T)`` at the quartiles of the E3 values
    drawn (docs/models/bbam.md (9)). The legend sits outside the axes, right
    of them, so that it hides no curve and no label.
    """
    ax = axes_or_new(ax, 7.0, 4.8)
    tmax = df["tokens"].max() * 1.05
    tt = np.linspace(1.0, tmax, 200)
    for level in np.quantile(df["e3"].dropna(), [0.25, 0.5, 0.75]):
        ax.plot(tt, np.sqrt(level * tt), color="0.85", lw=0.8, zorder=0)
        ax.annotate(f"E3={level:.2f}", (tt[-1], math.sqrt(level * tt[-1])), fontsize=7,
                    color="0.5", ha="right", va="bottom")
    for name, g in df.groupby("name", sort=False):
        g = g.sort_values("tokens")
        ax.plot(g["tokens"], g["accuracy"], STYLES.get(name, "-"), ms=3, lw=1.3, label=name)
    ax.set_xlabel("mean tokens per question T")
    ax.set_ylabel("accuracy A (%)")
    ax.set_ylim(0, min(100, df["accuracy"].max() * 1.1 + 1))
    ax.set_xlim(0, tmax)
    ax.set_title("accuracy-token frontier by allocator (budgets "
                 + ", ".join(f"{b:g}" for b in sorted(df["budget"].unique())) + ")", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              title="allocator", title_fontsize=7)
    ax.grid(True, alpha=0.3)
    return ax
