"""Monte Carlo of the phase model against its closed forms (docs/models/phase.md)."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import phase as sp
from theory import phase as th
from theory.phase import PhaseParams

SEEDS = [11, 23, 37, 41, 53, 67, 79, 83]


def assert_levels_agree(df, k=4.0):
    """Every level's estimate within k theoretical standard errors of theory."""
    bad = df[np.abs(df["z"]) > k]
    assert bad.empty, bad[["level", "p_theory", "p_sim", "z"]].to_string()


CASES = [
    PhaseParams(b=3, rho=0.2, gamma=0.9, depth=6, p0=0.55),
    PhaseParams(b=3, rho=0.5, gamma=0.7, depth=5, p0=0.65),
    PhaseParams(b=5, rho=0.3, gamma=0.8, depth=3, p0=0.525, root_channel=True),
    PhaseParams(b=3, rho=0.3, gamma=0.9, depth=5, p0=0.55, correlation="item"),
    PhaseParams(b=3, rho=0.5, gamma=0.75, depth=5, p0=0.55, correlation="item"),
    PhaseParams(b=3, rho=0.3, gamma=1.0, depth=5, p0=0.55, correlation="shock"),
    PhaseParams(b=5, rho=0.3, gamma=0.8, depth=3, p0=0.525, correlation="shock"),
    PhaseParams(b=3, rho=0.3, gamma=0.9, depth=4, p0=0.55, correlation="item", rho_node=0.2),
]


@pytest.mark.parametrize("params", CASES, ids=lambda p: f"{p.correlation}-b{p.b}-L{p.depth}")
@pytest.mark.parametrize("backend,trials", [("numpy", 20_000), ("numba", 200_000)])
def test_simulation_agrees_with_theory(params, backend, trials):
    df = sp.simulate(params, trials=trials, seed=2024, backend=backend)
    assert list(df["level"]) == list(range(params.depth + 1))
    assert df["backend"].iloc[0] == backend
    assert_levels_agree(df)


@settings(max_examples=25)
@given(
    b=st.sampled_from([3, 5, 7]),
    depth=st.integers(0, 4),
    rho=st.floats(0.0, 0.9),
    gamma=st.floats(0.3, 1.0),
    p0=st.floats(0.05, 0.95),
    correlation=st.sampled_from(["herding", "item", "shock"]),
    seed=st.sampled_from(SEEDS),
)
def test_numba_root_agrees_with_theory_property(b, depth, rho, gamma, p0, correlation, seed):
    if b ** depth > 2500:
        depth = 3
    params = PhaseParams(b=b, rho=rho, gamma=gamma, depth=depth, p0=p0, correlation=correlation)
    df = sp.simulate(params, trials=20_000, seed=seed, backend="numba")
    assert_levels_agree(df)


def test_herding_reference_value():
    # herding recursion (docs/models/phase.md (4)): b=3, L=6, rho=0.2, gamma=0.9, mu0=0.1
    # gives 0.3780
    params = PhaseParams(b=3, rho=0.2, gamma=0.9, depth=6, p0=0.55)
    mu = 2 * sp.simulate_root(params, 400_000, seed=5, backend="numba") - 1
    se = 2 * math.sqrt(0.25 * (1 - 0.378 ** 2) / 400_000)
    assert abs(mu - 0.3780) <= 4 * se + 5e-5


def test_same_seed_same_numbers_and_seeds_differ():
    params = CASES[3]
    for backend in ("numpy", "numba"):
        a = sp.tree_levels(params, 3000, seed=9, backend=backend)
        b = sp.tree_levels(params, 3000, seed=9, backend=backend)
        c = sp.tree_levels(params, 3000, seed=10, backend=backend)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, c)


def test_trials_not_multiple_of_word_size():
    params = PhaseParams(b=3, rho=0.1, gamma=0.95, depth=3, p0=0.7)
    for trials in (1, 63, 65, 1000, 1025):
        lv = sp.tree_levels(params, trials, seed=1, backend="numba")
        assert lv.shape == (4, trials)
    # the first trials do not depend on how many are simulated after them
    a = sp.tree_levels(params, 100, seed=1, backend="numba")
    b = sp.tree_levels(params, 5000, seed=1, backend="numba")
    assert np.array_equal(a, b[:, :100])


def test_numpy_and_numba_agree_in_distribution():
    params = PhaseParams(b=3, rho=0.4, gamma=0.85, depth=5, p0=0.6, correlation="shock")
    n1, n2 = 40_000, 200_000
    p1 = sp.simulate_root(params, n1, seed=3, backend="numpy")
    p2 = sp.simulate_root(params, n2, seed=3, backend="numba")
    pool = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    assert abs(p1 - p2) <= 4 * se


def test_degenerate_parameters():
    # gamma = 1 and rho = 0: no channel draws, no herding draws
    params = PhaseParams(b=3, rho=0.0, gamma=1.0, depth=4, p0=0.6)
    assert_levels_agree(sp.simulate(params, 50_000, seed=1, backend="numba"))
    # a perfect leaf with a perfect channel is always right, at every level
    params = PhaseParams(b=3, rho=0.4, gamma=1.0, depth=3, p0=1.0, correlation="item")
    lv = sp.tree_levels(params, 2000, seed=1, backend="numba")
    assert lv.all()
    # depth 0: the root is a leaf
    params = PhaseParams(b=3, rho=0.0, gamma=0.8, depth=0, p0=0.7, root_channel=True)
    df = sp.simulate(params, 100_000, seed=1, backend="numba")
    assert abs(df["p_theory"].iloc[0] - (1 + 0.8 * 0.4) / 2) < 1e-12
    assert_levels_agree(df)


def pairwise_corr_with_se(x, batches=40):
    """Mean pairwise correlation of the columns of x and its batch-means standard error."""
    def mean_corr(block):
        c = np.corrcoef(block.T.astype(float))
        iu = np.triu_indices_from(c, 1)
        return c[iu].mean()

    parts = np.array_split(x, batches)
    vals = np.array([mean_corr(p) for p in parts])
    return mean_corr(x), vals.std(ddof=1) / math.sqrt(batches)


@pytest.mark.parametrize("rho", [0.2, 0.4, 0.7])
def test_herding_effective_votes_have_pairwise_correlation_rho(rho):
    params = PhaseParams(b=3, rho=rho, gamma=0.9, depth=3, p0=0.6)
    votes = sp.sample_effective_votes(params, 60_000, seed=4)
    assert votes.shape == (60_000, 3)
    corr, se = pairwise_corr_with_se(votes)
    assert abs(corr - rho) <= 4 * se


@pytest.mark.parametrize("correlation", ["item", "shock"])
def test_leaf_pairwise_correlation_is_rho(correlation):
    params = PhaseParams(b=3, rho=0.35, gamma=0.9, depth=2, p0=0.6, correlation=correlation)
    leaves = sp.sample_leaves(params, 60_000, seed=8)
    corr, se = pairwise_corr_with_se(leaves)
    assert abs(corr - 0.35) <= 4 * se


def test_herding_leaves_are_uncorrelated():
    params = PhaseParams(b=3, rho=0.6, gamma=0.9, depth=2, p0=0.6)
    corr, se = pairwise_corr_with_se(sp.sample_leaves(params, 60_000, seed=8))
    assert abs(corr) <= 4 * se


def test_star_is_a_one_level_tree():
    # star biases (docs/models/phase.md (29)), N = 5, rho = 0.3, gamma = 0.8, mu0 = 0.1
    expected = {"item": 0.11554, "shock": 0.13404, "herding": 0.12855}
    for correlation, mu in expected.items():
        params = PhaseParams(b=5, rho=0.3, gamma=0.8, depth=1, p0=0.55, correlation=correlation)
        trials = 400_000
        est = 2 * sp.simulate_root(params, trials, seed=12, backend="numba") - 1
        se = math.sqrt((1 - mu * mu) / trials)
        assert abs(est - mu) <= 4 * se + 1e-5


def root_bias(params, trials, seed):
    return 2 * sp.simulate_root(params, trials, seed=seed, backend="numba") - 1


def test_phase_boundary_located_by_bisection():
    # bisect gamma on whether the deep root bias exceeds the leaf bias; the boundary is
    # gamma_c (docs/models/phase.md (11))
    b, rho, mu0, depth = 3, 0.2, 0.2, 12
    base = PhaseParams(b=b, rho=rho, gamma=0.7, depth=depth, p0=(1 + mu0) / 2)
    lo, hi = 0.5, 0.95
    for i in range(7):
        mid = (lo + hi) / 2
        if root_bias(replace(base, gamma=mid), 4000, seed=100 + i) > mu0:
            hi = mid
        else:
            lo = mid
    estimate = (lo + hi) / 2
    assert abs(estimate - th.gamma_c(rho, b)) <= 0.02


def test_transition_sharpens_with_depth():
    b, rho, mu0 = 3, 0.2, 0.1
    gc = float(th.gamma_c(rho, b))
    trials = 20_000

    def jump(depth):
        p = PhaseParams(b=b, rho=rho, gamma=gc, depth=depth, p0=(1 + mu0) / 2)
        hi = root_bias(replace(p, gamma=min(1.0, gc + 0.06)), trials, 1)
        lo = root_bias(replace(p, gamma=gc - 0.06), trials, 2)
        return hi - lo

    j4, j10 = jump(4), jump(10)
    se = 2 * math.sqrt(2 / trials)  # bias SE <= 1/sqrt(T), two differences
    assert j10 - j4 > 4 * se


CONTINUOUS = [
    ("star", 9, dict(v0=1.0, rho=0.1, sigma2=0.2)),
    ("tree", 4, dict(v0=1.0, rho=0.3, sigma2=0.1, b=3)),
    ("tree", 2, dict(v0=2.0, rho=0.6, sigma2=0.0, b=5)),
    ("tree_shock", 4, dict(v0=1.0, rho=0.3, sigma2=0.1, b=3)),
    ("chain_relay", 5, dict(v0=1.0, sigma2=0.1)),
    ("chain_running", 6, dict(v0=1.0, rho=0.3, sigma2=0.1)),
]


@pytest.mark.parametrize("org,size,kw", CONTINUOUS, ids=[c[0] + str(c[1]) for c in CONTINUOUS])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_continuous_risk_agrees_with_closed_form(org, size, kw, backend):
    res = sp.simulate_continuous(org, size, trials=100_000, seed=6, backend=backend, **kw)
    assert res["backend"] == backend
    assert abs(res["risk"] - res["theory"]) <= 4 * res["se"] + 1e-9


def test_continuous_tree_reference_value():
    # docs/models/phase.md (35): v0 = 1, b = 3, rho = 0.3, sigma2 = 0.1 gives v_4 = 0.14656
    res = sp.simulate_continuous("tree", 4, v0=1.0, rho=0.3, sigma2=0.1, b=3, trials=200_000,
                                 seed=2, backend="numba")
    assert abs(res["theory"] - 0.14656) < 1e-5
    assert abs(res["risk"] - 0.14656) <= 4 * res["se"]


def test_continuous_rejects_bad_input():
    with pytest.raises(ValueError, match="rho must be in"):
        sp.simulate_continuous("star", 5, rho=1.0)
    with pytest.raises(ValueError, match="org must be one of"):
        sp.simulate_continuous("ring", 5)
    with pytest.raises(ValueError, match="b must be an odd integer"):
        sp.simulate_continuous("tree", 2, b=4)


def test_phase_diagram_rows_and_theory_columns():
    params = PhaseParams(b=3, depth=4, p0=0.6)
    df = sp.phase_diagram(params, [0.0, 0.5], [0.6, 1.0], trials=2000, seed=0, backend="numba")
    assert len(df) == 4
    # strong channel, no correlation: clearly amplifying; weak channel, rho 0.5: washing out
    good = df[(df.rho == 0.0) & (df.gamma == 1.0)].p_sim.item()
    bad = df[(df.rho == 0.5) & (df.gamma == 0.6)].p_sim.item()
    assert good > 0.8 and bad < 0.6
    assert np.all(np.abs(df.p_sim - df.p_theory) <= 4 * np.sqrt(0.25 / 2000))


def test_continuous_kernel_draws_its_normals_with_the_shared_conversion():
    # a relay of one hop without noise: the error of trial t is sqrt(v0) times the normal of
    # the two words at the start of the trial's counter block (sim.phase.layout)
    from sim import rng
    from sim.phase.layout import CONTINUOUS_KERNEL_STREAM, continuous_block

    res = sp.simulate_continuous("chain_relay", 1, v0=2.0, sigma2=0.0, trials=3, seed=4,
                                 backend="numba")
    key = rng.stream_key(4, CONTINUOUS_KERNEL_STREAM)
    ctr = np.arange(3, dtype=np.uint64) * np.uint64(continuous_block(1))
    z = rng.normal(rng.splitmix64(key, ctr), rng.splitmix64(key, ctr + np.uint64(1)))
    assert res["risk"] == pytest.approx(2.0 * np.mean(np.square(z)), rel=1e-12)


def test_sweep_declaration_and_figure(tmp_path):
    from matplotlib.figure import Figure

    from sim.sweep import collect, make_spec, run_sweep

    assert sp.SWEEP.name == sp.NAME == "phase"
    assert [p.name for p in sp.SWEEP.params][:3] == ["b", "rho", "gamma"]
    assert {p.name: p.default for p in sp.SWEEP.params}["gamma"] == sp.Params().gamma
    with pytest.raises(ValueError, match="rho must be in"):
        sp.SWEEP.validate(dict(rho=1.5))
    spec = make_spec("phase", dict(rho="0,0.5", gamma="0.6,1", depth=3, b="3,5"), trials=256,
                     seed=1, backend="numba")
    run_sweep(spec, tmp_path / "s")
    df = collect(tmp_path / "s")
    ax = sp.SWEEP.plot(df, spec.manifest(), Figure().subplots())
    assert ax.get_title().startswith("herding: b=3")  # the b axis is held at its first value
    rows = df[(df["level"] == df["depth"]) & (df["b"] == 3)]
    assert ax.collections[0].get_array().size == len(rows) == 4


def test_phase_diagram_figure_is_bounded_by_the_grid_and_the_line_is_visible():
    import matplotlib.colors as mcolors
    from matplotlib.figure import Figure

    params = PhaseParams(b=3, depth=2, p0=0.6)
    # uneven gamma grid that starts above gamma_c(0) = 2/3, one cell missing
    df = sp.phase_diagram(params, [0.0, 0.4, 0.8], [0.7, 0.8, 1.0], trials=128, seed=1,
                          backend="numba")
    df = df.drop(index=4)
    ax = Figure().subplots()
    sp.plot_phase_diagram(df, ax)
    assert ax.get_ylim() == pytest.approx((0.65, 1.1))  # cell edges, no empty band
    assert ax.get_xlim() == pytest.approx((-0.2, 1.0))
    mesh = ax.collections[0].get_array()
    assert mesh.size == 9 and int(np.ma.count_masked(mesh)) == 1
    (line,) = ax.get_lines()
    gc = line.get_ydata()[np.isfinite(line.get_ydata())]
    assert gc.min() >= 0.65 and gc.max() <= 1.1
    # the critical line is drawn in a colour far from white and from the legend's face
    legend = ax.get_legend()
    assert legend is not None and legend.get_texts()[0].get_text().startswith(r"$\gamma_c")
    rgb = np.array(mcolors.to_rgb(legend.get_lines()[0].get_color()))
    face = np.array(mcolors.to_rgb(legend.get_frame().get_facecolor()))
    assert np.abs(rgb - face).max() > 0.5
