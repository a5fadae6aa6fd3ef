"""``python -m sim.bbam allocate`` and ``fit``: user files, whole tokens, recovery, refusals."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from sim.bbam.__main__ import main
from sim.bbam.lawfit import fit_table, law_data
from theory import bbam as th


def _plan(tmp_path, rows, name="plan.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_allocate_writes_ids_and_whole_tokens_summing_to_the_budget(tmp_path, capsys):
    rng = np.random.default_rng(3)
    ids = [f"step-{i}" for i in rng.permutation(12)]
    c, beta = np.exp(rng.normal(0, 1.5, 12)), rng.uniform(0.5, 3, 12)
    plan = _plan(tmp_path, dict(id=ids, c=c, beta=beta))
    out = tmp_path / "out.csv"
    assert main(["allocate", plan, "--budget", "3000", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["id"]) == ids  # input order, ids carried through
    assert df["tokens"].dtype.kind == "i" and df["tokens"].sum() == 3000
    assert (df["tokens"] >= th.MIN_TOKENS).all()
    np.testing.assert_array_equal(df["tokens"], th.allocate_tokens(c, beta, 3000))
    capsys.readouterr()
    assert main(["allocate", plan, "--budget", "3000", "--json", "--method", "uniform"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["params"]["method"] == "uniform" and "version" in res
    assert [a["id"] for a in res["allocation"]] == ids
    assert sum(a["tokens"] for a in res["allocation"]) == 3000
    assert res["objective"]["exact"] <= res["objective"]["uniform"]


def test_fit_table_feeds_allocate_by_difficulty(tmp_path, capsys):
    parts = []
    for i, (label, (c, beta, u)) in enumerate({"easy": (5.0, 1.5, 0.02),
                                               "hard": (60.0, 1.2, 0.05)}.items()):
        d = law_data(c, beta, u, [4, 8, 16, 32, 64, 128, 256, 512], 150, seed=i)
        d.insert(0, "difficulty", label)
        parts.append(d)
    data = tmp_path / "acc.parquet"
    pd.concat(parts).to_parquet(data)
    law = tmp_path / "law.csv"
    assert main(["fit", str(data), "--out", str(law)]) == 0
    table = pd.read_csv(law)
    assert list(table["difficulty"]) == ["easy", "hard"]
    assert {"c_low", "c_high", "beta_low", "beta_high", "u_low", "u_high", "deviance",
            "p_value"} <= set(table.columns)
    assert "goodness of fit" in capsys.readouterr().out
    plan = _plan(tmp_path, dict(id=["a", "b", "c"], difficulty=["hard", "easy", "hard"]))
    assert main(["allocate", plan, "--table", str(law), "--budget", "500", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    tokens = [a["tokens"] for a in res["allocation"]]
    assert sum(tokens) == 500 and abs(tokens[0] - tokens[2]) <= 1  # equal shares, rounded


def test_fit_accepts_per_attempt_rows(tmp_path, capsys):
    d = law_data(8.0, 1.3, 0.03, [4, 8, 16, 32, 64, 128], 80, seed=5)
    rows = [(b, int(j < k)) for b, n, k in d.itertuples(index=False) for j in range(n)]
    per = pd.DataFrame(rows, columns=["tokens", "ok"])
    path = tmp_path / "attempts.csv"
    per.to_csv(path, index=False)
    assert main(["fit", str(path), "--budget-column", "tokens", "--correct-column", "ok",
                 "--json"]) == 0
    fit = json.loads(capsys.readouterr().out)["fits"][0]
    ref = th.fit_law(d["budget"], d["n"], d["k"])
    assert fit["beta"] == pytest.approx(ref["beta"], rel=1e-6)


def _coverage(reps, seed0):
    truth = dict(c=20.0, beta=1.2, u=0.05)
    budgets = [4, 8, 16, 32, 64, 128, 256, 512]
    hits = dict(c=0, beta=0, u=0)
    for r in range(reps):
        row = fit_table(law_data(truth["c"], truth["beta"], truth["u"], budgets, 100,
                                 seed=seed0 + r)).iloc[0]
        for k, v in truth.items():
            hits[k] += row[f"{k}_low"] <= v <= row[f"{k}_high"]
    return hits


def test_fit_intervals_cover_the_truth_on_simulated_data():
    # 10 replicates: each 95% interval must cover at least 8 (P(fewer) < 1.2% per parameter)
    hits = _coverage(10, 100)
    assert all(h >= 8 for h in hits.values()), hits


@pytest.mark.slow
def test_fit_intervals_have_nominal_coverage_over_200_replicates():
    hits = _coverage(200, 1000)
    assert all(180 <= h <= 198 for h in hits.values()), hits


@pytest.mark.parametrize("rows,argv,message", [
    (dict(id=["a", "a"], c=[1, 1], beta=[1, 1]), [], "duplicate id 'a' at row 2"),
    (dict(id=["a", None], c=[1, 1], beta=[1, 1]), [], "missing id at row 2"),
    (dict(id=["a", "b"], c=[1, float("nan")], beta=[1, 1]), [], "column 'c' has a missing"),
    (dict(id=["a", "b"], c=[1, -1], beta=[1, 1]), [], "column 'c' must be in (0, inf]"),
    (dict(id=["a", "b"], c=[1, 1], beta=[1, 1]), ["--id-column", "key"], "has no column 'key'"),
    (dict(id=["a", "b"], c=[1, 1]), [], "has no column 'beta'"),
    (dict(id=["a", "b"], c=[1, 1], beta=[1, 1]), ["--budget", "1"],
     "budget must be >= rows * min_tokens = 2 * 1 = 2, got 1"),
    (dict(id=["a", "b"], difficulty=[1, 2]), [], "pass --table FILE"),
])
def test_allocate_refuses_bad_plans_in_one_line_and_writes_nothing(tmp_path, cli_exit, rows,
                                                                   argv, message):
    plan = _plan(tmp_path, rows)
    out = tmp_path / "out.csv"
    budget = [] if "--budget" in argv else ["--budget", "100"]
    status, err = cli_exit(main, ["allocate", plan, *budget, "--out", str(out), *argv])
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_allocate_refuses_an_unknown_label_a_fifo_and_a_directory(tmp_path, cli_exit):
    table = _plan(tmp_path, dict(difficulty=["easy"], c=[1.0], beta=[1.0]), "law.csv")
    plan = _plan(tmp_path, dict(id=["a"], difficulty=["hard"]))
    status, err = cli_exit(main, ["allocate", plan, "--table", table, "--budget", "10"])
    assert status == 2 and "difficulty 'hard' is not in --table" in err
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    status, err = cli_exit(main, ["allocate", str(fifo), "--budget", "10"])
    assert status == 2 and "is a FIFO" in err
    status, err = cli_exit(main, ["allocate", str(tmp_path), "--budget", "10"])
    assert status == 2 and "is a directory" in err


def test_fit_refuses_bad_data(tmp_path, cli_exit):
    path = _plan(tmp_path, dict(budget=[1, 2, 4], n=[5, 5, 5], k=[1, 6, 2]), "d.csv")
    status, err = cli_exit(main, ["fit", path])
    assert status == 2 and "k must be <= n, got 6 > 5 at row 2" in err
    path = _plan(tmp_path, dict(budget=[1, 2], correct=[1, 2]), "e.csv")
    status, err = cli_exit(main, ["fit", path])
    assert status == 2 and "must be 0/1" in err
    status, err = cli_exit(main, ["fit", path, "--dpi", "100"])
    assert status == 2 and "--dpi does not apply to a run without --plot" in err


def test_out_writes_the_result_tables_of_the_default_modes(tmp_path):
    out = tmp_path / "sim.parquet"
    assert main(["--trials", "2000", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert set(th.SCHEDULES) <= set(df["name"]) and {"accuracy", "e3", "seed"} <= set(df.columns)
    out = tmp_path / "one.csv"
    assert main(["--allocate", "--c", "0.5,0.3,0.9", "--beta", "1,1.5,2.5", "--budget", "300",
                 "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert df["exact"].round(3).tolist() == [201.337, 66.809, 31.854]


def test_subcommand_defaults_are_the_librarys():
    import inspect

    from sim.bbam.__main__ import _allocate_parser, _fit_parser

    a = _allocate_parser().parse_args(["plan.csv", "--budget", "10"])
    sig = inspect.signature(th.allocate_tokens).parameters
    assert a.method == sig["method"].default and a.min_tokens == sig["min_tokens"].default
    f = _fit_parser().parse_args(["data.csv"])
    assert f.level == inspect.signature(th.fit_law).parameters["level"].default
