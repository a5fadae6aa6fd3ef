"""The sympy certificates of theory.symbolic.workflow against the numerics of theory.workflow."""

import math

import numpy as np
import pytest
import sympy as sp

from theory import workflow as th
from theory.symbolic import workflow as sw


def test_moment_matching_is_exact_before_the_floor():
    mu, s = sp.Symbol("mu", positive=True), sp.Symbol("s", positive=True)
    assert sw.lognormal_matched() == (mu, s)
    assert sw.gamma_matched() == (mu, s)
    # numerically: the symbolic moments at the numeric parameters
    m, sigma = th.lognormal_params(7.94, 3.55)
    mean, var = sw.lognormal_moments(m, sigma)
    assert float(mean) == pytest.approx(7.94, rel=1e-12)
    assert math.sqrt(float(var)) == pytest.approx(3.55, rel=1e-12)
    shape, scale = th.gamma_params(7.94, 3.55)
    mean, var = sw.gamma_moments(shape, scale)
    assert float(mean) == pytest.approx(7.94, rel=1e-12)
    assert math.sqrt(float(var)) == pytest.approx(3.55, rel=1e-12)


@pytest.mark.parametrize("n, n_max", [(1, 1), (3, 5), (5, 8), (4, 4), (2, 9)])
def test_negative_binomial_sum_equals_binomial_tail_and_incomplete_beta(n, n_max):
    nb = sw.negative_binomial_cdf(n, n_max)
    assert sp.expand(nb - sw.binomial_tail(n, n_max)) == 0
    assert sp.expand(nb - sw.incomplete_beta(n, n_max - n + 1)) == 0
    for q in (0.1, 0.5, 0.9375):
        assert float(nb.subs(sw.Q, sp.Rational(repr(q)))) == pytest.approx(
            th.chain_success(n, q, n_max), abs=1e-13)


def test_loader_stationarity_is_the_stated_condition_and_lambert_solves_it():
    y, alpha = sw.Y, sw.ALPHA
    assert sp.simplify(sw.loader_stationarity() - (1 / y + sp.log(y) - 1 - alpha)) == 0
    for p, w, beta in ((0.5, 1, 1), (0.2, 10, 1), (0.8, 10, 1), (0.3, 2.5, 0.7)):
        r = th.loader_r_star(p, w, beta)
        a = -math.log(1 - p) * w / beta
        val = sw.loader_stationarity().subs({y: (1 - p) ** r, alpha: a})
        assert abs(float(val)) < 1e-9
    root, residual = sw.lambert_root(3)
    assert abs(complex(residual.evalf(40))) < 1e-30
    # the objective is minimal where the derivative changes sign
    f = sw.loader_objective(w=10, beta=1, b=sp.log(2), t=8)
    r_star = th.loader_r_star(0.5, 10, 1)
    d = sp.lambdify(sw.R, sp.diff(f, sw.R))
    assert d(r_star * 0.99) < 0 < d(r_star * 1.01)


def test_hoeffding_radius_is_solved_not_quoted():
    n, m, d = sp.symbols("N M delta", positive=True)
    assert sp.simplify(sw.hoeffding_radius() - sp.sqrt(sp.log(2 * n / d) / (2 * m))) == 0
    assert float(sw.hoeffding_radius(256, 64, sp.Rational(1, 20))) == pytest.approx(
        th.hoeffding_radius(256, 64, 0.05), rel=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7])
def test_expected_max_exponential_is_mu_harmonic(k):
    mu = sp.Symbol("mu", positive=True)
    assert sp.simplify(sw.expected_max_exponential(k) - mu * sp.harmonic(k)) == 0
    assert float(sw.expected_max_exponential(k, 2.5)) == pytest.approx(
        th.expected_max_exponential(2.5, k), rel=1e-12)
    assert np.isfinite(float(sw.expected_max_exponential(k, 1)))
