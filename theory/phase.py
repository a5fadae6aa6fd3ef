"""Closed forms of the phase-transition model of budgeted multi-agent synergy.

Liu, Kong and Pei, "Phase Transition for Budgeted Multi-Agent Synergy",
arXiv 2601.17311 (v1 24 Jan 2026, v2 12 Feb 2026). Section numbers below refer
to the project spec ``shared/specs/phase.md``; theorem and equation numbers
(Thm 4, Thm 5, Thm 9, Eq. 13) are the paper's v1 numbers.

Provenance is stated in every docstring:

* "(Thm 4)", "(Eq. 13)", ... : the formula is the paper's.
* "Derived for this project": a consequence of the paper's stated facts,
  derived and checked numerically for budgetlab; the paper's own form of it is
  not confirmed.
* Choices the paper leaves open are parameters with a documented default and
  are never presented as the paper's choice.

Conventions
-----------
* ``mu`` is a signal bias, ``mu = 2 p - 1`` for an accuracy ``p``.
* ``b`` is an odd fan-in ``>= 3``, ``rho`` in ``[0, 1)``, ``gamma`` in
  ``(0, 1]``, ``depth`` (``L``) counts aggregation levels above the leaves.
* Functions that broadcast return a ``float`` for scalar input and an
  ``ndarray`` for array input. Functions returning one value per level
  (:func:`iterate`, :func:`level_biases`, :func:`clipped_predictor`) put the
  level axis first, so ``result[-1]`` is always the root.
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import integrate, optimize, special

from ._params import (check_bool, check_choice, check_int, check_int_array, check_odd_int,
                      check_real, check_real_array)

__all__ = [
    "PhaseParams",
    # binary core
    "f_b",
    "f_b_prime",
    "f_b_prime0",
    "f_b_rho",
    "layer_map",
    "layer_map_prime",
    "alpha_rho",
    "alpha_0",
    "organization_exponent",
    "regime",
    "fixed_point",
    "contraction_rate",
    "iterate",
    "cubic_coefficient",
    "near_critical_fixed_point",
    "critical_decay",
    "gamma_c",
    "rho_c",
    "b_c",
    "m_c",
    "evans_schulman_epsilon",
    # budget
    "c0",
    "edge_count",
    "tree_cost",
    "synergy",
    "x_star",
    "n_star",
    "b_crit",
    "budget_analysis",
    "mixing_depth",
    "delta_depth",
    "clipped_predictor",
    "fan_in_max_tree",
    "fan_in_max_star",
    # channels
    "gamma_exp_saturation",
    "gamma_logistic",
    "gamma_isotonic",
    "sigma2_exp",
    "sigma2_power",
    # continuous warm-up
    "star_risk",
    "budgeted_star_risk",
    "budgeted_star_optimum",
    "tree_lambda",
    "v_star",
    "tree_risk",
    "tree_risk_global_shock",
    "chain_risk_relay",
    "chain_risk_running",
    # correlation models
    "beta_params",
    "level_biases",
    "root_bias",
    "item_root_bias",
    "star_bias",
    "limit_bias",
]

CORRELATIONS = ("herding", "item", "shock")
_CORRELATION_NAMES = ("herding", "item", "shock", "global_shock")
ITEM_METHODS = ("quad", "jacobi", "midpoint")

#: Fan-ins up to this value evaluate f_b as a Horner polynomial (relative
#: error below 1e-15); larger fan-ins use the incomplete-Beta form.
_POLY_MAX_B = 15
#: Nodes of the inverse-CDF midpoint rule (spec 5.2: ~1e-4 agreement up to L = 40).
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


# ---------------------------------------------------------------------------
# validation and array helpers
# ---------------------------------------------------------------------------


def _core_args(b, rho, gamma):
    """Validated fan-in, correlation array and fidelity array of the binary core."""
    return (check_odd_int("b", b),
            check_real_array("rho", rho, 0.0, 1.0, hi_open=True),
            check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True))


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _correlation(value):
    check_choice("correlation", value, _CORRELATION_NAMES)
    return "shock" if value == "global_shock" else value


# ---------------------------------------------------------------------------
# exact constants and fast map evaluation (unchecked internals)
# ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _fprime0_exact(b: int) -> Fraction:
    return Fraction(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1))


@lru_cache(maxsize=None)
def _fprime0(b: int) -> float:
    return float(_fprime0_exact(b))


@lru_cache(maxsize=None)
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


def _vectorize(func, *arrays):
    """Apply a scalar function over broadcast arrays; scalars stay scalars."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    if arrays[0].ndim == 0:
        return float(func(*(float(a) for a in arrays)))
    out = np.empty(arrays[0].shape)
    for idx in np.ndindex(out.shape):
        out[idx] = func(*(float(a[idx]) for a in arrays))
    return out


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseParams:
    """Validated parameters of one phase-model configuration.

    Parameters
    ----------
    b : int, default 3
        Fan-in, odd, ``3 <= b <= 201`` (odd so majority has no ties; paper).
    rho : float, default 0.0
        Shared-error correlation of signed correctness, in ``[0, 1)`` (paper).
    gamma : float, default 0.9
        Message fidelity ``gamma(m)``, in ``(0, 1]`` (paper).
    depth : int, default 8
        Tree depth ``L`` in ``[0, 60]``; the tree has ``b**depth`` leaves.
    p0 : float, default 0.6
        Leaf accuracy in ``[0, 1]`` (the mean accuracy under ``"item"``).
    correlation : {"herding", "item", "shock"}, default "herding"
        Correlation mechanism (spec 5; an open choice, A1). ``"global_shock"``
        is accepted and stored as ``"shock"``.
    rho_node : float, default 0.0
        Node-level herding composed with ``"item"`` or ``"shock"`` (spec 5.4),
        in ``[0, 1)``; must be 0 under ``"herding"``, where ``rho`` already is
        the node-level herding probability.
    root_channel : bool, default False
        Whether the root's output also passes through a channel (open choice
        A2; the paper's recursion has none).

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    b: int = 3
    rho: float = 0.0
    gamma: float = 0.9
    depth: int = 8
    p0: float = 0.6
    correlation: str = "herding"
    rho_node: float = 0.0
    root_channel: bool = False

    def __post_init__(self):
        put = object.__setattr__
        put(self, "b", check_odd_int("b", self.b, lo=3, hi=201))
        put(self, "rho", check_real("rho", self.rho, 0.0, 1.0, hi_open=True))
        put(self, "gamma", check_real("gamma", self.gamma, 0.0, 1.0, lo_open=True))
        put(self, "depth", check_int("depth", self.depth, 0, 60))
        put(self, "p0", check_real("p0", self.p0, 0.0, 1.0))
        put(self, "correlation", _correlation(self.correlation))
        put(self, "rho_node", check_real("rho_node", self.rho_node, 0.0, 1.0, hi_open=True))
        if self.correlation == "herding" and self.rho_node != 0.0:
            raise ValueError(
                f"rho_node must be 0 when correlation='herding', got {self.rho_node:g}"
            )
        put(self, "root_channel", check_bool("root_channel", self.root_channel))

    @property
    def mu0(self) -> float:
        """Leaf bias ``2 p0 - 1``."""
        return 2.0 * self.p0 - 1.0


# ---------------------------------------------------------------------------
# binary core (spec 2)
# ---------------------------------------------------------------------------


def f_b(mu, b):
    """Majority map of ``b`` independent +-1 votes with common bias ``mu``.

    ``f_b(mu) = 2 P[Bin(b, (1+mu)/2) >= (b+1)/2] - 1
    = f_b'(0) * int_0^mu (1 - u^2)^((b-1)/2) du`` (spec 2.1; standard,
    derived for this project). Evaluated as a Horner polynomial for
    ``b <= 15`` and as ``sign(mu) * I_{mu^2}(1/2, (b+1)/2)`` (regularised
    incomplete Beta) above, both to about 1e-15 relative.

    Parameters
    ----------
    mu : array_like
        Input bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 1`` (``b = 1`` is the identity).

    Returns
    -------
    float or ndarray
        Output bias; odd, increasing, concave on ``[0, 1]``, ``f_b(1) = 1``.
    """
    b = check_odd_int("b", b, lo=1)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    return _out(_f(mu, b))


def f_b_prime(mu, b):
    """Derivative of the majority map, ``f_b'(mu) = f_b'(0) (1 - mu^2)^((b-1)/2)``.

    Spec 2.1 (derived for this project from the integral form of :func:`f_b`).

    Parameters
    ----------
    mu : array_like
        Bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 1``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b, lo=1)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    return _out(_fprime(mu, b))


def f_b_prime0(b):
    """Slope of the majority map at zero, ``b C(b-1, (b-1)/2) / 2^(b-1)``.

    The paper's closed form (spec 2.1); it enters the gain of Thm 4.
    Computed from the exact rational. ``f_b'(0) ~ sqrt(2 b / pi)`` for large
    ``b`` (derived for this project).

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 1``.

    Returns
    -------
    float
    """
    b = check_odd_int("b", b, lo=1)
    return _fprime0(b)


def f_b_rho(mu, b, rho):
    """Correlated majority map ``f_{b,rho}(mu) = rho mu + (1 - rho) f_b(mu)``.

    The name is the paper's; this form is derived for this project from the
    paper's slope ``rho + (1 - rho) f_b'(0)`` and its reading of ``rho`` as the
    pairwise correlation of signed correctness, and is realised exactly by
    node herding (spec 2.2, 5.1).

    Parameters
    ----------
    mu : array_like
        Bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    return _out(rho * mu + (1.0 - rho) * _f(mu, b))


def layer_map(mu, b, rho, gamma):
    """One level of the lossy tree, ``g(mu) = f_{b,rho}(gamma mu)``.

    The layer recursion ``mu_{t+1} = f_{b,rho}(gamma(m) mu_t)`` (Thm 4; spec
    2.2): every child-to-parent message multiplies the bias by ``gamma``
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


def layer_map_prime(mu, b, rho, gamma):
    """Derivative ``g'(mu) = gamma [rho + (1 - rho) f_b'(gamma mu)]``.

    Derived for this project from :func:`layer_map`; ``g'(0)`` is the gain of
    Thm 4.

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


def alpha_rho(b, rho, gamma):
    """Per-layer small-signal gain ``alpha_rho = gamma [rho + (1 - rho) f_b'(0)]`` (Thm 4).

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


def alpha_0(b, gamma):
    """The rho-free gain ``alpha_0 = gamma f_b'(0)``.

    Derived for this project (spec 5): the per-item gain whose value 1 is the
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


def organization_exponent(b, rho, gamma):
    """Organization exponent ``s = log_b alpha_rho = ln(alpha_rho) / ln(b)`` (Thm 5).

    In the small-signal regime ``alpha_rho^L = N^s`` with ``N = b^L``; scale-out
    beats scale-up iff ``s > beta`` (Thm 5).

    Parameters
    ----------
    b, rho, gamma
        As in :func:`alpha_rho`.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)
    return _out(np.log(_alpha(b, rho, gamma)) / math.log(b))


def regime(alpha, tol=1e-12):
    """Name the phase of a deep tree from its gain (Thm 4).

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
        (power-law decay, spec 2.4).
    """
    alpha = check_real_array("alpha", alpha, 0.0, None, lo_open=True)
    tol = check_real("tol", tol, 0.0, None)
    names = np.where(
        np.abs(alpha - 1.0) <= tol, "critical", np.where(alpha > 1.0, "amplifying", "washout")
    )
    return str(names) if names.ndim == 0 else names


def fixed_point(b, rho, gamma):
    """Nontrivial fixed point ``mu*`` of the layer map ``g`` (Thm 4).

    For ``alpha_rho > 1`` the deep-tree bias tends to the unique root of
    ``g(mu) = mu`` in ``(0, 1]`` (found with ``scipy.optimize.brentq``;
    ``mu* = 1`` exactly when ``gamma = 1``). For ``alpha_rho <= 1`` the signal
    washes out and 0 is returned. For ``b = 3``,
    ``mu*^2 = 2 (alpha - 1) / ((1 - rho) gamma^3)`` (derived for this project).

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


def contraction_rate(b, rho, gamma):
    """Local contraction rate ``lambda* = g'(mu*)`` at the fixed point.

    Derived for this project (spec 2.8): ``0 <= lambda* < 1`` when
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


def iterate(mu0, b, rho, gamma, depth):
    """Exact bias at every level of a herding tree, ``mu_{l+1} = g(mu_l)`` (Thm 4).

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


def cubic_coefficient(b, rho, gamma):
    """Cubic coefficient ``K`` of ``g(mu) = alpha mu - K mu^3 + O(mu^5)``.

    ``K = (1 - rho) f_b'(0) ((b - 1)/2) gamma^3 / 3`` (derived for this
    project, spec 2.4, from the integral form of f_b).

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


def near_critical_fixed_point(b, rho, gamma):
    """Pitchfork approximation ``mu* ~ sqrt((alpha - 1) / K)``.

    ``sqrt(3 (alpha - 1) / ((1 - rho) f_b'(0) ((b-1)/2) gamma^3))``, derived
    for this project (spec 2.4): mean-field exponent 1/2, exact for ``b = 3``.
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


def critical_decay(depth, b, rho, gamma):
    """Power-law decay at criticality, ``mu_L ~ 1 / sqrt(2 K L)``.

    Derived for this project (spec 2.4): at ``alpha_rho = 1`` the recursion
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


def gamma_c(rho, b):
    """Critical fidelity ``gamma_c = 1 / [rho + (1 - rho) f_b'(0)]``.

    Derived for this project from the paper's ``alpha_rho`` (spec 2.5): the
    herding tree amplifies iff ``gamma > gamma_c``.

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


def rho_c(gamma, b):
    """Critical correlation ``rho_c = (f_b'(0) - 1/gamma) / (f_b'(0) - 1)``.

    Derived for this project from the paper's ``alpha_rho`` (spec 2.5): the
    herding tree amplifies iff ``rho < rho_c``; ``rho_c < 0`` means no
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


def b_c(gamma, rho, b_max=10001):
    """Critical fan-in: the smallest odd ``b >= 3`` with ``alpha_rho > 1``.

    Derived for this project (spec 2.5): ``f_b'(0) > (1/gamma - rho)/(1 - rho)``.
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


def m_c(gamma_of_m, rho, b, m_lo, m_hi):
    """Critical message length: the ``m`` with ``gamma(m) = gamma_c(rho, b)``.

    Derived for this project (spec 2.5). Needs a monotone ``gamma(m)`` (spec
    6.1); solved with ``scipy.optimize.brentq`` on ``[m_lo, m_hi]``.

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


def evans_schulman_epsilon(b):
    """Noise threshold ``eps_c = 1/2 - 1/(2 f_b'(0))`` of noisy majority formulas.

    Derived for this project (spec 2.5): with ``rho = 0`` and a binary
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


# ---------------------------------------------------------------------------
# budget (spec 1.3, 1.4, 2.6-2.8)
# ---------------------------------------------------------------------------


def c0(m, b):
    """Communication overhead per leaf, ``c0 = 2 m b / (b - 1)`` (Thm 9).

    Each of the ``b (N-1)/(b-1)`` edges of a full tree carries one ``m``-token
    message, paid twice (written and read): ``c0 (N - 1)`` in total (spec 1.4).

    Parameters
    ----------
    m : array_like
        Message length in tokens, ``> 0``.
    b : int
        Fan-in ``>= 2``.

    Returns
    -------
    float or ndarray
    """
    m = check_real_array("m", m, 0.0, None, lo_open=True)
    b = check_int("b", b, 2)
    return _out(2.0 * m * b / (b - 1))


def edge_count(n_leaves, b):
    """Edges of a full ``b``-ary tree with ``N`` leaves, ``b (N - 1) / (b - 1)``.

    Derived for this project (spec 1.4). A full tree needs
    ``(N - 1) % (b - 1) == 0`` (e.g. ``N = b^L``).

    Parameters
    ----------
    n_leaves : int
        Number of leaves ``N >= 1``.
    b : int
        Fan-in ``>= 2``.

    Returns
    -------
    int
    """
    n = check_int("n_leaves", n_leaves, 1)
    b = check_int("b", b, 2)
    if (n - 1) % (b - 1):
        raise ValueError(
            f"n_leaves must be 1 + a multiple of b - 1 = {b - 1} for a full tree, got {n}"
        )
    return b * (n - 1) // (b - 1)


def tree_cost(n_leaves, x, m, b, exact=True):
    """Total budget of a tree, ``B = N x + c0 (N - 1)`` (``exact``) or ``N (x + c0)``.

    Derived for this project from ``c0`` (spec 1.4). Whether the paper uses
    the exact or the approximate form is open (A9); ``exact=True`` is the
    project default and does not count the root's own output.

    Parameters
    ----------
    n_leaves : array_like
        Number of leaves ``N >= 1``.
    x : array_like
        Compute per leaf, ``>= 0``.
    m : array_like
        Message length, ``> 0``.
    b : int
        Fan-in ``>= 2``.
    exact : bool, default True

    Returns
    -------
    float or ndarray
    """
    n = check_real_array("n_leaves", n_leaves, 1.0, None)
    x = check_real_array("x", x, 0.0, None)
    m = check_real_array("m", m, 0.0, None, lo_open=True)
    b = check_int("b", b, 2)
    exact = check_bool("exact", exact)
    cost = 2.0 * m * b / (b - 1)
    return _out(n * x + cost * (n - 1.0) if exact else n * (x + cost))


def synergy(s, beta):
    """Budgeted-synergy test ``s > beta`` (Thm 5).

    Parameters
    ----------
    s : array_like
        Organization exponent.
    beta : array_like
        Leaf exponent, ``> 0``.

    Returns
    -------
    bool or ndarray of bool
    """
    s = check_real_array("s", s)
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    out = s > beta
    return bool(out) if out.ndim == 0 else out


def x_star(beta, t, c0):
    """Optimal compute per leaf, ``x* = beta c0 / (t - beta)`` for ``t > beta`` (Thm 9).

    For ``t <= beta`` there is no interior optimum: the whole budget goes to
    one stronger agent, returned as ``inf`` (Thm 9). The meaning of ``t`` is
    open (A4): use ``t = s`` for a majority tree.

    Parameters
    ----------
    beta : array_like
        Leaf exponent, ``> 0``.
    t : array_like
        Organization exponent of the costed organization.
    c0 : array_like
        Communication overhead per leaf, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    t = check_real_array("t", t)
    cost = check_real_array("c0", c0, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(t > beta, beta * cost / (t - beta), np.inf)
    return _out(out)


def n_star(budget, beta, t, c0):
    """Optimal number of leaves at ``x*``, ``N* = B (t - beta) / (t c0)``.

    Derived for this project from Thm 9 (spec 2.7) with ``N = B/(x + c0)``;
    a continuous optimum, to be rounded to a power of ``b`` in practice.
    ``t <= beta`` gives 1 (one agent with the whole budget); ``c0 = 0`` gives
    ``inf``.

    Parameters
    ----------
    budget : array_like
        Total budget ``B > 0``.
    beta, t, c0
        As in :func:`x_star`.

    Returns
    -------
    float or ndarray
    """
    budget = check_real_array("budget", budget, 0.0, None, lo_open=True)
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    t = check_real_array("t", t)
    cost = check_real_array("c0", c0, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(t > beta, budget * (t - beta) / (t * cost), 1.0)
    return _out(out)


def b_crit(beta, t, c0):
    """Budget above which scale-out at the optimum beats one agent.

    ``B_crit = c0 r^(-r/(1-r)) / (1 - r)`` with ``r = beta / t`` is derived for
    this project (spec 2.7) as the root of ``x*^beta N*^t = B^beta``; the
    paper promises explicit thresholds but their form is open (A5).
    ``t <= beta`` gives ``inf`` (scale-out never wins).

    Parameters
    ----------
    beta, t, c0
        As in :func:`x_star`.

    Returns
    -------
    float or ndarray
    """
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    t = check_real_array("t", t)
    cost = check_real_array("c0", c0, 0.0, None)
    beta, t, cost = np.broadcast_arrays(beta, t, cost)
    ok = t > beta
    r = np.where(ok, beta / np.where(ok, t, 1.0), 0.5)
    out = np.where(ok, cost * r ** (-r / (1.0 - r)) / (1.0 - r), np.inf)
    return _out(out)


def fan_in_max_tree(context, msg_tokens, overhead=0):
    """Largest odd fan-in that fits one aggregator's context, ``b m + w0 <= W``.

    The constraint ``b m <= W`` is the paper's (spec 1.3); the prompt overhead
    ``w0`` (default 0) is a project option. Returns 1 when only a relay fits
    and 0 when not even one message fits.

    Parameters
    ----------
    context : int or float
        Context window ``W`` in tokens, ``> 0``.
    msg_tokens : int or float
        Message length ``m``, ``> 0``.
    overhead : int or float, default 0
        Aggregator overhead ``w0 >= 0``.

    Returns
    -------
    int
    """
    w = check_real("context", context, 0.0, None, lo_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, None, lo_open=True)
    w0 = check_real("overhead", overhead, 0.0, None)
    if all(isinstance(v, numbers.Integral) for v in (context, msg_tokens, overhead)):
        q = (int(context) - int(overhead)) // int(msg_tokens)
    else:
        q = math.floor((w - w0) / m)
    if q < 1:
        return 0
    return q if q % 2 else q - 1


def fan_in_max_star(context, msg_tokens):
    """Largest star that fits the aggregator's context, ``N_max = floor(W / m)`` (spec 1.3).

    The constraint ``N m <= W`` is the paper's. A majority star also needs
    ``N`` odd.

    Parameters
    ----------
    context : int or float
        Context window ``W``, ``> 0``.
    msg_tokens : int or float
        Message length ``m``, ``> 0``.

    Returns
    -------
    int
    """
    w = check_real("context", context, 0.0, None, lo_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, None, lo_open=True)
    if isinstance(context, numbers.Integral) and isinstance(msg_tokens, numbers.Integral):
        return int(context) // int(msg_tokens)
    return math.floor(w / m)


def budget_analysis(b, rho, gamma, beta, budget, msg_tokens, context=128000, overhead=0, t=None):
    """Scale-out versus scale-up report for one configuration (Thm 5, Thm 9).

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 3``.
    rho : float
        Correlation in ``[0, 1)``.
    gamma : float
        Fidelity in ``(0, 1]``.
    beta : float
        Leaf exponent ``> 0``.
    budget : float
        Total budget ``B > 0`` (tokens).
    msg_tokens : int or float
        Message length ``m > 0``.
    context : int or float, default 128000
        Context window ``W``.
    overhead : int or float, default 0
        Aggregator prompt overhead ``w0`` (project option, spec 1.3).
    t : float, optional
        Exponent of Thm 9; defaults to ``s`` of the tree (open choice A4).

    Returns
    -------
    dict
        ``s``, ``t``, ``beta``, ``synergy`` (``s > beta``, Thm 5), ``c0``,
        ``x_star``, ``n_star``, ``depth_star`` (``log_b N*``), ``b_crit``,
        ``feasible`` (``b m + w0 <= W``), ``b_max`` (:func:`fan_in_max_tree`),
        ``n_max_star`` (:func:`fan_in_max_star`), ``scale_out_wins``
        (synergy and ``budget > b_crit``).
    """
    b = check_odd_int("b", b)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    beta = check_real("beta", beta, 0.0, None, lo_open=True)
    budget = check_real("budget", budget, 0.0, None, lo_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, None, lo_open=True)
    w = check_real("context", context, 0.0, None, lo_open=True)
    w0 = check_real("overhead", overhead, 0.0, None)
    s = math.log(_alpha(b, rho, gamma)) / math.log(b)
    t = s if t is None else check_real("t", t)
    cost = c0(m, b)
    n_opt = n_star(budget, beta, t, cost)
    threshold = b_crit(beta, t, cost)
    has_synergy = s > beta
    return {
        "s": s,
        "t": t,
        "beta": beta,
        "synergy": has_synergy,
        "c0": cost,
        "x_star": x_star(beta, t, cost),
        "n_star": n_opt,
        "depth_star": math.log(n_opt) / math.log(b),
        "b_crit": threshold,
        "feasible": b * m + w0 <= w,
        "b_max": fan_in_max_tree(context, msg_tokens, overhead),
        "n_max_star": fan_in_max_star(context, msg_tokens),
        "scale_out_wins": bool(has_synergy and budget > threshold),
    }


def mixing_depth(mu0, b, rho, gamma):
    """Depth at which geometric growth reaches the fixed point, ``ceil(ln(mu*/mu0) / ln alpha)``.

    The concept is the paper's; this definition (the kink of the clipped
    predictor) is the project's choice for the open item A6 (spec 2.8).
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


def delta_depth(delta, b, rho, gamma):
    """Extra levels to get within ``delta`` of ``mu*``, ``ceil(ln(1/delta) / ln(1/lambda*))``.

    Project choice for the open item A6 (spec 2.8), using the contraction
    rate :func:`contraction_rate`. Returns 0 when ``lambda* = 0``
    (super-geometric convergence) and NaN when ``alpha_rho <= 1``.

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


def clipped_predictor(mu0, b, rho, gamma, depth):
    """Clipped small-signal predictor ``min(alpha^L mu0, mu*)`` for ``L = 0..depth``.

    The "conservative" predictor is the paper's concept; this form is the
    project's choice for the open item A7 (spec 2.8). Because ``g`` is concave
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


# ---------------------------------------------------------------------------
# channels (spec 6.1, 6.2)
# ---------------------------------------------------------------------------


def gamma_exp_saturation(m, gamma_inf, m0):
    """Exponential-saturation fidelity ``gamma(m) = gamma_inf (1 - exp(-m / m0))``.

    The functional form of ``gamma(m)`` is open (A11); this is one of the
    project's monotone families (spec 6.1).

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

    One of the project's monotone families for the open ``gamma(m)`` (A11,
    spec 6.1). ``gamma(m_half) = gamma_inf / 2``; ``gamma(0) = 0``.

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

    The empirical option for the open ``gamma(m)`` (A11, spec 6.1): an
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

    ``sigma_c^2(m)`` is the paper's name (Eq. 13); the form is a project
    suggestion for an open choice (spec 6.2).

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

    A project suggestion for the open form of ``sigma_c^2(m)`` (spec 6.2).

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


# ---------------------------------------------------------------------------
# continuous warm-up (spec 3, 5.3)
# ---------------------------------------------------------------------------


def star_risk(N, v, rho, sigma2):
    """Risk of averaging ``N`` correlated estimates, ``v [rho + (1-rho)/N] + sigma_c^2 / N``.

    Derived for this project (spec 3) in the recommended warm-up setting
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


def budgeted_star_risk(N, A, budget, beta, rho, sigma2):
    """Star risk at a fixed budget, ``A B^-beta [rho N^beta + (1-rho) N^(beta-1)] + sigma_c^2 / N``.

    Derived for this project (spec 3) with the project's leaf law
    ``v = A x^-beta`` (open choice A3) and ``x = B / N``.

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


def budgeted_star_optimum(rho, beta):
    """Risk-minimising star size without message noise, ``N* = (1-rho)(1-beta) / (rho beta)``.

    Derived for this project (spec 3) by setting the ``N``-derivative of
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


def tree_lambda(b, rho):
    """Per-level variance factor of the averaging tree, ``lambda = rho + (1 - rho)/b``.

    Derived for this project (spec 3): averaging ``b`` equicorrelated
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


def v_star(b, rho, sigma2):
    """Depth floor of the averaging tree, ``v* = sigma_c^2 / ((b - 1)(1 - rho))`` (Eq. 13).

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


def tree_risk(depth, v0, b, rho, sigma2):
    """Risk of a depth-``L`` averaging tree, ``v_L = lambda^L v0 + v* (1 - lambda^L)``.

    Closed form of ``v_{l+1} = lambda v_l + sigma_c^2 / b`` with per-level
    correlation, derived for this project (spec 3); the floor ``v*`` is the
    paper's (Eq. 13).

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


def tree_risk_global_shock(depth, v0, b, rho, sigma2):
    """Risk of an averaging tree whose leaves share one global error component.

    ``R_L = rho v0 + (1 - rho) v0 b^-L + sigma_c^2 (1 - b^-L) / (b - 1)``,
    derived for this project (spec 3, 5.3); floor
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

    One of two candidate chain models derived for this project; the paper's
    chain model is not confirmed (spec 3).

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


def chain_risk_running(k, v, rho, sigma2):
    """Risk of a running-average chain of ``k`` agents.

    ``v [rho + (1 - rho)/k] + sigma_c^2 (k - 1)(2k - 1) / (6k)``: agent ``j``
    forms ``M_j = [(j-1)(M_{j-1} + n_j) + e_j] / j`` from the noisy incoming
    mean, so every estimate has weight ``1/k`` and the noise on hop ``j``
    weight ``(j-1)/k``. Derived for this project; the paper's chain model is
    not confirmed (spec 3).

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


# ---------------------------------------------------------------------------
# correlation models (spec 5)
# ---------------------------------------------------------------------------


def beta_params(mu_bar, rho):
    """Beta law of the item-difficulty model with mean bias ``mu_bar`` and correlation ``rho``.

    ``p_bar = (1 + mu_bar)/2``, ``a = p_bar (1 - rho)/rho``,
    ``c = (1 - p_bar)(1 - rho)/rho``: then ``E[p_item] = p_bar`` and the
    pairwise correlation of signed correctness of two agents on one item is
    ``1/(a + c + 1) = rho``. Derived for this project (spec 5.2).

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
    """E[F(2p - 1)] for p ~ Beta(a, c), split at p = 1/2 (spec 5.2 default).

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
                f"for method='jacobi', got b={b}, depth={max(levels)} ({n} nodes); use method='quad'"
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


def level_biases(correlation, b, depth, rho, gamma, mu0, rho_node=0.0, root_channel=False,
                 method="quad"):
    """Expected bias of a node's output at every level of a majority tree (spec 5).

    Level 0 is the leaves (``mu0``); level ``l`` is a node ``l`` levels up;
    ``g`` is the layer map with node herding ``rho_node`` (``rho_node = 0``
    gives ``h(mu) = f_b(gamma mu)``).

    * ``"herding"`` (default model; reproduces the paper's recursion, Thm 4):
      ``mu_l = g_rho^l(mu0)``, node herding with probability ``rho``.
    * ``"item"`` (item difficulty, derived for this project, spec 5.2): one
      ``p_item ~ Beta(a, c)`` per item shared by all leaves, with
      ``(a, c) = beta_params(mu0, rho)``;
      ``E[mu_l] = int g^l(2p - 1) Beta(p; a, c) dp``. ``rho = 0`` or
      ``|mu0| = 1`` is a point mass and gives ``g^l(mu0)``; so is
      ``rho < RHO_POINT_MASS`` (1e-10), below which the Beta law is narrower
      than the quadrature can resolve.
    * ``"shock"`` / ``"global_shock"`` (ablation A8, derived for this project,
      spec 5.3): ``E[mu_l] = rho mu0 g^l(1) + (1 - rho) g^l(mu0)``.

    ``rho_node > 0`` composes leaf-level ``"item"``/``"shock"`` correlation
    with node herding (spec 5.4).

    Parameters
    ----------
    correlation : {"herding", "item", "shock", "global_shock"}
        Correlation model (open choice A1).
    b : int
        Odd fan-in ``>= 3``.
    depth : int
        Tree depth ``L >= 0``.
    rho : array_like
        Correlation in ``[0, 1)`` (pairwise correlation of signed correctness
        between the relevant votes, spec 5).
    gamma : array_like
        Channel fidelity in ``(0, 1]`` on every edge.
    mu0 : array_like
        Leaf bias (mean leaf bias under ``"item"``) in ``[-1, 1]``.
    rho_node : float, default 0.0
        Node herding composed with ``"item"`` or ``"shock"``, in ``[0, 1)``;
        must be 0 for ``"herding"``.
    root_channel : bool, default False
        Open choice A2: when True the root's output also passes a channel, so
        the last entry is multiplied by ``gamma``.
    method : {"quad", "jacobi", "midpoint"}, default "quad"
        Quadrature of the ``"item"`` integral (spec 5.2): ``"quad"`` splits at
        ``p = 1/2`` and uses QUADPACK's algebraic endpoint weights;
        ``"jacobi"`` is Gauss-Jacobi in ``x = 2p - 1``, exact with
        ``(b^L + 1)/2`` nodes (raises ValueError beyond ``JACOBI_MAX_NODES``
        nodes or for ``rho < 1/1025``); ``"midpoint"`` is the
        inverse-CDF midpoint rule with ``MIDPOINT_NODES`` nodes (about 1e-4).
        Ignored by the other models.

    Returns
    -------
    ndarray
        Shape ``(depth + 1,) + broadcast(rho, gamma, mu0).shape``; entry ``l``
        is ``E[mu_l]``.
    """
    correlation = _correlation(correlation)
    b, depth, rho, gamma, mu0, rho_node, method = _check_common(
        b, depth, rho, gamma, mu0, rho_node, method
    )
    root_channel = check_bool("root_channel", root_channel)
    if correlation == "herding":
        if rho_node != 0.0:
            raise ValueError(
                f"rho_node must be 0 when correlation='herding', got {rho_node:g}"
            )
        out = _iterate(mu0, b, rho, gamma, depth)
    elif correlation == "shock":
        rho, gamma, mu0 = np.broadcast_arrays(rho, gamma, mu0)
        from_one = _iterate(np.ones_like(mu0), b, rho_node, gamma, depth)
        from_mu0 = _iterate(mu0, b, rho_node, gamma, depth)
        out = rho * mu0 * from_one + (1.0 - rho) * from_mu0
        out[0] = mu0  # exact at the leaves
    else:
        rho, gamma, mu0 = np.broadcast_arrays(rho, gamma, mu0)
        out = np.empty((depth + 1,) + mu0.shape)
        levels = list(range(depth + 1))
        for idx in np.ndindex(mu0.shape):
            out[(slice(None),) + idx] = _item_levels_scalar(
                b, depth, float(rho[idx]), float(gamma[idx]), float(mu0[idx]), rho_node,
                method, levels,
            )
    if root_channel:
        out[-1] = out[-1] * gamma
    return out


def root_bias(correlation, b, depth, rho, gamma, mu0, rho_node=0.0, root_channel=False,
              method="quad"):
    """Expected root bias, ``level_biases(...)[-1]`` (spec 5).

    See :func:`level_biases` for the models and parameters. Root accuracy is
    ``(1 + root_bias) / 2``.

    Returns
    -------
    float or ndarray
        Shape ``broadcast(rho, gamma, mu0).shape``.
    """
    correlation = _correlation(correlation)
    if correlation == "item":
        out = item_root_bias(b, depth, rho, gamma, mu0, rho_node=rho_node, method=method)
        if check_bool("root_channel", root_channel):
            out = out * check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
        return _out(out)
    return _out(
        level_biases(correlation, b, depth, rho, gamma, mu0, rho_node, root_channel, method)[-1]
    )


def item_root_bias(b, depth, rho, gamma, mu0, rho_node=0.0, method="quad"):
    """Expected root bias of the item-difficulty model (spec 5.2, 5.4).

    ``E[mu_L] = int_0^1 g^L(2p - 1) p^(a-1) (1-p)^(c-1) / B(a, c) dp`` with
    ``(a, c) = beta_params(mu0, rho)``, derived for this project. Only the
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


def star_bias(correlation, N, rho, gamma, mu0):
    """Expected output bias of a one-level star of ``N`` leaves (spec 2.9, 5).

    * ``"herding"``: ``rho gamma mu0 + (1 - rho) f_N(gamma mu0)``.
    * ``"item"``: ``E[f_N(gamma (2p - 1))]``, ``p ~ Beta(beta_params(mu0, rho))``
      (with ``gamma = 1`` this is the beta-binomial majority).
    * ``"shock"``: ``rho mu0 f_N(gamma) + (1 - rho) f_N(gamma mu0)``.

    All derived for this project. The fan-in cap ``N m <= W`` is checked by the
    caller (:func:`fan_in_max_star`).

    Parameters
    ----------
    correlation : {"herding", "item", "shock", "global_shock"}
    N : int
        Odd number of leaves ``>= 1``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.
    mu0 : array_like
        Leaf bias in ``[-1, 1]``.

    Returns
    -------
    float or ndarray
    """
    correlation = _correlation(correlation)
    N = check_odd_int("N", N, lo=1)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    if correlation == "herding":
        return _out(rho * gamma * mu0 + (1.0 - rho) * _f(gamma * mu0, N))
    if correlation == "shock":
        return _out(rho * mu0 * _f(gamma, N) + (1.0 - rho) * _f(gamma * mu0, N))

    def item(r, g, m):
        if r < RHO_POINT_MASS or abs(m) == 1.0:
            return float(_f(g * m, N))
        a, c = _beta_ac(m, r)
        return _beta_quad(_scalar_map(N, 0.0, g), a, c)

    return _vectorize(item, rho, gamma, mu0)


def limit_bias(correlation, b, rho, gamma, mu0):
    """Deep-tree limit ``lim_{L -> inf} E[mu_L]`` (spec 5 table).

    * ``"herding"``: ``sign(mu0) mu*`` (Thm 4; 0 when ``alpha_rho <= 1``).
    * ``"item"``: ``mu*_0 [1 - 2 I_{1/2}(a, c)]``, each item driven to
      ``+-mu*_0`` by the sign of its ``2 p_item - 1``.
    * ``"shock"``: ``mu*_0 [rho mu0 + (1 - rho) sign(mu0)]`` (equals
      ``mu*_0 (1 - rho (1 - mu0))`` for ``mu0 > 0``).

    ``mu*_0`` is the fixed point of ``h(mu) = f_b(gamma mu)`` (0 when
    ``alpha_0 = gamma f_b'(0) <= 1``); the item and shock limits are derived
    for this project, and their phase boundary ``alpha_0 = 1`` does not depend
    on ``rho``.

    Parameters
    ----------
    correlation : {"herding", "item", "shock", "global_shock"}
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.
    mu0 : array_like
        Leaf bias (mean leaf bias under ``"item"``) in ``[-1, 1]``.

    Returns
    -------
    float or ndarray
    """
    correlation = _correlation(correlation)
    b, rho, gamma = _core_args(b, rho, gamma)
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    if correlation == "herding":
        return _out(np.sign(mu0) * fixed_point(b, rho, gamma))
    star0 = np.asarray(fixed_point(b, 0.0, gamma))
    if correlation == "shock":
        return _out(star0 * (rho * mu0 + (1.0 - rho) * np.sign(mu0)))
    rho, mu0 = np.broadcast_arrays(rho, mu0)
    degenerate = (rho == 0.0) | (np.abs(mu0) == 1.0)
    safe_rho = np.where(degenerate, 0.5, rho)
    safe_mu0 = np.where(degenerate, 0.0, mu0)
    a, c = _beta_ac(safe_mu0, safe_rho)
    split = 1.0 - 2.0 * special.betainc(a, c, 0.5)
    return _out(star0 * np.where(degenerate, np.sign(mu0), split))
