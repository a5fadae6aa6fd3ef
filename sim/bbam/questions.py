"""Simulated questions: sub-question counts, true parameters and the planner's estimates.

docs/models/bbam.md (15)-(16): a question has ``m`` sub-questions (``m`` drawn
from ``m_counts``); sub-question ``j`` has an exponent ``beta``, a scale ``c``
set by the tokens at which its epistemic uncertainty halves, a front-loading
trend along the plan and an aleatoric floor ``u_ale``; the planner sees ``c``
only through a log-normal estimate ``c_hat``. These are host draws from
:func:`sim.rng.generator` (stream ``"bbam/questions"``), seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim import rng as _rng

__all__ = ["Questions", "sample_questions"]


@dataclass
class Questions:
    """A batch of simulated questions; arrays are ``(n, M)``, ``M`` = the longest plan.

    Attributes
    ----------
    c, beta, u_ale : ndarray
        True scale, exponent and aleatoric floor of each sub-question,
        docs/models/bbam.md (1).
    c_hat : ndarray
        The planner's estimate of ``c``, docs/models/bbam.md (16).
    mask : ndarray of bool
        The sub-questions that exist (the first ``m`` slots of each row).
        Absent slots hold harmless valid values (``c = 1``, ``beta = 1``,
        ``u_ale = 0``).
    budget : float
        Token budget of every question.
    """

    c: np.ndarray
    beta: np.ndarray
    u_ale: np.ndarray
    c_hat: np.ndarray
    mask: np.ndarray
    budget: float

    @property
    def n(self):
        """Number of questions."""
        return self.c.shape[0]

    def rows(self, sl):
        """The questions of the slice ``sl``."""
        return Questions(c=self.c[sl], beta=self.beta[sl], u_ale=self.u_ale[sl],
                         c_hat=self.c_hat[sl], mask=self.mask[sl], budget=self.budget)


def sample_questions(params, n, seed=0):
    """Draw ``n`` questions from the prior of ``params``, docs/models/bbam.md (15)-(16).

    Parameters
    ----------
    params : BbamParams
    n : int
        Number of questions.
    seed : int
        Root seed; the draws come from the stream ``"bbam/questions"``.

    Returns
    -------
    Questions
    """
    gen = _rng.generator(seed, "bbam/questions")
    counts = np.asarray(params.m_counts, dtype=float)
    M = params.max_subquestions
    m = 1 + gen.choice(M, size=n, p=counts / counts.sum())
    mask = np.arange(M)[None, :] < m[:, None]
    beta = gen.uniform(params.beta_low, params.beta_high, (n, M))
    half = np.exp(gen.uniform(math.log(params.half_low), math.log(params.half_high), (n, M)))
    c = 0.5 * half ** beta * np.exp(-params.front_loading * np.arange(M))[None, :]
    u_ale = (gen.uniform(0.0, params.u_ale_max, (n, M)) if params.u_ale_max > 0
             else np.zeros((n, M)))
    c_hat = c * np.exp(params.planner_noise * gen.standard_normal((n, M)))
    # entries past a question's m are ignored through ``mask``; give them
    # harmless valid values so that parameter checks see no zeros
    absent = ~mask
    c[absent] = 1.0
    c_hat[absent] = 1.0
    u_ale[absent] = 0.0
    beta[absent] = 1.0
    return Questions(c=c, beta=beta, u_ale=u_ale, c_hat=c_hat, mask=mask, budget=params.budget)
