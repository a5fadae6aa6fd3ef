"""The Numba rollout kernel: every rollout of a call in parallel, one thread per rollout.

The same phases, words and decisions as the NumPy reference
(:mod:`sim.workflow.reference`, whose docstring describes a rollout) and the
array kernel (:mod:`sim.workflow.kernel_array`); ``docs/models/workflow.md``
(25)-(26).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from sim import rng as _rng
from sim.workflow.layout import WORDS_PER_BATCH, table_latency, table_x, word_counter

__all__ = ["rollouts", "run", "run_serial", "SERIAL_BELOW"]

_EPS = 1e-12


@njit(inline="always")
def _uniform(key, r, w):
    return _rng.uniform(_rng.splitmix64(key, word_counter(uint64(r), uint64(w))))


@njit(cache=True)
def _rollout(r, par_mask, lat_tab, kappa, emp, rec_ptr, rec_lat, rec_succ, rec_cost, levels,
             qtab, n_models, completed0, inflight0, end0, known0, q0, h0, b0, tab_model,
             tab_level, tab_cap, tab_retry, first_model, first_level, pair_table, pair_first,
             per_pair, max_steps, key, cap, end, succ, b_lat, b_succ, b_cost, disp):
    n = par_mask.shape[0]
    pair = r // per_pair
    ti = pair_table[pair]
    ai = pair_first[pair]
    retry = tab_retry[ti] != 0
    everything = (np.int64(1) << np.int64(n)) - np.int64(1)
    completed = completed0
    inflight = inflight0
    for v in range(n):
        cap[v] = tab_cap[ti, v]
        end[v] = end0[v]
        succ[v] = 0
    w = 0
    for v in range(n):
        if (inflight >> v) & 1:
            u = _uniform(key, r, w)
            w += 1
            succ[v] = 1 if (known0[v] != 0 or u < q0[v]) else 0
    t = 0.0
    b = b0
    used = 0.0
    steps = 0
    first = ai >= 0
    while True:
        if completed == everything:
            return 1, used, t
        nd = 0
        for v in range(n):
            if ((completed >> v) & 1) == 0 and ((inflight >> v) & 1) == 0 \
                    and (par_mask[v] & ~completed) == 0:
                disp[nd] = v
                nd += 1
        if nd > 0:
            if steps >= max_steps:
                return 0, used, t
            steps += 1
            total = 0.0
            longest = 0.0
            for i in range(nd):
                v = disp[i]
                m = tab_model[ti, v]
                lev = tab_level[ti, v]
                if first and first_model[ai, v] >= 0:
                    m = first_model[ai, v]
                    lev = first_level[ai, v]
                k = levels[lev]
                row = v * n_models + m
                if emp[v, m] != 0:
                    lo = rec_ptr[row]
                    cnt = rec_ptr[row + 1] - lo
                    lat = 0.0
                    s = 0
                    c = 0.0
                    for _ in range(k):
                        u = _uniform(key, r, w)
                        w += 1
                        j = int(u * cnt)
                        if j > cnt - 1:
                            j = cnt - 1
                        j += lo
                        if rec_lat[j] > lat:
                            lat = rec_lat[j]
                        if rec_succ[j] != 0:
                            s = 1
                        c += rec_cost[j]
                else:
                    u = _uniform(key, r, w)
                    lat = table_latency(lat_tab[row], table_x(u, k))
                    s = 1 if _uniform(key, r, w + 1) < qtab[v, m, lev] else 0
                    c = k * kappa[v, m]
                    w += WORDS_PER_BATCH
                if c > cap[v] + _EPS:
                    return 0, used, t
                total += c
                if lat > longest:
                    longest = lat
                b_lat[i] = lat
                b_succ[i] = s
                b_cost[i] = c
            first = False
            if total > b + _EPS or longest > (h0 - t) + _EPS:
                return 0, used, t
            b -= total
            used += total
            for i in range(nd):
                v = disp[i]
                cap[v] -= b_cost[i]
                inflight |= np.int64(1) << np.int64(v)
                end[v] = t + b_lat[i]
                succ[v] = b_succ[i]
        if inflight == 0:
            return 0, used, t
        nxt = -1
        for v in range(n):
            if (inflight >> v) & 1:
                if nxt < 0 or end[v] < end[nxt]:
                    nxt = v
        t = end[nxt]
        inflight &= ~(np.int64(1) << np.int64(nxt))
        if succ[nxt] != 0:
            completed |= np.int64(1) << np.int64(nxt)
        elif not retry:
            return 0, used, t


@njit(cache=True)
def _chunk(lo, hi, success, cost, time, par_mask, lat_tab, kappa, emp, rec_ptr, rec_lat,
           rec_succ, rec_cost, levels, qtab, n_models, completed0, inflight0, end0, known0, q0,
           h0, b0, tab_model, tab_level, tab_cap, tab_retry, first_model, first_level,
           pair_table, pair_first, per_pair, max_steps, key):
    """Rollouts ``lo .. hi - 1`` with one set of scratch arrays."""
    n = par_mask.shape[0]
    cap = np.empty(n)
    end = np.empty(n)
    succ = np.empty(n, np.uint8)
    b_lat = np.empty(n)
    b_succ = np.empty(n, np.uint8)
    b_cost = np.empty(n)
    disp = np.empty(n, np.int64)
    for r in range(lo, hi):
        s, c, t = _rollout(r, par_mask, lat_tab, kappa, emp, rec_ptr, rec_lat, rec_succ,
                           rec_cost, levels, qtab, n_models, completed0, inflight0, end0,
                           known0, q0, h0, b0, tab_model, tab_level, tab_cap, tab_retry,
                           first_model, first_level, pair_table, pair_first, per_pair,
                           max_steps, key, cap, end, succ, b_lat, b_succ, b_cost, disp)
        success[r] = s
        cost[r] = c
        time[r] = t


@njit(parallel=True, cache=True)
def run(par_mask, lat_tab, kappa, emp, rec_ptr, rec_lat, rec_succ, rec_cost, levels, qtab,
        n_models, completed0, inflight0, end0, known0, q0, h0, b0, tab_model, tab_level,
        tab_cap, tab_retry, first_model, first_level, pair_table, pair_first, per_pair,
        max_steps, key):
    """Every rollout of a call, in parallel chunks; the arrays of :func:`rollouts` unpacked."""
    total = pair_table.shape[0] * per_pair
    success = np.zeros(total, np.uint8)
    cost = np.zeros(total)
    time = np.zeros(total)
    chunks = 64
    size = (total + chunks - 1) // chunks
    for c in prange(chunks):
        lo = c * size
        hi = min(total, lo + size)
        if lo < hi:
            _chunk(lo, hi, success, cost, time, par_mask, lat_tab, kappa, emp, rec_ptr,
                   rec_lat, rec_succ, rec_cost, levels, qtab, n_models, completed0, inflight0,
                   end0, known0, q0, h0, b0, tab_model, tab_level, tab_cap, tab_retry,
                   first_model, first_level, pair_table, pair_first, per_pair, max_steps, key)
    return success, cost, time


@njit(cache=True)
def run_serial(par_mask, lat_tab, kappa, emp, rec_ptr, rec_lat, rec_succ, rec_cost, levels, qtab,
               n_models, completed0, inflight0, end0, known0, q0, h0, b0, tab_model, tab_level,
               tab_cap, tab_retry, first_model, first_level, pair_table, pair_first, per_pair,
               max_steps, key):
    """:func:`run` on one thread: small calls, where starting the threads costs more."""
    total = pair_table.shape[0] * per_pair
    success = np.zeros(total, np.uint8)
    cost = np.zeros(total)
    time = np.zeros(total)
    _chunk(0, total, success, cost, time, par_mask, lat_tab, kappa, emp, rec_ptr, rec_lat,
           rec_succ, rec_cost, levels, qtab, n_models, completed0, inflight0, end0, known0, q0,
           h0, b0, tab_model, tab_level, tab_cap, tab_retry, first_model, first_level,
           pair_table, pair_first, per_pair, max_steps, key)
    return success, cost, time


#: Below this many rollouts a call runs on one thread.
SERIAL_BELOW = 16384


def rollouts(data, start, plans, key):
    """Every rollout of a kernel call, compiled and in parallel.

    Parameters
    ----------
    data : sim.workflow.encode.KernelData
    start : sim.workflow.encode.Start
    plans : sim.workflow.encode.Plans
    key : numpy.uint64
        Stream key of the call.

    Returns
    -------
    success : ndarray of uint8
    cost, time : ndarray of float64
        Per rollout (``pair * rollouts + j``): whether every node completed,
        the cost charged and the time reached (relative to the start).
    """
    fn = run_serial if plans.total < SERIAL_BELOW else run
    return fn(data.par_mask, data.lat_tab, data.kappa, data.emp, data.rec_ptr, data.rec_lat,
               data.rec_succ, data.rec_cost, data.levels, data.qtab, data.n_models,
               np.int64(start.completed), np.int64(start.inflight), start.end, start.known,
               start.q, float(start.h), float(start.b), plans.tab_model, plans.tab_level,
               plans.tab_cap, plans.tab_retry, plans.first_model, plans.first_level,
               plans.pair_table, plans.pair_first, np.int64(plans.rollouts),
               np.int64(plans.max_steps), np.uint64(key))
