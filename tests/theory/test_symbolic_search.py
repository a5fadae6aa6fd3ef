"""Symbolic certificates of the search model, and the numeric theory checked against them.

docs/models/search.md (1)-(4), (7)-(9): the sympy derivations in
:mod:`theory.symbolic.search` against the forms written in that document, and
:mod:`theory.search` (floating point) against 30-digit values of the
derivations.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from theory import search as num
from theory.symbolic import search as sym


def test_the_rule_is_a_boltzmann_policy_on_log_values():
    assert sym.boltzmann_gap(3) == (0, 0, 0)


def test_at_full_budget_the_rule_is_proportional_to_value():
    vs = sym.values(3)
    for i, expr in enumerate(sym.rule_at_full_budget(3)):
        assert sp.simplify(expr - vs[i] / sum(vs)) == 0


def test_a_lower_value_loses_all_weight_as_r_goes_to_zero():
    assert sym.lower_weight_limit() == 0


@pytest.mark.parametrize("n", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_entropy_grows_with_the_temperature_by_the_variance_of_log_value(n):
    assert sym.entropy_derivative_gap(n) == 0


def test_the_chernoff_exponent_and_its_inversion():
    mu, K, L = sym.MU, sym.KK, sym.L
    assert sp.simplify(sym.chernoff_exponent() + (mu - K) ** 2 / (2 * mu)) == 0
    assert sp.simplify(sym.inverted_mean() - (K + L + sp.sqrt(L**2 + 2 * K * L))) == 0


def test_the_stated_bound_dominates_the_chernoff_root():
    K, L = sym.KK, sym.L
    assert sp.simplify(sym.bound_margin() - 2 * L * sp.sqrt(2 * K * L)) == 0


@pytest.mark.parametrize("K,eps", [(3, 0.05), (5, 0.05), (10, 0.01), (40, 0.2)])
def test_numeric_chernoff_mean_against_the_derivation(K, eps):
    exact = sym.inverted_mean().subs({sym.KK: K, sym.L: sp.log(1 / sp.Rational(repr(eps)))})
    assert num.chernoff_mu(K, eps) == pytest.approx(float(sp.N(exact, 30)), rel=1e-12)


@pytest.mark.parametrize("v,r", [((0.9, 0.5, 0.2), 0.3), ((0.25, 0.75, 0.5), 1.0),
                                 ((0.6, 0.6, 0.1), 0.05)])
def test_numeric_selection_against_the_derivation(v, r):
    vs = sym.values(3)
    sub = {**{s: sp.Rational(repr(x)) for s, x in zip(vs, v)}, sym.R: sp.Rational(repr(r))}
    want = [float(sp.N(sym.rule(vs, i).subs(sub), 30)) for i in range(3)]
    assert np.allclose(num.selection_probs(v, r), want, rtol=1e-12)


def test_numeric_entropy_slope_against_the_variance():
    v, r, h = np.array([0.9, 0.5, 0.2]), 0.4, 1e-6
    slope = (num.selection_entropy(v, r + h) - num.selection_entropy(v, r - h)) / (2 * h)
    pr, a = num.selection_probs(v, r), np.log(v)
    var = (pr * (a - (pr * a).sum()) ** 2).sum()
    assert slope == pytest.approx(var / r**3, rel=1e-6)
