"""Sympy derivations for budget-aware value tree search (docs/models/search.md).

Every function derives its result rather than quoting it, and returns a sympy
expression:

* the Boltzmann equivalence of the selection rule: ``V_i**(1/r) / sum_j
  V_j**(1/r)`` equals the softmax of the logits ``log V_i / r``
  (docs/models/search.md (1)-(2)), its value at ``r = 1`` (proportional to
  ``V``) and the vanishing weight of a lower value as ``r -> 0+`` ((3));
* the derivative of the rule's entropy in the temperature,
  ``dH/dr = Var_P(log V) / r**3 >= 0`` ((4));
* the Chernoff lower tail of ``Bin(M, p)`` at ``K`` successes,
  ``exp(-d**2 mu / 2)`` at ``d = 1 - K / mu``, which is
  ``exp(-(mu - K)**2 / (2 mu))`` ((8));
* its inversion: the root ``mu > K`` of ``(mu - K)**2 / (2 mu) = L``,
  ``K + L + sqrt(L**2 + 2 K L)`` with ``L = ln(1/eps)`` ((9));
* the dominance of the stated bound ((7), times ``p``) over that root: the
  difference of the squares of ``L + sqrt(2 K L)`` and ``sqrt(L**2 + 2 K L)``
  is ``2 L sqrt(2 K L) >= 0``.

The tests in ``tests/theory/test_symbolic_search.py`` check these results
against :mod:`theory.search`.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

__all__ = ["R", "MU", "KK", "L", "D", "values", "rule", "boltzmann", "boltzmann_gap",
           "rule_at_full_budget", "lower_weight_limit", "entropy", "entropy_derivative",
           "entropy_derivative_gap", "chernoff_exponent", "inverted_mean", "bound_margin"]

R = sp.Symbol("r", positive=True)  # remaining ratio = temperature
MU = sp.Symbol("mu", positive=True)  # mean of Bin(M, p): M p
KK = sp.Symbol("K", positive=True)  # progress steps needed
L = sp.Symbol("L", positive=True)  # ln(1 / eps)
D = sp.Symbol("d", positive=True)  # relative distance below the mean


def values(n=3):
    """``n`` positive value symbols ``V_1..V_n``."""
    return sp.symbols(f"V1:{n + 1}", positive=True)


def rule(vs=None, i=0, r=R):
    """The selection probability of node ``i``: ``V_i**(1/r) / sum_j V_j**(1/r)`` ((1))."""
    vs = values() if vs is None else vs
    return vs[i] ** (1 / r) / sum(v ** (1 / r) for v in vs)


def boltzmann(vs=None, i=0, r=R):
    """The softmax of the logits ``log V / r`` at node ``i`` ((2))."""
    vs = values() if vs is None else vs
    return sp.exp(sp.log(vs[i]) / r) / sum(sp.exp(sp.log(v) / r) for v in vs)


@cache
def boltzmann_gap(n=3):
    """``rule - boltzmann`` for every node, simplified: a tuple of zeros ((1) = (2))."""
    vs = values(n)
    return tuple(sp.simplify(rule(vs, i) - boltzmann(vs, i)) for i in range(n))


def rule_at_full_budget(n=3):
    """The rule at ``r = 1``, simplified: ``V_i / sum V`` ((3))."""
    vs = values(n)
    return tuple(sp.simplify(rule(vs, i).subs(R, 1)) for i in range(n))


def lower_weight_limit():
    """``lim_{r -> 0+} (V' / V)**(1/r)`` for ``V' = c V / (1 + c) < V``: 0, the weight of a
    lower value relative to the best ((3)); ``c > 0`` is free."""
    c = sp.Symbol("c", positive=True)
    return sp.limit((c / (1 + c)) ** (1 / R), R, 0, "+")


def entropy(a, r=R):
    """Entropy of the Boltzmann law with logits ``a_i / r`` (``a_i = log V_i``) ((4))."""
    z = sum(sp.exp(x / r) for x in a)
    ps = [sp.exp(x / r) / z for x in a]
    return -sum(p * sp.log(p) for p in ps)


def entropy_derivative(a, r=R):
    """``dH/dr``, differentiated by sympy."""
    return sp.diff(entropy(a, r), r)


@cache
def entropy_derivative_gap(n=2):
    """``dH/dr - Var_P(a) / r**3`` for ``n`` logit symbols, simplified: 0 ((4))."""
    a = sp.symbols(f"a1:{n + 1}", real=True)
    z = sum(sp.exp(x / R) for x in a)
    ps = [sp.exp(x / R) / z for x in a]
    mean = sum(p * x for p, x in zip(ps, a))
    var = sum(p * (x - mean) ** 2 for p, x in zip(ps, a))
    gap = entropy_derivative(a) - var / R**3
    return sp.simplify(sp.expand(sp.expand_log(gap, force=True)))


@cache
def chernoff_exponent():
    """``-d**2 mu / 2`` at ``d = 1 - K / mu``, simplified: ``-(mu - K)**2 / (2 mu)`` ((8))."""
    d = sp.solve(sp.Eq((1 - D) * MU, KK), D)[0]
    return sp.simplify((-(D**2) * MU / 2).subs(D, d))


@cache
def inverted_mean():
    """The root ``mu > K`` of ``(mu - K)**2 / (2 mu) = L`` ((9))."""
    roots = sp.solve(sp.Eq(-chernoff_exponent(), L), MU)
    # two roots, K + L -+ sqrt(L**2 + 2 K L); the one above K (checked at K = L = 1)
    (root,) = [s for s in roots if (s - KK).subs({KK: 1, L: 1}).evalf() > 0]
    return sp.simplify(root)


def bound_margin():
    """``(L + sqrt(2 K L))**2 - (L**2 + 2 K L)``, expanded: ``2 L sqrt(2 K L)`` (>= 0).

    With ``K + sqrt(2 K L) + 2 L`` (the bound (7) times ``p``) minus
    ``K + L + sqrt(L**2 + 2 K L)`` (9) equal to ``(L + sqrt(2 K L)) -
    sqrt(L**2 + 2 K L)``, a non-negative margin of the squares shows that the
    stated bound is never below the Chernoff root.
    """
    return sp.simplify(sp.expand((L + sp.sqrt(2 * KK * L)) ** 2 - (L**2 + 2 * KK * L)))
