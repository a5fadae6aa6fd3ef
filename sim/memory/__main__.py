"""``python -m sim.memory``: fixed tiers against a query-aware router, and tier choice from a table.

Two forms:

* ``python -m sim.memory [options]`` simulates queries through a memory
  pipeline and compares, at every budget, the best fixed tiers, the exact
  and the greedy router and an oracle: accuracy and cost per query, exact
  beside simulated (:func:`sim.memory.simulate`); ``--plot`` draws the
  accuracy-cost frontier.
* ``python -m sim.memory allocate FILE --budget B`` reads a table of
  (module, tier, cost, accuracy) and writes the chosen tier per module
  (:func:`sim.memory.allocate_tiers`); ``--plot`` draws the instance's value
  against the budget.

Every default comes from :class:`theory.memory.MemoryParams`,
:data:`sim.memory.core.DEFAULT_TRIALS` and the defaults of
:func:`sim.memory.allocate_tiers`; a tour with real output is in
``docs/models/memory.md``, section "Command line".
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import sys

import numpy as np

from sim import _cli, guard
from sim.backends import resolve_backend
from sim.memory.allocate import (
    ALLOCATE_SOLVERS,
    OBJECTIVES,
    allocate_tiers,
    instance_frontier,
    load_tiers,
    tier_instance,
)
from sim.memory.core import DEFAULT_TRIALS, cost, simulate
from sim.memory.plot import plot_frontier, plot_instance
from sim.memory.policies import POLICIES
from theory._params import check_int
from theory.memory import MemoryParams

__all__ = ["PROG", "build_parser", "build_allocate_parser", "main"]

PROG = "python -m sim.memory"
#: Columns of each row of ``--json``.
JSON_COLUMNS = ("budget", "name", "tiers", "accuracy", "accuracy_sim", "accuracy_se", "cost",
                "cost_sim", "cost_se")


def _numbers(flag, integers=False):
    """An argparse type: a comma-separated list of numbers (integers where they are whole)."""
    def parse(text):
        try:
            vals = _cli.float_list(flag, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if integers:
            return tuple(int(v) if float(v).is_integer() else v for v in vals)
        return tuple(vals)
    return parse


def build_parser():
    """The argument parser of the simulation form."""
    d = MemoryParams()
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Budget-tier routing of a memory pipeline (BudgetMem, Zhang et al., arXiv "
                    "2602.06025): the best fixed tiers against a router that reads each "
                    "module's difficulty, exact and simulated accuracy and cost at every "
                    "budget. 'python -m sim.memory allocate FILE --budget B' chooses tiers "
                    "from a table. See docs/models/memory.md.")
    g = p.add_argument_group("the pipeline (docs/models/memory.md (7)-(9))")
    g.add_argument("--modules", type=_cli.integer, default=d.modules,
                   help=f"modules of the pipeline (default {d.modules})")
    g.add_argument("--costs", type=_numbers("--costs", integers=True), default=d.costs,
                   metavar="C1,C2,...",
                   help="cost of one call of each tier, integers >= 0 (default "
                        f"{','.join(map(str, d.costs))})")
    g.add_argument("--easy", type=_numbers("--easy"), default=d.easy, metavar="Q1,Q2,...",
                   help="probability that each tier does its job on an easy input (default "
                        f"{','.join(f'{x:g}' for x in d.easy)})")
    g.add_argument("--hard", type=_numbers("--hard"), default=d.hard, metavar="Q1,Q2,...",
                   help="the same on a hard input (default "
                        f"{','.join(f'{x:g}' for x in d.hard)})")
    g.add_argument("--hard-share", type=float, default=d.hard_share,
                   help=f"probability that a module's input is hard (default {d.hard_share:g})")
    g.add_argument("--signal", type=float, default=d.signal,
                   help="probability that the router reads a module's difficulty correctly, "
                        f"in [0.5, 1] (default {d.signal:g})")
    g.add_argument("--budget", type=_cli.integer, default=d.budget,
                   help="cost allowed per query (default: every budget from the cheapest to "
                        "the dearest pipeline)")
    _cli.add_common_arguments(p, trials=DEFAULT_TRIALS,
                              helps={"trials": f"queries (default {DEFAULT_TRIALS})"})
    _cli.add_guard_argument(p)
    return p


def build_allocate_parser():
    """The argument parser of ``python -m sim.memory allocate``."""
    d = {k: v.default for k, v in inspect.signature(allocate_tiers).parameters.items()}
    p = _cli.ArgumentParser(
        prog=f"{PROG} allocate",
        description="Choose one tier per module within a budget from a table with the columns "
                    "module, tier, cost, accuracy (CSV or Parquet): the exact dynamic program "
                    "or the greedy choice, with the linear relaxation's bound. See "
                    "docs/models/memory.md (1)-(5).")
    _cli.add_version(p)
    p.add_argument("file", metavar="FILE", help="the tier table (.csv, .parquet)")
    p.add_argument("--budget", type=float, required=True,
                   help="total cost allowed, at least the cheapest choice's")
    p.add_argument("--solver", choices=ALLOCATE_SOLVERS, default=d["solver"],
                   help=f"the choice written out: exact (dp, integer costs) or greedy (default "
                        f"{d['solver']})")
    p.add_argument("--objective", choices=OBJECTIVES, default=d["objective"],
                   help="product: the pipeline is right when every module is (default); sum: "
                        "accuracies add up")
    p.add_argument("--out", metavar="FILE", help="write the chosen tiers to FILE (.csv or "
                                                 ".parquet)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a "
                                                       "report")
    _cli.add_plot_arguments(p, "the value against the budget")
    _cli.add_guard_argument(p)
    return p


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.memory``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "allocate":
        return _allocate(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.plot:
        _cli.refuse(_cli.explicit(parser, argv), "a run without --plot", "dpi")
    return _simulate(args)


def _simulate(args):
    params = MemoryParams(modules=args.modules, costs=args.costs, easy=args.easy,
                          hard=args.hard, hard_share=args.hard_share, signal=args.signal,
                          budget=args.budget)
    trials = check_int("trials", args.trials, 2)
    seed = check_int("seed", args.seed, 0)
    backend = resolve_backend(args.backend)
    guard.check("--trials * budgets * 2**--modules", allow=args.yes, **cost(params, trials))
    if args.plot:
        _cli.writable_output(args.plot, "--plot")
    with _cli.progress_spinner(not args.json, "routing queries"):
        df = simulate(params, trials, seed, backend, allow=True)  # guarded above
    if args.plot:
        fig, ax = _cli.new_figure(6.4, 4.2)
        plot_frontier(df, ax)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    if args.json:
        shown = dict(dataclasses.asdict(params), trials=trials, seed=seed, backend=backend)
        rows = [dict(zip(JSON_COLUMNS, r)) for r in df[list(JSON_COLUMNS)].itertuples(index=False)]
        print(json.dumps(_cli.envelope(shown, frontier=rows, summary=_summary(df))))
        return 0
    _report(params, df, trials, seed, backend)
    return 0


def _summary(df):
    """The headline numbers: routing's largest gain and the greedy router's largest loss."""
    acc = df.pivot(index="budget", columns="name", values="accuracy")
    gain = acc["router"] - acc["fixed"]
    loss = acc["router"] - acc["router-greedy"]
    b_gain, b_loss = int(gain.idxmax()), int(loss.idxmax())
    z = np.abs((df.accuracy_sim - df.accuracy) / df.accuracy_se.where(df.accuracy_se > 0))
    return dict(best_gain=float(gain.max()), best_gain_budget=b_gain,
                greedy_equal=int((loss <= 1e-12).sum()), budgets=int(len(acc)),
                greedy_loss=float(loss.max()), greedy_loss_budget=b_loss,
                max_abs_z=float(np.nan_to_num(z.max(), nan=0.0)))


def _digits(se, places=4):
    """A standard error in units of the last of ``places`` decimals: ``0.0016`` -> ``16``."""
    return f"{round(se * 10**places):d}"


def _report(params, df, trials, seed, backend):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 128))
    console.print(f"budgetlab memory  modules={params.modules} costs="
                  f"{','.join(map(str, params.costs))} hard_share={params.hard_share:g} "
                  f"signal={params.signal:g}  trials={trials} seed={seed} backend={backend}",
                  markup=False)
    console.print(f"  tier success easy {','.join(f'{x:g}' for x in params.easy)}, hard "
                  f"{','.join(f'{x:g}' for x in params.hard)}; the answer is right when every "
                  "module does its job", markup=False)
    table = Table(title="pipeline accuracy per query: exact, then simulated with its standard "
                        "error in the last digits (docs/models/memory.md (12))",
                  title_justify="left")
    for col in ("budget", "fixed tiers", *POLICIES, "router cost"):
        table.add_column(col, justify="right")
    for b, g in df.groupby("budget", sort=True):
        r = g.set_index("name")
        cells = [f"{r.accuracy[p]:.4f} {r.accuracy_sim[p]:.4f}({_digits(r.accuracy_se[p])})"
                 for p in POLICIES]
        table.add_row(str(b), r.tiers["fixed"], *cells, f"{r.cost['router']:.2f}")
    console.print(table)
    s = _summary(df)
    best = df[(df.budget == s["best_gain_budget"])].set_index("name").accuracy
    console.print(f"routing gains most at budget {s['best_gain_budget']}: router "
                  f"{best['router']:.4f} against fixed tiers {best['fixed']:.4f} "
                  f"(+{s['best_gain']:.4f})", markup=False)
    console.print(f"the greedy router equals the exact one at {s['greedy_equal']} of "
                  f"{s['budgets']} budgets; largest loss {s['greedy_loss']:.4f} at budget "
                  f"{s['greedy_loss_budget']}", markup=False)
    console.print(f"simulated against exact: largest |z| = {s['max_abs_z']:.2f}", markup=False)


@_cli.command(f"{PROG} allocate")
def _allocate(argv):
    parser = build_allocate_parser()
    args = parser.parse_args(argv)
    if not args.plot:
        _cli.refuse(_cli.explicit(parser, argv), "allocate without --plot", "dpi")
    path = _cli.regular_file(args.file, "FILE", None if args.yes else _cli.MAX_INPUT_BYTES)
    for flag, out in (("--out", args.out), ("--plot", args.plot)):
        if out:
            _cli.writable_output(out, flag)
    table = load_tiers(path)
    modules, tiers, cost, _, valid = tier_instance(table)
    top = float(np.where(valid, cost, -np.inf).max(axis=1).sum())
    width = max(args.budget, top) if args.plot else args.budget
    T = cost.shape[1]
    guard.check("--budget", work=len(modules) * T * (width + 1.0),
                memory=(len(modules) * 2 + 24) * (width + 1.0), allow=args.yes,
                hint="scale the costs down or pass --yes")
    choice, report = allocate_tiers(table, args.budget, args.solver, args.objective)
    if args.out:
        _cli.write_table(choice, args.out)
        if not args.json:
            print(f"{PROG} allocate: chosen tiers written to {args.out}", file=sys.stderr)
    if args.plot:
        fig, ax = _cli.new_figure(6.0, 4.0)
        plot_instance(instance_frontier(table, args.objective), ax, args.budget, args.objective)
        _cli.save_figure(fig, args.plot, args.dpi, prog=f"{PROG} allocate")
    if args.json:
        shown = dict(file=args.file, budget=args.budget, solver=args.solver,
                     objective=args.objective)
        report = {k: v for k, v in report.items() if k not in ("solver", "objective", "budget")}
        print(json.dumps(_cli.envelope(shown, choice=choice.to_dict(orient="records"),
                                       **report)))
        return 0
    _allocate_report(args, choice, report, len(modules), int(valid.sum()))
    return 0


def _allocate_report(args, choice, report, modules, tiers):
    what = ("pipeline accuracy (product of the modules')" if args.objective == "product"
            else "total accuracy (sum)")
    print(f"budgetlab memory allocate  {args.file}: {modules} modules, {tiers} tiers; budget "
          f"{args.budget:g}; objective {what}")
    w = max(6, int(choice.module.str.len().max()))
    wt = max(4, int(choice.tier.str.len().max()))
    print(f"{'module':<{w}}  {'tier':<{wt}}  {'cost':>10}  {'accuracy':>8}")
    for r in choice.itertuples(index=False):
        print(f"{r.module:<{w}}  {r.tier:<{wt}}  {r.cost:>10g}  {r.accuracy:>8.4f}")
    label = "exact optimum, dp" if args.solver == "dp" else "greedy choice"
    print(f"total cost {report['total_cost']:g} of {args.budget:g}; {what.split(' (')[0]} "
          f"{report['value']:.6g} ({label})")
    opt = "n/a (costs are not integers)" if report["optimum"] is None else \
        f"{report['optimum']:.6g}"
    print(f"exact optimum {opt}; greedy choice {report['greedy_value']:.6g}; linear relaxation "
          f"bound {report['bound']:.6g} (docs/models/memory.md (3)-(5))")


if __name__ == "__main__":
    sys.exit(main())
