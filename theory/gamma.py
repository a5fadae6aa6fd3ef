"""Closed forms of Budget Guidance: the Gamma law over log-length and the guidance operator.

Li, Zhao, Zhang and Gan, "Steering LLM Thinking with Budget Guidance",
arXiv 2506.13752, and the authors' code
https://github.com/UMass-Embodied-AGI/BudgetGuidance. The model, its numbered
equations and its open choices are written down in ``docs/models/gamma.md``;
every docstring cites an equation there as ``docs/models/gamma.md (N)``.

Provenance is stated in every docstring:

* "the authors' code": the formula is the reference implementation's.
* "the paper": the paper's own framing.
* "derived here": a consequence of those facts, with its derivation in one
  line, checked numerically in ``tests/theory/test_gamma.py`` and, where
  sympy can, certified in :mod:`theory.symbolic.gamma`.
* Choices the paper leaves open are parameters with a documented default
  (docs/models/gamma.md, "Open choices") and are never described as the
  paper's choice.

Every public function also takes a parameter object in place of the numbers
it shares with it (:func:`theory._params.accepts_params`): a
:class:`GammaParams` (``truncated_geometric_mean(GammaParams(toy="geometric"))``)
or a :class:`GammaFit` (``length_median(fit_gamma(lengths))``).

Conventions
-----------
* ``Y = log(L + offset)`` follows a Gamma law with shape ``alpha`` and
  **rate** ``rate`` (``torch.distributions.Gamma(concentration, rate)``;
  ``scipy.stats.gamma(a=alpha, scale=1/rate)``). ``offset`` defaults to 1
  (the authors' code; open choice "offset").
* ``L`` is the remaining thinking length, counting the candidate token and
  ``</think>``, so ``L >= 1`` (docs/models/gamma.md, "The remaining length").
* All functions broadcast over their array arguments; the guidance operator
  puts the vocabulary on the **last** axis and broadcasts ``budget`` against
  the leading axes.
* Functions return a ``float`` for 0-d results and an ``ndarray`` otherwise.
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from theory._stats import wilson_interval

from ._params import (
    accepts_params,
    check_broadcast,
    check_choice,
    check_int,
    check_int_array,
    check_real,
    check_real_array,
)

__all__ = [
    # the heads' link (8)
    "softplus",
    "softplus_inv",
    # the Gamma law over y (1)-(2)
    "logpdf",
    "pdf",
    "logcdf",
    "logsf",
    "cdf",
    "sf",
    "ppf",
    # the law of L (3)-(7)
    "length_cdf",
    "length_logcdf",
    "length_quantile",
    "length_median",
    "length_mode",
    "length_mean",
    "length_moment",
    "length_pmf",
    "length_logpmf",
    "budget_prob",
    "budget_logprob",
    # losses (9)-(10), (4)
    "nll",
    "nll_grad",
    "discrete_nll",
    # guidance (11)-(14)
    "MODES",
    "SPACES",
    "validity_mask",
    "guidance_weights",
    "guide",
    "remaining_budget",
    # fitting (22)-(24)
    "LIKELIHOODS",
    "FIT_METHODS",
    "GammaFit",
    "fit_gamma",
    "fisher_information",
    "profile_intervals",
    # calibration (25)-(26)
    "randomized_pit",
    "PitUniformity",
    "pit_uniformity",
    "interval_coverage",
    "EventReliability",
    "event_reliability",
    # the geometric toy (19)-(21)
    "geometric_guided_stop_prob",
    "truncated_geometric_pmf",
    "truncated_geometric_mean",
    # parameters of the toy experiments
    "TOYS",
    "TOY_TOKENS",
    "RATE_MIN",
    "ALPHA_MIN",
    "MODE_MIN",
    "GammaParams",
]

#: Guidance modes (docs/models/gamma.md, open choices "mask" and "fallback"):
#: ``"faithful"`` applies the authors' validity mask and raw-argmax fallback
#: (12); ``"bayes"`` is plain Bayes-rule reweighting (11).
MODES = ("faithful", "bayes")
#: Arithmetic of the guidance operator: the authors' linear space or log space (14).
SPACES = ("linear", "log")
#: Thresholds of the authors' validity mask, docs/models/gamma.md (12).
RATE_MIN = 10.0
ALPHA_MIN = 1.0
MODE_MIN = 0.9

_POS = {"lo": 0.0, "lo_open": True, "hi": math.inf, "hi_open": True}  # (0, inf)
_NONNEG = {"lo": 0.0, "hi": math.inf, "hi_open": True}  # [0, inf)
_TINY = 1e-300  # below this a regularised incomplete gamma is recomputed in log space
_MAXITER = 10000


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _params(alpha, rate):
    alpha = check_real_array("alpha", alpha, **_POS)
    rate = check_real_array("rate", rate, **_POS)
    check_broadcast("rate", rate.shape, "alpha", alpha.shape)
    return alpha, rate


def _y(y):
    return check_real_array("y", y, **_NONNEG)


def _offset(offset):
    return check_real("offset", offset, **_POS)


# ---------------------------------------------------------------------------
# the heads' link, docs/models/gamma.md (8)
# ---------------------------------------------------------------------------


@accepts_params
def softplus(u):
    """Softplus link ``log(1 + exp(u))`` of both heads.

    docs/models/gamma.md (8); the authors' code.

    Computed as ``logaddexp(0, u)``, so it is finite and positive for every
    finite ``u`` (until ``exp(u)`` underflows, around ``u < -745``).
    """
    u = check_real_array("u", u)
    return _out(np.logaddexp(0.0, u))


@accepts_params
def softplus_inv(x):
    """Inverse of :func:`softplus`, ``log(expm1(x))`` for ``x > 0``.

    Derived here (solve (8) for the pre-activation); computed as ``x + log(-expm1(-x))``
    so that it does not overflow for large ``x``.
    """
    x = check_real_array("x", x, **_POS)
    return _out(x + np.log(-np.expm1(-x)))


# ---------------------------------------------------------------------------
# log-space regularised incomplete gamma (unchecked internals)
# ---------------------------------------------------------------------------


def _log_p_series(a, x):
    """``log P(a, x)`` from the series ``x^a e^-x / Gamma(a+1) sum_n x^n / (a+1)_n``.

    Used only where ``P`` underflows, which implies ``x < a`` (as
    ``P(a, a) ~ 1/2``), so the terms fall geometrically.
    """
    term = np.ones_like(x)
    total = np.ones_like(x)
    n = 0
    while n < _MAXITER:
        n += 1
        term = term * x / (a + n)
        total = total + term
        if np.all(term <= 1e-17 * total):
            break
    with np.errstate(divide="ignore"):
        return a * np.log(x) - x - special.gammaln(a + 1.0) + np.log(total)


def _log_q_cf(a, x):
    """``log Q(a, x)`` from Legendre's continued fraction (modified Lentz).

    Used only where ``Q`` underflows, which implies ``x > a``, where the
    fraction converges.
    """
    fpmin = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / fpmin)
    d = 1.0 / np.where(np.abs(b) < fpmin, fpmin, b)
    h = d.copy()
    for i in range(1, _MAXITER):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < fpmin, fpmin, d)
        c = b + an / c
        c = np.where(np.abs(c) < fpmin, fpmin, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-16):
            break
    return a * np.log(x) - x - special.gammaln(a) + np.log(h)


def _log_regularized(a, x, value, complement, tail, in_tail):
    """``log value(a, x)``, tail-safe, for ``value`` = P or Q and ``complement`` = 1 - value.

    Above 1/2 the log comes from ``log1p(-complement)``; where ``value`` underflows
    (``in_tail(x)``) from ``tail`` (a log-space series or continued fraction).
    """
    a, x = np.broadcast_arrays(np.asarray(a, float), np.asarray(x, float))
    v = value(a, x)
    with np.errstate(divide="ignore"):
        out = np.asarray(np.log(v), dtype=float)
    hi = v > 0.5
    if np.any(hi):
        out[hi] = np.log1p(-complement(a[hi], x[hi]))
    small = (v < _TINY) & in_tail(x)
    if np.any(small):
        out[small] = tail(a[small], x[small])
    return out


def _log_gammainc(a, x):
    """``log P(a, x)``, tail-safe; ``x >= 0`` broadcast against ``a``."""
    return _log_regularized(a, x, special.gammainc, special.gammaincc, _log_p_series,
                            lambda x: x > 0)


def _log_gammaincc(a, x):
    """``log Q(a, x)``, tail-safe; ``x >= 0`` broadcast against ``a``."""
    return _log_regularized(a, x, special.gammaincc, special.gammainc, _log_q_cf, np.isfinite)


# ---------------------------------------------------------------------------
# the Gamma law of y = log(L + offset), docs/models/gamma.md (1)-(2)
# ---------------------------------------------------------------------------


@accepts_params
def logpdf(y, alpha, rate):
    """Log-density ``alpha log rate - lgamma(alpha) + (alpha-1) log y - rate y``.

    docs/models/gamma.md (1), (9); the authors' code.

    Parameters
    ----------
    y : array_like
        Log-length ``log(L + offset)``, ``>= 0``.
    alpha, rate : array_like
        Shape and rate, ``> 0``; broadcast against ``y``.

    Returns
    -------
    float or ndarray
        ``-inf`` at ``y = 0`` for ``alpha > 1``, ``+inf`` for ``alpha < 1``.
    """
    y = _y(y)
    alpha, rate = _params(alpha, rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylog = special.xlogy(alpha - 1.0, y)
    return _out(alpha * np.log(rate) - special.gammaln(alpha) + ylog - rate * y)


@accepts_params
def pdf(y, alpha, rate):
    """Density ``rate^alpha y^(alpha-1) exp(-rate y) / Gamma(alpha)`` (docs/models/gamma.md (1))."""
    return _out(np.exp(logpdf(y, alpha, rate)))


@accepts_params
def cdf(y, alpha, rate):
    """CDF ``F(y) = P(alpha, rate y)`` (docs/models/gamma.md (2); the authors' code).

    Parameters
    ----------
    y : array_like
        ``>= 0``.
    alpha, rate : array_like
        Shape and rate, ``> 0``.
    """
    y = _y(y)
    alpha, rate = _params(alpha, rate)
    return _out(special.gammainc(alpha, rate * y))


@accepts_params
def sf(y, alpha, rate):
    """Survival ``1 - F(y) = Q(alpha, rate y)``, the complement of docs/models/gamma.md (2)."""
    y = _y(y)
    alpha, rate = _params(alpha, rate)
    return _out(special.gammaincc(alpha, rate * y))


@accepts_params
def logcdf(y, alpha, rate):
    """``log F(y)``, accurate where ``F`` underflows in float64 (docs/models/gamma.md (14)).

    ``log gammainc`` where it is representable (``log1p(-gammaincc)`` above
    1/2), and otherwise the power series of ``P`` summed in log space. The
    series, whose first term is docs/models/gamma.md (14), is derived here.
    """
    y = _y(y)
    alpha, rate = _params(alpha, rate)
    return _out(_log_gammainc(alpha, rate * y))


@accepts_params
def logsf(y, alpha, rate):
    """``log(1 - F(y))``, accurate where the survival underflows (complement of (2)).

    Uses Legendre's continued fraction for ``Q`` in its underflow region.
    """
    y = check_real_array("y", y, lo=0.0)
    alpha, rate = _params(alpha, rate)
    return _out(_log_gammaincc(alpha, rate * y))


@accepts_params
def ppf(q, alpha, rate):
    """Quantile ``F^-1(q) = P^-1(alpha, q) / rate``.

    ``gammaincinv``; inverse of docs/models/gamma.md (2).
    """
    q = check_real_array("q", q, 0.0, 1.0)
    alpha, rate = _params(alpha, rate)
    return _out(special.gammaincinv(alpha, q) / rate)


# ---------------------------------------------------------------------------
# the law of L = exp(Y) - offset, docs/models/gamma.md (3)-(7)
# ---------------------------------------------------------------------------


@accepts_params
def length_cdf(ell, alpha, rate, offset=1.0):
    """``Pr(L <= ell) = P(alpha, rate log(ell + offset))``.

    docs/models/gamma.md (3); the authors' code.

    Parameters
    ----------
    ell : array_like
        Length, ``>= 1 - offset`` so that the log-length is ``>= 0``.
    alpha, rate : array_like
        Shape and rate, ``> 0``.
    offset : float
        ``Y = log(L + offset)``; 1 in the authors' code (open choice "offset").
    """
    offset = _offset(offset)
    ell = check_real_array("ell", ell, lo=1.0 - offset)
    return cdf(np.log(ell + offset), alpha, rate)


@accepts_params
def length_logcdf(ell, alpha, rate, offset=1.0):
    """``log Pr(L <= ell)``, tail-safe (see :func:`logcdf`; docs/models/gamma.md (3), (14))."""
    offset = _offset(offset)
    ell = check_real_array("ell", ell, lo=1.0 - offset)
    return logcdf(np.log(ell + offset), alpha, rate)


@accepts_params
def budget_prob(budget, alpha, rate, offset=1.0):
    """Guidance event probability ``Pr(L <= b) = F(log(b + offset))``.

    docs/models/gamma.md (3); the authors' code.

    Under the discretisation ``L = ceil(exp(Y) - offset)`` it is the exact
    probability of the event for integer ``b`` (docs/models/gamma.md (4)).
    ``budget`` must be ``>= 1`` (the remaining budget is floored at 1, (13)).
    """
    budget = check_real_array("budget", budget, lo=1.0)
    return length_cdf(budget, alpha, rate, offset)


@accepts_params
def budget_logprob(budget, alpha, rate, offset=1.0):
    """``log Pr(L <= b)``, the log-space guidance weight (docs/models/gamma.md (3), (14))."""
    budget = check_real_array("budget", budget, lo=1.0)
    return length_logcdf(budget, alpha, rate, offset)


@accepts_params
def length_quantile(q, alpha, rate, offset=1.0):
    """Quantile of ``L``: ``exp(P^-1(alpha, q) / rate) - offset``.

    docs/models/gamma.md (5); derived here.

    Computed with ``expm1`` when ``offset = 1`` to keep small quantiles exact.
    """
    offset = _offset(offset)
    y = np.asarray(ppf(q, alpha, rate))
    with np.errstate(over="ignore"):
        out = np.expm1(y) + (1.0 - offset)
    return _out(out)


@accepts_params
def length_median(alpha, rate, offset=1.0):
    """Median of ``L``, ``exp(P^-1(alpha, 1/2) / rate) - offset``: the primary point estimate.

    docs/models/gamma.md (5); open choice "point estimate".
    """
    return length_quantile(0.5, alpha, rate, offset)


@accepts_params
def length_mode(alpha, rate, offset=1.0):
    """The authors' "expected length" ``exp((alpha - 1) / rate) - offset``.

    docs/models/gamma.md (7).

    This is the decoded **mode** of ``Y``, not the mean of ``L``
    (docs/models/gamma.md, "Known disagreements"). It
    is the mode only for ``alpha >= 1``; for ``alpha < 1`` the formula is
    returned unchanged (as the code computes it), and is then below
    ``1 - offset``.
    """
    offset = _offset(offset)
    alpha, rate = _params(alpha, rate)
    with np.errstate(over="ignore"):
        return _out(np.expm1((alpha - 1.0) / rate) + (1.0 - offset))


@accepts_params
def length_moment(k, alpha, rate):
    """``E[(L + offset)^k] = (rate / (rate - k))^alpha`` for ``rate > k``, else ``inf``.

    docs/models/gamma.md (6).

    From the Gamma moment generating function ``E[exp(k Y)]``.

    Parameters
    ----------
    k : array_like
        Order, ``>= 0``.
    """
    k = check_real_array("k", k, **_NONNEG)
    alpha, rate = _params(alpha, rate)
    finite = rate > k
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.exp(-alpha * np.log1p(-k / np.where(finite, rate, 2.0 * k + 1.0)))
    return _out(np.where(finite, val, np.inf))


@accepts_params
def length_mean(alpha, rate, offset=1.0):
    """``E[L] = (rate / (rate - 1))^alpha - offset`` for ``rate > 1``, else ``inf`` ((6))."""
    offset = _offset(offset)
    alpha, rate = _params(alpha, rate)
    finite = rate > 1.0
    safe = np.where(finite, rate, 2.0)
    with np.errstate(over="ignore"):
        val = np.expm1(-alpha * np.log1p(-1.0 / safe)) + (1.0 - offset)
    return _out(np.where(finite, val, np.inf))


def _log_diff_cdf(ylo, yhi, alpha, rate):
    """``log(F(yhi) - F(ylo))`` for ``0 <= ylo < yhi``, from whichever tail is smaller."""
    alpha, rate, ylo, yhi = np.broadcast_arrays(alpha, rate, ylo, yhi)
    lo_c = _log_gammainc(alpha, rate * ylo)
    hi_c = _log_gammainc(alpha, rate * yhi)
    lo_s = _log_gammaincc(alpha, rate * ylo)
    hi_s = _log_gammaincc(alpha, rate * yhi)
    with np.errstate(divide="ignore", invalid="ignore"):
        via_cdf = hi_c + np.log1p(-np.exp(lo_c - hi_c))
        via_sf = lo_s + np.log1p(-np.exp(hi_s - lo_s))
    use_sf = hi_c > math.log(0.5)
    out = np.where(use_sf, via_sf, via_cdf)
    return np.where(np.isnan(out), -np.inf, out)


def _integer_length(ell, offset):
    ell = check_int_array("ell", ell, lo=1)
    if offset <= 1.0 and np.any(ell - 1 + offset <= 0):
        raise ValueError(f"offset must be > 0 with ell - 1 + offset > 0, got offset {offset:g}")
    return ell


@accepts_params
def length_logpmf(ell, alpha, rate, offset=1.0):
    """``log Pr(L = ell) = log[F(log(ell + offset)) - F(log(ell - 1 + offset))]``.

    docs/models/gamma.md (4).

    The consistent discrete model ``L = ceil(exp(Y) - offset)`` on
    ``{1, 2, ...}``; the mass of ``L <= 1`` includes all of ``Y <= log(1 +
    offset)`` (for ``offset = 1``, ``Pr(L = 1) = F(log 2)``). The difference is
    taken in whichever tail is smaller, in log space.

    Parameters
    ----------
    ell : array_like of int
        Length, ``>= 1``.
    """
    offset = _offset(offset)
    ell = _integer_length(ell, offset)
    alpha, rate = _params(alpha, rate)
    yhi = np.log(ell + offset)
    ylo = np.where(ell == 1, 0.0, np.log(np.maximum(ell - 1 + offset, 1e-300)))
    return _out(_log_diff_cdf(ylo, yhi, alpha, rate))


@accepts_params
def length_pmf(ell, alpha, rate, offset=1.0):
    """``Pr(L = ell)`` of the discrete model.

    see :func:`length_logpmf`; docs/models/gamma.md (4).
    """
    return _out(np.exp(length_logpmf(ell, alpha, rate, offset)))


# ---------------------------------------------------------------------------
# losses, docs/models/gamma.md (9)-(10)
# ---------------------------------------------------------------------------


@accepts_params
def nll(y, alpha, rate):
    """Per-position training loss ``-log f(y)`` (docs/models/gamma.md (9); the authors' code).

    No Jacobian term is added.
    """
    return _out(-np.asarray(logpdf(y, alpha, rate)))


@accepts_params
def nll_grad(y, alpha, rate):
    """Gradients of :func:`nll`: ``(psi(alpha) - log rate - log y, y - alpha / rate)``.

    docs/models/gamma.md (10).

    Returns
    -------
    (float or ndarray, float or ndarray)
        ``d nll / d alpha`` and ``d nll / d rate``, broadcast to a common shape.
    """
    y = check_real_array("y", y, **_POS)
    alpha, rate = _params(alpha, rate)
    d_alpha = special.digamma(alpha) - np.log(rate) - np.log(y)
    d_rate = y - alpha / rate
    d_alpha, d_rate = np.broadcast_arrays(d_alpha, d_rate)
    return _out(d_alpha), _out(d_rate)


@accepts_params
def discrete_nll(ell, alpha, rate, offset=1.0):
    """Discrete evaluation loss ``-log Pr(L = ell)``.

    docs/models/gamma.md (4); open choice "likelihood".
    """
    return _out(-np.asarray(length_logpmf(ell, alpha, rate, offset)))


# ---------------------------------------------------------------------------
# guidance, docs/models/gamma.md (11)-(14)
# ---------------------------------------------------------------------------


@accepts_params
def validity_mask(alpha, rate, rate_min=RATE_MIN, alpha_min=ALPHA_MIN, mode_min=MODE_MIN):
    """The authors' validity mask ``[rate >= 10] [alpha > 1] [exp((alpha-1)/rate) - 1 >= 0.9]``.

    docs/models/gamma.md (12); the thresholds are configurable (open choice
    "mask"). The mode test uses offset 1, as the authors' code does.

    Returns
    -------
    ndarray of bool
    """
    alpha, rate = _params(alpha, rate)
    rate_min = check_real("rate_min", rate_min)
    alpha_min = check_real("alpha_min", alpha_min)
    mode_min = check_real("mode_min", mode_min)
    with np.errstate(over="ignore"):
        mode = np.expm1((alpha - 1.0) / rate)
    return (rate >= rate_min) & (alpha > alpha_min) & (mode >= mode_min)


@accepts_params
def guidance_weights(alpha, rate, budget, offset=1.0, log=False):
    """CDF weights ``a_v = F(log(b + offset); alpha_v, rate_v)`` over a vocabulary.

    docs/models/gamma.md (3).

    Parameters
    ----------
    alpha, rate : array_like
        Per-candidate Gamma parameters, vocabulary on the last axis.
    budget : array_like
        Remaining budget, ``>= 1``, broadcast against the leading axes.
    offset : float
        See :func:`length_cdf`.
    log : bool
        Return ``log a`` (tail-safe) instead of ``a``.
    """
    alpha, rate = _params(alpha, rate)
    budget = check_real_array("budget", budget, lo=1.0)
    b = budget[..., None]
    return (budget_logprob if log else budget_prob)(b, alpha, rate, offset)


def _log_softmax(z):
    return z - special.logsumexp(z, axis=-1, keepdims=True)


@accepts_params
def guide(logits, alpha, rate, budget, *, mode="faithful", space=None, strength=1.0,
          offset=1.0, rate_min=RATE_MIN, alpha_min=ALPHA_MIN, mode_min=MODE_MIN,
          return_fallback=False):
    """Guided next-token distribution ``q ∝ softmax(logits) * a^strength``.

    docs/models/gamma.md (11)-(12).

    ``a_v = Pr(L <= b | v)`` is the Gamma CDF at ``log(b + offset)``
    (:func:`guidance_weights`); the product is renormalised over the last
    (vocabulary) axis: Bayes' rule, classifier guidance (the paper).

    ``mode="faithful"`` (the authors' code, (12)): ``a`` is multiplied by the
    :func:`validity_mask`; if every masked weight of a row is 0, the row's
    weights become one-hot at the raw-logit argmax. ``mode="bayes"`` ((11);
    open choices "mask" and "fallback"): no mask; a row whose renormaliser is
    0 falls back to the unguided ``softmax(logits)``. In either mode a row
    whose product ``p * a`` sums to 0 although some weight is positive (``p``
    underflow) uses that mode's fallback too (a choice made here, so that
    ``q`` is never NaN).

    Parameters
    ----------
    logits : array_like
        Raw next-token logits, vocabulary on the last axis (finite or
        ``-inf``; each row needs one finite entry). Temperature and top-p are
        **not** applied, as in the authors' code; pass processed logits to
        apply them first (open choice "logits processors").
    alpha, rate : array_like
        Per-candidate shape and rate, ``> 0``; broadcast against ``logits``.
    budget : array_like
        Remaining budget ``b_t >= 1`` per row (leading axes).
    mode : {"faithful", "bayes"}
    space : {"linear", "log"} or None
        Arithmetic; ``None`` means ``"linear"`` for faithful (the authors'
        code) and ``"log"`` for bayes ((14)). They agree when nothing
        underflows.
    strength : float
        Exponent ``gamma >= 0`` on ``a`` ((11); open choice "strength"); 1 is faithful. ``0`` with
        ``mode="bayes"`` gives ``q = p``.
    offset, rate_min, alpha_min, mode_min : float
        See :func:`length_cdf` and :func:`validity_mask`.
    return_fallback : bool
        Also return a bool array (leading shape) marking rows that fell back.

    Returns
    -------
    ndarray, or (ndarray, ndarray or bool)
    """
    mode = check_choice("mode", mode, MODES)
    if space is None:
        space = "linear" if mode == "faithful" else "log"
    space = check_choice("space", space, SPACES)
    strength = check_real("strength", strength, **_NONNEG)
    z = check_real_array("logits", logits, hi=math.inf, hi_open=True)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty vocabulary axis, got shape {z.shape}")
    if np.any(np.all(np.isneginf(z), axis=-1)):
        raise ValueError("logits must have a finite entry in every row, got a row of -inf")
    alpha, rate = _params(alpha, rate)
    check_broadcast("alpha", alpha.shape, "logits", z.shape)
    check_broadcast("rate", rate.shape, "logits", z.shape)
    budget = check_real_array("budget", budget, lo=1.0)
    check_broadcast("budget", budget.shape + (1,), "logits", z.shape)
    shape = np.broadcast_shapes(z.shape, alpha.shape, rate.shape, budget.shape + (1,))
    z = np.broadcast_to(z, shape)

    logp = _log_softmax(z)
    if space == "log":
        loga = np.broadcast_to(guidance_weights(alpha, rate, budget, offset, log=True), shape)
    if mode == "faithful":
        keep = np.broadcast_to(validity_mask(alpha, rate, rate_min, alpha_min, mode_min), shape)
    else:
        keep = np.ones(shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        if space == "linear":
            p = np.exp(logp)
            a = np.broadcast_to(guidance_weights(alpha, rate, budget, offset), shape)
            a = np.clip(a, 0.0, 1.0) ** strength * keep
            asum = a.sum(axis=-1, keepdims=True)
            a = a / np.where(asum > 0, asum, 1.0)
            num = p * a
            tot = num.sum(axis=-1, keepdims=True)
            fell = (tot <= 0)[..., 0]
            q = num / np.where(tot > 0, tot, 1.0)
        else:
            logw = np.where(keep, strength * loga, -np.inf)
            if strength == 0.0:
                logw = np.where(keep, 0.0, -np.inf)
            lognum = logp + logw
            tot = special.logsumexp(lognum, axis=-1, keepdims=True)
            fell = np.isneginf(tot)[..., 0]
            q = np.exp(lognum - np.where(np.isneginf(tot), 0.0, tot))
    if np.any(fell):
        if mode == "faithful":
            onehot = np.zeros(shape)
            np.put_along_axis(onehot, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
            fallback = onehot
        else:
            fallback = np.exp(logp)
        q = np.where(fell[..., None], fallback, q)
    if return_fallback:
        return q, (fell if np.ndim(fell) else bool(fell))
    return q


@accepts_params
def remaining_budget(lbar, t):
    """Remaining budget ``b_t = max(lbar - t, 1)`` (docs/models/gamma.md (13); the authors' code).

    Parameters
    ----------
    lbar : array_like of int
        Thinking budget, ``>= 1``.
    t : array_like of int
        Thinking tokens generated so far, ``>= 0`` (0-based).

    Returns
    -------
    int or ndarray of int
    """
    lbar = check_int_array("lbar", lbar, lo=1)
    t = check_int_array("t", t, lo=0)
    out = np.maximum(lbar - t, 1)
    return int(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------
# fitting one Gamma law to observed remaining lengths, docs/models/gamma.md (22)-(24)
# ---------------------------------------------------------------------------

#: Likelihoods of the log-length model (open choice "likelihood"): the
#: authors' density of ``log(L + offset)`` (9) and the discrete masses (4).
LIKELIHOODS = ("continuous", "discrete")
#: Estimators of :func:`fit_gamma`.
FIT_METHODS = ("mle", "moments")


@dataclass(frozen=True)
class GammaFit:
    """One Gamma law over ``log(L + offset)`` fitted by :func:`fit_gamma`.

    Attributes
    ----------
    alpha, rate : float
        Shape and rate.
    nll : float
        Mean negative log-likelihood per observation under ``likelihood``
        (the continuous one has no Jacobian term, (9)).
    n : int
        Number of observations.
    likelihood : str
        ``"continuous"`` or ``"discrete"`` (open choice "likelihood").
    converged : bool
        Whether the optimiser met its tolerance (always ``True`` for moments).
    """

    alpha: float
    rate: float
    nll: float
    n: int
    likelihood: str
    converged: bool


def _lengths(lengths):
    """Lengths as a flat int64 array; one-line ValueError unless non-empty integers >= 1."""
    raw = np.asarray(lengths)
    if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        raise ValueError(f"lengths must be integers >= 1, got dtype {raw.dtype}")
    flat = raw.ravel()
    if flat.size == 0:
        raise ValueError("lengths must be a non-empty array of integers >= 1, got size 0")
    if raw.dtype.kind == "f":
        bad = ~np.isfinite(flat) | (flat != np.floor(flat)) | (flat < 1)
    else:
        bad = flat < 1
    if bad.any():
        raise ValueError(f"lengths must be integers >= 1, got {flat[bad][0]:g}")
    return flat.astype(np.int64)


def _log_lengths(ell, offset):
    return np.log(ell + offset)


def _profile_shape(s, tol=1e-12, maxiter=200):
    """Solve ``log(a) - digamma(a) = s`` (``s > 0``) by Newton in ``log a`` with a bracket.

    ``g(a) = log a - psi(a)`` decreases from ``+inf`` to 0, so the root is
    unique. Starts from Minka's approximation; a Newton step that leaves the
    current bracket is replaced by bisection (in ``log a``).

    Returns
    -------
    (float, bool)
        The root and whether ``|step| < tol`` was reached.
    """
    def g(x):
        a = math.exp(x)
        return math.log(a) - float(special.digamma(a)) - s

    a0 = (3.0 - s + math.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    x = math.log(a0)
    lo, hi = x - 1.0, x + 1.0
    while g(lo) < 0:
        lo -= 2.0 * (x - lo)
    while g(hi) > 0:
        hi += 2.0 * (hi - x)
    for _ in range(maxiter):
        a = math.exp(x)
        gx = g(x)
        if gx > 0:
            lo = x
        else:
            hi = x
        slope = 1.0 - a * float(special.polygamma(1, a))  # d g / d log a, < 0
        step = -gx / slope if slope < 0 else math.nan
        new = x + step
        if not (lo < new < hi) or not math.isfinite(new):
            new = 0.5 * (lo + hi)
        if abs(new - x) < tol * max(1.0, abs(x)):
            return math.exp(new), True
        x = new
    return math.exp(x), False


def _discrete_mean_nll(ell, counts, alpha, rate, offset):
    """Mean discrete NLL of unique lengths ``ell`` with multiplicities ``counts``."""
    return -float(np.dot(counts, _fit_logmass(ell, alpha, rate, offset))) / float(counts.sum())


_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)


def _fit_logmass(ell, alpha, rate, offset):
    """``log Pr(L = ell)`` for fitting: smooth in the parameters at every length.

    Where the bin ``[log(ell - 1 + offset), log(ell + offset)]`` is narrow on
    the density's scale (``width * max(rate, |alpha - 1| / y_lo) < 0.05``)
    the CDF difference cancels (its rounding noise would swamp a
    finite-difference gradient), so the mass is the 6-point Gauss-Legendre
    integral of the density, relative error far below 1e-12 there. Elsewhere
    it is the difference of the smaller tail, in log space where that is
    under 1e-10 (as :func:`length_logpmf`).
    """
    yhi = np.log(ell + offset)
    ylo = np.where(ell == 1, 0.0, np.log(np.maximum(ell - 1 + offset, 1e-300)))
    width = np.where(ell == 1, yhi, np.log1p(1.0 / np.maximum(ell - 1 + offset, 1e-300)))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.maximum(rate, np.abs(alpha - 1.0) / ylo)
    narrow = (ylo > 0) & (width * scale < 0.05)
    out = np.empty(ell.shape)
    if np.any(narrow):
        lo, w = ylo[narrow, None], width[narrow, None]
        nodes = lo + 0.5 * w * (_GL_X + 1.0)
        logf = (alpha * math.log(rate) - special.gammaln(alpha) + (alpha - 1.0) * np.log(nodes)
                - rate * nodes)
        out[narrow] = special.logsumexp(logf, b=0.5 * w * _GL_W, axis=1)
    wide = ~narrow
    if np.any(wide):
        lo_w, hi_w = ylo[wide], yhi[wide]
        p_hi, p_lo = special.gammainc(alpha, rate * hi_w), special.gammainc(alpha, rate * lo_w)
        q_hi, q_lo = special.gammaincc(alpha, rate * hi_w), special.gammaincc(alpha, rate * lo_w)
        mass = np.where(p_hi < 0.5, p_hi - p_lo, q_lo - q_hi)  # the smaller tail
        with np.errstate(divide="ignore"):
            logp = np.log(mass)
        poor = mass < 1e-10  # cancellation or underflow: recompute in log space
        if np.any(poor):
            logp[poor] = _log_diff_cdf(lo_w[poor], hi_w[poor], alpha, rate)
        out[wide] = logp
    return out


@accepts_params
def fit_gamma(lengths, *, weights=None, offset=1.0, likelihood="continuous", method="mle"):
    """Fit one Gamma law to ``y = log(L + offset)`` of observed remaining lengths.

    docs/models/gamma.md (22)-(23).

    The unconditional baseline of the real-model check and the fitted toy
    predictor (docs/models/gamma.md, "The fitted Gamma predictor").

    * ``method="mle"``, ``likelihood="continuous"``: maximises the code's
      density likelihood (9) by the profile likelihood (22). The rate
      stationarity gives ``rate = alpha / mean(y)``; substituting, the shape
      solves ``log(alpha) - digamma(alpha) = log(mean y) - mean(log y)``
      (derived here; certified in :mod:`theory.symbolic.gamma`),
      solved by Newton in ``log alpha`` with a bisection bracket. It equals
      ``scipy.stats.gamma.fit(y, floc=0)``.
    * ``method="mle"``, ``likelihood="discrete"``: maximises the discrete
      likelihood ``prod Pr(L = ell)`` of the discrete model (4) with
      ``scipy.optimize.minimize`` (BFGS) over ``(log alpha, log(alpha/rate))``
      (orthogonal parameters), from the continuous fit. The gradient is by
      central differences: the derivative of the regularised incomplete gamma
      in its shape has no scipy closed form. Repeated lengths are grouped;
      bins that are narrow on the density's scale are integrated by
      Gauss-Legendre quadrature so that the objective is smooth.
    * ``method="moments"``: matches the mean ``m`` and variance ``v`` of
      ``y``: ``alpha = m^2 / v``, ``rate = m / v`` ((23)). ``likelihood``
      then only selects which mean NLL is reported.

    Parameters
    ----------
    lengths : array_like of int
        Remaining lengths ``L >= 1``, any shape (flattened), non-empty,
        with at least two distinct values.
    weights : array_like or None
        Non-negative weight of each length (same size), e.g. the probabilities
        of a known length law: the fit then maximises the weighted mean
        log-likelihood (the population fit when the weights are the law's
        pmf). ``None`` weighs every length equally. ``n`` reports the number
        of lengths with positive weight.
    offset : float
        ``Y = log(L + offset)``, ``> 0`` (1 in the authors' code).
    likelihood : {"continuous", "discrete"}
    method : {"mle", "moments"}

    Returns
    -------
    GammaFit
    """
    offset = _offset(offset)
    likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
    method = check_choice("method", method, FIT_METHODS)
    ell = _lengths(lengths)
    if weights is None:
        w = np.full(ell.size, 1.0 / ell.size)
    else:
        w = check_real_array("weights", weights, lo=0.0).ravel()
        if w.size != ell.size:
            raise ValueError(f"weights must have one entry per length ({ell.size}), got {w.size}")
        if not w.sum() > 0:
            raise ValueError("weights must have a positive sum, got 0")
        keep = w > 0
        ell, w = ell[keep], w[keep] / w[keep].sum()
    if np.all(ell == ell[0]):
        raise ValueError(f"lengths must take at least two distinct values, got all {ell[0]}")
    y = _log_lengths(ell, offset)
    n = int(ell.size)
    mean_y = float(np.dot(w, y))
    converged = True
    if method == "moments":
        var_y = float(np.dot(w, (y - mean_y) ** 2))
        alpha, rate = mean_y**2 / var_y, mean_y / var_y
    else:
        s = math.log(mean_y) - float(np.dot(w, np.log(y)))
        if not s > 0:  # rounding for nearly equal lengths
            raise ValueError(f"lengths are too concentrated for the MLE, got log-mean gap {s:g}")
        alpha, converged = _profile_shape(s)
        rate = alpha / mean_y
    if likelihood == "discrete":
        uniq, inv = np.unique(ell, return_inverse=True)
        counts = np.bincount(inv.ravel(), weights=w)
        if method == "mle":
            # (log alpha, log mean) are orthogonal for the Gamma law (its
            # Fisher information is diagonal in (alpha, alpha/rate)), which
            # keeps the quasi-Newton problem well conditioned.
            def objective(theta):
                return _discrete_mean_nll(uniq, counts, math.exp(theta[0]),
                                          math.exp(theta[0] - theta[1]), offset)

            def gradient(theta, h=1e-6):
                out = np.empty(2)
                for i in range(2):
                    e = np.zeros(2)
                    e[i] = h
                    out[i] = (objective(theta + e) - objective(theta - e)) / (2.0 * h)
                return out

            res = optimize.minimize(objective, np.array([math.log(alpha), math.log(mean_y)]),
                                    jac=gradient, method="BFGS",
                                    options={"gtol": 1e-9, "maxiter": 500})
            alpha, rate = float(math.exp(res.x[0])), float(math.exp(res.x[0] - res.x[1]))
            # L-BFGS-B may stop on its line search when the finite-difference
            # gradient reaches its noise floor; accept a small final gradient.
            converged = bool(res.success) or bool(np.max(np.abs(gradient(res.x))) < 1e-6)
        value = _discrete_mean_nll(uniq, counts, alpha, rate, offset)
    else:
        value = -float(np.dot(w, logpdf(y, alpha, rate)))
    return GammaFit(alpha=float(alpha), rate=float(rate), nll=value, n=n,
                    likelihood=likelihood, converged=bool(converged))


@accepts_params
def fisher_information(alpha, rate):
    """Per-observation Fisher information of the continuous Gamma law in ``(alpha, rate)``.

    ``[[trigamma(alpha), -1/rate], [-1/rate, alpha/rate^2]]`` (derived for this
    here: the expected Hessian of :func:`nll`; docs/models/gamma.md (24)). Its inverse divided
    by ``n`` is the asymptotic covariance of the continuous MLE, which sets
    the tolerances of the recovery tests.

    Returns
    -------
    ndarray
        Shape ``broadcast(alpha, rate).shape + (2, 2)``.
    """
    alpha, rate = _params(alpha, rate)
    alpha, rate = np.broadcast_arrays(alpha, rate)
    out = np.empty(alpha.shape + (2, 2))
    out[..., 0, 0] = special.polygamma(1, alpha)
    out[..., 0, 1] = out[..., 1, 0] = -1.0 / rate
    out[..., 1, 1] = alpha / rate**2
    return out


def profile_intervals(lengths, level=0.95, offset=1.0):
    """Profile-likelihood intervals of ``alpha`` and ``rate`` of the continuous fit (22).

    docs/models/gamma.md (28): the values of one parameter where twice the
    log-likelihood, maximised over the other, stays within the ``level``
    quantile of chi-squared with one degree of freedom of its maximum (derived
    here: Wilks' theorem). The likelihood is the continuous one (9) of
    ``y = log(L + offset)``, through its sufficient statistics ``n``,
    ``sum y`` and ``sum log y``.

    Parameters
    ----------
    lengths : array_like of int
        Observed lengths ``>= 1`` with at least two distinct values.
    level : float, default 0.95
        Coverage, in (0, 1).
    offset : float, default 1.0

    Returns
    -------
    dict
        ``alpha``, ``alpha_low``, ``alpha_high``, ``rate``, ``rate_low``,
        ``rate_high`` (the estimates equal :func:`fit_gamma`'s).
    """
    from theory._profile import Fit, profile_interval

    level = check_real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    fitted = fit_gamma(lengths, offset=offset)
    y = _log_lengths(_lengths(lengths), _offset(offset))
    n, sy, sly = float(y.size), float(y.sum()), float(np.log(y).sum())

    def nll(t):
        a, r = math.exp(t[0]), math.exp(t[1])
        return -(n * (a * t[1] - special.gammaln(a)) + (a - 1.0) * sly - r * sy)

    t_hat = np.array([math.log(fitted.alpha), math.log(fitted.rate)])
    best = Fit(t_hat, nll(t_hat), [(t_hat[0] - 20.0, t_hat[0] + 20.0),
                                   (t_hat[1] - 20.0, t_hat[1] + 20.0)])
    out = dict(alpha=fitted.alpha, rate=fitted.rate)
    for i, name in enumerate(("alpha", "rate")):
        lo, hi = profile_interval(nll, best, i, level)
        out[f"{name}_low"], out[f"{name}_high"] = math.exp(lo), math.exp(hi)
    return out


# ---------------------------------------------------------------------------
# calibration of a predictive Gamma law against observed lengths, docs/models/gamma.md (25)-(26)
# ---------------------------------------------------------------------------


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, lo=0))


def _length_cdf_pair(ell, alpha, rate, offset):
    """``(F_L(ell - 1), F_L(ell))`` of the discrete model, broadcast (``F_L(0) = 0``)."""
    alpha, rate = _params(alpha, rate)
    check_broadcast("alpha", alpha.shape, "lengths", ell.shape)
    check_broadcast("rate", rate.shape, "lengths", ell.shape)
    hi = special.gammainc(alpha, rate * np.log(ell + offset))
    ylo = np.log(np.maximum(ell - 1 + offset, 1.0))
    lo = np.where(ell == 1, 0.0, special.gammainc(alpha, rate * ylo))
    return np.broadcast_arrays(lo, hi)


def _lengths_shaped(lengths):
    raw = np.asarray(lengths)
    return _lengths(raw).reshape(raw.shape)


@accepts_params
def randomized_pit(lengths, alpha, rate, *, offset=1.0, seed=0):
    """Randomised probability integral transform of discrete lengths (docs/models/gamma.md (25)).

    ``u = F(log(L - 1 + offset)) + V [F(log(L + offset)) - F(log(L - 1 + offset))]``
    with ``V ~ U(0, 1)``, i.e. ``Pr(L' < L) + V Pr(L' = L)`` under the
    discrete model (4); the lower term is 0 at ``L = 1``. For ``offset = 1``
    this is ``F(log L) + V [F(log(L+1)) - F(log L)]``. If the predicted law is
    the true law of ``L``, ``u`` is exactly ``U(0, 1)`` (derived here).

    Parameters
    ----------
    lengths : array_like of int
        Observed lengths ``L >= 1``.
    alpha, rate : array_like
        Predicted shape and rate per observation (or scalars), broadcast
        against ``lengths``.
    offset : float
        See :func:`length_cdf`.
    seed : int or numpy.random.Generator
        Source of ``V``.

    Returns
    -------
    ndarray
        ``u`` in ``[0, 1]``, shape ``broadcast(lengths, alpha, rate)``.
    """
    offset = _offset(offset)
    ell = _lengths_shaped(lengths)
    lo, hi = _length_cdf_pair(ell, alpha, rate, offset)
    v = _rng(seed).uniform(size=lo.shape)
    return np.clip(lo + v * (hi - lo), 0.0, 1.0)


@dataclass(frozen=True)
class PitUniformity:
    """Uniformity check of PIT values (:func:`pit_uniformity`).

    Attributes
    ----------
    ks_statistic, p_value : float
        One-sample Kolmogorov-Smirnov test against ``U(0, 1)``.
    counts : ndarray of int
        Histogram counts over ``bins`` equal-width bins of ``[0, 1]``.
    expected : float
        Expected count per bin under uniformity, ``n / bins``.
    n : int
    """

    ks_statistic: float
    p_value: float
    counts: np.ndarray
    expected: float
    n: int


@accepts_params
def pit_uniformity(u, bins=10):
    """KS test and histogram of PIT values against ``U(0, 1)`` (docs/models/gamma.md (25)).

    Positions of one trace are dependent; subsample (e.g. one per trace
    segment) before calling, or the p-value is too small.

    Parameters
    ----------
    u : array_like
        PIT values in ``[0, 1]`` (e.g. from :func:`randomized_pit`), non-empty.
    bins : int
        Number of histogram bins, ``>= 1``.

    Returns
    -------
    PitUniformity
    """
    u = check_real_array("u", u, 0.0, 1.0).ravel()
    if u.size == 0:
        raise ValueError("u must be non-empty, got size 0")
    bins = check_int("bins", bins, lo=1)
    res = stats.kstest(u, "uniform")
    counts, _ = np.histogram(u, bins=bins, range=(0.0, 1.0))
    return PitUniformity(ks_statistic=float(res.statistic), p_value=float(res.pvalue),
                         counts=counts, expected=u.size / bins, n=int(u.size))


@accepts_params
def interval_coverage(lengths, alpha, rate, levels=(0.5, 0.9), offset=1.0, seed=0):
    """Coverage of central predictive intervals of ``L`` (docs/models/gamma.md, "Calibration").

    For each level ``c`` the interval is ``[L_{(1-c)/2}, L_{(1+c)/2}]`` from
    :func:`length_quantile`; ``coverage`` is the fraction of observations with
    ``lo <= L <= hi``. Because ``L`` is an integer this plain coverage differs
    from ``c`` even under the true law, by at most the mass of the two
    endpoint lengths; ``coverage_randomized`` uses the randomised PIT
    (:func:`randomized_pit`, ``(1-c)/2 <= u <= (1+c)/2``), whose coverage is
    exactly ``c`` under the true law (derived here from (25)).

    Parameters
    ----------
    lengths : array_like of int
        Observed lengths ``L >= 1``, non-empty.
    alpha, rate : array_like
        Predicted shape and rate per observation (or scalars).
    levels : sequence of float
        Nominal coverages in ``(0, 1)``.
    offset : float
        See :func:`length_cdf`.
    seed : int or numpy.random.Generator
        Source of the PIT randomisation.

    Returns
    -------
    pandas.DataFrame
        One row per level: ``level``, ``n``, ``coverage``,
        ``coverage_randomized``, ``se`` (binomial s.e. at the nominal level,
        ``sqrt(c (1 - c) / n)``), ``z`` (``(coverage_randomized - c) / se``),
        ``wilson_lo``, ``wilson_hi`` (95 % Wilson interval of ``coverage``),
        ``mean_width`` (mean ``hi - lo``).
    """
    offset = _offset(offset)
    levels = check_real_array("levels", levels, 0.0, 1.0, lo_open=True, hi_open=True).ravel()
    if levels.size == 0:
        raise ValueError("levels must be non-empty, got size 0")
    ell = _lengths_shaped(lengths)
    u = randomized_pit(ell, alpha, rate, offset=offset, seed=seed)
    ell_b = np.broadcast_to(ell, u.shape)
    rows = []
    for c in levels:
        lo = np.broadcast_to(length_quantile((1.0 - c) / 2.0, alpha, rate, offset), u.shape)
        hi = np.broadcast_to(length_quantile((1.0 + c) / 2.0, alpha, rate, offset), u.shape)
        n = int(u.size)
        k = int(np.count_nonzero((ell_b >= lo) & (ell_b <= hi)))
        k_r = int(np.count_nonzero((u >= (1.0 - c) / 2.0) & (u <= (1.0 + c) / 2.0)))
        se = math.sqrt(c * (1.0 - c) / n)
        w_lo, w_hi = wilson_interval(k, n)
        rows.append({"level": float(c), "n": n, "coverage": k / n, "coverage_randomized": k_r / n,
                     "se": se, "z": (k_r / n - c) / se, "wilson_lo": w_lo, "wilson_hi": w_hi,
                     "mean_width": float(np.mean(hi - lo))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class EventReliability:
    """Calibration of the guidance event ``{L <= b}`` (:func:`event_reliability`).

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per budget: ``budget``, ``n``, ``mean_predicted`` (mean of
        ``F(log(b + offset))``), ``observed`` (fraction with ``L <= b``),
        ``ece``, ``brier``.
    table : pandas.DataFrame
        The reliability curve, one row per budget and non-empty bin:
        ``budget``, ``bin``, ``lo``, ``hi``, ``mean_predicted``,
        ``observed``, ``count``.
    """

    summary: pd.DataFrame
    table: pd.DataFrame


@accepts_params
def event_reliability(lengths, alpha, rate, budgets, bins=10, offset=1.0):
    """Reliability of the predicted budget probability ``Pr(L <= b)`` (docs/models/gamma.md (26)).

    The prediction is the guidance weight ``p = F(log(b + offset))``
    (:func:`budget_prob`, (3)), the outcome ``1[L <= b]``. Predictions are
    binned into ``bins`` equal-width bins of ``[0, 1]`` (the last bin closed);
    ``ece = sum_bins (count / n) |mean p - observed|`` and
    ``brier = mean (p - 1[L <= b])^2``.

    Parameters
    ----------
    lengths : array_like of int
        Observed lengths ``L >= 1``.
    alpha, rate : array_like
        Predicted shape and rate per observation (or scalars).
    budgets : array_like
        Budgets ``b >= 1`` (e.g. 64, 256, 1024), non-empty.
    bins : int
        Number of reliability bins, ``>= 1``.
    offset : float
        See :func:`length_cdf`.

    Returns
    -------
    EventReliability
    """
    offset = _offset(offset)
    budgets = check_real_array("budgets", budgets, lo=1.0).ravel()
    if budgets.size == 0:
        raise ValueError("budgets must be non-empty, got size 0")
    bins = check_int("bins", bins, lo=1)
    ell = _lengths_shaped(lengths)
    alpha, rate = _params(alpha, rate)
    shape = np.broadcast_shapes(ell.shape, check_broadcast("rate", rate.shape, "alpha",
                                                           alpha.shape))
    ell = np.broadcast_to(ell, shape).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    summary, table = [], []
    for b in budgets:
        p = np.broadcast_to(budget_prob(b, alpha, rate, offset), shape).ravel()
        o = (ell <= b).astype(float)
        idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
        count = np.bincount(idx, minlength=bins)
        sum_p = np.bincount(idx, weights=p, minlength=bins)
        sum_o = np.bincount(idx, weights=o, minlength=bins)
        nz = count > 0
        mean_p = sum_p[nz] / count[nz]
        obs = sum_o[nz] / count[nz]
        n = int(p.size)
        ece = float(np.sum(count[nz] / n * np.abs(mean_p - obs)))
        summary.append({"budget": float(b), "n": n, "mean_predicted": float(p.mean()),
                        "observed": float(o.mean()), "ece": ece,
                        "brier": float(np.mean((p - o) ** 2))})
        for j, mp, ob, c in zip(np.flatnonzero(nz), mean_p, obs, count[nz]):
            table.append({"budget": float(b), "bin": int(j), "lo": float(edges[j]),
                          "hi": float(edges[j + 1]), "mean_predicted": float(mp),
                          "observed": float(ob), "count": int(c)})
    return EventReliability(summary=pd.DataFrame(summary), table=pd.DataFrame(table))


# ---------------------------------------------------------------------------
# the geometric toy with the exact oracle at every token, docs/models/gamma.md (19)-(21)
# ---------------------------------------------------------------------------


def _hazard(h):
    return check_real_array("h", h, 0.0, 1.0, lo_open=True)


@accepts_params
def geometric_guided_stop_prob(h, budget):
    """Guided stop probability ``h / (h + (1 - h)(1 - (1 - h)^(b - 1)))``.

    docs/models/gamma.md (19).

    The base model stops with probability ``h`` per token; the exact oracle
    weights are ``a(stop) = 1`` and ``a(continue) = 1 - (1 - h)^(b - 1)``
    (the remaining length after continuing is ``1 +`` a geometric count); the
    guided stop probability is Bayes' rule (11). It equals 1 at ``b = 1``
    and ``h / (1 - (1 - h)^b)`` in general (certified in
    :mod:`theory.symbolic.gamma`).

    Parameters
    ----------
    h : array_like
        Stop hazard, in ``(0, 1]``.
    budget : array_like of int
        Remaining budget ``b >= 1``.

    Returns
    -------
    float or ndarray
    """
    h = _hazard(h)
    b = check_int_array("budget", budget, lo=1)
    h, b = np.broadcast_arrays(h, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        cont = -np.expm1((b - 1) * np.log1p(-h))  # 1 - (1 - h)^(b - 1)
        out = h / (h + (1.0 - h) * cont)
    return _out(np.where((b == 1) | (h == 1.0), 1.0, out))


@accepts_params
def truncated_geometric_pmf(k, h, lbar):
    """``Pr(T = k) = h (1 - h)^(k - 1) / (1 - (1 - h)^lbar)`` on ``1..lbar``, else 0.

    docs/models/gamma.md (20).

    The exact law of the thinking length ``T`` under exact-oracle guidance at
    every token ((15)): the geometric law conditioned on ``T <= lbar``.

    Parameters
    ----------
    k : array_like of int
        Length values (any integers; 0 outside ``1..lbar``).
    h : array_like
        Stop hazard, in ``(0, 1]``.
    lbar : array_like of int
        Thinking budget, ``>= 1``.
    """
    k = check_int_array("k", k)
    h = _hazard(h)
    lbar = check_int_array("lbar", lbar, lo=1)
    k, h, lbar = np.broadcast_arrays(k, h, lbar)
    inside = (k >= 1) & (k <= lbar)
    kk = np.where(inside, k, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log1p(-h)
        num = h * np.exp(np.where(kk == 1, 0.0, (kk - 1) * log_q))
        den = -np.expm1(lbar * log_q)
        val = np.where(h == 1.0, (kk == 1).astype(float), num / den)
    return _out(np.where(inside, val, 0.0))


@accepts_params
def truncated_geometric_mean(h, lbar):
    """``E[T] = 1/h - lbar (1 - h)^lbar / (1 - (1 - h)^lbar)`` (docs/models/gamma.md (21)).

    The mean of :func:`truncated_geometric_pmf`; ``(lbar + 1)/2`` as
    ``h -> 0`` and 1 at ``h = 1``. Computed as ``A + B`` with
    ``c = -log(1 - h)``, ``A = 1/h - 1/c`` (a series for small ``h``) and
    ``B = (1 - x / expm1(x)) / c``, ``x = lbar c``, to avoid cancellation.
    It is 57.33 at ``h = 0.01``, ``lbar = 150``.

    Parameters
    ----------
    h : array_like
        Stop hazard, in ``(0, 1]``.
    lbar : array_like of int
        Thinking budget, ``>= 1``.
    """
    h = _hazard(h)
    lbar = check_int_array("lbar", lbar, lo=1)
    h, lbar = np.broadcast_arrays(h, lbar)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c = -np.log1p(-h)
        a = np.where(h < 1e-4, 0.5 + h / 12.0 + h * h / 24.0, 1.0 / h - 1.0 / c)
        x = lbar * c
        b = (1.0 - x / np.expm1(x)) / c
        out = np.where(h == 1.0, 1.0, a + b)
    return _out(out)


# ---------------------------------------------------------------------------
# parameters of a budget-guidance experiment on a toy language model
# ---------------------------------------------------------------------------

#: The toy language models of :mod:`sim.gamma` (docs/models/gamma.md, "Toy language models").
TOYS = ("geometric", "paragraph")
#: Token names of each toy; the first is the end-of-thinking token.
TOY_TOKENS = {
    "geometric": ("</think>", "step"),
    "paragraph": ("</think>", "Wait", "So", "word", "\\n"),
}


@dataclass(frozen=True)
class GammaParams:
    """Validated parameters of one budget-guidance experiment on a toy language model.

    The toy, the budget, the fitted Gamma predictor and the guidance
    arithmetic of ``python -m sim.gamma``, whose defaults are these;
    :func:`sim.gamma.simulate` compares every decoding rule under them.

    Parameters
    ----------
    toy : {"geometric", "paragraph"}, default "paragraph"
        The toy language model (docs/models/gamma.md, "Toy language models").
    budget : int, default 150
        Thinking budget ``lbar >= 1`` (docs/models/gamma.md (13)).
    h : float, default 0.01
        Geometric toy: stop probability per token, in ``(0, 1]``.
    p_wait : float, default 0.25
        Paragraph toy: probability of ``Wait`` at a paragraph start, in ``[0, 1)``.
    p_end : float, default 0.01
        Paragraph toy: probability of ``</think>`` at a paragraph start while
        paragraphs remain planned, in ``[0, 1]``; ``p_wait + p_end <= 1``.
    plan : int, default 6
        Paragraph toy: paragraphs planned at the start, in ``[0, plan_max]``.
    plan_max : int, default 10
        Paragraph toy: most paragraphs ever planned, ``>= 0``.
    wait_adds : int, default 3
        Paragraph toy: paragraphs a ``Wait`` adds to the plan, ``>= 1``.
    newline : float, default 0.12
        Paragraph toy: probability that a word ends its line, in ``(0, 1]``.
    max_paragraph : int, default 20
        Paragraph toy: most tokens of one paragraph, ``>= 2``.
    strength : float, default 1.0
        Exponent ``gamma >= 0`` on the guidance weights (docs/models/gamma.md (11)).
    distortion : float, default 0.0
        Misspecification of the fitted Gamma predictor: every continuing
        candidate's rate is multiplied by ``exp(-distortion)``, in ``[-5, 5]``.
    likelihood : {"continuous", "discrete"}, default "continuous"
        Likelihood of the fitted predictor ((9) or (4); open choice "likelihood").
    stop_cv : float, default 0.05
        Coefficient of variation of the end token's fitted Gamma, in ``(0, 1)``
        (open choice "end token's Gamma").
    rate_min, alpha_min, mode_min : float, default 10, 1, 0.9
        Thresholds of the faithful validity mask (docs/models/gamma.md (12));
        ``rate_min >= 0``.
    untrained : tuple of str, default ()
        Candidates given the untrained head values ``alpha = rate = log 2``
        (docs/models/gamma.md (8)); each a token of the toy.
    max_tokens : int or None, default None
        Generation cap; runs without ``</think>`` by then are runaways.
        ``None`` means ``20 * budget + 1000`` (:attr:`token_cap`); else
        ``>= budget``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    toy: str = "paragraph"
    budget: int = 150
    h: float = 0.01
    p_wait: float = 0.25
    p_end: float = 0.01
    plan: int = 6
    plan_max: int = 10
    wait_adds: int = 3
    newline: float = 0.12
    max_paragraph: int = 20
    strength: float = 1.0
    distortion: float = 0.0
    likelihood: str = "continuous"
    stop_cv: float = 0.05
    rate_min: float = RATE_MIN
    alpha_min: float = ALPHA_MIN
    mode_min: float = MODE_MIN
    untrained: tuple = ()
    max_tokens: int | None = None

    def __post_init__(self):
        put = object.__setattr__
        put(self, "toy", check_choice("toy", self.toy, TOYS))
        put(self, "budget", check_int("budget", self.budget, 1))
        put(self, "h", check_real("h", self.h, 0.0, 1.0, lo_open=True))
        put(self, "p_wait", check_real("p_wait", self.p_wait, 0.0, 1.0, hi_open=True))
        put(self, "p_end", check_real("p_end", self.p_end, 0.0, 1.0))
        if self.p_wait + self.p_end > 1.0:
            raise ValueError(f"p_wait + p_end must be <= 1, got {self.p_wait + self.p_end:g}")
        put(self, "plan_max", check_int("plan_max", self.plan_max, 0))
        put(self, "plan", check_int("plan", self.plan, 0, self.plan_max))
        put(self, "wait_adds", check_int("wait_adds", self.wait_adds, 1))
        put(self, "newline", check_real("newline", self.newline, 0.0, 1.0, lo_open=True))
        put(self, "max_paragraph", check_int("max_paragraph", self.max_paragraph, 2))
        put(self, "strength", check_real("strength", self.strength, **_NONNEG))
        put(self, "distortion", check_real("distortion", self.distortion, -5.0, 5.0))
        put(self, "likelihood", check_choice("likelihood", self.likelihood, LIKELIHOODS))
        put(self, "stop_cv", check_real("stop_cv", self.stop_cv, 0.0, 1.0, lo_open=True,
                                        hi_open=True))
        put(self, "rate_min", check_real("rate_min", self.rate_min, **_NONNEG))
        put(self, "alpha_min", check_real("alpha_min", self.alpha_min))
        put(self, "mode_min", check_real("mode_min", self.mode_min))
        untrained = (self.untrained,) if isinstance(self.untrained, str) else self.untrained
        try:
            untrained = tuple(untrained)
        except TypeError:
            raise TypeError(f"untrained must be a sequence of token names, "
                            f"got {self.untrained!r}") from None
        tokens = TOY_TOKENS[self.toy]
        for t in untrained:
            if t not in tokens:
                raise ValueError(f"untrained must name tokens of the {self.toy} toy "
                                 f"{tokens}, got {t!r}")
        put(self, "untrained", untrained)
        if self.max_tokens is not None:
            put(self, "max_tokens", check_int("max_tokens", self.max_tokens, self.budget))

    @property
    def lbar(self):
        """The thinking budget under the name the formulas use (``budget``)."""
        return self.budget

    @property
    def token_cap(self):
        """The generation cap: ``max_tokens``, or ``20 * budget + 1000`` when it is None."""
        return 20 * self.budget + 1000 if self.max_tokens is None else self.max_tokens
