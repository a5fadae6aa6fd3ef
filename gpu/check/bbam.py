"""The bbam GPU check: the array outcome kernel on CuPy against the Numba kernel, and its speed.

The array kernel (:func:`sim.bbam.kernel_array.outcomes_array`) and the Numba
kernel (:func:`sim.bbam.kernel_numba.outcomes_numba`) draw the same uniforms
(docs/models/bbam.md, "Counter layout"), so their solved flags must agree and
their tokens agree to the last bit of ``pow``.
"""

from __future__ import annotations

import time

import numpy as np

from gpu.check._common import sync as _sync

#: Allocators whose outcomes are compared: static caps of two closed forms, the
#: global pool (sequential) and a rounded schedule.
ALLOCATORS = ("exact", "paper", "global", "polynomial")


def check(xp, trials, bench_trials, out=print):
    """Outcome kernel of sim.bbam on ``xp`` against Numba; returns ``(ok, records)``."""
    from sim import bbam as sim_bbam
    from sim import rng
    from sim.bbam.kernel_array import outcomes_on
    from sim.bbam.layout import STREAM

    params = sim_bbam.BbamParams(budget=300.0, synthesis="majority")
    bench_trials = min(bench_trials, 1 << 22)  # host memory for the question arrays
    ok = True
    records = []
    q = sim_bbam.sample_questions(params, trials, seed=1)
    key = rng.stream_key(1, STREAM)
    for name, b in sim_bbam.allocations(params, q, ALLOCATORS).items():
        s_dev, t_dev = outcomes_on(xp, params, q, b, key)
        s_cpu, t_cpu = sim_bbam.outcomes(params, q, b, seed=1, backend="numba")
        same = float(np.mean(s_dev == s_cpu))
        tok = float(np.max(np.abs(t_dev - t_cpu) / np.maximum(t_cpu, 1.0)))
        good = same == 1.0 and tok < 1e-12
        ok &= good
        records.append(dict(allocator=name, identical_fraction=same, max_rel_token_diff=tok,
                            ok=good))
        out(f"  {name:10s} identical outcomes {same:.6f}, max relative token difference "
            f"{tok:.1e}  {'ok' if good else 'FAIL'}")
    qb = sim_bbam.sample_questions(params, bench_trials, seed=2)
    b = sim_bbam.allocations(params, qb, ("exact",))["exact"]
    outcomes_on(xp, params, qb, b, key)
    _sync(xp)
    t0 = time.perf_counter()
    outcomes_on(xp, params, qb, b, key)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    sim_bbam.outcomes(params, qb, b, seed=2, backend="numba")
    t0 = time.perf_counter()
    sim_bbam.outcomes(params, qb, b, seed=2, backend="numba")
    dt_cpu = time.perf_counter() - t0
    out(f"  throughput: {xp.__name__} {bench_trials / dt_dev:.3e} questions/s, "
        f"numba {bench_trials / dt_cpu:.3e} questions/s ({bench_trials} questions)")
    records.append(dict(questions_per_s_device=bench_trials / dt_dev,
                        questions_per_s_numba=bench_trials / dt_cpu))
    return ok, records
