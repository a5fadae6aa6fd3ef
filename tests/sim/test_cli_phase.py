"""The command line ``python -m sim.phase``."""

import inspect
import json
import subprocess
import sys

import pytest

from sim import __version__
from sim import phase as sp
from sim.phase.__main__ import build_parser, main
from theory import phase as th


def run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_documented_keys(capsys):
    out = run_json(capsys, "--rho", "0.3", "--trials", "4000", "--backend", "numba")
    for key in ("alpha", "s", "regime", "gamma_c", "rho_c", "p_star", "mixing_depth",
                "params", "levels"):
        assert key in out
    assert out["regime"] in ("amplifying", "washout", "critical")
    assert out["params"]["rho"] == 0.3 and out["params"]["b"] == 3
    assert out["params"]["gamma"] == 0.9 and out["params"]["depth"] == 8
    assert out["version"] == __version__
    assert (out["trials"], out["seed"], out["backend"]) == (4000, 0, "numba")
    levels = out["levels"]
    assert [lv["level"] for lv in levels] == list(range(9))
    assert levels[0]["p_theory"] == pytest.approx(0.6)
    for lv in levels:
        assert set(lv) == {"level", "p_theory", "p_sim", "ci_low", "ci_high"}
        assert lv["ci_low"] <= lv["p_sim"] <= lv["ci_high"]
    # the numbers are those of the theory module
    assert out["alpha"] == pytest.approx(0.9 * (0.3 + 0.7 * 1.5))
    assert out["gamma_c"] == pytest.approx(1 / (0.3 + 0.7 * 1.5))
    assert out["p_star"] == pytest.approx((1 + th.fixed_point(3, 0.3, 0.9)) / 2)


def test_washout_regime_reported(capsys):
    out = run_json(capsys, "--rho", "0.5", "--gamma", "0.6", "--trials", "2000",
                   "--depth", "4", "--backend", "numba")
    assert out["regime"] == "washout"
    assert out["mixing_depth"] is None
    assert out["p_star"] == pytest.approx(0.5)


def test_item_model_reports_rho_free_threshold(capsys):
    out = run_json(capsys, "--rho", "0.5", "--gamma", "0.75", "--correlation", "item",
                   "--trials", "2000", "--depth", "4", "--backend", "numba")
    # herding would wash out here (alpha_rho = 0.9375) but the item model amplifies
    # (alpha_0 = 1.125)
    assert out["alpha"] == pytest.approx(0.9375)
    assert out["regime"] == "amplifying"
    assert out["gamma_c"] == pytest.approx(2 / 3)
    assert out["params"]["correlation"] == "item"


def test_budget_analysis(capsys):
    out = run_json(capsys, "--rho", "0.1", "--gamma", "1.0", "--trials", "2000", "--depth", "3",
                   "--beta", "0.2", "--budget", "1e6", "--msg-tokens", "100",
                   "--context", "8000", "--backend", "numba")
    bud = out["budget"]
    s = out["s"]
    assert bud["synergy"] is (s > 0.2)
    c0 = 2 * 100 * 3 / 2
    assert bud["c0"] == pytest.approx(c0)
    assert bud["x_star"] == pytest.approx(0.2 / (s - 0.2) * c0)


def test_human_report(capsys):
    assert main(["--rho", "0.3", "--trials", "2000", "--depth", "3", "--backend", "numba"]) == 0
    out = capsys.readouterr().out
    for word in ("alpha_rho", "regime", "gamma_c", "p*", "mixing depth", "accuracy by level"):
        assert word in out


def test_plot_writes_png(tmp_path, capsys):
    path = tmp_path / "phase.png"
    assert main(["--depth", "3", "--trials", "500", "--plot", str(path), "--plot-grid", "4",
                 "--plot-trials", "256", "--backend", "numba", "--dpi", "60"]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure written to {path}" in capsys.readouterr().err


BAD = [
    (["--rho", "1.0"], "rho must be in [0, 1)"),
    (["--rho", "-0.1"], "rho must be in [0, 1)"),
    (["--b", "4"], "b must be an odd integer >= 3"),
    (["--b", "1"], "b must be an odd integer >= 3"),
    (["--gamma", "0"], "gamma must be in (0, 1]"),
    (["--gamma", "1.5"], "gamma must be in (0, 1]"),
    (["--p0", "1.2"], "p0 must be in [0, 1]"),
    (["--depth", "-1"], "depth must be an integer in"),
    (["--trials", "0"], "trials must be an integer in"),
    (["--beta", "0.3", "--budget", "-5"], "budget must be in (0, inf)"),
    (["--beta", "-0.3", "--budget", "5"], "beta must be in (0, inf)"),
    (["--beta", "0.3"], "needs both --beta and --budget"),
    (["--backend", "gpu9"], "invalid choice"),
    (["--b", "three"], "invalid integer"),
    (["--depth", "30"], "--trials * b**depth asks for 2.1e+19 leaf-votes, above this machine's "
                        "limit of 1e+11"),
    (["--correlation", "copying"], "invalid choice"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(argv, message, cli_exit):
    status, err = cli_exit(main, argv)
    assert status == 2
    assert err.count("\n") == 1, err
    assert message in err


def test_module_entry_point_bad_input_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "sim.phase", "--rho", "1.5"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "python -m sim.phase: error: rho must be in [0, 1), got 1.5"
    assert "Traceback" not in proc.stderr


def test_parser_defaults_are_the_library_defaults():
    parser = build_parser()
    args = parser.parse_args([])
    params = sp.Params()
    for name in ("b", "rho", "gamma", "depth", "p0", "correlation", "rho_node", "root_channel"):
        assert getattr(args, name) == getattr(params, name), name
    budget = inspect.signature(th.budget_analysis).parameters
    assert args.msg_tokens == budget["msg_tokens"].default == 256
    assert args.context == budget["context"].default
    assert args.t is budget["t"].default is None
    assert args.trials == inspect.signature(sp.simulate).parameters["trials"].default
    assert args.seed == inspect.signature(sp.simulate).parameters["seed"].default == 0
    diagram = inspect.signature(sp.phase_diagram).parameters
    assert args.plot_trials == diagram["trials"].default


def test_budget_defaults_match_between_cli_and_library(capsys):
    # the report's budget analysis equals the library's with its own defaults
    out = run_json(capsys, "--rho", "0.2", "--trials", "64", "--depth", "2", "--beta", "0.1",
                   "--budget", "5e5", "--backend", "numba")
    lib = th.budget_analysis(th.PhaseParams(rho=0.2, depth=2), beta=0.1, budget=5e5)
    assert out["budget"]["c0"] == pytest.approx(lib["c0"]) == pytest.approx(2 * 256 * 3 / 2)
    assert out["budget"]["b_max"] == lib["b_max"]


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"budgetlab {__version__}"


REFUSED = [
    (["--plot-grid", "4"], "--plot-grid does not apply to a run without --plot"),
    (["--plot-trials", "64"], "--plot-trials does not apply to a run without --plot"),
    (["--dpi", "300"], "--dpi does not apply to a run without --plot"),
    (["--msg-tokens", "64"], "--msg-tokens does not apply to a run without --beta and --budget"),
    (["--context", "8000"], "--context does not apply to a run without --beta and --budget"),
    (["--t", "0.5"], "--t does not apply to a run without --beta and --budget"),
]


@pytest.mark.parametrize("argv,message", REFUSED, ids=[a[0] for a, _ in REFUSED])
def test_options_of_another_mode_are_refused(argv, message, cli_exit):
    # refused even when the value equals the default, before any simulation
    status, err = cli_exit(main, ["--trials", "64", *argv])
    assert status == 2
    assert err == f"python -m sim.phase: error: {message}\n"
