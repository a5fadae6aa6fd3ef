"""Closed forms of Budget Guidance: the Gamma law over log-length and the guidance operator.

Li, Zhao, Zhang and Gan, "Steering LLM Thinking with Budget Guidance",
arXiv 2506.13752, and the authors' code
https://github.com/UMass-Embodied-AGI/BudgetGuidance. Section and ambiguity
labels (§1.2, §2.3, A1..A14) are those of the project spec
``shared/specs/gamma.md``.

Provenance is stated in every docstring:

* "(code)": the formula is the official code's, as quoted by the spec.
* "(paper)": the paper's framing, as quoted by the spec.
* "Derived for this project": a consequence of the stated facts (spec tag
  [derived]), checked numerically in ``tests/theory/test_gamma.py``.
* Choices the paper leaves open ([open] in the spec) are parameters with a
  documented default and are never described as the paper's choice.

Conventions
-----------
* ``Y = log(L + offset)`` follows a Gamma law with shape ``alpha`` and
  **rate** ``rate`` (``torch.distributions.Gamma(concentration, rate)``;
  ``scipy.stats.gamma(a=alpha, scale=1/rate)``). ``offset`` defaults to 1
  (code; A1).
* ``L`` is the remaining thinking length, counting the candidate token and
  ``</think>``, so ``L >= 1`` (§1.1).
* All functions broadcast over their array arguments; the guidance operator
  puts the vocabulary on the **last** axis and broadcasts ``budget`` against
  the leading axes.
* Functions return a ``float`` for 0-d results and an ``ndarray`` otherwise.
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ._params import (check_broadcast, check_choice, check_int_array, check_real,
                      check_real_array)

__all__ = [
    # §2.1 links
    "softplus",
    "softplus_inv",
    # §1.2 Gamma over y
    "logpdf",
    "pdf",
    "logcdf",
    "logsf",
    "cdf",
    "sf",
    "ppf",
    # §1.2 derived quantities of L
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
    # §2.2 losses
    "nll",
    "nll_grad",
    "discrete_nll",
    # §2.3-§2.5 guidance
    "MODES",
    "SPACES",
    "validity_mask",
    "guidance_weights",
    "guide",
    "remaining_budget",
]

#: Guidance modes (A3, A13): ``"faithful"`` applies the code's validity mask
#: and its raw-argmax fallback; ``"bayes"`` is plain Bayes-rule reweighting.
MODES = ("faithful", "bayes")
#: Arithmetic of the guidance operator (§3.3, §6.1).
SPACES = ("linear", "log")

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
# §2.1 links
# ---------------------------------------------------------------------------


def softplus(u):
    """Softplus link ``log(1 + exp(u))`` of both heads (§2.1; code).

    Computed as ``logaddexp(0, u)``, so it is finite and positive for every
    finite ``u`` (until ``exp(u)`` underflows, around ``u < -745``).
    """
    u = check_real_array("u", u)
    return _out(np.logaddexp(0.0, u))


def softplus_inv(x):
    """Inverse of :func:`softplus`, ``log(expm1(x))`` for ``x > 0``.

    Derived for this project (§7.1(6)); computed as ``x + log(-expm1(-x))``
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


def _log_gammainc(a, x):
    """``log P(a, x)``, tail-safe; ``x >= 0`` broadcast against ``a``."""
    a, x = np.broadcast_arrays(np.asarray(a, float), np.asarray(x, float))
    p = special.gammainc(a, x)
    with np.errstate(divide="ignore"):
        out = np.where(p > 0.5, np.log1p(-special.gammaincc(a, x)), np.log(p))
    small = (p < _TINY) & (x > 0)
    if np.any(small):
        out = np.array(out, dtype=float)
        out[small] = _log_p_series(a[small], x[small])
    return out


def _log_gammaincc(a, x):
    """``log Q(a, x)``, tail-safe; ``x >= 0`` broadcast against ``a``."""
    a, x = np.broadcast_arrays(np.asarray(a, float), np.asarray(x, float))
    q = special.gammaincc(a, x)
    with np.errstate(divide="ignore"):
        out = np.where(q > 0.5, np.log1p(-special.gammainc(a, x)), np.log(q))
    small = (q < _TINY) & np.isfinite(x)
    if np.any(small):
        out = np.array(out, dtype=float)
        out[small] = _log_q_cf(a[small], x[small])
    return out


# ---------------------------------------------------------------------------
# §1.2 the Gamma law of y = log(L + offset)
# ---------------------------------------------------------------------------


def logpdf(y, alpha, rate):
    """Log-density ``alpha log rate - lgamma(alpha) + (alpha-1) log y - rate y`` (§1.2, §2.2; code).

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


def pdf(y, alpha, rate):
    """Density ``rate^alpha y^(alpha-1) exp(-rate y) / Gamma(alpha)`` (§1.2; code)."""
    return _out(np.exp(logpdf(y, alpha, rate)))


def cdf(y, alpha, rate):
    """CDF ``F(y) = P(alpha, rate y)`` (regularised lower incomplete gamma; §1.2; code).

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


def sf(y, alpha, rate):
    """Survival ``1 - F(y) = Q(alpha, rate y)`` (§1.2; derived for this project)."""
    y = _y(y)
    alpha, rate = _params(alpha, rate)
    return _out(special.gammaincc(alpha, rate * y))


def logcdf(y, alpha, rate):
    """``log F(y)``, accurate where ``F`` underflows in float64 (§3.3, recommended variant).

    ``log gammainc`` where it is representable (``log1p(-gammaincc)`` above
    1/2), and otherwise the power series of ``P`` summed in log space. The
    fallback is derived for this project; the spec asks only for "a tail-safe
    fallback" (§3.3).
    """
    y = _y(y)
    alpha, rate = _params(alpha, rate)
    return _out(_log_gammainc(alpha, rate * y))


def logsf(y, alpha, rate):
    """``log(1 - F(y))``, accurate where the survival underflows (derived for this project).

    Uses Legendre's continued fraction for ``Q`` in its underflow region.
    """
    y = check_real_array("y", y, lo=0.0)
    alpha, rate = _params(alpha, rate)
    return _out(_log_gammaincc(alpha, rate * y))


def ppf(q, alpha, rate):
    """Quantile ``F^-1(q) = P^-1(alpha, q) / rate`` (``gammaincinv``; §1.2, §7.1(3))."""
    q = check_real_array("q", q, 0.0, 1.0)
    alpha, rate = _params(alpha, rate)
    return _out(special.gammaincinv(alpha, q) / rate)


# ---------------------------------------------------------------------------
# §1.2 derived quantities of L = exp(Y) - offset
# ---------------------------------------------------------------------------


def length_cdf(ell, alpha, rate, offset=1.0):
    """``Pr(L <= ell) = P(alpha, rate log(ell + offset))`` (§1.2; derived for this project).

    Parameters
    ----------
    ell : array_like
        Length, ``>= 1 - offset`` so that the log-length is ``>= 0``.
    alpha, rate : array_like
        Shape and rate, ``> 0``.
    offset : float
        ``Y = log(L + offset)``; 1 in the code (A1, [open] w.r.t. the paper).
    """
    offset = _offset(offset)
    ell = check_real_array("ell", ell, lo=1.0 - offset)
    return cdf(np.log(ell + offset), alpha, rate)


def length_logcdf(ell, alpha, rate, offset=1.0):
    """``log Pr(L <= ell)``, tail-safe (see :func:`logcdf`; derived for this project)."""
    offset = _offset(offset)
    ell = check_real_array("ell", ell, lo=1.0 - offset)
    return logcdf(np.log(ell + offset), alpha, rate)


def budget_prob(budget, alpha, rate, offset=1.0):
    """Guidance event probability ``Pr(L <= b) = F(log(b + offset))`` (§0, §2.3 step 3; code).

    Under the discretisation ``L = ceil(exp(Y) - offset)`` it is the exact
    probability of the event for integer ``b`` (§1.2; derived). ``budget``
    must be ``>= 1`` (the remaining budget is floored at 1, §2.5).
    """
    budget = check_real_array("budget", budget, lo=1.0)
    return length_cdf(budget, alpha, rate, offset)


def budget_logprob(budget, alpha, rate, offset=1.0):
    """``log Pr(L <= b)``, the log-space guidance weight (§3.3 recommended variant)."""
    budget = check_real_array("budget", budget, lo=1.0)
    return length_logcdf(budget, alpha, rate, offset)


def length_quantile(q, alpha, rate, offset=1.0):
    """Quantile of ``L``: ``exp(P^-1(alpha, q) / rate) - offset`` (§1.2; derived).

    Computed with ``expm1`` when ``offset = 1`` to keep small quantiles exact.
    """
    offset = _offset(offset)
    y = np.asarray(ppf(q, alpha, rate))
    with np.errstate(over="ignore"):
        out = np.expm1(y) + (1.0 - offset)
    return _out(out)


def length_median(alpha, rate, offset=1.0):
    """Median of ``L``, ``exp(P^-1(alpha, 1/2) / rate) - offset`` (A10: primary point estimate)."""
    return length_quantile(0.5, alpha, rate, offset)


def length_mode(alpha, rate, offset=1.0):
    """The code's "expected length" ``exp((alpha - 1) / rate) - offset`` (§1.2; code).

    This is the decoded **mode** of ``Y``, not the mean of ``L`` (quirk 3). It
    is the mode only for ``alpha >= 1``; for ``alpha < 1`` the formula is
    returned unchanged (as the code computes it), and is then below
    ``1 - offset``.
    """
    offset = _offset(offset)
    alpha, rate = _params(alpha, rate)
    with np.errstate(over="ignore"):
        return _out(np.expm1((alpha - 1.0) / rate) + (1.0 - offset))


def length_moment(k, alpha, rate):
    """``E[(L + offset)^k] = (rate / (rate - k))^alpha`` for ``rate > k``, else ``inf`` (§1.2; derived).

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


def length_mean(alpha, rate, offset=1.0):
    """``E[L] = (rate / (rate - 1))^alpha - offset`` for ``rate > 1``, else ``inf`` (§1.2; derived)."""
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


def length_logpmf(ell, alpha, rate, offset=1.0):
    """``log Pr(L = ell) = log[F(log(ell + offset)) - F(log(ell - 1 + offset))]`` (§1.2; derived).

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


def length_pmf(ell, alpha, rate, offset=1.0):
    """``Pr(L = ell)`` of the discrete model (see :func:`length_logpmf`; §1.2; derived)."""
    return _out(np.exp(length_logpmf(ell, alpha, rate, offset)))


# ---------------------------------------------------------------------------
# §2.2 losses
# ---------------------------------------------------------------------------


def nll(y, alpha, rate):
    """Per-position training loss ``-log f(y)`` (§2.2; code). No Jacobian term is added."""
    return _out(-np.asarray(logpdf(y, alpha, rate)))


def nll_grad(y, alpha, rate):
    """Gradients of :func:`nll`: ``(psi(alpha) - log rate - log y, y - alpha / rate)`` (§2.2; derived).

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


def discrete_nll(ell, alpha, rate, offset=1.0):
    """Discrete evaluation loss ``-log Pr(L = ell)`` (A9: the recommended evaluation likelihood)."""
    return _out(-np.asarray(length_logpmf(ell, alpha, rate, offset)))


# ---------------------------------------------------------------------------
# §2.3-§2.5 guidance
# ---------------------------------------------------------------------------


def validity_mask(alpha, rate, rate_min=10.0, alpha_min=1.0, mode_min=0.9):
    """The code's validity mask ``[rate >= 10] [alpha > 1] [exp((alpha-1)/rate) - 1 >= 0.9]`` (§2.3 step 4; code).

    The thresholds are configurable (A3). The mode test uses offset 1, as the
    code does.

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


def guidance_weights(alpha, rate, budget, offset=1.0, log=False):
    """CDF weights ``a_v = F(log(b + offset); alpha_v, rate_v)`` over a vocabulary (§2.3 step 3; code).

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


def guide(logits, alpha, rate, budget, *, mode="faithful", space=None, strength=1.0,
          offset=1.0, rate_min=10.0, alpha_min=1.0, mode_min=0.9, return_fallback=False):
    """Guided next-token distribution ``q ∝ softmax(logits) * a^strength`` (§2.3, §3.3).

    ``a_v = Pr(L <= b | v)`` is the Gamma CDF at ``log(b + offset)``
    (:func:`guidance_weights`); the product is renormalised over the last
    (vocabulary) axis: Bayes' rule / classifier guidance (paper).

    ``mode="faithful"`` (code, §2.3 steps 2-7): ``a`` is multiplied by the
    :func:`validity_mask`; if every masked weight of a row is 0, the row's
    weights become one-hot at the raw-logit argmax. ``mode="bayes"`` (A3,
    A13): no mask; a row whose renormaliser is 0 falls back to the unguided
    ``softmax(logits)``. In either mode a row whose product ``p * a`` sums to
    0 although some weight is positive (``p`` underflow) uses that mode's
    fallback too (derived for this project, so that ``q`` is never NaN).

    Parameters
    ----------
    logits : array_like
        Raw next-token logits, vocabulary on the last axis (finite or
        ``-inf``; each row needs one finite entry). Temperature and top-p are
        **not** applied (A4 faithful); pass processed logits for the
        recommended variant.
    alpha, rate : array_like
        Per-candidate shape and rate, ``> 0``; broadcast against ``logits``.
    budget : array_like
        Remaining budget ``b_t >= 1`` per row (leading axes).
    mode : {"faithful", "bayes"}
    space : {"linear", "log"} or None
        Arithmetic; ``None`` means ``"linear"`` for faithful (code) and
        ``"log"`` for bayes (§3.3 recommended). They agree when nothing
        underflows (§7.2(9)).
    strength : float
        Exponent ``gamma >= 0`` on ``a`` (§2.4, A5); 1 is faithful. ``0`` with
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


def remaining_budget(lbar, t):
    """Remaining budget ``b_t = max(lbar - t, 1)`` (§2.5, A6; code).

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
