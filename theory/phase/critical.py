"""Where the phase changes: critical fidelity, correlation, fan-in and message length.

``docs/models/phase.md (11)-(13)``, all derived here from the gain of paper
Thm 4 by solving ``alpha_rho = 1``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import optimize

from theory._params import accepts_params, check_odd_int, check_real, check_real_array
from theory.phase._numeric import _fprime0, _fprime0_exact, _out

__all__ = ["gamma_c", "rho_c", "b_c", "m_c", "evans_schulman_epsilon"]


@accepts_params
def gamma_c(rho, b):
    """Critical fidelity ``gamma_c = 1 / [rho + (1 - rho) f_b'(0)]``.

    ``docs/models/phase.md (11)``, derived here from the paper's ``alpha_rho``:
    the herding tree amplifies iff ``gamma > gamma_c``.

    Parameters
    ----------
    rho : array_like
        Correlation in ``[0, 1)``.
    b : int
        Odd fan-in ``>= 3``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    return _out(1.0 / (rho + (1.0 - rho) * _fprime0(b)))


@accepts_params
def rho_c(gamma, b):
    """Critical correlation ``rho_c = (f_b'(0) - 1/gamma) / (f_b'(0) - 1)``.

    ``docs/models/phase.md (11)``, derived here from the paper's ``alpha_rho``:
    the herding tree amplifies iff ``rho < rho_c``; ``rho_c < 0`` means no
    ``rho >= 0`` amplifies.

    Parameters
    ----------
    gamma : array_like
        Fidelity in ``(0, 1]``.
    b : int
        Odd fan-in ``>= 3``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    fp = _fprime0(b)
    return _out((fp - 1.0 / gamma) / (fp - 1.0))


@lru_cache(maxsize=8)
def _fprime0_table(b_max: int):
    """(odd b values, f_b'(0)) for 3 <= b <= b_max, via f_{b+2}'(0) = f_b'(0)(b+2)/(b+1)."""
    bs = np.arange(3, b_max + 1, 2)
    ratios = (bs[:-1] + 2.0) / (bs[:-1] + 1.0)
    values = 1.5 * np.concatenate(([1.0], np.cumprod(ratios)))
    return bs, values


@accepts_params
def b_c(gamma, rho, b_max=10001):
    """Critical fan-in: the smallest odd ``b >= 3`` with ``alpha_rho > 1``.

    ``docs/models/phase.md (12)``, derived here:
    ``f_b'(0) > (1/gamma - rho)/(1 - rho)``.
    Since ``f_b'(0)`` grows without bound, it exists for every ``gamma > 0`` and
    ``rho < 1``; it is feasible only if ``b_c m <= W``.

    Parameters
    ----------
    gamma : array_like
        Fidelity in ``(0, 1]``.
    rho : array_like
        Correlation in ``[0, 1)``.
    b_max : int, default 10001
        Largest fan-in searched.

    Returns
    -------
    int or ndarray of int

    Raises
    ------
    ValueError
        If no odd ``b <= b_max`` amplifies.
    """
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    b_max = check_odd_int("b_max", b_max)
    bs, values = _fprime0_table(b_max)
    gamma, rho = np.broadcast_arrays(gamma, rho)
    threshold = (1.0 / gamma - rho) / (1.0 - rho)
    idx = np.searchsorted(values, threshold, side="right")
    if np.any(idx >= len(bs)):
        worst = float(np.max(threshold))
        raise ValueError(
            f"b_max must be large enough for f_b'(0) > {worst:g}, got {b_max}"
        )
    result = bs[idx]
    return int(result) if result.ndim == 0 else result


@accepts_params
def m_c(gamma_of_m, rho, b, m_lo, m_hi):
    """Critical message length: the ``m`` with ``gamma(m) = gamma_c(rho, b)``.

    ``docs/models/phase.md (12)``, derived here. Needs a monotone ``gamma(m)``
    (``docs/models/phase.md (31)``); solved with ``scipy.optimize.brentq`` on ``[m_lo, m_hi]``.

    Parameters
    ----------
    gamma_of_m : callable
        Fidelity as a function of message length, monotone on the bracket.
    rho : float
        Correlation in ``[0, 1)``.
    b : int
        Odd fan-in ``>= 3``.
    m_lo, m_hi : float
        Bracket, ``0 < m_lo < m_hi``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``gamma(m) - gamma_c`` does not change sign on the bracket.
    """
    if not callable(gamma_of_m):
        raise TypeError(f"gamma_of_m must be callable, got {gamma_of_m!r}")
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    b = check_odd_int("b", b)
    m_lo = check_real("m_lo", m_lo, 0.0, None, lo_open=True)
    m_hi = check_real("m_hi", m_hi, m_lo, None, lo_open=True)
    target = 1.0 / (rho + (1.0 - rho) * _fprime0(b))

    def h(m):
        return float(gamma_of_m(m)) - target

    h_lo, h_hi = h(m_lo), h(m_hi)
    if h_lo == 0.0:
        return m_lo
    if h_hi == 0.0:
        return m_hi
    if np.sign(h_lo) == np.sign(h_hi):
        raise ValueError(
            f"m_hi must bracket gamma(m) = gamma_c = {target:g} with m_lo = {m_lo:g}, "
            f"got {m_hi:g} (gamma goes from {h_lo + target:g} to {h_hi + target:g})"
        )
    return float(optimize.brentq(h, m_lo, m_hi, xtol=1e-12, rtol=4 * np.finfo(float).eps))


@accepts_params
def evans_schulman_epsilon(b):
    """Noise threshold ``eps_c = 1/2 - 1/(2 f_b'(0))`` of noisy majority formulas.

    ``docs/models/phase.md (13)``, derived here: with ``rho = 0`` and a binary
    symmetric channel ``gamma = 1 - 2 eps``, ``alpha = 1`` at ``eps_c``, the
    Evans-Schulman threshold (1/6 for ``b = 3``: von Neumann, Hajek-Weller).

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 3``.

    Returns
    -------
    float
    """
    b = check_odd_int("b", b)
    return float(Fraction(1, 2) - 1 / (2 * _fprime0_exact(b)))
