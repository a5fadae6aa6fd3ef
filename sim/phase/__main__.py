"""``python -m sim.phase``: majority trees of correlated agents with lossy messages.

Parses the flags, computes the closed-form headline numbers
(:func:`sim.phase.summary`, and :func:`theory.phase.budget_analysis` with
``--beta`` and ``--budget``), simulates the trees (:func:`sim.phase.simulate`)
and prints a report or one JSON object; ``--plot`` also draws the phase
diagram (:func:`sim.phase.phase_diagram`, :func:`sim.phase.plot_phase_diagram`).
Every default is the library's: the fields of :class:`theory.phase.PhaseParams`
and the defaults of the functions called. ``--out FILE`` writes the
per-level table (CSV or Parquet). The tour is in ``docs/models/phase.md``,
section "Command line".

Two subcommands work on the user's numbers: ``decide`` answers whether one
agent or an integer tree is best at a budget (docs/models/phase.md
(42)-(44), :func:`theory.phase.decide`), and ``fit`` estimates ``beta``,
``rho``, ``p0`` and ``gamma`` from the user's measurements
(docs/models/phase.md (45)-(47), :mod:`sim.phase.userdata`).
"""

from __future__ import annotations

import inspect
import json
import math
import sys

from sim import _cli
from sim import guard as _guard
from sim._tables import add_fit_arguments, output_table
from sim.backends import resolve_backend
from sim.phase.core import TRIALS, cost, simulate
from sim.phase.diagram import DIAGRAM_TRIALS, GRID, diagram_axes, phase_diagram
from sim.phase.plot import plot_phase_diagram
from sim.phase.summary import summary
from sim.phase.userdata import decision_diagram, decision_table, fit_files, load_fit_table
from theory import phase as th
from theory._params import check_int, check_real
from theory.phase.decide import sentence

PROG = "python -m sim.phase"
#: The parameter defaults of the command line: those of the library.
DEFAULTS = th.PhaseParams()
_BUDGET = inspect.signature(th.budget_analysis).parameters
#: Largest ``--plot-grid``.
MAX_GRID = 200
MAX_DPI = _cli.MAX_DPI
#: Subcommands on the user's numbers, beside the default run.
SUBCOMMANDS = ("decide", "fit")
_DECIDE = inspect.signature(th.decide).parameters
#: Default coverage of the fit's intervals: the library's.
LEVEL = inspect.signature(th.fit_leaf_law).parameters["level"].default


def build_parser():
    """The argument parser of ``python -m sim.phase`` (defaults from the library)."""
    d = DEFAULTS
    p = _cli.ArgumentParser(
        prog=PROG,
        epilog=("subcommands on your numbers: 'decide --beta BETA --budget N ...' (one agent or an "
               "integer tree) and 'fit --compute/--samples/--messages FILE' (beta, rho, p0, gamma "
               "from measurements); see 'python -m sim.phase decide --help'"),
        description="Majority trees of correlated agents with lossy messages: gain, "
                    "phase transition, fixed point, and Monte Carlo against theory "
                    "(Liu, Kong, Pei, arXiv 2601.17311; docs/models/phase.md).")
    p.add_argument("--b", type=_cli.integer, default=d.b, help=f"fan-in, odd >= 3 (default {d.b})")
    p.add_argument("--rho", type=float, default=d.rho,
                   help=f"correlation of signed correctness, in [0, 1) (default {d.rho:g})")
    p.add_argument("--gamma", type=float, default=d.gamma,
                   help=f"message fidelity gamma(m), in (0, 1] (default {d.gamma:g})")
    p.add_argument("--depth", type=_cli.integer, default=d.depth,
                   help=f"tree depth L >= 0 (default {d.depth})")
    p.add_argument("--p0", type=float, default=d.p0,
                   help=f"leaf accuracy in [0, 1] (default {d.p0:g})")
    p.add_argument("--correlation", default=d.correlation, choices=th.CORRELATIONS,
                   help="correlation model (docs/models/phase.md, section \"Three correlation "
                        "models\"): herding (the paper's recursion), item difficulty, or a "
                        f"global shock (default {d.correlation})")
    p.add_argument("--rho-node", type=float, default=d.rho_node,
                   help="node herding composed with item/shock, in [0, 1) "
                        f"(default {d.rho_node:g})")
    p.add_argument("--root-channel", action="store_true", default=d.root_channel,
                   help="also pass the root's output through a channel")
    budget = p.add_argument_group("budget analysis (paper Thm 5, Thm 9)")
    budget.add_argument("--beta", type=float, help="leaf compute exponent beta > 0")
    budget.add_argument("--budget", type=float, help="total budget B > 0 (tokens)")
    m, w = _BUDGET["msg_tokens"].default, _BUDGET["context"].default
    budget.add_argument("--msg-tokens", type=float, default=m,
                        help=f"message length m in tokens (default {m})")
    budget.add_argument("--context", type=float, default=w,
                        help=f"context window W in tokens (default {w})")
    budget.add_argument("--t", type=float, default=_BUDGET["t"].default,
                        help="organization exponent used in paper Thm 9 (default: s)")
    plot = p.add_argument_group("phase diagram (with --plot)")
    plot.add_argument("--plot-grid", type=_cli.integer, default=GRID,
                      help=f"cells per axis of the --plot diagram (default {GRID})")
    plot.add_argument("--plot-trials", type=_cli.integer, default=DIAGRAM_TRIALS,
                      help=f"trees per cell of the --plot diagram (default {DIAGRAM_TRIALS})")
    _cli.add_common_arguments(p, trials=TRIALS)
    p.add_argument("--out", metavar="FILE",
                   help="write the per-level table (theory, simulation, interval) to a .csv or "
                        ".parquet file")
    _cli.add_guard_argument(p)
    return p


def _params(args):
    return th.PhaseParams(b=args.b, rho=args.rho, gamma=args.gamma, depth=args.depth,
                          p0=args.p0, correlation=args.correlation, rho_node=args.rho_node,
                          root_channel=args.root_channel)


def _check_modes(parser, args, argv):
    """Refuse the options that do not apply; returns whether the budget analysis runs."""
    given = _cli.explicit(parser, argv)
    if not args.plot:
        _cli.refuse(given, "a run without --plot", "plot_grid", "plot_trials", "dpi")
    with_budget = args.beta is not None or args.budget is not None
    if not with_budget:
        _cli.refuse(given, "a run without --beta and --budget", "msg_tokens", "context", "t")
    elif args.beta is None or args.budget is None:
        raise ValueError("budget analysis needs both --beta and --budget")
    return with_budget


def _report(params, head, df, args, backend, out):
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(f"[bold]budgetlab phase[/bold]  b={params.b} rho={params.rho:g} "
                  f"gamma={params.gamma:g} depth={params.depth} p0={params.p0:g} "
                  f"correlation={params.correlation}"
                  + (f" rho_node={params.rho_node:g}" if params.rho_node else "")
                  + (" root_channel" if params.root_channel else ""))
    console.print(f"  trials={args.trials} seed={args.seed} backend={backend}")

    def fmt(x, spec=".4f"):
        return "n/a" if x is None else format(x, spec)

    def say(text):
        console.print(text, markup=False)

    say(f"  alpha_rho = {head['alpha']:.4f}   (paper Thm 4: gamma[rho + (1-rho) f_b'(0)])")
    if params.correlation != "herding":
        say(f"  alpha_0   = {head['alpha_0']:.4f}   (per-item gain; the {params.correlation} "
            "model's threshold is gain = 1, rho-free)")
    say(f"  s         = {fmt(head['s'])}   (organization exponent log_b alpha_rho)")
    say(f"  regime    = {head['regime']}")
    say(f"  gamma_c   = {head['gamma_c']:.4f}   rho_c = {fmt(head['rho_c'])}")
    say(f"  p*        = {head['p_star']:.4f}   (deep-tree ceiling (1 + mu*)/2)")
    say(f"  mixing depth = {fmt(head['mixing_depth'], 'd')}")
    if "budget" in head:
        bud = head["budget"]
        console.print("[bold]budget[/bold] (paper Thm 5: synergy iff s > beta; paper Thm 9: "
                      "x*; B_crit derived here)")
        say(f"  beta={bud['beta']:g} t={fmt(bud['t'])} synergy={bud['synergy']} "
            f"c0={fmt(bud['c0'], '.1f')} x*={fmt(bud['x_star'], '.1f')} "
            f"N*={fmt(bud['n_star'], '.1f' if bud['n_star'] < 1e9 else '.4g')} "
            f"B_crit={fmt(bud['b_crit'], '.1f')} "
            f"fan-in feasible={bud['feasible']} (b_max={bud['b_max']}) "
            f"scale-out wins={bud['scale_out_wins']}")
    table = Table(title="accuracy by level (level 0 = leaves)", title_justify="left")
    for col in ("level", "theory", "simulated", "95% interval", "z"):
        table.add_column(col, justify="right")
    for row in df.itertuples():
        table.add_row(str(row.level), f"{row.p_theory:.4f}", f"{row.p_sim:.4f}",
                      f"[{row.ci_low:.4f}, {row.ci_high:.4f}]", f"{row.z:+.2f}")
    console.print(table)


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.phase``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return {"decide": _decide_main, "fit": _fit_main}[argv[0]](argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    with_budget = _check_modes(parser, args, argv)
    if args.out:
        output_table(args.out)
    params = _params(args)
    check_int("trials", args.trials, 1)
    check_int("seed", args.seed, 0)
    check_int("plot-grid", args.plot_grid, 2, MAX_GRID)
    check_int("plot-trials", args.plot_trials, 1)
    if args.plot:
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    est = cost(params, args.trials)
    _guard.check(est.pop("param"), allow=args.yes, **est)
    if args.plot:
        est = cost(params, args.plot_trials)
        est["work"] *= args.plot_grid ** 2
        _guard.check("--plot-trials * --plot-grid**2 * b**depth", allow=args.yes,
                     **{k: v for k, v in est.items() if k not in ("param", "hint")})
    backend = resolve_backend(args.backend)
    head = summary(params)
    if with_budget:
        head["budget"] = th.budget_analysis(params, beta=args.beta, budget=args.budget,
                                            msg_tokens=args.msg_tokens, context=args.context,
                                            t=args.t)
    with _cli.progress_spinner(not args.json, "simulating trees"):
        df = simulate(params, args.trials, args.seed, backend, allow=True)  # guarded above
    if args.plot:
        rhos, gammas = diagram_axes(args.plot_grid)
        with _cli.progress_bar(not args.json, "phase diagram", len(rhos) * len(gammas)) as step:
            grid = phase_diagram(params, rhos, gammas, args.plot_trials, args.seed, backend,
                                 progress=step, allow=True)
        fig, ax = _cli.new_figure(6.4, 4.8)
        plot_phase_diagram(grid, ax, params=params)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    if args.out:
        _cli.write_table(df, args.out)
    if args.json:
        levels = [dict(level=int(r.level), p_theory=float(r.p_theory), p_sim=float(r.p_sim),
                       ci_low=float(r.ci_low), ci_high=float(r.ci_high))
                  for r in df.itertuples()]
        print(json.dumps(_cli.envelope(params, **head, trials=args.trials, seed=args.seed,
                                       backend=backend, levels=levels, plot=args.plot)))
    else:
        _report(params, head, df, args, backend, sys.stdout)
    return 0


def _b_values(text):
    """``--b``: one odd fan-in, a range ``LO:HI`` (its odd values) or a list ``3,5,7``."""
    text = str(text).strip()
    try:
        if ":" in text:
            lo, hi = (int(v) for v in text.split(":"))
            if hi < lo:
                raise ValueError
            vals = [v for v in range(lo, hi + 1) if v % 2 == 1]
        else:
            vals = [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"b must be an odd integer, a range LO:HI or a list 3,5,7, got "
                         f"{text!r}") from None
    if not vals:
        raise ValueError(f"b must name at least one odd fan-in, got {text!r}")
    return vals


def _decide_parser():
    d = DEFAULTS
    p = _cli.ArgumentParser(
        prog=f"{PROG} decide",
        description="One agent or an integer majority tree at your budget? Every feasible "
                    "(b, depth) is evaluated exactly (docs/models/phase.md (42)-(44)); the "
                    "answer is one sentence, or one JSON object with --json.")
    _cli.add_version(p)
    p.add_argument("--b", default=None,
                   help=f"fan-in: one odd value, a range LO:HI (its odd values) or a list "
                        f"(default {d.b})")
    p.add_argument("--rho", type=float, default=None,
                   help=f"correlation of signed correctness, in [0, 1) (default {d.rho:g})")
    p.add_argument("--gamma", type=float, default=None,
                   help=f"message fidelity, in (0, 1] (default {d.gamma:g})")
    p.add_argument("--beta", type=float, default=None, help="leaf compute exponent beta > 0")
    p.add_argument("--budget", type=float, required=True, help="total budget B > 0 (tokens)")
    p.add_argument("--p0", type=float, default=None,
                   help=f"accuracy of one agent given the whole budget, in (0.5, 1] "
                        f"(default {d.p0:g}; or kappa from --params)")
    m, w = _DECIDE["msg_tokens"].default, _DECIDE["context"].default
    p.add_argument("--msg-tokens", type=float, default=m,
                   help=f"message length m in tokens (default {m})")
    p.add_argument("--context", type=float, default=w,
                   help=f"context window W in tokens (default {w})")
    p.add_argument("--correlation", default=d.correlation, choices=th.CORRELATIONS,
                   help=f"correlation model of the tree (default {d.correlation})")
    p.add_argument("--params", metavar="FILE",
                   help=f"a table written by '{PROG} fit --out' (parameter, estimate): its "
                        "beta, rho, gamma fill the flags not given, and its kappa (else its "
                        "p0) the single agent's accuracy when --p0 is not given")
    p.add_argument("--out", metavar="FILE",
                   help="write every organisation weighed (one agent, each tree) to a .csv or "
                        ".parquet file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a "
                                                       "sentence")
    _cli.add_plot_arguments(p, "the (rho, gamma) phase diagram of the chosen tree with your "
                               "operating point")
    _cli.add_guard_argument(p)
    return p


def _decide_main(argv):
    d = DEFAULTS
    p = _decide_parser()
    args = p.parse_args(argv)
    given = _cli.explicit(p, argv)
    if not args.plot:
        _cli.refuse(given, "a run without --plot", "dpi")
    if args.out:
        output_table(args.out)
    if args.plot:
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    fitted = {} if args.params is None else load_fit_table(
        args.params, max_bytes=None if args.yes else _cli.MAX_INPUT_BYTES)

    def pick(name, default):
        v = getattr(args, name)
        return v if v is not None else fitted.get(name, default)

    beta = pick("beta", None)
    if beta is None:
        raise ValueError("decide needs --beta (or a --params table with beta)")
    rho, gamma = pick("rho", d.rho), pick("gamma", d.gamma)
    bs = _b_values(args.b if args.b is not None else d.b)
    _guard.check("--b", work=len(bs) * th.MAX_DEPTH * 1e4, allow=args.yes,
                 hint="give fewer fan-ins or pass --yes")
    # one agent's accuracy: --p0, else kappa of the table, else the table's p0, else the default
    kappa = fitted.get("kappa") if args.p0 is None else None
    p_single = args.p0 if args.p0 is not None else fitted.get("p0", d.p0)
    res = th.decide(bs, rho, gamma, beta, args.budget, p_single=p_single, kappa=kappa,
                    msg_tokens=args.msg_tokens, context=args.context,
                    correlation=args.correlation)
    text = sentence(res, beta, args.budget)
    table = decision_table(res)
    fig = None
    if args.plot:
        best = res["best_tree"]
        b_plot = best["b"] if best else res["b_allowed"][0] if res["b_allowed"] else bs[0]
        depth = best["depth"] if best else 1
        p_leaf = round(best["p_leaf"] if best else res["p_single"], 4)
        grid = decision_diagram(b_plot, depth, p_leaf, args.correlation)
        fig, ax = _cli.new_figure(6.6, 4.8)
        plot_phase_diagram(grid, ax, value="p_theory", mark=(rho, gamma),
                           params=th.PhaseParams(b=b_plot, rho=rho, gamma=gamma, depth=depth,
                                                 p0=p_leaf, correlation=args.correlation))
    if args.out:
        _cli.write_table(table, args.out)
    if fig is not None:
        _cli.save_figure(fig, args.plot, args.dpi, prog=f"{PROG} decide")
    params = dict(b=bs, rho=rho, gamma=gamma, beta=beta, budget=args.budget,
                  p0=None if kappa is not None else p_single, kappa=res["kappa"],
                  msg_tokens=args.msg_tokens, context=args.context,
                  correlation=args.correlation, params_file=args.params)
    if args.json:
        keep = ("choice", "b", "depth", "leaves", "compute_per_leaf", "p_single", "p_tree",
                "margin", "best_tree", "b_allowed", "b_max", "theory")
        print(json.dumps(_cli.envelope(params, **{k: res[k] for k in keep}, sentence=text,
                                       candidates=len(res["candidates"]), out=args.out,
                                       plot=args.plot)))
    else:
        print(text)
    return 0


def _fit_parser():
    p = _cli.ArgumentParser(
        prog=f"{PROG} fit",
        description="Estimate the phase model's parameters from your measurements "
                    "(docs/models/phase.md (45)-(47)), with profile-likelihood intervals and a "
                    "goodness-of-fit test each: beta and kappa of the leaf law from accuracy "
                    "against compute, p0 and rho from repeated samples per question, gamma "
                    f"from messages before and after a channel. '{PROG} decide --params' "
                    "reads the table it writes.")
    _cli.add_version(p)
    p.add_argument("--compute", metavar="FILE",
                   help="accuracy against compute: a column compute and a 0/1 column correct "
                        "per attempt, or columns n and k per row")
    p.add_argument("--samples", metavar="FILE",
                   help="repeated samples per question: a column question and a 0/1 column "
                        "correct per sample, or columns n and k per question")
    p.add_argument("--messages", metavar="FILE",
                   help="messages before and after a channel: 0/1 columns sent and received")
    p.add_argument("--compute-column", default="compute",
                   help="the compute column of --compute (default compute)")
    p.add_argument("--correct-column", default="correct",
                   help="the 0/1 column of --compute and --samples (default correct)")
    p.add_argument("--question-column", default="question",
                   help="the question column of --samples (default question)")
    add_fit_arguments(p, LEVEL, "write the table (parameter, estimate, low, high, test, "
                                "p_value, ...) to a .csv or .parquet file")
    _cli.add_guard_argument(p)
    return p


def _fit_main(argv):
    p = _fit_parser()
    args = p.parse_args(argv)
    given = _cli.explicit(p, argv)
    if args.compute is None:
        _cli.refuse(given, "a fit without --compute", "compute_column")
    if args.samples is None:
        _cli.refuse(given, "a fit without --samples", "question_column")
    if args.compute is None and args.samples is None:
        _cli.refuse(given, "a fit without --compute or --samples", "correct_column")
    level = check_real("level", args.level, 0.0, 1.0, lo_open=True, hi_open=True)
    if args.out:
        output_table(args.out)
    columns = dict(compute=args.compute_column, correct=args.correct_column,
                   question=args.question_column)
    table = fit_files(args.compute, args.samples, args.messages, level, columns,
                      max_bytes=None if args.yes else _cli.MAX_INPUT_BYTES)
    if args.out:
        _cli.write_table(table, args.out)
    params = dict(compute=args.compute, samples=args.samples, messages=args.messages,
                  level=level, **{f"{k}_column": v for k, v in columns.items()})
    if args.json:
        print(json.dumps(_cli.envelope(params, estimates=table.to_dict(orient="records"),
                                       out=args.out)))
        return 0
    print(f"budgetlab phase fit  {100 * level:g}% profile-likelihood intervals")
    for source, g in table.groupby("source", sort=False):
        r0 = g.iloc[0]
        for r in g.itertuples():
            print(f"  {r.parameter:<6s} = {r.estimate:.5g}  [{r.low:.5g}, {r.high:.5g}]")
        pv = "n/a" if r0.p_value is None or (isinstance(r0.p_value, float)
                                             and math.isnan(r0.p_value)) else f"{r0.p_value:.3g}"
        print(f"         from {source} (n={r0.n}); goodness of fit: {r0.test} = "
              f"{r0.statistic:.3f} on {r0.df} df, p = {pv}")
    if args.out:
        print(f"table written to {args.out} (use it as: {PROG} decide --params {args.out} "
              f"--budget N)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
