"""Tests of theory.gamma against the spec (shared/specs/gamma.md §1.2, §2.2-§2.5, §7.1-§7.2)
and independent computations (scipy.stats.gamma, direct sums)."""

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from theory import gamma as g

A, R = 7.3, 12.5  # spec §7.1(1) and §7.3 S5 reference parameters
RNG = np.random.default_rng(20250616)
ALPHAS = RNG.uniform(0.05, 500, 40)
RATES = RNG.uniform(0.05, 500, 40)


def ref(alpha, rate):
    return stats.gamma(a=alpha, scale=1.0 / rate)


# --- §7.1(1) reference values ---------------------------------------------

def test_spec_reference_values():
    assert g.cdf(0.81, A, R) == pytest.approx(0.8542949086, abs=1e-10)
    assert g.logpdf(0.81, A, R) == pytest.approx(-0.1626159, abs=2e-7)
    # §7.3 S5 closed forms
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


# --- §7.1(2) CDF properties ------------------------------------------------

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


# --- §7.1(3) quantile round trips -----------------------------------------

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
    assert g.logsf(x, a, 1.0) == pytest.approx(lead + math.log1p((a - 1) / x + (a - 1) * (a - 2) / x**2), rel=1e-12)
    assert np.all(np.isfinite(g.budget_logprob(1, ALPHAS * 0 + 500.0, 0.05)))


# --- §7.1(4) discretisation ------------------------------------------------

def test_pmf_sums_to_one_and_matches_cdf_differences():
    ell = np.arange(1, 200001)
    for a, r in [(A, R), (2.0, 3.0), (40.0, 15.0)]:
        pmf = g.length_pmf(ell, a, r)
        assert np.all(pmf >= 0)
        tail = ref(a, r).sf(np.log(ell[-1] + 1.0))
        assert pmf.sum() + tail == pytest.approx(1.0, abs=1e-10)
        F = ref(a, r).cdf(np.log(np.arange(0, 21) + 1.0))
        np.testing.assert_allclose(pmf[:20], np.diff(F), rtol=1e-8, atol=1e-15)
        np.testing.assert_allclose(np.cumsum(pmf[:20]), g.budget_prob(np.arange(1, 21), a, r), rtol=1e-9)


def test_discrete_model_by_simulation():
    y = ref(A, R).rvs(size=200000, random_state=np.random.default_rng(1))
    L = np.ceil(np.expm1(y))
    for k in (1, 2, 3):
        p = np.mean(L == k)
        exact = g.length_pmf(k, A, R)
        assert abs(p - exact) < 5 * math.sqrt(exact * (1 - exact) / y.size)


def test_discrete_nll():
    assert g.discrete_nll(1, A, R) == pytest.approx(-math.log(ref(A, R).cdf(math.log(2))), rel=1e-10)
    assert g.discrete_nll(3, A, R) == pytest.approx(
        -math.log(ref(A, R).cdf(math.log(4)) - ref(A, R).cdf(math.log(3))), rel=1e-8)
    # far tail stays finite and matches the log-survival difference
    v = g.discrete_nll(10**6, 50.0, 30.0)
    assert np.isfinite(v) and v > 100


# --- §7.1(5) moments --------------------------------------------------------

def test_moments_against_quadrature():
    for a, r, k in [(A, R, 1.0), (3.0, 5.0, 2.0), (2.0, 2.5, 1.5)]:
        num, _ = integrate.quad(lambda y: np.exp(k * y + ref(a, r).logpdf(y)), 0, 60, limit=200)
        assert g.length_moment(k, a, r) == pytest.approx(num, rel=1e-7)
    assert g.length_moment(2.0, A, 2.0) == math.inf
    assert g.length_mean(A, 1.0) == math.inf
    assert g.length_mean(A, R) == pytest.approx(g.length_moment(1.0, A, R) - 1.0, rel=1e-12)


# --- §7.1(6) softplus --------------------------------------------------------

def test_softplus():
    u = np.linspace(-50, 50, 1001)
    s = g.softplus(u)
    assert np.all(s > 0) and np.all(np.isfinite(s))
    np.testing.assert_allclose(s, np.log1p(np.exp(u)), rtol=1e-12)
    x = np.geomspace(1e-8, 700, 100)
    np.testing.assert_allclose(g.softplus(g.softplus_inv(x)), x, rtol=1e-10)
    assert g.softplus(0.0) == pytest.approx(math.log(2))


# --- §7.1(7) NLL --------------------------------------------------------------

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


# --- §7.2 guidance operator ---------------------------------------------------

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
    np.testing.assert_allclose(qf, _bayes(logits, alpha, rate, budget, mask), rtol=1e-9, atol=1e-300)
    assert np.all(qf[~mask] == 0)  # support (§7.2(2)); untrained rows never chosen (S4)
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
    np.testing.assert_allclose(q[:, i] / q[:, j], (p[:, i] / p[:, j]) * (a[:, i] / a[:, j]) ** 2, rtol=1e-9)
    np.testing.assert_allclose(g.guide(logits, alpha, rate, 5, mode="bayes", strength=0.0), p, rtol=1e-12)


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
    ql, fl = g.guide(logits[0], np.array([500.0, 501.0, 502.0]), ra, 1, mode="bayes", return_fallback=True)
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
    (lambda: g.guide([1.0, 2.0], [2.0, 2.0], [20.0, 20.0], 5, strength=-1.0), "strength must be in"),
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
