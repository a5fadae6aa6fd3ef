"""Sympy derivations for the Gamma-on-log-length law of Budget Guidance (docs/models/gamma.md).

``Y = log(L + 1)`` follows a Gamma law with shape ``alpha`` and **rate**
``rate`` (docs/models/gamma.md (1); the authors' code). Every function
derives its result from the density
``f(y) = rate**alpha / Gamma(alpha) * y**(alpha - 1) * exp(-rate y)`` rather
than quoting the closed form, and returns a sympy expression:

* the moments ``E[(L+1)**k] = E[exp(k Y)] = (rate/(rate-k))**alpha`` for
  ``rate > k`` (Gamma MGF, integrated with ``rate - k`` as a positive symbol),
  hence ``E[L] = (rate/(rate-1))**alpha - 1`` (docs/models/gamma.md (6));
* the mode of ``Y``, ``(alpha-1)/rate`` for ``alpha > 1`` (root of the
  log-density's derivative), decoded to the authors' "expected length"
  ``exp((alpha-1)/rate) - 1`` ((7));
* the CDF ``F(y) = lowergamma(alpha, rate y)/Gamma(alpha)`` by integrating the
  density, and ``Pr(L <= b) = F(log(b+1))`` by the monotone change of variable
  ``L = exp(Y) - 1`` ((2)-(3); also the quantile map (5));
* the gradients of the continuous NLL ``-log f(y)``:
  ``d/d alpha = digamma(alpha) - log(rate) - log(y)`` and
  ``d/d rate = y - alpha/rate`` ((10));
* the profile-likelihood equation of the continuous MLE,
  ``log(alpha) - digamma(alpha) = log(mean y) - mean(log y)`` with
  ``rate = alpha / mean y``, as the stationarity condition of the mean NLL
  ((22), used by :func:`theory.gamma.fit_gamma`);
* the geometric toy: the geometric-hazard base model guided by the exact
  oracle at every token ((15), a Doob h-transform). The oracle weight of
  "continue" is summed from the geometric law, the guided stop probability
  follows by Bayes' rule, and the product of guided continue probabilities
  times the final stop probability is the geometric law truncated to
  ``1..lbar``, whose mean is summed in closed form ((19)-(21)).

The tests in ``tests/theory/test_symbolic_gamma.py`` check these results
against the numeric implementation in :mod:`theory.gamma`.
"""

from __future__ import annotations

from functools import cache

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
    "M1",
    "M2",
    "mean_nll",
    "profile_rate",
    "profile_equation",
    "H",
    "LBAR",
    "geometric_remaining_cdf",
    "geometric_guided_stop_prob",
    "guided_length_pmf",
    "truncated_geometric_pmf",
    "truncated_geometric_mean",
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
    """Gamma(shape ``alpha``, rate ``rate``) density of ``Y`` (docs/models/gamma.md (1))."""
    return rate**alpha / sp.gamma(alpha) * y ** (alpha - 1) * sp.exp(-rate * y)


def log_density(y=Y, alpha=ALPHA, rate=RATE):
    """``log f(y)`` expanded: ``alpha log rate - loggamma(alpha) + (alpha-1) log y - rate y``."""
    return sp.expand_log(sp.log(density(y, alpha, rate)), force=True)


@cache
def mgf():
    """``E[exp(k Y)]`` by integrating ``exp(k y) f(y)`` over ``(0, inf)``.

    docs/models/gamma.md (6).

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
    """``E[(L + 1)**k] = E[exp(k Y)]`` for ``rate > k`` (docs/models/gamma.md (6))."""
    return mgf().subs({K: k, ALPHA: alpha, RATE: rate}, simultaneous=True)


def length_mean(alpha=ALPHA, rate=RATE):
    """``E[L] = E[(L+1)] - 1`` for ``rate > 1`` (docs/models/gamma.md (6))."""
    return length_moment(1, alpha, rate) - 1


@cache
def _mode_y():
    sols = sp.solve(sp.diff(log_density(), Y), Y)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one stationary point, got {sols}")
    return sols[0]


def mode_y(alpha=ALPHA, rate=RATE):
    """Mode of ``Y``: the root of ``d/dy log f(y) = 0``, ``(alpha-1)/rate`` (for ``alpha > 1``)."""
    return _mode_y().subs({ALPHA: alpha, RATE: rate}, simultaneous=True)


def length_mode(alpha=ALPHA, rate=RATE):
    """The authors' "expected length" ``exp(mode_y) - 1``: the decoded mode of ``Y`` ((7))."""
    return sp.exp(mode_y(alpha, rate)) - 1


@cache
def _cdf():
    return sp.simplify(sp.integrate(density(_T), (_T, 0, Y)))


def cdf(y=Y, alpha=ALPHA, rate=RATE):
    """``F(y) = int_0^y f`` = ``lowergamma(alpha, rate y) / Gamma(alpha)``.

    docs/models/gamma.md (2).
    """
    return _cdf().subs({Y: y, ALPHA: alpha, RATE: rate}, simultaneous=True)


def length_cdf(ell=ELL, alpha=ALPHA, rate=RATE):
    """``Pr(L <= ell) = Pr(Y <= log(ell + 1)) = F(log(ell + 1))`` (docs/models/gamma.md (3)).

    ``L = exp(Y) - 1`` is increasing in ``Y``, so the event ``{L <= ell}`` is
    ``{Y <= g^-1(ell)}`` with ``g^-1`` solved here by :func:`sympy.solve`.
    """
    inv = sp.solve(sp.Eq(sp.exp(Y) - 1, ELL), Y)
    if len(inv) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one inverse, got {inv}")
    return cdf(inv[0], alpha, rate).subs(ELL, ell)


def budget_prob(b=BUDGET, alpha=ALPHA, rate=RATE):
    """Guidance weight ``Pr(L <= b) = F(log(b + 1))`` (docs/models/gamma.md (3))."""
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
    """Continuous training loss ``-log f(y)`` (docs/models/gamma.md (9))."""
    return -log_density(y, alpha, rate)


@cache
def _nll_grad():
    loss = nll()
    return (sp.simplify(sp.diff(loss, ALPHA)), sp.simplify(sp.diff(loss, RATE)))


def nll_grad(y=Y, alpha=ALPHA, rate=RATE):
    """``(d nll / d alpha, d nll / d rate)`` by differentiation (docs/models/gamma.md (10)).

    Returns
    -------
    (sympy.Expr, sympy.Expr)
        ``digamma(alpha) - log(rate) - log(y)`` and ``y - alpha / rate``.
    """
    sub = {Y: y, ALPHA: alpha, RATE: rate}
    return tuple(g.subs(sub, simultaneous=True) for g in _nll_grad())


# ---------------------------------------------------------------------------
# continuous MLE: the profile-likelihood equation
# ---------------------------------------------------------------------------

M1 = sp.Symbol("m1", positive=True)  # mean of y over the sample
M2 = sp.Symbol("m2", real=True)  # mean of log y over the sample


def mean_nll(alpha=ALPHA, rate=RATE, m1=M1, m2=M2):
    """Mean continuous NLL of a sample with ``mean y = m1``, ``mean log y = m2`` ((9)).

    ``-log f`` is linear in ``y`` and ``log y``, so the sample mean of the
    loss depends on the data only through these two statistics.
    """
    Z = sp.Symbol("z", real=True)
    lin = nll().subs(sp.log(Y), Z)  # nll as a function of y and z = log y
    lin = sp.expand(lin)
    if sp.diff(lin, Y, 2) != 0 or sp.diff(lin, Z, 2) != 0:  # pragma: no cover
        raise RuntimeError(f"nll is not linear in (y, log y): {lin}")
    return lin.subs({Y: m1, Z: m2}, simultaneous=True).subs(
        {ALPHA: alpha, RATE: rate}, simultaneous=True)


@cache
def _profile_rate():
    sols = sp.solve(sp.diff(mean_nll(), RATE), RATE)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one rate stationary point, got {sols}")
    return sols[0]


def profile_rate(alpha=ALPHA, m1=M1):
    """The rate that minimises the mean NLL at fixed shape, ``alpha / m1`` ((22))."""
    return _profile_rate().subs({ALPHA: alpha, M1: m1}, simultaneous=True)


@cache
def _profile_equation():
    profiled = mean_nll(ALPHA, _profile_rate())
    return sp.simplify(sp.expand_log(sp.diff(profiled, ALPHA), force=True))


def profile_equation(alpha=ALPHA, m1=M1, m2=M2):
    """``d/d alpha`` of the profiled mean NLL; its root is the continuous MLE of the shape.

    Simplifies to ``digamma(alpha) - log(alpha) + log(m1) - m2``: the MLE
    solves ``log(alpha) - digamma(alpha) = log(m1) - m2`` ((22); used by
    :func:`theory.gamma.fit_gamma`).
    """
    return _profile_equation().subs({ALPHA: alpha, M1: m1, M2: m2}, simultaneous=True)


# ---------------------------------------------------------------------------
# the geometric toy: exact oracle at every token, docs/models/gamma.md (19)-(21)
# ---------------------------------------------------------------------------

H = sp.Symbol("h", positive=True)  # stop hazard per token
LBAR = sp.Symbol("lbar", integer=True, positive=True)  # thinking budget
_M = sp.Symbol("m", integer=True, nonnegative=True)
_J = sp.Symbol("j", integer=True, positive=True)
_KK = sp.Symbol("k", integer=True, positive=True)


@cache
def _geometric_remaining_cdf():
    return sp.simplify(sp.summation(H * (1 - H) ** (_J - 1), (_J, 1, _M)))


def geometric_remaining_cdf(m=_M, h=H):
    """``Pr(G <= m)`` of a geometric count ``G >= 1`` with hazard ``h``, summed: ``1 - (1-h)^m``."""
    return _geometric_remaining_cdf().subs({_M: m, H: h}, simultaneous=True)


def geometric_guided_stop_prob(b=BUDGET, h=H):
    """Guided stop probability at remaining budget ``b`` under the exact oracle ((19)).

    Oracle weights ``Pr(L <= b | v)``: stopping now has ``L = 1`` (weight 1);
    continuing has ``L = 1 + G`` (weight ``Pr(G <= b - 1)``). Bayes' rule
    ((11)) gives ``h / (h + (1 - h) Pr(G <= b - 1))``.
    """
    cont = geometric_remaining_cdf(b - 1, h)
    return h / (h * 1 + (1 - h) * cont)


def guided_length_pmf(k, lbar, h=H):
    """``Pr(T = k)`` of the guided chain for concrete integers ``1 <= k <= lbar`` ((13), (15)).

    Token ``t`` (0-based) is decided at remaining budget ``b_t = lbar - t``;
    ``T = k`` means ``k - 1`` guided continues and then a guided stop.
    """
    k, lbar = int(k), int(lbar)
    out = sp.Integer(1)
    for t in range(k - 1):
        out *= 1 - geometric_guided_stop_prob(lbar - t, h)
    return out * geometric_guided_stop_prob(lbar - (k - 1), h)


def truncated_geometric_pmf(k=_KK, lbar=LBAR, h=H):
    """The geometric law conditioned on ``T <= lbar``: ``h (1-h)^(k-1) / Pr(G <= lbar)`` ((20))."""
    return h * (1 - h) ** (k - 1) / geometric_remaining_cdf(lbar, h)


@cache
def _truncated_geometric_mean():
    return sp.simplify(sp.summation(_KK * truncated_geometric_pmf(_KK, LBAR, H), (_KK, 1, LBAR)))


def truncated_geometric_mean(lbar=LBAR, h=H):
    """``E[T]`` of :func:`truncated_geometric_pmf`, by symbolic summation ((21)).

    Equals ``1/h - lbar (1-h)^lbar / (1 - (1-h)^lbar)``.
    """
    return _truncated_geometric_mean().subs({LBAR: lbar, H: h}, simultaneous=True)
