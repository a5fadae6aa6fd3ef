"""The phase diagram: simulated root accuracy on a (rho, gamma) grid, next to the theory."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim.phase.core import cost, param_columns, simulate_root, theory_accuracy

__all__ = ["GRID", "DIAGRAM_TRIALS", "RHO_RANGE", "GAMMA_RANGE", "diagram_axes", "phase_diagram"]

#: Cells per axis of the command line's diagram (``--plot-grid``).
GRID = 24
#: Trees per cell of the command line's diagram (``--plot-trials``).
DIAGRAM_TRIALS = 2048
#: The correlations and fidelities the command line's diagram spans.
RHO_RANGE = (0.0, 0.95)
GAMMA_RANGE = (0.3, 1.0)


def diagram_axes(grid=GRID):
    """The ``rho`` and ``gamma`` values of a ``grid`` x ``grid`` diagram over the default ranges."""
    return np.linspace(*RHO_RANGE, grid), np.linspace(*GAMMA_RANGE, grid)


def phase_diagram(params, rhos, gammas, trials=DIAGRAM_TRIALS, seed=_cli.DEFAULT_SEED,
                  backend="auto", progress=None, allow=False):
    """Simulated root accuracy on a (rho, gamma) grid.

    Parameters
    ----------
    params : theory.phase.PhaseParams
        Everything but ``rho`` and ``gamma`` is taken from here.
    rhos, gammas : sequence of float
    trials : int, default 2048
        Trees per grid cell.
    seed : int, default 0
        Root seed; cells use independent seeds derived from it.
    backend : {"auto", "numpy", "numba", "cupy"}
    progress : callable or None
        Called with no argument after each cell.
    allow : bool
        Run even when the whole diagram (cells times :func:`sim.phase.core.cost`) exceeds
        the work limit (:func:`sim.guard.check`).

    Returns
    -------
    pandas.DataFrame
        One row per cell: the parameters (``rho`` and ``gamma`` of the cell),
        ``p_sim`` (simulated root accuracy), ``p_theory`` (its closed form,
        ``docs/models/phase.md (23)-(27)``) and the cell's ``seed``; what
        :func:`sim.phase.plot_phase_diagram` draws.
    """
    cells = len(rhos) * len(gammas)
    est = cost(params, trials)
    est["work"] *= cells
    _guard.check("--plot-trials * --plot-grid**2 * b**depth", allow=allow,
                 hint="lower --plot-grid, --plot-trials or --depth, or pass --yes",
                 **{k: v for k, v in est.items() if k not in ("param", "hint")})
    seeds = np.random.SeedSequence(seed).generate_state(cells, np.uint32)
    rows = []
    idx = 0
    for r in rhos:
        for g in gammas:
            p = replace(params, rho=float(r), gamma=float(g))
            acc = simulate_root(p, trials, int(seeds[idx]), backend, allow=True)
            rows.append(dict(param_columns(p), p_sim=acc,
                             p_theory=float(theory_accuracy(p)[-1]), seed=int(seeds[idx])))
            idx += 1
            if progress is not None:
                progress()
    return pd.DataFrame(rows)
