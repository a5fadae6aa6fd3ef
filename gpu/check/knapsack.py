"""The knapsack GPU check: the rollout kernel on CuPy against Numba, and its speed."""

from __future__ import annotations

import time

import numpy as np

from gpu.check._common import sync as _sync

def check(xp, trials, bench_trials, out=print):
    """Rollout kernel of sim.knapsack on ``xp`` against Numba; returns (ok, records)."""
    from gpu import knapsack as gpu_knapsack
    from sim import knapsack as sim_knapsack
    from sim import rng
    from theory import knapsack as th

    gen = np.random.default_rng(0)
    p = gen.uniform(0.0, 1.0, 256)
    N = sim_knapsack.allocate_greedy_numba(p, 2048, 2, 128)
    key = rng.stream_key(1, "knapsack/rollouts")
    reps = max(2, trials // 256)
    k_dev = gpu_knapsack.successes(N, p, reps, key, xp=xp)
    k_cpu = sim_knapsack.mixed_groups(N, p, reps, seed=1, backend="numba")
    same = bool(np.array_equal(k_dev, k_cpu))
    mixed = ((k_dev > 0) & (k_dev < N)).astype(float)
    egr = (mixed * N).sum(axis=1) / N.sum()
    expected = float(th.effective_gradient_ratio(N, p))
    z = (egr.mean() - expected) / (egr.std(ddof=1) / np.sqrt(reps))
    ok = same and abs(z) <= 4
    out(f"  identical successes={same}; EGR {egr.mean():.5f} vs expected {expected:.5f} "
        f"(z={z:+.2f})  {'ok' if ok else 'FAIL'}")
    breps = max(2, bench_trials // 256)
    gpu_knapsack.successes(N, p, 2, key, xp=xp)
    _sync(xp)
    t0 = time.perf_counter()
    gpu_knapsack.successes(N, p, breps, key, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim_knapsack.mixed_groups(N, p, breps, seed=1, backend="numba")
    dt_cpu = time.perf_counter() - t0
    rollouts = breps * int(N.sum())
    out(f"  throughput: {xp.__name__} {rollouts / dt_dev:.3e} rollouts/s, "
        f"numba {rollouts / dt_cpu:.3e} rollouts/s ({breps} batches of 256 prompts)")
    return ok, [dict(identical=same, egr=float(egr.mean()), expected=expected, z=float(z),
                     rollouts_per_s_device=rollouts / dt_dev,
                     rollouts_per_s_numba=rollouts / dt_cpu)]
