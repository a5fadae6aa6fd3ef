"""The parameters of the bbam simulation: question prior, planner noise, synthesis, rounding.

One frozen, validating class, :class:`BbamParams`, shared by the simulator
(:mod:`sim.bbam`, re-exported there as ``Params``), its command line (whose
defaults are the defaults here) and the theory functions that take a budget,
a rounding rule or a floor (``allocate_kkt(params, c=c, beta=beta)``).
Every field is a choice of this project unless its description says
otherwise; docs/models/bbam.md, "Open choices", lists them with their flags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from theory._params import check_bool, check_choice, check_int, check_real
from theory.bbam.outcomes import SYNTHESIS_RULES
from theory.bbam.schedules import ROUNDINGS

__all__ = ["BbamParams", "MATH500_M_COUNTS", "MAX_BUDGET"]

#: Largest token budget per question: budgets are rounded to whole tokens, exact in a
#: double up to 2**53 (about 9e15).
MAX_BUDGET = 1e15

#: Numbers of released MATH-500 plans with m = 1..7 sub-questions (the
#: authors' pre-decomposed data; mean 3.71), docs/models/bbam.md (15).
MATH500_M_COUNTS = (1, 69, 156, 133, 132, 7, 2)


@dataclass(frozen=True)
class BbamParams:
    """Question prior, planner noise and synthesis rule of the budget simulation.

    The prior is docs/models/bbam.md (15), the planner (16), the outcome
    model (17)-(20). All defaults are choices of this project, not the
    paper's, except the sub-question counts (the authors' released plans) and
    the rounding rule (the authors' code). Construction checks every field and
    raises a one-line ``ValueError`` (or ``TypeError``) naming it and its
    allowed range.

    Parameters
    ----------
    budget : float
        Token budget per question, B, in (0, 1e15] (:data:`MAX_BUDGET`).
    m_counts : tuple of float
        Relative frequencies of m = 1, 2, ... sub-questions (default: the
        released MATH-500 plans, :data:`MATH500_M_COUNTS`).
    beta_low, beta_high : float
        beta ~ Uniform(beta_low, beta_high), 0 < low <= high (the paper assumes
        beta >= 1).
    half_low, half_high : float
        Tokens at which the epistemic uncertainty of a sub-question falls to
        0.5, log-uniform between these (> 0); then ``c = 0.5 half**beta``.
    front_loading : float
        ``c_j`` is multiplied by ``exp(-front_loading * j)``, j = 0-based
        position, so earlier sub-questions carry more uncertainty (>= 0).
    u_ale_max : float
        u_ale ~ Uniform(0, u_ale_max), in [0, 1).
    planner_noise : float
        sigma of the planner's log-normal estimate of c (>= 0).
    synthesis : {"all", "any", "majority"}
        Which sub-question outcomes make the question solvable.
    synthesis_accuracy : float
        Probability that the final synthesis step succeeds, in [0, 1].
    rounding : {"paper", "largest_remainder"}
        Integer rounding of the Plan-and-Budget schedules,
        docs/models/bbam.md (12).
    min_tokens : int
        Floor of every schedule budget (0, as in the authors' code).
    carry_over : bool
        Soft budgets: tokens a solved sub-question leaves unused pass on to
        the next one (default False: hard caps). With carry-over there is no
        closed-form expectation and the theory columns are NaN.
    """

    budget: float = 400.0
    m_counts: tuple = MATH500_M_COUNTS
    beta_low: float = 1.0
    beta_high: float = 2.0
    half_low: float = 20.0
    half_high: float = 200.0
    front_loading: float = 0.3
    u_ale_max: float = 0.05
    planner_noise: float = 0.3
    synthesis: str = "all"
    synthesis_accuracy: float = 1.0
    rounding: str = "paper"
    min_tokens: int = 0
    carry_over: bool = False

    def __post_init__(self):
        check_real("budget", self.budget, 0.0, MAX_BUDGET, lo_open=True)
        counts = tuple(self.m_counts)
        if len(counts) == 0:
            raise ValueError("m_counts must be a non-empty list of non-negative counts")
        for k in counts:
            check_real("m_counts", k, 0.0)
        if sum(counts) <= 0:
            raise ValueError("m_counts must have a positive total")
        object.__setattr__(self, "m_counts", counts)
        check_real("beta_low", self.beta_low, 0.0, math.inf, lo_open=True, hi_open=True)
        check_real("beta_high", self.beta_high, self.beta_low, math.inf, hi_open=True)
        check_real("half_low", self.half_low, 0.0, math.inf, lo_open=True, hi_open=True)
        check_real("half_high", self.half_high, self.half_low, math.inf, hi_open=True)
        check_real("front_loading", self.front_loading, 0.0, math.inf, hi_open=True)
        check_real("u_ale_max", self.u_ale_max, 0.0, 1.0, hi_open=True)
        check_real("planner_noise", self.planner_noise, 0.0, math.inf, hi_open=True)
        check_choice("synthesis", self.synthesis, SYNTHESIS_RULES)
        check_real("synthesis_accuracy", self.synthesis_accuracy, 0.0, 1.0)
        check_choice("rounding", self.rounding, ROUNDINGS)
        check_int("min_tokens", self.min_tokens, 0)
        check_bool("carry_over", self.carry_over)

    @property
    def max_subquestions(self):
        """The largest number of sub-questions a question can have, ``len(m_counts)``."""
        return len(self.m_counts)
