"""Sub-question outcomes under a token cap, and how they make a question's outcome.

The simulation's model, derived here from the paper's utility
``alpha (1 - U(b))`` read as a success probability: a sub-question's required
length ``tau`` has ``P(tau > x) = min(1, U(x))``, so it is solved within ``b``
tokens with probability ``1 - min(1, U(b))`` and spends ``min(tau, b)``
tokens; a question is solved by a synthesis rule over its sub-questions.
docs/models/bbam.md (17), (19) and (20).
"""

from __future__ import annotations

import numpy as np

from theory._params import check_choice, check_real_array
from theory.bbam._layout import NONNEG, POS, checked, layout, lead_out, out
from theory.bbam.uncertainty import _power_law

__all__ = ["SYNTHESIS_RULES", "solve_probability", "expected_tokens", "synthesis_probability"]

#: Synthesis rules of :func:`synthesis_probability`.
SYNTHESIS_RULES = ("all", "any", "majority")


def _outcome_args(b, c, beta, u_ale):
    b = check_real_array("b", b, **NONNEG)
    c = check_real_array("c", c, **POS)
    beta = check_real_array("beta", beta, **POS)
    u_ale = check_real_array("u_ale", u_ale, **NONNEG)
    return np.broadcast_arrays(b, c, beta, u_ale)


def solve_probability(b, c, beta, u_ale=0.0):
    """Probability that a sub-question is solved within ``b`` tokens, docs/models/bbam.md (17).

    ``1 - min(1, U(b))``, derived here: the simulation gives the required
    length ``tau`` the survival function ``P(tau > x) = min(1, U(x))`` with
    ``U`` of :func:`~theory.bbam.uncertainty`, which reads the paper's utility ``1 - U`` as
    a success probability (and, with probability ``u_ale``, ``tau = inf``).

    Parameters
    ----------
    b : array_like
        Tokens, ``>= 0`` (0 where ``b == 0``).
    c, beta, u_ale : array_like
        As in :func:`~theory.bbam.uncertainty`.

    Returns
    -------
    float or ndarray
        In ``[0, 1 - u_ale]``.
    """
    b, c, beta, u_ale = _outcome_args(b, c, beta, u_ale)
    u = _power_law(b, c, beta) + u_ale
    return out(1.0 - np.minimum(1.0, u))


def expected_tokens(b, c, beta, u_ale=0.0):
    """Expected tokens spent under a cap ``b``, docs/models/bbam.md (19).

    ``E[min(tau, b)] = int_0^b min(1, U(x)) dx``, derived here for the length
    model of
    :func:`solve_probability`. With ``x0 = (c / (1 - u_ale))**(1/beta)`` the
    point where ``U(x0) = 1``: ``E = b`` if ``b <= x0`` (or ``u_ale >= 1``),
    else

    ``E = x0 + u_ale (b - x0) + (1 - u_ale) x0 ((b/x0)**(1-beta) - 1) / (1 - beta)``,

    whose last factor is ``ln(b / x0)`` at ``beta = 1`` (evaluated as
    ``expm1((1-beta) L) / (1-beta)``, ``L = ln(b/x0)``, with no cancellation
    near ``beta = 1``).

    Parameters
    ----------
    b : array_like
        Token cap, ``>= 0``.
    c, beta, u_ale : array_like
        As in :func:`~theory.bbam.uncertainty`.

    Returns
    -------
    float or ndarray
        In ``[0, b]``.
    """
    b, c, beta, u_ale = _outcome_args(b, c, beta, u_ale)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        reducible = u_ale < 1.0
        u_safe = np.where(reducible, u_ale, 0.0)
        x0 = np.where(reducible, np.exp((np.log(c) - np.log1p(-u_safe)) / beta), np.inf)
        tail = b > x0
        x0s = np.where(tail, x0, 1.0)
        bs = np.where(tail, b, 1.0)
        L = np.log(bs / x0s)
        a = 1.0 - beta
        a_safe = np.where(a == 0.0, 1.0, a)
        integral = np.where(a == 0.0, L, np.expm1(a * L) / a_safe)
        value = x0s + u_ale * (bs - x0s) + (1.0 - u_ale) * x0s * integral
    return out(np.where(tail, value, b))


def synthesis_probability(p, rule="all", mask=None):
    """Probability that a question is solved from independent sub-question outcomes.

    docs/models/bbam.md (20), derived here (the paper names a synthesis
    ``y = S(a_i1..a_im)`` but does not specify it; the rule is an open choice,
    ``--synthesis``): with independent success probabilities ``p_j`` of the
    existing sub-questions,

    * ``"all"``: every sub-question must succeed, ``prod_j p_j``;
    * ``"any"``: one success suffices, ``1 - prod_j (1 - p_j)``;
    * ``"majority"``: more than half of the ``m`` succeed,
      ``P(sum_j X_j > m/2)`` for the Poisson-binomial count (dynamic
      programming over the sub-question axis).

    Parameters
    ----------
    p : array_like
        Success probabilities in ``[0, 1]``, sub-questions on the last axis.
    rule : {"all", "any", "majority"}, default "all"
    mask : array_like of bool, optional

    Returns
    -------
    float or ndarray
        One value per question.
    """
    check_choice("rule", rule, SYNTHESIS_RULES)
    (p2,), mask2, _, lead, m = layout("p", p, (), mask)
    p2 = checked("p", p2, mask2, fill=0.0, lo=0.0, hi=1.0)
    if rule == "all":
        prob = np.prod(p2 if mask2 is None else np.where(mask2, p2, 1.0), axis=-1)
    elif rule == "any":
        prob = 1.0 - np.prod(1.0 - p2, axis=-1)  # masked entries have p = 0
    else:
        n = p2.shape[0]
        dist = np.zeros((n, m + 1))
        dist[:, 0] = 1.0
        for j in range(m):  # loop over sub-question slots, vectorised over questions
            pj = p2[:, j : j + 1]
            dist[:, 1:] = dist[:, 1:] * (1.0 - pj) + dist[:, :-1] * pj
            dist[:, :1] *= 1.0 - pj
        counts = np.full(n, m) if mask2 is None else mask2.sum(axis=-1)
        need = counts // 2 + 1
        prob = np.where(np.arange(m + 1) >= need[:, None], dist, 0.0).sum(axis=-1)
    return lead_out(prob, lead)


