"""Sympy derivations of the bbam closed forms, docs/models/bbam.md (3)-(9), (13) and (19).

Every function derives its result from a definition rather than quoting the
closed form, and returns a sympy expression (or a list or tuple of them):

* the KKT stationarity of the paper's Lagrangian, docs/models/bbam.md (3),
  solved for ``b_j``: ``b_j = (beta_j c_j / lambda)**(1/(beta_j+1))`` (4);
* the equal-beta multiplier from the budget constraint, the resulting
  allocation (which simplifies to the paper's Eq. (6), docs/models/bbam.md
  (5)), its optimal value ``B**-beta (sum_j c_j**(1/(beta+1)))**(beta+1)`` and
  the uniform value (7), the allocation ratio, elasticities and limits;
* the derivative of the log weight of the paper's Eq. (6) in ``beta`` and its
  Lambert-W root ``beta* = 1/W0(c/(lambda e))`` (8);
* the bridge identity (13): a schedule is the exact optimum under the implied
  prior ``c_j = kappa (w_j f_j)**(beta+1)``;
* E3 = A**2/T (9), its elasticities, the ratio identity and the gap between
  the mean of per-query E3 and the dataset E3;
* the expected-tokens integral ``int_0^b min(1, c x**-beta + u) dx`` of the
  sub-question length model (19).

Numbers may be passed as ints, ``Rational``, sympy expressions or Python
floats; a float is converted through its shortest decimal ``repr``
(``0.3 -> 3/10``, see :func:`theory.symbolic.phase.exact`).

The tests in ``tests/theory/test_symbolic_bbam.py`` check these results
against the numeric implementation in :mod:`theory.bbam`.
"""

from __future__ import annotations

import numbers
from functools import cache

import sympy as sp

from .phase import exact

__all__ = [
    "B",
    "C",
    "BETA",
    "LAM",
    "BUDGET",
    "KAPPA",
    "X",
    "U_ALE",
    "A",
    "T",
    "P",
    "exact",
    "indexed",
    "lagrangian",
    "kkt_stationary_point",
    "kkt_allocation",
    "equal_beta_multiplier",
    "equal_beta_allocation",
    "paper_allocation",
    "objective",
    "equal_beta_value",
    "uniform_value",
    "allocation_ratio",
    "allocation_elasticities",
    "equal_beta_limits",
    "paper_weight",
    "log_weight_derivative",
    "beta_star_equation",
    "beta_star_solution",
    "beta_star",
    "bridge_prior",
    "bridge_identity",
    "e3",
    "e3_elasticities",
    "e3_ratio_identity",
    "e3_relative_change",
    "e3_mean_gap",
    "expected_tokens",
]

# --------------------------------------------------------------------------
# Symbols, with the model's domains as assumptions.
# --------------------------------------------------------------------------
B = sp.Symbol("b", positive=True)  # tokens given to one sub-question
C = sp.Symbol("c", positive=True)  # initial epistemic uncertainty
BETA = sp.Symbol("beta", positive=True)  # power-law exponent
LAM = sp.Symbol("lambda", positive=True)  # Lagrange multiplier
BUDGET = sp.Symbol("B", positive=True)  # total budget of a query
KAPPA = sp.Symbol("kappa", positive=True)  # scale of the bridge prior
X = sp.Symbol("x", positive=True)  # integration variable (tokens)
U_ALE = sp.Symbol("u", nonnegative=True)  # aleatoric uncertainty
A = sp.Symbol("A", positive=True)  # score in percent
T = sp.Symbol("T", positive=True)  # mean completion tokens
P = sp.Symbol("p", positive=True)  # success rate of 0/1 scores


def _check_m(m):
    if isinstance(m, bool) or not isinstance(m, numbers.Integral):
        raise TypeError(f"m must be an integer, got {m!r}")
    m = int(m)
    if m < 1:
        raise ValueError(f"m must be an integer in [1, inf], got {m}")
    return m


def indexed(name, m, **assumptions):
    """Symbols ``name1 .. name<m>`` (positive unless told otherwise).

    Parameters
    ----------
    name : str
    m : int
        Number of sub-questions, ``>= 1``.
    **assumptions
        Sympy assumptions; default ``positive=True``.

    Returns
    -------
    tuple of sympy.Symbol
    """
    m = _check_m(m)
    assumptions = assumptions or {"positive": True}
    return tuple(sp.Symbol(f"{name}{j}", **assumptions) for j in range(1, m + 1))


# --------------------------------------------------------------------------
# docs/models/bbam.md (3)-(4): Lagrangian and KKT stationarity
# --------------------------------------------------------------------------
def lagrangian(m, equal_beta=False):
    """The paper's Lagrangian ``sum_j c_j b_j**(-beta_j) + lambda (sum_j b_j - B)``, (3).

    Parameters
    ----------
    m : int
        Number of sub-questions.
    equal_beta : bool, default False
        Use one exponent :data:`BETA` for all ``j`` instead of ``beta1..betam``.

    Returns
    -------
    (L, bs, cs, betas) : sympy.Expr and three tuples of symbols
    """
    bs, cs = indexed("b", m), indexed("c", m)
    betas = (BETA,) * len(bs) if equal_beta else indexed("beta", m)
    lag = sum(cj * bj ** (-betaj) for bj, cj, betaj in zip(bs, cs, betas))
    return lag + LAM * (sum(bs) - BUDGET), bs, cs, betas


def kkt_stationary_point(c=C, beta=BETA, lam=LAM):
    """Solve ``d/db [c b**(-beta) + lambda b] = 0`` for ``b > 0``, docs/models/bbam.md (4).

    The stationarity condition of one term of :func:`lagrangian`
    (``beta c b**(-beta-1) = lambda``: equal marginal reduction per token),
    solved by :func:`sympy.solve`.

    Parameters
    ----------
    c, beta, lam : sympy expression or number, optional
        Default the symbols :data:`C`, :data:`BETA`, :data:`LAM`.

    Returns
    -------
    sympy.Expr
        ``(beta c / lambda)**(1/(beta+1))``.
    """
    sols = sp.solve(sp.diff(C * B ** (-BETA) + LAM * B, B), B)
    if len(sols) != 1:  # pragma: no cover - sympy returns the single positive root
        raise RuntimeError(f"expected one positive stationary point, got {sols}")
    return sols[0].subs({C: exact(c), BETA: exact(beta), LAM: exact(lam)}, simultaneous=True)


@cache
def kkt_allocation(m, equal_beta=False):
    """Stationary points ``b_j(lambda)`` of the whole Lagrangian, solved per ``j``, (4).

    Each ``dL/db_j = 0`` of :func:`lagrangian` is solved for ``b_j``; the
    multiplier is left free (for heterogeneous exponents it is the root of a
    non-algebraic equation, found numerically by :func:`theory.bbam.allocate_kkt`).

    Parameters
    ----------
    m : int
    equal_beta : bool, default False

    Returns
    -------
    (allocation, cs, betas) : tuple of sympy.Expr and two tuples of symbols
    """
    lag, bs, cs, betas = lagrangian(m, equal_beta)
    alloc = []
    for bj in bs:
        sols = sp.solve(sp.diff(lag, bj), bj)
        if len(sols) != 1:  # pragma: no cover
            raise RuntimeError(f"expected one positive stationary point, got {sols}")
        alloc.append(sols[0])
    return tuple(alloc), cs, betas


@cache
def equal_beta_multiplier(m):
    """The multiplier ``lambda`` solving ``sum_j b_j(lambda) = B`` when all ``beta_j = beta``.

    Returns
    -------
    (lam, cs) : sympy.Expr and the tuple of ``c`` symbols
        ``lam = beta (sum_j c_j**(1/(beta+1)) / B)**(beta+1)``, as solved by
        :func:`sympy.solve` from the stationary points of :func:`kkt_allocation`.
    """
    alloc, cs, _ = kkt_allocation(m, equal_beta=True)
    sols = sp.solve(sp.Eq(sum(alloc), BUDGET), LAM)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one positive multiplier, got {sols}")
    return sols[0], cs


def _simplify_positive(expr):
    """Simplify an expression of positive symbols (powers combined with ``force=True``)."""
    expr = sp.powdenest(sp.powsimp(sp.expand_power_base(expr, force=True), force=True), force=True)
    return sp.simplify(expr)


@cache
def equal_beta_allocation(m):
    """Equal-beta optimum, by substituting :func:`equal_beta_multiplier`; equals (5).

    Returns
    -------
    (allocation, cs) : tuple of sympy.Expr and the tuple of ``c`` symbols
        Simplifies to ``B c_j**(1/(beta+1)) / sum_k c_k**(1/(beta+1))``, the
        paper's Eq. (6) with a common exponent.
    """
    lam, cs = equal_beta_multiplier(m)
    alloc, _, _ = kkt_allocation(m, equal_beta=True)
    return tuple(_simplify_positive(bj.subs(LAM, lam)) for bj in alloc), cs


def paper_allocation(cs, betas, budget=BUDGET):
    """The paper's Eq. (6), docs/models/bbam.md (5): ``B (c_j beta_j)**(1/(beta_j+1)) / sum_k``.

    Parameters
    ----------
    cs : sequence
        ``c_j`` (symbols or numbers).
    betas : sequence or scalar
        ``beta_j``, or one exponent for all.
    budget : sympy expression or number, optional

    Returns
    -------
    list of sympy.Expr
    """
    cs = [exact(c) for c in cs]
    if not isinstance(betas, (list, tuple)):
        betas = [betas] * len(cs)
    betas = [exact(b) for b in betas]
    weights = [(c * b) ** (1 / (b + 1)) for c, b in zip(cs, betas)]
    total = sum(weights)
    return [exact(budget) * w / total for w in weights]


def objective(bs, cs, betas):
    """Allocation objective ``sum_j c_j b_j**(-beta_j)``, docs/models/bbam.md (3).

    Parameters
    ----------
    bs, cs : sequence
    betas : sequence or scalar

    Returns
    -------
    sympy.Expr
    """
    if not isinstance(betas, (list, tuple)):
        betas = [betas] * len(cs)
    return sum(exact(c) * exact(b) ** (-exact(be)) for b, c, be in zip(bs, cs, betas))


def equal_beta_value(cs, beta=BETA, budget=BUDGET):
    """Equal-beta optimal value ``B**-beta (sum_j c_j**(1/(beta+1)))**(beta+1)``, (7).

    Derived for this project; :func:`equal_beta_value_identity` in the tests
    checks that it equals :func:`objective` at :func:`equal_beta_allocation`.

    Returns
    -------
    sympy.Expr
    """
    beta, budget = exact(beta), exact(budget)
    return budget ** (-beta) * sum(exact(c) ** (1 / (beta + 1)) for c in cs) ** (beta + 1)


def uniform_value(cs, beta=BETA, budget=BUDGET):
    """Objective of the uniform allocation ``B/m``: ``m**beta B**-beta sum_j c_j``, (7).

    Returns
    -------
    sympy.Expr
        :func:`objective` at ``b_j = B/m``.
    """
    m = len(cs)
    return objective([exact(budget) / m] * m, cs, exact(beta))


def allocation_ratio(j=0, k=1, m=2):
    """``b_j / b_k`` at the equal-beta optimum, simplified: ``(c_j/c_k)**(1/(beta+1))``.

    Returns
    -------
    (ratio, cs) : sympy.Expr and the tuple of ``c`` symbols
    """
    alloc, cs = equal_beta_allocation(m)
    return _simplify_positive(alloc[j] / alloc[k]), cs


def allocation_elasticities(m=2, j=0):
    """Elasticities of ``b_j`` in ``c_j`` for a common exponent (derived here).

    Returns
    -------
    (fixed_lambda, fixed_budget, cs) : sympy.Expr, sympy.Expr, tuple
        ``d ln b_j / d ln c_j`` of the stationary point at fixed ``lambda``,
        which is ``1/(beta+1)`` (also the elasticity of ``b_j/b_k``), and of the
        optimum at fixed ``B``, which is ``(1 - w_j)/(beta+1)`` with
        ``w_j = c_j**(1/(beta+1)) / sum_k c_k**(1/(beta+1))``: positive and
        below ``1/(beta+1)``.
    """
    stat = kkt_stationary_point()
    fixed_lam = sp.simplify(sp.diff(sp.log(stat), C) * C)
    alloc, cs = equal_beta_allocation(m)
    fixed_b = sp.simplify(sp.diff(sp.log(alloc[j]), cs[j]) * cs[j])
    return fixed_lam, fixed_b, cs


def equal_beta_limits(m):
    """Limits of the equal-beta shares ``b_j / B`` as ``beta -> 0+`` and ``beta -> inf``.

    Returns
    -------
    (at_zero, at_inf, cs) : two lists of sympy.Expr and the ``c`` symbols
        ``c_j / sum_k c_k`` (proportional to ``c``) and ``1/m`` (uniform).
    """
    alloc, cs = equal_beta_allocation(m)
    shares = [bj / BUDGET for bj in alloc]
    at_zero = [sp.simplify(sp.limit(s, BETA, 0, "+")) for s in shares]
    at_inf = [sp.simplify(sp.limit(s, BETA, sp.oo)) for s in shares]
    return at_zero, at_inf, cs


# --------------------------------------------------------------------------
# docs/models/bbam.md (8): unimodality of the paper's weight and the Lambert-W peak
# --------------------------------------------------------------------------
def paper_weight(c=C, beta=BETA, lam=1):
    """Stationary point ``(c beta / lambda)**(1/(beta+1))``; at ``lambda = 1`` the weight of (5).

    Returns
    -------
    sympy.Expr
    """
    return kkt_stationary_point(c, beta, lam)


def log_weight_derivative(lam=1):
    """``d/dbeta ln((c beta / lambda)**(1/(beta+1)))``, docs/models/bbam.md (8).

    Returns
    -------
    sympy.Expr
        ``((beta+1) - beta ln(c beta/lambda)) / (beta (beta+1)**2)`` with the
        logarithm expanded.
    """
    ln_g = sp.expand_log(sp.log(paper_weight(C, BETA, lam)), force=True)
    return sp.together(sp.diff(ln_g, BETA))


def beta_star_equation(lam=1):
    """First-order condition of (8), ``ln(c beta/lambda) - 1 - 1/beta = 0``, from the derivative.

    The numerator of :func:`log_weight_derivative` divided by ``-1`` (it is
    ``(beta+1)/beta - ln(c beta/lambda)``, strictly decreasing in ``beta``, so
    the weight has a single maximum).

    Returns
    -------
    sympy.Expr
    """
    num, _ = sp.fraction(log_weight_derivative(lam))
    return sp.expand(-num / BETA)


def beta_star_solution(lam=1):
    """Roots of :func:`beta_star_equation` in ``beta`` by :func:`sympy.solve`.

    Returns
    -------
    list of sympy.Expr
        One root, in sympy's form ``lambda exp(W(c/(lambda e)) + 1)/c``; it
        equals :func:`beta_star` because ``exp(W(z)) = z / W(z)``.
    """
    return sp.solve(beta_star_equation(lam), BETA)


def beta_star(c=C, lam=1):
    """Closed form of the peak, ``beta* = 1 / W0(c / (lambda e))``, docs/models/bbam.md (8).

    Returns
    -------
    sympy.Expr
    """
    return 1 / sp.LambertW(exact(c) / (exact(lam) * sp.E))


# --------------------------------------------------------------------------
# docs/models/bbam.md (13): bridge identity
# --------------------------------------------------------------------------
def bridge_prior(w, f, beta=BETA, kappa=KAPPA):
    """``c = kappa (w f)**(beta+1)`` (bridge identity, derived here)."""
    return exact(kappa) * (exact(w) * exact(f)) ** (exact(beta) + 1)


def bridge_identity(m):
    """Both sides of the bridge identity for ``m`` sub-questions (derived here).

    Returns
    -------
    (paper, schedule, ws, fs) : two lists of sympy.Expr and two tuples of symbols
        ``paper``: the paper's Eq. (6) with a common ``beta`` and
        ``c_j = kappa (w_j f_j)**(beta+1)``, simplified; ``schedule``: the
        Plan-and-Budget allocation ``B w_j f_j / sum_k w_k f_k`` (11). They are
        equal for every ``kappa > 0``.
    """
    ws, fs = indexed("w", m), indexed("f", m)
    cs = [bridge_prior(wj, fj) for wj, fj in zip(ws, fs)]
    paper = [_simplify_positive(bj) for bj in paper_allocation(cs, BETA)]
    total = sum(wj * fj for wj, fj in zip(ws, fs))
    schedule = [BUDGET * wj * fj / total for wj, fj in zip(ws, fs)]
    return paper, schedule, ws, fs


# --------------------------------------------------------------------------
# docs/models/bbam.md (9): E3
# --------------------------------------------------------------------------
def e3(a=A, t=T):
    """``E3 = A**2 / T``, docs/models/bbam.md (9) (paper)."""
    a, t = exact(a), exact(t)
    return a**2 / t


def e3_elasticities():
    """Elasticities ``(A/E3) dE3/dA`` and ``(T/E3) dE3/dT`` (derived here): ``(2, -1)``."""
    value = e3()
    return (sp.simplify(sp.diff(value, A) * A / value),
            sp.simplify(sp.diff(value, T) * T / value))


def e3_ratio_identity():
    """Both sides of ``E3(A_new, T_new)/E3(A, T) = (A_new/A)**2 (T/T_new)``.

    Returns
    -------
    (lhs, rhs, (A_new, T_new)) : sympy.Expr, sympy.Expr, tuple of symbols
    """
    a_new, t_new = sp.Symbol("A_new", positive=True), sp.Symbol("T_new", positive=True)
    return e3(a_new, t_new) / e3(A, T), (a_new / A) ** 2 * (T / t_new), (a_new, t_new)


def e3_relative_change(e3_old, e3_new):
    """Exact ``E3_new / E3_old - 1`` (e.g. ``0.47/0.16 - 1 = 31/16``)."""
    return exact(e3_new) / exact(e3_old) - 1


def e3_mean_gap(t=T):
    """``mean_q E3(q) - E3(dataset)`` for 0/1 scores with mean ``p`` and equal tokens ``T``.

    Derived: a correct query has E3 ``100**2/T`` and a wrong one 0, so the
    mean of per-query E3 is ``10**4 p / T`` while the dataset E3 is
    ``(100 p)**2 / T``.

    Returns
    -------
    sympy.Expr
        ``10**4 p (1 - p) / T`` (factored): ``>= 0``, zero iff ``p in {0, 1}``.
    """
    t = exact(t)
    per_query = P * e3(100, t) + (1 - P) * e3(0, t)
    return sp.factor(per_query - e3(100 * P, t))


# --------------------------------------------------------------------------
# docs/models/bbam.md (19): sub-question length model (derived here)
# --------------------------------------------------------------------------
def expected_tokens(b=B, c=C, beta=BETA, u_ale=U_ALE):
    """``E[min(tau, b)] = int_0^b min(1, c x**-beta + u) dx``, integrated by sympy.

    With ``x0 = (c/(1-u))**(1/beta)`` (where ``c x0**-beta + u = 1``) the
    integrand is 1 on ``[0, x0]`` and ``c x**-beta + u`` after it, so the
    result is ``b`` for ``b <= x0`` and ``x0 + int_{x0}^b (c x**-beta + u) dx``
    otherwise (sympy's integral has its own ``beta = 1`` branch with a log).

    Parameters
    ----------
    b, c, beta, u_ale : sympy expression or number, optional
        ``u_ale < 1``.

    Returns
    -------
    sympy.Expr
        A ``Piecewise`` for symbolic input, an exact number for exact input.
    """
    b, c, beta, u = exact(b), exact(c), exact(beta), exact(u_ale)
    x0 = (c / (1 - u)) ** (1 / beta)
    tail = x0 + sp.integrate(c * X ** (-beta) + u, (X, x0, b))
    if all(v.is_number for v in (b, c, beta, u)):
        return b if bool(b <= x0) else sp.simplify(tail)
    return sp.Piecewise((b, b <= x0), (tail, True))
