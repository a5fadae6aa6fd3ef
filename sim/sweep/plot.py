"""The sweep figure of each model, drawn from collected rows; helpers the models share."""

from __future__ import annotations

import pandas as pd

from sim.sweep.spec import sweep_model
from sim.sweep.store import collect, read_manifest


def first_slice(df, axes, keep):
    """Rows where every axis not in ``keep`` takes its first value; the dropped axes."""
    fixed = {}
    for name in axes:
        if name not in keep and name in df.columns:
            fixed[name] = axes[name][0]
            df = df[df[name] == axes[name][0]]
    return df, fixed


def fmt_value(v):
    """A parameter value for a title or legend: ``%g`` for numbers (``512``, not ``512.0``)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return f"{v:g}"


def slice_note(fixed):
    """``"a=1, b=0.5"`` for the axes a figure holds fixed."""
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in fixed.items())


_STYLES = ("-", "--", ":", "-.")


def plot_xy(df, man, ax, ylabel, title, log=False, group="name"):
    """Theory (lines) and estimates (points with 95% intervals) against the first axis.

    One colour per value of ``group`` (a column of the rows, e.g. the
    allocator's ``name``, or an axis); a second swept parameter, if any, gets
    one line style per value (up to four values) instead of being merged into
    one line; further axes are held at their first value and named in the
    title. A random design has no lines to draw: its points are shown alone.
    """
    axes = man["axes"]
    x = next(iter(axes))
    others = [a for a in axes if a not in (x, group)]
    second = others[0] if others and len(axes[others[0]]) <= len(_STYLES) else None
    random = man.get("design") == "random"
    keep = (x, group) + ((second,) if second else ())
    part, fixed = (df, {}) if random else first_slice(df, axes, keep)
    styles = {v: _STYLES[i] for i, v in enumerate(axes[second])} if second else {None: "-"}
    for i, (g, rows_g) in enumerate(part.groupby(group, sort=False)):
        color = f"C{i % 10}"
        name = f"{group} {fmt_value(g)}" if group != "name" else str(g)
        for sv, ls in styles.items():
            rows = rows_g if sv is None else rows_g[rows_g[second] == sv]
            if rows.empty:
                continue
            rows = rows.sort_values(x)
            tag = name + ("" if sv is None else f", {second}={fmt_value(sv)}")
            if random:
                ax.errorbar(rows[x], rows["estimate"], yerr=1.96 * rows["se"], fmt="o", ms=3,
                            color=color, capsize=2, label=f"{tag}: simulated")
                continue
            ax.plot(rows[x], rows["theory"], ls, color=color, lw=1.3, label=f"{tag}: theory")
            ax.errorbar(rows[x], rows["estimate"], yerr=1.96 * rows["se"], fmt="o", ms=3,
                        color=color, capsize=2, label=f"{tag}: simulated")
    if log:
        from sim._plot import plain_log_axis

        ax.set_yscale("log")
        plain_log_axis(ax, "y")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    note = slice_note(fixed)
    ax.set_title(title + (f" ({note})" if note else ""), fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, alpha=0.3)
    return ax


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

