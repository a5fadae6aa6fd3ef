"""``python -m sim.workflow``: every policy's chance to finish a workflow on time and within budget.

One workflow and one (budget, deadline): the completion probability of each
policy with its 95% interval, the cost and time used, and the exact value
where the theory has one. ``--grid`` repeats it over budgets x deadlines and
draws the success surfaces. Every default comes from
:class:`theory.workflow.WorkflowParams` and :data:`sim.workflow.core.DEFAULT_TRIALS`;
a tour with real output is in ``docs/models/workflow.md``, section "Command line".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys

import numpy as np

from sim import _cli
from sim import guard as _guard
from sim.backends import resolve_backend
from sim.workflow.core import DEFAULT_TRIALS, cost, evaluate, grid
from sim.workflow.graph import load_records, load_workflow, synthetic
from sim.workflow.plot import plot_advantage, plot_policies, plot_surface
from theory._params import check_int
from theory.workflow import LAWS, SHAPES, WorkflowParams, check_k_values

__all__ = ["PROG", "build_parser", "main", "parse_axis"]

PROG = "python -m sim.workflow"
#: Options that describe the synthetic workflow (refused with ``--workflow``).
SYNTHETIC_OPTIONS = ("shape", "nodes", "models", "p", "latency", "latency_sd", "cost",
                     "graph_seed")
#: Most values of ``--budgets`` or ``--deadlines`` given as ``lo:hi:n``.
MAX_AXIS = 1000
#: Fields of every policy in ``--json``.
JSON_COLUMNS = ("name", "success", "ci_low", "ci_high", "cost_mean", "time_mean", "theory",
                "bound", "decisions", "epsilon", "estimate")


def parse_axis(name, text):
    """Values of ``--budgets``/``--deadlines``: ``a,b,c`` or ``lo:hi:n`` (``n`` geometric steps)."""
    text = str(text).strip()
    if text.count(":") == 2:
        lo, hi, n = text.split(":")
        try:
            lo, hi, n = float(lo), float(hi), int(n)
        except ValueError:
            raise ValueError(f"{name} must be a list a,b,c or lo:hi:n, got {text!r}") from None
        if not (lo > 0 and hi >= lo and 1 <= n <= MAX_AXIS and math.isfinite(hi)):
            raise ValueError(f"{name} lo:hi:n needs 0 < lo <= hi and 1 <= n <= {MAX_AXIS}, "
                             f"got {text!r}")
        vals = np.geomspace(lo, hi, n) if n > 1 else np.array([lo])
        return [float(f"{v:.6g}") for v in vals]
    vals = _cli.float_list(name, text)
    for v in vals:
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} values must be > 0, got {v:g}")
    return vals


def _k_values(text):
    try:
        return check_k_values(text, "--k-values")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser():
    """The argument parser of ``python -m sim.workflow``."""
    d = WorkflowParams()
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Completion probability of a DAG workflow of LLM subtasks under a budget "
                    "and a deadline, per policy: the MCPP planner (Wang et al., arXiv "
                    "2605.06110) and the baselines. See docs/models/workflow.md.")
    w = p.add_argument_group("the workflow (docs/models/workflow.md (1)-(3), (18)-(19))")
    w.add_argument("--shape", choices=SHAPES, default=d.shape,
                   help=f"synthetic DAG (default {d.shape})")
    w.add_argument("--nodes", type=_cli.integer, default=d.nodes,
                   help=f"nodes of the synthetic DAG (default {d.nodes}; fork-join: "
                        "2 + 2 max(2, N // 4))")
    w.add_argument("--models", type=_cli.integer, default=d.models,
                   help=f"models per node, statistics drawn per (node, model) (default "
                        f"{d.models})")
    w.add_argument("--p", type=float, default=d.p,
                   help="make every node identical with one model: success probability")
    w.add_argument("--latency", type=float, default=d.latency,
                   help="... mean latency of a sample, seconds")
    w.add_argument("--latency-sd", type=float, default=d.latency_sd,
                   help="... its standard deviation (0 = deterministic)")
    w.add_argument("--cost", type=float, default=d.cost,
                   help="... cost of a sample, thousand tokens (others: the library means)")
    w.add_argument("--graph-seed", type=_cli.integer, default=d.graph_seed,
                   help=f"seed of the synthetic DAG and statistics (default {d.graph_seed})")
    w.add_argument("--workflow", metavar="FILE.json",
                   help="a DAG with per (node, model) statistics, in place of the synthetic one")
    w.add_argument("--records", metavar="FILE",
                   help="empirical rollout records (CSV/Parquet: node, [model,] latency, "
                        "success, cost) resampled in place of the laws")
    w.add_argument("--latency-law", choices=LAWS, default=d.latency_law,
                   help=f"law of a sample's latency (default {d.latency_law})")
    w.add_argument("--save-workflow", metavar="FILE.json",
                   help="also write the workflow as JSON (the format --workflow reads)")
    c = p.add_argument_group("constraints and policies")
    c.add_argument("--budget", type=float, default=d.budget,
                   help=f"budget B, thousand tokens (default {d.budget:g})")
    c.add_argument("--deadline", type=float, default=d.deadline,
                   help=f"deadline T, seconds (default {d.deadline:g})")
    c.add_argument("--policies", default=",".join(d.policies),
                   help="comma-separated: mcpp, seq:K, seq:K:M, uniform, random, "
                        "latency-weighted, success-weighted, critical-path, loader-static, "
                        "loader-dual (default: all, seq at 1,4,16,64)")
    c.add_argument("--grid", action="store_true",
                   help="the success surface over --budgets x --deadlines")
    c.add_argument("--budgets", default="50:800:5",
                   help="budgets of --grid: a,b,c or lo:hi:n geometric (default 50:800:5)")
    c.add_argument("--deadlines", default="30:480:5",
                   help="deadlines of --grid (default 30:480:5)")
    c.add_argument("--out", metavar="FILE", help="write the result table (.csv or .parquet)")
    m = p.add_argument_group("the planner (docs/models/workflow.md (9)-(11))")
    m.add_argument("--k-values", type=_k_values, default=d.k_values, metavar="K1,K2,...",
                   help=f"sample levels K (default {','.join(map(str, d.k_values))})")
    m.add_argument("--rollouts", type=_cli.integer, default=d.rollouts,
                   help=f"continuation rollouts M per pair (default {d.rollouts})")
    m.add_argument("--delta", type=float, default=d.delta,
                   help=f"confidence of the reported radius (default {d.delta:g})")
    m.add_argument("--free-nodes", type=_cli.integer, default=d.free_nodes,
                   help=f"nodes enumerated on a wide frontier (default {d.free_nodes})")
    m.add_argument("--max-candidates", type=_cli.integer, default=d.max_candidates,
                   help="cap on candidate actions (default |K| + |K|^(free+1) = 260)")
    m.add_argument("--max-steps", type=_cli.integer, default=d.max_steps,
                   help=f"launches before a rollout counts as failed (default {d.max_steps})")
    _cli.add_common_arguments(p, trials=DEFAULT_TRIALS,
                              helps={"trials": f"episodes per policy (default {DEFAULT_TRIALS})",
                                     "backend": "kernel of the fixed policies and of MCPP's "
                                                "rollouts: numpy (reference), numba, cupy or "
                                                "auto (default)"})
    _cli.add_guard_argument(p)
    return p


def _params(args, budget=None, deadline=None):
    return WorkflowParams(
        shape=args.shape, nodes=args.nodes, models=args.models, p=args.p, latency=args.latency,
        latency_sd=args.latency_sd, cost=args.cost, graph_seed=args.graph_seed,
        latency_law=args.latency_law,
        budget=args.budget if budget is None else budget,
        deadline=args.deadline if deadline is None else deadline,
        k_values=args.k_values, rollouts=args.rollouts, delta=args.delta,
        free_nodes=args.free_nodes, max_candidates=args.max_candidates,
        max_steps=args.max_steps, policies=args.policies)


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m sim.workflow``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _cli.explicit(parser, argv)
    if args.workflow:
        _cli.refuse(given, "--workflow (the file gives the DAG and its statistics)",
                    *SYNTHETIC_OPTIONS)
    if args.grid:
        _cli.refuse(given, "--grid (give --budgets and --deadlines)", "budget", "deadline")
    else:
        _cli.refuse(given, "a run without --grid", "budgets", "deadlines")
    if not args.plot:
        _cli.refuse(given, "a run without --plot", "dpi")
    trials = check_int("trials", args.trials, 1)
    seed = check_int("seed", args.seed, 0)
    budgets = parse_axis("--budgets", args.budgets) if args.grid else None
    deadlines = parse_axis("--deadlines", args.deadlines) if args.grid else None
    params = _params(args, budgets[0] if budgets else None, deadlines[0] if deadlines else None)
    backend = resolve_backend(args.backend)
    for path, flag in ((args.workflow, "--workflow"), (args.records, "--records")):
        if path:
            _cli.regular_file(path, flag)
    for path, flag in ((args.out, "--out"), (args.plot, "--plot"),
                       (args.save_workflow, "--save-workflow")):
        if path:
            _cli.writable_output(path, flag)
    workflow = load_workflow(args.workflow) if args.workflow else synthetic(params)
    if args.records:
        workflow = load_records(args.records, workflow)
    for pol in params.policies:
        if pol.startswith("seq:") and pol.count(":") == 2 \
                and int(pol.split(":")[2]) >= workflow.n_models:
            raise ValueError(f"--policies {pol}: model index {pol.split(':')[2]} is not below "
                             f"the workflow's {workflow.n_models} model(s)")
    cells = len(budgets) * len(deadlines) if args.grid else 1
    est = cost(workflow, params, trials, params.policies)
    est["work"] *= cells
    _guard.check("--trials * policies" + (" * grid cells" if args.grid else ""), allow=args.yes,
                 hint="lower --trials, --rollouts, --policies or the grid, or pass --yes", **est)
    if args.save_workflow:
        _save_json(args.save_workflow, workflow.to_dict())
    if args.grid:
        with _cli.progress_bar(not args.json, "grid cells", cells, unit="cells") as advance:
            df = grid(workflow, params, budgets, deadlines, trials, seed, backend, advance)
    else:
        with _cli.progress_spinner(not args.json, "running the policies"):
            df = evaluate(workflow, params, trials, seed, backend)
    if args.out:
        _cli.write_table(df, args.out)
    if args.plot:
        _figure(args, df)
    shown = _shown(args, params, trials, seed, backend, workflow)
    if args.json:
        if args.grid:
            cells_out = [dict(budget=float(b), deadline=float(t), policies=_rows(g))
                         for (b, t), g in df.groupby(["budget", "deadline"], sort=True)]
            print(json.dumps(_cli.envelope(shown, budgets=budgets, deadlines=deadlines,
                                           workflow=workflow.describe(), cells=cells_out)))
        else:
            print(json.dumps(_cli.envelope(shown, workflow=workflow.describe(),
                                           policies=_rows(df))))
        return 0
    _report(args, params, df, workflow, trials, seed, backend, budgets, deadlines)
    return 0


def _save_json(path, obj):
    """Write ``obj`` as JSON to ``path`` atomically (whole or not at all)."""
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=1)

    _cli.write_atomic(path, write)


def _rows(df):
    return [dict(zip(JSON_COLUMNS, r)) for r in df[list(JSON_COLUMNS)].itertuples(index=False)]


def _shown(args, params, trials, seed, backend, workflow):
    shown = dataclasses.asdict(params)
    shown["policies"] = list(params.policies)
    shown["k_values"] = list(params.k_values)
    if args.workflow:
        for k in SYNTHETIC_OPTIONS:
            shown.pop(k, None)
        shown["workflow"] = args.workflow
    if args.grid:
        shown.pop("budget")
        shown.pop("deadline")
    shown.update(records=args.records, nodes_built=workflow.n, trials=trials, seed=seed,
                 backend=backend)
    return shown


def _figure(args, df):
    if not args.grid:
        fig, ax = _cli.new_figure(7.0, 3.8)
        plot_policies(df, ax)
        ax.set_title(f"completion within B = {args.budget:g} and T = {args.deadline:g} s",
                     fontsize=9)
    else:
        names = list(dict.fromkeys(df["name"]))
        panels = len(names) + (1 if "mcpp" in names and len(names) > 1 else 0)
        ncols = min(4, panels)
        nrows = math.ceil(panels / ncols)
        fig, axes = _cli.new_figure(3.6 * ncols, 3.0 * nrows, nrows=nrows, ncols=ncols,
                                    squeeze=False)
        flat = axes.ravel()
        for ax, name in zip(flat, names):
            plot_surface(df, name, ax)
        if panels > len(names):
            plot_advantage(df, flat[len(names)])
        for ax in flat[panels:]:
            ax.set_visible(False)
    _cli.save_figure(fig, args.plot, args.dpi, prog=PROG)


def _report(args, params, df, workflow, trials, seed, backend, budgets, deadlines):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    console.print(f"budgetlab workflow  {workflow.describe()}", markup=False)
    ks = ",".join(map(str, params.k_values))
    console.print(f"  latency law {params.latency_law}; MCPP: K={ks}"
                  f" M={params.rollouts} delta={params.delta:g}; trials={trials} seed={seed} "
                  f"backend={backend}", markup=False)
    if args.grid:
        from sim.workflow.plot import best_baseline

        names = list(dict.fromkeys(df["name"]))
        best = best_baseline(df) if len(names) > 1 else {}
        for name in names:
            t = Table(title=f"{name}: completion probability (rows: deadline s, columns: "
                            "budget)", title_justify="left")
            t.add_column("T \\ B", justify="right")
            for b in budgets:
                t.add_column(f"{b:g}", justify="right")
            for dl in deadlines:
                cells = []
                for b in budgets:
                    r = df[(df["name"] == name) & (df["budget"] == b) & (df["deadline"] == dl)]
                    cells.append(f"{float(r['success'].iloc[0]):.2f}")
                t.add_row(f"{dl:g}", *cells)
            console.print(t)
        if "mcpp" in names and best:
            t = Table(title="MCPP minus the best baseline (which one)", title_justify="left")
            t.add_column("T \\ B", justify="right")
            for b in budgets:
                t.add_column(f"{b:g}", justify="right")
            for dl in deadlines:
                cells = []
                for b in budgets:
                    r = df[(df["name"] == "mcpp") & (df["budget"] == b) & (df["deadline"] == dl)]
                    v, who = best[(b, dl)]
                    cells.append(f"{float(r['success'].iloc[0]) - v:+.2f} {who}")
                t.add_row(f"{dl:g}", *cells)
            console.print(t)
        return
    console.print(f"  budget B={params.budget:g} (thousand tokens), deadline T={params.deadline:g}"
                  " s", markup=False)
    table = Table(title="policies (completion = every node done by T within B)",
                  title_justify="left")
    for col in ("policy", "completion", "95% interval", "exact", "cost used", "time (done)",
                "decisions"):
        table.add_column(col, justify="right")

    def f(x, fmt):
        return "" if x is None or not np.isfinite(x) else format(x, fmt)

    for r in df.itertuples():
        table.add_row(r.name, f"{r.success:.3f}", f"[{r.ci_low:.3f}, {r.ci_high:.3f}]",
                      f(r.theory, ".4f"), f(r.cost_mean, ".1f"), f(r.time_mean, ".1f"),
                      f(r.decisions, ".1f"))
    console.print(table)
    mc = df[df["name"] == "mcpp"]
    if not mc.empty and np.isfinite(mc["epsilon"].iloc[0]):
        r = mc.iloc[0]
        line = (f"  MCPP first decision: estimate {r.estimate:.3f} +/- eps {r.epsilon:.3f} "
                "(Hoeffding and union bound, docs/models/workflow.md (10))")
        if np.isfinite(r.bound):
            line += f"; bound best exact Seq-k - 2 eps = {r.bound:.3f}"
        console.print(line, markup=False)


if __name__ == "__main__":
    sys.exit(main())
