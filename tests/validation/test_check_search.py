"""validation.check.search on planted runs whose answer laws are known."""

import numpy as np
import pandas as pd
import pytest

from validation.check import search as vcs


def planted(questions=600, samples=32, W=4, distractor=0.0, seed=0):
    """Answers: correct with a per-question rate ~ Beta(2, 2); wrong ones uniform over W values,
    or one distractor taking the share ``distractor`` of the wrong answers."""
    gen = np.random.default_rng(seed)
    q = gen.beta(2.0, 2.0, questions)
    rows = []
    for i in range(questions):
        right = gen.random(samples) < q[i]
        if distractor > 0:
            wrong = np.where(gen.random(samples) < distractor, 1,
                             2 + gen.integers(0, W, samples))
        else:
            wrong = 1 + gen.integers(0, W, samples)
        for j in range(samples):
            rows.append((i, j, "42" if right[j] else f"w{wrong[j]}", "42"))
    t = pd.DataFrame(rows, columns=["question_id", "sample", "answer", "target"])
    t["correct"] = t["answer"] == t["target"]
    return t


def test_answer_codes_number_wrong_answers_by_first_appearance():
    t = pd.DataFrame({"question_id": [0, 0, 0, 0], "sample": [0, 1, 2, 3],
                      "answer": ["a", "7", "b", "a"], "target": ["7"] * 4})
    assert vcs.answer_codes(t).tolist() == [[1, 0, 2, 1]]


def test_observed_votes_by_hand():
    codes = np.array([[0, 0, 1, 1, 2, 0], [1, 1, 0, 2, 3, 0]])
    # groups of 3: (0,0,1) win, (1,2,0) three-way tie 1/3 | (1,1,0) lose, (2,3,0) tie 1/3
    assert np.allclose(vcs.observed_votes(codes, 3), [(1 + 1 / 3) / 2, (0 + 1 / 3) / 2])


def test_a_uniform_run_follows_the_law_and_the_environment():
    rows, d = vcs.check_search(planted(W=4), reps=100)
    assert all(r.verdict == "pass" for r in rows if r.primary)
    assert all(r.verdict == "follows" for r in rows if "environment" in r.quantity)
    assert any(r.verdict == "departs" for r in rows if "binary" in r.quantity)
    assert abs(d["w_eff"] - 4) < 0.3 and d["wrong_answers_fit"] in (3, 4, 6)
    for v in d["votes"].values():  # unbiased predictions: close, not only within tolerance
        assert abs(v["independent"] - v["observed"]) < 0.015
        assert abs(v["uniform"] - v["observed"]) < 0.015


def test_a_dominant_distractor_concentrates_the_wrong_answers():
    rows, d = vcs.check_search(planted(W=8, distractor=0.6, seed=1), reps=100)
    assert all(r.verdict == "pass" for r in rows if r.primary)
    # shares 0.6 + 0.4/8 each: 1 / (0.6**2 + 8 (0.05)**2) = 2.63
    assert abs(d["w_eff"] - 1 / (0.36 + 8 * 0.05**2)) < 0.2


def test_the_check_needs_answers():
    t = planted(questions=5, samples=4).drop(columns=["answer"])
    with pytest.raises(ValueError, match="needs the run's column 'answer'"):
        vcs.check_search(t)
