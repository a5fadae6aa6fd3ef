"""Message fidelity ``gamma(m)`` and message noise ``sigma_c^2(m)`` as functions of length.

``docs/models/phase.md (31), (32)``. The paper leaves the functional forms
open; these monotone families and the isotonic fit are this project's.
"""

from __future__ import annotations

import numpy as np

from theory._params import check_real, check_real_array
from theory.phase._numeric import _out

__all__ = ["gamma_exp_saturation", "gamma_logistic", "gamma_isotonic", "sigma2_exp",
           "sigma2_power"]


def gamma_exp_saturation(m, gamma_inf, m0):
    """Exponential-saturation fidelity ``gamma(m) = gamma_inf (1 - exp(-m / m0))``.

    ``docs/models/phase.md (31)``. The functional form of ``gamma(m)`` is
    open; this is one of the project's monotone families.

    Parameters
    ----------
    m : array_like
        Message length ``>= 0``.
    gamma_inf : float
        Asymptotic fidelity in ``(0, 1]``.
    m0 : float
        Length scale ``> 0``.

    Returns
    -------
    float or ndarray
    """
    m = check_real_array("m", m, 0.0, None)
    gamma_inf = check_real("gamma_inf", gamma_inf, 0.0, 1.0, lo_open=True)
    m0 = check_real("m0", m0, 0.0, None, lo_open=True)
    return _out(gamma_inf * -np.expm1(-m / m0))


def gamma_logistic(m, gamma_inf, m_half, k):
    """Logistic-in-log-length fidelity ``gamma(m) = gamma_inf / (1 + (m_half / m)^k)``.

    ``docs/models/phase.md (31)``: one of the project's monotone families for
    the open ``gamma(m)``. ``gamma(m_half) = gamma_inf / 2``; ``gamma(0) = 0``.

    Parameters
    ----------
    m : array_like
        Message length ``>= 0``.
    gamma_inf : float
        Asymptotic fidelity in ``(0, 1]``.
    m_half : float
        Half-saturation length ``> 0``.
    k : float
        Steepness ``> 0``.

    Returns
    -------
    float or ndarray
    """
    m = check_real_array("m", m, 0.0, None)
    gamma_inf = check_real("gamma_inf", gamma_inf, 0.0, 1.0, lo_open=True)
    m_half = check_real("m_half", m_half, 0.0, None, lo_open=True)
    k = check_real("k", k, 0.0, None, lo_open=True)
    with np.errstate(divide="ignore", over="ignore"):
        ratio = (m_half / m) ** k
    return _out(gamma_inf / (1.0 + ratio))


def _pava(y, w):
    """Weighted pool-adjacent-violators fit of a non-decreasing sequence."""
    values, weights, counts = [], [], []
    for yi, wi in zip(y, w):
        values.append(yi)
        weights.append(wi)
        counts.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            wsum = weights[-2] + weights[-1]
            merged = (values[-2] * weights[-2] + values[-1] * weights[-1]) / wsum
            counts[-2] += counts[-1]
            values[-2], weights[-2] = merged, wsum
            del values[-1], weights[-1], counts[-1]
    return np.repeat(values, counts)


def gamma_isotonic(m_obs, gamma_obs):
    """Monotone (non-decreasing) interpolant of measured ``(m, gamma)`` pairs.

    ``docs/models/phase.md (31)``: the empirical option for the open
    ``gamma(m)``, an
    isotonic least-squares fit (pool adjacent violators; repeated lengths are
    averaged and weighted by their count), clipped to ``[0, 1]``, then linear
    interpolation between the distinct lengths and constant extrapolation.

    Parameters
    ----------
    m_obs : array_like
        Message lengths (``> 0``), at least one.
    gamma_obs : array_like
        Measured fidelities ``1 - 2 eps_hat``, same length.

    Returns
    -------
    callable
        ``gamma(m)`` accepting scalars or arrays.
    """
    m_obs = np.atleast_1d(check_real_array("m_obs", m_obs, 0.0, None, lo_open=True))
    gamma_obs = np.atleast_1d(check_real_array("gamma_obs", gamma_obs))
    if m_obs.ndim != 1 or m_obs.shape != gamma_obs.shape or m_obs.size == 0:
        raise ValueError(
            f"gamma_obs must have the shape of m_obs, got {gamma_obs.shape} and {m_obs.shape}"
        )
    knots, inverse, counts = np.unique(m_obs, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=gamma_obs) / counts
    fitted = np.clip(_pava(means, counts.astype(float)), 0.0, 1.0)

    def gamma_of_m(m):
        m = check_real_array("m", m, 0.0, None)
        return _out(np.interp(m, knots, fitted))

    return gamma_of_m


def sigma2_exp(m, s0, s_inf, m0):
    """Exponential communication noise ``sigma_c^2(m) = s_inf + (s0 - s_inf) exp(-m / m0)``.

    ``docs/models/phase.md (32)``. ``sigma_c^2(m)`` is the paper's name
    (paper Eq. 13); the form is a project suggestion for an open choice.

    Parameters
    ----------
    m : array_like
        Message length ``>= 0``.
    s0 : float
        Variance at ``m = 0``, ``>= 0``.
    s_inf : float
        Asymptotic variance, ``>= 0``.
    m0 : float
        Length scale ``> 0``.

    Returns
    -------
    float or ndarray
    """
    m = check_real_array("m", m, 0.0, None)
    s0 = check_real("s0", s0, 0.0, None)
    s_inf = check_real("s_inf", s_inf, 0.0, None)
    m0 = check_real("m0", m0, 0.0, None, lo_open=True)
    return _out(s_inf + (s0 - s_inf) * np.exp(-m / m0))


def sigma2_power(m, kappa, eta):
    """Power-law communication noise ``sigma_c^2(m) = kappa m^(-eta)``.

    ``docs/models/phase.md (32)``: a project suggestion for the open form of
    ``sigma_c^2(m)``.

    Parameters
    ----------
    m : array_like
        Message length ``> 0``.
    kappa : float
        Scale ``>= 0``.
    eta : float
        Exponent ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    m = check_real_array("m", m, 0.0, None, lo_open=True)
    kappa = check_real("kappa", kappa, 0.0, None)
    eta = check_real("eta", eta, 0.0, None)
    return _out(kappa * m ** (-eta))
