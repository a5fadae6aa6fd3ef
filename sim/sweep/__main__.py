"""``python -m sim.sweep``: the command line of parameter sweeps."""

from __future__ import annotations

import json
import os
import pathlib
import sys

from sim import _cli
from sim.backends import BACKENDS, BackendUnavailable, resolve_backend
from sim.registry import MODELS
from sim.sweep.execute import make_executor, run_sweep
from sim.sweep.plot import plot_sweep
from sim.sweep.spec import MAX_POINTS, make_spec, sweep_model
from sim.sweep.store import collect, prepare_dir, read_manifest, sweep_lock

_PROG = "python -m sim.sweep"


def _load_config(path):
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None


def _build_parser(model=None):
    p = _cli.ArgumentParser(
        prog=_PROG,
        description="Parameter sweeps: a grid (or random design) over a model's parameters, "
                    "one resumable Parquet part per point, run here, in local processes or on "
                    "a Dask cluster. Give ranges as START:STOP:N (N values, ends included) or "
                    "comma lists. 'python -m sim.sweep collect DIR' gathers the parts.",
        epilog=f"models: {', '.join(MODELS)}. Model parameters: "
               "'python -m sim.sweep MODEL --help'.")
    p.add_argument("model", help="model to sweep: " + ", ".join(MODELS))
    p.add_argument("--out", help="output directory (holds sweep.json and parts/)")
    p.add_argument("--config", metavar="FILE.toml",
                   help="read the sweep from a TOML file; flags given here override it")
    p.add_argument("--executor", default=None,
                   help="inline, processes[:N], dask-local[:N] or tcp://HOST:PORT "
                        "(default inline)")
    p.add_argument("--connect-timeout", type=float, default=10.0,
                   help="seconds to wait for a tcp:// Dask scheduler (default 10)")
    p.add_argument("--design", default=None, choices=("grid", "random"),
                   help="grid (default) or random points between each range's ends")
    p.add_argument("--points", type=int, default=None, help="points of a random design")
    p.add_argument("--yes", action="store_true", help=f"allow more than {MAX_POINTS:.0e} points")
    p.add_argument("--force", action="store_true",
                   help="replace a different sweep found in --out")
    g = p.add_argument_group("common")
    g.add_argument("--trials", type=int, default=None, help="Monte Carlo size of each point "
                   "(default: the model's)")
    g.add_argument("--seed", type=int, default=None, help="root seed of the sweep (default 0)")
    g.add_argument("--backend", default=None, choices=BACKENDS, help="default auto")
    g.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    _cli.add_plot_arguments(g, "the model's sweep figure")
    _cli.add_version(p)
    if model is not None and model in MODELS:
        mg = p.add_argument_group(f"{model} parameters (a value, A,B,C or START:STOP:N)")
        for prm in sweep_model(model).params:
            flags = [f"--{prm.name.replace('_', '-')}"]
            if "_" in prm.name:
                flags.append(f"--{prm.name}")
            mg.add_argument(*flags, dest=f"param_{prm.name}", default=None, metavar="VALUES",
                            help=f"{_kind_name(prm.kind)}, default {prm.default}")
    return p


def _kind_name(kind):
    """How ``--help`` names a parameter's kind: ``float``, ``int``, ..., ``file``."""
    return "file" if kind is pathlib.Path else kind.__name__


def _write_figure(df, man, path, dpi):
    """Draw the sweep's figure on a new figure and write it to ``path`` (says where)."""
    fig, ax = _cli.new_figure(7.0, 4.8)
    plot_sweep(df, man, ax)
    _cli.save_figure(fig, path, dpi, prog=_PROG)


def _summary_text(summary, spec, out, label, backend):
    axes = " x ".join(f"{a}({len(v)})" for a, v in spec.axes) or "one point"
    lines = [f"sweep {spec.model}: {summary.total} points ({spec.design} over {axes}) in {out}",
             f"  run {summary.done}, skipped {summary.skipped} (already done), "
             f"failed {summary.failed}",
             f"  wall {summary.wall:.1f} s, {summary.rate:.3g} points/s, executor {label}, "
             f"backend {backend}, trials {spec.trials}, root seed {spec.seed}"]
    if summary.errors:
        lines.append(f"  {summary.failed} points failed (the first errors are on stderr); "
                     f"rerun the same command to retry them")
    if summary.interrupted:
        lines.append("  interrupted: finished points are saved; rerun the same command to "
                     "resume")
    else:
        lines.append(f"  gather the parts: python -m sim.sweep collect {out}")
    return "\n".join(lines)


def _collect_main(argv):
    p = _cli.ArgumentParser(prog=f"{_PROG} collect",
                            description="Gather a sweep's parts into one Parquet or CSV file.")
    p.add_argument("out", metavar="DIR", help="the sweep's output directory")
    p.add_argument("--parquet", metavar="FILE", help="write a Parquet file "
                   "(default DIR/results.parquet when --csv is not given)")
    p.add_argument("--csv", metavar="FILE", help="write a CSV file")
    _cli.add_plot_arguments(p, "the model's sweep figure")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _cli.add_version(p)
    args = p.parse_args(argv)
    try:
        man = read_manifest(args.out)
        damaged = []
        df = collect(args.out, damaged)
        if df.empty:
            raise ValueError(f"{args.out} has no finished points yet")
        written = []
        parquet = args.parquet or (None if args.csv else os.path.join(args.out,
                                                                      "results.parquet"))
        if parquet:
            df.to_parquet(parquet, index=False)
            written.append(parquet)
        if args.csv:
            df.to_csv(args.csv, index=False)
            written.append(args.csv)
        if args.plot:
            _write_figure(df, man, args.plot, args.dpi)
    except (ValueError, TypeError, OSError) as exc:
        return _cli.fail(p.prog, exc)
    points = int(df["point"].nunique())
    if args.json:
        print(json.dumps(_cli.envelope(man, model=man["model"], points=points,
                                       expected=man["points"], rows=len(df), files=written,
                                       plot=args.plot, damaged=damaged)))
    else:
        if damaged:
            print(f"{p.prog}: skipped {len(damaged)} damaged parts (rerun the sweep to "
                  f"recompute them): {', '.join(damaged[:3])}", file=sys.stderr)
        missing = "" if points >= man["points"] else (
            f"; {man['points'] - points} points not done yet (rerun the sweep to finish)")
        print(f"collected {points} of {man['points']} points ({len(df)} rows) of the "
              f"{man['model']} sweep in {args.out} into {', '.join(written)}{missing}")
    return 0


@_cli.command(_PROG)
def main(argv=None):
    """Run ``python -m sim.sweep``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "collect":
        return _collect_main(argv[1:])
    config = {}
    model = argv[0] if argv and not argv[0].startswith("-") else None
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 < len(argv):
            try:
                config = _load_config(argv[i + 1])
            except ValueError as exc:
                return _cli.fail(_PROG, exc)
            if model is None and "model" in config:
                model = str(config["model"])
                argv = [model] + argv
    if model is not None and model not in MODELS and model not in ("-h", "--help"):
        return _cli.fail(_PROG, ValueError(f"unknown model {model!r}; choose from "
                                           f"{', '.join(MODELS)}"))
    parser = _build_parser(model)
    args, extra = parser.parse_known_args(argv)
    if extra:
        flag = next((e for e in extra if e.startswith("-")), extra[0])
        names = ", ".join(p.name for p in sweep_model(model).params)
        return _cli.fail(_PROG, ValueError(f"unknown parameter {flag} for model {model}; "
                                           f"parameters: {names}"))

    def pick(name, default):
        v = getattr(args, name)
        return v if v is not None else config.get(name, default)

    closing = None
    try:
        values = {}
        for k, v in dict(config.get("params", {})).items():
            sweep_model(model).param(k)
            values[k] = v
        for prm in sweep_model(model).params:
            v = getattr(args, f"param_{prm.name}")
            if v is not None:
                values[prm.name] = v
        out = pick("out", None)
        if not out:
            raise ValueError("--out DIR is required (or 'out' in the config file)")
        spec = make_spec(model, values, trials=pick("trials", None), seed=pick("seed", 0),
                         backend=pick("backend", "auto"), design=pick("design", "grid"),
                         points=pick("points", None), yes=args.yes or bool(config.get("yes")))
        executor_text = str(pick("executor", "inline"))
        if not executor_text.startswith(("tcp://", "tls://")):
            backend_here = resolve_backend(spec.backend)
            if backend_here not in sweep_model(spec.model).backends:
                backend_here = resolve_backend(sweep_model(spec.model).backends[-1])
        else:
            backend_here = spec.backend
        plot = pick("plot", None)
        if plot:
            _cli.writable_output(plot, "--plot")
        with sweep_lock(out):  # one writer per sweep directory, for the whole run
            # refuse a different sweep (or an unwritable directory) before starting workers
            finished = prepare_dir(out, spec, force=args.force)
            closing = make_executor(executor_text, args.connect_timeout)
            with _cli.progress_bar(not args.json, f"sweep {model}", spec.size - len(finished),
                                   unit="points") as advance:
                summary = run_sweep(spec, out, closing.executor, progress=advance,
                                    numba_threads=closing.numba_threads)
        if plot and summary.done + summary.skipped == 0:
            raise ValueError("no finished points to plot")
        if plot:
            _write_figure(collect(out), read_manifest(out), plot, pick("dpi", 150.0))
    except (ValueError, TypeError, OSError, BackendUnavailable) as exc:
        return _cli.fail(_PROG, exc)
    finally:
        if closing is not None:
            closing.close()
    if args.json:
        print(json.dumps(_cli.envelope(spec.manifest(), **summary.as_dict(), model=spec.model,
                                       out=out, executor=closing.label, backend=backend_here,
                                       trials=spec.trials, seed=spec.seed, plot=plot)))
    else:
        print(_summary_text(summary, spec, out, closing.label, backend_here))
    for e in summary.errors[:3]:
        print(f"{_PROG}: error: {e}", file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
