"""The rollout kernel on whole arrays, for NumPy or CuPy (``xp``): all rollouts step together.

Every rollout of a call is one entry of the state arrays; each pass of the
loop runs one launch phase and one advance phase (the reference's
:mod:`sim.workflow.reference`, whose docstring describes a rollout) for every
rollout still running, node by node in node order, so each rollout draws the
same words in the same order as in the Numba kernel and makes the same
decisions. Finished rollouts are dropped from the arrays when fewer than half
remain. The CuPy backend is this function run on CuPy arrays
(``sim.backends.array_module("cupy")``); ``docs/models/workflow.md`` (25)-(26).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.workflow.layout import (
    GRID,
    ROLLOUT_SHIFT,
    WORDS_PER_BATCH,
    table_latency_array,
    table_x,
)

__all__ = ["rollouts"]

_EPS = 1e-12


def rollouts(xp, data, start, plans, key):
    """Every rollout of a kernel call on ``xp`` arrays.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    data, start, plans, key
        As in :func:`sim.workflow.kernel_numba.rollouts`.

    Returns
    -------
    success : uint8 array of ``xp``
    cost, time : float64 arrays of ``xp``
        Per rollout, as the Numba kernel returns them.
    """
    n, nm = data.n, data.n_models
    total = plans.total
    a = {name: xp.asarray(getattr(data, name)) for name in
         ("par_mask", "lat_tab", "kappa", "emp", "rec_ptr", "rec_lat", "rec_succ", "rec_cost",
          "levels", "qtab")}
    lat_flat = a["lat_tab"]
    assert lat_flat.shape[1] == GRID + 1
    tm, tl, tc = xp.asarray(plans.tab_model), xp.asarray(plans.tab_level), \
        xp.asarray(plans.tab_cap)
    tr = xp.asarray(plans.tab_retry)
    fm, fl = xp.asarray(plans.first_model), xp.asarray(plans.first_level)
    key = np.uint64(key)
    shift = np.uint64(ROLLOUT_SHIFT)

    out_s = xp.zeros(total, dtype=np.uint8)
    out_c = xp.zeros(total, dtype=np.float64)
    out_t = xp.zeros(total, dtype=np.float64)

    rid = xp.arange(total, dtype=np.int64)
    pair = rid // plans.rollouts
    ti = xp.asarray(plans.pair_table)[pair]
    ai = xp.asarray(plans.pair_first)[pair]
    retry = tr[ti] != 0
    cap = tc[ti].copy()
    completed = xp.full(total, int(start.completed), dtype=np.int64)
    inflight = xp.full(total, int(start.inflight), dtype=np.int64)
    end = xp.tile(xp.asarray(start.end, dtype=np.float64), (total, 1))
    succ = xp.zeros((total, n), dtype=bool)
    w = xp.zeros(total, dtype=np.uint64)
    base = rid.astype(np.uint64) << shift
    everything = (1 << n) - 1
    one = np.int64(1)

    def uniform(rows):
        return _rng.uniform(_rng.splitmix64(key, base[rows] + w[rows]))

    known = xp.asarray(start.known)
    q0 = xp.asarray(start.q)
    allrows = xp.arange(total)
    for v in range(n):
        if (int(start.inflight) >> v) & 1:
            u = uniform(allrows)
            w += np.uint64(1)
            succ[:, v] = (known[v] != 0) | (u < q0[v])

    t = xp.zeros(total)
    b = xp.full(total, float(start.b))
    used = xp.zeros(total)
    steps = xp.zeros(total, dtype=np.int64)
    first = ai >= 0
    h0 = float(start.h)
    state = [rid, ti, ai, retry, cap, completed, inflight, end, succ, w, base, t, b, used, steps,
             first]

    def finish(mask, ok):
        out_s[rid[mask]] = 1 if ok else 0
        out_c[rid[mask]] = used[mask]
        out_t[rid[mask]] = t[mask]

    alive = xp.ones(total, dtype=bool)
    while True:
        (rid, ti, ai, retry, cap, completed, inflight, end, succ, w, base, t, b, used, steps,
         first) = state
        done = alive & (completed == everything)
        if bool(done.any()):
            finish(done, True)
            alive &= ~done
        bits = [((completed >> v) & 1) == 0 for v in range(n)]
        disp = xp.stack([alive & bits[v] & (((inflight >> v) & 1) == 0)
                         & ((a["par_mask"][v] & ~completed) == 0) for v in range(n)], axis=1)
        launching = disp.any(axis=1)
        over = launching & (steps >= plans.max_steps)
        if bool(over.any()):
            finish(over, False)
            alive &= ~over
            launching &= ~over
            disp &= launching[:, None]
        steps = steps + launching.astype(np.int64)
        total_c = xp.zeros(t.shape[0])
        longest = xp.zeros(t.shape[0])
        b_lat = xp.zeros((t.shape[0], n))
        b_succ = xp.zeros((t.shape[0], n), dtype=bool)
        b_cost = xp.zeros((t.shape[0], n))
        for v in range(n):
            rows = xp.nonzero(disp[:, v] & alive)[0]
            if rows.size == 0:
                continue
            m = tm[ti[rows], v]
            lev = tl[ti[rows], v]
            use_first = first[rows] & (ai[rows] >= 0)
            if bool(use_first.any()):
                fa = xp.where(use_first, ai[rows], 0)
                m = xp.where(use_first & (fm[fa, v] >= 0), fm[fa, v], m)
                lev = xp.where(use_first & (fm[fa, v] >= 0), fl[fa, v], lev)
            k = a["levels"][lev]
            is_emp = a["emp"][v, m] != 0
            lat = xp.zeros(rows.size)
            s = xp.zeros(rows.size, dtype=bool)
            c = xp.zeros(rows.size)
            par = xp.nonzero(~is_emp)[0]
            if par.size:
                pr = rows[par]
                u = uniform(pr)
                with np.errstate(divide="ignore"):
                    x = table_x(u, k[par])
                lat[par] = table_latency_array(xp, lat_flat, v * nm + m[par], x)
                w[pr] += np.uint64(1)
                s[par] = uniform(pr) < a["qtab"][v, m[par], lev[par]]
                w[pr] += np.uint64(WORDS_PER_BATCH - 1)
                c[par] = k[par] * a["kappa"][v, m[par]]
            emp = xp.nonzero(is_emp)[0]
            if emp.size:
                er = rows[emp]
                row = v * nm + m[emp]
                lo = a["rec_ptr"][row]
                cnt = a["rec_ptr"][row + 1] - lo
                ke = k[emp]
                le, se, ce = xp.zeros(emp.size), xp.zeros(emp.size, dtype=bool), \
                    xp.zeros(emp.size)
                for j in range(int(ke.max())):
                    act = xp.nonzero(ke > j)[0]
                    ar = er[act]
                    u = uniform(ar)
                    w[ar] += np.uint64(1)
                    idx = xp.minimum(xp.floor(u * cnt[act]).astype(np.int64), cnt[act] - 1)
                    idx = idx + lo[act]
                    le[act] = xp.maximum(le[act], a["rec_lat"][idx])
                    se[act] = se[act] | (a["rec_succ"][idx] != 0)
                    ce[act] = ce[act] + a["rec_cost"][idx]
                lat[emp], s[emp], c[emp] = le, se, ce
            capfail = c > cap[rows, v] + _EPS
            if bool(capfail.any()):
                bad = xp.zeros(t.shape[0], dtype=bool)
                bad[rows[capfail]] = True
                finish(bad, False)
                alive &= ~bad
            total_c[rows] += c
            longest[rows] = xp.maximum(longest[rows], lat)
            b_lat[rows, v] = lat
            b_succ[rows, v] = s
            b_cost[rows, v] = c
        launching &= alive
        infeasible = launching & ((total_c > b + _EPS) | (longest > (h0 - t) + _EPS))
        if bool(infeasible.any()):
            finish(infeasible, False)
            alive &= ~infeasible
            launching &= ~infeasible
        disp &= launching[:, None]
        b = xp.where(launching, b - total_c, b)
        used = xp.where(launching, used + total_c, used)
        cap = xp.where(disp, cap - b_cost, cap)
        end = xp.where(disp, t[:, None] + b_lat, end)
        succ = xp.where(disp, b_succ, succ)
        for v in range(n):
            inflight = xp.where(disp[:, v], inflight | (one << np.int64(v)), inflight)
        first = first & ~launching
        stalled = alive & (inflight == 0)
        if bool(stalled.any()):
            finish(stalled, False)
            alive &= ~stalled
        if not bool(alive.any()):
            break
        in_bits = xp.stack([((inflight >> v) & 1) != 0 for v in range(n)], axis=1)
        masked = xp.where(in_bits, end, np.inf)
        nxt = xp.argmin(masked, axis=1)
        ar = xp.arange(t.shape[0])
        t = xp.where(alive, masked[ar, nxt], t)
        bit = one << nxt.astype(np.int64)
        inflight = xp.where(alive, inflight & ~bit, inflight)
        ok = succ[ar, nxt]
        completed = xp.where(alive & ok, completed | bit, completed)
        dead = alive & ~ok & ~retry
        if bool(dead.any()):
            finish(dead, False)
            alive &= ~dead
        state = [rid, ti, ai, retry, cap, completed, inflight, end, succ, w, base, t, b, used,
                 steps, first]
        keep = xp.nonzero(alive)[0]
        if keep.size == 0:
            break
        if keep.size * 2 < alive.shape[0]:
            state = [x[keep] for x in state]
            alive = alive[keep]
    return out_s, out_c, out_t
