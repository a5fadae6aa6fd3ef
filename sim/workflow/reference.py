"""The NumPy reference of the rollout kernel, written to be read: one rollout at a time.

``docs/models/workflow.md`` (7)-(8), (25)-(26). A rollout starts from a
:class:`sim.workflow.encode.Start` and repeats two phases until every node is
complete (success) or the rollout fails:

1. **launch** -- every *dispatchable* node (not complete, parents complete,
   nothing in flight) gets a batch: the first time with the pair's first
   action when it has one, afterwards with the pair's table. For each node (in
   node order) the batch's cost, the latency of its slowest sample and
   whether any sample succeeds are drawn (:func:`draw_batch`). The launch fails
   the rollout when a node's cost exceeds its cap, the launch's total cost
   exceeds the remaining budget, or its longest latency exceeds the remaining
   time; otherwise the cost is charged and the batches are in flight;
2. **advance** -- the earliest batch in flight ends (ties: the lower node);
   its node completes when the batch succeeded, else it is dispatchable again
   (or, for a table without retries, the rollout fails).

Nothing in flight and nothing to launch is a failure, and so is a rollout that
launches ``max_steps`` times. The Numba kernel
(:mod:`sim.workflow.kernel_numba`) and the array kernel
(:mod:`sim.workflow.kernel_array`) make the same decisions from the same words.
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.workflow.layout import WORDS_PER_BATCH, table_latency, table_x, word_counter

__all__ = ["rollouts", "rollout", "draw_batch"]

_EPS = 1e-12


def _word(key, rollout, i):
    """Word ``i`` of rollout ``rollout`` (one-element arrays: uint64 arithmetic wraps quietly)."""
    ctr = word_counter(np.array([rollout], dtype=np.uint64), np.array([i], dtype=np.uint64))
    return _rng.splitmix64(np.array([key], dtype=np.uint64), ctr)


def draw_batch(data, v, m, lev, key, rollout, w):
    """One batch of node ``v`` with model ``m`` at level ``lev``: ``(latency, success, cost, w)``.

    ``w`` is the index of the next word of the rollout; the returned one is
    past the words used (:data:`sim.workflow.layout.WORDS_PER_BATCH`, or ``k``
    for records).
    """
    k = int(data.levels[lev])
    row = v * data.n_models + m
    if data.emp[v, m]:
        lo, hi = int(data.rec_ptr[row]), int(data.rec_ptr[row + 1])
        lat, succ, cost = 0.0, False, 0.0
        for _ in range(k):
            u = float(_rng.uniform(_word(key, rollout, w))[0])
            w += 1
            i = lo + min(int(u * (hi - lo)), hi - lo - 1)
            lat = max(lat, float(data.rec_lat[i]))
            succ = succ or bool(data.rec_succ[i])
            cost += float(data.rec_cost[i])
        return lat, succ, cost, w
    u = _rng.uniform(_word(key, rollout, w))
    with np.errstate(divide="ignore"):
        lat = float(table_latency(data.lat_tab[row], float(table_x(u, k)[0])))
    s = float(_rng.uniform(_word(key, rollout, w + 1))[0]) < data.qtab[v, m, lev]
    return lat, bool(s), k * float(data.kappa[v, m]), w + WORDS_PER_BATCH


def rollout(data, start, plans, key, r):
    """Rollout ``r`` of a kernel call: ``(success, cost, time)`` (see the module docstring)."""
    n = data.n
    pair = r // plans.rollouts
    t_idx = int(plans.pair_table[pair])
    a_idx = int(plans.pair_first[pair])
    retry = bool(plans.tab_retry[t_idx])
    cap = plans.tab_cap[t_idx].astype(float).copy()
    everything = (1 << n) - 1
    completed, inflight = int(start.completed), int(start.inflight)
    end = start.end.astype(float).copy()
    succ = np.zeros(n, dtype=bool)
    w = 0
    for v in range(n):
        if inflight >> v & 1:
            u = float(_rng.uniform(_word(key, r, w))[0])
            w += 1
            succ[v] = bool(start.known[v]) or u < start.q[v]
    t, b, used, steps = 0.0, float(start.b), 0.0, 0
    first = a_idx >= 0
    while True:
        if completed == everything:
            return True, used, t
        disp = [v for v in range(n)
                if not (completed >> v & 1) and not (inflight >> v & 1)
                and (int(data.par_mask[v]) & ~completed) == 0]
        if disp:
            if steps >= plans.max_steps:
                return False, used, t
            steps += 1
            batch = []
            total = longest = 0.0
            for v in disp:
                m, lev = int(plans.tab_model[t_idx, v]), int(plans.tab_level[t_idx, v])
                if first and plans.first_model[a_idx, v] >= 0:
                    m, lev = int(plans.first_model[a_idx, v]), int(plans.first_level[a_idx, v])
                lat, s, c, w = draw_batch(data, v, m, lev, key, r, w)
                if c > cap[v] + _EPS:
                    return False, used, t
                total += c
                longest = max(longest, lat)
                batch.append((v, lat, s, c))
            first = False
            if total > b + _EPS or longest > (start.h - t) + _EPS:
                return False, used, t
            b -= total
            used += total
            for v, lat, s, c in batch:
                cap[v] -= c
                inflight |= 1 << v
                end[v] = t + lat
                succ[v] = s
        if inflight == 0:
            return False, used, t
        nxt = min((v for v in range(n) if inflight >> v & 1), key=lambda v: (end[v], v))
        t = float(end[nxt])
        inflight &= ~(1 << nxt)
        if succ[nxt]:
            completed |= 1 << nxt
        elif not retry:
            return False, used, t


def rollouts(data, start, plans, key):
    """Every rollout of a kernel call: ``success`` (uint8), ``cost`` and ``time`` arrays.

    Arguments as in :func:`sim.workflow.kernel_numba.rollouts`.
    """
    total = plans.total
    success = np.zeros(total, dtype=np.uint8)
    cost = np.zeros(total)
    time = np.zeros(total)
    for r in range(total):
        s, c, t = rollout(data, start, plans, key, r)
        success[r], cost[r], time[r] = s, c, t
    return success, cost, time
