"""``python -m sim.knapsack allocate RATES_FILE``: allocate rollouts on the user's own rates.

The rates are used exactly as given (nothing is simulated):
:func:`sim.knapsack.userdata.allocate_table` does the work. Every default is
a default of :class:`theory.knapsack.KnapsackParams` or
:class:`theory.knapsack.duet.DuetParams`; a tour with real output is in
``docs/models/knapsack.md``, section "Allocating on your own rates".
"""

from __future__ import annotations

import dataclasses
import json
import os

from sim import _cli, guard
from sim.knapsack.core import MAX_WORK
from sim.knapsack.estimator import MIN_VALID
from sim.knapsack.rates import check_rows
from sim.knapsack.userdata import (
    ALLOCATORS,
    allocate_table,
    read_table,
    reference_memory,
)
from theory import knapsack as th
from theory.knapsack.duet import MULTIPLIERS, DuetParams

__all__ = ["PROG", "build_parser", "run", "check_out"]

PROG = "python -m sim.knapsack allocate"
#: Options of the knapsack allocator (refused with ``--allocator duet``).
KNAPSACK_OPTIONS = ("budget", "n", "n_low", "n_up", "fallback", "fallback_trigger", "alpha",
                    "cost", "weight", "mode", "count_column", "min_count")
#: Options of DUET (refused with ``--allocator knapsack``).
DUET_OPTIONS = ("token_budget", "length_column", "n_min", "n_max", "sigma_min", "multiplier")
#: Fields of :class:`DuetParams` the allocation uses (shown in ``--json``).
DUET_PARAMS = ("n_min", "n_max", "tau_min", "tau_max", "sigma_min", "multiplier", "iterations")
#: Rows shown in the report without ``--json``.
SHOWN = 10


def build_parser():
    """The argument parser of ``python -m sim.knapsack allocate``."""
    k, d = th.KnapsackParams(), DuetParams()
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Allocate a batch's rollouts on your own per-prompt success rates, exactly "
                    "as given: the knapsack of Li et al. (arXiv 2509.25849) or DUET's "
                    "cost-weighted allocation under a token budget (arXiv 2605.08441). Writes "
                    "one row per input row, in input order, with your ids and an integer n. "
                    "See docs/models/knapsack.md.")
    p.add_argument("rates", metavar="RATES_FILE",
                   help="CSV or Parquet file, one row per prompt (an id and a success rate)")
    p.add_argument("--allocator", choices=ALLOCATORS, default="knapsack",
                   help="knapsack (default) or duet")
    g = p.add_argument_group("columns")
    g.add_argument("--id-column", default="id", help="column of the prompt ids (default id)")
    g.add_argument("--p-column", default="p", help="column of the success rates (default p)")
    g.add_argument("--count-column", default=None,
                   help="knapsack: column of the rewards behind each rate; prompts with fewer "
                        "than --min-count have no valid rate and get --n")
    g.add_argument("--min-count", type=_cli.integer, default=MIN_VALID,
                   help=f"knapsack: rewards a valid rate needs (default {MIN_VALID}, the "
                        f"authors')")
    g.add_argument("--length-column", default="length",
                   help="duet: column of the mean rollout length in tokens (default length)")
    kg = p.add_argument_group("knapsack (docs/models/knapsack.md (5), (11))")
    kg.add_argument("--budget", type=_cli.integer, default=k.budget,
                    help="rollouts of the batch (default prompts * n)")
    kg.add_argument("--n", type=_cli.integer, default=None,
                    help=f"rollouts of a prompt without a valid rate, and the per-prompt budget "
                         f"when --budget is not given (default {k.n}, or budget // prompts "
                         f"when --budget is given)")
    kg.add_argument("--n-low", type=_cli.integer, default=k.n_low,
                    help=f"minimum rollouts per prompt (default {k.n_low})")
    kg.add_argument("--n-up", type=_cli.integer, default=k.n_up,
                    help=f"maximum rollouts per prompt (default {k.n_up})")
    kg.add_argument("--fallback", choices=th.FALLBACKS, default=k.fallback,
                    help=f"where the budget the knapsack cannot use goes (default {k.fallback}); "
                         "none: the exact optimum of the knapsack, no fallback")
    kg.add_argument("--fallback-trigger", choices=th.FALLBACK_TRIGGERS,
                    default=k.fallback_trigger,
                    help=f"coverage: set aside the surplus over the coverage cost first (the "
                         f"authors' rule); none: the pure optimum (default {k.fallback_trigger})")
    kg.add_argument("--alpha", type=float, default=k.alpha,
                    help=f"target probability of the coverage cost (default {k.alpha:g})")
    kg.add_argument("--cost", choices=th.COSTS, default=k.cost,
                    help=f"coverage cost of the trigger (default {k.cost})")
    kg.add_argument("--weight", choices=th.WEIGHTS, default=k.weight,
                    help=f"InfoGain weight (default {k.weight})")
    kg.add_argument("--mode", choices=th.MODES, default=k.mode,
                    help="clean (default) or reference (the port of the authors' allocator)")
    dg = p.add_argument_group("duet (docs/models/knapsack.md (24), (25))")
    dg.add_argument("--token-budget", type=float, default=None,
                    help="tokens of the batch (required with --allocator duet)")
    dg.add_argument("--n-min", type=_cli.integer, default=d.n_min,
                    help=f"fewest rollouts per prompt (default {d.n_min})")
    dg.add_argument("--n-max", type=_cli.integer, default=d.n_max,
                    help=f"most rollouts per prompt (default {d.n_max})")
    dg.add_argument("--sigma-min", type=float, default=d.sigma_min,
                    help=f"floor of the informativeness sqrt(p(1-p)) (default {d.sigma_min:g})")
    dg.add_argument("--multiplier", choices=MULTIPLIERS, default=d.multiplier,
                    help=f"exact: the smallest multiplier that fits the budget; bisection: the "
                         f"authors' ten steps and trim (default {d.multiplier})")
    o = p.add_argument_group("output")
    o.add_argument("--out", metavar="OUT.csv",
                   help="write the allocation (CSV or Parquet by extension)")
    o.add_argument("--json", action="store_true",
                   help="print one JSON object: params, version, allocation [{id, n}], summary")
    _cli.add_guard_argument(o)
    _cli.add_version(p)
    return p


def check_out(path):
    """Check before any work that ``--out`` names a writable CSV or Parquet file."""
    if os.path.splitext(path)[1].lower() not in (".csv", ".parquet", ".pq"):
        raise ValueError(f"--out must end in .csv or .parquet, got {path!r}")
    return _cli.writable_output(path, "--out")


def _params(args, prompts):
    """The allocator's parameter object from the flags (one-line errors from its checks)."""
    if args.allocator == "duet":
        return DuetParams(n_min=args.n_min, n_max=args.n_max, sigma_min=args.sigma_min,
                          multiplier=args.multiplier)
    n = args.n
    if n is None:
        default = th.KnapsackParams().n
        n = default if args.budget is None else max(args.n_low, args.budget // prompts)
    return th.KnapsackParams(n=n, n_low=args.n_low, n_up=args.n_up, budget=args.budget,
                             alpha=args.alpha, cost=args.cost, weight=args.weight,
                             fallback=args.fallback, fallback_trigger=args.fallback_trigger,
                             mode=args.mode)


def _guard(args, params, prompts):
    """Refuse before allocating when the allocator's memory or work exceeds this machine's."""
    if args.allocator == "duet":
        guard.check("rows of RATES_FILE", memory=64.0 * prompts, allow=args.yes)
        return
    budget = prompts * params.n if params.budget is None else params.budget
    if params.mode == "reference":
        guard.check("--budget * prompts (the authors' dynamic program)",
                    memory=reference_memory(prompts, budget),
                    work=float(prompts) * budget * (params.n_up - params.n_low),
                    work_limit=MAX_WORK, allow=args.yes)
    else:
        guard.check("rows of RATES_FILE", memory=256.0 * prompts, allow=args.yes)


def run(argv):
    """Run ``python -m sim.knapsack allocate``; returns the exit status (errors raise)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    if args.allocator == "duet":
        _cli.refuse(given, "--allocator duet", *KNAPSACK_OPTIONS)
        if args.token_budget is None:
            raise ValueError("--allocator duet needs --token-budget B (tokens of the batch)")
    else:
        _cli.refuse(given, "--allocator knapsack", *DUET_OPTIONS)
    path = _cli.regular_file(args.rates, "RATES_FILE",
                             max_bytes=None if args.yes else _cli.MAX_INPUT_BYTES)
    if args.out:
        check_out(args.out)
    check_rows(path, "RATES_FILE", allow=args.yes)
    df = read_table(path)
    params = _params(args, max(len(df), 1))
    _guard(args, params, len(df))
    table = allocate_table(
        df, params, allocator=args.allocator, id_column=args.id_column, p_column=args.p_column,
        count_column=args.count_column if args.allocator == "knapsack" else None,
        min_count=args.min_count, length_column=args.length_column,
        token_budget=args.token_budget)
    summary = table.attrs["summary"]
    if args.out:
        _cli.write_table(table, args.out)
    if args.json:
        shown = dataclasses.asdict(params)
        if args.allocator == "duet":
            shown = {k: shown[k] for k in DUET_PARAMS}
        else:
            shown = {k: v for k, v in shown.items() if not k.startswith("adv_")}
        shown.update(rates=args.rates, allocator=args.allocator,
                     id_column=args.id_column, p_column=args.p_column)
        if args.allocator == "knapsack":
            shown.update(budget=summary["budget"], count_column=args.count_column,
                         min_count=args.min_count)
        else:
            shown.update(token_budget=args.token_budget, length_column=args.length_column)
        keys = ["n", "cap"] if args.allocator == "duet" else ["n"]
        alloc = [dict(id=i, **{k: int(v) for k, v in zip(keys, vals)})
                 for i, *vals in zip(table[args.id_column], *(table[k] for k in keys))]
        print(json.dumps(_cli.envelope(shown, allocation=alloc, out=args.out, **summary)))
        return 0
    _report(args, table, summary)
    return 0


def _report(args, table, s):
    lines = [f"budgetlab knapsack allocate  {args.rates}: {s['prompts']} prompts, "
             f"allocator {s['allocator']}"]
    if s["allocator"] == "knapsack":
        lines.append(f"  rollouts {s['rollouts']} of budget {s['budget']} (unspent "
                     f"{s['unspent']}), N in [{s['min_n']}, {s['max_n']}], "
                     f"fallback {'yes' if s['fallback'] else 'no'}")
        lines.append(f"  expected effective-gradient ratio at these rates (12): "
                     f"{s['egr_expected']:.4f} vs uniform {s['egr_uniform']:.4f} "
                     f"(x{s['egr_ratio']:.3f}); value (5) {s['value']:.5g} vs "
                     f"{s['value_uniform']:.5g}")
    else:
        lines.append(f"  tokens {s['tokens']:.6g} of budget {s['token_budget']:.6g}, "
                     f"{s['rollouts']} rollouts, n in [{s['min_n']}, {s['max_n']}], "
                     f"multiplier {s['multiplier']:.4g}")
        lines.append(f"  variance ratio against uniform at the same tokens (30): "
                     f"{s['variance_ratio']:.4f} (unclipped Neyman "
                     f"{s['variance_ratio_unclipped']:.4f})")
    lines.append(table.head(SHOWN).to_string(index=False))
    if len(table) > SHOWN:
        lines.append(f"... {len(table) - SHOWN} more rows"
                     + ("" if args.out else "; --out FILE writes them all"))
    if args.out:
        lines.append(f"allocation written to {args.out}")
    print("\n".join(lines))
