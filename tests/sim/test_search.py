"""The search simulator: backends bit for bit, closed forms within 4 SE, the rules' comparison,
the command line (docs/models/search.md)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from dataclasses import replace

import numpy as np
import pytest

import sim.search as ss
from sim.search import core, reference, tables
from theory import search as th
from theory.search import SearchParams

VARIANTS = [
    SearchParams(),
    SearchParams(critic="absolute", noise=0.2),
    SearchParams(ratio="gamma", combine="mean", noise=0.3),
    SearchParams(stop_at_answer=True, tool_rate=1.0, combine="product"),
    SearchParams(K=2, p=0.3, noise=0.0, wrong_answers=1, combine="tool", v0=0.0),
    SearchParams(K=4, p=0.8, noise=0.5, wrong_answers=9, tool_rate=0.0, combine="token",
                 temperature=0.07),
]


def _array(params, rule, trials, seed, first=0):
    return core.array_runs(np, params, rule, trials, seed, first)


@pytest.mark.parametrize("params", VARIANTS, ids=range(len(VARIANTS)))
@pytest.mark.parametrize("rule", th.RULES)
def test_reference_numba_and_array_kernels_agree_bit_for_bit(params, rule):
    a = core.run_rule(params, rule, 120, seed=3, backend="numba")
    b = core.run_rule(params, rule, 120, seed=3, backend="numpy")
    c = _array(params, rule, 120, seed=3)
    for f in a:
        assert np.array_equal(a[f], b[f]), f
    for f in c:
        assert np.array_equal(a[f], np.asarray(c[f])), f


def test_a_later_chunk_is_the_same_runs():
    P = SearchParams(noise=0.2)
    whole = core.run_rule(P, "bavt", 300, 5, "numba")
    part = core.run_rule(P, "bavt", 100, 5, "numba", first=200)
    arr = _array(P, "bavt", 100, 5, first=200)
    for f in ("success", "tokens", "tools", "steps"):
        assert np.array_equal(whole[f][200:], part[f]) and np.array_equal(part[f], arr[f])


def test_budgets_are_never_exceeded():
    for P in VARIANTS:
        for rule in th.RULES:
            r = core.run_rule(P, rule, 300, 1, "numba")
            assert (r["tokens"] <= P.tokens).all() and (r["tools"] <= P.budget).all()
            assert (r["steps"] <= P.max_steps(rule)).all()


# --- the closed forms within 4 standard errors -------------------------------------------
CLOSED = [
    SearchParams(noise=0.0),
    SearchParams(noise=0.0, budget=5, p=0.3),
    SearchParams(noise=0.0, K=4, p=0.6, tool_rate=1.0, budget=9, token_budget=5000),
    SearchParams(noise=0.0, critic="absolute", bias=0.0, budget=6, p=0.4),
    SearchParams(p=0.8, wrong_answers=1, budget=20),
    SearchParams(p=0.7, wrong_answers=3, budget=40, tool_rate=0.8),
]


@pytest.mark.parametrize("params", CLOSED, ids=range(len(CLOSED)))
def test_simulation_agrees_with_the_closed_forms(params):
    rules = ("majority", "greedy") if params.noise == 0 else ("majority",)
    df = core.simulate(params, 20000, seed=11, backend="numba", rules=rules)
    for r in df.itertuples():
        assert math.isfinite(r.theory)
        se = max(r.se, math.sqrt(r.theory * (1 - r.theory) / r.trials), 1e-4)
        assert abs(r.success - r.theory) <= 4 * se, (r.name, r.success, r.theory)


@pytest.mark.parametrize("K,eps,p", [(3, 0.05, 0.5), (5, 0.05, 0.2), (10, 0.01, 0.3)])
def test_at_the_bound_search_succeeds_with_probability_at_least_1_minus_eps(K, eps, p):
    for M, floor in ((th.bound_M(K, eps, p), 1 - eps), (th.exact_M(K, eps, p), None)):
        P = SearchParams(K=K, p=p, budget=M, token_budget=M * 200, tool_rate=1.0, noise=0.0,
                         eps=eps)
        row = core.simulate(P, 20000, seed=2, backend="numba", rules=("greedy",)).iloc[0]
        exact = th.reach_prob(M, K, p)
        assert abs(row.success - exact) <= 4 * max(row.se, 1e-4)
        if floor is not None:
            assert row.success >= floor


def test_the_kernel_selects_with_the_rules_probabilities():
    # a fixed frontier, many uniforms through the reference's selection
    levels = [90, 60, 30, 90, 0]
    nodes = [reference.Node(level=lv) for lv in levels]
    W = tables.weights()
    u = (np.arange(200_000) + 0.5) / 200_000
    for k in (100, 40, 5, 0):
        picks = np.bincount([reference.select(nodes, k, W, x) for x in u[::10]], minlength=5)
        want = th.selection_probs(np.array(levels) / 100, k / 100)
        assert np.allclose(picks / picks.sum(), want, atol=2e-4), (k, picks, want)


def test_the_weight_table_is_the_rule_relative_to_its_largest_term():
    W = tables.weights() / tables.WEIGHT_ONE
    for k, lv, m in [(100, 40, 80), (50, 70, 100), (7, 99, 100), (1, 99, 100)]:
        assert W[k, lv, m] == pytest.approx((lv / m) ** (100 / k), abs=2**-40)
    assert W[0, 50, 50] == 1 and W[0, 49, 50] == 0 and W[30, 0, 0] == 1


def test_noise_table_is_a_standard_normal():
    z = tables.noise()
    assert abs(z.mean()) < 1e-12 and z.std() == pytest.approx(1.0, abs=1e-3)


# --- the comparison (docs/models/search.md, "Where the annealed rule beats majority vote") --
def test_bavt_beats_majority_at_low_budget_with_an_informative_critic():
    df = core.simulate(SearchParams(), 4000, seed=0, backend="numba",
                       rules=("majority", "bavt")).set_index("name")
    diff = df.success["bavt"] - df.success["majority"]
    assert diff > 4 * math.hypot(df.se["bavt"], df.se["majority"])


def test_majority_beats_bavt_when_chains_are_often_right_the_critic_noisy_and_budget_large():
    P = SearchParams(p=0.8, noise=0.8, budget=40)
    df = core.simulate(P, 4000, seed=0, backend="numba",
                       rules=("majority", "bavt")).set_index("name")
    diff = df.success["majority"] - df.success["bavt"]
    assert diff > 4 * math.hypot(df.se["bavt"], df.se["majority"])


def test_the_annealed_rule_beats_the_fixed_temperature_at_low_budget():
    df = core.simulate(SearchParams(budget=5), 8000, seed=0, backend="numba",
                       rules=("softmax", "bavt")).set_index("name")
    assert df.success["bavt"] - df.success["softmax"] > 4 * math.hypot(*df.se)


def test_stopping_at_the_first_answer_saves_tokens():
    a = core.simulate(SearchParams(), 2000, 0, "numba", rules=("bavt",)).iloc[0]
    b = core.simulate(SearchParams(stop_at_answer=True), 2000, 0, "numba",
                      rules=("bavt",)).iloc[0]
    assert b.tokens_mean < 0.8 * a.tokens_mean


def test_advantage_map_states_a_verdict_per_point():
    df = ss.advantage_map(SearchParams(), ps=(0.5, 0.8), noises=(0.1,), budgets=(5, 40),
                          trials=2000, backend="numba")
    assert len(df) == 4 and set(df.verdict) <= {"bavt", "majority", "tie"}
    assert df.set_index(["p", "budget"]).verdict[(0.5, 5)] == "bavt"
    assert ss.summarize(df)["bavt"] >= 1


def test_simulate_frame_has_the_theory_and_the_provenance():
    df = ss.simulate(SearchParams(noise=0.0), trials=500, seed=4, backend="numpy",
                     rules=("majority", "greedy"))
    assert list(df.name) == ["majority", "greedy"]
    for col in ("success", "se", "ci_low", "ci_high", "theory", "tokens_mean", "cost_mean",
                "seed", "backend", "version", "K", "token_budget"):
        assert col in df.columns
    assert (df.ci_low <= df.success).all() and (df.success <= df.ci_high).all()
    assert df.backend.iloc[0] == "numpy" and df.seed.iloc[0] == 4


def test_the_model_interface():
    from sim import registry

    mod = registry.model("search")
    assert mod is ss and ss.NAME == "search" and ss.Params is SearchParams


# --- the command line ---------------------------------------------------------------------
def test_parser_defaults_are_the_library_defaults():
    from sim.search.__main__ import build_parser

    parser = build_parser()
    for f in dataclasses.fields(SearchParams):
        assert parser.get_default(f.name) == f.default, f.name
    sig = inspect.signature(ss.simulate).parameters
    assert parser.get_default("trials") == sig["trials"].default
    assert parser.get_default("seed") == 0 == sig["seed"].default
    assert parser.get_default("budgets") == ss.DEFAULT_BUDGETS


def test_bound_json_prints_the_bound_and_the_exact_minimum(capsys):
    from sim.search.__main__ import main

    assert main(["--bound", "--K", "5", "--eps", "0.05", "--p-min", "0.2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bound_M"] == 83 and out["exact_M"] == 44
    assert out["params"] == {"K": 5, "eps": 0.05, "p_min": 0.2} and "version" in out


def test_json_prints_the_rules_with_intervals(capsys):
    from sim.search.__main__ import main

    assert main(["--trials", "300", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in out["rules"]] == list(th.RULES)
    for r in out["rules"]:
        assert {"name", "success", "ci_low", "ci_high", "tokens_mean"} <= set(r)
        assert r["ci_low"] <= r["success"] <= r["ci_high"]
    assert out["params"]["budget"] == 10 and out["params"]["token_budget"] == 3000


@pytest.mark.parametrize("argv,message", [
    (["--noise", "-1"], "noise must be in [0, 10], got -1"),
    (["--K", "0"], "K must be an integer in [1, 100], got 0"),
    (["--bound", "--budget", "5"], "--budget does not apply to --bound"),
    (["--bias", "0.3"], "--bias does not apply to the residual critic"),
    (["--map", "--noise", "0.3"], "--noise does not apply to --map"),
    (["--ps", "0.3"], "--ps does not apply to a run without --map"),
    (["--budgets", "5,10"], "--budgets does not apply to a run without --plot or --map"),
    (["--rules", "bavt,vibes"], "--rules must be a comma-separated list"),
    (["--bound", "--map"], "--bound and --map are two modes"),
    (["--dpi", "90"], "--dpi does not apply to a run without --plot"),
])
def test_bad_input_is_one_line_and_exit_2(cli_exit, argv, message):
    from sim.search.__main__ import main

    status, err = cli_exit(main, argv)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_plot_writes_the_figure(tmp_path, capsys):
    from sim.search.__main__ import main

    out = tmp_path / "search.png"
    assert main(["--trials", "200", "--budgets", "5,10", "--plot", str(out)]) == 0
    assert out.stat().st_size > 1000 and "figure written" in capsys.readouterr().err


def test_an_unwritable_plot_is_refused_before_the_work(cli_exit, tmp_path):
    from sim.search.__main__ import main

    status, err = cli_exit(main, ["--plot", str(tmp_path / "no" / "x.png")])
    assert status == 2 and "--plot" in err


def test_map_json(capsys):
    from sim.search.__main__ import main

    assert main(["--map", "--ps", "0.5", "--noises", "0.2", "--budgets", "5", "--trials",
                 "400", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["points"]) == 1 and set(out["verdicts"]) == {"bavt", "majority", "tie"}


def test_the_guard_refuses_a_huge_run(cli_exit):
    from sim.search.__main__ import main

    status, err = cli_exit(main, ["--trials", "100000000", "--budget", "1000"])
    assert status == 2 and "--yes" in err


def test_sweep_point_and_figure(tmp_path):
    from sim.sweep.__main__ import main as sweep_main

    out = tmp_path / "sw"
    assert sweep_main(["search", "--budget", "5,10", "--trials", "200", "--out", str(out),
                       "--plot", str(tmp_path / "sw.png")]) == 0
    from sim.sweep import collect

    df = collect(out)
    assert set(df["name"]) == set(th.RULES) and set(df["budget"]) == {5, 10}
    assert (tmp_path / "sw.png").exists()


def test_plots_return_axes():
    from matplotlib.figure import Figure

    curve = ss.budget_curve(SearchParams(), (5, 10), 200, 0, "numba")
    ax = Figure().subplots()
    assert ss.plot_success(curve, ax) is ax
    assert ss.plot_tokens(curve, Figure().subplots()) is not None
    m = ss.advantage_map(SearchParams(), (0.5,), (0.1,), (5,), 200, backend="numba")
    assert ss.plot_map(m, Figure().subplots()) is not None


def test_gamma_ratio_option_changes_the_annealed_rule_only():
    a = core.simulate(SearchParams(noise=0.3), 2000, 0, "numba", rules=("greedy", "bavt"))
    b = core.simulate(replace(SearchParams(noise=0.3), ratio="gamma"), 2000, 0, "numba",
                      rules=("greedy", "bavt"))
    assert a.success.iloc[0] == b.success.iloc[0]
    assert a.success.iloc[1] != b.success.iloc[1]


def test_bound_with_trials_simulates_at_the_bound(capsys):
    from sim.search.__main__ import main

    assert main(["--bound", "--K", "3", "--eps", "0.05", "--p-min", "0.5", "--trials", "3000",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mc_at_bound"] >= 1 - 0.05 and out["params"]["trials"] == 3000


def test_simulate_streams_trials_in_chunks_with_the_same_result(monkeypatch):
    """Runs are pooled chunk by chunk (bounded memory); the numbers are one pass's."""
    import sim.search.core as core

    params = SearchParams()
    whole = core.simulate(params, trials=3000, seed=4, backend="numba")
    monkeypatch.setattr(core, "CHUNK_RUNS", 700)  # 5 chunks, the last one short
    chunked = core.simulate(params, trials=3000, seed=4, backend="numba")
    for col in ("success", "se", "found", "ci_low", "ci_high"):
        assert (whole[col] == chunked[col]).all(), col
    for col in ("tokens_mean", "tokens_se", "tools_mean", "steps_mean", "cost_mean"):
        np.testing.assert_allclose(chunked[col], whole[col], rtol=1e-12, err_msg=col)
    # the guard counts one chunk's results, not all runs', as memory
    assert core.work(params, "bavt", 10**9)[1] == core.work(params, "bavt", 701)[1]
