"""The coop GPU check: the repeated-play array kernel on CuPy against the Numba kernel.

The kernels draw the same words from the same counters; the logarithm and
cosine of the normal may differ in the last bit between CUDA and the CPU
library, so efforts are compared to 1e-12 (relative to their size) and
reported as identical when they are equal bit for bit.
"""

from __future__ import annotations

import time

import numpy as np

from gpu.check._common import sync as _sync

#: Rounds played in each agreement case and in the timing.
ROUNDS = 6


def _play(kernel, a, T, p, noise, key, rounds):
    for r in range(rounds):
        kernel(a, T, p.a_min, p.a_max, noise, key, r)
    return a


def check(xp, trials, bench_trials, out=print):
    """Agreement, theory and throughput of the array kernel against Numba; returns (ok, records).

    Two cases of ``trials`` teams: a heterogeneous team without noise, whose
    aggregate must reach the equilibrium of docs/models/coop.md (15), and a
    symmetric team far from its bounds with noise, where after every round
    the aggregate is the last mover's target plus its noise, so ``S - S*``
    must have mean 0 and standard deviation ``noise`` (docs/models/coop.md
    (22)).
    """
    from sim import rng
    from sim.coop import kernel_array, kernel_numba
    from sim.coop.core import STREAM
    from theory.coop import CoopParams, solve

    host = (lambda x: x) if xp is np else xp.asnumpy
    cases = [
        ("heterogeneous, no noise", 0.0,
         CoopParams(omega=10, beta=0.6, c=1.0, n=4, theta=(0.6, 0.4, 0.2, 0.1), a_min=0.01,
                    welfare_mode="mean")),
        ("symmetric, noise 0.5", 0.5,
         CoopParams(omega=100, beta=0.5, c=1.0, n=4, theta=(0.5,) * 4, a_max=1e6)),
    ]
    ok, records = True, []
    for i, (name, noise, p) in enumerate(cases):
        key = rng.stream_key(100 + i, STREAM)
        T = np.tile(p.targets, (trials, 1))
        start = np.tile(p.targets / p.n, (trials, 1)) if noise else np.full_like(T, 25.0)
        a_cpu = _play(kernel_numba.play_round, start.copy(), T, p, noise, key, 2 * ROUNDS)
        a_dev = _play(lambda *args: kernel_array.play_round(xp, *args), xp.asarray(start),
                      xp.asarray(T), p, noise, key, 2 * ROUNDS)
        a_dev = host(a_dev)
        same = bool(np.array_equal(a_dev, a_cpu))
        diff = float(np.abs(a_dev - a_cpu).max())
        agree = diff <= 1e-12 * max(1.0, float(np.abs(a_cpu).max()))
        dev = a_dev.sum(axis=1) - float(solve(p).aggregate)
        if noise == 0.0:
            z = float(np.abs(dev).max())
            theory_ok = z < 1e-9
            what = f"max |S - S*| = {z:.1e}"
        else:
            se = noise / np.sqrt(trials)
            z = float(dev.mean() / se)
            sd_z = float((dev.std() - noise) / (noise / np.sqrt(2 * trials)))
            theory_ok = abs(z) <= 4 and abs(sd_z) <= 5
            what = f"S - S*: mean z={z:+.2f}, sd {dev.std():.4f} (z={sd_z:+.2f})"
        good = agree and theory_ok
        ok &= good
        records.append(dict(case=name, identical=same, max_difference=diff, theory_ok=theory_ok,
                            statistic=z, ok=good))
        out(f"  case {i} ({name}): identical efforts={same}, max difference {diff:.1e}; "
            f"{what}  {'ok' if good else 'FAIL'}")

    p = cases[1][2]
    key = rng.stream_key(7, STREAM)
    T = np.tile(p.targets, (bench_trials, 1))
    start = T / p.n
    kernel_array.play_round(xp, xp.asarray(start[:64]), xp.asarray(T[:64]), p.a_min, p.a_max,
                            0.5, key, 0)  # warm-up
    a_dev, T_dev = xp.asarray(start), xp.asarray(T)
    _sync(xp)
    t0 = time.perf_counter()
    _play(lambda *args: kernel_array.play_round(xp, *args), a_dev, T_dev, p, 0.5, key, ROUNDS)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    cpu_teams = bench_trials if xp is np else min(bench_trials, 1 << 20)
    kernel_numba.play_round(start[:64].copy(), T[:64], p.a_min, p.a_max, 0.5, key, 0)  # compile
    t0 = time.perf_counter()
    _play(kernel_numba.play_round, start[:cpu_teams].copy(), T[:cpu_teams], p, 0.5, key, ROUNDS)
    dt_cpu = time.perf_counter() - t0
    rate_dev = bench_trials * p.n * ROUNDS / dt_dev
    rate_cpu = cpu_teams * p.n * ROUNDS / dt_cpu
    out(f"  throughput ({p.n} members, {ROUNDS} rounds): {xp.__name__} {rate_dev:.3e} moves/s "
        f"({bench_trials} teams), numba {rate_cpu:.3e} moves/s ({cpu_teams} teams)")
    records.append(dict(case="throughput", moves_per_s_device=rate_dev,
                        moves_per_s_numba=rate_cpu))
    return ok, records
