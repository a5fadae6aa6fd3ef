"""Figures of the phase model: the (rho, gamma) phase diagram with the critical line."""

from __future__ import annotations

import dataclasses

import numpy as np

from sim._plot import axes_or_new
from theory import phase as th

__all__ = ["plot_phase_diagram"]

#: Colour of the theoretical critical line: visible on every viridis cell and on a white legend.
LINE_COLOR = "#e8112d"


def _edges(values):
    """Cell edges around sorted grid values: midpoints inside, half a step outside."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.01, v[0] + 0.01])
    mid = (v[1:] + v[:-1]) / 2.0
    return np.concatenate(([v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]))


def _params_of(df):
    """The fixed parameters of a diagram frame (its first row), as a PhaseParams."""
    names = [f.name for f in dataclasses.fields(th.PhaseParams) if f.name not in ("rho", "gamma")]
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise ValueError(f"the phase diagram needs params= or the parameter columns "
                         f"({', '.join(missing)} are missing)")
    first = df.iloc[0]
    return th.PhaseParams(**{n: (first[n].item() if hasattr(first[n], "item") else first[n])
                             for n in names})


def plot_phase_diagram(df, ax=None, params=None, value="p_sim", mark=None):
    """Heat map of the root accuracy over (rho, gamma), with the critical line.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per cell with ``rho``, ``gamma`` and ``value`` (the frame of
        :func:`sim.phase.phase_diagram`, or the root rows of a phase sweep);
        cells may be unevenly spaced, and a missing cell is left blank.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (new axes when None).
    params : theory.phase.PhaseParams, optional
        The fixed parameters (b, depth, p0, correlation, ...); read from the
        frame's parameter columns when None.
    value : str, default "p_sim"
        The column to draw: ``"p_sim"`` (simulated) or ``"p_theory"`` (closed form).
    mark : (float, float), optional
        An operating point ``(rho, gamma)`` to mark with a star.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The line is the theoretical phase boundary: ``gamma_c(rho)`` where
    ``alpha_rho = 1`` under herding (paper Thm 4, ``docs/models/phase.md
    (11)``), the rho-free ``gamma_c`` of the node-herding gain under the item
    and shock models (``(14)``). It is drawn only inside the grid, and the axes
    end at the grid's cells.
    """
    params = _params_of(df) if params is None else params
    ax = axes_or_new(ax, 6.4, 4.8)
    rhos = np.sort(df["rho"].unique())
    gammas = np.sort(df["gamma"].unique())
    grid = (df.pivot_table(index="gamma", columns="rho", values=value, aggfunc="mean")
            .reindex(index=gammas, columns=rhos).to_numpy(dtype=float))
    xe, ye = _edges(rhos), _edges(gammas)
    low = min(0.5, float(np.nanmin(grid))) if np.isfinite(grid).any() else 0.5
    mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(grid), cmap="viridis", vmin=low, vmax=1.0,
                         shading="flat")
    how = "simulated" if value == "p_sim" else "closed form"
    ax.figure.colorbar(mesh, ax=ax, label=f"root accuracy, {how} (depth {params.depth})")
    rr = np.linspace(max(xe[0], 0.0), min(xe[-1], 0.999), 400)
    if params.correlation == "herding":
        gc = np.asarray(th.gamma_c(rr, params.b))
        label = r"$\gamma_c(\rho)$: $\alpha_\rho = 1$ (paper Thm 4)"
    else:
        gc = np.full_like(rr, th.gamma_c(params.rho_node, params.b))
        label = (r"$\gamma_c = 1/f_b'(0)$: $\alpha_0 = 1$ ($\rho$-free)" if params.rho_node == 0
                 else r"$\gamma_c$ of the node herding: gain $= 1$ ($\rho$-free)")
    gc = np.where((gc >= ye[0]) & (gc <= ye[-1]), gc, np.nan)
    if np.isfinite(gc).any():
        ax.plot(rr, gc, color=LINE_COLOR, lw=2.2, ls="--", label=label)
    if mark is not None:
        ax.plot([mark[0]], [mark[1]], marker="*", ms=16, color="white", mec="black", mew=1.2,
                ls="none", label=f"your operating point (rho={mark[0]:g}, gamma={mark[1]:g})")
    if np.isfinite(gc).any() or mark is not None:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.95, facecolor="white",
                  edgecolor="0.6")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xlabel(r"correlation $\rho$")
    ax.set_ylabel(r"channel fidelity $\gamma$")
    extra = (f", rho_node={params.rho_node:g}" if params.rho_node else "") + (
        ", root channel" if params.root_channel else "")
    ax.set_title(f"{params.correlation}: b={params.b}, p0={params.p0:g}, "
                 f"depth {params.depth}{extra}", fontsize=10)
    return ax
