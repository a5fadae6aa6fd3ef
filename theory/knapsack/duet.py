"""DUET folded into the knapsack model: rollouts per prompt and rollout length under a token budget.

Hu, Zhao, Xu and Jacoby, "DUET: joint control of rollouts per prompt and
rollout length for RLVR", arXiv 2605.08441; the authors' code is
https://github.com/Haoyu-Hu/DUET. The equations are written down in
``docs/models/knapsack.md``, section "DUET: a token budget", (22)-(31), with
their provenance; the choices the paper leaves open are fields of
:class:`DuetParams`.

* the cost-weighted Neyman allocation: its unclipped closed form (22)-(23),
  the clipped integer allocation at a multiplier (24), the multiplier that
  spends a token budget (exact search, or the authors' ten-step bisection),
  and the length cap under the same multiplier (25);
* the informativeness surrogate and the running estimates (26);
* the stop thresholds (27) and the marker-gated stop and abort rule (28);
* the SNIPS weights (29);
* the variance of an allocation and the Cauchy-Schwarz gain over uniform (30).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory._params import (
    accepts_params,
    check_choice,
    check_int,
    check_real,
    check_real_array,
)
from theory.knapsack._common import _out

__all__ = ["DuetParams", "DuetSimParams", "MULTIPLIERS", "PROPENSITIES", "neyman_allocation",
           "rollouts_at", "length_caps", "duet_multiplier", "duet_allocate", "allocation_variance",
           "variance_ratio", "neyman_gain", "surrogate", "fit_surrogate", "running_update",
           "informativeness", "stop_thresholds", "marker_windows", "stop_length",
           "propensities", "snips_weights", "gamma_rate_for_mean", "gradient_moments",
           "reweighted_moments", "weighted_expectation"]

#: How the multiplier is found: ``"exact"`` (the smallest multiplier whose
#: allocation fits the budget, this project's) or ``"bisection"`` (the authors'
#: ten midpoint steps on ``log lambda`` in ``[-20, 20]``, then their trim).
MULTIPLIERS = ("exact", "bisection")
#: Pre-rollout propensity of the SNIPS weights (29): ``"authors"`` clamps
#: ``n_q / mean(n)`` to ``[eps_pre, 1]``; ``"unclamped"`` uses ``n_q / mean(n)``.
PROPENSITIES = ("authors", "unclamped")


@dataclass(frozen=True)
class DuetParams:
    """Validated parameters of DUET's allocation, stop rule and weights.

    Defaults are the authors' code (``src/duet/duet_allocator.py`` and their
    run script) where it sets them; ``multiplier``, ``propensity`` and
    ``sigma_min`` are open choices (``docs/models/knapsack.md``, section
    "Open choices").

    Parameters
    ----------
    n_min, n_max : int, default 1, 32
        Clip range of the rollouts per prompt, ``1 <= n_min <= n_max``.
    tau_min, tau_max : int, default 32, 4096
        Clip range of the length cap (25), ``1 <= tau_min <= tau_max``.
    sigma_min : float, default 0.0
        Floor of the informativeness (26), ``>= 0``.
    budget_frac : float, default 0.5
        Token budget as a share of the full GRPO budget, in ``(0, 1]``.
    ref_n : int, default 8
        Rollouts per prompt of the full GRPO budget, ``>= 1``.
    multiplier : {"exact", "bisection"}, default "exact"
        See :data:`MULTIPLIERS`.
    iterations : int, default 10
        Steps of the authors' bisection, ``>= 1``.
    eps_pre : float, default 0.05
        Floor of the pre-rollout propensity (29), in ``(0, 1]``.
    eps_abort : float, default 0.05
        Probability that a rollout without a marker at ``K2 + grace`` is kept
        (28), in ``(0, 1]``.
    propensity : {"authors", "unclamped"}, default "authors"
        See :data:`PROPENSITIES`.
    weight_cap : float, default 1000.0
        Largest SNIPS weight (29), ``>= 1``.
    grace : int, default 150
        Tokens after ``K2`` to wait for the marker (28), ``>= 0``.
    min_tokens : int, default 200
        No stop before this many tokens (28), ``>= 0``.
    hysteresis : int, default 5
        Consecutive confident tokens before the stop fires (28), ``>= 1``.
    poll : int, default 8
        The marker is looked for every ``poll`` tokens from ``K1`` on, ``>= 1``.
    floor, ceiling : float, default 0.5, 0.99
        Range of the stop thresholds (27), ``0 <= floor <= ceiling <= 1``.
    k1_quantile, k2_quantile : float, default 0.3, 0.8
        Quantiles of recent kept lengths that set ``K1`` and ``K2`` (28).
    k_gap : int, default 50
        ``K2 >= K1 + k_gap``, ``>= 0``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    n_min: int = 1
    n_max: int = 32
    tau_min: int = 32
    tau_max: int = 4096
    sigma_min: float = 0.0
    budget_frac: float = 0.5
    ref_n: int = 8
    multiplier: str = "exact"
    iterations: int = 10
    eps_pre: float = 0.05
    eps_abort: float = 0.05
    propensity: str = "authors"
    weight_cap: float = 1000.0
    grace: int = 150
    min_tokens: int = 200
    hysteresis: int = 5
    poll: int = 8
    floor: float = 0.5
    ceiling: float = 0.99
    k1_quantile: float = 0.3
    k2_quantile: float = 0.8
    k_gap: int = 50

    def __post_init__(self):
        check_int("n_min", self.n_min, 1)
        check_int("n_max", self.n_max, self.n_min)
        check_int("tau_min", self.tau_min, 1)
        check_int("tau_max", self.tau_max, self.tau_min)
        check_real("sigma_min", self.sigma_min, 0.0)
        check_real("budget_frac", self.budget_frac, 0.0, 1.0, lo_open=True)
        check_int("ref_n", self.ref_n, 1)
        check_choice("multiplier", self.multiplier, MULTIPLIERS)
        check_int("iterations", self.iterations, 1, 200)
        check_real("eps_pre", self.eps_pre, 0.0, 1.0, lo_open=True)
        check_real("eps_abort", self.eps_abort, 0.0, 1.0, lo_open=True)
        check_choice("propensity", self.propensity, PROPENSITIES)
        check_real("weight_cap", self.weight_cap, 1.0)
        check_int("grace", self.grace, 0)
        check_int("min_tokens", self.min_tokens, 0)
        check_int("hysteresis", self.hysteresis, 1)
        check_int("poll", self.poll, 1)
        check_real("floor", self.floor, 0.0, 1.0)
        check_real("ceiling", self.ceiling, self.floor, 1.0)
        check_real("k1_quantile", self.k1_quantile, 0.0, 1.0)
        check_real("k2_quantile", self.k2_quantile, self.k1_quantile, 1.0)
        check_int("k_gap", self.k_gap, 0)


@dataclass(frozen=True)
class DuetSimParams:
    """The scenario of the DUET simulation (``sim.knapsack.simulate_duet``).

    This project's choices, ``docs/models/knapsack.md (31)``: success rates
    ``p_q ~ Beta(beta_a, beta_b)``; the answer marker of a rollout at a
    length drawn from the gamma model's law (``docs/models/gamma.md (3)``,
    shape ``length_alpha``) with mean ``mean_length * exp(length_spread *
    (1/2 - p_q))`` (hard prompts think longer); the rollout would go on for
    ``tail`` tokens after its marker; ``max_response`` caps every rollout.

    Parameters
    ----------
    prompts : int, default 64
        Prompts per batch, ``>= 2``.
    beta_a, beta_b : float, default 0.7, 0.7
        Shapes of the Beta law of the success rates, ``> 0``.
    mean_length : float, default 400.0
        Mean marker position at ``p = 1/2`` (tokens), ``> 0``.
    length_spread : float, default 1.0
        Log-ratio of the mean lengths of a prompt at ``p = 0`` and ``p = 1``, ``>= 0``.
    length_alpha : float, default 30.0
        Shape of the gamma model's law of ``log(1 + length)``, ``> 0``.
    tail : int, default 100
        Tokens a rollout would write after its marker, ``>= 0``.
    max_response : int, default 3072
        Generation cap (the authors' GRPO reference), ``>= 2``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    prompts: int = 64
    beta_a: float = 0.7
    beta_b: float = 0.7
    mean_length: float = 400.0
    length_spread: float = 1.0
    length_alpha: float = 30.0
    tail: int = 100
    max_response: int = 3072

    def __post_init__(self):
        check_int("prompts", self.prompts, 2)
        check_real("beta_a", self.beta_a, 0.0, lo_open=True)
        check_real("beta_b", self.beta_b, 0.0, lo_open=True)
        check_real("mean_length", self.mean_length, 0.0, 1e6, lo_open=True)
        check_real("length_spread", self.length_spread, 0.0, 10.0)
        check_real("length_alpha", self.length_alpha, 0.0, 1e4, lo_open=True)
        check_int("tail", self.tail, 0)
        check_int("max_response", self.max_response, 2, 10**6)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

def _sl(s, L):
    """Checked informativeness ``s >= 0`` and mean lengths ``L > 0``, 1-D of equal size."""
    s = np.atleast_1d(check_real_array("s", s, 0.0, math.inf, hi_open=True))
    L = np.atleast_1d(check_real_array("L", L, 0.0, math.inf, lo_open=True, hi_open=True))
    if s.ndim != 1 or L.shape != s.shape:
        raise ValueError(f"s and L must be 1-D arrays of one value per prompt, got shapes "
                         f"{s.shape} and {L.shape}")
    return s, L


def _budget(budget):
    return check_real("token_budget", budget, 0.0, math.inf, lo_open=True, hi_open=True)


#: Bounds of the multiplier's search (the multiplier stays a positive double).
_TINY = float(np.finfo(float).tiny)
_HUGE = 1e150


def _dot(a, b):
    """``a . b`` for 1-D arrays without BLAS (whose threads stall on busy shared cores)."""
    return float(np.einsum("i,i->", a, b))


def _round_half_even(x):
    """Python's ``round`` on an array (ties to even), as in the authors' ``int(round(x))``."""
    return np.rint(x)


# ---------------------------------------------------------------------------
# (22)-(25): the allocation
# ---------------------------------------------------------------------------

@accepts_params
def neyman_allocation(s, L, token_budget):
    """The unclipped cost-weighted Neyman allocation and its multiplier.

    ``min sum_q s_q^2 / n_q`` subject to ``sum_q n_q L_q = B`` gives
    ``n_q = s_q / sqrt(lambda L_q)`` (paper Thm 1, ``docs/models/knapsack.md
    (22)``) with ``lambda* = (sum_q s_q sqrt(L_q) / B)^2`` (derived here by
    putting ``n_q`` into the budget, ``(23)``).

    Parameters
    ----------
    s : array_like
        Informativeness (gradient noise scale) per prompt, ``>= 0``, not all 0.
    L : array_like
        Mean rollout length per prompt, ``> 0``.
    token_budget : float
        ``B > 0``.

    Returns
    -------
    n : ndarray
        Real rollouts per prompt; ``sum(n * L) == B``.
    lam : float
        The multiplier ``lambda*``.
    """
    s, L = _sl(s, L)
    B = _budget(token_budget)
    root = float(np.sum(s * np.sqrt(L)))
    if root <= 0.0:
        raise ValueError("s must have a positive entry (all prompts are uninformative)")
    lam = (root / B) ** 2
    return s / np.sqrt(lam * L), lam


@accepts_params
def rollouts_at(lam, s, L, n_min=1, n_max=32):
    """Integer rollouts at multiplier ``lam``: ``clip(round(s / sqrt(lam L)), n_min, n_max)``.

    The authors' code, ``docs/models/knapsack.md (24)``; ``round`` breaks ties
    to even, as Python's does.
    """
    lam = check_real("lam", lam, 0.0, math.inf, lo_open=True, hi_open=True)
    s, L = _sl(s, L)
    n_min = check_int("n_min", n_min, 1)
    n_max = check_int("n_max", n_max, n_min)
    return np.clip(_round_half_even(s / np.sqrt(lam * L)), n_min, n_max).astype(np.int64)


@accepts_params
def length_caps(lam, s, L, tau_min=32, tau_max=4096):
    """Per-prompt length cap under the same multiplier: ``clip(round(s sqrt(L / lam)), ...)``.

    The authors' code (``max_tokens_q``), ``docs/models/knapsack.md (25)``.
    """
    lam = check_real("lam", lam, 0.0, math.inf, lo_open=True, hi_open=True)
    s, L = _sl(s, L)
    tau_min = check_int("tau_min", tau_min, 1)
    tau_max = check_int("tau_max", tau_max, tau_min)
    with np.errstate(over="ignore", invalid="ignore"):
        tau = np.where(s > 0, s * np.sqrt(L / lam), 0.0)
    return np.clip(_round_half_even(tau), tau_min, tau_max).astype(np.int64)


def _phi_u(c, L, u, n_min, n_max):
    """Tokens ``sum n_q L_q`` and the allocation at ``u = 1 / sqrt(lambda)``."""
    n = np.clip(_round_half_even(c * u), n_min, n_max)
    return _dot(n, L), n


def _exact(c, L, B, n_min, n_max):
    """The largest ``u = 1/sqrt(lambda)`` whose allocation fits ``B``, and that allocation.

    ``Phi(u) = sum_q n_q(u) L_q`` is a non-decreasing step function of ``u``
    and nearly linear, so the root is bracketed between a ``u`` where every
    prompt is at ``n_min`` and one where every informative prompt is at
    ``n_max`` and narrowed by regula falsi (the Illinois variant, with a
    bisection step when an end stalls). The search stops when the two ends'
    allocations differ by one rollout of one prompt (no multiplier lies
    between them) or the ends are adjacent doubles.
    """
    pos = c > 0
    if not pos.any():
        return 1.0, np.full(c.shape, float(n_min))
    n_lo, n_hi, diff = np.empty_like(c), np.empty_like(c), np.empty_like(c)

    def phi(u, out):
        np.multiply(c, u, out=out)
        np.rint(out, out=out)
        np.clip(out, n_min, n_max, out=out)
        return _dot(out, L) - B

    lo = (n_min + 0.5) / float(c[pos].max()) * (1.0 - 1e-9)
    with np.errstate(over="ignore", divide="ignore"):
        hi = float(min((n_max + 0.5) / np.float64(c[pos].min()) * (1.0 + 1e-9), _HUGE))
    f_lo, f_hi = phi(lo, n_lo), phi(hi, n_hi)
    if f_hi <= 0:  # every informative prompt at n_max: the multiplier where the last gets there
        with np.errstate(over="ignore", divide="ignore"):
            u = float(min(np.max((n_max - 0.5) / c[pos]) * (1.0 + 1e-12), _HUGE))
        return u, n_hi
    side, width = 0, hi - lo
    for _ in range(200):
        np.subtract(n_hi, n_lo, out=diff)
        if diff.sum() <= 1.0:
            break
        u = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi > f_lo else 0.5 * (lo + hi)
        if not lo < u < hi or (hi - lo) > 0.5 * width:
            u = 0.5 * (lo + hi) if (hi - lo) > 0.5 * width or not lo < u < hi else u
        width = hi - lo
        if not lo < u < hi:
            break
        f = phi(u, diff)
        if f <= 0:
            lo, f_lo, n_lo, diff = u, f, diff, n_lo
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi, n_hi, diff = u, f, diff, n_hi
            if side == 1:
                f_lo *= 0.5
            side = 1
    # the multiplier: just below the first breakpoint above lo (where a prompt
    # would gain a rollout), a hair inside so that 1 / u**2 reproduces the
    # allocation whatever the rounding of s / sqrt(lambda L)
    gain = n_hi > n_lo
    with np.errstate(over="ignore", divide="ignore"):
        u = float(min(np.min((n_lo[gain] + 0.5) / c[gain]), _HUGE)) * (1.0 - 1e-12) \
            if gain.any() else lo
    phi(u, n_lo)  # below lo if lo sits on the breakpoint: still feasible, n is monotone in u
    return u, n_lo


def _solve(s, L, B, n_min, n_max, multiplier, iterations):
    """``(lambda, n)``: the multiplier and the allocation at it (before any trim)."""
    need = float(n_min * L.sum())
    if need > B:
        raise ValueError(f"token_budget must be at least n_min * sum(L) = {need:g} (every "
                         f"prompt at n_min), got {B:g}")
    c = s / np.sqrt(L)
    if multiplier == "exact":
        u, n = _exact(c, L, B, n_min, n_max)
        with np.errstate(over="ignore"):
            lam = float(max(1.0 / np.float64(u) ** 2, _TINY))
        return lam, n.astype(np.int64)
    lo, hi = -20.0, 20.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        phi, _ = _phi_u(c, L, math.exp(-0.5 * mid), n_min, n_max)
        if phi > B:
            lo = mid
        else:
            hi = mid
    lam = math.exp(0.5 * (lo + hi))
    return lam, _phi_u(c, L, 1.0 / math.sqrt(lam), n_min, n_max)[1].astype(np.int64)


@accepts_params
def duet_multiplier(s, L, token_budget, n_min=1, n_max=32, multiplier="exact", iterations=10):
    """The multiplier ``lambda`` of DUET's allocation under a token budget.

    ``Phi(lambda) = sum_q n_q(lambda) L_q`` with ``n_q`` of (24) is
    non-increasing in ``lambda`` (paper Thm 3), ``docs/models/knapsack.md
    (24)``.

    * ``multiplier="exact"`` (this project's): the smallest ``lambda`` with
      ``Phi(lambda) <= B`` (to a relative ``2e-12``, just above the
      breakpoint where one more rollout would overspend), so the allocation
      spends as much of ``B`` as a single multiplier can without exceeding
      it.
    * ``multiplier="bisection"`` (the authors' code): ``iterations`` midpoint
      steps on ``log lambda`` in ``[-20, 20]``; the midpoint of the last
      bracket, which may overspend ``B`` (the authors' trainer then trims, see
      :func:`duet_allocate`).

    Returns
    -------
    float
    """
    s, L = _sl(s, L)
    B = _budget(token_budget)
    n_min = check_int("n_min", n_min, 1)
    n_max = check_int("n_max", n_max, n_min)
    check_choice("multiplier", multiplier, MULTIPLIERS)
    iterations = check_int("iterations", iterations, 1, 200)
    return _solve(s, L, B, n_min, n_max, multiplier, iterations)[0]


def _trim(n, L, B, n_min):
    """The authors' trim: while ``n.L > B``, the longest prompt above ``n_min`` loses a rollout.

    The longest prompt stays the longest until it reaches ``n_min``, so the
    loop drains prompts in order of decreasing length (ties: lower position
    first) and stops inside the one that covers the excess; computed here in
    one pass.
    """
    n = n.copy()
    excess = _dot(n.astype(float), L) - B
    if excess <= 0:
        return n
    order = np.argsort(-L, kind="stable")
    room = (n[order] - n_min) * L[order]
    full = np.cumsum(room)
    k = int(np.searchsorted(full, excess))  # first prompt whose drain covers the excess
    n[order[:k]] = n_min
    if k < order.size:
        q = order[k]
        left = excess - (full[k - 1] if k else 0.0)
        n[q] -= min(int(n[q] - n_min), math.ceil(left / L[q] - 1e-12))
    return n


@accepts_params
def duet_allocate(s, L, token_budget, n_min=1, n_max=32, tau_min=32, tau_max=4096,
                  sigma_min=0.0, multiplier="exact", iterations=10):
    """DUET's allocation of rollouts and length caps under a token budget.

    ``docs/models/knapsack.md (24)`` and ``(25)``: the multiplier of
    :func:`duet_multiplier`, the rollouts ``n_q`` at it, clipped to
    ``[n_min, n_max]``, and the length caps ``tau_q`` at the same multiplier.
    The informativeness is floored at ``sigma_min`` first (26). With
    ``multiplier="bisection"`` the authors' trainer's trim follows: while the
    allocation overspends, the longest prompt above ``n_min`` loses a
    rollout. Either way ``sum(n * L) <= token_budget``.

    Parameters
    ----------
    s : array_like
        Informativeness per prompt, ``>= 0``.
    L : array_like
        Mean rollout length per prompt (tokens), ``> 0``.
    token_budget : float
        ``B``, at least ``n_min * sum(L)``.
    n_min, n_max, tau_min, tau_max, sigma_min, multiplier, iterations
        As in :class:`DuetParams`.

    Returns
    -------
    n : ndarray of int64
    cap : ndarray of int64
        Length caps.
    info : dict
        ``multiplier`` (lambda), ``tokens`` (``sum n L``), ``token_budget``,
        ``at_n_min`` and ``at_tau_min`` (shares of prompts at the floors),
        ``trimmed`` (rollouts removed by the authors' trim).
    """
    s, L = _sl(s, L)
    sigma_min = check_real("sigma_min", sigma_min, 0.0)
    s = np.maximum(s, sigma_min)
    B = _budget(token_budget)
    n_min = check_int("n_min", n_min, 1)
    n_max = check_int("n_max", n_max, n_min)
    check_choice("multiplier", multiplier, MULTIPLIERS)
    iterations = check_int("iterations", iterations, 1, 200)
    lam, n = _solve(s, L, B, n_min, n_max, multiplier, iterations)
    trimmed = 0
    if _dot(n.astype(float), L) > B:
        m = _trim(n, L, B, n_min)
        trimmed = int(n.sum() - m.sum())
        n = m
    cap = length_caps(lam, s, L, tau_min, tau_max)
    return n, cap, {"multiplier": float(lam), "tokens": _dot(n.astype(float), L),
                     "token_budget": B,
                    "at_n_min": float(np.mean(n <= n_min)),
                    "at_tau_min": float(np.mean(cap <= tau_min)), "trimmed": trimmed}


# ---------------------------------------------------------------------------
# (30): variance and the gain over uniform
# ---------------------------------------------------------------------------

@accepts_params
def allocation_variance(n, sigma):
    """Variance of the batch gradient estimate ``sum_q sigma_q^2 / n_q``.

    The objective of ``docs/models/knapsack.md (22)`` and ``(30)``.
    """
    sigma = np.atleast_1d(check_real_array("sigma", sigma, 0.0, math.inf, hi_open=True))
    n = np.atleast_1d(check_real_array("n", n, 0.0, math.inf, lo_open=True, hi_open=True))
    n, sigma = np.broadcast_arrays(n, sigma)
    return _out(np.sum(sigma**2 / n, axis=-1))


@accepts_params
def variance_ratio(n, sigma, L, token_budget):
    """Variance of allocation ``n`` over that of uniform at the same token budget.

    Uniform spends ``B`` as ``n_u = B / sum(L)`` rollouts per prompt (real), so
    ``V_u = sum sigma^2 sum L / B`` (derived here, ``docs/models/knapsack.md
    (30)``). Below 1 the allocation is better; the unclipped Neyman
    allocation reaches :func:`neyman_gain`.
    """
    sigma, L = _sl(sigma, L)
    B = _budget(token_budget)
    v_u = float(np.sum(sigma**2) * L.sum() / B)
    if v_u == 0.0:
        return 1.0
    return float(allocation_variance(n, sigma)) / v_u


@accepts_params
def neyman_gain(sigma, L):
    """The Cauchy-Schwarz gain ``(sum sigma sqrt L)^2 / (sum sigma^2 sum L) <= 1``.

    Derived here, ``docs/models/knapsack.md (30)``: the variance of the
    unclipped Neyman allocation over uniform's at any budget; equal to 1 iff
    ``sigma`` is proportional to ``sqrt(L)``.
    """
    sigma, L = _sl(sigma, L)
    den = float(np.sum(sigma**2) * L.sum())
    if den == 0.0:
        return 1.0
    return float(np.sum(sigma * np.sqrt(L)) ** 2) / den


# ---------------------------------------------------------------------------
# (26): the informativeness surrogate and the running estimates
# ---------------------------------------------------------------------------

@accepts_params
def surrogate(feature, alpha0, alpha1, sigma_min=0.0):
    """The cold-start informativeness ``max(sigma_min, alpha0 + alpha1 f(q))``.

    The authors' code (``DuetSurrogate.predict``), ``docs/models/knapsack.md
    (26)``; ``f(q)`` is the length-normalised log-probability of the prompt
    under the base model.
    """
    f = check_real_array("feature", feature)
    a0 = check_real("alpha0", alpha0)
    a1 = check_real("alpha1", alpha1)
    sigma_min = check_real("sigma_min", sigma_min, 0.0)
    return _out(np.maximum(sigma_min, a0 + a1 * f))


@accepts_params
def fit_surrogate(feature, sigma_obs, ridge=1e-3):
    """Ridge fit of ``sigma_obs ~ alpha0 + alpha1 f``; the intercept is not penalised.

    ``alpha1 = S_fs / (S_ff + ridge)``, ``alpha0 = mean(sigma) - alpha1
    mean(f)`` with ``S`` the centred cross products (derived here, the
    normal equations), ``docs/models/knapsack.md (26)``.

    Returns
    -------
    (alpha0, alpha1) : (float, float)
    """
    f = np.atleast_1d(check_real_array("feature", feature))
    y = np.atleast_1d(check_real_array("sigma_obs", sigma_obs, 0.0))
    ridge = check_real("ridge", ridge, 0.0)
    if f.ndim != 1 or f.shape != y.shape or f.size < 2:
        raise ValueError(f"feature and sigma_obs must be 1-D of the same length >= 2, got "
                         f"shapes {f.shape} and {y.shape}")
    fc, yc = f - f.mean(), y - y.mean()
    sff = float(fc @ fc)
    if sff + ridge == 0.0:
        raise ValueError("feature is constant; give ridge > 0 or varied features")
    a1 = float(fc @ yc) / (sff + ridge)
    return float(y.mean() - a1 * f.mean()), a1


@accepts_params
def running_update(mean, count, x):
    """One step of a running mean per prompt: ``count += 1``, ``mean += (x - mean) / count``.

    Welford's update, as the authors' per-prompt state keeps
    ``sigma_obs`` and the kept lengths (``docs/models/knapsack.md (26)``).
    Entries where ``x`` is NaN (no observation this step) are left alone.

    Returns
    -------
    (mean, count) : (ndarray, ndarray of int64)
    """
    mean = np.array(mean, dtype=float, ndmin=1)
    count = np.array(count, dtype=np.int64, ndmin=1)
    x = np.broadcast_to(np.asarray(x, dtype=float), mean.shape)
    seen = ~np.isnan(x)
    count = count + seen
    step = np.where(seen, (np.where(seen, x, 0.0) - mean) / np.maximum(count, 1), 0.0)
    return mean + step, count


@accepts_params
def informativeness(obs_mean, obs_count, prior, k_warmup=1, sigma_min=0.0):
    """The informativeness a prompt is allocated with: observed once warm, else the prior.

    ``max(sigma_min, obs_mean)`` after ``k_warmup`` observations, else the
    surrogate ``prior`` (the authors' code), ``docs/models/knapsack.md (26)``.
    """
    obs_mean = np.asarray(obs_mean, dtype=float)
    obs_count = np.asarray(obs_count)
    k_warmup = check_int("k_warmup", k_warmup, 1)
    sigma_min = check_real("sigma_min", sigma_min, 0.0)
    warm = obs_count >= k_warmup
    return _out(np.where(warm, np.maximum(sigma_min, np.where(warm, obs_mean, 0.0)),
                         np.asarray(prior, dtype=float)))


# ---------------------------------------------------------------------------
# (27)-(28): stop thresholds, marker windows, the stop and abort rule
# ---------------------------------------------------------------------------

@accepts_params
def stop_thresholds(s, L, floor=0.5, ceiling=0.99):
    """Per-prompt confidence thresholds, spread over ``[floor, ceiling]`` by rank of ``s^2/L``.

    The authors' ``batch_percentile`` mapping, ``docs/models/knapsack.md (27)``:
    the prompt of within-batch rank ``k`` (0 = smallest ``s^2 / max(L, 1)``,
    ties by position) gets ``floor + (ceiling - floor) k / (M - 1)``; one
    prompt gets the midpoint.
    """
    s, L = _sl(s, L)
    floor = check_real("floor", floor, 0.0, 1.0)
    ceiling = check_real("ceiling", ceiling, floor, 1.0)
    if s.size == 1:
        return np.array([(floor + ceiling) / 2.0])
    rate = s**2 / np.maximum(L, 1.0)
    rank = np.empty(s.size)
    rank[np.argsort(rate, kind="stable")] = np.arange(s.size)
    return floor + (ceiling - floor) * rank / (s.size - 1)


@accepts_params
def marker_windows(lengths, max_response, k1_quantile=0.3, k2_quantile=0.8, k_gap=50,
                   history=1024):
    """``(K1, K2)``: where the marker is first looked for, and the abort checkpoint before grace.

    The authors' code, ``docs/models/knapsack.md (28)``: from fewer than 32
    kept lengths, ``K1 = int(0.3 max_response)`` and ``K2 = int(0.7
    max_response)``; otherwise the ``k1_quantile`` and ``k2_quantile``
    quantiles (NumPy's linear rule, truncated to integers) of the last
    ``history`` kept lengths, with ``K1 >= 32`` and ``K2 >= K1 + k_gap``.
    """
    max_response = check_int("max_response", max_response, 1)
    k1q = check_real("k1_quantile", k1_quantile, 0.0, 1.0)
    k2q = check_real("k2_quantile", k2_quantile, k1q, 1.0)
    k_gap = check_int("k_gap", k_gap, 0)
    history = check_int("history", history, 1)
    ell = np.atleast_1d(check_real_array("lengths", lengths, 0.0)) if np.size(lengths) else \
        np.zeros(0)
    ell = ell[-history:]
    if ell.size < 32:
        return int(0.3 * max_response), int(0.7 * max_response)
    k1 = max(32, int(np.quantile(ell, k1q)))
    k2 = max(k1 + k_gap, int(np.quantile(ell, k2q)))
    return k1, k2


@accepts_params
def stop_length(marker, natural_end, kept, k1, k2, grace=150, min_tokens=200, hysteresis=5,
                poll=8, max_response=None):
    """Length of a rollout under the marker-gated stop and the abort rule.

    ``docs/models/knapsack.md (28)`` (the authors' stop processor), under the
    assumption that the confidence signal stays above the prompt's threshold
    once the answer marker is out:

    * the marker (at token ``marker``) is looked for every ``poll`` tokens
      from ``max(K1, min_tokens)`` on, so it is seen at ``d``, the first
      multiple of ``poll`` at or after ``max(marker, K1, min_tokens)``, if
      ``d < K2 + grace``, or at the final look at ``K2 + grace`` if
      ``marker <= K2 + grace``; the stop then fires ``hysteresis`` tokens
      later: length ``min(natural_end, d + hysteresis)``;
    * a rollout without a marker at ``K2 + grace`` (that has not ended) is
      aborted there unless it won the lottery (``kept``, probability
      ``eps_abort``), in which case it runs to its natural end;
    * ``max_response`` (if given) caps every length.

    Parameters
    ----------
    marker, natural_end : array_like
        Token of the answer marker and the natural end, ``1 <= marker <=
        natural_end``.
    kept : array_like of bool
        The abort lottery's outcome (used only where the rule asks for it).
    k1, k2, grace, min_tokens, hysteresis, poll, max_response : int

    Returns
    -------
    length : ndarray of int64
    aborted : ndarray of bool
        Rollouts cut by the abort rule (their gradient is dropped).
    lottery : ndarray of bool
        Rollouts that reached the abort checkpoint without a marker and were
        kept (their gradient is weighted by ``1 / eps_abort``).
    """
    m = np.asarray(marker, dtype=np.int64)
    e = np.asarray(natural_end, dtype=np.int64)
    kept = np.asarray(kept, dtype=bool)
    m, e, kept = np.broadcast_arrays(m, e, kept)
    if np.any(m < 1) or np.any(e < m):
        raise ValueError("marker and natural_end must satisfy 1 <= marker <= natural_end")
    k1 = check_int("k1", k1, 0)
    k2 = check_int("k2", k2, 0)
    grace = check_int("grace", grace, 0)
    min_tokens = check_int("min_tokens", min_tokens, 0)
    hysteresis = check_int("hysteresis", hysteresis, 1)
    poll = check_int("poll", poll, 1)
    checkpoint = k2 + grace
    start = np.maximum(np.maximum(m, k1), min_tokens)
    d = -(-start // poll) * poll
    d = np.where(d < checkpoint, d, checkpoint)
    seen = (d < checkpoint) | (m <= checkpoint)
    stopped = np.minimum(e, d + hysteresis)
    reach = ~seen & (e > checkpoint)  # no marker at the checkpoint and still running
    lottery = reach & kept
    aborted = reach & ~kept
    length = np.where(seen, stopped, np.where(aborted, checkpoint, e))
    if max_response is not None:
        length = np.minimum(length, check_int("max_response", max_response, 1))
    return length.astype(np.int64), aborted, lottery


# ---------------------------------------------------------------------------
# (29): SNIPS weights
# ---------------------------------------------------------------------------

@accepts_params
def propensities(n, eps_pre=0.05, propensity="authors"):
    """Pre-rollout propensities ``p_pre = clamp(n_q / mean(n), eps_pre, 1)``.

    The authors' code (their ``n_uniform`` is ``max(1, mean(n))``),
    ``docs/models/knapsack.md (29)``; ``propensity="unclamped"`` leaves out
    the clamp.
    """
    n = np.atleast_1d(check_real_array("n", n, 0.0, math.inf, lo_open=True, hi_open=True))
    eps_pre = check_real("eps_pre", eps_pre, 0.0, 1.0, lo_open=True)
    check_choice("propensity", propensity, PROPENSITIES)
    ref = max(1.0, float(n.mean()))
    ratio = n / ref
    return ratio if propensity == "unclamped" else np.clip(ratio, eps_pre, 1.0)


@accepts_params
def snips_weights(p_pre, lottery, eps_abort=0.05, weight_cap=1000.0):
    """Per-rollout weights ``1 / p_pre``, times ``1 / eps_abort`` for lottery survivors, capped.

    The authors' code, ``docs/models/knapsack.md (29)``: advantages of
    rollout ``i`` of prompt ``q`` are multiplied by the weight; aborted
    rollouts get no gradient at all (weight 0 is the caller's).
    """
    p_pre = check_real_array("p_pre", p_pre, 0.0, math.inf, lo_open=True, hi_open=True)
    lottery = np.asarray(lottery, dtype=bool)
    eps_abort = check_real("eps_abort", eps_abort, 0.0, 1.0, lo_open=True)
    weight_cap = check_real("weight_cap", weight_cap, 1.0)
    w = np.where(lottery, 1.0 / eps_abort, 1.0) / p_pre
    return _out(np.minimum(w, weight_cap))


# ---------------------------------------------------------------------------
# (31)-(32): the simulation's closed forms
# ---------------------------------------------------------------------------

@accepts_params
def gamma_rate_for_mean(mean_length, alpha):
    """The rate of the gamma model's law with shape ``alpha`` and mean length ``mean_length``.

    ``E[L] = (rate / (rate - 1))^alpha - 1`` (``docs/models/gamma.md (6)``)
    solved for the rate: ``c / (c - 1)`` with ``c = (1 + mean)^(1/alpha)``
    (derived here, ``docs/models/knapsack.md (31)``).
    """
    m = check_real_array("mean_length", mean_length, 0.0, math.inf, lo_open=True, hi_open=True)
    alpha = check_real("alpha", alpha, 0.0, lo_open=True)
    c = np.exp(np.log1p(m) / alpha)
    return _out(c / (c - 1.0))


@accepts_params
def gradient_moments(p):
    """Mean and second moment of one rollout's gradient ``x = (r - 1/2)(r - p)``.

    The tabular policy's score ``r - p`` times the reward against a fixed
    baseline ``1/2``: ``E[x] = p (1 - p)``, the true gradient ``dp/dz`` of a
    logit ``z``, and ``E[x^2] = p (1 - p) / 4`` (derived here,
    ``docs/models/knapsack.md (31)``).

    Returns
    -------
    (mean, second) : ndarrays
    """
    p = check_real_array("p", p, 0.0, 1.0)
    v = p * (1.0 - p)
    return v, v / 4.0


@accepts_params
def reweighted_moments(p, p_eligible, eps_abort=0.05, length_axis=True):
    """Mean and variance of ``a x``: a rollout's gradient after the abort rule and its weight.

    ``a = 1`` for a rollout with its marker in time, ``0`` if aborted and
    ``1 / eps_abort`` if it won the lottery; ``a`` is independent of the
    reward, so ``E[a x] = E[x]`` (no bias) and ``Var(a x) = E[a^2] E[x^2] -
    E[x]^2`` with ``E[a^2] = 1 - q + q / eps_abort``, ``q`` the chance of
    reaching the checkpoint without a marker (derived here,
    ``docs/models/knapsack.md (32)``). Without the length axis ``a = 1``.

    Returns
    -------
    (mean, variance) : ndarrays
    """
    g, x2 = gradient_moments(p)
    q = check_real_array("p_eligible", p_eligible, 0.0, 1.0)
    eps_abort = check_real("eps_abort", eps_abort, 0.0, 1.0, lo_open=True)
    a2 = 1.0 - q + q / eps_abort if length_axis else np.ones_like(q)
    return g, np.maximum(a2 * x2 - g**2, 0.0)


@accepts_params
def weighted_expectation(n, g, weights):
    """Expectation of ``sum_q w_q sum_i a_i x_i / (M mean(n))`` under allocation ``n``.

    ``sum_q n_q w_q g_q / (M mean(n))`` by linearity (derived here,
    ``docs/models/knapsack.md (32)``): equal to the batch gradient
    ``mean(g)`` when ``w_q = mean(n) / n_q`` (the unclamped propensity), and
    off by ``sum_q (n_q w_q - mean(n)) g_q / (M mean(n))`` with the authors'
    clamp.
    """
    n = np.asarray(n, dtype=float)
    g = np.asarray(g, dtype=float)
    w = np.asarray(weights, dtype=float)
    return float(np.sum(n * w * g) / (n.size * n.mean()))
