"""Speed of the bbam model: the exact allocation and the outcome kernels, side by side.

    python benchmarks/bbam.py [--questions N] [--subquestions M] [--loop-questions K]
                              [--kernel-questions Q] [--repeat R] [--only PART]

Allocation: times ``theory.bbam.allocate_kkt`` (the exact optimum,
docs/models/bbam.md (4)) on N questions x M sub-questions at once,
``theory.bbam.allocate_kkt_scipy`` (one brentq solve per question, with input
checks) on K of the same questions, and a lean brentq loop without checks, and
prints questions per second, the ratios to the vectorised solver, and the
largest difference between the allocations on the shared questions.

Outcome kernels (docs/models/bbam.md (17)-(20) and "Counter layout"): times
``sim.bbam.outcomes`` on Q questions drawn from the default prior (budget 400)
for the exact allocation (static caps) and the global pool (sequential), with
the NumPy array kernel, the Numba kernel (all cores) and, when a GPU is usable,
the array kernel on CuPy. The best of
``--repeat`` timings is reported; compilation is excluded.

Fit (docs/models/bbam.md (26)-(27)): times ``theory.bbam.fit_law`` (the
maximum-likelihood law with three profile-likelihood intervals) on data of the
outcome kernels (8 budgets, 100 attempts each), with the profile's local
minimiser TNC (the default) and L-BFGS-B side by side, and the largest relative
difference of their estimates and interval ends.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _timing import best_of as _best  # benchmarks/ is on sys.path when run as a script
from scipy import optimize

from sim import bbam as sim_bbam
from sim.backends import available_backends
from theory import bbam as th


def allocation(args):
    gen = np.random.default_rng(0)
    n, m = args.questions, args.subquestions
    c = np.exp(gen.uniform(np.log(0.1), np.log(1e4), (n, m)))
    beta = gen.uniform(0.5, 3.0, (n, m))
    budget = gen.uniform(100.0, 1000.0, n)

    th.allocate_kkt(c[:1000], beta[:1000], budget[:1000])  # warm-up
    vec = th.allocate_kkt(c, beta, budget)
    best = _best(lambda: th.allocate_kkt(c, beta, budget), args.repeat)
    rate_vec = n / best

    k = min(args.loop_questions, n)
    t0 = time.perf_counter()
    loop = np.array([th.allocate_kkt_scipy(c[i], beta[i], budget[i]) for i in range(k)])
    dt_loop = time.perf_counter() - t0
    rate_loop = k / dt_loop
    rel = np.max(np.abs(loop - vec[:k]) / loop)

    # a lean loop: no input checks, plain numpy root function, brentq on ln(lambda)
    t0 = time.perf_counter()
    lean = np.empty((k, m))
    for i in range(k):
        a = (beta[i] * c[i]) ** (1.0 / (beta[i] + 1.0))
        e = 1.0 / (beta[i] + 1.0)
        B = budget[i]
        t_star = optimize.brentq(lambda t, a=a, e=e, B=B: np.sum(a * np.exp(-e * t)) - B,
                                 -200.0, 200.0, xtol=1e-14, rtol=1e-14)
        lean[i] = a * np.exp(-e * t_star)
    dt_lean = time.perf_counter() - t0
    rate_lean = k / dt_lean
    rel_lean = np.max(np.abs(lean - vec[:k]) / lean)

    print(f"exact allocation (KKT optimum), {m} sub-questions per question")
    print(f"{'method':34s} {'questions':>10s} {'seconds':>9s} {'questions/s':>13s} {'ratio':>8s}")
    print(f"{'vectorised allocate_kkt':34s} {n:10d} {best:9.3f} {rate_vec:13.3e} {1:7.0f}x")
    print(f"{'allocate_kkt_scipy loop':34s} {k:10d} {dt_loop:9.3f} {rate_loop:13.3e} "
          f"{rate_vec / rate_loop:7.0f}x")
    print(f"{'lean brentq loop (no checks)':34s} {k:10d} {dt_lean:9.3f} {rate_lean:13.3e} "
          f"{rate_vec / rate_lean:7.0f}x")
    print(f"max relative difference to the vectorised solver: reference {rel:.1e}, "
          f"lean {rel_lean:.1e}")


def kernels(args):
    params = sim_bbam.BbamParams()
    n = args.kernel_questions
    q = sim_bbam.sample_questions(params, n, seed=1)
    allocs = sim_bbam.allocations(params, q, ("exact", "global"))
    backends = [b for b in ("numpy", "numba", "cupy") if b in available_backends()]
    try:
        import numba

        threads = numba.get_num_threads()
    except ImportError:
        threads = 0
    print(f"outcome kernels, {n} questions of the default prior (budget {params.budget:g}); "
          f"cores={os.cpu_count()} numba threads={threads}")
    print(f"{'allocation':12s} {'backend':8s} {'seconds':>9s} {'questions/s':>13s}")
    for name, b in allocs.items():
        for backend in backends:
            sim_bbam.outcomes(params, q.rows(slice(0, 1024)), None if b is None else b[:1024],
                              seed=1, backend=backend)  # compile / warm up
            t = _best(lambda b=b, backend=backend: sim_bbam.outcomes(params, q, b, seed=1,
                                                                     backend=backend),
                      args.repeat)
            print(f"{name:12s} {backend:8s} {t:9.3f} {n / t:13.3e}")


def fit(args):
    from sim.bbam.lawfit import law_data
    from theory import _profile

    d = law_data(20.0, 1.2, 0.05, [4, 8, 16, 32, 64, 128, 256, 512], 100, seed=1000)
    print(f"law fit (c, beta, u with profile-likelihood intervals), 8 budgets x 100 attempts; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"{'local minimiser':18s} {'seconds':>9s} {'ratio':>8s}")
    results, times = {}, {}
    saved = _profile.LOCAL_METHOD
    try:
        for method in ("TNC", "L-BFGS-B"):
            _profile.LOCAL_METHOD = method
            times[method] = _best(lambda m=method: results.__setitem__(
                m, th.fit_law(d["budget"], d["n"], d["k"])), args.repeat)
    finally:
        _profile.LOCAL_METHOD = saved
    for method, t in times.items():
        print(f"{method:18s} {t:9.3f} {t / times['TNC']:7.1f}x")
    keys = [k for k in results["TNC"] if k.split("_")[0] in ("c", "beta", "u")]
    diff = max(abs(results["TNC"][k] - results["L-BFGS-B"][k]) / max(abs(results["TNC"][k]), 1e-12)
               for k in keys)
    print(f"largest relative difference of estimates and interval ends: {diff:.1e}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=1_000_000)
    ap.add_argument("--subquestions", type=int, default=8)
    ap.add_argument("--loop-questions", type=int, default=5_000)
    ap.add_argument("--kernel-questions", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=("allocation", "kernels", "fit"), default=None,
                    help="run one of the three parts")
    args = ap.parse_args(argv)
    if args.only in (None, "allocation"):
        allocation(args)
    if args.only in (None, "kernels"):
        kernels(args)
    if args.only in (None, "fit"):
        fit(args)


if __name__ == "__main__":
    main()
