"""Small helpers every figure of budgetlab shares.

Plot functions follow one convention: ``plot_x(df, ax=None, ...) -> Axes``.
They draw on the axes they are given, or on new axes of the current pyplot
figure when ``ax`` is None, and never choose a matplotlib backend; command
lines make their own figure (:func:`sim._cli.new_figure`) and save it.
"""

from __future__ import annotations

__all__ = ["axes_or_new", "plain_log_axis"]


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
