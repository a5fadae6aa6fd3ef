"""Monte Carlo of the loss from the integer rounding of the Plan-and-Budget schedules."""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from theory import bbam as th
from theory._params import check_choice, check_int, check_real

__all__ = ["rounding_loss"]


def rounding_loss(trials=20_000, seed=0, schedule="polynomial", beta=1.0, m_max=7,
                  budgets=(200, 600), min_tokens=0):
    """Relative loss of the allocation objective from integer rounding, docs/models/bbam.md (25).

    For random integer credits (``m`` uniform in 2..``m_max``, credits >= 1
    summing to 100) and budgets uniform in ``budgets``, the prior
    ``c = (w f)**(beta+1)`` makes the real-valued schedule the exact optimum
    (the bridge identity, docs/models/bbam.md (13)); the loss is
    ``objective(integer) / objective(real) - 1`` with the objective (3) and
    the rounding (12), ``inf`` where rounding leaves a sub-question 0 tokens.

    Parameters
    ----------
    trials : int
        Random cases (credits and budget), ``>= 1``.
    seed : int
    schedule : str
        One of :data:`theory.bbam.SCHEDULES`.
    beta : float
        Common exponent, ``> 0``.
    m_max : int
        Largest number of sub-questions, in 2..100.
    budgets : (int, int)
        Budgets are drawn uniformly from ``budgets[0]..budgets[1]``.
    min_tokens : int
        Floor of every budget (see :func:`theory.bbam.allocate_plan_and_budget`).

    Returns
    -------
    ndarray of float, shape (trials,)
    """
    cases = check_int("trials", trials, 1)
    m_max = check_int("m_max", m_max, 2, 100)
    check_choice("schedule", schedule, th.SCHEDULES)
    beta = check_real("beta", beta, 0.0, lo_open=True)
    lo, hi = (check_int("budgets", int(x), 1) for x in budgets)
    gen = _rng.generator(seed, "bbam/rounding")
    m = gen.integers(2, m_max + 1, size=cases)
    mask = np.arange(m_max)[None, :] < m[:, None]
    weights = np.where(mask, gen.dirichlet(np.ones(m_max), size=cases), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    credits = np.ones((cases, m_max), dtype=np.int64)
    for i in range(cases):  # credits >= 1 summing to 100
        credits[i, : m[i]] += gen.multinomial(100 - m[i], weights[i, : m[i]])
    B = gen.integers(lo, hi + 1, size=cases)
    shares = th.plan_and_budget_shares(credits, schedule, mask=mask)
    f = np.stack([np.concatenate([th.schedule_weights(schedule, int(k)), np.ones(m_max - k)])
                  for k in m])
    w = credits / np.where(mask, credits, 0).sum(axis=1, keepdims=True)
    c = np.where(mask, (w * f) ** (beta + 1.0), 1.0)
    real = shares * B[:, None]
    integer = th.allocate_plan_and_budget(credits, B, schedule=schedule, mask=mask,
                                          min_tokens=min_tokens).astype(float)
    with np.errstate(divide="ignore"):
        obj_int = np.where(mask, c * np.where(integer > 0, integer, 0.0) ** -beta, 0.0).sum(axis=1)
    obj_real = np.where(mask, c * np.where(mask, real, 1.0) ** -beta, 0.0).sum(axis=1)
    return obj_int / obj_real - 1.0
