"""Small helpers every figure of budgetlab shares.

Plot functions follow one convention: ``plot_x(df, ax=None, ...) -> Axes``.
They draw on the axes they are given, or on new axes of the current pyplot
figure when ``ax`` is None, and never choose a matplotlib backend; command
lines make their own figure (:func:`sim._cli.new_figure`) and save it.
"""

from __future__ import annotations

__all__ = ["axes_or_new", "plain_log_axis", "first_slice", "fmt_value", "slice_note", "plot_xy"]


def axes_or_new(ax, width=7.0, height=4.2):
    """``ax`` itself, or new axes on a new pyplot figure of the given size."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def plain_log_axis(ax, axis="x"):
    """Label a log axis with plain numbers (``40``, ``0.5``), not ``4×10¹``.

    Major ticks at powers of ten and minor ticks at 2 and 5 times them are
    labelled with their value written out (``%g``).
    """
    from matplotlib.ticker import FuncFormatter, LogLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    fmt = FuncFormatter(lambda v, _pos: f"{v:g}")
    target.set_major_locator(LogLocator(base=10.0))
    target.set_minor_locator(LogLocator(base=10.0, subs=(2.0, 5.0)))
    target.set_major_formatter(fmt)
    target.set_minor_formatter(fmt)
    return ax


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


def plot_xy(df, man, ax, ylabel, title, log=False, group="name", style=None,
            theory_label="theory"):
    """A sweep's theory (lines) and estimates (points, 95% intervals) against its first axis.

    One colour per value of ``group`` (a column of the rows, e.g. the
    allocator's ``name``, or an axis); a second swept parameter, if any, gets
    one line style per value (up to four values) instead of being merged into
    one line; further axes are held at their first value and named in the
    title. A random design has no lines to draw: its points are shown alone.

    Parameters
    ----------
    df : pandas.DataFrame
        Collected sweep rows with ``theory``, ``estimate``, ``se``, ``group``
        and the swept parameters.
    man : dict
        The sweep's manifest (``axes``: parameter -> values; ``design``).
    ax : matplotlib.axes.Axes
    ylabel, title : str
    log : bool
        Log scale on the y axis (plain tick labels).
    group : str
        Column that separates the curves.
    style : callable, optional
        ``style(value, i) -> dict(color=..., ls=..., marker=...)`` for the
        ``i``-th group value (default: colour cycle, solid line, circles).
    theory_label : str
        What the lines are called in the legend.

    Returns
    -------
    matplotlib.axes.Axes
    """
    axes = man["axes"]
    x = next(iter(axes))
    others = [a for a in axes if a not in (x, group)]
    second = others[0] if others and len(axes[others[0]]) <= len(_STYLES) else None
    random = man.get("design") == "random"
    keep = (x, group) + ((second,) if second else ())
    part, fixed = (df, {}) if random else first_slice(df, axes, keep)
    styles = {v: _STYLES[i] for i, v in enumerate(axes[second])} if second else {None: None}
    for i, (g, rows_g) in enumerate(part.groupby(group, sort=False)):
        st = dict(color=f"C{i % 10}", ls="-", marker="o")
        st.update(style(g, i) if style else {})
        color = st["color"]
        name = f"{group} {fmt_value(g)}" if group not in ("name", "method") else str(g)
        for sv, ls in styles.items():
            rows = rows_g if sv is None else rows_g[rows_g[second] == sv]
            if rows.empty:
                continue
            rows = rows.sort_values(x)
            tag = name + ("" if sv is None else f", {second}={fmt_value(sv)}")
            if not random:
                ax.plot(rows[x], rows["theory"], ls=ls or st["ls"], color=color, lw=1.3,
                        label=f"{tag}: {theory_label}")
            ax.errorbar(rows[x], rows["estimate"], yerr=1.96 * rows["se"], fmt=st["marker"],
                        ms=3.5, color=color, capsize=2, ls="none", label=f"{tag}: simulated")
    if log:
        ax.set_yscale("log")
        plain_log_axis(ax, "y")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    note = slice_note(fixed)
    ax.set_title(title + (f" ({note})" if note else ""), fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, alpha=0.3)
    return ax
