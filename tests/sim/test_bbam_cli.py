"""``python -m sim.bbam``: defaults from the library, JSON envelope, refusals, bad input."""

import dataclasses
import inspect
import json
import subprocess
import sys

import pytest

from sim import __version__
from sim import bbam as sb
from sim.bbam.__main__ import (
    ALLOCATE_ONLY,
    PLOT_ONLY,
    SIMULATION_ONLY,
    build_parser,
    main,
    params_from_args,
)


def cli_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_parser_defaults_are_the_library_defaults():
    parser = build_parser()
    args = parser.parse_args([])
    assert params_from_args(args) == sb.BbamParams()
    d = sb.BbamParams()
    for f in dataclasses.fields(sb.BbamParams):
        if f.name in vars(args):
            assert getattr(args, f.name) == getattr(d, f.name), f.name
    sig = inspect.signature(sb.simulate).parameters
    assert args.trials == sig["trials"].default == sb.TRIALS
    assert args.seed == sig["seed"].default == 0
    assert args.backend == sig["backend"].default
    assert args.allocators.split(",") == list(sig["names"].default) == list(sb.ALLOCATORS)
    fr = inspect.signature(sb.frontier).parameters
    assert args.plot_trials == fr["trials"].default
    assert [float(x) for x in args.plot_budgets.split(",")] == list(fr["budgets"].default)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"budgetlab {__version__}"


def test_cli_json_table(capsys):
    out = cli_json(capsys, "--trials", "5000", "--backend", "numba")
    assert set(out) >= {"params", "version", "allocators", "trials", "seed", "backend"}
    assert out["version"] == __version__
    assert out["params"] == json.loads(json.dumps(dataclasses.asdict(sb.BbamParams())))
    assert (out["trials"], out["seed"], out["backend"]) == (5000, 0, "numba")
    names = [a["name"] for a in out["allocators"]]
    assert names == list(sb.ALLOCATORS)
    for a in out["allocators"]:
        assert {"name", "accuracy", "tokens", "e3", "ci_low", "ci_high"} <= set(a)
        assert a["ci_low"] <= a["accuracy"] <= a["ci_high"]
        assert a["e3"] == pytest.approx(a["accuracy"] ** 2 / a["tokens"])


def test_cli_allocate_reproduces_the_worked_example(capsys):
    # docs/models/bbam.md, "Worked example": c = (0.5, 0.3, 0.9), beta = (1, 1.5, 2.5), B = 300
    out = cli_json(capsys, "--allocate", "--c", "0.5,0.3,0.9", "--beta", "1,1.5,2.5",
                   "--budget", "300")
    assert out["params"] == {"budget": 300.0, "c": [0.5, 0.3, 0.9], "beta": [1.0, 1.5, 2.5]}
    assert out["version"] == __version__
    assert out["exact"] == pytest.approx([201.337, 66.809, 31.854], abs=1e-3)
    assert out["paper"] == pytest.approx([78.730, 80.898, 140.371], abs=1e-3)
    assert out["uniform"] == pytest.approx([100, 100, 100])
    obj = out["objective"]
    assert obj["exact"] == pytest.approx(3.18993e-3, rel=1e-5)
    assert obj["paper"] == pytest.approx(6.76697e-3, rel=1e-5)
    assert obj["uniform"] == pytest.approx(5.30900e-3, rel=1e-5)
    assert obj["paper"] / obj["exact"] > 2.0


def test_cli_allocate_report(capsys):
    assert main(["--allocate", "--c", "0.5,0.3,0.9", "--beta", "1,1.5,2.5", "--budget",
                 "300"]) == 0
    out = capsys.readouterr().out
    assert "201.337" in out and "78.730" in out and "100.000" in out


def test_cli_report_and_plot(tmp_path, capsys):
    path = tmp_path / "frontier.png"
    assert main(["--trials", "3000", "--plot", str(path), "--plot-budgets", "150,400",
                 "--plot-trials", "2000", "--backend", "numba", "--dpi", "60"]) == 0
    captured = capsys.readouterr()
    assert "allocators" in captured.out and "exact" in captured.out
    assert "polynomial" in captured.out
    assert f"figure written to {path}" in captured.err
    assert path.read_bytes()[:4] == b"\x89PNG"


BAD = [
    (["--allocate", "--c", "0.5,-0.3", "--beta", "1,2"], "c must be"),
    (["--allocate", "--c", "0.5,0.3", "--beta", "1,0"], "beta must be"),
    (["--allocate", "--c", "0.5,0.3", "--beta", "1,2,3"], "same length"),
    (["--allocate", "--c", "", "--beta", "1"], "c must be a non-empty"),
    (["--allocate", "--c", "0.5", "--beta", "1", "--budget", "-3"], "budget must be in"),
    (["--allocate", "--c", "0.5"], "needs --c and --beta"),
    (["--budget", "0"], "budget must be in"),
    (["--allocators", "uniform,greedy"], "allocator must be one of"),
    (["--synthesis", "vote"], "synthesis must be one of"),
    (["--rounding", "nearest"], "rounding must be one of"),
    (["--beta-range", "2"], "beta-range must be two numbers"),
    (["--planner-noise", "-1"], "planner_noise must be in"),
    (["--trials", "1"], "trials must be an integer in"),
    (["--seed", "-1"], "seed must be an integer in"),
    (["--plot", "x.png", "--plot-trials", "1"], "plot_trials must be an integer in"),
    (["--plot", "x.png", "--plot-budgets", "100,-5"], "plot-budgets must be in"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_cli_bad_input_exits_2_with_one_line(argv, message, cli_exit):
    status, err = cli_exit(main, argv)
    assert status == 2
    assert err.count("\n") == 1, err
    assert message in err


# One option of each kind, with a value where it takes one.
_VALUES = {"beta_range": "1,2", "half_range": "20,200", "front_loading": "0.3",
           "u_ale_max": "0.05", "planner_noise": "0.3", "synthesis": "all",
           "synthesis_accuracy": "1", "rounding": "paper", "min_tokens": "0",
           "carry_over": None, "allocators": "exact", "trials": "100", "seed": "0",
           "backend": "numpy", "plot": "x.png", "dpi": "100", "plot_budgets": "100,200",
           "plot_trials": "100", "c": "1", "beta": "1", "yes": None}


def _option(dest):
    flag = "--" + dest.replace("_", "-")
    return [flag] if _VALUES[dest] is None else [flag, _VALUES[dest]]


@pytest.mark.parametrize("dest", SIMULATION_ONLY)
def test_allocate_refuses_the_simulation_options(dest, cli_exit):
    # even at their default values: an option of the other mode is never silently ignored
    status, err = cli_exit(main, ["--allocate", "--c", "1,2", "--beta", "1,1", *_option(dest)])
    assert status == 2 and err.count("\n") == 1, err
    assert f"--{dest.replace('_', '-')} does not apply to --allocate" in err


@pytest.mark.parametrize("dest", ALLOCATE_ONLY)
def test_the_simulation_refuses_the_one_question_options(dest, cli_exit):
    status, err = cli_exit(main, [*_option(dest), "--trials", "100"])
    assert status == 2 and err.count("\n") == 1, err
    assert f"--{dest} does not apply to the simulation" in err


@pytest.mark.parametrize("dest", PLOT_ONLY)
def test_figure_options_need_plot(dest, cli_exit):
    status, err = cli_exit(main, [*_option(dest), "--trials", "100"])
    assert status == 2 and err.count("\n") == 1, err
    assert f"--{dest.replace('_', '-')} does not apply to a run without --plot" in err


def test_module_entry_point_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "sim.bbam", "--allocate", "--c", "1,x",
                           "--beta", "1,1"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1

