"""Tests of theory.workflow: reference tables, identities, properties and parameter checks.

Equation numbers refer to docs/models/workflow.md. The tables of the radius (10),
the LOADER optimum (15) and the chain completion (22) are values derived for this
project independently of the code (by hand from the formulas) and frozen here.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from theory import workflow as th
from theory.workflow import WorkflowParams

# --------------------------------------------------------------------------- reference tables


@pytest.mark.parametrize("n_pairs, eps", [(16, 0.2247), (256, 0.2686), (1040, 0.2883),
                                          (8192, 0.3150)])
def test_hoeffding_radius_table(n_pairs, eps):
    # (10) at M = 64, delta = 0.05
    assert th.hoeffding_radius(n_pairs, 64, 0.05) == pytest.approx(eps, abs=5e-5)


def test_hoeffding_radius_from_params_and_pairs():
    p = WorkflowParams(rollouts=64, delta=0.05)
    assert th.hoeffding_radius(p, n_pairs=th.n_pairs(4, 1, 4)) == pytest.approx(0.2247, abs=5e-5)
    assert th.n_pairs(65, 4, 4) == 1040


@pytest.mark.parametrize("p, w, beta, r", [(0.5, 1, 1, 1.421), (0.5, 10, 1, 3.359),
                                           (0.2, 10, 1, 7.030), (0.8, 10, 1, 1.864)])
def test_loader_r_star_table_and_stationarity(p, w, beta, r):
    r_star = th.loader_r_star(p, w, beta)
    assert r_star == pytest.approx(r, abs=5e-4)
    # (15): y = (1-p)^r* solves 1 + alpha = 1/y + ln y with alpha = -ln(1-p) w / beta
    alpha = -math.log(1 - p) * w / beta
    assert th.stationarity_residual((1 - p) ** r_star, alpha) == pytest.approx(0, abs=1e-10)


@pytest.mark.parametrize("n_max, prob", [(5, 0.724196), (6, 0.950508), (7, 0.992941),
                                         (8, 0.999129)])
def test_chain_success_table(n_max, prob):
    # (22): n = 5, p = 0.5, k = 4, q = 0.9375
    q = th.batch_success(0.5, 4)
    assert q == 0.9375
    assert th.chain_success(5, q, n_max) == pytest.approx(prob, abs=5e-7)
    assert th.chain_success_sum(5, q, n_max) == pytest.approx(prob, abs=5e-7)


def test_seq_chain_success_takes_the_tighter_constraint():
    kw = dict(nodes=5, p=0.5, k=4, latency=1.0, cost=1.0)
    # time admits 6 batches, the budget 100 / 4 = 25
    assert th.seq_chain_success(**kw, budget=100, deadline=6) == pytest.approx(0.950508, abs=1e-6)
    # budget admits floor(28 / 4) = 7 batches, time 100
    assert th.seq_chain_success(**kw, budget=28, deadline=100) == pytest.approx(0.992941, abs=1e-6)
    params = WorkflowParams(shape="chain", nodes=5, p=0.5, latency=1.0, latency_sd=0.0, cost=1.0,
                            budget=100, deadline=6)
    assert th.seq_chain_success(params, k=4) == pytest.approx(0.950508, abs=1e-6)
    assert th.max_batches(6, 1, 100, 4, 1) == 6 and th.max_batches(100, 1, 28, 4, 1) == 7
    assert th.max_batches(math.inf, 1, 10, 4, 0) == math.inf


# --------------------------------------------------------------------------- identities


@given(st.integers(1, 8), st.integers(0, 20), st.floats(0.0, 1.0))
def test_incomplete_beta_is_the_negative_binomial_sum(n, n_max, q):
    assert th.chain_success(n, q, n_max) == pytest.approx(th.chain_success_sum(n, q, n_max),
                                                          abs=1e-12)


@given(st.lists(st.floats(0.05, 1.0), min_size=1, max_size=6), st.integers(0, 15))
def test_general_chain_matches_identical_chain_and_bounds(qs, n_max):
    same = th.chain_success_general([qs[0]] * len(qs), n_max)
    assert same == pytest.approx(th.chain_success(len(qs), qs[0], n_max), abs=1e-12)
    # each node needs at least one batch: a chain longer than n_max never finishes
    if n_max < len(qs):
        assert th.chain_success_general(qs, n_max) == 0.0


def test_fork_join_product_against_direct_enumeration():
    # (23): P[R + max_i B_i + J <= n] with geometric R, J and negative-binomial B_i
    q, width, depth, n = 0.6, 3, 2, 9
    geo = {r: q * (1 - q) ** (r - 1) for r in range(1, n + 1)}
    nb = {m: math.comb(m - 1, depth - 1) * q**depth * (1 - q) ** (m - depth)
          for m in range(depth, n + 1)}
    total = 0.0
    import itertools
    for r, j in itertools.product(geo, geo):
        for bs in itertools.product(nb, repeat=width):
            if r + max(bs) + j <= n:
                total += geo[r] * geo[j] * math.prod(nb[b] for b in bs)
    assert th.fork_join_success(q, width, depth, n) == pytest.approx(total, abs=1e-12)
    # with a budget of total batches too, by enumeration
    budget = 9
    total_b = 0.0
    for r, j in itertools.product(geo, geo):
        for bs in itertools.product(nb, repeat=width):
            if r + max(bs) + j <= n and r + sum(bs) + j <= budget:
                total_b += geo[r] * geo[j] * math.prod(nb[b] for b in bs)
    assert th.fork_join_success(q, width, depth, n, budget) == pytest.approx(total_b, abs=1e-12)
    assert th.fork_join_success(q, width, depth, n, 10**6) == pytest.approx(total, abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 4, 16, 64])
def test_mu_harmonic_is_the_mean_of_the_largest_exponential(k):
    harmonic = sum(1.0 / i for i in range(1, k + 1))
    assert th.expected_max_exponential(3.0, k) == pytest.approx(3.0 * harmonic, rel=1e-12)
    # the gamma law with sd = mean is exponential; the floor adds at most 1e-3 * P[X < 1e-3]
    assert th.expected_max("gamma", 3.0, 3.0, k) == pytest.approx(3.0 * harmonic, abs=1e-6)


# --------------------------------------------------------------------------- latency laws


@given(st.floats(0.01, 100.0), st.floats(0.0, 3.0))
def test_moment_matching_reproduces_mean_and_sd(mu, cv):
    s = mu * cv
    m, sigma = th.lognormal_params(mu, s)
    mean, sd = th.law_moments("lognormal", m, sigma)
    assert mean == pytest.approx(mu, rel=1e-12) and sd == pytest.approx(s, rel=1e-9, abs=1e-12)
    if cv > 1e-6:   # below, the law is deterministic up to rounding
        shape, scale = th.gamma_params(mu, s)
        mean, sd = th.law_moments("gamma", shape, scale)
        assert mean == pytest.approx(mu, rel=1e-12) and sd == pytest.approx(s, rel=1e-12)


def test_lognormal_params_follow_the_written_formula():
    mu, s = 7.94, 3.55
    phi = math.sqrt(s**2 + mu**2)
    m, sigma = th.lognormal_params(mu, s)
    assert sigma == pytest.approx(math.sqrt(math.log(phi**2 / mu**2)), rel=1e-12)
    assert m == pytest.approx(math.log(mu**2 / phi), rel=1e-12)
    # against scipy's own lognormal
    d = stats.lognorm(s=sigma, scale=math.exp(m))
    assert d.mean() == pytest.approx(mu) and d.std() == pytest.approx(s)


def test_floor_quantiles_and_cdf():
    assert th.latency_quantile("gaussian", 1.0, 2.0, 0.1) == th.FLOOR
    assert th.latency_quantile("gaussian", 1.0, 0.0, [0.2, 0.9]).tolist() == [1.0, 1.0]
    assert th.latency_cdf("lognormal", 5.0, 1.0, 0.0) == 0.0
    u = np.array([0.1, 0.5, 0.9])
    q = th.latency_quantile("gamma", 4.0, 2.0, u)
    assert np.allclose(th.latency_cdf("gamma", 4.0, 2.0, q), u)
    assert np.allclose(th.latency_tail_quantile("gamma", 4.0, 2.0, 1 - u), q)
    assert th.latency_tail_quantile("lognormal", 8.0, 3.5, 1e-17) > 50


@pytest.mark.parametrize("law", ["lognormal", "gamma", "gaussian"])
def test_expected_max_against_quadrature_of_the_quantile(law):
    k = 4
    u = (np.arange(400_000) + 0.5) / 400_000
    direct = th.latency_quantile(law, 8.0, 3.5, u ** (1 / k)).mean()
    assert th.expected_max(law, 8.0, 3.5, k) == pytest.approx(direct, rel=2e-4)


# --------------------------------------------------------------------------- LOADER


def test_loader_asymptote_and_guards():
    # c > 500 uses W_-1(-e^-c) ~ -(c + ln c); close to the exact root there
    p, w, beta = 0.5, 1000.0, 1.0
    c = 1 - math.log(1 - p) * w / beta
    exact = -1.0 / special.lambertw(-math.exp(-c), k=-1).real
    r_exact = -math.log(exact) / -math.log(1 - p)
    assert th.loader_r_star(p, w, beta) == pytest.approx(r_exact, rel=2e-3)
    assert th.loader_r_star(0.5, 0.0, 1.0) == 1.0   # alpha = 0: one sample
    assert th.loader_r_star(0.0, 10.0, 1.0) == 1.0   # p = 0: b ~ 1e-12, alpha tiny
    assert th.loader_r_star(0.5, 1.0, 0.0) > 1.0     # beta floored at 1e-30


@given(st.floats(0.05, 0.95), st.floats(0.1, 50.0), st.floats(0.05, 5.0))
def test_loader_integer_is_the_better_neighbour(p, w, beta):
    r = th.loader_r_star(p, w, beta)
    got = th.loader_integer(p, 7.0, w, beta)
    assert got in {max(1, math.floor(r)), max(1, math.ceil(r))}
    f = [th.node_objective(p, 7.0, x, w, beta) for x in (math.floor(r), math.ceil(r))
         if x >= 1]
    assert th.node_objective(p, 7.0, got, w, beta) == pytest.approx(min(f), rel=1e-12)
    # the continuous optimum is a minimum of the objective along r
    lo = th.node_objective(p, 7.0, r, w, beta)
    assert lo <= th.node_objective(p, 7.0, r * 1.05, w, beta) + 1e-12
    if r > 1.05:
        assert lo <= th.node_objective(p, 7.0, r / 1.05, w, beta) + 1e-12


def test_surrogate_delay_and_cost():
    # d = wait + a^r_cur t / (1 - a^r); c = r_cur wait + r d
    d = th.surrogate_delay(0.5, 8.0, 2.0, r_cur=1.0, wait=3.0)
    assert d == pytest.approx(3.0 + 0.5 * 8.0 / 0.75)
    assert th.surrogate_cost(0.5, 8.0, 2.0, r_cur=1.0, wait=3.0) == pytest.approx(3.0 + 2 * d)
    assert th.surrogate_delay(0.5, 8.0, 1.0) == pytest.approx(16.0)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("kw, msg", [
    (dict(p=1.5), r"^p must be in \[0, 1\], got 1.5$"),
    (dict(latency=-1.0), r"^latency must be in \(0, inf\], got -1$"),
    (dict(cost=-2.0), r"^cost must be in \[0, inf\], got -2$"),
    (dict(deadline=0.0), r"^deadline must be in \(0, inf\], got 0$"),
    (dict(budget=-5.0), r"^budget must be in \(0, inf\], got -5$"),
    (dict(k_values=(0, 4)), r"^k_values must be an integer in \[1, 4096\], got 0$"),
    (dict(k_values=(4, 1)), r"^k_values must be distinct and increasing, got 4,1$"),
    (dict(shape="star"), r"^shape must be one of"),
    (dict(nodes=63), r"^nodes must be an integer in \[1, 62\], got 63$"),
    (dict(p=0.5, models=2), r"^models must be 1 when"),
    (dict(policies=("mcpp", "greedy")), r"^policies must be among"),
    (dict(policies=("seq:0",)), r"seq:K needs a positive integer K"),
    (dict(delta=0.0), r"^delta must be in \(0, 1\], got 0$"),
])
def test_params_reject_with_one_line(kw, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        WorkflowParams(**kw)


def test_params_defaults_and_policies():
    p = WorkflowParams()
    assert p.k_values == (1, 4, 16, 64) and p.rollouts == 64 and p.delta == 0.05
    assert p.candidates_cap == 4 + 4**4 == 260
    assert WorkflowParams(max_candidates=2048).candidates_cap == 2048
    assert WorkflowParams(policies="mcpp, seq:4").policies == ("mcpp", "seq:4")
    assert th.parse_policy("seq:16:1") == ("seq", 16, 1)
    assert not p.identical and WorkflowParams(latency_sd=0.0).identical
    with pytest.raises(TypeError, match="k_values must be an integer"):
        WorkflowParams(k_values=(1.5,))
