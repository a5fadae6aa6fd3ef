"""What every command line shares: sim._cli and the work/memory guard sim.guard."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from sim import __version__, _cli, guard


def _parser():
    p = _cli.ArgumentParser(prog="prog")
    _cli.add_common_arguments(p, trials=100)
    p.add_argument("--allocate", action="store_true")
    p.add_argument("--rounding", default="largest")
    return p


def test_common_arguments_and_version(capsys):
    p = _parser()
    args = p.parse_args([])
    assert (args.trials, args.seed, args.backend, args.json, args.plot, args.dpi) == (
        100, _cli.DEFAULT_SEED, "auto", False, None, 150.0)
    with pytest.raises(SystemExit) as exc:
        p.parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"budgetlab {__version__}"


def test_explicit_counts_options_given_even_at_their_default():
    p = _parser()
    assert _cli.explicit(p, ["--trials", "100", "--rounding", "largest"]) == {"trials",
                                                                               "rounding"}
    assert _cli.explicit(p, []) == set()
    # defaults survive the second parse
    assert p.parse_args([]).rounding == "largest"


def test_refuse_names_the_flag_and_the_mode():
    given = _cli.explicit(_parser(), ["--allocate", "--rounding", "exact", "--plot", "x.png"])
    with pytest.raises(ValueError, match=r"^--rounding does not apply to --allocate$"):
        _cli.refuse(given, "--allocate", "rounding")
    _cli.refuse(given, "--allocate", "seed")  # not given: no error


def test_envelope_has_params_and_version_and_is_plain_json():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class P:
        a: float = 0.5
        n: int = 3

    out = _cli.envelope(P(), x=np.float64(np.nan), y=np.arange(2), ok=np.bool_(True))
    assert out == {"params": {"a": 0.5, "n": 3}, "version": __version__, "x": None,
                   "y": [0, 1], "ok": True}
    json.dumps(out)


def test_command_turns_errors_into_one_line_and_exit_codes(capsys, monkeypatch):
    monkeypatch.delenv("BUDGETLAB_DEBUG", raising=False)

    @_cli.command("prog")
    def bad(argv=None):
        raise ValueError("rho must be in [0, 1), got 2\nsecond line")

    @_cli.command("prog")
    def boom(argv=None):
        raise ZeroDivisionError("division by zero")

    @_cli.command("prog")
    def stop(argv=None):
        raise KeyboardInterrupt

    assert bad() == 2
    err = capsys.readouterr().err
    assert err == "prog: error: rho must be in [0, 1), got 2\n"
    assert boom() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ZeroDivisionError" in err and "Traceback" not in err
    assert stop() == 130
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.setenv("BUDGETLAB_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        boom()


def test_save_figure_writes_atomically_and_says_where(tmp_path, capsys):
    fig, ax = _cli.new_figure(3, 2)
    ax.plot([0, 1], [0, 1])
    path = tmp_path / "f.png"
    _cli.save_figure(fig, path, dpi=50, prog="prog")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().err == f"prog: figure written to {path}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


def test_write_table_by_extension(tmp_path):
    df = pd.DataFrame({"id": ["a", "b"], "n": [3, 4]})
    _cli.write_table(df, tmp_path / "t.csv")
    _cli.write_table(df, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"), df)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)
    with pytest.raises(ValueError, match="must end in .csv or .parquet"):
        _cli.write_table(df, tmp_path / "t.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet"]


def test_regular_file_refuses_fifos_directories_and_large_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO"):
        _cli.regular_file(fifo, "--rates")
    with pytest.raises(ValueError, match="is a directory"):
        _cli.regular_file(tmp_path, "--rates")
    with pytest.raises(ValueError, match="does not exist"):
        _cli.regular_file(tmp_path / "nope.csv", "--rates")
    f = tmp_path / "r.csv"
    f.write_text("p\n0.5\n")
    assert _cli.regular_file(f, "--rates") == str(f)
    with pytest.raises(ValueError, match="above the limit"):
        _cli.regular_file(f, "--rates", max_bytes=3)


def test_writable_output_is_checked_before_work(tmp_path):
    assert _cli.writable_output(tmp_path / "a.csv") == str(tmp_path / "a.csv")
    with pytest.raises(ValueError, match="does not exist"):
        _cli.writable_output(tmp_path / "missing" / "a.csv", "--out")
    with pytest.raises(ValueError, match="is a directory"):
        _cli.writable_output(tmp_path, "--out")
    made = _cli.writable_output(tmp_path / "run", "--out", directory=True)
    assert os.path.isdir(made)
    if os.path.isdir("/proc"):  # a directory no user, root included, may create files in
        with pytest.raises(ValueError, match="cannot be written"):
            _cli.writable_output("/proc/a.csv", "--out")


def test_guard_names_parameter_estimate_and_limit(monkeypatch):
    with pytest.raises(guard.TooLarge, match=r"^--trials asks for 1e\+15 draws, above this "
                                             r"machine's limit of 1e\+12; lower it or pass --yes"):
        guard.check("--trials", work=1e15, unit="draws")
    guard.check("--trials", work=1e15, allow=True)
    guard.check("--trials", work=1e9)
    monkeypatch.setenv("BUDGETLAB_MEMORY_LIMIT", str(2**30))
    with pytest.raises(guard.TooLarge, match=r"needs about 820 GiB of memory, above this "
                                             r"machine's limit of 1 GiB"):
        guard.check("--budget", memory=820 * 2**30)
    with pytest.raises(guard.TooLarge):
        guard.check("--budget", work=float("inf"))
    assert isinstance(guard.TooLarge("x"), ValueError)


def test_guard_chunks_cover_the_range_within_the_budget():
    spans = list(guard.chunks(10, per_item_bytes=8, budget=24))
    assert spans == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert list(guard.chunks(0, 8, 24)) == []


def test_integer_counts_accept_scientific_notation():
    import argparse

    assert _cli.integer("1000") == 1000 and _cli.integer("1e6") == 10**6
    assert _cli.integer(" 2e3 ") == 2000 and _cli.integer("-3") == -3
    for bad in ("2.5", "nan", "inf", "1e400", "abc", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="invalid integer"):
            _cli.integer(bad)


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        _cli.write_atomic(str(tmp_path / "a.txt"), lambda tmp: open(tmp, "w").write("x"))
        fig, ax = _cli.new_figure(2, 2)
        _cli.save_figure(fig, tmp_path / "f.png", say=False)
    finally:
        os.umask(mask)
    for name in ("a.txt", "f.png"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644


def test_wilson_interval_matches_scipy_and_stays_in_0_1():
    from scipy.stats import binomtest

    from theory._stats import wilson_interval

    for k, n in [(0, 10), (3, 10), (10, 10), (517, 1000), (1, 2)]:
        want = binomtest(k, n).proportion_ci(0.95, method="wilson")
        lo, hi = wilson_interval(k, n)
        assert lo == pytest.approx(want.low, abs=1e-12) and hi == pytest.approx(want.high,
                                                                                abs=1e-12)
    lo, hi = wilson_interval(np.array([0, 5, 20]), 20, level=0.9)
    assert lo[0] == 0.0 and hi[2] == 1.0 and np.all((0 <= lo) & (lo < hi) & (hi <= 1))


def test_work_scale_multiplies_every_limit(monkeypatch):
    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "0.001")
    with pytest.raises(guard.TooLarge, match=r"limit of 1e\+09"):
        guard.check("--trials", work=1e10)
    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "-1")
    with pytest.raises(ValueError, match="BUDGETLAB_WORK_SCALE must be a positive number"):
        guard.check("--trials", work=1.0)


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-3", "1201", "abc"])
def test_every_plot_command_refuses_a_bad_dpi_in_the_parser(value):
    """--dpi is checked by the shared argparse type, before any model code runs."""
    from sim import _cli

    parser = _cli.ArgumentParser(prog="x")
    _cli.add_plot_arguments(parser)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--dpi", value])
    assert info.value.code == 2
    assert parser.parse_args(["--dpi", "1200"]).dpi == 1200.0


def test_writable_output_can_check_a_directory_without_making_it(tmp_path):
    out = tmp_path / "a" / "b" / "run"
    assert _cli.writable_output(out, "--out", directory=True, create=False) == str(out)
    assert not (tmp_path / "a").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="is not a directory"):
        _cli.writable_output(blocker / "run", "--out", directory=True, create=False)
    if os.path.isdir("/proc"):
        with pytest.raises(ValueError, match="cannot be written"):
            _cli.writable_output("/proc/x/run", "--out", directory=True, create=False)
