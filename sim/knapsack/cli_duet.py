"""``python -m sim.knapsack duet``: uniform, knapsack and DUET at equal token budget, simulated.

Runs :func:`sim.knapsack.duet.simulate_duet`; every default is a default of
:class:`theory.knapsack.duet.DuetSimParams`, :class:`theory.knapsack.duet.DuetParams`
or :data:`sim.knapsack.duet.DUET_TRIALS`. A tour with real output is in
``docs/models/knapsack.md``, section "DUET: a token budget".
"""

from __future__ import annotations

import dataclasses
import json

from sim import _cli
from sim import guard as _guard
from sim.knapsack.duet import DUET_TRIALS, duet_cost, simulate_duet
from theory.knapsack.duet import MULTIPLIERS, DuetParams, DuetSimParams

__all__ = ["PROG", "build_parser", "run", "DUET_FLAGS"]

PROG = "python -m sim.knapsack duet"
#: Fields of :class:`DuetParams` that the command line sets.
DUET_FLAGS = ("budget_frac", "ref_n", "n_min", "n_max", "multiplier", "eps_pre", "eps_abort",
              "grace", "min_tokens", "hysteresis")
#: Columns of each row in ``--json``.
JSON_COLUMNS = ("allocator", "estimator", "length_axis", "target", "theory", "estimate", "se",
                "z", "variance_expected", "variance_sim", "variance_ratio", "tokens_expected",
                "tokens_sim", "tokens_se", "rollouts", "max_n", "min_n", "egr_expected")


def _type(default):
    """The argparse type of a flag with this default: counts accept ``1e6`` (the guard judges)."""
    return _cli.integer if isinstance(default, int) and not isinstance(default, bool) \
        else type(default)


def build_parser():
    """The argument parser of ``python -m sim.knapsack duet``."""
    s, d = DuetSimParams(), DuetParams()
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Uniform, knapsack and DUET (Hu et al., arXiv 2605.08441) at equal token "
                    "budget: Bernoulli rewards, lengths from the gamma model, DUET's stop and "
                    "abort rule; the gradient estimate, its variance and the tokens beside their "
                    "closed forms. See docs/models/knapsack.md.")
    g = p.add_argument_group("scenario (docs/models/knapsack.md (31))")
    for f in dataclasses.fields(DuetSimParams):
        default = getattr(s, f.name)
        g.add_argument("--" + f.name.replace("_", "-"), type=_type(default), default=default,
                       help=f"default {default:g}" if isinstance(default, float)
                       else f"default {default}")
    dg = p.add_argument_group("DUET (docs/models/knapsack.md (24)-(29))")
    for name in DUET_FLAGS:
        default = getattr(d, name)
        kw = dict(choices=MULTIPLIERS) if name == "multiplier" else dict(type=_type(default))
        dg.add_argument("--" + name.replace("_", "-"), default=default, help=f"default {default}",
                        **kw)
    _cli.add_common_arguments(p, trials=DUET_TRIALS, backend=False, plot=False)
    p.add_argument("--backend", choices=("auto", "numpy", "cupy"), default="auto",
                   help="where the rollouts are drawn: numpy (auto) or cupy")
    p.add_argument("--out", metavar="FILE",
                   help="write the table (one row per allocator and estimator) to CSV or Parquet")
    _cli.add_guard_argument(p)
    return p


def run(argv):
    """Run ``python -m sim.knapsack duet``; returns the exit status (errors raise)."""
    from sim.knapsack.cli_allocate import check_out

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out:
        check_out(args.out)
    params = DuetSimParams(**{f.name: getattr(args, f.name)
                              for f in dataclasses.fields(DuetSimParams)})
    duet = DuetParams(**{k: getattr(args, k) for k in DUET_FLAGS})
    est = duet_cost(params, duet, args.trials)
    _guard.check(est.pop("param"), allow=args.yes, **est)
    with _cli.progress_spinner(not args.json, "rolling out"):
        df = simulate_duet(params, duet, args.trials, args.seed, args.backend, allow=True)
    if args.out:
        _cli.write_table(df, args.out)
    if args.json:
        shown = dict(dataclasses.asdict(params), **{k: getattr(duet, k) for k in DUET_FLAGS},
                     trials=args.trials, seed=args.seed, backend=str(df.backend.iloc[0]))
        rows = [dict(zip(JSON_COLUMNS, r)) for r in df[list(JSON_COLUMNS)].itertuples(index=False)]
        print(json.dumps(_cli.envelope(shown, token_budget=float(df.token_budget.iloc[0]),
                                       k1=int(df.k1.iloc[0]), k2=int(df.k2.iloc[0]), rows=rows)))
        return 0
    _report(df, params, duet, args)
    return 0


def _report(df, params, duet, args):
    r0 = df.iloc[0]
    head = (f"budgetlab knapsack duet  prompts={params.prompts} token budget "
            f"{r0.token_budget:.6g} ({duet.budget_frac:g} of {duet.ref_n} rollouts per prompt) "
            f"trials={args.trials} seed={args.seed} backend={r0.backend}\n"
            f"  rates Beta({params.beta_a:g},{params.beta_b:g}); marker lengths from the gamma "
            f"model (shape {params.length_alpha:g}, mean {params.mean_length:g} at p=1/2); "
            f"K1={r0.k1} K2={r0.k2}, abort at K2+{duet.grace}, eps_abort={duet.eps_abort:g}")
    cols = ["allocator", "estimator", "theory", "estimate", "se", "variance_ratio",
            "tokens_expected", "tokens_sim", "rollouts", "egr_expected"]
    t = df[cols].copy()
    t["estimate"] = [f"{e:.5f} ± {s:.5f}" for e, s in zip(df.estimate, df.se)]
    t = t.drop(columns="se")
    print(head)
    print(f"  batch gradient mean p(1-p) = {r0.target:.5f}; theory = the estimator's "
          f"expectation (32); variance ratio of the per-prompt mean against uniform (30)")
    print(t.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        print(f"table written to {args.out}")
