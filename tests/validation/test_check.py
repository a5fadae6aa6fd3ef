"""validation.check: verdict logic on planted runs, estimators, and the quick end-to-end run."""

import json

import numpy as np
import pytest

from validation import check as vc
from validation.check import knapsack as vck
from validation.check.__main__ import main as check_main
from validation.check._common import correct_matrix


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_herding_run_follows_herding_not_item(seed):
    t = vc.planted_table("herding", questions=1500, samples=32, p=0.65, rho=0.4, seed=seed)
    rows, d = vc.check_phase(t, reps=150, seed=seed)
    assert "herding" in d["followed"] and "item" not in d["followed"]
    assert "independent" not in d["followed"]
    assert rows[0].verdict == "pass"
    assert abs(d["rho"] - 0.4) < 0.05


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_item_run_does_not_follow_herding(seed):
    t = vc.planted_table("item", questions=1500, samples=32, p=0.65, rho=0.4, seed=seed)
    rows, d = vc.check_phase(t, reps=150, seed=seed)
    assert d["followed"] == ["item"]
    assert d["best"] == "item"
    assert rows[0].verdict == "pass"


def test_independent_run_fails_the_correlated_claim_only_through_rho():
    t = vc.planted_table("independent", questions=800, samples=16, p=0.7, seed=3)
    rows, d = vc.check_phase(t, reps=100)
    assert d["rho"] < 0.05
    assert "independent" in d["followed"]


def test_icc_estimator_recovers_rho():
    t = vc.planted_table("item", questions=4000, samples=8, p=0.6, rho=0.25, seed=5)
    correct, _ = correct_matrix(t)
    p, rho = vc.icc(correct)
    assert abs(p - 0.6) < 0.02 and abs(rho - 0.25) < 0.03


def test_vote_and_tree_accuracy_by_hand():
    c = np.array([[1, 1, 0, 0, 0, 1, 1, 1, 1],
                  [0, 0, 0, 1, 1, 1, 0, 1, 0]], dtype=bool)
    assert np.allclose(vc.vote_accuracy(c, 3), [2 / 3, 1 / 3])
    assert np.allclose(vc.tree_accuracy(c, 3, 2), [1.0, 0.0])
    with pytest.raises(ValueError, match="b=11"):
        vc.vote_accuracy(c, 11)


def test_predict_votes_limits():
    assert vc.predict_votes("independent", 0.7, 0.0, 3) == pytest.approx(
        0.7 ** 3 + 3 * 0.7 ** 2 * 0.3)
    # herding panel: rho p + (1 - rho) f_b(p)
    f3 = 0.7 ** 3 + 3 * 0.7 ** 2 * 0.3
    assert vc.predict_votes("herding", 0.7, 0.4, 3) == pytest.approx(0.4 * 0.7 + 0.6 * f3)


def test_hypergeometric_mixed_probability():
    # 4 of 8 correct, draw 2: P(mixed) = 1 - 2 * C(4,2)/C(8,2) = 1 - 12/28
    assert vck._hyper_mixed(4, 8, 2) == pytest.approx(1 - 12 / 28)
    assert vck._hyper_mixed(0, 8, 3) == 0.0 and vck._hyper_mixed(8, 8, 3) == 0.0


@pytest.mark.parametrize("model", ["item", "herding"])
def test_knapsack_check_passes_on_planted_runs(model):
    t = vc.planted_table(model, questions=1500, samples=16, p=0.65, rho=0.4, seed=1)
    rows, d = vc.check_knapsack(t, reps=150)
    assert all(r.verdict == "pass" for r in rows)
    assert d["egr"]["knapsack"][0] > d["egr"]["uniform"][0]


def test_knapsack_check_detects_a_wrong_prediction(monkeypatch):
    # Corrupt the prediction part: its successes are flipped, so predictions go wrong.
    t = vc.planted_table("item", questions=1500, samples=16, p=0.8, rho=0.1, seed=1)
    s = t["sample"].to_numpy()
    flip = (s >= 4) & (s < 10)
    t.loc[flip, "correct"] = t.loc[flip, "correct"].to_numpy() & (np.arange(flip.sum()) % 3 > 0)
    rows, _ = vc.check_knapsack(t, reps=150)
    assert any(r.verdict == "fail" for r in rows)


def test_fit_uncertainty_law_recovers_parameters():
    b = np.array([5, 10, 20, 40, 80, 160.0])
    u = 2.0 * b ** -0.8 + 0.05
    c, beta, ua = vc.fit_uncertainty_law(b, u)
    assert c == pytest.approx(2.0, rel=1e-3) and beta == pytest.approx(0.8, rel=1e-3)
    assert ua == pytest.approx(0.05, abs=1e-4)


def test_verdict_rule():
    assert vc.verdict(0.5, 0.515, 0.0, 0.02) == "pass"
    assert vc.verdict(0.5, 0.53, 0.0, 0.02) == "fail"
    assert vc.verdict(0.5, 0.53, 0.01, 0.02) == "pass"
    assert vc.verdict(0.5, 0.6, 0.01, 0.02, primary=False) == "departs"


def test_cli_bad_input(cli_exit, tmp_path):
    status, err = cli_exit(check_main, [str(tmp_path / "nothing")])
    assert status == 2 and len(err.strip().splitlines()) == 1
    status, err = cli_exit(check_main, ["--only", "phase,vibes", str(tmp_path)])
    assert status == 2 and "only" in err
    status, err = cli_exit(check_main, [])
    assert status == 2 and "run_dir" in err


def test_quick_validation_end_to_end(tmp_path, capsys):
    """The whole --quick path: sample a run from the committed checkpoint, run all checks."""
    run_dir = tmp_path / "quick"
    status = check_main(["--quick", str(run_dir), "--json"])
    out = json.loads(capsys.readouterr().out)
    checks = {c["check"] for c in out["checks"]}
    assert checks == {"phase", "knapsack", "gamma", "bbam", "workflow"}
    verdicts = [c["verdict"] for c in out["checks"]]
    assert status == (1 if "fail" in verdicts else 0) == out["status"]
    for c in out["checks"]:
        assert set(c) == {"check", "quantity", "predicted", "observed", "ci_low", "ci_high",
                          "verdict"}
    report = run_dir / "report"
    assert (report / "report.md").is_file()
    for name in ("phase", "knapsack", "gamma", "bbam", "workflow"):
        assert (report / f"{name}.png").stat().st_size > 5000
    # The committed model's errors are correlated within a question: independence departs.
    indep = [c for c in out["checks"] if c["check"] == "phase" and "independent" in c["quantity"]
             and "vote b=9" in c["quantity"]]
    assert indep and indep[0]["verdict"] == "departs"
    # Knapsack predictions hold on the real run, and guidance raises adherence.
    assert all(c["verdict"] == "pass" for c in out["checks"] if c["check"] == "knapsack")
    assert all(c["verdict"] == "pass" for c in out["checks"]
               if c["check"] == "gamma" and c["quantity"].startswith("adherence"))
    # A second call reuses the run instead of sampling again.
    status2 = check_main(["--quick", str(run_dir), "--only", "phase", "--json"])
    assert status2 in (0, 1)
