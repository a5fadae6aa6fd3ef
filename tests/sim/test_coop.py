"""TR-3 experiments against the spec's printed figures (coopetition 0, 4.2-4.5) and the CLI.

Printed figures are compared to within half a unit of their last printed digit
(``_close``), so "96.5 %" means [96.45, 96.55) and "15.04" means [15.035, 15.045).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from sim import coop as sc
from theory import coop as C


def _close(x, printed):
    """``x`` rounds to the printed decimal string (half a unit of its last digit)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(x - float(printed)) <= 0.5 * 10.0 ** -decimals + 1e-12


@pytest.fixture(scope="module")
def paper():
    return sc.run_paper_experiment("paper")


@pytest.fixture(scope="module")
def repo():
    return sc.run_paper_experiment("repo")


def _targets(res):
    return {t["name"]: t for t in res["targets"]}


# ---------------------------------------------------------------------------
# the sweep (spec 4.1-4.3)
# ---------------------------------------------------------------------------


def test_sweep_rows_in_suite_order():
    r = sc.sweep("paper")
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
    # spec 4.3: 22 of 625 (omega, beta, c, n) combinations have a0* < 0.01/1.05
    r = sc.sweep("paper")
    failing = r["free_riding_error"] >= 5.0
    assert failing.sum() == 110
    assert np.all(r["analytical_free_riding"][failing] < 0.01 / 1.05)
    assert np.all(r["free_riding_eq"][failing] == 0.01)


# ---------------------------------------------------------------------------
# Apache (spec 4.5)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("version, score, means, per_phase, stats_", [
    ("paper", 60, ["50.00", "35.93", "14.53", "11.47"], [15, 15, 15, 15],
     ("0.983", "0.0169", "27.29", "420.6")),
    ("repo", 45, ["9.67", "0.096", "0.011", "0.015"], [12, 12, 11, 10],
     ("0.900", "0.100", "4.04", "84.9")),
])
def test_apache_rubric(version, score, means, per_phase, stats_):
    res = sc.run_apache(version)
    assert res["score"] == score and res["max_score"] == 60
    assert [p["score"] for p in res["phases"]] == per_phase
    for p, m, coh in zip(res["phases"], means, ["0.8124", "0.6857", "0.5633", "0.4845"]):
        assert _close(p["predicted"], m), (p["name"], p["predicted"])
        assert _close(p["cohesion"], coh)
        assert sum(p["items"].values()) >= p["score"]
    r, pv, rmse, mape = stats_
    assert _close(res["pearson_r"], r) and _close(res["pearson_p"], pv)
    assert _close(res["rmse"], rmse) and _close(res["mape"], mape)
    assert res["founders_skew"] == (1.0 if version == "paper"
                                    else pytest.approx(5000.0, rel=1e-12))


def test_mean_theta_of_phases():
    got = [p["mean_theta"] for p in sc.apache_phases("paper")]
    for g, printed in zip(got, ["0.7950", "0.6776", "0.5565", "0.4798"]):
        assert _close(g, printed)


# ---------------------------------------------------------------------------
# Monte Carlo robustness (spec 4.4)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("version, above, mean, sd", [
    ("paper", "41.1", "2.697", "2.434"),
    ("repo", "56.0", "3.562", "2.585"),
])
def test_monte_carlo(version, above, mean, sd):
    res = sc.monte_carlo(version)
    assert res["monotone"] == 1.0
    assert _close(res["ratio_above_2"] * 100, above)
    assert _close(res["ratio_mean"], mean) and _close(res["ratio_sd"], sd)


def test_library_validation():
    with pytest.raises(ValueError, match="version"):
        sc.run_paper_experiment("P2")
    with pytest.raises(ValueError, match="version"):
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
    assert _close(res["mean_effort"], "1.19762")  # spec 7 fixture, P theta = 0.5
    assert res["efforts"] == pytest.approx([res["mean_effort"]] * 5)
    assert res["output"] == pytest.approx(20 * res["aggregate"] ** 0.5)
    assert res["welfare"] == pytest.approx(res["output"] - 2.5 * res["aggregate"])
    assert res["cohesion"] == pytest.approx(0.5)
    assert fr["social_optimum_welfare"] > res["welfare"] > fr["welfare"]
    assert fr["effort_increase_pct"] > 0 and fr["output_increase_pct"] > 0


def test_cli_default_report(capsys):
    assert sc.main([]) == 0
    out = capsys.readouterr().out
    for word in ("equilibrium efforts", "team output Q", "welfare", "cohesion",
                 "free riding", "Holmstrom effort a0*", "social optimum"):
        assert word in out


def test_cli_team_json(capsys):
    assert sc.main(["--theta", "0.9,0.5,0.1", "--D", "1,1,2", "--a-min", "0.01",
                    "--omega", "10", "--beta", "0.5", "--c", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["params"]["n"] == 3 and len(d["efforts"]) == 3
    assert d["cohesion"] == pytest.approx((0.9 + 0.5 + 0.2) / 4)
    assert {"aggregate", "mean_effort", "output", "welfare", "free_riding"} <= set(d)
    assert d["aggregate"] == pytest.approx(sum(d["efforts"]))


@pytest.mark.parametrize("version, score, median", [("paper", 60, "15.036"), ("repo", 45, "4.478")])
def test_cli_paper_json(capsys, version, score, median):
    assert sc.main(["--experiment", "paper", "--variant", version, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"targets", "median_differentiation", "median_synergy", "t_stat", "p_value",
            "cohens_d", "apache_score"} <= set(d)
    assert [t["name"] for t in d["targets"]] == list(sc.TARGET_NAMES)
    assert all({"name", "share", "passed"} <= set(t) for t in d["targets"])
    assert d["apache_score"] == score and _close(d["median_differentiation"], median)


def test_cli_paper_report_shows_published_figures(capsys):
    assert sc.main(["--experiment", "paper"]) == 0
    out = capsys.readouterr().out
    for s in ("96.48%", "96.5 %", "15.036x", "15.04x", "99.5 %", "0.7148", "60/60"):
        assert s in out


def test_cli_apache_and_plot(tmp_path, capsys):
    png = tmp_path / "effort.png"
    assert sc.main(["--experiment", "apache", "--variant", "repo", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "score 45/60" in out and "written to" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sc.main(["--experiment", "apache", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["score"] == 60 and len(d["phases"]) == 4


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
])
def test_cli_bad_input_exits_2_with_one_line(argv, message, cli_exit):
    status, err = cli_exit(sc.main, argv)
    assert status == 2
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_module_entry_point_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "sim.coop", "--theta", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("python -m sim.coop: error:")
    assert "Traceback" not in proc.stderr


def _interior_team():
    from theory import coop as C

    return C.CoopParams(omega=10, beta=0.6, c=1.0, n=4, theta=[0.6, 0.4, 0.2, 0.1], a_min=0.01,
                        a_max=50, welfare_mode="mean")


def test_repeated_play_without_noise_converges_to_the_equilibrium():
    from sim import coop as sc
    from theory import coop as C

    p = _interior_team()
    df = sc.repeated_play(p, teams=500, rounds=12, noise=0.0, seed=1)
    assert df.aggregate_gap.iloc[0] > 1.0  # starts away from it
    assert df.aggregate_gap.iloc[-1] < 1e-9
    assert df.mean_effort.iloc[-1] == pytest.approx(C.solve(p).mean_effort, rel=1e-12)


def test_repeated_play_with_noise_stays_near_and_is_reproducible():
    from sim import coop as sc
    from theory import coop as C

    p = _interior_team()
    a = sc.repeated_play(p, teams=4000, rounds=20, noise=0.3, seed=2)
    b = sc.repeated_play(p, teams=4000, rounds=20, noise=0.3, seed=2)
    assert a.equals(b)
    late = a[a["round"] > 10]
    # with noise sd 0.3 per move the aggregate stays within a few noise units of S*
    assert late.aggregate_gap.max() < 4 * 0.3 * 2
    assert late.mean_effort.mean() == pytest.approx(C.solve(p).mean_effort, abs=0.05)


def test_trust_dynamics_erode_loyalty_when_efforts_sit_at_the_floor():
    from sim import coop as sc

    df = sc.repeated_play(_interior_team(), teams=1000, rounds=30, noise=0.3, trust=True, seed=3)
    assert df.mean_theta.iloc[-1] < 0.5 * df.mean_theta.iloc[0]
    assert df.mean_effort.iloc[-1] < df.mean_effort.iloc[5]


def test_trust_update_rules():
    import numpy as np

    from theory import coop as C

    T, R = C.trust_update([0.5, 0.5, 0.95], [0.1, 0.1, 0.1], [0.5, -0.5, 1.0])
    assert T[0] == pytest.approx(0.5 + 0.10 * 0.5 * (1 - 0.1 - 0.5))  # up towards 1 - R
    assert T[1] == pytest.approx(0.5 - 0.30 * 0.5 * 0.5)  # 3:1 negativity
    assert T[2] == pytest.approx(0.95)  # above the ceiling 1 - R: no further gain
    assert R[0] == pytest.approx(0.1 * 0.97) and R[1] == pytest.approx(0.1 + 0.6 * 0.5 * 0.9)
    assert np.all((T >= 0) & (T <= 1)) and np.all((R >= 0) & (R <= 1))
    with pytest.raises(ValueError, match="s must be in"):
        C.trust_update(0.5, 0.1, 2.0)


def test_cli_repeated_play_json(capsys):
    import json

    from sim import coop as sc

    assert sc.main(["--experiment", "repeated", "--variant", "repo", "--omega", "10", "--beta",
                    "0.6", "--theta", "0.6,0.4,0.2,0.1", "--a-min", "0.01", "--teams", "300",
                    "--rounds", "8", "--noise", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rounds"]) == 8
    assert out["rounds"][-1]["mean_effort"] == pytest.approx(out["equilibrium_mean_effort"])
