"""Whole tokens for one plan (docs/models/bbam.md (28)-(29)) and the law's fit ((26)-(27))."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

from theory import bbam as th
from theory._profile import chi2_gof, fit, profile_interval

positive = st.floats(0.01, 50.0)
exponent = st.floats(0.2, 4.0)


@given(st.lists(st.tuples(positive, exponent), min_size=1, max_size=8),
       st.integers(0, 5000), st.sampled_from(th.METHODS), st.integers(0, 3))
def test_whole_tokens_sum_to_the_budget_and_respect_the_floor(rows, extra, method, floor):
    c, beta = (np.array(x) for x in zip(*rows))
    budget = floor * c.size + extra + 1
    b = th.allocate_tokens(c, beta, budget, method, floor)
    real = th.allocate_floor(c, beta, budget, method, floor)
    assert b.dtype == np.int64 and int(b.sum()) == budget
    assert (b >= floor).all()
    assert np.all(np.abs(b - real * budget / real.sum()) < 1.0 + 1e-9)


def test_worked_example_rounds_the_exact_and_paper_splits():
    c, beta = [0.5, 0.3, 0.9], [1.0, 1.5, 2.5]
    # real splits 201.337, 66.809, 31.854 and 78.730, 80.898, 140.371 (docs/models/bbam.md)
    assert th.allocate_tokens(c, beta, 300).tolist() == [201, 67, 32]
    assert th.allocate_tokens(c, beta, 300, "paper").tolist() == [79, 81, 140]
    assert th.allocate_tokens(c, beta, 301, "uniform").tolist() == [101, 100, 100]


def test_largest_remainder_gives_the_extra_tokens_to_the_largest_fractions():
    # floors 3, 1, 1 leave one token; fractions 0, .8, .2: it goes to the second
    assert th.round_largest_remainder([3.0, 1.8, 1.2], 6).tolist() == [3, 2, 1]
    # ties go to the earlier entry
    assert th.round_largest_remainder([1.5, 1.5], 3).tolist() == [2, 1]


@pytest.mark.parametrize("seed", range(5))
def test_floor_constrained_exact_split_is_the_constrained_optimum(seed):
    rng = np.random.default_rng(seed)
    m = 5
    c = np.exp(rng.normal(0, 2, m))
    beta = rng.uniform(0.5, 3.0, m)
    budget, floor = 60.0, 6.0
    b = th.allocate_floor(c, beta, budget, "exact", floor)

    def obj(x):
        return float(np.sum(c * x ** (-beta)))

    ref = optimize.minimize(obj, np.full(m, budget / m), method="SLSQP",
                            bounds=[(floor, budget)] * m,
                            constraints=[{"type": "eq", "fun": lambda x: x.sum() - budget}],
                            options={"ftol": 1e-14, "maxiter": 1000})
    assert b.sum() == pytest.approx(budget)
    assert (b >= floor - 1e-12).all()
    assert obj(b) <= ref.fun * (1 + 1e-7)
    # never worse than the paper's or the uniform split under the same floor
    for method in ("paper", "uniform"):
        assert obj(b) <= obj(th.allocate_floor(c, beta, budget, method, floor)) * (1 + 1e-12)


def test_budget_below_the_floor_is_one_line():
    with pytest.raises(ValueError, match=r"budget must be >= min_tokens \* m = 2 \* 3 = 6, got 5"):
        th.allocate_tokens([1, 1, 1], [1, 1, 1], 5, min_tokens=2)


def test_the_fit_recovers_exact_expected_counts():
    # counts equal to their expectations (n large): the MLE is the truth
    b = np.array([4, 8, 16, 32, 64, 128, 256], float)
    n = np.full(b.size, 10**6)
    k = np.round(n * th.law_success(b, 6.0, 1.4, 0.05)).astype(int)
    res = th.fit_law(b, n, k)
    assert res["c"] == pytest.approx(6.0, rel=1e-2)
    assert res["beta"] == pytest.approx(1.4, rel=5e-3)
    assert res["u"] == pytest.approx(0.05, abs=1e-3)
    assert res["c_low"] < 6.0 < res["c_high"] and res["beta_low"] < 1.4 < res["beta_high"]
    assert res["deviance"] < 1e-2 and res["df"] == 4


def test_fit_needs_three_budgets():
    with pytest.raises(ValueError, match="at least 3 distinct values"):
        th.fit_law([10, 20, 10], [5, 5, 5], [1, 2, 3])


def test_profile_interval_of_a_normal_mean_is_the_textbook_interval():
    # nll of N(mu, 1) data: the profile interval is mean +- 1.96/sqrt(n)
    x = np.random.default_rng(0).normal(3.0, 1.0, 400)

    def nll(t):
        return 0.5 * float(np.sum((x - t[0]) ** 2))

    f = fit(nll, [[0.0]], [(-10.0, 10.0)])
    lo, hi = profile_interval(nll, f, 0)
    half = 1.959963984540054 / math.sqrt(x.size)
    assert lo == pytest.approx(x.mean() - half, abs=1e-5)
    assert hi == pytest.approx(x.mean() + half, abs=1e-5)


def test_chi2_gof_merges_small_bins():
    # 10 | 1 + 1 + 10: the two small bins join the next one
    res = chi2_gof([10, 1, 1, 10], [10, 1, 1, 10], 0)
    assert res["statistic"] == 0.0 and res["bins"] == 2 and res["df"] == 1
    res = chi2_gof([12, 8], [10, 10], 0)
    assert res["statistic"] == pytest.approx(0.8) and res["p_value"] == pytest.approx(0.3711, 1e-3)
