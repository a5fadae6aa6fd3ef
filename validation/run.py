"""``python -m validation.run``: sample a model on task questions and write a run record.

Examples::

    python -m validation.run --model tiny --questions 500 --samples 16 --out runs/tiny
    python -m validation.run --model smollm2 --task nl --questions 250 --samples 8 \
        --threads 1 --log --out data/runs/smollm2-135m-instruct

``--task chain`` is the project's synthetic task (:mod:`validation.task`), ``--task nl`` its
natural-language version (:mod:`validation.nltask`, Hugging Face models only). Hugging Face
models take ``--engine``, ``--layers`` (hidden-state layers kept by ``--hidden``),
``--batch-size``, ``--threads`` and ``--prompt-format``. Rows are sampled in chunks
(``--chunk``); each finished chunk is kept under ``OUT/.parts`` until the run is written, and
a rerun of the same command resumes from them, so a crash loses only the chunk in flight.

Every (question, sample) pair gets its own seed (:func:`sample_seed`), so any row can be
reproduced alone. The run is written with :func:`validation.records.write_run` and summarised by
:func:`summarize` (reused by ``validation.check``): accuracy by difficulty with 95% intervals
that treat questions as the unit (samples of one question are correlated), the distribution of
thinking lengths, and the within-question correlation of correctness (one-way intraclass
correlation ICC(1) over samples, with a bootstrap-over-questions interval).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim import _cli
from theory._params import check_int, check_real
from validation import nltask, records, task

__all__ = ["TASKS", "sample_seed", "collect", "icc1", "summarize", "format_summary", "plot_run",
           "main"]

#: Tasks of ``--task``: the synthetic chain task and its natural-language version.
TASKS = ("chain", "nl")


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


def _load_part(path):
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _save_part(path, samples):
    path = Path(path)
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(samples, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def collect(adapter, questions, samples, *, temperature=0.8, top_p=0.95, seed=0,
            max_new_tokens=None, max_thinking=None, capture_hidden=False, chunk=2048,
            progress=None, parts_dir=None, with_tokens=False):
    """Sample ``samples`` completions per question; return ``(table, hidden or None)``.

    ``table`` has the columns of :data:`validation.records.COLUMNS` (and ``text``, ``closed``
    when the adapter gives them); ``hidden`` the arrays of ``hidden.npz``. ``progress(n_done)``
    is called after each chunk of rows. With ``parts_dir`` every finished chunk is pickled
    there and a chunk already there is loaded instead of sampled (resuming a run). With
    ``with_tokens`` the return value is ``(table, hidden, tokens)``, ``tokens`` the arrays of
    ``tokens.npz`` (``None`` when the adapter gives no token ids).
    """
    rows = [(q, s) for q in questions for s in range(samples)]
    seeds = [sample_seed(seed, q.id, s) for q, s in rows]
    out = []
    for c, start in enumerate(range(0, len(rows), chunk)):
        part = rows[start:start + chunk]
        path = None if parts_dir is None else Path(parts_dir) / f"part-{c:05d}.pkl"
        if path is not None and path.is_file():
            got = _load_part(path)
        else:
            got = adapter.generate([q.text for q, _ in part], temperature=temperature,
                                   top_p=top_p, seed=seeds[start:start + chunk],
                                   max_new_tokens=max_new_tokens, max_thinking=max_thinking,
                                   capture_hidden=capture_hidden)
            if path is not None:
                _save_part(path, got)
        out += got
        if progress is not None:
            progress(len(part))
    table = pd.DataFrame(dict(
        question_id=[q.id for q, _ in rows], difficulty=[q.difficulty for q, _ in rows],
        sample=[s for _, s in rows], seed=seeds, prompt=[q.text for q, _ in rows],
        target=[str(q.answer) for q, _ in rows], answer=[o.answer for o in out],
        correct=[task.check_answer(o.answer, q.answer) for (q, _), o in zip(rows, out)],
        thinking_length=[o.thinking_length for o in out],
        total_length=[o.total_length for o in out], finished=[o.finished for o in out]))
    if all(getattr(o, "closed", None) is not None for o in out):
        table["text"] = [o.text for o in out]
        table["closed"] = [bool(o.closed) for o in out]
    hidden = None
    if capture_hidden:
        hidden = dict(
            states=np.concatenate([o.hidden for o in out]).astype(np.float16),
            row=np.concatenate([np.full(len(o.remaining), i) for i, o in enumerate(out)]),
            position=np.concatenate([np.arange(len(o.remaining)) for o in out]),
            remaining=np.concatenate([o.remaining for o in out]),
            token=np.concatenate([_candidates(o) for o in out]))
    if not with_tokens:
        return table, hidden
    tokens = None
    if all(getattr(o, "prompt_tokens", None) is not None and o.tokens is not None
           for o in out):
        tokens = records.pack_tokens([o.prompt_tokens for o in out],
                                     [o.tokens[:o.total_length] for o in out])
    return table, hidden, tokens


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


#: Highest sampling temperature accepted (logits / T; above this every token is equally likely
#: to float precision, and meta.json must hold finite numbers).
MAX_TEMPERATURE = 100.0
#: Floating-point operations (2 per parameter per generated token, at the token cap) one run may
#: ask for without ``--yes``: about three hours of this 2-core machine for SmolLM2-135M, whose
#: recorded 2,400-trace run asked for 1.2e14.
SAMPLE_FLOP_LIMIT = 3e14


def _parse_layers(text):
    try:
        return tuple(int(x) for x in str(text).split(",") if x.strip() != "")
    except ValueError:
        raise ValueError(f"layers must be comma-separated integers, got {text!r}") from None


_HF_ONLY = ("engine", "layers", "batch_size", "threads", "prompt_format")


def _build_parser():
    parser = _cli.ArgumentParser(prog="python -m validation.run",
                                 description="Sample a model on task questions; write a run.")
    _cli.add_version(parser)
    parser.add_argument("--model", default="tiny",
                        help="tiny, a checkpoint directory, hf:PATH (model directory or GGUF "
                             "file) or smollm2 (default tiny)")
    parser.add_argument("--task", default="chain", choices=TASKS,
                        help="chain (synthetic, default) or nl (word problems; Hugging Face "
                             "models)")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--difficulty", default="1:6", help="d or lo:hi (default 1:6)")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--question-seed", type=int, default=0,
                        help="seed of the question set (default 0)")
    parser.add_argument("--max-thinking", type=int, default=None,
                        help="budget forcing: end thinking after N >= 1 thinking tokens")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--hidden", action="store_true",
                        help="save hidden states at thinking positions (hidden.npz)")
    hf = parser.add_argument_group("Hugging Face models")
    hf.add_argument("--engine", default="torch",
                    help="decoding engine: torch (default), hf or llama.cpp")
    hf.add_argument("--layers", default=None,
                    help="hidden-state layers kept by --hidden, e.g. 10,20,30 (0 = embeddings; "
                         "default all)")
    hf.add_argument("--batch-size", type=int, default=64, help="rows decoded together")
    hf.add_argument("--threads", type=int, default=None,
                    help="CPU threads of torch / llama.cpp (default: all cores)")
    hf.add_argument("--prompt-format", default=None, choices=tuple(nltask.FORMATS),
                    help="nl task: chat (the model's chat template, default) or plain")
    parser.add_argument("--chunk", type=int, default=None,
                        help="rows per saved chunk (default 2048, 256 for Hugging Face models)")
    parser.add_argument("--log", action="store_true",
                        help="print one line per finished chunk on stderr")
    parser.add_argument("--out", default=None, help="run directory (default runs/<model>)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    _cli.add_plot_arguments(parser, "accuracy by difficulty and the thinking-length histogram")
    _cli.add_guard_argument(parser)
    return parser


def _check_args(parser, args, argv):
    check_int("questions", args.questions, 1)
    check_int("samples", args.samples, 1)
    check_real("temperature", args.temperature, 0.0, MAX_TEMPERATURE)
    check_real("top_p", args.top_p, 0.0, 1.0, lo_open=True)
    check_int("seed", args.seed, 0)
    if args.max_thinking is not None:
        check_int("max_thinking", args.max_thinking, 1)
    if args.max_new_tokens is not None:
        check_int("max_new_tokens", args.max_new_tokens, 1)
    check_int("batch_size", args.batch_size, 1)
    if args.threads is not None:
        check_int("threads", args.threads, 1)
    if args.chunk is not None:
        check_int("chunk", args.chunk, 1)
    hf_model = args.model == "smollm2" or args.model.startswith("hf:")
    if not hf_model:
        _cli.refuse(_cli.explicit(parser, argv), f"the JAX model {args.model!r}", *_HF_ONLY)
        if args.task == "nl":
            raise ValueError("task nl needs a Hugging Face model (--model smollm2 or hf:PATH); "
                             "the project's model reads only the chain task")
    if args.task == "chain" and args.prompt_format is not None:
        raise ValueError("--prompt-format does not apply to task chain")
    from validation.adapters import ENGINES
    if args.engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {args.engine!r}")
    # outputs are checked before the model loads and samples, not after
    _cli.writable_output(_out_dir(args), "--out", directory=True, create=False)
    if args.plot:
        _cli.writable_output(args.plot, "--plot")
    return hf_model


def _out_dir(args):
    return args.out or f"runs/{args.model.replace('/', '_').replace(':', '_')}"


def _n_params(adapter):
    """Parameters of the adapter's model (None when the engine does not expose them)."""
    model = getattr(adapter, "model", None)
    if model is not None and hasattr(model, "num_parameters"):  # a transformers model
        return int(model.num_parameters())
    params = getattr(adapter, "params", None)
    if params is not None:
        from validation.model import param_count
        return param_count(params)
    return None


def _check_size(args, adapter, hf_model):
    """Refuse a run beyond :data:`SAMPLE_FLOP_LIMIT` or the memory limit before sampling."""
    from sim import guard

    rows = args.questions * args.samples
    cap = args.max_new_tokens or (256 if hf_model else adapter.config.max_len)
    n_params = _n_params(adapter) or 0
    memory = rows * 2048.0 + rows * cap * 8.0  # the table, the texts and the token ids
    if args.hidden:
        layers = getattr(adapter, "layers", None)
        n_layers = len(layers) if layers else adapter.config.n_layers + 1
        d = getattr(adapter, "d_model", None) or adapter.config.d_model
        memory += rows * cap * n_layers * d * 2.0
    guard.check("--questions x --samples x --max-new-tokens", work=2.0 * n_params * rows * cap,
                memory=memory, unit="floating-point operations", work_limit=SAMPLE_FLOP_LIMIT,
                allow=args.yes)


def _load(args, hf_model):
    from validation.adapters import CHAIN_FORMAT, load_adapter

    if args.task == "nl":
        questions = nltask.make_questions(args.questions, args.difficulty, args.question_seed)
    else:
        questions = task.make_questions(args.questions, args.difficulty, args.question_seed)
    if not hf_model:
        return questions, load_adapter(args.model), None
    fmt = (nltask.FORMATS[args.prompt_format or "chat"] if args.task == "nl"
           else CHAIN_FORMAT)
    layers = None if args.layers is None else _parse_layers(args.layers)
    adapter = load_adapter(args.model, fmt=fmt, engine=args.engine, layers=layers,
                           batch_size=args.batch_size, threads=args.threads)
    return questions, adapter, fmt


def _run_config(args, adapter, fmt):
    """What a saved chunk depends on (a resumed run must match it)."""
    return dict(model=args.model, sha256=adapter.checkpoint_sha256, task=args.task,
                questions=args.questions, samples=args.samples, difficulty=args.difficulty,
                question_seed=args.question_seed, seed=args.seed,
                temperature=args.temperature, top_p=args.top_p,
                max_thinking=args.max_thinking, max_new_tokens=args.max_new_tokens,
                hidden=args.hidden, layers=list(getattr(adapter, "layers", ()) or ()),
                format=None if fmt is None else fmt.name, engine=args.engine,
                batch_size=args.batch_size, chunk=args.chunk)


def _prepare_parts(out_dir, config):
    parts = Path(out_dir) / ".parts"
    cfg_path = parts / "config.json"
    text = json.dumps(config, sort_keys=True)
    if cfg_path.is_file():
        if cfg_path.read_text() != text:
            raise ValueError(f"{parts} holds chunks of a different run; remove it or choose "
                             f"another --out")
    else:
        parts.mkdir(parents=True, exist_ok=True)
        cfg_path.write_text(text)
    return parts


@_cli.command("python -m validation.run")
def main(argv=None):
    """Command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        hf_model = _check_args(parser, args, argv)
        t_load = time.perf_counter()
        # loading prints progress bars (transformers, tqdm); errors come back as exceptions
        with contextlib.redirect_stderr(io.StringIO()):
            questions, adapter, fmt = _load(args, hf_model)
    except (TypeError, ValueError) as exc:
        return _cli.fail(parser.prog, exc)
    if args.log:
        print(f"{parser.prog}: loaded {args.model} in {time.perf_counter() - t_load:.0f} s",
              file=sys.stderr, flush=True)
    _check_size(args, adapter, hf_model)
    chunk = args.chunk or (256 if hf_model else 2048)
    args.chunk = chunk
    out_dir = _out_dir(args)
    config = _run_config(args, adapter, fmt)
    parts = _prepare_parts(out_dir, config)
    n_rows = args.questions * args.samples
    t0 = time.perf_counter()
    done = [0]

    def log(n):
        done[0] += n
        if args.log:
            el = time.perf_counter() - t0
            print(f"{parser.prog}: {done[0]}/{n_rows} rows  {el:.0f} s", file=sys.stderr,
                  flush=True)

    with _cli.progress_bar(not args.json, "sampling", n_rows) as advance:
        def progress(n):
            log(n)
            for _ in range(n):
                advance()
        table, hidden, tokens = collect(
            adapter, questions, args.samples, temperature=args.temperature, top_p=args.top_p,
            seed=args.seed, max_new_tokens=args.max_new_tokens, max_thinking=args.max_thinking,
            capture_hidden=args.hidden, chunk=chunk, progress=progress, parts_dir=parts,
            with_tokens=True)
    seconds = time.perf_counter() - t0
    n_tokens = int(table["total_length"].sum())
    argv_list = list(sys.argv[1:] if argv is None else argv)
    meta = dict(model=args.model, checkpoint_sha256=adapter.checkpoint_sha256,
                decoding=dict(temperature=args.temperature, top_p=args.top_p, seed=args.seed,
                              max_new_tokens=args.max_new_tokens,
                              max_thinking=args.max_thinking),
                task=dict(name=args.task, difficulty=args.difficulty,
                          question_seed=args.question_seed),
                command="python -m validation.run " + shlex.join(argv_list),
                seconds=round(seconds, 2), tokens=n_tokens,
                machine=dict(cpus=os.cpu_count(), platform=platform.platform()))
    if args.task == "nl":
        meta["task"]["levels"] = {str(k): list(v) for k, v in nltask.LEVELS.items()}
    if hf_model:
        meta.update(engine=args.engine, batch_size=args.batch_size, threads=args.threads,
                    prompt_format=dict(name=fmt.name, marker=fmt.marker, forced=fmt.forced,
                                       system=fmt.system, examples=[list(e) for e in
                                                                    fmt.examples],
                                       template=fmt.template),
                    prompt_sha256=hashlib.sha256(
                        tokens["prompt"].tobytes()).hexdigest() if tokens else None)
    if args.hidden:
        meta["hidden_layers"] = list(getattr(adapter, "layers", None) or
                                     range(hidden["states"].shape[1]))
    records.write_run(out_dir, table, meta, hidden, tokens)
    shutil.rmtree(parts, ignore_errors=True)
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
          f"  task={args.task} T={args.temperature} top_p={args.top_p} seed={args.seed}"
          + (f" max_thinking={args.max_thinking}" if args.max_thinking is not None else "")
          + (f" engine={args.engine}" if hf_model else ""))
    print(f"  wrote {out_dir}  ({seconds:.1f} s, {n_tokens / seconds:.0f} generated tokens/s)")
    print(format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
