"""Symbolic identities of the BBAM model, and the numeric theory checked against them.

Two kinds of test (docs/models/bbam.md (3)-(9), (13) and (19)):

* the sympy derivations in :mod:`theory.symbolic.bbam` against closed forms
  typed here from docs/models/bbam.md and against each other (KKT stationarity, the
  equal-beta optimum and value, its limits and elasticities, the Lambert-W peak,
  the bridge identity, E3, the expected-tokens integral);
* :mod:`theory.bbam` (floating point) against exact or 30-digit values of the
  derivations, with tolerance 1e-12 for closed forms and root finders.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import bbam as num
from theory.symbolic import bbam as sym

Q = sp.Rational
C, BETA, LAM, BUDGET, KAPPA = sym.C, sym.BETA, sym.LAM, sym.BUDGET, sym.KAPPA
TOL = 1e-12
SYM = settings(max_examples=15, deadline=None)

fractions = st.fractions(min_value=Q(1, 20), max_value=20, max_denominator=50)
exponents = st.sampled_from([Q(1, 2), Q(1), Q(3, 2), Q(2), Q(5, 2), Q(4)])


def zero(expr):
    return sp.simplify(expr) == 0


def f(expr):
    return float(sp.N(expr, 30))


def close(value, expected, tol=TOL):
    expected = f(expected)
    return abs(float(value) - expected) <= tol * max(1.0, abs(expected))


# ==========================================================================
# docs/models/bbam.md (3)-(7)
# ==========================================================================
class TestKKTSymbolic:
    def test_stationary_point(self):
        b = sym.kkt_stationary_point()
        assert zero(b - (BETA * C / LAM) ** (1 / (BETA + 1)))
        # it satisfies beta c b^(-beta-1) = lambda
        assert zero(sp.powsimp(BETA * C * b ** (-BETA - 1), force=True) - LAM)

    def test_heterogeneous_stationarity(self):
        alloc, cs, betas = sym.kkt_allocation(3)
        lag, bs, _, _ = sym.lagrangian(3)
        for j, bj in enumerate(alloc):
            assert bj.free_symbols == {cs[j], betas[j], LAM}
            grad = sp.diff(lag, bs[j]).subs(bs[j], bj)
            assert zero(sp.powsimp(sp.expand_power_base(grad, force=True), force=True))

    @pytest.mark.parametrize("m", [2, 3])
    def test_equal_beta_allocation_is_eq6(self, m):
        alloc, cs = sym.equal_beta_allocation(m)
        e = 1 / (BETA + 1)
        total = sum(c**e for c in cs)
        for bj, cj in zip(alloc, cs):
            assert zero(bj - BUDGET * cj**e / total)
        assert zero(sum(alloc) - BUDGET)
        # the paper's Eq. (6) with a common exponent is the same allocation
        for bj, pj in zip(alloc, sym.paper_allocation(cs, BETA)):
            assert zero(sp.powsimp(sp.expand_power_base(bj - pj, force=True), force=True))

    def test_multiplier_satisfies_the_budget(self):
        lam, cs = sym.equal_beta_multiplier(3)
        alloc, _, _ = sym.kkt_allocation(3, equal_beta=True)
        spent = sum(bj.subs(LAM, lam) for bj in alloc)
        assert zero(sym._simplify_positive(spent / BUDGET) - 1)

    @pytest.mark.parametrize("m", [2, 3])
    def test_optimal_value_identity(self, m):
        alloc, cs = sym.equal_beta_allocation(m)
        value = sym.objective(alloc, cs, BETA)
        closed = BUDGET ** (-BETA) * sum(c ** (1 / (BETA + 1)) for c in cs) ** (BETA + 1)
        assert sym.equal_beta_value(cs) == closed
        assert sym._simplify_positive(value / closed) == 1

    def test_uniform_value(self):
        cs = sym.indexed("c", 4)
        expected = 4**BETA * BUDGET ** (-BETA) * sum(cs)
        assert zero(sp.powsimp(sym.uniform_value(cs) - expected, force=True))

    @given(st.lists(fractions, min_size=2, max_size=5), exponents, fractions)
    @SYM
    def test_hoelder(self, cs, beta, budget):
        opt = sym.equal_beta_value(cs, beta, 100 * budget)
        uni = sym.uniform_value(cs, beta, 100 * budget)
        assert f(opt) <= f(uni) * (1 + 1e-25)
        equal = [cs[0]] * len(cs)
        assert abs(f(sym.equal_beta_value(equal, beta, 7)) / f(sym.uniform_value(equal, beta, 7))
                   - 1) < 1e-25

    def test_ratio_elasticities_and_limits(self):
        ratio, (c1, c2) = sym.allocation_ratio()
        assert zero(ratio - (c1 / c2) ** (1 / (BETA + 1)))
        fixed_lam, fixed_b, (c1, c2) = sym.allocation_elasticities()
        assert zero(fixed_lam - 1 / (BETA + 1))
        w1 = c1 ** (1 / (BETA + 1)) / (c1 ** (1 / (BETA + 1)) + c2 ** (1 / (BETA + 1)))
        assert zero(fixed_b - (1 - w1) / (BETA + 1))
        at_zero, at_inf, cs = sym.equal_beta_limits(3)
        assert [zero(a - cj / sum(cs)) for a, cj in zip(at_zero, cs)] == [True] * 3
        assert at_inf == [Q(1, 3)] * 3


# ==========================================================================
# docs/models/bbam.md (8)
# ==========================================================================
class TestBetaStarSymbolic:
    def test_derivative(self):
        expected = ((BETA + 1) - BETA * sp.log(C * BETA / LAM)) / (BETA * (BETA + 1) ** 2)
        assert zero(sp.expand_log(sym.log_weight_derivative(LAM) - expected, force=True))
        assert zero(sym.beta_star_equation(LAM)
                    - (sp.log(C) + sp.log(BETA) - sp.log(LAM) - 1 - 1 / BETA))

    def test_unimodal(self):
        # numerator (beta+1)/beta - ln(c beta/lambda) is strictly decreasing in beta
        numerator = (BETA + 1) / BETA - sp.log(C * BETA / LAM)
        slope = sp.simplify(sp.diff(numerator, BETA))
        assert zero(slope + 1 / BETA**2 + 1 / BETA)
        assert sp.limit(sym.paper_weight(C, BETA, 1), BETA, sp.oo) == 1
        assert sp.limit(sym.paper_weight(Q(1, 2), BETA, 1), BETA, 0, "+") == 0

    def test_lambert_root(self):
        # parametrise c = lambda e w e^w (so W0(c/(lambda e)) = w > 0): beta = 1/w
        # makes the derivative vanish
        w = sp.Symbol("w", positive=True)
        deriv = sym.log_weight_derivative(LAM).subs(C, LAM * sp.E * w * sp.exp(w))
        at = sp.expand_log(deriv.subs(BETA, 1 / w), force=True)
        assert zero(at)
        for wv in (Q(1, 10), Q(1), Q(7, 2)):  # W0(w e^w) = w on the principal branch
            assert abs(f(sp.LambertW(wv * sp.exp(wv))) - f(wv)) < 1e-25
        (sol,) = sym.beta_star_solution(LAM)
        for c, lam in [(Q(1, 2), 1), (2, 1), (5, Q(1, 3)), (20, 7)]:
            assert abs(f(sol.subs({C: c, LAM: lam})) - f(sym.beta_star(c, lam))) < 1e-25

    @pytest.mark.parametrize("c, text", [(Q(1, 2), "6.36193"), (2, "2.15957"), (5, "1.22767"),
                                         (20, "0.64327")])
    def test_table_and_numeric(self, c, text):
        exact = sym.beta_star(c)
        assert abs(f(exact) - float(text)) <= 0.5e-5
        assert close(num.beta_star(float(c)), exact)

    @given(fractions, fractions)
    @SYM
    def test_numeric_beta_star_with_multiplier(self, c, lam):
        assert close(num.beta_star(float(c), float(lam)), sym.beta_star(c, lam))


# ==========================================================================
# bridge identity
# ==========================================================================
class TestBridgeSymbolic:
    @pytest.mark.parametrize("m", [2, 3, 4])
    def test_identity(self, m):
        paper, schedule, ws, fs = sym.bridge_identity(m)
        for lhs, rhs in zip(paper, schedule):
            assert KAPPA not in lhs.free_symbols
            assert zero(lhs - rhs)

    @given(st.lists(st.integers(1, 100), min_size=1, max_size=6),
           st.sampled_from(num.SCHEDULES), exponents)
    @SYM
    def test_numeric(self, credits, schedule, beta):
        m = len(credits)
        fvals = num.schedule_weights(schedule, m)
        c = num.bridge_prior(np.array(credits, float), fvals, float(beta), 2.5)
        exact = sym.paper_allocation(
            [sym.bridge_prior(w, fj, beta, Q(5, 2)) for w, fj in zip(credits, fvals.tolist())],
            beta, 350)
        got = num.allocate_paper(c, float(beta), 350.0)
        for g, e in zip(np.atleast_1d(got), exact):
            assert close(g, e)


# ==========================================================================
# numeric allocation against exact / 30-digit values
# ==========================================================================
class TestNumericAllocation:
    @given(st.lists(fractions, min_size=3, max_size=3), exponents, fractions)
    @SYM
    def test_equal_beta(self, cs, beta, budget):
        budget = 10 * budget
        alloc, syms = sym.equal_beta_allocation(3)
        subs = dict(zip(syms, cs)) | {BETA: beta, BUDGET: budget}
        exact = [bj.subs(subs) for bj in alloc]
        cf = np.array([float(c) for c in cs])
        for got in (num.allocate_kkt(cf, float(beta), float(budget)),
                    num.allocate_paper(cf, float(beta), float(budget))):
            assert all(close(g, e) for g, e in zip(got, exact))
        value = sym.equal_beta_value(cs, beta, budget)
        assert close(num.equal_beta_value(cf, float(beta), float(budget)), value)
        assert close(num.uniform_value(cf, float(beta), float(budget)),
                     sym.uniform_value(cs, beta, budget))

    @given(st.lists(fractions, min_size=3, max_size=3),
           st.lists(exponents, min_size=3, max_size=3), fractions)
    @SYM
    def test_heterogeneous_against_30_digit_root(self, cs, betas, budget):
        budget = 10 * budget
        alloc, csym, bsym = sym.kkt_allocation(3)
        subs = dict(zip(csym, cs)) | dict(zip(bsym, betas))
        exprs = [bj.subs(subs) for bj in alloc]
        t = sp.Symbol("t", real=True)  # lambda = exp(t)
        h = sum(e.subs(LAM, sp.exp(t)) for e in exprs) - budget
        guess = float(num.allocate_kkt_scipy([float(c) for c in cs], [float(b) for b in betas],
                                             float(budget))[0])
        t0 = math.log(float(betas[0] * cs[0]) * guess ** (-float(betas[0]) - 1))
        root = sp.nsolve(h, t, t0, prec=30)
        exact = [e.subs(LAM, sp.exp(root)) for e in exprs]
        got = num.allocate_kkt(np.array([float(c) for c in cs]),
                               np.array([float(b) for b in betas]), float(budget))
        assert all(close(g, e, 1e-11) for g, e in zip(got, exact))
        assert abs(f(sum(exact)) - float(budget)) < 1e-20 * float(budget)


# ==========================================================================
# E3
# ==========================================================================
class TestE3Symbolic:
    def test_identities(self):
        assert sym.e3_elasticities() == (2, -1)
        lhs, rhs, _ = sym.e3_ratio_identity()
        assert zero(lhs - rhs)
        s = sp.Symbol("s", positive=True)
        assert zero(sym.e3(s * sym.A, sym.T) - s**2 * sym.e3())
        assert zero(sym.e3(sym.A, s * sym.T) - sym.e3() / s)
        gap = sym.e3_mean_gap()
        assert zero(gap - 10**4 * sym.P * (1 - sym.P) / sym.T)
        assert sp.solve(gap, sym.P) == [1]  # positive p: zero only at p = 1 (and p = 0)

    def test_headline_percentages_exact(self):
        v3 = sym.e3_relative_change(0.16, 0.47)
        assert v3 == Q(31, 16)
        assert round(float(100 * v3), 2) == 193.75  # printed as +193.8% (half up)
        assert sym.e3_relative_change(0.16, 0.46) == Q(15, 8)  # v1 "+187.5%"
        rev = sym.e3_relative_change(5.26, 5.92)
        assert rev == Q(33, 263) and round(float(rev), 4) == 0.1255

    @given(st.fractions(1, 100, max_denominator=100), st.fractions(1, 10**4, max_denominator=100),
           st.fractions(1, 100, max_denominator=100), st.fractions(1, 10**4, max_denominator=100))
    @SYM
    def test_numeric(self, a, t, a2, t2):
        assert close(num.e3(float(a), float(t)), sym.e3(a, t))
        lhs, _, (a_new, t_new) = sym.e3_ratio_identity()
        exact = lhs.subs({sym.A: a, sym.T: t, a_new: a2, t_new: t2})
        assert close(num.e3_ratio_identity(float(a), float(t), float(a2), float(t2)), exact)
        old, new = sym.e3(a, t), sym.e3(a2, t2)
        assert close(num.e3_relative_change(f(old), f(new)), sym.e3_relative_change(old, new),
                     1e-11)


# ==========================================================================
# expected tokens
# ==========================================================================
class TestExpectedTokensSymbolic:
    def test_integral_structure(self):
        expr = sym.expected_tokens()
        (flat, cond), (tail, _) = expr.args
        assert flat == sym.B
        x0 = (C / (1 - sym.U_ALE)) ** (1 / BETA)
        assert cond == (sym.B <= x0)
        # d/db of the tail is the integrand c b^-beta + u: symbolic beta (the
        # beta != 1 branch), beta = 1 (the log branch) and beta = 3/2
        for beta in (BETA, 1, Q(3, 2)):
            deriv = sp.piecewise_fold(sp.diff(tail.subs(BETA, beta), sym.B))
            if isinstance(deriv, sp.Piecewise):
                (deriv, cond), _ = deriv.args
                assert cond == sp.Ne(BETA, 1)
            assert zero(deriv - (C * sym.B ** (-beta) + sym.U_ALE))
        # continuity at b = x0 (beta = 2, u = 1/4)
        at = tail.subs({BETA: 2, sym.U_ALE: Q(1, 4)})
        x0v = x0.subs({BETA: 2, sym.U_ALE: Q(1, 4)})
        assert zero(at.subs(sym.B, x0v) - x0v)

    @given(st.fractions(1, 2000, max_denominator=10),
           st.fractions(Q(1, 10), 20, max_denominator=10),
           exponents, st.sampled_from([0, Q(1, 10), Q(1, 2), Q(9, 10)]))
    @settings(max_examples=25, deadline=None)
    def test_numeric(self, b, c, beta, u):
        exact = sym.expected_tokens(b, c, beta, u)
        got = num.expected_tokens(float(b), float(c), float(beta), float(u))
        assert close(got, exact)
        assert got <= float(b) * (1 + 1e-15)
