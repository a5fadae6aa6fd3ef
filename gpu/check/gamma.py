"""The gamma GPU check: the array kernel against Numba and the exact law, and the operator."""

from __future__ import annotations

import time

import numpy as np

from gpu.check._common import sync as _sync


def check(xp, trials, bench_trials, out=print):
    """Guided toy-model sampler and vocabulary-wide operator on ``xp``; returns (ok, records).

    The array kernel (:func:`sim.gamma.decode_array`) must realise exactly the
    Numba kernel's runs (same counter stream), its adherence must match the
    exact forward programme (docs/models/gamma.md (18)) within 4 standard
    errors, and the guidance operator over 152,064 candidates
    (:func:`sim.gamma.guide_xp`) must agree with :func:`theory.gamma.guide`;
    prints runs/s and microseconds per guided step.
    """
    from sim import gamma as sg
    from sim import rng
    from sim.gamma.layout import STREAM
    from theory import gamma as tg

    params = tg.GammaParams()
    model = sg.toy_model(params)
    rem = sg.remaining_length_pmf(model)
    pred = sg.fit_predictor(model, rem=rem)
    budget = params.budget
    method = sg.Method("gamma, newline", predictor="gamma", trigger="newline")
    table = sg.guided_table(model, method, budget, pred, rem)
    key = rng.stream_key(3, STREAM)
    max_tokens = params.token_cap
    dev = sg.decode_array(model, table, trials, key, max_tokens, xp=xp)
    cpu = sg.decode(model, method, budget, trials, 3, "numba", pred, max_tokens, table=table)
    same = bool(np.array_equal(dev[0], cpu["lengths"]))
    law = sg.exact_law(model, table, max_tokens)
    adh = float(law["pmf"][:budget].sum())
    got = float((dev[0] <= budget).mean())
    z = (got - adh) / max(np.sqrt(adh * (1 - adh) / trials), 1e-12)
    gen = np.random.default_rng(0)
    V = 152_064
    z_l = gen.gumbel(size=V) * 2.0
    mean = gen.normal(np.log(500.0), 0.8, V)
    alpha, rate = (mean / 0.3) ** 2, mean / 0.09
    q_ref = tg.guide(z_l, alpha, rate, 400.0, mode="bayes")
    q_dev = sg.guide_xp(xp, xp.asarray(z_l), xp.asarray(alpha), xp.asarray(rate), 400.0)
    q_dev = q_dev.get() if hasattr(q_dev, "get") else np.asarray(q_dev)
    err = float(np.abs(q_dev - q_ref).max())
    ok = same and abs(z) <= 4 and err < 1e-9
    out(f"  identical runs={same}; adherence {got:.5f} vs exact {adh:.5f} (z={z:+.2f}); "
        f"operator max |q - theory| = {err:.2e}  {'ok' if ok else 'FAIL'}")
    _sync(xp)
    t0 = time.perf_counter()
    sg.decode_array(model, table, bench_trials, key, max_tokens, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    t0 = time.perf_counter()
    sg.decode(model, method, budget, bench_trials, 3, "numba", pred, max_tokens, table=table)
    dt_cpu = time.perf_counter() - t0
    zl, al, ra = (xp.asarray(a) for a in (z_l, alpha, rate))
    sg.guide_xp(xp, zl, al, ra, 400.0)
    _sync(xp)
    t0 = time.perf_counter()
    for _ in range(10):
        sg.guide_xp(xp, zl, al, ra, 400.0)
    _sync(xp)
    us = (time.perf_counter() - t0) / 10 * 1e6
    out(f"  throughput: {xp.__name__} {bench_trials / dt_dev:.3e} runs/s, numba "
        f"{bench_trials / dt_cpu:.3e} runs/s; guided step over {V:,} candidates {us:.0f} us")
    return ok, [dict(identical=same, adherence=got, exact=adh, z=float(z), operator_error=err,
                     runs_per_s_device=bench_trials / dt_dev,
                     runs_per_s_numba=bench_trials / dt_cpu, step_us=us)]
