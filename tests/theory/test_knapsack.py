"""Tests of theory.knapsack: closed forms, their properties, and the allocators.

Equation numbers refer to docs/models/knapsack.md. Expected values come from
tables recomputed for this project, from exact rational
arithmetic (``fractions.Fraction``) or from brute-force enumeration written here,
never from the code under test.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theory import knapsack as ks
from theory.knapsack.greedy import _greedy_heap, _greedy_lagrangian, _greedy_sort

Fr = Fraction

# ---------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------


def f_exact(n, p):
    """f(n, p) = 1 - p^n - (1-p)^n in exact rationals."""
    p, n = Fr(p), int(n)
    return 1 - p**n - (1 - p) ** n


def ig_py(p):
    return p * (1 - p) ** 2


def value_py(n, p):
    return (1.0 - p**n - (1.0 - p) ** n) * ig_py(p)


def objective_py(N, p):
    return math.fsum(value_py(int(n), float(q)) for n, q in zip(N, p))


def brute_force(p, budget, lo, hi, cost=None, weight=ig_py):
    """Max of sum_i w(p_i) f(N_i, p_i) over all integer vectors within the bounds and budget."""
    cost = [1] * len(p) if cost is None else cost
    best = -1.0
    for N in itertools.product(range(lo, hi + 1), repeat=len(p)):
        if sum(c * n for c, n in zip(cost, N)) <= budget:
            v = math.fsum((1.0 - q**n - (1.0 - q) ** n) * weight(q) for n, q in zip(N, p))
            best = max(best, v)
    return best


grid_p = st.one_of(
    st.sampled_from([0.0, 1.0]),
    st.integers(0, 16).map(lambda k: k / 16),
)
unit_p = st.floats(0.0, 1.0, allow_nan=False)
open_p = st.floats(1e-6, 1 - 1e-6, allow_nan=False)
rational_p = st.fractions(0, 1, max_denominator=64)
sizes = st.integers(1, 512)


# ===========================================================================
# closed forms: reference tables, docs/models/knapsack.md (4), (9), (10), (14)
# ===========================================================================

D3_TABLE = [
    # p, IG, f(2), f(4), f(8), f(16), f(64), f(93), f(128), Value(8,p)
    (0.01, 0.00980, 0.0198, 0.0394, 0.0773, 0.1485, 0.4744, 0.6073, 0.7237, 0.00076),
    (0.05, 0.04512, 0.0950, 0.1855, 0.3366, 0.5599, 0.9625, 0.9915, 0.9986, 0.01519),
    (0.125, 0.09570, 0.2188, 0.4136, 0.6564, 0.8819, 0.9998, 1.0000, 1.0000, 0.06282),
    (0.25, 0.14062, 0.3750, 0.6797, 0.8999, 0.9900, 1.0000, 1.0000, 1.0000, 0.12654),
    (1 / 3, 0.14815, 0.4444, 0.7901, 0.9608, 0.9985, 1.0000, 1.0000, 1.0000, 0.14235),
    (0.5, 0.12500, 0.5000, 0.8750, 0.9922, 1.0000, 1.0000, 1.0000, 1.0000, 0.12402),
    (0.75, 0.04688, 0.3750, 0.6797, 0.8999, 0.9900, 1.0000, 1.0000, 1.0000, 0.04218),
    (0.9, 0.00900, 0.1800, 0.3438, 0.5695, 0.8147, 0.9988, 0.9999, 1.0000, 0.00513),
]


@pytest.mark.parametrize("row", D3_TABLE, ids=lambda r: f"p={r[0]:.3g}")
def test_d3_reference_table(row):
    p, ig, *fs, v8 = row
    assert ks.info_gain(p) == pytest.approx(ig, abs=6e-6)
    got = ks.prob_nonzero_gradient([2, 4, 8, 16, 64, 93, 128], p)
    np.testing.assert_allclose(got, fs, atol=5.1e-5)
    assert ks.value(8, p) == pytest.approx(v8, abs=6e-6)


@pytest.mark.parametrize(
    "p, n_alpha, n_star, e_t",
    [(0.01, 229.11, 230, 100.01), (0.05, 44.89, 45, 20.05), (0.125, 17.24, 18, 8.14),
     (0.25, 8.004, 9, 4.33), (0.5, 3.32, 5, 3.00)],
)
def test_t1_reference_table(p, n_alpha, n_star, e_t):
    assert ks.coverage_budget(p, 0.9) == pytest.approx(n_alpha, abs=6e-3)
    assert ks.exact_coverage_budget(p, 0.9) == n_star
    assert ks.expected_rollouts(p) == pytest.approx(e_t, abs=6e-3)


def test_t1_worked_example_exact():
    # 1/(p(1-p)) - 1 at p = 1/100, in exact rationals: 10000/99 - 1
    assert ks.expected_rollouts(0.01) == pytest.approx(float(Fr(10000, 99) - 1), rel=1e-14)


@pytest.mark.parametrize(
    "k, n, a_pos, a_neg, a_pos_clip",
    [(1, 93, 9.54, -0.104, 5.0), (1, 8, 2.475, -0.354, 2.475), (4, 8, 0.935, -0.935, 0.935),
     (7, 8, 0.354, -2.475, 0.354), (1, 2, 0.707, -0.707, 0.707)],
)
def test_d7_advantage_table(k, n, a_pos, a_neg, a_pos_clip):
    ap, an = ks.grpo_advantages(k, n, clip=None)
    assert ap == pytest.approx(a_pos, abs=6e-3)
    assert an == pytest.approx(a_neg, abs=6e-4)
    ap5, an5 = ks.grpo_advantages(k, n, clip=5.0)
    assert ap5 == pytest.approx(a_pos_clip, abs=6e-4)
    assert an5 == pytest.approx(max(a_neg, -5.0), abs=6e-4)


def test_advantage_closed_forms_without_eps():
    k = np.array([1, 2, 3, 5, 1, 40])
    n = np.array([2, 5, 8, 9, 128, 93])
    ap, an = ks.grpo_advantages(k, n, eps=0.0, clip=None)
    np.testing.assert_allclose(ap, np.sqrt((n - k) * (n - 1) / (k * n)), rtol=1e-14)
    np.testing.assert_allclose(an, -np.sqrt(k * (n - 1) / ((n - k) * n)), rtol=1e-14)


def test_advantage_degenerate_groups():
    # all-equal groups: zero advantage; a group of one: mean 0, std 1, docs/models/knapsack.md (14)
    ap, an = ks.grpo_advantages([0, 5, 1, 0], [5, 5, 1, 1], eps=1e-6, clip=None)
    assert ap[0] == 0.0 and an[0] == 0.0
    assert ap[1] == 0.0 and an[1] == 0.0
    assert ap[2] == pytest.approx(1 / (1 + 1e-6), rel=1e-15)
    assert an[3] == 0.0


# ===========================================================================
# closed forms: properties
# ===========================================================================


@given(sizes, unit_p)
def test_f_bounds_and_symmetry(n, p):
    f = ks.prob_nonzero_gradient(n, p)
    assert -1e-15 <= f <= 1 - 2.0 ** (1 - n) + 1e-15
    mirror = ks.prob_nonzero_gradient(n, 1.0 - p)
    if 1.0 - (1.0 - p) == p:  # the mirror rate is exact: bit-identical (exactly symmetric form)
        assert f == mirror
    else:  # 1 - p rounded: the inputs differ by about 1e-17 absolute
        # rel is capped at 1: for subnormal p the bound would be infinite (abs covers f ~ n p)
        assert f == pytest.approx(mirror, rel=min(1e-15 / min(p, 1 - p), 1.0) + 1e-12, abs=1e-15)


@given(st.integers(1, 60), rational_p)
def test_f_against_exact_rationals(n, p):
    assert ks.prob_nonzero_gradient(n, float(p)) == pytest.approx(float(f_exact(n, p)),
                                                                  abs=4e-16 * n + 1e-16)


@given(unit_p)
def test_f_small_groups(p):
    assert ks.prob_nonzero_gradient(1, p) == 0.0
    assert ks.prob_nonzero_gradient(2, p) == pytest.approx(2 * p * (1 - p), rel=1e-15, abs=1e-300)


@given(st.integers(1, 510), unit_p)
def test_f_monotone_and_concave(n, p):
    f0, f1, f2 = ks.prob_nonzero_gradient([n, n + 1, n + 2], p)
    assert f1 >= f0 - 1e-16
    assert f2 - 2 * f1 + f0 <= 1e-15


@given(st.integers(1, 200), rational_p)
def test_marginal_gain_is_first_difference(n, p):
    expected = f_exact(n + 1, p) - f_exact(n, p)
    assert ks.marginal_gain(n, float(p)) == pytest.approx(float(expected), abs=1e-15)


def test_info_gain_range_and_argmax():
    grid = np.linspace(0, 1, 300001)
    ig = ks.info_gain(grid)
    assert ig.min() >= 0 and ig.max() <= 4 / 27 + 1e-16
    assert grid[np.argmax(ig)] == pytest.approx(1 / 3, abs=1e-5)
    assert ks.info_gain(0.0) == 0.0 and ks.info_gain(1.0) == 0.0


def test_alternative_weights():
    p = np.array([0.1, 0.3, 0.8])
    np.testing.assert_allclose(ks.info_gain(p, "variance"), p * (1 - p))
    np.testing.assert_allclose(ks.info_gain(p, "info_gain_cubed"), p * (1 - p) ** 3)
    np.testing.assert_allclose(ks.info_gain(p, "variance_3_2"), (p * (1 - p)) ** 1.5)
    np.testing.assert_allclose(ks.info_gain(p, lambda x: 2 * x), 2 * p)


@given(sizes, unit_p)
def test_value_below_info_gain_and_zero_set(n, p):
    v = ks.value(n, p)
    assert 0 <= v <= ks.info_gain(p) + 1e-17
    if p in (0.0, 1.0) or n == 1:
        assert v == 0.0
    elif min(p, 1 - p) > 1e-6:
        assert v > 0.0


@given(open_p)
def test_expected_rollouts_at_least_three(p):
    e = ks.expected_rollouts(p)
    assert e >= 3 - 1e-12
    assert e == pytest.approx(1 / p + 1 / (1 - p) - 1, rel=1e-12)


@given(st.floats(0.05, 0.95))
def test_expected_rollouts_is_survival_series(p):
    n = np.arange(0, 2000)
    series = ks.first_mixed_survival(n, p).sum()
    assert series == pytest.approx(ks.expected_rollouts(p), rel=1e-12)


@given(st.integers(1, 100), rational_p)
def test_survival_complements_f(n, p):
    assert ks.first_mixed_survival(n, float(p)) == pytest.approx(float(1 - f_exact(n, p)),
                                                                 abs=1e-15)


@given(open_p, st.floats(0.01, 0.99))
def test_coverage_budget_symmetry_and_necessity(p, alpha):
    na = ks.coverage_budget(p, alpha)
    assert na == pytest.approx(ks.coverage_budget(1 - p, alpha), rel=1e-9)
    c = math.ceil(na)
    if c - 1 >= 1:
        assert ks.prob_nonzero_gradient(c - 1, p) < alpha
    assert ks.exact_coverage_budget(p, alpha) >= c


@settings(max_examples=60)
@given(st.fractions(Fr(1, 200), Fr(199, 200), max_denominator=200),
       st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
def test_exact_coverage_budget_by_scan(p, alpha):
    a = Fr(alpha)
    n = 1
    while f_exact(n, p) < a:
        n += 1
    # skip float-ambiguous boundaries (f within 1e-12 of alpha)
    assume(abs(float(f_exact(n, p) - a)) > 1e-12 and abs(float(f_exact(n - 1, p) - a)) > 1e-12)
    assert ks.exact_coverage_budget(float(p), alpha) == n


def test_rollout_cost_forms():
    p = np.array([0.01, 0.3, 0.5, 0.8])
    np.testing.assert_allclose(ks.rollout_cost(p, 0.9, "probability"),
                               np.log(0.1) / np.log(np.maximum(p, 1 - p)))
    np.testing.assert_allclose(ks.rollout_cost(p, cost="expectation"), 1 / (p * (1 - p)) - 1)


@given(st.integers(2, 40), st.integers(0, 40), st.integers(0, 10**6))
def test_grpo_group_sum_zero_and_unit_std(n, k, seed):
    assume(k <= n)
    r = np.zeros(n)
    r[np.random.default_rng(seed).permutation(n)[:k]] = 1.0
    a = ks.grpo_group_advantages(r, [n], eps=0.0, clip=None)
    assert abs(a.sum()) < 1e-12
    if 0 < k < n:
        assert np.std(a, ddof=1) == pytest.approx(1.0, rel=1e-12)
    else:
        assert np.all(a == 0)


def test_grpo_grouped_matches_per_group_loop():
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 30, size=200)
    r = (rng.random(sizes.sum()) < 0.3).astype(float)
    got = ks.grpo_group_advantages(r, sizes, eps=1e-6, clip=5.0)
    start = 0
    for s in sizes:
        g = r[start:start + s]
        mean, std = (g.mean(), g.std(ddof=1)) if s > 1 else (0.0, 1.0)
        np.testing.assert_allclose(got[start:start + s],
                                   np.clip((g - mean) / (std + 1e-6), -5, 5), rtol=1e-13)
        start += s


def test_effective_ratios_by_enumeration():
    # exact expectation over all outcome vectors of two small groups
    N = [3, 4]
    p = [Fr(1, 3), Fr(3, 4)]
    egr = epr = Fr(0)
    for out in itertools.product([0, 1], repeat=sum(N)):
        prob = Fr(1)
        for j, o in enumerate(out):
            q = p[0] if j < N[0] else p[1]
            prob *= q if o else 1 - q
        g1, g2 = out[:N[0]], out[N[0]:]
        mixed = [0 < sum(g1) < N[0], 0 < sum(g2) < N[1]]
        egr += prob * Fr(sum(n for n, m in zip(N, mixed) if m), sum(N))
        epr += prob * Fr(sum(mixed), 2)
    pf = [float(x) for x in p]
    assert ks.effective_gradient_ratio(N, pf) == pytest.approx(float(egr), rel=1e-14)
    assert ks.effective_prompt_ratio(N, pf) == pytest.approx(float(epr), rel=1e-14)
    # batch axis first, prompts last
    both = ks.effective_gradient_ratio([N, N], [pf, pf])
    assert both.shape == (2,)


# ===========================================================================
# input validation: one-line ValueErrors naming the parameter
# ===========================================================================


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ks.prob_nonzero_gradient(0, 0.5), r"^N must be an integer in \[1, inf\], got 0$"),
        (lambda: ks.value(3, 1.5), r"^p must be in \[0, 1\], got 1.5$"),
        (lambda: ks.coverage_budget(0.3, 1.0), r"^alpha must be in \(0, 1\), got 1$"),
        (lambda: ks.exact_coverage_budget(0.0), r"^p must be in \(0, 1\), got 0$"),
        (lambda: ks.info_gain(0.3, "bogus"), r"^weight must be one of"),
        (lambda: ks.grpo_advantages(3, 2), r"^k must be an integer in \[0, N\]"),
        (lambda: ks.allocate_greedy([0.5, 0.5], 3), r"^budget must be at least n_low \* M = 4"),
        (lambda: ks.allocate_greedy([0.5], 8, n_low=5, n_up=4),
         r"^n_up must be an integer in \[5, inf\], got 4$"),
        (lambda: ks.allocate_dp([0.5, 0.5], 5, cost=[2, 1]),
         r"^budget must be at least n_low \* sum\(cost\) = 6"),
        (lambda: ks.KnapsackParams(n_low=9), r"^n_low must be an integer in \[1, 8\], got 9$"),
        (lambda: ks.KnapsackParams(fallback="x"), r"^fallback must be one of"),
        (lambda: ks.KnapsackParams(alpha=0.0), r"^alpha must be in \(0, 1\), got 0$"),
        (lambda: ks.allocate([0.5, 0.5], params=ks.KnapsackParams(budget=3)),
         r"^budget must be at least"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ===========================================================================
# allocator goldens (recomputed by hand for this project)
# ===========================================================================

GOLDEN_11A = [0.02, 0.3, 0.6, 0.95, 0.5, 0.125, 0.0625, 0.8]
GOLDEN_11B = [0, 1, 1, 0.5, 0, 1, 1, 1]


def test_reference_golden_no_fallback():
    N, info = ks.allocate_reference(GOLDEN_11A)
    assert N.tolist() == [2, 10, 7, 2, 7, 16, 13, 7]
    assert info["fallback"] is False
    # "Clean greedy gives the same allocation"
    assert ks.allocate_greedy(GOLDEN_11A, 64).tolist() == [2, 10, 7, 2, 7, 16, 13, 7]
    Nc, infoc = ks.allocate(GOLDEN_11A)
    assert Nc.tolist() == [2, 10, 7, 2, 7, 16, 13, 7] and infoc["fallback"] is False


def test_reference_golden_fallback():
    N, info = ks.allocate_reference(GOLDEN_11B)
    assert N.tolist() == [25, 2, 2, 5, 24, 2, 2, 2]
    assert info["fallback"] is True
    assert info["coverage_cost"] == 3  # floor(3.32)
    assert info["fallback_effective_ratio"] == pytest.approx(3 / 48)
    N2, _ = ks.allocate(GOLDEN_11B, params=ks.KnapsackParams(mode="reference"))
    assert N2.tolist() == [25, 2, 2, 5, 24, 2, 2, 2]


@pytest.mark.parametrize(
    "p, budget, n_up, expected, objective",
    [((0.05, 0.2, 0.5, 0.9), 32, 128, (10, 13, 7, 2), 0.263737),
     ((0, 1, 0.3, 0.3), 16, 128, (2, 2, 6, 6), 0.259197),
     ((0.1, 0.1, 0.1), 30, 16, (10, 10, 10), 0.158271)],
)
@pytest.mark.parametrize("method", ["heap", "sort", "lagrangian", "dp"])
def test_clean_greedy_goldens(p, budget, n_up, expected, objective, method):
    if method == "dp":
        N = ks.allocate_dp(p, budget, 2, n_up)
    else:
        N = ks.allocate_greedy(p, budget, 2, n_up, method=method)
    assert tuple(N.tolist()) == expected
    assert objective_py(N, p) == pytest.approx(objective, abs=5e-7)
    assert ks.total_value(N, p) == pytest.approx(objective, abs=5e-7)


# ===========================================================================
# allocator properties
# ===========================================================================

small_instance = st.tuples(
    st.lists(st.one_of(grid_p, open_p), min_size=1, max_size=4),
    st.integers(1, 3),  # n_low
    st.integers(0, 4),  # n_up - n_low
    st.integers(0, 12),  # budget above M * n_low
)


@settings(max_examples=80)
@given(small_instance)
def test_greedy_equals_dp_equals_brute_force(inst):
    p, lo, k, slack = inst
    hi = lo + k
    B = len(p) * lo + slack
    best = brute_force(p, B, lo, hi)
    for method in ("heap", "sort", "lagrangian"):
        N = ks.allocate_greedy(p, B, lo, hi, method=method)
        assert objective_py(N, p) == pytest.approx(best, abs=1e-12)
    Nd = ks.allocate_dp(p, B, lo, hi)
    assert objective_py(Nd, p) == pytest.approx(best, abs=1e-12)
    assert Nd.sum() <= B and Nd.min() >= lo and Nd.max() <= hi


@settings(max_examples=40)
@given(
    st.lists(open_p, min_size=1, max_size=3),
    st.lists(st.integers(1, 4), min_size=3, max_size=3),
    st.integers(0, 4),
    st.integers(0, 14),
)
def test_dp_token_costs_against_brute_force(p, cost, k, slack):
    cost = cost[: len(p)]
    lo, hi = 1, 1 + k
    B = lo * sum(cost) + slack
    best = brute_force(p, B, lo, hi, cost=cost)
    N = ks.allocate_dp(p, B, lo, hi, cost=cost)
    assert objective_py(N, p) == pytest.approx(best, abs=1e-12)
    assert int(np.dot(N, cost)) <= B


@settings(max_examples=25)
@given(st.lists(open_p, min_size=1, max_size=3), st.integers(0, 4), st.integers(0, 10))
def test_greedy_with_custom_weight_against_brute_force(p, k, slack):
    w = lambda x: np.sqrt(x * (1 - x))  # noqa: E731
    lo, hi = 2, 2 + k
    B = 2 * len(p) + slack
    best = brute_force(p, B, lo, hi, weight=lambda q: math.sqrt(q * (1 - q)))
    N = ks.allocate_greedy(p, B, lo, hi, weight=w)
    got = math.fsum((1 - q**n - (1 - q) ** n) * math.sqrt(q * (1 - q)) for n, q in zip(N, p))
    assert got == pytest.approx(best, abs=1e-12)


batch = st.tuples(
    st.lists(grid_p, min_size=1, max_size=64),
    st.integers(2, 16),  # N_bar
    st.sampled_from([(2, 128), (1, 16), (2, 8), (3, 40)]),
)


@settings(max_examples=60)
@given(batch)
def test_heap_sort_lagrangian_identical(inst):
    p, nbar, (lo, hi) = inst
    B = max(len(p) * nbar, len(p) * lo)
    a = ks.allocate_greedy(p, B, lo, hi, method="heap")
    b = ks.allocate_greedy(p, B, lo, hi, method="sort")
    c = ks.allocate_greedy(p, B, lo, hi, method="lagrangian")
    assert a.tolist() == b.tolist()
    assert a.tolist() == c.tolist()  # bit for bit, ties included


def test_lagrangian_bracket_search_matches_sort():
    # force the multiplier search (cap=1) on a larger random batch
    rng = np.random.default_rng(7)
    p = rng.uniform(0.001, 0.999, 3000)
    w = p * (1 - p) ** 2
    for extra in (1, 500, 6000, 3000 * 126 - 1):
        got = _greedy_lagrangian(p, w, extra, 2, 128, cap=1)
        ref = _greedy_sort(p, w, extra, 2, 128)
        assert got.sum() == ref.sum() == extra
        np.testing.assert_array_equal(got, ref)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 400),  # prompts
    st.sampled_from([(2, 128), (1, 16), (2, 8), (3, 40), (1, 2)]),
    st.integers(0, 40),  # budget per prompt above n_low
    st.sampled_from(["info_gain", "variance", "info_gain_cubed", "variance_3_2"]),
    st.sampled_from(["uniform", "grid", "duplicates", "extreme"]),
    st.sampled_from([None, 1, 64]),  # window: default, or forced bracket search
)
def test_lagrangian_equals_heap_random_batches(seed, m, bounds, slack, weight, kind, cap):
    """The Lagrangian solver returns the heap's allocation exactly, ties included."""
    rng = np.random.default_rng(seed)
    lo, hi = bounds
    if kind == "uniform":
        p = rng.uniform(0.0, 1.0, m)
    elif kind == "grid":  # the estimator's k/16 grid: many exact ties
        p = rng.integers(0, 17, m) / 16
    elif kind == "duplicates":  # a few distinct rates, each repeated
        p = rng.choice(rng.uniform(0.0, 1.0, 3), m)
    else:  # rates whose gains underflow or whose 1 - p rounds to 1
        p = rng.choice([1e-300, 1e-18, 1e-9, 1e-3, 0.5, 1 - 1e-12, 1 - 1e-16], m)
    B = m * lo + int(rng.integers(0, slack * m + 1))
    w = ks.info_gain(p, weight)
    e = (p > 0) & (p < 1)
    extra = B - m * lo
    ref = _greedy_heap(p[e], w[e], extra, lo, hi)
    got = _greedy_lagrangian(p[e], w[e], extra, lo, hi, cap=cap)
    np.testing.assert_array_equal(got, ref)
    N = ks.allocate_greedy(p, B, lo, hi, weight=weight, method="lagrangian")
    np.testing.assert_array_equal(N, ks.allocate_greedy(p, B, lo, hi, weight=weight, method="heap"))


@pytest.mark.parametrize("kind", ["continuous", "grid", "identical", "zero_weight"])
def test_lagrangian_equals_sort_large_batches(kind):
    """Batches larger than the default window, where the bracket search runs."""
    rng = np.random.default_rng(11)
    m = 40_000
    p = {"continuous": rng.uniform(0.001, 0.999, m),
         "grid": rng.integers(1, 16, m) / 16,
         "identical": np.full(m, 0.3),
         "zero_weight": rng.uniform(0.001, 0.999, m)}[kind]
    w = p * (1 - p) ** 2
    if kind == "zero_weight":
        w[::3] = 0.0
    for extra in (1, 3 * m, 8 * m, 126 * m - 7):
        got = _greedy_lagrangian(p, w, extra, 2, 128)
        ref = _greedy_sort(p, w, extra, 2, 128)
        np.testing.assert_array_equal(got, ref)


@settings(max_examples=60)
@given(batch)
def test_conservation_bounds_and_kkt(inst):
    p, nbar, (lo, hi) = inst
    p = np.array(p)
    M = p.size
    B = max(M * nbar, M * lo)
    N = ks.allocate_greedy(p, B, lo, hi)
    e = (p > 0) & (p < 1)
    # budget use, docs/models/knapsack.md (6): min(R, |E| (hi - lo)) extra rollouts go to E,
    # none elsewhere
    assert (N[~e] == lo).all()
    assert N.sum() == M * lo + min(B - M * lo, int(e.sum()) * (hi - lo))
    assert N.min() >= lo and N.max() <= hi
    # KKT certificate, docs/models/knapsack.md (6), computed with exact rationals
    if e.any():
        pe, Ne = p[e], N[e]
        gain = lambda n, q: Fr(q) * (1 - Fr(q)) ** 2 * (f_exact(n + 1, q) - f_exact(n, q))  # noqa: E731
        lows = [gain(n - 1, q) for n, q in zip(Ne, pe) if n > lo]
        highs = [gain(n, q) for n, q in zip(Ne, pe) if n < hi]
        if lows and highs:
            assert float(min(lows)) >= float(max(highs)) * (1 - 1e-12)


@settings(max_examples=30)
@given(st.lists(grid_p, min_size=1, max_size=12), st.sampled_from([(2, 128), (1, 6)]))
def test_nesting_and_concave_value_in_budget(p, bounds):
    lo, hi = bounds
    M = len(p)
    prev, vals = None, []
    for B in range(M * lo, M * lo + 40):
        N = ks.allocate_greedy(p, B, lo, hi)
        if prev is not None:
            assert (N >= prev).all()
        prev = N
        vals.append(objective_py(N, p))
    d = np.diff(vals)
    assert (d >= -1e-15).all()
    assert (np.diff(d) <= 1e-14).all()


@settings(max_examples=40)
@given(st.lists(st.integers(1, 999), min_size=2, max_size=20, unique=True), st.integers(2, 12),
       st.randoms())
def test_permutation_equivariance(ks_int, nbar, rnd):
    p = np.array(ks_int) / 1000.0  # distinct rates: distinct marginals
    perm = list(range(p.size))
    rnd.shuffle(perm)
    perm = np.array(perm)
    B = p.size * nbar
    N = ks.allocate_greedy(p, B)
    Np = ks.allocate_greedy(p[perm], B)
    assert objective_py(Np, p[perm]) == pytest.approx(objective_py(N, p), abs=1e-12)
    # equal as vectors unless two marginal gains tie exactly
    if not np.array_equal(Np, N[perm]):
        pytest.skip("tie between marginal gains")  # pragma: no cover


@settings(max_examples=40)
@given(st.sampled_from([k / 16 for k in range(1, 16)]), st.integers(1, 30), st.integers(0, 200))
def test_equal_rates_equal_share(q, m, slack):
    N = ks.allocate_greedy([q] * m, 2 * m + slack)
    assert N.max() - N.min() <= 1


@settings(max_examples=30)
@given(st.lists(grid_p, min_size=1, max_size=30), st.sampled_from([0.5, 4.0, 1024.0, 3.0]))
def test_scale_invariance(p, c):
    B = 8 * len(p)
    base = ks.allocate_greedy(p, B)
    scaled = ks.allocate_greedy(p, B, weight=lambda x: c * x * (1 - x) ** 2)
    if c in (0.5, 4.0, 1024.0):  # powers of two: bit-identical gains
        assert scaled.tolist() == base.tolist()
    assert objective_py(scaled, p) == pytest.approx(objective_py(base, p), abs=1e-12)


@settings(max_examples=40)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40), st.integers(2, 16))
def test_dominates_uniform(p, nbar):
    N = ks.allocate_greedy(p, len(p) * nbar)
    assert objective_py(N, p) >= objective_py([nbar] * len(p), p) - 1e-12


# ---------------------------------------------------------------------------
# clean allocate(): fallback, caps, degenerate batches
# ---------------------------------------------------------------------------


@settings(max_examples=60)
@given(batch, st.lists(st.booleans(), min_size=64, max_size=64),
       st.sampled_from(ks.FALLBACKS), st.sampled_from(ks.FALLBACK_TRIGGERS))
def test_clean_allocate_conservation_and_bounds(inst, valid, fallback, trigger):
    p, nbar, (lo, hi) = inst
    lo = min(lo, nbar)
    hi = max(hi, lo)
    p = np.array(p)
    valid = np.array(valid[: p.size])
    prm = ks.KnapsackParams(n=nbar, n_low=lo, n_up=hi, fallback=fallback, fallback_trigger=trigger)
    N, info = ks.allocate(p, valid, prm)
    assert N.sum() + info["unspent"] == p.size * nbar
    assert info["unspent"] >= 0
    assert (N[~valid] == nbar).all()
    assert N[valid].min(initial=lo) >= lo and N[valid].max(initial=lo) <= hi
    if fallback != "none" and info["unspent"] > 0:
        # only possible when every valid uninformative prompt is at its cap
        assert (N[valid & ((p == 0) | (p == 1))] == hi).all()


@settings(max_examples=60)
@given(batch, st.lists(st.booleans(), min_size=64, max_size=64))
def test_reference_conservation(inst, valid):
    p, nbar, (lo, hi) = inst
    lo = min(lo, nbar)
    hi = max(hi, lo)
    p = np.array(p)
    valid = np.array(valid[: p.size])
    try:
        N, info = ks.allocate_reference(p, valid, n=nbar, min_n=lo, max_n=hi)
    except AssertionError:
        # the code's assertion fails only if every prompt is informative and the fallback fired
        eff = valid & (p > 0) & (p < 1)
        assert eff.all()
        return
    assert N.sum() == p.size * nbar
    assert (N[valid] >= lo).all()
    assert (N[~valid] >= nbar).all()


def test_reference_assertion_when_all_informative():
    # all p = 1/2, n = 8: C = 8 * floor(3.32) = 24 < R = 48, no candidate for the surplus
    with pytest.raises(AssertionError, match="Budget mismatch: expected 64, got 40"):
        ks.allocate_reference([0.5] * 8)
    N, info = ks.allocate([0.5] * 8)  # clean mode has no candidate either: reports unspent
    assert N.tolist() == [5] * 8 and info["unspent"] == 24 and info["fallback"] is True


def test_degenerate_batches():
    # all p in {0,1} with zeros: the surplus goes to the zero-rate prompts
    p = [0, 1, 0, 1, 1]
    N, _ = ks.allocate_reference(p)
    assert N.tolist() == [17, 2, 17, 2, 2]  # R = 40 - 10 = 30 split 15/15 over the two zeros
    Nc, info = ks.allocate(p)
    assert Nc.tolist() == [17, 2, 17, 2, 2] and info["unspent"] == 0
    # all p = 1: homogeneous
    assert ks.allocate_reference([1.0] * 6)[0].tolist() == [8] * 6
    assert ks.allocate([1.0] * 6)[0].tolist() == [8] * 6
    # all invalid: homogeneous
    inval = np.zeros(5, dtype=bool)
    assert ks.allocate_reference([0.3] * 5, inval)[0].tolist() == [8] * 5
    assert ks.allocate([0.3] * 5, inval)[0].tolist() == [8] * 5


def test_invalid_prompts_quirk_reference_only():
    p = [0.5, 0.0, 0.3, 1.0]
    valid = np.array([True, True, False, True])
    # R = 32 - (2 + 2 + 8 + 2) = 18, C = 3 < 18: surplus 15 over zero-rate prompts
    N, info = ks.allocate_reference(p, valid)
    # the invalid prompt counts as zero-rate in the code: 15 split 8/7 over indices 1, 2
    assert N.tolist() == [5, 10, 15, 2] and info["fallback"]
    Nc, _ = ks.allocate(p, valid)
    assert Nc.tolist() == [5, 17, 8, 2]  # clean: the invalid prompt keeps n = 8


def test_clean_fallback_cap_and_unspent():
    # one zero-rate prompt cannot absorb 30 surplus rollouts under cap 16
    prm = ks.KnapsackParams(n=8, n_low=2, n_up=16)
    N, info = ks.allocate([0.0, 1.0, 1.0, 1.0], params=prm)
    # R = 24: 14 fill the zero-rate prompt to its cap 16, the other 10 go 4/3/3 over the ones
    assert N.tolist() == [16, 6, 5, 5] and info["unspent"] == 0
    N, info = ks.allocate([0.0, 1.0], params=ks.KnapsackParams(n=8, n_low=2, n_up=6))
    assert N.tolist() == [6, 6] and info["unspent"] == 4
    N, info = ks.allocate([0.0, 1.0],
                          params=ks.KnapsackParams(n=8, n_low=2, n_up=6, fallback_cap=20))
    assert N.tolist() == [14, 2] and info["unspent"] == 0
    # uniform fallback: zeros and ones share the surplus
    N, _ = ks.allocate([1.0, 0.0, 1.0], params=ks.KnapsackParams(fallback="uniform"))
    assert N.tolist() == [8, 8, 8]
    # no fallback: the surplus stays unspent
    N, info = ks.allocate([1.0, 0.0, 0.5], params=ks.KnapsackParams(fallback="none", n_up=10))
    assert N.tolist() == [2, 2, 10] and info["unspent"] == 10


@pytest.mark.parametrize("N,p,clip",
                         [(8, 0.1, 2.0), (10, 0.05, 2.5), (12, 0.3, 1.5), (6, 0.9, 1.2)])
def test_expected_clipped_fraction_by_enumerating_outcomes(N, p, clip):
    # every one of the 2^N reward vectors, weighted by its probability
    total = 0.0
    for rewards in itertools.product((0, 1), repeat=N):
        r = np.array(rewards, dtype=float)
        k = int(r.sum())
        prob = p ** k * (1 - p) ** (N - k)
        if 0 < k < N:
            mean, std = r.mean(), r.std(ddof=1)
            adv = (r - mean) / (std + 1e-6)
            total += prob * np.mean(np.abs(adv) > clip)
    assert ks.expected_clipped_fraction(N, p, clip=clip) == pytest.approx(total, rel=1e-12,
                                                                          abs=1e-15)


def test_expected_clipped_fraction_worked_example():
    # k = 1 of 93 has A+ = 9.54 > 5 (docs/models/knapsack.md (14)), so some rollouts are
    # clipped at p = 0.01
    assert ks.expected_clipped_fraction(93, 0.01) > 0
    assert ks.expected_clipped_fraction(8, 0.1) == 0.0  # A+ <= sqrt(7) < 5 for N = 8


# ---------------------------------------------------------------------------
# parameter objects
# ---------------------------------------------------------------------------


def test_theory_functions_take_the_parameter_object():
    params = ks.KnapsackParams(alpha=0.5, weight="variance", n_low=3, n_up=12, budget=40)
    # alpha from the object: N_0.5(0.1) = ln(0.5) / ln(0.9), docs/models/knapsack.md (10)
    assert ks.coverage_budget(params, p=0.1) == pytest.approx(math.log(0.5) / math.log(0.9))
    assert ks.rollout_cost(params, p=0.1) == pytest.approx(math.log(0.5) / math.log(0.9))
    assert ks.info_gain(params, p=0.25) == pytest.approx(0.25 * 0.75)  # the variance weight
    assert ks.value(params, N=2, p=0.25) == pytest.approx(2 * 0.25 * 0.75 * 0.25 * 0.75)
    p = [0.05, 0.2, 0.5, 0.9]
    by_object = ks.allocate_greedy(params, p=p)
    assert by_object.tolist() == ks.allocate_greedy(p, 40, 3, 12, weight="variance").tolist()
    assert by_object.sum() == 40 and by_object.min() >= 3 and by_object.max() <= 12
    # keywords override the object; positional arguments after it are refused
    assert ks.coverage_budget(params, p=0.1, alpha=0.9) == pytest.approx(
        math.log(0.1) / math.log(0.9))
    with pytest.raises(TypeError, match="keyword"):
        ks.coverage_budget(params, 0.1)


def test_allocate_takes_the_simulated_scenario():
    scenario = ks.KnapsackSimParams(prompts=4, n=8, n_low=2, n_up=128)
    p = [0.05, 0.2, 0.5, 0.9]
    N, info = ks.allocate(p, params=scenario)
    # the clean golden of this batch at budget 32 (recomputed by hand): (10, 13, 7, 2)
    assert N.tolist() == [10, 13, 7, 2] and info["budget"] == 32


@pytest.mark.parametrize("kw,message", [
    (dict(prompts=0), r"^prompts must be an integer in \[1, inf\], got 0$"),
    (dict(n_low=9, n_up=4), r"^n_low must be <= n_up"),
    (dict(n=4, n_low=5), r"^n_low must be an integer in \[1, 4\], got 5$"),
    (dict(budget=100), r"^budget must be an integer in \[512, inf\], got 100$"),
    (dict(mixture=(1.0, -1.0, 0.5)), r"^mixture must be three non-negative weights"),
    (dict(beta_a=0.0), r"^beta_a must be in \(0, inf\], got 0$"),
    (dict(stale_sd=-0.1), r"^stale_sd must be in \[0, inf\], got -0.1$"),
])
def test_scenario_rejects_bad_values_in_one_line(kw, message):
    with pytest.raises(ValueError, match=message):
        ks.KnapsackSimParams(**kw)
