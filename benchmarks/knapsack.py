"""Clean Knapsack-RL allocators against the exact DP, the Lagrangian solver at scale, the rollouts.

    python benchmarks/knapsack.py [--prompts M] [--big-prompts N] [--repeat R] [--replicates R]

(a) At the paper's size (256 prompts, budget 2048, n_low 2, n_up 128) times the
clean solvers of ``theory.knapsack.allocate_greedy`` (heap, sort, lagrangian),
``sim.knapsack.allocate_greedy_numba`` when it exists, and the exact DP
``theory.knapsack.allocate_dp``, on two batches of true rates: the population
mixture of docs/models/knapsack.md (17) (40% U[0.97, 1], 20% U[0, 0.02], 40% Beta(0.7, 0.7)) and an
all-informative batch p ~ U[0.01, 0.99]. It checks that every solver reaches
the DP's optimum (``total_value`` equal to 1e-12 relative) and prints each
time and its ratio to the DP's.
(b) Prompts per second of the clean solver (``method="auto"``, i.e. the
Lagrangian threshold solver at this size) on 10**6 prompts, budget 8 * 10**6,
on the same two kinds of batch, beside the Numba heap when it exists (and the
Python heap with ``--check-heap``), each checked to give the same allocation.
(c) Rollouts per second of the rollout kernels of ``sim.knapsack`` on the
knapsack allocation of a batch of the paper's size (uniform rates, budget
2048): the Numba kernel (parallel over replicates), the array kernel on NumPy
and the NumPy reference, each checked to give the Numba kernel's successes,
docs/models/knapsack.md (21).
(d) DUET's allocation under a token budget
(``theory.knapsack.duet.duet_allocate``, docs/models/knapsack.md (24)-(25)) on
10**6 prompts (informativeness sqrt(p(1-p)), p ~ U[0, 1], lengths ~ U[100,
3000] tokens, half of 8 rollouts per prompt's tokens): allocations per second
of the exact multiplier and of the authors' ten-step bisection (vectorised),
against a plain Python loop over the prompts doing the authors' ten steps
(their ``DuetAllocator.allocate`` written as loops), each checked to fit the
budget; the loop is timed on ``--loop-prompts`` prompts and its time scaled
to 10**6 (it is linear in the prompts).
The best of ``--repeat`` timings is reported (fast calls are looped so one
timing lasts at least 50 ms); compilation is excluded.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from theory import knapsack as ks


def _best(fn, repeat, min_time=0.05):
    """Best seconds per call over ``repeat`` timings, each looping ``fn`` for >= ``min_time``."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    number = max(1, int(min_time / max(once, 1e-9)))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def mixture_rates(m, gen):
    """docs/models/knapsack.md (17): 40% U[0.97, 1], 20% U[0, 0.02], 40% Beta(0.7, 0.7)."""
    u = gen.uniform(size=m)
    return np.where(u < 0.4, gen.uniform(0.97, 1.0, m),
                    np.where(u < 0.6, gen.uniform(0.0, 0.02, m), gen.beta(0.7, 0.7, m)))


def _numba_greedy():
    try:
        from sim.knapsack import allocate_greedy_numba
    except (ImportError, AttributeError):
        return None
    return allocate_greedy_numba


def paper_size(args, gen, numba_greedy):
    m, budget, lo, hi = args.prompts, args.prompts * args.nbar, args.n_low, args.n_up
    batches = [("mixture (17)", mixture_rates(m, gen)),
               ("U[0.01, 0.99]", gen.uniform(0.01, 0.99, m))]
    print(f"(a) paper size: {m} prompts, budget {budget}, n_low {lo}, n_up {hi}")
    print(f"{'batch':15s} {'solver':26s} {'seconds':>11s} {'DP time / time':>15s} "
          f"{'value':>12s} {'rel. diff':>10s} {'= heap':>7s}")
    for name, p in batches:
        _paper_batch(args, name, p, budget, lo, hi, numba_greedy)
    print("all solvers reach the DP optimum to 1e-12 relative")


def _paper_batch(args, name, p, budget, lo, hi, numba_greedy):
    solvers = [
        ("greedy heap", lambda: ks.allocate_greedy(p, budget, lo, hi, method="heap")),
        ("greedy sort", lambda: ks.allocate_greedy(p, budget, lo, hi, method="sort")),
        ("greedy lagrangian",
         lambda: ks.allocate_greedy(p, budget, lo, hi, method="lagrangian")),
    ]
    if numba_greedy is not None:
        pc = np.ascontiguousarray(p, dtype=np.float64)
        solvers.append(("sim allocate_greedy_numba", lambda: numba_greedy(pc, budget, lo, hi)))
    solvers.append(("exact DP (allocate_dp)", lambda: ks.allocate_dp(p, budget, lo, hi)))
    N_dp = ks.allocate_dp(p, budget, lo, hi)
    v_dp = ks.total_value(N_dp, p)
    N_heap = ks.allocate_greedy(p, budget, lo, hi, method="heap")
    t_dp = None
    rows = []
    for label, fn in solvers:
        N = np.asarray(fn())  # also compiles Numba before timing
        t = _best(fn, args.dp_repeat if label.startswith("exact") else args.repeat)
        if label.startswith("exact"):
            t_dp = t
        v = ks.total_value(N, p)
        rel = abs(v - v_dp) / abs(v_dp)
        if rel > 1e-12 or int(N.sum()) > budget:
            raise SystemExit(f"{label} on {name}: value {v!r} vs DP {v_dp!r} (rel {rel:.1e})")
        rows.append((label, t, v, rel, bool(np.array_equal(N, N_heap))))
    for label, t, v, rel, same in rows:
        print(f"{name:15s} {label:26s} {t:11.3e} {t_dp / t:14.1f}x {v:12.8f} {rel:10.1e} "
              f"{'yes' if same else 'no':>7s}")


def large(args, gen, numba_greedy):
    m, lo, hi = args.big_prompts, args.n_low, args.n_up
    budget = m * args.nbar
    print(f"\n(b) clean solver at scale: {m} prompts, budget {budget}, n_low {lo}, n_up {hi}")
    print(f"{'batch':15s} {'solver':26s} {'seconds':>9s} {'prompts/s':>11s} {'x auto':>8s} "
          f"{'same N':>7s}")
    for name, p in (("mixture (17)", mixture_rates(m, gen)),
                    ("U[0.01, 0.99]", gen.uniform(0.01, 0.99, m))):
        _large_batch(args, name, p, budget, lo, hi, numba_greedy)
    print("x auto: time of the row / time of allocate_greedy (auto); "
          "same N: equal to auto's allocation")


def _large_batch(args, name, p, budget, lo, hi, numba_greedy):
    m = p.size
    N = ks.allocate_greedy(p, budget, lo, hi)
    t = _best(lambda: ks.allocate_greedy(p, budget, lo, hi), args.repeat)
    print(f"{name:15s} {'allocate_greedy (auto)':26s} {t:9.3f} {m / t:11.3e} {1:7.1f}x "
          f"{'-':>7s}")
    others = []
    if numba_greedy is not None and args.numba_big:
        pc = np.ascontiguousarray(p, dtype=np.float64)
        others.append(("sim allocate_greedy_numba", lambda: numba_greedy(pc, budget, lo, hi),
                       args.repeat))
    if args.check_heap:
        others.append(("greedy heap (Python)",
                       lambda: ks.allocate_greedy(p, budget, lo, hi, method="heap"), 1))
    for label, fn, rep in others:
        Nx = np.asarray(fn())
        tx = _best(fn, rep)
        print(f"{name:15s} {label:26s} {tx:9.3f} {m / tx:11.3e} {tx / t:7.1f}x "
              f"{'yes' if np.array_equal(Nx, N) else 'NO':>7s}")


def rollouts(args):
    from sim import rng
    from sim.knapsack import allocate_greedy_numba, kernel_array, kernel_numba, reference
    from sim.knapsack.layout import STREAM

    gen = np.random.default_rng(0)
    p = gen.uniform(0.0, 1.0, args.prompts)
    N = allocate_greedy_numba(p, args.prompts * args.nbar, args.n_low, args.n_up)
    key = rng.stream_key(1, STREAM)
    reps = args.replicates
    n = reps * int(N.sum())
    print(f"\n(c) rollout kernels: {args.prompts} prompts, budget {int(N.sum())}, "
          f"{reps} replicates ({n} rollouts)")
    print(f"{'kernel':26s} {'seconds':>9s} {'rollouts/s':>11s} {'= numba':>8s}")
    ref = kernel_numba.successes(N, p, reps, key)
    kernels = [("numba (parallel)", lambda: kernel_numba.successes(N, p, reps, key)),
               ("array kernel on numpy", lambda: kernel_array.successes(np, N, p, reps, key)),
               ("numpy reference", lambda: reference.successes(N, p, reps, key))]
    for label, fn in kernels:
        same = np.array_equal(fn(), ref)
        t = _best(fn, args.repeat)
        print(f"{label:26s} {t:9.4f} {n / t:11.3e} {'yes' if same else 'NO':>8s}")


def _duet_loop(s, L, budget, iterations=10, n_min=1, n_max=32):
    """The authors' allocator as plain Python loops: ten midpoint steps, then the allocation."""
    lo, hi = -20.0, 20.0
    n = []
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        sq = math.sqrt(math.exp(mid))
        phi = 0.0
        for sq_, l_ in zip(s, L):
            phi += max(n_min, min(n_max, round(sq_ / (sq * math.sqrt(l_))))) * l_
        if phi > budget:
            lo = mid
        else:
            hi = mid
    sq = math.sqrt(math.exp(0.5 * (lo + hi)))
    for sq_, l_ in zip(s, L):
        n.append(max(n_min, min(n_max, round(sq_ / (sq * math.sqrt(l_))))))
    return n


def duet(args):
    from theory.knapsack import duet as du

    gen = np.random.default_rng(0)
    m = args.big_prompts
    p = gen.uniform(0.0, 1.0, m)
    s = np.sqrt(p * (1 - p))
    L = gen.uniform(100.0, 3000.0, m)
    budget = 0.5 * 8 * float(L.sum())
    print(f"\n(d) DUET allocation: {m} prompts, token budget {budget:.4g} "
          f"(half of 8 rollouts each)")
    print(f"{'allocator':34s} {'seconds':>9s} {'alloc/s':>9s} {'prompts/s':>11s} "
          f"{'x loop':>8s} {'fits':>5s}")
    k = min(args.loop_prompts, m)
    sl, Ll = s[:k].tolist(), L[:k].tolist()
    b_loop = 0.5 * 8 * float(L[:k].sum())
    t_loop = _best(lambda: _duet_loop(sl, Ll, b_loop), 1) * m / k
    rows = [("plain Python loop (authors' steps)", t_loop, None)]
    for label, method in (("duet_allocate exact multiplier", "exact"),
                          ("duet_allocate authors' bisection", "bisection")):
        n = du.duet_allocate(s, L, budget, multiplier=method)[0]
        t = _best(lambda method=method: du.duet_allocate(s, L, budget, multiplier=method),
                  args.repeat)
        rows.append((label, t, bool(float(n @ L) <= budget)))
    for label, t, fits in rows:
        print(f"{label:34s} {t:9.3f} {1 / t:9.3g} {m / t:11.3e} {t_loop / t:7.0f}x "
              f"{'-' if fits is None else ('yes' if fits else 'NO'):>5s}")
    print(f"the loop ran on {k} prompts and is scaled to {m}; x loop = loop time / time")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--nbar", type=int, default=8, help="budget per prompt")
    ap.add_argument("--n-low", type=int, default=2)
    ap.add_argument("--n-up", type=int, default=128)
    ap.add_argument("--big-prompts", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dp-repeat", type=int, default=3)
    ap.add_argument("--check-heap", action="store_true",
                    help="compare the large allocation with the (slow, Python) heap")
    ap.add_argument("--no-numba-big", dest="numba_big", action="store_false",
                    help="skip the Numba heap at the large size")
    ap.add_argument("--replicates", type=int, default=2000,
                    help="batch replicates of the rollout timing (default 2000)")
    ap.add_argument("--loop-prompts", type=int, default=100_000,
                    help="prompts of the plain Python loop in (d) (default 100000)")
    ap.add_argument("--only", choices=("allocators", "rollouts", "duet"), default=None,
                    help="run only the allocator sections (a, b), the rollout section (c) or "
                         "DUET's (d)")
    args = ap.parse_args(argv)

    gen = np.random.default_rng(0)
    numba_greedy = _numba_greedy()
    if numba_greedy is None:
        print("sim.knapsack.allocate_greedy_numba not available: Numba rows skipped")
    if args.only in (None, "allocators"):
        paper_size(args, gen, numba_greedy)
        large(args, gen, numba_greedy)
    if args.only in (None, "rollouts"):
        rollouts(args)
    if args.only in (None, "duet"):
        duet(args)


if __name__ == "__main__":
    main()
