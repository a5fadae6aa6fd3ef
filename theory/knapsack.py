"""Closed forms and allocators of Knapsack RL (rollout-budget allocation for GRPO).

Li, Chen, Yang, Ding, Sun, Zhang, Huang and Luo, "Knapsack RL: Unlocking
Exploration of LLMs via Optimizing Budget Allocation", arXiv 2509.25849v1
(30 Sep 2025). Labels (D1..D7, T1, P2, A1..A12, 3.2, 3.3, 7.2) refer to the
project spec ``shared/specs/knapsack.md``; the authors' public code is
https://github.com/liziniu/KnapsackRL (``verl/trainer/ppo/exploration_utils.py``).

Provenance is stated in every docstring:

* "(D1)", "(T1)", ... with "[paper]" or "[code]": the formula is the paper's or
  the authors' code's, as recorded in the spec.
* "Derived for this project": a consequence of the stated facts, derived and
  checked for budgetlab; the paper does not state it in this form.
* Choices the paper leaves open (spec section 6) are parameters with a
  documented default and are never presented as the paper's choice.

Conventions
-----------
* ``p`` is a success rate in ``[0, 1]``; ``N`` (or ``n``) a rollout count,
  an integer ``>= 1`` (``f(0, p) = -1`` is meaningless, so ``N < 1`` is
  rejected, spec 7.1).
* Closed forms broadcast and return a ``float`` for scalar input, an
  ``ndarray`` otherwise. Ratios of an allocation reduce over the LAST axis.
* Allocators take one batch: a 1-D array ``p`` of ``M`` prompts, and return an
  ``int64`` array of rollout counts. They are vectorised (no Python loop over
  prompts) except the heap solver and the exact DP, which are references.
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from ._params import (check_bool, check_bool_array, check_choice, check_int, check_int_array,
                      check_real, check_real_array)

__all__ = [
    "KnapsackParams",
    "WEIGHTS",
    "SOLVERS",
    "FALLBACKS",
    "FALLBACK_TRIGGERS",
    "COSTS",
    "MODES",
    # closed forms
    "prob_nonzero_gradient",
    "marginal_gain",
    "info_gain",
    "value",
    "total_value",
    "first_mixed_survival",
    "expected_rollouts",
    "coverage_budget",
    "exact_coverage_budget",
    "rollout_cost",
    "effective_gradient_ratio",
    "effective_prompt_ratio",
    "grpo_advantages",
    "grpo_group_advantages",
    "expected_clipped_fraction",
    # allocators
    "allocate_greedy",
    "allocate_lagrangian",
    "allocate_dp",
    "allocate_uniform",
    "allocate_reference",
    "allocate",
]

#: Names of the pluggable InfoGain weights (D2, A7). ``"info_gain"`` is the paper's.
WEIGHTS = ("info_gain", "variance", "info_gain_cubed", "variance_3_2")
#: Exact clean solvers of the knapsack (3.3).
SOLVERS = ("auto", "heap", "sort", "lagrangian", "dp")
#: Where surplus rollouts go (A3).
FALLBACKS = ("zero_first", "uniform", "none")
#: When the surplus is diverted before the knapsack is solved (A4).
FALLBACK_TRIGGERS = ("coverage", "none")
#: The code's cost estimates of the fallback trigger (D5).
COSTS = ("probability", "expectation")
#: Allocation modes: the clean default, or the port of the authors' code (3.2).
MODES = ("clean", "reference")

#: "auto" uses the "sort" solver (which materialises the prompts x extra
#: rollouts gain matrix) up to this many entries and "lagrangian" above it;
#: the Lagrangian solver is the faster one from about 1000 prompts at n_up 128
#: (benchmarks/knapsack.py).
SORT_MAX_ENTRIES = 1 << 17

WeightLike = Union[str, Callable]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def _weight_values(p, weight):
    """InfoGain weight w(p) on a float array, no checks on p."""
    if callable(weight):
        w = np.asarray(weight(p), dtype=float)
        try:
            w = np.broadcast_to(w, np.shape(p)).astype(float)
        except ValueError:
            raise ValueError(
                f"weight must return an array of the shape of p {np.shape(p)}, got shape {w.shape}"
            ) from None
        if np.isnan(w).any() or (w < 0).any():
            bad = w[np.isnan(w) | (w < 0)][0]
            raise ValueError(f"weight must return values in [0, inf], got {bad:g}")
        return w
    check_choice("weight", weight, WEIGHTS)
    q = 1.0 - p
    if weight == "info_gain":
        return p * q * q
    if weight == "variance":
        return p * q
    if weight == "info_gain_cubed":
        return p * q * q * q
    return (p * q) ** 1.5


def _f(n, p):
    """f(n, p) = 1 - p^n - (1-p)^n in a cancellation-free form (no checks).

    With m = min(p, 1-p): f = -expm1(n log1p(-m)) - m^n. For p >= 1/2 the
    subtraction 1 - p is exact, so the form is exactly symmetric in p <-> 1-p.
    """
    m = np.minimum(p, 1.0 - p)
    with np.errstate(divide="ignore"):
        f = -np.expm1(n * np.log1p(-m)) - m**n
    return np.where(n == 1, 0.0, f)  # f(1, p) = 0 exactly (the form leaves ~1e-17)


def _delta(n, p):
    """Marginal gain f(n+1, p) - f(n, p) = p^n (1-p) + p (1-p)^n (no checks)."""
    q = 1.0 - p
    return p**n * q + p * q**n


def _p_array(p, name="p"):
    arr = check_real_array(name, p, 0.0, 1.0)
    return arr


def _batch_p(p):
    arr = check_real_array("p", p, 0.0, 1.0)
    if arr.ndim != 1:
        raise ValueError(f"p must be a 1-D array of success rates, got {arr.ndim} dimensions")
    return arr


def _valid_mask(valid, m):
    if valid is None:
        return np.ones(m, dtype=bool)
    v = check_bool_array("valid", valid)
    if v.shape != (m,):
        raise ValueError(f"valid must have the shape of p ({m},), got shape {v.shape}")
    return v


def _bounds(n_low, n_up):
    n_low = check_int("n_low", n_low, 1)
    n_up = check_int("n_up", n_up, n_low)
    return n_low, n_up


def _budget_vs_bounds(budget, m, n_low):
    budget = check_int("budget", budget, 0)
    if m * n_low > budget:
        raise ValueError(
            f"budget must be at least n_low * M = {m * n_low} (infeasible bounds), got {budget}"
        )
    return budget


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KnapsackParams:
    """Validated parameters of one Knapsack-RL allocation configuration.

    Parameters
    ----------
    n : int, default 8
        Homogeneous per-prompt budget ``N_bar`` (``N_RESP_PER_PROMPT`` [code]);
        the total budget is ``M * n`` unless ``budget`` is given. In ``[1, inf]``.
    n_low : int, default 2
        Minimum rollouts per valid prompt ``N_low`` (``min_n`` [code]), in ``[1, n]``.
    n_up : int, default 128
        Maximum rollouts from the knapsack ``N_up`` (``max_n`` [code]), ``>= n_low``.
    budget : int or None, default None
        Total rollouts ``N_total``; ``None`` means ``M * n`` [code].
    alpha : float, default 0.9
        Target probability of the "probability" cost (D5) [code], in ``(0, 1)``.
    cost : {"probability", "expectation"}, default "probability"
        Cost estimate of the fallback trigger (D5) [code].
    weight : str or callable, default "info_gain"
        InfoGain weight ``w(p)`` (D2; open choice A7). One of :data:`WEIGHTS`
        or a function of an array ``p`` returning non-negative weights.
    fallback : {"zero_first", "uniform", "none"}, default "zero_first"
        Where surplus rollouts go in clean mode (open choice A3, see
        :func:`allocate`). ``"none"`` also switches the trigger off.
    fallback_trigger : {"coverage", "none"}, default "coverage"
        ``"coverage"``: the code's rule ``C < R`` (A4); ``"none"``: the pure
        knapsack optimum, only the unusable leftover is spread.
    fallback_cap : int or None, default None
        Cap on a prompt's total after the fallback in clean mode (A8); ``None``
        means ``n_up``. In ``[n_low, inf]``.
    strict_budget : bool, default True
        Spend the leftover that the knapsack cannot use with the fallback rule
        so that ``sum(N) == budget`` whenever the caps allow (A1).
    mode : {"clean", "reference"}, default "clean"
        ``"reference"`` reproduces the authors' ``sampling_budget_by_knapsack``
        with its quirks (3.2); ``weight``, ``fallback_trigger``,
        ``fallback_cap``, ``strict_budget`` and ``solver`` are then unused,
        and ``fallback="none"`` means ``allow_fallback=False``.
    solver : {"auto", "heap", "sort", "lagrangian", "dp"}, default "auto"
        Clean knapsack solver (3.3); all are exact.
    adv_clip : float or None, default 5.0
        GRPO advantage clip ``algorithm.adv_clip_value`` [code]; ``None`` = no clip.
    adv_eps : float, default 1e-6
        The ``epsilon`` of the GRPO std normalisation [code], in ``[0, inf)``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    n: int = 8
    n_low: int = 2
    n_up: int = 128
    budget: Union[int, None] = None
    alpha: float = 0.9
    cost: str = "probability"
    weight: WeightLike = "info_gain"
    fallback: str = "zero_first"
    fallback_trigger: str = "coverage"
    fallback_cap: Union[int, None] = None
    strict_budget: bool = True
    mode: str = "clean"
    solver: str = "auto"
    adv_clip: Union[float, None] = 5.0
    adv_eps: float = 1e-6

    def __post_init__(self):
        put = object.__setattr__
        put(self, "n", check_int("n", self.n, 1))
        put(self, "n_low", check_int("n_low", self.n_low, 1, self.n))
        put(self, "n_up", check_int("n_up", self.n_up, self.n_low))
        if self.budget is not None:
            put(self, "budget", check_int("budget", self.budget, 0))
        put(self, "alpha", check_real("alpha", self.alpha, 0.0, 1.0, lo_open=True, hi_open=True))
        put(self, "cost", check_choice("cost", self.cost, COSTS))
        if not callable(self.weight):
            check_choice("weight", self.weight, WEIGHTS)
        put(self, "fallback", check_choice("fallback", self.fallback, FALLBACKS))
        put(self, "fallback_trigger",
            check_choice("fallback_trigger", self.fallback_trigger, FALLBACK_TRIGGERS))
        if self.fallback_cap is not None:
            put(self, "fallback_cap", check_int("fallback_cap", self.fallback_cap, self.n_low))
        put(self, "strict_budget", check_bool("strict_budget", self.strict_budget))
        put(self, "mode", check_choice("mode", self.mode, MODES))
        put(self, "solver", check_choice("solver", self.solver, SOLVERS))
        if self.adv_clip is not None:
            put(self, "adv_clip", check_real("adv_clip", self.adv_clip, 0.0, None, lo_open=True))
        put(self, "adv_eps", check_real("adv_eps", self.adv_eps, 0.0, None))


# ---------------------------------------------------------------------------
# closed forms (D1-D3, T1, D5-D7)
# ---------------------------------------------------------------------------


def prob_nonzero_gradient(N, p):
    """ProbNonZeroGradient ``f(N, p) = P[0 < K < N] = 1 - p^N - (1-p)^N`` (D1) [paper].

    ``K ~ Bin(N, p)`` successes in ``N`` i.i.d. rollouts; a GRPO group is
    informative iff it mixes successes and failures. Evaluated as
    ``-expm1(N log1p(-m)) - m^N`` with ``m = min(p, 1-p)`` (exactly symmetric,
    no cancellation for large ``N``).

    Parameters
    ----------
    N : array_like of int
        Group size, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.

    Returns
    -------
    float or ndarray
        In ``[0, 1 - 2^(1-N)]``; 0 at ``p in {0, 1}`` or ``N = 1``.
    """
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    return _out(_f(N, p))


def marginal_gain(N, p):
    """Marginal gain ``Delta(N, p) = f(N+1, p) - f(N, p) = p^N (1-p) + p (1-p)^N`` (D1).

    Derived for this project (spec D1): positive on ``(0, 1)``, strictly
    decreasing in ``N`` (``f`` is strictly concave in ``N``).

    Parameters
    ----------
    N : array_like of int
        Current group size, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.

    Returns
    -------
    float or ndarray
    """
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    return _out(_delta(N, p))


def info_gain(p, weight="info_gain"):
    """InfoGain weight ``w(p)``; the paper's is ``p (1-p)^2`` (D2) [paper].

    The alternatives are for sensitivity studies (open choice A7), none is the
    paper's: ``"variance"`` ``p (1-p)``, ``"info_gain_cubed"`` ``p (1-p)^3``
    (the authors' debug printout, ``print_results`` [code]) and
    ``"variance_3_2"`` ``[p (1-p)]^(3/2)``.

    Parameters
    ----------
    p : array_like
        Success rate in ``[0, 1]``.
    weight : str or callable, default "info_gain"
        One of :data:`WEIGHTS`, or a function of an array ``p`` returning
        non-negative weights of the same shape.

    Returns
    -------
    float or ndarray
        ``p (1-p)^2`` lies in ``[0, 4/27]`` with its maximum at ``p = 1/3``.
    """
    p = _p_array(p)
    return _out(_weight_values(p, weight))


def value(N, p, weight="info_gain"):
    """Task value ``Value(N, p) = f(N, p) * InfoGain(p)`` (D3) [paper].

    Parameters
    ----------
    N : array_like of int
        Rollouts, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.
    weight : str or callable, default "info_gain"
        As in :func:`info_gain` (open choice A7).

    Returns
    -------
    float or ndarray
        ``0 <= Value <= InfoGain(p)``; increasing and concave in ``N``.
    """
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    return _out(_f(N, p) * _weight_values(p, weight))


def total_value(N, p, weight="info_gain"):
    """Knapsack objective ``sum_i Value(N_i, p_i)`` over the last axis (D4) [paper].

    Parameters
    ----------
    N : array_like of int
        Allocation, ``>= 1``, shape ``(..., M)``.
    p : array_like
        Success rates broadcasting against ``N``.
    weight : str or callable, default "info_gain"

    Returns
    -------
    float or ndarray
        Shape ``N.shape[:-1]`` after broadcasting.
    """
    N, p = _allocation_args(N, p)
    return _out((_f(N, p) * _weight_values(p, weight)).sum(axis=-1))


def first_mixed_survival(n, p):
    """Survival of the first mixed position ``P[T > n] = p^n + (1-p)^n`` (T1).

    ``T`` is the first rollout at which both a success and a failure have
    been seen. Derived for this project (spec T1): ``P[T > 0] = 1`` and
    ``P[T <= N] = f(N, p)`` for ``N >= 1``.

    Parameters
    ----------
    n : array_like of int
        ``>= 0``.
    p : array_like
        Success rate in ``[0, 1]``.

    Returns
    -------
    float or ndarray
    """
    n = check_int_array("n", n, 0)
    p = _p_array(p)
    n, p = np.broadcast_arrays(n, p)
    with np.errstate(invalid="ignore"):
        s = np.where(n == 0, 1.0, 1.0 - _f(np.maximum(n, 1), p))
    return _out(s)


def expected_rollouts(p):
    """Expected rollouts to a non-zero gradient ``E[T] = 1/(p(1-p)) - 1`` (T1) [paper].

    ``E[T] = 1/p + 1/(1-p) - 1``; the minimum is 3 at ``p = 1/2``, and
    ``p = 0.01`` gives 100.0101 (the paper's "about 100").

    Parameters
    ----------
    p : array_like
        Success rate in ``[0, 1]``; ``inf`` at ``p in {0, 1}``.

    Returns
    -------
    float or ndarray
    """
    p = _p_array(p)
    with np.errstate(divide="ignore"):
        return _out(1.0 / (p * (1.0 - p)) - 1.0)


def coverage_budget(p, alpha=0.9):
    """High-probability bound ``N_alpha(p) = ln(1-alpha) / ln max(p, 1-p)`` (T1) [paper].

    A necessary condition for ``f(N, p) >= alpha`` is ``N >= N_alpha``
    (``p^N + (1-p)^N >= max(p, 1-p)^N``, derived for this project). The
    paper's example ``p = 0.01, alpha = 0.9`` gives 229.1. It is also the
    authors' "probability" cost ``c_P`` (D5) [code]. The exact minimum is
    :func:`exact_coverage_budget`.

    Parameters
    ----------
    p : array_like
        Success rate in ``[0, 1]``; ``inf`` at ``p in {0, 1}``.
    alpha : float, default 0.9
        Target probability in ``(0, 1)``.

    Returns
    -------
    float or ndarray
    """
    p = _p_array(p)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    big = np.maximum(p, 1.0 - p)
    with np.errstate(divide="ignore"):
        return _out(math.log1p(-alpha) / np.log(big))


def exact_coverage_budget(p, alpha=0.9):
    """Exact minimum ``N*_alpha(p) = min{N >= 1 : f(N, p) >= alpha}`` (T1).

    No closed form (spec T1); found by a vectorised integer bisection between
    ``floor(N_alpha)`` and ``ceil(ln((1-alpha)/2) / ln max(p, 1-p)) + 2``
    (``p^N + (1-p)^N <= 2 max^N``, derived for this project), using
    :func:`prob_nonzero_gradient` in floating point. ``N*_0.9(1/2) = 5``.

    Parameters
    ----------
    p : array_like
        Success rate in ``(0, 1)``.
    alpha : float, default 0.9
        Target probability in ``(0, 1)``.

    Returns
    -------
    int or ndarray of int64
    """
    p = check_real_array("p", p, 0.0, 1.0, lo_open=True, hi_open=True)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    ln_big = np.log(np.maximum(p, 1.0 - p))
    lo = np.maximum(1, np.floor(math.log1p(-alpha) / ln_big) - 1).astype(np.int64)
    hi = np.maximum(lo, np.ceil(math.log((1.0 - alpha) / 2.0) / ln_big) + 2).astype(np.int64)
    # make sure f(hi) >= alpha in floating point
    while True:
        short = _f(hi, p) < alpha
        if not short.any():
            break
        hi = np.where(short, 2 * hi, hi)
    lo, hi, p = np.broadcast_arrays(lo, hi, p)
    lo, hi = lo.copy(), hi.copy()
    while True:
        act = lo < hi
        if not act.any():
            break
        mid = (lo + hi) // 2
        ok = _f(mid, p) >= alpha
        hi = np.where(act & ok, mid, hi)
        lo = np.where(act & ~ok, mid + 1, lo)
    return _out(lo)


def rollout_cost(p, alpha=0.9, cost="probability"):
    """The authors' per-prompt cost estimate of the fallback trigger (D5) [code].

    ``"probability"``: ``c_P(p) = ln(1-alpha) / ln max(p, 1-p)`` (= :func:`coverage_budget`);
    ``"expectation"``: ``c_E(p) = 1/(p(1-p)) - 1`` (= :func:`expected_rollouts`).
    The code uses them only for ``0 < p < 1``.

    Parameters
    ----------
    p : array_like
        Success rate in ``(0, 1)``.
    alpha : float, default 0.9
        In ``(0, 1)``; used by ``"probability"``.
    cost : {"probability", "expectation"}

    Returns
    -------
    float or ndarray
    """
    p = check_real_array("p", p, 0.0, 1.0, lo_open=True, hi_open=True)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    check_choice("cost", cost, COSTS)
    return _out(_cost(p, alpha, cost))


def _cost(p, alpha, cost):
    if cost == "probability":
        return math.log1p(-alpha) / np.log(np.maximum(p, 1.0 - p))
    return 1.0 / (p * (1.0 - p)) - 1.0


def _allocation_args(N, p):
    """Checked allocation and rates, broadcast, with at least one axis of prompts."""
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    N, p = np.broadcast_arrays(N, p)
    if N.ndim == 0:
        raise ValueError("N must have at least one axis of prompts, got a scalar")
    return N, p


def effective_gradient_ratio(N, p):
    """Expected effective-gradient ratio ``sum_i N_i f(N_i, p_i) / sum_i N_i`` (D6) [code].

    The expectation of the code's rollout-weighted ``effective_gradient_ratio``
    metric (``compute_coverage_metric``) for an allocation ``N`` under true
    rates ``p``, by linearity (derived for this project). Reduces over the last
    axis.

    Parameters
    ----------
    N : array_like of int
        Allocation, ``>= 1``, shape ``(..., M)``.
    p : array_like
        True success rates broadcasting against ``N``.

    Returns
    -------
    float or ndarray
    """
    N, p = _allocation_args(N, p)
    return _out((N * _f(N, p)).sum(axis=-1) / N.sum(axis=-1))


def effective_prompt_ratio(N, p):
    """Expected effective-prompt ratio ``(1/M) sum_i f(N_i, p_i)`` (D6) [code].

    The expectation of the code's ``effective_prompt_ratio`` metric (prompts
    with both a positive and a negative rollout, over prompts). Reduces over
    the last axis.

    Parameters
    ----------
    N : array_like of int
        Allocation, ``>= 1``, shape ``(..., M)``.
    p : array_like
        True success rates broadcasting against ``N``.

    Returns
    -------
    float or ndarray
    """
    N, p = _allocation_args(N, p)
    return _out(_f(N, p).mean(axis=-1))


def _adv(k, N, eps, clip):
    k = k.astype(float)
    Nf = N.astype(float)
    one = N == 1
    denom_n = np.where(one, 1.0, Nf * (Nf - 1.0))
    std = np.where(one, 1.0, np.sqrt(k * (Nf - k) / denom_n))
    mean = np.where(one, 0.0, k / Nf)
    mixed = one | ((k > 0) & (k < Nf))  # all-equal groups: r - mean = 0 exactly
    with np.errstate(divide="ignore", invalid="ignore"):
        a_pos = np.where(mixed & (k >= 1), (1.0 - mean) / (std + eps), 0.0)
        a_neg = np.where(mixed & (k < Nf), (0.0 - mean) / (std + eps), 0.0)
    if clip is not None:
        a_pos = np.clip(a_pos, -clip, clip)
        a_neg = np.clip(a_neg, -clip, clip)
    return a_pos, a_neg


def grpo_advantages(k, N, eps=1e-6, clip=5.0):
    """GRPO advantages of a success and of a failure in a group of ``N`` with ``k`` successes (D7).

    ``A = (r - mean) / (std + eps)`` with the UNBIASED std
    ``s = sqrt(k (N-k) / (N (N-1)))`` (``torch.std``) and rewards in
    ``{0, 1}`` [code: ``compute_grpo_outcome_advantage``]; before clipping
    ``A+ = sqrt((N-k)(N-1)/(kN))`` and ``A- = -sqrt(k(N-1)/((N-k)N))`` up to
    ``eps``. A group of one gets mean 0 and std 1 [code]. Advantages are then
    clipped to ``[-clip, clip]`` (``algorithm.adv_clip_value = 5`` [code]).

    Parameters
    ----------
    k : array_like of int
        Successes, ``0 <= k <= N``.
    N : array_like of int
        Group size, ``>= 1``.
    eps : float, default 1e-6
        In ``[0, inf)``.
    clip : float or None, default 5.0
        In ``(0, inf)``; ``None`` disables clipping.

    Returns
    -------
    (a_pos, a_neg) : tuple of float or ndarray
        Advantage of each successful rollout (0 where ``k = 0``: there is
        none) and of each failed rollout (0 where ``k = N``).
    """
    N = check_int_array("N", N, 1)
    k = check_int_array("k", k, 0)
    k, N = np.broadcast_arrays(k, N)
    if (k > N).any():
        bad = (k > N)
        raise ValueError(f"k must be an integer in [0, N], got {int(k[bad][0])} with N = {int(N[bad][0])}")
    eps = check_real("eps", eps, 0.0, None)
    if clip is not None:
        clip = check_real("clip", clip, 0.0, None, lo_open=True)
    a_pos, a_neg = _adv(k, N, eps, clip)
    return _out(a_pos), _out(a_neg)



def expected_clipped_fraction(N, p, clip=5.0, eps=1e-6):
    """Expected fraction of a group's rollouts whose GRPO advantage is clipped (spec 7.3).

    With ``K ~ Bin(N, p)`` successes, the ``K`` successes have advantage
    ``A+(K, N)`` and the ``N - K`` failures ``A-(K, N)`` (D7, before clipping);
    the fraction is ``E[K 1{A+ > clip} + (N-K) 1{-A- > clip}] / N`` (derived
    for this project from D7 and the binomial law). A success is clipped when
    it is rare: ``A+ > 5`` needs roughly ``K/N < 1/26``.

    Parameters
    ----------
    N : int
        Group size, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.
    clip : float
        Clipping level, ``> 0``.
    eps : float
        The std offset of D7, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    from scipy import stats

    N = check_int("N", N, 1)
    p = _p_array(p)
    clip = check_real("clip", clip, 0.0, None, lo_open=True)
    eps = check_real("eps", eps, 0.0, None)
    k = np.arange(N + 1)
    a_pos, a_neg = _adv(k, np.full_like(k, N), eps, None)
    clipped = k * (a_pos > clip) + (N - k) * (-a_neg > clip)
    pmf = stats.binom.pmf(k, N, np.asarray(p)[..., None])
    return _out((pmf * clipped).sum(axis=-1) / N)

def grpo_group_advantages(rewards, group_sizes, eps=1e-6, clip=5.0):
    """Per-rollout GRPO advantages for groups of variable size (D7) [code].

    The rollouts of all groups are concatenated: group ``g`` owns the next
    ``group_sizes[g]`` entries of ``rewards``. Vectorised (``np.add.reduceat``),
    no loop over groups.

    Parameters
    ----------
    rewards : array_like
        1-D binary rewards in ``{0, 1}`` (map the code's ``-1`` to 0).
    group_sizes : array_like of int
        1-D sizes, each ``>= 1``, summing to ``len(rewards)``.
    eps, clip
        As in :func:`grpo_advantages`.

    Returns
    -------
    ndarray
        Advantages, same shape as ``rewards``.
    """
    r = check_real_array("rewards", rewards, 0.0, 1.0)
    if r.ndim != 1:
        raise ValueError(f"rewards must be a 1-D array, got {r.ndim} dimensions")
    if not np.all((r == 0.0) | (r == 1.0)):
        bad = r[(r != 0.0) & (r != 1.0)][0]
        raise ValueError(f"rewards must be 0 or 1, got {bad:g}")
    sizes = check_int_array("group_sizes", group_sizes, 1)
    if sizes.ndim != 1 or int(sizes.sum()) != r.size:
        raise ValueError(
            f"group_sizes must be 1-D and sum to len(rewards) = {r.size}, got sum {int(sizes.sum())}"
        )
    eps = check_real("eps", eps, 0.0, None)
    if clip is not None:
        clip = check_real("clip", clip, 0.0, None, lo_open=True)
    if r.size == 0:
        return r.copy()
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    k = np.add.reduceat(r, starts).round().astype(np.int64)
    a_pos, a_neg = _adv(k, sizes, eps, clip)
    return np.where(r == 1.0, np.repeat(a_pos, sizes), np.repeat(a_neg, sizes))


# ---------------------------------------------------------------------------
# clean knapsack solvers (D4, P2, 3.3)
# ---------------------------------------------------------------------------


def _prepare(p, budget, n_low, n_up, weight):
    p = _batch_p(p)
    n_low, n_up = _bounds(n_low, n_up)
    budget = _budget_vs_bounds(budget, p.size, n_low)
    w = _weight_values(p, weight)
    return p, budget, n_low, n_up, w


def _gain_matrix(pe, we, n_low, K):
    """w_i * Delta(n_low + c, p_i) for c = 0..K-1, by repeated multiplication.

    Powers come from a running product (``np.cumprod``), so every row is
    non-increasing in exact floating point and the heap solver, which keeps
    the same running products, sees bit-identical gains.
    """
    qe = 1.0 - pe
    pw = np.empty((pe.size, K))
    qw = np.empty((pe.size, K))
    pw[:, 0] = pe**n_low
    qw[:, 0] = qe**n_low
    if K > 1:
        pw[:, 1:] = pe[:, None]
        qw[:, 1:] = qe[:, None]
        np.cumprod(pw, axis=1, out=pw)
        np.cumprod(qw, axis=1, out=qw)
    return we[:, None] * (pw * qe[:, None] + pe[:, None] * qw)


def _greedy_heap(pe, we, extra, n_low, n_up):
    """Heap greedy over informative prompts; returns extra rollouts per prompt."""
    K = n_up - n_low
    counts = np.zeros(pe.size, dtype=np.int64)
    if extra <= 0 or K == 0 or pe.size == 0:
        return counts
    qe = 1.0 - pe
    pw = (pe**n_low).tolist()
    qw = (qe**n_low).tolist()
    pl, ql, wl = pe.tolist(), qe.tolist(), we.tolist()
    # key: (-gain, current N_i, i): ties go to the smaller N_i, then the lower index (A11)
    heap = [(-(wl[i] * (pw[i] * ql[i] + pl[i] * qw[i])), n_low, i) for i in range(pe.size)]
    heapq.heapify(heap)
    left = extra
    while left > 0 and heap:
        _, n_i, i = heapq.heappop(heap)
        counts[i] += 1
        left -= 1
        if n_i + 1 < n_up:
            pw[i] *= pl[i]
            qw[i] *= ql[i]
            heapq.heappush(heap, (-(wl[i] * (pw[i] * ql[i] + pl[i] * qw[i])), n_i + 1, i))
    return counts


def _greedy_sort(pe, we, extra, n_low, n_up):
    """Top-``extra`` marginal gains of the materialised gain matrix (same order as the heap)."""
    K = n_up - n_low
    E = pe.size
    total = E * K
    take = min(extra, total)
    if take <= 0:
        return np.zeros(E, dtype=np.int64)
    if take == total:
        return np.full(E, K, dtype=np.int64)
    G = _gain_matrix(pe, we, n_low, K)
    flat = G.ravel()
    v = np.partition(flat, total - take)[total - take]  # the take-th largest gain
    above = G > v
    counts = above.sum(axis=1).astype(np.int64)
    ties = take - int(counts.sum())
    if ties > 0:
        rows, cols = np.nonzero(G == v)
        order = np.lexsort((rows, cols))[:ties]  # smaller N first, then lower index
        counts += np.bincount(rows[order], minlength=E)
    return counts


# Error model of the exp/log form of the gains, ``w exp(n ln p) q + w p exp(n ln q)``,
# against the heap's running products (derived for this project): the two
# differ by at most ``_LAG_REL * g + (2 w_max + 1) * _LAG_ABS``. The true
# relative error is below ~1e-12 for n_up <= 10**4 (a few ulps per product,
# ~|n ln p| ulps in the exponent); the margins are wide on purpose.
_LAG_REL = 1e-9
_LAG_ABS = 1e-300
#: The Lagrangian solver stops refining lambda once at most this many gains
#: lie between its two brackets, and never materialises more than
#: ``_LAG_WINDOW_MAX`` (it falls back to the exact sort or heap solver).
_LAG_WINDOW = 1 << 15
_LAG_WINDOW_MAX = 1 << 23


class _LagGains:
    """Marginal gains of the informative prompts for the Lagrangian solver.

    ``approx``: the exp/log form (one formula per entry, no running product);
    ``guess``: the closed-form count of the dominant term, for small p
    ``w Delta(N) ~ w min(p,q) max(p,q)^N`` (spec P2, item 4), so
    ``#{c : gain(n_low + c) > e^L} ~ ceil((L - ln(w m)) / ln M) - n_low``.
    """

    def __init__(self, pe, we, n_low, n_up):
        self.pe, self.we, self.n_low, self.n_up = pe, we, n_low, n_up
        self.K = n_up - n_low
        self.qe = 1.0 - pe  # the heap's q
        with np.errstate(divide="ignore"):
            lw = np.log(we)
        lp = np.log(pe)
        lq = np.log(self.qe)  # 0 where 1 - p rounds to 1
        self.lp, self.lq = lp, lq
        self.c1 = lw + lq
        self.c2 = lw + lp
        self.a = lw + np.minimum(lp, lq)
        self.inv_b = 1.0 / np.minimum(np.maximum(lp, lq), -1e-300)
        self.eps = (2.0 * float(we.max()) + 1.0) * _LAG_ABS
        # every gain is below e^L_top (w Delta <= 2 w m M^n_low); positive ones above e^L_bot
        fin = np.isfinite(self.a)
        self.L_top = float((self.a[fin] + n_low / self.inv_b[fin]).max()) + 1.0 if fin.any() else 0.0
        self.L_bot = float((self.a[fin] + (n_up - 1) / self.inv_b[fin]).min()) - 1.0 if fin.any() else 0.0

    def approx(self, c, rows=None):
        n = c + float(self.n_low)
        if rows is None:
            return np.exp(self.c1 + n * self.lp) + np.exp(self.c2 + n * self.lq)
        return np.exp(self.c1[rows] + n * self.lp[rows]) + np.exp(self.c2[rows] + n * self.lq[rows])

    def guess(self, L, rows=None):
        a, ib = (self.a, self.inv_b) if rows is None else (self.a[rows], self.inv_b[rows])
        with np.errstate(invalid="ignore", over="ignore"):
            x = (L - a) * ib
        np.clip(x, self.n_low, self.n_up, out=x)
        x -= self.n_low
        return np.ceil(x, out=x).astype(np.int64)


def _crossing(G, thr, strict, c0, gm, g0, rows=None):
    """Per row the k with test(k - 1) (or k = 0) and not test(k) (or k = K).

    ``test(c)`` is ``approx gain(c) > thr`` (``>=`` if not ``strict``). ``c0``
    is a guess, ``gm``/``g0`` the gains at ``c0 - 1``/``c0`` (clamped). A
    bisection keeps the invariant, so the k found is a crossing even where the
    approximate gains are not monotone at the ulp level.
    """
    K = G.K
    test = np.greater if strict else np.greater_equal
    t0 = test(g0, thr) & (c0 < K)
    tm = test(gm, thr) | (c0 == 0)
    out = c0.copy()
    idx = np.flatnonzero(t0 | ~tm)
    if idx.size == 0:
        return out
    c = c0[idx]
    up = t0[idx]
    lo = np.where(up, c + 1, 0)
    hi = np.where(up, K, c - 1)
    mid = np.where(up, lo, hi - 1)  # first probe: the neighbour of the guess
    while True:
        open_ = lo < hi
        if not open_.all():
            out[idx[~open_]] = lo[~open_]
            idx, lo, hi, mid = idx[open_], lo[open_], hi[open_], mid[open_]
            if idx.size == 0:
                return out
        ok = test(G.approx(mid, idx if rows is None else rows[idx]), thr)
        lo = np.where(ok, mid + 1, lo)
        hi = np.where(ok, hi, mid)
        mid = (lo + hi) // 2


def _lag_counts(G, L, c0, rows=None):
    """(A, B) at ``lam = e^L``: A_i <= #{exact gains > lam}, B_i >= #{exact gains >= lam}.

    B differs from A only where the gain at column A lies within the error
    band ``[tB, tA]`` of ``lam``; only those rows get a second search.
    """
    lam = math.exp(L)
    K = G.K
    tA = (lam + G.eps) / (1.0 - _LAG_REL)
    tB = (lam - G.eps) / (1.0 + _LAG_REL)
    gm = G.approx(np.maximum(c0 - 1, 0), rows)
    g0 = G.approx(np.minimum(c0, K - 1), rows)
    A = _crossing(G, tA, True, c0, gm, g0, rows)
    B = A.copy()
    moved = np.flatnonzero(A != c0)
    gA = g0.copy()
    if moved.size:
        gA[moved] = G.approx(np.minimum(A[moved], K - 1), moved if rows is None else rows[moved])
    band = np.flatnonzero((A < K) & (gA >= tB))
    if band.size:
        sub = band if rows is None else rows[band]
        cb = A[band]
        gmb = G.approx(np.maximum(cb - 1, 0), sub)
        B[band] = _crossing(G, tB, False, cb, gmb, gA[band], sub)
    return A, B


def _lag_start(G, take):
    """Starting ``L = ln lambda`` and slope ``-dS/dL`` of the count, from a subsample.

    Bisection of the closed-form (dominant-term) count, then two secant steps
    with the searched counts of the subsample.
    """
    E, n_low, n_up = G.pe.size, G.n_low, G.n_up
    sub = np.arange(0, E, max(1, E // 8192))
    scale = E / sub.size
    a, ib = G.a[sub], G.inv_b[sub]
    fin = np.isfinite(a)
    if not fin.any():
        return min(0.0, G.L_top), 1.0
    L_hi = float((a + n_low / ib)[fin].max()) + 1.0
    L_lo = float((a + (n_up - 1) / ib)[fin].min()) - 1.0
    target = take / scale
    for _ in range(40):
        L = 0.5 * (L_hi + L_lo)
        if G.guess(L, sub).sum() >= target:
            L_lo = L
        else:
            L_hi = L
    x = (L - a) * ib
    slope = max(float(-ib[(x > n_low) & (x < n_up)].sum()), 1.0)
    for _ in range(2):
        A, _ = _lag_counts(G, L, G.guess(L, sub), sub)
        L = min(L + (int(A.sum()) - target) / slope, G.L_top)
    return L, slope * scale


def _lag_bracket(G, take, L, slope, target, hi, lo):
    """Move ``lam_hi`` down and ``lam_lo`` up until ``sum B(lam_lo) - sum A(lam_hi) <= target``.

    ``hi = (L, A, sum B)`` with ``sum B < take``; ``lo = (L, B, sum A)`` with
    ``sum A >= take``. Secant steps, with bisection when one side stalls, and
    a stop when the bracket is as narrow as the error band (ties).
    """
    K = G.K
    prev = last = None
    stall, last_width = 0, G.K * G.pe.size
    for _ in range(64):
        L = min(L, G.L_top)
        g = G.guess(L)
        if prev is not None:
            g = np.clip(prev[1] + (g - prev[2]), 0, K)
        A, B = _lag_counts(G, L, g)
        prev = (L, A, G.guess(L))
        sA, sB = int(A.sum()), int(B.sum())
        side = None
        if sB < take:
            hi, side = (L, A, sB), "hi"
        elif sA >= take:
            lo, side = (L, B, sA), "lo"
        width = int(lo[1].sum()) - int(hi[1].sum())
        stall = stall + 1 if width >= last_width else 0
        last_width = width
        if width <= target or (side == "hi" and L < G.L_bot):
            break
        if stall >= 3 and width <= _LAG_WINDOW_MAX:
            break  # a tie block wider than the target: the window cannot shrink
        d = 1e-8 * max(1.0, abs(L))
        if side is None:  # lambda within the error band of a gain: step out
            L = L + d if L + d < hi[0] else L - d
            continue
        if math.isfinite(lo[0]) and math.isfinite(hi[0]):
            if hi[0] - lo[0] <= 4 * d:
                break  # a tie block wider than the target: the window cannot shrink
            if side == last:  # stalled on one side: bisect
                L = 0.5 * (lo[0] + hi[0])
            else:
                aim = take - target // 4 if take - hi[2] > lo[2] - take else take + target // 4
                t = (lo[2] - aim) / max(lo[2] - hi[2], 1)
                L = lo[0] + min(max(t, 0.1), 0.9) * (hi[0] - lo[0])
        elif side == "lo":
            L = lo[0] + (lo[2] - take + target // 4) / slope
            slope *= 0.5
        else:
            L = hi[0] - (take - hi[2] + target // 4) / slope
            slope *= 0.5
        last = side
    return hi, lo


def _exact_gains(G, pw0, qw0, rows, cols):
    """The heap's gains ``w (pw q + p qw)`` at (rows, cols), pw, qw running products."""
    ur, inv = np.unique(rows, return_inverse=True)
    top = np.zeros(ur.size, dtype=np.int64)
    np.maximum.at(top, inv, cols)
    order = np.argsort(-top, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    pos = rank[inv]
    sel = ur[order]
    P, Q, Wt = G.pe[sel], G.qe[sel], G.we[sel]
    pw, qw = pw0[sel], qw0[sel]
    top_s = top[order]  # descending
    cmax = int(top_s[0])
    n_active = np.searchsorted(-top_s, -np.arange(cmax + 1), side="right")
    eo = np.argsort(cols, kind="stable")
    edges = np.searchsorted(cols[eo], np.arange(cmax + 2))
    out = np.empty(rows.size)
    for c in range(cmax + 1):
        if c:
            n = n_active[c]
            pw[:n] *= P[:n]
            qw[:n] *= Q[:n]
        s, e = edges[c], edges[c + 1]
        if s < e:
            ent = eo[s:e]
            k = pos[ent]
            out[ent] = Wt[k] * (pw[k] * Q[k] + P[k] * qw[k])
    return out


def _greedy_lagrangian(pe, we, extra, n_low, n_up, cap=None):
    """Threshold (Lagrange-multiplier) form of the greedy, vectorised; equal to the heap bit for bit.

    1. A closed-form count per prompt (:class:`_LagGains`) on a subsample
       gives a first ``L = ln lambda``; then a few full evaluations of
       ``A_i(lambda) <= #{gains > lambda} `` and ``B_i(lambda) >= #{gains >=
       lambda}`` (per-prompt integer search from the closed-form guess, on
       the exp/log form of the gains with a rigorous error margin) bracket the
       threshold: ``sum B(lam_hi) < take <= sum A(lam_lo)``.
    2. Every gain before column ``A_i(lam_hi)`` is taken, none from
       ``B_i(lam_lo)`` on. In the window between, interval bounds on the
       gains settle most entries; the rest get the heap's exact gains (running
       products) and are ranked by the heap's key ``(-gain, N_i, i)``.

    ``cap`` is the window size at which the bracket search stops (tests set
    it small to exercise the search).
    """
    K = n_up - n_low
    E = pe.size
    total = E * K
    take = min(extra, total)
    if take <= 0:
        return np.zeros(E, dtype=np.int64)
    if take == total:
        return np.full(E, K, dtype=np.int64)
    if not np.isfinite(we).all() or we.max() > 1e250:
        return _greedy_exact_fallback(pe, we, extra, n_low, n_up)
    target = min(max(_LAG_WINDOW, E // 2), _LAG_WINDOW_MAX) if cap is None else max(int(cap), 1)
    G = _LagGains(pe, we, n_low, n_up)
    hi = (math.inf, np.zeros(E, dtype=np.int64), 0)  # (L, A, sum B) at lambda = +inf
    lo = (-math.inf, np.full(E, K, dtype=np.int64), total)  # (L, B, sum A) at lambda < 0
    if total > target:
        L, slope = _lag_start(G, take)
        hi, lo = _lag_bracket(G, take, L, slope, target, hi, lo)
    A_hi, B_lo = hi[1], lo[1]

    # 2. the window [A_hi, B_lo) per prompt
    width = B_lo - A_hi
    n_win = int(width.sum())
    need = take - int(A_hi.sum())
    if (width < 0).any() or n_win > _LAG_WINDOW_MAX or not 0 <= need <= n_win:
        return _greedy_exact_fallback(pe, we, extra, n_low, n_up)
    if need == 0:
        return A_hi
    if need == n_win:
        return B_lo
    rows = np.repeat(np.arange(E), width)
    starts = np.cumsum(width) - width
    cols = A_hi[rows] + (np.arange(n_win) - starts[rows])
    g = G.approx(cols, rows)
    lo_e = g * (1.0 - _LAG_REL) - G.eps
    hi_e = g * (1.0 + _LAG_REL) + G.eps
    a = np.partition(lo_e, n_win - need)[n_win - need]  # need-th largest lower bound
    b = np.partition(hi_e, n_win - need)[n_win - need]  # need-th largest upper bound
    sure = lo_e > b
    unsure = ~sure & (hi_e >= a)
    ur, uc = rows[unsure], cols[unsure]
    ge = _exact_gains(G, pe**n_low, G.qe**n_low, ur, uc)
    pick = np.lexsort((ur, uc, -ge))[: need - int(sure.sum())]
    return (A_hi + np.bincount(rows[sure], minlength=E)
            + np.bincount(ur[pick], minlength=E)).astype(np.int64)


def _greedy_exact_fallback(pe, we, extra, n_low, n_up):
    """Exact fallback of the Lagrangian solver for extreme weights or huge tie windows."""
    if pe.size * (n_up - n_low) <= _LAG_WINDOW_MAX:
        return _greedy_sort(pe, we, extra, n_low, n_up)
    return _greedy_heap(pe, we, extra, n_low, n_up)


def _solve_extra(pe, we, extra, n_low, n_up, solver):
    if solver == "auto":
        solver = "sort" if pe.size * (n_up - n_low) <= SORT_MAX_ENTRIES else "lagrangian"
    if solver == "heap":
        return _greedy_heap(pe, we, extra, n_low, n_up)
    if solver == "sort":
        return _greedy_sort(pe, we, extra, n_low, n_up)
    if solver == "lagrangian":
        return _greedy_lagrangian(pe, we, extra, n_low, n_up)
    return _dp_extra(pe, we, np.ones(pe.size, dtype=np.int64), extra, n_low, n_up)


def allocate_greedy(p, budget, n_low=2, n_up=128, weight="info_gain", method="auto"):
    """Exact greedy marginal-gain allocation of the knapsack (P2, 3.3).

    Maximises ``sum_i w(p_i) f(N_i, p_i)`` subject to ``sum_i N_i <= budget``
    and ``n_low <= N_i <= n_up`` (D4 [paper]). Every prompt starts at
    ``n_low``; each further rollout goes to the informative prompt
    (``0 < p < 1``) with the largest marginal gain ``w_i Delta(N_i, p_i)``,
    until the budget is spent or every informative prompt is at ``n_up``.
    Greedy is exact because each term is concave in ``N_i`` and costs are unit
    (derived for this project, P2; Gross 1956, Fox 1966). Ties go to the
    smaller current ``N_i``, then to the lower index (open choice A11), so the
    allocation nests as the budget grows. Uninformative prompts stay at
    ``n_low``; the unspent rest is ``budget - sum(N)`` (see :func:`allocate`
    for the fallback rules).

    Parameters
    ----------
    p : array_like
        1-D success rates in ``[0, 1]``, one per prompt.
    budget : int
        Total rollouts, ``>= M * n_low`` (smaller budgets are infeasible).
    n_low, n_up : int, default 2, 128
        Bounds, ``1 <= n_low <= n_up``.
    weight : str or callable, default "info_gain"
        As in :func:`info_gain`.
    method : {"auto", "heap", "sort", "lagrangian"}, default "auto"
        ``"heap"``: the textbook heap, ``O(M + R log M)`` Python steps;
        ``"sort"``: top-``R`` selection in the materialised gain matrix
        (bit-identical to the heap); ``"lagrangian"``: vectorised threshold
        search for very large batches, no ``M x (n_up - n_low)`` matrix
        (also bit-identical to the heap);
        ``"auto"``: ``"sort"`` up to :data:`SORT_MAX_ENTRIES` entries, else
        ``"lagrangian"``.

    Returns
    -------
    ndarray of int64
        ``N``, shape ``(M,)``.
    """
    p, budget, n_low, n_up, w = _prepare(p, budget, n_low, n_up, weight)
    check_choice("method", method, ("auto", "heap", "sort", "lagrangian"))
    N = np.full(p.size, n_low, dtype=np.int64)
    e = np.nonzero((p > 0.0) & (p < 1.0))[0]
    extra = budget - p.size * n_low
    N[e] += _solve_extra(p[e], w[e], extra, n_low, n_up, method)
    return N


def allocate_lagrangian(p, budget, n_low=2, n_up=128, weight="info_gain"):
    """Vectorised Lagrangian (threshold) solver of the knapsack (P2 item 2, 3.3).

    The KKT form: there is ``lambda >= 0`` with ``w_i Delta(N_i - 1) >= lambda
    >= w_i Delta(N_i)`` for interior ``N_i`` (derived for this project, P2).
    Per prompt, ``N_i(lambda)`` starts from the closed-form count of the
    dominant term, ``w Delta(N) ~ w min(p,q) max(p,q)^N`` (for small ``p``,
    ``N(lambda) ~ ln(p^2 / lambda) / p``, P2 item 4), refined by a vectorised
    integer search; ``ln lambda`` is located from a subsample and bracketed by
    secant steps on the total count. The gains there use an exp/log form with
    a rigorous error margin; the few gains that the margin cannot order get
    the heap's own values (running products) and its tie order (smaller
    ``N_i``, then lower index), so the result equals
    ``allocate_greedy(method="heap")`` bit for bit (derived for this project).
    Time and memory ``O(M)`` per step (a few steps): use it for ``10**6``
    prompts (about 0.2 s at budget ``8 * 10**6``, ``n_up = 128``).

    Parameters
    ----------
    p, budget, n_low, n_up, weight
        As in :func:`allocate_greedy`.

    Returns
    -------
    ndarray of int64
    """
    return allocate_greedy(p, budget, n_low, n_up, weight, method="lagrangian")


def _dp_extra(pe, we, costs, extra, n_low, n_up):
    """Exact multiple-choice DP over extra rollouts with integer per-rollout costs."""
    K = n_up - n_low
    E = pe.size
    counts = np.zeros(E, dtype=np.int64)
    if extra <= 0 or K == 0 or E == 0:
        return counts
    W = int(extra)
    dp = np.zeros(W + 1)  # best value with extra cost <= w
    choice = np.zeros((E, W + 1), dtype=np.int32)
    ks = np.arange(K + 1)
    for j in range(E):
        vals = _f(n_low + ks, pe[j]) * we[j]
        if not (vals[1:] > vals[0]).any():
            continue  # no k > 0 strictly improves: choose k = 0 everywhere
        c = int(costs[j])
        new = dp + vals[0]
        arg = choice[j]
        for k in range(1, K + 1):
            s = k * c
            if s > W:
                break
            cand = dp[: W + 1 - s] + vals[k]
            better = cand > new[s:]
            new[s:][better] = cand[better]
            arg[s:][better] = k
        dp = new
    w = W
    for j in range(E - 1, -1, -1):
        k = int(choice[j, w])
        counts[j] = k
        w -= k * int(costs[j])
    return counts


def allocate_dp(p, budget, n_low=2, n_up=128, weight="info_gain", cost=None):
    """Exact dynamic program for the knapsack with integer costs (3.3, A12).

    ``dp[j][w] = max_{n_low <= N <= n_up} dp[j-1][w - c_j N] + Value(N, p_j)``
    maximises ``sum_i w(p_i) f(N_i, p_i)`` subject to ``sum_i c_i N_i <= budget``
    and the bounds. With unit costs it solves the paper's problem (D4) and is
    the verification reference for :func:`allocate_greedy`; with token costs
    ``c_i`` greedy is only approximate (A12). Among optimal choices of one
    prompt the smallest ``N`` is kept. Time ``O(M W (n_up - n_low))``, memory
    ``O(M W)`` with ``W = budget - n_low sum_i c_i``: a reference, not fast.

    Parameters
    ----------
    p : array_like
        1-D success rates in ``[0, 1]``.
    budget : int
        Total cost, ``>= n_low * sum(cost)``.
    n_low, n_up : int, default 2, 128
        Bounds, ``1 <= n_low <= n_up``.
    weight : str or callable, default "info_gain"
    cost : array_like of int or None, default None
        Cost of one rollout of each prompt, ``>= 1`` (e.g. mean tokens);
        ``None`` means unit cost.

    Returns
    -------
    ndarray of int64
    """
    p = _batch_p(p)
    n_low, n_up = _bounds(n_low, n_up)
    w = _weight_values(p, weight)
    if cost is None:
        costs = np.ones(p.size, dtype=np.int64)
    else:
        costs = check_int_array("cost", cost, 1)
        if costs.shape != p.shape:
            raise ValueError(f"cost must have the shape of p {p.shape}, got shape {costs.shape}")
    budget = check_int("budget", budget, 0)
    need = int(n_low * costs.sum())
    if need > budget:
        raise ValueError(
            f"budget must be at least n_low * sum(cost) = {need} (infeasible bounds), got {budget}"
        )
    return n_low + _dp_extra(p, w, costs, budget - need, n_low, n_up)


def allocate_uniform(m, budget):
    """Homogeneous allocation: ``budget // m`` each, the first ``budget % m`` get one more.

    The GRPO baseline ``N_i = N_bar`` when ``budget = m N_bar`` (spec 1); the
    remainder rule is the authors' uniform spreading [code].

    Parameters
    ----------
    m : int
        Number of prompts, ``>= 1``.
    budget : int
        Total rollouts, ``>= 0``.

    Returns
    -------
    ndarray of int64
    """
    m = check_int("m", m, 1)
    budget = check_int("budget", budget, 0)
    N = np.full(m, budget // m, dtype=np.int64)
    N[: budget % m] += 1
    return N


# ---------------------------------------------------------------------------
# reference-compatible port (3.2)
# ---------------------------------------------------------------------------


def _spread(N, idx, amount):
    """Add ``amount`` over ``idx`` uniformly, the first ``amount % len`` get +1 (the code's rule)."""
    q, r = divmod(int(amount), idx.size)
    N[idx] += q
    N[idx[:r]] += 1


def _dp_reference(pr, min_n, K, W):
    """The authors' exact-fill DP over extra rollouts (``solve_by_dp``), quirks included.

    ``k = 0`` scores 0 (not ``Value(min_n, p)``); strict ``>`` keeps the earlier
    option and the smaller ``k``; the largest feasible ``w <= W`` is used and
    the leftover spread uniformly over the prompts (no cap).
    """
    E = pr.size
    extra = np.zeros(E, dtype=np.int64)
    if W <= 0:
        return extra
    dp = np.full(W + 1, -np.inf)
    dp[0] = 0.0
    choice = np.zeros((E, W + 1), dtype=np.int32)
    ks = np.arange(1, K + 1)
    for j in range(E):
        pj = pr[j]
        if pj == 0.0 or pj == 1.0:
            gains = np.zeros(K)
        else:
            n = ks + min_n
            gains = (1.0 - pj**n - (1.0 - pj) ** n) * pj * ((1.0 - pj) ** 2)
        new = dp.copy()  # k = 0: gain 0
        arg = choice[j]
        for k in range(1, min(K, W) + 1):
            cand = dp[: W + 1 - k] + gains[k - 1]
            better = cand > new[k:]
            new[k:][better] = cand[better]
            arg[k:][better] = k
        dp = new
    w_star = W
    while w_star > 0 and dp[w_star] == -np.inf:
        w_star -= 1
    if w_star > 0:
        w = w_star
        for j in range(E - 1, -1, -1):
            k = int(choice[j, w])
            extra[j] = k
            w -= k
    left = W - w_star
    if left > 0:
        _spread(extra, np.arange(E), left)
    return extra


def allocate_reference(p, valid=None, n=8, min_n=2, max_n=128, alpha=0.9, cost="probability",
                       allow_fallback=True, negative_n=None, positive_n=None, budget=None):
    """Port of the authors' ``sampling_budget_by_knapsack`` with its quirks (3.2) [code].

    Reproduces ``verl/trainer/ppo/exploration_utils.py`` (commits 05eeb92 /
    ca5d5f5): invalid prompts get ``n``; valid ones ``min_n`` (``negative_n`` at
    ``p = 0``, ``positive_n`` at ``p = 1``). With no informative prompt the
    rest ``R`` goes uniformly to the zero-rate prompts, else everyone gets
    ``n``. Otherwise ``C = sum floor(min(max_n, c(p_i)))`` over informative
    prompts; if ``C < R`` (and ``allow_fallback``) the surplus ``R - C`` goes
    uniformly to the zero-rate prompts (else to all non-informative prompts)
    and the DP gets ``C``. Quirks kept on purpose: the DP scores ``k = 0``
    extra as 0; invalid prompts count as zero-rate (their rate stays 0); no
    cap on the fallback or leftover; success rates are stored as float32 (the
    DP follows the code's Numba path: float64 arithmetic on float32 rates);
    and the final ``sum == budget`` assertion, which fails when every prompt is
    informative and the fallback fires (the code then divides by an empty
    candidate list and loses the surplus).

    Parameters
    ----------
    p : array_like
        1-D estimated success rates in ``[0, 1]`` (ignored where invalid).
    valid : array_like of bool or None
        Whether each prompt has a usable estimate; ``None`` = all valid.
    n : int, default 8
        Homogeneous budget per prompt, ``>= 1``.
    min_n, max_n : int, default 2, 128
        ``1 <= min_n <= max_n``.
    alpha : float, default 0.9
        In ``(0, 1)``.
    cost : {"probability", "expectation"}, default "probability"
    allow_fallback : bool, default True
    negative_n, positive_n : int or None
        Budgets of zero- and one-rate prompts, ``>= 0``; ``None`` = ``min_n``.
    budget : int or None
        Total budget; ``None`` = ``M * n``.

    Returns
    -------
    N : ndarray of int64
    info : dict
        ``fallback`` (bool) and ``fallback_effective_ratio`` (``C / R``, 1.0 when
        the fallback did not fire), as in the code; plus ``coverage_cost`` (C).

    Raises
    ------
    AssertionError
        Where the authors' code fails its budget assertion.
    """
    p = _batch_p(p)
    M = p.size
    valid = _valid_mask(valid, M)
    n = check_int("n", n, 1)
    min_n = check_int("min_n", min_n, 1)
    max_n = check_int("max_n", max_n, min_n)
    alpha = check_real("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    check_choice("cost", cost, COSTS)
    allow_fallback = check_bool("allow_fallback", allow_fallback)
    negative_n = min_n if negative_n is None else check_int("negative_n", negative_n, 0)
    positive_n = min_n if positive_n is None else check_int("positive_n", positive_n, 0)
    B = M * n if budget is None else check_int("budget", budget, 0)

    eff = valid & (p > 0.0) & (p < 1.0)
    zero = valid & (p == 0.0)
    one = valid & (p == 1.0)
    N = np.where(valid, 0, n).astype(np.int64)
    N[eff] = min_n
    N[zero] = negative_n
    N[one] = positive_n
    pr32 = np.where(valid, p, 0.0).astype(np.float32)  # quirk: invalid prompts stay at rate 0
    zero_rate = np.nonzero(pr32 == 0.0)[0]
    e_idx = np.nonzero(eff)[0]
    R = B - int(N.sum())
    fallback, ratio, C = False, 1.0, 0
    if R > 0 and e_idx.size == 0:
        if zero_rate.size:
            _spread(N, zero_rate, R)
        else:
            N[:] = n
    else:
        c = np.zeros(M, dtype=np.float32)
        c[e_idx] = _cost(p[e_idx], alpha, cost)  # costs are stored as float32 in the code
        C = int(np.trunc(np.minimum(np.float32(max_n), c[e_idx])).astype(np.int64).sum())
        if C < R and allow_fallback:
            fallback, ratio = True, C / R
            surplus = R - C
            cand = zero_rate if zero_rate.size else np.nonzero(~eff)[0]
            if cand.size:
                _spread(N, cand, surplus)
            R = C  # with no candidate the code loses the surplus here
        pr = pr32[e_idx].astype(np.float64)
        N[e_idx] += _dp_reference(pr, min_n, max_n - min_n, R)
    if int(N.sum()) != B:
        raise AssertionError(f"Budget mismatch: expected {B}, got {int(N.sum())}")
    return N, {"fallback": fallback, "fallback_effective_ratio": ratio, "coverage_cost": C}


# ---------------------------------------------------------------------------
# clean allocation with the explicit fallback (3.3, A1-A8)
# ---------------------------------------------------------------------------


def allocate(p, valid=None, params=None):
    """Allocate one batch's rollout budget: the clean default or the reference port.

    ``params.mode == "reference"`` calls :func:`allocate_reference`. Clean mode
    (spec 3.3 with the recommended choices of section 6, none of them the
    paper's):

    1. Invalid prompts get ``n`` and take no further part (A6, a bug fix of
       the code). Valid prompts start at ``n_low``; ``R`` is the rest of the
       budget (an error if negative).
    2. Trigger (A4): with ``fallback_trigger="coverage"`` and ``fallback !=
       "none"``, ``C = sum floor(min(n_up, c(p_i)))`` over informative prompts
       (D5); if ``C < R`` the surplus ``R - C`` is set aside for the fallback
       and the knapsack gets ``C`` (the code's rule).
    3. The knapsack over informative prompts is solved exactly (``solver``).
    4. Spending (A1, A3, A8): the surplus, plus (with ``strict_budget``) the
       leftover the knapsack cannot use, goes uniformly to the valid
       zero-rate prompts up to ``fallback_cap`` (default ``n_up``), then to
       the valid one-rate prompts (``"zero_first"``), or to both at once
       (``"uniform"``); the first prompts by index get the odd rollouts, as
       in the code. What the caps do not allow is reported as ``unspent``.

    Parameters
    ----------
    p : array_like
        1-D estimated success rates in ``[0, 1]``.
    valid : array_like of bool or None
        ``None`` = all valid.
    params : KnapsackParams or None
        ``None`` = ``KnapsackParams()``.

    Returns
    -------
    N : ndarray of int64
    info : dict
        ``fallback`` (bool), ``fallback_effective_ratio`` (``C / R`` when it
        fired, else 1.0), ``coverage_cost`` (C, 0 when not computed),
        ``unspent`` (int, rollouts not allocated), ``budget`` (int).
    """
    if params is None:
        params = KnapsackParams()
    if not isinstance(params, KnapsackParams):
        raise TypeError(f"params must be a KnapsackParams, got {type(params).__name__}")
    p = _batch_p(p)
    M = p.size
    valid = _valid_mask(valid, M)
    B = M * params.n if params.budget is None else params.budget
    if params.mode == "reference":
        if params.weight != "info_gain":
            raise ValueError(f"weight must be 'info_gain' in reference mode, got {params.weight!r}")
        N, info = allocate_reference(
            p, valid, n=params.n, min_n=params.n_low, max_n=params.n_up, alpha=params.alpha,
            cost=params.cost, allow_fallback=params.fallback != "none", budget=B)
        info.update(unspent=0, budget=B)
        return N, info

    n_low, n_up = params.n_low, params.n_up
    eff = valid & (p > 0.0) & (p < 1.0)
    N = np.where(valid, n_low, params.n).astype(np.int64)
    base = int(N.sum())
    if base > B:
        raise ValueError(
            f"budget must be at least n_low * valid + n * invalid = {base} (infeasible bounds), got {B}"
        )
    R = B - base
    e_idx = np.nonzero(eff)[0]
    fired, ratio, C, surplus, W = False, 1.0, 0, 0, R
    if params.fallback != "none" and params.fallback_trigger == "coverage" and R > 0:
        c = _cost(p[e_idx], params.alpha, params.cost)
        C = int(np.trunc(np.minimum(float(n_up), c)).astype(np.int64).sum())
        if C < R:
            fired, ratio, surplus, W = True, C / R, R - C, C
    w = _weight_values(p[e_idx], params.weight)
    extra = _solve_extra(p[e_idx], w, W, n_low, n_up, params.solver)
    N[e_idx] += extra
    leftover = W - int(extra.sum())
    spend = surplus + (leftover if params.strict_budget and params.fallback != "none" else 0)
    unspent = R - int(extra.sum()) - spend
    cap = n_up if params.fallback_cap is None else params.fallback_cap
    if spend > 0:
        zero = np.nonzero(valid & (p == 0.0))[0]
        one = np.nonzero(valid & (p == 1.0))[0]
        tiers = [zero, one] if params.fallback == "zero_first" else [np.union1d(zero, one)]
        for tier in tiers:
            if spend == 0 or tier.size == 0:
                continue
            give = min(spend, tier.size * (cap - n_low))
            if give > 0:
                _spread(N, tier, give)
            spend -= give
        unspent += spend
    return N, {"fallback": fired, "fallback_effective_ratio": ratio, "coverage_cost": C,
               "unspent": int(unspent), "budget": B}
