"""``python -m sim.coop --out FILE``: the result table of every experiment."""

import pandas as pd
import pytest

from sim.coop.__main__ import main
from theory.coop import CoopParams


def test_team_table_has_one_row_per_member(tmp_path):
    out = tmp_path / "team.csv"
    assert main(["--theta", "0.2,0.4,0.6", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["member"]) == [1, 2, 3] and list(df["theta"]) == [0.2, 0.4, 0.6]
    assert (df["effort"] >= df["free_riding_effort"]).all()


@pytest.mark.parametrize("argv,rows,column", [
    (["--experiment", "apache"], None, "cohesion"),
    (["--experiment", "montecarlo", "--trials", "50"], 1, "ratio_mean"),
    (["--experiment", "repeated", "--trials", "200", "--rounds", "5"], None, "estimate"),
])
def test_every_experiment_writes_its_table(tmp_path, argv, rows, column):
    out = tmp_path / "out.parquet"
    assert main([*argv, "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert column in df.columns and (rows is None or len(df) == rows)


def test_out_to_an_unwritable_place_is_refused_first(tmp_path, cli_exit):
    status, err = cli_exit(main, ["--out", str(tmp_path / "no" / "t.csv")])
    assert status == 2 and "does not exist" in err
    status, err = cli_exit(main, ["--out", str(tmp_path / "t.txt")])
    assert status == 2 and ".csv or .parquet" in err
    assert CoopParams().n == 5  # the default team was not changed by the refusals
