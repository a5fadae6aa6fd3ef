"""Symbolic identities of Knapsack RL, docs/models/knapsack.md (1)-(4), (8)-(10), (12)-(14).

The sympy derivations in :mod:`theory.symbolic.knapsack` are checked against
closed forms typed here from docs/models/knapsack.md, and :mod:`theory.knapsack` (floating
point) against exact values of the derivations.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import knapsack as num
from theory.symbolic import knapsack as sym

Q = sp.Rational
N, P, K, ALPHA = sym.N, sym.P, sym.K, sym.ALPHA
SYM = settings(max_examples=15, deadline=None)
rates = st.fractions(min_value=Q(1, 50), max_value=Q(49, 50), max_denominator=50)


def zero(expr):
    return sp.simplify(expr) == 0


def f30(expr):
    return float(sp.N(expr, 30))


# (1), (2) -----------------------------------------------------------------


def test_f_closed_form_from_binomial():
    assert zero(sym.prob_nonzero_gradient() - (1 - P**N - (1 - P) ** N))


@pytest.mark.parametrize("n", range(1, 9))
def test_f_equals_explicit_binomial_sum(n):
    assert zero(sp.expand(sym.prob_nonzero_gradient_sum(n) - sym.prob_nonzero_gradient(n)))


def test_f_symmetry_and_boundaries():
    f = sym.prob_nonzero_gradient()
    assert zero(f - f.subs(P, 1 - P))
    assert zero(f.subs(N, 1))
    assert zero(f.subs(N, 2) - 2 * P * (1 - P))
    assert zero(sym.prob_nonzero_gradient(5, 0)) and zero(sym.prob_nonzero_gradient(5, 1))


def test_marginal_gain_closed_form():
    d = sym.marginal_gain()
    assert zero(d - (P**N * (1 - P) + P * (1 - P) ** N))


def test_second_difference_negative_form():
    d2 = sym.second_difference()
    assert zero(d2 + P**N * (1 - P) ** 2 + (1 - P) ** N * P**2)


@pytest.mark.parametrize("n", [2, 3, 8])
def test_maximum_over_p_at_half(n):
    f = sym.prob_nonzero_gradient(n)
    crit = [r for r in sp.solve(sp.diff(f, P), P) if r.is_real and 0 < r < 1]
    assert crit == [Q(1, 2)]
    assert zero(f.subs(P, Q(1, 2)) - (1 - Q(2) ** (1 - n)))


@SYM
@given(st.integers(1, 40), rates)
def test_numeric_f_and_gain_against_exact(n, p):
    p = Q(p.numerator, p.denominator)
    exact_f = sym.prob_nonzero_gradient(n, p)
    exact_d = sym.marginal_gain(n, p)
    assert num.prob_nonzero_gradient(n, float(p)) == pytest.approx(f30(exact_f), abs=1e-15)
    assert num.marginal_gain(n, float(p)) == pytest.approx(f30(exact_d), rel=1e-13, abs=1e-300)


# (3), (4) -----------------------------------------------------------------


def test_info_gain_derivative_and_max():
    assert zero(sym.info_gain_derivative() - (1 - P) * (1 - 3 * P))
    arg, best = sym.info_gain_argmax()
    assert arg == Q(1, 3) and best == Q(4, 27)
    assert num.info_gain(1 / 3) == pytest.approx(4 / 27, rel=1e-15)
    assert zero(sym.info_gain(P) / sym.info_gain(1 - P) - (1 - P) / P)


@SYM
@given(st.integers(1, 30), rates)
def test_value_numeric(n, p):
    p = Q(p.numerator, p.denominator)
    assert num.value(n, float(p)) == pytest.approx(f30(sym.value(n, p)), rel=1e-13, abs=1e-18)


# (8)-(10) ----------------------------------------------------------------


def test_expected_rollouts_closed_form():
    e = sym.expected_rollouts()
    assert zero(e - (1 / (P * (1 - P)) - 1))
    assert zero(e - (1 - P + P**2) / (P * (1 - P)))
    assert sym.expected_rollouts(Q(1, 2)) == 3
    # minimum 3 at p = 1/2
    crit = sp.solve(sp.diff(e, P), P)
    assert crit == [Q(1, 2)]


@pytest.mark.parametrize("p", [Q(1, 2), Q(1, 3), Q(1, 10)])
def test_expected_rollouts_from_pmf(p):
    partial = sym.expected_rollouts_from_pmf(p, 400)
    assert f30(partial) == pytest.approx(f30(sym.expected_rollouts(p)), rel=1e-12)


@pytest.mark.parametrize("p", [Q(1, 100), Q(1, 20), Q(1, 8), Q(1, 4), Q(1, 2), Q(3, 4)])
def test_numeric_expected_rollouts(p):
    assert num.expected_rollouts(float(p)) == pytest.approx(f30(sym.expected_rollouts(p)),
                                                            rel=1e-14)


def test_coverage_budget_closed_form():
    na = sym.coverage_budget()
    assert zero(na - sp.log(1 - ALPHA) / sp.log(1 - P))
    for p in (Q(1, 100), Q(1, 8), Q(1, 2)):
        val = sym.coverage_budget(p, Q(9, 10))
        assert num.coverage_budget(float(p), 0.9) == pytest.approx(f30(val), rel=1e-14)
    # the paper's "229" example
    assert f30(sym.coverage_budget(Q(1, 100), Q(9, 10))) == pytest.approx(229.105, abs=1e-3)


# (14) --------------------------------------------------------------------


def test_grpo_advantages_closed_forms():
    kk = sp.Symbol("k", positive=True)
    nn = sp.Symbol("N", positive=True)
    a_pos, a_neg = sym.grpo_advantages(kk, nn)
    assume = {kk: 3, nn: 10}
    assert zero(sp.simplify(a_pos**2 - (nn - kk) * (nn - 1) / (kk * nn)).subs(assume))
    for k, n in [(1, 2), (1, 8), (4, 8), (7, 8), (1, 93), (30, 64)]:
        ap, an = sym.grpo_advantages(k, n)
        assert zero(ap - sp.sqrt(Q((n - k) * (n - 1), k * n)))
        assert zero(an + sp.sqrt(Q(k * (n - 1), (n - k) * n)))
        # group sum zero, unbiased variance one
        assert zero(k * ap + (n - k) * an)
        assert zero((k * ap**2 + (n - k) * an**2) / (n - 1) - 1)
        gp, gn = num.grpo_advantages(k, n, eps=0.0, clip=None)
        assert gp == pytest.approx(f30(ap), rel=1e-14)
        assert gn == pytest.approx(f30(an), rel=1e-14)


# (12), (13) --------------------------------------------------------------


def test_expected_ratios_by_outcome_enumeration():
    ns = [2, 3]
    ps = [Q(1, 3), Q(1, 2)]
    egr = epr = sp.Integer(0)
    for out in itertools.product([0, 1], repeat=sum(ns)):
        prob = sp.Integer(1)
        for j, o in enumerate(out):
            q = ps[0] if j < ns[0] else ps[1]
            prob *= q if o else 1 - q
        g = [out[: ns[0]], out[ns[0]:]]
        mixed = [0 < sum(gi) < len(gi) for gi in g]
        egr += prob * sp.Rational(sum(n for n, m in zip(ns, mixed) if m), sum(ns))
        epr += prob * sp.Rational(sum(mixed), 2)
    assert sp.nsimplify(sym.effective_gradient_ratio(ns, ps) - egr) == 0
    assert sp.nsimplify(sym.effective_prompt_ratio(ns, ps) - epr) == 0
    pf = [float(p) for p in ps]
    assert num.effective_gradient_ratio(ns, pf) == pytest.approx(f30(egr), rel=1e-14)
    assert num.effective_prompt_ratio(ns, pf) == pytest.approx(f30(epr), rel=1e-14)


def test_symbolic_input_errors():
    with pytest.raises(ValueError, match=r"^n must be an integer in \[1, inf\], got 0$"):
        sym.prob_nonzero_gradient_sum(0)
    with pytest.raises(ValueError, match="^ns must be a non-empty list"):
        sym.effective_gradient_ratio([2], [Q(1, 2), Q(1, 3)])


# DUET (22), (23), (30)-(32) ------------------------------------------------


def test_neyman_stationary_point_and_multiplier():
    s, ell, lam = sp.symbols("s L lambda", positive=True)
    assert zero(sym.neyman_stationary_point() - s / sp.sqrt(lam * ell))
    lam_star, ss, ls = sym.neyman_multiplier(3)
    B = sp.Symbol("B", positive=True)
    assert zero(lam_star - (sum(a * sp.sqrt(b) for a, b in zip(ss, ls)) / B) ** 2)


def test_neyman_multiplier_matches_the_numerics():
    from theory.knapsack import duet

    s_v, l_v, B = [0.2, 0.4, 0.5], [800, 600, 400], 7200
    lam_star, ss, ls = sym.neyman_multiplier(3)
    exact_lam = lam_star.subs({**dict(zip(ss, s_v)), **dict(zip(ls, l_v)), sp.Symbol(
        "B", positive=True): B})
    assert duet.neyman_allocation(s_v, l_v, B)[1] == pytest.approx(f30(exact_lam), rel=1e-12)


@pytest.mark.parametrize("m", [2, 3])
def test_variance_ratio_of_the_optimum_is_the_cauchy_schwarz_ratio(m):
    ratio, s, ell = sym.neyman_variance_ratio(m)
    cs = sum(a * sp.sqrt(b) for a, b in zip(s, ell)) ** 2 / (sum(a**2 for a in s) * sum(ell))
    vals = {x: Q(k + 2, 7) for k, x in enumerate(s)} | {x: 100 * (k + 1) ** 2 + 37
                                                         for k, x in enumerate(ell)}
    assert abs(f30((ratio - cs).subs(vals))) < 1e-25
    from theory.knapsack import duet

    sv = [float(vals[x]) for x in s]
    lv = [float(vals[x]) for x in ell]
    assert duet.neyman_gain(sv, lv) == pytest.approx(f30(ratio.subs(vals)), rel=1e-12)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_lagrange_identity_behind_the_gain_inequality(m):
    assert sym.lagrange_identity(m) == 0


def test_rollout_gradient_and_abort_weight_moments():
    from theory.knapsack import duet

    g, x2 = sym.rollout_gradient_moments()
    assert zero(g - P * (1 - P)) and zero(x2 - P * (1 - P) / 4)
    a1, a2 = sym.abort_weight_moments()
    q, eps = sp.symbols("q epsilon", positive=True)
    assert a1 == 1 and zero(a2 - (1 - q + q / eps))
    mean, var = duet.reweighted_moments(0.3, 0.2, 0.05)
    exact_var = (a2 * x2 - g**2).subs({P: Q(3, 10), q: Q(1, 5), eps: Q(1, 20)})
    assert mean == pytest.approx(0.21) and var == pytest.approx(f30(exact_var), rel=1e-12)


def test_gamma_rate_for_a_mean_length():
    from theory import gamma
    from theory.knapsack import duet

    m, a = sp.Symbol("m", positive=True), ALPHA
    rate = sym.gamma_rate_for_mean()
    check = ((rate / (rate - 1)) ** a - 1 - m).subs({m: 400, a: 30})
    assert abs(f30(check)) < 1e-20
    r = duet.gamma_rate_for_mean(400.0, 30.0)
    assert r == pytest.approx(f30(rate.subs({m: 400, a: 30})), rel=1e-12)
    assert gamma.length_mean(30.0, r) == pytest.approx(400.0, rel=1e-12)
