"""The item-difficulty model: a Beta law of per-item accuracy shared by all agents.

``docs/models/phase.md (24), (25)``, derived here: one latent accuracy
``p_item ~ Beta(a, c)`` per item; given it the tree is the independent
recursion, and the expected bias integrates that recursion over the Beta law
(adaptive quadrature by default, Gauss-Jacobi or a midpoint rule on request).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
from scipy import integrate, special

from theory._params import (
    accepts_params,
    check_choice,
    check_int,
    check_odd_int,
    check_real,
    check_real_array,
)
from theory.phase._numeric import _compose, _g, _iterate, _out, _scalar_map, _vectorize

__all__ = ["ITEM_METHODS", "MIDPOINT_NODES", "JACOBI_MAX_NODES", "RHO_POINT_MASS", "beta_params",
           "item_root_bias"]


ITEM_METHODS = ("quad", "jacobi", "midpoint")


#: Nodes of the inverse-CDF midpoint rule (about 1e-4 agreement with ``quad`` up to L = 40).
MIDPOINT_NODES = 20_000


#: Largest Gauss-Jacobi rule built (cost grows as n^2; n = 4096 takes ~1 s).
JACOBI_MAX_NODES = 4096


#: Above this Beta parameter the algebraic weights of QUADPACK's QAWS
#: under/overflow; the integral is then taken in the quantile domain.
_ALG_MAX_PARAM = 100.0


#: Latent correlations below this are treated as a point mass (independent
#: agents); the neglected term is about rho (1 - mu0^2) |d^2 E/d mu0^2| / 2.
RHO_POINT_MASS = 1e-10


_QUAD_OPTS = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 200}


@accepts_params
def beta_params(mu_bar, rho):
    """Beta law of the item-difficulty model with mean bias ``mu_bar`` and correlation ``rho``.

    ``p_bar = (1 + mu_bar)/2``, ``a = p_bar (1 - rho)/rho``,
    ``c = (1 - p_bar)(1 - rho)/rho``: then ``E[p_item] = p_bar`` and the
    pairwise correlation of signed correctness of two agents on one item is
    ``1/(a + c + 1) = rho``. ``docs/models/phase.md (24)``, derived here.

    Parameters
    ----------
    mu_bar : array_like
        Mean leaf bias in ``(-1, 1)``.
    rho : array_like
        Correlation in ``(0, 1)`` (``rho = 0`` is a point mass, handled by the
        callers).

    Returns
    -------
    a, c : float or ndarray
    """
    mu_bar = check_real_array("mu_bar", mu_bar, -1.0, 1.0, lo_open=True, hi_open=True)
    rho = check_real_array("rho", rho, 0.0, 1.0, lo_open=True, hi_open=True)
    p_bar = 0.5 * (1.0 + mu_bar)
    scale = (1.0 - rho) / rho
    return _out(p_bar * scale), _out((1.0 - p_bar) * scale)


def _beta_ac(mu_bar, rho):
    p_bar = 0.5 * (1.0 + mu_bar)
    scale = (1.0 - rho) / rho
    return p_bar * scale, (1.0 - p_bar) * scale


def _quad_checked(func, lo, hi, **kw):
    out = integrate.quad(func, lo, hi, full_output=1, **_QUAD_OPTS, **kw)
    value, abserr = out[0], out[1]
    if len(out) > 3 and abserr > 1e-8:
        warnings.warn(
            f"quad reported error estimate {abserr:.2g} on [{lo:g}, {hi:g}]: {out[3]}",
            integrate.IntegrationWarning,
            stacklevel=3,
        )
    return value


def _beta_quad(F, a, c):
    """E[F(2p - 1)] for p ~ Beta(a, c), split at p = 1/2 (the default method).

    QUADPACK's algebraic weights (``weight='alg'``) carry the endpoint
    singularities p^(a-1) on [0, 1/2] and (1 - p)^(c-1) on [1/2, 1]. For very
    concentrated laws (``max(a, c) > 100``, e.g. ``rho < 0.005``) those weights
    under/overflow, and the expectation is computed instead as
    ``int_0^1 F(2 Q(u) - 1) du`` with the Beta quantile ``Q`` (adaptive
    quadrature split at ``u = I_{1/2}(a, c)``).
    """
    if max(a, c) <= _ALG_MAX_PARAM:
        log_b = special.betaln(a, c)
        am1, cm1 = a - 1.0, c - 1.0

        def left(p):
            return F(2.0 * p - 1.0) * math.exp(cm1 * math.log1p(-p) - log_b)

        def right(p):
            return F(2.0 * p - 1.0) * math.exp(am1 * math.log(p) - log_b)

        return _quad_checked(left, 0.0, 0.5, weight="alg", wvar=(am1, 0.0)) + _quad_checked(
            right, 0.5, 1.0, weight="alg", wvar=(0.0, cm1)
        )
    # Concentrated law: integrate in the quantile domain u = I_p(a, c), where
    # the integrand F(2 Q(u) - 1) is bounded, splitting where p = 1/2.
    u_half = float(special.betainc(a, c, 0.5))

    def in_quantile(u):
        return F(2.0 * float(special.betaincinv(a, c, u)) - 1.0)

    total = 0.0
    for lo, hi in ((0.0, u_half), (u_half, 1.0)):
        if hi > lo:
            total += _quad_checked(in_quantile, lo, hi)
    return total


@lru_cache(maxsize=64)
def _jacobi_rule(n, a, c):
    with np.errstate(all="ignore"):
        x, w = special.roots_jacobi(n, c - 1.0, a - 1.0)
        w = w / w.sum()
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        rho = 1.0 / (a + c + 1.0)
        raise ValueError(
            f"rho must be >= 1/1025 for method='jacobi' (the Gauss-Jacobi weights overflow), "
            f"got {rho:g}; use method='quad'"
        )
    return x, w


def _midpoint_nodes(a, c, n=MIDPOINT_NODES):
    u = (np.arange(n) + 0.5) / n
    return 2.0 * special.betaincinv(a, c, u) - 1.0


def _item_levels_scalar(b, depth, rho, gamma, mu0, rho_node, method, levels):
    """E[g^l(2p - 1)] for l in ``levels`` (sorted), p ~ Beta(mu0, rho)."""
    if rho < RHO_POINT_MASS or abs(mu0) == 1.0:  # point mass: the independent recursion
        path = _iterate(mu0, b, rho_node, gamma, depth)
        return [float(path[lvl]) for lvl in levels]
    a, c = _beta_ac(mu0, rho)
    out = []
    if method == "quad":
        g = _scalar_map(b, rho_node, gamma)
        for lvl in levels:
            out.append(mu0 if lvl == 0 else _beta_quad(_compose(g, lvl), a, c))
        return out
    if method == "jacobi":
        n = (b ** max(levels) + 1) // 2
        if n > JACOBI_MAX_NODES:
            raise ValueError(
                f"depth must give (b**depth + 1)//2 <= {JACOBI_MAX_NODES} Gauss-Jacobi nodes "
                f"for method='jacobi', got b={b}, depth={max(levels)} ({n} nodes); "
                "use method='quad'"
            )
        x, w = _jacobi_rule(max(n, 1), a, c)
    else:
        x = _midpoint_nodes(a, c)
        w = np.full(x.shape, 1.0 / x.size)
    mu = x
    done = 0
    for lvl in levels:
        for _ in range(lvl - done):
            mu = _g(mu, b, rho_node, gamma)
        done = lvl
        out.append(mu0 if lvl == 0 else float(np.dot(w, mu)))
    return out


def _check_common(b, depth, rho, gamma, mu0, rho_node, method):
    b = check_odd_int("b", b)
    depth = check_int("depth", depth, 0)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    rho_node = check_real("rho_node", rho_node, 0.0, 1.0, hi_open=True)
    method = check_choice("method", method, ITEM_METHODS)
    return b, depth, rho, gamma, mu0, rho_node, method


@accepts_params
def item_root_bias(b, depth, rho, gamma, mu0, rho_node=0.0, method="quad"):
    """Expected root bias of the item-difficulty model.

    ``docs/models/phase.md (25), (27)``.

    ``E[mu_L] = int_0^1 g^L(2p - 1) p^(a-1) (1-p)^(c-1) / B(a, c) dp`` with
    ``(a, c) = beta_params(mu0, rho)``, derived here. Only the
    root integral is computed (faster than :func:`level_biases`).

    Parameters
    ----------
    b, depth, rho, gamma, mu0, rho_node, method
        As in :func:`level_biases`.

    Returns
    -------
    float or ndarray
    """
    b, depth, rho, gamma, mu0, rho_node, method = _check_common(
        b, depth, rho, gamma, mu0, rho_node, method
    )
    return _vectorize(
        lambda r, g, m: _item_levels_scalar(b, depth, r, g, m, rho_node, method, [depth])[0],
        rho, gamma, mu0,
    )
