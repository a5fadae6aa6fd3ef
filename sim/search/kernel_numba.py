"""The Numba kernels of the search model: tree-search runs and parallel-sampling runs.

Parallel over runs; each run follows docs/models/search.md (11)-(13) step by
step, drawing its words at the counters of :mod:`sim.search.layout` and
reading the tables of :mod:`sim.search.tables`, so the results equal those of
the array kernel (:mod:`sim.search.kernel_array`) and the NumPy reference
(:mod:`sim.search.reference`) bit for bit. The arguments are checked by
:func:`sim.search.core.run_rule`, not here.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from sim import rng as _rng
from sim.search.layout import ANSWER, NOISE, PROGRESS, SELECT, TOOL, counter

__all__ = ["tree_runs", "majority_runs", "temperature"]


@njit(inline="always")
def temperature(rule, k_fixed, combine, use_gamma, b_tool, B_tool, b_tok, B_tok, lmax, hops,
                gam, R):
    """The temperature level of one step: 0 (greedy), the fixed level, or ``r`` of (5)/(18)."""
    if rule == 0:
        return 0
    if rule == 1:
        return k_fixed
    a = (R * b_tool + B_tool - 1) // B_tool
    if use_gamma:
        b = gam[hops[lmax], b_tok]
    else:
        b = (R * b_tok + B_tok - 1) // B_tok
    if combine == 0:
        return min(a, b)
    if combine == 1:
        return (a + b + 1) // 2
    if combine == 2:
        return (a * b + R - 1) // R
    if combine == 3:
        return a
    return b


@njit(parallel=True, cache=True)
def tree_runs(first, n, key, stride, K, p, B_tool, B_tok, tool_rate, cost, sigma, critic, bias,
              rule, k_fixed, combine, use_gamma, stop, max_steps, W, Z, vstar, root_level, hops,
              gam):
    """``n`` runs of a tree rule (0 greedy, 1 softmax, 2 bavt) from run ``first`` on.

    Returns ``success, tokens, tools, steps, found`` per run;
    docs/models/search.md (1), (5), (6), (11)-(13), (19).
    """
    R = W.shape[0] - 1
    Q = W.shape[1] - 1
    NZ = Z.shape[0]
    Qf = float(Q)
    success = np.zeros(n, np.bool_)
    found = np.zeros(n, np.bool_)
    tokens = np.zeros(n, np.int64)
    tools = np.zeros(n, np.int64)
    steps = np.zeros(n, np.int64)
    ustride = uint64(stride)
    for i in prange(n):
        run = uint64(first + i)
        level = np.zeros(max_steps + 1, np.int64)
        hop = np.zeros(max_steps + 1, np.int64)
        depth = np.zeros(max_steps + 1, np.int64)
        onpath = np.zeros(max_steps + 1, np.bool_)
        alive = np.zeros(max_steps + 1, np.bool_)
        level[0] = root_level
        onpath[0] = True
        alive[0] = True
        nodes = 1
        b_tool = B_tool
        b_tok = B_tok
        best = -1
        ok = False
        hit = False
        s = 0
        while s < max_steps:
            lmax = -1
            for j in range(nodes):
                if alive[j] and level[j] > lmax:
                    lmax = level[j]
            k = temperature(rule, k_fixed, combine, use_gamma, b_tool, B_tool, b_tok, B_tok,
                            lmax, hops, gam, R)
            total = 0
            for j in range(nodes):
                if alive[j]:
                    total += W[k, level[j], lmax]
            u = _rng.uniform(_rng.splitmix64(key, counter(run, uint64(s), uint64(SELECT),
                                                          ustride)))
            target = np.int64(np.floor(u * float(total)))
            acc = 0
            pick = 0
            for j in range(nodes):
                if alive[j]:
                    acc += W[k, level[j], lmax]
                    if acc > target:
                        pick = j
                        break
            is_tool = _rng.uniform(_rng.splitmix64(
                key, counter(run, uint64(s), uint64(TOOL), ustride))) < tool_rate
            if b_tok < cost or (is_tool and b_tool < 1):
                break
            b_tok -= cost
            if is_tool:
                b_tool -= 1
            g = hop[pick]
            on = onpath[pick]
            prog = False
            if on:
                prog = _rng.uniform(_rng.splitmix64(
                    key, counter(run, uint64(s), uint64(PROGRESS), ustride))) < p
            u = _rng.uniform(_rng.splitmix64(key, counter(run, uint64(s), uint64(NOISE),
                                                          ustride)))
            z = Z[np.int64(u * NZ)]
            if critic == 0:
                if prog:
                    delta = vstar[g + 1] - vstar[g]
                elif on:
                    delta = -vstar[g]
                else:
                    delta = 0.0
                dl = np.int64(np.floor(Qf * (delta + sigma * z) + 0.5))
                keep = dl > 0
                lc = min(level[pick] + dl, Q)
            else:
                vc = vstar[g + 1] if prog else 0.0
                lc = np.int64(np.floor(Qf * (vc + bias + sigma * z) + 0.5))
                lc = min(max(lc, 0), Q)
                keep = lc > 0
            if keep:
                c = nodes
                nodes += 1
                level[c] = lc
                hop[c] = g + 1 if prog else g
                onpath[c] = prog
                depth[c] = depth[pick] + 1
                if depth[c] >= K:
                    hit = True
                    if lc > best:
                        best = lc
                        ok = prog
                    if stop:
                        s += 1
                        break
                else:
                    alive[c] = True
            s += 1
        success[i] = ok
        found[i] = hit
        tokens[i] = B_tok - b_tok
        tools[i] = B_tool - b_tool
        steps[i] = s
    return success, tokens, tools, steps, found


@njit(parallel=True, cache=True)
def majority_runs(first, n, key, stride, K, p, B_tool, B_tok, tool_rate, cost, answers,
                  max_steps):
    """``n`` runs of parallel sampling with a plurality vote from run ``first`` on.

    Returns ``success, tokens, tools, steps, chains`` per run;
    docs/models/search.md (13), (15)-(17), (19).
    """
    success = np.zeros(n, np.bool_)
    chains = np.zeros(n, np.int64)
    tokens = np.zeros(n, np.int64)
    tools = np.zeros(n, np.int64)
    steps = np.zeros(n, np.int64)
    ustride = uint64(stride)
    for i in prange(n):
        run = uint64(first + i)
        counts = np.zeros(answers + 1, np.int64)
        b_tool = B_tool
        b_tok = B_tok
        depth = 0
        on = True
        s = 0
        done = 0
        while s < max_steps:
            is_tool = _rng.uniform(_rng.splitmix64(
                key, counter(run, uint64(s), uint64(TOOL), ustride))) < tool_rate
            if b_tok < cost or (is_tool and b_tool < 1):
                break
            b_tok -= cost
            if is_tool:
                b_tool -= 1
            if on:
                on = _rng.uniform(_rng.splitmix64(
                    key, counter(run, uint64(s), uint64(PROGRESS), ustride))) < p
            depth += 1
            if depth == K:
                if on:
                    counts[0] += 1
                else:
                    u = _rng.uniform(_rng.splitmix64(
                        key, counter(run, uint64(s), uint64(ANSWER), ustride)))
                    counts[1 + np.int64(u * answers)] += 1
                done += 1
                depth = 0
                on = True
            s += 1
        top = 0
        for a in range(answers + 1):
            top = max(top, counts[a])
        if top > 0 and counts[0] == top:
            ties = 0
            for a in range(answers + 1):
                if counts[a] == top:
                    ties += 1
            u = _rng.uniform(_rng.splitmix64(
                key, counter(run, uint64(max_steps), uint64(SELECT), ustride)))
            success[i] = np.int64(u * ties) == 0
        chains[i] = done
        tokens[i] = B_tok - b_tok
        tools[i] = B_tool - b_tool
        steps[i] = s
    return success, tokens, tools, steps, chains
