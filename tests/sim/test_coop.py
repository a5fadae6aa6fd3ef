"""sim.coop: the paper's experiments against their printed figures, repeated play, the CLI.

Printed figures (the paper's abstract and the authors' validation outputs,
listed in docs/models/coop.md) are compared to within half a unit of their last
printed digit (``_close``), so "96.5 %" means [96.45, 96.55) and "15.04" means
[15.035, 15.045).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from sim import coop as sc
from sim.coop import __main__ as cli
from sim.coop import kernel_array, kernel_numba, layout, reference
from theory import coop as C


def _close(x, printed):
    """``x`` rounds to the printed decimal string (half a unit of its last digit)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(x - float(printed)) <= 0.5 * 10.0 ** -decimals + 1e-12


@pytest.fixture(scope="module")
def paper():
    return sc.run_paper_experiment("paper", seed=sc.AUTHORS_SEED)


@pytest.fixture(scope="module")
def repo():
    return sc.run_paper_experiment("repo", seed=sc.AUTHORS_SEED)


def _targets(res):
    return {t["name"]: t for t in res["targets"]}


# ---------------------------------------------------------------------------
# the paper's grid (docs/models/coop.md, "The paper's experiment")
# ---------------------------------------------------------------------------


def test_sweep_rows_in_suite_order():
    r = sc.paper_grid("paper")
    assert r["omega"].size == 3125
    assert list(r["theta"][:5]) == [0.0, 0.3, 0.5, 0.7, 0.9]  # theta fastest
    assert list(r["n"][:25:5]) == [3, 4, 5, 6, 8]
    assert np.isfinite(r["effort_differentiation"]).sum() == 625
    # the direct solver over the grid equals the theory layer's closed form
    e = C.symmetric_equilibrium_effort(r["theta"], r["omega"], r["beta"], r["c"], r["n"],
                                       a_min=0.01, a_max=50.0)
    assert np.allclose(r["equilibrium_effort"], e, rtol=1e-12)
    diff = C.effort_differentiation(r["omega"], r["beta"], r["c"], r["n"], a_min=0.01, a_max=50.0)
    sel = r["theta"] == 0.5
    assert np.allclose(r["effort_differentiation"][sel], diff[sel], rtol=1e-12)
    syn = C.mechanism_synergy(r["omega"], r["beta"], r["c"], r["n"], a_min=0.01, a_max=50.0)
    assert np.allclose(r["mechanism_synergy"], syn, rtol=1e-12)


def test_paper_version_reproduces_the_abstract(paper):
    t = _targets(paper)
    assert [x["name"] for x in paper["targets"]] == list(sc.TARGET_NAMES)
    assert all(x["passed"] for x in paper["targets"])
    assert _close(t["free-riding"]["share"] * 100, "96.5")
    assert _close(t["free-riding"]["share"] * 100, "96.48")
    assert (t["free-riding"]["count"], t["free-riding"]["units"]) == (3015, 3125)
    assert (t["monotonicity"]["count"], t["monotonicity"]["units"]) == (625, 625)
    assert t["monotonicity"]["share"] == 1.0
    assert t["differentiation"]["share"] == 1.0 and t["differentiation"]["units"] == 625
    assert _close(paper["median_differentiation"], "15.04")
    assert _close(paper["median_differentiation"], "15.036")
    assert (t["team size"]["count"], t["team size"]["units"]) == (125, 125)
    assert _close(t["synergy"]["share"] * 100, "99.5")
    assert t["synergy"]["count"] == 3110
    assert abs(paper["median_synergy"] - 1.566) <= 0.01
    assert t["bounded"]["share"] == 1.0
    assert paper["p_value"] < 0.001
    assert _close(paper["t_stat"], "17.86") and _close(paper["t_stat"], "17.855")
    assert 6.515e-58 <= paper["p_value"] < 6.525e-58
    assert _close(paper["cohens_d"], "0.71") and _close(paper["cohens_d"], "0.7148")
    assert _close(paper["mean_difference"], "7.707")
    for theta, printed in (("0", "0.3673"), ("0.3", "1.4264"), ("0.5", "2.8491"),
                           ("0.7", "5.0578"), ("0.9", "8.0741")):
        assert _close(paper["mean_effort_by_theta"][theta], printed)


def test_paper_version_bootstrap(paper):
    b = paper["bootstrap"]
    assert _close(b["estimate"], "18.386") and _close(paper["mean_differentiation"], "18.386")
    assert abs(b["mean"] - b["estimate"]) < 0.01
    assert _close(b["ci_low"], "17.45") and _close(b["ci_high"], "19.37")


def test_repo_version_other_column(repo):
    t = _targets(repo)
    assert all(x["passed"] for x in repo["targets"])
    assert _close(t["free-riding"]["share"] * 100, "96.48")
    assert t["monotonicity"]["share"] == t["team size"]["share"] == 1.0
    assert t["differentiation"]["share"] == t["bounded"]["share"] == 1.0
    assert _close(t["synergy"]["share"] * 100, "99.52")
    assert _close(repo["median_differentiation"], "4.478")
    assert _close(repo["median_synergy"], "1.424")
    assert _close(repo["t_stat"], "10.99")
    assert 8.55e-26 <= repo["p_value"] < 8.65e-26
    assert _close(repo["cohens_d"], "0.4398") and _close(repo["cohens_d"], "0.440")
    b = repo["bootstrap"]
    assert b["ci_low"] < b["estimate"] < b["ci_high"]
    assert _close(b["ci_low"], "4.60") and _close(b["ci_high"], "4.78")


def test_floor_drives_the_free_riding_failures():
    # 22 of 625 (omega, beta, c, n) combinations have a0* < 0.01/1.05 (docs/models/coop.md,
    # "The six targets")
    r = sc.paper_grid("paper")
    failing = r["free_riding_error"] >= 5.0
    assert failing.sum() == 110
    assert np.all(r["analytical_free_riding"][failing] < 0.01 / 1.05)
    assert np.all(r["free_riding_eq"][failing] == 0.01)


# ---------------------------------------------------------------------------
# the Apache case (docs/models/coop.md, "The Apache case")
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant, score, means, per_phase, stats_", [
    ("paper", 60, ["50.00", "35.93", "14.53", "11.47"], [15, 15, 15, 15],
     ("0.983", "0.0169", "27.29", "420.6")),
    ("repo", 45, ["9.67", "0.096", "0.011", "0.015"], [12, 12, 11, 10],
     ("0.900", "0.100", "4.04", "84.9")),
])
def test_apache_rubric(variant, score, means, per_phase, stats_):
    res = sc.run_apache(variant)
    assert res["score"] == score and res["max_score"] == 60
    assert [p["score"] for p in res["phases"]] == per_phase
    for p, m, coh in zip(res["phases"], means, ["0.8124", "0.6857", "0.5633", "0.4845"]):
        assert _close(p["predicted"], m), (p["name"], p["predicted"])
        assert _close(p["cohesion"], coh)
        assert sum(p["items"].values()) >= p["score"]
    r, pv, rmse, mape = stats_
    assert _close(res["pearson_r"], r) and _close(res["pearson_p"], pv)
    assert _close(res["rmse"], rmse) and _close(res["mape"], mape)
    assert res["founders_skew"] == (1.0 if variant == "paper"
                                    else pytest.approx(5000.0, rel=1e-12))


def test_mean_theta_of_phases():
    got = [p["mean_theta"] for p in sc.apache_phases("paper")]
    for g, printed in zip(got, ["0.7950", "0.6776", "0.5565", "0.4798"]):
        assert _close(g, printed)


# ---------------------------------------------------------------------------
# the robustness run (docs/models/coop.md, "The robustness run")
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant, above, mean, sd", [
    ("paper", "41.1", "2.697", "2.434"),
    ("repo", "56.0", "3.562", "2.585"),
])
def test_monte_carlo(variant, above, mean, sd):
    res = sc.monte_carlo(variant, seed=sc.AUTHORS_SEED)
    assert res["monotone"] == 1.0
    assert _close(res["ratio_above_2"] * 100, above)
    assert _close(res["ratio_mean"], mean) and _close(res["ratio_sd"], sd)


def test_library_validation():
    with pytest.raises(ValueError, match="variant"):
        sc.run_paper_experiment("bogus")
    with pytest.raises(ValueError, match="variant"):
        sc.run_apache("sum")
    with pytest.raises(ValueError, match="bootstrap"):
        sc.run_paper_experiment("paper", bootstrap=-1)


# ---------------------------------------------------------------------------
# one team and the CLI
# ---------------------------------------------------------------------------


def test_solve_team_free_riding_comparison():
    p = C.CoopParams(omega=20, beta=0.5, c=2.5, n=5, theta=(0.5,) * 5)
    res = sc.solve_team(p)
    fr = res["free_riding"]
    assert _close(fr["analytical_effort"], "0.128")
    assert fr["equilibrium_effort"] == pytest.approx(fr["analytical_effort"], rel=1e-12)
    assert _close(res["mean_effort"], "1.19762")  # paper variant, theta = 0.5
    assert res["efforts"] == pytest.approx([res["mean_effort"]] * 5)
    assert res["output"] == pytest.approx(20 * res["aggregate"] ** 0.5)
    assert res["welfare"] == pytest.approx(res["output"] - 2.5 * res["aggregate"])
    assert res["cohesion"] == pytest.approx(0.5)
    assert fr["social_optimum_welfare"] > res["welfare"] > fr["welfare"]
    assert fr["effort_increase_pct"] > 0 and fr["output_increase_pct"] > 0


def test_cli_default_report(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for word in ("equilibrium efforts", "team output Q", "welfare", "cohesion",
                 "free riding", "Holmstrom effort a0*", "social optimum"):
        assert word in out


def test_cli_team_json(capsys):
    assert cli.main(["--theta", "0.9,0.5,0.1", "--D", "1,1,2", "--a-min", "0.01",
                    "--omega", "10", "--beta", "0.5", "--c", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["params"]["n"] == 3 and len(d["efforts"]) == 3
    assert d["cohesion"] == pytest.approx((0.9 + 0.5 + 0.2) / 4)
    assert {"aggregate", "mean_effort", "output", "welfare", "free_riding"} <= set(d)
    assert d["aggregate"] == pytest.approx(sum(d["efforts"]))


@pytest.mark.parametrize("variant, score, median", [("paper", 60, "15.036"), ("repo", 45, "4.478")])
def test_cli_paper_json(capsys, variant, score, median):
    assert cli.main(["--experiment", "paper", "--variant", variant, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"targets", "median_differentiation", "median_synergy", "t_stat", "p_value",
            "cohens_d", "apache_score", "params", "version"} <= set(d)
    assert d["params"] == {"variant": variant, "seed": 0} and d["experiment"] == "paper"
    assert [t["name"] for t in d["targets"]] == list(sc.TARGET_NAMES)
    assert all({"name", "share", "passed"} <= set(t) for t in d["targets"])
    assert d["apache_score"] == score and _close(d["median_differentiation"], median)
    assert d["bootstrap"]["seed"] == 0


def test_cli_paper_report_shows_published_figures(capsys):
    assert cli.main(["--experiment", "paper", "--seed", str(sc.AUTHORS_SEED)]) == 0
    out = capsys.readouterr().out
    for s in ("96.48%", "96.5 %", "15.036x", "15.04x", "99.5 %", "0.7148", "60/60",
              "95% CI [17.45, 19.37]"):
        assert s in out


def test_cli_apache_and_plot(tmp_path, capsys):
    png = tmp_path / "apache.png"
    assert cli.main(["--experiment", "apache", "--variant", "repo", "--plot", str(png),
                     "--dpi", "60"]) == 0
    cap = capsys.readouterr()
    assert "score 45/60" in cap.out and f"figure written to {png}" in cap.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["--experiment", "apache", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["score"] == 60 and len(d["phases"]) == 4 and d["params"] == {"variant": "paper"}


@pytest.mark.parametrize("argv, message", [
    (["--theta", "1.5"], "theta must be in [0, 1]"),
    (["--theta", "-0.1"], "theta must be in [0, 1]"),
    (["--theta", "1", "--phi-C", "1"], "theta*phi_C must be < 1"),
    (["--beta", "1"], "beta must be in (0, 1)"),
    (["--beta", "0"], "beta must be in (0, 1)"),
    (["--n", "1"], "n must be"),
    (["--omega", "0"], "omega must be in (0, inf)"),
    (["--c", "-1"], "c must be in (0, inf)"),
    (["--theta", "0.1,0.2,0.3", "--n", "4"], "theta must be a list of n=4"),
    (["--theta", "0.1,0.2", "--D", "1,2,3"], "D must be a list of n=2"),
    (["--theta", "x"], "theta must be a comma-separated list"),
    (["--D", "0,0,0,0,0"], "D must have a positive sum"),
    (["--a-min", "60"], "a_max"),
    (["--variant", "P3"], "invalid choice"),
    (["--experiment", "bogus"], "invalid choice"),
    (["--experiment", "repeated", "--trials", "0"], "trials must be an integer in [1, inf]"),
    (["--experiment", "repeated", "--noise", "-1"], "noise must be in [0, inf)"),
    (["--experiment", "repeated", "--rounds", "0"], "rounds must be an integer in [1, inf]"),
    (["--experiment", "montecarlo", "--seed", "-1"], "seed must be an integer in [0, inf]"),
    (["--experiment", "montecarlo", "--trials", "0"], "trials must be an integer in [1, inf]"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, message, cli_exit):
    status, err = cli_exit(cli.main, argv)
    assert status == 2
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, flag, mode", [
    (["--trials", "10"], "--trials", "team"),
    (["--seed", "3"], "--seed", "team"),
    (["--backend", "numba"], "--backend", "team"),
    (["--rounds", "3"], "--rounds", "team"),
    (["--trust"], "--trust", "team"),
    (["--experiment", "paper", "--omega", "3"], "--omega", "paper"),
    (["--experiment", "paper", "--backend", "numpy"], "--backend", "paper"),
    (["--experiment", "paper", "--trials", "5"], "--trials", "paper"),
    (["--experiment", "apache", "--seed", "1"], "--seed", "apache"),
    (["--experiment", "apache", "--theta", "0.3"], "--theta", "apache"),
    (["--experiment", "montecarlo", "--plot", "x.png"], "--plot", "montecarlo"),
    (["--experiment", "montecarlo", "--backend", "numba"], "--backend", "montecarlo"),
    (["--experiment", "montecarlo", "--phi-B", "0.5"], "--phi-B", "montecarlo"),
    (["--experiment", "repeated", "--D", "1,1,1,1,1"], "--D", "repeated"),
])
def test_cli_refuses_options_that_do_not_apply(argv, flag, mode, cli_exit):
    status, err = cli_exit(cli.main, argv)
    assert status == 2
    assert err == f"python -m sim.coop: error: {flag} does not apply to --experiment {mode}\n"


def test_cli_defaults_are_the_library_defaults():
    parser = cli._build_parser()
    args = parser.parse_args([])
    assert cli.params_from_args(args) == C.CoopParams()
    for name in ("omega", "beta", "c", "phi_B", "phi_C", "a_min", "a_max"):
        assert getattr(args, name) == getattr(C.CoopParams(), name), name
    assert C.CoopParams(welfare_mode=args.variant) == C.CoopParams()
    assert args.seed == 0 and args.trials is None and args.backend == "auto"
    import inspect

    sim_defaults = inspect.signature(sc.simulate).parameters
    assert args.rounds == sim_defaults["rounds"].default == sc.ROUNDS
    assert args.noise == sim_defaults["noise"].default == sc.NOISE
    assert sim_defaults["trials"].default == sc.TRIALS and sim_defaults["seed"].default == 0
    mc_defaults = inspect.signature(sc.monte_carlo).parameters
    assert mc_defaults["trials"].default == sc.ROBUSTNESS_TRIALS
    assert mc_defaults["seed"].default == 0


@pytest.mark.parametrize("argv", [
    [], ["--experiment", "apache"], ["--experiment", "montecarlo", "--trials", "50"],
    ["--experiment", "repeated", "--trials", "50", "--rounds", "2", "--backend", "numpy"],
])
def test_cli_json_carries_params_and_version(argv, capsys):
    from sim import __version__

    assert cli.main(argv + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["version"] == __version__ and isinstance(d["params"], dict)
    assert d["experiment"] == (argv[1] if argv else "team")


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("budgetlab ")


def test_module_entry_point_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "sim.coop", "--theta", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("python -m sim.coop: error:")
    assert "Traceback" not in proc.stderr


def test_the_package_follows_the_model_interface():
    from sim.interface import Model
    from sim.registry import model

    mod = model("coop")
    assert isinstance(mod, Model) and mod.NAME == "coop" and mod.Params is C.CoopParams
    names = [p.name for p in mod.SWEEP.params]
    assert set(names) == {f for f in C.CoopParams.__dataclass_fields__ if f != "D"} | {
        "noise", "rounds"}
    assert {p.name: p.default for p in mod.SWEEP.params}["theta"] == C.DEFAULT_THETA
    with pytest.raises(ValueError, match="theta\\*phi_C must be < 1"):
        mod.SWEEP.validate({**{p.name: p.default for p in mod.SWEEP.params}, "phi_C": 2.5})


# ---------------------------------------------------------------------------
# repeated play (docs/models/coop.md, "Repeated play")
# ---------------------------------------------------------------------------


def _interior_team():
    return C.CoopParams(omega=10, beta=0.6, c=1.0, n=4, theta=[0.6, 0.4, 0.2, 0.1], a_min=0.01,
                        a_max=50, welfare_mode="mean")


def test_repeated_play_without_noise_converges_to_the_equilibrium():
    p = _interior_team()
    df = sc.simulate(p, trials=500, rounds=12, noise=0.0, seed=1, backend="numpy")
    assert df.aggregate_gap.iloc[0] > 1.0  # starts away from it
    assert df.aggregate_gap.iloc[-1] < 1e-9
    assert df.theory.to_numpy() == pytest.approx(C.solve(p).mean_effort, rel=1e-14)
    assert df.estimate.iloc[-1] == pytest.approx(C.solve(p).mean_effort, rel=1e-12)
    assert list(df["round"]) == list(range(1, 13)) and (df.quantity == "mean_effort").all()
    assert {"seed", "backend", "version", "trials", "noise"} <= set(df.columns)
    assert df.backend.iloc[0] == "numpy" and df.trials.iloc[0] == 500


def test_repeated_play_with_noise_stays_near_and_is_reproducible():
    p = _interior_team()
    a = sc.simulate(p, trials=4000, rounds=20, noise=0.3, seed=2, backend="numba")
    b = sc.simulate(p, trials=4000, rounds=20, noise=0.3, seed=2, backend="numba")
    assert a.equals(b)
    late = a[a["round"] > 10]
    # with noise sd 0.3 per move the aggregate stays within a few noise units of S*
    assert late.aggregate_gap.max() < 4 * 0.3 * 2
    assert late.estimate.mean() == pytest.approx(C.solve(p).mean_effort, abs=0.05)
    assert (late.se > 0).all()


def test_the_noise_of_a_move_is_normal_with_the_given_sd():
    # Equal targets far above the floor: after a round the aggregate is the last mover's
    # target plus its noise, S - T = noise * Z, whatever the others did.
    teams, noise = 20_000, 0.25
    p = C.CoopParams(omega=20, beta=0.5, c=2.5, n=3, theta=(0.5,) * 3, a_max=1e6)
    a = np.full((teams, 3), 2.0)
    T = np.tile(p.targets, (teams, 1))
    kernel_numba.play_round(a, T, 0.0, 1e6, noise, np.uint64(12345), 7)
    dev = a.sum(axis=1) - T[:, -1]
    assert abs(dev.mean()) < 4 * noise / np.sqrt(teams)
    assert abs(dev.std() - noise) < 5 * noise / np.sqrt(2 * teams)


def test_backends_agree_on_the_same_noise():
    p = _interior_team()
    frames = {b: sc.simulate(p, trials=300, rounds=6, noise=0.4, seed=5, backend=b)
              for b in ("numpy", "numba")}
    for col in ("estimate", "se", "aggregate_gap"):
        np.testing.assert_allclose(frames["numba"][col], frames["numpy"][col], rtol=1e-12,
                                   atol=1e-12)


def test_kernels_play_the_same_rounds():
    # NumPy reference and array kernel: the same NumPy operations, bit for bit; Numba's log
    # and cos may differ in the last bit, so the efforts agree to rounding.
    gen = np.random.default_rng(0)
    teams, n = 257, 5
    a0 = gen.uniform(0.0, 5.0, (teams, n))
    T = gen.uniform(0.0, 12.0, (teams, n))
    key = np.uint64(2024)
    a_ref, a_arr, a_nb = a0.copy(), a0.copy(), a0.copy()
    for r in range(4):
        reference.play_round(a_ref, T, 0.05, 4.0, 0.7, key, r)
        kernel_array.play_round(np, a_arr, T, 0.05, 4.0, 0.7, key, r)
        kernel_numba.play_round(a_nb, T, 0.05, 4.0, 0.7, key, r)
    assert np.array_equal(a_ref, a_arr)
    np.testing.assert_allclose(a_nb, a_ref, rtol=0, atol=1e-12)
    assert ((a_ref >= 0.05) & (a_ref <= 4.0)).all() and not np.array_equal(a_ref, a0)


def test_counter_layout_is_the_same_in_numba_and_numpy():
    from numba import njit

    @njit
    def counters(r, teams, n):
        out = np.empty((teams, n), dtype=np.uint64)
        for t in range(teams):
            for i in range(n):
                out[t, i] = layout.move_counter(np.uint64(r), np.uint64(t), np.uint64(i),
                                                np.uint64(teams), np.uint64(n))
        return out

    teams, n, r = 7, 3, 2
    team = np.arange(teams, dtype=np.uint64)[:, None]
    member = np.arange(n, dtype=np.uint64)[None, :]
    arr = layout.move_counter(np.uint64(r), team, member, np.uint64(teams), np.uint64(n))
    assert arr.dtype == np.uint64 and np.array_equal(counters(r, teams, n), arr)
    # consecutive moves are NORMAL_WORDS counters apart, rounds follow each other
    flat = arr.ravel()
    assert (np.diff(flat) == layout.MOVE_WORDS).all()
    assert flat[0] == r * teams * n * layout.MOVE_WORDS


def test_trust_dynamics_erode_loyalty_when_efforts_sit_at_the_floor():
    df = sc.simulate(_interior_team(), trials=1000, rounds=30, noise=0.3, trust=True, seed=3)
    assert df.mean_theta.iloc[-1] < 0.5 * df.mean_theta.iloc[0]
    assert df.estimate.iloc[-1] < df.estimate.iloc[5]
    assert df.theory.iloc[-1] < df.theory.iloc[0]  # the equilibrium follows the loyalties


def test_simulate_rejects_bad_arguments():
    p = _interior_team()
    with pytest.raises(ValueError, match="trials must be an integer in \\[1, inf\\]"):
        sc.simulate(p, trials=0)
    with pytest.raises(ValueError, match="noise must be in \\[0, inf\\)"):
        sc.simulate(p, noise=-0.1)
    with pytest.raises(ValueError, match="backend must be one of"):
        sc.simulate(p, backend="gpu")
    with pytest.raises(TypeError, match="params must be a CoopParams"):
        sc.simulate({"n": 3})


def test_trust_update_rules():
    T, R = C.trust_update([0.5, 0.5, 0.95], [0.1, 0.1, 0.1], [0.5, -0.5, 1.0])
    assert T[0] == pytest.approx(0.5 + 0.10 * 0.5 * (1 - 0.1 - 0.5))  # up towards 1 - R
    assert T[1] == pytest.approx(0.5 - 0.30 * 0.5 * 0.5)  # 3:1 negativity
    assert T[2] == pytest.approx(0.95)  # above the ceiling 1 - R: no further gain
    assert R[0] == pytest.approx(0.1 * 0.97) and R[1] == pytest.approx(0.1 + 0.6 * 0.5 * 0.9)
    assert np.all((T >= 0) & (T <= 1)) and np.all((R >= 0) & (R <= 1))
    with pytest.raises(ValueError, match="s must be in"):
        C.trust_update(0.5, 0.1, 2.0)


def test_cli_repeated_play_json(capsys):
    assert cli.main(["--experiment", "repeated", "--variant", "repo", "--omega", "10", "--beta",
                     "0.6", "--theta", "0.6,0.4,0.2,0.1", "--a-min", "0.01", "--trials", "300",
                     "--rounds", "8", "--noise", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rounds"]) == 8 and out["params"]["trials"] == 300
    assert out["rounds"][-1]["estimate"] == pytest.approx(out["equilibrium_mean_effort"])


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


def test_cli_figures_of_team_and_repeated_play(tmp_path, capsys):
    for argv in (["--n", "4"], ["--experiment", "repeated", "--trials", "50", "--rounds", "3"]):
        png = tmp_path / f"{argv[0]}.png"
        assert cli.main(argv + ["--plot", str(png), "--dpi", "50"]) == 0
        assert f"figure written to {png}" in capsys.readouterr().err
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_effort_figure_shows_the_rise_and_the_cap():
    from sim._cli import new_figure

    p = C.CoopParams()  # the authors' defaults: most teams reach the cap quickly
    df = sc.effort_loyalty_curves(p)
    _, ax = new_figure()
    sc.plot_effort_vs_loyalty(df, ax, team=p)
    lo, hi = ax.get_ylim()
    a0_largest_team = C.free_riding_effort(p, n=8)
    assert lo < a0_largest_team < p.a_max < hi  # free riding and the cap are both in view
    flat = [ln for ln in ax.get_lines() if np.all(np.asarray(ln.get_ydata()) == p.a_max)]
    assert any("cap" in ln.get_label() for ln in flat)
    assert ax.get_yscale() == "log"


def test_repeated_play_figure_draws_rounds_and_equilibrium():
    from sim._cli import new_figure

    df = sc.simulate(_interior_team(), trials=100, rounds=5, noise=0.2, backend="numpy")
    _, ax = new_figure()
    assert sc.plot_repeated_play(df, ax) is ax
    eq = ax.get_lines()[0]
    assert "equilibrium" in eq.get_label()
    np.testing.assert_array_equal(eq.get_ydata(), df["theory"])
    assert ax.get_xlabel() == "round"
