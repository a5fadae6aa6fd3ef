"""The model interface: every registered model provides it in every layer, or says why not."""

import importlib
import importlib.util
import inspect

import pytest

from sim import registry
from sim.interface import Model, SweepModel


@pytest.mark.parametrize("name", registry.MODELS)
def test_every_model_package_provides_the_interface(name):
    mod = registry.model(name)
    assert isinstance(mod, Model)
    assert mod.NAME == name
    assert isinstance(mod.SWEEP, SweepModel) and mod.SWEEP.name == name
    # the params class is frozen, validating, and lives in theory
    assert mod.Params.__module__.split(".")[0] == "theory"
    assert mod.Params.__dataclass_params__.frozen
    assert {"trials", "seed", "backend"} <= set(inspect.signature(mod.simulate).parameters)
    # the public surface is what __all__ says
    assert {"NAME", "Params", "simulate", "SWEEP"} <= set(mod.__all__)
    assert all(hasattr(mod, n) for n in mod.__all__)
    # a command line in __main__
    assert importlib.util.find_spec(f"sim.{name}.__main__") is not None


@pytest.mark.parametrize("name", registry.MODELS)
def test_every_model_has_a_gpu_check(name):
    mod = importlib.import_module(f"gpu.check.{name}")
    assert list(inspect.signature(mod.check).parameters)[:3] == ["xp", "trials", "bench_trials"]


@pytest.mark.parametrize("name", registry.MODELS)
def test_every_model_has_a_run_check_or_says_why_not(name):
    from validation import check as vc

    assert (name in vc.CHECKS) != (name in vc.NO_RUN_CHECK)
    if name in vc.CHECKS:
        mod = vc.check_module(name)
        assert isinstance(mod, vc.Check) and mod.NAME == name
        assert mod.PANELS >= 1 and len(mod.FIGSIZE) == 2
    else:
        with pytest.raises(ValueError, match=f"{name} has no check against model runs"):
            vc.check_module(name)


def test_unknown_model_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"^model must be one of phase, .*got 'vibes'$"):
        registry.model("vibes")


def test_a_package_without_the_interface_is_refused(monkeypatch):
    import types

    fake = types.ModuleType("sim.fake")
    fake.NAME = "fake"
    monkeypatch.setitem(__import__("sys").modules, "sim.fake", fake)
    monkeypatch.setattr(registry, "MODELS", registry.MODELS + ("fake",))
    with pytest.raises(TypeError, match="missing Params, simulate, SWEEP"):
        registry.model("fake")


_CHEAP = {"phase": ["--trials", "2000", "--depth", "3"], "bbam": ["--trials", "2000"],
          "knapsack": ["--trials", "20"], "coop": [], "gamma": ["--trials", "200"],
          "workflow": ["--trials", "3", "--nodes", "4", "--rollouts", "8"]}


@pytest.mark.parametrize("name", registry.MODELS)
def test_every_command_line_prints_params_and_version_and_has_version(name, capsys):
    import json

    from sim import __version__

    main = importlib.import_module(f"sim.{name}.__main__").main
    assert main([*_CHEAP.get(name, []), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == __version__ and isinstance(out["params"], dict) and out["params"]
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"budgetlab {__version__}"
