"""``python -m sim.gamma --fit``: any length column, one fit per group, intervals, ``--out``."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.gamma import __main__ as g
from sim.gamma.fit import sample_lengths
from theory import gamma as th


def _file(tmp_path, name="lengths.csv"):
    a = sample_lengths(40.0, 8.0, 1500, seed=1)
    b = sample_lengths(20.0, 4.0, 1000, seed=2)
    df = pd.DataFrame({"model": ["a"] * a.size + ["b"] * b.size,
                       "thinking": np.r_[a, b]})
    path = tmp_path / name
    if name.endswith(".csv"):
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path)
    return path, a, b


@pytest.mark.parametrize("name", ["lengths.csv", "lengths.parquet"])
def test_by_gives_one_fit_per_group_in_one_table(tmp_path, capsys, name):
    path, a, b = _file(tmp_path, name)
    out = tmp_path / "fits.csv"
    assert g.main(["--fit", str(path), "--length-column", "thinking", "--by", "model",
                   "--out", str(out)]) == 0
    assert "profile-likelihood" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table["model"]) == ["a", "b"] and list(table["n"]) == [a.size, b.size]
    for row, lengths in zip(table.itertuples(), (a, b)):
        fit = th.fit_gamma(lengths)
        assert row.alpha == pytest.approx(fit.alpha) and row.rate == pytest.approx(fit.rate)
        assert row.alpha_low < row.alpha < row.alpha_high
        assert row.rate_low < row.rate < row.rate_high
    assert g.main(["--fit", str(path), "--length-column", "thinking", "--by", "model",
                   "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["params"]["by"] == "model" and len(res["fits"]) == 2


def test_single_fit_reports_and_writes_intervals(tmp_path, capsys):
    path, a, b = _file(tmp_path)
    out = tmp_path / "fit.parquet"
    assert g.main(["--fit", str(path), "--length-column", "thinking", "--json", "--out",
                   str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    ci = th.profile_intervals(np.r_[a, b])
    assert res["alpha_low"] == pytest.approx(ci["alpha_low"])
    assert res["rate_high"] == pytest.approx(ci["rate_high"])
    assert pd.read_parquet(out)["alpha"].item() == pytest.approx(res["alpha"])


def test_profile_intervals_match_the_fisher_information_for_large_samples():
    L = sample_lengths(30.0, 6.0, 20_000, seed=3)
    ci = th.profile_intervals(L)
    fit = th.fit_gamma(L)
    cov = np.linalg.inv(th.fisher_information(fit.alpha, fit.rate)) / L.size
    half = 1.959963984540054 * np.sqrt(np.diag(cov))
    assert (ci["alpha_high"] - ci["alpha_low"]) / 2 == pytest.approx(half[0], rel=0.02)
    assert (ci["rate_high"] - ci["rate_low"]) / 2 == pytest.approx(half[1], rel=0.02)


def _coverage(reps, seed0):
    hits = dict(alpha=0, rate=0)
    for r in range(reps):
        ci = th.profile_intervals(sample_lengths(40.0, 8.0, 800, seed=seed0 + r))
        hits["alpha"] += ci["alpha_low"] <= 40.0 <= ci["alpha_high"]
        hits["rate"] += ci["rate_low"] <= 8.0 <= ci["rate_high"]
    return hits


def test_intervals_cover_the_truth_on_simulated_lengths():
    hits = _coverage(30, 100)
    assert all(h >= 25 for h in hits.values()), hits


@pytest.mark.slow
def test_intervals_have_nominal_coverage_over_200_replicates():
    hits = _coverage(200, 1000)
    assert all(180 <= h <= 198 for h in hits.values()), hits


@pytest.mark.parametrize("argv,needle", [
    (["--length-column", "tokens"], "no column 'tokens'"),
    (["--length-column", "thinking", "--by", "team"], "no column 'team'"),
    (["--length-column", "thinking", "--by", "model", "--plot", "x.png"],
     "--plot does not apply to --by"),
    (["--length-column", "thinking", "--budget", "100"], "--budget does not apply to --fit"),
    (["--length-column", "thinking", "--level", "1.5"], "level must be in (0, 1)"),
])
def test_fit_refuses_what_does_not_apply(tmp_path, cli_exit, argv, needle):
    path, _, _ = _file(tmp_path)
    out = tmp_path / "o.csv"
    status, err = cli_exit(g.main, ["--fit", str(path), "--out", str(out), *argv])
    assert status == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_fit_options_are_refused_without_fit(cli_exit):
    for argv in (["--by", "model"], ["--length-column", "x"], ["--level", "0.9"]):
        status, err = cli_exit(g.main, argv)
        assert status == 2 and "does not apply to the toy comparison" in err


def test_out_writes_the_toy_comparison(tmp_path):
    out = tmp_path / "rules.csv"
    assert g.main(["--trials", "200", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert "unguided" in set(df["name"]) and {"adherence_exact", "adherence_sim"} <= set(df)
