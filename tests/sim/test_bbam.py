"""The bbam simulation: kernels against the reference and each other, simulate against the theory.

Equations cited are those of docs/models/bbam.md.
"""

import dataclasses
from dataclasses import replace

import numpy as np
import pytest

from sim import bbam as sb
from sim import registry, rng
from sim.bbam import layout
from sim.bbam.kernel_array import outcomes_array, outcomes_on, uniforms
from sim.bbam.reference import outcomes_reference
from theory import bbam as th

STATIC = [n for n in sb.ALLOCATORS if n != "global"]


# ----------------------------------------------------------------------------
# the package and its parameters
# ----------------------------------------------------------------------------

def test_the_package_is_a_model():
    mod = registry.model("bbam")
    assert mod is sb and sb.NAME == "bbam"
    assert sb.Params is th.BbamParams and sb.BbamParams is th.BbamParams
    assert sb.SWEEP.name == "bbam" and sb.SWEEP.trials > 0
    assert {p.name for p in sb.SWEEP.params} == {
        f.name for f in dataclasses.fields(th.BbamParams)} - {"m_counts"}


def test_params_validation():
    with pytest.raises(ValueError, match="budget must be in"):
        sb.BbamParams(budget=0)
    with pytest.raises(ValueError, match="synthesis must be one of"):
        sb.BbamParams(synthesis="vote")
    with pytest.raises(ValueError, match="beta_high must be in"):
        sb.BbamParams(beta_low=2.0, beta_high=1.0)
    with pytest.raises(ValueError, match="rounding must be one of"):
        sb.BbamParams(rounding="nearest")
    with pytest.raises(ValueError, match="allocator must be one of"):
        sb.simulate(sb.BbamParams(), 10, names=("greedy",))
    with pytest.raises(ValueError, match="trials must be an integer in"):
        sb.simulate(sb.BbamParams(), 1)


def test_sweep_point_validate_and_plot(tmp_path):
    values = {p.name: p.default for p in sb.SWEEP.params}
    values["budget"] = 300.0
    df = sb.SWEEP.point(values, 3, 3000, "numba")
    assert set(df["quantity"]) == {"accuracy_percent"}
    assert (df["estimate"] == df["accuracy"]).all() and (df["se"] == df["accuracy_se"]).all()
    with pytest.raises(ValueError, match="synthesis must be one of"):
        sb.SWEEP.validate(dict(values, synthesis="vote"))
    man = dict(axes={"budget": [200.0, 300.0], "planner_noise": [0.0, 0.3]})
    rows = []
    for budget in (200.0, 300.0):
        for noise in (0.0, 0.3):
            part = sb.SWEEP.point(dict(values, budget=budget, planner_noise=noise), 3, 2000,
                                  "numba")
            rows.append(part.assign(budget=budget, planner_noise=noise))
    import pandas as pd
    from matplotlib.figure import Figure

    ax = sb.SWEEP.plot(pd.concat(rows), man, Figure().subplots())
    assert "planner_noise=0" in ax.get_title()
    # one line per allocator, each through the two budgets of the first noise value only
    lines = [ln for ln in ax.get_lines() if ln.get_label() in sb.ALLOCATORS]
    assert len(lines) == len(sb.ALLOCATORS) and all(len(ln.get_xdata()) == 2 for ln in lines)
    with pytest.raises(ValueError, match="needs a range of budget"):
        sb.SWEEP.plot(pd.concat(rows), dict(axes={"planner_noise": [0.0, 0.3]}), None)


# ----------------------------------------------------------------------------
# the random words: one layout, one conversion
# ----------------------------------------------------------------------------

def test_layout_gives_every_word_its_own_counter():
    M = 7
    width = layout.words_per_question(np.uint64(M))
    q = np.arange(1000, dtype=np.uint64)[:, None]
    steps = layout.step_counter(q, np.arange(M, dtype=np.uint64)[None, :], width)
    synth = layout.synthesis_counter(q[:, 0], np.uint64(M), width)
    every = np.concatenate([steps.ravel(), synth])
    assert every.dtype == np.uint64
    assert np.array_equal(np.sort(every), np.arange(1000 * (M + 1), dtype=np.uint64))


def test_uniforms_are_the_shared_conversion_of_the_layouts_words():
    key = rng.stream_key(4, layout.STREAM)
    u, u_syn = uniforms(np, key, 50, 3)
    # by hand: question 7, step 2 is counter 7 * 4 + 2; its synthesis word is 7 * 4 + 3
    word = rng.splitmix64(key, np.array([7 * 4 + 2, 7 * 4 + 3], dtype=np.uint64))
    assert u[7, 2] == (int(word[0]) >> 11) * 2.0**-53
    assert u_syn[7] == (int(word[1]) >> 11) * 2.0**-53
    assert u.min() >= 0.0 and u.max() < 1.0


def test_required_length_has_the_survival_function_min_1_U():
    # docs/models/bbam.md (17)-(18): P(tau > x) = min(1, c x^-beta + u_ale)
    n = 200_000
    key = rng.stream_key(8, layout.STREAM)
    u, _ = uniforms(np, key, n, 1)
    from sim.bbam.kernel_array import required_tokens

    c, beta, u_ale = 30.0, 1.5, 0.1
    tau = required_tokens(np, u[:, 0], c, beta, u_ale)
    for x in (5.0, 20.0, 80.0):
        p = float(th.uncertainty(x, c, beta, u_ale))
        p = min(1.0, p)
        se = np.sqrt(p * (1 - p) / n)
        assert abs(np.mean(tau > x) - p) <= 4 * se + 1e-12, x
    assert abs(np.mean(np.isinf(tau)) - u_ale) <= 4 * np.sqrt(u_ale * (1 - u_ale) / n)


# ----------------------------------------------------------------------------
# kernels against the reference and each other
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("synthesis", ["all", "majority", "any"])
@pytest.mark.parametrize("carry_over", [False, True])
def test_kernels_match_the_reference(synthesis, carry_over):
    params = sb.BbamParams(budget=300.0, synthesis=synthesis, synthesis_accuracy=0.8,
                           carry_over=carry_over)
    q = sb.sample_questions(params, 1500, seed=6)
    for name, b in sb.allocations(params, q, ("exact", "global", "cosine")).items():
        s_ref, t_ref = outcomes_reference(params, q, b, 6)
        for backend in ("numba", "numpy"):
            s, t = sb.outcomes(params, q, b, seed=6, backend=backend)
            assert np.array_equal(s, s_ref), (name, backend)
            np.testing.assert_allclose(t, t_ref, rtol=1e-12, err_msg=f"{name} {backend}")


def test_numba_and_array_kernels_draw_the_same_numbers():
    params = sb.BbamParams(budget=300.0, synthesis="majority")
    q = sb.sample_questions(params, 20_000, seed=5)
    key = rng.stream_key(5, layout.STREAM)
    for name, b in sb.allocations(params, q, ("exact", "global", "cosine")).items():
        s1, t1 = sb.outcomes(params, q, b, seed=5, backend="numba")
        s2, t2 = sb.outcomes(params, q, b, seed=5, backend="numpy")
        s3, t3 = outcomes_on(np, params, q, b, key)
        assert np.array_equal(s1, s2) and np.array_equal(s2, s3), name
        # the uniforms are identical; tokens may differ in the last bit of pow
        np.testing.assert_allclose(t1, t2, rtol=1e-12, err_msg=name)
        assert np.array_equal(t2, t3), name


def test_array_kernel_takes_the_layout_not_the_backend():
    # outcomes_array itself (no host copies) gives what the numpy backend gives
    params = sb.BbamParams(budget=250.0)
    q = sb.sample_questions(params, 3000, seed=2)
    b = sb.allocation(params, q, "paper")
    key = rng.stream_key(2, layout.STREAM)
    s, t = outcomes_array(np, b, q.c, q.beta, q.u_ale, q.mask, q.budget, "all", 1.0, key)
    s2, t2 = sb.outcomes(params, q, b, seed=2, backend="numpy")
    assert np.array_equal(s, s2) and np.array_equal(t, t2)


def test_tokens_never_exceed_the_budget():
    params = sb.BbamParams(budget=250.0)
    q = sb.sample_questions(params, 5000, seed=1)
    allocs = sb.allocations(params, q)
    for name, b in allocs.items():
        solved, tokens = sb.outcomes(params, q, b, seed=1, backend="numba")
        assert np.all(tokens <= 250.0 + 1e-9), name
        if b is not None:
            assert np.allclose(b.sum(axis=1), 250.0), name
            assert np.all(b[~q.mask] == 0), name


def test_carry_over_only_adds_solved_questions():
    # with common random numbers a soft cap b_j + carry >= b_j solves every step the hard
    # cap solved, so every question solved under hard caps stays solved
    hard = sb.BbamParams(budget=300.0, synthesis="majority")
    soft = replace(hard, carry_over=True)
    q = sb.sample_questions(hard, 20_000, seed=9)
    for name, b in sb.allocations(hard, q, ("uniform", "exact", "polynomial")).items():
        s_hard, _ = sb.outcomes(hard, q, b, seed=9, backend="numba")
        s_soft, t_soft = sb.outcomes(soft, q, b, seed=9, backend="numba")
        assert np.all(s_soft[s_hard]), name
        assert s_soft.sum() > s_hard.sum(), name
        assert np.all(t_soft <= 300.0 + 1e-9)


# ----------------------------------------------------------------------------
# simulate against the closed forms
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("synthesis", ["all", "majority", "any"])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_simulated_accuracy_and_tokens_match_closed_form(synthesis, backend):
    params = sb.BbamParams(budget=300.0, synthesis=synthesis, synthesis_accuracy=0.9)
    df = sb.simulate(params, trials=40_000, seed=7, backend=backend)
    assert list(df["name"]) == list(sb.ALLOCATORS)
    static = df[df["name"] != "global"]
    z_acc = (static["accuracy"] - static["accuracy_theory"]) / static["accuracy_theory_se"]
    z_tok = (static["tokens"] - static["tokens_theory"]) / static["tokens_se"]
    assert np.all(np.abs(z_acc) <= 4), static[["name", "accuracy", "accuracy_theory"]]
    assert np.all(np.abs(z_tok) <= 4), static[["name", "tokens", "tokens_theory"]]
    # E3 is A^2/T of the reported means, docs/models/bbam.md (9)
    assert np.allclose(df["e3"], df["accuracy"] ** 2 / df["tokens"])
    assert (df["trials"] == 40_000).all() and (df["backend"] == backend).all()


def test_global_pool_with_a_huge_budget_solves_everything():
    # with a huge budget every allocator solves everything it can; the global pool
    # then behaves like unlimited caps
    params = sb.BbamParams(budget=1e9, u_ale_max=0.0)
    df = sb.simulate(params, trials=5000, seed=3, backend="numba",
                     names=("uniform", "global", "exact"))
    assert np.allclose(df["accuracy"], 100.0)


def test_perfect_planner_makes_exact_equal_oracle():
    params = sb.BbamParams(planner_noise=0.0)
    df = sb.simulate(params, trials=10_000, seed=2, backend="numba", names=("exact", "oracle"))
    assert df["accuracy"].iloc[0] == df["accuracy"].iloc[1]
    assert df["tokens"].iloc[0] == pytest.approx(df["tokens"].iloc[1], rel=1e-12)


def test_same_seed_same_table_and_seed_changes_it():
    p = sb.BbamParams()
    a = sb.simulate(p, 3000, seed=11, backend="numba")
    b = sb.simulate(p, 3000, seed=11, backend="numba")
    c = sb.simulate(p, 3000, seed=12, backend="numba")
    assert a["accuracy"].equals(b["accuracy"])
    assert not a["accuracy"].equals(c["accuracy"])


def test_e3_interval_covers_by_the_delta_method():
    # docs/models/bbam.md (21): the delta-method standard error of E3 matches the
    # spread of E3 over independent seeds
    p = sb.BbamParams(budget=300.0)
    e3 = [sb.simulate(p, 4000, seed=s, backend="numba", names=("exact",))
          for s in range(30)]
    values = np.array([d["e3"].iloc[0] for d in e3])
    se = np.mean([d["e3_se"].iloc[0] for d in e3])
    # the spread of 30 draws estimates the standard error to about 13% (1/sqrt(2 * 29))
    assert values.std(ddof=1) == pytest.approx(se, rel=0.45)


def test_frontier_has_every_budget_and_allocator():
    fr = sb.frontier(sb.BbamParams(), [150.0, 400.0], trials=2000, seed=1, backend="numba",
                     names=("uniform", "exact"))
    assert len(fr) == 4 and sorted(set(fr["budget"])) == [150.0, 400.0]
    more = fr[fr["budget"] == 400.0].set_index("name")["tokens"]
    less = fr[fr["budget"] == 150.0].set_index("name")["tokens"]
    assert (more > less).all()


def test_frontier_figure_legend_hides_no_curve():
    from matplotlib.figure import Figure

    fr = sb.frontier(sb.BbamParams(), [150.0, 400.0], trials=1000, seed=1, backend="numba")
    fig = Figure(figsize=(8.2, 4.8), layout="constrained")
    ax = sb.plot_frontier(fr, fig.subplots())
    fig.draw_without_rendering()
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(sb.ALLOCATORS)
    # the legend lies right of the axes, so it covers no curve and no iso-E3 label
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1
