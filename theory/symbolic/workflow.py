"""Sympy derivations for the workflow model (``docs/models/workflow.md``).

Every function derives its result from a definition and returns a sympy
expression (or a tuple of them):

* the moments of the lognormal and gamma laws by integrating their densities,
  and the moment matching of (4)-(5) substituted into them;
* the negative-binomial distribution function of a chain under Seq-k as the
  term-by-term sum, as the binomial tail ``Pr[Bin(N_max, q) >= n]`` and as the
  incomplete beta integral ``I_q(n, N_max - n + 1)`` (22);
* the LOADER node objective with nothing in flight, its derivative in ``r``,
  and the stationarity condition ``1 + alpha = 1/y + ln y`` with
  ``y = (1-p)^r`` (15), and the Lambert-W root that solves it;
* the Hoeffding radius from ``2 N exp(-2 M eps^2) = delta`` (10);
* the mean of the largest of ``k`` exponential latencies, ``mu H_k`` (24).

The tests in ``tests/theory/test_symbolic_workflow.py`` check these results
against :mod:`theory.workflow`.
"""

from __future__ import annotations

import numbers

import sympy as sp

from .phase import exact

__all__ = ["Q", "R", "Y", "ALPHA", "lognormal_moments", "lognormal_matched",
           "gamma_moments", "gamma_matched", "negative_binomial_cdf", "binomial_tail",
           "incomplete_beta", "loader_objective", "loader_derivative",
           "loader_stationarity", "lambert_root", "hoeffding_radius",
           "expected_max_exponential"]

Q = sp.Symbol("q", positive=True)        # per-batch success probability
R = sp.Symbol("r", positive=True)        # samples per round
Y = sp.Symbol("y", positive=True)        # (1 - p)^r
ALPHA = sp.Symbol("alpha", positive=True)
_MU = sp.Symbol("mu", positive=True)
_S = sp.Symbol("s", positive=True)
_X = sp.Symbol("x", positive=True)
_Z = sp.Symbol("z", real=True)


def _count(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if int(value) < lo:
        raise ValueError(f"{name} must be an integer in [{lo}, inf], got {value}")
    return int(value)


def lognormal_moments(m=None, sigma=None):
    """``(E[X], Var[X])`` of ``X = exp(m + sigma Z)``, ``Z ~ N(0, 1)``, by integrating the density.

    Derived from ``E[exp(t Z)] = exp(t^2 / 2)`` (integrated) at ``t = sigma``
    and ``t = 2 sigma``; ``docs/models/workflow.md (4)``.
    """
    m = sp.Symbol("m", real=True) if m is None else exact(m)
    sigma = sp.Symbol("sigma", positive=True) if sigma is None else exact(sigma)
    t = sp.Symbol("t", real=True)
    mgf = sp.simplify(sp.integrate(sp.exp(t * _Z) * sp.exp(-_Z**2 / 2) / sp.sqrt(2 * sp.pi),
                                   (_Z, -sp.oo, sp.oo)))
    first = sp.exp(m) * mgf.subs(t, sigma)
    second = sp.exp(2 * m) * mgf.subs(t, 2 * sigma)
    return sp.simplify(first), sp.simplify(second - first**2)


def lognormal_matched(mu=_MU, s=_S):
    """``(E[X], sd[X])`` of the lognormal with ``m, sigma`` from (4): ``(mu, s)`` after simplifying.

    ``phi = sqrt(s^2 + mu^2)``, ``sigma^2 = ln(phi^2 / mu^2)``, ``m = ln(mu^2 / phi)``.
    """
    mu, s = exact(mu), exact(s)
    phi = sp.sqrt(s**2 + mu**2)
    sigma = sp.sqrt(sp.log(phi**2 / mu**2))
    m = sp.log(mu**2 / phi)
    mean, var = lognormal_moments()
    subs = {sp.Symbol("m", real=True): m, sp.Symbol("sigma", positive=True): sigma}
    mean = sp.simplify(sp.expand_log(mean.subs(subs), force=True))
    var = sp.simplify(sp.expand_log(var.subs(subs), force=True))
    return sp.simplify(mean), sp.simplify(sp.sqrt(var))


def gamma_moments(shape=None, scale=None):
    """``(E[X], Var[X])`` of the gamma law, integrating ``x^(a-1) e^(-x/th) / (G(a) th^a)``."""
    a = sp.Symbol("a", positive=True) if shape is None else exact(shape)
    th = sp.Symbol("theta", positive=True) if scale is None else exact(scale)
    dens = _X ** (a - 1) * sp.exp(-_X / th) / (sp.gamma(a) * th**a)
    m1 = sp.simplify(sp.integrate(_X * dens, (_X, 0, sp.oo), conds="none"))
    m2 = sp.simplify(sp.integrate(_X**2 * dens, (_X, 0, sp.oo), conds="none"))
    return sp.simplify(sp.gammasimp(m1)), sp.simplify(sp.gammasimp(m2 - m1**2))


def gamma_matched(mu=_MU, s=_S):
    """``(E[X], sd[X])`` of the gamma law with shape ``(mu/s)^2`` and scale ``s^2/mu``, (5)."""
    mu, s = exact(mu), exact(s)
    mean, var = gamma_moments()
    subs = {sp.Symbol("a", positive=True): (mu / s) ** 2,
            sp.Symbol("theta", positive=True): s**2 / mu}
    return sp.simplify(mean.subs(subs)), sp.simplify(sp.sqrt(var.subs(subs)))


def negative_binomial_cdf(n, n_max, q=Q):
    """``Pr[N <= N_max] = sum_{j=n}^{N_max} C(j-1, n-1) q^n (1-q)^(j-n)``, (22).

    ``N`` is the number of batches to ``n`` successes: the ``n``-th success at
    batch ``j`` has probability ``C(j-1, n-1) q^n (1-q)^(j-n)``.
    """
    n = _count("n", n, 1)
    n_max = _count("n_max", n_max, 0)
    q = exact(q)
    return sp.expand(sp.Add(*[sp.binomial(j - 1, n - 1) * q**n * (1 - q) ** (j - n)
                              for j in range(n, n_max + 1)]))


def binomial_tail(n, n_max, q=Q):
    """``Pr[Bin(N_max, q) >= n]``: at least ``n`` successes in ``N_max`` batches, the same event."""
    n = _count("n", n, 1)
    n_max = _count("n_max", n_max, 0)
    q = exact(q)
    return sp.expand(sp.Add(*[sp.binomial(n_max, j) * q**j * (1 - q) ** (n_max - j)
                              for j in range(n, n_max + 1)]))


def incomplete_beta(a, b, q=Q):
    """``I_q(a, b) = int_0^q t^(a-1) (1-t)^(b-1) dt / B(a, b)`` for integers ``a, b >= 1``."""
    a = _count("a", a, 1)
    b = _count("b", b, 1)
    q = exact(q)
    t = sp.Symbol("t", positive=True)
    beta = sp.gamma(a) * sp.gamma(b) / sp.gamma(a + b)
    return sp.expand(sp.integrate(t ** (a - 1) * (1 - t) ** (b - 1), (t, 0, q)) / beta)


def loader_objective(w=None, beta=None, b=None, t=None, r=R):
    """``w d(r) + beta c(r)`` with nothing in flight: ``(w + beta r) t / (1 - e^(-b r))``, (14).

    ``d(r) = t / (1 - a^r)`` and ``c(r) = r d(r)`` with ``a = e^(-b)``.
    """
    w = sp.Symbol("w", positive=True) if w is None else exact(w)
    beta = sp.Symbol("beta", positive=True) if beta is None else exact(beta)
    b = sp.Symbol("b", positive=True) if b is None else exact(b)
    t = sp.Symbol("t", positive=True) if t is None else exact(t)
    d = t / (1 - sp.exp(-b * r))
    return w * d + beta * r * d


def loader_derivative():
    """``d/dr`` of :func:`loader_objective` over the positive ``t e^(-b r) / (1-e^(-b r))^2``."""
    f = loader_objective()
    b, t = sp.Symbol("b", positive=True), sp.Symbol("t", positive=True)
    scale = t * sp.exp(-b * R) / (1 - sp.exp(-b * R)) ** 2
    return sp.simplify(sp.diff(f, R) / scale)


def loader_stationarity():
    """The stationarity condition ``1/y + ln y - (1 + alpha)``, from the derivative, (15).

    Setting the derivative to zero, writing ``y = e^(-b r)`` (so ``b r = -ln y``)
    and ``alpha = b w / beta``, and solving for ``alpha`` gives
    ``alpha = 1/y + ln y - 1``; returned as ``1/y + ln y - (1 + alpha)``.
    """
    b = sp.Symbol("b", positive=True)
    w = sp.Symbol("w", positive=True)
    beta = sp.Symbol("beta", positive=True)
    g = sp.expand(loader_derivative())
    g = g.subs(sp.exp(b * R), 1 / Y).subs(sp.exp(-b * R), Y).subs(R, -sp.log(Y) / b)
    g = sp.simplify(g.subs(w, ALPHA * beta / b))
    (alpha_at_y,) = sp.solve(g, ALPHA)
    return sp.expand(alpha_at_y - ALPHA)


def lambert_root(c):
    """``y* = -1 / W_{-1}(-e^(-c))`` for ``c > 1``, and ``1/y* + ln y* - c`` (zero), (15)."""
    c = exact(c)
    y = -1 / sp.LambertW(-sp.exp(-c), -1)
    return y, 1 / y + sp.log(y) - c


def hoeffding_radius(n_pairs=None, rollouts=None, delta=None):
    """``eps`` solving ``2 N exp(-2 M eps^2) = delta``: union of Hoeffding bounds, (10)."""
    n = sp.Symbol("N", positive=True) if n_pairs is None else exact(n_pairs)
    m = sp.Symbol("M", positive=True) if rollouts is None else exact(rollouts)
    d = sp.Symbol("delta", positive=True) if delta is None else exact(delta)
    eps = sp.Symbol("epsilon", positive=True)
    bound = 2 * n * sp.exp(-2 * m * eps**2)
    # the logarithm of both sides is a quadratic in eps
    (sol,) = sp.solve(sp.expand_log(sp.log(bound), force=True) - sp.log(d), eps)
    return sp.simplify(sol)


def expected_max_exponential(k, mu=_MU):
    """``E[max of k]`` of exponentials of mean ``mu``: ``int_0^inf 1 - (1-e^(-x/mu))^k dx``."""
    k = _count("k", k, 1)
    mu = exact(mu)
    integrand = sp.expand(1 - (1 - sp.exp(-_X / mu)) ** k)
    return sp.simplify(sp.integrate(integrand, (_X, 0, sp.oo)))
