"""Loyalty in team production: the coop model (``python -m sim.coop``).

Pant and Yu, "Computational Foundations for Strategic Coopetition:
Formalizing Collective Action and Loyalty", arXiv 2601.16237; the model, its
numbered equations and the experiments are described in
``docs/models/coop.md``. The closed forms and exact equilibrium solvers live
in :mod:`theory.coop`; this package runs the model:

* :func:`simulate` -- repeated play: many copies of a team playing noisy best
  responses round after round, on NumPy, Numba or CuPy;
* :func:`solve_team` -- one team's equilibrium against free riding and the
  social optimum; :func:`effort_loyalty_curves` for the figure;
* :func:`paper_grid` and :func:`run_paper_experiment` -- the paper's
  3,125-configuration experiment with its six targets and statistics;
* :func:`run_apache` -- the Apache case on the authors' 60-point rubric;
* :func:`monte_carlo` -- the authors' robustness run;
* figures ``plot_*`` and the sweep declaration :data:`SWEEP`.
"""

from __future__ import annotations

from sim.coop.apache import APACHE, apache_phases, run_apache
from sim.coop.core import KAPPA, NOISE, ROUNDS, TRIALS, simulate
from sim.coop.paper import (
    AUTHORS_SEED,
    GRID,
    GRID_FIXED,
    PUBLISHED,
    TARGET_NAMES,
    grid_mean_effort,
    paper_grid,
    run_paper_experiment,
)
from sim.coop.plot import (
    plot_apache,
    plot_differentiation,
    plot_effort_vs_loyalty,
    plot_repeated_play,
)
from sim.coop.robustness import ROBUSTNESS_TRIALS, monte_carlo
from sim.coop.sweep import SWEEP
from sim.coop.team import effort_loyalty_curves, solve_team
from sim.coop.variants import DEFAULT_VARIANT, VARIANTS
from theory.coop import CoopParams as Params

__all__ = [
    "NAME",
    "Params",
    "simulate",
    "SWEEP",
    "TRIALS",
    "ROUNDS",
    "NOISE",
    "KAPPA",
    "VARIANTS",
    "DEFAULT_VARIANT",
    "solve_team",
    "effort_loyalty_curves",
    "GRID",
    "GRID_FIXED",
    "TARGET_NAMES",
    "PUBLISHED",
    "AUTHORS_SEED",
    "grid_mean_effort",
    "paper_grid",
    "run_paper_experiment",
    "APACHE",
    "apache_phases",
    "run_apache",
    "ROBUSTNESS_TRIALS",
    "monte_carlo",
    "plot_effort_vs_loyalty",
    "plot_repeated_play",
    "plot_apache",
    "plot_differentiation",
]

#: The model's name.
NAME = "coop"
