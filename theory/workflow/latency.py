"""Latency laws moment-matched to a mean and a standard deviation, floored at 1 ms.

``docs/models/workflow.md`` (3)-(5): the authors' code draws a sample's
latency from a lognormal law (the default), a gamma law or a Gaussian with the
node's mean ``mu`` and sd ``s``, and floors it at :data:`theory.workflow.FLOOR`.
The lognormal parameters are ``phi = sqrt(s^2 + mu^2)``,
``sigma = sqrt(ln(phi^2 / mu^2))``, ``m = ln(mu^2 / phi)``; the gamma law has
shape ``(mu/s)^2`` and scale ``s^2 / mu``. Before the floor each law has mean
``mu`` and sd ``s`` exactly (derived here, certified by
``theory.symbolic.workflow``). Also here: the distribution and quantile
functions with the floor, and the mean of the largest of ``k`` latencies, the
time a batch of ``k`` parallel samples takes (6).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats

from theory._params import check_choice, check_int, check_real
from theory.workflow._common import _nonneg, _out, _positive
from theory.workflow.params import FLOOR, LAWS

__all__ = ["lognormal_params", "gamma_params", "law_moments", "latency_cdf", "latency_quantile",
           "latency_tail_quantile", "expected_max"]

#: Below this sd a law is treated as deterministic (the authors' guard ``max(s, 1e-9)``).
_TINY_SD = 1e-9


def lognormal_params(latency, latency_sd):
    """``(m, sigma)`` of the lognormal law with mean ``mu`` and sd ``s``, (4).

    Parameters
    ----------
    latency : array_like
        Mean ``mu > 0``.
    latency_sd : array_like
        Standard deviation ``s >= 0``.

    Returns
    -------
    (m, sigma) : floats or ndarrays
        ``phi = sqrt(s^2 + mu^2)``, ``sigma = sqrt(ln(phi^2 / mu^2))``, ``m = ln(mu^2 / phi)``.
    """
    mu = _positive("latency", latency)
    s = _nonneg("latency_sd", latency_sd)
    # ln(phi^2 / mu^2) = log1p((s/mu)^2) and ln(mu^2 / phi) = ln(mu) - log1p((s/mu)^2) / 2,
    # written so that a small s/mu loses nothing
    v = np.log1p((s / mu) ** 2)
    return _out(np.log(mu) - 0.5 * v), _out(np.sqrt(v))


def gamma_params(latency, latency_sd):
    """``(shape, scale) = ((mu/s)^2, s^2/mu)``: the gamma law with mean ``mu`` and sd ``s``, (5).

    ``s = 0`` gives an infinite shape and zero scale (the deterministic limit).
    """
    mu = _positive("latency", latency)
    s = _nonneg("latency_sd", latency_sd)
    with np.errstate(divide="ignore", over="ignore"):
        shape = (mu / s) ** 2
    return _out(shape), _out(s**2 / mu)


def law_moments(latency_law, a, b):
    """Mean and sd of a law from its parameters: the inverse of (4), (5) and the identity.

    Parameters
    ----------
    latency_law : {"lognormal", "gamma", "gaussian"}
    a, b : array_like
        ``(m, sigma)``, ``(shape, scale)`` or ``(mean, sd)``.

    Returns
    -------
    (mean, sd) : floats or ndarrays
        Before the floor.
    """
    law = check_choice("latency_law", latency_law, LAWS)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if law == "lognormal":
        mean = np.exp(a + 0.5 * b**2)
        sd = mean * np.sqrt(np.expm1(b**2))
    elif law == "gamma":
        mean = a * b
        sd = np.sqrt(a) * b
    else:
        mean, sd = a, b
    return _out(mean), _out(sd)


def _frozen(law, mu, s):
    """The scipy law of a latency before the floor (None when deterministic)."""
    if s <= _TINY_SD * max(mu, 1.0):
        return None
    if law == "lognormal":
        m, sigma = lognormal_params(mu, s)
        return stats.lognorm(s=sigma, scale=math.exp(m))
    if law == "gamma":
        shape, scale = gamma_params(mu, s)
        return stats.gamma(a=shape, scale=scale)
    return stats.norm(loc=mu, scale=s)


def _scalars(latency_law, latency, latency_sd):
    law = check_choice("latency_law", latency_law, LAWS)
    mu = check_real("latency", latency, 0.0, None, lo_open=True)
    s = check_real("latency_sd", latency_sd, 0.0)
    return law, mu, s


def latency_cdf(latency_law, latency, latency_sd, x):
    """``Pr[L <= x]`` of one floored latency ``L = max(X, FLOOR)``, (3).

    Parameters
    ----------
    latency_law : {"lognormal", "gamma", "gaussian"}
    latency, latency_sd : float
        Mean and sd of ``X``.
    x : array_like

    Returns
    -------
    float or ndarray
    """
    law, mu, s = _scalars(latency_law, latency, latency_sd)
    x = np.asarray(x, dtype=float)
    dist = _frozen(law, mu, s)
    if dist is None:
        val = (x >= max(mu, FLOOR)).astype(float)
    else:
        val = np.where(x < FLOOR, 0.0, dist.cdf(x))
    return _out(val)


def latency_quantile(latency_law, latency, latency_sd, u):
    """The quantile function of one floored latency, ``max(F^-1(u), FLOOR)``, (3).

    Parameters
    ----------
    latency_law : {"lognormal", "gamma", "gaussian"}
    latency, latency_sd : float
    u : array_like
        Levels in ``[0, 1]``.

    Returns
    -------
    float or ndarray
    """
    law, mu, s = _scalars(latency_law, latency, latency_sd)
    u = np.asarray(u, dtype=float)
    dist = _frozen(law, mu, s)
    if dist is None:
        return _out(np.full(u.shape, max(mu, FLOOR)))
    with np.errstate(invalid="ignore"):
        val = dist.ppf(u)
    return _out(np.maximum(np.nan_to_num(val, nan=FLOOR, neginf=FLOOR), FLOOR))


def latency_tail_quantile(latency_law, latency, latency_sd, tail):
    """The latency exceeded with probability ``tail``: ``max(F^-1(1 - tail), FLOOR)``, (3).

    The same function as :func:`latency_quantile` at ``u = 1 - tail``, computed
    from the survival function so that tails far below the spacing of doubles
    near 1 (``tail = 1e-17``) keep their accuracy.

    Parameters
    ----------
    latency_law : {"lognormal", "gamma", "gaussian"}
    latency, latency_sd : float
    tail : array_like
        Upper-tail probabilities in ``[0, 1]``.

    Returns
    -------
    float or ndarray
    """
    law, mu, s = _scalars(latency_law, latency, latency_sd)
    tail = np.asarray(tail, dtype=float)
    dist = _frozen(law, mu, s)
    if dist is None:
        return _out(np.full(tail.shape, max(mu, FLOOR)))
    val = dist.isf(tail)
    return _out(np.maximum(np.nan_to_num(val, nan=FLOOR, neginf=FLOOR), FLOOR))


def expected_max(latency_law, latency, latency_sd, k):
    """Mean time of a batch of ``k`` parallel samples, ``E[max of k floored latencies]``, (6).

    ``FLOOR + integral_FLOOR^inf (1 - F(x)^k) dx`` by adaptive quadrature
    (derived here; ``mu H_k`` for exponential latencies, (24)).

    Returns
    -------
    float
    """
    law, mu, s = _scalars(latency_law, latency, latency_sd)
    k = int(check_int("k", k, 1))
    dist = _frozen(law, mu, s)
    if dist is None:
        return float(max(mu, FLOOR))

    def survival_max(x):
        # 1 - F(x)^k, accurate where F(x) is close to 1
        sf = float(dist.sf(x))
        return -math.expm1(k * math.log1p(-sf)) if sf < 1.0 else 1.0

    hi = float(dist.isf(1e-17 / k))
    val, _ = integrate.quad(survival_max, FLOOR, max(hi, FLOOR * 2), limit=400,
                            epsabs=1e-12, epsrel=1e-10)
    return float(FLOOR + val)

