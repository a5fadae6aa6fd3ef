"""Monte Carlo of rollout allocation against the closed forms, and the command line.

Equation numbers refer to docs/models/knapsack.md.
"""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import knapsack as sk
from sim import rng
from sim.knapsack import kernel_array, kernel_numba, reference
from sim.knapsack.__main__ import main
from sim.knapsack.layout import STREAM
from theory import knapsack as th


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_simulated_ratios_match_their_expectation(backend):
    df, allocation, p, _ = sk.simulate_batch(replicates=3000, seed=4, backend=backend)
    assert list(df.name) == list(sk.ALLOCATORS)
    z_egr = (df.egr_sim - df.egr_expected) / df.egr_se
    z_epr = (df.prompt_ratio_sim - df.prompt_ratio) / df.prompt_ratio_se
    assert np.all(np.abs(z_egr) <= 4), df[["name", "egr_sim", "egr_expected"]]
    assert np.all(np.abs(z_epr) <= 4), df[["name", "prompt_ratio_sim", "prompt_ratio"]]
    for name, N in allocation.items():
        assert N.sum() == 256 * 8 and N.min() >= 2 and N.max() <= 128, name
    # the knapsack moves rollouts into mixed groups (about 0.36 -> 0.69 on this mixture)
    egr = dict(zip(df.name, df.egr_expected))
    assert egr["knapsack"] > egr["uniform"] + 0.2


def test_binomial_kernel_mixed_fraction_matches_f():
    p = np.array([0.01, 0.05, 0.25, 0.5, 0.9])
    for n in (2, 8, 64):
        N = np.full(p.size, n)
        K = sk.mixed_groups(N, p, 200_000, seed=1, backend="numba")
        frac = ((K > 0) & (K < n)).mean(axis=0)
        f = th.prob_nonzero_gradient(n, p)
        assert np.all(np.abs(frac - f) <= 4 * np.sqrt(f * (1 - f) / 200_000) + 1e-12)


def test_backends_draw_identical_rollouts():
    gen = np.random.default_rng(3)
    N = gen.integers(2, 40, 50)
    p = gen.uniform(0, 1, 50)
    a = sk.mixed_groups(N, p, 300, seed=8, backend="numba")
    b = sk.mixed_groups(N, p, 300, seed=8, backend="numpy")
    key = rng.stream_key(8, STREAM)
    c = kernel_array.successes(np, N, p, 300, key)
    assert np.array_equal(a, b) and np.array_equal(b, c)
    assert np.array_equal(kernel_numba.successes(N, p, 300, key), reference.successes(N, p, 300,
                                                                                     key))


@settings(max_examples=60)
@given(st.lists(st.sampled_from([0.0, 1.0, 0.5, 0.25, 0.75, 0.1, 0.9, 0.03]), min_size=1,
                max_size=30),
       st.integers(0, 300), st.integers(1, 4), st.integers(4, 40))
def test_numba_greedy_equals_heap_greedy(ps, extra, n_low, n_up):
    p = np.array(ps)
    budget = len(ps) * n_low + extra
    a = sk.allocate_greedy_numba(p, budget, n_low, n_up)
    b = th.allocate_greedy(p, budget, n_low, n_up, method="heap")
    assert np.array_equal(a, b)


def test_estimator_follows_the_official_rule():
    # last visit with >= 16 rollouts: its own rate
    assert sk.estimate_from_history([3, 10], [8, 20], 16) == (0.5, 28)
    # fewer: newest first, padded with older rewards up to 16
    p, count = sk.estimate_from_history([8, 1, 2], [8, 4, 8], 16)
    assert count == 20 and p == pytest.approx((2 + 1 + 8 * 4 / 8) / 16)
    assert sk.estimate_from_history([], [], 16) == (0.0, 0)


def test_training_knapsack_raises_egr_at_equal_budget():
    df = sk.simulate_training(epochs=4, dataset=512, seed=2,
                              names=("uniform", "knapsack", "knapsack-no-fallback"))
    later = df[df.epoch >= 2].groupby("allocator").egr.mean()
    assert later["knapsack"] > later["uniform"] + 0.15
    rollouts = df.groupby("allocator").rollouts.first()
    assert rollouts["knapsack"] == rollouts["uniform"] == 512 * 8
    # epoch 1 has no valid estimates: every allocator is homogeneous
    first = df[df.epoch == 1].set_index("allocator").max_budget
    assert first["knapsack"] == first["uniform"] == 8


def cli_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_json_and_allocation(capsys):
    out = cli_json(capsys, "--trials", "300", "--show-allocation", "--backend", "numba")
    names = [a["name"] for a in out["allocators"]]
    assert names == ["uniform", "knapsack", "knapsack-reference"]
    for a in out["allocators"]:
        assert {"name", "egr_expected", "egr_sim", "prompt_ratio", "max_budget", "min_budget",
                "value"} <= set(a)
    alloc = out["allocation"]
    assert set(alloc) == set(names)
    assert all(len(v) == 256 and sum(v) == 2048 for v in alloc.values())
    assert out["params"]["budget"] == 2048


def test_cli_rates_file_keeps_input_order(tmp_path, capsys):
    rates = [0.5, 0.0, 0.02, 1.0, 0.3, 0.9]
    path = tmp_path / "rates.csv"
    pd.DataFrame({"p": rates, "id": range(6)}).to_csv(path, index=False)
    out = cli_json(capsys, "--rates", str(path), "--stale-sd", "0", "--estimate-samples", "1000",
                   "--trials", "200", "--show-allocation", "--n", "8")
    N = out["allocation"]["knapsack"]
    assert len(N) == 6 and sum(N) == 48
    # unsolved and solved prompts stay at n_low unless the fallback gives them the surplus
    assert N[2] >= N[0] and N[3] == 2
    pq = tmp_path / "rates.parquet"
    pd.DataFrame({"p": rates}).to_parquet(pq)
    out2 = cli_json(capsys, "--rates", str(pq), "--stale-sd", "0", "--estimate-samples", "1000",
                    "--trials", "200", "--show-allocation", "--n", "8")
    assert out2["allocation"]["uniform"] == [8] * 6


def test_cli_train_and_plot(tmp_path, capsys):
    path = tmp_path / "k.png"
    assert main(["--train", "--epochs", "2", "--dataset", "512", "--trials", "200",
                    "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    assert "toy training" in out and "uniform-2x" in out
    assert path.read_bytes()[:4] == b"\x89PNG"


def bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "nocol.csv").write_text("q\n0.5\n")
    (tmp_path / "out.csv").write_text("p\n0.5\n1.5\n")
    (tmp_path / "nan.csv").write_text("p\n0.5\n\n0.2\nnan\n")
    return tmp_path


BAD = [
    (["--rates", "{d}/empty.csv"], "could not be read"),
    (["--rates", "{d}/nocol.csv"], "has no column 'p'"),
    (["--rates", "{d}/out.csv"], "rates must be in [0, 1], got 1.5"),
    (["--rates", "{d}/nan.csv"], "missing or non-numeric"),
    (["--rates", "{d}/absent.csv"], "--rates {d}/absent.csv does not exist"),
    (["--budget", "100"], "budget must be an integer in [512, inf]"),
    (["--n-low", "9", "--n-up", "4"], "n_low must be <= n_up"),
    (["--prompts", "0"], "prompts must be an integer in"),
    (["--trials", "1"], "trials must be an integer in"),
    (["--mixture", "1,a"], "--mixture must be a comma-separated list of numbers, got '1,a'"),
    (["--mixture", "1,2"], "mixture must be three non-negative weights"),
    (["--beta-a", "0"], "beta_a must be in (0, inf], got 0"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_cli_bad_input_exits_2_with_one_line(argv, message, tmp_path, cli_exit):
    d = bad_files(tmp_path)
    status, err = cli_exit(main, [a.format(d=d) for a in argv])
    assert status == 2
    assert err.count("\n") == 1, err
    assert message.format(d=d) in err


def test_module_entry_point_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "sim.knapsack", "--n-low", "5", "--n-up", "3"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_clipped_advantage_fraction_matches_binomial_expectation():
    N, p, groups = 93, 0.02, 40_000
    K = sk.mixed_groups(np.full(groups, N), np.full(groups, p), 1, seed=5, backend="numba")[0]
    a_pos, a_neg = th.grpo_advantages(K, N, clip=None)
    clipped = (K * (a_pos > 5.0) + (N - K) * (-a_neg > 5.0)) / N
    expected = th.expected_clipped_fraction(N, p)
    se = clipped.std(ddof=1) / np.sqrt(groups)
    assert expected > 0.005
    assert abs(clipped.mean() - expected) <= 4 * se


# ----------------------------------------------------------------------------
# the model interface and the command-line conventions
# ----------------------------------------------------------------------------

def test_package_follows_the_model_interface():
    from sim import registry
    from sim.interface import Model
    from theory.knapsack import KnapsackSimParams

    mod = registry.model("knapsack")
    assert isinstance(mod, Model) and mod.NAME == "knapsack"
    assert mod.Params is KnapsackSimParams is sk.KnapsackSimParams
    assert sk.SWEEP.name == "knapsack"
    assert {p.name for p in sk.SWEEP.params} == {
        "prompts", "n", "budget", "n_low", "n_up", "beta_a", "estimate_samples", "stale_sd",
        "rates"}
    df = sk.simulate(sk.Params(prompts=32), trials=50, seed=3, backend="numpy")
    assert list(df["name"]) == list(sk.ALLOCATORS)
    assert {"egr_expected", "egr_sim", "egr_se", "seed", "backend", "version"} <= set(df.columns)
    assert (df["seed"] == 3).all() and (df["backend"] == "numpy").all()


def test_parser_defaults_are_the_library_defaults():
    import dataclasses
    import inspect

    from sim.knapsack.__main__ import build_parser

    parser = build_parser()
    for f in dataclasses.fields(sk.Params):
        assert parser.get_default(f.name) == f.default, f.name
    training = inspect.signature(sk.simulate_training).parameters
    for name in ("epochs", "dataset", "lr", "transfer"):
        assert parser.get_default(name) == training[name].default, name
    assert parser.get_default("trials") == inspect.signature(sk.simulate).parameters[
        "trials"].default
    assert parser.get_default("seed") == 0 == inspect.signature(sk.simulate).parameters[
        "seed"].default


def test_version_and_json_envelope(capsys):
    from sim import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"budgetlab {__version__}"
    out = cli_json(capsys, "--trials", "50", "--prompts", "16", "--seed", "2",
                   "--backend", "numpy")
    assert out["version"] == __version__
    assert out["params"]["prompts"] == 16 and out["params"]["trials"] == 50
    assert out["params"]["seed"] == 2 and out["params"]["backend"] == "numpy"
    assert out["params"]["mixture"] == [0.4, 0.2, 0.4]


REFUSED = [
    (["--epochs", "3"], "--epochs does not apply to a run without --train"),
    (["--lr", "100"], "--lr does not apply to a run without --train"),
    (["--rates", "{d}/ok.csv", "--prompts", "8"], "--prompts does not apply to --rates"),
    (["--rates", "{d}/ok.csv", "--beta-a", "0.5"], "--beta-a does not apply to --rates"),
    (["--dpi", "300"], "--dpi does not apply to a run without --plot"),
]


@pytest.mark.parametrize("argv,message", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_options_outside_their_mode_are_refused(argv, message, tmp_path, cli_exit):
    (tmp_path / "ok.csv").write_text("p\n0.5\n0.2\n")
    status, err = cli_exit(main, [a.format(d=tmp_path) for a in argv])
    assert status == 2 and err.count("\n") == 1
    assert message in err


def test_mixture_and_beta_shape_reach_the_population(capsys):
    # all prompts near-unsolved: every true rate is in [0, 0.02], so E[EGR] of uniform is small
    out = cli_json(capsys, "--trials", "50", "--mixture", "0,1,0", "--backend", "numpy")
    uniform = out["allocators"][0]
    assert uniform["name"] == "uniform"
    # f(8, 0.02) = 0.149 bounds E[EGR] of 8 rollouts at rates <= 0.02, docs/models/knapsack.md (1)
    assert uniform["egr_expected"] <= 1 - 0.98**8 - 0.02**8
    status = main(["--mixture", "1,2", "--json"])
    assert status == 2
    assert "mixture must be three non-negative weights" in capsys.readouterr().err


def test_plot_functions_draw_on_given_axes():
    from matplotlib.figure import Figure

    df, allocation, p, p_hat = sk.simulate_batch(sk.Params(prompts=64), replicates=20,
                                                 backend="numpy")
    table = sk.allocation_table(allocation, p, p_hat)
    assert len(table) == 64 * len(sk.ALLOCATORS)
    ax = Figure().subplots()
    assert sk.plot_allocation(table, ax) is ax
    assert len(ax.collections) == len(sk.ALLOCATORS)
    assert ax.get_yscale() == "log"
    # plain labels on the log axis ("20", not "2x10^1")
    assert ax.yaxis.get_major_formatter()(20.0, 0) == "20"
    train = sk.simulate_training(sk.Params(prompts=64), epochs=2, dataset=128, seed=1,
                                 names=("uniform", "knapsack"))
    ax2 = Figure().subplots()
    assert sk.plot_training(train, ax2) is ax2 and len(ax2.lines) == 2
    with pytest.raises(ValueError, match="metric must be"):
        sk.plot_training(train, ax2, "nonsense")


def test_sweep_figure_has_a_line_and_points_per_allocator():
    from matplotlib.figure import Figure

    parts = []
    for n in (4, 12):
        values = {p.name: p.default for p in sk.SWEEP.params}
        values.update(n=n, prompts=32)
        df = sk.SWEEP.point(values, 1, 40, "numpy")
        df["n"] = n
        parts.append(df)
    rows = pd.concat(parts, ignore_index=True)
    assert set(rows["quantity"]) == {"effective_gradient_ratio"}
    assert np.allclose(rows["theory"], rows["egr_expected"])
    ax = Figure().subplots()
    assert sk.SWEEP.plot(rows, {"axes": {"n": [4, 12]}}, ax) is ax
    assert len(ax.lines) >= len(sk.ALLOCATORS) and len(ax.containers) == len(sk.ALLOCATORS)
    assert ax.get_xlabel() == "n"


def test_sweep_over_a_rates_file(tmp_path):
    import pathlib

    from sim.sweep import collect, make_spec, prepare_dir, run_sweep
    from sim.sweep.execute import make_executor

    rates = tmp_path / "rates.csv"
    rates.write_text("p\n0.5\n0.0\n0.02\n1.0\n0.3\n0.9\n")
    assert sk.SWEEP.param("rates").kind is pathlib.Path
    spec = make_spec("knapsack", {"rates": str(rates), "prompts": "6", "stale_sd": "0,0.5"},
                     trials=100, backend="numpy")
    assert spec.manifest()["files"] == {str(rates.resolve()): __import__("hashlib").sha256(
        rates.read_bytes()).hexdigest()}
    out = tmp_path / "sw"
    prepare_dir(out, spec)
    closing = make_executor("inline")
    run_sweep(spec, out, closing.executor)
    closing.close()
    df = collect(out)
    assert set(df.rates) == {str(rates.resolve())} and set(df.prompts) == {6}
    assert (df.budget_used == 48).all()
    z = (df.estimate - df.theory) / df.se.where(df.se > 0, 1.0)
    assert (z.abs() <= 4).all()
    # a changed file is a different sweep; a missing one and a wrong prompt count are one line
    rates.write_text("p\n0.5\n0.1\n0.02\n1.0\n0.3\n0.9\n")
    with pytest.raises(ValueError, match="differs in files"):
        prepare_dir(out, make_spec("knapsack", {"rates": str(rates), "prompts": "6",
                                                "stale_sd": "0,0.5"}, trials=100,
                                   backend="numpy"))
    with pytest.raises(ValueError, match="does not exist"):
        make_spec("knapsack", {"rates": str(tmp_path / "absent.csv")})
    with pytest.raises(ValueError, match="prompts must be the number of rates"):
        make_spec("knapsack", {"rates": str(rates)})
