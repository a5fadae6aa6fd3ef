"""Leaf-votes per second of the majority-tree simulators, side by side.

    python benchmarks/phase.py [--numpy-trials N] [--numba-trials N] [--repeat R]

Times the NumPy reference (``sim.phase.reference``), the Numba kernel
(``sim.phase.kernel_numba``, all cores) and, when a GPU is usable, the array
kernel on CuPy (``sim.phase.kernel_array``) on the same trees (b=3, depth 8,
herding, rho=0.3, gamma=0.9, p0=0.6) in one run, and prints each rate and its ratio to NumPy.
A leaf-vote is one leaf of one simulated tree, so rate = trees * 3**8 / seconds.
The best of ``--repeat`` timings is reported; compilation is excluded.
"""

from __future__ import annotations

import argparse
import os

from _timing import best_of as _best  # benchmarks/ is on sys.path when run as a script

from sim import phase as sim_phase
from sim.backends import array_module, available_backends
from theory.phase import PhaseParams


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numpy-trials", type=int, default=20_000)
    ap.add_argument("--numba-trials", type=int, default=1_000_000)
    ap.add_argument("--cupy-trials", type=int, default=1 << 24)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    params = PhaseParams(b=3, rho=0.3, gamma=0.9, depth=8, p0=0.6, correlation="herding")
    leaves = params.b ** params.depth
    try:
        import numba

        threads = numba.get_num_threads()
    except ImportError:
        threads = 0
    print(f"trees: b={params.b} depth={params.depth} ({leaves} leaves) herding rho={params.rho} "
          f"gamma={params.gamma} p0={params.p0}; cores={os.cpu_count()} numba threads={threads}")

    rows = []
    t = _best(lambda: sim_phase.reference_levels(params, args.numpy_trials, 1), args.repeat)
    rows.append(("numpy", args.numpy_trials, t))
    if "numba" in available_backends():
        sim_phase.tree_words_numba(params, 1024, 0)  # compile
        t = _best(lambda: sim_phase.tree_words_numba(params, args.numba_trials, 1), args.repeat)
        rows.append(("numba", args.numba_trials, t))
    if "cupy" in available_backends():
        cupy = array_module("cupy")

        def run_gpu():
            sim_phase.tree_words(params, args.cupy_trials, 1, xp=cupy)
            cupy.cuda.Device().synchronize()

        run_gpu()
        t = _best(run_gpu, args.repeat)
        rows.append(("cupy", args.cupy_trials, t))

    base_rate = rows[0][1] * leaves / rows[0][2]
    print(f"{'backend':8s} {'trees':>10s} {'seconds':>9s} {'leaf-votes/s':>14s} {'vs numpy':>9s}")
    for name, trials, secs in rows:
        rate = trials * leaves / secs
        print(f"{name:8s} {trials:10d} {secs:9.3f} {rate:14.3e} {rate / base_rate:8.1f}x")


if __name__ == "__main__":
    main()
