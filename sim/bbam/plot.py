"""Figures of the bbam model: ``plot_x(df, ax=None, ...) -> Axes``."""

from __future__ import annotations

import math

import numpy as np

from sim._plot import axes_or_new

__all__ = ["plot_frontier", "plot_law_fit"]

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


def plot_law_fit(fits, data, ax=None, by=None):
    """Observed accuracy against budget with the fitted law, one colour per label.

    Parameters
    ----------
    fits : pandas.DataFrame
        Rows of :func:`sim.bbam.lawfit.fit_table` (``c``, ``beta``, ``u`` and
        the label column ``by``).
    data : pandas.DataFrame
        Rows of :func:`sim.bbam.lawfit.aggregate` (``budget``, ``n``, ``k``,
        and ``label`` with labels).
    ax : matplotlib.axes.Axes, optional
    by : str, optional
        Name of the label column of ``fits``.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Points are ``k/n`` with 95% Wilson intervals; lines are
    ``1 - min(1, c b**-beta + u)`` (docs/models/bbam.md (17)) over the budgets
    of the data, on a logarithmic budget axis.
    """
    from scipy import stats

    from sim._plot import plain_log_axis
    from theory.bbam import law_success

    ax = axes_or_new(ax, 7.0, 4.4)
    labelled = "label" in data.columns
    groups = data.groupby("label", sort=True) if labelled else [(None, data)]
    z = float(stats.norm.ppf(0.975))
    for i, (label, g) in enumerate(groups):
        row = fits.iloc[i] if not labelled else fits[fits[by] == label].iloc[0]
        colour = f"C{i % 10}"
        n, k = g["n"].to_numpy(float), g["k"].to_numpy(float)
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        yerr = np.maximum(0.0, [p - (centre - half), centre + half - p])
        ax.errorbar(g["budget"], p, yerr=yerr, fmt="o",
                    ms=3.5, color=colour, capsize=2, lw=0.8)
        bb = np.geomspace(g["budget"].min(), g["budget"].max(), 200)
        name = "all" if label is None else f"{by} {label}"
        ax.plot(bb, law_success(bb, row["c"], row["beta"], row["u"]), "-", color=colour,
                lw=1.3, label=f"{name}: c={row['c']:.3g}, beta={row['beta']:.3g}, "
                              f"u={row['u']:.3g}")
    ax.set_xscale("log")
    plain_log_axis(ax, "x")
    ax.set_xlabel("budget b (tokens)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("accuracy and the fitted law (docs/models/bbam.md (17))", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.grid(True, alpha=0.3)
    return ax
