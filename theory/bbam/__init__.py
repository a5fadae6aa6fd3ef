"""Closed forms of Plan-and-Budget: the budget allocation model, E3 and the decay schedules.

Lin, Zeng, Zhu, Wang, Shun, Wu and Zhou, "Plan and Budget: Effective and
Efficient Test-Time Scaling on Large Language Model Reasoning", arXiv
2505.16122 (v1 May 2025; v3 March 2026, ICLR 2026), and the authors' code
https://github.com/junhongmit/P-and-B at commit ``7f75b44``. The model, its
numbered equations and their provenance are in ``docs/models/bbam.md``; every
docstring cites that document as ``docs/models/bbam.md (N)`` or the paper's own
numbering, and says whether a formula is the paper's, the authors' code's or
derived here (checked numerically, and symbolically in
:mod:`theory.symbolic.bbam`).

One module per concept:

* :mod:`~theory.bbam.uncertainty` -- uncertainty, utility, the objective (1)-(3);
* :mod:`~theory.bbam.kkt` -- the exact optimum (4), vectorised and one-question;
* :mod:`~theory.bbam.allocation` -- the paper's form (5), uniform (6), values
  (7), the Lambert-W peak (8), the bridge prior (13);
* :mod:`~theory.bbam.e3` -- E3 (9), the paper's reported values, the estimator
  bias (24);
* :mod:`~theory.bbam.schedules` -- decay schedules (10), shares (11), integer
  rounding (12), level budgets (14);
* :mod:`~theory.bbam.outcomes` -- sub-question outcomes under a cap (17)-(20);
* :mod:`~theory.bbam.contraction` -- conjugate models behind the power law (22)-(23);
* :mod:`~theory.bbam.integer` -- whole tokens for one plan (28)-(29);
* :mod:`~theory.bbam.fit` -- the law fitted to accuracy against budget (26)-(27);
* :mod:`~theory.bbam.params` -- :class:`BbamParams`, the simulation's parameters.

Conventions
-----------
* Sub-questions lie on the **last** axis; every function broadcasts over the
  leading (question) axes. ``budget`` broadcasts against those leading axes.
* ``mask`` (bool, broadcastable to the shape of ``c`` or ``credits``) marks
  the sub-questions that exist, so that questions with different numbers of
  sub-questions share one array; ``None`` means that all exist. Values at
  masked-out positions are ignored (they may be padding such as 0 or NaN), and
  masked-out entries of returned allocations are exactly 0. Every question
  must keep at least one sub-question.
* The exponent is written ``beta`` and the utility scale ``alpha``. A larger
  ``beta`` means a faster fall of uncertainty per token, i.e. an easier
  sub-question (the paper calls ``beta`` a complexity parameter; the formula
  decides the sign).
* Functions that return one value per question return a ``float`` when there
  is a single question and an ``ndarray`` otherwise.
* Functions that take a budget, a rounding rule or a floor also take a
  :class:`BbamParams` in their place (``allocate_kkt(params, c=c, beta=beta)``).
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

from theory.bbam.allocation import (
    allocate_paper,
    allocate_uniform,
    beta_star,
    bridge_prior,
    equal_beta_value,
    uniform_value,
)
from theory.bbam.contraction import normal_bayes_risk, pareto_posterior_variance
from theory.bbam.e3 import (
    PAPER_E3,
    e3,
    e3_estimator_bias,
    e3_from_scores,
    e3_ratio_identity,
    e3_relative_change,
    paper_relative_changes,
)
from theory.bbam.fit import LAW_BOUNDS, fit_law, law_nll, law_success
from theory.bbam.integer import (
    METHODS,
    MIN_TOKENS,
    allocate_floor,
    allocate_tokens,
    round_largest_remainder,
)
from theory.bbam.kkt import allocate_kkt, allocate_kkt_scipy
from theory.bbam.outcomes import (
    SYNTHESIS_RULES,
    expected_tokens,
    solve_probability,
    synthesis_probability,
)
from theory.bbam.params import MATH500_M_COUNTS, BbamParams
from theory.bbam.schedules import (
    LEVEL_BUDGET,
    ROUNDINGS,
    SCHEDULES,
    allocate_plan_and_budget,
    level_budget,
    plan_and_budget_shares,
    schedule_weights,
)
from theory.bbam.uncertainty import objective, uncertainty, utility

__all__ = [
    # parameters of the simulation
    "BbamParams",
    "MATH500_M_COUNTS",
    # uncertainty, utility, objective: (1)-(3)
    "uncertainty",
    "utility",
    "objective",
    # allocation rules and their values: (4)-(8), (13)
    "allocate_kkt",
    "allocate_kkt_scipy",
    "allocate_paper",
    "allocate_uniform",
    "equal_beta_value",
    "uniform_value",
    "beta_star",
    "bridge_prior",
    # E3: (9), (24)
    "e3",
    "e3_from_scores",
    "e3_relative_change",
    "e3_ratio_identity",
    "PAPER_E3",
    "paper_relative_changes",
    "e3_estimator_bias",
    # Plan-and-Budget: (10)-(12), (14)
    "SCHEDULES",
    "ROUNDINGS",
    "schedule_weights",
    "plan_and_budget_shares",
    "allocate_plan_and_budget",
    "LEVEL_BUDGET",
    "level_budget",
    # sub-question outcomes: (17)-(20)
    "SYNTHESIS_RULES",
    "solve_probability",
    "expected_tokens",
    "synthesis_probability",
    # whole tokens for one plan: (28)-(29)
    "METHODS",
    "MIN_TOKENS",
    "allocate_floor",
    "round_largest_remainder",
    "allocate_tokens",
    # the law fitted to accuracy against budget: (26)-(27)
    "LAW_BOUNDS",
    "law_success",
    "law_nll",
    "fit_law",
    # conjugate models: (22)-(23)
    "normal_bayes_risk",
    "pareto_posterior_variance",
]
