"""python -m sim.workflow: defaults, JSON, bad input (one line, exit 2), refusals, files, grid."""

import dataclasses
import json

import pytest

from sim.workflow.__main__ import build_parser, main, parse_axis
from theory.workflow import WorkflowParams

_FAST = ["--trials", "4", "--nodes", "4", "--rollouts", "8", "--k-values", "1,4"]


def test_parser_defaults_are_the_params_defaults():
    args = build_parser().parse_args([])
    d = WorkflowParams()
    for f in dataclasses.fields(WorkflowParams):
        got = getattr(args, f.name)
        if f.name == "policies":
            got = tuple(got.split(","))
        assert got == getattr(d, f.name), f.name


def test_json_has_params_version_and_the_policies(capsys):
    assert main([*_FAST, "--policies", "mcpp,seq:4,uniform", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["trials"] == 4 and out["version"]
    assert [p["name"] for p in out["policies"]] == ["mcpp", "seq:4", "uniform"]
    for p in out["policies"]:
        assert {"name", "success", "ci_low", "ci_high", "cost_mean", "time_mean"} <= set(p)
        assert p["ci_low"] <= p["success"] <= p["ci_high"]


def test_identical_chain_reports_the_exact_value(capsys):
    assert main(["--shape", "chain", "--nodes", "5", "--p", "0.5", "--latency", "1",
                 "--latency-sd", "0", "--cost", "1", "--budget", "1000", "--deadline", "6",
                 "--policies", "seq:4", "--trials", "2000", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["policies"]
    assert row["theory"] == pytest.approx(0.950508, abs=1e-6)
    assert abs(row["success"] - row["theory"]) < 4 * (0.0495 / 2000) ** 0.5 * 2


@pytest.mark.parametrize("argv, msg", [
    (["--p", "1.5"], "p must be in [0, 1], got 1.5"),
    (["--latency", "-2"], "latency must be in (0, inf], got -2"),
    (["--cost", "-1"], "cost must be in [0, inf], got -1"),
    (["--deadline", "0"], "deadline must be in (0, inf], got 0"),
    (["--deadline", "-3"], "deadline must be in (0, inf], got -3"),
    (["--k-values", "0,4"], "--k-values must be an integer in [1, 4096], got 0"),
    (["--k-values", "1.5"], "--k-values must be positive integers"),
    (["--policies", "mcpp,greedy"], "policies must be among"),
    (["--policies", "seq:4:3"], "model index 3 is not below"),
    (["--grid", "--budget", "10"], "--budget does not apply to --grid"),
    (["--budgets", "1,2"], "--budgets does not apply to a run without --grid"),
    (["--dpi", "100"], "--dpi does not apply to a run without --plot"),
    (["--grid", "--budgets", "5:1:3"], "--budgets lo:hi:n needs 0 < lo <= hi"),
    (["--trials", "0"], "trials must be an integer in [1, inf], got 0"),
])
def test_bad_input_is_one_line_and_exit_2(cli_exit, argv, msg):
    status, err = cli_exit(main, argv)
    assert status == 2
    assert msg in err and err.count("\n") == 1 and "Traceback" not in err


def _node(i, parents, **stats):
    base = dict(p=0.5, latency=3.0, latency_sd=1.0, cost=1.0)
    base.update(stats)
    return {"id": i, "parents": parents, "models": {"m": base}}


@pytest.mark.parametrize("nodes, msg", [
    ([_node("a", ["b"]), _node("b", ["a"])], "cycle through nodes a, b"),
    ([_node("a", []), {"id": "b", "parents": ["a"], "models": {}}], "node 'b' has no model"),
    ([_node("a", [], p=-0.1)], "p of node 'a', model 'm' must be in [0, 1], got -0.1"),
    ([_node("a", [], latency=-4)], "latency of node 'a', model 'm' must be in (0, inf)"),
    ([_node("a", [], cost=-4)], "cost of node 'a', model 'm' must be in [0, inf)"),
])
def test_bad_workflow_files_are_one_line(cli_exit, tmp_path, nodes, msg):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"nodes": nodes}))
    status, err = cli_exit(main, ["--workflow", str(path), "--trials", "2"])
    assert status == 2 and msg in err and err.count("\n") == 1


def test_workflow_file_refuses_synthetic_options_and_runs(cli_exit, tmp_path, capsys):
    path = tmp_path / "w.json"
    status, err = cli_exit(main, [*_FAST[:4], "--save-workflow", str(path), "--policies",
                                  "seq:1", "--json"])
    assert status == 0 and path.exists()
    capsys.readouterr()
    status, err = cli_exit(main, ["--workflow", str(path), "--nodes", "3"])
    assert status == 2 and "--nodes does not apply to --workflow" in err
    assert main(["--workflow", str(path), "--policies", "seq:1,loader-dual", "--trials", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["workflow"] == str(path) and "nodes" not in out["params"]
    status, err = cli_exit(main, ["--workflow", str(tmp_path / "none.json")])
    assert status == 2 and "does not exist" in err


def test_records_are_resampled(tmp_path, capsys):
    rec = tmp_path / "r.csv"
    rec.write_text("node,latency,success,cost\n" + "".join(
        f"{v},{2 + v},{(v + j) % 2},1.0\n" for v in range(3) for j in range(4)))
    assert main(["--shape", "chain", "--nodes", "3", "--records", str(rec), "--policies",
                 "seq:4", "--trials", "200", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "records" in out["workflow"] and out["policies"][0]["success"] > 0.5


def test_grid_writes_the_surfaces_table_and_figure(tmp_path, capsys):
    png, csv = tmp_path / "g.png", tmp_path / "g.csv"
    assert main([*_FAST, "--policies", "mcpp,seq:1,seq:4", "--grid", "--budgets", "20,80",
                 "--deadlines", "30,120", "--plot", str(png), "--dpi", "60", "--out",
                 str(csv)]) == 0
    out = capsys.readouterr().out
    assert "MCPP minus the best baseline" in out and png.stat().st_size > 1000
    import pandas as pd

    df = pd.read_csv(csv)
    assert len(df) == 2 * 2 * 3 and set(df["budget"]) == {20.0, 80.0}
    assert main([*_FAST, "--policies", "seq:1", "--grid", "--budgets", "20,80",
                 "--deadlines", "30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["cells"]) == 2 and out["cells"][0]["policies"][0]["name"] == "seq:1"
    assert "budget" not in out["params"]


def test_single_point_figure(tmp_path):
    png = tmp_path / "p.png"
    assert main([*_FAST, "--policies", "seq:1,uniform", "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000


def test_parse_axis():
    assert parse_axis("--budgets", "10:1000:3") == [10.0, 100.0, 1000.0]
    assert parse_axis("--budgets", "5,7") == [5.0, 7.0]
    with pytest.raises(ValueError, match="values must be > 0"):
        parse_axis("--deadlines", "0,5")


def test_the_sweep_point_runs_and_sets_theory_beside_estimates(tmp_path, capsys):
    import numpy as np

    from sim import sweep
    from sim.sweep.__main__ import main as sweep_main

    out = tmp_path / "sw"
    assert sweep_main(["workflow", "--budget", "100:400:4", "--shape", "chain", "--nodes", "3",
                       "--p", "0.5", "--latency", "1", "--latency-sd", "0", "--cost", "6",
                       "--deadline", "8", "--rollouts", "4", "--trials", "40", "--out",
                       str(out), "--plot", str(tmp_path / "sw.png")]) == 0
    assert (tmp_path / "sw.png").stat().st_size > 1000
    df = sweep.collect(out)
    assert df["point"].nunique() == 4 and set(df["budget"]) == {100.0, 200.0, 300.0, 400.0}
    ok = df.dropna(subset=["theory"])
    assert set(ok["name"]) == {"seq:1", "seq:4", "seq:16", "seq:64"}
    z = (ok["estimate"] - ok["theory"]) / np.maximum(ok["se"], 1e-3)
    assert np.all(np.abs(z) <= 5), z.to_numpy()
    # Seq-4 needs 4 * 6 per batch: the budget sets N_max here, so completion rises with it
    s4 = ok[ok["name"] == "seq:4"].sort_values("budget")["theory"].to_numpy()
    assert np.all(np.diff(s4) >= 0) and s4[-1] > s4[0]
