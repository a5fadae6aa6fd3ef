"""``python -m sim.bbam``: token budgets over the sub-questions of a plan.

Two modes. ``--allocate --c ... --beta ...`` splits one question's budget by
the exact optimum, the paper's Eq. (6) and uniformly (docs/models/bbam.md
(4)-(6)). Without ``--allocate`` the command simulates questions from the
prior and compares every allocator on accuracy, tokens and E3
(:func:`sim.bbam.simulate`), and ``--plot`` draws the accuracy-token frontier
over budgets (:func:`sim.bbam.frontier`, :func:`sim.bbam.plot_frontier`).
Every default is the library's: the fields of :class:`theory.bbam.BbamParams`
and the defaults of :func:`sim.bbam.simulate` and :func:`sim.bbam.frontier`.
An option of the other mode is refused with one line (exit status 2).
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from sim import _cli
from sim.backends import resolve_backend
from sim.bbam.allocators import ALLOCATORS
from sim.bbam.core import TRIALS, simulate
from sim.bbam.frontier import FRONTIER_BUDGETS, FRONTIER_TRIALS, frontier
from sim.bbam.plot import plot_frontier
from theory import bbam as th
from theory._params import check_choice, check_int, check_real

PROG = "python -m sim.bbam"

#: Options of the one-question mode only.
ALLOCATE_ONLY = ("c", "beta")
#: Options of the simulation only (refused with ``--allocate``).
SIMULATION_ONLY = ("beta_range", "half_range", "front_loading", "u_ale_max", "planner_noise",
                   "synthesis", "synthesis_accuracy", "rounding", "min_tokens", "carry_over",
                   "allocators", "trials", "seed", "backend", "plot", "dpi", "plot_budgets",
                   "plot_trials")
#: Options of the figure only (refused without ``--plot``).
PLOT_ONLY = ("dpi", "plot_budgets", "plot_trials")


def build_parser():
    """The argument parser; every default comes from the library."""
    d = th.BbamParams()
    p = _cli.ArgumentParser(
        prog=PROG,
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
    sim.add_argument("--min-tokens", type=int, default=d.min_tokens,
                     help=f"floor of every schedule budget (default {d.min_tokens})")
    sim.add_argument("--carry-over", action="store_true", default=d.carry_over,
                     help="soft budgets: unused tokens of a solved step pass to the next")
    sim.add_argument("--allocators", default=",".join(ALLOCATORS),
                     help="comma-separated subset of: " + ", ".join(ALLOCATORS))
    _cli.add_common_arguments(p, trials=TRIALS)
    fig = p.add_argument_group("figure (--plot)")
    fig.add_argument("--plot-budgets", default=",".join(f"{b:g}" for b in FRONTIER_BUDGETS),
                     help="budgets of the --plot frontier (default "
                          f"{','.join(f'{b:g}' for b in FRONTIER_BUDGETS)})")
    fig.add_argument("--plot-trials", type=int, default=FRONTIER_TRIALS,
                     help=f"questions per budget of the --plot frontier "
                          f"(default {FRONTIER_TRIALS})")
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
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    if args.allocate:
        _cli.refuse(given, "--allocate", *SIMULATION_ONLY)
        c, beta, B, res, objective = allocate_one(args)
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
        check_real("dpi", args.dpi, 0.0, lo_open=True)
    backend = resolve_backend(args.backend)
    with _cli.progress_spinner(not args.json, "simulating questions"):
        df = simulate(params, trials, seed, backend, names)
    if args.plot:
        with _cli.progress_bar(not args.json, "frontier", len(budgets)) as advance:
            fr = frontier(params, budgets, plot_trials, seed, backend, names, progress=advance)
        fig, ax = _cli.new_figure(8.2, 4.8)
        plot_frontier(fr, ax)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
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


if __name__ == "__main__":
    sys.exit(main())
