"""Where the workflow kernels draw their random words: the counter layout and the latency grid.

``docs/models/workflow.md`` (25). A rollout (one simulated continuation, or one
simulated episode of a fixed policy) owns the counters ``rollout << 32`` up to
the next rollout's first: it draws its words one after the other, so the
``i``-th word it draws has counter ``(rollout << 32) + i`` (:func:`word_counter`)
whatever other rollouts do. The words, in the order a rollout draws them:

* one word per batch in flight at the start (in node order): whether the batch
  succeeds, when that is not known yet (the word is drawn either way);
* per launch of a batch of ``k`` samples (nodes in order within a launch):
  :data:`WORDS_PER_BATCH` words for a parametric (node, model) -- the latency of
  the batch's slowest sample, then whether any sample succeeds -- or ``k`` words
  for a (node, model) resampled from records, one row index per sample.

Latencies come from a quantile table of the floored law on the grid
``x = -X_MAX + i * DX`` (:data:`GRID` cells) of the log-odds
``x = ln(u / (1 - u))``, which resolves both tails: the slowest of ``k``
samples has ``u = U^(1/k)``, so ``x = ln(U) / k - ln(-expm1(ln(U) / k))`` with
``U = uniform(word)``, and the table is interpolated linearly
(:func:`table_latency`); beyond the grid the end values are kept. The NumPy reference, the Numba
kernel and the array kernel all call these functions, so they draw the same
words and make the same decisions; NumPy's and the compiled ``log``/``expm1``
may differ in the last bit, so times agree to rounding.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["STREAM_PLAN", "STREAM_EVAL", "STREAM_EXECUTE", "ROLLOUT_SHIFT", "WORDS_PER_BATCH",
           "WORDS_PER_INFLIGHT", "GRID", "X_MAX", "DX", "word_counter", "table_x",
           "table_latency", "table_latency_array", "grid_levels"]

#: Purpose of the planner's continuation rollouts (one key per decision is derived from it).
STREAM_PLAN = "workflow/plan"
#: Purpose of the episodes of fixed policies run by the kernels.
STREAM_EVAL = "workflow/evaluate"
#: Purpose of the executor's samples (one sample at a time, :mod:`sim.workflow.executor`).
STREAM_EXECUTE = "workflow/execute"
#: A rollout's counters start at ``rollout << ROLLOUT_SHIFT``.
ROLLOUT_SHIFT = 32
#: Words a parametric batch consumes: the slowest sample's latency and "any success".
WORDS_PER_BATCH = 2
#: Words a batch in flight at the start consumes: whether it succeeds.
WORDS_PER_INFLIGHT = 1
#: Cells of the latency table, and the ends ``-X_MAX, X_MAX`` of its grid in log-odds.
GRID = 4096
X_MAX = 40.0
DX = 2 * X_MAX / GRID
_INV_DX = GRID / (2 * X_MAX)
_SHIFT = np.uint64(ROLLOUT_SHIFT)


@register_jitable(inline="always")
def word_counter(rollout, i):
    """Counter of the ``i``-th word rollout ``rollout`` draws: ``(rollout << 32) + i`` (uint64)."""
    return (rollout << _SHIFT) + i


@register_jitable(inline="always")
def table_x(u, k):
    """``x = ln(v / (1 - v))`` for ``v = u^(1/k)``: the grid coordinate of the slowest of ``k``.

    ``u`` is a uniform in ``[0, 1)`` (``u = 0`` gives ``-inf``); works on
    scalars in compiled code and on arrays (call inside ``np.errstate``).
    """
    lv = np.log(u) / k
    return lv - np.log(-np.expm1(lv))


def grid_levels():
    """The levels ``u`` of the table's grid points and their upper tails ``1 - u``."""
    x = -X_MAX + np.arange(GRID + 1) * DX
    return 1.0 / (1.0 + np.exp(-x)), 1.0 / (1.0 + np.exp(x))


@register_jitable(inline="always")
def table_latency(row, x):
    """The table ``row`` (``GRID + 1`` values) interpolated linearly at ``x`` (scalar)."""
    xi = (x + X_MAX) * _INV_DX
    if xi >= GRID:
        return row[GRID]
    if xi <= 0.0:
        return row[0]
    i = int(xi)
    f = xi - i
    return row[i] + f * (row[i + 1] - row[i])


def table_latency_array(xp, tab, rows, x):
    """:func:`table_latency` on arrays: ``tab`` is (rows, GRID + 1), ``rows`` and ``x`` are 1-D."""
    xi = (x + X_MAX) * _INV_DX
    big = xi >= GRID
    small = xi <= 0.0
    i = xp.floor(xp.clip(xi, 0.0, GRID - 1)).astype(np.int64)
    f = xi - i
    lo = tab[rows, i]
    val = lo + f * (tab[rows, i + 1] - lo)
    return xp.where(big, tab[rows, GRID], xp.where(small, tab[rows, 0], val))
