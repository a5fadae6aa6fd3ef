"""The search GPU check: the array kernel on CuPy against Numba, and its speed.

The array kernel (:func:`sim.search.core.array_runs`) runs BAVT's annealed
rule and majority vote on ``xp`` (CuPy, or NumPy with ``--device cpu``); the
runs must equal the Numba kernel's bit for bit, and majority vote's success
must agree with its closed form, docs/models/search.md (17), within 4
standard errors.
"""

from __future__ import annotations

import math
import time

import numpy as np

from gpu.check._common import sync as _sync

#: The checked scenario: the model's defaults with a noisy critic.
NOISE = 0.2
_FIELDS = ("success", "tokens", "tools", "steps")


def check(xp, trials, bench_trials, out=print):
    """Tree-search and parallel-sampling runs of sim.search on ``xp`` against Numba.

    Parameters
    ----------
    xp : module
        ``cupy`` or ``numpy``.
    trials, bench_trials : int
        Runs per rule behind the agreement check and the timing.
    out : callable
        Where the report lines go.

    Returns
    -------
    (ok, records) : (bool, list of dict)
        Plain Python values only, so that ``--json`` can print them.
    """
    from sim.search import core
    from theory import search as th

    params = th.SearchParams(noise=NOISE)
    ok_all, records = True, []
    for rule in ("bavt", "majority"):
        dev = core.array_runs(xp, params, rule, trials, seed=1)
        cpu = core.run_rule(params, rule, trials, seed=1, backend="numba")
        same = all(np.array_equal(dev[f], cpu[f]) for f in _FIELDS)
        rate = float(dev["success"].mean())
        se = math.sqrt(max(rate * (1 - rate), 1e-12) / trials)
        theory = core.rule_theory(params, rule)
        z = float((rate - theory) / se) if math.isfinite(theory) else 0.0
        ok = bool(same and abs(z) <= 4)
        ok_all &= ok
        shown = f"closed form {theory:.5f} (z={z:+.2f})" if math.isfinite(theory) else \
            "no closed form"
        out(f"  {rule}: identical runs={same}; success {rate:.5f}, {shown}  "
            f"{'ok' if ok else 'FAIL'}")
        core.array_runs(xp, params, rule, 64, seed=2)
        _sync(xp)
        t0 = time.perf_counter()
        core.array_runs(xp, params, rule, bench_trials, seed=2)
        _sync(xp)
        dt_dev = time.perf_counter() - t0
        core.run_rule(params, rule, 64, seed=2, backend="numba")
        t0 = time.perf_counter()
        core.run_rule(params, rule, bench_trials, seed=2, backend="numba")
        dt_cpu = time.perf_counter() - t0
        out(f"  {rule} throughput: {xp.__name__} {bench_trials / dt_dev:.3e} runs/s, numba "
            f"{bench_trials / dt_cpu:.3e} runs/s ({bench_trials} runs)")
        records.append(dict(rule=rule, identical=same, success=rate,
                            theory=float(theory) if math.isfinite(theory) else float("nan"),
                            z=z, runs_per_s_device=float(bench_trials / dt_dev),
                            runs_per_s_numba=float(bench_trials / dt_cpu)))
    return bool(ok_all), records
