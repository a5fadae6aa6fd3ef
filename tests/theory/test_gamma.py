"""Tests of theory.gamma against docs/models/gamma.md (1)-(27), reference values computed
independently, and independent computations (scipy.stats.gamma, direct sums)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special, stats

from theory import gamma as g

A, R = 7.3, 12.5  # parameters of the independently computed reference values
RNG = np.random.default_rng(20250616)
ALPHAS = RNG.uniform(0.05, 500, 40)
RATES = RNG.uniform(0.05, 500, 40)


def ref(alpha, rate):
    return stats.gamma(a=alpha, scale=1.0 / rate)


# --- reference values (computed with SciPy outside this code) -------------

def test_reference_values():
    assert g.cdf(0.81, A, R) == pytest.approx(0.8542949086, abs=1e-10)
    assert g.logpdf(0.81, A, R) == pytest.approx(-0.1626159, abs=2e-7)
    # the law of L: mean (6), median (5), mode (7), P(L <= b) (3); Monte Carlo with 2e6 draws
    # gave 0.838008, 0.746312, 0.72525 and 0.97842
    assert g.length_mean(A, R) == pytest.approx(0.838014, abs=1e-6)
    assert g.length_median(A, R) == pytest.approx(0.746407, abs=1e-6)
    assert g.length_mode(A, R) == pytest.approx(0.655329, abs=1e-6)
    np.testing.assert_allclose(g.budget_prob([1, 2], A, R), [0.72525, 0.97853], atol=1e-5)


def test_agrees_with_scipy_stats():
    y = RNG.uniform(0.01, 3.0, 40)
    d = ref(ALPHAS, RATES)
    np.testing.assert_allclose(g.cdf(y, ALPHAS, RATES), d.cdf(y), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(g.sf(y, ALPHAS, RATES), d.sf(y), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(g.logpdf(y, ALPHAS, RATES), d.logpdf(y), rtol=1e-9)
    np.testing.assert_allclose(g.pdf(y, ALPHAS, RATES), d.pdf(y), rtol=1e-9, atol=1e-300)
    q = RNG.uniform(0.01, 0.99, 40)
    np.testing.assert_allclose(g.ppf(q, ALPHAS, RATES), d.ppf(q), rtol=1e-9)


# --- CDF properties of (2)-(3) --------------------------------------------

def test_cdf_properties():
    assert g.cdf(0.0, A, R) == 0.0
    y = np.linspace(0, 5, 200)
    F = g.cdf(y, A, R)
    assert np.all((F >= 0) & (F <= 1)) and np.all(np.diff(F) >= 0)
    Fa = g.cdf(0.5, np.linspace(0.1, 50, 100), R)
    assert np.all(np.diff(Fa) <= 0)  # non-increasing in alpha
    Fr = g.cdf(0.5, A, np.linspace(0.1, 50, 100))
    assert np.all(np.diff(Fr) >= 0)  # non-decreasing in rate
    b = np.arange(1, 2000)
    assert np.all(np.diff(g.budget_prob(b, A, R)) >= 0)


# --- quantile round trips (5) ----------------------------------------------

def test_quantile_round_trips():
    q = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(g.cdf(g.ppf(q, A, R), A, R), q, rtol=1e-10)
    y = np.linspace(0.2, 1.5, 50)
    np.testing.assert_allclose(g.ppf(g.cdf(y, A, R), A, R), y, rtol=1e-8)
    ell = np.array([0.3, 1.0, 2.0, 5.0])
    np.testing.assert_allclose(g.length_quantile(g.length_cdf(ell, A, R), A, R), ell, rtol=1e-8)
    np.testing.assert_allclose(g.length_quantile(0.3, A, R), np.exp(ref(A, R).ppf(0.3)) - 1)


# --- log space ------------------------------------------------------------

def test_log_space_equals_linear_where_representable():
    y = RNG.uniform(0.01, 3.0, 40)
    F, S = g.cdf(y, ALPHAS, RATES), g.sf(y, ALPHAS, RATES)
    ok = (F > 1e-290) & (S > 1e-290)
    assert ok.sum() > 5
    np.testing.assert_allclose(g.logcdf(y, ALPHAS, RATES)[ok], np.log(F[ok]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g.logsf(y, ALPHAS, RATES)[ok], np.log(S[ok]), rtol=1e-9, atol=1e-12)


def test_log_space_extreme_tails():
    # lower tail: P(a, x) ~ x^a e^-x / Gamma(a+1) (1 + x/(a+1) + ...), independent leading term
    a, x = 500.0, 1e-3
    lead = a * math.log(x) - x - special.gammaln(a + 1)
    assert special.gammainc(a, x) == 0.0
    assert g.logcdf(x, a, 1.0) == pytest.approx(lead + math.log1p(x / (a + 1)), rel=1e-12)
    # upper tail: Q(1, x) = e^-x exactly
    assert g.logsf(100.0, 1.0, 10.0) == pytest.approx(-1000.0, rel=1e-12)
    # Q(a, x) ~ x^(a-1) e^-x / Gamma(a) (1 + (a-1)/x + ...)
    a, x = 3.0, 2000.0
    lead = (a - 1) * math.log(x) - x - special.gammaln(a)
    series = math.log1p((a - 1) / x + (a - 1) * (a - 2) / x**2)
    assert g.logsf(x, a, 1.0) == pytest.approx(lead + series, rel=1e-12)
    assert np.all(np.isfinite(g.budget_logprob(1, ALPHAS * 0 + 500.0, 0.05)))


# --- discretisation (4) -----------------------------------------------------

def test_pmf_sums_to_one_and_matches_cdf_differences():
    ell = np.arange(1, 200001)
    for a, r in [(A, R), (2.0, 3.0), (40.0, 15.0)]:
        pmf = g.length_pmf(ell, a, r)
        assert np.all(pmf >= 0)
        tail = ref(a, r).sf(np.log(ell[-1] + 1.0))
        assert pmf.sum() + tail == pytest.approx(1.0, abs=1e-10)
        F = ref(a, r).cdf(np.log(np.arange(0, 21) + 1.0))
        np.testing.assert_allclose(pmf[:20], np.diff(F), rtol=1e-8, atol=1e-15)
        np.testing.assert_allclose(np.cumsum(pmf[:20]), g.budget_prob(np.arange(1, 21), a, r),
                                   rtol=1e-9)


def test_discrete_model_by_simulation():
    y = ref(A, R).rvs(size=200000, random_state=np.random.default_rng(1))
    L = np.ceil(np.expm1(y))
    for k in (1, 2, 3):
        p = np.mean(L == k)
        exact = g.length_pmf(k, A, R)
        assert abs(p - exact) < 5 * math.sqrt(exact * (1 - exact) / y.size)


def test_discrete_nll():
    want = -math.log(ref(A, R).cdf(math.log(2)))
    assert g.discrete_nll(1, A, R) == pytest.approx(want, rel=1e-10)
    assert g.discrete_nll(3, A, R) == pytest.approx(
        -math.log(ref(A, R).cdf(math.log(4)) - ref(A, R).cdf(math.log(3))), rel=1e-8)
    # far tail stays finite and matches the log-survival difference
    v = g.discrete_nll(10**6, 50.0, 30.0)
    assert np.isfinite(v) and v > 100


# --- moments (6) --------------------------------------------------------------

def test_moments_against_quadrature():
    for a, r, k in [(A, R, 1.0), (3.0, 5.0, 2.0), (2.0, 2.5, 1.5)]:
        num, _ = integrate.quad(lambda y, k=k, a=a, r=r: np.exp(k * y + ref(a, r).logpdf(y)),
                                0, 60, limit=200)
        assert g.length_moment(k, a, r) == pytest.approx(num, rel=1e-7)
    assert g.length_moment(2.0, A, 2.0) == math.inf
    assert g.length_mean(A, 1.0) == math.inf
    assert g.length_mean(A, R) == pytest.approx(g.length_moment(1.0, A, R) - 1.0, rel=1e-12)


# --- softplus (8) --------------------------------------------------------------

def test_softplus():
    u = np.linspace(-50, 50, 1001)
    s = g.softplus(u)
    assert np.all(s > 0) and np.all(np.isfinite(s))
    np.testing.assert_allclose(s, np.log1p(np.exp(u)), rtol=1e-12)
    x = np.geomspace(1e-8, 700, 100)
    np.testing.assert_allclose(g.softplus(g.softplus_inv(x)), x, rtol=1e-10)
    assert g.softplus(0.0) == pytest.approx(math.log(2))


# --- NLL (9)-(10) --------------------------------------------------------------

def test_nll_and_gradients():
    y = np.array([math.log(2), 0.81, 2.0, 6.0])
    np.testing.assert_allclose(g.nll(y, A, R), -ref(A, R).logpdf(y), rtol=1e-12)
    da, dr = g.nll_grad(y, A, R)
    h = 1e-6
    fda = (ref(A + h, R).logpdf(y) - ref(A - h, R).logpdf(y)) / (-2 * h)
    fdr = (ref(A, R + h).logpdf(y) - ref(A, R - h).logpdf(y)) / (-2 * h)
    np.testing.assert_allclose(da, fda, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dr, fdr, rtol=1e-6, atol=1e-7)


def test_mle_recovery():
    y = ref(A, R).rvs(size=20000, random_state=np.random.default_rng(2))
    # stationarity of the mean gradient at the truth: |mean grad| within 5 standard errors
    da, dr = g.nll_grad(y, A, R)
    assert abs(da.mean()) < 5 * da.std() / math.sqrt(y.size)
    assert abs(dr.mean()) < 5 * dr.std() / math.sqrt(y.size)
    a_hat, _, scale = stats.gamma.fit(y, floc=0)
    da, dr = g.nll_grad(y, a_hat, 1 / scale)
    assert abs(da.mean()) < 1e-3 and abs(dr.mean()) < 1e-3


# --- guidance operator (11)-(14), (27) ------------------------------------------

def _vocab(n=500, seed=3, trained=0.7):
    r = np.random.default_rng(seed)
    logits = r.normal(0, 3, (4, n))
    alpha = r.uniform(1.5, 60, (4, n))
    rate = r.uniform(10, 40, (4, n))
    bad = r.random((4, n)) > trained
    alpha[bad] = rate[bad] = math.log(2)
    return logits, alpha, rate


def _bayes(logits, alpha, rate, budget, mask=None):
    p = special.softmax(logits, axis=-1)
    a = ref(alpha, rate).cdf(np.log(np.asarray(budget, float)[..., None] + 1))
    if mask is not None:
        a = a * mask
    q = p * a
    return q / q.sum(-1, keepdims=True)


@pytest.mark.parametrize("mode", g.MODES)
@pytest.mark.parametrize("space", g.SPACES)
def test_guided_is_probability_vector(mode, space):
    logits, alpha, rate = _vocab()
    for b in (1, 3, 30, 10**6):
        q = g.guide(logits, alpha, rate, b, mode=mode, space=space)
        assert q.shape == logits.shape and np.all(q >= 0) and not np.any(np.isnan(q))
        np.testing.assert_allclose(q.sum(-1), 1.0, atol=1e-12)


def test_guide_matches_independent_bayes_and_mask():
    logits, alpha, rate = _vocab()
    budget = np.array([2, 7, 40, 300])
    q = g.guide(logits, alpha, rate, budget, mode="bayes")
    np.testing.assert_allclose(q, _bayes(logits, alpha, rate, budget), rtol=1e-9, atol=1e-300)
    mask = (rate >= 10) & (alpha > 1) & (np.exp((alpha - 1) / rate) - 1 >= 0.9)
    qf = g.guide(logits, alpha, rate, budget, mode="faithful")
    np.testing.assert_allclose(qf, _bayes(logits, alpha, rate, budget, mask), rtol=1e-9,
                               atol=1e-300)
    assert np.all(qf[~mask] == 0)  # support; untrained rows never chosen (mask (12))
    np.testing.assert_array_equal(g.validity_mask(alpha, rate), mask)


def test_log_and_linear_space_agree():
    logits, alpha, rate = _vocab()
    for mode in g.MODES:
        ql = g.guide(logits, alpha, rate, 20, mode=mode, space="linear")
        qg = g.guide(logits, alpha, rate, 20, mode=mode, space="log")
        np.testing.assert_allclose(ql, qg, rtol=1e-9, atol=1e-300)


def test_odds_identity_and_strength():
    logits, alpha, rate = _vocab(trained=1.0)
    p = special.softmax(logits, -1)
    a = ref(alpha, rate).cdf(math.log(6))
    q = g.guide(logits, alpha, rate, 5, mode="bayes", strength=2.0)
    i, j = 0, 1
    np.testing.assert_allclose(q[:, i] / q[:, j], (p[:, i] / p[:, j]) * (a[:, i] / a[:, j]) ** 2,
                               rtol=1e-9)
    np.testing.assert_allclose(g.guide(logits, alpha, rate, 5, mode="bayes", strength=0.0), p,
                               rtol=1e-12)


def test_neutrality_and_greedy_invariance():
    logits, alpha, rate = _vocab(trained=1.0)
    p = special.softmax(logits, -1)
    same_a = np.full_like(alpha, 20.0)
    same_r = np.full_like(rate, 25.0)
    for b in (1, 4, 100):
        q = g.guide(logits, same_a, same_r, b, mode="bayes")
        np.testing.assert_allclose(q, p, rtol=1e-12)
        np.testing.assert_array_equal(q.argmax(-1), logits.argmax(-1))
    # huge budget with the mask off is neutral
    np.testing.assert_allclose(g.guide(logits, alpha, rate, 1e300, mode="bayes"), p, rtol=1e-9)


def test_monotone_pressure_on_saturated_token():
    # token 0 is the end token, concentrated at y = log 2 (L = 1): a_0 = 1 once b >= 2
    logits = np.array([0.0, 1.0, 0.5, -1.0])
    alpha = np.array([4000.0, 30.0, 50.0, 20.0])
    rate = np.array([4000.0 / math.log(2) * 0.9, 10.0, 12.0, 11.0])
    b = np.arange(2, 200)
    assert np.all(ref(alpha[0], rate[0]).cdf(np.log(b + 1)) == 1.0)
    q_end = g.guide(np.tile(logits, (b.size, 1)), alpha, rate, b, mode="bayes")[:, 0]
    assert np.all(np.diff(q_end) <= 1e-15) and q_end[0] > q_end[-1]


def test_faithful_fallback_and_bayes_fallback():
    logits = np.array([[0.0, 3.0, 1.0], [2.0, 0.0, 1.0]])
    alpha = np.array([[0.69, 0.69, 0.69], [20.0, 0.69, 30.0]])
    rate = np.full((2, 3), 0.69)
    rate[1] = [15.0, 0.69, 20.0]
    q, fell = g.guide(logits, alpha, rate, 10, mode="faithful", return_fallback=True)
    np.testing.assert_array_equal(fell, [True, False])
    np.testing.assert_array_equal(q[0], [0.0, 1.0, 0.0])
    # underflowing weights in bayes mode: all a_v == 0 in linear space -> unguided p
    qa = np.full(3, 500.0)
    ra = np.full(3, 0.05)
    qb, fb = g.guide(logits[0], qa, ra, 1, mode="bayes", space="linear", return_fallback=True)
    assert fb is True
    np.testing.assert_allclose(qb, special.softmax(logits[0]), rtol=1e-12)
    # log space keeps the ratios instead of falling back
    ql, fl = g.guide(logits[0], np.array([500.0, 501.0, 502.0]), ra, 1, mode="bayes",
                     return_fallback=True)
    assert fl is False and np.all(np.isfinite(ql)) and ql.sum() == pytest.approx(1.0)
    assert ql[0] > special.softmax(logits[0])[0]  # smallest alpha gains mass


def test_remaining_budget():
    t = np.arange(0, 20)
    b = g.remaining_budget(10, t)
    assert b[0] == 10 and np.all(np.diff(b) <= 0) and np.all(b >= 1)
    assert b[9] == 1 and np.all(b[9:] == 1)
    assert g.remaining_budget(5, 2) == 3


# --- validation -----------------------------------------------------------------

@pytest.mark.parametrize("call, msg", [
    (lambda: g.cdf(0.5, 0.0, 1.0), "alpha must be in"),
    (lambda: g.cdf(0.5, 1.0, -1.0), "rate must be in"),
    (lambda: g.cdf(-0.1, 1.0, 1.0), "y must be in"),
    (lambda: g.ppf(1.5, 1.0, 1.0), "q must be in"),
    (lambda: g.budget_prob(0.5, 1.0, 1.0), "budget must be in"),
    (lambda: g.length_pmf(0, 1.0, 1.0), "ell must be an integer"),
    (lambda: g.length_cdf(1.0, 1.0, 1.0, offset=0.0), "offset must be in"),
    (lambda: g.guide([1.0, 2.0], [2.0, 2.0], [20.0, 20.0], 5, mode="x"), "mode must be one of"),
    (lambda: g.guide([1.0, 2.0], [2.0, 2.0], [20.0, 20.0], 5, space="x"), "space must be one of"),
    (lambda: g.guide([1.0, 2.0], [2.0, 2.0], [20.0, 20.0], 5, strength=-1.0),
     "strength must be in"),
    (lambda: g.guide([1.0, 2.0], [2.0, 2.0, 2.0], [20.0, 20.0, 20.0], 5), "alpha must broadcast"),
    (lambda: g.guide([-np.inf, -np.inf], [2.0, 2.0], [20.0, 20.0], 5), "finite entry"),
    (lambda: g.remaining_budget(0, 1), "lbar must be an integer"),
])
def test_validation_errors(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


def test_type_errors():
    with pytest.raises(TypeError):
        g.cdf("a", 1.0, 1.0)
    with pytest.raises(TypeError):
        g.length_pmf(1.5, 1.0, 1.0)


# --- fit_gamma (22)-(24) ----------------------------------------------------------



def _sample_lengths(alpha, rate, size, seed, offset=1.0):
    """Lengths of the discrete model L = ceil(exp(Y) - offset) >= 1 (docs/models/gamma.md (4))."""
    y = ref(alpha, rate).rvs(size=size, random_state=np.random.default_rng(seed))
    return np.maximum(np.ceil(np.exp(y) - offset), 1).astype(np.int64)


def _se(alpha, rate, n):
    return np.sqrt(np.diag(np.linalg.inv(g.fisher_information(alpha, rate)) / n))


@pytest.mark.parametrize("alpha,rate", [(30.0, 4.0), (7.3, 12.5), (2.0, 0.5), (0.8, 0.3)])
def test_fit_gamma_continuous_agrees_with_scipy(alpha, rate):
    ell = _sample_lengths(alpha, rate, 5000, 11)
    fit = g.fit_gamma(ell)
    a_s, loc, scale = stats.gamma.fit(np.log(ell + 1.0), floc=0)
    assert loc == 0 and fit.converged and fit.n == ell.size
    assert fit.alpha == pytest.approx(a_s, rel=1e-7)
    assert fit.rate == pytest.approx(1.0 / scale, rel=1e-7)
    assert fit.nll == pytest.approx(-np.mean(g.logpdf(np.log(ell + 1.0), fit.alpha, fit.rate)))
    # the fit is a stationary point of the mean NLL (gradients (10))
    da, dr = g.nll_grad(np.log(ell + 1.0), fit.alpha, fit.rate)
    assert abs(da.mean()) < 1e-8 and abs(dr.mean()) < 1e-8


def test_fit_gamma_continuous_recovers_truth_within_4_se():
    # long lengths (L ~ e^7.5) so that discretisation is negligible against the s.e.
    alpha, rate, n = 30.0, 4.0, 20000
    fit = g.fit_gamma(_sample_lengths(alpha, rate, n, 5))
    se = _se(alpha, rate, n)
    assert abs(fit.alpha - alpha) < 4 * se[0]
    assert abs(fit.rate - rate) < 4 * se[1]


@pytest.mark.parametrize("alpha,rate", [(7.3, 12.5), (2.0, 0.5), (0.8, 0.3)])
def test_fit_gamma_discrete_recovers_truth_within_4_se(alpha, rate):
    # the discrete MLE is exact for discretised data, even at short lengths
    # (7.3, 12.5: L is mostly 1 or 2) where the continuous fit is far off
    n = 5000
    ell = _sample_lengths(alpha, rate, n, 6)
    fit = g.fit_gamma(ell, likelihood="discrete")
    assert fit.converged and fit.likelihood == "discrete"
    se = _se(alpha, rate, n)  # continuous information >= discrete: s.e. are lower bounds
    assert abs(fit.alpha - alpha) < 4 * se[0] * 1.5
    assert abs(fit.rate - rate) < 4 * se[1] * 1.5
    assert fit.nll == pytest.approx(np.mean(g.discrete_nll(ell, fit.alpha, fit.rate)), rel=1e-7)
    cont = g.fit_gamma(ell, likelihood="discrete", method="moments")
    assert fit.nll <= cont.nll  # the MLE beats any other fit on its own likelihood
    if alpha == 7.3:
        bad = g.fit_gamma(ell)
        assert abs(bad.alpha - alpha) > 10 * se[0]  # the misspecified continuous fit


def test_fit_gamma_moments_and_offset():
    ell = _sample_lengths(5.0, 1.0, 4000, 7, offset=2.0)
    fit = g.fit_gamma(ell, offset=2.0, method="moments")
    y = np.log(ell + 2.0)
    assert fit.alpha / fit.rate == pytest.approx(y.mean())
    assert fit.alpha / fit.rate**2 == pytest.approx(y.var())
    mle = g.fit_gamma(ell, offset=2.0)
    assert mle.nll <= fit.nll
    disc = g.fit_gamma(ell, offset=2.0, likelihood="discrete")
    assert disc.nll == pytest.approx(np.mean(g.discrete_nll(ell, disc.alpha, disc.rate, 2.0)),
                                     rel=1e-7)


@given(st.lists(st.integers(1, 10**6), min_size=2, max_size=40).filter(lambda v: len(set(v)) > 1))
def test_fit_gamma_is_scipy_mle_property(ell):
    fit = g.fit_gamma(ell)
    y = np.log(np.asarray(ell) + 1.0)
    # profile equation and rate stationarity
    s = math.log(y.mean()) - np.log(y).mean()
    assert math.log(fit.alpha) - special.digamma(fit.alpha) == pytest.approx(s, rel=1e-9)
    assert fit.rate == pytest.approx(fit.alpha / y.mean(), rel=1e-12)


@pytest.mark.parametrize("bad, msg", [
    ([1, 0.5], "lengths must be integers >= 1, got 0.5"),
    ([3, 0], "lengths must be integers >= 1, got 0"),
    ([], "lengths must be a non-empty"),
    ([2, np.nan], "lengths must be integers >= 1, got nan"),
    (["a", "b"], "lengths must be integers >= 1"),
    ([4, 4, 4], "lengths must take at least two distinct values"),
])
def test_fit_gamma_bad_lengths(bad, msg):
    with pytest.raises(ValueError, match=msg) as info:
        g.fit_gamma(bad)
    assert "\n" not in str(info.value)


def test_fit_gamma_bad_options():
    with pytest.raises(ValueError, match="likelihood must be one of"):
        g.fit_gamma([1, 2], likelihood="x")
    with pytest.raises(ValueError, match="method must be one of"):
        g.fit_gamma([1, 2], method="x")
    with pytest.raises(ValueError, match="offset must be in"):
        g.fit_gamma([1, 2], offset=0.0)


# --- calibration (25)-(26) -------------------------------------------------------

def _heterogeneous(n, seed, mean_y=(1.0, 6.0)):
    """Per-observation true parameters and lengths drawn from them."""
    r = np.random.default_rng(seed)
    alpha = r.uniform(2.0, 40.0, n)
    rate = alpha / r.uniform(*mean_y, n)  # mean of y
    y = r.gamma(alpha, 1.0 / rate)
    return np.maximum(np.ceil(np.expm1(y)), 1).astype(np.int64), alpha, rate


def test_randomized_pit_uniform_under_true_model():
    ell, alpha, rate = _heterogeneous(20000, 1)
    u = g.randomized_pit(ell, alpha, rate, seed=2)
    res = g.pit_uniformity(u, bins=10)
    assert res.p_value > 1e-3 and res.n == ell.size and res.counts.sum() == ell.size
    # chi-square of the histogram, 9 d.o.f.: 99.9 % quantile 27.9
    assert np.sum((res.counts - res.expected) ** 2 / res.expected) < 27.9
    # short lengths (mostly 1 and 2) are where the randomisation matters
    short = _sample_lengths(A, R, 20000, 3)
    assert g.pit_uniformity(g.randomized_pit(short, A, R, seed=4)).p_value > 1e-3
    # non-randomised PIT of the same data is far from uniform
    assert stats.kstest(g.budget_prob(short, A, R), "uniform").pvalue < 1e-10


def test_randomized_pit_definition_and_seed():
    ell = np.array([1, 2, 5, 40])
    lo = np.where(ell == 1, 0.0, g.cdf(np.log(ell.astype(float)), A, 3.0))
    hi = g.cdf(np.log(ell + 1.0), A, 3.0)
    v = np.random.default_rng(9).uniform(size=4)
    np.testing.assert_allclose(g.randomized_pit(ell, A, 3.0, seed=9), lo + v * (hi - lo))
    np.testing.assert_array_equal(g.randomized_pit(ell, A, 3.0, seed=np.random.default_rng(9)),
                                  g.randomized_pit(ell, A, 3.0, seed=9))


def test_pit_detects_misspecification():
    ell, alpha, rate = _heterogeneous(5000, 5)
    # shape right, location off by 10 %
    u = g.randomized_pit(ell, alpha, rate * 1.1, seed=1)
    assert g.pit_uniformity(u).p_value < 1e-6
    cov = g.interval_coverage(ell, alpha, rate * 1.1)
    assert np.any(np.abs(cov["z"]) > 5)


def test_interval_coverage_true_model_within_4_se():
    ell, alpha, rate = _heterogeneous(20000, 7)
    cov = g.interval_coverage(ell, alpha, rate, levels=(0.5, 0.8, 0.9))
    assert list(cov["level"]) == [0.5, 0.8, 0.9]
    assert np.all(np.abs(cov["coverage_randomized"] - cov["level"]) < 4 * cov["se"])
    # plain coverage: exact only up to the endpoint masses, negligible for long lengths
    long = _heterogeneous(20000, 9, mean_y=(5.0, 8.0))
    plain = g.interval_coverage(*long, levels=(0.5, 0.8, 0.9))
    assert np.all(np.abs(plain["coverage"] - plain["level"]) < 4 * plain["se"])
    assert np.all((cov["wilson_lo"] <= cov["coverage"]) & (cov["coverage"] <= cov["wilson_hi"]))
    # too-narrow intervals (shape x4 at the same mean): under-coverage
    narrow = g.interval_coverage(ell, alpha * 4, rate * 4)
    assert np.all(narrow["coverage"] < narrow["level"] - 10 * narrow["se"])


def test_event_reliability_true_model():
    ell, alpha, rate = _heterogeneous(20000, 8)
    rel = g.event_reliability(ell, alpha, rate, budgets=[16, 64, 256])
    s = rel.summary
    assert list(s["budget"]) == [16.0, 64.0, 256.0]
    for b, row in zip([16, 64, 256], s.itertuples()):
        p = g.budget_prob(b, alpha, rate)
        o = (ell <= b).astype(float)
        assert row.brier == pytest.approx(np.mean((p - o) ** 2))
        # observed frequency of the event within 4 s.e. of the mean prediction
        se = math.sqrt(np.mean(p * (1 - p)) / ell.size)
        assert abs(row.observed - row.mean_predicted) < 4 * se
        # ECE of a calibrated forecaster: expected ~ sum_bins sqrt(p(1-p) n_k) / n; bound loosely
        assert row.ece < 0.03
    t = rel.table
    assert t.groupby("budget")["count"].sum().tolist() == [20000] * 3
    # miscalibrated (rate too high: lengths predicted short) -> larger ECE
    worse = g.event_reliability(ell, alpha, rate * 1.3, budgets=[16, 64, 256]).summary
    assert np.all(worse["ece"] > 3 * s["ece"])


def test_event_reliability_perfect_zero_one_predictions():
    # a tiny-variance law centred at each observed L gives predictions 0 or 1 that are right
    ell = np.array([1, 3, 10, 50, 200, 1000])
    y = np.log(ell + 0.5)  # centre between L and L + 1 on the log(L + 1) scale
    rate = 1e6
    alpha = y * rate
    rel = g.event_reliability(ell, alpha, rate, budgets=[5, 100])
    np.testing.assert_allclose(rel.summary["ece"], 0.0, atol=1e-12)
    np.testing.assert_allclose(rel.summary["brier"], 0.0, atol=1e-12)
    assert set(rel.table["bin"]) <= {0, 9}


@pytest.mark.parametrize("call, msg", [
    (lambda: g.randomized_pit([1, 0], 2.0, 2.0), "lengths must be integers >= 1, got 0"),
    (lambda: g.randomized_pit([1, 2], 2.0, -2.0), "rate must be in"),
    (lambda: g.randomized_pit([1, 2], [2.0, 2.0, 2.0], 2.0), "alpha must broadcast"),
    (lambda: g.randomized_pit([1, 2], 2.0, 2.0, seed=-1), "seed must be an integer"),
    (lambda: g.pit_uniformity([0.2, 1.5]), "u must be in"),
    (lambda: g.pit_uniformity([]), "u must be"),
    (lambda: g.pit_uniformity([0.2], bins=0), "bins must be an integer"),
    (lambda: g.interval_coverage([1, 2], 2.0, 2.0, levels=(1.0,)), "levels must be in"),
    (lambda: g.event_reliability([1, 2], 2.0, 2.0, budgets=[0.5]), "budgets must be in"),
    (lambda: g.event_reliability([1, 2], 2.0, 2.0, budgets=[]), "budgets must be non-empty"),
    (lambda: g.geometric_guided_stop_prob(0.0, 3), "h must be in"),
    (lambda: g.geometric_guided_stop_prob(1.5, 3), "h must be in"),
    (lambda: g.geometric_guided_stop_prob(0.5, 0), "budget must be an integer"),
    (lambda: g.truncated_geometric_pmf(1, 0.5, 0), "lbar must be an integer"),
    (lambda: g.truncated_geometric_mean(0.5, 0), "lbar must be an integer"),
])
def test_new_validation_errors(call, msg):
    with pytest.raises(ValueError, match=msg) as info:
        call()
    assert "\n" not in str(info.value)


# --- the geometric toy's closed forms (19)-(21) --------------------------------------

@given(st.floats(1e-6, 1.0), st.integers(1, 400))
def test_geometric_toy_pmf_sums_to_one_and_mean(h, lbar):
    k = np.arange(0, lbar + 3)
    pmf = g.truncated_geometric_pmf(k, h, lbar)
    assert pmf[0] == 0 and np.all(pmf[lbar + 1:] == 0) and np.all(pmf >= 0)
    assert pmf.sum() == pytest.approx(1.0, rel=1e-9)
    assert g.truncated_geometric_mean(h, lbar) == pytest.approx(np.dot(k, pmf), rel=1e-8)
    assert 1.0 - 1e-12 <= g.truncated_geometric_mean(h, lbar) <= (lbar + 1) / 2 + 1e-9


@given(st.floats(1e-6, 1.0), st.integers(1, 300))
def test_geometric_toy_guided_chain_by_dp(h, lbar):
    # forward DP over the guided chain (budget b_t = lbar - t, (13)) = truncated geometric (20)
    t = np.arange(lbar)
    s = g.geometric_guided_stop_prob(h, lbar - t)
    assert np.all((s > 0) & (s <= 1)) and s[-1] == 1.0
    assert np.all(np.diff(s) >= -1e-15)  # stop pressure rises as the budget shrinks
    alive = np.concatenate([[1.0], np.cumprod(1 - s)[:-1]])
    np.testing.assert_allclose(alive * s, g.truncated_geometric_pmf(t + 1, h, lbar),
                               rtol=1e-9, atol=1e-300)


def test_geometric_toy_monte_carlo():
    # h = 0.01, lbar = 150; exact mean 57.33 by (21), never over budget by (15)
    h, lbar, n = 0.01, 150, 20000
    r = np.random.default_rng(0)
    b = lbar - np.arange(lbar)
    s = g.geometric_guided_stop_prob(h, b)
    stops = r.random((n, lbar)) < s
    T = stops.argmax(axis=1) + 1
    assert stops.any(axis=1).all() and T.max() <= lbar
    pmf = g.truncated_geometric_pmf(np.arange(1, lbar + 1), h, lbar)
    mean = g.truncated_geometric_mean(h, lbar)
    sd = math.sqrt(np.dot((np.arange(1, lbar + 1) - mean) ** 2, pmf))
    assert abs(T.mean() - mean) < 4 * sd / math.sqrt(n)
    assert g.geometric_guided_stop_prob(h, 1) == 1.0
    assert g.geometric_guided_stop_prob(1.0, 7) == 1.0


# --- the parameter class and parameter objects in place of numbers ------------------

@pytest.mark.parametrize("kw,msg", [
    (dict(toy="wave"), "toy must be one of"),
    (dict(budget=0), r"budget must be an integer in \[1, inf\], got 0"),
    (dict(h=0.0), r"h must be in \(0, 1\], got 0"),
    (dict(p_wait=0.8, p_end=0.3), r"p_wait \+ p_end must be <= 1, got 1.1"),
    (dict(plan=11), r"plan must be an integer in \[0, 10\], got 11"),
    (dict(newline=0.0), "newline must be in"),
    (dict(max_paragraph=1), "max_paragraph must be an integer"),
    (dict(strength=-1.0), "strength must be in"),
    (dict(distortion=6.0), r"distortion must be in \[-5, 5\], got 6"),
    (dict(likelihood="poisson"), "likelihood must be one of"),
    (dict(stop_cv=1.0), r"stop_cv must be in \(0, 1\), got 1"),
    (dict(rate_min=-1.0), "rate_min must be in"),
    (dict(untrained=("Hmm",)), "untrained must name tokens of the paragraph toy"),
    (dict(toy="geometric", untrained=("Wait",)), "untrained must name tokens of the geometric"),
    (dict(max_tokens=10), r"max_tokens must be an integer in \[150, inf\], got 10"),
])
def test_gamma_params_reject_bad_values_in_one_line(kw, msg):
    with pytest.raises(ValueError, match=msg) as info:
        g.GammaParams(**kw)
    assert "\n" not in str(info.value)


def test_gamma_params_normalise_and_derive():
    p = g.GammaParams(untrained=["Wait", "So"], budget=np.int64(80), h=1)
    assert p.untrained == ("Wait", "So") and type(p.budget) is int and type(p.h) is float
    assert p.lbar == 80 and p.token_cap == 20 * 80 + 1000
    assert g.GammaParams(max_tokens=500).token_cap == 500
    with pytest.raises(TypeError, match="budget must be an integer"):
        g.GammaParams(budget=1.5)


def test_theory_functions_take_a_params_object():
    p = g.GammaParams(toy="geometric", h=0.02, budget=80)
    assert g.truncated_geometric_mean(p) == g.truncated_geometric_mean(0.02, 80)
    assert g.geometric_guided_stop_prob(p) == g.geometric_guided_stop_prob(0.02, 80)
    k = np.arange(1, 81)
    np.testing.assert_array_equal(g.truncated_geometric_pmf(p, k=k),
                                  g.truncated_geometric_pmf(k, 0.02, 80))
    a, r = np.array([8.0, 30.0]), np.array([5.0, 12.0])
    loose = g.GammaParams(rate_min=1.0)
    np.testing.assert_array_equal(g.validity_mask(loose, alpha=a, rate=r),
                                  g.validity_mask(a, r, rate_min=1.0))
    assert not np.array_equal(g.validity_mask(loose, alpha=a, rate=r), g.validity_mask(a, r))
    # guide takes the budget, strength and mask from the parameters
    z = np.array([0.0, 1.0])
    np.testing.assert_array_equal(
        g.guide(g.GammaParams(budget=7, strength=2.0), logits=z, alpha=a, rate=r, mode="bayes"),
        g.guide(z, a, r, 7, mode="bayes", strength=2.0))
    # a fitted law is a parameter object too
    fit = g.fit_gamma([3, 4, 5, 9, 20])
    assert g.length_median(fit) == g.length_median(fit.alpha, fit.rate)
    with pytest.raises(TypeError, match="by keyword"):
        g.truncated_geometric_pmf(p, k)
