"""validation.check memory: tier routing by difficulty class on planted and real runs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from validation.check import memory as vcm


def planted(questions=600, samples=32, seed=0):
    """Four difficulty classes with known accuracy and length; independent samples."""
    gen = np.random.default_rng(seed)
    diff = np.repeat(np.arange(1, 5), questions // 4)
    p = np.array([0.95, 0.7, 0.55, 0.4])[diff - 1]
    length = np.array([6, 11, 17, 26])[diff - 1]
    correct = gen.random((diff.size, samples)) < p[:, None]
    tokens = gen.poisson(length[:, None], (diff.size, samples)) + 1
    q, s = np.meshgrid(np.arange(diff.size), np.arange(samples), indexing="ij")
    return pd.DataFrame({"question_id": q.ravel(), "sample": s.ravel(),
                         "difficulty": np.repeat(diff, samples), "correct": correct.ravel(),
                         "total_length": tokens.ravel()})


def test_vote_probability_is_the_hypergeometric_majority():
    # 5 draws from 12 samples with 7 right: P(at least 3 right)
    want = stats.hypergeom(12, 7, 5).sf(2)
    assert vcm._vote_right(7, 12, 5) == pytest.approx(want)
    assert vcm._vote_right(np.array([0, 12]), 12, 3).tolist() == [0.0, 1.0]
    assert vcm._vote_right(5, 12, 1) == pytest.approx(5 / 12)


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_run_passes_and_routing_helps(seed):
    rows, detail = vcm.check_memory(planted(seed=seed), seed=seed, reps=150)
    assert len(rows) == 6 and all(r.verdict == "pass" for r in rows), rows
    gains = [r for r in rows if r.quantity.startswith("routing gain")]
    assert all(r.predicted > 0 for r in gains)
    # the router buys votes for the middle classes first and leaves the easiest at one sample
    assert "tiers" in rows[0].quantity and detail["classes"] == [1, 2, 3, 4]


def test_check_needs_samples_and_lengths():
    # both halves must hold a vote of 5: fewer than 20 samples are refused in one line (16 used
    # to pass the check's guard and then fail on an empty half)
    for samples in (12, 16, 19):
        with pytest.raises(ValueError, match=f"needs >= 20 samples per question, got {samples}"):
            vcm.check_memory(planted(questions=40, samples=samples))
    with pytest.raises(ValueError, match="total_length"):
        vcm.check_memory(planted(questions=40).drop(columns="total_length"))


def test_plot_draws_on_given_axes():
    from matplotlib.figure import Figure

    _, detail = vcm.check_memory(planted(questions=200), reps=20)
    ax = Figure().subplots()
    assert vcm.plot(detail, ax) is ax and len(ax.lines) >= 4
