"""Symbolic identities of the memory model, docs/models/memory.md (3), (5), (6), (8), (9), (11),
(12), (14).

The sympy derivations in :mod:`theory.symbolic.memory` are checked against closed forms typed
here from docs/models/memory.md, and :mod:`theory.memory` (floating point) against exact values
of the derivations.
"""

import itertools

import numpy as np
import pytest
import sympy as sp

from theory import memory as num
from theory.symbolic import memory as sym

Q = sp.Rational
H, R = sym.H, sym.R


def zero(expr):
    return sp.simplify(expr) == 0


def test_read_probability_and_posterior_closed_forms():
    assert zero(sym.read_probability() - (H * R + (1 - H) * (1 - R)))
    assert zero(sym.hard_posterior(True) - H * R / (H * R + (1 - H) * (1 - R)))
    assert zero(sym.hard_posterior(False) - H * (1 - R) / (H * (1 - R) + (1 - H) * R))
    # no information: the posterior is the prior; a perfect read: 0 or 1
    assert zero(sym.hard_posterior(True, r=Q(1, 2)) - H)
    assert sym.hard_posterior(True, Q(3, 10), 1) == 1
    assert sym.hard_posterior(False, Q(3, 10), 1) == 0


@pytest.mark.parametrize("h, r", [(Q(3, 10), Q(17, 20)), (Q(1, 2), Q(1, 2)), (Q(1, 7), Q(9, 10))])
def test_numeric_posterior_matches_the_derivation(h, r):
    q = num.hard_posterior(float(h), float(r))
    assert q[0] == pytest.approx(float(sym.hard_posterior(False, h, r)), rel=1e-14)
    assert q[1] == pytest.approx(float(sym.hard_posterior(True, h, r)), rel=1e-14)
    assert num.read_probability(float(h), float(r)) == pytest.approx(
        float(sym.read_probability(h, r)), rel=1e-14)


def _tables(m, tiers):
    reads = list(itertools.product((False, True), repeat=m))
    for rows in itertools.product(itertools.product(range(tiers), repeat=m), repeat=len(reads)):
        yield dict(zip(reads, rows))


def test_routed_accuracy_collapses():
    # (12) for every eleventh routing table of two modules with two tiers (24 of 256)
    for k, table in enumerate(_tables(2, 2)):
        if k % 11 == 0:
            full = sym.routed_accuracy_full(table, 2)
            assert sp.expand(full - sym.routed_accuracy_collapsed(table, 2)) == 0


@pytest.mark.slow
def test_routed_accuracy_collapses_for_every_table():
    # (12) for all 256 tables
    for table in _tables(2, 2):
        full = sym.routed_accuracy_full(table, 2)
        assert sp.expand(full - sym.routed_accuracy_collapsed(table, 2)) == 0


def test_fixed_accuracy_is_a_product():
    # (11) for every fixed choice of three modules with three tiers
    for chosen in itertools.product(range(3), repeat=3):
        assert zero(sym.fixed_accuracy_expectation(chosen, 3)
                    - sym.fixed_accuracy_product(chosen, 3))


def test_numeric_routed_accuracy_equals_the_exact_sum():
    easy, hard = [Q(9, 10), Q(99, 100)], [Q(3, 10), Q(9, 10)]
    h, r = Q(3, 10), Q(17, 20)
    table = {read: (1, 0) if read[0] and not read[1] else (0, 1)
             for read in itertools.product((False, True), repeat=2)}
    e0, d0, e1, d1 = sp.symbols("e0 d0 e1 d1", nonnegative=True)
    exact = sym.routed_accuracy_full(table, 2, h, r).subs(
        {e0: easy[0], e1: easy[1], d0: hard[0], d1: hard[1]})
    arr = np.empty((4, 2), dtype=np.int64)
    for read, tiers in table.items():
        arr[sum(int(x) << i for i, x in enumerate(read))] = tiers
    got = num.routed_accuracy(arr, [float(x) for x in easy], [float(x) for x in hard],
                              float(h), float(r))
    assert got == pytest.approx(float(exact), rel=1e-14)


def test_relaxation_equals_the_dual_at_the_indifference_price():
    lp, dual, price, excess = sym.lp_fractional()
    va, ca, vb, cb, B, C = sp.symbols("v_a c_a v_b c_b B C", real=True)
    assert zero(lp - dual)
    assert zero(price - (vb - va) / (cb - ca))
    assert zero(excess - (B - C - ca) / (cb - ca) * (vb - va))
    # theta in [0, 1) makes the excess at most the whole increment (5)
    theta = sp.Symbol("theta", nonnegative=True)
    assert zero((excess - (vb - va)).subs(B, C + ca + theta * (cb - ca)) - (theta - 1) * (vb - va))


def test_numeric_relaxation_matches_the_symbolic_one():
    # two modules; the first upgrade (value 1 for 1) is bought whole, the second in part
    cost = np.array([[0, 1, 0], [0, 4, 0]])
    value = np.array([[0.0, 1.0, -np.inf], [0.0, 2.0, -np.inf]])
    lp = num.solve_lp(cost, value, 3)
    sym_lp, _, sym_price, _ = sym.lp_fractional()
    vals = dict(zip(sp.symbols("V C v_a c_a v_b c_b B", real=True), (1, 1, 0, 0, 2, 4, 3)))
    assert lp.value == pytest.approx(float(sym_lp.subs(vals)))
    assert lp.price == pytest.approx(float(sym_price.subs(vals)))
    assert lp.fractional == 1 and lp.theta == pytest.approx(0.5)


def test_normalized_cost_slope_is_positive():
    slope = sym.normalized_cost_slope()
    c, hi, lo = sorted(slope.free_symbols, key=str)
    assert zero(slope - 1 / (2 * sp.sqrt(c) * (hi - lo)))
    assert sym.normalized_cost_slope(Q(1, 2), Q(19, 2)).subs(c, 25) == Q(1, 90)
    # the numeric rule's finite difference agrees (window 0, 1, 4, ..., 100: P5 = 0.5, P95 = 9.5)
    window = [k * k for k in range(11)]
    d = (num.normalized_cost(25 + 1e-6, window) - num.normalized_cost(25 - 1e-6, window)) / 2e-6
    assert d == pytest.approx(1 / 90, rel=1e-6)
