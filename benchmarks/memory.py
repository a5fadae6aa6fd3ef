"""Tier choice: the dynamic program, the greedy choice and a plain loop, side by side; the kernels.

    python benchmarks/memory.py [--modules M] [--tiers T] [--max-cost C] [--repeat R] [--queries Q]

(a) One instance of ``--modules`` modules with ``--tiers`` tiers (integer
costs in [0, ``--max-cost``], values the logarithms of accuracies in [0.3, 1]), at half
the span of budgets: ``theory.memory.solve_dp`` (the array dynamic program,
docs/models/memory.md (4)), ``theory.memory.solve_greedy`` (the relaxation's
order with the fill, (5)) and a plain loop (the same dynamic program written
as nested Python loops). Each reports its time, its ratio to the plain loop
and its value; the dynamic programs must agree, the greedy choice must lie
between the certified bounds.
(b) The router's tables of the default pipeline with 8 modules: every one of
the 256 read patterns at every budget (0 to 40), by the batched dynamic
program, by the greedy choice per pattern and budget, and by the plain loop
per pattern and budget (checked to reach the same values).
(c) Routed queries per second of the query kernels of ``sim.memory`` on the
default pipeline's 104 policies: the Numba kernel, the array kernel on NumPy
and the NumPy reference, each checked to give the Numba kernel's sums.
The best of ``--repeat`` timings is reported; compilation is excluded.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of  # benchmarks/ is on sys.path when run as a script

from theory import memory as th


def plain_loop_dp(cost, value, budget):
    """The dynamic program (4) as plain Python loops: best value with cost at most ``budget``."""
    best = [0.0] * (budget + 1)
    for i in range(len(cost)):
        new = [-float("inf")] * (budget + 1)
        for w in range(budget + 1):
            for t in range(len(cost[i])):
                c = cost[i][t]
                if c <= w and best[w - c] + value[i][t] > new[w]:
                    new[w] = best[w - c] + value[i][t]
        best = new
    return best[budget]


def instance(m, T, max_cost, gen):
    cost = np.sort(gen.integers(0, max_cost + 1, (m, T)), axis=1)
    value = np.log(np.sort(gen.uniform(0.3, 1.0, (m, T)), axis=1))
    lo, hi = int(cost[:, 0].sum()), int(cost[:, -1].sum())
    return cost, value, (lo + hi) // 2


def one_instance(args, gen):
    cost, value, budget = instance(args.modules, args.tiers, args.max_cost, gen)
    print(f"(a) one instance: {args.modules} modules x {args.tiers} tiers, budget {budget}")
    cl, vl = cost.tolist(), value.tolist()
    ref = plain_loop_dp(cl, vl, budget)
    t_loop = best_of(lambda: plain_loop_dp(cl, vl, budget), max(1, args.repeat // 2))
    t_dp = best_of(lambda: th.solve_dp(cost, value, budget), args.repeat)
    t_gr = best_of(lambda: th.solve_greedy(cost, value, budget), args.repeat)
    v_dp = th.pipeline_value(cost, value, th.solve_dp(cost, value, budget))[1]
    g = th.solve_greedy(cost, value, budget)
    if abs(v_dp - ref) > 1e-9 * max(1.0, abs(ref)):
        raise SystemExit(f"solve_dp {v_dp!r} differs from the plain loop {ref!r}")
    if not (g.value <= v_dp + 1e-9 and v_dp <= g.lp_value + 1e-9):
        raise SystemExit("greedy outside its bounds")
    print(f"{'solver':28s} {'seconds':>10s} {'loop time / time':>17s} {'value':>12s}")
    for label, t, v in (("plain loop (Python DP)", t_loop, ref), ("solve_dp (array DP)", t_dp,
                                                                  v_dp),
                        ("solve_greedy", t_gr, g.value)):
        print(f"{label:28s} {t:10.3e} {t_loop / t:16.1f}x {v:12.6f}")
    print(f"greedy loss {v_dp - g.value:.6f} <= certified gap {g.gap:.6f} <= bound "
          f"{g.gap_bound:.6f} (log-accuracy); relaxation {g.lp_value:.6f}")


def router_tables(args):
    p = th.MemoryParams(modules=8)
    budgets = np.arange(p.min_budget, p.max_budget + 1)
    bits = th.patterns(8).astype(np.int64)
    values = th.log_value(th.posterior_success(p)[bits])
    cost = np.broadcast_to(np.asarray(p.costs), (8, 3))
    print(f"\n(b) router tables: {bits.shape[0]} read patterns x {budgets.size} budgets, "
          "8 modules x 3 tiers")
    cl = cost.tolist()
    vls = [v.tolist() for v in values]

    def loop():
        return [[plain_loop_dp(cl, v, int(b)) for b in budgets] for v in vls]

    ref = np.array(loop())
    t_loop = best_of(loop, 1)
    t_dp = best_of(lambda: th.solve_dp(cost, values, budgets), args.repeat)
    t_gr = best_of(lambda: th.greedy_many(cost, values, budgets), max(1, args.repeat // 2))
    got = th.pipeline_value(cost, values[:, None], th.solve_dp(cost, values, budgets))[1]
    if not np.allclose(got, ref, rtol=0, atol=1e-9):
        raise SystemExit("batched solve_dp differs from the plain loop")
    greedy = th.pipeline_value(cost, values[:, None], th.greedy_many(cost, values, budgets))[1]
    print(f"{'solver':28s} {'seconds':>10s} {'loop time / time':>17s} {'choices/s':>10s}")
    n = ref.size
    for label, t in (("plain loop (Python DP)", t_loop), ("solve_dp (batched)", t_dp),
                     ("greedy_many", t_gr)):
        print(f"{label:28s} {t:10.3e} {t_loop / t:16.1f}x {n / t:10.3e}")
    worse = int(np.sum(greedy < got - 1e-12))
    print(f"greedy below the optimum on {worse} of {n} (pattern, budget) pairs; largest loss "
          f"{float(np.max(got - greedy)):.4f} in log-accuracy")


def kernels(args):
    from sim import rng
    from sim.memory import POLICIES, kernel_array, kernel_numba, policy_tables, reference
    from sim.memory.layout import STREAM

    p = th.MemoryParams()
    tables, by_truth, _ = policy_tables(p, p.budgets)
    stacked = np.ascontiguousarray(np.concatenate([tables[n] for n in POLICIES]))
    truth = np.repeat([by_truth[n] for n in POLICIES], len(p.budgets))
    success = np.ascontiguousarray(np.stack([p.easy, p.hard], axis=1))
    costs = np.asarray(p.costs, dtype=np.int64)
    key = rng.stream_key(1, STREAM)
    a = (stacked, truth, success, costs, p.hard_share, p.signal)
    n = args.queries
    print(f"\n(c) query kernels: {n} queries x {stacked.shape[0]} policies, default pipeline")
    ref = np.asarray(kernel_numba.run_queries(*a, 0, n, key))
    rows = [("numba (parallel)", lambda: kernel_numba.run_queries(*a, 0, n, key)),
            ("array kernel on numpy", lambda: kernel_array.run_queries(np, *a, 0, n, key)),
            ("numpy reference", lambda: reference.run_queries(*a, 0, n, key))]
    print(f"{'kernel':26s} {'seconds':>9s} {'routed queries/s':>17s} {'= numba':>8s}")
    t_numba = None
    for label, fn in rows:
        same = np.array_equal(np.asarray(fn()), ref)
        t = best_of(fn, args.repeat)
        t_numba = t_numba or t
        print(f"{label:26s} {t:9.4f} {n * stacked.shape[0] / t:17.3e} "
              f"{'yes' if same else 'NO':>8s}   ({t / t_numba:.1f}x the Numba time)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", type=int, default=40)
    ap.add_argument("--tiers", type=int, default=4)
    ap.add_argument("--max-cost", type=int, default=100, help="largest tier cost (default 100)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--queries", type=int, default=200_000)
    ap.add_argument("--only", choices=("solvers", "kernels"), default=None)
    args = ap.parse_args(argv)
    gen = np.random.default_rng(0)
    if args.only != "kernels":
        one_instance(args, gen)
        router_tables(args)
    if args.only != "solvers":
        kernels(args)


if __name__ == "__main__":
    main()
