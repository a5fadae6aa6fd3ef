"""Every model command line against the sizes and inputs of issue 16: a guard before the work,
streamed runs of bounded memory, degenerate inputs answered, one-line errors.

The guard's limits are this machine's (:mod:`sim.guard`); the cases here ask for far more than
any machine allows, or far less, so they do not depend on it.
"""

from __future__ import annotations

import importlib
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

from theory._stats import Moments

#: (command module, argv, words the one-line error must hold)
REFUSED = [
    # sim.phase: the leaf-vote limit, an infinite budget, a huge figure
    ("sim.phase.__main__", ["--trials", "99999999"], "--trials * b**depth asks for"),
    ("sim.phase.__main__", ["--trials", "1e15"], "leaf-votes, above this machine's limit"),
    ("sim.phase.__main__", ["--beta", "0.2", "--budget", "1e400"], "budget must be in (0, inf)"),
    ("sim.phase.__main__", ["--trials", "100", "--plot", "x.png", "--dpi", "1e5"],
     "dpi must be in (0, 1200]"),
    ("sim.phase.__main__", ["--trials", "100", "--plot", "x.png", "--plot-trials", "1e12"],
     "--plot-trials * --plot-grid**2"),
    ("sim.phase.__main__", ["decide", "--beta", "0.2", "--budget", "inf"],
     "budget must be in (0, inf)"),
    # sim.knapsack: rollouts, the authors' dynamic program, training, the n_up cap
    ("sim.knapsack.__main__", ["--trials", "1e15"], "--trials * --budget (rollouts) asks for"),
    ("sim.knapsack.__main__", ["--prompts", "20000"], "--prompts * --budget (the authors' dyn"),
    ("sim.knapsack.__main__", ["--n-up", "1e9", "--budget", "1e8"], "above this machine's"),
    ("sim.knapsack.__main__", ["--budget", "1e12"], "budget must be at most prompts * n_up"),
    ("sim.knapsack.__main__", ["--budget", "40000"], "budget must be at most prompts * n_up = "
                                                     "32768"),
    ("sim.knapsack.__main__", ["--n-up", "4"], "prompts * n must be at most prompts * n_up"),
    ("sim.knapsack.__main__", ["--train", "--epochs", "1e8"], "--epochs * --dataset (toy"),
    ("sim.knapsack.__main__", ["duet", "--trials", "1e12"], "above this machine's limit"),
    ("sim.knapsack.__main__", ["duet", "--prompts", "1e7", "--max-response", "1000000"],
     "above this machine's limit"),
    # sim.gamma: the runs' memory, the rules' tables, the exact laws, the discrete fit
    ("sim.gamma.__main__", ["--trials", "1e15"], "--trials (the simulated lengths) needs about"),
    ("sim.gamma.__main__", ["--budget", "1e8"], "--budget * states (the rules' tables) asks"),
    ("sim.gamma.__main__", ["--max-paragraph", "100000"], "the rules' tables) asks for 1.5e+12"),
    ("sim.gamma.__main__", ["--max-tokens", "1e9"], "--max-tokens (the exact laws, one step"),
    ("sim.gamma.__main__", ["--budget", "40000", "--trials", "500"], "the rules' tables"),
    ("sim.gamma.__main__", ["--likelihood", "discrete"], "--likelihood discrete (the Gamma "
                                                         "predictor's fits over 220 states"),
    ("sim.gamma.__main__", ["--toy", "geometric", "--h", "1e-300"], "the toy rarely ends"),
    ("sim.gamma.__main__", ["--trials", "100", "--plot", "x.png", "--dpi", "40000"],
     "dpi must be in (0, 1200]"),
    # sim.bbam: questions, the frontier, non-finite prior ranges and budgets
    ("sim.bbam.__main__", ["--trials", "1e15"], "--trials (questions) asks for 7e+19"),
    ("sim.bbam.__main__", ["--budget", "1e300"], "budget must be in (0, 1e+15], got 1e+300"),
    ("sim.bbam.__main__", ["--beta-range", "1,inf"], "beta_high must be in [1, inf), got inf"),
    ("sim.bbam.__main__", ["--half-range", "20,1e400"], "half_high must be in [20, inf)"),
    ("sim.bbam.__main__", ["--trials", "100", "--plot", "x.png", "--plot-trials", "1e12"],
     "--plot-trials * --plot-budgets asks for"),
    ("sim.bbam.__main__", ["--allocate", "--c", "1", "--beta", "1", "--budget", "inf"],
     "budget must be in (0, inf)"),
    # sim.coop: teams, rounds, the team's size, the robustness run
    ("sim.coop.__main__", ["--experiment", "montecarlo", "--trials", "1e15"],
     "--trials (perturbed teams) asks for 2e+18 operations"),
    ("sim.coop.__main__", ["--experiment", "repeated", "--trials", "1e15"],
     "--trials * --rounds * --n asks for"),
    ("sim.coop.__main__", ["--experiment", "repeated", "--trials", "1e12"],
     "above this machine's limit of 5e+10"),
    ("sim.coop.__main__", ["--experiment", "repeated", "--teams", "1e12"],
     "unrecognized arguments: --teams"),
    ("sim.coop.__main__", ["--experiment", "repeated", "--rounds", "1e9"],
     "--trials * --rounds * --n asks for"),
    ("sim.coop.__main__", ["--experiment", "repeated", "--trials", "1", "--rounds", "1e6"],
     "asks for 2e+11 operations"),  # one team, but a million rounds of fixed cost each
    ("sim.coop.__main__", ["--experiment", "repeated", "--n", "100000", "--trust"],
     "--n**2 (trust) asks for"),
    ("sim.coop.__main__", ["--n", "1e12"], "--n (team size) asks for 2e+15 operations"),
    ("sim.coop.__main__", ["--n", "1e9", "--theta", "0.5"], "--n (team size) asks for"),
    ("sim.coop.__main__", ["--experiment", "repeated", "--trials", "-3"],
     "trials must be"),
    ("sim.coop.__main__", ["--experiment", "team", "--plot", "x.png", "--dpi", "1e5"],
     "dpi must be in (0, 1200]"),
    # sim.workflow: episodes per policy (the planner's rollouts, the re-planning baseline)
    ("sim.workflow.__main__", ["--trials", "1e15"], "--trials * policies asks for"),
    ("sim.workflow.__main__", ["--trials", "99999999"], "above this machine's limit of 5e+10"),
    ("sim.workflow.__main__", ["--policies", "loader-dual", "--trials", "10000"],
     "asks for 5e+11 operations"),
    ("sim.workflow.__main__", ["--policies", "mcpp", "--free-nodes", "8", "--trials", "1"],
     "--trials * policies asks for"),
    ("sim.workflow.__main__", ["--grid", "--budgets", "50:800:999999999999"],
     "1 <= n <= 1000"),
    ("sim.workflow.__main__", ["--grid", "--trials", "1e6", "--policies", "uniform"],
     "--trials * policies * grid cells asks for"),
    # sim.search: runs per rule, the budgets, the Gamma ratio's table
    ("sim.search.__main__", ["--trials", "1e15"], "--trials and the budgets asks for"),
    ("sim.search.__main__", ["--trials", "99999999"], "above this machine's limit of 5e+10"),
    ("sim.search.__main__", ["--budget", "1e9"], "--trials and the budgets asks for"),
    ("sim.search.__main__", ["--token-budget", "1e12"], "--trials and the budgets asks for"),
    ("sim.search.__main__", ["--map", "--trials", "1e9"], "--trials and the map's grid"),
    ("sim.search.__main__", ["--trials", "500", "--price-call", "inf"],
     "call must be in [0, inf), got inf"),  # found by the fuzz test: a RuntimeWarning
    ("sim.search.__main__", ["--budgets", "inf", "--plot", "x.png"],
     "--budgets must be whole numbers, got 'inf'"),  # found by the fuzz test: OverflowError
    # sim.memory: queries, the budgets of the frontier, the routing tables
    ("sim.memory.__main__", ["--trials", "1e15"], "--trials * budgets * 2**--modules asks"),
    ("sim.memory.__main__", ["--costs", "0,1,1000000000000"], "asks for 1.6e+29 operations"),
    ("sim.memory.__main__", ["--modules", "12", "--costs", "0,1,50"], "above this machine's"),
    ("sim.memory.__main__", ["--budget", "1e12"], "--trials * budgets * 2**--modules asks"),
]


def _main(module):
    return importlib.import_module(module).main


def _json(main, argv, capsys):
    """Run ``main(argv)``, expect exit 0, return the JSON object it printed."""
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize("module, argv, words", REFUSED,
                         ids=[f"{m.split('.')[1]} {' '.join(a)}" for m, a, _ in REFUSED])
def test_refused_in_one_line_before_the_work(module, argv, words, cli_exit, tmp_path,
                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, err = cli_exit(_main(module), argv)
    assert status == 2, err
    assert err.count("\n") == 1, err
    assert words in err, err
    assert os.listdir(tmp_path) == []  # nothing half-written


# ----------------------------------------------------------------------------
# the pooled moments of streamed runs
# ----------------------------------------------------------------------------

def test_moments_pooled_over_chunks_equal_one_pass():
    x = np.random.default_rng(3).normal(2.0, 3.0, (2, 1001))
    m = Moments()
    for lo, hi in ((0, 1), (1, 400), (400, 401), (401, 1001)):
        m.add(x[:, lo:hi])
    assert m.n == 1001
    np.testing.assert_allclose(m.mean, x.mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(m.var(1), x.var(axis=1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(m.se(), x.std(axis=1, ddof=1) / math.sqrt(1001), rtol=1e-12)


# ----------------------------------------------------------------------------
# sim.phase
# ----------------------------------------------------------------------------

def test_phase_runs_in_chunks_with_the_first_chunk_unchanged(monkeypatch):
    from sim.phase import core
    from theory.phase import PhaseParams

    params = PhaseParams(b=3, rho=0.2, gamma=0.9, depth=3, p0=0.6)
    whole = core.level_counts(params, 5000, seed=4, backend="numba")
    assert np.array_equal(whole, core.tree_levels(params, 5000, 4, "numba").sum(axis=1))
    monkeypatch.setattr(core, "CHUNK_TRIALS", 1000)
    chunked = core.level_counts(params, 5000, seed=4, backend="numba")
    first = core.tree_levels(params, 1000, 4, "numba").sum(axis=1)
    # the first chunk is the unchunked run's first 1000 trees; later chunks draw afresh
    assert not np.array_equal(chunked, whole)
    assert np.array_equal(core.level_counts(params, 1000, seed=4, backend="numba"), first)
    df = core.summarize_levels(params, chunked, 5000)
    assert (df["z"].abs() < 4).all()


def test_phase_guard_scales_and_yes_lifts_it(monkeypatch):
    from sim.guard import TooLarge
    from sim.phase import core
    from theory.phase import PhaseParams

    params = PhaseParams(depth=8)
    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "1e-6")  # limit 1e5 leaf-votes
    with pytest.raises(TooLarge, match="leaf-votes"):
        core.simulate(params, 100)
    assert len(core.simulate(params, 100, allow=True)) == 9


def test_phase_budget_below_one_leaf_is_one_agent():
    from theory.phase import PhaseParams, budget_analysis

    res = budget_analysis(PhaseParams(), beta=0.05, budget=1e-300)
    assert res["n_star"] == 1.0 and res["depth_star"] == 0.0
    big = budget_analysis(PhaseParams(), beta=0.05, budget=1e300)
    assert math.isfinite(big["n_star"]) and big["n_star"] > 1e290


# ----------------------------------------------------------------------------
# sim.knapsack
# ----------------------------------------------------------------------------

def test_knapsack_streamed_replicates_equal_one_pass(monkeypatch):
    from sim.knapsack import core

    one = core.simulate(trials=300, seed=2, backend="numba")
    # chunks of a few replicates: the same words, pooled exactly
    monkeypatch.setenv("BUDGETLAB_MEMORY_LIMIT", str(16 * 8 * 256 * 4 * 7))
    many = core.simulate(trials=300, seed=2, backend="numba", allow=True)
    for col in ("egr_sim", "prompt_ratio_sim"):
        np.testing.assert_allclose(many[col], one[col], rtol=1e-12)
    for col in ("egr_se", "prompt_ratio_se"):
        np.testing.assert_allclose(many[col], one[col], rtol=1e-9)


def test_knapsack_kernels_agree_from_any_first_replicate():
    from sim import rng
    from sim.knapsack import kernel_array, kernel_numba, reference
    from sim.knapsack.layout import STREAM

    N = np.array([3, 0, 5, 2], dtype=np.int64)
    p = np.array([0.3, 0.5, 0.9, 0.1])
    key = rng.stream_key(7, STREAM)
    whole = kernel_numba.successes(N, p, 10, key)
    for first in (0, 4, 9):
        n = 10 - first
        assert np.array_equal(kernel_numba.successes(N, p, n, key, first), whole[first:])
        assert np.array_equal(kernel_array.successes(np, N, p, n, key, first), whole[first:])
        assert np.array_equal(reference.successes(N, p, n, key, first), whole[first:])


def test_knapsack_duet_streamed_replicates_equal_one_pass(monkeypatch):
    from sim.knapsack.duet import simulate_duet
    from theory.knapsack.duet import DuetSimParams

    params = DuetSimParams(prompts=8, max_response=512)
    one = simulate_duet(params, trials=60, seed=1)
    monkeypatch.setenv("BUDGETLAB_MEMORY_LIMIT", str(16 * 160 * 8 * 128 * 7))
    many = simulate_duet(params, trials=60, seed=1, allow=True)
    for col in ("estimate", "se", "tokens_sim", "tokens_se", "variance_sim"):
        np.testing.assert_allclose(many[col], one[col], rtol=1e-9, atol=1e-15)


def test_knapsack_one_prompt_leaves_out_the_failing_port(tmp_path, capsys):
    from sim.knapsack.__main__ import main

    path = tmp_path / "one.csv"
    path.write_text("id,p\na,0.5\n")
    out = _json(main, ["--rates", str(path), "--trials", "50", "--json"], capsys)
    assert [a["name"] for a in out["allocators"]] == ["uniform", "knapsack"]
    assert "budget assertion" in out["skipped"]["knapsack-reference"]


def test_knapsack_all_zero_rates_give_no_gradient(tmp_path, capsys):
    from sim.knapsack.__main__ import main

    path = tmp_path / "zeros.csv"
    path.write_text("p\n0\n0\n0\n")
    out = _json(main, ["--rates", str(path), "--trials", "20", "--json"], capsys)
    assert {a["egr_expected"] for a in out["allocators"]} == {0.0}
    assert {a["egr_sim"] for a in out["allocators"]} == {0.0}


def test_knapsack_rates_that_are_booleans_or_too_many_rows(tmp_path, cli_exit, monkeypatch):
    from sim.knapsack.__main__ import main

    pd.DataFrame({"p": [True, False, True]}).to_parquet(tmp_path / "b.parquet")
    status, err = cli_exit(main, ["--rates", str(tmp_path / "b.parquet")])
    assert status == 2 and "holds booleans" in err and err.count("\n") == 1
    # a small Parquet file of many rows: refused from its metadata, before it is read
    pd.DataFrame({"p": np.full(200_000, 0.5)}).to_parquet(tmp_path / "big.parquet")
    monkeypatch.setenv("BUDGETLAB_MEMORY_LIMIT", str(10**6))
    for argv in (["--rates", str(tmp_path / "big.parquet")],
                 ["allocate", str(tmp_path / "big.parquet"), "--budget", "400000"]):
        status, err = cli_exit(main, argv)
        assert status == 2 and "the rows of" in err and "200000" in err, err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    status, err = cli_exit(main, ["--rates", str(fifo)])
    assert status == 2 and "is a FIFO" in err


# ----------------------------------------------------------------------------
# sim.gamma
# ----------------------------------------------------------------------------

def test_gamma_fifo_and_directory_as_fit_file(tmp_path, cli_exit):
    from sim.gamma.__main__ import main

    fifo = tmp_path / "lengths.csv"
    os.mkfifo(fifo)
    status, err = cli_exit(main, ["--fit", str(fifo)])
    assert status == 2 and "is a FIFO" in err and err.count("\n") == 1
    (tmp_path / "dir.csv").mkdir()
    status, err = cli_exit(main, ["--fit", str(tmp_path / "dir.csv")])
    assert status == 2 and "is a directory" in err


def test_gamma_horizon_guard_names_the_states(monkeypatch):
    from sim.gamma.core import remaining_law
    from sim.gamma.toy import toy_model
    from sim.guard import TooLarge
    from theory.gamma import GammaParams

    model = toy_model(GammaParams(max_paragraph=200))
    monkeypatch.setenv("BUDGETLAB_MEMORY_LIMIT", str(16 * model.n_states * 500))
    with pytest.raises(TooLarge, match="remaining-length law of the toy's 2200 states"):
        remaining_law(model)
    assert remaining_law(model, allow=True).shape[0] == 2200


def test_gamma_degenerate_toy_that_always_stops_at_once():
    from sim.gamma import simulate
    from theory.gamma import GammaParams

    df = simulate(GammaParams(toy="geometric", h=1.0, budget=1), trials=200).set_index("name")
    assert (df["adherence_exact"] == 1.0).all() and (df["adherence_sim"] == 1.0).all()
    assert (df["mean_length_sim"] == 1.0).all()


# ----------------------------------------------------------------------------
# sim.bbam
# ----------------------------------------------------------------------------

def test_bbam_runs_in_chunks_with_the_first_chunk_unchanged(monkeypatch):
    from sim.bbam import core
    from theory.bbam import BbamParams

    params = BbamParams()
    names = ("uniform", "exact", "global")
    whole = core.simulate(params, 3000, seed=5, backend="numba", names=names)
    monkeypatch.setattr(core, "CHUNK_QUESTIONS", 1000)
    first = core.simulate(params, 1000, seed=5, backend="numba", names=names)
    chunked = core.simulate(params, 3000, seed=5, backend="numba", names=names)
    unchunked_first = core.simulate(params, 1000, seed=5, backend="numba", names=names)
    assert np.array_equal(first["accuracy"], unchunked_first["accuracy"])
    assert not np.array_equal(chunked["accuracy"], whole["accuracy"])
    # the streamed run agrees with its closed form within 4 standard errors
    static = chunked.dropna(subset=["accuracy_theory"])
    assert (abs(static.accuracy - static.accuracy_theory) < 4 * static.accuracy_theory_se).all()
    assert (chunked["trials"] == 3000).all()


def test_bbam_guard_in_the_library(monkeypatch):
    from sim.bbam import simulate
    from sim.guard import TooLarge
    from theory.bbam import BbamParams

    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "1e-6")
    with pytest.raises(TooLarge, match="--trials"):
        simulate(BbamParams(), 1000)
    assert len(simulate(BbamParams(), 1000, names=("exact",), allow=True)) == 1


def test_int_arrays_beyond_int64_are_one_line_errors():
    from theory._params import check_int_array

    with pytest.raises(ValueError, match="below 2\\*\\*63"):
        check_int_array("budget", [10**30], 0)


# ----------------------------------------------------------------------------
# sim.coop
# ----------------------------------------------------------------------------

def test_coop_repeated_play_in_chunks_with_the_first_chunk_unchanged(monkeypatch):
    from sim.coop import core
    from theory.coop import CoopParams

    params = CoopParams(c=5.0)  # an interior equilibrium: the noise shows
    kw = dict(rounds=6, backend="numba")
    whole = core.simulate(params, 3000, 4, **kw)
    first = core.simulate(params, 600, 4, **kw)
    monkeypatch.setattr(core, "CHUNK_ENTRIES", 600 * params.n)  # chunks of 600 teams
    assert core.simulate(params, 600, 4, **kw).equals(first)
    chunked = core.simulate(params, 3000, 4, **kw)
    assert not np.array_equal(chunked["estimate"], whole["estimate"])  # later chunks draw anew
    np.testing.assert_allclose(chunked["theory"], whole["theory"], rtol=1e-12)
    # two independent runs of 3000 teams: their means differ by a few standard errors
    z = (chunked["estimate"] - whole["estimate"]) / np.hypot(chunked["se"], whole["se"])
    assert (z.abs() < 4).all(), z
    assert np.allclose(chunked["se"], whole["se"], rtol=0.2)


def test_coop_trust_dynamics_in_chunks(monkeypatch):
    from sim.coop import core
    from theory.coop import CoopParams

    params = CoopParams(n=3, c=5.0)
    whole = core.simulate(params, 400, 1, backend="numba", rounds=5, trust=True)
    monkeypatch.setattr(core, "CHUNK_ENTRIES", 100 * 9)  # chunks of 100 teams of 3**2 trusts
    chunked = core.simulate(params, 400, 1, backend="numba", rounds=5, trust=True)
    assert (chunked["trials"] == 400).all()
    z = (chunked["estimate"] - whole["estimate"]) / np.hypot(chunked["se"], whole["se"])
    assert (z.abs() < 4).all(), z


def test_coop_robustness_in_chunks_draws_the_numbers_of_one_pass(monkeypatch):
    from sim.coop import robustness

    one = robustness.monte_carlo("paper", 1000, seed=42)
    monkeypatch.setattr(robustness, "CHUNK_TRIALS", 300)
    many = robustness.monte_carlo("paper", 1000, seed=42)
    assert many["monotone"] == one["monotone"]
    assert many["ratio_above_2"] == one["ratio_above_2"]
    assert many["ratio_mean"] == pytest.approx(one["ratio_mean"], rel=1e-12)
    assert many["ratio_sd"] == pytest.approx(one["ratio_sd"], rel=1e-9)


def test_coop_guards_in_the_library_and_yes_lifts_them(monkeypatch, cli_exit, capsys):
    from sim.coop import simulate
    from sim.coop.__main__ import main
    from sim.coop.robustness import monte_carlo
    from sim.guard import TooLarge
    from theory.coop import CoopParams

    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "1e-6")  # a limit of 5e4 operations
    with pytest.raises(TooLarge, match="--trials"):
        simulate(CoopParams(), 100, rounds=2)
    assert len(simulate(CoopParams(), 100, rounds=2, allow=True)) == 2
    with pytest.raises(TooLarge, match="perturbed teams"):
        monte_carlo("paper", 100)
    assert monte_carlo("paper", 100, allow=True)["trials"] == 100
    argv = ["--experiment", "repeated", "--trials", "50", "--rounds", "2", "--json"]
    status, err = cli_exit(main, argv)
    assert status == 2 and "above this machine's limit of 50000" in err
    out = _json(main, argv + ["--yes"], capsys)
    assert len(out["rounds"]) == 2 and out["params"]["trials"] == 50


def test_coop_team_of_two_and_a_sweep_point_sized(capsys):
    from sim.coop.__main__ import main
    from sim.coop.sweep import SWEEP

    out = _json(main, ["--n", "2", "--theta", "0", "--json"], capsys)
    assert len(out["efforts"]) == 2 and out["mean_effort"] > 0
    values = {p.name: p.default for p in SWEEP.params}
    est = SWEEP.cost(values, 10**15)
    assert est["work"] > 1e18 and est["param"] == "trials * rounds * n"


# ----------------------------------------------------------------------------
# sim.workflow, sim.search, sim.memory
# ----------------------------------------------------------------------------

def test_library_guards_of_workflow_search_memory(monkeypatch):
    from sim.guard import TooLarge
    from sim.memory import simulate as memory_sim
    from sim.search import simulate as search_sim
    from sim.workflow import simulate as workflow_sim
    from theory.memory import MemoryParams
    from theory.search import SearchParams
    from theory.workflow import WorkflowParams

    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "1e-6")  # limits of 5e4 ns
    wf = WorkflowParams(policies=("uniform",))
    with pytest.raises(TooLarge, match="trials"):
        workflow_sim(wf, 1000)
    assert workflow_sim(wf, 1000, allow=True)["trials"].iloc[0] == 1000
    with pytest.raises(TooLarge, match="trials"):
        search_sim(SearchParams(), 1000, rules=("greedy",))
    assert len(search_sim(SearchParams(), 1000, rules=("greedy",), allow=True)) == 1
    mp = MemoryParams(budget=10)
    with pytest.raises(TooLarge, match="trials"):
        memory_sim(mp, 1000)
    assert (memory_sim(mp, 1000, allow=True)["trials"] == 1000).all()


def test_memory_yes_reaches_the_simulator(monkeypatch, capsys):
    from sim.memory.__main__ import main

    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", "1e-6")
    out = _json(main, ["--budget", "10", "--trials", "1000", "--json", "--yes"], capsys)
    assert {r["budget"] for r in out["frontier"]} == {10}


def test_memory_cost_counts_budgets_without_listing_them():
    from sim.memory.core import cost
    from theory.memory import MemoryParams

    small = cost(MemoryParams(), 1000)
    huge = cost(MemoryParams(costs=(0, 1, 10**15)), 1000)  # 5e15 budgets: never listed
    assert huge["work"] / small["work"] > 1e13 and huge["memory"] > 1e15


def test_workflow_planner_stops_enumerating_at_the_cap():
    import itertools

    from sim.workflow import planner
    from sim.workflow.planner import candidate_actions

    calls = []
    real = itertools.product

    def counted(*a, **k):
        for x in real(*a, **k):
            calls.append(1)
            yield x

    gen = np.random.default_rng(0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(planner.itertools, "product", counted)
        acts, mode, n_base = candidate_actions(list(range(10)), 8, (1, 2, 4, 8), 6, 50, gen)
    assert mode == "free" and len(acts) == 50 and n_base <= 50
    assert len(calls) < 100  # not the 32**6 = 1e9 choices of the six free nodes
    # the same first 50 as a full enumeration truncated (a small case, both ways)
    gen1, gen2 = np.random.default_rng(1), np.random.default_rng(1)
    a1, _, _ = candidate_actions(list(range(5)), 2, (1, 2), 3, 20, gen1)
    full = []
    disp, levels = list(range(5)), [(m, k) for m in range(2) for k in (1, 2)]
    free = sorted(int(v) for v in gen2.choice(np.asarray(disp), size=3, replace=False))
    seen = set()
    for k in (1, 2):
        for m in (0, 0, 1):
            act = {v: (m, k) for v in disp}
            key = tuple(sorted(act.items()))
            if key not in seen:
                seen.add(key)
                full.append(act)
    for k in (1, 2):
        for choice in itertools.product(levels, repeat=3):
            act = {v: (0, k) for v in disp if v not in free}
            act.update(zip(free, choice))
            key = tuple(sorted(act.items()))
            if key not in seen:
                seen.add(key)
                full.append(act)
    assert a1 == full[:20]
