"""Symbolic identities of the Gamma-on-log-length law, and the numeric theory checked against them.

Two kinds of test (docs/models/gamma.md (1)-(10), (19)-(22)):

* the sympy derivations in :mod:`theory.symbolic.gamma` against closed forms
  typed here from that document (MGF moments, mean, mode, CDF, the CDF identity
  ``Pr(L <= b) = F(log(b + 1))``, the NLL gradients);
* :mod:`theory.gamma` (floating point) against 30-digit values of the
  derivations at fixed parameter sets, relative tolerance 1e-10.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
from scipy import special

from theory import gamma as num
from theory.symbolic import gamma as sym

ALPHA, RATE, Y, K, ELL = sym.ALPHA, sym.RATE, sym.Y, sym.K, sym.ELL
TOL = 1e-10
# (alpha, rate): shapes below, at and above 1; rates above 2 so moments k <= 2 exist.
PARAMS = [(2.5, 12.0), (1.5, 3.25), (7.0, 20.0), (0.75, 2.5), (40.0, 9.5)]


def zero(expr):
    return sp.simplify(expr) == 0


def ev(expr, alpha, rate, **more):
    sub = {ALPHA: sp.Rational(repr(alpha)), RATE: sp.Rational(repr(rate))}
    sub.update({getattr(sym, k.upper()): sp.Rational(repr(v)) for k, v in more.items()})
    return float(sp.N(expr.subs(sub, simultaneous=True), 30))


def close(got, want):
    assert math.isfinite(got) and math.isfinite(want)
    assert abs(got - want) <= TOL * abs(want), (got, want)


# --- moments ---------------------------------------------------------------
def test_mgf_closed_form():
    assert zero(sym.mgf() - (RATE / (RATE - K)) ** ALPHA)


def test_mgf_order_zero_is_normalisation():
    assert zero(sym.mgf().subs(K, 0) - 1)
    total = sp.integrate(sym.density(), (Y, 0, sp.oo))
    assert zero(total - 1)


def test_mean_closed_form():
    assert zero(sym.length_mean() - ((RATE / (RATE - 1)) ** ALPHA - 1))


@pytest.mark.parametrize("alpha,rate", PARAMS)
@pytest.mark.parametrize("k", [0.5, 1.0, 2.0])
def test_moment_matches_numeric(alpha, rate, k):
    close(float(num.length_moment(k, alpha, rate)), ev(sym.length_moment(), alpha, rate, k=k))


@pytest.mark.parametrize("alpha,rate", PARAMS)
def test_mean_matches_numeric(alpha, rate):
    close(float(num.length_mean(alpha, rate)), ev(sym.length_mean(), alpha, rate))


def test_mgf_matches_quadrature_of_exp_ky():
    # an independent check of the derivation: direct numeric integration
    a, r, k = sp.Rational(5, 2), sp.Rational(12), sp.Integer(2)
    integrand = sp.exp(k * Y) * sym.density(Y, a, r)
    quad = float(sp.Integral(integrand, (Y, 0, sp.oo)).evalf(30))
    close(quad, ev(sym.length_moment(), 2.5, 12.0, k=2.0))


# --- mode ------------------------------------------------------------------
def test_mode_closed_form():
    assert zero(sym.mode_y() - (ALPHA - 1) / RATE)
    assert zero(sym.length_mode() - (sp.exp((ALPHA - 1) / RATE) - 1))


def test_mode_is_maximum_for_alpha_above_one():
    second = sp.diff(sym.log_density(), Y, 2).subs(Y, sym.mode_y())
    # -rate**2 / (alpha - 1) < 0 for alpha > 1
    assert zero(second + RATE**2 / (ALPHA - 1))


@pytest.mark.parametrize("alpha,rate", PARAMS)
def test_mode_matches_numeric(alpha, rate):
    close(float(num.length_mode(alpha, rate)), ev(sym.length_mode(), alpha, rate))


# --- CDF and the budget identity ---------------------------------------------
def test_cdf_closed_form_and_derivative():
    assert zero(sym.cdf() - sp.lowergamma(ALPHA, RATE * Y) / sp.gamma(ALPHA))
    assert zero(sp.diff(sym.cdf(), Y) - sym.density())
    assert zero(sym.cdf().subs(Y, 0))


def test_length_cdf_identity():
    assert zero(sym.length_cdf() - sym.cdf(sp.log(ELL + 1)))
    assert zero(sym.budget_prob() - sym.cdf(sp.log(sym.BUDGET + 1)))
    # the change of variable: d/d ell Pr(L <= ell) is the density of L = exp(Y) - 1
    dens_l = sym.density(sp.log(ELL + 1)) / (ELL + 1)
    assert zero(sp.diff(sym.length_cdf(), ELL) - dens_l)


@pytest.mark.parametrize("alpha,rate", PARAMS)
@pytest.mark.parametrize("b", [1.0, 7.0, 250.0])
def test_budget_prob_matches_numeric(alpha, rate, b):
    want = ev(sym.budget_prob(), alpha, rate, budget=b)
    close(float(num.budget_prob(b, alpha, rate)), want)
    close(float(num.length_cdf(b, alpha, rate)), want)
    close(float(num.cdf(math.log(b + 1.0), alpha, rate)), want)


@pytest.mark.parametrize("alpha,rate", PARAMS)
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_inverts_length_cdf(alpha, rate, q):
    lq = float(num.length_quantile(q, alpha, rate))
    close(lq, math.expm1(float(special.gammaincinv(alpha, q)) / rate))
    close(ev(sym.length_cdf(), alpha, rate, ell=lq), q)
    if q == 0.5:
        close(float(num.length_median(alpha, rate)), lq)


# --- NLL gradients ---------------------------------------------------------
def test_nll_gradient_closed_form():
    d_alpha, d_rate = sym.nll_grad()
    assert zero(d_alpha - (sp.digamma(ALPHA) - sp.log(RATE) - sp.log(Y)))
    assert zero(d_rate - (Y - ALPHA / RATE))


def test_nll_rate_gradient_vanishes_at_mle():
    # the rate stationarity alpha / rate = y: the MLE of the rate for one observation
    assert sp.solve(sym.nll_grad()[1], RATE) == [ALPHA / Y]


@pytest.mark.parametrize("alpha,rate", PARAMS)
@pytest.mark.parametrize("y", [math.log(2.0), 1.3, math.log(1001.0)])
def test_nll_and_gradient_match_numeric(alpha, rate, y):
    close(float(num.nll(y, alpha, rate)), ev(sym.nll(), alpha, rate, y=y))
    g_alpha, g_rate = num.nll_grad(y, alpha, rate)
    s_alpha, s_rate = sym.nll_grad()
    close(float(g_alpha), ev(s_alpha, alpha, rate, y=y))
    close(float(g_rate), ev(s_rate, alpha, rate, y=y))


# --- continuous MLE: profile likelihood (fit_gamma) --------------------------
def test_profile_rate_and_equation():
    assert zero(sym.profile_rate() - ALPHA / sym.M1)
    eq = sym.profile_equation()
    assert zero(eq - (sp.digamma(ALPHA) - sp.log(ALPHA) + sp.log(sym.M1) - sym.M2))
    # envelope: at the profiled rate, the partial derivative in alpha of the mean NLL
    # is the total derivative of the profiled mean NLL
    partial = sp.diff(sym.mean_nll(), ALPHA).subs(RATE, sym.profile_rate())
    assert zero(sp.expand_log(partial - eq, force=True))


def test_profile_equation_root_is_numeric_fit():
    lengths = [1, 3, 7, 20, 20, 55, 148, 400, 1096, 2980]
    fit = num.fit_gamma(lengths)
    y = [math.log(ell + 1.0) for ell in lengths]
    m1 = sum(y) / len(y)
    m2 = sum(math.log(v) for v in y) / len(y)
    sub = {sym.M1: sp.Float(m1, 30), sym.M2: sp.Float(m2, 30)}
    root = sp.nsolve(sym.profile_equation().subs(sub), ALPHA, fit.alpha, prec=30)
    close(fit.alpha, float(root))
    close(fit.rate, float(root) / m1)
    # the profile equation vanishes at the fitted shape
    assert abs(float(sym.profile_equation().subs(sub).subs(ALPHA, fit.alpha))) < 1e-12


# --- the geometric toy: exact-oracle guidance, docs/models/gamma.md (19)-(21) ------
H, LBAR = sym.H, sym.LBAR


def test_guided_stop_prob_closed_form():
    s = sym.geometric_guided_stop_prob()
    want = H / (H + (1 - H) * (1 - (1 - H) ** (sym.BUDGET - 1)))
    assert zero(s - want)
    assert zero(s.subs(sym.BUDGET, 1) - 1)
    # the renormaliser is Pr(G <= b) = 1 - (1-h)^b, so s = h / (1 - (1-h)^b)
    q = sp.Symbol("q", positive=True)
    renorm = (H + (1 - H) * (1 - (1 - H) ** (sym.BUDGET - 1))).subs(H, 1 - q)
    assert zero(sp.expand(sp.expand_power_exp(renorm - (1 - q**sym.BUDGET))))


@pytest.mark.parametrize("lbar", [1, 2, 3, 4, 5, 6])
def test_guided_chain_is_truncated_geometric(lbar):
    total = 0
    for k in range(1, lbar + 1):
        pmf = sym.guided_length_pmf(k, lbar)
        assert zero(pmf - sym.truncated_geometric_pmf(k, lbar))
        total += pmf
    assert zero(total - 1)  # never over budget: Pr(T > lbar) = 0
    assert zero(1 - sym.geometric_guided_stop_prob(1))  # the last token always stops


def test_truncated_mean_closed_form():
    m = sym.truncated_geometric_mean()
    want = 1 / H - LBAR * (1 - H) ** LBAR / (1 - (1 - H) ** LBAR)
    for lbar in range(1, 8):
        assert zero(m.subs(LBAR, lbar) - want.subs(LBAR, lbar))
    # general lbar: (1-h)^(lbar-1) = (1-h)^lbar / (1-h)
    q = sp.Symbol("q", positive=True)
    diff = (m - want).subs(H, 1 - q)
    diff = diff.subs((q) ** (LBAR - 1), q**LBAR / q)
    assert zero(sp.factor(sp.together(sp.expand_power_exp(diff))))


@pytest.mark.parametrize("h", [0.01, 0.3, 0.75, 1.0])
@pytest.mark.parametrize("lbar", [1, 5, 150])
def test_geometric_toy_matches_numeric(h, lbar):
    hq = sp.Rational(repr(h))
    b = [1, 2, 7, lbar]
    for bb in b:
        want = float(sp.N(sym.geometric_guided_stop_prob(bb, hq), 30))
        close(float(num.geometric_guided_stop_prob(h, bb)), want)
    assert num.truncated_geometric_pmf(lbar + 1, h, lbar) == 0.0
    assert num.truncated_geometric_pmf(0, h, lbar) == 0.0
    for k in sorted({1, min(2, lbar), lbar // 2 or 1, lbar}):
        want = float(sp.N(sym.truncated_geometric_pmf(k, lbar, hq), 30))
        close(float(num.truncated_geometric_pmf(k, h, lbar)), want)
    want = float(sp.N(sym.truncated_geometric_mean(lbar, hq), 30))
    close(float(num.truncated_geometric_mean(h, lbar)), want)


def test_geometric_toy_reference_mean():
    # exact mean (21): 57.33 at h = 0.01, lbar = 150
    assert float(num.truncated_geometric_mean(0.01, 150)) == pytest.approx(57.33, abs=0.005)
