"""``python -m validation.guidance``: budget adherence and accuracy of a Hugging Face model with
and without budget guidance, against budget forcing, on one set of questions and seeds.

Every arm decodes the same word problems (:mod:`validation.nltask`) with the same per-row seeds
(row ``(question i, sample s)`` has seed ``seed + i * samples + s``): unconstrained sampling,
then at each budget ``b`` budget forcing (``max_thinking=b``), guidance with the hidden-state
predictor (:class:`~validation.guidance.BudgetGuidanceLogitsProcessor`) and, with
``--position``, guidance with the position-only predictor (what the vLLM processor does).
Adherence is the fraction of traces whose thinking length is ``<= b``. Standard errors treat
the samples of one question as one cluster (the standard deviation of the per-question means
over ``sqrt(questions)``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from sim import _cli

__all__ = ["measure", "arm_stats", "format_table", "main", "PROG"]

PROG = "python -m validation.guidance"
#: Most generated tokens (traces x --max-new-tokens) a run may ask for without --yes: a few
#: hours of one CPU core at the 40 to 110 tokens/s measured for SmolLM2-135M.
TOKEN_LIMIT = 1e6


def arm_stats(samples, questions, n_samples, budget, targets):
    """Adherence, accuracy, mean thinking length and closed fraction with clustered s.e."""
    from validation import task

    T = np.array([s.thinking_length for s in samples], float).reshape(questions, n_samples)
    ok = np.array([task.check_answer(s.answer, a) for s, a in zip(samples, targets)],
                  float).reshape(questions, n_samples)
    closed = np.array([s.finished for s in samples], float).reshape(questions, n_samples)

    def mean_se(x):
        m = x.mean(axis=1)
        return float(m.mean()), float(m.std(ddof=1) / math.sqrt(questions)) if questions > 1 \
            else math.nan

    out = {}
    if budget is not None:
        out["adherence"], out["adherence_se"] = mean_se((T <= budget).astype(float))
    out["accuracy"], out["accuracy_se"] = mean_se(ok)
    out["mean_thinking"], out["mean_thinking_se"] = mean_se(T)
    out["finished"] = float(closed.mean())
    return out


def measure(adapter, predictor, budgets, *, questions=60, samples=4, difficulty=(1, 6),
            question_seed=1, seed=0, temperature=0.8, top_p=0.95, max_new_tokens=192,
            trigger="newline", position=None, log=None):
    """The table of :mod:`validation.guidance.measure` as a DataFrame (one row per arm and
    budget; the unconstrained arm has one row per budget)."""
    from validation import nltask
    from validation.guidance import core
    from validation.guidance.hf import BudgetGuidanceLogitsProcessor

    qs = nltask.make_questions(questions, difficulty, question_seed)
    prompts = [q.text for q in qs for _ in range(samples)]
    targets = [str(q.answer) for q in qs for _ in range(samples)]
    seeds = [seed + i for i in range(len(prompts))]
    kw = dict(temperature=temperature, top_p=top_p, seed=seeds, max_new_tokens=max_new_tokens)
    rows = []

    def run(arm, budget, **extra):
        t0 = time.perf_counter()
        out = adapter.generate(prompts, **kw, **extra)
        secs = time.perf_counter() - t0
        toks = sum(s.total_length for s in out)
        if log:
            log(f"{arm} b={budget}: {len(out)} traces, {toks} tokens in {secs:.0f} s")
        return out, secs, toks

    base, secs, toks = run("unconstrained", None)
    for b in budgets:
        rows.append(dict(arm="unconstrained", budget=b, seconds=secs, tokens=toks,
                         **arm_stats(base, questions, samples, b, targets)))
    arms = [("forcing", None), ("guidance", predictor)]
    if position is not None:
        arms.append(("guidance (position only)", position))
    tok = adapter.tokenizer
    ends = core.end_sequences(tok, (adapter.fmt.forced,))
    lines = core.newline_ids(tok) if trigger == "newline" else None
    for b in budgets:
        for arm, pred in arms:
            if pred is None:
                out, secs, toks = run(arm, b, max_thinking=b)
            else:
                proc = BudgetGuidanceLogitsProcessor(pred, b, temperature=temperature,
                                                     trigger=trigger, end_ids=ends,
                                                     newline_token_ids=lines)
                out, secs, toks = run(arm, b, logits_processor=proc)
            rows.append(dict(arm=arm, budget=b, seconds=secs, tokens=toks,
                             **arm_stats(out, questions, samples, b, targets)))
    return pd.DataFrame(rows)


def format_table(df):
    """The table as Markdown: adherence and accuracy with standard errors, per budget."""
    lines = ["| budget | arm | adherence P(T <= b) | accuracy | mean thinking | closed |",
             "|---|---|---|---|---|---|"]
    for r in df.sort_values(["budget"], kind="stable").itertuples():
        lines.append(f"| {r.budget} | {r.arm} | {r.adherence:.3f} ({r.adherence_se:.3f}) | "
                     f"{r.accuracy:.3f} ({r.accuracy_se:.3f}) | {r.mean_thinking:.1f} | "
                     f"{r.finished:.3f} |")
    return "\n".join(lines)


def build_parser():
    """The parser of ``python -m validation.guidance``."""
    p = _cli.ArgumentParser(prog=PROG, description=(
        "Budget adherence and accuracy with and without budget guidance, against budget "
        "forcing, on the same questions and seeds (Hugging Face models)."))
    _cli.add_version(p)
    p.add_argument("--model", default="smollm2", help="smollm2 or hf:PATH (default smollm2)")
    p.add_argument("--predictor", required=True,
                   help="hidden-state predictor (python -m validation.gamma --out)")
    p.add_argument("--position", default=None,
                   help="also guide with this position-only predictor (--position-out)")
    p.add_argument("--budgets", default="10,20,39",
                   help="thinking budgets, comma-separated (default 10,20,39: 1/4, 1/2 and 1 "
                        "times SmolLM2's median)")
    p.add_argument("--questions", type=int, default=60, help="questions (default 60)")
    p.add_argument("--samples", type=int, default=4, help="samples per question (default 4)")
    p.add_argument("--difficulty", default="1:6", help="d or lo:hi (default 1:6)")
    p.add_argument("--question-seed", type=int, default=1,
                   help="question seed (default 1: not the recorded run's questions)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--max-new-tokens", type=int, default=192)
    p.add_argument("--trigger", default="newline", choices=("newline", "every_token"))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None, help="table file (.csv or .parquet)")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    _cli.add_guard_argument(p)
    return p


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m validation.guidance``: 0 on success, 2 on bad input."""
    import json
    import sys

    from sim import guard
    from validation.adapters import load_adapter
    from validation.guidance.core import check_budget, load_length_model

    args = build_parser().parse_args(argv)
    try:
        budgets = [int(x) for x in str(args.budgets).split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"budgets must be integers separated by commas, got "
                         f"{args.budgets!r}") from None
    if not budgets:
        raise ValueError(f"budgets must name at least one budget, got {args.budgets!r}")
    budgets = [check_budget(b) for b in budgets]
    for name in ("questions", "samples"):
        if getattr(args, name) < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {getattr(args, name)}")
    if args.out:
        _cli.writable_output(args.out, "--out")
    _cli.regular_file(args.predictor, "--predictor")
    pred = load_length_model(args.predictor)
    pos = None
    if args.position:
        _cli.regular_file(args.position, "--position")
        pos = load_length_model(args.position)
        if pos.needs_hidden:
            raise ValueError(f"--position must be a position-only predictor file, got the "
                             f"hidden-state predictor {args.position}")
    arms = 1 + len(budgets) * (2 + (pos is not None))
    traces = arms * args.questions * args.samples
    guard.check("--questions * --samples", work=traces * args.max_new_tokens,
                unit="generated tokens (at most)", work_limit=TOKEN_LIMIT, allow=args.yes,
                hint="lower --questions or --samples, or pass --yes")
    adapter = load_adapter(args.model, batch_size=args.batch_size, threads=args.threads)
    if pred.needs_hidden and pred.d_in != adapter.d_model:
        raise ValueError(f"predictor hidden size {pred.d_in} does not match the model's hidden "
                         f"size {adapter.d_model}")

    def log(msg):
        if not args.json:
            print(msg, file=sys.stderr, flush=True)

    df = measure(adapter, pred, budgets, questions=args.questions, samples=args.samples,
                 difficulty=args.difficulty, question_seed=args.question_seed, seed=args.seed,
                 temperature=args.temperature, top_p=args.top_p,
                 max_new_tokens=args.max_new_tokens, trigger=args.trigger, position=pos,
                 log=log)
    df = _cli.add_provenance(df, args.seed, "torch")
    if args.out:
        _cli.write_table(df, args.out)
    if args.json:
        print(json.dumps(_cli.envelope(dict(vars(args)), table=df.to_dict("records"))))
        return 0
    print(f"{args.model}: {args.questions} questions x {args.samples} samples, levels "
          f"{args.difficulty}, T={args.temperature} top_p={args.top_p}, trigger {args.trigger}")
    print(format_table(df))
    return 0
