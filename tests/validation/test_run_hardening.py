"""``python -m validation.run`` with hostile or extreme input: refused before work, or right."""

import os

import numpy as np
import pandas as pd
import pytest

from validation import records, run, task


def _one_line(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("value", ["inf", "1e309", "101", "nan", "-0.5"])
def test_temperature_out_of_range(cli_exit, tmp_path, value):
    status, err = cli_exit(run.main, ["--questions", "2", "--samples", "1", "--temperature",
                                      value, "--out", str(tmp_path / "r")])
    assert status == 2 and "temperature" in _one_line(err)
    assert not (tmp_path / "r" / "meta.json").exists()


def test_meta_never_holds_infinity(tmp_path):
    table = pd.read_parquet(os.path.join(os.path.dirname(__file__), "..", "..", "data", "runs",
                                         "smollm2-135m-instruct", "samples.parquet")).iloc[:8]
    with pytest.raises(ValueError, match="meta.json.*finite"):
        records.write_run(tmp_path, table, dict(model=None, checkpoint_sha256=None,
                                                decoding=dict(temperature=float("inf"))))
    assert not (tmp_path / "meta.json").exists()


def test_an_unwritable_out_is_refused_before_sampling(cli_exit, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, err = cli_exit(run.main, ["--questions", "2", "--samples", "1",
                                      "--out", str(blocker / "run")])
    assert status == 2 and "--out" in _one_line(err)
    status, err = cli_exit(run.main, ["--questions", "2", "--samples", "1", "--out",
                                      str(tmp_path / "ok"), "--plot",
                                      str(tmp_path / "missing" / "fig.png")])
    assert status == 2 and "--plot" in _one_line(err)
    assert not (tmp_path / "ok" / "meta.json").exists()


def test_a_huge_run_is_refused_and_yes_names_the_way_past(cli_exit, tmp_path):
    status, err = cli_exit(run.main, ["--questions", "1000000", "--samples", "1000",
                                      "--out", str(tmp_path / "r")])
    line = _one_line(err)
    assert status == 2 and "--questions x --samples" in line and "--yes" in line
    assert not (tmp_path / "r" / ".parts").exists()


def test_rows_cut_by_max_new_tokens_have_at_most_that_many_tokens(tmp_path):
    out = tmp_path / "r"
    assert run.main(["--questions", "6", "--samples", "2", "--max-new-tokens", "5",
                     "--out", str(out), "--json"]) == 0
    t = records.read_run(out).table
    assert (t["total_length"] <= 5).all() and (t["thinking_length"] <= 5).all()
    cut = t[~t["finished"]]
    assert len(cut) > 0 and (cut["total_length"] == 5).all()  # level 2+ needs more than 5


def test_a_tiny_top_p_is_greedy_not_broken(tmp_path):
    """top_p = 1e-300 rounds to 0 in float32: the most likely token must still be kept."""
    out_p, out_g = tmp_path / "p", tmp_path / "g"
    assert run.main(["--questions", "6", "--samples", "2", "--top-p", "1e-300",
                     "--out", str(out_p), "--json"]) == 0
    assert run.main(["--questions", "6", "--samples", "2", "--temperature", "0",
                     "--out", str(out_g), "--json"]) == 0
    p, g = records.read_run(out_p).table, records.read_run(out_g).table
    assert p["finished"].all()
    # the nucleus of one token is greedy decoding: the same completions as temperature 0
    np.testing.assert_array_equal(p["answer"].to_numpy(), g["answer"].to_numpy())
    qs = task.make_questions(6, "1:6", 0)
    assert p["correct"].mean() >= 0.5 or len(qs) == 0


def test_check_refuses_a_run_made_by_another_checkpoint(cli_exit, tmp_path):
    """A run naming model tiny with another checkpoint's hash is not checked with tiny."""
    from validation.check.__main__ import main as check_main

    table = pd.read_parquet(os.path.join(os.path.dirname(__file__), "..", "..", "data", "runs",
                                         "smollm2-135m-instruct", "samples.parquet")).iloc[:16]
    records.write_run(tmp_path / "r", table, dict(model="tiny", checkpoint_sha256="ab" * 32,
                                                  decoding={}))
    status, err = cli_exit(check_main, [str(tmp_path / "r"), "--only", "gamma"])
    line = _one_line(err)
    assert status == 2 and "checkpoint_sha256 abababababab" in line and "--model" in line


def test_check_quick_refuses_an_unwritable_run_dir_before_sampling(cli_exit, tmp_path):
    from validation.check.__main__ import main as check_main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, err = cli_exit(check_main, ["--quick", str(blocker / "quick")])
    assert status == 2 and "run_dir" in _one_line(err)
    status, err = cli_exit(check_main, ["--quick", str(tmp_path / "q"), "--report",
                                        str(blocker / "rep")])
    assert status == 2 and "--report" in _one_line(err)
    assert not (tmp_path / "q").exists()
