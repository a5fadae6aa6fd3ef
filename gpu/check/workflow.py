"""The workflow GPU check: batched continuation rollouts on CuPy against Numba, and their speed.

Two agreement cases run the array kernel (:mod:`sim.workflow.kernel_array`)
on ``xp`` (CuPy, or NumPy with ``--device cpu``) beside the Numba kernel:

* one planner decision on the default 10-node layered workflow with two models
  (every candidate action of the first decision times every base policy, the
  default ``M = 64`` rollouts each, continuation rollouts batched): the success
  of every rollout must be identical and the cost and time equal to rounding
  (NumPy's and the compiled ``log`` may differ in the last bit);
* Seq-4 on a chain of 5 identical nodes with deterministic latency: the
  completion must be identical on both and within 4 standard errors of the
  exact ``I_q(n, N_max - n + 1)`` (``docs/models/workflow.md (22)``).

The timing runs the decision's rollouts ``bench_trials // 64`` times over and
reports continuation rollouts per second on ``xp`` and with Numba.
"""

from __future__ import annotations

import math
import time

import numpy as np

from gpu.check._common import sync as _sync


def _decision(xp_rollouts):
    """The first planner decision of the default workflow with two models, as one kernel call."""
    from sim import rng
    from sim.workflow import encode, make_plans, start_state, synthetic
    from sim.workflow.layout import STREAM_PLAN
    from sim.workflow.planner import candidate_actions
    from theory.workflow import WorkflowParams

    params = WorkflowParams(models=2)
    wf = synthetic(params)
    data = encode(wf, params.latency_law, params.k_values)
    disp = [v for v in range(wf.n) if not wf.parents[v]]
    actions, _, _ = candidate_actions(disp, wf.n_models, params.k_values, params.free_nodes,
                                      params.candidates_cap, np.random.default_rng(0))
    lev = {k: data.level(k) for k in params.k_values}
    firsts = []
    for a in actions:
        fm = np.full(wf.n, -1)
        fl = np.full(wf.n, -1)
        for v, (m, k) in a.items():
            fm[v], fl[v] = m, lev[k]
        firsts.append((fm, fl))
    tables = [(m, lev[k], np.inf, True) for m in range(wf.n_models) for k in params.k_values]
    pairs = [(t, a) for a in range(len(actions)) for t in range(len(tables))]
    plans = make_plans(wf.n, tables, firsts, pairs, rollouts=xp_rollouts)
    start = start_state(wf.n, params.deadline, params.budget)
    return data, start, plans, rng.stream_key(1, STREAM_PLAN)


def _host(x):
    return x.get() if hasattr(x, "get") else np.asarray(x)


def check(xp, trials, bench_trials, out=print):
    """Continuation rollouts of sim.workflow on ``xp`` against Numba.

    Parameters
    ----------
    xp : module
        ``cupy`` or ``numpy``.
    trials : int
        Episodes of the chain case (at least 64).
    bench_trials : int
        Rollouts of the timing (a multiple of one decision's pairs).
    out : callable
        Where the report lines go.

    Returns
    -------
    (ok, records) : (bool, list of dict)
        Plain Python values only, so that ``--json`` can print them.
    """
    from sim import rng
    from sim.workflow import (
        encode,
        fixed_policy,
        kernel_array,
        kernel_numba,
        make_plans,
        start_state,
        synthetic,
    )
    from theory.workflow import WorkflowParams, seq_chain_success

    data, start, plans, key = _decision(64)
    dev = [_host(x) for x in kernel_array.rollouts(xp, data, start, plans, key)]
    cpu = kernel_numba.rollouts(data, start, plans, key)
    same = bool(np.array_equal(dev[0], cpu[0]))
    close = bool(np.allclose(dev[1], cpu[1], rtol=1e-12, atol=1e-9)
                 and np.allclose(dev[2], cpu[2], rtol=1e-12, atol=1e-9))
    out(f"  decision: {plans.pair_table.size} pairs x 64 rollouts; identical successes={same}, "
        f"cost and time to rounding={close}")
    chain = WorkflowParams(shape="chain", nodes=5, p=0.5, latency=1.0, latency_sd=0.0,
                           cost=1.0, budget=1000.0, deadline=6.0)
    wf = synthetic(chain)
    cdata = encode(wf, chain.latency_law, (4,))
    pol = fixed_policy("seq:4", wf, chain.budget)
    cplans = make_plans(wf.n, [pol.table(cdata)], rollouts=max(64, int(trials)))
    cstart = start_state(wf.n, chain.deadline, chain.budget)
    ckey = rng.stream_key(2, "workflow/gpu-check")
    s_dev = _host(kernel_array.rollouts(xp, cdata, cstart, cplans, ckey)[0])
    s_cpu = kernel_numba.rollouts(cdata, cstart, cplans, ckey)[0]
    exact = float(seq_chain_success(chain, k=4))
    got = float(s_dev.mean())
    z = (got - exact) / max(math.sqrt(exact * (1 - exact) / s_dev.size), 1e-12)
    chain_same = bool(np.array_equal(s_dev, s_cpu))
    out(f"  chain Seq-4: {got:.5f} vs exact {exact:.5f} (z={z:+.2f}), identical={chain_same}")
    ok = bool(same and close and chain_same and abs(z) <= 4)
    reps = max(1, int(bench_trials) // 64)
    bdata, bstart, bplans, bkey = _decision(reps)
    kernel_array.rollouts(xp, bdata, bstart, _small(bplans), bkey)
    _sync(xp)
    t0 = time.perf_counter()
    kernel_array.rollouts(xp, bdata, bstart, bplans, bkey)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    kernel_numba.rollouts(bdata, bstart, _small(bplans), bkey)
    t0 = time.perf_counter()
    kernel_numba.rollouts(bdata, bstart, bplans, bkey)
    dt_cpu = time.perf_counter() - t0
    n = bplans.total
    out(f"  throughput: {xp.__name__} {n / dt_dev:.3e} rollouts/s, numba {n / dt_cpu:.3e} "
        f"rollouts/s ({n} continuation rollouts of one decision, {reps} per pair)")
    return ok, [dict(identical=same, close=close, chain_identical=chain_same, chain=got,
                     exact=exact, z=float(z), rollouts_per_s_device=float(n / dt_dev),
                     rollouts_per_s_numba=float(n / dt_cpu))]


def _small(plans):
    """``plans`` with one rollout per pair (a warm-up call)."""
    from dataclasses import replace

    return replace(plans, rollouts=1)
