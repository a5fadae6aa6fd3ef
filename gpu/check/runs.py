"""The runs GPU check: a larger in-project model trained and sampled on the GPU with JAX, or a
pretrained Hugging Face model sampled with ``transformers`` on CUDA with and without budget
guidance (the real-model path)."""

from __future__ import annotations

import time

import numpy as np

RECORDED_RUN = "data/runs/smollm2-135m-instruct"


def check(gpu, traces=None, out=print, model=None, budget=20, predictor=None):
    """Sample traces on the GPU; returns (ok, records).

    With ``model`` (``python -m gpu.check runs --real-model MODEL``) the real-model path
    (:func:`check_real`, with ``predictor`` from ``--predictor``); otherwise the in-project
    model: trained with JAX then sampled. On the
    GPU: d_model 256, 6 layers, 3000 steps of 256 sequences, then at least 100,000 traces (16
    per question, temperature 0.8, top-p 0.95). On the CPU (``gpu=False``): a tiny model, 30
    steps, 256 traces, to exercise the code path.
    """
    if model:
        return check_real(gpu, model, traces, out=out, budget=budget, predictor=predictor)
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


def position_from_run(table):
    """The position-only predictor from a run's thinking lengths (no hidden states needed).

    Every closed trace of length ``T`` gives positions ``t = 0..T`` with remaining length
    ``L = T + 1 - t`` (as ``hidden.npz``), fitted by :func:`validation.gamma.fit_position_buckets`
    on ``t / 64``.
    """
    from validation import gamma as vg

    T = table.loc[table["closed"] if "closed" in table else table["finished"],
                  "thinking_length"].to_numpy()
    t = np.concatenate([np.arange(k + 1) for k in T])
    L = np.concatenate([np.arange(k + 1, 0, -1) for k in T])
    fit = vg.fit_position_buckets(t / vg.POS_SCALE, L)
    return vg.PositionBuckets(fit.edges, fit.alpha, fit.rate, fit.counts,
                              info=dict(pos_scale=vg.POS_SCALE, offset=1.0))


def check_real(gpu, model, traces=None, out=print, budget=20, predictor=None):
    """A Hugging Face model through ``transformers.generate`` with and without guidance.

    The word problems of levels 1-6 (8 samples per question, temperature 0.8, top-p 0.95), half
    of the traces unguided and half with :class:`validation.guidance.BudgetGuidanceLogitsProcessor`
    at thinking budget ``budget``, on CUDA when torch sees a GPU (else the CPU, said in the
    output). On the GPU at least 100,000 traces in batches of 512; on the CPU 32 traces by
    default. The predictor: ``predictor`` (a hidden-state predictor file) or the position-only
    predictor of the recorded SmolLM2 run's thinking lengths. Records: tokens/s, adherence
    ``P(T <= budget)`` and accuracy per arm with standard errors.
    """
    import torch
    import transformers

    from validation import nltask, records, task
    from validation.adapters import load_adapter
    from validation.guidance import BudgetGuidanceLogitsProcessor, core

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    if gpu:
        traces, batch, max_new = max(traces or 100_000, 100_000), 512, 160
    else:
        traces, batch, max_new = traces or 32, 16, 96
    out(f"  real model {model} with transformers on {device}"
        + ("" if cuda else " (no GPU was used: torch sees no CUDA device)"))
    ad = load_adapter(model, batch_size=batch)
    lm, tok = ad.model.to(device), ad.tokenizer
    tok.padding_side = "left"
    if predictor:
        pred = core.load_length_model(predictor, device)
    else:
        pred = core.LengthModel(position_from_run(records.read_run(RECORDED_RUN).table), device)
    ends = core.end_sequences(tok, (ad.fmt.forced,))
    lines = core.newline_ids(tok)
    samples = 8
    qs = nltask.make_questions(-(-traces // (2 * samples)), (1, 6), seed=2)
    prompts = [ad.prompt_ids(q.text) for q in qs for _ in range(samples)]
    targets = [q.answer for q in qs for _ in range(samples)]
    pad = tok.pad_token_id if tok.pad_token_id is not None else min(ad.eos_ids)
    recs = []
    for arm in ("unguided", "guided"):
        T, ok, n_tok = [], [], 0
        torch.manual_seed(0)
        t0 = time.perf_counter()
        for s in range(0, len(prompts), batch):
            part = prompts[s:s + batch]
            width = max(len(p) for p in part)
            ids = torch.tensor([[pad] * (width - len(p)) + p for p in part], device=device)
            mask = (torch.arange(width, device=device)[None, :]
                    >= torch.tensor([width - len(p) for p in part], device=device)[:, None])
            procs = []
            if arm == "guided":
                procs = [BudgetGuidanceLogitsProcessor(pred, budget, model=lm, temperature=0.8,
                                                       end_ids=ends, newline_token_ids=lines)]
            with torch.no_grad():
                gen = lm.generate(input_ids=ids, attention_mask=mask.long(), do_sample=True,
                                  temperature=0.8, top_p=0.95, max_new_tokens=max_new,
                                  logits_processor=transformers.LogitsProcessorList(procs),
                                  pad_token_id=pad)
            for p in procs:
                p.close()
            for row, target in zip(gen[:, width:].tolist(), targets[s:s + batch]):
                stop = next((i for i, x in enumerate(row) if x in ad.eos_ids), len(row))
                row = row[:stop]
                n_tok += len(row)
                text = tok.decode(row, skip_special_tokens=True)
                span = ad.fmt.find(text)
                T.append(ad._token_at(row, span[0]) if span else len(row))
                ok.append(task.check_answer(ad.fmt.answer(text), target))
        if cuda:
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        T, ok = np.array(T), np.array(ok, float)
        adh = float((T <= budget).mean())
        rec = dict(arm=arm, device=device, traces=int(T.size), tokens=int(n_tok),
                   tokens_per_s=n_tok / dt, seconds=dt, budget=budget, adherence=adh,
                   adherence_se=float(np.sqrt(adh * (1 - adh) / T.size)),
                   accuracy=float(ok.mean()),
                   accuracy_se=float(np.sqrt(ok.mean() * (1 - ok.mean()) / T.size)),
                   mean_thinking=float(T.mean()))
        recs.append(rec)
        out(f"  {arm:8s} {rec['traces']} traces, {n_tok} tokens in {dt:.1f} s "
            f"({rec['tokens_per_s']:.3g} tokens/s): P(T <= {budget}) {adh:.4f} "
            f"({rec['adherence_se']:.4f}), accuracy {rec['accuracy']:.4f} "
            f"({rec['accuracy_se']:.4f}), mean thinking {rec['mean_thinking']:.1f}")
    ok = sum(r["traces"] for r in recs) >= traces
    if gpu:
        ok = ok and cuda and recs[1]["adherence"] > recs[0]["adherence"]
    return ok, recs
