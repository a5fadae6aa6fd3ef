"""Time one step of the budget-guidance operator over 152,064 candidates, and the toy sampler.

The vocabulary size is DeepSeek-R1-Distill-Qwen-7B's. One step takes raw logits
and per-token Gamma parameters ``(alpha, rate)`` and returns the guided
distribution ``q`` (docs/models/gamma.md (11)-(14)). Implementations, side by
side in one run:

* a naive loop: ``scipy.special.gammainc`` called candidate by candidate in
  Python, then the product and the normalisation in NumPy;
* :func:`theory.gamma.guide` (NumPy; faithful linear space and pure-Bayes log
  space);
* :func:`sim.gamma.guide_xp` on NumPy, and on CuPy when a GPU is present;
* :func:`sim.gamma.guide_numba`: one compiled parallel pass calling SciPy's
  compiled ``gammainc``;
* :func:`sim.gamma.guide_jax`, jitted (float32, and float64).

Then the Monte Carlo kernels of :func:`sim.gamma.decode` on the paragraph toy
(Gamma guidance at line starts, budget 150): the Numba kernel and the array
kernel on NumPy (and on CuPy when a GPU is present), in runs per second.

Run ``python benchmarks/gamma.py [--vocab N] [--repeat R] [--runs N]``; it
prints microseconds per step and the speed-up over the naive loop, then the
sampler's throughput.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.special as sp
from _timing import best_of


def _params(vocab, seed=0):
    rs = np.random.default_rng(seed)
    logits = rs.gumbel(size=vocab) * 2.0
    # Trained rows: log-lengths around log(500) with spread 0.3; 5% untrained rows.
    m = rs.normal(np.log(500.0), 0.8, vocab)
    sd = 0.3
    alpha = (m / sd) ** 2
    rate = m / sd ** 2
    untrained = rs.random(vocab) < 0.05
    alpha[untrained] = np.log(2.0)
    rate[untrained] = np.log(2.0)
    return logits, alpha, rate


def naive(logits, alpha, rate, budget):
    y = np.log(budget + 1.0)
    a = np.empty(logits.size)
    for v in range(logits.size):
        a[v] = sp.gammainc(alpha[v], rate[v] * y)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    q = p * a
    return q / q.sum()


def _time(fn, repeat):
    fn()  # warm-up (compilation, caches)
    return best_of(fn, repeat)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=int, default=152_064)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--budget", type=float, default=400.0)
    ap.add_argument("--runs", type=int, default=200_000, help="runs of the sampler timing")
    args = ap.parse_args(argv)
    from sim import gamma as gg
    from sim.gamma import guide as guide_module
    from theory import gamma as th

    z, al, ra = _params(args.vocab)
    b = args.budget
    ref = naive(z, al, ra, b)
    rows = []
    t_naive = _time(lambda: naive(z, al, ra, b), 3)
    rows.append(("naive scipy loop", t_naive, 0.0))

    def add(name, fn, q_of):
        t = _time(fn, args.repeat)
        err = float(np.abs(np.asarray(q_of()) - ref).max())
        rows.append((name, t, err))

    add("theory.guide numpy, bayes (log space)", lambda: th.guide(z, al, ra, b, mode="bayes"),
        lambda: th.guide(z, al, ra, b, mode="bayes"))
    add("theory.guide numpy, faithful (linear)",
        lambda: th.guide(z, al, ra, b, mode="faithful", rate_min=0, alpha_min=0, mode_min=-1),
        lambda: th.guide(z, al, ra, b, mode="faithful", rate_min=0, alpha_min=0, mode_min=-1))
    add("sim.guide_xp numpy, bayes", lambda: gg.guide_xp(np, z, al, ra, b),
        lambda: gg.guide_xp(np, z, al, ra, b))
    import numba

    threads = numba.get_num_threads()
    add(f"sim.guide_numba ({threads} threads), bayes",
        lambda: gg.guide_numba(z, al, ra, b), lambda: gg.guide_numba(z, al, ra, b))
    add(f"sim.guide_numba ({threads} threads), faithful",
        lambda: gg.guide_numba(z, al, ra, b, mode="faithful", rate_min=0, alpha_min=0,
                               mode_min=-1),
        lambda: gg.guide_numba(z, al, ra, b, mode="faithful", rate_min=0, alpha_min=0,
                               mode_min=-1))
    try:
        import jax
        import jax.numpy as jnp
        for dt, name in ((jnp.float32, "float32"), (jnp.float64, "float64")):
            if dt is jnp.float64:
                jax.config.update("jax_enable_x64", True)
            zj, aj, rj = (jnp.asarray(x, dtype=dt) for x in (z, al, ra))
            bj = jnp.asarray(b, dtype=dt)
            guide_module._JAX_FN.clear()  # recompile for the new dtype
            def f(zj=zj, aj=aj, rj=rj, bj=bj):
                return gg.guide_jax(zj, aj, rj, bj).block_until_ready()

            add(f"JAX jit {name} ({jax.default_backend()}), bayes", f, f)
        jax.config.update("jax_enable_x64", False)
    except ImportError:
        print("JAX not installed: skipped")
    try:
        from sim.backends import cupy_module
        cp = cupy_module()
        zc, ac, rc = (cp.asarray(x) for x in (z, al, ra))

        def fc():
            q = gg.guide_xp(cp, zc, ac, rc, b)
            cp.cuda.Device().synchronize()
            return q.get()
        add("sim.guide_xp CuPy, bayes", fc, fc)
    except Exception as exc:  # no GPU or no CuPy: say so and go on
        print(f"CuPy: skipped ({str(exc).splitlines()[0]})")

    print(f"guidance operator, one step over {args.vocab:,} candidates, budget {b:g} "
          f"(best of {args.repeat})")
    print(f"{'implementation':44s} {'us/step':>12s} {'speed-up':>10s} {'max |q - q_naive|':>18s}")
    for name, t, err in rows:
        print(f"{name:44s} {1e6 * t:12.1f} {t_naive / t:9.1f}x {err:18.2e}")
    _sampler(gg, args.runs, args.repeat)
    return 0


def _sampler(gg, runs, repeat):
    """Runs per second of the Monte Carlo kernels: paragraph toy, Gamma guidance at line starts."""
    from sim import rng
    from sim.gamma.layout import STREAM

    params = gg.Params()
    model = gg.toy_model(params)
    rem = gg.remaining_length_pmf(model)
    pred = gg.fit_predictor(model, rem=rem)
    method = gg.Method("gamma, newline", predictor="gamma", trigger="newline")
    table = gg.guided_table(model, method, params.budget, pred, rem)
    key = rng.stream_key(3, STREAM)
    cap = params.token_cap
    small = max(1, runs // 10)
    kernels = [("Numba kernel", runs, lambda: gg.decode_numba(model, table, runs, key, cap)),
               ("array kernel, NumPy", small,
                lambda: gg.decode_array(model, table, small, key, cap, xp=np))]
    try:
        from sim.backends import cupy_module

        cp = cupy_module()
        kernels.append(("array kernel, CuPy", runs,
                        lambda: gg.decode_array(model, table, runs, key, cap, xp=cp)))
    except Exception as exc:  # no GPU or no CuPy: say so and go on
        print(f"CuPy sampler: skipped ({str(exc).splitlines()[0]})")
    print(f"\nsampler: paragraph toy, {method.name}, budget {params.budget} "
          f"(best of {min(repeat, 5)})")
    print(f"{'kernel':44s} {'runs':>12s} {'runs/s':>12s}")
    for name, n, fn in kernels:
        t = _time(fn, min(repeat, 5))
        print(f"{name:44s} {n:12d} {n / t:12.3e}")


if __name__ == "__main__":
    raise SystemExit(main())
