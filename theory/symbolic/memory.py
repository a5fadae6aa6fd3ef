"""Sympy derivations for the memory model (``docs/models/memory.md``).

Every function derives its result from a definition rather than quoting the
closed form, and returns a sympy expression (or a tuple of them):

* the read probability and the posterior of a hard input by Bayes' rule from
  the joint law of (difficulty, read), (8), (9);
* a routed pipeline's accuracy as the full sum over true difficulties and
  reads, and as the collapsed sum over reads of products of posterior
  successes, (12); the fixed-tier accuracy as the expectation of a product
  of independent modules, (11);
* the linear relaxation's value on its fractional increment and the dual
  function at the price that makes the two tiers of that increment equally
  good, (3), (6), and the relaxation's excess over its whole part, (5);
* the derivative of the authors' normalised cost, (14).

Numbers may be passed as ints, ``Rational``, sympy expressions or Python
floats (converted through their shortest ``repr``, see
:func:`theory.symbolic.phase.exact`). The tests in
``tests/theory/test_symbolic_memory.py`` check these results against
:mod:`theory.memory`.
"""

from __future__ import annotations

import itertools

import sympy as sp

from .phase import exact

__all__ = ["H", "R", "joint", "read_probability", "hard_posterior", "routed_accuracy_full",
           "routed_accuracy_collapsed", "fixed_accuracy_expectation", "fixed_accuracy_product",
           "lp_fractional", "normalized_cost_slope"]

H = sp.Symbol("h", nonnegative=True)  # probability that an input is hard
R = sp.Symbol("r", nonnegative=True)  # probability that the router reads it correctly


def joint(h=H, r=R):
    """The joint law of (hard, read hard) for one module, a dict ``{(hard, read): prob}``, (8)."""
    h, r = exact(h), exact(r)
    prior = {True: h, False: 1 - h}
    return {(hard, read): prior[hard] * (r if read == hard else 1 - r)
            for hard in (True, False) for read in (True, False)}


def read_probability(h=H, r=R):
    """``P(read hard)``, the marginal of :func:`joint`, (8)."""
    j = joint(h, r)
    return sp.expand(j[(True, True)] + j[(False, True)])


def hard_posterior(read, h=H, r=R):
    """``P(hard | read)`` by Bayes' rule from :func:`joint`, (9)."""
    j = joint(h, r)
    return sp.simplify(j[(True, read)] / (j[(True, read)] + j[(False, read)]))


def _succ(tiers):
    """Symbols of each tier's success on an easy and a hard input: ``(e_t, d_t)`` per tier."""
    return [(sp.Symbol(f"e{t}", nonnegative=True), sp.Symbol(f"d{t}", nonnegative=True))
            for t in range(tiers)]


def routed_accuracy_full(table, tiers, h=H, r=R):
    """Accuracy of a routing table: the sum over true difficulties and reads, (12).

    ``table`` maps a tuple of reads (one bool per module, True = read hard) to
    a tuple of tiers. Every module succeeds independently given its
    difficulty; the answer is right when all succeed.
    """
    s = _succ(tiers)
    j = joint(h, r)
    m = len(next(iter(table)))
    total = 0
    for hard in itertools.product((False, True), repeat=m):
        for read in itertools.product((False, True), repeat=m):
            p = sp.Mul(*(j[(hard[i], read[i])] for i in range(m)))
            right = sp.Mul(*(s[table[read][i]][1 if hard[i] else 0] for i in range(m)))
            total += p * right
    return sp.expand(total)


def routed_accuracy_collapsed(table, tiers, h=H, r=R):
    """The same accuracy as one sum over reads of products of posterior successes, (12)."""
    s = _succ(tiers)
    m = len(next(iter(table)))
    p_read = {True: read_probability(h, r), False: 1 - read_probability(h, r)}
    post = {x: hard_posterior(x, h, r) for x in (True, False)}
    total = 0
    for read in itertools.product((False, True), repeat=m):
        prod = 1
        for i in range(m):
            q = post[read[i]]
            e, d = s[table[read][i]]
            # P(read_i) times the posterior success; the reads are independent across modules
            prod *= sp.cancel(p_read[read[i]] * ((1 - q) * e + q * d))
        total += prod
    return sp.expand(total)


def fixed_accuracy_expectation(tiers_chosen, tiers, h=H):
    """Accuracy of fixed tiers as the expectation over true difficulties of the product, (11)."""
    s = _succ(tiers)
    h = exact(h)
    total = 0
    for hard in itertools.product((False, True), repeat=len(tiers_chosen)):
        p = sp.Mul(*(h if x else 1 - h for x in hard))
        total += p * sp.Mul(*(s[t][1 if x else 0] for t, x in zip(tiers_chosen, hard)))
    return sp.expand(total)


def fixed_accuracy_product(tiers_chosen, tiers, h=H):
    """The product of the modules' successes on a random input, ``prod_i a(t_i)``, (11)."""
    s = _succ(tiers)
    h = exact(h)
    return sp.expand(sp.Mul(*((1 - h) * s[t][0] + h * s[t][1] for t in tiers_chosen)))


def lp_fractional():
    """The relaxation on its fractional increment against the dual at the indifference price.

    Symbols: ``V``, ``C`` -- value and cost of the other modules' whole
    choices; ``va, ca`` and ``vb, cb`` -- the fractional module's current and
    next hull tier; ``B`` -- the budget, with ``C + ca <= B < C + cb``.

    Returns
    -------
    (lp, dual, price, excess)
        ``lp = V + va + theta (vb - va)`` with ``theta = (B - C - ca) / (cb - ca)``
        (3); ``price`` solves ``va - price ca = vb - price cb`` (the two tiers
        equally good in the dual); ``dual = price B + (V - price C) + (va -
        price ca)`` (6), taking each other module's whole choice as its best at
        that price; ``excess = lp - (V + va) = theta (vb - va)``, the most the
        greedy choice can lose (5).
    """
    V, C, va, ca, vb, cb, B, lam = sp.symbols("V C v_a c_a v_b c_b B lambda", real=True)
    theta = (B - C - ca) / (cb - ca)
    lp = V + va + theta * (vb - va)
    price = sp.solve(sp.Eq(va - lam * ca, vb - lam * cb), lam)[0]
    dual = price * B + (V - price * C) + (va - price * ca)
    return lp, dual, price, sp.simplify(lp - (V + va))


def normalized_cost_slope(lo=None, hi=None):
    """``d/dc`` of ``(sqrt(c) - lo) / (hi - lo)``, the normalised cost inside its clip (14)."""
    c = sp.Symbol("c", positive=True)
    lo = sp.Symbol("lo", nonnegative=True) if lo is None else exact(lo)
    hi = sp.Symbol("hi", positive=True) if hi is None else exact(hi)
    return sp.simplify(sp.diff((sp.sqrt(c) - lo) / (hi - lo), c))
