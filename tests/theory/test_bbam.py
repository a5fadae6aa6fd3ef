"""Tests of theory.bbam: invariants and reference vectors of docs/models/bbam.md (1)-(24).

Expected values come from printed reference vectors (outputs of the authors'
``allocate_tokens`` and the worked examples of docs/models/bbam.md, compared to
within half a unit of the last printed digit), from exact rational arithmetic
(``fractions.Fraction``) or from independent references written here: a
line-by-line port of the authors' ``allocate_tokens`` (with a stable
tie-break), scipy optimisers and root finders, ``scipy.integrate.quad`` and
brute-force enumeration.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special

from theory import bbam as M
from theory.bbam.kkt import _kkt_bisect

FAST = settings(max_examples=60, deadline=None)
MEDIUM = settings(max_examples=25, deadline=None)

schedules = st.sampled_from(M.SCHEDULES)
credit_lists = st.lists(st.integers(1, 100), min_size=1, max_size=10)
budgets = st.integers(0, 1000)
c_vals = st.floats(0.05, 20.0)
beta_vals = st.floats(0.3, 6.0)
budget_vals = st.floats(5.0, 5000.0)


def printed(text):
    """Value of a printed decimal and half a unit of its last digit (relative for e-notation)."""
    value = float(text)
    mantissa = text.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.split("e")[1]) if "e" in text else 0
    return value, 0.5 * 10.0 ** (exponent - decimals) * (1 + 1e-9)


def assert_printed(actual, text):
    value, tol = printed(text)
    assert abs(actual - value) <= tol, (f"{actual!r} differs from printed {text} by more "
                                        f"than {tol:g}")


def one_line_error(exc_type, match, func, *args, **kwargs):
    with pytest.raises(exc_type, match=match) as info:
        func(*args, **kwargs)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------

# The authors' schedules and allocator (inference/_5_planned_local_weighted_model.py
# at 7f75b44), ported line by line; the only change is kind="stable" (ties go to the
# earlier position, docs/models/bbam.md, "Known disagreements with the papers").


def constant_schedule(i, N):
    return 1.0


def linear_decay(i, N):
    return N - i


def polynomial_decay(i, N, power=2):
    return (N - i) ** power


def cosine_anneal(i, N):
    if N > 1:
        return 0.5 * (1 + np.cos(np.pi * i / (N - 1))) + 0.1
    else:
        return 1


def exponential_decay(i, N, base=0.9):
    return base**i


OFFICIAL = {"constant": constant_schedule, "linear": linear_decay,
            "polynomial": polynomial_decay, "exponential": exponential_decay,
            "cosine": cosine_anneal}


def official_allocate(credits, total_tokens, schedule_fn):
    N = len(credits)
    sched_weights = np.array([schedule_fn(i, N) for i in range(N)], dtype=float)
    combined = np.array(credits) * sched_weights
    combined /= combined.sum()
    tokens = np.floor(combined * total_tokens).astype(int)
    diff = total_tokens - tokens.sum()
    for i in np.argsort(-combined, kind="stable")[:diff]:
        tokens[i] += 1
    return tokens


def exact_shares(credits, f):
    """Shares w_j f_j / sum w_k f_k in exact rational arithmetic (f as the exact binary floats)."""
    g = [Fraction(c) * Fraction(float(x)) for c, x in zip(credits, f)]
    total = sum(g)
    return [x / total for x in g]


def exact_round(shares, budget, rule):
    """Rounding (12) (rule='paper') or largest remainder, exactly; ties to the earlier position."""
    exact = [budget * s for s in shares]
    b = [math.floor(x) for x in exact]
    r = budget - sum(b)
    key = shares if rule == "paper" else [x - math.floor(x) for x in exact]
    order = sorted(range(len(b)), key=lambda j: (-key[j], j))
    for j in order[:r]:
        b[j] += 1
    return b


def near_integer(shares, budget, tol=1e-9):
    return any(abs(budget * s - round(budget * s)) <= tol for s in shares)


def kkt_by_minimize(c, beta, budget):
    """Minimise sum c b^-beta over the simplex B * softmax(z) (independent of (4))."""
    c, beta = np.asarray(c, float), np.asarray(beta, float)
    m = c.size
    scale = float(np.sum(c * (budget / m) ** -beta))

    def f(z):
        w = special.softmax(z)
        return float(np.sum(c * (budget * w) ** -beta)) / scale

    res = optimize.minimize(f, np.zeros(m), method="BFGS", options={"gtol": 1e-10})
    best = res
    for start in np.eye(m) * 2.0:  # a few restarts guard against a poor local stop
        r = optimize.minimize(f, start, method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000})
        if r.fun < best.fun:
            best = r
    b = budget * special.softmax(best.x)
    return b, float(np.sum(c * b ** -beta))


def total_uncertainty(x, c, beta, u):
    """c x**-beta + u in Python floats, inf where it overflows (x = 0 included)."""
    try:
        return c * x**-beta + u
    except (OverflowError, ZeroDivisionError):
        return math.inf


def objective_direct(b, c, beta):
    return float(np.sum(np.asarray(c) * np.asarray(b, float) ** -np.asarray(beta, float)))


# ---------------------------------------------------------------------------
# uncertainty and utility, docs/models/bbam.md (1)-(3)
# ---------------------------------------------------------------------------


class TestUncertaintyUtility:
    def test_values(self):
        assert M.uncertainty(4.0, 2.0, 1.5, 0.1) == pytest.approx(2.0 / 8.0 + 0.1, rel=1e-15)
        assert M.utility(4.0, 2.0, 1.5, 0.1, alpha=3.0) == pytest.approx(3 * (1 - 0.35), rel=1e-15)
        assert M.uncertainty(0.0, 1.0, 1.0) == math.inf
        assert M.utility(0.0, 1.0, 1.0) == -math.inf
        out = M.uncertainty([1.0, 2.0], [[1.0], [2.0]], 1.0)
        np.testing.assert_allclose(out, [[1.0, 0.5], [2.0, 1.0]])

    @given(st.floats(0.5, 1e4), c_vals, beta_vals, st.floats(0, 0.5), st.floats(1.01, 3.0))
    @FAST
    def test_decreasing_in_budget(self, b, c, beta, u, k):
        assert M.uncertainty(k * b, c, beta) < M.uncertainty(b, c, beta)  # epistemic part
        assert M.uncertainty(k * b, c, beta, u) <= M.uncertainty(b, c, beta, u)
        assert M.utility(k * b, c, beta, u) >= M.utility(b, c, beta, u)

    def test_objective(self):
        b, c, beta = [100.0, 100.0, 100.0], [0.5, 0.3, 0.9], [1.0, 1.5, 2.5]
        assert_printed(M.objective(b, c, beta), "5.30900e-3")
        assert M.objective([1.0, 0.0], [1.0, 1.0], 1.0) == math.inf
        mask = np.array([True, True, False])
        assert M.objective([2.0, 4.0, 0.0], [1.0, 1.0, np.nan], 1.0, mask=mask) == 0.75
        np.testing.assert_allclose(M.objective([[1.0, 2.0], [2.0, 2.0]], 1.0, 1.0), [1.5, 1.0])

    @pytest.mark.parametrize("kwargs, match", [
        ({"c": 0.0}, "c must be in"), ({"beta": -1.0}, "beta must be in"),
        ({"b": -1.0}, "b must be in"), ({"u_ale": -0.1}, "u_ale must be in"),
        ({"c": np.inf}, "c must be in"), ({"c": np.nan}, "c must be in"),
    ])
    def test_validation(self, kwargs, match):
        args = {"b": 1.0, "c": 1.0, "beta": 1.0, "u_ale": 0.0} | kwargs
        one_line_error(ValueError, match, M.uncertainty, **args)


# ---------------------------------------------------------------------------
# Plan-and-Budget allocator, docs/models/bbam.md (10)-(12)
# ---------------------------------------------------------------------------

GOLDEN = {  # outputs of the authors' allocate_tokens
    ((20, 40, 40), 350): {"constant": [70, 140, 140], "linear": [117, 156, 77],
                          "polynomial": [166, 148, 36], "exponential": [79, 143, 128],
                          "cosine": [154, 168, 28]},
    ((20, 80), 200): {"constant": [40, 160], "linear": [66, 134], "polynomial": [100, 100],
                      "exponential": [43, 157], "cosine": [147, 53]},
    ((25, 25, 25, 25), 450): {"constant": [113, 113, 112, 112], "linear": [180, 135, 90, 45],
                              "polynomial": [240, 135, 60, 15],
                              "exponential": [131, 118, 106, 95],
                              "cosine": [207, 160, 65, 18]},
    ((10, 20, 30, 20, 20), 600): {"constant": [60, 120, 180, 120, 120],
                                  "linear": [108, 172, 193, 85, 42],
                                  "polynomial": [159, 205, 173, 51, 12],
                                  "exponential": [74, 135, 183, 110, 98],
                                  "cosine": [120, 209, 197, 53, 21]},
}
GOLDEN_CASES = [(cr, B, s, v) for (cr, B), row in GOLDEN.items() for s, v in row.items()]


class TestPlanAndBudget:
    @pytest.mark.parametrize("credits, budget, schedule, expected", GOLDEN_CASES)
    def test_golden_vectors(self, credits, budget, schedule, expected):
        b = M.allocate_plan_and_budget(list(credits), budget, schedule)
        assert b.dtype == np.int64
        assert b.tolist() == expected

    @pytest.mark.parametrize("schedule", M.SCHEDULES)
    def test_golden_vectors_vectorised_with_mask(self, schedule):
        # questions padded to 7 slots; the second copy scatters each question's
        # sub-questions over non-contiguous slots (positions count existing ones)
        keys = list(GOLDEN)
        credits = np.full((8, 7), -5.0)
        mask = np.zeros((8, 7), dtype=bool)
        budget = []
        for q, (cr, B) in enumerate(keys):
            credits[q, : len(cr)] = cr
            mask[q, : len(cr)] = True
            slots = [0, 2, 3, 5, 6][: len(cr)]
            credits[4 + q, slots] = cr
            mask[4 + q, slots] = True
            budget.append(B)
        b = M.allocate_plan_and_budget(credits, budget * 2, schedule, mask=mask)
        assert (b[~mask] == 0).all()
        for q, key in enumerate(keys * 2):
            assert b[q][mask[q]].tolist() == GOLDEN[key][schedule]
        b3 = M.allocate_plan_and_budget(credits.reshape(2, 4, 7), np.reshape(budget * 2, (2, 4)),
                                        schedule, mask=mask.reshape(2, 4, 7))
        np.testing.assert_array_equal(b3.reshape(8, 7), b)

    def test_d7_bound_is_attained(self):
        # rounding (12): B s = (3, 1.8, 1.2) but b = (4, 1, 1)
        s = M.plan_and_budget_shares([50, 30, 20])
        np.testing.assert_allclose(6 * s, [3.0, 1.8, 1.2], rtol=1e-15)
        b = M.allocate_plan_and_budget([50, 30, 20], 6)
        assert b.tolist() == [4, 1, 1]
        assert np.max(np.abs(b - 6 * s)) == pytest.approx(1.0, abs=1e-12)
        assert M.allocate_plan_and_budget([50, 30, 20], 6, rounding="largest_remainder").tolist() \
            == [3, 2, 1]

    @given(credit_lists, budgets, schedules)
    @settings(max_examples=150, deadline=None)
    def test_matches_official_code(self, credits, budget, schedule):
        expected = official_allocate(credits, budget, OFFICIAL[schedule])
        assert M.allocate_plan_and_budget(credits, budget, schedule).tolist() == expected.tolist()

    @given(st.integers(0, 2**32 - 1), schedules)
    @MEDIUM
    def test_vectorised_matches_official_per_question(self, seed, schedule):
        rng = np.random.default_rng(seed)
        n, slots = 30, 11
        credits = rng.integers(1, 101, (n, slots))
        mask = rng.random((n, slots)) < 0.6
        mask[np.arange(n), rng.integers(0, slots, n)] = True
        budget = rng.integers(0, 1001, n)
        b = M.allocate_plan_and_budget(np.where(mask, credits, 0), budget, schedule, mask=mask)
        for q in range(n):
            expected = official_allocate(credits[q][mask[q]].tolist(), int(budget[q]),
                                         OFFICIAL[schedule])
            assert b[q][mask[q]].tolist() == expected.tolist()
        assert (b[~mask] == 0).all()

    @pytest.mark.parametrize("width", [9, 12])
    @pytest.mark.parametrize("schedule, credits, budget", [
        ("cosine", [74, 34, 81, 38], 784), ("cosine", [9, 85, 31, 90], 646),
        ("cosine", [63, 98, 60, 52], 447), ("cosine", [30, 64, 4, 57], 126),
        ("exponential", [27, 24, 84, 100], 520), ("cosine", [1, 50, 94, 27], 144),
    ])
    def test_padding_keeps_the_code_float_sums(self, schedule, credits, budget, width):
        # Cases (found by search) where summing the weights over 9 or 12
        # zero-padded slots instead of the question's own m entries moves B*s
        # across an integer: a padded question must still match the official code.
        expected = official_allocate(credits, budget, OFFICIAL[schedule]).tolist()
        padded = np.zeros((2, width))
        padded[0, : len(credits)] = credits
        padded[1, 3 : 3 + len(credits)] = credits
        mask = padded > 0
        b = M.allocate_plan_and_budget(padded, budget, schedule, mask=mask)
        assert b[0][mask[0]].tolist() == expected and b[1][mask[1]].tolist() == expected

    @given(credit_lists, budgets, schedules)
    @FAST
    def test_conservation_closeness_order(self, credits, budget, schedule):
        b = M.allocate_plan_and_budget(credits, budget, schedule)
        s = M.plan_and_budget_shares(credits, schedule)
        assert b.dtype.kind == "i" and b.sum() == budget and (b >= 0).all()
        assert np.all(np.abs(b - budget * s) <= 1 + 1e-9)
        for j, k in itertools.permutations(range(len(credits)), 2):
            if s[j] > s[k]:
                assert b[j] >= b[k]

    @given(credit_lists, budgets, schedules, st.sampled_from(["paper", "largest_remainder"]))
    @FAST
    def test_against_exact_rational_rounding(self, credits, budget, schedule, rounding):
        f = M.schedule_weights(schedule, len(credits))
        shares = exact_shares(credits, f)
        expected = exact_round(shares, budget, rounding)
        b = M.allocate_plan_and_budget(credits, budget, schedule, rounding=rounding)
        if near_integer(shares, budget):
            assert np.all(np.abs(b - expected) <= 1) and b.sum() == budget
        else:
            assert b.tolist() == expected
        if rounding == "largest_remainder":
            assert np.all(np.abs(b - budget * np.array([float(x) for x in shares])) < 1 + 1e-9)

    @given(credit_lists, budgets, schedules, st.sampled_from([0.37, 3.0, 1e-3, 250.0]))
    @FAST
    def test_scale_invariance(self, credits, budget, schedule, k):
        shares = exact_shares(credits, M.schedule_weights(schedule, len(credits)))
        b = M.allocate_plan_and_budget(credits, budget, schedule)
        bk = M.allocate_plan_and_budget(np.array(credits) * k, budget, schedule)
        if near_integer(shares, budget):
            assert np.all(np.abs(b - bk) <= 1) and bk.sum() == budget
        else:
            np.testing.assert_array_equal(b, bk)
        # scaling the schedule by k: same shares in exact arithmetic
        scaled = exact_shares([Fraction(c) * Fraction(k) for c in credits],
                              M.schedule_weights(schedule, len(credits)))
        assert scaled == shares

    @given(budgets, schedules)
    @FAST
    def test_uniform_cases(self, budget, schedule):
        assert M.allocate_plan_and_budget([37], budget, schedule).tolist() == [budget]
        for m in range(2, 11):
            b = M.allocate_plan_and_budget([5] * m, budget, "constant")
            assert b.max() - b.min() <= 1

    @given(st.integers(1, 10), st.integers(1, 100), budgets, schedules)
    @FAST
    def test_front_loading(self, m, credit, budget, schedule):
        b = M.allocate_plan_and_budget([credit] * m, budget, schedule)
        assert np.all(np.diff(b) <= 0)

    @pytest.mark.parametrize("m", range(2, 11))
    def test_first_share_by_schedule(self, m):
        first = {s: M.plan_and_budget_shares([7] * m, s)[0] for s in M.SCHEDULES}
        assert first["polynomial"] >= first["linear"] >= first["constant"]
        assert first["polynomial"] == pytest.approx(6 * m / ((m + 1) * (2 * m + 1)), rel=1e-14)
        assert first["linear"] == pytest.approx(2 / (m + 1), rel=1e-14)
        assert first["constant"] == pytest.approx(1 / m, rel=1e-14)

    @given(credit_lists, st.integers(0, 9), st.integers(1, 50), budgets, schedules)
    @FAST
    def test_monotone_in_credit(self, credits, j, extra, budget, schedule):
        j = j % len(credits)
        raised = list(credits)
        raised[j] += extra
        before = M.allocate_plan_and_budget(credits, budget, schedule)[j]
        after = M.allocate_plan_and_budget(raised, budget, schedule)[j]
        assert after >= before - 1

    @given(credit_lists, st.integers(1, 5), st.integers(0, 400), schedules)
    @FAST
    def test_min_tokens(self, credits, floor, extra, schedule):
        m = len(credits)
        budget = floor * m + extra
        b = M.allocate_plan_and_budget(credits, budget, schedule, min_tokens=floor)
        assert b.sum() == budget and (b >= floor).all()
        rest = official_allocate(credits, extra, OFFICIAL[schedule])
        np.testing.assert_array_equal(b, rest + floor)

    def test_zero_budget_and_errors(self):
        assert M.allocate_plan_and_budget([3, 4], 0).tolist() == [0, 0]
        one_line_error(ValueError, "budget must be >= min_tokens", M.allocate_plan_and_budget,
                       [1, 2, 3], 5, min_tokens=2)
        one_line_error(ValueError, "schedule must be one of", M.allocate_plan_and_budget,
                       [1, 2], 10, "quadratic")
        one_line_error(ValueError, "rounding must be one of", M.allocate_plan_and_budget,
                       [1, 2], 10, rounding="nearest")
        one_line_error(TypeError, "budget must be an integer", M.allocate_plan_and_budget,
                       [1, 2], 10.0)
        one_line_error(ValueError, "budget must be an integer in", M.allocate_plan_and_budget,
                       [1, 2], -1)
        one_line_error(ValueError, "credits must be in", M.allocate_plan_and_budget, [1, 0], 10)
        one_line_error(ValueError, "credits must be an array with at least one",
                       M.allocate_plan_and_budget, [], 10)
        one_line_error(ValueError, "mask must keep at least one", M.allocate_plan_and_budget,
                       [[1, 2], [3, 4]], 10, mask=[[True, False], [False, False]])
        one_line_error(TypeError, "mask must be a boolean array", M.allocate_plan_and_budget,
                       [1, 2], 10, mask=[1, 0])
        one_line_error(ValueError, "budget must broadcast against", M.allocate_plan_and_budget,
                       [[1, 2], [3, 4]], [10, 20, 30])
        one_line_error(ValueError, "gamma must be in", M.allocate_plan_and_budget,
                       [1, 2], 10, "exponential", gamma=1.5)

    def test_schedule_weights(self):
        m = 5
        i = np.arange(m)
        np.testing.assert_array_equal(M.schedule_weights("constant", m), np.ones(m))
        np.testing.assert_array_equal(M.schedule_weights("linear", m), m - i)
        np.testing.assert_array_equal(M.schedule_weights("polynomial", m, p=3), (m - i) ** 3.0)
        np.testing.assert_allclose(M.schedule_weights("exponential", m, gamma=0.5), 0.5**i,
                                   rtol=1e-15)
        np.testing.assert_allclose(M.schedule_weights("cosine", m),
                                   [1.1, 0.5 + 0.5 / math.sqrt(2) + 0.1, 0.6,
                                    0.5 - 0.5 / math.sqrt(2) + 0.1, 0.1], rtol=1e-14)
        assert M.schedule_weights("cosine", m, offset=0.0)[-1] == 0.0  # the paper's plain form
        for name in M.SCHEDULES:
            assert M.schedule_weights(name, 1).tolist() == [1.0]
        one_line_error(ValueError, "m must be an integer in", M.schedule_weights, "linear", 0)

    @given(schedules, st.integers(1, 12), st.floats(0, 4), st.floats(0.05, 1.0),
           st.floats(0, 1))
    @FAST
    def test_schedules_non_increasing(self, name, m, p, gamma, offset):
        f = M.schedule_weights(name, m, p=p, gamma=gamma, offset=offset)
        assert f.shape == (m,) and (f >= 0).all() and np.all(np.diff(f) <= 0)

    def test_level_budget(self):
        assert M.LEVEL_BUDGET == {1: 200, 2: 250, 3: 350, 4: 450, 5: 600}
        assert M.level_budget(3) == 350 and isinstance(M.level_budget(3), int)
        assert M.level_budget([1, 2, 3, 4, 5]).tolist() == [200, 250, 350, 450, 600]
        # TravelPlanner easy/medium/hard -> levels 1/3/5
        assert M.level_budget([1, 3, 5]).tolist() == [200, 350, 600]
        one_line_error(ValueError, "level must be an integer in", M.level_budget, 6)


# ---------------------------------------------------------------------------
# allocation rules, docs/models/bbam.md (4)-(8)
# ---------------------------------------------------------------------------

HET_C, HET_BETA, HET_B = [0.5, 0.3, 0.9], [1.0, 1.5, 2.5], 300.0


def instance(seed, m_max=8):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, m_max + 1))
    c = 10 ** rng.uniform(-2, 1.5, m)
    beta = 10 ** rng.uniform(-0.5, 0.8, m)
    budget = float(10 ** rng.uniform(0.5, 4))
    return c, beta, budget


seeds = st.integers(0, 2**32 - 1)


class TestKKT:
    def test_heterogeneous_regression_vector(self):
        b = M.allocate_kkt(HET_C, HET_BETA, HET_B)
        for value, text in zip(b, ["201.3371", "66.8092", "31.8537"]):
            assert_printed(value, text)
        assert_printed(M.objective(b, HET_C, HET_BETA), "3.18993e-3")
        t2 = M.allocate_paper(HET_C, HET_BETA, HET_B)
        for value, text in zip(t2, ["78.7300", "80.8985", "140.3715"]):
            assert_printed(value, text)
        assert_printed(M.objective(t2, HET_C, HET_BETA), "6.76697e-3")
        assert_printed(M.uniform_value(HET_C, HET_BETA, HET_B), "5.30900e-3")
        # (5) about 2x worse than (4), ordering reversed, worse than uniform
        ratio = M.objective(t2, HET_C, HET_BETA) / M.objective(b, HET_C, HET_BETA)
        assert 2.0 < ratio < 2.2
        assert np.all(np.diff(b) < 0) and np.all(np.diff(t2) > 0)
        assert M.objective(t2, HET_C, HET_BETA) > M.uniform_value(HET_C, HET_BETA, HET_B)

    def test_nelder_mead_agrees_on_regression_vector(self):
        b, value = kkt_by_minimize(HET_C, HET_BETA, HET_B)
        np.testing.assert_allclose(M.allocate_kkt(HET_C, HET_BETA, HET_B), b, rtol=1e-4)
        assert M.objective(M.allocate_kkt(HET_C, HET_BETA, HET_B), HET_C, HET_BETA) \
            <= value * (1 + 1e-12)

    def test_equal_beta_regression_vector(self):
        for b in (M.allocate_kkt(HET_C, 1.0, HET_B), M.allocate_paper(HET_C, 1.0, HET_B)):
            for value, text in zip(b, ["96.2699", "74.5704", "129.1597"]):
                assert_printed(value, text)

    def test_closed_form_value_vector(self):
        c, beta, budget = [0.2, 0.7, 1.3, 0.4], 2.0, 500.0
        assert_printed(M.equal_beta_value(c, beta, budget), "1.438665e-4")
        assert_printed(M.objective(M.allocate_kkt(c, beta, budget), c, beta), "1.438665e-4")
        assert_printed(M.uniform_value(c, beta, budget), "1.66400e-4")

    @given(seeds)
    @FAST
    def test_feasibility_and_kkt_residual(self, seed):
        c, beta, budget = instance(seed)
        b = M.allocate_kkt(c, beta, budget)
        assert (b > 0).all()
        assert abs(b.sum() - budget) <= 1e-10 * budget
        marginal = beta * c * b ** (-beta - 1)
        np.testing.assert_allclose(marginal, marginal[0], rtol=1e-8)

    @given(seeds, st.integers(0, 2**32 - 1), st.sampled_from([1e-3, 1e-2, 0.2, 0.9]))
    @FAST
    def test_no_feasible_perturbation_improves(self, seed, seed2, size):
        c, beta, budget = instance(seed)
        assume(c.size > 1)
        b = M.allocate_kkt(c, beta, budget)
        d = np.random.default_rng(seed2).normal(size=c.size)
        d -= d.mean()
        d *= size * b.min() / np.abs(d).max()  # keeps b + d > 0 and sum(b + d) = B
        assert objective_direct(b + d, c, beta) >= objective_direct(b, c, beta) * (1 - 1e-13)

    @given(st.integers(0, 2**32 - 1))
    @settings(max_examples=12, deadline=None)
    def test_against_scipy_optimize(self, seed):
        c, beta, budget = instance(seed, m_max=4)
        b = M.allocate_kkt(c, beta, budget)
        ref, value = kkt_by_minimize(c, beta, budget)
        assert objective_direct(b, c, beta) <= value * (1 + 1e-10)
        np.testing.assert_allclose(b, ref, rtol=2e-3, atol=1e-6 * budget)

    @given(seeds)
    @FAST
    def test_never_worse_than_uniform_or_paper(self, seed):
        c, beta, budget = instance(seed)
        v = objective_direct(M.allocate_kkt(c, beta, budget), c, beta)
        assert v <= M.uniform_value(c, beta, budget) * (1 + 1e-12)
        assert v <= objective_direct(M.allocate_paper(c, beta, budget), c, beta) * (1 + 1e-12)

    @given(seeds)
    @FAST
    def test_equal_beta_agreement(self, seed):
        c, beta, budget = instance(seed)
        b1 = M.allocate_kkt(c, beta[0], budget)
        np.testing.assert_allclose(b1, M.allocate_paper(c, beta[0], budget), rtol=1e-10)
        e = 1.0 / (beta[0] + 1.0)
        np.testing.assert_allclose(b1 / b1[0], (c / c[0]) ** e, rtol=1e-10)
        np.testing.assert_allclose(M.equal_beta_value(c, beta[0], budget),
                                   objective_direct(b1, c, beta[0]), rtol=1e-10)

    @given(seeds, st.floats(0.01, 100.0), st.floats(0.1, 10.0))
    @FAST
    def test_homogeneity_equal_beta(self, seed, k, s):
        c, beta, budget = instance(seed)
        b = M.allocate_kkt(c, beta[0], budget)
        np.testing.assert_allclose(M.allocate_kkt(k * c, beta[0], budget), b, rtol=1e-10)
        np.testing.assert_allclose(M.allocate_kkt(c, beta[0], s * budget), s * b, rtol=1e-10)
        np.testing.assert_allclose(M.equal_beta_value(c, beta[0], s * budget),
                                   s ** -beta[0] * M.equal_beta_value(c, beta[0], budget),
                                   rtol=1e-10)

    @given(seeds, st.floats(0.01, 100.0))
    @FAST
    def test_scaling_c_with_heterogeneous_beta(self, seed, k):
        # Scaling every c by k scales the objective by k, so the exact optimum
        # (4) is unchanged for ANY exponents (lambda absorbs k); the paper's
        # Eq. (6) is unchanged only when the exponents are equal.
        c, beta, budget = instance(seed)
        np.testing.assert_allclose(M.allocate_kkt(k * c, beta, budget),
                                   M.allocate_kkt(c, beta, budget), rtol=1e-10)
        t2 = M.allocate_paper(k * c, beta, budget)
        weight = (k * c * beta) ** (1 / (beta + 1))
        np.testing.assert_allclose(t2, budget * weight / weight.sum(), rtol=1e-12)

    def test_scaling_c_changes_paper_allocation(self):
        t2 = M.allocate_paper(HET_C, HET_BETA, HET_B)
        t2k = M.allocate_paper(10 * np.array(HET_C), HET_BETA, HET_B)
        assert np.max(np.abs(t2k / t2 - 1)) > 0.05

    def test_limits(self):
        c = np.array([0.2, 0.7, 1.3, 0.4])
        b = M.allocate_kkt(c, 200.0, 500.0)
        np.testing.assert_allclose(b, 125.0, rtol=0.01)  # beta -> inf: uniform
        b = M.allocate_kkt(c, 1e-6, 500.0)
        np.testing.assert_allclose(b, 500.0 * c / c.sum(), rtol=1e-4)  # beta -> 0: prop. to c
        small = [M.allocate_kkt([x, 1.0, 1.0], [1.0, 2.0, 1.5], 100.0)[0]
                 for x in (1e-2, 1e-4, 1e-6, 1e-8)]
        # c_j -> 0: b_j -> 0, like c_j**(1/(beta_j+1)) = c_j**(1/2)
        assert np.all(np.diff(small) < 0) and small[-1] < 2e-3 * small[0]

    @given(st.lists(c_vals, min_size=1, max_size=8), beta_vals, budget_vals)
    @FAST
    def test_hoelder_bound(self, c, beta, budget):
        opt = M.equal_beta_value(c, beta, budget)
        uni = M.uniform_value(c, beta, budget)
        assert opt <= uni * (1 + 1e-12)
        assert M.equal_beta_value([c[0]] * len(c), beta, budget) == pytest.approx(
            M.uniform_value([c[0]] * len(c), beta, budget), rel=1e-12)
        np.testing.assert_allclose(uni, len(c) ** beta * budget ** -beta * sum(c), rtol=1e-12)

    @given(st.integers(0, 2**32 - 1))
    @MEDIUM
    def test_vectorised_matches_brentq_reference(self, seed):
        rng = np.random.default_rng(seed)
        n, slots = 40, 7
        c = 10 ** rng.uniform(-3, 2, (n, slots))
        beta = 10 ** rng.uniform(-1, 1.2, (n, slots))
        budget = 10 ** rng.uniform(0, 4, n)
        mask = rng.random((n, slots)) < 0.6
        mask[np.arange(n), rng.integers(0, slots, n)] = True
        b = M.allocate_kkt(np.where(mask, c, np.nan), beta, budget, mask=mask)
        assert (b[~mask] == 0).all()
        for q in range(n):
            ref = M.allocate_kkt_scipy(c[q][mask[q]], beta[q][mask[q]], budget[q])
            np.testing.assert_allclose(b[q][mask[q]], ref, rtol=1e-9)
        t2 = M.allocate_paper(c, beta, budget, mask=mask)
        assert (t2[~mask] == 0).all()
        np.testing.assert_allclose(t2.sum(axis=-1), budget, rtol=1e-12)

    def test_brentq_reference_against_optimizer(self):
        ref = M.allocate_kkt_scipy(HET_C, HET_BETA, HET_B)
        b, _ = kkt_by_minimize(HET_C, HET_BETA, HET_B)
        np.testing.assert_allclose(ref, b, rtol=1e-4)

    def test_large_batch_and_broadcasting(self):
        rng = np.random.default_rng(7)
        n, m = 20_000, 8  # several blocks of the solver
        c = 10 ** rng.uniform(-3, 3, (n, m))
        beta = 10 ** rng.uniform(-1, 2, (n, m))
        budget = 10 ** rng.uniform(0, 5, n)
        b = M.allocate_kkt(c, beta, budget)
        np.testing.assert_allclose(b.sum(axis=-1), budget, rtol=1e-12)
        log_marginal = np.log(beta * c) - (beta + 1) * np.log(b)
        assert np.max(np.abs(log_marginal - log_marginal[:, :1])) < 1e-8
        # leading axes and budget broadcasting
        b3 = M.allocate_kkt(c[:12].reshape(3, 4, m), beta[:12].reshape(3, 4, m),
                            budget[:12].reshape(3, 4))
        np.testing.assert_allclose(b3.reshape(12, m), b[:12], rtol=1e-12)
        grid = M.allocate_kkt(HET_C, HET_BETA, [[100.0], [300.0]])
        assert grid.shape == (2, 1, 3)
        np.testing.assert_allclose(grid[1, 0], M.allocate_kkt(HET_C, HET_BETA, 300.0), rtol=1e-13)

    def test_bisection_fallback(self):
        rng = np.random.default_rng(11)
        c = 10 ** rng.uniform(-2, 2, (50, 6))
        beta = 10 ** rng.uniform(-1, 1, (50, 6))
        budget = 10 ** rng.uniform(0, 4, 50)
        mask = rng.random((50, 6)) < 0.7
        mask[:, 0] = True
        e = 1.0 / (beta + 1.0)
        big_l = np.log(beta * c)
        v = np.where(mask, big_l - np.log(budget)[:, None] / e, -np.inf)
        t = _kkt_bisect(big_l, e * mask, mask.astype(float), np.log(budget), v.max(axis=-1),
                          1e-14)
        b = np.exp(e * (big_l - t[:, None])) * mask
        for q in range(50):
            ref = M.allocate_kkt_scipy(c[q][mask[q]], beta[q][mask[q]], budget[q])
            np.testing.assert_allclose(b[q][mask[q]], ref, rtol=1e-11)

    def test_single_subquestion_and_uniform(self):
        assert M.allocate_kkt([0.3], [2.0], 123.0).tolist() == [123.0]
        np.testing.assert_array_equal(M.allocate_uniform(300.0, 3), [100.0, 100.0, 100.0])
        np.testing.assert_array_equal(M.allocate_uniform(300.0, m=3), [100.0, 100.0, 100.0])
        out = M.allocate_uniform([300.0, 600.0], np.array([[True, True, False], [True] * 3]))
        np.testing.assert_array_equal(out, [[150.0, 150.0, 0.0], [200.0, 200.0, 200.0]])
        assert M.allocate_uniform([10.0, 20.0], 2).shape == (2, 2)

    @pytest.mark.parametrize("func", [M.allocate_kkt, M.allocate_paper])
    def test_validation(self, func):
        one_line_error(ValueError, "c must be in", func, [1.0, -1.0], 1.0, 10.0)
        one_line_error(ValueError, "beta must be in", func, [1.0, 1.0], 0.0, 10.0)
        one_line_error(ValueError, "budget must be in", func, [1.0, 1.0], 1.0, 0.0)
        one_line_error(ValueError, "beta must broadcast against c", func, [1.0, 1.0],
                       [1.0, 2.0, 3.0], 10.0)
        one_line_error(ValueError, "c must be an array with at least one", func, [], 1.0, 1.0)
        one_line_error(TypeError, "c must be a real number", func, ["a", "b"], 1.0, 1.0)
        one_line_error(ValueError, "mask must keep", func, [1.0, 1.0], 1.0, 1.0,
                       mask=[False, False])

    def test_other_validation(self):
        one_line_error(ValueError, "tol must be in", M.allocate_kkt, [1.0], 1.0, 1.0, tol=0.0)
        one_line_error(ValueError, "beta must be common", M.equal_beta_value, HET_C, HET_BETA, 1.0)
        assert M.equal_beta_value([[1.0, 2.0], [1.0, 9.0]], [[1.0], [2.0]], 1.0).shape == (2,)
        one_line_error(ValueError, "c must be one question", M.allocate_kkt_scipy,
                       [[1.0, 2.0]], 1.0, 1.0)
        one_line_error(ValueError, "give either mask or m", M.allocate_uniform, 1.0, [True], m=1)
        one_line_error(ValueError, "m must be an integer in", M.allocate_uniform, 1.0, 0)


# ---------------------------------------------------------------------------
# the Lambert-W peak (8) and the bridge identity (13)
# ---------------------------------------------------------------------------


class TestBetaStar:
    @pytest.mark.parametrize("c, text", [(0.5, "6.36193"), (2.0, "2.15957"), (5.0, "1.22767"),
                                         (20.0, "0.64327")])
    def test_table(self, c, text):
        assert_printed(M.beta_star(c), text)

    @given(st.floats(0.05, 50.0), st.floats(1e-3, 10.0))
    @FAST
    def test_argmax_on_dense_grid(self, c, lam):
        star = M.beta_star(c, lam)
        grid = np.exp(np.linspace(math.log(star) - 3, math.log(star) + 3, 20001))
        weight = np.log(c * grid / lam) / (grid + 1)
        best = grid[np.argmax(weight)]
        assert abs(math.log(best / star)) <= 6 / 20000 * 1.01
        # first-order condition ln(c b / lam) = 1 + 1/b, solved by brentq
        root = optimize.brentq(lambda x: math.log(c * x / lam) - 1 - 1 / x, 1e-6, 1e6,
                               xtol=1e-14)
        assert star == pytest.approx(root, rel=1e-10)

    @given(st.floats(1e-3, 1e3))
    @FAST
    def test_threshold_e_squared(self, c):
        assume(abs(c - math.e**2) > 1e-9)
        assert (M.beta_star(c) > 1) == (c < math.e**2)
        if c <= 1:
            assert M.beta_star(c) >= 1 / special.lambertw(1 / math.e).real - 1e-12
        assert 1 / special.lambertw(1 / math.e).real == pytest.approx(3.5911214766686, rel=1e-12)

    def test_exact_multiplier_moves_the_peak_below_one(self):
        # equal c, beta >= 1, B = 300: (4) gives fewer tokens to larger beta,
        # (5) (peak near 3.59 for c = 1) gives more
        beta = np.array([1.0, 2.0, 3.0])
        b = M.allocate_kkt([1.0, 1.0, 1.0], beta, 300.0)
        assert np.all(np.diff(b) < 0)
        assert np.all(np.diff(M.allocate_paper([1.0, 1.0, 1.0], beta, 300.0)) > 0)
        lam = beta[0] * 1.0 * b[0] ** (-beta[0] - 1)
        assert 1.0 / lam >= math.e**2 and M.beta_star(1.0, lam) < 1
        # b ~ 100 with beta = 1 gives c / lambda ~ 1e4
        assert 1.0 / (1.0 * 100.0**-2) == pytest.approx(1e4)


class TestBridge:
    @given(st.integers(1, 10), schedules, beta_vals, st.floats(0.01, 100.0),
           st.integers(0, 2**32 - 1), budget_vals)
    @FAST
    def test_schedule_is_bbam_optimum_under_implied_prior(self, m, schedule, beta, kappa, seed,
                                                          budget):
        w = np.random.default_rng(seed).integers(1, 101, m).astype(float)
        f = M.schedule_weights(schedule, m)
        real = budget * M.plan_and_budget_shares(w, schedule)
        c = M.bridge_prior(w, f, beta, kappa)
        np.testing.assert_allclose(np.atleast_1d(c), kappa * (w * f) ** (beta + 1), rtol=1e-14)
        np.testing.assert_allclose(M.allocate_paper(c, beta, budget), real, rtol=1e-10)
        np.testing.assert_allclose(M.allocate_kkt(c, beta, budget), real, rtol=1e-9)


# ---------------------------------------------------------------------------
# 7.3 E3
# ---------------------------------------------------------------------------

# accuracy in percent: 0, or at least 1e-6 (A**2 of a subnormal A underflows to 0)
scores_pct = st.one_of(st.just(0.0), st.floats(1e-6, 100.0))
tokens_mean = st.floats(1.0, 1e5)


class TestE3:
    @given(scores_pct, tokens_mean, st.floats(0.01, 1.0), st.floats(0.01, 100.0))
    @FAST
    def test_scaling_sign_and_monotonicity(self, A, T, s, k):
        value = M.e3(A, T)
        assert value >= 0 and (value == 0) == (A == 0)
        assert M.e3(s * A, T) == pytest.approx(s * s * value, rel=1e-12, abs=1e-300)
        assert M.e3(A, k * T) == pytest.approx(value / k, rel=1e-12, abs=1e-300)
        if 0 < A < 99:
            assert M.e3(A + 1, T) > value and M.e3(A, T * 1.01) < value

    @given(st.floats(1.0, 100.0), tokens_mean, st.floats(1.0, 100.0), tokens_mean)
    @FAST
    def test_ratio_identity(self, A, T, A_new, T_new):
        ratio = M.e3_ratio_identity(A, T, A_new, T_new)
        assert ratio == pytest.approx(M.e3(A_new, T_new) / M.e3(A, T), rel=1e-12)
        assert M.e3_relative_change(M.e3(A, T), M.e3(A_new, T_new)) == pytest.approx(
            ratio - 1, rel=1e-9, abs=1e-12)

    def test_elasticities(self):
        A, T, h = 60.0, 800.0, 1e-6
        dA = (math.log(M.e3(A * (1 + h), T)) - math.log(M.e3(A * (1 - h), T))) / (2 * h)
        dT = (math.log(M.e3(A, T * (1 + h))) - math.log(M.e3(A, T * (1 - h)))) / (2 * h)
        assert dA == pytest.approx(2.0, rel=1e-6) and dT == pytest.approx(-1.0, rel=1e-6)
        # a 1% accuracy loss is offset by a ~2% token cut
        assert M.e3(0.99 * A, T * 0.99**2) == pytest.approx(M.e3(A, T), rel=1e-12)
        assert 1 - 0.99**2 == pytest.approx(0.02, abs=1e-4)

    def test_headline_reproductions(self):
        # v3 "+193.8%": 0.47/0.16 - 1 = 1.9375 exactly (printed rounded half up)
        assert M.e3_relative_change(0.16, 0.47) == pytest.approx(1.9375, abs=1e-12)
        assert abs(100 * M.e3_relative_change(0.16, 0.47) - 193.8) <= 0.05 + 1e-9
        # v1 "+187.5%": 0.46/0.16 - 1 = 1.875
        assert M.e3_relative_change(0.16, 0.46) == pytest.approx(1.875, abs=1e-12)
        assert abs(100 * M.e3_relative_change(0.16, 0.46) - 187.5) <= 1e-9
        # reviewer's 5.26 -> 5.92: 0.1255 (12.55%)
        assert abs(M.e3_relative_change(5.26, 5.92) - 0.1255) <= 0.00005
        # +70% accuracy and -39% tokens together would give +374%
        assert round(100 * (M.e3_ratio_identity(50, 1000, 85, 610) - 1)) == 374

    def test_paper_table(self):
        changes = M.paper_relative_changes()
        assert len(changes) == len(M.PAPER_E3) == 5
        for row, change in zip(M.PAPER_E3, changes):
            assert set(row) >= {"task", "model", "old", "new", "stated_change"}
            assert change == pytest.approx(100 * (row["new"] / row["old"] - 1), rel=1e-12)
            assert abs(change - row["stated_change"]) <= 0.1  # stated from rounded E3
        assert [round(x, 2) for x in changes] == [29.45, 20.38, 12.55, 22.75, 193.75]

    def test_implied_tokens(self):
        for A, value, T in [(90, 5.89, 1375), (95, 15.95, 566), (92, 5.92, 1430)]:
            assert A**2 / value == pytest.approx(T, abs=0.5)
            assert M.e3(A, A**2 / value) == pytest.approx(value, rel=1e-12)

    @given(st.lists(st.tuples(st.floats(0, 1), st.integers(1, 5000)), min_size=1, max_size=60))
    @FAST
    def test_from_scores_matches_results_header(self, items):
        scores = np.array([s for s, _ in items])
        tokens = np.array([t for _, t in items], dtype=float)
        score = 100 * scores.mean()  # the official results header
        avg_tokens = tokens.sum() / len(tokens)
        score_over_avg_tokens = score / avg_tokens
        assert M.e3_from_scores(scores, tokens) == pytest.approx(
            score * score_over_avg_tokens, rel=1e-12, abs=1e-300)

    @given(st.integers(1, 200), st.integers(0, 200), tokens_mean)
    @FAST
    def test_dataset_means_not_per_query(self, n, k, T):
        k = min(k, n)
        scores = np.r_[np.ones(k), np.zeros(n - k)]
        p = k / n
        tokens = np.full(n, T)
        dataset = M.e3_from_scores(scores, tokens)
        per_query = np.mean([M.e3(100 * s, T) for s in scores])
        assert dataset == pytest.approx(1e4 * p * p / T, rel=1e-12, abs=1e-300)
        assert per_query == pytest.approx(1e4 * p / T, rel=1e-12, abs=1e-300)
        assert per_query >= dataset * (1 - 1e-12)
        assert (abs(per_query - dataset) <= 1e-9 * per_query) == (k in (0, n))

    def test_from_scores_batches_and_validation(self):
        out = M.e3_from_scores([[1, 0], [1, 1]], [[100, 300], [200, 200]])
        np.testing.assert_allclose(out, [50.0**2 / 200, 100.0**2 / 200])
        one_line_error(ValueError, "scores must be in", M.e3_from_scores, [1.5], [10])
        one_line_error(ValueError, "tokens must have a positive mean", M.e3_from_scores, [1], [0])
        one_line_error(ValueError, "A must be in", M.e3, 101.0, 10.0)
        one_line_error(ValueError, "T must be in", M.e3, 50.0, 0.0)


# ---------------------------------------------------------------------------
# sub-question outcomes
# ---------------------------------------------------------------------------


class TestOutcomes:
    @given(st.floats(0.0, 1e4), st.floats(0.01, 50.0), st.floats(0.2, 4.0),
           st.floats(0.0, 0.9))
    @FAST
    def test_expected_tokens_against_quad(self, b, c, beta, u):
        x0 = (c / (1 - u)) ** (1 / beta)

        def integrand(s):  # min(1, U(x)) dx with x = e**s
            x = math.exp(s)
            return min(1.0, total_uncertainty(x, c, beta, u)) * x

        ref = 0.0
        if b > 0:
            # flat part on [0, min(b, x0)], then the power law on a log scale
            ref = min(b, x0)
            if b > x0:
                ref += integrate.quad(integrand, math.log(x0), math.log(b), limit=200,
                                      epsabs=1e-13, epsrel=1e-12)[0]
        value = M.expected_tokens(b, c, beta, u)
        assert value == pytest.approx(ref, rel=1e-8, abs=1e-9)
        assert 0 <= value <= b * (1 + 1e-15)

    @pytest.mark.parametrize("beta", [1.0, 1.0 + 1e-12, 1.0 - 1e-9, 0.5, 2.0])
    def test_expected_tokens_near_beta_one(self, beta):
        b, c, u = 500.0, 3.0, 0.1
        x0 = (c / (1 - u)) ** (1 / beta)
        ref = integrate.quad(lambda x: c * x**-beta + u, x0, b, epsabs=0, epsrel=1e-13)[0] + x0
        assert M.expected_tokens(b, c, beta, u) == pytest.approx(ref, rel=1e-11)

    def test_expected_tokens_edges(self):
        assert M.expected_tokens(0.0, 1.0, 1.0) == 0.0
        assert M.expected_tokens(0.5, 1.0, 1.0) == 0.5  # b below x0 = 1
        assert M.expected_tokens(50.0, 1.0, 1.0, 1.0) == 50.0  # never solved
        assert M.expected_tokens(50.0, 1.0, 1.0, 2.0) == 50.0
        # beta = 1, u = 0: x0 = c and E = c (1 + ln(b / c))
        assert M.expected_tokens(100.0, 0.5, 1.0) == pytest.approx(0.5 * (1 + math.log(200)),
                                                                   rel=1e-14)
        out = M.expected_tokens([[1.0], [100.0]], [0.5, 2.0], 1.5)
        assert out.shape == (2, 2)

    @given(st.floats(0.0, 1e4), st.floats(0.01, 50.0), st.floats(0.2, 4.0),
           st.floats(0.0, 1.5))
    @FAST
    def test_solve_probability(self, b, c, beta, u):
        p = M.solve_probability(b, c, beta, u)
        expected = 1 - min(1.0, total_uncertainty(b, c, beta, u))
        assert p == pytest.approx(expected, abs=1e-15)
        assert 0 <= p <= max(0.0, 1 - u) + 1e-15
        assert M.solve_probability(2 * b + 1, c, beta, u) >= p

    @given(st.lists(st.floats(0, 1), min_size=1, max_size=7), st.sampled_from(M.SYNTHESIS_RULES))
    @FAST
    def test_synthesis_against_enumeration(self, p, rule):
        m = len(p)
        total = 0.0
        for outcome in itertools.product((0, 1), repeat=m):
            prob = math.prod(pj if o else 1 - pj for pj, o in zip(p, outcome))
            k = sum(outcome)
            ok = {"all": k == m, "any": k >= 1, "majority": 2 * k > m}[rule]
            total += prob * ok
        assert M.synthesis_probability(p, rule) == pytest.approx(total, abs=1e-13)

    @given(st.integers(0, 2**32 - 1), st.sampled_from(M.SYNTHESIS_RULES))
    @FAST
    def test_synthesis_with_mask(self, seed, rule):
        rng = np.random.default_rng(seed)
        p = rng.random((6, 5))
        mask = rng.random((6, 5)) < 0.6
        mask[:, 2] = True
        out = M.synthesis_probability(np.where(mask, p, np.nan), rule, mask=mask)
        for q in range(6):
            assert out[q] == pytest.approx(M.synthesis_probability(p[q][mask[q]], rule),
                                           abs=1e-14)

    def test_synthesis_values_and_validation(self):
        assert M.synthesis_probability([0.5, 0.6, 0.7], "majority") == pytest.approx(0.65)
        assert M.synthesis_probability([0.5, 0.5], "majority") == pytest.approx(0.25)
        assert M.synthesis_probability([0.5, 0.5], "any") == pytest.approx(0.75)
        one_line_error(ValueError, "p must be in", M.synthesis_probability, [1.2])
        one_line_error(ValueError, "rule must be one of", M.synthesis_probability, [0.2], "vote")


def test_conjugate_closed_forms_against_scipy_distributions():
    from scipy import stats

    # Pareto(M, k + b) posterior variance
    for scale, k, b in [(1.0, 3.0, 10), (2.5, 0.5, 100), (1.2, 4.0, 1)]:
        want = stats.pareto(k + b, scale=scale).var()
        assert M.pareto_posterior_variance(scale, k, b) == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="k \\+ b must be > 2"):
        M.pareto_posterior_variance(1.0, 1.0, 0.5)
    # normal-normal posterior variance by direct precision addition
    assert M.normal_bayes_risk(0, 2.0, 1.0) == pytest.approx(2.0)
    assert M.normal_bayes_risk(4, 1.0, 2.0) == pytest.approx(1.0 / (1.0 + 2.0))
    # E3 bias: Var(A_hat) * 1e4 / T exactly when T is fixed
    assert M.e3_estimator_bias(0.3, 10, 100.0) == pytest.approx(1e4 * 0.21 / 1000.0)


# ---------------------------------------------------------------------------
# the parameter class and functions that take it
# ---------------------------------------------------------------------------


class TestParams:
    def test_defaults_and_checks(self):
        p = M.BbamParams()
        assert p.m_counts == M.MATH500_M_COUNTS and p.max_subquestions == 7
        assert sum(k * n for k, n in enumerate(M.MATH500_M_COUNTS, 1)) / 500 == 3.71
        one_line_error(ValueError, "budget must be in", M.BbamParams, budget=-1.0)
        one_line_error(ValueError, "u_ale_max must be in", M.BbamParams, u_ale_max=1.0)
        one_line_error(ValueError, "m_counts must have a positive total", M.BbamParams,
                       m_counts=(0, 0))
        one_line_error(ValueError, "min_tokens must be an integer in", M.BbamParams,
                       min_tokens=-1)
        one_line_error(TypeError, "carry_over must be True or False", M.BbamParams,
                       carry_over=1)
        with pytest.raises(AttributeError):
            p.budget = 3.0  # frozen

    def test_allocation_rules_take_the_budget_from_params(self):
        p = M.BbamParams(budget=300.0)
        for rule in (M.allocate_kkt, M.allocate_paper):
            np.testing.assert_array_equal(rule(p, c=HET_C, beta=HET_BETA),
                                          rule(HET_C, HET_BETA, 300.0))
        np.testing.assert_array_equal(M.allocate_uniform(p, m=3), [100.0, 100.0, 100.0])
        assert M.equal_beta_value(p, c=HET_C, beta=2.0) == M.equal_beta_value(HET_C, 2.0, 300.0)
        # a keyword overrides the parameter object
        np.testing.assert_array_equal(M.allocate_kkt(p, c=HET_C, beta=HET_BETA, budget=200.0),
                                      M.allocate_kkt(HET_C, HET_BETA, 200.0))
        with pytest.raises(TypeError, match="pass the other arguments by keyword"):
            M.allocate_kkt(p, HET_C, HET_BETA)

    def test_plan_and_budget_takes_rounding_and_floor_from_params(self):
        # credits [50, 30, 20], B = 6, constant schedule: B s = (3, 1.8, 1.2); the authors'
        # rounding gives (4, 1, 1), largest remainder (3, 2, 1)
        paper = M.BbamParams(rounding="paper")
        lr = M.BbamParams(rounding="largest_remainder")
        assert M.allocate_plan_and_budget(paper, credits=[50, 30, 20], budget=6).tolist() == [
            4, 1, 1]
        assert M.allocate_plan_and_budget(lr, credits=[50, 30, 20], budget=6).tolist() == [
            3, 2, 1]
        floor = M.BbamParams(min_tokens=2)
        assert M.allocate_plan_and_budget(floor, credits=[90, 5, 5], budget=9).tolist() == [
            5, 2, 2]
        # the parameter class holds a real budget; the integer one must be given
        one_line_error(TypeError, "budget must be an integer", M.allocate_plan_and_budget,
                       paper, credits=[50, 30, 20])
