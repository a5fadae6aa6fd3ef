"""Points per second of a phase sweep on each executor, and the cost of scheduling a point.

    python benchmarks/sweep.py [--depth 10] [--trials 4096] [--points 24] [--tiny 200]

Runs the same phase sweep (rho x gamma grid, herding, b = 3, Numba backend)
inline (1 process, Numba on all cores), on 2 spawned processes and on a
2-worker ``distributed.LocalCluster`` (each worker 1 Numba thread), and
prints points per second and the ratio to inline. Start-up of the pool or
cluster is timed separately, after which one warm-up point per worker
(imports, Numba cache) runs before the clock starts.

The scheduling overhead per point is measured two ways: a sweep of tiny
points (depth 1, 64 trials: the simulation is negligible, so its rate is the
most points per second the whole machinery can carry: submit, run, send the
rows back, write the Parquet part), and the round trip of a task that does
nothing but return a tiny point's rows (no simulation, no part written),
submitted through the same executor with the same window of 8 tasks in flight.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import tempfile
import time

from sim import sweep


def _spec(points, depth, trials, seed):
    n_gamma = max(2, points // 2)
    return sweep.make_spec("phase", dict(rho="0.1,0.5", gamma=f"0.6:0.95:{n_gamma}",
                                         depth=depth), trials=trials, seed=seed,
                           backend="numba")


def _time(spec, executor, threads, root, name):
    out = os.path.join(root, name)
    t0 = time.perf_counter()
    summary = sweep.run_sweep(spec, out, executor, numba_threads=threads)
    wall = time.perf_counter() - t0
    assert summary.failed == 0 and summary.done == spec.size, summary
    return wall


def _echo(df):
    return df


def _round_trip(executor, rows, n):
    """Seconds per task of ``n`` echo tasks, 8 in flight (inline: a direct call)."""
    t0 = time.perf_counter()
    if executor is None:
        for _ in range(n):
            _echo(rows)
        return (time.perf_counter() - t0) / n
    pending = {executor.submit(_echo, rows) for _ in range(8)}
    left = n - 8
    while pending:
        done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for f in done:
            f.result()
            if left > 0:
                pending.add(executor.submit(_echo, rows))
                left -= 1
    return (time.perf_counter() - t0) / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--trials", type=int, default=4096)
    ap.add_argument("--points", type=int, default=24)
    ap.add_argument("--tiny", type=int, default=200, help="tiny points for the overhead")
    args = ap.parse_args(argv)

    work = _spec(args.points, args.depth, args.trials, 1)
    tiny = _spec(args.tiny, 1, 64, 2)
    warm = _spec(4, 1, 64, 3)
    leaves = 3 ** args.depth
    print(f"phase sweep: {work.size} points of {args.trials} trees, b=3 depth={args.depth} "
          f"({leaves} leaves), backend numba; cores={os.cpu_count()}")
    echo_rows = sweep.run_point("phase", next(sweep.point_params(tiny)), 1, 64, "numba")
    print(f"{'executor':14s} {'start s':>8s} {'points':>7s} {'seconds':>8s} {'points/s':>9s} "
          f"{'vs inline':>9s} {'tiny pts/s':>10s} {'round trip':>12s}")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for label in ("inline", "processes:2", "dask-local:2"):
            t0 = time.perf_counter()
            ex = sweep.make_executor(label)
            start = time.perf_counter() - t0
            try:
                _time(warm, ex.executor, ex.numba_threads, root, f"{label}-warm")
                wall = _time(work, ex.executor, ex.numba_threads, root, f"{label}-work")
                tiny_wall = _time(tiny, ex.executor, ex.numba_threads, root, f"{label}-tiny")
                trip = _round_trip(ex.executor, echo_rows, args.tiny)
            finally:
                ex.close()
            rows.append((label, start, wall, tiny_wall, trip))
    base = rows[0][2]
    for label, start, wall, tiny_wall, trip in rows:
        print(f"{label:14s} {start:8.2f} {work.size:7d} {wall:8.2f} {work.size / wall:9.2f} "
              f"{base / wall:8.2f}x {tiny.size / tiny_wall:10.1f} {trip * 1e3:9.2f} ms")
    print("start s: pool or cluster start-up (a process pool starts its workers lazily, "
          "during the warm-up); tiny pts/s: sweep of negligible points; round trip: "
          "a task that only returns a point's rows")


if __name__ == "__main__":
    main()
