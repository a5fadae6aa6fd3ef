"""The validation GPU check: every validation check at scale on a GPU-trained model."""

from __future__ import annotations

import time


def check(gpu, traces=None, out=print):
    """Every validation check at scale; returns (ok, rows as dicts).

    On the GPU: trains the larger model of :func:`gpu.check.runs.check` (d_model 256, 6 layers, 3000
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
