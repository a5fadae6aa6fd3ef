"""Depth of saturation: the mixing depth, the delta-convergence depth and the clipped predictor.

``docs/models/phase.md (21), (22)``. The concepts are the paper's; the
definitions are this project's choices.
"""

from __future__ import annotations

import math

import numpy as np

from theory._params import accepts_params, check_int, check_odd_int, check_real, check_real_array
from theory.phase._numeric import _alpha, _fixed_point_scalar
from theory.phase.recursion import contraction_rate

__all__ = ["mixing_depth", "delta_depth", "clipped_predictor"]


@accepts_params
def mixing_depth(mu0, b, rho, gamma):
    """Depth at which geometric growth reaches the fixed point, ``ceil(ln(mu*/mu0) / ln alpha)``.

    ``docs/models/phase.md (21)``. The concept is the paper's; this
    definition (the kink of the clipped predictor) is this project's choice
    (the open choices of ``docs/models/phase.md``).
    ``N_mix = b^L_mix``. Returns 0 when ``mu0 >= mu*`` and NaN when
    ``alpha_rho <= 1`` (no growth phase).

    Parameters
    ----------
    mu0 : float
        Leaf bias in ``(0, 1]``.
    b, rho, gamma
        As in :func:`fixed_point`.

    Returns
    -------
    int or float
    """
    mu0 = check_real("mu0", mu0, 0.0, 1.0, lo_open=True)
    b = check_odd_int("b", b)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    alpha = _alpha(b, rho, gamma)
    if alpha <= 1.0:
        return math.nan
    mu_star = _fixed_point_scalar(b, rho, gamma)
    return max(0, math.ceil(math.log(mu_star / mu0) / math.log(alpha)))


@accepts_params
def delta_depth(delta, b, rho, gamma):
    """Extra levels to get within ``delta`` of ``mu*``, ``ceil(ln(1/delta) / ln(1/lambda*))``.

    ``docs/models/phase.md (21)``; this project's choice (the open choices of
    ``docs/models/phase.md``), using the contraction rate
    :func:`contraction_rate`. Returns 0 when ``lambda* = 0`` (super-geometric
    convergence) and NaN when ``alpha_rho <= 1``.

    Parameters
    ----------
    delta : float
        Tolerance in ``(0, 1)``.
    b, rho, gamma
        As in :func:`fixed_point`.

    Returns
    -------
    int or float
    """
    delta = check_real("delta", delta, 0.0, 1.0, lo_open=True, hi_open=True)
    b = check_odd_int("b", b)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    lam = contraction_rate(b, rho, gamma)
    if math.isnan(lam):
        return math.nan
    if lam <= 0.0:
        return 0
    return math.ceil(math.log(1.0 / delta) / math.log(1.0 / lam))


@accepts_params
def clipped_predictor(mu0, b, rho, gamma, depth):
    """Clipped small-signal predictor ``min(alpha^L mu0, mu*)`` for ``L = 0..depth``.

    ``docs/models/phase.md (22)``. The "conservative" predictor is the
    paper's concept; this form is this project's choice (the open choices of
    ``docs/models/phase.md``). Because ``g`` is concave
    on ``[0, 1]`` it is an upper envelope of the exact recursion when
    ``0 <= mu0 <= mu*``. Negative ``mu0`` uses the odd extension. When
    ``alpha_rho <= 1`` (``mu* = 0``) no clip is applied: ``alpha^L mu0`` is
    itself the envelope.

    Parameters
    ----------
    mu0 : array_like
        Leaf bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 3``.
    rho : float
        Correlation in ``[0, 1)``.
    gamma : float
        Fidelity in ``(0, 1]``.
    depth : int
        Largest depth ``>= 0``.

    Returns
    -------
    ndarray
        Shape ``(depth + 1,) + shape(mu0)``.
    """
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    b = check_odd_int("b", b)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    depth = check_int("depth", depth, 0)
    alpha = _alpha(b, rho, gamma)
    levels = np.arange(depth + 1).reshape((-1,) + (1,) * mu0.ndim)
    with np.errstate(over="ignore"):  # alpha^L may overflow; the clip then binds
        linear = alpha**levels * np.abs(mu0)
    if alpha > 1.0:
        linear = np.minimum(linear, _fixed_point_scalar(b, rho, gamma))
    return np.sign(mu0) * linear
