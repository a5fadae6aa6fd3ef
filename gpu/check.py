"""``python -m gpu.check <model>``: GPU kernel against the Numba kernel, and its speed.

For ``bbam`` it runs the outcome kernel on CuPy and on Numba for the same
questions, allocations and counter stream, checks that they agree, and prints
questions per second.

For ``knapsack`` it runs the rollout kernel on CuPy and on Numba for the same
allocation and stream, checks identical outcomes and the effective-gradient
ratio against its expectation, and prints rollouts per second.

For ``phase`` it runs the CuPy kernel and the Numba kernel on the same
parameters and seeds, checks that they return bit-identical words (the two
share one counter-based random stream), checks the GPU estimate against the
closed form within 4 standard errors, and prints leaf-votes per second of
both. It finishes in well under 10 minutes on one GPU.

For ``runs`` it trains a larger model of :mod:`validation.model` with JAX on the GPU, samples
at least 100,000 reasoning traces from it, and prints training time, generated tokens per second
and accuracy by difficulty; it needs a JAX build that sees the GPU (``jax[cuda12]``).

``--device cpu`` runs the same check with NumPy arrays in place of CuPy (small
sizes), so the check itself is tested on machines without a GPU; for ``runs`` it trains a tiny
model for a few steps and samples a few hundred traces on the CPU.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from sim import _cli
from sim.backends import BackendUnavailable, array_module

MODELS = ("phase", "bbam", "knapsack", "gamma", "runs", "validation")


def _sync(xp):
    if xp.__name__ == "cupy":
        xp.cuda.Device().synchronize()


def check_phase(xp, trials, bench_trials, out=print):
    """Agreement and throughput of the array kernel against Numba; returns (ok, records)."""
    from gpu import phase as gpu_phase
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    cases = [
        PhaseParams(b=3, rho=0.3, gamma=0.9, depth=8, p0=0.6),
        PhaseParams(b=5, rho=0.2, gamma=0.8, depth=4, p0=0.55, root_channel=True),
        PhaseParams(b=3, rho=0.3, gamma=0.9, depth=6, p0=0.55, correlation="item"),
        PhaseParams(b=3, rho=0.3, gamma=1.0, depth=6, p0=0.55, correlation="shock",
                    rho_node=0.2),
    ]
    ok = True
    records = []
    for i, params in enumerate(cases):
        seed = 1000 + i
        w_dev = gpu_phase.tree_words(params, trials, seed, xp=xp)
        w_cpu = sim_phase.tree_words_numba(params, trials, seed)
        same = bool(np.array_equal(w_dev, w_cpu))
        root = sim_phase.unpack_levels(w_dev, trials)[-1]
        p_sim = float(root.mean())
        p_th = float(sim_phase.theory_accuracy(params)[-1])
        se = (p_th * (1 - p_th) / trials) ** 0.5
        z = (p_sim - p_th) / se if se > 0 else 0.0
        good = same and abs(z) <= 4.0
        ok &= good
        records.append(dict(case=i, correlation=params.correlation, b=params.b,
                            depth=params.depth, identical=same, p_sim=p_sim,
                            p_theory=p_th, z=z, ok=good))
        out(f"  case {i}: {params.correlation:8s} b={params.b} depth={params.depth} "
            f"identical words={same}  root p_sim={p_sim:.5f} theory={p_th:.5f} "
            f"z={z:+.2f}  {'ok' if good else 'FAIL'}")

    params = cases[0]
    leaves = params.b ** params.depth
    gpu_phase.tree_words(params, 64 * 16, 1, xp=xp)  # warm-up
    _sync(xp)
    t0 = time.perf_counter()
    gpu_phase.tree_words(params, bench_trials, 2, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    sim_phase.tree_words_numba(params, 64 * 16, 1)  # compile
    cpu_trials = bench_trials if xp is np else min(bench_trials, 1 << 20)
    t0 = time.perf_counter()
    sim_phase.tree_words_numba(params, cpu_trials, 2)
    dt_cpu = time.perf_counter() - t0
    rate_dev = bench_trials * leaves / dt_dev
    rate_cpu = cpu_trials * leaves / dt_cpu
    out(f"  throughput (b=3, depth 8, herding, rho=0.3, gamma=0.9): "
        f"{xp.__name__} {rate_dev:.3e} leaf-votes/s ({bench_trials} trees), "
        f"numba {rate_cpu:.3e} leaf-votes/s ({cpu_trials} trees), "
        f"ratio {rate_dev / rate_cpu:.2f}")
    records.append(dict(throughput_device=rate_dev, throughput_numba=rate_cpu,
                        ratio=rate_dev / rate_cpu, device_trials=bench_trials,
                        numba_trials=cpu_trials))
    return ok, records


def check_bbam(xp, trials, bench_trials, out=print):
    """Outcome kernel of sim.bbam on ``xp`` against Numba; returns (ok, records)."""
    from gpu import bbam as gpu_bbam
    from sim import bbam as sim_bbam
    from sim import rng

    params = sim_bbam.BbamParams(budget=300.0, synthesis="majority")
    bench_trials = min(bench_trials, 1 << 22)  # host memory for the question arrays
    ok = True
    records = []
    q = sim_bbam.sample_questions(params, trials, seed=1)
    key = rng.stream_key(1, "bbam/outcomes")
    for name, b in sim_bbam.allocations(params, q, ("exact", "paper", "global", "polynomial")).items():
        s_dev, t_dev = gpu_bbam.outcomes(params, q, b, key, xp=xp)
        s_cpu, t_cpu = sim_bbam.outcomes(params, q, b, seed=1, backend="numba")
        same = float(np.mean(s_dev == s_cpu))
        tok = float(np.max(np.abs(t_dev - t_cpu) / np.maximum(t_cpu, 1.0)))
        good = same > 0.9999 and tok < 1e-9
        ok &= good
        records.append(dict(allocator=name, identical_fraction=same, max_rel_token_diff=tok,
                            ok=good))
        out(f"  {name:10s} identical outcomes {same:.6f}, max relative token difference "
            f"{tok:.1e}  {'ok' if good else 'FAIL'}")
    qb = sim_bbam.sample_questions(params, bench_trials, seed=2)
    b = sim_bbam.allocations(params, qb, ("exact",))["exact"]
    gpu_bbam.outcomes(params, qb, b, key, xp=xp)
    _sync(xp)
    t0 = time.perf_counter()
    gpu_bbam.outcomes(params, qb, b, key, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    sim_bbam.outcomes(params, qb, b, seed=2, backend="numba")
    t0 = time.perf_counter()
    sim_bbam.outcomes(params, qb, b, seed=2, backend="numba")
    dt_cpu = time.perf_counter() - t0
    out(f"  throughput: {xp.__name__} {bench_trials / dt_dev:.3e} questions/s, "
        f"numba {bench_trials / dt_cpu:.3e} questions/s ({bench_trials} questions)")
    records.append(dict(questions_per_s_device=bench_trials / dt_dev,
                        questions_per_s_numba=bench_trials / dt_cpu))
    return ok, records


def check_knapsack(xp, trials, bench_trials, out=print):
    """Rollout kernel of sim.knapsack on ``xp`` against Numba; returns (ok, records)."""
    from gpu import knapsack as gpu_knapsack
    from sim import knapsack as sim_knapsack
    from sim import rng
    from theory import knapsack as th

    gen = np.random.default_rng(0)
    p = gen.uniform(0.0, 1.0, 256)
    N = sim_knapsack.allocate_greedy_numba(p, 2048, 2, 128)
    key = rng.stream_key(1, "knapsack/rollouts")
    reps = max(2, trials // 256)
    k_dev = gpu_knapsack.successes(N, p, reps, key, xp=xp)
    k_cpu = sim_knapsack.mixed_groups(N, p, reps, seed=1, backend="numba")
    same = bool(np.array_equal(k_dev, k_cpu))
    mixed = ((k_dev > 0) & (k_dev < N)).astype(float)
    egr = (mixed * N).sum(axis=1) / N.sum()
    expected = float(th.effective_gradient_ratio(N, p))
    z = (egr.mean() - expected) / (egr.std(ddof=1) / np.sqrt(reps))
    ok = same and abs(z) <= 4
    out(f"  identical successes={same}; EGR {egr.mean():.5f} vs expected {expected:.5f} "
        f"(z={z:+.2f})  {'ok' if ok else 'FAIL'}")
    breps = max(2, bench_trials // 256)
    gpu_knapsack.successes(N, p, 2, key, xp=xp)
    _sync(xp)
    t0 = time.perf_counter()
    gpu_knapsack.successes(N, p, breps, key, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim_knapsack.mixed_groups(N, p, breps, seed=1, backend="numba")
    dt_cpu = time.perf_counter() - t0
    rollouts = breps * int(N.sum())
    out(f"  throughput: {xp.__name__} {rollouts / dt_dev:.3e} rollouts/s, "
        f"numba {rollouts / dt_cpu:.3e} rollouts/s ({breps} batches of 256 prompts)")
    return ok, [dict(identical=same, egr=float(egr.mean()), expected=expected, z=float(z),
                     rollouts_per_s_device=rollouts / dt_dev,
                     rollouts_per_s_numba=rollouts / dt_cpu)]


def check_gamma(xp, trials, bench_trials, out=print):
    """Guided toy-model sampler and vocabulary-wide operator on ``xp``; returns (ok, records).

    The array sampler must realise exactly the Numba kernel's runs (same counter
    stream), its adherence must match the exact dynamic programme within 4
    standard errors, and the guidance operator over 152,064 candidates must
    agree with :func:`theory.gamma.guide`; prints runs/s and microseconds per
    guided step.
    """
    from gpu import gamma as gg
    from sim import gamma as sg
    from sim import rng
    from theory import gamma as tg

    model = sg.paragraph_model()
    rem = sg.remaining_length_pmf(model)
    pred = sg.fit_predictor(model, rem=rem)
    budget = 150
    method = sg.Method("gamma, newline", predictor="gamma", trigger="newline")
    table = sg.guided_table(model, method, budget, pred, rem)
    key = rng.stream_key(3, "gamma-decode")
    max_tokens = 20 * budget + 1000
    dev = gg.simulate_xp(model, table, trials, key, max_tokens, xp=xp)
    cpu = sg.simulate(model, method, budget, trials, 3, "numba", pred, max_tokens, table=table)
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
    q_dev = gg.guide_xp(xp, xp.asarray(z_l), xp.asarray(alpha), xp.asarray(rate), 400.0)
    q_dev = q_dev.get() if hasattr(q_dev, "get") else np.asarray(q_dev)
    err = float(np.abs(q_dev - q_ref).max())
    ok = same and abs(z) <= 4 and err < 1e-9
    out(f"  identical runs={same}; adherence {got:.5f} vs exact {adh:.5f} (z={z:+.2f}); "
        f"operator max |q - theory| = {err:.2e}  {'ok' if ok else 'FAIL'}")
    _sync(xp)
    t0 = time.perf_counter()
    gg.simulate_xp(model, table, bench_trials, key, max_tokens, xp=xp)
    _sync(xp)
    dt_dev = time.perf_counter() - t0
    t0 = time.perf_counter()
    sg.simulate(model, method, budget, bench_trials, 3, "numba", pred, max_tokens, table=table)
    dt_cpu = time.perf_counter() - t0
    zl, al, ra = (xp.asarray(a) for a in (z_l, alpha, rate))
    gg.guide_xp(xp, zl, al, ra, 400.0)
    _sync(xp)
    t0 = time.perf_counter()
    for _ in range(10):
        gg.guide_xp(xp, zl, al, ra, 400.0)
    _sync(xp)
    us = (time.perf_counter() - t0) / 10 * 1e6
    out(f"  throughput: {xp.__name__} {bench_trials / dt_dev:.3e} runs/s, numba "
        f"{bench_trials / dt_cpu:.3e} runs/s; guided step over {V:,} candidates {us:.0f} us")
    return ok, [dict(identical=same, adherence=got, exact=adh, z=float(z), operator_error=err,
                     runs_per_s_device=bench_trials / dt_dev, runs_per_s_numba=bench_trials / dt_cpu,
                     step_us=us)]


def check_runs(gpu, traces=None, out=print):
    """Train the project LM with JAX and sample traces from it; returns (ok, records).

    On the GPU: d_model 256, 6 layers, 3000 steps of 256 sequences, then at least 100,000
    traces (16 per question, temperature 0.8, top-p 0.95). On the CPU (``gpu=False``): a tiny
    model, 30 steps, 256 traces, to exercise the code path.
    """
    import jax

    from validation import model as M
    from validation import task
    from validation import train as T

    if gpu:
        mc = M.ModelConfig(d_model=256, n_layers=6, n_heads=8, d_ff=1024)
        tc = T.TrainConfig(steps=3000, batch=256, lr=1e-3, warmup=200)
        traces, batch = max(traces or 100_000, 100_000), 4096
    else:
        mc = M.ModelConfig(d_model=32, n_layers=1, n_heads=2, d_ff=64)
        tc = T.TrainConfig(steps=30, batch=16, lr=3e-3, warmup=5)
        traces, batch = traces or 256, 128
    samples = 16
    n_q = -(-traces // samples)
    out(f"  jax device: {jax.devices()[0].platform} ({jax.devices()[0].device_kind})")
    t0 = time.perf_counter()
    params, losses = T.train(mc, tc)
    jax.block_until_ready(params)
    dt_train = time.perf_counter() - t0
    out(f"  trained d_model={mc.d_model} layers={mc.n_layers} ({M.param_count(params)} "
        f"parameters), {tc.steps} steps x {tc.batch} in {dt_train:.1f} s, loss "
        f"{losses[:10].mean():.3f} -> {losses[-10:].mean():.3f}")
    qs = task.make_questions(n_q, (1, tc.max_difficulty), seed=1)
    prompts = [task.prompt_tokens(q) for q in qs for _ in range(samples)]
    targets = [q.answer for q in qs for _ in range(samples)]
    diff = np.array([q.difficulty for q in qs for _ in range(samples)])
    M.sample(params, mc, prompts[:batch], temperature=0.8, top_p=0.95, seed=0,
             batch_size=batch)  # compile
    t0 = time.perf_counter()
    res = M.sample(params, mc, prompts, temperature=0.8, top_p=0.95, seed=0, batch_size=batch)
    dt = time.perf_counter() - t0
    parsed = [task.parse_completion(t) for t in res.tokens]
    correct = np.array([task.check_answer(p["answer"], a) for p, a in zip(parsed, targets)])
    tokens = int(sum(p["total_length"] for p in parsed))
    finished = float(np.mean([p["finished"] for p in parsed]))
    by = {int(d): float(correct[diff == d].mean()) for d in np.unique(diff)}
    out(f"  sampled {len(prompts)} traces ({tokens} tokens) in {dt:.1f} s: "
        f"{tokens / dt:.3e} generated tokens/s, {len(prompts) / dt:.1f} traces/s")
    out(f"  accuracy {correct.mean():.4f}, finished {finished:.4f}; by difficulty: "
        + ", ".join(f"{d}: {a:.3f}" for d, a in by.items()))
    ok = len(prompts) >= traces and bool(losses[-10:].mean() < losses[:10].mean())
    if gpu:
        ok = ok and finished > 0.95 and float(correct.mean()) > 0.5
    return ok, [dict(train_seconds=dt_train, final_loss=float(losses[-10:].mean()),
                     traces=len(prompts), tokens=tokens, tokens_per_s=tokens / dt,
                     accuracy=float(correct.mean()), finished=finished,
                     accuracy_by_difficulty=by)]


def check_validation(gpu, traces=None, out=print):
    """Every validation check at scale; returns (ok, rows as dicts).

    On the GPU: trains the larger model of :func:`check_runs` (d_model 256, 6 layers, 3000
    steps), samples at least 100,000 traces (32 per question, 1-4 operations) for the phase,
    knapsack and bbam checks, and 8,000 more with hidden states for the gamma check, then prints
    the table. On the CPU (``gpu=False``): the committed checkpoint and small sizes, to exercise
    the code path. ``ok`` means every check ran; the verdicts are in the table.
    """
    import tempfile
    from pathlib import Path

    import jax

    from validation import check as vc
    from validation import model as M
    from validation import records, task
    from validation import train as T
    from validation.adapters import JaxAdapter
    from validation.run import collect

    samples = 32
    tmp = Path(tempfile.mkdtemp(prefix="budgetlab-validation-"))
    out(f"  jax device: {jax.devices()[0].platform} ({jax.devices()[0].device_kind}); "
        f"work directory {tmp}")
    if gpu:
        mc = M.ModelConfig(d_model=256, n_layers=6, n_heads=8, d_ff=1024)
        tc = T.TrainConfig(steps=3000, batch=256, lr=1e-3, warmup=200)
        t0 = time.perf_counter()
        params, losses = T.train(mc, tc)
        jax.block_until_ready(params)
        out(f"  trained d_model={mc.d_model} layers={mc.n_layers} in "
            f"{time.perf_counter() - t0:.1f} s, loss {losses[:10].mean():.3f} -> "
            f"{losses[-10:].mean():.3f}")
        M.save_checkpoint(tmp / "model", params, mc, dict(command="gpu.check validation"))
        adapter = JaxAdapter(tmp / "model", batch_size=4096)
        traces = max(traces or 100_000, 100_000)
        hidden_q, sizes = 250, dict(vc.QUICK, gamma_questions=1000, bbam_questions=400)
    else:
        adapter = JaxAdapter("tiny", batch_size=256)
        traces = traces or 1024
        hidden_q, sizes = 12, dict(vc.QUICK, gamma_questions=12, gamma_steps=100,
                                   bbam_questions=6)
    n_q = -(-traces // samples)
    t0 = time.perf_counter()
    qs = task.make_questions(n_q, (1, 4), seed=1)
    table, _ = collect(adapter, qs, samples, temperature=0.8, top_p=0.95, seed=1)
    meta = dict(model=str(adapter.path), checkpoint_sha256=adapter.checkpoint_sha256,
                decoding=dict(temperature=0.8, top_p=0.95, seed=1), n_questions=n_q,
                n_samples=samples)
    records.write_run(tmp / "run", table, meta)
    qh = task.make_questions(hidden_q, (1, 4), seed=2)
    th_, hidden = collect(adapter, qh, samples, temperature=0.8, top_p=0.95, seed=2,
                          capture_hidden=True)
    records.write_run(tmp / "run_hidden", th_, dict(meta, n_questions=hidden_q), hidden)
    out(f"  sampled {len(table)} + {len(th_)} traces in {time.perf_counter() - t0:.1f} s; "
        f"accuracy {table.correct.mean():.4f}")
    run = records.read_run(tmp / "run")
    run_h = records.read_run(tmp / "run_hidden")
    rows, _ = vc.run_checks(run, ("phase", "knapsack", "bbam"), adapter, sizes=sizes)
    rows_g, _ = vc.run_checks(run_h, ("gamma",), adapter, sizes=sizes)
    rows += rows_g
    for r in rows:
        out(f"  {r.check:9s} {r.quantity[:70]:70s} {r.predicted:9.4f} {r.observed:9.4f}  "
            f"{r.verdict}")
    failed = [r for r in rows if r.verdict == "fail"]
    out(f"  {len(rows)} rows, {len(failed)} failed")
    keys = ["check", "quantity", "predicted", "observed", "ci_low", "ci_high", "verdict"]
    return True, [{k: getattr(r, k) for k in keys} for r in rows]


def _jax_gpu_or_fail():
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if not gpus:
        raise ValueError("JAX sees no GPU (install a CUDA build: pip install 'jax[cuda12]'), "
                         "or use --device cpu")


def main(argv=None):
    parser = _cli.ArgumentParser(prog="python -m gpu.check",
                                 description="Check a GPU kernel against the Numba kernel.")
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--device", choices=("gpu", "cpu"), default="gpu",
                        help="gpu (CuPy) or cpu (the same array code on NumPy, small sizes)")
    parser.add_argument("--trials", type=int, default=None,
                        help="trees per agreement case (default 2**20 on gpu, 4096 on cpu); "
                        "for runs: traces to sample (default and minimum 100000 on gpu, "
                        "256 on cpu)")
    parser.add_argument("--bench-trials", type=int, default=None,
                        help="trees timed for throughput (default 2**24 on gpu, 8192 on cpu)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    args = parser.parse_args(argv)
    if args.model in ("runs", "validation"):
        try:
            if args.device == "gpu":
                _jax_gpu_or_fail()
            if args.trials is not None and args.trials < 1:
                raise ValueError("trials (traces to sample) must be >= 1")
        except ValueError as exc:
            return _cli.fail(parser.prog, exc)
        say = (lambda s: None) if args.json else print
        say(f"gpu.check {args.model} on jax {args.device}")
        fn = check_runs if args.model == "runs" else check_validation
        ok, records = fn(args.device == "gpu", args.trials, out=say)
        if args.json:
            print(json.dumps(dict(model=args.model, device=args.device, ok=ok,
                                  records=_cli.jsonable(records))))
        else:
            print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    try:
        xp = array_module("cupy") if args.device == "gpu" else np
        trials = args.trials or ((1 << 20) if args.device == "gpu" else 4096)
        bench = args.bench_trials or ((1 << 24) if args.device == "gpu" else 8192)
        if trials < 64 or bench < 64:
            raise ValueError("trials and bench-trials must be >= 64")
    except (BackendUnavailable, ValueError) as exc:
        return _cli.fail(parser.prog, exc)
    say = (lambda s: None) if args.json else print
    say(f"gpu.check {args.model} on {xp.__name__}")
    check = {"phase": check_phase, "bbam": check_bbam, "knapsack": check_knapsack,
             "gamma": check_gamma}[args.model]
    ok, records = check(xp, trials, bench, out=say)
    if args.json:
        print(json.dumps(dict(model=args.model, device=args.device, ok=ok, records=records)))
    else:
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
