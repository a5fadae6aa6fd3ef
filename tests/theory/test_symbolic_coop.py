"""Symbolic identities of the coop model, and the numeric theory checked against them.

Two kinds of test (docs/models/coop.md (6)-(14), (19), (20) and its section
"Comparative statics"):

* the sympy derivations in :mod:`theory.symbolic.coop` against closed forms
  typed here from docs/models/coop.md (expanded utility, FOC, ``k``, target, symmetric
  equilibrium, Holmstrom baseline, social optimum, ratios, synergy), proved by
  simplifying a difference to 0 or a ratio to 1 on the model's domain, and the
  signs of the comparative statics;
* :mod:`theory.coop` (floating point) against 30-digit values of the
  derivations, relative tolerance 1e-10, on fixed and hypothesis-drawn
  parameters (the ranges of the property tests of tests/theory/test_coop.py), in
  both welfare modes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import coop as num
from theory.symbolic import coop as sym

OMEGA, BETA, C, N = sym.OMEGA, sym.BETA, sym.C, sym.N
THETA, PHI_B, PHI_C, S, S_MINUS = sym.THETA, sym.PHI_B, sym.PHI_C, sym.S, sym.S_MINUS
P = 1 / (1 - BETA)
TOL = 1e-10
MODES = ("sum", "mean")
SET = settings(max_examples=4, deadline=None)


def k_typed(mode):
    return 1 + (N - 1) * THETA * PHI_B if mode == "sum" else 1 + THETA * PHI_B


def zero(expr):
    return sp.simplify(expr) == 0


def same(a, b):
    """``a == b`` on the model's domain: their ratio simplifies to 1."""
    ratio = (a / b).subs(sym.domain_substitution(), simultaneous=True)
    if sp.simplify(sp.powsimp(ratio, force=True)) == 1:
        return True
    ratio = sp.powsimp(sp.expand_power_base(ratio, force=True), force=True)
    return sp.simplify(sp.expand_power_base(ratio, force=True)) == 1


def close(value, expected, tol=TOL):
    return abs(float(value) - float(expected)) <= tol * max(abs(float(expected)), 1e-300)


# fixed parameter sets (omega, beta, c, n, theta, phi_B, phi_C)
FIXED = [
    (20.0, 0.5, 2.5, 5, 0.3, 0.8, 0.3),
    (10.0, 0.4, 3.5, 8, 0.9, 0.8, 0.3),
    (15.0, 0.45, 2.0, 4, 0.7, 1.0, 0.9),
    (25.0, 0.55, 3.0, 2, 0.05, 0.2, 0.5),
    (5.0, 0.9, 0.5, 12, 1.0, 1.0, 0.1),
]

params = st.tuples(
    st.floats(5, 50), st.floats(0.2, 0.9), st.floats(0.5, 5), st.integers(2, 12),
    st.floats(0, 1), st.floats(0, 1), st.floats(0, 0.9),
)


def values(p):
    omega, beta, c, n, theta, phi_B, phi_C = p
    return dict(omega=omega, beta=beta, c=c, n=n, theta=theta, phi_B=phi_B, phi_C=phi_C)


# ==========================================================================
# symbolic: utility, FOC, target, docs/models/coop.md (6)-(10)
# ==========================================================================
class TestUtilitySymbolic:
    @pytest.mark.parametrize("mode", MODES)
    def test_expanded_form(self, mode):
        assert zero(sym.utility(mode) - sym.expanded_utility(mode))

    def test_versions_differ(self):
        assert not zero(sym.utility("sum") - sym.utility("mean"))
        # ... and agree when n = 2 or theta = 0
        assert zero((sym.utility("sum") - sym.utility("mean")).subs(N, 2))
        assert zero((sym.utility("sum") - sym.utility("mean")).subs(THETA, 0))

    def test_aliases(self):
        assert sym.first_order_condition("paper") == sym.first_order_condition("sum")
        with pytest.raises(ValueError):
            sym.utility("median")

    @pytest.mark.parametrize("mode", MODES)
    def test_foc(self, mode):
        foc = k_typed(mode) * OMEGA * BETA * S ** (BETA - 1) / N - C * (1 - THETA * PHI_C)
        assert zero(sym.first_order_condition(mode) - foc)
        assert zero(sym.benefit_multiplier(mode) - k_typed(mode))
        assert zero(sym.effective_cost(mode) - C * (1 - THETA * PHI_C))
        # the FOC does not depend on the others' effort other than through S
        assert S_MINUS not in sym.first_order_condition(mode).free_symbols

    @pytest.mark.parametrize("mode", MODES)
    def test_concavity(self, mode):
        d2 = sym.second_order_condition(mode)
        assert zero(d2 - (BETA - 1) * k_typed(mode) * OMEGA * BETA * S ** (BETA - 2) / N)
        d2 = d2.subs(sym.domain_substitution(), simultaneous=True)
        assert sp.factor(sp.together(d2)).is_negative

    @pytest.mark.parametrize("mode", MODES)
    def test_target_and_best_response(self, mode):
        target = sym.target_aggregate(mode)
        typed = (k_typed(mode) * OMEGA * BETA / (N * C * (1 - THETA * PHI_C))) ** P
        assert same(target, typed)
        assert zero(sym.interior_best_response(mode) - (target - S_MINUS))
        br = sym.best_response(mode, a_min=0, a_max=50)
        assert br == sp.Min(50, sp.Max(0, target - S_MINUS))


# ==========================================================================
# symbolic: equilibria, docs/models/coop.md (12)-(14), (19), (20)
# ==========================================================================
A0 = (OMEGA * BETA / (C * N ** (2 - BETA))) ** P


class TestEquilibriumSymbolic:
    def test_free_riding(self):
        assert same(sym.free_riding_effort(), A0)
        assert same(sym.free_riding_aggregate(), (OMEGA * BETA / (N * C)) ** P)
        assert same(sym.free_riding_aggregate(), N * A0)

    def test_social_optimum(self):
        assert same(sym.social_optimum_aggregate(), (OMEGA * BETA / C) ** P)
        assert same(sym.underprovision_ratio(), N ** P)
        assert not same(sym.underprovision_ratio(), N ** (1 / BETA))

    @pytest.mark.parametrize("mode", MODES)
    def test_symmetric_equilibrium(self, mode):
        a = sym.symmetric_equilibrium_effort(mode)
        assert same(a, A0 * (k_typed(mode) / (1 - THETA * PHI_C)) ** P)
        # symmetric aggregate = every member's target
        assert same(sym.symmetric_equilibrium_aggregate(mode), sym.target_aggregate(mode))

    @pytest.mark.parametrize("mode", MODES)
    def test_differentiation_free_of_omega_c(self, mode):
        r = sym.effort_differentiation(mode)
        assert not {OMEGA, C} & r.free_symbols
        k = sym.benefit_multiplier(mode)
        t9, t1 = sp.Rational(9, 10), sp.Rational(1, 10)
        typed = (k.subs(THETA, t9) * (1 - t1 * PHI_C) / (k.subs(THETA, t1) * (1 - t9 * PHI_C))) ** P
        assert same(r, typed)

    def test_differentiation_table(self):
        # paper variant, phi_B = 0.8, phi_C = 0.3: 15.036 at (beta, n) = (0.55, 4), the
        # paper's median (docs/models/coop.md, "Reference values")
        r = sym.effort_differentiation("sum")
        assert abs(sym.evaluate(r, beta=0.55, n=4, phi_B=0.8, phi_C=0.3) - 15.036) < 5e-4
        assert abs(sym.evaluate(r, beta=0.4, n=8, phi_B=0.8, phi_C=0.3) - 15.3321) < 5e-5
        rr = sym.effort_differentiation("mean")
        assert abs(sym.evaluate(rr, beta=0.5, n=4, phi_B=0.8, phi_C=0.3) - 4.4782) < 5e-5


# ==========================================================================
# symbolic: comparative statics (docs/models/coop.md, "Comparative statics")
# ==========================================================================
class TestComparativeStatics:
    EXPECTED = {"theta": 1, "phi_B": 1, "phi_C": 1, "omega": 1, "c": -1, "n": -1}

    @pytest.mark.parametrize("mode", MODES)
    def test_signs(self, mode):
        signs = {x: sym.comparative_static_sign(x, mode)
                 for x in sym.COMPARATIVE_STATICS_VARIABLES}
        assert signs == self.EXPECTED

    @pytest.mark.parametrize("mode", MODES)
    def test_closed_forms(self, mode):
        cs = sym.comparative_statics(mode)
        k = k_typed(mode)
        assert zero(cs["theta"] - P * (sp.diff(k, THETA) / k + PHI_C / (1 - THETA * PHI_C)))
        assert zero(cs["phi_B"] - P * sp.diff(k, PHI_B) / k)
        assert zero(cs["phi_C"] - P * THETA / (1 - THETA * PHI_C))
        assert zero(cs["omega"] - P / OMEGA)
        assert zero(cs["c"] + P / C)
        assert zero(cs["n"] - P * (-(2 - BETA) / N + sp.diff(k, N) / k))

    def test_n_sign_needs_bounded_benefit(self):
        # with phi_B > 1 the paper variant can rise in n (n = 2, beta near 1)
        d = sym.comparative_statics("sum")["n"]
        assert sym.evaluate(d, beta=0.9, n=2, theta=1, phi_B=5, phi_C=0.3) > 0
        assert sym.evaluate(d, beta=0.9, n=2, theta=1, phi_B=1, phi_C=0.3) < 0

    def test_unknown_variable(self):
        with pytest.raises(ValueError):
            sym.comparative_static_sign("gamma")


# ==========================================================================
# numeric theory.coop against the derivations
# ==========================================================================
def check_closed_forms(p, mode):
    v = values(p)
    omega, beta, c, n, theta, phi_B, phi_C = p
    ev = lambda e: sym.evaluate(e, **v)  # noqa: E731
    assert close(num.benefit_multiplier(theta, n, phi_B, mode), ev(sym.benefit_multiplier(mode)))
    assert close(num.effective_cost(theta, c, phi_C), ev(sym.effective_cost(mode)))
    assert close(num.target_aggregate(theta, omega, beta, c, n, phi_B, phi_C, mode),
                 ev(sym.target_aggregate(mode)))
    assert close(num.symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B, phi_C, mode),
                 ev(sym.symmetric_equilibrium_effort(mode)))
    assert close(num.symmetric_equilibrium_aggregate(theta, omega, beta, c, n, phi_B, phi_C,
                                                     mode),
                 ev(sym.symmetric_equilibrium_aggregate(mode)))


def check_baseline(p):
    v = values(p)
    omega, beta, c, n = p[:4]
    ev = lambda e: sym.evaluate(e, **v)  # noqa: E731
    assert close(num.free_riding_effort(omega, beta, c, n), ev(sym.free_riding_effort()))
    assert close(num.free_riding_aggregate(omega, beta, c, n), ev(sym.free_riding_aggregate()))
    assert close(num.social_optimum_aggregate(omega, beta, c), ev(sym.social_optimum_aggregate()))
    assert close(num.social_optimum_effort(omega, beta, c, n), ev(sym.social_optimum_effort()))
    assert close(num.underprovision_ratio(beta, n), ev(sym.underprovision_ratio()))


def check_utility(p, mode, rng):
    omega, beta, c, n, theta, phi_B, phi_C = p
    a = rng.uniform(0.1, 10.0, n)
    thetas = np.full(n, theta)
    thetas[0] = rng.choice([0.0, 0.25, 0.5, 1.0]) * min(1.0, 0.99 / max(phi_C, 1e-9))
    t0 = float(thetas[0])
    v = dict(omega=omega, beta=beta, c=c, n=n, phi_B=phi_B, phi_C=phi_C, theta=t0,
             a=float(a[0]), S_minus=float(a[1:].sum()))
    U = num.utility(a, thetas, omega, beta, c, phi_B, phi_C, mode)[0]
    g = num.marginal_utility(a, thetas, omega, beta, c, phi_B, phi_C, mode)[0]
    assert close(U, sym.evaluate(sym.utility(mode), **v), 1e-9)
    v_S = dict(v, S=float(a.sum()))
    # g is a difference of two terms; compare against their scale
    scale = c + abs(sym.evaluate(sym.first_order_condition(mode) + sym.effective_cost(mode),
                                 **v_S))
    assert abs(g - sym.evaluate(sym.first_order_condition(mode), **v_S)) <= TOL * scale


class TestNumericAgainstSymbolic:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("p", FIXED)
    def test_fixed(self, p, mode):
        check_closed_forms(p, mode)
        check_utility(p, mode, np.random.default_rng(7))

    @pytest.mark.parametrize("p", FIXED)
    def test_fixed_baseline(self, p):
        check_baseline(p)

    @SET
    @given(params, st.sampled_from(MODES), st.integers(0, 2**32 - 1))
    def test_drawn(self, p, mode, seed):
        check_closed_forms(p, mode)
        check_baseline(p)
        check_utility(p, mode, np.random.default_rng(seed))

    @pytest.mark.parametrize("mode", MODES)
    def test_ratios(self, mode):
        v = dict(beta=0.55, n=4, phi_B=0.8, phi_C=0.3)
        r = num.effort_differentiation(25.0, 0.55, 3.0, 4, 0.8, 0.3, mode)
        assert close(r, sym.evaluate(sym.effort_differentiation(mode), **v))
        syn = num.mechanism_synergy(25.0, 0.55, 3.0, 4, 0.8, 0.3, mode)
        v.update(omega=25.0, c=3.0)
        assert close(syn, sym.evaluate(sym.synergy_ratio(mode), **v))
        assert close(syn, sym.evaluate(sym.synergy_identity(mode), **v))

    @pytest.mark.parametrize(
        "point, expected",
        [((20.0, 0.5, 2.5, 5), (0.593799, 1.19762, 2.15301, 3.61599,
                                0.237668, 0.347239, 0.49912, 0.710593)),
         ((15.0, 0.45, 2.0, 4), (0.5841, 1.03443, 1.69178, 2.63517,
                                 0.322189, 0.454778, 0.632487, 0.872008))])
    def test_reference_values(self, point, expected):
        # docs/models/coop.md, "Reference values" (6 significant digits), phi_B = 0.8, phi_C = 0.3
        omega, beta, c, n = point
        got = [sym.evaluate(sym.symmetric_equilibrium_effort(m), omega=omega, beta=beta, c=c,
                            n=n, theta=t, phi_B=0.8, phi_C=0.3)
               for m in MODES for t in (0.3, 0.5, 0.7, 0.9)]
        for g, e in zip(got, expected):
            assert abs(g - e) <= 6e-6 * e

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("name", ["theta", "phi_B", "phi_C", "omega", "c"])
    def test_derivatives_by_finite_differences(self, mode, name):
        # central differences of log theory.coop effort; accuracy ~1e-8, not 1e-10
        p = dict(theta=0.5, omega=20.0, beta=0.5, c=2.5, n=5, phi_B=0.8, phi_C=0.3)
        h = 1e-5

        def log_a(**kw):
            q = dict(p, **kw)
            return math.log(num.symmetric_equilibrium_effort(
                q["theta"], q["omega"], q["beta"], q["c"], q["n"], q["phi_B"], q["phi_C"],
                mode))

        fd = (log_a(**{name: p[name] + h}) - log_a(**{name: p[name] - h})) / (2 * h)
        assert close(fd, sym.evaluate(sym.comparative_statics(mode)[name], **p), 1e-7)

    @pytest.mark.parametrize("mode", MODES)
    def test_n_derivative_sign_on_integers(self, mode):
        e = [num.symmetric_equilibrium_effort(0.9, 20.0, 0.8, 2.5, n, 1.0, 0.3, mode)
             for n in range(2, 13)]
        assert all(x > y for x, y in zip(e, e[1:]))
        d = sym.comparative_statics(mode)["n"]
        assert all(sym.evaluate(d, theta=0.9, omega=20.0, beta=0.8, c=2.5, n=n, phi_B=1.0,
                                phi_C=0.3) < 0 for n in range(2, 13))
