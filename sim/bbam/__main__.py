"""``python -m sim.bbam``: token budgets over the sub-questions of a plan.

Two modes. ``--allocate --c ... --beta ...`` splits one question's budget by
the exact optimum, the paper's Eq. (6) and uniformly (docs/models/bbam.md
(4)-(6)). Without ``--allocate`` the command simulates questions from the
prior and compares every allocator on accuracy, tokens and E3
(:func:`sim.bbam.simulate`), and ``--plot`` draws the accuracy-token frontier
over budgets (:func:`sim.bbam.frontier`, :func:`sim.bbam.plot_frontier`).
``--out FILE`` writes the result table (CSV or Parquet) in both modes.

Two subcommands work on the user's files: ``allocate PLAN_FILE --budget N``
splits a whole-token budget over a plan (docs/models/bbam.md (28)-(29),
:mod:`sim.bbam.plan`) and ``fit DATA_FILE`` fits the law per difficulty from
accuracy against budget (docs/models/bbam.md (26)-(27),
:mod:`sim.bbam.lawfit`).
Every default is the library's: the fields of :class:`theory.bbam.BbamParams`
and the defaults of :func:`sim.bbam.simulate` and :func:`sim.bbam.frontier`.
An option of the other mode is refused with one line (exit status 2).
"""

from __future__ import annotations

import inspect
import json
import math
import sys

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim._tables import add_fit_arguments, output_table, read_table
from sim.backends import resolve_backend
from sim.bbam.allocators import ALLOCATORS
from sim.bbam.core import TRIALS, cost, simulate
from sim.bbam.frontier import FRONTIER_BUDGETS, FRONTIER_TRIALS, frontier
from sim.bbam.lawfit import aggregate, fit_table
from sim.bbam.plan import allocate_plan, load_plan
from sim.bbam.plot import plot_frontier, plot_law_fit
from theory import bbam as th
from theory._params import check_choice, check_int, check_real

PROG = "python -m sim.bbam"
#: Subcommands on the user's files, beside the default runs.
SUBCOMMANDS = ("allocate", "fit")

#: Options of the one-question mode only.
ALLOCATE_ONLY = ("c", "beta")
#: Options of the simulation only (refused with ``--allocate``).
SIMULATION_ONLY = ("beta_range", "half_range", "front_loading", "u_ale_max", "planner_noise",
                   "synthesis", "synthesis_accuracy", "rounding", "min_tokens", "carry_over",
                   "allocators", "trials", "seed", "backend", "plot", "dpi", "plot_budgets",
                   "plot_trials", "yes")
#: Default coverage of the fit's intervals: the library's.
LEVEL = inspect.signature(th.fit_law).parameters["level"].default
#: Default split of ``allocate``: the library's.
METHOD = inspect.signature(th.allocate_tokens).parameters["method"].default
MAX_DPI = _cli.MAX_DPI
#: Options of the figure only (refused without ``--plot``).
PLOT_ONLY = ("dpi", "plot_budgets", "plot_trials")


def build_parser():
    """The argument parser; every default comes from the library."""
    d = th.BbamParams()
    p = _cli.ArgumentParser(
        prog=PROG,
        epilog=("subcommands on your files: 'allocate PLAN_FILE --budget N' (whole tokens "
                "over a plan) and 'fit DATA_FILE' (the law per difficulty from accuracy "
                "against budget); see "
               "'python -m sim.bbam allocate --help'"),
        description="Token budgets over sub-questions: the exact optimum, the paper's Eq. (6), "
                    "uniform, a global pool and the Plan-and-Budget schedules, compared by Monte "
                    "Carlo on accuracy, tokens and E3 (Lin et al., arXiv 2505.16122). The "
                    "model and its equations: docs/models/bbam.md.")
    p.add_argument("--budget", type=float, default=d.budget,
                   help=f"token budget per question, > 0 (default {d.budget:g})")
    one = p.add_argument_group("one question (--allocate)")
    one.add_argument("--allocate", action="store_true",
                     help="print the exact, the paper's and the uniform allocation of one "
                          "question, docs/models/bbam.md (4)-(6)")
    one.add_argument("--c", help="initial epistemic uncertainties c_j, comma-separated (> 0)")
    one.add_argument("--beta", help="exponents beta_j, comma-separated (> 0)")
    sim = p.add_argument_group("simulation prior, docs/models/bbam.md (15)-(20) (project "
                               "choices)")
    sim.add_argument("--beta-range", default=f"{d.beta_low:g},{d.beta_high:g}",
                     help=f"beta ~ Uniform(lo, hi) (default {d.beta_low:g},{d.beta_high:g})")
    sim.add_argument("--half-range", default=f"{d.half_low:g},{d.half_high:g}",
                     help="tokens at which the epistemic uncertainty falls to 0.5, log-uniform "
                          "between lo,hi "
                          f"(default {d.half_low:g},{d.half_high:g})")
    sim.add_argument("--front-loading", type=float, default=d.front_loading,
                     help=f"c_j scaled by exp(-x j) along the plan (default {d.front_loading:g})")
    sim.add_argument("--u-ale-max", type=float, default=d.u_ale_max,
                     help=f"u_ale ~ Uniform(0, x) (default {d.u_ale_max:g})")
    sim.add_argument("--planner-noise", type=float, default=d.planner_noise,
                     help="log-normal sigma of the planner's estimate of c "
                          f"(default {d.planner_noise:g})")
    sim.add_argument("--synthesis", default=d.synthesis,
                     help=f"{' | '.join(th.SYNTHESIS_RULES)}: which solved sub-questions solve "
                          f"the question (default {d.synthesis})")
    sim.add_argument("--synthesis-accuracy", type=float, default=d.synthesis_accuracy,
                     help="probability that the final synthesis succeeds "
                          f"(default {d.synthesis_accuracy:g})")
    sim.add_argument("--rounding", default=d.rounding,
                     help=f"{' | '.join(th.ROUNDINGS)}: integer rounding of the schedules, "
                          f"docs/models/bbam.md (12) (default {d.rounding})")
    sim.add_argument("--min-tokens", type=_cli.integer, default=d.min_tokens,
                     help=f"floor of every schedule budget (default {d.min_tokens})")
    sim.add_argument("--carry-over", action="store_true", default=d.carry_over,
                     help="soft budgets: unused tokens of a solved step pass to the next")
    sim.add_argument("--allocators", default=",".join(ALLOCATORS),
                     help="comma-separated subset of: " + ", ".join(ALLOCATORS))
    _cli.add_common_arguments(p, trials=TRIALS)
    p.add_argument("--out", metavar="FILE",
                   help="write the result table to FILE (.csv or .parquet): one row per "
                        "allocator, or with --allocate one row per sub-question")
    fig = p.add_argument_group("figure (--plot)")
    fig.add_argument("--plot-budgets", default=",".join(f"{b:g}" for b in FRONTIER_BUDGETS),
                     help="budgets of the --plot frontier (default "
                          f"{','.join(f'{b:g}' for b in FRONTIER_BUDGETS)})")
    fig.add_argument("--plot-trials", type=_cli.integer, default=FRONTIER_TRIALS,
                     help=f"questions per budget of the --plot frontier "
                          f"(default {FRONTIER_TRIALS})")
    _cli.add_guard_argument(p)
    return p


def params_from_args(args):
    """The :class:`theory.bbam.BbamParams` of parsed arguments (validated on construction)."""
    blo, bhi = _pair("beta-range", args.beta_range)
    hlo, hhi = _pair("half-range", args.half_range)
    return th.BbamParams(budget=args.budget, beta_low=blo, beta_high=bhi, half_low=hlo,
                         half_high=hhi, front_loading=args.front_loading,
                         u_ale_max=args.u_ale_max, planner_noise=args.planner_noise,
                         synthesis=args.synthesis, synthesis_accuracy=args.synthesis_accuracy,
                         rounding=args.rounding, min_tokens=args.min_tokens,
                         carry_over=args.carry_over)


def _pair(name, text):
    vals = _cli.float_list(name, text)
    if len(vals) != 2:
        raise ValueError(f"{name} must be two numbers lo,hi, got {text!r}")
    return vals


def _allocators(text):
    names = [s.strip() for s in text.split(",")]
    if not names or any(not s for s in names):
        raise ValueError("allocators must be a non-empty comma-separated list")
    for s in names:
        check_choice("allocator", s, ALLOCATORS)
    return names


def allocate_one(args):
    """The three allocations of one question and their objectives (``--allocate``)."""
    if args.c is None or args.beta is None:
        raise ValueError("--allocate needs --c and --beta")
    c = np.array(_cli.float_list("c", args.c))
    beta = np.array(_cli.float_list("beta", args.beta))
    if c.size != beta.size:
        raise ValueError(f"c and beta must have the same length, got {c.size} and {beta.size}")
    B = check_real("budget", args.budget, 0.0, lo_open=True)
    res = dict(exact=th.allocate_kkt(c, beta, B), paper=th.allocate_paper(c, beta, B),
               uniform=th.allocate_uniform(B, m=c.size))
    objective = {k: float(th.objective(v, c, beta)) for k, v in res.items()}
    return c, beta, B, {k: [float(x) for x in v] for k, v in res.items()}, objective


def _print_allocation(c, beta, B, res, objective):
    print(f"one question: B={B:g}, c={', '.join(f'{x:g}' for x in c)}, "
          f"beta={', '.join(f'{x:g}' for x in beta)}")
    print(f"{'allocation':<28s} " + " ".join(f"b_{j + 1:<9d}" for j in range(c.size))
          + " objective sum c b^-beta")
    labels = {"exact": "exact optimum (4)", "paper": "paper's Eq. (6), here (5)",
              "uniform": "uniform B/m (6)"}
    for k in ("exact", "paper", "uniform"):
        print(f"{labels[k]:<28s} " + " ".join(f"{x:<11.3f}" for x in res[k])
              + f" {objective[k]:.6g}")
    print("equations: docs/models/bbam.md")


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.bbam``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return {"allocate": _allocate_main, "fit": _fit_main}[argv[0]](argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    if args.out:
        output_table(args.out)
    if args.allocate:
        _cli.refuse(given, "--allocate", *SIMULATION_ONLY)
        c, beta, B, res, objective = allocate_one(args)
        if args.out:
            _cli.write_table(pd.DataFrame(dict(subquestion=np.arange(1, c.size + 1), c=c,
                                               beta=beta, **res)), args.out)
        if args.json:
            print(json.dumps(_cli.envelope(dict(budget=B, c=list(c), beta=list(beta)),
                                           **res, objective=objective)))
        else:
            _print_allocation(c, beta, B, res, objective)
        return 0
    _cli.refuse(given, "the simulation (without --allocate)", *ALLOCATE_ONLY)
    if not args.plot:
        _cli.refuse(given, "a run without --plot", *PLOT_ONLY)
    params = params_from_args(args)
    trials = check_int("trials", args.trials, 2)
    seed = check_int("seed", args.seed, 0)
    names = _allocators(args.allocators)
    if args.plot:
        budgets = _cli.float_list("plot-budgets", args.plot_budgets)
        for B in budgets:
            check_real("plot-budgets", B, 0.0, lo_open=True)
        plot_trials = check_int("plot_trials", args.plot_trials, 2)
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    est = cost(params, trials, len(names))
    _guard.check(est.pop("param"), allow=args.yes, **est)
    if args.plot:
        est = cost(params, plot_trials * len(budgets), len(names))
        est.pop("param")
        _guard.check("--plot-trials * --plot-budgets", allow=args.yes, **est)
    backend = resolve_backend(args.backend)
    with _cli.progress_spinner(not args.json, "simulating questions"):
        df = simulate(params, trials, seed, backend, names, allow=True)  # guarded above
    if args.plot:
        with _cli.progress_bar(not args.json, "frontier", len(budgets)) as advance:
            fr = frontier(params, budgets, plot_trials, seed, backend, names, progress=advance,
                          allow=True)
        fig, ax = _cli.new_figure(8.2, 4.8)
        plot_frontier(fr, ax)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    if args.out:
        _cli.write_table(df, args.out)
    if args.json:
        cols = ["name", "accuracy", "tokens", "e3", "ci_low", "ci_high", "e3_ci_low",
                "e3_ci_high", "accuracy_theory", "tokens_theory"]
        allocs = [dict(zip(cols, r)) for r in df[cols].itertuples(index=False)]
        extra = dict(plot=args.plot) if args.plot else {}
        print(json.dumps(_cli.envelope(params, trials=trials, seed=seed, backend=backend,
                                       allocators=allocs, **extra)))
        return 0
    _report(params, df, trials, seed, backend)
    return 0


def _report(params, df, trials, seed, backend):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    console.print(f"budgetlab bbam  questions={trials} budget={params.budget:g} "
                  f"seed={seed} backend={backend}", markup=False)
    m_prior = ("MATH-500 plans" if params.m_counts == th.MATH500_M_COUNTS
               else f"counts {params.m_counts}")
    console.print(f"  prior: m ~ {m_prior}, beta ~ U({params.beta_low:g}, "
                  f"{params.beta_high:g}), half-life tokens ~ logU({params.half_low:g}, "
                  f"{params.half_high:g}), front-loading {params.front_loading:g}, "
                  f"u_ale ~ U(0, {params.u_ale_max:g}); planner noise {params.planner_noise:g}; "
                  f"synthesis {params.synthesis} (success {params.synthesis_accuracy:g})"
                  + ("; carry-over" if params.carry_over else ""), markup=False)
    table = Table(title="allocators (A in %, T tokens per question, E3 = A^2/T)",
                  title_justify="left")
    for col in ("allocator", "A", "95% interval", "theory A", "T", "theory T", "E3", "E3 95%"):
        table.add_column(col, justify="right")
    for r in df.itertuples():
        th_a = "-" if math.isnan(r.accuracy_theory) else f"{r.accuracy_theory:.2f}"
        th_t = "-" if math.isnan(r.tokens_theory) else f"{r.tokens_theory:.1f}"
        table.add_row(r.name, f"{r.accuracy:.2f}", f"[{r.ci_low:.2f}, {r.ci_high:.2f}]", th_a,
                      f"{r.tokens:.1f}", th_t, f"{r.e3:.3f}",
                      f"[{r.e3_ci_low:.3f}, {r.e3_ci_high:.3f}]")
    console.print(table)


def _allocate_parser():
    p = _cli.ArgumentParser(
        prog=f"{PROG} allocate",
        description="Split a whole-token budget over the sub-questions of your plan: the exact "
                    "optimum (KKT) by default, the paper's Eq. (6) or uniform, each with a floor "
                    "per sub-question and rounded by largest remainder (docs/models/bbam.md "
                    "(4)-(6), (28)-(29)).")
    _cli.add_version(p)
    p.add_argument("plan", metavar="PLAN_FILE",
                   help="CSV or Parquet, one row per sub-question: an id column and either "
                        "columns c and beta, or a column difficulty mapped by --table")
    p.add_argument("--budget", required=True,
                   help="whole tokens for the plan, an integer >= rows * --min-tokens")
    p.add_argument("--method", default=METHOD, choices=th.METHODS,
                   help="exact (default): the KKT optimum (4); paper: the paper's Eq. (6), "
                        "here (5); uniform: B/m (6)")
    p.add_argument("--min-tokens", type=_cli.integer, default=th.MIN_TOKENS,
                   help=f"whole tokens every sub-question gets at least (default "
                        f"{th.MIN_TOKENS})")
    p.add_argument("--table", metavar="FILE",
                   help="law table with columns difficulty, c, beta (the output of "
                        f"{PROG} fit) for a plan with difficulty labels")
    p.add_argument("--id-column", default="id", help="the plan's id column (default id)")
    p.add_argument("--out", metavar="OUT.csv",
                   help="write the allocation (the id column, tokens, c, beta, ...) to a .csv "
                        "or .parquet file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a "
                                                       "table")
    _cli.add_guard_argument(p)
    return p


def _int_arg(name, text):
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {text!r}") from None
    if not math.isfinite(v) or v != int(v):
        raise ValueError(f"{name} must be an integer, got {text!r}")
    return int(v)


def _allocate_main(argv):
    p = _allocate_parser()
    args = p.parse_args(argv)
    budget = check_int("budget", _int_arg("budget", args.budget), 1)
    min_tokens = check_int("min_tokens", args.min_tokens, 0)
    if args.out:
        output_table(args.out)
    max_bytes = None if args.yes else _cli.MAX_INPUT_BYTES
    plan = load_plan(args.plan, args.table, args.id_column, max_bytes=max_bytes)
    m = len(plan)
    _guard.check("PLAN_FILE rows", work=200.0 * m * 60, memory=64.0 * m * 40, allow=args.yes)
    if budget < m * min_tokens:
        raise ValueError(f"budget must be >= rows * min_tokens = {m} * {min_tokens} = "
                         f"{m * min_tokens}, got {budget}")
    table, objective = allocate_plan(plan, budget, args.method, min_tokens)
    if args.out:
        _cli.write_table(table, args.out)
    params = dict(plan=args.plan, budget=budget, method=args.method, min_tokens=min_tokens,
                  table=args.table, id_column=args.id_column)
    idc = args.id_column
    if args.json:
        alloc = [dict(id=i, tokens=int(t)) for i, t in zip(table[idc], table["tokens"])]
        print(json.dumps(_cli.envelope(params, allocation=alloc, objective=objective,
                                       sub_questions=m, out=args.out)))
        return 0
    print(f"budgetlab bbam allocate  {args.plan}: {m} sub-questions, budget {budget} tokens, "
          f"method {args.method}, at least {min_tokens} each")
    cols = [idc] + (["difficulty"] if "difficulty" in table.columns else []) + \
        ["c", "beta", "tokens", "tokens_real"]
    print(table[cols].to_string(index=False, float_format=lambda x: f"{x:.6g}"))
    print("objective sum c b^-beta of the whole-token allocations (3): "
          + ", ".join(f"{k} {v:.6g}" for k, v in objective.items()))
    if args.out:
        print(f"allocation written to {args.out}")
    return 0


def _fit_parser():
    p = _cli.ArgumentParser(
        prog=f"{PROG} fit",
        description="Fit the law 1 - accuracy = c b^-beta + u (docs/models/bbam.md (1), (17)) "
                    "per difficulty to your accuracy-against-budget data by maximum likelihood, "
                    "with profile-likelihood intervals and a deviance goodness of fit "
                    "(docs/models/bbam.md (26)-(27)); the table it writes is what "
                    f"'{PROG} allocate --table' reads.")
    _cli.add_version(p)
    p.add_argument("data", metavar="DATA_FILE",
                   help="CSV or Parquet: a budget column and either a 0/1 column correct per "
                        "attempt, or columns n and k (or n and accuracy) per row")
    p.add_argument("--by", default=None,
                   help="label column, one fit per label (default: difficulty if the file has "
                        "it, else one fit of all rows)")
    p.add_argument("--budget-column", default="budget",
                   help="the budget column (default budget)")
    p.add_argument("--correct-column", default="correct",
                   help="the 0/1 column of per-attempt rows (default correct)")
    add_fit_arguments(p, LEVEL, "write the fitted table (difficulty, c, beta, u, intervals, "
                                "fit) to a .csv or .parquet file")
    _cli.add_plot_arguments(p, "the data and the fitted law per difficulty")
    _cli.add_guard_argument(p)
    return p


def _fit_main(argv):
    p = _fit_parser()
    args = p.parse_args(argv)
    given = _cli.explicit(p, argv)
    if not args.plot:
        _cli.refuse(given, "a run without --plot", "dpi")
    level = check_real("level", args.level, 0.0, 1.0, lo_open=True, hi_open=True)
    if args.out:
        output_table(args.out)
    if args.plot:
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    df = read_table(args.data, "DATA_FILE", max_bytes=None if args.yes else _cli.MAX_INPUT_BYTES)
    by = args.by
    if by is None and "difficulty" in df.columns:
        by = "difficulty"
    agg = aggregate(df, args.data, args.budget_column, args.correct_column, by)
    groups = agg["label"].nunique() if "label" in agg.columns else 1
    _guard.check("DATA_FILE labels * budgets", work=2e5 * len(agg), allow=args.yes,
                 hint="fewer labels or budgets, or pass --yes")
    with _cli.progress_bar(not args.json, "fitting", groups) as advance:
        table = fit_table(agg, level, by, progress=advance)
    if args.plot:  # drawn before anything is written
        fig, ax = _cli.new_figure(8.6, 4.4)
        plot_law_fit(table, agg, ax, by=by)
    if args.out:
        _cli.write_table(table, args.out)
    if args.plot:
        _cli.save_figure(fig, args.plot, args.dpi, prog=f"{PROG} fit")
    params = dict(data=args.data, by=by, budget_column=args.budget_column,
                  correct_column=args.correct_column, level=level)
    if args.json:
        print(json.dumps(_cli.envelope(params, fits=table.to_dict(orient="records"),
                                       out=args.out, plot=args.plot)))
        return 0
    print(f"budgetlab bbam fit  {args.data}: {int(agg['n'].sum())} attempts at "
          f"{agg['budget'].nunique()} budgets" + (f", {groups} values of {by}" if by else ""))
    print(f"law 1 - accuracy = c b^-beta + u (docs/models/bbam.md (17)); "
          f"{100 * level:g}% profile-likelihood intervals (26)")
    for r in table.to_dict(orient="records"):
        head = f"  {by} {r[by]}: " if by else "  "
        pv = "n/a (fewer than 4 budgets)" if r["p_value"] is None or (
            isinstance(r["p_value"], float) and math.isnan(r["p_value"])) else f"{r['p_value']:.3g}"
        print(f"{head}c = {r['c']:.4g} [{r['c_low']:.4g}, {r['c_high']:.4g}]  "
              f"beta = {r['beta']:.4g} [{r['beta_low']:.4g}, {r['beta_high']:.4g}]  "
              f"u = {r['u']:.4g} [{r['u_low']:.4g}, {r['u_high']:.4g}]")
        print(f"{' ' * len(head)}goodness of fit (27): deviance {r['deviance']:.3f} on "
              f"{r['df']} df, p = {pv} ({r['budgets']} budgets, {r['attempts']} attempts)")
    if args.out:
        print(f"table written to {args.out} (use it as: {PROG} allocate PLAN_FILE --table "
              f"{args.out} --budget N)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
