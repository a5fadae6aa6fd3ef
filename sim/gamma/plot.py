"""Figures of the gamma model: ``plot_x(data, ax=None, ...) -> Axes``.

* :func:`plot_lengths`: one decoding rule's simulated thinking lengths against
  its exact law (docs/models/gamma.md (18)), with the budget.
* :func:`plot_pit`: a histogram of randomised PIT values (docs/models/gamma.md
  (25)); flat at 1 when the predicted laws are calibrated.
* :func:`plot_comparison`: every rule of a :func:`sim.gamma.compare` frame, one
  panel each, and the PIT of the fitted predictor (the ``--plot`` figure).
* :func:`plot_fit`: observed lengths against a fitted Gamma law and its PIT
  (the ``--fit --plot`` figure).
* :func:`plot_adherence`: a sweep's exact and simulated adherence per rule
  (the ``python -m sim.sweep gamma --plot`` figure).

Functions draw on the axes they are given (or on new pyplot axes) and never
select a matplotlib backend; the command line makes and saves the figure.
"""

from __future__ import annotations

import math

import numpy as np

from sim._plot import axes_or_new, plain_log_axis, plot_xy
from theory import gamma as th

__all__ = ["plot_lengths", "plot_pit", "plot_comparison", "comparison_shape", "plot_fit",
           "plot_adherence",
           "SIM_COLOR", "EXACT_COLOR", "BUDGET_COLOR", "PIT_COLOR"]

#: Colours shared by the figures: simulated (bars), exact (lines), the budget.
SIM_COLOR = "#9ecae1"
EXACT_COLOR = "#08519c"
BUDGET_COLOR = "#cb181d"
PIT_COLOR = "#a1d99b"
_STYLES = ("-", "--", ":", "-.")
_MARKERS = "osD^vP"


def _length_edges(df, budget):
    laws = df.attrs["laws"]
    pooled = np.concatenate([lengths for _, lengths in laws.values()])
    top = int(min(4 * budget, max(np.quantile(pooled, 0.995), budget + 10)))
    return np.arange(0.5, top + 1.5, max(1, top // 60), dtype=float)


def plot_lengths(df, name, ax=None, edges=None):
    """Simulated lengths of rule ``name`` (bars) against its exact law (line).

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`sim.gamma.compare` or :func:`sim.gamma.simulate`
        (its ``attrs["laws"]`` holds each rule's exact pmf and simulated
        lengths).
    name : str
        The rule (a value of ``df["name"]``).
    ax : matplotlib.axes.Axes or None
    edges : ndarray or None
        Bin edges of the lengths; default: bins up to the 99.5 % quantile of
        all rules' lengths, at most four budgets.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 4.0, 3.0)
    row = df[df["name"] == name].iloc[0]
    budget = int(row["budget"])
    pmf, lengths = df.attrs["laws"][name]
    edges = _length_edges(df, budget) if edges is None else edges
    width = np.diff(edges)
    counts = np.histogram(lengths, bins=edges)[0]
    ax.bar(edges[:-1], counts / (lengths.size * width), width=width, align="edge",
           color=SIM_COLOR, label="simulated")
    cum = np.concatenate([[0.0], np.cumsum(pmf)])
    lo = np.clip(np.ceil(edges).astype(int) - 1, 0, pmf.size)
    mass = cum[np.clip(lo[1:], 0, pmf.size)] - cum[lo[:-1]]
    ax.stairs(mass / width, edges, color=EXACT_COLOR, lw=1.2, label="exact")
    ax.axvline(budget + 0.5, color=BUDGET_COLOR, ls="--", lw=1, label="budget")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, None)
    ax.set_title(name, fontsize=9)
    ax.text(0.97, 0.95, f"P(T ≤ b) = {row['adherence_exact']:.3f}\nE[T] = "
            f"{row['mean_length_exact']:.0f}", transform=ax.transAxes, ha="right", va="top",
            fontsize=7)
    ax.set_xlabel("thinking length T (tokens)", fontsize=8)
    ax.set_ylabel("probability per token", fontsize=8)
    ax.tick_params(labelsize=7)
    return ax


def plot_pit(u, ax=None, bins=20, title="randomised PIT"):
    """Histogram (density) of PIT values with the uniform density 1 (docs/models/gamma.md (25)).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 4.0, 3.0)
    ax.hist(np.asarray(u), bins=bins, range=(0, 1), density=True, color=PIT_COLOR,
            edgecolor="white", lw=0.5)
    ax.axhline(1.0, color="k", lw=1, label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, None)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("PIT value u", fontsize=8)
    ax.set_ylabel("density", fontsize=8)
    ax.tick_params(labelsize=7)
    return ax


def comparison_shape(df, pit=True):
    """``(rows, columns)`` of the :func:`plot_comparison` grid: at most four panels a row."""
    n = len(df) + bool(pit)
    cols = min(n, 4)
    return math.ceil(n / cols), cols


def plot_comparison(df, axes=None, pit=None):
    """Every rule's simulated lengths against its exact law, and the predictor's PIT.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame of :func:`sim.gamma.compare` or :func:`sim.gamma.simulate`.
    axes : array of matplotlib.axes.Axes or None
        At least :func:`comparison_shape` panels; default a new pyplot figure.
    pit : array_like or None
        Randomised PIT of the fitted Gamma predictor
        (:func:`sim.gamma.predictor_pit`), drawn in the panel after the rules.

    Returns
    -------
    ndarray of matplotlib.axes.Axes
    """
    if axes is None:
        import matplotlib.pyplot as plt

        rows, cols = comparison_shape(df, pit is not None)
        _, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows), squeeze=False,
                               layout="constrained")
    flat = np.asarray(axes).ravel()
    budget = int(df["budget"].iloc[0])
    edges = _length_edges(df, budget)
    names = list(df["name"])
    for ax, name in zip(flat, names):
        plot_lengths(df, name, ax, edges=edges)
    flat[0].legend(fontsize=7, loc="center right", frameon=False)
    used = len(names)
    if pit is not None:
        plot_pit(pit, flat[used], title="PIT of the fitted Gamma predictor")
        used += 1
    for ax in flat[used:]:
        ax.axis("off")
    return np.asarray(axes)


def plot_fit(lengths, report, axes=None):
    """Observed lengths against a fitted Gamma law (discrete masses (4)), and its PIT.

    Parameters
    ----------
    lengths : array_like of int
        Observed remaining lengths.
    report : dict
        :func:`sim.gamma.fit_report` of ``lengths``.
    axes : sequence of two matplotlib.axes.Axes or None

    Returns
    -------
    ndarray of matplotlib.axes.Axes
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), layout="constrained")
    a1, a2 = np.asarray(axes).ravel()[:2]
    lengths = np.asarray(lengths)
    top = int(np.quantile(lengths, 0.995)) + 1
    edges = np.unique(np.geomspace(1, top + 1, 40).astype(int)).astype(float) - 0.5
    a1.hist(lengths, bins=edges, density=True, color=SIM_COLOR, label="observed")
    k = np.arange(1, top + 1)
    pmf = th.length_pmf(k, report["alpha"], report["rate"])
    how = "fitted" if report["fitted"] else "given"
    a1.plot(k, pmf, color=EXACT_COLOR, lw=1.2, label=f"Gamma law ({how}): "
            f"α = {report['alpha']:.3g}, λ = {report['rate']:.3g}")
    a1.set_xscale("log")
    plain_log_axis(a1, "x")
    a1.set_xlim(max(0.5, 0.8 * lengths.min()), top + 1)
    a1.set_ylim(0, 1.3 * a1.get_ylim()[1])             # room for the legend
    a1.set_title("observed lengths and the Gamma law", fontsize=9)
    a1.set_xlabel("remaining length L (tokens)", fontsize=8)
    a1.set_ylabel("probability per token", fontsize=8)
    a1.tick_params(which="both", labelsize=7)
    a1.legend(fontsize=7, frameon=False, loc="upper left")
    plot_pit(report["pit"], a2)
    return np.asarray(axes)


def plot_adherence(df, manifest, ax=None):
    """A sweep's budget adherence per decoding rule against its first axis.

    Lines are the exact adherence (docs/models/gamma.md (18)), points the
    simulated one with 95 % intervals; one colour per rule. Further swept
    parameters are held at their first value and named in the title; a random
    design has no lines, only its points.

    Parameters
    ----------
    df : pandas.DataFrame
        Collected rows of a gamma sweep (:mod:`sim.gamma.sweep`).
    manifest : dict
        The sweep's manifest (``axes``, ``design``).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not manifest["axes"]:
        raise ValueError("the gamma sweep figure needs at least one swept parameter")

    def style(method, i):   # line styles keep rules that coincide (adherence 1) visible
        return dict(ls=_STYLES[i % len(_STYLES)], marker=_MARKERS[i % 6])

    ax = plot_xy(df, manifest, axes_or_new(ax), "P(T ≤ budget): exact (line), simulated (95%)",
                 "budget adherence by decoding rule", group="method", style=style,
                 theory_label="exact")
    ax.set_ylim(None, 1.02)
    return ax
