"""Generated tokens per second of SmolLM2-135M-Instruct through each decoding engine.

The same prompts (the chat prompts of :mod:`validation.nltask` questions, levels 1 to 6) and the
same sampling settings (temperature 0.8, top-p 0.95, at most ``--max-new-tokens`` tokens) go
through:

* ``generate``: transformers' ``model.generate``, batched with left padding (float32);
* the adapter :class:`validation.adapters.HFAdapter` with the engine ``hf`` (the model's own
  forward and a dynamic cache), ``torch`` (the hand-written batched decoder) and ``llama.cpp``
  (the GGUF file through llama-cpp-python, when installed).

Each configuration is timed end to end (prefill included) on all ``--rows`` prompts, at each
batch size and thread count asked for, back to back in one process. Two rates are printed:
generated tokens per second of wall time, and per second of this process's CPU time (all its
threads). On a machine shared with other jobs the wall-time rate follows the machine's load
(printed beside each line), while the CPU-time rate of a one-thread configuration stays close
to what an idle core would give; spinning threads waiting for a busy core inflate the CPU time
of multi-thread configurations, so compare thread counts by wall time. The adapter stops a row at
the end of its answer line, ``generate`` at the end-of-sequence token (the model ends its turn
right after the answer line, so the counts are close); the rate is generated tokens (up to
and including the end of the row) per second of wall time.

Run ``python benchmarks/engines.py [--rows 128] [--batches 8,32,64,128] [--threads 1,2]
[--more-threads-batches 64] [--engines generate,hf,torch,llama.cpp] [--json FILE]`` from the
repository root (the engine ``hf`` runs at batch 64 only; thread counts after the first run
the batch sizes of ``--more-threads-batches``). Needs the extra ``hf`` (and
llama-cpp-python for its engine).
"""

from __future__ import annotations

import argparse
import json
import os
import time


def _ints(text):
    return [int(x) for x in text.split(",") if x]


def _timed(fn):
    """``(result, wall seconds, CPU seconds of this process, all threads)``."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _generate_tokens(model, tok, texts, batch, max_new, eos_ids):
    import torch

    tok.padding_side = "left"
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    torch.manual_seed(0)
    n_tokens = 0
    for start in range(0, len(texts), batch):
        enc = tok(texts[start:start + batch], return_tensors="pt", padding=True,
                  add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, do_sample=True, temperature=0.8, top_p=0.95, top_k=0,
                                 max_new_tokens=max_new, pad_token_id=tok.pad_token_id)
        for row in out[:, enc.input_ids.shape[1]:].tolist():
            n = len(row)
            for j, t in enumerate(row):
                if t in eos_ids:
                    n = j + 1
                    break
            n_tokens += n
    return n_tokens


def _adapter_tokens(adapter, questions, max_new):
    out = adapter.generate(questions, temperature=0.8, top_p=0.95, seed=0,
                           max_new_tokens=max_new)
    return sum(o.total_length for o in out)


def main(argv=None):
    """Measure and print the table; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batches", default="8,32,64,128")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--more-threads-batches", default="64",
                    help="batch sizes measured at thread counts after the first")
    ap.add_argument("--engines", default="generate,hf,torch,llama.cpp")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    import torch
    import transformers

    from validation import nltask
    from validation.adapters import HFAdapter, smollm2_gguf_path

    gguf = smollm2_gguf_path()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    d, f = os.path.split(gguf)
    tok = transformers.AutoTokenizer.from_pretrained(d, gguf_file=f, local_files_only=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        d, gguf_file=f, dtype=torch.float32, local_files_only=True).eval()
    print(f"loaded {f} through transformers in {time.perf_counter() - t0:.1f} s")
    questions = [q.text for q in nltask.make_questions(args.rows, "1:6", seed=123)]
    probe = HFAdapter(gguf, model=model, tokenizer=tok)
    texts = [tok.decode(probe.prompt_ids(q)) for q in questions]
    engines = args.engines.split(",")
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        if "llama.cpp" in engines:
            print("llama-cpp-python is not installed: engine llama.cpp skipped")
            engines.remove("llama.cpp")
    results = []
    for i, threads in enumerate(_ints(args.threads)):
        torch.set_num_threads(threads)
        for engine in engines:
            batches = _ints(args.batches if i == 0 else args.more_threads_batches)
            if engine == "hf":
                batches = [b for b in batches if b == 64] or batches[-1:]
            for batch in batches:
                if engine == "generate":
                    n, sec, cpu = _timed(lambda b=batch: _generate_tokens(
                        model, tok, texts, b, args.max_new_tokens, probe.eos_ids))
                else:
                    a = HFAdapter(gguf, model=model, tokenizer=tok, engine=engine,
                                  batch_size=batch, threads=threads)
                    n, sec, cpu = _timed(lambda a=a: _adapter_tokens(a, questions,
                                                                     args.max_new_tokens))
                results.append(dict(engine=engine, batch=batch, threads=threads, tokens=n,
                                    seconds=round(sec, 2), cpu_seconds=round(cpu, 2),
                                    rate=n / sec, cpu_rate=n / cpu,
                                    load=round(os.getloadavg()[0], 2)))
                print(f"{engine:>9}  batch {batch:>4}  threads {threads}  {n:>6} tokens  "
                      f"{sec:7.1f} s  {n / sec:7.1f} tokens/s  {n / cpu:7.1f} tokens/CPU-s  "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    ref = next((r for r in results if r["engine"] == "generate" and r["batch"] == 32
                and r["threads"] == 1), results[0])
    print(f"\nratios to {ref['engine']} at batch {ref['batch']}, {ref['threads']} thread(s)")
    print("engine     batch  threads  tokens/s  ratio  tokens/CPU-s  ratio")
    for r in results:
        print(f"{r['engine']:>9}  {r['batch']:>5}  {r['threads']:>7}  {r['rate']:8.1f}  "
              f"{r['rate'] / ref['rate']:5.2f}  {r['cpu_rate']:12.1f}  "
              f"{r['cpu_rate'] / ref['cpu_rate']:5.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(rows=args.rows, max_new_tokens=args.max_new_tokens, cpus=os.cpu_count(),
                           results=results), fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
