"""``python -m validation.run``: sample a model on task questions and write a run record.

Example::

    python -m validation.run --model tiny --questions 500 --samples 16 --out runs/tiny

Every (question, sample) pair gets its own seed (:func:`sample_seed`), so any row can be
reproduced alone. The run is written with :func:`validation.records.write_run` and summarised by
:func:`summarize` (reused by ``validation.check``): accuracy by difficulty with 95% intervals
that treat questions as the unit (samples of one question are correlated), the distribution of
thinking lengths, and the within-question correlation of correctness (one-way intraclass
correlation ICC(1) over samples, with a bootstrap-over-questions interval).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from sim import _cli
from theory._params import check_int, check_real
from validation import records, task

__all__ = ["sample_seed", "collect", "icc1", "summarize", "format_summary", "plot_run", "main"]


def sample_seed(run_seed, question_id, sample):
    """31-bit seed of one (question, sample): ``SeedSequence([run_seed, question_id, sample])``."""
    ss = np.random.SeedSequence([int(run_seed), int(question_id), int(sample)])
    return int(ss.generate_state(1)[0] & 0x7FFFFFFF)


def _candidates(sample):
    """Token predicted at each captured position (-1 where the adapter gives no token ids)."""
    n = len(sample.remaining)
    if sample.tokens is None:
        return np.full(n, -1, dtype=np.int64)
    out = np.full(n, -1, dtype=np.int64)
    k = min(n, len(sample.tokens))
    out[:k] = sample.tokens[:k]
    return out


def collect(adapter, questions, samples, *, temperature=0.8, top_p=0.95, seed=0,
            max_new_tokens=None, max_thinking=None, capture_hidden=False, chunk=2048,
            progress=None):
    """Sample ``samples`` completions per question; return ``(table, hidden or None)``.

    ``table`` has the columns of :data:`validation.records.COLUMNS`; ``hidden`` the arrays of
    ``hidden.npz``. ``progress(n_done)`` is called after each chunk of rows.
    """
    rows = [(q, s) for q in questions for s in range(samples)]
    seeds = [sample_seed(seed, q.id, s) for q, s in rows]
    out = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        out += adapter.generate([q.text for q, _ in part], temperature=temperature,
                                top_p=top_p, seed=seeds[start:start + chunk],
                                max_new_tokens=max_new_tokens, max_thinking=max_thinking,
                                capture_hidden=capture_hidden)
        if progress is not None:
            progress(len(part))
    table = pd.DataFrame(dict(
        question_id=[q.id for q, _ in rows], difficulty=[q.difficulty for q, _ in rows],
        sample=[s for _, s in rows], seed=seeds, prompt=[q.text for q, _ in rows],
        target=[str(q.answer) for q, _ in rows], answer=[o.answer for o in out],
        correct=[task.check_answer(o.answer, q.answer) for (q, _), o in zip(rows, out)],
        thinking_length=[o.thinking_length for o in out],
        total_length=[o.total_length for o in out], finished=[o.finished for o in out]))
    hidden = None
    if capture_hidden:
        hidden = dict(
            states=np.concatenate([o.hidden for o in out]).astype(np.float16),
            row=np.concatenate([np.full(len(o.remaining), i) for i, o in enumerate(out)]),
            position=np.concatenate([np.arange(len(o.remaining)) for o in out]),
            remaining=np.concatenate([o.remaining for o in out]),
            token=np.concatenate([_candidates(o) for o in out]))
    return table, hidden


def icc1(groups):
    """One-way intraclass correlation ICC(1) of a 0/1 (or real) outcome grouped by question.

    ``(MSB - MSW) / (MSB + (k0 - 1) MSW)`` with ``k0`` the ANOVA average group size; NaN when
    undefined (fewer than 2 groups, all groups of size 1, or no variance).
    """
    groups = [np.asarray(g, float) for g in groups if len(g) > 0]
    n_g = len(groups)
    sizes = np.array([len(g) for g in groups])
    N = sizes.sum()
    if n_g < 2 or N <= n_g:
        return float("nan")
    grand = np.concatenate(groups).mean()
    means = np.array([g.mean() for g in groups])
    ssb = (sizes * (means - grand) ** 2).sum()
    ssw = sum(((g - m) ** 2).sum() for g, m in zip(groups, means))
    msb = ssb / (n_g - 1)
    msw = ssw / (N - n_g)
    k0 = (N - (sizes ** 2).sum() / N) / (n_g - 1)
    den = msb + (k0 - 1) * msw
    return float((msb - msw) / den) if den > 0 else float("nan")


def _question_mean_interval(per_q):
    m = float(per_q.mean())
    se = float(per_q.std(ddof=1) / np.sqrt(len(per_q))) if len(per_q) > 1 else float("nan")
    return m, max(0.0, m - 1.96 * se), min(1.0, m + 1.96 * se)


def summarize(table, n_boot=200, seed=0):
    """Summary of a run table (a DataFrame with the record columns).

    Returns
    -------
    dict
        ``n_rows``, ``n_questions``, ``n_samples``; ``accuracy`` and ``by_difficulty`` (a list of
        ``{difficulty, questions, accuracy, ci_low, ci_high, majority_accuracy,
        mean_thinking, icc}``; intervals are 95% normal intervals over per-question accuracies);
        ``finished`` (fraction); ``thinking_length`` (``mean``, ``std``, ``min``, ``max`` and
        quantiles ``q05 q25 q50 q75 q95``); ``icc`` (ICC(1) of correctness over all questions),
        ``icc_ci`` (bootstrap over questions, 2.5% and 97.5%), ``icc_within_difficulty`` (mean of
        the per-difficulty ICCs weighted by questions: the correlation beyond what the difficulty
        knob explains).
    """
    df = table
    per_q = df.groupby("question_id").agg(difficulty=("difficulty", "first"),
                                          acc=("correct", "mean"), n=("correct", "size"))
    groups = {qid: g["correct"].to_numpy() for qid, g in df.groupby("question_id")}
    lengths = df["thinking_length"].to_numpy()
    out = dict(n_rows=int(len(df)), n_questions=int(len(per_q)),
               n_samples=int(per_q["n"].max()))
    out["accuracy"], lo, hi = _question_mean_interval(per_q["acc"].to_numpy())
    out["accuracy_ci"] = [lo, hi]
    out["finished"] = float(df["finished"].mean())
    by = []
    weighted, weight = 0.0, 0
    for d, g in per_q.groupby("difficulty"):
        acc, lo, hi = _question_mean_interval(g["acc"].to_numpy())
        ic = icc1([groups[q] for q in g.index])
        if np.isfinite(ic):
            weighted += ic * len(g)
            weight += len(g)
        by.append(dict(difficulty=int(d), questions=int(len(g)), accuracy=acc, ci_low=lo,
                       ci_high=hi, majority_accuracy=float((g["acc"] > 0.5).mean()),
                       mean_thinking=float(df.loc[df["difficulty"] == d,
                                                  "thinking_length"].mean()),
                       icc=ic))
    out["by_difficulty"] = by
    q = np.quantile(lengths, [0.05, 0.25, 0.5, 0.75, 0.95])
    out["thinking_length"] = dict(mean=float(lengths.mean()), std=float(lengths.std()),
                                  min=int(lengths.min()), max=int(lengths.max()),
                                  q05=float(q[0]), q25=float(q[1]), q50=float(q[2]),
                                  q75=float(q[3]), q95=float(q[4]))
    glist = list(groups.values())
    out["icc"] = icc1(glist)
    gen = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        pick = gen.integers(0, len(glist), len(glist))
        boots.append(icc1([glist[i] for i in pick]))
    boots = np.array([b for b in boots if np.isfinite(b)])
    out["icc_ci"] = ([float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))]
                     if boots.size else [float("nan"), float("nan")])
    out["icc_within_difficulty"] = weighted / weight if weight else float("nan")
    return out


def format_summary(s):
    """The summary as a plain-text report."""
    lines = [f"rows={s['n_rows']} questions={s['n_questions']} samples/question={s['n_samples']}"
             f"  finished={s['finished']:.3f}",
             f"accuracy {s['accuracy']:.3f}  95% [{s['accuracy_ci'][0]:.3f}, "
             f"{s['accuracy_ci'][1]:.3f}]",
             "difficulty  questions  accuracy  95% interval     majority  mean thinking  ICC"]
    for r in s["by_difficulty"]:
        lines.append(f"{r['difficulty']:>10}  {r['questions']:>9}  {r['accuracy']:>8.3f}  "
                     f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  {r['majority_accuracy']:>8.3f}  "
                     f"{r['mean_thinking']:>13.1f}  {r['icc']:.3f}")
    t = s["thinking_length"]
    lines.append(f"thinking length: mean {t['mean']:.1f} sd {t['std']:.1f} min {t['min']} "
                 f"q05 {t['q05']:.0f} q25 {t['q25']:.0f} median {t['q50']:.0f} "
                 f"q75 {t['q75']:.0f} q95 {t['q95']:.0f} max {t['max']}")
    lines.append(f"within-question correlation of correctness ICC(1) = {s['icc']:.3f}  "
                 f"95% [{s['icc_ci'][0]:.3f}, {s['icc_ci'][1]:.3f}]  "
                 f"(within difficulty: {s['icc_within_difficulty']:.3f})")
    return "\n".join(lines)


def plot_run(table, summary, axes=None, title=""):
    """Two panels: accuracy by difficulty, and thinking lengths by correctness; returns the axes.

    ``axes`` is a pair of matplotlib axes (new ones on a new pyplot figure when None).
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    a, b = axes
    by = summary["by_difficulty"]
    d = [r["difficulty"] for r in by]
    acc = np.array([r["accuracy"] for r in by])
    err = np.array([[r["accuracy"] - r["ci_low"] for r in by],
                    [r["ci_high"] - r["accuracy"] for r in by]])
    a.errorbar(d, acc, yerr=err, marker="o", capsize=3, label="per sample")
    a.plot(d, [r["majority_accuracy"] for r in by], "s--", label="per-question majority > 1/2")
    a.set_xlabel("difficulty (operations)")
    a.set_ylabel("accuracy")
    a.set_ylim(0, 1.02)
    a.legend(loc="lower left")
    a.set_title(f"accuracy, ICC(1) = {summary['icc']:.2f}")
    bins = np.arange(0, table["thinking_length"].max() + 3, 2)
    for ok, lab in ((True, "correct"), (False, "wrong")):
        b.hist(table.loc[table["correct"] == ok, "thinking_length"], bins=bins, alpha=0.6,
               label=lab)
    b.set_xlabel("thinking length (tokens)")
    b.set_ylabel("samples")
    b.legend()
    b.set_title("thinking lengths")
    if title:
        a.figure.suptitle(title)
    return axes


@_cli.command("python -m validation.run")
def main(argv=None):
    """Command line; returns the exit status."""
    parser = _cli.ArgumentParser(prog="python -m validation.run",
                                 description="Sample a model on task questions; write a run.")
    _cli.add_version(parser)
    parser.add_argument("--model", default="tiny",
                        help="tiny, a checkpoint directory, hf:PATH or smollm2 (default tiny)")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--difficulty", default="1:6", help="d or lo:hi (default 1:6)")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--question-seed", type=int, default=0,
                        help="seed of the question set (default 0)")
    parser.add_argument("--max-thinking", type=int, default=None,
                        help="force </think> after N thinking tokens (budget forcing)")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--hidden", action="store_true",
                        help="save hidden states at thinking positions (hidden.npz)")
    parser.add_argument("--out", default=None, help="run directory (default runs/<model>)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    _cli.add_plot_arguments(parser, "accuracy by difficulty and the thinking-length histogram")
    args = parser.parse_args(argv)
    try:
        check_int("questions", args.questions, 1)
        check_int("samples", args.samples, 1)
        check_real("temperature", args.temperature, 0.0)
        check_real("top_p", args.top_p, 0.0, 1.0, lo_open=True)
        check_int("seed", args.seed, 0)
        if args.max_thinking is not None:
            check_int("max_thinking", args.max_thinking, 0)
        if args.max_new_tokens is not None:
            check_int("max_new_tokens", args.max_new_tokens, 1)
        questions = task.make_questions(args.questions, args.difficulty, args.question_seed)
        from validation.adapters import load_adapter
        adapter = load_adapter(args.model)
    except (TypeError, ValueError) as exc:
        return _cli.fail(parser.prog, exc)
    out_dir = args.out or f"runs/{args.model.replace('/', '_').replace(':', '_')}"
    n_rows = args.questions * args.samples
    t0 = time.perf_counter()
    with _cli.progress_bar(not args.json, "sampling", n_rows) as advance:
        table, hidden = collect(adapter, questions, args.samples, temperature=args.temperature,
                                top_p=args.top_p, seed=args.seed,
                                max_new_tokens=args.max_new_tokens,
                                max_thinking=args.max_thinking, capture_hidden=args.hidden,
                                progress=lambda n: [advance() for _ in range(n)])
    seconds = time.perf_counter() - t0
    tokens = int(table["total_length"].sum())
    meta = dict(model=args.model, checkpoint_sha256=adapter.checkpoint_sha256,
                decoding=dict(temperature=args.temperature, top_p=args.top_p, seed=args.seed,
                              max_new_tokens=args.max_new_tokens,
                              max_thinking=args.max_thinking),
                task=dict(name="chain", difficulty=args.difficulty,
                          question_seed=args.question_seed),
                seconds=round(seconds, 2), tokens=tokens)
    records.write_run(out_dir, table, meta, hidden)
    summary = summarize(table)
    if args.plot:
        fig, axes = _cli.new_figure(10, 3.8, ncols=2)
        plot_run(table, summary, axes,
                 f"{args.model}: {args.questions} questions x {args.samples} samples, "
                 f"T={args.temperature}, top-p={args.top_p}")
        _cli.save_figure(fig, args.plot, args.dpi, prog=parser.prog)
    if args.json:
        params = {k: v for k, v in vars(args).items() if k not in ("json", "plot", "dpi")}
        print(json.dumps(_cli.envelope(params, run=out_dir, meta=meta, summary=summary)))
        return 0
    print(f"budgetlab validation run  model={args.model} sha256={adapter.checkpoint_sha256[:12]}"
          f"  T={args.temperature} top_p={args.top_p} seed={args.seed}"
          + (f" max_thinking={args.max_thinking}" if args.max_thinking is not None else ""))
    print(f"  wrote {out_dir}  ({seconds:.1f} s, {tokens / seconds:.0f} generated tokens/s)")
    print(format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
