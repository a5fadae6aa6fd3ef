"""The knapsack GPU check: the rollout kernel on CuPy against Numba, its speed, and DUET's draws.

The array kernel (:func:`sim.knapsack.kernel_array.successes`) runs on ``xp``
(CuPy, or NumPy with ``--device cpu``) and must give the Numba kernel's
successes bit for bit; the realised effective-gradient ratio must agree with
its expectation, ``docs/models/knapsack.md (12)``, within 4 standard errors.
The DUET draws (:func:`sim.knapsack.kernel_array.duet_draws`) on ``xp`` must
equal NumPy's bit for bit, and the DUET simulation run on ``xp`` must find
every estimator of the batch gradient within 4 standard errors of its
expectation, ``docs/models/knapsack.md (32)``.
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
    rec = dict(part="rollouts", identical=same, egr=float(egr.mean()), expected=expected, z=z,
               rollouts_per_s_device=float(rollouts / dt_dev),
               rollouts_per_s_numba=float(rollouts / dt_cpu))
    ok_duet, rec_duet = _duet(xp, max(2, trials // 4096), out)
    return bool(ok and ok_duet), [rec, rec_duet]


def _duet(xp, reps, out):
    """DUET's draws on ``xp`` against NumPy's, and the simulation's estimators on ``xp``."""
    from sim import rng
    from sim.knapsack import kernel_array, simulate_duet
    from sim.knapsack.layout import DUET_STREAM
    from theory.knapsack.duet import DuetSimParams

    gen = np.random.default_rng(2)
    n = gen.integers(1, 33, 64)
    p = gen.uniform(0.0, 1.0, 64)
    key = rng.stream_key(3, DUET_STREAM)
    dev = kernel_array.duet_draws(xp, n, p, 0.05, reps, key)
    host = kernel_array.duet_draws(np, n, p, 0.05, reps, key)
    same = all(bool(np.array_equal(d.get() if hasattr(d, "get") else d, h))
               for d, h in zip(dev, host))
    backend = "numpy" if xp is np else xp.__name__
    df = simulate_duet(DuetSimParams(prompts=32), trials=max(200, reps), seed=1,
                       backend=backend)
    zmax = float(df.z.abs().max())
    ok = bool(same and zmax <= 4)
    out(f"  DUET: identical draws={same}; {len(df)} estimators within {zmax:.2f} SE of their "
        f"expectation  {'ok' if ok else 'FAIL'}")
    return ok, dict(part="duet", identical=same, z=zmax, trials=int(max(200, reps)))
