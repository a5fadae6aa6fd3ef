"""``python -m validation.check RUN_DIR``: the command line of the validation checks."""

from __future__ import annotations

import numpy as np

from sim._cli import command as _command
from validation.check import (
    CHECKS,
    QUICK,
    check_module,
    rows_frame,
    run_checks,
    write_report,
)


def _quick_run(directory, seed, sizes):
    from validation import records, task
    from validation.adapters import JaxAdapter
    from validation.run import collect

    adapter = JaxAdapter("tiny")
    lo, hi = (int(x) for x in sizes["difficulty"].split(":"))
    qs = task.make_questions(sizes["questions"], difficulty=(lo, hi), seed=seed)
    table, hidden = collect(adapter, qs, sizes["samples"], temperature=0.8, top_p=0.95,
                            seed=seed, capture_hidden=True)
    meta = dict(model="tiny", checkpoint_sha256=adapter.checkpoint_sha256,
                decoding=dict(temperature=0.8, top_p=0.95, seed=seed, max_new_tokens=None,
                              max_thinking=None), n_questions=len(qs),
                n_samples=sizes["samples"], question_seed=seed)
    records.write_run(directory, table, meta, hidden)
    return adapter


PROG = "python -m validation.check"


def build_parser():
    """The parser of ``python -m validation.check``."""
    from sim import _cli

    p = _cli.ArgumentParser(prog=PROG,
                            description="Check every theory against a real model run: estimate, "
                                        "predict, compare, with intervals and verdicts.")
    _cli.add_version(p)
    p.add_argument("run_dir", nargs="?", help="a run directory (python -m validation.run or "
                                              "python -m validation.import)")
    p.add_argument("--only", nargs="+", default=list(CHECKS), metavar="CHECK",
                   help="checks to run, separated by spaces or commas: " + ", ".join(CHECKS))
    p.add_argument("--model", default=None,
                   help="model for the checks that run it (default: the run's model)")
    p.add_argument("--quick", action="store_true",
                   help="sample a fresh run from the committed checkpoint (no training) and "
                        "check it; a few minutes on 2 cores")
    p.add_argument("--report", default=None, help="report directory (default RUN_DIR/report)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstraps (default 0)")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    return p


def _only(values):
    only = [c.strip() for v in values for c in str(v).split(",") if c.strip()]
    bad = [c for c in only if c not in CHECKS]
    if bad or not only:
        raise ValueError(f"only must name checks among {', '.join(CHECKS)}, "
                         f"got {' '.join(values)!r}")
    return list(dict.fromkeys(only))


@_command(PROG)
def main(argv=None):
    """Run ``python -m validation.check``: 0 (all pass), 1 (a check failed), 2 (bad input)."""
    import json
    import sys
    from pathlib import Path

    from sim import _cli
    from validation import records

    p = build_parser()
    args = p.parse_args(argv)
    only = _only(args.only)
    if args.seed < 0:
        raise ValueError(f"seed must be >= 0, got {args.seed}")
    adapter = None
    if args.report is not None:
        _cli.writable_output(args.report, "--report", directory=True)
    if args.quick:
        run_dir = Path(args.run_dir or "runs/quick")
        if (run_dir / "meta.json").exists():
            run = records.read_run(run_dir)
        else:
            # checked before minutes of sampling: the run and its report are written there
            _cli.writable_output(run_dir, "run_dir", directory=True)
            if not args.json:
                print(f"sampling a quick run into {run_dir} ...", file=sys.stderr)
            adapter = _quick_run(run_dir, args.seed, QUICK)
            run = records.read_run(run_dir)
    else:
        if not args.run_dir:
            raise ValueError("run_dir is required (or use --quick)")
        run = records.read_run(Path(args.run_dir))
    needs = [c for c in only if check_module(c).NEEDS_MODEL]
    if adapter is None and needs:
        model = args.model or run.meta.get("model")
        if not model:
            rest = [c for c in only if c not in needs]
            verb = "checks run" if len(needs) > 1 else "check runs"
            raise ValueError(f"the {' and '.join(needs)} {verb} the model itself; this run names "
                             "no model: pass --model NAME"
                             + (f" (or run --only {' '.join(rest)})" if rest else ""))
        from validation.adapters import load_adapter

        adapter = load_adapter(model)
        want = run.meta.get("checkpoint_sha256")
        if args.model is None and want and adapter.checkpoint_sha256 != want:
            raise ValueError(f"the run's checkpoint_sha256 {want[:12]}... is not that of model "
                             f"{model!r} ({adapter.checkpoint_sha256[:12]}...); pass --model "
                             f"with the checkpoint that made the run")
    with _cli.progress_bar(not args.json, "checks", len(only)) as advance:
        rows, details = run_checks(run, only, adapter, args.seed, progress=advance)
    report = write_report(args.report or (run.path / "report"), rows, details, run.meta)
    frame = rows_frame(rows)
    status = 1 if (frame.verdict == "fail").any() else 0
    if args.json:
        keys = ["check", "quantity", "predicted", "observed", "ci_low", "ci_high", "verdict"]
        print(json.dumps(_cli.envelope(
            dict(run=str(run.path), only=only, seed=args.seed, model=args.model),
            checks=[{k: getattr(r, k) for k in keys} for r in rows], report=str(report),
            status=status)))
        return status
    print(f"budgetlab validation  run {run.path}  model={run.meta.get('model')}  "
          f"{run.meta.get('n_questions')} questions x {run.meta.get('n_samples')} samples")
    w = max(len(r.quantity) for r in rows)
    print(f"{'check':9s} {'quantity':{w}s} {'predicted':>10s} {'observed':>10s} "
          f"{'95% interval':>20s}  verdict")
    for r in rows:
        ci = "" if not np.isfinite(r.ci_low) else f"[{r.ci_low:.4f}, {r.ci_high:.4f}]"
        print(f"{r.check:9s} {r.quantity:{w}s} {r.predicted:10.4f} {r.observed:10.4f} "
              f"{ci:>20s}  {r.verdict}")
    for name, d in details.items():
        if name == "phase":
            print(f"phase: the run follows {', '.join(d['followed']) or 'none of the models'}; "
                  f"closest: {d['best']} (mean |error| "
                  + ", ".join(f"{m} {v:.4f}" for m, v in d["mean_abs_error"].items()) + ")")
    print(f"report: {report}")
    print("PASS" if status == 0 else "FAIL: " + "; ".join(
        f"{r.check}: {r.quantity} off by {abs(r.predicted - r.observed):.4f}"
        for r in rows if r.verdict == "fail"))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
