"""Sympy derivations for Knapsack RL (``docs/models/knapsack.md``).

Every function derives its result from a definition rather than quoting the
closed form, and returns a sympy expression (or a tuple of them):

* ``f(N, p) = P[0 < K < N]`` as one minus the two extreme binomial terms, and
  as the explicit binomial sum for a concrete ``N``, equation (1);
* the marginal gain ``f(N+1) - f(N)`` (2) and the second difference;
* the InfoGain derivative, its stationary point and maximum (3);
* ``E[T] = sum_{n >= 0} P[T > n]`` by summing the geometric series of the
  survival function (8), and from the probability mass function (9);
* the high-probability bound ``N_alpha`` from ``max(p, 1-p)^N = 1 - alpha`` (10);
* the GRPO advantages from the group mean and unbiased std (14);
* the expected effective-gradient and effective-prompt ratios by linearity (12), (13);
* DUET: the stationary point of the Lagrangian of the cost-weighted variance
  (22), its multiplier from the budget (23), the variance ratio of the
  optimum against uniform and the Lagrange identity behind the
  Cauchy-Schwarz inequality (30), the gradient moments of a rollout (31) and
  the moments of the abort rule's weight (32), and the gamma model's rate
  for a mean length (31).

Numbers may be passed as ints, ``Rational``, sympy expressions or Python
floats (converted through their shortest ``repr``, see
:func:`theory.symbolic.phase.exact`). The tests in
``tests/theory/test_symbolic_knapsack.py`` check these results against
:mod:`theory.knapsack`.
"""

from __future__ import annotations

import numbers

import sympy as sp

from .phase import exact

__all__ = [
    "N",
    "P",
    "K",
    "ALPHA",
    "exact",
    "prob_nonzero_gradient",
    "prob_nonzero_gradient_sum",
    "marginal_gain",
    "second_difference",
    "info_gain",
    "info_gain_derivative",
    "info_gain_argmax",
    "value",
    "first_mixed_survival",
    "expected_rollouts",
    "expected_rollouts_from_pmf",
    "coverage_budget",
    "grpo_advantages",
    "effective_gradient_ratio",
    "effective_prompt_ratio",
    "neyman_stationary_point",
    "neyman_multiplier",
    "neyman_variance_ratio",
    "lagrange_identity",
    "rollout_gradient_moments",
    "abort_weight_moments",
    "gamma_rate_for_mean",
]

N = sp.Symbol("N", integer=True, positive=True)  # group size
P = sp.Symbol("p", positive=True)  # success rate, 0 < p < 1 where it matters
K = sp.Symbol("k", integer=True, positive=True)  # successes in a group
ALPHA = sp.Symbol("alpha", positive=True)  # target probability in (0, 1)


def _count(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < lo:
        raise ValueError(f"{name} must be an integer in [{lo}, inf], got {value}")
    return value


def prob_nonzero_gradient(n=N, p=P):
    """``f(N, p) = 1 - P[K = 0] - P[K = N]`` for ``K ~ Bin(N, p)``, ``docs/models/knapsack.md (1)``.

    Derived from the binomial pmf: the group is mixed unless all rollouts
    fail (``(1-p)^N``) or all succeed (``p^N``).
    """
    n, p = exact(n), exact(p)
    pmf = lambda k: sp.binomial(n, k) * p**k * (1 - p) ** (n - k)  # noqa: E731
    return sp.expand_func(1 - pmf(0) - pmf(n))


def prob_nonzero_gradient_sum(n, p=P):
    """``f(n, p)`` as the sum ``sum_{k=1}^{n-1} C(n, k) p^k (1-p)^(n-k)``.

    ``docs/models/knapsack.md (1)``.
    """
    n = _count("n", n, 1)
    p = exact(p)
    return sp.Add(*[sp.binomial(n, k) * p**k * (1 - p) ** (n - k) for k in range(1, n)])


def marginal_gain(n=N, p=P):
    """``Delta(N, p) = f(N+1, p) - f(N, p)`` simplified, ``docs/models/knapsack.md (2)``."""
    n, p = exact(n), exact(p)
    d = prob_nonzero_gradient(n + 1, p) - prob_nonzero_gradient(n, p)
    return sp.factor_terms(sp.expand(sp.powsimp(sp.expand_power_exp(d))))


def second_difference(n=N, p=P):
    """``Delta(N+1, p) - Delta(N, p) = -[p^N (1-p)^2 + (1-p)^N p^2]``: ``f`` is strictly concave.

    Derived here; the concavity behind ``docs/models/knapsack.md (6)``.
    """
    n, p = exact(n), exact(p)
    d = (prob_nonzero_gradient(n + 2, p) - 2 * prob_nonzero_gradient(n + 1, p)
         + prob_nonzero_gradient(n, p))
    return sp.expand(sp.powsimp(sp.expand_power_exp(d)))


def info_gain(p=P):
    """InfoGain ``p (1-p)^2``, the paper's weight, ``docs/models/knapsack.md (3)``."""
    p = exact(p)
    return p * (1 - p) ** 2


def info_gain_derivative(p=P):
    """``d/dp [p (1-p)^2]``, factored: ``(1-p)(1-3p)`` up to sign convention, derived here."""
    return sp.factor(sp.diff(info_gain(P), P)).subs(P, exact(p))


def info_gain_argmax():
    """The maximiser and maximum of InfoGain on ``(0, 1)``: ``(1/3, 4/27)``, derived here.

    Solved from the first-order condition; the root in ``(0, 1)`` with a
    negative second derivative.
    """
    crit = [r for r in sp.solve(sp.diff(info_gain(P), P), P) if 0 < r < 1]
    best = [r for r in crit if sp.diff(info_gain(P), P, 2).subs(P, r) < 0]
    (r,) = best
    return r, sp.nsimplify(info_gain(r))


def value(n=N, p=P):
    """``Value(N, p) = f(N, p) * InfoGain(p)``, the paper's, ``docs/models/knapsack.md (4)``."""
    return prob_nonzero_gradient(n, p) * info_gain(p)


def first_mixed_survival(n=N, p=P):
    """``P[T > n]`` for ``n >= 1``: the first ``n`` rollouts all succeed or all fail.

    ``docs/models/knapsack.md (8)``.
    """
    n, p = exact(n), exact(p)
    return p**n + (1 - p) ** n


def _geometric_tail(r):
    """``sum_{n >= 1} r^n`` for ``0 < r < 1``, the convergent branch of sympy's sum."""
    j = sp.Symbol("j", integer=True, positive=True)
    s = sp.summation(r**j, (j, 1, sp.oo))
    if isinstance(s, sp.Piecewise):
        s = s.args[0].expr  # the branch |r| < 1, which holds for a rate in (0, 1)
    return s


def expected_rollouts(p=P):
    """``E[T] = sum_{n >= 0} P[T > n] = 1 + sum_{n >= 1} (p^n + (1-p)^n)``.

    Paper Thm 1, ``docs/models/knapsack.md (9)``.

    Summing both geometric series gives ``1/(p(1-p)) - 1``; returned
    simplified (rational function of ``p``).
    """
    q = sp.Symbol("q", positive=True)
    total = 1 + _geometric_tail(P) + _geometric_tail(q).subs(q, 1 - P)
    return sp.simplify(sp.together(total)).subs(P, exact(p))


def expected_rollouts_from_pmf(p, terms):
    """Partial sum ``sum_{n=2}^{terms} n P[T = n]`` from the pmf ``P[T>n-1] - P[T>n]``.

    ``docs/models/knapsack.md (9)``.

    For a concrete rate ``p``; a check of :func:`expected_rollouts` that does
    not use the tail-sum identity. ``T >= 2`` always.
    """
    terms = _count("terms", terms, 2)
    p = exact(p)
    surv = lambda n: 1 if n == 0 else first_mixed_survival(n, p)  # noqa: E731
    return sp.Add(*[n * (surv(n - 1) - surv(n)) for n in range(2, terms + 1)])


def coverage_budget(p=P, alpha=ALPHA):
    """``N_alpha = ln(1-alpha) / ln max(p, 1-p)``: the root of ``max^N = 1 - alpha``.

    Paper Thm 1, ``docs/models/knapsack.md (10)``.

    Returned for the branch ``p <= 1/2`` (``max = 1 - p``); the other branch
    is its mirror ``p -> 1-p``. Solved with :func:`sympy.solve`.
    """
    n = sp.Symbol("n", positive=True)
    big = 1 - P
    (root,) = sp.solve(sp.Eq(big**n, 1 - ALPHA), n)
    return root.subs({P: exact(p), ALPHA: exact(alpha)})


def grpo_advantages(k=K, n=N):
    """GRPO advantages ``(A+, A-)`` of a group of ``n`` with ``k`` successes, ``eps = 0``.

    ``docs/models/knapsack.md (14)``.

    From the definition: mean ``k/n`` and unbiased std
    ``sqrt(sum_j (r_j - mean)^2 / (n - 1))`` of ``k`` ones and ``n-k`` zeros;
    returned as ``(1 - mean)/s`` and ``(0 - mean)/s`` (``0 < k < n``).
    """
    k, n = exact(k), exact(n)
    mean = k / n
    var = (k * (1 - mean) ** 2 + (n - k) * mean**2) / (n - 1)
    s = sp.sqrt(sp.factor(var))
    return sp.simplify((1 - mean) / s), sp.simplify(-mean / s)


def effective_gradient_ratio(ns, ps):
    """``E[EGR] = sum_i N_i f(N_i, p_i) / sum_i N_i`` by linearity.

    ``docs/models/knapsack.md (12)``.

    EGR is ``sum_i N_i 1{group i mixed} / sum_i N_i`` with fixed ``N_i``; the
    expectation of each indicator is ``f(N_i, p_i)``.
    """
    ns = [exact(v) for v in ns]
    ps = [exact(v) for v in ps]
    if len(ns) != len(ps) or not ns:
        raise ValueError(f"ns must be a non-empty list of the length of ps ({len(ps)}), "
                         f"got {len(ns)}")
    num = sp.Add(*[n * prob_nonzero_gradient(n, p) for n, p in zip(ns, ps)])
    return num / sp.Add(*ns)


def effective_prompt_ratio(ns, ps):
    """``E[EPR] = (1/M) sum_i f(N_i, p_i)`` by linearity, ``docs/models/knapsack.md (13)``."""
    ns = [exact(v) for v in ns]
    ps = [exact(v) for v in ps]
    if len(ns) != len(ps) or not ns:
        raise ValueError(f"ns must be a non-empty list of the length of ps ({len(ps)}), "
                         f"got {len(ns)}")
    return sp.Add(*[prob_nonzero_gradient(n, p) for n, p in zip(ns, ps)]) / len(ns)


# ---------------------------------------------------------------------------
# DUET, docs/models/knapsack.md (22)-(23), (30)-(32)
# ---------------------------------------------------------------------------

LAM = sp.Symbol("lambda", positive=True)  # DUET's multiplier
S = sp.Symbol("s", positive=True)  # a prompt's informativeness
LEN = sp.Symbol("L", positive=True)  # a prompt's mean rollout length
BUDGET = sp.Symbol("B", positive=True)  # token budget
Q_ABORT = sp.Symbol("q", positive=True)  # chance of no marker at the abort checkpoint
EPS = sp.Symbol("epsilon", positive=True)  # abort lottery's keep probability
MEAN = sp.Symbol("m", positive=True)  # mean length


def _prompts(m):
    m = _count("m", m, 1)
    s = sp.symbols(f"s1:{m + 1}", positive=True)
    ell = sp.symbols(f"L1:{m + 1}", positive=True)
    return s, ell


def neyman_stationary_point(s=S, ell=LEN, lam=LAM):
    """``n > 0`` with ``d/dn [s^2 / n + lambda n L] = 0``: ``s / sqrt(lambda L)`` (22)."""
    n = sp.Symbol("n", positive=True)
    sols = sp.solve(sp.diff(s**2 / n + lam * n * ell, n), n)
    (sol,) = [x for x in sols if x.is_positive is not False]
    return sp.simplify(sol)


def neyman_multiplier(m=3, budget=BUDGET):
    """``lambda`` with ``sum_q n_q(lambda) L_q = B`` for ``n_q`` of (22) (23).

    Returns ``(lambda, s, L)`` for ``m`` prompts; ``lambda = (sum s sqrt L / B)^2``.
    """
    s, ell = _prompts(m)
    spend = sum(neyman_stationary_point(si, li) * li for si, li in zip(s, ell))
    sols = sp.solve(sp.Eq(spend, budget), LAM)
    return sp.simplify(sols[0]), s, ell


def neyman_variance_ratio(m=3):
    """Variance of the optimum over uniform's, from the definitions (30).

    ``sum s^2 / n*`` at ``n*`` of (22), (23) divided by ``sum s^2 / n_u`` with
    ``n_u = B / sum L``; returns ``(ratio, s, L)``.
    """
    lam, s, ell = neyman_multiplier(m, BUDGET)
    n_star = [neyman_stationary_point(si, li, lam) for si, li in zip(s, ell)]
    v_star = sum(si**2 / ni for si, ni in zip(s, n_star))
    v_uni = sum(si**2 for si in s) * sum(ell) / BUDGET
    return sp.simplify(v_star / v_uni), s, ell


def lagrange_identity(m=3):
    """``sum a^2 sum b^2 - (sum a b)^2 - sum_{i<j} (a_i b_j - a_j b_i)^2``, expanded: zero.

    The Lagrange identity: with ``a = s`` and ``b = sqrt(L)`` it makes the
    ratio of (30) at most 1, and equal to 1 iff every ``a_i b_j = a_j b_i``,
    i.e. ``s`` proportional to ``sqrt(L)``.
    """
    m = _count("m", m, 2)
    a = sp.symbols(f"a1:{m + 1}", real=True)
    b = sp.symbols(f"b1:{m + 1}", real=True)
    lhs = sum(x**2 for x in a) * sum(y**2 for y in b) - sum(x * y for x, y in zip(a, b)) ** 2
    squares = sum((a[i] * b[j] - a[j] * b[i]) ** 2 for i in range(m) for j in range(i + 1, m))
    return sp.expand(lhs - squares)


def rollout_gradient_moments(p=P):
    """``E[x]``, ``E[x^2]`` of ``x = (r - 1/2)(r - p)``, ``r ~ Bernoulli(p)`` (31)."""
    half = sp.Rational(1, 2)
    x1, x0 = (1 - half) * (1 - p), (0 - half) * (0 - p)
    return sp.factor(p * x1 + (1 - p) * x0), sp.factor(p * x1**2 + (1 - p) * x0**2)


def abort_weight_moments(q=Q_ABORT, eps=EPS):
    """``E[a]`` and ``E[a^2]`` of the abort rule's weight (32).

    ``a = 1`` with probability ``1 - q`` (the marker in time), ``1/eps`` with
    probability ``q eps`` (the lottery won), else 0.
    """
    return (sp.simplify((1 - q) + q * eps / eps), sp.simplify((1 - q) + q * eps / eps**2))


def gamma_rate_for_mean(mean=MEAN, alpha=ALPHA):
    """The rate with ``(rate / (rate - 1))^alpha - 1 = mean`` (31), ``docs/models/gamma.md (6)``."""
    c, r = sp.Symbol("c", positive=True), sp.Symbol("r")
    # rate / (rate - 1) = c  <=>  rate = c / (c - 1), with c = (1 + mean)^(1/alpha)
    rate = sp.solve(sp.Eq(r / (r - 1), c), r)[0]
    return sp.simplify(rate.subs(c, (1 + mean) ** (1 / alpha)))
