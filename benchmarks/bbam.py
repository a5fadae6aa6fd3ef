"""Exact BBAM allocation (T1) for many questions: vectorised numpy vs a per-question scipy loop.

    python benchmarks/bbam.py [--questions N] [--subquestions M] [--loop-questions K]

Times ``theory.bbam.allocate_kkt`` on N questions x M sub-questions at once,
``theory.bbam.allocate_kkt_scipy`` (one brentq solve per question, with input
checks) on K of the same questions, and a lean brentq loop without checks, and
prints questions per second, the ratios to the vectorised solver, and the
largest difference between the allocations on the shared questions.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import optimize

from theory import bbam as th


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=1_000_000)
    ap.add_argument("--subquestions", type=int, default=8)
    ap.add_argument("--loop-questions", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    gen = np.random.default_rng(0)
    n, m = args.questions, args.subquestions
    c = np.exp(gen.uniform(np.log(0.1), np.log(1e4), (n, m)))
    beta = gen.uniform(0.5, 3.0, (n, m))
    budget = gen.uniform(100.0, 1000.0, n)

    th.allocate_kkt(c[:1000], beta[:1000], budget[:1000])  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        vec = th.allocate_kkt(c, beta, budget)
        best = min(best, time.perf_counter() - t0)
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
        t_star = optimize.brentq(lambda t: np.sum(a * np.exp(-e * t)) - B, -200.0, 200.0,
                                 xtol=1e-14, rtol=1e-14)
        lean[i] = a * np.exp(-e * t_star)
    dt_lean = time.perf_counter() - t0
    rate_lean = k / dt_lean
    rel_lean = np.max(np.abs(lean - vec[:k]) / lean)

    print(f"exact BBAM allocation (T1), {m} sub-questions per question")
    print(f"{'method':34s} {'questions':>10s} {'seconds':>9s} {'questions/s':>13s} {'ratio':>8s}")
    print(f"{'vectorised allocate_kkt':34s} {n:10d} {best:9.3f} {rate_vec:13.3e} {1:7.0f}x")
    print(f"{'allocate_kkt_scipy loop':34s} {k:10d} {dt_loop:9.3f} {rate_loop:13.3e} "
          f"{rate_vec / rate_loop:7.0f}x")
    print(f"{'lean brentq loop (no checks)':34s} {k:10d} {dt_lean:9.3f} {rate_lean:13.3e} "
          f"{rate_vec / rate_lean:7.0f}x")
    print(f"max relative difference to the vectorised solver: reference {rel:.1e}, "
          f"lean {rel_lean:.1e}")


if __name__ == "__main__":
    main()
