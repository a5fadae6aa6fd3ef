"""The phase GPU check: the array kernel on CuPy against the Numba kernel, bit for bit."""

from __future__ import annotations

import time

import numpy as np

from gpu.check._common import sync as _sync
from sim import phase as sim_phase
from sim.phase.kernel_array import tree_words
from theory.phase import PhaseParams

#: Largest z-score of a case's root accuracy against the theory.
MAX_Z = 4.0


def check(xp, trials, bench_trials, out=print):
    """Agreement and throughput of the array kernel against Numba; returns (ok, records).

    The array kernel (:mod:`sim.phase.kernel_array`) runs on ``xp`` (CuPy on a
    GPU, NumPy with ``--device cpu``) for four configurations, one per
    correlation model and with a root channel, and must return the Numba
    kernel's words bit for bit, with a root accuracy within ``MAX_Z``
    standard errors of the theory; then both kernels are timed.
    """

    cases = [
        PhaseParams(b=3, rho=0.3, gamma=0.9, depth=8, p0=0.6),
        PhaseParams(b=5, rho=0.2, gamma=0.8, depth=4, p0=0.55, root_channel=True),
        PhaseParams(b=3, rho=0.3, gamma=0.9, depth=6, p0=0.55, correlation="item"),
        PhaseParams(b=3, rho=0.3, gamma=1.0, depth=6, p0=0.55, correlation="shock",
                    rho_node=0.2),
    ]
    ok = True
    records = []
    for i, params in enumerate(cases):
        seed = 1000 + i
        w_dev = tree_words(params, trials, seed, xp=xp)
        w_cpu = sim_phase.tree_words_numba(params, trials, seed)
        same = bool(np.array_equal(w_dev, w_cpu))
        root = sim_phase.unpack_levels(w_dev, trials)[-1]
        p_sim = float(root.mean())
        p_th = float(sim_phase.theory_accuracy(params)[-1])
        se = (p_th * (1 - p_th) / trials) ** 0.5
        z = (p_sim - p_th) / se if se > 0 else 0.0
        good = same and abs(z) <= MAX_Z
        ok &= good
        records.append(dict(case=i, correlation=params.correlation, b=params.b,
                            depth=params.depth, identical=same, p_sim=p_sim,
                            p_theory=p_th, z=z, ok=good))
        out(f"  case {i}: {params.correlation:8s} b={params.b} depth={params.depth} "
            f"identical words={same}  root p_sim={p_sim:.5f} theory={p_th:.5f} "
            f"z={z:+.2f}  {'ok' if good else 'FAIL'}")

    params = cases[0]
    leaves = params.b ** params.depth
    tree_words(params, 64 * 16, 1, xp=xp)  # warm-up
    _sync(xp)
    t0 = time.perf_counter()
    tree_words(params, bench_trials, 2, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    sim_phase.tree_words_numba(params, 64 * 16, 1)  # compile
    cpu_trials = bench_trials if xp is np else min(bench_trials, 1 << 20)
    t0 = time.perf_counter()
    sim_phase.tree_words_numba(params, cpu_trials, 2)
    dt_cpu = time.perf_counter() - t0
    rate_dev = bench_trials * leaves / dt_dev
    rate_cpu = cpu_trials * leaves / dt_cpu
    out(f"  throughput (b=3, depth 8, herding, rho=0.3, gamma=0.9): "
        f"{xp.__name__} {rate_dev:.3e} leaf-votes/s ({bench_trials} trees), "
        f"numba {rate_cpu:.3e} leaf-votes/s ({cpu_trials} trees), "
        f"ratio {rate_dev / rate_cpu:.2f}")
    records.append(dict(throughput_device=rate_dev, throughput_numba=rate_cpu,
                        ratio=rate_dev / rate_cpu, device_trials=bench_trials,
                        numba_trials=cpu_trials))
    return ok, records
