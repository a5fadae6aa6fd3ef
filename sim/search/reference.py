"""The NumPy reference of the search runs, written to be read.

One run at a time, in plain Python over the nodes of its tree; the words come
from the layout of :mod:`sim.search.layout`, the weights and the noise from
the tables of :mod:`sim.search.tables`. The Numba kernel
(:mod:`sim.search.kernel_numba`) and the array kernel
(:mod:`sim.search.kernel_array`) give the same results, bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim import rng as _rng
from sim.search.layout import ANSWER, NOISE, PROGRESS, SELECT, TOOL, counter

__all__ = ["Node", "word_uniform", "temperature", "select", "tree_run", "majority_run"]


@dataclass
class Node:
    """One node of a search tree: its value level, hops of progress, depth, whether it is on
    the hidden path and whether it can still be expanded."""

    level: int
    hops: int = 0
    depth: int = 0
    onpath: bool = True
    alive: bool = True
    children: list = field(default_factory=list)


def word_uniform(key, run, step, slot, stride):
    """The uniform of ``slot`` at ``step`` of ``run`` (:func:`sim.rng.uniform` of its word)."""
    # one-element arrays: NumPy wraps 64-bit arithmetic on arrays silently, on scalars it warns
    u64 = [np.array([x], dtype=np.uint64) for x in (run, step, slot, stride)]
    word = _rng.splitmix64(np.array([key], dtype=np.uint64), counter(*u64))
    return float(_rng.uniform(word)[0])


def temperature(rule, k_fixed, combine, use_gamma, b_tool, B_tool, b_tok, B_tok, lmax, hops,
                gam, R):
    """Temperature level of a step: greedy 0, the fixed level, or the ratio (5)/(18) rounded up."""
    if rule == "greedy":
        return 0
    if rule == "softmax":
        return k_fixed
    a = -(-R * b_tool // B_tool)  # ceil(R * b_tool / B_tool)
    b = int(gam[hops[lmax], b_tok]) if use_gamma else -(-R * b_tok // B_tok)
    return {"min": min(a, b), "mean": -(-(a + b) // 2), "product": -(-(a * b) // R),
            "tool": a, "token": b}[combine]


def select(nodes, k, W, u):
    """Index of the node that the rule (1) expands: weights ``W[k, level, best level]`` of the
    expandable nodes, and the first whose running sum exceeds ``floor(u * total)``."""
    live = [i for i, nd in enumerate(nodes) if nd.alive]
    lmax = max(nodes[i].level for i in live)
    w = [int(W[k, nodes[i].level, lmax]) for i in live]
    target = math.floor(u * float(sum(w)))
    acc = 0
    for i, wi in zip(live, w):
        acc += wi
        if acc > target:
            return i
    raise AssertionError("the running sum never passed the target")  # pragma: no cover


def tree_run(run, key, stride, params, rule, tables, k_fixed, max_steps):
    """One run of a tree rule; returns ``(success, tokens, tools, steps, found)``.

    docs/models/search.md (1), (5), (6), (11)-(13), (19).
    """
    P, T = params, tables
    R, Q = T.weights.shape[0] - 1, T.weights.shape[1] - 1
    cost = P.tree_step_tokens
    nodes = [Node(level=T.root_level)]
    b_tool, b_tok = P.budget, P.tokens
    best, ok, found, s = -1, False, False, 0
    while s < max_steps:
        lmax = max(nd.level for nd in nodes if nd.alive)
        k = temperature(rule, k_fixed, P.combine, P.ratio == "gamma", b_tool, P.budget, b_tok,
                        P.tokens, lmax, T.hops, T.gamma, R)
        pick = select(nodes, k, T.weights, word_uniform(key, run, s, SELECT, stride))
        is_tool = word_uniform(key, run, s, TOOL, stride) < P.tool_rate
        if b_tok < cost or (is_tool and b_tool < 1):
            break  # the budget cannot pay this step
        b_tok -= cost
        b_tool -= int(is_tool)
        parent = nodes[pick]
        prog = parent.onpath and word_uniform(key, run, s, PROGRESS, stride) < P.p
        z = T.noise[int(word_uniform(key, run, s, NOISE, stride) * T.noise.size)]
        g, v = parent.hops, T.vstar
        if P.critic == "residual":
            delta = v[g + 1] - v[g] if prog else (-v[g] if parent.onpath else 0.0)
            dl = int(np.floor(float(Q) * (delta + P.noise * z) + 0.5))
            keep, lc = dl > 0, min(parent.level + dl, Q)
        else:
            vc = v[g + 1] if prog else 0.0
            lc = min(max(int(np.floor(float(Q) * (vc + P.bias + P.noise * z) + 0.5)), 0), Q)
            keep = lc > 0
        s += 1
        if not keep:
            continue  # pruned: a non-positive residual (or a worthless state)
        child = Node(level=lc, hops=g + int(prog), depth=parent.depth + 1, onpath=bool(prog))
        parent.children.append(len(nodes))
        nodes.append(child)
        if child.depth >= P.K:
            child.alive = False  # a terminal: an answer
            found = True
            if lc > best:
                best, ok = lc, bool(prog)
            if P.stop_at_answer:
                break
    return ok, P.tokens - b_tok, P.budget - b_tool, s, found


def majority_run(run, key, stride, params, max_steps):
    """One run of parallel sampling with a plurality vote; ``(success, tokens, tools, steps,
    chains)``. docs/models/search.md (13), (15)-(17), (19)."""
    P = params
    counts = np.zeros(P.wrong_answers + 1, dtype=np.int64)  # the correct answer first
    b_tool, b_tok = P.budget, P.tokens
    depth, on, s = 0, True, 0
    while s < max_steps:
        is_tool = word_uniform(key, run, s, TOOL, stride) < P.tool_rate
        if b_tok < P.step_tokens or (is_tool and b_tool < 1):
            break
        b_tok -= P.step_tokens
        b_tool -= int(is_tool)
        if on:
            on = word_uniform(key, run, s, PROGRESS, stride) < P.p
        depth += 1
        if depth == P.K:  # the chain answers
            if on:
                counts[0] += 1
            else:
                counts[1 + int(word_uniform(key, run, s, ANSWER, stride) * P.wrong_answers)] += 1
            depth, on = 0, True
        s += 1
    top = counts.max()
    success = False
    if top > 0 and counts[0] == top:
        ties = int((counts == top).sum())
        success = int(word_uniform(key, run, max_steps, SELECT, stride) * ties) == 0
    return success, P.tokens - b_tok, P.budget - b_tool, s, int(counts.sum())
