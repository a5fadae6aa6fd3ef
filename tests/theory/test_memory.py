"""The tier-choice knapsack against brute force, its bounds, and the routing theory.

Equation numbers refer to docs/models/memory.md.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import memory as th

# --- small instances and the brute force they are checked against --------------------------


@st.composite
def instances(draw, max_modules=4, max_tiers=4, max_cost=6, minus_inf=True):
    m = draw(st.integers(1, max_modules))
    T = draw(st.integers(1, max_tiers))
    cost = np.array(draw(st.lists(st.integers(0, max_cost), min_size=m * T, max_size=m * T)))
    vals = draw(st.lists(st.integers(-20, 20), min_size=m * T, max_size=m * T))
    value = np.array(vals, dtype=float).reshape(m, T) / 4
    if minus_inf and draw(st.booleans()):
        value[draw(st.integers(0, m - 1)), draw(st.integers(0, T - 1))] = -np.inf
    cost = cost.reshape(m, T)
    budget = int(cost.min(axis=1).sum()) + draw(st.integers(0, 2 * max_cost))
    return cost, value, budget


def brute(cost, value, budget, valid=None):
    """The best total value within the budget by trying every choice (-inf if only -inf fits)."""
    m, T = cost.shape
    best = None
    for combo in itertools.product(range(T), repeat=m):
        if valid is not None and not all(valid[i, t] for i, t in enumerate(combo)):
            continue
        c = sum(cost[i, t] for i, t in enumerate(combo))
        v = sum(value[i, t] for i, t in enumerate(combo))
        if c <= budget and (best is None or v > best):
            best = v
    return best


@settings(max_examples=300)
@given(instances())
def test_dp_reaches_the_brute_force_optimum(inst):
    cost, value, budget = inst
    tiers = th.solve_dp(cost, value, budget)
    c, v = th.pipeline_value(cost, value, tiers)
    assert c <= budget
    best = brute(cost, value, budget)
    assert v == best or math.isclose(v, best, rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=300)
@given(instances(minus_inf=False))
def test_greedy_lies_between_its_bounds(inst):
    # (3)-(5): greedy <= optimum <= relaxation, and the certified gap is at most the
    # fractional increment's value, itself at most one module's spread of values
    cost, value, budget = inst
    g = th.solve_greedy(cost, value, budget)
    best = brute(cost, value, budget)
    assert g.cost <= budget
    assert g.value <= best + 1e-12
    assert best <= g.lp_value + 1e-12
    assert g.gap == pytest.approx(g.lp_value - g.value, abs=1e-12)
    assert best - g.value <= g.gap + 1e-12
    assert g.gap <= g.gap_bound + 1e-12
    spread = max(float(value[i].max() - value[i].min()) for i in range(value.shape[0]))
    assert g.gap_bound <= spread + 1e-12 and g.max_range == pytest.approx(spread)


@settings(max_examples=200)
@given(instances(minus_inf=False), st.lists(st.floats(0, 5), min_size=1, max_size=5))
def test_dual_bounds_every_choice_and_meets_the_relaxation(inst, prices):
    # (6): L(price) >= relaxation >= optimum at every price, equality at the relaxation's price
    cost, value, budget = inst
    lp = th.solve_lp(cost, value, budget)
    best = brute(cost, value, budget)
    for lam in prices:
        assert th.lagrangian_bound(cost, value, budget, lam) >= lp.value - 1e-9
    assert th.lagrangian_bound(cost, value, budget, lp.price) == pytest.approx(lp.value,
                                                                               abs=1e-9)
    assert lp.value >= best - 1e-12
    assert 0 <= lp.theta < 1


@settings(max_examples=100)
@given(instances(minus_inf=False))
def test_relaxation_is_the_linear_program(inst):
    # (3) against scipy's linear program over x[i, t] >= 0, sum_t x[i, t] = 1
    from scipy.optimize import linprog

    cost, value, budget = inst
    m, T = cost.shape
    eq = np.kron(np.eye(m), np.ones(T))
    res = linprog(-value.ravel(), A_ub=cost.reshape(1, -1).astype(float), b_ub=[budget],
                  A_eq=eq, b_eq=np.ones(m), bounds=(0, None), method="highs")
    assert res.status == 0
    assert th.solve_lp(cost, value, budget).value == pytest.approx(-res.fun, abs=1e-7)


def test_dp_for_many_budgets_and_instances_equals_one_at_a_time():
    gen = np.random.default_rng(4)
    cost = gen.integers(0, 5, (3, 4))
    value = gen.normal(size=(6, 3, 4))
    budgets = [int(cost.min(axis=1).sum()) + k for k in (0, 3, 7)]
    many = th.solve_dp(cost, value, budgets)
    assert many.shape == (6, 3, 3)
    for s in range(6):
        for j, b in enumerate(budgets):
            assert np.array_equal(many[s, j], th.solve_dp(cost, value[s], b))


def test_dp_honours_the_offered_tiers():
    cost = np.array([[0, 1, 5], [0, 2, 3]])
    value = np.array([[0.0, 1.0, 9.0], [0.0, 1.0, 2.0]])
    valid = np.array([[True, True, False], [True, True, True]])
    for b in range(0, 9):
        t = th.solve_dp(cost, value, b, valid)
        assert valid[0, t[0]]
        assert th.pipeline_value(cost, value, t)[1] == brute(cost, value, b, valid)
    g = th.solve_greedy(cost, value, 8, valid)
    assert valid[0, g.tiers[0]]


def test_ties_keep_the_cheaper_tier():
    cost = np.array([[0, 2, 3]])
    value = np.array([[1.0, 1.0, 1.0]])
    assert th.solve_dp(cost, value, 3).tolist() == [0]


def test_upper_hull_by_hand():
    # tier 1 is dominated (dearer, worse), tier 2 lies under the chord from 0 to 3
    cost = [0, 2, 2, 4, 6]
    value = [0.0, 1.0, 0.5, 1.5, 4.0]
    assert th.upper_hull(cost, value).tolist() == [0, 4]
    assert th.upper_hull([0, 1, 3], [0.0, 2.0, 3.0]).tolist() == [0, 1, 2]
    # all -inf: the cheapest tier alone
    assert th.upper_hull([3, 1], [-np.inf, -np.inf]).tolist() == [1]


def test_greedy_by_hand_and_its_loss():
    # two modules, tiers cost 0/3/5; budget 6 buys one +3 step, the DP does better with 5 + 0
    cost = np.array([[0, 3, 5], [0, 3, 5]])
    value = np.array([[0.0, 1.0, 2.6], [0.0, 1.0, 2.6]])
    g = th.solve_greedy(cost, value, 6)
    best = brute(cost, value, 6)
    assert best == pytest.approx(3.6 - 1.0)  # 5 + 0 ... or 3 + 3 = 2.0
    assert g.value <= best and best <= g.lp_value
    costs, values, prices = th.frontier(cost, value)
    assert costs[0] == 0 and values[-1] == pytest.approx(5.2) and np.all(np.diff(prices) <= 0)


def test_only_minus_inf_fits():
    cost = np.array([[0, 5], [0, 1]])
    value = np.array([[-np.inf, 1.0], [0.0, 1.0]])
    g = th.solve_greedy(cost, value, 1)
    assert g.value == -np.inf and g.cost <= 1
    t = th.solve_dp(cost, value, 1)
    assert th.pipeline_value(cost, value, t)[0] <= 1


@pytest.mark.parametrize("bad, match", [
    (dict(cost=[[1, 2]], value=[[0.0, 1.0]], budget=0), "budget must be >= the cheapest"),
    (dict(cost=[[1, -2]], value=[[0.0, 1.0]], budget=4), "cost must be >= 0"),
    (dict(cost=[[1, 2]], value=[[0.0, np.nan]], budget=4), "value must be finite"),
    (dict(cost=[[1, 2]], value=[[0.0, 1.0, 2.0]], budget=4), "value must have the cost's"),
    (dict(cost=[[1.5, 2]], value=[[0.0, 1.0]], budget=4), "cost must be integers"),
    (dict(cost=[[1, 2]], value=[[0.0, 1.0]], budget=3.5), "budget must be an integer"),
])
def test_bad_instances_are_one_line_errors(bad, match):
    with pytest.raises(ValueError, match=match) as exc:
        th.solve_dp(**bad)
    assert "\n" not in str(exc.value)


# --- the pipeline: params and routing ------------------------------------------------------


def test_params_defaults_and_derived():
    p = th.MemoryParams()
    assert (p.modules, p.costs, p.tiers, p.min_budget, p.max_budget) == (5, (0, 1, 5), 3, 0, 25)
    assert p.budgets == tuple(range(26))
    assert th.MemoryParams(budget=7).budgets == (7,)


@pytest.mark.parametrize("kw, match", [
    (dict(modules=0), r"modules must be an integer in \[1, 12\], got 0"),
    (dict(modules=13), r"modules must be an integer in \[1, 12\], got 13"),
    (dict(costs=(0, -1, 2)), r"costs\[1\] must be an integer in \[0, inf\], got -1"),
    (dict(costs=(0,)), "costs must have between 2 and 8 tiers"),
    (dict(easy=(0.9, 1.2, 0.99)), r"easy\[1\] must be in \[0, 1\], got 1.2"),
    (dict(hard=(0.3, 0.6)), r"hard must have one value per tier \(3\), got 2"),
    (dict(signal=0.4), r"signal must be in \[0.5, 1\], got 0.4"),
    (dict(hard_share=-0.1), r"hard_share must be in \[0, 1\], got -0.1"),
    (dict(costs=(1, 2, 5), budget=4), r"budget must be an integer in \[5, inf\], got 4"),
])
def test_params_errors_name_the_parameter(kw, match):
    with pytest.raises(ValueError, match=match):
        th.MemoryParams(**kw)


def test_posterior_by_hand():
    # h = 0.3, r = 0.85: P(read hard) = 0.255 + 0.105 = 0.36; P(hard | read hard) = 0.255 / 0.36
    assert th.read_probability(0.3, 0.85) == pytest.approx(0.36)
    q = th.hard_posterior(0.3, 0.85)
    assert q[1] == pytest.approx(0.255 / 0.36) and q[0] == pytest.approx(0.045 / 0.64)
    # no information: the posterior is the prior
    assert np.allclose(th.hard_posterior(0.3, 0.5), 0.3)
    assert np.allclose(th.hard_posterior(0.3, 1.0), [0.0, 1.0])


def _acc(p, table, signal=None):
    return th.routed_accuracy(table, p.easy, p.hard, p.hard_share,
                              p.signal if signal is None else signal)


def test_routed_accuracy_by_brute_force_over_queries():
    # (12): the collapsed sum equals the sum over every true difficulty and read
    p = th.MemoryParams(modules=3, budget=3)
    table = th.route(p)
    h, r = p.hard_share, p.signal
    succ = np.stack([p.easy, p.hard], axis=1)
    total = 0.0
    for hard in itertools.product((0, 1), repeat=3):
        for read in itertools.product((0, 1), repeat=3):
            prob = np.prod([(h if x else 1 - h) * (r if y == x else 1 - r)
                            for x, y in zip(hard, read)])
            k = sum(y << i for i, y in enumerate(read))
            total += prob * np.prod([succ[table[k, i], hard[i]] for i in range(3)])
    assert _acc(p, table) == pytest.approx(total, rel=1e-12)


@settings(max_examples=40)
@given(st.integers(1, 5), st.floats(0.0, 1.0), st.floats(0.5, 1.0), st.integers(0, 25))
def test_information_orders_the_policies(modules, h, r, budget):
    # oracle >= exact router >= greedy router, exact router >= best fixed tiers, at every budget
    p = th.MemoryParams(modules=modules, hard_share=h, signal=r, budget=budget)
    router = _acc(p, th.route(p))
    greedy = _acc(p, th.route(p, solver="greedy"))
    oracle = _acc(p, th.route(p, signal=1.0), signal=1.0)
    fixed = th.fixed_accuracy(th.fixed_tiers(p), p.easy, p.hard, p.hard_share)
    assert greedy <= router + 1e-12
    assert fixed <= router + 1e-12
    assert router <= oracle + 1e-12
    for table in (th.route(p), th.route(p, solver="greedy")):
        assert np.all(np.asarray(p.costs)[table].sum(axis=1) <= budget)


@pytest.mark.parametrize("budget", [0, 3, 7, 12, 25])
def test_an_uninformed_router_is_worth_the_fixed_tiers(budget):
    p = th.MemoryParams(signal=0.5, budget=budget)
    fixed = th.fixed_accuracy(th.fixed_tiers(p), p.easy, p.hard, p.hard_share)
    assert _acc(p, th.route(p)) == pytest.approx(fixed, rel=1e-12)


def test_fixed_table_equals_fixed_accuracy():
    p = th.MemoryParams()
    for tiers in itertools.product(range(3), repeat=5):
        table = th.fixed_table(tiers)
        assert _acc(p, table) == pytest.approx(th.fixed_accuracy(tiers, p.easy, p.hard,
                                                                 p.hard_share), rel=1e-12)
        assert th.routed_cost(table, p.costs, p.hard_share, p.signal) == pytest.approx(
            sum(p.costs[t] for t in tiers))


def test_fixed_tiers_are_the_brute_force_best():
    p = th.MemoryParams(modules=4)
    a = th.population_success(p)
    for b in range(0, 21):
        best = max(float(np.prod(a[list(t)])) for t in itertools.product(range(3), repeat=4)
                    if sum(p.costs[x] for x in t) <= b)
        got = th.fixed_accuracy(th.fixed_tiers(p, budget=b), p.easy, p.hard, p.hard_share)
        assert got == pytest.approx(best, rel=1e-12)


def test_default_frontier_facts():
    # the defaults' story, from the exact sums: routing gains most mid-budget, the greedy
    # router loses where its next whole upgrade does not fit, everything meets at the ends
    p = th.MemoryParams()
    gains, losses = [], []
    for b in p.budgets:
        q = th.MemoryParams(budget=b)
        r = _acc(q, th.route(q))
        gains.append(r - th.fixed_accuracy(th.fixed_tiers(q), q.easy, q.hard, q.hard_share))
        losses.append(r - _acc(q, th.route(q, solver="greedy")))
    assert gains[0] == pytest.approx(0) and gains[-1] == pytest.approx(0)
    assert max(gains) > 0.1 and min(gains) >= -1e-12
    assert max(losses) > 0.05 and sum(x > 1e-12 for x in losses) >= 5


# --- the authors' reward -----------------------------------------------------------------


@settings(max_examples=100)
@given(st.lists(st.floats(0, 1e6), min_size=0, max_size=50), st.floats(0, 1e7),
       st.floats(0, 1e7))
def test_normalized_cost_is_in_unit_interval_and_monotone(window, c1, c2):
    a, b = sorted((c1, c2))
    na, nb = th.normalized_cost(a, window), th.normalized_cost(b, window)
    assert 0.0 <= na <= nb <= 1.0
    assert th.cost_efficiency(a, window) == pytest.approx(1 - na)


def test_normalized_cost_by_hand():
    # sqrt of the window 0, 1, 4, ..., 100 is 0..10: P5 = 0.5, P95 = 9.5
    window = [k * k for k in range(11)]
    assert th.normalized_cost(25.0, window) == pytest.approx((5 - 0.5) / 9)
    assert th.normalized_cost(0.0, window) == 0.0 and th.normalized_cost(1e4, window) == 1.0
    # a window of equal costs: P5 = P95, repaired as P5 = 0.9 P95
    assert th.normalized_cost(16.0, [16.0] * 5) == 1.0
    assert th.normalized_cost(3.6**2, [16.0] * 5) == pytest.approx(0.0)
    assert th.normalized_cost(3.8**2, [16.0] * 5) == pytest.approx(0.5)
    # all zero: P95 repaired to 1
    assert th.normalized_cost(0.25, [0.0, 0.0]) == pytest.approx(0.5)


def test_router_reward_weights():
    window = [k * k for k in range(11)]
    assert th.router_reward(0.7, 25.0, window) == pytest.approx(0.7)
    assert th.router_reward(0.7, 25.0, window, 1.0, 0.5) == pytest.approx(
        0.7 + 0.5 * (1 - 4.5 / 9))
    with pytest.raises(ValueError, match="f1 must be in"):
        th.router_reward(1.5, 1.0, window)


def test_theory_functions_take_the_params_object():
    p = th.MemoryParams()
    assert np.allclose(th.population_success(p), [0.72, 0.852, 0.963])
    assert th.read_probability(p) == pytest.approx(0.36)
    assert th.route(p, budget=5).shape == (32, 5)
