"""The runs GPU check: a larger in-project model trained and sampled on the GPU with JAX."""

from __future__ import annotations

import time

import numpy as np


def check(gpu, traces=None, out=print):
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
