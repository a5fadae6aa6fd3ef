"""The search runs on whole arrays, for NumPy or CuPy (``xp``): every run in lockstep.

Bit-identical to :mod:`sim.search.kernel_numba`: the same words
(:mod:`sim.search.layout`), the same tables (:mod:`sim.search.tables`), integer
weights summed exactly, and the same floating-point operations in the same
order for the critic's values. Runs that have stopped are carried along
masked. The CuPy backend is this module run on CuPy arrays
(``sim.backends.array_module("cupy")``).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.search.layout import ANSWER, NOISE, PROGRESS, SELECT, TOOL, counter

__all__ = ["tree_runs", "majority_runs"]

_RULES = {"greedy": 0, "softmax": 1, "bavt": 2}


def _uniform(xp, key, runs, step, slot, stride):
    ctr = counter(runs, np.uint64(step), np.uint64(slot), np.uint64(stride))
    return _rng.uniform(_rng.splitmix64(key, ctr))


def _ceil_div(a, b):
    return -((-a) // b)


def _combine(xp, a, b, how, R):
    """The combined temperature level of the tool level ``a`` and the token level ``b`` (5)."""
    if how == "min":
        return xp.minimum(a, b)
    if how == "mean":
        return _ceil_div(a + b, 2)
    if how == "product":
        return _ceil_div(a * b, R)
    return a if how == "tool" else b


def tree_runs(xp, first, n, key, stride, params, rule, tables, k_fixed, max_steps):
    """``n`` runs of a tree rule from run ``first`` on; arrays of ``xp``.

    Returns ``success, tokens, tools, steps, found`` (as
    :func:`sim.search.kernel_numba.tree_runs`).
    """
    P, T = params, tables
    W = xp.asarray(T.weights)
    Z = xp.asarray(T.noise)
    vstar = xp.asarray(T.vstar)
    hops_of = xp.asarray(T.hops)
    gam = xp.asarray(T.gamma)
    R, Q = T.weights.shape[0] - 1, T.weights.shape[1] - 1
    NZ = T.noise.shape[0]
    cost = P.tree_step_tokens
    N = max_steps + 1
    runs = xp.arange(first, first + n, dtype=np.uint64)
    rows = xp.arange(n)
    level = xp.zeros((n, N), dtype=np.int64)
    hop = xp.zeros((n, N), dtype=np.int64)
    depth = xp.zeros((n, N), dtype=np.int64)
    onpath = xp.zeros((n, N), dtype=bool)
    alive = xp.zeros((n, N), dtype=bool)
    level[:, 0] = T.root_level
    onpath[:, 0] = True
    alive[:, 0] = True
    nodes = xp.ones(n, dtype=np.int64)
    b_tool = xp.full(n, P.budget, dtype=np.int64)
    b_tok = xp.full(n, P.tokens, dtype=np.int64)
    best = xp.full(n, -1, dtype=np.int64)
    ok = xp.zeros(n, dtype=bool)
    found = xp.zeros(n, dtype=bool)
    steps = xp.zeros(n, dtype=np.int64)
    active = xp.ones(n, dtype=bool)
    code = _RULES[rule]
    for s in range(max_steps):
        if not bool(active.any()):
            break
        lmax = xp.where(alive, level, -1).max(axis=1)
        if code == 0:
            k = xp.zeros(n, dtype=np.int64)
        elif code == 1:
            k = xp.full(n, k_fixed, dtype=np.int64)
        else:
            a = _ceil_div(R * b_tool, P.budget)
            if P.ratio == "gamma":
                b = gam[hops_of[xp.maximum(lmax, 0)], b_tok]
            else:
                b = _ceil_div(R * b_tok, P.tokens)
            k = _combine(xp, a, b, P.combine, R)
        w = W[k[:, None], level, xp.maximum(lmax, 0)[:, None]] * alive
        cs = xp.cumsum(w, axis=1)
        total = cs[:, -1]
        u = _uniform(xp, key, runs, s, SELECT, stride)
        target = xp.floor(u * total.astype(np.float64)).astype(np.int64)
        pick = xp.argmax(cs > target[:, None], axis=1)
        is_tool = _uniform(xp, key, runs, s, TOOL, stride) < P.tool_rate
        pays = (b_tok >= cost) & ~(is_tool & (b_tool < 1))
        active &= pays
        b_tok = xp.where(active, b_tok - cost, b_tok)
        b_tool = xp.where(active & is_tool, b_tool - 1, b_tool)
        g = hop[rows, pick]
        on = onpath[rows, pick]
        prog = on & (_uniform(xp, key, runs, s, PROGRESS, stride) < P.p)
        z = Z[(_uniform(xp, key, runs, s, NOISE, stride) * NZ).astype(np.int64)]
        g1 = xp.minimum(g + 1, P.K)
        if P.critic == "residual":
            delta = xp.where(prog, vstar[g1] - vstar[g], xp.where(on, -vstar[g], 0.0))
            dl = xp.floor(float(Q) * (delta + P.noise * z) + 0.5).astype(np.int64)
            keep = dl > 0
            lc = xp.minimum(level[rows, pick] + dl, Q)
        else:
            vc = xp.where(prog, vstar[g1], 0.0)
            lc = xp.floor(float(Q) * (vc + P.bias + P.noise * z) + 0.5).astype(np.int64)
            lc = xp.minimum(xp.maximum(lc, 0), Q)
            keep = lc > 0
        steps = xp.where(active, steps + 1, steps)
        add = active & keep
        c = nodes
        dc = depth[rows, pick] + 1
        terminal = add & (dc >= P.K)
        sel = rows[add]
        cs_ = c[add]
        level[sel, cs_] = lc[add]
        hop[sel, cs_] = (g + prog)[add]
        onpath[sel, cs_] = prog[add]
        depth[sel, cs_] = dc[add]
        alive[sel, cs_] = ~terminal[add]
        nodes = xp.where(add, nodes + 1, nodes)
        better = terminal & (lc > best)
        best = xp.where(better, lc, best)
        ok = xp.where(better, prog, ok)
        found |= terminal
        if P.stop_at_answer:
            active &= ~terminal
    return ok, P.tokens - b_tok, P.budget - b_tool, steps, found


def majority_runs(xp, first, n, key, stride, params, max_steps):
    """``n`` runs of parallel sampling with a plurality vote from run ``first`` on.

    Returns ``success, tokens, tools, steps, chains`` (as
    :func:`sim.search.kernel_numba.majority_runs`).
    """
    P = params
    A = P.wrong_answers
    runs = xp.arange(first, first + n, dtype=np.uint64)
    rows = xp.arange(n)
    counts = xp.zeros((n, A + 1), dtype=np.int64)
    b_tool = xp.full(n, P.budget, dtype=np.int64)
    b_tok = xp.full(n, P.tokens, dtype=np.int64)
    depth = xp.zeros(n, dtype=np.int64)
    on = xp.ones(n, dtype=bool)
    steps = xp.zeros(n, dtype=np.int64)
    active = xp.ones(n, dtype=bool)
    for s in range(max_steps):
        if not bool(active.any()):
            break
        is_tool = _uniform(xp, key, runs, s, TOOL, stride) < P.tool_rate
        active &= (b_tok >= P.step_tokens) & ~(is_tool & (b_tool < 1))
        b_tok = xp.where(active, b_tok - P.step_tokens, b_tok)
        b_tool = xp.where(active & is_tool, b_tool - 1, b_tool)
        on = xp.where(active, on & (_uniform(xp, key, runs, s, PROGRESS, stride) < P.p), on)
        depth = xp.where(active, depth + 1, depth)
        ends = active & (depth == P.K)
        wrong = 1 + (_uniform(xp, key, runs, s, ANSWER, stride) * A).astype(np.int64)
        answer = xp.where(on, 0, wrong)
        sel = rows[ends]
        counts[sel, answer[ends]] += 1
        depth = xp.where(ends, 0, depth)
        on = on | ends
        steps = xp.where(active, steps + 1, steps)
    top = counts.max(axis=1)
    ties = (counts == top[:, None]).sum(axis=1)
    u = _uniform(xp, key, runs, max_steps, SELECT, stride)
    success = (top > 0) & (counts[:, 0] == top) & ((u * ties).astype(np.int64) == 0)
    return success, P.tokens - b_tok, P.budget - b_tool, steps, counts.sum(axis=1)
