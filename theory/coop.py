"""Closed forms and exact equilibria of the collective-action and loyalty model (coop).

Pant and Yu, "Computational Foundations for Strategic Coopetition: Formalizing
Collective Action and Loyalty", arXiv 2601.16237 (the TR-3 report), and the
authors' validation code (https://github.com/vikpant/strategic-coopetition).
The model, its numbered equations and their provenance are in
``docs/models/coop.md``; every docstring here cites that document as
``docs/models/coop.md (N)`` or the paper's own numbering ("paper Eq. (3)",
"paper Proposition 1", numbered as in the docstrings of the authors' code).

Provenance is stated in every docstring: "paper" (the report's equation or
proposition), "the authors' code", or "derived here" (a consequence of the
model, derived and checked numerically for budgetlab). Choices the paper
leaves open are parameters with a documented default (``docs/models/coop.md``,
section "Open choices") and are never described as the paper's.

Two model versions
------------------
The teammates' welfare term ``W_{-i}`` of the loyalty modifier
(``docs/models/coop.md (3)``) exists in two versions of the authors' code,
selected by ``welfare_mode``:

* ``"sum"`` (alias ``"paper"``): ``W_{-i} = sum_{j != i} pi_j``, the version
  of commit ``a9f5e2a`` that reproduces every number of the paper's abstract;
  the default.
* ``"mean"`` (alias ``"repo"``): ``W_{-i} = mean_{j != i} pi_j``, the version
  the maintainers switched to in ``22571a9`` (repository HEAD).

Conventions
-----------
* Members lie on the **last** axis of effort profiles ``a``, loyalties
  ``theta``, targets and dependency weights; every function broadcasts over
  the leading (configuration) axes, so whole parameter grids are solved in one
  call. Scalar model parameters (``omega``, ``beta``, ``c``, ``n``, ``phi_B``,
  ``phi_C``, ``a_min``, ``a_max``) broadcast against those leading axes where
  the docstring says so.
* Public functions also take a :class:`CoopParams` in place of the model
  parameters (:func:`theory._params.accepts_params`):
  ``free_riding_effort(CoopParams(n=4))``; further arguments are keywords.
* Functions that return one value per configuration return a ``float`` for
  scalar input and an ``ndarray`` otherwise.
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._params import (
    accepts_params,
    check_choice,
    check_int,
    check_int_array,
    check_real,
    check_real_array,
)

__all__ = [
    "DEFAULT_THETA",
    "WELFARE_MODES",
    "ZERO_WEIGHT_RULES",
    "CoopParams",
    "equilibrium_reference",
    "trust_signal",
    "interdependence_payoffs",
    "integrated_utility",
    "interdependence_equilibrium",
    "trust_update",
    "Equilibrium",
    # payoffs, docs/models/coop.md (1)-(7)
    "team_production",
    "base_payoff",
    "teammates_welfare",
    "loyalty_modifier",
    "utility",
    "marginal_utility",
    "team_welfare",
    "team_cohesion",
    # best responses and closed forms, docs/models/coop.md (8)-(14)
    "benefit_multiplier",
    "effective_cost",
    "target_aggregate",
    "best_response",
    "free_riding_aggregate",
    "free_riding_effort",
    "social_optimum_aggregate",
    "social_optimum_effort",
    "underprovision_ratio",
    "symmetric_equilibrium_aggregate",
    "symmetric_equilibrium_effort",
    # equilibrium solvers, docs/models/coop.md (15)-(18)
    "equilibrium_aggregate",
    "equilibrium_direct",
    "equilibrium_gauss_seidel",
    "solve",
    # comparative statics, docs/models/coop.md (19)-(20)
    "effort_differentiation",
    "mechanism_synergy",
    "synergy_identity",
]

#: Teammates' welfare versions (docs/models/coop.md (3)): ``"sum"`` (paper) and ``"mean"``
#: (the authors' later code).
WELFARE_MODES = ("sum", "mean")
_MODE_ALIASES = {"paper": "sum", "P": "sum", "repo": "mean", "R": "mean"}
#: Loyalty of every member when ``CoopParams.theta`` is None (the authors' default).
DEFAULT_THETA = 0.5
#: What :func:`team_cohesion` does when every dependency weight is 0 (an open choice).
ZERO_WEIGHT_RULES = ("raise", "nan")

_POS = {"lo": 0.0, "lo_open": True}  # (0, inf]
_NONNEG = {"lo": 0.0}  # [0, inf]


# ---------------------------------------------------------------------------
# argument handling
# ---------------------------------------------------------------------------


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _mode(welfare_mode):
    """Canonical welfare mode (``"paper"``/``"repo"`` map to ``"sum"``/``"mean"``)."""
    if isinstance(welfare_mode, str) and welfare_mode in _MODE_ALIASES:
        return _MODE_ALIASES[welfare_mode]
    return check_choice("welfare_mode", welfare_mode, WELFARE_MODES + tuple(_MODE_ALIASES))


def _members(name, value):
    """``value`` as a float array with at least one member on its last axis."""
    arr = np.asarray(value)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must be an array with at least one member on its last axis, "
                         f"got shape {arr.shape}")
    return arr


def _production(omega, beta):
    omega = check_real_array("omega", omega, **_POS)
    beta = check_real_array("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    return omega, beta


def _loyalty(theta, phi_B, phi_C):
    theta = check_real_array("theta", theta, 0.0, 1.0)
    phi_B = check_real_array("phi_B", phi_B, **_NONNEG)
    phi_C = check_real_array("phi_C", phi_C, **_NONNEG)
    prod = theta * phi_C
    if prod.size and not (prod < 1.0).all():
        bad = float(np.asarray(prod)[~(prod < 1.0)].flat[0])
        raise ValueError(f"theta*phi_C must be < 1, got {bad:g}")
    return theta, phi_B, phi_C


def _bounds(a_min, a_max):
    a_min = check_real_array("a_min", a_min, 0.0, math.inf, hi_open=True)
    a_max = check_real_array("a_max", a_max, **_POS)
    ok = np.asarray(a_max > a_min)
    if not ok.all():
        bad = np.broadcast_to(a_max, ok.shape)[~ok].flat[0]
        raise ValueError(f"a_max must be > a_min, got {bad:g}")
    return a_min, a_max


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CoopParams:
    """Validated parameters of one team (docs/models/coop.md, section "The model").

    Parameters
    ----------
    omega : float, default 25.0
        Productivity ``omega > 0`` of ``Q = omega S^beta`` (paper Eq. (1); the authors' default).
    beta : float, default 0.7
        Returns to scale, in ``(0, 1)`` (paper Eq. (1); the authors' default).
    c : float, default 1.0
        Marginal effort cost ``c > 0`` (paper Eq. (2); the authors' default).
    n : int, default 5
        Team size, ``n >= 2`` (the authors' default).
    theta : sequence of float or None, default None
        Member loyalties ``theta_i`` in ``[0, 1]``, one per member; ``None``
        means :data:`DEFAULT_THETA` (0.5) for every member (the authors' default).
        Stored as a tuple of floats.
    D : sequence of float or None, default None
        Dependency weights ``D_{T,i} >= 0`` of the team on each member
        (docs/models/coop.md (7)), one per member; ``None`` means equal weights
        ``1/n``. Only used by :meth:`cohesion`.
    phi_B : float, default 0.8
        Loyalty-benefit strength ``phi_B >= 0`` (paper Eq. (3); the authors' default).
    phi_C : float, default 0.3
        Cost-tolerance strength ``phi_C >= 0`` with ``theta_i phi_C < 1`` for
        every member (paper Eq. (3); the bound is derived here: beyond it the
        effective cost of docs/models/coop.md (8) is not positive).
    a_min : float, default 0.0
        Effort floor, in ``[0, a_max)`` (an open choice). The theory uses 0;
        the authors' optimiser floor is 0.01 (:meth:`paper_compat`).
    a_max : float, default 50.0
        Effort cap ``> a_min`` (the authors' code).
    welfare_mode : {"sum", "mean"}, default "sum"
        Teammates' welfare in the loyalty modifier (docs/models/coop.md (3)):
        ``"sum"`` is the paper version, ``"mean"`` the authors' later code.
        ``"paper"`` and ``"repo"`` are accepted and stored as ``"sum"`` and
        ``"mean"``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    omega: float = 25.0
    beta: float = 0.7
    c: float = 1.0
    n: int = 5
    theta: tuple | None = None
    D: tuple | None = None
    phi_B: float = 0.8
    phi_C: float = 0.3
    a_min: float = 0.0
    a_max: float = 50.0
    welfare_mode: str = "sum"

    def __post_init__(self):
        put = object.__setattr__
        put(self, "omega", check_real("omega", self.omega, 0.0, math.inf, lo_open=True,
                                      hi_open=True))
        put(self, "beta", check_real("beta", self.beta, 0.0, 1.0, lo_open=True, hi_open=True))
        put(self, "c", check_real("c", self.c, 0.0, math.inf, lo_open=True, hi_open=True))
        put(self, "n", check_int("n", self.n, 2))
        put(self, "phi_B", check_real("phi_B", self.phi_B, 0.0, math.inf, hi_open=True))
        put(self, "phi_C", check_real("phi_C", self.phi_C, 0.0, math.inf, hi_open=True))
        put(self, "a_min", check_real("a_min", self.a_min, 0.0, math.inf, hi_open=True))
        put(self, "a_max", check_real("a_max", self.a_max, self.a_min, math.inf, lo_open=True))
        put(self, "welfare_mode", _mode(self.welfare_mode))
        theta = (DEFAULT_THETA,) * self.n if self.theta is None else self.theta
        put(self, "theta", self._member_list("theta", theta, 0.0, 1.0))
        for t in self.theta:
            if not t * self.phi_C < 1.0:
                raise ValueError(f"theta*phi_C must be < 1, got {t * self.phi_C:g}")
        if self.D is not None:
            put(self, "D", self._member_list("D", self.D, 0.0, math.inf))

    def _member_list(self, name, value, lo, hi):
        arr = np.asarray(value)
        if arr.ndim != 1 or arr.shape[0] != self.n:
            raise ValueError(f"{name} must be a list of n={self.n} values, got shape {arr.shape}")
        hi_open = math.isinf(hi)
        return tuple(float(x) for x in check_real_array(name, arr, lo, hi, hi_open=hi_open))

    @classmethod
    def paper_compat(cls, **kwargs):
        """The reference suite's settings: ``welfare_mode="sum"``, ``a_min=0.01``, ``a_max=50``.

        Any field can still be overridden by keyword (docs/models/coop.md,
        section "Open choices").
        """
        kwargs.setdefault("welfare_mode", "sum")
        kwargs.setdefault("a_min", 0.01)
        kwargs.setdefault("a_max", 50.0)
        return cls(**kwargs)

    @property
    def theta_array(self) -> np.ndarray:
        """Loyalties as a float array of shape ``(n,)``."""
        return np.array(self.theta, dtype=float)

    @property
    def targets(self) -> np.ndarray:
        """Best-response targets ``S_i*`` of the members (:func:`target_aggregate`).

        A property, so that the solvers accept the parameter object:
        ``equilibrium_direct(params)`` solves the team.
        """
        return target_aggregate(self.theta_array, self.omega, self.beta, self.c, self.n,
                                self.phi_B, self.phi_C, self.welfare_mode)

    def cohesion(self, zero_weights="raise") -> float:
        """Team cohesion ``C`` (docs/models/coop.md (7)); equal weights when ``D`` is None."""
        return team_cohesion(self.theta_array, self.D, zero_weights=zero_weights)


# ---------------------------------------------------------------------------
# payoffs, docs/models/coop.md (1)-(6)
# ---------------------------------------------------------------------------


@accepts_params
def team_production(S, omega, beta):
    """Team output ``Q = omega S^beta`` (docs/models/coop.md (1)), ``0`` for ``S <= 0``.

    Parameters
    ----------
    S : array_like
        Aggregate effort ``S = sum_i a_i``.
    omega : array_like
        Productivity ``> 0``.
    beta : array_like
        Returns to scale in ``(0, 1)``.

    Returns
    -------
    float or ndarray
        ``Q``, broadcast over the inputs.
    """
    omega, beta = _production(omega, beta)
    S = np.asarray(S, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = omega * np.where(S > 0, np.abs(S), 1.0) ** beta
    return _out(np.where(S > 0, q, 0.0))


@accepts_params
def base_payoff(a, omega, beta, c):
    """Base team payoffs ``pi_i = Q(a)/n - c a_i`` (docs/models/coop.md (2)).

    Parameters
    ----------
    a : array_like, shape (..., n)
        Effort profiles, members on the last axis.
    omega, beta, c : array_like
        Model parameters, broadcast against the leading axes of ``a``.

    Returns
    -------
    ndarray, shape (..., n)
    """
    a = _members("a", np.asarray(a, dtype=float))
    n = a.shape[-1]
    c = check_real_array("c", c, **_POS)
    Q = np.asarray(team_production(a.sum(axis=-1), omega, beta))
    return Q[..., None] / n - np.asarray(c)[..., None] * a


@accepts_params
def teammates_welfare(a, omega, beta, c, welfare_mode="sum"):
    """Teammates' welfare ``W_{-i}`` of each member (docs/models/coop.md (3)).

    ``"sum"`` (the paper variant): ``W_{-i} = sum_{j != i} pi_j = (n-1)/n Q - c S_{-i}``;
    ``"mean"`` (the repo variant): ``W_{-i} = (1/(n-1)) sum_{j != i} pi_j``.

    Parameters
    ----------
    a : array_like, shape (..., n)
        Effort profiles, ``n >= 2``.
    omega, beta, c : array_like
        Model parameters, broadcast against the leading axes of ``a``.
    welfare_mode : {"sum", "mean"}, default "sum"
        Model version (docs/models/coop.md (3)); ``"paper"``/``"repo"`` are aliases.

    Returns
    -------
    ndarray, shape (..., n)
    """
    mode = _mode(welfare_mode)
    pi = base_payoff(a, omega, beta, c)
    n = pi.shape[-1]
    check_int("n", n, 2)
    others = pi.sum(axis=-1, keepdims=True) - pi
    return others if mode == "sum" else others / (n - 1)


@accepts_params
def loyalty_modifier(a, theta, omega, beta, c, phi_B=0.8, phi_C=0.3, welfare_mode="sum"):
    """Loyalty modifier ``L_i = theta_i [phi_B W_{-i} + phi_C c a_i]`` (docs/models/coop.md (4)).

    The first term is the loyalty benefit (welfare internalisation), the second
    the cost tolerance, which equals scaling own cost by ``1 - theta_i phi_C``.

    Parameters
    ----------
    a : array_like, shape (..., n)
        Effort profiles.
    theta : array_like
        Loyalties in ``[0, 1]``, broadcast against ``a``.
    omega, beta, c, phi_B, phi_C : array_like
        Model parameters, scalars or broadcast against the leading axes of ``a``.
    welfare_mode : {"sum", "mean"}, default "sum"

    Returns
    -------
    ndarray, shape (..., n)
    """
    theta, phi_B, phi_C = _loyalty(theta, phi_B, phi_C)
    a = np.asarray(a, dtype=float)
    W = teammates_welfare(a, omega, beta, c, welfare_mode)
    c = np.asarray(c, dtype=float)[..., None]
    return theta * (_col(phi_B, a) * W + _col(phi_C, a) * c * a)


def _col(x, a):
    """A scalar or per-configuration parameter as a column against the member axis."""
    return np.asarray(x, dtype=float)[..., None]


@accepts_params
def utility(a, theta, omega, beta, c, phi_B=0.8, phi_C=0.3, welfare_mode="sum"):
    """Loyalty-augmented utilities ``U_i = pi_i + L_i`` (docs/models/coop.md (5)).

    Expanded (docs/models/coop.md (6), derived here), with ``S_{-i} = S - a_i``:
    ``U_i = k_i/n omega S^beta - c (1 - theta_i phi_C) a_i - theta_i phi_B c S_{-i} w``
    where ``k_i = 1 + (n-1) theta_i phi_B`` and ``w = 1`` in ``"sum"`` mode and
    ``k_i = 1 + theta_i phi_B``, ``w = 1/(n-1)`` in ``"mean"`` mode.

    Parameters
    ----------
    a : array_like, shape (..., n)
        Effort profiles, members on the last axis.
    theta : array_like
        Loyalties in ``[0, 1]``, broadcast against ``a``.
    omega, beta, c, phi_B, phi_C : array_like
        Model parameters, scalars or broadcast against the leading axes of ``a``.
    welfare_mode : {"sum", "mean"}, default "sum"

    Returns
    -------
    ndarray, shape (..., n)
        ``U_i`` of every member.
    """
    pi = base_payoff(a, omega, beta, c)
    return pi + loyalty_modifier(a, theta, omega, beta, c, phi_B, phi_C, welfare_mode)


@accepts_params
def marginal_utility(a, theta, omega, beta, c, phi_B=0.8, phi_C=0.3, welfare_mode="sum"):
    """Marginal utility ``g_i = dU_i/da_i`` of every member (docs/models/coop.md (9)).

    ``g_i = k_i omega beta S^(beta-1)/n - c (1 - theta_i phi_C)``, derived here by
    differentiating docs/models/coop.md (6). Used for the KKT conditions of an
    equilibrium. Requires ``S > 0``.

    Parameters
    ----------
    a : array_like, shape (..., n)
        Effort profiles, members on the last axis.
    theta, omega, beta, c, phi_B, phi_C, welfare_mode
        As in :func:`utility`.

    Returns
    -------
    ndarray, shape (..., n)
    """
    a = _members("a", np.asarray(a, dtype=float))
    n = a.shape[-1]
    theta, phi_B, phi_C = _loyalty(theta, phi_B, phi_C)
    omega, beta = _production(omega, beta)
    c = check_real_array("c", c, **_POS)
    S = a.sum(axis=-1, keepdims=True)
    k = benefit_multiplier(theta, n, _col(phi_B, a), welfare_mode)
    omega, beta, c = (np.asarray(x)[..., None] for x in (omega, beta, c))
    return k * omega * beta * S ** (beta - 1.0) / n - c * (1.0 - theta * _col(phi_C, a))


@accepts_params
def team_welfare(S, omega, beta, c):
    """Team welfare ``Q - c S`` (docs/models/coop.md (21)).

    Parameters
    ----------
    S : array_like
        Aggregate effort.
    omega, beta, c : array_like
        Model parameters, broadcast against ``S``.

    Returns
    -------
    float or ndarray
    """
    c = check_real_array("c", c, **_POS)
    return _out(np.asarray(team_production(S, omega, beta)) - c * np.asarray(S, dtype=float))


@accepts_params
def team_cohesion(theta, D, zero_weights="raise"):
    """Team cohesion ``C = sum_i D_{T,i} theta_i / sum_i D_{T,i}`` (docs/models/coop.md (7)).

    A report-only statistic: it does not enter utilities or equilibria (as in
    the authors' code).

    Parameters
    ----------
    theta : array_like, shape (..., n)
        Member loyalties in ``[0, 1]``.
    D : array_like, shape (..., n), or None
        Dependency weights ``D_{T,i} >= 0`` of the team on its members; None
        means equal weights (as in :class:`CoopParams`).
    zero_weights : {"raise", "nan"}, default "raise"
        Rule when every weight of a team is 0 (an open choice: the authors'
        suite returns 0.0 and their gym 0.5, neither is followed here).

    Returns
    -------
    float or ndarray
        Cohesion in ``[min theta, max theta]``, one per team.
    """
    check_choice("zero_weights", zero_weights, ZERO_WEIGHT_RULES)
    theta = check_real_array("theta", _members("theta", theta), 0.0, 1.0)
    D = np.ones_like(theta) if D is None else D
    D = check_real_array("D", _members("D", D), **_NONNEG)
    theta, D = np.broadcast_arrays(theta, D)
    total = D.sum(axis=-1)
    if zero_weights == "raise" and (total == 0).any():
        raise ValueError("D must have a positive sum, got all weights 0")
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (D * theta).sum(axis=-1) / total
    return _out(np.where(total > 0, np.clip(C, theta.min(axis=-1), theta.max(axis=-1)), np.nan))


# ---------------------------------------------------------------------------
# best responses and closed-form equilibria, docs/models/coop.md (8)-(14)
# ---------------------------------------------------------------------------


@accepts_params
def benefit_multiplier(theta, n, phi_B=0.8, welfare_mode="sum"):
    """Marginal-benefit multiplier ``k_i`` (docs/models/coop.md (8)), derived here.

    ``k_i = 1 + (n-1) theta_i phi_B`` in ``"sum"`` mode (the paper version) and
    ``k_i = 1 + theta_i phi_B`` in ``"mean"`` mode (the authors' later code).

    Parameters
    ----------
    theta : array_like
        Loyalties in ``[0, 1]``.
    n : int or array_like of int
        Team size, ``>= 2``.
    phi_B : array_like, default 0.8
        Loyalty-benefit strength, ``>= 0``.
    welfare_mode : {"sum", "mean"}, default "sum"

    Returns
    -------
    float or ndarray
    """
    mode = _mode(welfare_mode)
    theta = check_real_array("theta", theta, 0.0, 1.0)
    phi_B = check_real_array("phi_B", phi_B, **_NONNEG)
    n = check_int_array("n", n, 2)
    return _out(1.0 + (n - 1.0) * theta * phi_B if mode == "sum" else 1.0 + theta * phi_B)


@accepts_params
def effective_cost(theta, c, phi_C=0.3):
    """Effective marginal cost ``c_i = c (1 - theta_i phi_C)`` (docs/models/coop.md (8)).

    Parameters
    ----------
    theta : array_like
        Loyalties in ``[0, 1]``, with ``theta phi_C < 1``.
    c : array_like
        Marginal effort cost, ``> 0``.
    phi_C : array_like, default 0.3
        Cost-tolerance strength, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    theta, _, phi_C = _loyalty(theta, 0.0, phi_C)
    c = check_real_array("c", c, **_POS)
    return _out(c * (1.0 - theta * phi_C))


@accepts_params
def target_aggregate(theta, omega, beta, c, n, phi_B=0.8, phi_C=0.3, welfare_mode="sum"):
    """Best-response target ``S_i* = (k_i omega beta / (n c_i))^(1/(1-beta))``.

    docs/models/coop.md (10), derived here: the aggregate effort member ``i``
    wants, from the first-order condition of the strictly concave ``U_i``.
    Computed in logs, so huge targets overflow to ``inf`` cleanly.

    Parameters
    ----------
    theta : array_like
        Loyalties in ``[0, 1]``.
    omega, beta, c : array_like
        Productivity ``> 0``, returns to scale in ``(0, 1)``, cost ``> 0``.
    n : int or array_like of int
        Team size, ``>= 2``.
    phi_B, phi_C : array_like
        Loyalty strengths (docs/models/coop.md (4)).
    welfare_mode : {"sum", "mean"}, default "sum"

    Returns
    -------
    float or ndarray
        ``S_i*``, broadcast over all inputs.
    """
    omega, beta = _production(omega, beta)
    k = np.asarray(benefit_multiplier(theta, n, phi_B, welfare_mode))
    ci = np.asarray(effective_cost(theta, c, phi_C))
    n = np.asarray(n, dtype=float)
    with np.errstate(over="ignore"):
        return _out(np.exp((np.log(k * omega * beta) - np.log(n * ci)) / (1.0 - beta)))


@accepts_params
def best_response(S_minus, target, a_min=0.0, a_max=math.inf):
    """Clipped best response ``BR_i(S_{-i}) = clip(S_i* - S_{-i}, a_min, a_max)``.

    docs/models/coop.md (11), derived here. Exact (no numerical optimiser).

    Parameters
    ----------
    S_minus : array_like
        Teammates' total effort ``S_{-i} >= 0``.
    target : array_like
        The member's target ``S_i*`` (:func:`target_aggregate`).
    a_min, a_max : array_like
        Effort bounds, ``0 <= a_min < a_max``.

    Returns
    -------
    float or ndarray
    """
    a_min, a_max = _bounds(a_min, a_max)
    target = check_real_array("target", target, **_NONNEG)
    S_minus = check_real_array("S_minus", S_minus, **_NONNEG)
    return _out(np.clip(target - S_minus, a_min, a_max))


@accepts_params
def free_riding_aggregate(omega, beta, c, n):
    """Free-riding aggregate ``S_0* = (omega beta / (n c))^(1/(1-beta))``.

    docs/models/coop.md (12): the aggregate effort at ``theta = 0`` (paper
    Proposition 1). The authors' READMEs print this expression as a per-member
    effort; it is not one.

    Parameters
    ----------
    omega, beta, c : array_like
        Productivity, returns to scale and cost.
    n : int or array_like of int
        Team size, ``>= 2``.

    Returns
    -------
    float or ndarray
    """
    return target_aggregate(0.0, omega, beta, c, n, 0.0, 0.0)


@accepts_params
def free_riding_effort(omega, beta, c, n):
    """Holmstrom free-riding effort ``a_0* = (omega beta / (c n^(2-beta)))^(1/(1-beta))``.

    docs/models/coop.md (12): the per-member Nash effort at ``theta = 0`` (paper
    Proposition 1; the form the authors' code calls the "Correct formula"),
    equal to ``S_0*/n``.

    Parameters
    ----------
    omega, beta, c : array_like
        Productivity, returns to scale and cost.
    n : int or array_like of int
        Team size, ``>= 2``.

    Returns
    -------
    float or ndarray
    """
    omega, beta = _production(omega, beta)
    c = check_real_array("c", c, **_POS)
    n = check_int_array("n", n, 2).astype(float)
    return _out(np.exp((np.log(omega * beta) - np.log(c) - (2.0 - beta) * np.log(n))
                       / (1.0 - beta)))


@accepts_params
def social_optimum_aggregate(omega, beta, c):
    """Efficient aggregate ``S^opt = (omega beta / c)^(1/(1-beta))`` (docs/models/coop.md (13)).

    The maximiser of the team welfare ``Q - c S``.

    Parameters
    ----------
    omega, beta, c : array_like
        Productivity, returns to scale and cost.

    Returns
    -------
    float or ndarray
    """
    omega, beta = _production(omega, beta)
    c = check_real_array("c", c, **_POS)
    return _out(np.exp((np.log(omega * beta) - np.log(c)) / (1.0 - beta)))


@accepts_params
def social_optimum_effort(omega, beta, c, n):
    """Per-member efficient effort ``a^opt = S^opt / n`` (docs/models/coop.md (13)).

    Parameters
    ----------
    omega, beta, c : array_like
        Productivity, returns to scale and cost.
    n : int or array_like of int
        Team size, ``>= 2``.

    Returns
    -------
    float or ndarray
    """
    n = check_int_array("n", n, 2)
    return _out(np.asarray(social_optimum_aggregate(omega, beta, c)) / n)


@accepts_params
def underprovision_ratio(beta, n):
    """Under-provision ratio ``a^opt / a_0* = S^opt / S_0* = n^(1/(1-beta)) > 1``.

    docs/models/coop.md (13), derived here.

    Parameters
    ----------
    beta : array_like
        Returns to scale in ``(0, 1)``.
    n : int or array_like of int
        Team size, ``>= 2``.

    Returns
    -------
    float or ndarray
    """
    beta = check_real_array("beta", beta, 0.0, 1.0, lo_open=True, hi_open=True)
    n = check_int_array("n", n, 2)
    return _out(np.asarray(n, dtype=float) ** (1.0 / (1.0 - beta)))


@accepts_params
def symmetric_equilibrium_aggregate(theta, omega, beta, c, n, phi_B=0.8, phi_C=0.3,
                                    welfare_mode="sum", a_min=0.0, a_max=math.inf):
    """Equilibrium aggregate with common loyalty ``theta`` (docs/models/coop.md (14)).

    ``S*(theta) = clip(S*_theta, n a_min, n a_max)`` with
    ``S*_theta = (k(theta) omega beta / (n c (1 - theta phi_C)))^(1/(1-beta))``,
    derived here. Every Nash equilibrium has this aggregate; individual efforts
    are not unique (any split within the bounds is an equilibrium), so only
    aggregates and the mean effort are meaningful (docs/models/coop.md, section
    "Equilibrium").

    Parameters
    ----------
    theta : array_like
        The common loyalty in ``[0, 1]``. Given a :class:`CoopParams`, it is
        each member's loyalty, with one result per member.
    omega, beta, c, n, phi_B, phi_C, welfare_mode
        As in :func:`target_aggregate`.
    a_min, a_max : array_like
        Effort bounds (default 0 and infinity: the interior solution).

    Returns
    -------
    float or ndarray
    """
    a_min, a_max = _bounds(a_min, a_max)
    S = np.asarray(target_aggregate(theta, omega, beta, c, n, phi_B, phi_C, welfare_mode))
    n = np.asarray(n, dtype=float)
    return _out(np.clip(S, n * a_min, n * a_max))


@accepts_params
def symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B=0.8, phi_C=0.3,
                                 welfare_mode="sum", a_min=0.0, a_max=math.inf):
    """Mean equilibrium effort ``a*(theta) = S*(theta)/n`` with common loyalty.

    docs/models/coop.md (14), derived here. Interior case:
    ``a*(theta) = a_0* [k(theta)/(1 - theta phi_C)]^(1/(1-beta))``, with
    ``k = 1 + (n-1) theta phi_B`` ("sum") or ``1 + theta phi_B`` ("mean").
    This is the canonical symmetric selection and the mean effort that every
    metric of the paper uses.

    Parameters
    ----------
    theta, omega, beta, c, n, phi_B, phi_C, welfare_mode, a_min, a_max
        As in :func:`symmetric_equilibrium_aggregate`.

    Returns
    -------
    float or ndarray
    """
    S = symmetric_equilibrium_aggregate(theta, omega, beta, c, n, phi_B, phi_C, welfare_mode,
                                        a_min, a_max)
    return _out(np.asarray(S) / np.asarray(n, dtype=float))


# ---------------------------------------------------------------------------
# exact equilibrium solvers, docs/models/coop.md (15)-(18)
# ---------------------------------------------------------------------------


class Equilibrium(NamedTuple):
    """Result of :func:`equilibrium_direct`, :func:`equilibrium_gauss_seidel` and :func:`solve`.

    Attributes
    ----------
    efforts : ndarray, shape (..., n)
        An equilibrium allocation (a selection when ``unique`` is False).
    aggregate : float or ndarray
        The equilibrium aggregate ``S*`` (always unique).
    mean_effort : float or ndarray
        ``S*/n``, allocation-invariant (the paper's metric).
    unique : bool or ndarray
        Whether the individual efforts are unique: False when two or more
        members share the target ``S_i* = S*`` with room to trade effort.
    converged : bool or ndarray
        Always True for the direct solver.
    iterations : int
        Gauss-Seidel sweeps (0 for the direct solver).
    """

    efforts: np.ndarray
    aggregate: float | np.ndarray
    mean_effort: float | np.ndarray
    unique: bool | np.ndarray
    converged: bool | np.ndarray
    iterations: int


def _solver_args(targets, a_min, a_max):
    T = check_real_array("targets", _members("targets", targets), 0.0, math.inf)
    a_min, a_max = _bounds(a_min, a_max)
    lead = T.shape[:-1]
    lead = np.broadcast_shapes(lead, a_min.shape, a_max.shape)
    T = np.broadcast_to(T, lead + T.shape[-1:])
    return T, np.broadcast_to(a_min, lead), np.broadcast_to(a_max, lead)


@accepts_params
def equilibrium_aggregate(targets, a_min=0.0, a_max=math.inf):
    """The unique equilibrium aggregate ``S*`` from the members' targets (docs/models/coop.md (15)).

    Direct, iteration-free and vectorised: with targets sorted descending
    ``T_(1) >= ... >= T_(n)`` and pinned sums ``S_m = m a_max + (n-m) a_min``
    (``m`` members at the cap), let ``m*`` be the number of ``m >= 1`` with
    ``S_m <= T_(m)`` (a monotone predicate); then
    ``S* = clip(T_(m*+1), S_{m*}, S_{m*+1})`` (``S* = S_n`` when ``m* = n``).
    The comparisons use the same floating-point numbers, so a solution always
    exists and is exact up to one rounding of ``S_m``.

    Parameters
    ----------
    targets : array_like, shape (..., n)
        Best-response targets ``S_i* >= 0`` (``inf`` allowed), members last.
    a_min, a_max : array_like
        Effort bounds, ``0 <= a_min < a_max <= inf``, broadcast against the
        leading axes.

    Returns
    -------
    float or ndarray
        ``S*`` per configuration.
    """
    T, lo, hi = _solver_args(targets, a_min, a_max)
    return _out(_aggregate(T, lo, hi))


def _pinned(m, n, lo, hi):
    """``S_m = m a_max + (n-m) a_min`` without ``0 * inf``."""
    with np.errstate(invalid="ignore"):
        cap = np.where(m > 0, m * hi[..., None], 0.0)
    return cap + (n - m) * lo[..., None]


def _aggregate(T, lo, hi):
    n = T.shape[-1]
    Td = -np.sort(-T, axis=-1)  # descending
    m = np.arange(1, n + 1)
    Sm = _pinned(m, n, lo, hi)  # S_1..S_n
    mstar = (Sm <= Td).sum(axis=-1)
    S_lo = np.take_along_axis(_pinned(np.arange(n + 1), n, lo, hi), mstar[..., None], -1)[..., 0]
    nxt = np.minimum(mstar, n - 1)
    T_next = np.take_along_axis(Td, nxt[..., None], -1)[..., 0]
    S_hi = np.take_along_axis(Sm, nxt[..., None], -1)[..., 0]
    return np.where(mstar == n, S_lo, np.clip(T_next, S_lo, S_hi))


@accepts_params
def equilibrium_direct(targets, a_min=0.0, a_max=math.inf):
    """Exact equilibrium by the direct aggregate method (docs/models/coop.md (15)-(16)).

    Members with target above ``S*`` sit at ``a_max``, those below at
    ``a_min``; members whose target equals ``S*`` share the remainder equally
    (the canonical symmetric selection, an open choice). Individual efforts
    are unique only when at most one member ties (``Equilibrium.unique``).

    Parameters
    ----------
    targets : array_like, shape (..., n)
        Best-response targets (:func:`target_aggregate`), members last.
    a_min, a_max : array_like
        Effort bounds, broadcast against the leading axes.

    Returns
    -------
    Equilibrium
    """
    T, lo, hi = _solver_args(targets, a_min, a_max)
    n = T.shape[-1]
    S = _aggregate(T, lo, hi)
    above, below = T > S[..., None], T < S[..., None]
    tied = ~above & ~below
    n_above, n_below, n_tied = above.sum(-1), below.sum(-1), tied.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        capped = np.where(n_above > 0, n_above * hi, 0.0)
        rest = S - capped - n_below * lo
        share = np.clip(rest / np.maximum(n_tied, 1), lo, hi)
    a = np.where(above, hi[..., None], np.where(below, lo[..., None], share[..., None]))
    at_bound = (share <= lo) | (share >= hi)
    unique = (n_tied <= 1) | at_bound
    return Equilibrium(a, _out(S), _out(S / n), _bool_out(unique),
                       _bool_out(np.ones(S.shape, bool)), 0)


def _bool_out(x):
    x = np.asarray(x)
    return bool(x) if x.ndim == 0 else x


@accepts_params
def equilibrium_gauss_seidel(targets, a_min=0.0, a_max=math.inf, a_init=None, tol=1e-12,
                             max_iter=1000):
    """Exact Gauss-Seidel best-response iteration (docs/models/coop.md (17)).

    Each sweep updates members ``i = 1..n`` in turn, each using the freshly
    updated efforts: ``a_i <- clip(S_i* - (S - a_i), a_min, a_max)``. Stops
    when no effort moves by ``tol`` or more in a sweep (per configuration).
    Never use simultaneous (Jacobi) updates: they diverge for ``n >= 3``.

    The aggregate is the unique ``S*``; with tied targets the allocation is the
    iteration's selection (typically a corner), so ``unique`` reports whether
    individual efforts are determined, as in :func:`equilibrium_direct`.

    Parameters
    ----------
    targets : array_like, shape (..., n)
        Best-response targets, members last.
    a_min, a_max : array_like
        Effort bounds, broadcast against the leading axes.
    a_init : array_like or None, default None
        Start, broadcast to ``targets``; ``None`` means ``a_max/2`` (the
        suite's start, 25 for ``a_max = 50``), or ``a_min`` when ``a_max`` is
        infinite.
    tol : float, default 1e-12
        Convergence threshold on the largest change in a sweep, ``> 0``.
    max_iter : int, default 1000
        Maximum number of sweeps, ``>= 1``.

    Returns
    -------
    Equilibrium
    """
    T, lo, hi = _solver_args(targets, a_min, a_max)
    tol = check_real("tol", tol, 0.0, None, lo_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    n = T.shape[-1]
    if a_init is None:
        start = np.where(np.isfinite(hi), hi / 2.0, lo)
        a = np.repeat(start[..., None], n, axis=-1).astype(float)
    else:
        a = np.array(np.broadcast_to(check_real_array("a_init", a_init, 0.0), T.shape),
                     dtype=float)
    a = np.clip(a, lo[..., None], hi[..., None])
    active = np.ones(T.shape[:-1], bool)
    sweeps = 0
    while sweeps < max_iter:
        sweeps += 1
        old = a.copy()
        for i in range(n):
            others = a.sum(axis=-1) - a[..., i]
            new = np.clip(T[..., i] - others, lo, hi)
            a[..., i] = np.where(active, new, a[..., i])
        with np.errstate(invalid="ignore"):
            moved = np.abs(a - old).max(axis=-1)
        active &= ~(moved < tol)
        if not active.any():
            break
    S = a.sum(axis=-1)
    S_star = _aggregate(T, lo, hi)
    tied = (T == S_star[..., None]).sum(-1)
    interior = ((a > lo[..., None]) & (a < hi[..., None]) & (T == S_star[..., None])).sum(-1)
    unique = (tied <= 1) | (interior == 0)
    return Equilibrium(a, _out(S), _out(S / n), _bool_out(unique), _bool_out(~active), sweeps)



@accepts_params
def equilibrium_reference(theta, omega, beta, c, phi_B=0.8, phi_C=0.3, welfare_mode="sum",
                          a_max=50.0, a_floor=0.01, a_init=None, tol=1e-6, max_iter=1000,
                          xatol=1e-5):
    """The authors' numeric best-response iteration (docs/models/coop.md (18)), for ONE team.

    Gauss-Seidel over members from ``a_init`` (default ``a_max / 2``): each
    member in turn maximises its utility :func:`utility` over
    ``[a_floor, a_max]`` with ``scipy.optimize.minimize_scalar`` (method
    ``"bounded"``, ``xatol``), using the freshly updated efforts of the others;
    stop when no effort moved by ``tol`` or more in a sweep. Kept to reproduce
    the reference runs and to time them; :func:`equilibrium_direct` is exact and
    far faster.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Member loyalties.
    omega, beta, c, phi_B, phi_C, welfare_mode
        As in :func:`utility`.
    a_max, a_floor : float
        Effort bounds of the numeric search (the reference's 50 and 0.01).
    a_init, tol, max_iter, xatol
        Start effort, stopping tolerance, sweep limit and the optimiser's
        ``xatol`` (the reference's 25, 1e-6, 1000 and 1e-5).

    Returns
    -------
    Equilibrium
    """
    from scipy import optimize

    theta = np.atleast_1d(check_real_array("theta", theta, 0.0, 1.0))
    if theta.ndim != 1 or theta.size < 2:
        raise ValueError(f"theta must list n >= 2 members, got shape {theta.shape}")
    a_max = check_real("a_max", a_max, 0.0, lo_open=True)
    a_floor = check_real("a_floor", a_floor, 0.0, a_max)
    tol = check_real("tol", tol, 0.0, lo_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    a = np.full(theta.size, a_max / 2 if a_init is None else float(a_init))

    def neg_u(x, i):
        trial = a.copy()
        trial[i] = x
        return -float(np.asarray(utility(trial, theta, omega, beta, c, phi_B, phi_C,
                                         welfare_mode))[i])

    converged = False
    sweeps = 0
    while sweeps < max_iter:
        sweeps += 1
        old = a.copy()
        for i in range(theta.size):
            res = optimize.minimize_scalar(neg_u, bounds=(a_floor, a_max), args=(i,),
                                           method="bounded", options={"xatol": xatol})
            a[i] = res.x
        if np.max(np.abs(a - old)) < tol:
            converged = True
            break
    return Equilibrium(efforts=a, aggregate=float(a.sum()), mean_effort=float(a.mean()),
                       unique=True, converged=converged, iterations=sweeps)


def solve(params: CoopParams, method="direct", **kwargs):
    """Equilibrium of the team described by ``params`` (docs/models/coop.md (15)-(17)).

    Parameters
    ----------
    params : CoopParams
    method : {"direct", "gauss_seidel"}, default "direct"
        :func:`equilibrium_direct` or :func:`equilibrium_gauss_seidel`.
    **kwargs
        Passed to the Gauss-Seidel solver (``a_init``, ``tol``, ``max_iter``).

    Returns
    -------
    Equilibrium
    """
    check_choice("method", method, ("direct", "gauss_seidel"))
    if not isinstance(params, CoopParams):
        raise TypeError(f"params must be a CoopParams, got {type(params).__name__}")
    T = params.targets
    if method == "direct":
        return equilibrium_direct(T, params.a_min, params.a_max)
    return equilibrium_gauss_seidel(T, params.a_min, params.a_max, **kwargs)


# ---------------------------------------------------------------------------
# comparative statics, docs/models/coop.md (19)-(20)
# ---------------------------------------------------------------------------


@accepts_params
def effort_differentiation(omega, beta, c, n, phi_B=0.8, phi_C=0.3, welfare_mode="sum",
                           a_min=0.0, a_max=math.inf, theta_high=0.9, theta_low=0.1):
    """Effort differentiation ``a*(theta_high) / a*(theta_low)`` of symmetric teams.

    docs/models/coop.md (19): the ratio of mean equilibrium efforts (the
    authors' definition, with the bounds). Interior, it is independent of
    ``omega`` and ``c`` (derived here):
    ``[k(0.9)(1 - 0.1 phi_C) / (k(0.1)(1 - 0.9 phi_C))]^(1/(1-beta))``.

    Parameters
    ----------
    omega, beta, c, n, phi_B, phi_C, welfare_mode, a_min, a_max
        As in :func:`symmetric_equilibrium_aggregate`.
    theta_high, theta_low : float, default 0.9 and 0.1
        The two common loyalties compared (the authors' 0.9 and 0.1).

    Returns
    -------
    float or ndarray
    """
    theta_high = check_real("theta_high", theta_high, 0.0, 1.0)
    theta_low = check_real("theta_low", theta_low, 0.0, 1.0)
    args = (omega, beta, c, n, phi_B, phi_C, welfare_mode, a_min, a_max)
    hi = np.asarray(symmetric_equilibrium_effort(theta_high, *args))
    lo = np.asarray(symmetric_equilibrium_effort(theta_low, *args))
    return _out(hi / lo)


@accepts_params
def mechanism_synergy(omega, beta, c, n, phi_B=0.8, phi_C=0.3, welfare_mode="sum",
                      a_min=0.0, a_max=math.inf, theta=0.7):
    """Mechanism synergy ``E_c / (E_B + E_C)`` at common loyalty ``theta``.

    docs/models/coop.md (20). With ``E_0`` the mean equilibrium effort at
    ``theta = 0``: ``E_c`` is the gain at ``theta`` with both mechanisms,
    ``E_B`` with ``phi_C = 0`` (benefit only), ``E_C`` with ``phi_B = 0``
    (cost tolerance only). Returns 1.0 where ``E_B + E_C <= 0`` (as the
    authors' code does). Interior, it equals :func:`synergy_identity`.

    Parameters
    ----------
    omega, beta, c, n, phi_B, phi_C, welfare_mode, a_min, a_max
        As in :func:`symmetric_equilibrium_aggregate`.
    theta : array_like, default 0.7
        The common loyalty (the authors' 0.7); broadcasts like the other
        parameters. Given a :class:`CoopParams`, the synergy is evaluated at
        each member's loyalty (one value per member).

    Returns
    -------
    float or ndarray
    """
    theta = check_real_array("theta", theta, 0.0, 1.0)
    bounds = (welfare_mode, a_min, a_max)
    E0 = np.asarray(symmetric_equilibrium_effort(0.0, omega, beta, c, n, phi_B, phi_C, *bounds))
    Ec = np.asarray(symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B, phi_C,
                                                 *bounds)) - E0
    EB = np.asarray(symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B, 0.0,
                                                 *bounds)) - E0
    EC = np.asarray(symmetric_equilibrium_effort(theta, omega, beta, c, n, 0.0, phi_C,
                                                 *bounds)) - E0
    den = EB + EC
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out(np.where(den > 0, Ec / np.where(den > 0, den, 1.0), 1.0))


def synergy_identity(X, Y):
    """Interior synergy ``(XY - 1)/((X-1) + (Y-1)) = 1 + (X-1)(Y-1)/((X-1)+(Y-1))``.

    docs/models/coop.md (20), derived here.

    Parameters
    ----------
    X : array_like
        ``k(theta)^(1/(1-beta))``, the effort multiplier of the loyalty benefit
        alone, ``>= 1``.
    Y : array_like
        ``(1 - theta phi_C)^(-1/(1-beta))``, that of the cost tolerance alone,
        ``>= 1``; not both 1.

    Returns
    -------
    float or ndarray
    """
    X = check_real_array("X", X, 1.0)
    Y = check_real_array("Y", Y, 1.0)
    if ((X == 1.0) & (Y == 1.0)).any():
        raise ValueError("X and Y must not both be 1, got X = Y = 1")
    return _out(1.0 + (X - 1.0) * (Y - 1.0) / ((X - 1.0) + (Y - 1.0)))


# ---------------------------------------------------------------------------
# companion model TR-2: trust and reputation dynamics, docs/models/coop.md (24)-(25)
# ---------------------------------------------------------------------------


def trust_signal(a, a_base, kappa=1.0):
    """Cooperation signal ``s = tanh(kappa (a - a_base))`` (docs/models/coop.md (24)).

    Parameters
    ----------
    a, a_base : array_like
        Observed and baseline efforts.
    kappa : float
        Signal sensitivity, ``> 0`` (TR-2 suite default 1.0).

    Returns
    -------
    ndarray
        Signals in ``(-1, 1)``.
    """
    kappa = check_real("kappa", kappa, **_POS)
    return np.tanh(kappa * (np.asarray(a, dtype=float) - np.asarray(a_base, dtype=float)))


def trust_update(T, R, s, D=0.0, lam_pos=0.10, lam_neg=0.30, xi=0.50, mu_R=0.60, delta_R=0.03):
    """One step of the TR-2 trust and reputation dynamics (docs/models/coop.md (25)).

    Trust rises towards the ceiling ``1 - R`` on positive signals,
    ``dT = lam_pos s max(0, 1 - R - T)``, and falls on negative ones,
    ``dT = lam_neg s T (1 + xi D)`` (negative since ``s <= 0``); reputation damage
    grows on negative signals, ``R += mu_R |s| (1 - R)``, and otherwise decays,
    ``R -= delta_R R`` (the regime-separated form of the TR-2 suite). Both are
    clipped to [0, 1]. Defaults are the TR-2 suite's (3:1 negativity).

    Parameters
    ----------
    T, R : array_like
        Trust and reputation damage in [0, 1].
    s : array_like
        Signals in [-1, 1] (:func:`trust_signal`).
    D : array_like
        Dependency weights in [0, 1].
    lam_pos, lam_neg, xi, mu_R, delta_R : float
        Rates, ``>= 0``.

    Returns
    -------
    T, R : ndarray
    """
    T = check_real_array("T", T, 0.0, 1.0)
    R = check_real_array("R", R, 0.0, 1.0)
    s = check_real_array("s", s, -1.0, 1.0)
    D = check_real_array("D", D, 0.0, 1.0)
    for name, v in (("lam_pos", lam_pos), ("lam_neg", lam_neg), ("xi", xi), ("mu_R", mu_R),
                    ("delta_R", delta_R)):
        check_real(name, v, 0.0)
    pos = s > 0
    dT = np.where(pos, lam_pos * s * np.maximum(0.0, 1.0 - R - T), lam_neg * s * T * (1.0 + xi * D))
    R_new = np.where(s < 0, R + mu_R * np.abs(s) * (1.0 - R), R - delta_R * R)
    return np.clip(T + dT, 0.0, 1.0), np.clip(R_new, 0.0, 1.0)


# ---------------------------------------------------------------------------
# companion model TR-1: interdependence and complementarity, docs/models/coop.md (27)-(28)
# ---------------------------------------------------------------------------


def _tr1_f(a, form, beta, theta_log):
    a = np.maximum(np.asarray(a, dtype=float), 0.0)
    return a ** beta if form == "power" else theta_log * np.log1p(a)


def interdependence_payoffs(a, e, alpha, gamma=0.65, form="power", beta=0.75, theta_log=20.0):
    """Private payoffs of TR-1: ``pi_i = e_i - a_i + f(a_i) + alpha_i [V - sum_j f(a_j)]``.

    docs/models/coop.md (27). Value creation ``V = sum_i f(a_i) + gamma g(a)``
    with ``g`` the geometric mean of the efforts (0 if any effort is <= 0) and
    ``f(a) = a**beta`` (``form="power"``) or ``theta_log ln(1 + a)``
    (``"log"``); so the shared part is ``alpha_i gamma g(a)``. Defaults are
    TR-1's validated values.

    Parameters
    ----------
    a, e, alpha : array_like, shape (N,)
        Efforts, endowments and value shares (``sum alpha = 1``).
    gamma : float
        Complementarity strength, ``>= 0``.
    form : {"power", "log"}
    beta, theta_log : float
        Parameters of ``f``.

    Returns
    -------
    ndarray, shape (N,)
    """
    check_choice("form", form, ("power", "log"))
    gamma = check_real("gamma", gamma, 0.0)
    a = np.asarray(a, dtype=float)
    alpha = check_real_array("alpha", alpha, 0.0, 1.0)
    if abs(float(np.sum(alpha)) - 1.0) > 1e-9:
        raise ValueError(f"alpha must sum to 1, got {float(np.sum(alpha)):g}")
    g = 0.0 if np.any(a <= 0) else float(np.exp(np.mean(np.log(a))))
    return np.asarray(e, dtype=float) - a + _tr1_f(a, form, beta, theta_log) + alpha * gamma * g


def integrated_utility(a, D, e, alpha, **kw):
    """TR-1 integrated utility ``U_i = pi_i + sum_{j != i} D_ij pi_j`` (docs/models/coop.md (28)).

    The paper version of this model's utility is this form with uniform
    weights ``D_ij = theta_i phi_B`` plus a cost-tolerance term (derived here).

    Parameters
    ----------
    a : array_like, shape (N,)
    D : array_like, shape (N, N)
        Interdependence coefficients in [0, 1]; the diagonal is ignored.
    e, alpha, **kw
        As in :func:`interdependence_payoffs`.

    Returns
    -------
    ndarray, shape (N,)
    """
    D = np.array(check_real_array("D", D, 0.0, 1.0), dtype=float)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] != np.size(a):
        raise ValueError(f"D must be an N x N matrix for N = {np.size(a)} members, "
                         f"got shape {D.shape}")
    np.fill_diagonal(D, 0.0)
    pi = interdependence_payoffs(a, e, alpha, **kw)
    return pi + D @ pi


def interdependence_equilibrium(D, e, alpha, a_lo=0.01, a_hi=100.0, a_init=10.0, tol=1e-6,
                                max_iter=1000, **kw):
    """Coopetitive equilibrium of TR-1: Gauss-Seidel with a bounded scalar optimiser.

    TR-1's own procedure (docs/models/coop.md (28)): each member in turn
    maximises its :func:`integrated_utility` over ``[a_lo, a_hi]`` given the
    others' current efforts, until no effort moves by ``tol``.

    Parameters
    ----------
    D, e, alpha, **kw
        As in :func:`integrated_utility`.
    a_lo, a_hi, a_init : float
        Effort bounds and start (TR-1's 0.01, 100 and 10).
    tol : float
        Stop when no effort moves by this much in a sweep.
    max_iter : int
        Maximum number of sweeps.

    Returns
    -------
    Equilibrium
    """
    from scipy import optimize

    D = np.asarray(D, dtype=float)
    n = D.shape[0]
    a = np.full(n, float(a_init))

    def neg_u(x, i):
        trial = a.copy()
        trial[i] = x
        return -float(integrated_utility(trial, D, e, alpha, **kw)[i])

    converged = False
    sweeps, max_iter = 0, check_int("max_iter", max_iter, 1)
    while sweeps < max_iter:
        sweeps += 1
        old = a.copy()
        for i in range(n):
            a[i] = optimize.minimize_scalar(neg_u, bounds=(a_lo, a_hi), args=(i,),
                                            method="bounded", options={"xatol": 1e-8}).x
        if np.max(np.abs(a - old)) < tol:
            converged = True
            break
    return Equilibrium(efforts=a, aggregate=float(a.sum()), mean_effort=float(a.mean()),
                       unique=True, converged=converged, iterations=sweeps)
