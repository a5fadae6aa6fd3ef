"""The paper's closed form, the uniform split, their values, the Lambert-W peak, the bridge.

``docs/models/bbam.md`` (5)-(8) and (13): the paper's Eq. (6), which is the
exact optimum only when a question's exponents are equal; the uniform split
``B/m``; the optimal and uniform values for a common exponent; the exponent
that receives the most tokens; and the prior under which a Plan-and-Budget
schedule is the optimum.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from theory._params import accepts_params, check_bool_array, check_int, check_real_array
from theory.bbam._layout import (
    NONNEG,
    POS,
    c_beta_budget,
    col_max,
    layout,
    lead_out,
    out,
    reshape_out,
)

__all__ = ["allocate_paper", "allocate_uniform", "equal_beta_value", "uniform_value",
           "beta_star", "bridge_prior"]


@accepts_params
def allocate_paper(c, beta, budget, mask=None):
    """The paper's closed form (paper Eq. (6) of v3), docs/models/bbam.md (5).

    ``b_ij = B_i (c_ij beta_ij)**(1/(beta_ij+1)) / sum_k (c_ik beta_ik)**(1/(beta_ik+1))``.

    It normalises the stationary points at ``lambda = 1``. It equals the exact
    optimum :func:`~theory.bbam.allocate_kkt` when all exponents within a question are
    equal, and not otherwise (derived here): with
    ``c = (0.5, 0.3, 0.9)``, ``beta = (1, 1.5, 2.5)``, ``B = 300`` its
    objective is about twice the optimum's and worse than uniform.

    Parameters
    ----------
    c, beta, budget, mask
        As in :func:`~theory.bbam.allocate_kkt`.

    Returns
    -------
    ndarray
        Same shape as :func:`~theory.bbam.allocate_kkt`.
    """
    c2, beta2, budget1, mask2, lead, m = c_beta_budget(c, beta, budget, mask)
    lv = (np.log(beta2) + np.log(c2)) / (beta2 + 1.0)
    if mask2 is not None:
        lv[~mask2] = -np.inf
    w = np.exp(lv - col_max(lv)[:, None])
    b = w * (budget1 / w.sum(axis=-1))[:, None]
    return reshape_out(b, lead, m)


def _uniform_mask(mask, m):
    if m is not None:
        if mask is not None:
            raise ValueError("give either mask or m to allocate_uniform, not both")
        mask = m
    if mask is None:
        raise ValueError("allocate_uniform needs the number of sub-questions m or a mask")
    if isinstance(mask, (int, np.integer)) and not isinstance(mask, (bool, np.bool_)):
        m = check_int("m", mask, 1)
        mask = np.ones(m, dtype=bool)
    return mask


@accepts_params
def allocate_uniform(budget, mask=None, m=None):
    """Uniform allocation ``B / m`` to each existing sub-question, docs/models/bbam.md (6).

    The real-valued counterpart of the official code's
    ``planned_local_uniform`` baseline (``floor(B / m)`` words each).

    Parameters
    ----------
    budget : array_like
        Total budgets, ``> 0``, one per question.
    mask : array_like of bool or int
        Existing sub-questions (sub-questions on the last axis), or the number
        of sub-questions ``m >= 1`` when every question has the same ``m``.
    m : int, optional
        Keyword form of the number of sub-questions (instead of ``mask``).

    Returns
    -------
    ndarray
        Shape ``broadcast(budget.shape, mask.shape[:-1]) + (m,)``; masked-out
        entries are 0.
    """
    mask = _uniform_mask(mask, m)
    (mask2,), _, budget1, lead, m_slots = layout("mask", check_bool_array("mask", mask),
                                                  budget=budget)
    budget1 = check_real_array("budget", budget1, **POS)
    count = mask2.sum(axis=-1)
    if not (count > 0).all():
        raise ValueError("mask must keep at least one sub-question in every question")
    b = np.where(mask2, (budget1 / count)[:, None], 0.0)
    return reshape_out(b, lead, m_slots)


def _common_beta(beta2, mask2):
    """The per-question common exponent, checked to be constant over existing entries."""
    first = beta2[np.arange(beta2.shape[0]), np.argmax(mask2, axis=-1)] if mask2 is not None \
        else beta2[:, 0]
    same = beta2 == first[:, None]
    if mask2 is not None:
        same |= ~mask2
    if not same.all():
        raise ValueError(
            "beta must be common to the sub-questions of each question for the equal-beta "
            "closed form; use objective(allocate_kkt(...)) otherwise"
        )
    return first


@accepts_params
def equal_beta_value(c, beta, budget, mask=None):
    """Optimal value for a common exponent, docs/models/bbam.md (7).

    ``B**-beta (sum_j c_j**(1/(beta+1)))**(beta+1)``, derived here: with all
    ``beta_j = beta`` the paper's form (5) is the exact optimum (4),
    ``b_j = B c_j**(1/(beta+1)) / sum_k c_k**(1/(beta+1))``,
    and substituting it into ``sum_j c_j b_j**(-beta)`` gives the closed form.
    By Hoelder's inequality it never exceeds :func:`uniform_value`.

    Parameters
    ----------
    c : array_like
        ``> 0``, sub-questions on the last axis.
    beta : array_like
        ``> 0``; broadcasts against ``c`` and must be constant over the existing
        sub-questions of each question (e.g. a scalar, or ``beta[..., None]``
        for one exponent per question).
    budget : array_like
        ``> 0``, one per question.
    mask : array_like of bool, optional

    Returns
    -------
    float or ndarray
        One value per question.
    """
    c2, beta2, budget1, mask2, lead, _ = c_beta_budget(c, beta, budget, mask)
    bq = _common_beta(beta2, mask2)
    powers = np.power(c2, 1.0 / (beta2 + 1.0))
    if mask2 is not None:
        powers[~mask2] = 0.0
    total = powers.sum(axis=-1)
    value = np.exp((bq + 1.0) * np.log(total) - bq * np.log(budget1))
    return lead_out(value, lead)


@accepts_params
def uniform_value(c, beta, budget, mask=None):
    """Objective of the uniform allocation, ``sum_j c_j (B/m)**(-beta_j)``.

    For a common exponent this is ``m**beta B**-beta sum_j c_j``,
    docs/models/bbam.md (7).

    Parameters
    ----------
    c, beta, budget, mask
        As in :func:`~theory.bbam.allocate_kkt` (``beta`` may differ across sub-questions).

    Returns
    -------
    float or ndarray
        One value per question.
    """
    c2, beta2, budget1, mask2, lead, _ = c_beta_budget(c, beta, budget, mask)
    count = np.full(c2.shape[0], c2.shape[1]) if mask2 is None else mask2.sum(axis=-1)
    terms = c2 * np.power((budget1 / count)[:, None], -beta2)
    if mask2 is not None:
        terms[~mask2] = 0.0
    return lead_out(terms.sum(axis=-1), lead)


def beta_star(c, lam=1.0):
    """Exponent that receives the most tokens, docs/models/bbam.md (8).

    ``beta* = 1 / W0(c / (lam e))``, derived here: for fixed ``c`` the stationary point
    ``(c beta / lam)**(1/(beta+1))`` is unimodal in ``beta > 0`` (it tends to 0
    as ``beta -> 0+`` and to 1 as ``beta -> inf``); setting
    ``d/dbeta ln(c beta / lam)/(beta + 1) = 0`` gives
    ``ln(c beta / lam) = 1 + 1/beta``, i.e. ``t e**t = c/(lam e)`` with
    ``t = 1/beta``. ``lam = 1`` is the weight of the paper's Eq. (6), whose
    "medium difficulty gets the most tokens" reading is the paper's; with the
    exact multiplier of (4) the peak moves to ``1/W0(c/(lam e))`` and lies below
    1 for realistic budgets.

    Parameters
    ----------
    c : array_like
        ``> 0``.
    lam : array_like, default 1.0
        Lagrange multiplier, ``> 0``.

    Returns
    -------
    float or ndarray
        ``beta* > 0`` (the real part of :func:`scipy.special.lambertw` on the
        principal branch).
    """
    c = check_real_array("c", c, **POS)
    lam = check_real_array("lam", lam, **POS)
    z = np.exp(np.log(c) - np.log(lam) - 1.0)
    return out(1.0 / special.lambertw(z, 0).real)


def bridge_prior(w, f, beta, kappa=1.0):
    """Prior under which a schedule is the exact optimum, docs/models/bbam.md (13).

    ``c_j = kappa (w_j f_j)**(beta+1)``. Bridge identity, derived here: for any
    common ``beta``, the Plan-and-Budget allocation ``B w_j f_j / sum_k w_k f_k``
    of docs/models/bbam.md (11) equals the allocation (5) (= the optimum (4))
    with these ``c_j``, for every ``kappa > 0``. So
    polynomial decay ``(m - i)**p`` is BBAM-optimal when ``c`` falls with
    position as ``(m - i)**(p (beta + 1))``.

    Parameters
    ----------
    w : array_like
        Complexity weights (credits or normalised credits), ``>= 0``.
    f : array_like
        Schedule multipliers (:func:`~theory.bbam.schedule_weights`), ``>= 0``.
    beta : array_like
        Common exponent, ``> 0``.
    kappa : array_like, default 1.0
        Scale, ``> 0``; does not change the allocation.

    Returns
    -------
    float or ndarray
        ``c``; zero where ``w f == 0`` (such a prior is outside the BBAM domain
        ``c > 0``).
    """
    w = check_real_array("w", w, **NONNEG)
    f = check_real_array("f", f, **NONNEG)
    beta = check_real_array("beta", beta, **POS)
    kappa = check_real_array("kappa", kappa, **POS)
    return out(kappa * np.power(w * f, beta + 1.0))


