"""Figures of the search model: ``plot_x(df, ax=None, ...) -> Axes``.

* :func:`plot_success` -- success against the tool budget per rule, with 95 %
  intervals and the closed forms where they exist (the frame of
  :func:`sim.search.core.budget_curve`);
* :func:`plot_tokens` -- tokens spent against the tool budget per rule;
* :func:`plot_map` -- the advantage map of one ``p``: the difference of
  success rates of two rules over critic noise and budget, with verdicts
  (the frame of :func:`sim.search.compare.advantage_map`);
* :func:`plot_sweep` -- the sweep figure: success per rule against the first
  swept parameter.

They draw on the axes given (new axes of the current pyplot figure when
``ax`` is None) and choose no backend; ``python -m sim.search --plot`` makes
its own figure.
"""

from __future__ import annotations

import numpy as np

from sim._plot import axes_or_new, plot_xy

__all__ = ["STYLE", "plot_success", "plot_tokens", "plot_map", "plot_sweep"]

#: Colour, marker and line style of each rule, shared by every search figure.
STYLE = {
    "majority": dict(color="0.35", marker="s", ls="--"),
    "greedy": dict(color="C2", marker="^", ls=":"),
    "softmax": dict(color="C1", marker="v", ls="-."),
    "bavt": dict(color="C0", marker="o", ls="-"),
}
_OTHER = dict(color="C4", marker=".", ls="-")


def _rules(df):
    return list(dict.fromkeys(df["name"]))


def plot_success(df, ax=None):
    """Success against the tool budget, one line per rule, 95 % Wilson intervals.

    The closed forms (docs/models/search.md (14), (17)) are drawn as thin
    lines where the frame's ``theory`` is finite.

    Parameters
    ----------
    df : pandas.DataFrame
        ``name``, ``budget``, ``success``, ``ci_low``, ``ci_high``, ``theory``
        (:func:`sim.search.core.budget_curve`).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 5.0, 3.6)
    for name in _rules(df):
        g = df[df["name"] == name].sort_values("budget")
        st = STYLE.get(name, _OTHER)
        err = np.vstack([g["success"] - g["ci_low"], g["ci_high"] - g["success"]])
        ax.errorbar(g["budget"], g["success"], yerr=err, color=st["color"], ls=st["ls"],
                    marker=st["marker"], ms=4, lw=1.3, capsize=2, label=name)
        th = g[np.isfinite(g["theory"])]
        if not th.empty:
            ax.plot(th["budget"], th["theory"], color=st["color"], lw=0.8, alpha=0.6,
                    label=f"{name}: closed form")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(df["budget"].unique()))
    ax.set_xticklabels([f"{b:g}" for b in sorted(df["budget"].unique())])
    ax.set_xlabel("tool budget (token budget in proportion)")
    ax.set_ylabel("success (95% interval)")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax


def plot_tokens(df, ax=None):
    """Mean tokens spent against the tool budget, one line per rule (and the token budget)."""
    ax = axes_or_new(ax, 5.0, 3.6)
    for name in _rules(df):
        g = df[df["name"] == name].sort_values("budget")
        st = STYLE.get(name, _OTHER)
        ax.plot(g["budget"], g["tokens_mean"], color=st["color"], ls=st["ls"],
                marker=st["marker"], ms=4, lw=1.3, label=name)
    cap = df.drop_duplicates("budget").sort_values("budget")
    ax.plot(cap["budget"], cap["token_budget"], color="k", lw=0.8, ls=":", label="token budget")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xticks(sorted(df["budget"].unique()))
    ax.set_xticklabels([f"{b:g}" for b in sorted(df["budget"].unique())])
    ax.set_xlabel("tool budget")
    ax.set_ylabel("tokens spent per run")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax


def plot_map(df, ax=None, p=None, rule="bavt", against="majority"):
    """The difference of success ``rule - against`` over noise and budget at one ``p``.

    Cells are coloured by the difference (blue: ``rule`` better) and marked
    with the verdict of :func:`sim.search.compare.advantage_map`: ``+``
    (``rule`` wins), ``-`` (``against`` wins), ``=`` (within the verdict's
    standard errors).

    Parameters
    ----------
    df : pandas.DataFrame
        The map's frame.
    ax : matplotlib.axes.Axes or None
    p : float or None
        The slice; ``None`` takes the first ``p`` of the frame.
    rule, against : str
        The two rules of the map.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 4.0, 3.4)
    p = df["p"].iloc[0] if p is None else p
    g = df[np.isclose(df["p"], p)]
    noises = sorted(g["noise"].unique())
    budgets = sorted(g["budget"].unique())
    grid = np.full((len(noises), len(budgets)), np.nan)
    marks = {}
    for r in g.itertuples():
        i, j = noises.index(r.noise), budgets.index(r.budget)
        grid[i, j] = r.diff
        marks[i, j] = "+" if r.verdict == rule else "-" if r.verdict == against else "="
    ax.imshow(grid, cmap="RdBu", vmin=-1, vmax=1, origin="lower", aspect="auto")
    for (i, j), m in marks.items():
        ax.text(j, i, f"{grid[i, j]:+.2f}\n{m}", ha="center", va="center", fontsize=7,
                color="white" if abs(grid[i, j]) > 0.5 else "black")
    ax.set_xticks(range(len(budgets)), [f"{b:g}" for b in budgets])
    ax.set_yticks(range(len(noises)), [f"{n:g}" for n in noises])
    ax.set_xlabel("tool budget")
    ax.set_ylabel("critic noise")
    ax.set_title(f"{rule} - {against}, p = {p:g}", fontsize=9)
    return ax


def plot_sweep(df, manifest, ax=None):
    """Simulated success (points, 95 % intervals) and closed forms (lines) per rule.

    The sweep figure, against the first swept parameter; other swept
    parameters are held at their first value and named in the title.
    """
    def style(name, i):
        st = STYLE.get(name, _OTHER)
        return dict(color=st["color"], ls=st["ls"], marker=st["marker"])

    return plot_xy(df, manifest, axes_or_new(ax, 5.0, 3.6), "success (95% interval)",
                   "success per rule at equal budget", group="name", style=style,
                   theory_label="closed form")
