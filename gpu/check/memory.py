"""The memory GPU check: the query kernel on CuPy against Numba, and its speed.

The array kernel (:func:`sim.memory.kernel_array.run_queries`) runs on ``xp``
(CuPy, or NumPy with ``--device cpu``) and must give the Numba kernel's sums
bit for bit; the realised accuracy of every policy must agree with its exact
value, ``docs/models/memory.md (12)``, within 4 standard errors.
"""

from __future__ import annotations

import math
import time

import numpy as np

from gpu.check._common import sync as _sync

#: Budgets per query of the checked policies (default pipeline: costs 0..25).
BUDGETS = (5, 10, 15)
#: Queries per array-kernel call, to bound device memory.
CHUNK = 1 << 21


def check(xp, trials, bench_trials, out=print):
    """Query kernel of sim.memory on ``xp`` against Numba.

    Parameters
    ----------
    xp : module
        ``cupy`` or ``numpy``.
    trials, bench_trials : int
        Queries behind the agreement check and the timing.
    out : callable
        Where the report lines go.

    Returns
    -------
    (ok, records) : (bool, list of dict)
        Plain Python values only, so that ``--json`` can print them.
    """
    from sim import rng
    from sim.memory import POLICIES, kernel_array, kernel_numba, policy_tables
    from sim.memory.layout import STREAM
    from theory import memory as th

    p = th.MemoryParams()
    tables, by_truth, _ = policy_tables(p, BUDGETS)
    stacked = np.ascontiguousarray(np.concatenate([tables[n] for n in POLICIES]))
    truth = np.repeat([by_truth[n] for n in POLICIES], len(BUDGETS))
    success = np.ascontiguousarray(np.stack([p.easy, p.hard], axis=1))
    costs = np.asarray(p.costs, dtype=np.int64)
    key = rng.stream_key(1, STREAM)
    args = (stacked, truth, success, costs, p.hard_share, p.signal)

    def on_device(n):
        total = np.zeros((3, stacked.shape[0]), dtype=np.int64)
        for lo in range(0, n, CHUNK):
            part = kernel_array.run_queries(xp, *args, lo, min(n, lo + CHUNK), key)
            total += np.asarray([x.get() if hasattr(x, "get") else x for x in part])
        return total

    dev = on_device(trials)
    cpu = np.asarray(kernel_numba.run_queries(*args, 0, trials, key))
    same = bool(np.array_equal(dev, cpu))
    acc = dev[0] / trials
    exact = np.array([th.routed_accuracy(t, p.easy, p.hard, p.hard_share,
                                         1.0 if b else p.signal)
                      for t, b in zip(stacked, truth)])
    se = np.sqrt(np.maximum(acc * (1 - acc), 1e-300) / trials)
    z = float(np.max(np.abs((acc - exact) / se)))
    ok = bool(same and z <= 4)
    out(f"  identical sums={same}; {stacked.shape[0]} policies, largest |z| of accuracy against "
        f"the exact sum {z:.2f}  {'ok' if ok else 'FAIL'}")
    on_device(min(bench_trials, 1024))
    _sync(xp)
    t0 = time.perf_counter()
    on_device(bench_trials)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    kernel_numba.run_queries(*args, 0, 1024, key)
    t0 = time.perf_counter()
    kernel_numba.run_queries(*args, 0, bench_trials, key)
    dt_cpu = time.perf_counter() - t0
    rate = bench_trials * stacked.shape[0]
    out(f"  throughput: {xp.__name__} {rate / dt_dev:.3e} routed queries/s, numba "
        f"{rate / dt_cpu:.3e} routed queries/s ({bench_trials} queries x {stacked.shape[0]} "
        "policies)")
    return ok, [dict(identical=same, max_abs_z=z, policies=float(stacked.shape[0]),
                     queries_per_s_device=float(rate / dt_dev),
                     queries_per_s_numba=float(rate / dt_cpu),
                     speedup=float(dt_cpu / dt_dev) if dt_dev > 0 else math.inf)]
