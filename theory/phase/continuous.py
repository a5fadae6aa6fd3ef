"""The continuous warm-up: risks of averaging stars, trees and chains with noisy messages.

``docs/models/phase.md (33)-(39)``: agents hold scalar estimates whose errors
are correlated, messages add independent noise, aggregators average. The tree
floor ``v*`` is the paper's (paper Eq. 13); the other closed forms are derived
here.
"""

from __future__ import annotations

import numpy as np

from theory._params import accepts_params, check_int, check_int_array, check_real_array
from theory.phase._numeric import _out

__all__ = ["star_risk", "budgeted_star_risk", "budgeted_star_optimum", "tree_lambda", "v_star",
           "tree_risk", "tree_risk_global_shock", "chain_risk_relay", "chain_risk_running"]


@accepts_params
def star_risk(N, v, rho, sigma2):
    """Risk of averaging ``N`` correlated estimates, ``v [rho + (1-rho)/N] + sigma_c^2 / N``.

    ``docs/models/phase.md (33)``, derived here in the warm-up setting
    (equicorrelated errors of variance ``v``, independent message noise). The
    floor ``rho v`` is the correlation-induced floor the paper names.

    Parameters
    ----------
    N : array_like
        Number of agents ``>= 1`` (real values allowed for relaxations).
    v : array_like
        Error variance of one agent, ``>= 0``.
    rho : array_like
        Pairwise error correlation in ``[0, 1)``.
    sigma2 : array_like
        Message-noise variance ``sigma_c^2(m) >= 0``.

    Returns
    -------
    float or ndarray
    """
    N = check_real_array("N", N, 1.0, None)
    v = check_real_array("v", v, 0.0, None)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    return _out(v * (rho + (1.0 - rho) / N) + sigma2 / N)


@accepts_params
def budgeted_star_risk(N, A, budget, beta, rho, sigma2):
    """Star risk at a fixed budget, ``A B^-beta [rho N^beta + (1-rho) N^(beta-1)] + sigma_c^2 / N``.

    ``docs/models/phase.md (34)``, derived here with the project's leaf law
    ``v = A x^-beta`` (an open choice) and ``x = B / N``.

    Parameters
    ----------
    N : array_like
        Number of agents ``>= 1``.
    A : float
        Leaf-risk scale ``> 0``.
    budget : float
        Total budget ``B > 0``.
    beta : float
        Leaf exponent ``> 0``.
    rho : array_like
        Correlation in ``[0, 1)``.
    sigma2 : array_like
        Message-noise variance ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    N = check_real_array("N", N, 1.0, None)
    A = check_real_array("A", A, 0.0, None, lo_open=True)
    budget = check_real_array("budget", budget, 0.0, None, lo_open=True)
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    leaf = A * budget ** (-beta)
    return _out(leaf * (rho * N**beta + (1.0 - rho) * N ** (beta - 1.0)) + sigma2 / N)


@accepts_params
def budgeted_star_optimum(rho, beta):
    """Risk-minimising star size without message noise, ``N* = (1-rho)(1-beta) / (rho beta)``.

    ``docs/models/phase.md (34)``, derived here by setting the ``N``-derivative of
    :func:`budgeted_star_risk` (``sigma_c = 0``) to zero. A continuous
    optimum; over ``N >= 1`` the optimum is ``max(1, N*)``. ``rho = 0`` gives
    ``inf`` (context saturation: the risk falls up to the fan-in cap).

    Parameters
    ----------
    rho : array_like
        Correlation in ``[0, 1)``.
    beta : array_like
        Leaf exponent in ``(0, 1)``.

    Returns
    -------
    float or ndarray
    """
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    beta = check_real_array("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    with np.errstate(divide="ignore"):
        return _out((1.0 - rho) * (1.0 - beta) / (rho * beta))


@accepts_params
def tree_lambda(b, rho):
    """Per-level variance factor of the averaging tree, ``lambda = rho + (1 - rho)/b``.

    ``docs/models/phase.md (35)``, derived here: averaging ``b`` equicorrelated
    children multiplies the error variance by ``lambda``.

    Parameters
    ----------
    b : int
        Fan-in ``>= 2``.
    rho : array_like
        Per-level correlation in ``[0, 1)``.

    Returns
    -------
    float or ndarray
    """
    b = check_int("b", b, 2)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    return _out(rho + (1.0 - rho) / b)


@accepts_params
def v_star(b, rho, sigma2):
    """Depth floor of the averaging tree, ``v* = sigma_c^2 / ((b - 1)(1 - rho))``.

    Paper Eq. 13; ``docs/models/phase.md (36)``.

    Communication-induced and amplified by correlation.

    Parameters
    ----------
    b : int
        Fan-in ``>= 2``.
    rho : array_like
        Per-level correlation in ``[0, 1)``.
    sigma2 : array_like
        Message-noise variance ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    b = check_int("b", b, 2)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    return _out(sigma2 / ((b - 1) * (1.0 - rho)))


@accepts_params
def tree_risk(depth, v0, b, rho, sigma2):
    """Risk of a depth-``L`` averaging tree, ``v_L = lambda^L v0 + v* (1 - lambda^L)``.

    Closed form of ``v_{l+1} = lambda v_l + sigma_c^2 / b`` with per-level
    correlation, derived here (``docs/models/phase.md (35)``); the floor ``v*``
    is the paper's (paper Eq. 13).

    Parameters
    ----------
    depth : array_like of int
        Depth ``L >= 0``.
    v0 : array_like
        Leaf error variance ``>= 0``.
    b : int
        Fan-in ``>= 2``.
    rho : array_like
        Per-level correlation in ``[0, 1)``.
    sigma2 : array_like
        Message-noise variance ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    depth = check_int_array("depth", depth, 0)
    v0 = check_real_array("v0", v0, 0.0, None)
    b = check_int("b", b, 2)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    lam_l = (rho + (1.0 - rho) / b) ** depth
    floor = sigma2 / ((b - 1) * (1.0 - rho))
    return _out(lam_l * v0 + floor * (1.0 - lam_l))


@accepts_params
def tree_risk_global_shock(depth, v0, b, rho, sigma2):
    """Risk of an averaging tree whose leaves share one global error component.

    ``R_L = rho v0 + (1 - rho) v0 b^-L + sigma_c^2 (1 - b^-L) / (b - 1)``,
    derived here (``docs/models/phase.md (37)``); floor
    ``rho v0 + sigma_c^2 / (b - 1)``. This is also the continuous
    item-difficulty model.

    Parameters
    ----------
    depth : array_like of int
        Depth ``L >= 0``.
    v0 : array_like
        Leaf error variance ``>= 0``.
    b : int
        Fan-in ``>= 2``.
    rho : array_like
        Correlation of any two leaves, in ``[0, 1)``.
    sigma2 : array_like
        Message-noise variance per edge, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    depth = check_int_array("depth", depth, 0)
    v0 = check_real_array("v0", v0, 0.0, None)
    b = check_int("b", b, 2)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    shrink = float(b) ** (-depth.astype(float))
    return _out(rho * v0 + (1.0 - rho) * v0 * shrink + sigma2 * (1.0 - shrink) / (b - 1))


def chain_risk_relay(k, v, sigma2):
    """Risk after relaying one estimate over ``k`` hops, ``v + k sigma_c^2``.

    ``docs/models/phase.md (38)``: one of two candidate chain models derived
    here; the paper's chain model is not known.

    Parameters
    ----------
    k : array_like of int
        Number of hops ``>= 0``.
    v : array_like
        Error variance of the source, ``>= 0``.
    sigma2 : array_like
        Noise variance per hop, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    k = check_int_array("k", k, 0)
    v = check_real_array("v", v, 0.0, None)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    return _out(v + k * sigma2)


@accepts_params
def chain_risk_running(k, v, rho, sigma2):
    """Risk of a running-average chain of ``k`` agents.

    ``v [rho + (1 - rho)/k] + sigma_c^2 (k - 1)(2k - 1) / (6k)``: agent ``j``
    forms ``M_j = [(j-1)(M_{j-1} + n_j) + e_j] / j`` from the noisy incoming
    mean, so every estimate has weight ``1/k`` and the noise on hop ``j``
    weight ``(j-1)/k``. ``docs/models/phase.md (39)``, derived here; the
    paper's chain model is not known.

    Parameters
    ----------
    k : array_like of int
        Number of agents ``>= 1``.
    v : array_like
        Error variance per agent, ``>= 0``.
    rho : array_like
        Pairwise error correlation in ``[0, 1)``.
    sigma2 : array_like
        Noise variance per hop, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    k = check_int_array("k", k, 1).astype(float)
    v = check_real_array("v", v, 0.0, None)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real_array("sigma2", sigma2, 0.0, None)
    return _out(v * (rho + (1.0 - rho) / k) + sigma2 * (k - 1.0) * (2.0 * k - 1.0) / (6.0 * k))
