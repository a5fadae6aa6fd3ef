"""The paper's 3,125-configuration experiment: direct solver against the reference iteration.

    python benchmarks/coop.py [--sample K] [--version paper|repo]

Times the whole sweep (``sim.coop.sweep``: eight equilibria per configuration,
at theta = 0, theta, 0.9, 0.1 and 0.7 with and without each mechanism) solved
by the exact direct solver, and the same eight equilibria of K sampled
configurations solved by the paper's numeric best-response iteration
(``theory.coop.equilibrium_reference``), and prints configurations per second,
their ratio, and the largest difference in mean effort on the sample.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim import coop as sim_coop
from theory import coop as th


def _eight(omega, beta, c, n, theta, mode, solve):
    pB, pC = sim_coop.SWEEP_FIXED["phi_B"], sim_coop.SWEEP_FIXED["phi_C"]
    cases = [(0.0, pB, pC), (theta, pB, pC), (0.9, pB, pC), (0.1, pB, pC), (0.7, pB, pC),
             (0.7, pB, 0.0), (0.7, 0.0, pC)]
    return [solve(t, b, cc) for t, b, cc in cases] + [solve(theta, pB, pC)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=4, help="configurations for the reference")
    ap.add_argument("--version", default="paper", choices=sim_coop.VERSIONS)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    mode = "sum" if args.version == "paper" else "mean"

    sim_coop.sweep(args.version)  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = sim_coop.sweep(args.version)
        best = min(best, time.perf_counter() - t0)
    configs = res["omega"].size
    rate_direct = configs / best

    gen = np.random.default_rng(0)
    pick = gen.choice(configs, size=args.sample, replace=False)
    a_min = sim_coop.SWEEP_FIXED["a_min"]
    a_max = sim_coop.SWEEP_FIXED["a_max"]
    worst = 0.0
    t0 = time.perf_counter()
    for i in pick:
        omega, beta, c, n, theta = (res[k][i] for k in ("omega", "beta", "c", "n", "theta"))
        n = int(n)

        def ref(t, phi_B, phi_C):
            return th.equilibrium_reference(np.full(n, t), omega, beta, c, phi_B, phi_C, mode,
                                            a_max=a_max, a_floor=a_min).mean_effort

        ref_eq = _eight(omega, beta, c, n, theta, mode, ref)[1]
        worst = max(worst, abs(ref_eq - res["equilibrium_effort"][i])
                    / res["equilibrium_effort"][i])
    dt_ref = time.perf_counter() - t0
    rate_ref = args.sample / dt_ref

    print(f"coop experiment ({args.version} version), 8 equilibria per configuration")
    print(f"{'solver':34s} {'configs':>8s} {'seconds':>9s} {'configs/s':>11s}")
    print(f"{'direct (whole grid)':34s} {configs:8d} {best:9.4f} {rate_direct:11.3e}")
    print(f"{'reference numeric iteration':34s} {args.sample:8d} {dt_ref:9.3f} {rate_ref:11.3e}")
    print(f"ratio direct / reference: {rate_direct / rate_ref:.0f}x; largest relative difference "
          f"of the equilibrium mean effort on the sample: {worst:.1e}")


if __name__ == "__main__":
    main()
