"""``python -m sim.gamma``: budget guidance on toy language models, exact against simulated.

Compares every decoding rule on a toy language model (docs/models/gamma.md,
"Toy language models"), or with ``--fit FILE`` fits a Gamma law to observed
remaining lengths (any ``--length-column``, one fit per group of ``--by``)
with profile-likelihood intervals and measures its calibration. ``--out
FILE`` writes the result table (CSV or Parquet) in both modes. Defaults come
from :class:`theory.gamma.GammaParams`; see docs/models/gamma.md, "Command
line".
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim._tables import output_table
from sim.backends import resolve_backend
from sim.gamma.core import TRIALS, methods_for, simulate
from sim.gamma.fit import fit_report, fit_table, load_lengths, report_row
from sim.gamma.plot import comparison_shape, plot_comparison, plot_fit
from sim.gamma.predictor import predictor_pit
from sim.gamma.size import run_cost
from theory._params import check_int, check_real
from theory.gamma import LIKELIHOODS, TOYS, GammaParams

PROG = "python -m sim.gamma"
_D = GammaParams()

#: Options of each toy; the other toy's are refused.
_TOY_OPTIONS = {"geometric": ("h",),
                "paragraph": ("p_wait", "p_end", "plan", "plan_max", "wait_adds", "newline",
                              "max_paragraph")}
#: Options of the toy comparison, refused with --fit.
_COMPARISON_OPTIONS = ("budget", "toy", *_TOY_OPTIONS["geometric"], *_TOY_OPTIONS["paragraph"],
                       "strength", "distortion", "likelihood", "stop_cv", "rate_min",
                       "alpha_min", "mode_min", "untrained", "max_tokens", "backend", "trials")
#: Options of --fit, refused without it.
_FIT_OPTIONS = ("alpha", "rate", "length_column", "by", "level")
MAX_DPI = _cli.MAX_DPI
#: Default coverage of the fit's intervals: the library's.
LEVEL = inspect.signature(fit_report).parameters["level"].default


def _tokens(text):
    """``--untrained``: a comma-separated list of token names."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def build_parser():
    """The argument parser; every default is :class:`theory.gamma.GammaParams`'s."""
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Budget guidance on toy language models with exact length laws: unguided "
                    "decoding, hard truncation, and guidance by the exact oracle or a fitted "
                    "Gamma predictor over log(L+1), each by dynamic programming and Monte Carlo "
                    "(docs/models/gamma.md). --fit FILE fits a Gamma law to observed lengths.")
    p.add_argument("--budget", type=_cli.integer, default=_D.budget,
                   help=f"thinking budget lbar in tokens, >= 1 (default {_D.budget})")
    p.add_argument("--toy", "--model", dest="toy", choices=TOYS, default=_D.toy,
                   help=f"toy language model: geometric | paragraph (default {_D.toy})")
    g = p.add_argument_group("toy language models (docs/models/gamma.md, \"Toy language models\")")
    g.add_argument("--h", type=float, default=_D.h,
                   help=f"geometric: stop probability per token, in (0, 1] (default {_D.h:g})")
    g.add_argument("--p-wait", type=float, default=_D.p_wait,
                   help=f"paragraph: P(Wait) at a paragraph start, in [0, 1) "
                        f"(default {_D.p_wait:g})")
    g.add_argument("--p-end", type=float, default=_D.p_end,
                   help=f"paragraph: P(</think>) with paragraphs still planned "
                        f"(default {_D.p_end:g})")
    g.add_argument("--plan", type=_cli.integer, default=_D.plan,
                   help=f"paragraph: paragraphs planned at the start (default {_D.plan})")
    g.add_argument("--plan-max", type=_cli.integer, default=_D.plan_max,
                   help=f"paragraph: most paragraphs ever planned (default {_D.plan_max})")
    g.add_argument("--wait-adds", type=_cli.integer, default=_D.wait_adds,
                   help=f"paragraph: paragraphs a Wait adds (default {_D.wait_adds})")
    g.add_argument("--newline", type=float, default=_D.newline,
                   help=f"paragraph: newline probability per word (default {_D.newline:g})")
    g.add_argument("--max-paragraph", type=_cli.integer, default=_D.max_paragraph,
                   help=f"paragraph: longest paragraph in tokens (default {_D.max_paragraph})")
    gd = p.add_argument_group("guidance (docs/models/gamma.md (11)-(13))")
    gd.add_argument("--strength", type=float, default=_D.strength,
                    help=f"exponent gamma >= 0 on the guidance weights (default {_D.strength:g})")
    gd.add_argument("--distortion", type=float, default=_D.distortion,
                    help="Gamma predictor misspecification: rates times exp(-x), x in [-5, 5] "
                         f"(default {_D.distortion:g})")
    gd.add_argument("--likelihood", choices=LIKELIHOODS, default=_D.likelihood,
                    help=f"Gamma predictor fit: continuous | discrete (default {_D.likelihood})")
    gd.add_argument("--stop-cv", type=float, default=_D.stop_cv,
                    help="coefficient of variation of the end token's Gamma, in (0, 1) "
                         f"(default {_D.stop_cv:g})")
    gd.add_argument("--rate-min", type=float, default=_D.rate_min,
                    help=f"faithful validity mask: smallest rate kept (default {_D.rate_min:g}, "
                         "the authors')")
    gd.add_argument("--alpha-min", type=float, default=_D.alpha_min,
                    help=f"faithful validity mask: shape must exceed this (default "
                         f"{_D.alpha_min:g})")
    gd.add_argument("--mode-min", type=float, default=_D.mode_min,
                    help=f"faithful validity mask: smallest decoded mode (default "
                         f"{_D.mode_min:g})")
    gd.add_argument("--untrained", type=_tokens, default=_D.untrained, metavar="TOKENS",
                    help="comma-separated tokens given the untrained head values "
                         "alpha = rate = log 2 (docs/models/gamma.md (8))")
    gd.add_argument("--max-tokens", type=_cli.integer, default=_D.max_tokens,
                    help="generation cap, >= budget; runs without </think> by then are "
                         "runaways (default 20*budget+1000)")
    gf = p.add_argument_group("fitting observed lengths")
    gf.add_argument("--fit", metavar="FILE",
                    help="fit a Gamma law to remaining lengths (CSV or Parquet) with "
                         "profile-likelihood intervals and report its calibration instead of "
                         "the toy comparison")
    gf.add_argument("--length-column", default="length",
                    help="with --fit: the column of lengths, integers >= 1 (default length)")
    gf.add_argument("--by", metavar="COLUMN",
                    help="with --fit: one fit per value of COLUMN (e.g. the model), one table")
    gf.add_argument("--level", type=float, default=LEVEL,
                    help=f"with --fit: coverage of the intervals on alpha and rate, in (0, 1) "
                         f"(default {LEVEL:g})")
    gf.add_argument("--alpha", type=float, default=None,
                    help="with --fit: evaluate this shape (> 0) instead of fitting (needs --rate)")
    gf.add_argument("--rate", type=float, default=None,
                    help="with --fit: evaluate this rate (> 0) instead of fitting (needs --alpha)")
    _cli.add_common_arguments(p, trials=TRIALS)
    p.add_argument("--out", metavar="FILE",
                   help="write the result table to a .csv or .parquet file: one row per "
                        "decoding rule, or with --fit one row per fit (group)")
    _cli.add_guard_argument(p)
    return p


def params_from_args(args):
    """The :class:`theory.gamma.GammaParams` of parsed arguments (one-line error if invalid)."""
    return GammaParams(toy=args.toy, budget=args.budget, h=args.h, p_wait=args.p_wait,
                       p_end=args.p_end, plan=args.plan, plan_max=args.plan_max,
                       wait_adds=args.wait_adds, newline=args.newline,
                       max_paragraph=args.max_paragraph, strength=args.strength,
                       distortion=args.distortion, likelihood=args.likelihood,
                       stop_cv=args.stop_cv, rate_min=args.rate_min, alpha_min=args.alpha_min,
                       mode_min=args.mode_min, untrained=args.untrained,
                       max_tokens=args.max_tokens)


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.gamma``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    check_int("seed", args.seed, 0)
    if args.out:
        output_table(args.out)
    if args.plot:
        check_real("dpi", args.dpi, 0.0, MAX_DPI, lo_open=True)
        _cli.writable_output(args.plot, "--plot")
    if args.fit:
        _cli.refuse(given, "--fit", *_COMPARISON_OPTIONS)
        if args.by:
            _cli.refuse(given, "--by (one table of fits)", "plot", "dpi")
        return _fit_main(args)
    _cli.refuse(given, "the toy comparison (they need --fit FILE)", *_FIT_OPTIONS)
    other = "paragraph" if args.toy == "geometric" else "geometric"
    _cli.refuse(given, f"--toy {args.toy}", *_TOY_OPTIONS[other])
    params = params_from_args(args)
    check_int("trials", args.trials, 2)
    for est in run_cost(params, args.trials):  # before the toy is built
        _guard.check(est.pop("param"), allow=args.yes, **est)
    backend = resolve_backend(args.backend)
    n_rules = len(methods_for(params))
    with _cli.progress_bar(not args.json, "decoding rules", n_rules) as advance:
        df = simulate(params, args.trials, args.seed, backend, progress=advance, allow=args.yes)
    if args.plot:
        pit = predictor_pit(df.attrs["toy"], df.attrs["predictor"], seed=args.seed)
        rows, cols = comparison_shape(df)
        fig, axes = _cli.new_figure(3.2 * cols, 2.7 * rows + 0.3, rows, cols, squeeze=False)
        plot_comparison(df, axes, pit)
        fig.suptitle(f"budget guidance on the {params.toy} toy, budget {params.budget}: "
                     f"simulated lengths against the exact laws", fontsize=10)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    if args.out:
        _cli.write_table(df, args.out)
    if args.json:
        print(json.dumps(_cli.envelope(params, trials=args.trials, seed=args.seed,
                                       backend=backend, methods=_methods_json(df))))
        return 0
    _report(params, df, args, backend)
    return 0


def _methods_json(df):
    return [dict(name=r.name, adherence_exact=r.adherence_exact, adherence_sim=r.adherence_sim,
                 adherence_se=r.adherence_se_sim, mean_length=r.mean_length_sim,
                 mean_length_exact=r.mean_length_exact, overshoot_p90=r.overshoot_p90_sim,
                 overshoot_p90_exact=r.overshoot_p90_exact, overshoot_p99=r.overshoot_p99_sim,
                 runaway_exact=r.runaway_exact, tv=r.tv_exact, kl=r.kl_exact,
                 guided_steps=r.guided_steps_sim, fallbacks=r.fallbacks_sim,
                 fallbacks_exact=r.fallbacks_exact, masked_mass=r.masked_mass)
            for r in df.itertuples()]


def _fit_main(args):
    level = check_real("level", args.level, 0.0, 1.0, lo_open=True, hi_open=True)
    max_bytes = None if args.yes else _cli.MAX_INPUT_BYTES
    if args.by:
        return _fit_groups(args, level, max_bytes)
    lengths = load_lengths(args.fit, args.length_column, max_bytes=max_bytes)
    if args.alpha is None and np.unique(lengths).size < 2:
        raise ValueError(f"{args.length_column} needs at least two distinct values to fit a "
                         "Gamma")
    rep = fit_report(lengths, seed=args.seed, alpha=args.alpha, rate=args.rate, level=level)
    fig = None
    if args.plot:
        fig, axes = _cli.new_figure(8.0, 3.2, 1, 2)
        plot_fit(lengths, rep, axes)
    if args.out:
        _cli.write_table(pd.DataFrame([report_row(rep)]), args.out)
    if fig is not None:
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    ks = rep["pit_ks"]
    cov = rep["coverage"]
    rel = rep["reliability"].summary
    if args.json:
        params = dict(fit=args.fit, alpha=args.alpha, rate=args.rate, seed=args.seed,
                      length_column=args.length_column, level=level)
        print(json.dumps(_cli.envelope(
            params, alpha=rep["alpha"], rate=rep["rate"], alpha_low=rep["alpha_low"],
            alpha_high=rep["alpha_high"], rate_low=rep["rate_low"], rate_high=rep["rate_high"],
            nll=rep["nll"], n=rep["n"],
            fitted=rep["fitted"], nll_discrete=rep["nll_discrete"], median=rep["median"],
            mode=rep["mode"], mean=rep["mean"],
            pit=dict(ks_statistic=ks.ks_statistic, p_value=ks.p_value, counts=ks.counts),
            coverage=cov.to_dict(orient="records"), reliability=rel.to_dict(orient="records"),
            file=args.fit)))
        return 0
    print(f"budgetlab gamma fit  {args.fit}: n={rep['n']} lengths, "
          f"min {lengths.min()}, median {int(np.median(lengths))}, max {lengths.max()}")
    how = "fitted by maximum likelihood" if rep["fitted"] else "given (not fitted)"
    print(f"  Gamma over log(L+1), {how}: alpha={rep['alpha']:.6g}  rate={rep['rate']:.6g}")
    if rep["fitted"]:
        print(f"  {100 * level:g}% profile-likelihood intervals (28): alpha in "
              f"[{rep['alpha_low']:.6g}, {rep['alpha_high']:.6g}], rate in "
              f"[{rep['rate_low']:.6g}, {rep['rate_high']:.6g}]")
    print(f"  mean NLL per length: continuous {rep['nll']:.4f} (density of log(L+1)), "
          f"discrete {rep['nll_discrete']:.4f} (Pr(L = l))")
    mean = "inf (rate <= 1)" if not np.isfinite(rep["mean"]) else f"{rep['mean']:.1f}"
    print(f"  length law: median {rep['median']:.1f}, mode {rep['mode']:.1f}, mean {mean}")
    print(f"  randomised PIT: KS {ks.ks_statistic:.4f} (p = {ks.p_value:.3g}); decile counts "
          f"{' '.join(str(int(c)) for c in ks.counts)} (expected {ks.expected:.0f} each)")
    for r in cov.itertuples():
        print(f"  central {100 * r.level:.0f}% interval covers {100 * r.coverage:.1f}% "
              f"(Wilson 95% [{100 * r.wilson_lo:.1f}, {100 * r.wilson_hi:.1f}]); randomised "
              f"{100 * r.coverage_randomized:.1f}% (z = {r.z:+.2f})")
    for r in rel.itertuples():
        print(f"  P(L <= {int(r.budget)}): predicted {r.mean_predicted:.3f}, observed "
              f"{r.observed:.3f}; ECE {r.ece:.4f}, Brier {r.brier:.4f}")
    return 0


def _fit_groups(args, level, max_bytes):
    """``--fit FILE --by COLUMN``: one fit per group, one table."""
    groups = load_lengths(args.fit, args.length_column, args.by, max_bytes=max_bytes)
    with _cli.progress_bar(not args.json, "fitting", len(groups)) as advance:
        table, _ = fit_table(groups, args.by, seed=args.seed, alpha=args.alpha, rate=args.rate,
                             level=level, progress=advance)
    if args.out:
        _cli.write_table(table, args.out)
    if args.json:
        params = dict(fit=args.fit, alpha=args.alpha, rate=args.rate, seed=args.seed,
                      length_column=args.length_column, by=args.by, level=level)
        print(json.dumps(_cli.envelope(params, fits=table.to_dict(orient="records"),
                                       file=args.fit, out=args.out)))
        return 0
    how = "fitted" if args.alpha is None else "given"
    print(f"budgetlab gamma fit  {args.fit}: {len(groups)} values of {args.by}, Gamma over "
          f"log(L+1) {how} per group; {100 * level:g}% profile-likelihood intervals (28)")
    cols = [args.by, "n", "alpha", "alpha_low", "alpha_high", "rate", "rate_low", "rate_high",
            "median", "pit_ks", "pit_p_value", "coverage_90"]
    print(table[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if args.out:
        print(f"table written to {args.out}")
    return 0


def _report(params, df, args, backend):
    from rich.console import Console
    from rich.table import Table as RTable

    model = df.attrs["toy"]
    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 150))
    pars = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in model.params.items())
    base = df.attrs["base"]
    k = np.arange(1, base.size + 1)
    console.print(f"budgetlab gamma  toy={model.name} ({pars})  budget={params.budget} "
                  f"trials={args.trials} seed={args.seed} backend={backend}", markup=False)
    console.print(f"  unguided thinking length: mean {(k * base).sum() / base.sum():.1f}, "
                  f"P(T <= budget) = {base[:params.budget].sum():.4f}; Gamma predictor fitted "
                  f"by {params.likelihood} MLE per (state, candidate)"
                  + (f", distortion {params.distortion:g}" if params.distortion else "")
                  + (f", untrained {list(params.untrained)}" if params.untrained else ""),
                  markup=False)
    t = RTable(title="decoding rules: exact (dynamic programming) vs simulated",
               title_justify="left")
    t.add_column("method", no_wrap=True)
    for col in ("P(T<=b) exact", "P(T<=b) sim", "E[T] exact", "E[T] sim", "over p90",
                "over max", "TV", "guided", "fallbacks", "masked"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in df.itertuples():
        t.add_row(r.name, f"{r.adherence_exact:.4f}",
                  f"{r.adherence_sim:.4f}±{r.adherence_se_sim:.4f}",
                  f"{r.mean_length_exact:.1f}", f"{r.mean_length_sim:.1f}",
                  f"{r.overshoot_p90_sim}", f"{r.overshoot_max_sim}", f"{r.tv_exact:.3f}",
                  f"{r.guided_steps_sim:.1f}", f"{r.fallbacks_sim:.2f}", f"{r.masked_mass:.3f}")
    console.print(t)
    console.print("  TV: total variation from the base law conditioned on T <= budget (0 for "
                  "exact every-token guidance); over: overshoot T - budget of simulated runs; "
                  "guided, fallbacks: per run; masked: base mass removed by the faithful "
                  "validity mask per guided step.", markup=False)


if __name__ == "__main__":
    raise SystemExit(main())
