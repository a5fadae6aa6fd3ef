"""The unified cost convention (docs/costs.md (1)-(6))."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import cost as tc
from theory.cost import Prices, Usage

counts = st.floats(0, 1e7, allow_nan=False)
usages = st.builds(Usage, counts, counts, counts,
                   st.dictionaries(st.sampled_from(["search", "browse", "code"]),
                                   st.integers(0, 500), max_size=3))
prices = st.builds(Prices, st.floats(0, 20), st.floats(0.01, 80), st.floats(0, 5),
                   st.floats(0, 0.01), st.dictionaries(st.sampled_from(["browse", "code"]),
                                                       st.floats(0, 0.05), max_size=2))


@given(usages, usages, prices)
def test_the_unified_cost_is_additive_and_non_negative(a, b, p):
    ca, cb = a.cost(p), b.cost(p)
    assert ca >= 0 and cb >= 0
    assert (a + b).cost(p) == pytest.approx(ca + cb, rel=1e-12, abs=1e-15)


@given(usages, prices)
def test_with_free_calls_it_is_the_token_bill(u, p):
    free = Prices(p.input, p.output, p.cache, 0.0, tuple((n, 0.0) for n, _ in p.tools))
    assert u.cost(free) == pytest.approx(tc.token_bill(u.input, u.output, u.cache, free),
                                         rel=1e-12, abs=1e-15)


def test_prices_per_million_and_per_call():
    p = Prices(input=2.0, output=8.0, cache=0.5, call=0.001, tools={"browse": 0.002})
    assert tc.token_bill(1e6, 1e6, 1e6, p) == pytest.approx(10.5)
    assert tc.call_bill({"search": 8, "browse": 1}, p) == pytest.approx(0.010)
    assert tc.call_bill(3, p) == pytest.approx(0.003)
    assert tc.unified_cost(output=1000, calls={"search": 2}, prices=p) == pytest.approx(0.01)
    assert p.tool_price("browse") == 0.002 and p.tool_price("anything") == 0.001


def test_functions_take_a_usage_record():
    u = Usage(output=3000, calls={"search": 10})
    assert tc.unified_cost(u) == pytest.approx(0.022) and tc.token_bill(u) == pytest.approx(0.012)
    assert tc.unified_cost(Usage()) == 0.0 and tc.call_bill({}) == 0.0


def test_the_default_call_price_is_the_papers_average():
    assert tc.CALL_PRICE == 0.001 and tc.DEFAULT_PRICES.call == 0.001


def test_costs_broadcast_over_counts():
    c = tc.unified_cost(output=np.array([0, 1000, 2000]), calls=np.array([0, 1, 2]))
    assert c.shape == (3,) and np.all(np.diff(c) > 0)


@given(st.floats(0, 1e6), st.floats(0, 1000), st.sampled_from(tc.TOKEN_CLASSES))
def test_a_budget_converts_to_tokens_and_back(tokens, calls, kind):
    p = Prices(input=1.0, output=4.0, cache=0.25, call=0.001)
    cost = tc.budget_cost(tokens, calls, kind, p)
    assert tc.as_tokens(cost, kind, p) == pytest.approx(
        tokens + calls * p.call / p.per_token(kind), rel=1e-12, abs=1e-9)


def test_one_call_is_worth_250_output_tokens_at_the_defaults():
    assert tc.as_tokens(tc.call_bill(1)) == pytest.approx(250.0)


@pytest.mark.parametrize("fractions,regime", [
    (1.0, "HIGH"), (0.7, "HIGH"), (0.6999, "MEDIUM"), (0.3, "MEDIUM"), (0.2999, "LOW"),
    (0.1, "LOW"), (0.0999, "CRITICAL"), ([0.9, 0.0], "CRITICAL"), ([0.9, 0.5], "MEDIUM"),
])
def test_tracker_regime_boundaries(fractions, regime):
    assert tc.tracker_regime(fractions) == regime


@pytest.mark.parametrize("kw,match", [
    (dict(output=0.0), r"^output must be in \(0, inf\), got 0$"),
    (dict(call=-1.0), r"^call must be in \[0, inf\), got -1$"),
    (dict(tools={"browse": -0.1}), r"^price of browse must be in \[0, inf\), got -0\.1$"),
])
def test_price_errors_are_one_line(kw, match):
    with pytest.raises(ValueError, match=match):
        Prices(**kw)


def test_bad_counts_are_one_line():
    with pytest.raises(ValueError, match=r"^output must be in \[0, inf\], got -5$"):
        tc.unified_cost(output=-5)
    with pytest.raises(TypeError, match="prices must be a Prices"):
        tc.token_bill(1, prices={"output": 1})
