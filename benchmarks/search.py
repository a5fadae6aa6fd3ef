"""Runs per second of the search kernels, the backends side by side.

For BAVT's annealed rule and for majority vote at the model's defaults with a
noisy critic (docs/models/search.md (11)-(13)), in one run:

* the NumPy reference (:mod:`sim.search.reference`, one run at a time, in
  Python; on a small number of runs);
* the Numba kernel (:mod:`sim.search.kernel_numba`, parallel over runs);
* the array kernel on NumPy (:mod:`sim.search.kernel_array`, every run in
  lockstep), and on CuPy when a GPU is present.

Then the Numba kernel against the tool budget (5 to 40 calls, the token
budget in proportion): the tree rules' work grows with the square of the
steps (a selection scans the frontier), majority vote's linearly.

Run ``python benchmarks/search.py [--runs N] [--repeat R]``; it prints runs
per second and each backend's speed relative to the reference.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from _timing import best_of

from sim.backends import available_backends, cupy_module
from sim.search import core
from theory.search import SearchParams


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20000, help="runs of the fast backends")
    ap.add_argument("--reference-runs", type=int, default=300, help="runs of the reference")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    P = SearchParams(noise=0.2)
    print(f"search kernels, K={P.K} p={P.p:g} budget={P.budget} calls / {P.tokens} tokens, "
          f"noise {P.noise:g}; runs/s (best of {args.repeat})")
    for rule in ("bavt", "majority"):
        core.run_rule(P, rule, 64, 0, "numba")  # compile
        rates = {}
        rates["numpy reference"] = args.reference_runs / best_of(
            lambda r=rule: core.run_rule(P, r, args.reference_runs, 0, "numpy"), 1)
        rates["numba"] = args.runs / best_of(
            lambda r=rule: core.run_rule(P, r, args.runs, 0, "numba"), args.repeat)
        rates["array on numpy"] = args.runs / best_of(
            lambda r=rule: core.array_runs(np, P, r, args.runs, 0), args.repeat)
        if "cupy" in available_backends():
            cp = cupy_module()

            def on_gpu(r=rule, cp=cp):
                core.array_runs(cp, P, r, args.runs, 0)
                cp.cuda.Device().synchronize()

            on_gpu()
            rates["array on cupy"] = args.runs / best_of(on_gpu, args.repeat)
        ref = rates["numpy reference"]
        for name, rate in rates.items():
            print(f"  {rule:9s} {name:16s} {rate:12.4g} runs/s   x{rate / ref:8.1f}")
    print("numba against the tool budget (token budget in proportion)")
    for b in (5, 10, 20, 40):
        Q = replace(P, budget=b)
        line = []
        for rule in ("bavt", "majority"):
            rate = args.runs / best_of(lambda r=rule, q=Q: core.run_rule(q, r, args.runs, 0,
                                                                         "numba"), args.repeat)
            line.append(f"{rule} {rate:10.4g} runs/s ({Q.max_steps(rule)} steps)")
        print(f"  budget {b:3d}: " + "   ".join(line))


if __name__ == "__main__":
    main()
