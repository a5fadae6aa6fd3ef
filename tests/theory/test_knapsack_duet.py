"""DUET's allocation, stop rule and weights (theory.knapsack.duet).

Equation numbers refer to docs/models/knapsack.md, section "DUET: a token budget".
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.knapsack import duet as du

# the reference example of docs/models/knapsack.md, section "DUET: a token budget"
P9 = np.array([0.05, 0.2, 0.5, 0.5, 0.8, 0.95])
L9 = np.array([800.0, 600.0, 400.0, 500.0, 300.0, 200.0])
S9 = np.sqrt(P9 * (1 - P9))


def test_reference_example_table():
    n, lam = du.neyman_allocation(S9, L9, 4 * L9.sum())
    assert np.allclose(n, [1.83, 3.88, 5.94, 5.31, 5.49, 3.66], atol=0.006)
    assert du.neyman_gain(S9, L9) == pytest.approx(0.868, abs=5e-4)
    # the unclipped optimum reaches the gain; spends the budget exactly (23)
    assert float(n @ L9) == pytest.approx(4 * L9.sum())
    assert du.variance_ratio(n, S9, L9, 4 * L9.sum()) == pytest.approx(du.neyman_gain(S9, L9))
    assert lam == pytest.approx((np.sum(S9 * np.sqrt(L9)) / (4 * L9.sum())) ** 2)


positive = st.floats(0.01, 1.0)
lengths = st.floats(10.0, 5000.0)


@given(st.lists(st.tuples(positive, lengths), min_size=1, max_size=30))
def test_cauchy_schwarz_gain_at_most_one(rows):
    s, L = np.array(rows).T
    assert du.neyman_gain(s, L) <= 1 + 1e-12


@given(st.lists(lengths, min_size=1, max_size=30), st.floats(0.01, 10.0))
def test_gain_is_one_iff_sigma_proportional_to_sqrt_length(L, c):
    L = np.array(L)
    assert du.neyman_gain(c * np.sqrt(L), L) == pytest.approx(1.0, rel=1e-12)
    if L.size > 1 and L.max() > 1.5 * L.min():
        assert du.neyman_gain(c * L, L) < 1 - 1e-6


@given(st.lists(st.tuples(st.floats(0.0, 1.0), lengths), min_size=2, max_size=25),
       st.floats(0.1, 50.0), st.integers(1, 3), st.integers(0, 40))
def test_allocation_fits_the_budget_within_its_clip_range(rows, per_prompt, n_min, extra):
    s, L = np.array(rows).T
    n_max = n_min + extra
    B = max(per_prompt * L.sum(), n_min * L.sum())
    for method in du.MULTIPLIERS:
        n, cap, info = du.duet_allocate(s, L, B, n_min=n_min, n_max=n_max, multiplier=method)
        assert n.dtype == np.int64 and n.min() >= n_min and n.max() <= n_max
        assert cap.min() >= 32 and cap.max() <= 4096
        assert float(n @ L) <= B * (1 + 1e-12)
        assert info["tokens"] == pytest.approx(float(n @ L))


@given(st.lists(st.tuples(st.floats(0.0, 1.0), lengths), min_size=2, max_size=25),
       st.floats(0.5, 30.0))
def test_phi_is_non_increasing_in_the_multiplier(rows, per_prompt):
    s, L = np.array(rows).T
    lams = np.geomspace(1e-9, 1e-1, 60)
    phi = [float(du.rollouts_at(lam, s, L) @ L) for lam in lams]
    assert all(a >= b for a, b in zip(phi, phi[1:]))


@given(st.lists(st.tuples(st.floats(0.05, 1.0), lengths), min_size=2, max_size=25),
       st.floats(0.5, 30.0))
def test_exact_multiplier_is_the_smallest_that_fits(rows, per_prompt):
    s, L = np.array(rows).T
    B = max(per_prompt, 1.0) * L.sum()
    lam = du.duet_multiplier(s, L, B)
    n = du.rollouts_at(lam, s, L)
    assert float(n @ L) <= B * (1 + 1e-12)
    assert np.array_equal(n, du.duet_allocate(s, L, B)[0])
    # a multiplier 1e-9 smaller adds a rollout somewhere and overspends, unless all are at 32
    smaller = du.rollouts_at(lam * (1 - 1e-9), s, L)
    assert float(smaller @ L) > B or np.array_equal(smaller, n) or n.min() == 32


@given(st.lists(st.tuples(st.floats(0.2, 1.0), st.floats(50.0, 500.0)), min_size=2,
                max_size=20), st.floats(10.0, 20.0))
def test_without_clipping_the_multiplier_recovers_the_closed_form(rows, per_prompt):
    s, L = np.array(rows).T
    B = per_prompt * L.sum()
    n_star, lam_star = du.neyman_allocation(s, L, B)
    lam = du.duet_multiplier(s, L, B, n_min=1, n_max=10**6)
    # rounding moves Phi by at most sum(L)/2, the last step by max(L): (24) against (23)
    bound = (0.5 * L.sum() + L.max()) / B
    assert abs(math.sqrt(lam_star / lam) - 1) <= bound + 1e-12


def test_bisection_reproduces_the_authors_midpoint_and_trim():
    # ten midpoint steps on log lambda in [-20, 20], by hand
    c = S9 / np.sqrt(L9)
    lo, hi = -20.0, 20.0
    for _ in range(10):
        mid = (lo + hi) / 2
        n = np.clip(np.rint(c / math.sqrt(math.exp(mid))), 1, 32)
        lo, hi = (mid, hi) if n @ L9 > 4 * L9.sum() else (lo, mid)
    assert du.duet_multiplier(S9, L9, 4 * L9.sum(), multiplier="bisection") == pytest.approx(
        math.exp((lo + hi) / 2))
    n, _, info = du.duet_allocate(S9, L9, 4 * L9.sum(), multiplier="bisection")
    assert float(n @ L9) <= 4 * L9.sum()


def test_length_cap_is_the_prompts_token_share():
    lam = 1.8e-5
    n_real = S9 / np.sqrt(lam * L9)
    cap = du.length_caps(lam, S9, L9)
    assert np.array_equal(cap, np.clip(np.rint(n_real * L9), 32, 4096))


def test_infeasible_budget_is_one_line():
    with pytest.raises(ValueError, match=r"token_budget must be at least n_min \* sum\(L\)"):
        du.duet_allocate(S9, L9, 100.0)
    with pytest.raises(ValueError, match="L must be in"):
        du.duet_allocate(S9, -L9, 1e6)


def test_surrogate_fit_and_running_means():
    f = np.linspace(-3, -0.5, 40)
    a0, a1 = du.fit_surrogate(f, 0.4 + 0.1 * f, ridge=0.0)
    assert a0 == pytest.approx(0.4) and a1 == pytest.approx(0.1)
    a0r, a1r = du.fit_surrogate(f, 0.4 + 0.1 * f, ridge=10.0)
    assert abs(a1r) < 0.1  # the ridge shrinks the slope
    assert du.surrogate(-10.0, 0.4, 0.1, sigma_min=0.05) == 0.05
    x = np.array([[0.3, np.nan], [0.5, 0.2], [np.nan, 0.4]])
    mean, count = np.zeros(2), np.zeros(2, dtype=int)
    for row in x:
        mean, count = du.running_update(mean, count, row)
    assert np.allclose(mean, np.nanmean(x, axis=0)) and list(count) == [2, 2]
    s = du.informativeness(mean, count, prior=[9.0, 9.0], k_warmup=2, sigma_min=0.35)
    assert np.allclose(s, [0.4, 0.35])
    assert np.allclose(du.informativeness(mean, count, prior=[9.0, 7.0], k_warmup=3), [9, 7])


def test_stop_thresholds_spread_by_rank():
    th = du.stop_thresholds(S9, L9)
    rate = S9**2 / L9
    assert th.min() == 0.5 and th.max() == 0.99
    assert np.array_equal(np.argsort(th, kind="stable"), np.argsort(rate, kind="stable"))
    assert du.stop_thresholds([0.3], [100.0]).tolist() == [pytest.approx(0.745)]


@given(st.lists(st.floats(1, 4000), min_size=0, max_size=200), st.integers(300, 8000))
def test_marker_windows_keep_their_gap(lengths, max_response):
    k1, k2 = du.marker_windows(lengths, max_response)
    assert k2 >= k1 + 50 or len(lengths) < 32
    if len(lengths) < 32:
        assert (k1, k2) == (int(0.3 * max_response), int(0.7 * max_response))
    else:
        assert k1 >= 32


def test_stop_and_abort_rule_by_hand():
    k1, k2 = 300, 700  # checkpoint K2 + grace = 850
    m = np.array([100, 250, 410, 845, 900, 900, 120, 849])
    e = np.array([400, 260, 900, 1000, 1200, 1200, 130, 1000])
    kept = np.array([False, False, False, False, False, True, False, False])
    length, aborted, lottery = du.stop_length(m, e, kept, k1, k2)
    # 100: seen at 304 (>= K1, >= 200, multiple of 8), stop at 309
    # 250: ends naturally at 260 before it is looked for
    # 410: seen at 416, stop at 421; 845: seen at 848, stop at 853
    # 900: no marker at 850: aborted there, or kept (lottery) to its natural end
    # 120: ends at 130; 849: the next look would be 856, the final look at 850 sees it -> 855
    assert length.tolist() == [309, 260, 421, 853, 850, 1200, 130, 855]
    assert aborted.tolist() == [False, False, False, False, True, False, False, False]
    assert lottery.tolist() == [False, False, False, False, False, True, False, False]


def test_weights():
    n = np.array([1, 2, 4, 8, 20, 40])
    pp = du.propensities(n)
    assert pp.min() >= 0.05 and pp.max() == 1.0
    assert np.allclose(du.propensities(n, propensity="unclamped"), n / n.mean())
    w = du.snips_weights(pp, np.array([True] * 6), eps_abort=0.05)
    assert w.max() <= 1000 and np.allclose(w, np.minimum(1 / pp / 0.05, 1000))
    assert du.snips_weights(0.01, True, eps_abort=0.01) == 1000.0


def test_parameter_object_and_one_line_errors():
    p = du.DuetParams(n_max=8)
    n = du.rollouts_at(p, lam=1e-6, s=S9, L=L9)
    assert n.max() == 8
    for kw, msg in [(dict(n_min=0), "n_min must be an integer in"),
                    (dict(n_max=0), "n_max must be an integer in [1, inf]"),
                    (dict(budget_frac=0), "budget_frac must be in (0, 1]"),
                    (dict(multiplier="newton"), "multiplier must be one of"),
                    (dict(ceiling=0.2), "ceiling must be in [0.5, 1]")]:
        with pytest.raises(ValueError, match=msg.replace("[", r"\[").replace("(", r"\(")):
            du.DuetParams(**kw)


@given(st.lists(st.tuples(st.integers(1, 32), st.integers(10, 3000)), min_size=1, max_size=20),
       st.floats(0.1, 1.0))
def test_trim_equals_the_authors_loop(rows, share):
    from theory.knapsack.duet import _trim

    n, L = (np.array(c, dtype=float) for c in zip(*rows))
    n = n.astype(np.int64)
    B = share * float(n @ L)
    loop = n.copy()
    while float(loop @ L) > B:  # the authors' loop: the longest prompt above n_min loses one
        best, best_len = -1, -1.0
        for i in range(loop.size):
            if loop[i] > 1 and L[i] > best_len:
                best, best_len = i, L[i]
        if best < 0:
            break
        loop[best] -= 1
    assert np.array_equal(_trim(n, L, B, 1), loop)
