"""One agent or an integer tree (docs/models/phase.md (42)-(44)) and the fits ((45)-(47))."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import phase as th


@given(st.sampled_from([3, 5, 7, 9]), st.floats(0.0, 0.9), st.floats(0.3, 1.0),
       st.floats(0.05, 1.0), st.floats(10.0, 1e7), st.floats(0.51, 0.99))
def test_decide_reports_integer_organisations_only(b, rho, gamma, beta, budget, p):
    res = th.decide(b, rho, gamma, beta, budget, p_single=p, msg_tokens=64)
    assert res["choice"] in ("single", "tree")
    if res["choice"] == "tree":
        assert isinstance(res["depth"], int) and res["depth"] >= 1
        assert res["leaves"] == res["b"] ** res["depth"]
        assert res["p_tree"] > res["p_single"] and res["margin"] > 0
        # the leaves' compute and the messages spend exactly the budget, (16)
        spent = res["leaves"] * res["compute_per_leaf"] + th.c0(64, res["b"]) * (res["leaves"] - 1)
        assert spent == pytest.approx(budget)
    else:
        assert (res["b"], res["depth"], res["leaves"]) == (None, 0, 1)
        assert res["margin"] is None or res["margin"] <= 1e-12
    for c in res["candidates"]:
        assert c["depth"] >= 1 and c["compute_per_leaf"] > 0


def test_decide_agrees_with_the_recursion_by_hand():
    # b=3, one level, herding: root bias rho g mu + (1 - rho) f_3(g mu), (4); leaf bias kappa x^beta
    b, rho, gamma, beta, budget, m = 3, 0.2, 0.9, 0.5, 10_000.0, 10.0
    kappa = 0.004
    res = th.decide(b, rho, gamma, beta, budget, kappa=kappa, msg_tokens=m)
    one = res["candidates"][0]
    x = (budget - 2 * m * 3 / 2 * 2) / 3
    mu = kappa * x**beta
    gm = gamma * mu
    root = rho * gm + (1 - rho) * (3 * gm - gm**3) / 2
    assert one["compute_per_leaf"] == pytest.approx(x)
    assert one["p_tree"] == pytest.approx((1 + root) / 2, abs=1e-12)
    assert res["p_single"] == pytest.approx((1 + kappa * budget**beta) / 2)


def test_below_the_budget_threshold_one_agent_is_best():
    # s = log_3(0.95 * 1.5) = 0.322 > beta = 0.2, but messages eat a small budget
    res = th.decide(3, 0.0, 0.95, 0.2, 2_000.0, p_single=0.6, msg_tokens=256)
    assert res["choice"] == "single" and res["depth"] == 0 and res["leaves"] == 1
    assert res["theory"]["synergy"] and 2_000.0 < res["theory"]["b_crit"]
    big = th.decide(3, 0.0, 0.95, 0.2, 1e7, p_single=0.6, msg_tokens=256)
    assert big["choice"] == "tree" and big["depth"] >= 1


def test_fan_ins_beyond_the_context_are_left_out():
    res = th.decide([3, 5, 7], 0.0, 0.95, 0.2, 1e7, msg_tokens=1000, context=5500)
    assert res["b_allowed"] == [3, 5] and {c["b"] for c in res["candidates"]} <= {3, 5}


def test_leaf_law_fit_recovers_exact_counts():
    x = np.array([100, 300, 1000, 3000, 10000], float)
    n = np.full(x.size, 10**7)
    k = np.round(n * th.leaf_accuracy(x, 0.02, 0.3)).astype(int)
    res = th.fit_leaf_law(x, n, k)
    assert res["beta"] == pytest.approx(0.3, abs=2e-3)
    assert res["kappa"] == pytest.approx(0.02, rel=2e-2)
    assert res["beta_low"] < 0.3 < res["beta_high"]


def test_beta_binomial_is_a_distribution_with_correlation_rho():
    n, p0, rho = 9, 0.6, 0.3
    pmf = np.exp(th.beta_binomial_logpmf(np.arange(n + 1), n, p0, rho))
    k = np.arange(n + 1)
    mean = (pmf * k).sum()
    var = (pmf * (k - mean) ** 2).sum()
    assert pmf.sum() == pytest.approx(1.0)
    assert mean == pytest.approx(n * p0)
    # Var K = n p q (1 + (n - 1) rho) for exchangeable samples with correlation rho
    assert var == pytest.approx(n * p0 * (1 - p0) * (1 + (n - 1) * rho))


def test_fidelity_interval_is_the_binomial_likelihood_ratio_interval():
    sent = np.ones(1000, int)
    received = np.r_[np.zeros(100, int), np.ones(900, int)]
    res = th.fit_fidelity(sent, received)
    assert res["gamma"] == pytest.approx(0.8)
    # eps in [lo, hi] where 2 [l(0.1) - l(eps)] = 3.84
    for eps in (0.5 * (1 - res["gamma_high"]), 0.5 * (1 - res["gamma_low"])):
        lr = 2 * (100 * math.log(0.1 / eps) + 900 * math.log(0.9 / (1 - eps)))
        assert lr == pytest.approx(3.841458820694124, abs=1e-3)
