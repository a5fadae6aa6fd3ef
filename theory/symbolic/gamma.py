"""Sympy derivations for the Gamma-on-log-length law of Budget Guidance (spec ``specs/gamma.md``).

``Y = log(L + 1)`` follows a Gamma law with shape ``alpha`` and **rate**
``rate`` (spec §1.2, code). Every function derives its result from the density
``f(y) = rate**alpha / Gamma(alpha) * y**(alpha - 1) * exp(-rate y)`` rather than
quoting the closed form, and returns a sympy expression:

* the moments ``E[(L+1)**k] = E[exp(k Y)] = (rate/(rate-k))**alpha`` for
  ``rate > k`` (Gamma MGF, integrated with ``rate - k`` as a positive symbol),
  hence ``E[L] = (rate/(rate-1))**alpha - 1`` (§1.2, derived);
* the mode of ``Y``, ``(alpha-1)/rate`` for ``alpha > 1`` (root of the
  log-density's derivative), decoded to the code's "expected length"
  ``exp((alpha-1)/rate) - 1`` (§1.2, code);
* the CDF ``F(y) = lowergamma(alpha, rate y)/Gamma(alpha)`` by integrating the
  density, and ``Pr(L <= b) = F(log(b+1))`` by the monotone change of variable
  ``L = exp(Y) - 1`` (§1.2, derived; also the quantile map);
* the gradients of the continuous NLL ``-log f(y)``:
  ``d/d alpha = digamma(alpha) - log(rate) - log(y)`` and
  ``d/d rate = y - alpha/rate`` (§2.2, derived).

The tests in ``tests/theory/test_symbolic_gamma.py`` check these results
against the numeric implementation in :mod:`theory.gamma`.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = [
    "ALPHA",
    "RATE",
    "Y",
    "K",
    "DELTA",
    "BUDGET",
    "ELL",
    "density",
    "log_density",
    "mgf",
    "length_moment",
    "length_mean",
    "mode_y",
    "length_mode",
    "cdf",
    "length_cdf",
    "budget_prob",
    "length_quantile",
    "nll",
    "nll_grad",
]

ALPHA = sp.Symbol("alpha", positive=True)  # shape
RATE = sp.Symbol("rate", positive=True)  # rate (inverse scale)
Y = sp.Symbol("y", positive=True)  # log-length y = log(L + 1)
K = sp.Symbol("k", nonnegative=True)  # moment order
DELTA = sp.Symbol("delta", positive=True)  # rate - k > 0 (finiteness of the moment)
BUDGET = sp.Symbol("b", positive=True)  # remaining budget
ELL = sp.Symbol("ell", positive=True)  # a length value
Q = sp.Symbol("q", positive=True)  # a probability level
_T = sp.Symbol("t", positive=True)  # integration variable


def density(y=Y, alpha=ALPHA, rate=RATE):
    """Gamma(shape ``alpha``, rate ``rate``) density of ``Y`` (§1.2; code)."""
    return rate**alpha / sp.gamma(alpha) * y ** (alpha - 1) * sp.exp(-rate * y)


def log_density(y=Y, alpha=ALPHA, rate=RATE):
    """``log f(y)`` expanded: ``alpha log rate - loggamma(alpha) + (alpha-1) log y - rate y``."""
    return sp.expand_log(sp.log(density(y, alpha, rate)), force=True)


@lru_cache(maxsize=None)
def mgf():
    """``E[exp(k Y)]`` by integrating ``exp(k y) f(y)`` over ``(0, inf)`` (§1.2; derived).

    The integral is taken with ``rate = k + delta``, ``delta > 0`` (it diverges
    for ``rate <= k``); the kernel ``y**(alpha-1) exp(-delta y)`` integrates to
    ``Gamma(alpha) / delta**alpha``. The result is returned in ``rate`` and
    ``k`` and simplifies to ``(rate / (rate - k))**alpha``.

    Returns
    -------
    sympy.Expr
    """
    kernel = sp.integrate(_T ** (ALPHA - 1) * sp.exp(-DELTA * _T), (_T, 0, sp.oo))
    # exp(k t) f(t) = rate**alpha / Gamma(alpha) * t**(alpha-1) exp(-(rate-k) t)
    integrand = sp.powsimp(sp.exp(K * _T) * density(_T).subs(RATE, K + DELTA), combine="exp")
    check = sp.simplify(integrand / (_T ** (ALPHA - 1) * sp.exp(-DELTA * _T)))
    if check.has(_T):  # pragma: no cover - algebraic identity
        raise RuntimeError(f"unexpected MGF integrand {integrand}")
    val = sp.simplify(check * kernel)
    return sp.simplify(val.subs(DELTA, RATE - K))


def length_moment(k=K, alpha=ALPHA, rate=RATE):
    """``E[(L + 1)**k] = E[exp(k Y)]`` for ``rate > k`` (§1.2; derived)."""
    return mgf().subs({K: k, ALPHA: alpha, RATE: rate}, simultaneous=True)


def length_mean(alpha=ALPHA, rate=RATE):
    """``E[L] = E[(L+1)] - 1`` for ``rate > 1`` (§1.2; derived)."""
    return length_moment(1, alpha, rate) - 1


@lru_cache(maxsize=None)
def _mode_y():
    sols = sp.solve(sp.diff(log_density(), Y), Y)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one stationary point, got {sols}")
    return sols[0]


def mode_y(alpha=ALPHA, rate=RATE):
    """Mode of ``Y``: the root of ``d/dy log f(y) = 0``, ``(alpha-1)/rate`` (valid for ``alpha > 1``)."""
    return _mode_y().subs({ALPHA: alpha, RATE: rate}, simultaneous=True)


def length_mode(alpha=ALPHA, rate=RATE):
    """The code's "expected length" ``exp(mode_y) - 1``: the decoded mode of ``Y`` (§1.2; code)."""
    return sp.exp(mode_y(alpha, rate)) - 1


@lru_cache(maxsize=None)
def _cdf():
    return sp.simplify(sp.integrate(density(_T), (_T, 0, Y)))


def cdf(y=Y, alpha=ALPHA, rate=RATE):
    """``F(y) = int_0^y f`` = ``lowergamma(alpha, rate y) / Gamma(alpha)`` (§1.2; derived)."""
    return _cdf().subs({Y: y, ALPHA: alpha, RATE: rate}, simultaneous=True)


def length_cdf(ell=ELL, alpha=ALPHA, rate=RATE):
    """``Pr(L <= ell) = Pr(Y <= log(ell + 1)) = F(log(ell + 1))`` (§1.2; derived).

    ``L = exp(Y) - 1`` is increasing in ``Y``, so the event ``{L <= ell}`` is
    ``{Y <= g^-1(ell)}`` with ``g^-1`` solved here by :func:`sympy.solve`.
    """
    inv = sp.solve(sp.Eq(sp.exp(Y) - 1, ELL), Y)
    if len(inv) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one inverse, got {inv}")
    return cdf(inv[0], alpha, rate).subs(ELL, ell)


def budget_prob(b=BUDGET, alpha=ALPHA, rate=RATE):
    """Guidance weight ``Pr(L <= b) = F(log(b + 1))`` (§0, §2.3; code)."""
    return length_cdf(b, alpha, rate)


def length_quantile(q=Q, alpha=ALPHA, rate=RATE):
    """Quantile of ``L``, ``exp(P^-1(alpha, q) / rate) - 1``, with ``P^-1`` left as a function.

    Returned as a function of the Y-quantile ``y_q``: ``L_q = exp(y_q) - 1``,
    where ``y_q`` solves ``F(y_q) = q``; the scaled root ``rate * y_q`` is the
    regularised-incomplete-gamma inverse (``scipy.special.gammaincinv``).
    """
    pinv = sp.Function("gammaincinv")(alpha, q)
    return sp.exp(pinv / rate) - 1


def nll(y=Y, alpha=ALPHA, rate=RATE):
    """Continuous training loss ``-log f(y)`` (§2.2; code)."""
    return -log_density(y, alpha, rate)


@lru_cache(maxsize=None)
def _nll_grad():
    loss = nll()
    return (sp.simplify(sp.diff(loss, ALPHA)), sp.simplify(sp.diff(loss, RATE)))


def nll_grad(y=Y, alpha=ALPHA, rate=RATE):
    """``(d nll / d alpha, d nll / d rate)`` by differentiation (§2.2; derived).

    Returns
    -------
    (sympy.Expr, sympy.Expr)
        ``digamma(alpha) - log(rate) - log(y)`` and ``y - alpha / rate``.
    """
    sub = {Y: y, ALPHA: alpha, RATE: rate}
    return tuple(g.subs(sub, simultaneous=True) for g in _nll_grad())
