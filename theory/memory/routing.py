"""Tier routing of a memory pipeline: fixed tiers against a query-aware router, exactly.

``docs/models/memory.md (7)``-(13). A query passes through ``m`` modules;
module ``i``'s input is hard with probability ``h``, independently, and tier
``t`` does the module's job with probability ``easy[t]`` or ``hard[t]``. The
answer is right when every module did its job (7). A router reads each
module's difficulty correctly with probability ``r`` (8) and, for what it
read, chooses the tiers that maximise the posterior probability of a right
answer within the budget (10): a multiple-choice knapsack on log
probabilities (:mod:`theory.memory.mckp`). Fixed tiers are one choice for
every query (11). The expected accuracy and cost of any routing table are
finite sums over the ``2**m`` patterns the router can read (12), (13).

A *pattern* is an integer whose bit ``i`` is 1 when the router read module
``i`` as hard; a *routing table* has one row of tiers per pattern, shape
``(2**m, m)``.
"""

from __future__ import annotations

import numpy as np

from theory._params import accepts_params, check_choice, check_int, check_real
from theory.memory.mckp import greedy_many, solve_dp
from theory.memory.params import MAX_MODULES

__all__ = ["SOLVERS", "read_probability", "hard_posterior", "posterior_success",
           "population_success", "patterns", "pattern_probability", "route",
           "fixed_tiers", "fixed_table", "routed_accuracy", "routed_cost", "fixed_accuracy",
           "log_value"]

#: How a router solves its knapsack: exactly (dynamic program) or greedily.
SOLVERS = ("dp", "greedy")


def _prob(name, x):
    return check_real(name, x, 0.0, 1.0)


def _table(easy, hard):
    e = np.asarray(easy, dtype=float).reshape(-1)
    h = np.asarray(hard, dtype=float).reshape(-1)
    if e.shape != h.shape or e.size < 1:
        raise ValueError(f"easy and hard must have one value per tier, got {e.size} and "
                         f"{h.size}")
    for name, x in (("easy", e), ("hard", h)):
        bad = (x < 0) | (x > 1) | np.isnan(x)
        if bad.any():
            raise ValueError(f"{name} must be in [0, 1], got {x[bad][0]:g}")
    return e, h


@accepts_params
def read_probability(hard_share, signal):
    """Probability that the router reads a module as hard: ``h r + (1 - h)(1 - r)``, (8)."""
    h, r = _prob("hard_share", hard_share), _prob("signal", signal)
    return h * r + (1 - h) * (1 - r)


@accepts_params
def hard_posterior(hard_share, signal):
    """``P(hard | read easy)`` and ``P(hard | read hard)`` by Bayes' rule, (9).

    A read that never happens (probability 0) gets the prior ``h``.
    """
    h, r = _prob("hard_share", hard_share), _prob("signal", signal)
    out = []
    for like_hard, like_easy in ((1 - r, r), (r, 1 - r)):
        z = h * like_hard + (1 - h) * like_easy
        out.append(h * like_hard / z if z > 0 else h)
    return np.array(out)


@accepts_params
def posterior_success(easy, hard, hard_share, signal):
    """Probability that each tier does its job given the read, shape ``(2, tiers)``, (9).

    Row 0 after reading easy, row 1 after reading hard:
    ``(1 - P(hard | read)) easy[t] + P(hard | read) hard[t]``.
    """
    e, hd = _table(easy, hard)
    q = hard_posterior(hard_share, signal)
    return (1 - q)[:, None] * e[None, :] + q[:, None] * hd[None, :]


@accepts_params
def population_success(easy, hard, hard_share):
    """Success of each tier on a random input, ``(1 - h) easy + h hard``, (11)."""
    e, hd = _table(easy, hard)
    h = _prob("hard_share", hard_share)
    return (1 - h) * e + h * hd


def _modules(modules):
    return check_int("modules", modules, 1, MAX_MODULES)


@accepts_params
def patterns(modules):
    """The ``2**modules`` patterns as booleans, shape ``(2**modules, modules)``.

    Row ``k`` has column ``i`` true when bit ``i`` of ``k`` is 1 (module ``i``
    read as hard).
    """
    m = _modules(modules)
    k = np.arange(2**m)[:, None]
    return ((k >> np.arange(m)[None, :]) & 1).astype(bool)


@accepts_params
def pattern_probability(modules, hard_share, signal):
    """Probability of reading each pattern, ``prod_i P(read_i)``, shape ``(2**modules,)``."""
    q = read_probability(hard_share, signal)
    bits = patterns(modules)
    return np.prod(np.where(bits, q, 1 - q), axis=1)


def log_value(p):
    """``log p`` with ``log 0 = -inf`` and no warning: the knapsack's values (10)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p)


def _cost_matrix(modules, costs):
    c = np.asarray(costs)
    if c.ndim != 1 or c.size < 1 or c.dtype.kind not in "iu" or np.any(c < 0):
        raise ValueError(f"costs must be integers >= 0, one per tier, got {costs!r}")
    return np.broadcast_to(c.astype(np.int64), (modules, c.size))


def _budgets(budget):
    b = np.asarray(budget)
    if b.dtype.kind not in "iu":
        raise ValueError(f"budget must be an integer or integers, got {budget!r}")
    return b


@accepts_params
def route(modules, costs, easy, hard, hard_share, signal, budget, solver="dp"):
    """The router's table: for every pattern, the tiers it chooses within the budget, (10).

    For the pattern read, the router maximises ``sum_i log s_hat_i(t_i)``, the
    log of the posterior probability of a right answer (the posterior
    factorises over modules, (12)), with ``sum_i costs[t_i] <= budget``: by the
    dynamic program (4) or greedily (5).

    Parameters
    ----------
    modules : int
    costs : sequence of int
        Cost of each tier.
    easy, hard : sequence of float
        Success of each tier on an easy and a hard input.
    hard_share, signal : float
    budget : int or 1-D array of int
    solver : {"dp", "greedy"}

    Returns
    -------
    ndarray of int64
        Shape ``(2**modules, modules)`` for one budget, ``(budgets, 2**modules,
        modules)`` for several.
    """
    m = _modules(modules)
    check_choice("solver", solver, SOLVERS)
    c = _cost_matrix(m, costs)
    b = _budgets(budget)
    s_hat = posterior_success(easy, hard, hard_share, signal)
    bits = patterns(m).astype(np.int64)
    values = log_value(s_hat[bits])  # (patterns, modules, tiers)
    if solver == "dp":
        tab = solve_dp(c, values, b)
    else:
        tab = greedy_many(c, values, b.reshape(-1))
        tab = tab[:, 0] if b.ndim == 0 else tab
    return tab if b.ndim == 0 else np.moveaxis(tab, 1, 0)


@accepts_params
def fixed_tiers(modules, costs, easy, hard, hard_share, budget):
    """The best fixed tiers: one choice for every query within the budget, (11).

    The accuracy of fixed tiers is ``prod_i a(t_i)`` with ``a`` the success on
    a random input, so the best choice solves the knapsack on ``log a`` exactly
    (dynamic program). Shape ``(modules,)``, or ``(budgets, modules)``.
    """
    m = _modules(modules)
    c = _cost_matrix(m, costs)
    a = population_success(easy, hard, hard_share)
    return solve_dp(c, np.broadcast_to(log_value(a), c.shape), _budgets(budget))


@accepts_params
def fixed_table(tiers):
    """Fixed tiers as a routing table: the same row for every pattern, ``(2**m, m)``."""
    t = np.asarray(tiers, dtype=np.int64).reshape(-1)
    return np.broadcast_to(t, (2 ** t.size, t.size)).copy()


def _check_table(table):
    t = np.asarray(table, dtype=np.int64)
    if t.ndim != 2 or t.shape[0] != 2 ** t.shape[1]:
        raise ValueError(f"a routing table must have shape (2**m, m), got {t.shape}")
    return t


@accepts_params
def routed_accuracy(table, easy, hard, hard_share, signal):
    """Expected accuracy of a routing table, ``sum_k P(k) prod_i s_hat_i(k)``, (12).

    Exact: given the pattern read, modules succeed independently with their
    posterior success, so the sum over true difficulties and reads collapses
    to one sum over reads. For a fixed table it is ``prod_i a(t_i)`` (11).
    """
    t = _check_table(table)
    m = t.shape[1]
    s_hat = posterior_success(easy, hard, hard_share, signal)
    bits = patterns(m).astype(np.int64)
    if np.any(t < 0) or np.any(t >= s_hat.shape[1]):
        raise ValueError(f"tiers of a routing table must be in [0, {s_hat.shape[1] - 1}]")
    prob = pattern_probability(m, hard_share, signal)
    return float(np.sum(prob * np.prod(s_hat[bits, t], axis=1)))


@accepts_params
def routed_cost(table, costs, hard_share, signal):
    """Expected cost per query of a routing table, ``sum_k P(k) sum_i costs[t_i(k)]``, (13)."""
    t = _check_table(table)
    c = np.asarray(costs, dtype=float)
    prob = pattern_probability(t.shape[1], hard_share, signal)
    return float(np.sum(prob * c[t].sum(axis=1)))


@accepts_params
def fixed_accuracy(tiers, easy, hard, hard_share):
    """Accuracy of fixed tiers, ``prod_i a(t_i)`` with ``a`` of (11)."""
    a = population_success(easy, hard, hard_share)
    t = np.asarray(tiers, dtype=np.int64)
    return float(np.prod(a[t]))
