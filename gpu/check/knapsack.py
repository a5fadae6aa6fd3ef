"""The knapsack GPU check: the rollout kernel on CuPy against Numba, and its speed.

The array kernel (:func:`sim.knapsack.kernel_array.successes`) runs on ``xp``
(CuPy, or NumPy with ``--device cpu``) and must give the Numba kernel's
successes bit for bit; the realised effective-gradient ratio must agree with
its expectation, ``docs/models/knapsack.md (12)``, within 4 standard errors.
"""

from __future__ import annotations

import time

import numpy as np

from gpu.check._common import sync as _sync

#: Prompts of the checked batch (the authors' batch size).
PROMPTS = 256


def check(xp, trials, bench_trials, out=print):
    """Rollout kernel of sim.knapsack on ``xp`` against Numba.

    Parameters
    ----------
    xp : module
        ``cupy`` or ``numpy``.
    trials, bench_trials : int
        Rollouts of batches behind the agreement check and the timing
        (``trials // 256`` and ``bench_trials // 256`` batch replicates).
    out : callable
        Where the report lines go.

    Returns
    -------
    (ok, records) : (bool, list of dict)
        Plain Python values only, so that ``--json`` can print them.
    """
    from sim import rng
    from sim.knapsack import allocate_greedy_numba, kernel_array, kernel_numba
    from sim.knapsack.layout import STREAM
    from theory import knapsack as th

    gen = np.random.default_rng(0)
    p = gen.uniform(0.0, 1.0, PROMPTS)
    N = allocate_greedy_numba(p, 8 * PROMPTS, 2, 128)
    key = rng.stream_key(1, STREAM)

    def on_device(reps):
        k = kernel_array.successes(xp, N, p, reps, key)
        return k.get() if hasattr(k, "get") else k

    reps = max(2, trials // PROMPTS)
    k_dev = on_device(reps)
    k_cpu = kernel_numba.successes(N, p, reps, key)
    same = bool(np.array_equal(k_dev, k_cpu))
    mixed = ((k_dev > 0) & (k_dev < N)).astype(float)
    egr = (mixed * N).sum(axis=1) / N.sum()
    expected = float(th.effective_gradient_ratio(N, p))
    z = float((egr.mean() - expected) / (egr.std(ddof=1) / np.sqrt(reps)))
    ok = bool(same and abs(z) <= 4)
    out(f"  identical successes={same}; EGR {egr.mean():.5f} vs expected {expected:.5f} "
        f"(z={z:+.2f})  {'ok' if ok else 'FAIL'}")
    breps = max(2, bench_trials // PROMPTS)
    on_device(2)
    _sync(xp)
    t0 = time.perf_counter()
    on_device(breps)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    kernel_numba.successes(N, p, 2, key)
    t0 = time.perf_counter()
    kernel_numba.successes(N, p, breps, key)
    dt_cpu = time.perf_counter() - t0
    rollouts = breps * int(N.sum())
    out(f"  throughput: {xp.__name__} {rollouts / dt_dev:.3e} rollouts/s, "
        f"numba {rollouts / dt_cpu:.3e} rollouts/s ({breps} batches of {PROMPTS} prompts)")
    return ok, [dict(identical=same, egr=float(egr.mean()), expected=expected, z=z,
                     rollouts_per_s_device=float(rollouts / dt_dev),
                     rollouts_per_s_numba=float(rollouts / dt_cpu))]
