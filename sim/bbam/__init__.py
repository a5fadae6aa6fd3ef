"""Monte Carlo of reasoning under token budgets: ``sim.bbam`` and ``python -m sim.bbam``.

Compares ways of splitting a question's token budget over its sub-questions
(Lin et al., "Plan and Budget", arXiv 2505.16122): the exact optimum, the
paper's Eq. (6), the uniform split, the five Plan-and-Budget decay schedules
with the authors' integer rounding, and a plain global budget. The model, its
numbered equations and its open choices are in ``docs/models/bbam.md``; every
choice is a field of :class:`BbamParams` with a documented default.

In short: a question has ``m`` sub-questions; sub-question ``j`` is solved
within ``b`` tokens with probability ``1 - min(1, c_j b**-beta_j + u_ale_j)``
and spends ``min(tau_j, b)`` tokens; the planner sees ``c_j`` only through a
noisy estimate; a question is solved when its synthesis rule holds. Accuracy
``A`` is reported in percent, ``T`` is the mean tokens per question, and
``E3 = A**2 / T``.

The package follows :class:`sim.interface.Model`: :data:`NAME`,
:data:`Params`, :func:`simulate`, :data:`SWEEP`.
"""

from __future__ import annotations

from sim.bbam.allocators import ALLOCATORS, allocation, allocations
from sim.bbam.contraction import fit_power_law, posterior_contraction
from sim.bbam.core import TRIALS, expected_outcome, outcomes, simulate
from sim.bbam.e3_estimator import e3_estimator
from sim.bbam.frontier import frontier
from sim.bbam.plot import plot_frontier
from sim.bbam.questions import Questions, sample_questions
from sim.bbam.rounding import rounding_loss
from sim.bbam.sweep import SWEEP
from theory.bbam import BbamParams

#: The model's name (:data:`sim.registry.MODELS`).
NAME = "bbam"
#: The model's parameter class (:class:`theory.bbam.BbamParams`).
Params = BbamParams

__all__ = [
    "NAME",
    "Params",
    "BbamParams",
    "SWEEP",
    "TRIALS",
    "ALLOCATORS",
    "Questions",
    "sample_questions",
    "allocation",
    "allocations",
    "outcomes",
    "expected_outcome",
    "simulate",
    "frontier",
    "plot_frontier",
    "posterior_contraction",
    "fit_power_law",
    "e3_estimator",
    "rounding_loss",
]
