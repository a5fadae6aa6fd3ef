"""coop: the paper's experiment (direct solver against the authors' iteration) and repeated play.

    PYTHONPATH=. python benchmarks/coop.py [--sample K] [--variant paper|repo] [--teams T]

* The whole 3,125-configuration grid (``sim.coop.paper_grid``: eight
  equilibria per configuration) solved by the exact direct solver
  (docs/models/coop.md (15)), and the same eight equilibria of K sampled
  configurations by the authors' numeric best-response iteration
  (``theory.coop.equilibrium_reference``, docs/models/coop.md (18)):
  configurations per second, their ratio, and the largest difference in mean
  effort on the sample.
* One round of repeated play (docs/models/coop.md (22)) of T teams of 5 by
  each kernel (Numba, the array kernel on NumPy, the NumPy reference):
  member moves per second; and ``sim.coop.simulate`` at its default size.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import best_of

from sim import coop as sim_coop
from sim import rng
from sim.coop import kernel_array, kernel_numba, reference
from sim.coop.core import STREAM
from sim.coop.variants import welfare_mode
from theory import coop as th


def _eight(theta, solve):
    pB, pC = sim_coop.GRID_FIXED["phi_B"], sim_coop.GRID_FIXED["phi_C"]
    cases = [(0.0, pB, pC), (theta, pB, pC), (0.9, pB, pC), (0.1, pB, pC), (0.7, pB, pC),
             (0.7, pB, 0.0), (0.7, 0.0, pC)]
    return [solve(t, b, cc) for t, b, cc in cases] + [solve(theta, pB, pC)]


def experiment(variant, sample, repeat):
    """Direct solver on the whole grid against the authors' iteration on a sample."""
    mode = welfare_mode(variant)
    sim_coop.paper_grid(variant)  # warm-up
    best = best_of(lambda: sim_coop.paper_grid(variant), repeat)
    res = sim_coop.paper_grid(variant)
    configs = len(res)
    rate_direct = configs / best
    pick = np.random.default_rng(0).choice(configs, size=sample, replace=False)
    a_min, a_max = sim_coop.GRID_FIXED["a_min"], sim_coop.GRID_FIXED["a_max"]
    worst = 0.0
    t0 = time.perf_counter()
    for i in pick:
        row = res.iloc[i]
        n = int(row["n"])

        def ref(t, phi_B, phi_C, row=row, n=n):
            return th.equilibrium_reference(np.full(n, t), row["omega"], row["beta"], row["c"],
                                            phi_B, phi_C, mode, a_max=a_max,
                                            a_floor=a_min).mean_effort

        ref_eq = _eight(row["theta"], ref)[1]
        worst = max(worst, abs(ref_eq - row["equilibrium_effort"]) / row["equilibrium_effort"])
    dt_ref = time.perf_counter() - t0
    rate_ref = sample / dt_ref
    print(f"coop experiment ({variant} variant), 8 equilibria per configuration")
    print(f"{'solver':34s} {'configs':>8s} {'seconds':>9s} {'configs/s':>11s}")
    print(f"{'direct (whole grid)':34s} {configs:8d} {best:9.4f} {rate_direct:11.3e}")
    print(f"{'reference numeric iteration':34s} {sample:8d} {dt_ref:9.3f} {rate_ref:11.3e}")
    print(f"ratio direct / reference: {rate_direct / rate_ref:.0f}x; largest relative difference "
          f"of the equilibrium mean effort on the sample: {worst:.1e}")


def repeated_play(teams, rounds, repeat):
    """Member moves per second of each repeated-play kernel, and simulate at its default size."""
    p = th.CoopParams(omega=10, beta=0.6, c=1.0, n=5, theta=(0.6, 0.5, 0.4, 0.2, 0.1),
                      a_min=0.01, welfare_mode="mean")
    T = np.tile(p.targets, (teams, 1))
    key = rng.stream_key(0, STREAM)
    kernels = {
        "numba": kernel_numba.play_round,
        "array kernel on numpy": lambda *a: kernel_array.play_round(np, *a),
        "numpy reference": reference.play_round,
    }
    print(f"\nrepeated play: {teams} teams of {p.n}, {rounds} rounds, noise 0.5")
    print(f"{'kernel':34s} {'seconds':>9s} {'moves/s':>11s}")
    for name, play in kernels.items():
        a = np.full((teams, p.n), 25.0)
        play(a, T, p.a_min, p.a_max, 0.5, key, 0)  # warm-up (compiles Numba)

        def run(play=play):
            a = np.full((teams, p.n), 25.0)
            for r in range(rounds):
                play(a, T, p.a_min, p.a_max, 0.5, key, r)

        dt = best_of(run, repeat)
        print(f"{name:34s} {dt:9.4f} {teams * p.n * rounds / dt:11.3e}")
    dt = best_of(lambda: sim_coop.simulate(p, backend="numba"), repeat)
    print(f"simulate(numba), {sim_coop.TRIALS} teams x {sim_coop.ROUNDS} rounds: {dt:.4f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=4, help="configurations for the reference")
    ap.add_argument("--variant", default="paper", choices=sim_coop.VARIANTS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--teams", type=int, default=200_000, help="teams per kernel round")
    ap.add_argument("--rounds", type=int, default=10, help="rounds per kernel timing")
    args = ap.parse_args(argv)
    experiment(args.variant, args.sample, args.repeat)
    repeated_play(args.teams, args.rounds, args.repeat)


if __name__ == "__main__":
    main()
