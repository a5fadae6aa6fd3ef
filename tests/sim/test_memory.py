"""Monte Carlo of tier routing against the exact sums, the kernels, and the command line.

Equation numbers refer to docs/models/memory.md.
"""

import dataclasses
import json
import os

import numpy as np
import pandas as pd
import pytest

from sim import memory as sm
from sim import rng
from sim.memory import kernel_array, kernel_numba, reference
from sim.memory.__main__ import build_allocate_parser, build_parser, main
from sim.memory.layout import STREAM
from theory import memory as th


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_simulated_accuracy_and_cost_match_the_exact_sums(backend):
    df = sm.simulate(trials=20_000, seed=3, backend=backend)
    assert len(df) == 26 * 4 and set(df.name) == set(sm.POLICIES)
    se = df.accuracy_se.where(df.accuracy_se > 0)
    z_acc = ((df.accuracy_sim - df.accuracy) / se).fillna(0)
    assert np.all(np.abs(z_acc) <= 4), df[["budget", "name", "accuracy", "accuracy_sim"]]
    cse = df.cost_se.where(df.cost_se > 0)
    z_cost = ((df.cost_sim - df.cost) / cse).fillna(0)
    assert np.all(np.abs(z_cost) <= 4)
    # a cost without spread is exact: the fixed tiers always cost what they cost
    fixed = df[df.name == "fixed"]
    assert np.allclose(fixed.cost_sim, fixed.cost, rtol=1e-12) and np.all(fixed.cost_se == 0)
    assert np.all(fixed.cost_sim <= fixed.budget)
    assert np.all(df.cost_sim <= df.budget + 1e-12)


def test_backends_give_identical_sums():
    p = th.MemoryParams(modules=4, costs=(0, 2, 3, 7), easy=(0.8, 0.9, 0.95, 0.99),
                        hard=(0.1, 0.4, 0.7, 0.9))
    gen = np.random.default_rng(1)
    tables = gen.integers(0, 4, (5, 16, 4))
    by_truth = np.array([False, True, False, True, False])
    success = np.stack([p.easy, p.hard], axis=1)
    costs = np.array(p.costs, dtype=np.int64)
    key = rng.stream_key(7, STREAM)
    args = (tables, by_truth, success, costs, p.hard_share, p.signal)
    a = kernel_numba.run_queries(*args, 0, 9000, key)
    b = reference.run_queries(*args, 0, 9000, key)
    c = kernel_array.run_queries(np, *args, 0, 9000, key)
    for x, y, z in zip(a, b, c):
        assert np.array_equal(x, y) and np.array_equal(y, z)
    # a query's words depend on its number only: two halves add up to the whole
    h1 = kernel_array.run_queries(np, *args, 0, 4000, key)
    h2 = kernel_numba.run_queries(*args, 4000, 9000, key)
    for whole, x, y in zip(a, h1, h2):
        assert np.array_equal(whole, x + y)
    for backend in ("numpy", "numba"):
        got = sm.run_queries(p, tables, by_truth, 9000, 7, backend)
        assert all(np.array_equal(x, y) for x, y in zip(got, a))


def test_common_random_numbers_order_the_tiers():
    # every policy sees the same job words: a better tier never fails where a worse succeeds
    p = th.MemoryParams()
    tables = np.stack([th.fixed_table([t] * 5) for t in range(3)])
    right, cost, _ = sm.run_queries(p, tables, [False] * 3, 5000, 0, "numba")
    assert right[0] <= right[1] <= right[2]
    assert cost.tolist() == [0, 5 * 5000, 25 * 5000]


def test_policy_tables_respect_the_budget():
    p = th.MemoryParams(modules=3)
    budgets = list(p.budgets)
    tables, by_truth, fixed = sm.policy_tables(p, budgets)
    assert by_truth == {"fixed": False, "router": False, "router-greedy": False, "oracle": True}
    cost = np.asarray(p.costs)
    for name, tab in tables.items():
        assert tab.shape == (len(budgets), 8, 3)
        assert np.all(cost[tab].sum(axis=-1) <= np.asarray(budgets)[:, None]), name
    assert sm.tier_label(fixed[-1]) == "HHH" and sm.tier_label([0, 1, 2]) == "LMH"


def test_one_budget_and_provenance():
    df = sm.simulate(sm.Params(budget=9), trials=3000, seed=1, backend="numba")
    assert df.budget.unique().tolist() == [9] and df.name.tolist() == list(sm.POLICIES)
    assert {"seed", "backend", "version", "trials", "modules", "signal"} <= set(df.columns)
    assert df.tiers.iloc[0] == "HMMMM" and df.backend.iloc[0] == "numba"


def test_sweep_point_rows():
    values = {p.name: p.default for p in sm.SWEEP.params}
    assert values["budget"] == 10
    df = sm.SWEEP.point(values, 0, 2000, "numba")
    assert {"quantity", "theory", "estimate", "se", "name"} <= set(df.columns)
    assert len(df) == len(sm.POLICIES)
    with pytest.raises(ValueError, match="signal"):
        sm.SWEEP.validate(dict(values, signal=0.2))


def test_plots_draw_on_given_axes():
    from matplotlib.figure import Figure

    df = sm.simulate(sm.Params(modules=3), trials=500, backend="numba")
    ax = Figure().subplots()
    assert sm.plot_frontier(df, ax) is ax and len(ax.lines) >= 4
    table = tier_table()
    ax2 = Figure().subplots()
    assert sm.plot_instance(sm.instance_frontier(table), ax2, budget=6) is ax2


# --- the command line --------------------------------------------------------------------


def cli_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_defaults_are_the_params_defaults():
    d = th.MemoryParams()
    args = build_parser().parse_args([])
    for f in dataclasses.fields(th.MemoryParams):
        assert getattr(args, f.name) == getattr(d, f.name), f.name
    assert args.trials == sm.DEFAULT_TRIALS and args.seed == 0
    a = build_allocate_parser().parse_args(["x.csv", "--budget", "3"])
    assert (a.solver, a.objective) == ("dp", "product")


def test_cli_json_frontier(capsys):
    out = cli_json(capsys, "--trials", "2000", "--modules", "3", "--backend", "numba")
    assert out["params"]["modules"] == 3 and out["params"]["trials"] == 2000
    rows = out["frontier"]
    assert len(rows) == 16 * 4
    assert {"budget", "name", "tiers", "accuracy", "accuracy_sim", "accuracy_se", "cost",
            "cost_sim", "cost_se"} == set(rows[0])
    s = out["summary"]
    assert s["best_gain"] > 0 and s["budgets"] == 16 and s["max_abs_z"] < 5


def test_cli_report_and_plot(tmp_path, capsys):
    fig = tmp_path / "frontier.png"
    assert main(["--trials", "2000", "--budget", "8", "--plot", str(fig)]) == 0
    out = capsys.readouterr()
    assert "routing gains most at budget 8" in out.out and fig.stat().st_size > 5000
    assert "figure written to" in out.err


@pytest.mark.parametrize("argv, match", [
    (["--signal", "0.3"], r"signal must be in \[0.5, 1\], got 0.3"),
    (["--costs", "0,1.5,3"], r"costs\[1\] must be an integer, got 1.5"),
    (["--costs", "0,x"], "--costs must be a comma-separated list of numbers"),
    (["--easy", "0.9,0.95"], r"easy must have one value per tier \(3\), got 2"),
    (["--modules", "20"], r"modules must be an integer in \[1, 12\], got 20"),
    (["--budget", "-1"], r"budget must be an integer in \[0, inf\], got -1"),
    (["--trials", "1"], r"trials must be an integer in \[2, inf\], got 1"),
    (["--dpi", "100"], "--dpi does not apply to a run without --plot"),
    (["--trials", "10000000000000"], r"--trials \* budgets \* 2\*\*--modules asks for"),
])
def test_cli_bad_input_is_one_line(cli_exit, argv, match):
    import re

    status, err = cli_exit(main, argv)
    assert status == 2 and len(err.strip().splitlines()) == 1 and re.search(match, err), err


def tier_table():
    rows = [("filter", "low", 0, 0.80), ("filter", "mid", 1, 0.90), ("filter", "high", 4, 0.97),
            ("extract", "low", 0, 0.60), ("extract", "mid", 2, 0.85), ("extract", "high", 5, 0.95),
            ("summary", "small", 1, 0.90), ("summary", "large", 3, 0.96)]
    return pd.DataFrame(rows, columns=["module", "tier", "cost", "accuracy"])


def test_allocate_tiers_by_brute_force():
    import itertools

    table = tier_table()
    groups = [g for _, g in table.groupby("module", sort=False)]
    combos = list(itertools.product(*(range(len(g)) for g in groups)))
    for objective, combine in (("product", np.prod), ("sum", np.sum)):
        for budget in range(1, 14):
            choice, rep = sm.allocate_tiers(table, budget, objective=objective)
            best = max(combine([g.accuracy.iloc[i] for g, i in zip(groups, combo)])
                       for combo in combos
                       if sum(g.cost.iloc[i] for g, i in zip(groups, combo)) <= budget)
            assert rep["value"] == pytest.approx(best) and rep["optimum"] == pytest.approx(best)
            assert rep["total_cost"] <= budget
            assert choice.module.tolist() == ["filter", "extract", "summary"]
            assert rep["greedy_value"] <= best + 1e-12 <= rep["bound"] + 2e-12


def test_cli_allocate_writes_the_choice(tmp_path, capsys):
    path = tmp_path / "tiers.csv"
    tier_table().to_csv(path, index=False)
    out_csv = tmp_path / "choice.csv"
    fig = tmp_path / "instance.png"
    assert main(["allocate", str(path), "--budget", "6", "--out", str(out_csv),
                 "--plot", str(fig)]) == 0
    text = capsys.readouterr().out
    assert "exact optimum" in text and "filter" in text
    choice = pd.read_csv(out_csv)
    assert list(choice.columns) == ["module", "tier", "cost", "accuracy"]
    assert choice.cost.sum() <= 6 and fig.stat().st_size > 5000
    out = cli_json(capsys, "allocate", str(path), "--budget", "6", "--solver", "greedy")
    assert out["params"] == {"file": str(path), "budget": 6.0, "solver": "greedy",
                             "objective": "product"}
    assert len(out["choice"]) == 3 and out["value"] == pytest.approx(out["greedy_value"])
    assert out["value"] <= out["optimum"] <= out["bound"]


def test_cli_allocate_parquet_and_float_costs(tmp_path, capsys):
    t = tier_table()
    t["cost"] = t["cost"] * 0.5
    path = tmp_path / "tiers.parquet"
    t.to_parquet(path)
    out = cli_json(capsys, "allocate", str(path), "--budget", "3", "--solver", "greedy")
    assert out["optimum"] is None and out["total_cost"] <= 3


@pytest.mark.parametrize("content, argv, match", [
    ("module,tier,cost\nf,low,0\n", [], "must have the columns module, tier, cost, accuracy"),
    ("module,tier,cost,accuracy\nf,low,0,1.2\n", [], r"accuracy must be a number in \[0, 1\]"),
    ("module,tier,cost,accuracy\nf,low,-1,0.5\n", [], r"cost must be a number in \[0, inf\)"),
    ("module,tier,cost,accuracy\nf,low,0,0.5\nf,low,1,0.6\n", [], "lists tier 'low' twice"),
    ("module,tier,cost,accuracy\nf,low,2,0.5\n", [], "budget must be >= the cheapest"),
    ("module,tier,cost,accuracy\nf,low,0.5,0.5\n", [], "cost must be integers for --solver dp"),
    ("module,tier,cost,accuracy\nf,low,0,0.5\n", ["--trials", "3"], "unrecognized arguments"),
])
def test_cli_allocate_bad_input_is_one_line(tmp_path, cli_exit, content, argv, match):
    import re

    path = tmp_path / "t.csv"
    path.write_text(content)
    status, err = cli_exit(main, ["allocate", str(path), "--budget", "1", *argv])
    assert status == 2 and len(err.strip().splitlines()) == 1 and re.search(match, err), err


def test_cli_allocate_refuses_bad_paths(tmp_path, cli_exit):
    status, err = cli_exit(main, ["allocate", str(tmp_path), "--budget", "1"])
    assert status == 2 and "is a directory" in err
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status, err = cli_exit(main, ["allocate", str(fifo), "--budget", "1"])
    assert status == 2 and "FIFO" in err
    path = tmp_path / "t.csv"
    tier_table().to_csv(path, index=False)
    status, err = cli_exit(main, ["allocate", str(path), "--budget", "5", "--out",
                                  str(tmp_path / "missing" / "c.csv")])
    assert status == 2 and "does not exist" in err
    assert not (tmp_path / "missing").exists()
