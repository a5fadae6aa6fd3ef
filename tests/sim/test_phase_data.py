"""``python -m sim.phase decide`` and ``fit``: the fixed forms, recovery, refusals, ``--out``."""

import json

import pandas as pd
import pytest

from sim.phase.__main__ import main
from sim.phase.userdata import leaf_law_data, message_samples, question_samples
from theory import phase as th


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_decide_fixed_form_answers_a_tree_with_integers(capsys):
    res = _json(capsys, ["decide", "--b", "5", "--rho", "0.1", "--gamma", "0.95", "--beta", "0.2",
                         "--budget", "200000", "--msg-tokens", "128", "--context", "32000",
                         "--json"])
    assert {"params", "version", "choice", "b", "depth", "leaves", "p_single", "p_tree",
            "margin"} <= set(res)
    assert res["choice"] == "tree" and res["b"] == 5
    assert isinstance(res["depth"], int) and res["depth"] >= 1
    assert res["leaves"] == 5 ** res["depth"]
    assert res["p_tree"] > res["p_single"] and res["margin"] == pytest.approx(
        res["p_tree"] - res["p_single"])
    assert res["sentence"].startswith("Deploy a 5-ary majority tree")


def test_decide_below_the_threshold_says_one_agent(capsys):
    assert main(["decide", "--b", "3", "--rho", "0", "--gamma", "0.95", "--beta", "0.2",
                 "--budget", "2000", "--msg-tokens", "256"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Deploy one agent with the whole budget")
    assert "B_crit" in text and "-1" not in text
    res = _json(capsys, ["decide", "--b", "3", "--rho", "0", "--gamma", "0.95", "--beta", "0.2",
                         "--budget", "2000", "--msg-tokens", "256", "--json"])
    assert res["choice"] == "single" and res["depth"] == 0 and res["leaves"] == 1


def test_decide_takes_a_range_of_fan_ins_and_writes_every_option(tmp_path, capsys):
    out = tmp_path / "options.csv"
    png = tmp_path / "diagram.png"
    res = _json(capsys, ["decide", "--b", "3:9", "--rho", "0.1", "--gamma", "0.95", "--beta",
                         "0.2", "--budget", "200000", "--msg-tokens", "128", "--json", "--out",
                         str(out), "--plot", str(png)])
    assert res["params"]["b"] == [3, 5, 7, 9]
    df = pd.read_csv(out)
    assert df["chosen"].sum() == 1 and df.loc[df["chosen"], "b"].item() == res["b"]
    assert df["p_predicted"].max() == pytest.approx(res["p_tree"])
    assert png.stat().st_size > 10_000


def test_fit_recovers_the_simulators_parameters_and_feeds_decide(tmp_path, capsys):
    leaf_law_data(0.02, 0.3, [100, 300, 1000, 3000, 10_000, 30_000], 400, seed=1).to_csv(
        tmp_path / "compute.csv", index=False)
    question_samples(0.6, 0.3, 400, 9, seed=2).to_parquet(tmp_path / "samples.parquet")
    message_samples(0.8, 0.7, 3000, seed=3).to_csv(tmp_path / "messages.csv", index=False)
    out = tmp_path / "fit.csv"
    assert main(["fit", "--compute", str(tmp_path / "compute.csv"), "--samples",
                 str(tmp_path / "samples.parquet"), "--messages", str(tmp_path / "messages.csv"),
                 "--out", str(out)]) == 0
    assert "goodness of fit" in capsys.readouterr().out
    table = pd.read_csv(out).set_index("parameter")
    truth = dict(kappa=0.02, beta=0.3, p0=0.6, rho=0.3, gamma=0.8)
    for name, v in truth.items():
        assert table.loc[name, "low"] <= v <= table.loc[name, "high"], name
    res = _json(capsys, ["decide", "--params", str(out), "--b", "3:7", "--budget", "1e5",
                         "--json"])
    assert res["params"]["beta"] == pytest.approx(table.loc["beta", "estimate"])
    assert res["params"]["kappa"] == pytest.approx(table.loc["kappa", "estimate"])


def _coverage(reps, seed0):
    hits = dict(beta=0, rho=0, p0=0, gamma=0)
    for r in range(reps):
        d = leaf_law_data(0.02, 0.3, [100, 300, 1000, 3000, 10_000], 300, seed=seed0 + r)
        f = th.fit_leaf_law(d["compute"], d["n"], d["k"])
        hits["beta"] += f["beta_low"] <= 0.3 <= f["beta_high"]
        q = question_samples(0.6, 0.3, 200, 9, seed=seed0 + r)
        f = th.fit_correlation(q["n"], q["k"])
        hits["rho"] += f["rho_low"] <= 0.3 <= f["rho_high"]
        hits["p0"] += f["p0_low"] <= 0.6 <= f["p0_high"]
        m = message_samples(0.8, 0.7, 1000, seed=seed0 + r)
        f = th.fit_fidelity(m["sent"], m["received"])
        hits["gamma"] += f["gamma_low"] <= 0.8 <= f["gamma_high"]
    return hits


def test_fit_intervals_cover_the_truth_on_simulated_data():
    hits = _coverage(12, 100)
    assert all(h >= 10 for h in hits.values()), hits


@pytest.mark.slow
def test_fit_intervals_have_nominal_coverage_over_200_replicates():
    hits = _coverage(200, 5000)
    assert all(180 <= h <= 198 for h in hits.values()), hits


@pytest.mark.parametrize("argv,message", [
    (["decide", "--rho", "0.1", "--budget", "1000"], "decide needs --beta"),
    (["decide", "--beta", "0.2", "--budget", "1000", "--b", "4"], "b must be an odd integer"),
    (["decide", "--beta", "0.2", "--budget", "1000", "--b", "x"], "b must be an odd integer"),
    (["decide", "--beta", "0.2", "--budget", "1000", "--p0", "0.4"], "p_single must be in"),
    (["decide", "--beta", "0.2", "--budget", "-5"], "budget must be in"),
    (["decide", "--beta", "0.2", "--budget", "1000", "--dpi", "90"], "--dpi does not apply"),
    (["fit"], "fit needs at least one of --compute, --samples, --messages"),
    (["fit", "--messages", "m.csv", "--question-column", "q"], "--question-column does not"),
])
def test_bad_input_is_one_line(cli_exit, argv, message):
    status, err = cli_exit(main, argv)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_fit_refuses_bad_files_and_leaves_nothing(tmp_path, cli_exit):
    bad = tmp_path / "c.csv"
    pd.DataFrame(dict(compute=[1, 2, float("nan")], correct=[1, 0, 1])).to_csv(bad, index=False)
    out = tmp_path / "out.csv"
    status, err = cli_exit(main, ["fit", "--compute", str(bad), "--out", str(out)])
    assert status == 2 and "column 'compute' has a missing" in err and not out.exists()
    pd.DataFrame(dict(q=[1, 2], correct=[1, 0])).to_csv(bad, index=False)
    status, err = cli_exit(main, ["fit", "--samples", str(bad)])
    assert status == 2 and "has no column 'question'" in err
    table = tmp_path / "t.csv"
    pd.DataFrame(dict(parameter=["beta", "zeta"], estimate=[0.2, 1])).to_csv(table, index=False)
    status, err = cli_exit(main, ["decide", "--params", str(table), "--budget", "100"])
    assert status == 2 and "unknown parameter 'zeta'" in err


def test_out_writes_the_level_table(tmp_path):
    out = tmp_path / "levels.parquet"
    assert main(["--trials", "2000", "--depth", "3", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df["level"]) == [0, 1, 2, 3] and {"p_theory", "p_sim", "z"} <= set(df.columns)


def test_subcommand_defaults_are_the_librarys():
    import inspect

    from sim.phase.__main__ import _decide_parser, _fit_parser

    d = _decide_parser().parse_args(["--budget", "100"])
    sig = inspect.signature(th.decide).parameters
    assert d.msg_tokens == sig["msg_tokens"].default and d.context == sig["context"].default
    assert d.correlation == th.PhaseParams().correlation
    f = _fit_parser().parse_args([])
    assert f.level == inspect.signature(th.fit_leaf_law).parameters["level"].default
