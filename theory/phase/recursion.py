"""The layer recursion of a lossy majority tree: gain, fixed point and critical behaviour.

``docs/models/phase.md (4)-(10)`` and ``(14)``: the layer map ``g``, the gain
``alpha_rho`` of paper Thm 4, the fixed point ``mu*``, the contraction rate,
the cubic coefficient ``K`` and the power-law decay at criticality.
"""

from __future__ import annotations

import math

import numpy as np

from theory._params import (
    accepts_params,
    check_int,
    check_int_array,
    check_odd_int,
    check_real,
    check_real_array,
)
from theory.phase._numeric import (
    _alpha,
    _core_args,
    _cubic,
    _fixed_point_scalar,
    _fprime,
    _fprime0,
    _g,
    _iterate,
    _out,
    _vectorize,
)

__all__ = ["layer_map", "layer_map_prime", "alpha_rho", "alpha_0", "regime", "fixed_point",
           "contraction_rate", "iterate", "cubic_coefficient", "near_critical_fixed_point",
           "critical_decay"]


@accepts_params
def layer_map(mu, b, rho, gamma):
    """One level of the lossy tree, ``g(mu) = f_{b,rho}(gamma mu)``.

    The layer recursion ``mu_{t+1} = f_{b,rho}(gamma(m) mu_t)`` (paper Thm 4;
    ``docs/models/phase.md (4)``): every child-to-parent message multiplies the bias by ``gamma``
    before aggregation.

    Parameters
    ----------
    mu : array_like
        Bias of the children's outputs, in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.

    Returns
    -------
    float or ndarray
        Bias of the parent's output.
    """
    b = check_odd_int("b", b)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    return _out(_g(mu, b, rho, gamma))


@accepts_params
def layer_map_prime(mu, b, rho, gamma):
    """Derivative ``g'(mu) = gamma [rho + (1 - rho) f_b'(gamma mu)]``.

    ``docs/models/phase.md (7)``, derived here from :func:`layer_map`;
    ``g'(0)`` is the gain of paper Thm 4.

    Parameters
    ----------
    mu, b, rho, gamma
        As in :func:`layer_map`.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    return _out(gamma * (rho + (1.0 - rho) * _fprime(gamma * mu, b)))


@accepts_params
def alpha_rho(b, rho, gamma):
    """Per-layer small-signal gain ``alpha_rho = gamma [rho + (1 - rho) f_b'(0)]``.

    Paper Thm 4; ``docs/models/phase.md (5)``.

    Deep trees amplify iff ``alpha_rho > 1`` under herding correlation.

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)
    return _out(_alpha(b, rho, gamma))


@accepts_params
def alpha_0(b, gamma):
    """The rho-free gain ``alpha_0 = gamma f_b'(0)``.

    ``docs/models/phase.md (14)``, derived here: the per-item gain whose value 1 is the
    phase boundary under the ``"item"`` and ``"shock"`` correlation models.

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 3``.
    gamma : array_like
        Fidelity in ``(0, 1]``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    return _out(gamma * _fprime0(b))


def regime(alpha, tol=1e-12):
    """Name the phase of a deep tree from its gain (paper Thm 4).

    ``docs/models/phase.md (6)``.

    Parameters
    ----------
    alpha : array_like
        Per-layer gain, ``> 0``.
    tol : float, default 1e-12
        ``|alpha - 1| <= tol`` counts as critical.

    Returns
    -------
    str or ndarray of str
        ``"amplifying"`` (``alpha > 1``: bias tends to ``mu* > 0``),
        ``"washout"`` (``alpha < 1``: bias tends to 0) or ``"critical"``
        (power-law decay, ``docs/models/phase.md (10)``).
    """
    alpha = check_real_array("alpha", alpha, 0.0, None, lo_open=True)
    tol = check_real("tol", tol, 0.0, None)
    names = np.where(
        np.abs(alpha - 1.0) <= tol, "critical", np.where(alpha > 1.0, "amplifying", "washout")
    )
    return str(names) if names.ndim == 0 else names


@accepts_params
def fixed_point(b, rho, gamma):
    """Nontrivial fixed point ``mu*`` of the layer map ``g`` (paper Thm 4).

    ``docs/models/phase.md (6)``.

    For ``alpha_rho > 1`` the deep-tree bias tends to the unique root of
    ``g(mu) = mu`` in ``(0, 1]`` (found with ``scipy.optimize.brentq``;
    ``mu* = 1`` exactly when ``gamma = 1``). For ``alpha_rho <= 1`` the signal
    washes out and 0 is returned. For ``b = 3``,
    ``mu*^2 = 2 (alpha - 1) / ((1 - rho) gamma^3)`` (``docs/models/phase.md (9)``, derived here).

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)
    return _vectorize(lambda r, g: _fixed_point_scalar(b, r, g), rho, gamma)


@accepts_params
def contraction_rate(b, rho, gamma):
    """Local contraction rate ``lambda* = g'(mu*)`` at the fixed point.

    ``docs/models/phase.md (7)``, derived here: ``0 <= lambda* < 1`` when
    ``alpha_rho > 1``; the distance to ``mu*`` shrinks by about ``lambda*``
    per level. NaN when ``alpha_rho <= 1`` (no nontrivial fixed point).

    Parameters
    ----------
    b, rho, gamma
        As in :func:`fixed_point`.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)

    def rate(r, g):
        if _alpha(b, r, g) <= 1.0:
            return math.nan
        m = _fixed_point_scalar(b, r, g)
        return g * (r + (1.0 - r) * _fprime(g * m, b))

    return _vectorize(rate, rho, gamma)


@accepts_params
def iterate(mu0, b, rho, gamma, depth):
    """Exact bias at every level of a herding tree, ``mu_{l+1} = g(mu_l)``.

    Paper Thm 4; ``docs/models/phase.md (4)``.

    Parameters
    ----------
    mu0 : array_like
        Leaf bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.
    depth : int
        Number of levels ``L >= 0``.

    Returns
    -------
    ndarray
        Shape ``(depth + 1,) + broadcast(mu0, rho, gamma).shape``; entry ``l``
        is ``mu_l`` (entry 0 is ``mu0``).
    """
    b = check_odd_int("b", b)
    depth = check_int("depth", depth, 0)
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    return _iterate(mu0, b, rho, gamma, depth)


@accepts_params
def cubic_coefficient(b, rho, gamma):
    """Cubic coefficient ``K`` of ``g(mu) = alpha mu - K mu^3 + O(mu^5)``.

    ``K = (1 - rho) f_b'(0) ((b - 1)/2) gamma^3 / 3`` (``docs/models/phase.md (8)``,
    derived here from the integral form of ``f_b``).

    Parameters
    ----------
    b, rho, gamma
        As in :func:`alpha_rho`.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)
    return _out(_cubic(b, rho, gamma))


@accepts_params
def near_critical_fixed_point(b, rho, gamma):
    """Pitchfork approximation ``mu* ~ sqrt((alpha - 1) / K)``.

    ``sqrt(3 (alpha - 1) / ((1 - rho) f_b'(0) ((b-1)/2) gamma^3))``, derived
    here (``docs/models/phase.md (9)``): mean-field exponent 1/2, exact for ``b = 3``.
    Returns 0 when ``alpha_rho <= 1``.

    Parameters
    ----------
    b, rho, gamma
        As in :func:`alpha_rho`.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)
    excess = np.maximum(_alpha(b, rho, gamma) - 1.0, 0.0)
    return _out(np.sqrt(excess / _cubic(b, rho, gamma)))


@accepts_params
def critical_decay(depth, b, rho, gamma):
    """Power-law decay at criticality, ``mu_L ~ 1 / sqrt(2 K L)``.

    ``docs/models/phase.md (10)``, derived here: at ``alpha_rho = 1`` the recursion
    ``mu -> mu - K mu^3`` decays as ``(2 K L)^(-1/2)`` for large ``L``,
    whatever ``mu0 > 0``. The formula is evaluated for any parameters; it
    describes the dynamics only at ``alpha_rho = 1``. ``depth = 0`` gives inf.

    Parameters
    ----------
    depth : array_like of int
        Depth ``L >= 0``.
    b, rho, gamma
        As in :func:`alpha_rho`.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    depth = check_int_array("depth", depth, 0).astype(float)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    with np.errstate(divide="ignore"):
        return _out(1.0 / np.sqrt(2.0 * _cubic(b, rho, gamma) * depth))
