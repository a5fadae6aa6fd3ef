"""``python -m sim.search``: the rules at equal budget, the convergence bound, the advantage map.

Three modes:

* the default compares majority vote, greedy, a fixed-temperature softmax
  and BAVT's annealed rule at one budget (``--plot``: success and tokens
  against the tool budget over ``--budgets``);
* ``--bound`` prints the convergence bound's step budget beside the exact
  binomial minimum (docs/models/search.md (7)-(10));
* ``--map`` measures where the annealed rule beats majority vote over ``p``,
  critic noise and budget.

Every default comes from :class:`theory.search.SearchParams`,
:class:`theory.cost.Prices` and :mod:`sim.search.core`; a tour with real
output is in ``docs/models/search.md``, section "Command line".
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, replace

from sim import _cli
from sim.backends import resolve_backend
from sim.guard import check as guard_check
from sim.search.compare import MAP_NOISE, MAP_P, advantage_map, summarize
from sim.search.core import (
    DEFAULT_BUDGETS,
    DEFAULT_TRIALS,
    MAX_WORK,
    budget_curve,
    simulate,
    work,
)
from sim.search.plot import plot_map, plot_success, plot_tokens
from theory import search as th
from theory._params import check_int
from theory.cost import Prices
from theory.search import COMBINES, CRITICS, RATIOS, RULES, SearchParams

__all__ = ["PROG", "build_parser", "main"]

PROG = "python -m sim.search"
#: The guard's unit and limit (:data:`sim.search.core.MAX_WORK`).
_LIMIT = dict(unit="operations (ns)", work_limit=MAX_WORK)
#: Options of the environment and the rules, unused by ``--bound``.
ENV_OPTIONS = ("budget", "token_budget", "tool_rate", "step_tokens", "critic_tokens", "noise",
               "critic", "bias", "v0", "wrong_answers", "temperature", "combine", "ratio",
               "stop_at_answer", "rules", "price_output", "price_call", "budgets")
#: Axes of ``--map``, given as lists there.
MAP_OPTIONS = ("ps", "noises")
#: Columns of each rule in ``--json``.
JSON_COLUMNS = ("name", "success", "ci_low", "ci_high", "se", "theory", "tokens_mean",
                "tools_mean", "steps_mean", "cost_mean", "found")


def _list(kind, name):
    def parse(text):
        import argparse

        try:
            values = _cli.float_list(name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if kind is int:
            if any(not math.isfinite(v) or v != int(v) for v in values):
                raise argparse.ArgumentTypeError(f"{name} must be whole numbers, got {text!r}")
            return tuple(int(v) for v in values)
        return tuple(values)
    return parse


def _rules(text):
    import argparse

    names = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [n for n in names if n not in RULES]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"--rules must be a comma-separated list of "
                                         f"{', '.join(RULES)}, got {text!r}")
    return names


def build_parser():
    """The argument parser of ``python -m sim.search``."""
    d = SearchParams()
    pr = Prices()
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Budget-aware value tree search (Li et al., arXiv 2603.12634) against "
                    "parallel sampling with a vote, greedy search and a fixed-temperature "
                    "softmax at equal budget in a synthetic tree environment; the convergence "
                    "bound against the exact binomial tail. See docs/models/search.md.")
    mode = p.add_argument_group("modes (default: compare the rules at one budget)")
    mode.add_argument("--bound", action="store_true",
                      help="print the convergence bound's step budget (docs/models/search.md "
                           "(7)) beside the exact minimum (10) for --K, --eps, --p-min")
    mode.add_argument("--map", action="store_true",
                      help="measure where bavt beats majority over --ps x --noises x --budgets")
    env = p.add_argument_group("environment and budgets (docs/models/search.md (11)-(13))")
    env.add_argument("--K", type=_cli.integer, default=d.K,
                     help=f"progress steps on the hidden path (default {d.K})")
    env.add_argument("--p", "--p-min", dest="p", type=float, default=d.p,
                     help=f"probability that a step makes progress, the bound's p_min "
                          f"(default {d.p:g})")
    env.add_argument("--eps", type=float, default=d.eps,
                     help=f"failure probability of the bound (default {d.eps:g})")
    env.add_argument("--budget", type=_cli.integer, default=d.budget,
                     help=f"tool-call budget (default {d.budget})")
    env.add_argument("--token-budget", type=_cli.integer, default=d.token_budget,
                     help=f"token budget (default {th.TOKENS_PER_CALL} per tool call)")
    env.add_argument("--tool-rate", type=float, default=d.tool_rate,
                     help=f"probability that a step is a tool call (default {d.tool_rate:g})")
    env.add_argument("--step-tokens", type=_cli.integer, default=d.step_tokens,
                     help=f"tokens of one step (default {d.step_tokens})")
    env.add_argument("--critic-tokens", type=_cli.integer, default=d.critic_tokens,
                     help=f"tokens of one critic call (default {d.critic_tokens})")
    env.add_argument("--noise", type=float, default=d.noise,
                     help=f"standard deviation of the critic's noise (default {d.noise:g})")
    env.add_argument("--critic", choices=CRITICS, default=d.critic,
                     help=f"residual (6) or absolute (12) critic (default {d.critic})")
    env.add_argument("--bias", type=float, default=d.bias,
                     help=f"upward bias of the absolute critic (default {d.bias:g})")
    env.add_argument("--v0", type=float, default=d.v0, help=f"root value (default {d.v0:g})")
    env.add_argument("--wrong-answers", type=_cli.integer, default=d.wrong_answers,
                     help=f"distinct wrong answers (default {d.wrong_answers})")
    rules = p.add_argument_group("rules (docs/models/search.md (1)-(5), (18))")
    rules.add_argument("--rules", type=_rules, default=RULES,
                       help=f"rules to compare (default {','.join(RULES)})")
    rules.add_argument("--temperature", type=float, default=d.temperature,
                       help=f"temperature of the softmax rule (default {d.temperature:g})")
    rules.add_argument("--combine", choices=COMBINES, default=d.combine,
                       help=f"how the tool and token ratios make r (default {d.combine})")
    rules.add_argument("--ratio", choices=RATIOS, default=d.ratio,
                       help=f"token ratio from the counter or the Gamma remaining-length law "
                            f"(default {d.ratio})")
    rules.add_argument("--stop-at-answer", action="store_true", default=d.stop_at_answer,
                       help="tree rules stop at their first answer")
    out = p.add_argument_group("curves, map and cost")
    out.add_argument("--budgets", type=_list(int, "--budgets"), default=DEFAULT_BUDGETS,
                     help="tool budgets of --plot and --map (default "
                          f"{','.join(map(str, DEFAULT_BUDGETS))})")
    out.add_argument("--ps", type=_list(float, "--ps"), default=MAP_P,
                     help=f"values of p of --map (default {','.join(map(str, MAP_P))})")
    out.add_argument("--noises", type=_list(float, "--noises"), default=MAP_NOISE,
                     help=f"critic noises of --map (default {','.join(map(str, MAP_NOISE))})")
    out.add_argument("--price-output", type=float, default=pr.output,
                     help=f"USD per million output tokens of the unified cost (default "
                          f"{pr.output:g})")
    out.add_argument("--price-call", type=float, default=pr.call,
                     help=f"USD per tool call of the unified cost (default {pr.call:g})")
    _cli.add_common_arguments(p, trials=DEFAULT_TRIALS,
                              helps={"trials": f"runs per rule (default {DEFAULT_TRIALS}); with "
                                               "--bound, runs of the Monte Carlo check at the "
                                               "bound (only when given)"})
    _cli.add_guard_argument(p)
    return p


def _params(args):
    return SearchParams(K=args.K, p=args.p, budget=args.budget, token_budget=args.token_budget,
                        tool_rate=args.tool_rate, step_tokens=args.step_tokens,
                        critic_tokens=args.critic_tokens, noise=args.noise, critic=args.critic,
                        bias=args.bias, v0=args.v0, wrong_answers=args.wrong_answers,
                        temperature=args.temperature, combine=args.combine, ratio=args.ratio,
                        stop_at_answer=args.stop_at_answer, eps=args.eps)


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.search``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    if args.bound and args.map:
        raise ValueError("--bound and --map are two modes; give one")
    if not args.plot:
        _cli.refuse(given, "a run without --plot", "dpi")
    if args.critic != "absolute":
        _cli.refuse(given, "the residual critic (--critic absolute uses it)", "bias")
    if args.bound:
        _cli.refuse(given, "--bound", *ENV_OPTIONS, *MAP_OPTIONS, "plot")
        return _bound(args, given)
    if args.map:
        _cli.refuse(given, "--map (its axes are --ps, --noises, --budgets)", "p", "noise",
                    "budget", "rules")
        return _map(args)
    _cli.refuse(given, "a run without --map", *MAP_OPTIONS)
    if not args.plot:
        _cli.refuse(given, "a run without --plot or --map", "budgets")
    return _compare(args)


def _prices(args):
    return Prices(output=args.price_output, call=args.price_call)


def _setup(args):
    params = _params(args)
    trials = check_int("trials", args.trials, 2)
    seed = check_int("seed", args.seed, 0)
    backend = resolve_backend(args.backend)
    return params, trials, seed, backend


def _shown(params, trials, seed, backend, **more):
    return dict(asdict(params), token_budget=params.tokens, trials=trials, seed=seed,
                backend=backend, **more)


def _compare(args):
    params, trials, seed, backend = _setup(args)
    prices = _prices(args)
    budgets = tuple(check_int("budgets", b, 1) for b in args.budgets)
    total = sum(work(params, r, trials)[0] for r in args.rules)
    if args.plot:
        total += sum(work(replace(params, budget=b), r, trials)[0]
                     for b in budgets for r in args.rules)
        _cli.writable_output(args.plot, "--plot")
    memory = max(work(params, r, trials)[1] for r in args.rules)
    guard_check("--trials and the budgets", work=total, memory=memory, allow=args.yes,
                **_LIMIT)
    with _cli.progress_spinner(not args.json, "running the rules"):
        df = simulate(params, trials, seed, backend, args.rules, prices, allow=True)
        curve = (budget_curve(params, budgets, trials, seed, backend, args.rules, prices, True)
                 if args.plot else None)
    if curve is not None:
        fig, (ax1, ax2) = _cli.new_figure(10.0, 3.8, ncols=2)
        plot_success(curve, ax1)
        plot_tokens(curve, ax2)
        ax1.set_title("(a) success at equal budget", fontsize=10, loc="left")
        ax2.set_title("(b) tokens spent", fontsize=10, loc="left")
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    if args.json:
        shown = _shown(params, trials, seed, backend, rules=list(args.rules),
                       price_output=prices.output, price_call=prices.call)
        fields = dict(rules=[dict(zip(JSON_COLUMNS, r))
                             for r in df[list(JSON_COLUMNS)].itertuples(index=False)])
        if curve is not None:
            fields["curve"] = curve[["budget", "token_budget", *JSON_COLUMNS]].to_dict("records")
        print(json.dumps(_cli.envelope(shown, **fields)))
        return 0
    _report(params, df, trials, seed, backend, prices)
    return 0


def _report(params, df, trials, seed, backend, prices):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    P = params
    critic = (f"{P.critic} critic, noise {P.noise:g}" + (f", bias {P.bias:g}"
                                                         if P.critic == "absolute" else ""))
    console.print(f"budgetlab search  K={P.K} p={P.p:g} budget={P.budget} tool calls, "
                  f"{P.tokens} tokens  trials={trials} seed={seed} backend={backend}",
                  markup=False)
    console.print(f"  steps: {P.step_tokens} tokens (+{P.critic_tokens} for the critic), "
                  f"tool call with prob. {P.tool_rate:g}; {critic}; v0={P.v0:g}; "
                  f"{P.wrong_answers} wrong answers; r = {P.combine} of the ratios "
                  f"({P.ratio}); softmax T={P.temperature:g}", markup=False)
    table = Table(title="rules at equal budget (success = the run ends on the correct answer)",
                  title_justify="left")
    for col in ("rule", "success", "95% interval", "closed form", "z", "answered", "tokens",
                "calls", "steps", "USD"):
        table.add_column(col, justify="right")
    for r in df.itertuples():
        known = r.theory == r.theory
        table.add_row(r.name, f"{r.success:.4f}", f"[{r.ci_low:.3f},{r.ci_high:.3f}]",
                      f"{r.theory:.4f}" if known else "", f"{r.z:+.1f}" if known else "",
                      f"{r.found:.3f}", f"{r.tokens_mean:.0f}", f"{r.tools_mean:.2f}",
                      f"{r.steps_mean:.1f}", f"{r.cost_mean:.4f}")
    console.print(table)
    console.print(f"  closed forms: majority docs/models/search.md (17); greedy (14) with a "
                  f"noiseless critic. Cost: output tokens at ${prices.output:g}/M and "
                  f"${prices.call:g} per call (docs/costs.md (3)).", markup=False)


def _bound(args, given):
    K = check_int("K", args.K, 1)
    params = SearchParams(K=K, p=args.p, eps=args.eps)
    bM, eM = th.bound_M(params), th.exact_M(params)
    res = dict(bound_M=bM, exact_M=eM, bound_over_exact=bM / eM,
               chernoff_mu=th.chernoff_mu(params),
               tail_at_bound=th.reach_prob(bM, K, params.p),
               tail_at_exact=th.reach_prob(eM, K, params.p),
               tail_below_exact=th.reach_prob(eM - 1, K, params.p),
               chernoff_at_bound=1.0 - th.chernoff_tail(bM, K, params.p))
    shown = dict(K=K, eps=params.eps, p_min=params.p)
    if "trials" in given:
        trials = check_int("trials", args.trials, 2)
        seed = check_int("seed", args.seed, 0)
        backend = resolve_backend(args.backend)
        at = SearchParams(K=K, p=params.p, budget=bM, token_budget=bM * 200, tool_rate=1.0,
                          noise=0.0, eps=params.eps)
        guard_check("--trials at the bound", work=work(at, "greedy", trials)[0], allow=args.yes,
                    **_LIMIT)
        df = simulate(at, trials, seed, backend, ("greedy",), allow=True)
        row = df.iloc[0]
        res.update(mc_at_bound=row.success, mc_se=row.se, mc_ci_low=row.ci_low)
        shown.update(trials=trials, seed=seed, backend=backend)
    if args.json:
        print(json.dumps(_cli.envelope(shown, **res)))
        return 0
    print(f"budgetlab search --bound  K={K} eps={params.eps:g} p_min={params.p:g}")
    print(f"  bound M  = {bM:>6d}   (docs/models/search.md (7), rounded up; "
          f"Pr[Bin(M, p) >= K] = {res['tail_at_bound']:.6f})")
    print(f"  exact M  = {eM:>6d}   (smallest M with Pr[Bin(M, p) >= K] >= 1 - eps (10): "
          f"{res['tail_at_exact']:.6f}; at M - 1: {res['tail_below_exact']:.6f})")
    print(f"  bound / exact = {bM / eM:.2f};  Chernoff mean mu* = {res['chernoff_mu']:.3f} (9), "
          f"mu* / p = {res['chernoff_mu'] / params.p:.2f}")
    if "mc_at_bound" in res:
        print(f"  Monte Carlo at the bound (greedy, noiseless critic, {trials} runs): "
              f"{res['mc_at_bound']:.4f} +- {res['mc_se']:.4f}  (>= 1 - eps = "
              f"{1 - params.eps:g})")
    return 0


def _map(args):
    params, trials, seed, backend = _setup(args)
    budgets = tuple(check_int("budgets", b, 1) for b in args.budgets)
    if args.plot:
        _cli.writable_output(args.plot, "--plot")
    total = sum(work(replace(params, budget=b, p=p), r, trials)[0]
                for b in budgets for p in args.ps for r in ("bavt", "majority")) * len(args.noises)
    guard_check("--trials and the map's grid", work=total, allow=args.yes, **_LIMIT)
    n = len(args.ps) * len(args.noises) * len(budgets)
    with _cli.progress_bar(not args.json, "map", n, unit="points") as advance:
        df = advantage_map(params, args.ps, args.noises, budgets, trials, seed, backend,
                           allow=True, progress=advance)
    if args.plot:
        fig, axes = _cli.new_figure(3.6 * len(args.ps), 3.4, ncols=len(args.ps), squeeze=False)
        for ax, p in zip(axes[0], args.ps):
            plot_map(df, ax, p=p)
        _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)
    counts = summarize(df)
    if args.json:
        shown = _shown(params, trials, seed, backend, ps=list(args.ps),
                       noises=list(args.noises), budgets=list(budgets))
        print(json.dumps(_cli.envelope(shown, points=df.to_dict("records"), verdicts=counts)))
        return 0
    print(f"budgetlab search --map  bavt against majority at equal budget; K={params.K}, "
          f"{params.critic} critic, {params.wrong_answers} wrong answers, trials={trials} "
          f"seed={seed} backend={backend}")
    print("  diff = success(bavt) - success(majority); verdict at 3 standard errors")
    for p in args.ps:
        g = df[df["p"] == p]
        print(f"  p = {p:g} (a chain is right with p**K = {p ** params.K:.3f})")
        print("    noise \\ budget " + "".join(f"{b:>16d}" for b in budgets))
        for noise in args.noises:
            cells = g[g["noise"] == noise].sort_values("budget")
            print(f"    {noise:>15g} " + "".join(
                f"{r.diff:+8.3f} {r.verdict[:7]:>7s}" for r in cells.itertuples()))
    print(f"  verdicts: bavt {counts['bavt']}, majority {counts['majority']}, "
          f"tie {counts['tie']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
