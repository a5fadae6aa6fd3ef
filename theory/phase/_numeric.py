"""Unchecked numerical kernels shared by the public functions of :mod:`theory.phase`.

Callers validate their arguments; these functions assume valid input and are
fast on floats and arrays: the majority map ``f_b`` and its slope
(``docs/models/phase.md (1), (2)``), the layer map ``g`` and its iteration
(``(4)``), the gain ``alpha`` (``(5)``), the cubic coefficient ``K`` (``(8)``)
and the fixed point ``mu*`` (``(6)``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np
from scipy import optimize, special

from theory._params import check_odd_int, check_real_array

#: Fan-ins up to this value evaluate f_b as a Horner polynomial (relative
#: error below 1e-15); larger fan-ins use the incomplete-Beta form.
_POLY_MAX_B = 15


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _vectorize(func, *arrays):
    """Apply a scalar function over broadcast arrays; scalars stay scalars."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    if arrays[0].ndim == 0:
        return float(func(*(float(a) for a in arrays)))
    out = np.empty(arrays[0].shape)
    for idx in np.ndindex(out.shape):
        out[idx] = func(*(float(a[idx]) for a in arrays))
    return out


def _core_args(b, rho, gamma):
    """Validated fan-in, correlation array and fidelity array of the binary core."""
    return (check_odd_int("b", b),
            check_real_array("rho", rho, 0.0, 1.0, hi_open=True),
            check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True))


@cache
def _fprime0_exact(b: int) -> Fraction:
    return Fraction(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1))


@cache
def _fprime0(b: int) -> float:
    return float(_fprime0_exact(b))


@cache
def _poly_coeffs(b: int) -> tuple:
    """Coefficients c_j of f_b(x) = x * sum_j c_j x^(2j), highest power first."""
    k = (b - 1) // 2
    fp = _fprime0_exact(b)
    co = [float(fp * math.comb(k, j) * (-1) ** j / (2 * j + 1)) for j in range(k + 1)]
    return tuple(reversed(co))


def _f(x, b):
    """f_b on floats or arrays, no checks."""
    if b <= _POLY_MAX_B:
        co = _poly_coeffs(b)
        x2 = x * x
        acc = co[0]
        for cj in co[1:]:
            acc = acc * x2 + cj
        return x * acc
    # Below |x| = 1e-100 the cubic term is under 1e-200 relative, and x*x would
    # lose precision as a subnormal: use the linear term.
    tiny = np.abs(x) < 1e-100
    return np.where(tiny, _fprime0(b) * x, np.sign(x) * special.betainc(0.5, 0.5 * (b + 1), x * x))


def _fprime(x, b):
    return _fprime0(b) * (1.0 - x * x) ** ((b - 1) // 2)


def _g(mu, b, rho, gamma):
    """Layer map g(mu) = rho*gamma*mu + (1 - rho) f_b(gamma*mu), no checks."""
    x = gamma * mu
    return rho * x + (1.0 - rho) * _f(x, b)


def _scalar_map(b, rho, gamma):
    """Pure-Python scalar version of :func:`_g` (fast inside scipy.integrate.quad)."""
    b, rho, gamma = int(b), float(rho), float(gamma)
    if b <= _POLY_MAX_B:
        co = _poly_coeffs(b)
        if rho == 0.0:

            def g(mu):
                x = gamma * mu
                x2 = x * x
                acc = 0.0
                for cj in co:
                    acc = acc * x2 + cj
                return x * acc

        else:
            one_m = 1.0 - rho

            def g(mu):
                x = gamma * mu
                x2 = x * x
                acc = 0.0
                for cj in co:
                    acc = acc * x2 + cj
                return rho * x + one_m * x * acc

        return g
    half = 0.5 * (b + 1)
    slope = _fprime0(b)

    def g(mu):
        x = gamma * mu
        if abs(x) < 1e-100:
            fx = slope * x
        else:
            fx = math.copysign(float(special.betainc(0.5, half, x * x)), x)
        return rho * x + (1.0 - rho) * fx

    return g


def _compose(g, depth):
    if depth == 0:
        return lambda mu: mu
    if depth == 1:
        return g

    def gl(mu):
        for _ in range(depth):
            mu = g(mu)
        return mu

    return gl


def _iterate(mu0, b, rho, gamma, depth):
    """Array [mu_0 .. mu_depth] of mu_{l+1} = g(mu_l); level axis first."""
    mu0, rho, gamma = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (mu0, rho, gamma)))
    out = np.empty((depth + 1,) + mu0.shape)
    out[0] = mu0
    mu = mu0
    for level in range(1, depth + 1):
        mu = _g(mu, b, rho, gamma)
        out[level] = mu
    return out


def _alpha(b, rho, gamma):
    return gamma * (rho + (1.0 - rho) * _fprime0(b))


def _cubic(b, rho, gamma):
    return (1.0 - rho) * _fprime0(b) * ((b - 1) / 2) * gamma**3 / 3.0


def _fixed_point_scalar(b, rho, gamma):
    alpha = _alpha(b, rho, gamma)
    if alpha <= 1.0:
        return 0.0
    if gamma == 1.0:
        return 1.0  # g(1) = 1 exactly when gamma = 1
    k = (b - 1) // 2
    slope = _fprime0(b)
    higher = _poly_coeffs(b)[:-1]  # c_k .. c_1 of f_b(x) = x sum_j c_j x^(2j)
    excess = alpha - 1.0
    scale = (1.0 - rho) * gamma

    def phi(m):
        # (g(m) - m) / m = (alpha - 1) + (1 - rho) gamma [f_b(x)/x - f_b'(0)], x = gamma m,
        # with the bracket summed without its constant term, so that the root stays
        # accurate to rounding even when alpha - 1 is tiny.
        x = gamma * m
        y = x * x
        if b <= _POLY_MAX_B or k * y < 0.25:  # series terms decrease: no cancellation
            acc = 0.0
            for cj in higher:
                acc = acc * y + cj
            series = acc * y
        else:
            series = float(special.betainc(0.5, 0.5 * (b + 1), y)) / x - slope
        return excess + scale * series

    if phi(1.0) >= 0.0:
        # 1 - g(1) is below rounding: mu* equals g(1) to machine precision
        return min(1.0, float(_scalar_map(b, rho, gamma)(1.0)))
    # (1 - u^2)^k >= 1 - k u^2 gives g(mu) >= alpha mu - K mu^3, so phi > 0 on
    # (0, sqrt((alpha - 1)/K)); phi is decreasing on (0, 1] and phi(1) < 0.
    estimate = math.sqrt(excess / _cubic(b, rho, gamma))
    lo = 0.5 * min(1.0, estimate)
    if not phi(lo) > 0.0:  # cannot happen in exact arithmetic; keep the cubic estimate
        return min(1.0, estimate)
    return optimize.brentq(phi, lo, 1.0, xtol=1e-16, rtol=4 * np.finfo(float).eps, maxiter=500)

