"""Figures of the coop model: ``plot_x(df, ax=None, ...) -> Axes``.

Each function draws on the axes it is given (new axes when None) and returns
them; it never chooses a matplotlib backend.
"""

from __future__ import annotations

import numpy as np

from sim._plot import axes_or_new, plain_log_axis
from sim.coop.variants import variant_of

__all__ = ["plot_effort_vs_loyalty", "plot_repeated_play", "plot_apache",
           "plot_differentiation"]


def _variant(mode):
    return f"{variant_of(mode)} variant"


def plot_effort_vs_loyalty(df, ax=None, team=None):
    """Equilibrium effort of symmetric teams against loyalty, one colour per team size.

    Solid lines are the equilibrium within the effort bounds, dotted lines the
    interior solution where the bounds cut it off (docs/models/coop.md (14));
    the effort cap (and a positive floor) is drawn as a grey line.

    Parameters
    ----------
    df : pandas.DataFrame
        :func:`sim.coop.effort_loyalty_curves` (columns ``n``, ``theta``,
        ``mean_effort``, ``interior`` and the parameters).
    ax : matplotlib.axes.Axes, optional
    team : theory.coop.CoopParams, optional
        A team to mark at its mean loyalty and mean equilibrium effort.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax)
    first = df.iloc[0]
    a_min, a_max = float(first["a_min"]), float(first["a_max"])
    for k, (m, rows) in enumerate(df.groupby("n", sort=True)):
        color = f"C{k % 10}"
        ax.plot(rows["theta"], rows["mean_effort"], "-", color=color, lw=1.5, label=f"n = {m}")
        cut = rows["interior"] != rows["mean_effort"]
        if cut.any():
            ax.plot(rows["theta"].where(cut), rows["interior"].where(cut), ":", color=color,
                    lw=1.2)
    if np.isfinite(a_max):
        ax.axhline(a_max, color="0.4", ls="--", lw=1.0, label=f"effort cap a_max = {a_max:g}")
    if a_min > 0:
        ax.axhline(a_min, color="0.6", ls="-.", lw=1.0, label=f"effort floor a_min = {a_min:g}")
    if team is not None:
        from theory.coop import solve

        ax.plot([np.mean(team.theta)], [float(solve(team).mean_effort)], "k*", ms=10,
                label=f"this team (n = {team.n})")
    low = float(df["mean_effort"][df["mean_effort"] > 0].min()) / 2
    high = max(float(df["mean_effort"].max()), a_max if np.isfinite(a_max) else 0.0) * 8
    ax.set_yscale("log")
    ax.set_ylim(low, min(high, float(df["interior"].max()) * 1.5))
    plain_log_axis(ax, "y")
    ax.set_xlim(0.0, _loyalty_range(df, a_max, None if team is None else max(team.theta)))
    ax.set_xlabel("loyalty θ (every member)")
    ax.set_ylabel("mean equilibrium effort per member")
    ax.set_title(f"Equilibrium effort against loyalty, {_variant(first['welfare_mode'])}\n"
                 f"ω={first['omega']:g}, β={first['beta']:g}, c={first['c']:g}, "
                 f"φ_B={first['phi_B']:g}, φ_C={first['phi_C']:g}; dotted: without bounds "
                 "(docs/models/coop.md (14))", fontsize=9)
    ax.legend(fontsize=8, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def _loyalty_range(df, a_max, team_theta=None):
    """Upper end of the loyalty axis: past the loyalty where the last team size reaches the cap.

    Beyond it every curve is flat at the cap, so the figure stops a little
    after it (and after the marked team's loyalty); the whole range when no
    curve reaches the cap.
    """
    top = float(df["theta"].max())
    if not np.isfinite(a_max):
        return top
    reach = [rows["theta"][rows["mean_effort"] >= a_max].min() for _, rows in df.groupby("n")]
    reach = [r for r in reach if np.isfinite(r)]
    if len(reach) < df["n"].nunique():
        return top
    end = max(1.3 * max(reach), 0.1 * top)
    if team_theta is not None:
        end = max(end, 1.15 * team_theta)
    return min(top, end)


def plot_repeated_play(df, ax=None):
    """Mean effort over the rounds of repeated play, with the equilibrium.

    Parameters
    ----------
    df : pandas.DataFrame
        :func:`sim.coop.simulate` (columns ``round``, ``estimate``, ``se``,
        ``theory``, ``mean_theta``, ``noise``, ``trials``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The loyalty is drawn on a second y axis when it changes over rounds.
    """
    ax = axes_or_new(ax)
    ax.plot(df["round"], df["theory"], "-", color="C1", lw=1.5,
            label="equilibrium mean effort S*/n")
    ax.errorbar(df["round"], df["estimate"], yerr=1.96 * df["se"].fillna(0.0), fmt="o-",
                ms=3, lw=1.0, color="C0", capsize=2, label="repeated play (95% interval)")
    ax.set_xlabel("round")
    ax.set_ylabel("mean effort per member")
    first = df.iloc[0]
    ax.set_title(f"Repeated play: {int(first['trials'])} teams, noise sd {first['noise']:g}",
                 fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    if df["mean_theta"].nunique() > 1:
        twin = ax.twinx()
        twin.plot(df["round"], df["mean_theta"], "--", color="C2", lw=1.2, label="mean loyalty θ")
        twin.set_ylabel("mean loyalty θ")
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8)
    ax.grid(True, alpha=0.3)
    return ax


def plot_apache(df, ax=None, a_max=None, variant=None):
    """Predicted mean effort of the Apache phases beside the case's "expected effort".

    Parameters
    ----------
    df : pandas.DataFrame
        One row per phase with ``name``, ``predicted`` and ``expected``
        (:func:`sim.coop.apache_phases` or the ``phases`` of
        :func:`sim.coop.run_apache`).
    ax : matplotlib.axes.Axes, optional
    a_max : float, optional
        Effort cap, drawn as a grey line.
    variant : {"paper", "repo"}, optional
        Named in the title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax)
    x = np.arange(len(df))
    ax.bar(x - 0.2, df["predicted"], 0.4, color="C0", label="predicted (equilibrium)")
    ax.bar(x + 0.2, df["expected"], 0.4, color="C1", label='the case\'s "expected effort"')
    if a_max is not None:
        ax.axhline(a_max, color="0.4", ls="--", lw=1.0, label=f"effort cap a_max = {a_max:g}")
    ax.set_xticks(x, [f"{name}\n(n = {n})" for name, n in zip(df["name"], df["n"])])
    ax.set_yscale("log")
    plain_log_axis(ax, "y")
    ax.set_ylabel("mean effort per member")
    what = f", {variant} variant" if variant else ""
    ax.set_title(f"Apache HTTP Server case: mean effort per phase{what}", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    return ax


def plot_differentiation(df, ax=None, variant=None):
    """Histogram of the effort-differentiation ratios of the paper's grid.

    Parameters
    ----------
    df : pandas.DataFrame
        :func:`sim.coop.paper_grid` (column ``effort_differentiation``, NaN
        except on one row per configuration group).
    ax : matplotlib.axes.Axes, optional
    variant : {"paper", "repo"}, optional
        Named in the title.

    Returns
    -------
    matplotlib.axes.Axes
        The ratios on a log axis, with their median and the target's threshold 2.
    """
    ax = axes_or_new(ax)
    ratios = df["effort_differentiation"].dropna().to_numpy()
    bins = np.geomspace(min(ratios.min(), 2.0) * 0.9, ratios.max() * 1.1, 40)
    ax.hist(ratios, bins=bins, color="C0", alpha=0.8,
            label=f"{ratios.size} configurations")
    med = float(np.median(ratios))
    ax.axvline(med, color="C1", lw=1.5, label=f"median {med:.3f}")
    ax.axvline(2.0, color="0.4", ls="--", lw=1.0, label="target threshold 2")
    ax.set_xscale("log")
    plain_log_axis(ax, "x")
    ax.set_xlabel("effort differentiation a*(θ=0.9) / a*(θ=0.1)")
    ax.set_ylabel("configurations")
    what = f", {variant} variant" if variant else ""
    ax.set_title(f"Effort differentiation over the paper's grid{what} (docs/models/coop.md (19))",
                 fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax
