"""``python -m sim.phase``: majority trees of correlated agents with lossy messages.

Parses the flags, computes the closed-form headline numbers
(:func:`sim.phase.summary`, and :func:`theory.phase.budget_analysis` with
``--beta`` and ``--budget``), simulates the trees (:func:`sim.phase.simulate`)
and prints a report or one JSON object; ``--plot`` also draws the phase
diagram (:func:`sim.phase.phase_diagram`, :func:`sim.phase.plot_phase_diagram`).
Every default is the library's: the fields of :class:`theory.phase.PhaseParams`
and the defaults of the functions called. The tour is in
``docs/models/phase.md``, section "Command line".
"""

from __future__ import annotations

import inspect
import json
import sys

from sim import _cli
from sim.backends import resolve_backend
from sim.phase.core import TRIALS, simulate
from sim.phase.diagram import DIAGRAM_TRIALS, GRID, diagram_axes, phase_diagram
from sim.phase.plot import plot_phase_diagram
from sim.phase.summary import summary
from theory import phase as th
from theory._params import check_int

PROG = "python -m sim.phase"
#: The parameter defaults of the command line: those of the library.
DEFAULTS = th.PhaseParams()
_BUDGET = inspect.signature(th.budget_analysis).parameters
#: Largest ``--plot-grid``.
MAX_GRID = 200


def build_parser():
    """The argument parser of ``python -m sim.phase`` (defaults from the library)."""
    d = DEFAULTS
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Majority trees of correlated agents with lossy messages: gain, "
                    "phase transition, fixed point, and Monte Carlo against theory "
                    "(Liu, Kong, Pei, arXiv 2601.17311; docs/models/phase.md).")
    p.add_argument("--b", type=int, default=d.b, help=f"fan-in, odd >= 3 (default {d.b})")
    p.add_argument("--rho", type=float, default=d.rho,
                   help=f"correlation of signed correctness, in [0, 1) (default {d.rho:g})")
    p.add_argument("--gamma", type=float, default=d.gamma,
                   help=f"message fidelity gamma(m), in (0, 1] (default {d.gamma:g})")
    p.add_argument("--depth", type=int, default=d.depth,
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
    plot.add_argument("--plot-grid", type=int, default=GRID,
                      help=f"cells per axis of the --plot diagram (default {GRID})")
    plot.add_argument("--plot-trials", type=int, default=DIAGRAM_TRIALS,
                      help=f"trees per cell of the --plot diagram (default {DIAGRAM_TRIALS})")
    _cli.add_common_arguments(p, trials=TRIALS)
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
            f"N*={fmt(bud['n_star'], '.1f')} B_crit={fmt(bud['b_crit'], '.1f')} "
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
    parser = build_parser()
    args = parser.parse_args(argv)
    with_budget = _check_modes(parser, args, argv)
    params = _params(args)
    check_int("trials", args.trials, 1)
    check_int("seed", args.seed, 0)
    check_int("plot-grid", args.plot_grid, 2, MAX_GRID)
    check_int("plot-trials", args.plot_trials, 1)
    backend = resolve_backend(args.backend)
    head = summary(params)
    if with_budget:
        head["budget"] = th.budget_analysis(params, beta=args.beta, budget=args.budget,
                                            msg_tokens=args.msg_tokens, context=args.context,
                                            t=args.t)
    with _cli.progress_spinner(not args.json, "simulating trees"):
        df = simulate(params, args.trials, args.seed, backend)
    if args.plot:
        rhos, gammas = diagram_axes(args.plot_grid)
        with _cli.progress_bar(not args.json, "phase diagram", len(rhos) * len(gammas)) as step:
            grid = phase_diagram(params, rhos, gammas, args.plot_trials, args.seed, backend,
                                 progress=step)
        fig, ax = _cli.new_figure(6.4, 4.8)
        plot_phase_diagram(grid, ax, params=params)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    if args.json:
        levels = [dict(level=int(r.level), p_theory=float(r.p_theory), p_sim=float(r.p_sim),
                       ci_low=float(r.ci_low), ci_high=float(r.ci_high))
                  for r in df.itertuples()]
        print(json.dumps(_cli.envelope(params, **head, trials=args.trials, seed=args.seed,
                                       backend=backend, levels=levels, plot=args.plot)))
    else:
        _report(params, head, df, args, backend, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
