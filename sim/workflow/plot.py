"""Figures of the workflow model: policies at one point, success surfaces, sweeps.

Every function draws on the axes it is given (new ones when None) and returns
them; none selects a matplotlib backend.
"""

from __future__ import annotations

import numpy as np

from sim._plot import axes_or_new, plot_xy

__all__ = ["plot_policies", "plot_surface", "plot_advantage", "plot_sweep", "best_baseline"]


def plot_policies(df, ax=None):
    """Completion probability per policy with 95% intervals; exact values as diamonds.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`sim.workflow.core.evaluate` (``name``, ``success``,
        ``ci_low``, ``ci_high``, ``theory``, ``bound``).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 7.0, 3.6)
    x = np.arange(len(df))
    colors = ["C3" if n == "mcpp" else "C0" for n in df["name"]]
    ax.bar(x, df["success"], color=colors, alpha=0.8)
    ax.errorbar(x, df["success"], yerr=[df["success"] - df["ci_low"],
                                        df["ci_high"] - df["success"]],
                fmt="none", ecolor="k", capsize=3, lw=1)
    th = df["theory"].to_numpy(dtype=float)
    if np.isfinite(th).any():
        ax.plot(x, th, "D", color="k", ms=5, label="exact, docs/models/workflow.md (22)-(23)")
    bd = df["bound"].to_numpy(dtype=float)
    if np.isfinite(bd).any():
        ax.plot(x, bd, "v", color="C3", ms=6, label="MCPP bound: best exact Seq-k - 2 eps")
    ax.set_xticks(x, df["name"], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("completion probability (95% interval)")
    ax.set_ylim(0, 1.05)
    ax.grid(True, axis="y", alpha=0.3)
    if np.isfinite(th).any() or np.isfinite(bd).any():
        ax.legend(fontsize=8, frameon=False)
    return ax


def _cells(df, value):
    """A (deadlines, budgets) matrix of ``value`` from grid rows, with the axes."""
    budgets = np.sort(df["budget"].unique())
    deadlines = np.sort(df["deadline"].unique())
    mat = np.full((len(deadlines), len(budgets)), np.nan)
    for (b, t), v in value.items():
        mat[np.searchsorted(deadlines, t), np.searchsorted(budgets, b)] = v
    return budgets, deadlines, mat


def _heat(ax, budgets, deadlines, mat, cmap, vmin, vmax, label):
    im = ax.imshow(mat, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(np.arange(len(budgets)), [f"{b:g}" for b in budgets], fontsize=7,
                  rotation=45)
    ax.set_yticks(np.arange(len(deadlines)), [f"{t:g}" for t in deadlines], fontsize=7)
    ax.set_xlabel("budget B (thousand tokens)")
    ax.set_ylabel("deadline T (s)")
    if mat.size <= 64:
        for i in range(mat.shape[0]):
            for j in range(mat.shape[1]):
                if np.isfinite(mat[i, j]):
                    ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="w" if abs(mat[i, j] - (vmin + vmax) / 2) > 0.3 * (vmax - vmin)
                            else "k")
    ax.figure.colorbar(im, ax=ax, label=label, fraction=0.046, pad=0.04)
    return ax


def plot_surface(df, policy, ax=None):
    """Heat map of one policy's completion probability over budgets (x) and deadlines (y).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`sim.workflow.core.grid`.
    policy : str
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 4.0, 3.4)
    rows = df[df["name"] == policy]
    if rows.empty:
        raise ValueError(f"policy {policy!r} is not in the grid")
    value = {(r.budget, r.deadline): r.success for r in rows.itertuples()}
    budgets, deadlines, mat = _cells(df, value)
    _heat(ax, budgets, deadlines, mat, "viridis", 0.0, 1.0, "completion probability")
    ax.set_title(policy, fontsize=9)
    return ax


def best_baseline(df):
    """Per (budget, deadline): the largest success of a policy other than MCPP, and its name."""
    out = {}
    for (b, t), g in df[df["name"] != "mcpp"].groupby(["budget", "deadline"]):
        i = int(np.argmax(g["success"].to_numpy()))
        out[(b, t)] = (float(g["success"].iloc[i]), str(g["name"].iloc[i]))
    return out


def plot_advantage(df, ax=None):
    """Heat map of MCPP's completion probability minus the best baseline's, per cell.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`sim.workflow.core.grid` with ``mcpp`` and at least one
        other policy.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 4.0, 3.4)
    mc = df[df["name"] == "mcpp"]
    best = best_baseline(df)
    if mc.empty or not best:
        raise ValueError("the advantage figure needs mcpp and at least one baseline in the grid")
    value = {(r.budget, r.deadline): r.success - best[(r.budget, r.deadline)][0]
             for r in mc.itertuples()}
    budgets, deadlines, mat = _cells(df, value)
    lim = max(0.05, float(np.nanmax(np.abs(mat))))
    _heat(ax, budgets, deadlines, mat, "RdBu", -lim, lim, "MCPP - best baseline")
    ax.set_title("MCPP minus the best baseline", fontsize=9)
    return ax


def plot_sweep(df, manifest, ax=None):
    """A sweep's completion probability per policy against its first axis (exact as lines).

    Parameters
    ----------
    df : pandas.DataFrame
        Collected sweep rows (``name``, ``theory``, ``estimate``, ``se`` and
        the swept parameters).
    manifest : dict
        The sweep's manifest (``axes``, ``design``).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 6.0, 3.8)
    exact = df.groupby("name")["theory"].transform(lambda t: t.notna().any())
    with_theory = df[exact]
    if not with_theory.empty:
        plot_xy(with_theory, manifest, ax, "completion probability (95%)",
                "workflow completion by policy", group="name", theory_label="exact")
    rest = df[~exact]
    x = next(iter(manifest["axes"]))
    offset = with_theory["name"].nunique() if not with_theory.empty else 0
    for i, (name, rows) in enumerate(rest.groupby("name", sort=False)):
        rows = rows.sort_values(x)
        ax.errorbar(rows[x], rows["estimate"], yerr=1.96 * rows["se"], fmt="s-", ms=3.5, lw=0.8,
                    capsize=2, color=f"C{(offset + i) % 10}", label=f"{name}: simulated")
    ax.set_xlabel(x)
    ax.set_ylabel("completion probability (95%)")
    ax.set_title("workflow completion by policy", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ax.grid(True, alpha=0.3)
    ax.set_ylim(-0.02, 1.02)
    return ax
