"""``python -m sim.coop``: one team, the paper's experiment, the Apache case, repeated play.

Parse the command line, call the API of :mod:`sim.coop`, print a report or
one JSON object, write the mode's figure with ``--plot`` and its result table
with ``--out FILE`` (CSV or Parquet: the members of the team, the rounds of
repeated play, the 3,125 configurations of the paper's grid, the phases of the
Apache case, the summary of the robustness run). Defaults come
from :class:`theory.coop.CoopParams` and the API's own defaults. Every option
that does not apply to the chosen ``--experiment`` is refused.
"""

from __future__ import annotations

import dataclasses
import json
import sys

import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim._tables import output_table
from sim.coop.apache import APACHE, run_apache
from sim.coop.core import NOISE, ROUNDS, TRIALS, simulate, team_cost
from sim.coop.paper import paper_grid, run_paper_experiment
from sim.coop.plot import (
    plot_apache,
    plot_differentiation,
    plot_effort_vs_loyalty,
    plot_repeated_play,
)
from sim.coop.report import (
    report_apache,
    report_paper,
    report_repeated,
    report_robustness,
    report_team,
)
from sim.coop.robustness import ROBUSTNESS_TRIALS, monte_carlo
from sim.coop.team import effort_loyalty_curves, solve_team
from sim.coop.variants import DEFAULT_VARIANT, VARIANTS, welfare_mode
from theory._params import check_int, check_real
from theory.coop import DEFAULT_THETA, CoopParams

PROG = "python -m sim.coop"
EXPERIMENTS = ("team", "paper", "apache", "montecarlo", "repeated")
MAX_DPI = _cli.MAX_DPI
#: Defaults of the team's parameters: those of CoopParams.
DEFAULTS = {f.name: f.default for f in dataclasses.fields(CoopParams)}

_TEAM = ("omega", "beta", "c", "n", "theta", "D", "phi_B", "phi_C", "a_min", "a_max")
_PLAY = ("rounds", "noise", "trust")
#: Options that do not apply to each experiment (refused when given).
NOT_APPLICABLE = {
    "team": ("trials", "seed", "backend") + _PLAY,
    "paper": _TEAM + ("trials", "backend") + _PLAY,
    "apache": _TEAM + ("trials", "seed", "backend") + _PLAY,
    "montecarlo": _TEAM + ("backend", "plot", "dpi") + _PLAY,
    "repeated": ("D",),
}


def _build_parser():
    d = DEFAULTS
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Loyalty in team production (Pant and Yu, arXiv 2601.16237; "
                    "docs/models/coop.md): one team's equilibrium, the paper's "
                    "3,125-configuration experiment with its six targets, the Apache case, "
                    "the authors' robustness run, and repeated play of many teams.")
    p.add_argument("--experiment", default="team", choices=EXPERIMENTS,
                   help="team (default): solve one team; paper: the grid, its targets and "
                        "statistics; apache: the 60-point case study; montecarlo: the "
                        "authors' robustness run; repeated: many copies of the team playing "
                        "noisy best responses")
    p.add_argument("--variant", default=DEFAULT_VARIANT, choices=VARIANTS,
                   help=f"paper (teammates' payoffs summed) or repo (averaged) "
                        f"(default {DEFAULT_VARIANT}; docs/models/coop.md (3))")
    team = p.add_argument_group("the team (--experiment team and repeated)")
    team.add_argument("--omega", type=float, default=d["omega"],
                      help=f"productivity > 0 (default {d['omega']:g})")
    team.add_argument("--beta", type=float, default=d["beta"],
                      help=f"returns to scale in (0, 1) (default {d['beta']:g})")
    team.add_argument("--c", type=float, default=d["c"],
                      help=f"marginal effort cost > 0 (default {d['c']:g})")
    team.add_argument("--n", type=_cli.integer, default=None,
                      help=f"team size >= 2 (default: the length of --theta or --D, "
                           f"else {d['n']})")
    team.add_argument("--theta", default=None,
                      help="loyalty in [0, 1]: one value for every member, or one per member, "
                           f"comma-separated (default {DEFAULT_THETA:g})")
    team.add_argument("--D", default=None,
                      help="dependency weights >= 0, one per member, for the cohesion "
                           "(default equal; --experiment team only)")
    team.add_argument("--phi-B", type=float, default=d["phi_B"],
                      help=f"loyalty-benefit strength >= 0 (default {d['phi_B']:g})")
    team.add_argument("--phi-C", type=float, default=d["phi_C"],
                      help=f"cost-tolerance strength >= 0, theta*phi_C < 1 "
                           f"(default {d['phi_C']:g})")
    team.add_argument("--a-min", type=float, default=d["a_min"],
                      help=f"effort floor (default {d['a_min']:g}; the authors' code uses 0.01)")
    team.add_argument("--a-max", type=float, default=d["a_max"],
                      help=f"effort cap (default {d['a_max']:g})")
    rep = p.add_argument_group("repeated play (--experiment repeated)")
    rep.add_argument("--rounds", type=_cli.integer, default=ROUNDS,
                     help=f"rounds (default {ROUNDS})")
    rep.add_argument("--noise", type=float, default=NOISE,
                     help=f"standard deviation of the noise on each move (default {NOISE:g})")
    rep.add_argument("--trust", action="store_true",
                     help="loyalty follows the TR-2 trust dynamics (docs/models/coop.md (24)-(26))")
    _cli.add_common_arguments(p, trials=None, helps=dict(
        trials=(f"Monte Carlo size: teams played in parallel (--experiment repeated, "
                f"default {TRIALS}) or perturbed teams (--experiment montecarlo, "
                f"default {ROBUSTNESS_TRIALS})"),
        seed=(f"root seed, >= 0 (default {_cli.DEFAULT_SEED}): the noise of repeated play, the "
              "draws of the robustness run, the bootstrap of the paper experiment (42 gives the "
              "authors' numbers)"),
        backend=("numpy (reference), numba (fast CPU), cupy (GPU) or auto (default); "
                 "--experiment repeated only")))
    p.add_argument("--out", metavar="FILE",
                   help="write the experiment's result table to a .csv or .parquet file (team: "
                        "one row per member; repeated: per round; paper: per configuration; "
                        "apache: per phase; montecarlo: the summary)")
    _cli.add_guard_argument(p)
    return p


def params_from_args(args):
    """The :class:`theory.coop.CoopParams` of the team flags."""
    theta = None if args.theta is None else _cli.float_list("theta", args.theta)
    D = None if args.D is None else _cli.float_list("D", args.D)
    n = args.n
    if n is None:
        n = len(theta) if theta is not None and len(theta) > 1 else (
            len(D) if D is not None else DEFAULTS["n"])
    n = check_int("n", n, 2)
    # a team of n members holds a few arrays of n numbers: checked before they are made
    est = team_cost(n)
    _guard.check(est.pop("param"), allow=args.yes, **est)
    if theta is not None and len(theta) == 1:
        theta = theta * n
    return CoopParams(omega=args.omega, beta=args.beta, c=args.c, n=n, theta=theta, D=D,
                      phi_B=args.phi_B, phi_C=args.phi_C, a_min=args.a_min, a_max=args.a_max,
                      welfare_mode=welfare_mode(args.variant))


def _figure(args, draw):
    fig, ax = _cli.new_figure(7.0, 4.5)
    draw(ax)
    _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)


def _run(args):
    """Run the chosen experiment: ``(params for --json, result fields, report, table)``.

    ``table`` is a function returning the result table of ``--out``.
    """
    exp, variant = args.experiment, args.variant
    if exp == "team":
        params = params_from_args(args)
        res = solve_team(params)
        if args.plot:
            _figure(args, lambda ax: plot_effort_vs_loyalty(effort_loyalty_curves(params), ax,
                                                            team=params))
        def table():
            fr = res["free_riding"]
            return pd.DataFrame(dict(member=range(1, params.n + 1), theta=params.theta,
                                     effort=res["efforts"],
                                     free_riding_effort=fr["equilibrium_effort"]))

        return (dataclasses.asdict(params), res, lambda: report_team(res, params, variant),
                table)
    if exp == "repeated":
        params = params_from_args(args)
        trials = TRIALS if args.trials is None else args.trials
        # simulate checks its sizes (sim.coop.core.cost) before it allocates
        df = simulate(params, trials, args.seed, args.backend, rounds=args.rounds,
                      noise=args.noise, trust=args.trust, allow=args.yes)
        if args.plot:
            _figure(args, lambda ax: plot_repeated_play(df, ax))
        fields = dict(equilibrium_mean_effort=float(df["theory"].iloc[0]),
                      backend=str(df["backend"].iloc[0]),
                      rounds=df[["round", "theory", "estimate", "se", "aggregate_gap",
                                 "mean_theta"]].to_dict(orient="records"))
        run = dict(dataclasses.asdict(params), trials=trials, rounds=args.rounds,
                   noise=args.noise, trust=args.trust, seed=args.seed)
        return run, fields, lambda: report_repeated(df, args.trust), lambda: df
    if exp == "paper":
        with _cli.progress_spinner(not args.json, "solving the 3,125-configuration grid"):
            res = run_paper_experiment(variant, seed=args.seed)
            res["apache_score"] = run_apache(variant)["score"]
        if args.plot:
            _figure(args, lambda ax: plot_differentiation(paper_grid(variant), ax, variant))
        return (dict(variant=variant, seed=args.seed), res, lambda: report_paper(res),
                lambda: paper_grid(variant))
    if exp == "apache":
        res = run_apache(variant)
        phases = pd.DataFrame(res["phases"])
        if args.plot:
            _figure(args, lambda ax: plot_apache(phases, ax, APACHE["a_max"], variant))
        fields = dict(res, phases=[{k: v for k, v in ph.items() if k != "efforts"}
                                   for ph in res["phases"]])
        return (dict(variant=variant), fields, lambda: report_apache(res),
                lambda: phases.drop(columns=["efforts", "items"], errors="ignore"))
    trials = ROBUSTNESS_TRIALS if args.trials is None else args.trials
    # monte_carlo checks its size (robustness_cost) before it draws
    res = monte_carlo(variant, trials, args.seed, allow=args.yes)
    return (dict(variant=variant, trials=trials, seed=args.seed), res,
            lambda: report_robustness(res), lambda: pd.DataFrame([res]))


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.coop``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    _cli.refuse(_cli.explicit(parser, argv), f"--experiment {args.experiment}",
                *NOT_APPLICABLE[args.experiment])
    check_int("seed", args.seed, 0)
    if args.out:
        output_table(args.out)
    if args.plot:
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    params, fields, report, table = _run(args)
    if args.out:
        _cli.write_table(table(), args.out)
    if args.json:
        # what params already says (the variant, the size, the seed) is not repeated
        fields = {k: v for k, v in fields.items()
                  if k != "variant" and not (k in params and params[k] == v)}
        print(json.dumps(_cli.envelope(params, experiment=args.experiment, **fields)))
    else:
        report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
