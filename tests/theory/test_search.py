"""Closed forms of the search model (docs/models/search.md (1)-(18)).

The convergence bound and the exact minimum are checked against the table of
docs/models/search.md (10) (derived for this project, reproduced here by
exact arithmetic); the environment's closed forms against brute-force
enumeration; the selection rule by its defining properties.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from theory import search as th
from theory.search import SearchParams

# (K, eps, p_min, bound M, exact minimal M): the table of docs/models/search.md (10)
BOUND_TABLE = [(3, 0.05, 0.5, 27, 11), (5, 0.05, 0.5, 33, 16), (5, 0.05, 0.2, 83, 44),
               (10, 0.01, 0.3, 97, 58)]

values = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=8)
ratios = st.floats(0.02, 1.0)


# --- parameters -------------------------------------------------------------------------
@pytest.mark.parametrize("kw,match", [
    (dict(K=0), r"^K must be an integer in \[1, 100\], got 0$"),
    (dict(p=0.0), r"^p must be in \(0, 1\], got 0$"),
    (dict(p=1.5), r"^p must be in \(0, 1\], got 1\.5$"),
    (dict(budget=0), r"^budget must be an integer in \[1, inf\], got 0$"),
    (dict(token_budget=0), r"^token_budget must be an integer in \[1, inf\], got 0$"),
    (dict(tool_rate=-0.1), r"^tool_rate must be in \[0, 1\], got -0\.1$"),
    (dict(noise=-1.0), r"^noise must be in \[0, 10\], got -1$"),
    (dict(critic="judge"), r"^critic must be one of 'residual', 'absolute', got 'judge'$"),
    (dict(v0=1.0), r"^v0 must be in \[0, 1\), got 1$"),
    (dict(temperature=0.0), r"^temperature must be in \(0, 1\], got 0$"),
    (dict(combine="max"), r"^combine must be one of"),
    (dict(eps=1.0), r"^eps must be in \(0, 1\), got 1$"),
])
def test_params_errors_are_one_line(kw, match):
    with pytest.raises(ValueError, match=match):
        SearchParams(**kw)


def test_params_are_frozen_and_derive_the_token_budget():
    P = SearchParams(budget=7)
    assert P.tokens == th.TOKENS_PER_CALL * 7 and SearchParams(token_budget=99).tokens == 99
    with pytest.raises(AttributeError):
        P.K = 4
    with pytest.raises(TypeError, match="must be an integer"):
        SearchParams(K=3.0)


# --- selection (1)-(4) ------------------------------------------------------------------
@given(values, ratios)
def test_selection_probs_sum_to_one_and_are_the_boltzmann_law(v, r):
    pr = th.selection_probs(v, r)
    assert pr.shape == (len(v),) and abs(pr.sum() - 1) < 1e-12 and (pr >= 0).all()
    logits = th.boltzmann_logits(v, r)
    soft = np.exp(logits - logits.max())
    assert np.allclose(pr, soft / soft.sum(), rtol=1e-10, atol=1e-300)


@given(values)
def test_at_full_budget_the_rule_is_proportional_to_value(v):
    assert np.allclose(th.selection_probs(v, 1.0), np.array(v) / np.sum(v), rtol=1e-12)


@given(values, ratios, st.floats(0.1, 10.0))
def test_the_rule_ignores_the_scale_of_the_values(v, r, c):
    v = np.minimum(np.array(v), 1.0)
    assert np.allclose(th.selection_probs(v, r), th.selection_probs(v * min(c, 1 / v.max()), r),
                       rtol=1e-9, atol=1e-300)


def test_as_r_goes_to_zero_the_rule_concentrates_on_the_argmax():
    v = [0.9, 0.5, 0.9, 0.3]
    assert np.array_equal(th.selection_probs(v, 0.0), [0.5, 0.0, 0.5, 0.0])
    probs = [th.best_pick_prob([0.9, 0.8, 0.5], r) for r in (1.0, 0.5, 0.1, 0.01)]
    assert all(a < b for a, b in zip(probs, probs[1:])) and probs[-1] > 0.9999


@given(values, ratios, ratios)
def test_entropy_grows_with_the_temperature(v, r1, r2):
    lo, hi = sorted((r1, r2))
    assert th.selection_entropy(v, lo) <= th.selection_entropy(v, hi) + 1e-9


def test_entropy_of_equal_values_is_log_n_and_best_pick_is_the_formula():
    assert th.selection_entropy([0.4] * 5, 0.3) == pytest.approx(math.log(5))
    v = np.array([0.8, 0.5, 0.2])
    for r in (1.0, 0.4, 0.1):
        w = v ** (1 / r)
        assert th.best_pick_prob(v, r) == pytest.approx(w[0] / w.sum(), rel=1e-12)


def test_all_zero_values_select_uniformly():
    assert np.allclose(th.selection_probs([0.0, 0.0, 0.0], 0.5), 1 / 3)


# --- the remaining ratio (5), (18) ------------------------------------------------------
def test_remaining_ratio_combinations():
    args = (3, 10, 1500, 3000)
    assert th.remaining_ratio(*args) == 0.3
    assert th.remaining_ratio(*args, combine="mean") == pytest.approx(0.4)
    assert th.remaining_ratio(*args, combine="product") == pytest.approx(0.15)
    assert th.remaining_ratio(*args, combine="tool") == 0.3
    assert th.remaining_ratio(*args, combine="token") == 0.5
    with pytest.raises(ValueError, match="must not exceed"):
        th.remaining_ratio(11, 10, 0, 3000)


def test_remaining_length_law_is_the_population_fit():
    alpha, rate = th.remaining_length_law(3, 0.5, 200)
    n = np.arange(3, 400)
    pmf = stats.nbinom.pmf(n - 3, 3, 0.5)
    y = np.log(200 * n + 1.0)
    # the continuous MLE's stationarity: alpha / rate = E[y] (docs/models/gamma.md (22))
    assert alpha / rate == pytest.approx((pmf * y).sum() / pmf.sum(), rel=1e-8)


@given(st.integers(1, 6), st.floats(0.1, 1.0))
def test_gamma_ratio_is_a_probability_rising_with_the_budget(hops, p):
    b = np.array([0, 1, 50, 200, 800, 3200, 12800])
    r = th.gamma_ratio(b, hops, p, 200)
    assert r[0] == 0 and (np.diff(r) >= -1e-12).all() and ((r >= 0) & (r <= 1)).all()
    # far beyond the mean remaining length 200 hops / p the budget surely covers it
    assert th.gamma_ratio(20 * 200 * hops / p, hops, p, 200) > 0.99


# --- the bound (7)-(10) -----------------------------------------------------------------
@pytest.mark.parametrize("K,eps,p,bound,exact", BOUND_TABLE)
def test_the_bound_and_the_exact_minimum_reproduce_the_table(K, eps, p, bound, exact):
    assert th.bound_M(K, eps, p) == bound
    assert th.exact_M(K, eps, p) == exact


def _tail(M, K, p):
    """Pr[Bin(M, p) >= K] in exact rational arithmetic."""
    p = Fraction(p).limit_denominator(10**6)
    return sum(math.comb(M, j) * p**j * (1 - p) ** (M - j) for j in range(K, M + 1))


@pytest.mark.parametrize("K,eps,p,bound,exact", BOUND_TABLE)
def test_the_exact_minimum_is_minimal_in_exact_arithmetic(K, eps, p, bound, exact):
    target = 1 - Fraction(eps).limit_denominator(10**6)
    assert _tail(exact, K, p) >= target > _tail(exact - 1, K, p)
    assert _tail(bound, K, p) >= target


@given(st.integers(1, 40), st.floats(1e-4, 0.5), st.floats(0.05, 1.0))
def test_the_bound_is_never_below_the_exact_minimum(K, eps, p):
    b, e = th.bound_M(K, eps, p), th.exact_M(K, eps, p)
    assert b >= e >= K
    assert th.reach_prob(e, K, p) >= 1 - eps
    assert th.bound_M(K, eps, p) * p >= th.chernoff_mu(K, eps) - 1e-9


@given(st.integers(1, 60), st.integers(1, 400), st.floats(0.05, 0.95))
def test_the_chernoff_tail_bounds_the_exact_tail(K, M, p):
    assert stats.binom.cdf(K - 1, M, p) <= th.chernoff_tail(M, K, p) + 1e-12


@given(st.integers(1, 50), st.floats(1e-4, 0.5))
def test_the_chernoff_mean_inverts_the_tail(K, eps):
    mu = th.chernoff_mu(K, eps)
    assert math.exp(-((mu - K) ** 2) / (2 * mu)) == pytest.approx(eps, rel=1e-9)


def test_bound_functions_take_the_params():
    P = SearchParams(K=5, p=0.2, eps=0.05)
    assert th.bound_M(P) == 83 and th.exact_M(P) == 44 and th.chain_success(P) == 0.2**5


# --- the environment (11)-(17) ----------------------------------------------------------
def test_true_values_run_from_v0_to_one():
    assert np.allclose(th.true_values(4, 0.2), [0.2, 0.4, 0.6, 0.8, 1.0])


def _plurality_brute(n, probs):
    """Enumerate every sequence of n answers (exact for small n)."""
    total = 0.0
    for seq in itertools.product(range(len(probs)), repeat=n):
        pr = math.prod(probs[a] for a in seq)
        counts = np.bincount(seq, minlength=len(probs))
        top = counts.max()
        if counts[0] == top:
            total += pr / (counts == top).sum()
    return total


@pytest.mark.parametrize("n,probs", [(1, [0.3, 0.7]), (4, [0.5, 0.5]), (5, [0.3, 0.35, 0.35]),
                                     (6, [0.25, 0.25, 0.25, 0.25]), (5, [0.2, 0.6, 0.1, 0.1]),
                                     (4, [0.1, 0.3, 0.3, 0.2, 0.1]), (3, [1.0])])
def test_plurality_vote_against_enumeration(n, probs):
    assert th.plurality_win_prob(n, probs) == pytest.approx(_plurality_brute(n, probs),
                                                            abs=1e-12)


@given(st.integers(1, 25), st.floats(0.01, 0.99))
def test_a_binary_vote_is_the_binomial_majority(n, q):
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, q)
    want = pmf[2 * k > n].sum() + 0.5 * pmf[2 * k == n].sum()
    assert th.plurality_win_prob(n, [q, 1 - q]) == pytest.approx(want, abs=1e-12)


def test_no_answers_never_win():
    assert th.plurality_win_prob(0, [0.9, 0.1]) == 0.0


@given(st.integers(1, 60), st.integers(1, 40), st.floats(0.0, 1.0), st.integers(1, 400))
def test_steps_survival_is_a_survival_function(tool_budget, top, rate, cost):
    m = np.arange(top + 2)
    s = th.steps_survival(m, cost, top * cost, tool_budget, rate)
    assert s[0] == 1 and s[-1] == 0 and (np.diff(s) <= 1e-15).all()


def test_with_every_step_a_tool_call_the_closed_forms_are_deterministic_sums():
    P = SearchParams(K=3, p=0.6, budget=12, token_budget=10_000, tool_rate=1.0)
    assert th.greedy_success(P) == pytest.approx(th.reach_prob(12, 3, 0.6), rel=1e-12)
    n = 12 // 3
    want = th.plurality_win_prob(n, [0.6**3] + [(1 - 0.6**3) / P.wrong_answers]
                                 * P.wrong_answers)
    assert th.majority_success(P) == pytest.approx(want, rel=1e-12)


def test_greedy_success_sums_over_the_random_number_of_steps():
    P = SearchParams(K=2, p=0.5, budget=3, token_budget=200 * 6, tool_rate=0.5)
    # steps: at most 6 by tokens; at most 3 tool calls
    pm = {m: th.steps_survival(m, 200, 1200, 3, 0.5) - th.steps_survival(m + 1, 200, 1200, 3,
                                                                             0.5)
          for m in range(0, 7)}
    want = sum(pm[m] * th.reach_prob(m, 2, 0.5) for m in pm)
    assert abs(sum(pm.values()) - 1) < 1e-12
    assert th.greedy_success(P) == pytest.approx(want, rel=1e-12)
