"""Symbolic identities of the phase model, and the numeric theory checked against them.

Two kinds of test (the equations of ``docs/models/phase.md``):

* the sympy derivations in :mod:`theory.symbolic.phase` against each other and
  against the closed forms and exact reference fractions typed here;
* :mod:`theory.phase` (floating point) against the exact values, with
  tolerance 1e-12 for closed forms and root finders and 1e-9 for quadrature.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import phase as num
from theory.symbolic import phase as sym

Q = sp.Rational
MU, RHO, GAMMA = sym.MU, sym.RHO, sym.GAMMA
ODD_B = list(range(3, 23, 2))
CLOSED_TOL = 1e-12
QUAD_TOL = 1e-9

# exact reference fractions
F_B_PRIME0 = {  # 7.3
    3: Q(3, 2),
    5: Q(15, 8),
    7: Q(35, 16),
    9: Q(315, 128),
    11: Q(693, 256),
    13: Q(3003, 1024),
    15: Q(6435, 2048),
    17: Q(109395, 32768),
    19: Q(230945, 65536),
    21: Q(969969, 262144),
}
EVANS_SCHULMAN = {3: Q(1, 6), 5: Q(7, 30), 7: Q(19, 70)}  # 2.5
ITEM_B3_L2 = Q(514592838229276613, 3920384000000000000)  # 5.6

settings.register_profile("symbolic", max_examples=40, deadline=None, derandomize=True)
fracs = st.fractions


def _f(x):
    return float(sp.N(x, 30))


def close(value, expected, tol=CLOSED_TOL):
    """|value - expected| <= tol * max(1, |expected|)."""
    expected = _f(expected)
    value = float(value)
    return abs(value - expected) <= tol * max(1.0, abs(expected))


def _q(x: Fraction):
    return Q(x.numerator, x.denominator)


# ==========================================================================
# symbolic identities
# ==========================================================================
class TestMajorityMapSymbolic:
    def test_small_b_polynomials_match_closed_forms(self):
        assert sp.expand(sym.f_b(3) - (3 * MU - MU**3) / 2) == 0
        assert sp.expand(sym.f_b(5) - (15 * MU - 10 * MU**3 + 3 * MU**5) / 8) == 0
        assert sp.expand(sym.f_b(7) - (35 * MU - 35 * MU**3 + 21 * MU**5 - 5 * MU**7) / 16) == 0

    @pytest.mark.parametrize("b", ODD_B)
    def test_slope_from_polynomial_equals_paper_formula_and_table(self, b):
        assert sym.f_b_prime0(b) == sym.f_b_prime0_closed(b) == F_B_PRIME0[b]

    @pytest.mark.parametrize("b", list(range(3, 17, 2)))
    def test_integral_identity(self, b):
        lhs, rhs = sym.integral_identity(b)
        assert sp.Poly(lhs, MU).degree() == b
        assert sp.expand(lhs - rhs) == 0
        # and at an exact point (the identity is not vacuous: f_b(1/3) != 0)
        lhs_v, rhs_v = sym.integral_identity(b, Q(1, 3))
        assert lhs_v == rhs_v != 0

    @pytest.mark.parametrize("b", [3, 5, 9, 15])
    def test_derivative_form_odd_and_endpoints(self, b):
        fp0 = sym.f_b_prime0_closed(b)
        assert sp.expand(sym.f_b_prime(b) - fp0 * (1 - MU**2) ** ((b - 1) // 2)) == 0
        f = sym.f_b(b)
        assert sp.expand(f + f.subs(MU, -MU)) == 0
        assert f.subs(MU, 1) == 1 and f.subs(MU, -1) == -1

    def test_classical_value(self):
        assert sym.f_b(3, Q(1, 5)) == Q(296, 1000)  # the classical majority value

    def test_rejects_even_b(self):
        with pytest.raises(ValueError, match="b must be an odd integer"):
            sym.f_b(4)


class TestLayerMapSymbolic:
    @pytest.mark.parametrize("b", [3, 5, 7, 9])
    def test_gain_and_cubic_coefficient(self, b):
        fp0 = F_B_PRIME0[b]
        assert sp.simplify(sym.layer_map_gain(b) - GAMMA * (RHO + (1 - RHO) * fp0)) == 0
        k_closed = (1 - RHO) * fp0 * Q(b - 1, 2) * GAMMA**3 / 3
        assert sp.simplify(sym.cubic_coefficient(b) - k_closed) == 0

    def test_layer_map_b3(self):
        g = sym.layer_map(3)
        expected = RHO * GAMMA * MU + (1 - RHO) * (3 * GAMMA * MU - GAMMA**3 * MU**3) / 2
        assert sp.expand(g - expected) == 0

    def test_b3_fixed_point(self):
        alpha = sym.layer_map_gain(3)
        mu2 = sym.fixed_point_b3_squared()
        assert sp.simplify(mu2 - 2 * (alpha - 1) / ((1 - RHO) * GAMMA**3)) == 0
        # it is a fixed point of g, exactly, at a rational point
        rho, gamma = Q(1, 5), Q(9, 10)
        m = sp.sqrt(sym.fixed_point_b3_squared(rho, gamma))
        assert sp.simplify(sym.layer_map(3, m, rho, gamma) - m) == 0
        assert sym.fixed_point_b3_squared(Q(3, 10), 1) == 1  # gamma = 1 -> mu* = 1

    @pytest.mark.parametrize("b", [3, 5, 7, 9])
    def test_critical_surfaces(self, b):
        fp0 = F_B_PRIME0[b]
        assert sp.simplify(sym.gamma_c(b) - 1 / (RHO + (1 - RHO) * fp0)) == 0
        assert sp.simplify(sym.rho_c(b) - (fp0 - 1 / GAMMA) / (fp0 - 1)) == 0
        # alpha = 1 on both surfaces
        assert sp.simplify(sym.layer_map_gain(b, RHO, sym.gamma_c(b)) - 1) == 0
        assert sp.simplify(sym.layer_map_gain(b, sym.rho_c(b), GAMMA) - 1) == 0

    def test_evans_schulman_thresholds(self):
        for b, eps in EVANS_SCHULMAN.items():
            assert sym.evans_schulman_epsilon(b) == eps
        for b in ODD_B:
            assert sym.evans_schulman_epsilon(b) == Q(1, 2) - 1 / (2 * F_B_PRIME0[b])


class TestBudgetSymbolic:
    def test_thm9_optimum(self):
        d = sym.thm9_optimum()
        beta, t, c0, budget = sym.BETA, sym.T, sym.C0, sym.BUDGET
        assert sp.simplify(d["x_star"] - beta * c0 / (t - beta)) == 0
        assert sp.simplify(d["n_star"] - budget * (t - beta) / (t * c0)) == 0
        assert sp.simplify(d["second_derivative"] + (t - beta) ** 3 / (beta * c0**2 * t)) == 0
        assert d["certified"] is True

    @pytest.mark.parametrize("r", [Q(1, 10), Q(1, 2), Q(3, 10), Q(9, 10)])
    def test_b_crit_solves_threshold_equation(self, r):
        # x*^beta N*^t = B^beta at B = B_crit, for t = 1, beta = r, c0 = 1
        d = sym.thm9_optimum()
        vals = {sym.BETA: r, sym.T: 1, sym.C0: 1}
        bc = d["b_crit"].subs(vals)
        x = d["x_star"].subs(vals)
        n = d["n_star"].subs(vals).subs(sym.BUDGET, bc)
        assert abs(_f(x**r * n - bc**r)) < 1e-25
        assert abs(_f(bc - d["b_crit_closed"].subs(vals))) < 1e-25

    def test_b_crit_table(self):
        table = {
            0.1: "1.435",
            0.2: "1.869",
            0.3: "2.393",
            0.4: "3.070",
            0.5: "4.000",
            0.6: "5.379",
            0.7: "7.662",
            0.8: "12.21",
            0.9: "25.81",
        }  # docs/models/phase.md (19)
        for r, val in table.items():
            got = _f(sym.b_crit_closed(r, 1, 1))
            half_ulp = 0.5 * 10.0 ** -len(val.split(".")[1])
            assert abs(got - float(val)) <= half_ulp, (r, got, val)
        assert sym.b_crit_closed(Q(1, 2), 1, 1) == 4


class TestContinuousSymbolic:
    def test_rsolve_closed_form(self):
        lam, s2, b, v0, L = sym.LAM, sym.SIGMA2, sym.B, sym.V0, sym.LEVEL
        vl = sym.tree_risk_recursion()
        vstar_lam = s2 / (b * (1 - lam))
        assert sp.simplify(vl - (lam**L * v0 + vstar_lam * (1 - lam**L))) == 0
        # satisfies the recursion and the initial condition
        assert sp.simplify(vl.subs(L, L + 1) - lam * vl - s2 / b) == 0
        assert sp.simplify(vl.subs(L, 0) - v0) == 0

    def test_v_star_is_eq13(self):
        assert sp.simplify(sym.v_star() - sym.SIGMA2 / ((sym.B - 1) * (1 - RHO))) == 0

    def test_reference_example(self):
        # v0 = 1, b = 3, rho = 0.3, sigma^2 = 0.1 (docs/models/phase.md (35))
        table = [1, 0.56667, 0.33556, 0.21230, 0.14656, 0.11150, 0.09280, 0.08283]
        for depth, val in enumerate(table):
            assert abs(_f(sym.tree_risk(depth, 1, 3, Q(3, 10), Q(1, 10))) - val) < 5e-6
        assert abs(_f(sym.v_star(3, Q(3, 10), Q(1, 10))) - 0.071429) < 5e-7


class TestBetaAndItemSymbolic:
    @pytest.mark.parametrize("k", range(7))
    def test_beta_moment_product_equals_beta_function_ratio(self, k):
        a, c = sp.symbols("a c", positive=True)
        assert sp.simplify(sym.beta_moment(k, a, c) - sym.beta_moment_gamma(k, a, c)) == 0

    def test_beta_moment_against_integral(self):
        a, c = 3, 2
        beta_fn = sp.gamma(a) * sp.gamma(c) / sp.gamma(a + c)  # = 1/12
        dens = sym.P ** (a - 1) * (1 - sym.P) ** (c - 1) / beta_fn
        for k in range(6):
            exact = sp.integrate(sym.P**k * dens, (sym.P, 0, 1))
            assert exact.is_Rational
            assert sym.beta_moment(k, a, c) == exact

    def test_beta_params(self):
        a, c = sym.beta_params(Q(1, 10), Q(1, 5))
        assert (a, c) == (Q(11, 5), Q(9, 5))  # docs/models/phase.md (24): (2.2, 1.8)
        assert 1 / (a + c + 1) == Q(1, 5)  # pairwise correlation = rho

    def test_exact_reference_vector(self):
        assert sym.item_root_bias(3, 2, Q(3, 10), 1, Q(1, 10)) == ITEM_B3_L2
        assert sym.item_root_bias(3, 2, 0.3, 1.0, 0.1) == ITEM_B3_L2  # floats -> decimals
        assert (
            abs(_f(sym.item_root_bias(3, 2, Q(3, 10), Q(9, 10), Q(1, 10))) - 0.1220100432) < 5e-11
        )

    def test_l1_beta_binomial_identity(self):
        # reference values at L = 1, gamma = 1
        assert sym.item_root_bias(3, 1, Q(1, 5), 1, Q(1, 10)) == Q("0.1264")
        assert sym.item_root_bias(3, 1, Q(1, 2), 1, Q(3, 10)) == Q("0.32275")
        assert abs(_f(sym.item_root_bias(5, 1, Q(1, 2), 1, Q(3, 10))) - 0.3303513438) < 5e-11
        # exact beta-binomial tail, via rising factorials
        for b, rho, mub in [(3, Q(1, 5), Q(1, 10)), (5, Q(1, 2), Q(3, 10)), (7, Q(2, 7), Q(-1, 4))]:
            a, c = sym.beta_params(mub, rho)
            tail = sum(
                sp.binomial(b, k) * sp.rf(a, k) * sp.rf(c, b - k) / sp.rf(a + c, b)
                for k in range((b + 1) // 2, b + 1)
            )
            assert sym.item_root_bias(b, 1, rho, 1, mub) == 2 * tail - 1

    def test_item_against_direct_integral(self):
        # a, c integers: a = 3, c = 2 (mu_bar = 1/5, rho = 1/6); L = 2, gamma = 9/10
        mub, rho, gamma = Q(1, 5), Q(1, 6), Q(9, 10)
        a, c = sym.beta_params(mub, rho)
        assert (a, c) == (3, 2)
        h = sym.f_b(3, gamma * MU)
        h2 = sp.expand(h.subs(MU, sym.f_b(3, gamma * MU)))
        integrand = h2.subs(MU, 2 * sym.P - 1) * sym.P**2 * (1 - sym.P) * 12  # 1/B(3, 2) = 12
        exact = sp.integrate(sp.expand(integrand), (sym.P, 0, 1))
        assert sym.item_root_bias(3, 2, rho, gamma, mub) == exact

    def test_l1_slope_at_zero(self):
        slope = sym.item_slope_at_zero(3)
        assert sp.simplify(slope - (RHO**2 + 3) / (2 * (1 + RHO))) == 0
        assert slope.subs(RHO, Q(1, 2)) == Q(13, 12)  # per-node beta-binomial slope at rho = 1/2

    def test_reference_tables(self):
        # finite-L item values and the composition with node herding
        # (docs/models/phase.md (27)), 5 decimals
        assert abs(_f(sym.item_root_bias(3, 4, 0.2, 0.9, 0.1)) - 0.15600) < 5e-6
        assert abs(_f(sym.item_root_bias(3, 4, 0.5, 0.9, 0.1)) - 0.11196) < 5e-6
        assert abs(_f(sym.item_root_bias(5, 3, 0.3, 0.8, 0.05)) - 0.06717) < 5e-6
        assert abs(_f(sym.item_root_bias(3, 4, 0.3, 0.9, 0.1, rho_node=0.2)) - 0.12502) < 5e-6
        assert abs(_f(sym.item_root_bias(3, 1, 0.5, 0.6, 0.1)) - 0.08098) < 5e-6

    def test_rho_node_zero_and_depth_zero(self):
        assert sym.item_root_bias(3, 0, Q(1, 3), Q(4, 5), Q(1, 7)) == Q(1, 7)
        assert sym.shock_root_bias(3, 0, Q(1, 3), Q(4, 5), Q(1, 7)) == Q(1, 7)
        # node herding with rho_node = 0 is the plain map
        assert sym.item_root_bias(
            3, 2, Q(1, 3), Q(4, 5), Q(1, 7), rho_node=0
        ) == sym.item_root_bias(3, 2, Q(1, 3), Q(4, 5), Q(1, 7))

    def test_shock_reference_values(self):
        assert abs(_f(sym.shock_root_bias(3, 4, 0.2, 0.9, 0.1)) - 0.27684) < 5e-6
        assert abs(_f(sym.shock_root_bias(5, 3, 0.3, 0.8, 0.05)) - 0.13177) < 5e-6

    def test_herding_reference_values(self):
        traj = sym.iterate_layer_map(Q(3, 10), 3, Q(1, 2), Q(7, 10), 4)
        for got, val in zip(traj, [0.3, 0.2602, 0.2262, 0.1969, 0.1716]):
            assert abs(_f(got) - val) < 5e-5
        assert abs(_f(sym.iterate_layer_map(0.1, 3, 0.2, 0.9, 4)[-1]) - 0.24685) < 5e-6

    @pytest.mark.slow
    def test_reference_tables_large_trees(self):
        assert abs(_f(sym.item_root_bias(3, 6, 0.3, 1.0, 0.1)) - 0.14439) < 5e-6
        assert abs(_f(sym.item_root_bias(3, 5, 0.5, 0.7, 0.3)) - 0.22437) < 5e-6
        assert abs(_f(sym.item_root_bias(3, 5, 0.5, 0.6, 0.1)) - 0.04476) < 5e-6


# ==========================================================================
# numeric theory.phase against the exact values
# ==========================================================================
MU_GRID = [Q(k, 20) for k in range(-20, 21)]


class TestNumericBinaryCore:
    @pytest.mark.parametrize("b", ODD_B)
    def test_f_b_and_derivative(self, b):
        mus = np.array([float(m) for m in MU_GRID])
        poly = sp.Poly(sym.f_b(b), MU)
        dpoly = sp.Poly(sym.f_b_prime(b), MU)
        got = np.asarray(num.f_b(mus, b), dtype=float)
        dgot = np.asarray(num.f_b_prime(mus, b), dtype=float)
        assert got.shape == mus.shape
        for m, g, dg in zip(MU_GRID, got, dgot):
            assert close(g, poly.eval(m)), (b, m, g)
            assert close(dg, dpoly.eval(m)), (b, m, dg)
        assert close(num.f_b(0.2, 3), Q(296, 1000))

    @pytest.mark.parametrize("b", ODD_B)
    def test_f_b_prime0(self, b):
        assert close(num.f_b_prime0(b), F_B_PRIME0[b])

    @settings(settings.get_profile("symbolic"))
    @given(
        b=st.sampled_from([3, 5, 7, 9, 11]),
        rho=fracs(0, Fraction(99, 100), max_denominator=100),
        gamma=fracs(Fraction(1, 100), 1, max_denominator=100),
    )
    def test_alpha_rho_and_cubic(self, b, rho, gamma):
        rho_q, gamma_q = _q(rho), _q(gamma)
        assert close(
            num.alpha_rho(b, float(rho), float(gamma)), sym.layer_map_gain(b, rho_q, gamma_q)
        )
        assert close(
            num.cubic_coefficient(b, float(rho), float(gamma)),
            sym.cubic_coefficient(b, rho_q, gamma_q),
        )

    def test_alpha_rho_table_and_broadcast(self):
        gammas = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
        for b, rho in [(3, 0.0), (3, 0.5), (5, 0.2), (9, 0.8)]:
            got = np.asarray(num.alpha_rho(b, rho, gammas))
            assert got.shape == gammas.shape
            for g, val in zip(gammas, got):
                assert close(val, sym.layer_map_gain(b, sym.exact(rho), sym.exact(float(g))))

    @pytest.mark.parametrize("b", [3, 7])
    def test_layer_map(self, b):
        rho, gamma = Q(3, 10), Q(4, 5)
        poly = sp.Poly(sym.layer_map(b, MU, rho, gamma), MU)
        mus = np.array([float(m) for m in MU_GRID])
        got = np.asarray(num.layer_map(mus, b, 0.3, 0.8))
        for m, g in zip(MU_GRID, got):
            assert close(g, poly.eval(m))

    @pytest.mark.parametrize(
        "rho, gamma",
        [
            (Q(0), Q(9, 10)),
            (Q(1, 5), Q(4, 5)),
            (Q(1, 2), Q(9, 10)),
            (Q(3, 10), Q(3, 4)),
            (Q(0), Q(7, 10)),
            (Q(1, 5), Q(1)),
            (Q(9, 10), Q(1)),
        ],
    )
    def test_fixed_point_b3(self, rho, gamma):
        mu2 = sym.fixed_point_b3_squared(rho, gamma)
        assert mu2 > 0  # all chosen points amplify
        assert close(num.fixed_point(3, float(rho), float(gamma)), sp.sqrt(mu2))

    def test_fixed_point_b3_washout_is_zero(self):
        # alpha = 0.9375 <= 1: closed form gives mu*^2 < 0, numeric gives 0
        assert sym.fixed_point_b3_squared(Q(1, 2), Q(3, 4)) < 0
        assert num.fixed_point(3, 0.5, 0.75) == 0.0

    @pytest.mark.parametrize("b", [3, 5, 7, 9])
    def test_critical_surfaces(self, b):
        for rho in [Q(0), Q(1, 5), Q(1, 2), Q(4, 5), Q(97, 100)]:
            assert close(num.gamma_c(float(rho), b), sym.gamma_c(b, rho))
        for gamma in [Q(3, 5), Q(7, 10), Q(4, 5), Q(9, 10), Q(1)]:
            assert close(num.rho_c(float(gamma), b), sym.rho_c(b, gamma))

    @pytest.mark.parametrize("b", ODD_B)
    def test_evans_schulman(self, b):
        assert close(num.evans_schulman_epsilon(b), sym.evans_schulman_epsilon(b))

    def test_iterate_matches_exact_recursion(self):
        for args in [(Q(3, 10), 3, Q(1, 2), Q(7, 10)), (Q(1, 10), 5, Q(3, 10), Q(4, 5))]:
            mu0, b, rho, gamma = args
            exact = sym.iterate_layer_map(mu0, b, rho, gamma, 6)
            got = np.asarray(num.iterate(float(mu0), b, float(rho), float(gamma), 6))
            assert got.shape == (7,)
            for g, e in zip(got, exact):
                assert close(g, e)


class TestNumericBudget:
    D = sym.thm9_optimum()

    @settings(settings.get_profile("symbolic"))
    @given(
        beta=fracs(Fraction(1, 20), Fraction(19, 20), max_denominator=40),
        gap=fracs(Fraction(1, 50), 2, max_denominator=50),
        c0=fracs(Fraction(1, 2), 500, max_denominator=8),
        budget=fracs(1, 10**6, max_denominator=4),
    )
    def test_x_n_b_crit(self, beta, gap, c0, budget):
        t = beta + gap
        vals = {sym.BETA: _q(beta), sym.T: _q(t), sym.C0: _q(c0), sym.BUDGET: _q(budget)}
        fb, ft, fc, fB = float(beta), float(t), float(c0), float(budget)
        assert close(num.x_star(fb, ft, fc), self.D["x_star"].subs(vals))
        assert close(num.n_star(fB, fb, ft, fc), self.D["n_star"].subs(vals))
        assert close(num.b_crit(fb, ft, fc), self.D["b_crit"].subs(vals))

    def test_b_crit_identity_numeric(self):
        # docs/models/phase.md (19): t = 1, beta = 0.3, c0 = 1: both sides ~ 1.2993
        bc = float(num.b_crit(0.3, 1.0, 1.0))
        lhs = float(num.x_star(0.3, 1.0, 1.0)) ** 0.3 * float(num.n_star(bc, 0.3, 1.0, 1.0))
        assert abs(lhs - bc**0.3) < 1e-12
        assert abs(lhs - 1.2993) < 5e-5


class TestNumericContinuous:
    @pytest.mark.parametrize(
        "b, rho, sigma2, v0",
        [
            (3, Q(3, 10), Q(1, 10), Q(1)),
            (5, Q(0), Q(1, 4), Q(2)),
            (9, Q(4, 5), Q(1, 10), Q(1, 2)),
            (3, Q(1, 2), Q(0), Q(1)),
        ],
    )
    def test_tree_risk_and_v_star(self, b, rho, sigma2, v0):
        depths = np.arange(0, 12)
        got = np.asarray(num.tree_risk(depths, float(v0), b, float(rho), float(sigma2)))
        assert got.shape == depths.shape
        for depth, g in zip(depths, got):
            assert close(g, sym.tree_risk(int(depth), v0, b, rho, sigma2))
        assert close(num.v_star(b, float(rho), float(sigma2)), sym.v_star(b, rho, sigma2))
        assert close(num.tree_lambda(b, float(rho)), rho + (1 - rho) / b)


class TestNumericItemModel:
    CASES = [
        # (b, depth, rho, gamma, mu_bar, rho_node)
        (3, 1, Q(1, 5), Q(1), Q(1, 10), Q(0)),
        (3, 2, Q(3, 10), Q(1), Q(1, 10), Q(0)),
        (3, 2, Q(3, 10), Q(9, 10), Q(1, 10), Q(0)),
        (3, 3, Q(1, 2), Q(7, 10), Q(3, 10), Q(0)),
        (5, 1, Q(1, 2), Q(1), Q(3, 10), Q(0)),
        (5, 2, Q(3, 10), Q(4, 5), Q(1, 20), Q(0)),
        (3, 3, Q(1, 10), Q(9, 10), Q(-1, 5), Q(0)),  # negative bias
        (3, 3, Q(4, 5), Q(9, 10), Q(1, 10), Q(0)),  # a, c < 1: endpoint singularities
        (3, 2, Q(3, 10), Q(9, 10), Q(1, 10), Q(1, 5)),  # node herding composed
        (3, 3, Q(3, 10), Q(9, 10), Q(1, 10), Q(1, 5)),
    ]

    @pytest.fixture(scope="class")
    @classmethod
    def exact_values(cls):
        return {case: sym.item_root_bias(*case[:5], rho_node=case[5]) for case in cls.CASES}

    @pytest.mark.parametrize("case", CASES)
    @pytest.mark.parametrize("method, tol", [("quad", QUAD_TOL), ("jacobi", CLOSED_TOL)])
    def test_item_root_bias(self, exact_values, case, method, tol):
        b, depth, rho, gamma, mub, rho_node = case
        got = num.item_root_bias(
            b, depth, float(rho), float(gamma), float(mub), rho_node=float(rho_node), method=method
        )
        assert close(got, exact_values[case], tol), (
            case,
            method,
            float(got),
            _f(exact_values[case]),
        )

    @settings(settings.get_profile("symbolic"))
    @given(
        b=st.sampled_from([3, 5]),
        depth=st.integers(1, 2),
        rho=fracs(Fraction(1, 20), Fraction(19, 20), max_denominator=40),
        gamma=fracs(Fraction(1, 10), 1, max_denominator=40),
        mub=fracs(Fraction(-9, 10), Fraction(9, 10), max_denominator=40),
        rho_node=st.sampled_from([Fraction(0), Fraction(1, 4)]),
    )
    def test_item_root_bias_random(self, b, depth, rho, gamma, mub, rho_node):
        exact = sym.item_root_bias(b, depth, _q(rho), _q(gamma), _q(mub), rho_node=_q(rho_node))
        args = (b, depth, float(rho), float(gamma), float(mub))
        for method, tol in [("quad", QUAD_TOL), ("jacobi", CLOSED_TOL)]:
            got = num.item_root_bias(*args, rho_node=float(rho_node), method=method)
            assert close(got, exact, tol), (method, float(got), _f(exact))

    @pytest.mark.parametrize(
        "case", [(3, 2, 0.3, 1.0, 0.1), (3, 3, 0.5, 0.7, 0.3), (5, 2, 0.8, 0.9, -0.2)]
    )
    def test_item_root_bias_midpoint(self, case):
        # docs/models/phase.md (25): the inverse-CDF midpoint rule agrees to ~1e-4
        assert close(num.item_root_bias(*case, method="midpoint"), sym.item_root_bias(*case), 1e-4)

    @pytest.mark.parametrize("method, tol", [("quad", QUAD_TOL), ("jacobi", CLOSED_TOL)])
    def test_exact_reference_vector(self, method, tol):
        got = num.item_root_bias(3, 2, 0.3, 1.0, 0.1, method=method)
        assert close(got, ITEM_B3_L2, tol)

    @pytest.mark.parametrize("rho", [0.1, 0.3, 0.5, 0.8])
    def test_l1_slope_at_zero(self, rho):
        # E[mu_1] is an odd cubic in mu_bar (b = 3, gamma = 1), so
        # (8 E(h) - E(2h)) / (6h) is its slope at 0 exactly
        h = 0.1
        e1 = num.item_root_bias(3, 1, rho, 1.0, h, method="jacobi")
        e2 = num.item_root_bias(3, 1, rho, 1.0, 2 * h, method="jacobi")
        slope = sym.item_slope_at_zero(3).subs(RHO, sym.exact(rho))
        assert close((8 * e1 - e2) / (6 * h), slope, 1e-11)

    def test_beta_params(self):
        for mub, rho in [(0.1, 0.2), (0.3, 0.5), (-0.4, 0.05)]:
            a, c = num.beta_params(mub, rho)
            ea, ec = sym.beta_params(mub, rho)
            assert close(a, ea) and close(c, ec)

    def test_star_item_equals_one_level(self):
        # a star of N leaves is a one-level tree with fan-in N; gamma = 1 gives betabinom
        for n, rho, gamma, mub in [
            (5, Q(3, 10), Q(4, 5), Q(1, 10)),
            (9, Q(1, 2), Q(9, 10), Q(1, 5)),
        ]:
            exact = sym.item_root_bias(n, 1, rho, gamma, mub)
            got = num.star_bias("item", n, float(rho), float(gamma), float(mub))
            assert close(got, exact, QUAD_TOL)
        a, c = (float(v) for v in sym.beta_params(Q(3, 10), Q(1, 2)))
        bb = 2 * scipy.stats.betabinom.sf(2, 5, a, c) - 1
        assert close(bb, sym.item_root_bias(5, 1, Q(1, 2), 1, Q(3, 10)))

    def test_shock_level_biases(self):
        for b, depth, rho, gamma, mu0, rho_node in [
            (3, 4, Q(1, 5), Q(9, 10), Q(1, 10), Q(0)),
            (5, 3, Q(3, 10), Q(4, 5), Q(1, 20), Q(0)),
            (3, 3, Q(3, 10), Q(9, 10), Q(1, 10), Q(1, 5)),
        ]:
            got = np.asarray(
                num.level_biases(
                    "shock",
                    b,
                    depth,
                    float(rho),
                    float(gamma),
                    float(mu0),
                    rho_node=float(rho_node),
                )
            )
            assert got.shape == (depth + 1,)
            for level, g in enumerate(got):
                assert close(g, sym.shock_root_bias(b, level, rho, gamma, mu0, rho_node))

    @pytest.mark.slow
    @pytest.mark.parametrize(
        "case",
        [
            (3, 4, 0.2, 0.9, 0.1),
            (3, 5, 0.5, 0.6, 0.1),
            (5, 3, 0.3, 0.8, 0.05),
            (7, 3, 0.3, 0.9, 0.1),
        ],
    )
    def test_item_root_bias_large_trees_quad(self, case):
        exact = sym.item_root_bias(*case)
        assert close(num.item_root_bias(*case, method="quad"), exact, QUAD_TOL)
        assert close(num.item_root_bias(*case, method="jacobi"), exact, CLOSED_TOL)


def test_float_inputs_are_read_as_decimals():
    assert sym.exact(0.3) == Q(3, 10)
    assert sym.exact(1) == 1
    assert math.isclose(_f(sym.exact("1/3")), 1 / 3)


def test_beta_binomial_variance_certifies_rho_of_the_fit():
    n = sp.Symbol("n", positive=True)
    var = sym.beta_binomial_variance(n)
    assert sp.simplify(var - n * sym.P * (1 - sym.P) * (1 + (n - 1) * RHO)) == 0
    # the numeric beta-binomial of the fit has that variance
    k = np.arange(10)
    pmf = np.exp(num.beta_binomial_logpmf(k, 9, 0.6, 0.3))
    mean = float((pmf * k).sum())
    value = float(var.subs({n: 9, sym.P: Q(3, 5), RHO: Q(3, 10)}))
    assert float((pmf * (k - mean) ** 2).sum()) == pytest.approx(value, abs=CLOSED_TOL)


def test_channel_bias_is_gamma_times_the_bias():
    assert sp.simplify(sym.channel_bias() - (1 - 2 * sym.EPS) * MU) == 0
    res = num.fit_fidelity([1] * 50 + [0] * 50, [1] * 45 + [0] * 5 + [0] * 45 + [1] * 5)
    assert res["gamma"] == pytest.approx(float(sym.channel_bias(1, Q(1, 10))), abs=1e-6)
