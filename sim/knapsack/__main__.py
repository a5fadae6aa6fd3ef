"""``python -m sim.knapsack``: allocate one batch's rollouts, roll them out, and train a toy.

Every default comes from :class:`theory.knapsack.KnapsackSimParams`,
:data:`sim.knapsack.core.DEFAULT_TRIALS` and the defaults of
:func:`sim.knapsack.training.simulate_training`; a tour with real output is in
``docs/models/knapsack.md``, section "Command line".
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import sys

from sim import _cli
from sim import guard as _guard
from sim.backends import resolve_backend
from sim.knapsack.allocation import TRAIN_ALLOCATORS
from sim.knapsack.core import DEFAULT_TRIALS, allocation_table, cost, simulate_batch
from sim.knapsack.plot import plot_allocation, plot_training
from sim.knapsack.rates import check_rows, load_rates
from sim.knapsack.training import simulate_training
from theory._params import check_int, check_real
from theory.knapsack import KnapsackSimParams

__all__ = ["PROG", "build_parser", "main"]

PROG = "python -m sim.knapsack"
#: Options that only the toy training run (``--train``) uses.
TRAINING_OPTIONS = ("epochs", "dataset", "lr", "transfer")
#: Options of the rate population, replaced by a ``--rates`` file.
POPULATION_OPTIONS = ("prompts", "mixture", "beta_a")
MAX_DPI = _cli.MAX_DPI
#: Columns of each allocator in ``--json``.
JSON_COLUMNS = ("name", "egr_expected", "egr_sim", "egr_se", "prompt_ratio", "prompt_ratio_sim",
                "max_budget", "min_budget", "value", "fallback")


def _mixture(text):
    """``W1,W2,W3`` as a tuple of floats (argparse prints the one-line reason on failure)."""
    try:
        return tuple(_cli.float_list("--mixture", text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_batch_arguments(parser):
    """The scenario of one batch: ``KnapsackSimParams`` fields and the rates file."""
    d = KnapsackSimParams()
    g = parser.add_argument_group("one batch (docs/models/knapsack.md (5), (17), (18))")
    g.add_argument("--prompts", type=_cli.integer, default=d.prompts,
                   help=f"prompts per batch M (default {d.prompts})")
    g.add_argument("--n", type=_cli.integer, default=d.n,
                   help=f"homogeneous rollouts per prompt N-bar (default {d.n})")
    g.add_argument("--budget", type=_cli.integer, default=d.budget,
                   help="rollouts per batch (default M * n)")
    g.add_argument("--n-low", type=_cli.integer, default=d.n_low,
                   help=f"minimum rollouts per prompt (default {d.n_low})")
    g.add_argument("--n-up", type=_cli.integer, default=d.n_up,
                   help=f"maximum rollouts per prompt (default {d.n_up})")
    g.add_argument("--mixture", type=_mixture, default=d.mixture, metavar="W1,W2,W3",
                   help="weights of the near-solved U[0.97,1], near-unsolved U[0,0.02] and "
                        f"Beta(a,a) rates (default {','.join(f'{w:g}' for w in d.mixture)})")
    g.add_argument("--beta-a", type=float, default=d.beta_a,
                   help=f"shape a of the Beta component (default {d.beta_a:g})")
    g.add_argument("--rates", metavar="FILE",
                   help="CSV or Parquet file with a column 'p' of true per-prompt success "
                        "rates, in place of the population")
    g.add_argument("--stale-sd", type=float, default=d.stale_sd,
                   help=f"logit drift since the previous visit (default {d.stale_sd:g})")
    g.add_argument("--estimate-samples", type=_cli.integer, default=d.estimate_samples,
                   help=f"rollouts behind each estimate (default {d.estimate_samples})")
    g.add_argument("--show-allocation", action="store_true",
                   help="also print each allocator's rollouts per prompt")
    return parser


def _add_training_arguments(parser):
    """The toy training run (``--train``), defaults from :func:`simulate_training`."""
    d = {k: v.default for k, v in inspect.signature(simulate_training).parameters.items()}
    t = parser.add_argument_group("toy training (docs/models/knapsack.md (19))")
    t.add_argument("--train", action="store_true", help="also run the toy training comparison")
    t.add_argument("--epochs", type=_cli.integer, default=d["epochs"],
                   help=f"epochs (default {d['epochs']})")
    t.add_argument("--dataset", type=_cli.integer, default=d["dataset"],
                   help=f"prompts in the data set (default {d['dataset']})")
    t.add_argument("--lr", type=float, default=d["lr"],
                   help=f"logit step size eta (default {d['lr']:g})")
    t.add_argument("--transfer", type=float, default=d["transfer"],
                   help=f"shared-skill transfer kappa (default {d['transfer']:g})")
    return parser


def build_parser():
    """The argument parser of ``python -m sim.knapsack``."""
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Allocating GRPO rollouts across prompts as a knapsack (Li et al., "
                    "arXiv 2509.25849): expected and simulated effective-gradient ratios per "
                    "allocator, and a toy training model. See docs/models/knapsack.md.",
        epilog="Subcommands: 'allocate RATES_FILE --budget N --out OUT.csv' allocates on your "
               "own rates (no simulation); 'duet' compares uniform, knapsack and DUET at equal "
               "token budget. See their --help.")
    _add_batch_arguments(p)
    _add_training_arguments(p)
    _cli.add_common_arguments(p, trials=DEFAULT_TRIALS)
    p.add_argument("--out", metavar="FILE",
                   help="write the allocators' table (one row per allocator) to a CSV or "
                        "Parquet file")
    _cli.add_guard_argument(p)
    return p


def _scenario(args, rates):
    prompts = rates.size if rates is not None else args.prompts
    return KnapsackSimParams(prompts=prompts, n=args.n, budget=args.budget, n_low=args.n_low,
                             n_up=args.n_up, mixture=args.mixture, beta_a=args.beta_a,
                             stale_sd=args.stale_sd, estimate_samples=args.estimate_samples)


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.knapsack`` (or its subcommand ``allocate``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "allocate":
        from sim.knapsack import cli_allocate

        return cli_allocate.run(argv[1:])
    if argv and argv[0] == "duet":
        from sim.knapsack import cli_duet

        return cli_duet.run(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    if not args.train:
        _cli.refuse(given, "a run without --train", *TRAINING_OPTIONS)
    if args.rates:
        _cli.refuse(given, "--rates (the file gives the prompts and their rates)",
                    *POPULATION_OPTIONS)
    if not args.plot:
        _cli.refuse(given, "a run without --plot", "dpi")
    return _run_batch(args)


def _run_batch(args):
    if args.out:
        from sim.knapsack.cli_allocate import check_out

        check_out(args.out)
    if args.plot:
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    if args.rates:
        _cli.regular_file(args.rates, "--rates", None if args.yes else _cli.MAX_INPUT_BYTES)
        check_rows(args.rates, "--rates", allow=args.yes)
    rates = load_rates(args.rates) if args.rates else None
    params = _scenario(args, rates)
    trials = check_int("trials", args.trials, 2)
    seed = check_int("seed", args.seed, 0)
    train = None
    if args.train:
        epochs = check_int("epochs", args.epochs, 1)
        check_int("dataset", args.dataset, params.prompts)
        check_real("lr", args.lr, 0.0, 1e12)
        check_real("transfer", args.transfer, 0.0, 1e12)
    est = cost(params, trials, *((epochs, args.dataset) if args.train else ()))
    _guard.check(est.pop("param"), allow=args.yes, **est)
    backend = resolve_backend(args.backend)
    with _cli.progress_spinner(not args.json, "allocating and rolling out"):
        df, allocation, p, p_hat = simulate_batch(params, rates, trials, seed, backend,
                                                  allow=True)  # guarded above
    if args.train:
        with _cli.progress_bar(not args.json, "training", epochs * len(TRAIN_ALLOCATORS)) \
                as advance:
            train = simulate_training(params, epochs, args.dataset, args.lr, args.transfer, seed,
                                      progress=advance, allow=True)
    if args.plot:
        _figure(args, allocation_table(allocation, p, p_hat), train)
    if args.out:
        _cli.write_table(df, args.out)
    if args.json:
        shown = dict(dataclasses.asdict(params), budget=params.total, trials=trials, seed=seed,
                     backend=backend, rates=args.rates)
        if args.rates:  # the file gives the prompts; the population does not apply
            for k in ("mixture", "beta_a"):
                shown.pop(k)
        fields = dict(allocators=[dict(zip(JSON_COLUMNS, r))
                                  for r in df[list(JSON_COLUMNS)].itertuples(index=False)],
                      skipped=_skipped(df, train))
        if args.show_allocation:
            fields["allocation"] = dict(allocation)
        if train is not None:
            shown.update(epochs=epochs, dataset=args.dataset, lr=args.lr, transfer=args.transfer)
            fields["training"] = train.drop(columns=["version"]).to_dict(orient="records")
        print(json.dumps(_cli.envelope(shown, **fields)))
        return 0
    _report(params, df, allocation, train, args, trials, seed, backend)
    return 0


def _skipped(df, train):
    """Allocators left out (the authors' port failing its own budget assertion) and why."""
    out = dict(df.attrs.get("skipped", {}))
    if train is not None:
        out.update({f"{k} (training)": v for k, v in train.attrs.get("skipped", {}).items()})
    return out


def _figure(args, table, train):
    """Budget per prompt; with ``--train`` also the realised EGR over epochs."""
    if train is None:
        fig, ax = _cli.new_figure(5.0, 3.6)
        plot_allocation(table, ax)
    else:
        fig, (ax1, ax2) = _cli.new_figure(10.0, 3.6, ncols=2)
        plot_allocation(table, ax1)
        plot_training(train, ax2, "egr")
        ax1.set_title("(a) rollouts per prompt, one batch", fontsize=10, loc="left")
        ax2.set_title("(b) toy training at equal budget", fontsize=10, loc="left")
    _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)


def _population(params):
    a = f"{params.beta_a:g}"
    w = [100 * x / sum(params.mixture) for x in params.mixture]
    return (f"rates: {w[0]:.0f}% U[0.97,1], {w[1]:.0f}% U[0,0.02], {w[2]:.0f}% "
            f"Beta({a},{a})")


def _report(params, df, allocation, train, args, trials, seed, backend):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    src = f"rates from {args.rates}" if args.rates else _population(params)
    console.print(f"budgetlab knapsack  prompts={params.prompts} budget={params.total} "
                  f"(N-bar={params.n}, N in [{params.n_low}, {params.n_up}]) "
                  f"trials={trials} seed={seed} backend={backend}", markup=False)
    console.print(f"  {src}; estimates from {params.estimate_samples} rollouts of the previous "
                  f"visit, logit drift {params.stale_sd:g}", markup=False)
    table = Table(title="allocators (EGR = rollouts in mixed groups / all rollouts)",
                  title_justify="left")
    for col in ("allocator", "EGR expected", "EGR simulated", "prompt ratio", "max N", "min N",
                "value", "fallback"):
        table.add_column(col, justify="right")
    for r in df.itertuples():
        table.add_row(r.name, f"{r.egr_expected:.4f}", f"{r.egr_sim:.4f} ± {r.egr_se:.4f}",
                      f"{r.prompt_ratio:.4f}", str(r.max_budget), str(r.min_budget),
                      f"{r.value:.3f}", "yes" if r.fallback else "no")
    console.print(table)
    for name, why in _skipped(df, train).items():
        console.print(f"{name}: left out; {why}", markup=False)
    if args.show_allocation:
        for name, N in allocation.items():
            console.print(f"{name}: {' '.join(map(str, N.tolist()))}", markup=False)
    if train is not None:
        t = Table(title=f"toy training, {args.epochs} epochs of {args.dataset} prompts "
                        "(last epoch; EGR averaged over epochs >= 2)", title_justify="left")
        for col in ("allocator", "mean EGR", "final mean p", "stuck p<0.01", "max N",
                    "rollouts/epoch"):
            t.add_column(col, justify="right")
        for name, g in train.groupby("allocator", sort=False):
            last = g.iloc[-1]
            later = g[g.epoch >= 2] if len(g) > 1 else g
            t.add_row(name, f"{later.egr.mean():.4f}", f"{last.mean_p:.4f}", f"{last.stuck:.4f}",
                      str(int(g.max_budget.max())), str(int(last.rollouts)))
        console.print(t)


if __name__ == "__main__":
    sys.exit(main())
