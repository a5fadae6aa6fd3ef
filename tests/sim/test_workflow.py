"""sim.workflow: kernels, executor rules, planner, baselines, theory beside simulation.

Equation numbers refer to docs/models/workflow.md. Monte Carlo checks use fixed
seeds and tolerances of 4 standard errors; exact values come from theory.workflow
(whose own tables are checked in tests/theory/test_workflow.py).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import rng
from sim import workflow as sw
from sim.workflow import executor as ex
from sim.workflow import kernel_array, kernel_numba, reference
from sim.workflow.encode import NO_CAP
from sim.workflow.planner import candidate_actions
from theory import workflow as th
from theory.workflow import WorkflowParams


def _identical(shape="chain", nodes=5, p=0.5, latency=1.0, sd=0.0, cost=1.0, **kw):
    params = WorkflowParams(shape=shape, nodes=nodes, p=p, latency=latency, latency_sd=sd,
                            cost=cost, **kw)
    return params, sw.synthetic(params)


def _z(est, exact, n):
    se = math.sqrt(max(exact * (1 - exact), 1e-12) / n)
    return (est - exact) / se


# --------------------------------------------------------------------------- kernels


def _mixed_case():
    """A 6-node, 2-model workflow with one resampled pair, a state with batches in flight."""
    params = WorkflowParams(nodes=6, models=2, graph_seed=3)
    wf = sw.synthetic(params)
    gen = np.random.default_rng(0)
    recs = {("2", "m1"): (gen.uniform(1, 20, 50), gen.random(50) < 0.4, gen.uniform(1, 3, 50))}
    wf = sw.from_parents(wf.ids, [[wf.ids[u] for u in ps] for ps in wf.parents], wf.models,
                         {wf.ids[v]: {m: dict(p=float(wf.p[v, j]), latency=float(wf.latency[v, j]),
                                              latency_sd=float(wf.latency_sd[v, j]),
                                              cost=float(wf.cost[v, j]))
                                      for j, m in enumerate(wf.models)} for v in range(wf.n)},
                         records=recs)
    data = sw.encode(wf, "lognormal", (1, 4, 16))
    roots = [v for v in range(wf.n) if not wf.parents[v]]
    # the first root completed, nothing else yet; a batch of node 1 in flight if it is ready
    start = sw.start_state(wf.n, h=90.0, b=80.0)
    tables = [(m, lev, NO_CAP, True) for m in range(2) for lev in range(3)]
    tables.append((np.zeros(wf.n, dtype=int), np.full(wf.n, 1), np.full(wf.n, 12.0), False))
    fm = np.full(wf.n, -1)
    fl = np.full(wf.n, -1)
    for v in roots:
        fm[v], fl[v] = 1, 2
    pairs = [(t, 0) for t in range(len(tables))] + [(t, -1) for t in range(len(tables))]
    plans = sw.make_plans(wf.n, tables, [(fm, fl)], pairs, rollouts=40)
    return wf, data, start, plans


def _inflight_case():
    """The chain of 3 with node 0 complete and node 1's batch in flight (unknown outcome)."""
    params, wf = _identical(nodes=3, p=0.3, sd=2.0, latency=5.0)
    data = sw.encode(wf, "gamma", (1, 4))
    start = sw.start_state(3, h=40.0, b=20.0, completed=1, inflight=2,
                           end=np.array([0.0, 2.5, 0.0]), known=np.zeros(3),
                           q=np.array([0.0, 0.6, 0.0]))
    plans = sw.make_plans(3, [(0, 1, NO_CAP, True)], rollouts=300)
    return wf, data, start, plans


@pytest.mark.parametrize("case", [_mixed_case, _inflight_case])
def test_reference_numba_and_array_kernel_make_the_same_decisions(case):
    wf, data, start, plans = case()
    key = rng.stream_key(7, "test")
    a = reference.rollouts(data, start, plans, key)
    b = kernel_numba.rollouts(data, start, plans, key)
    c = kernel_array.rollouts(np, data, start, plans, key)
    assert np.array_equal(a[0], b[0]) and np.array_equal(b[0], c[0])
    for x, y in ((a, b), (b, c)):
        assert np.allclose(x[1], y[1], rtol=1e-12, atol=1e-12)
        assert np.allclose(x[2], y[2], rtol=1e-12, atol=1e-9)
    assert 0 < b[0].mean() < 1   # the case is not trivial


def test_the_in_flight_batch_succeeds_with_its_chance():
    wf, data, start, plans = _inflight_case()
    plans = sw.make_plans(3, [(0, 1, NO_CAP, False)], rollouts=20000)
    s, _, t = kernel_numba.rollouts(data, start, plans, rng.stream_key(1, "x"))
    # without retries, node 1 completes iff the batch in flight succeeds (0.6) and the next
    # batch of node 2 (k = 4, p = 0.3) succeeds, within the deadline of 40 s
    q2 = th.batch_success(0.3, 4)
    within = 1.0 - 0.0   # latency 5 +/- 2 (gamma) never reaches 37.5 s in practice
    assert abs(_z(s.mean(), 0.6 * q2 * within, s.size)) < 4


# ----------------------------------------------------------------- theory beside simulation


@pytest.mark.parametrize("deadline, exact", [(5, 0.724196), (6, 0.950508), (7, 0.992941),
                                             (8, 0.999129)])
def test_chain_seq_k_matches_the_incomplete_beta_by_simulation(deadline, exact):
    # (22) table: n = 5, p = 0.5, k = 4, deterministic latency 1, N_max = deadline
    params, wf = _identical(budget=1000.0, deadline=float(deadline), policies=("seq:4",))
    df = sw.evaluate(wf, params, trials=20000, seed=1, backend="numba")
    assert df["theory"].iloc[0] == pytest.approx(exact, abs=1e-6)
    assert abs(_z(df["success"].iloc[0], exact, 20000)) < 4


def test_chain_budget_binds_the_same_way():
    # floor(B / (k kappa)) = floor(26 / 4) = 6 batches: the N_max = 6 entry
    params, wf = _identical(budget=26.0, deadline=1000.0, policies=("seq:4",))
    df = sw.evaluate(wf, params, trials=20000, seed=2, backend="numba")
    assert df["theory"].iloc[0] == pytest.approx(0.950508, abs=1e-6)
    assert abs(_z(df["success"].iloc[0], 0.950508, 20000)) < 4


def test_executor_agrees_with_the_incomplete_beta():
    params, wf = _identical(budget=1000.0, deadline=6.0)
    data = sw.encode(wf, "lognormal", (4,))
    pol = sw.fixed_policy("seq:4", wf, 1000.0)
    key = ex.policy_key(3, "seq:4")
    s = np.mean([ex.run_episode(wf, data, pol, 1000.0, 6.0, key, e).success
                 for e in range(3000)])
    assert abs(_z(s, 0.950508, 3000)) < 4


@pytest.mark.parametrize("budget", [1e6, 40.0])
def test_fork_join_products_by_simulation(budget):
    # (23): width max(2, 12 // 4) = 3, middle depth 2, deterministic latency 2, deadline 14
    params, wf = _identical(shape="fork-join", nodes=12, p=0.4, latency=2.0, budget=budget,
                            deadline=14.0, policies=("seq:1", "seq:4"))
    assert wf.n == 8
    df = sw.evaluate(wf, params, trials=20000, seed=4, backend="numba")
    for r in df.itertuples():
        k = int(r.name.split(":")[1])
        q = th.batch_success(0.4, k)
        n_b = math.floor(budget / k) if budget < 1e5 else math.inf
        exact = th.fork_join_success(q, 3, 2, 7, n_b)
        assert r.theory == pytest.approx(exact, abs=1e-12)
        assert abs(_z(r.success, exact, 20000)) < 4


@pytest.mark.parametrize("k", [1, 4, 16])
def test_batch_time_is_mu_harmonic_with_exponential_latencies(k):
    # (24): gamma law with sd = mean is exponential; p = 1, one node, one batch
    params, wf = _identical(nodes=1, p=1.0, latency=10.0, sd=10.0, budget=1e9, deadline=1e9,
                            latency_law="gamma", policies=(f"seq:{k}",))
    n = 40000
    df = sw.evaluate(wf, params, trials=n, seed=5, backend="numba")
    sd = 10.0 * math.sqrt(sum(1 / i**2 for i in range(1, k + 1)))   # sd of the max
    assert abs(df["time_mean"].iloc[0] - th.expected_max_exponential(10.0, k)) < 4 * sd / \
        math.sqrt(n)


@pytest.mark.parametrize("law", ["lognormal", "gaussian"])
def test_batch_time_matches_the_quadrature_of_the_law(law):
    params, wf = _identical(nodes=1, p=1.0, latency=8.0, sd=3.5, budget=1e9, deadline=1e9,
                            latency_law=law, policies=("seq:16",))
    n = 40000
    df = sw.evaluate(wf, params, trials=n, seed=6, backend="numba")
    assert abs(df["time_mean"].iloc[0] - th.expected_max(law, 8.0, 3.5, 16)) < 4 * 2.5 / \
        math.sqrt(n)


@pytest.mark.parametrize("policy", ["seq:4", "uniform", "critical-path"])
def test_executor_and_kernel_agree_in_distribution(policy):
    params = WorkflowParams(nodes=6, graph_seed=1, budget=100.0, deadline=70.0)
    wf = sw.synthetic(params)
    data = sw.encode(wf, "lognormal", (4,))
    pol = sw.fixed_policy(policy, wf, params.budget)
    data = sw.with_levels(data, pol.ks)
    n_k, n_e = 20000, 2500
    plans = sw.make_plans(wf.n, [pol.table(data)], rollouts=n_k)
    s_k = kernel_numba.rollouts(data, sw.start_state(wf.n, 70.0, 100.0), plans,
                                rng.stream_key(1, policy))[0].mean()
    key = ex.policy_key(2, policy)
    s_e = np.mean([ex.run_episode(wf, data, pol, 100.0, 70.0, key, e).success
                   for e in range(n_e)])
    se = math.sqrt(s_k * (1 - s_k) / n_k + s_e * (1 - s_e) / n_e)
    assert 0.05 < s_k < 0.95
    assert abs(s_k - s_e) < 4 * se


# --------------------------------------------------------------------------- executor rules


class _Spy:
    """A Seq-k policy that records every view."""

    retry = True
    caps = None

    def __init__(self, k, model=0):
        self.k, self.model, self.views = k, model, []

    def decide(self, view):
        self.views.append(view)
        return {v: (self.model, self.k) for v in view.dispatchable}, None


@settings(max_examples=40)
@given(st.integers(1, 8), st.floats(0.5, 5.0), st.floats(0.1, 3.0), st.floats(0.1, 40.0),
       st.floats(0.1, 12.0))
def test_a_launch_fails_iff_its_cost_or_longest_latency_does_not_fit(k, tau, kappa, budget,
                                                                     deadline):
    # two parallel roots, p = 1, deterministic latency: one launch of 2 k samples
    ids = ["a", "b"]
    stats = {u: {"m": dict(p=1.0, latency=tau, latency_sd=0.0, cost=kappa)} for u in ids}
    wf = sw.from_parents(ids, [[], []], ["m"], stats)
    data = sw.encode(wf, "lognormal")
    ep = ex.run_episode(wf, data, _Spy(k), budget, deadline, ex.policy_key(0, "spy"), 0)
    fits_cost = 2 * k * kappa <= budget + 1e-12
    fits_time = tau <= deadline + 1e-12
    assert ep.success == (fits_cost and fits_time)
    if not fits_time:
        assert ep.reason == "deadline" and ep.cost == 0.0
    elif not fits_cost:
        assert ep.reason == "budget" and ep.cost == 0.0
    else:
        assert ep.cost == pytest.approx(2 * k * kappa) and ep.time == pytest.approx(tau)
    # the kernel applies the same rule
    plans = sw.make_plans(2, [(0, data.level(1) if k == 1 else 0, NO_CAP, True)], rollouts=1)
    data_k = sw.with_levels(data, (k,))
    plans = sw.make_plans(2, [(0, data_k.level(k), NO_CAP, True)], rollouts=1)
    s = kernel_numba.rollouts(data_k, sw.start_state(2, deadline, budget), plans,
                              rng.stream_key(0, "r"))[0]
    assert bool(s[0]) == ep.success


@settings(max_examples=25)
@given(st.integers(0, 10**6), st.integers(1, 6), st.floats(0.05, 0.95))
def test_a_node_completes_when_all_samples_returned_and_one_succeeded(seed, k, p):
    # chain a -> b; record every launch's samples to check when b becomes dispatchable
    ids = ["a", "b"]
    stats = {u: {"m": dict(p=p, latency=4.0, latency_sd=3.0, cost=1.0)} for u in ids}
    wf = sw.from_parents(ids, [[], ["a"]], ["m"], stats)
    data = sw.encode(wf, "lognormal")
    launches = []
    real = ex._samples

    def recording(workflow, d, words, v, m, kk):
        lat, succ, cost = real(workflow, d, words, v, m, kk)
        launches.append((v, lat.copy(), succ.copy()))
        return lat, succ, cost

    spy = _Spy(k)
    ex._samples = recording
    try:
        ep = ex.run_episode(wf, data, spy, 1e9, 1e9, ex.policy_key(seed, "x"), seed % 1000)
    finally:
        ex._samples = real
    assert ep.success
    t = 0.0
    views = iter(spy.views[1:])
    for v, lat, succ in launches:
        assert len(lat) == k
        end = t + lat.max()       # the batch ends when its slowest sample returns
        view = next(views, None)
        if view is None:
            assert v == 1 and succ.any() and ep.time == pytest.approx(end)
            break
        assert view.t == pytest.approx(end)
        # the node is dispatchable again iff every sample failed; else its child is
        assert view.dispatchable == ([v] if not succ.any() else [1])
        t = end


def test_a_static_policy_fails_when_its_single_batch_fails():
    params, wf = _identical(nodes=3, p=0.0, latency=1.0)
    data = sw.encode(wf, "lognormal")
    pol = sw.fixed_policy("uniform", wf, 30.0)
    ep = ex.run_episode(wf, data, pol, 30.0, 100.0, ex.policy_key(0, "u"), 0)
    assert not ep.success and ep.reason == "failed node" and ep.decisions == 1
    seq = sw.fixed_policy("seq:1", wf, 30.0)
    ep = ex.run_episode(wf, data, seq, 30.0, 100.0, ex.policy_key(0, "s"), 0)
    assert not ep.success and ep.reason == "budget" and ep.decisions == 31


def test_static_shares_and_plans():
    params = WorkflowParams(nodes=8, graph_seed=2)
    wf = sw.synthetic(params)
    for kind in ("uniform", "latency-weighted", "success-weighted", "critical-path"):
        pol = sw.fixed_policy(kind, wf, 200.0)
        assert pol.caps.sum() == pytest.approx(200.0) and not pol.retry
        assert np.all(pol.ks == np.maximum(1, np.floor(pol.caps / wf.cost[:, 0])))
    crit = sw.fixed_policy("critical-path", wf, 200.0)
    assert crit.caps[0] == crit.caps.max() or wf.parents[0] == ()
    lat = sw.fixed_policy("latency-weighted", wf, 200.0)
    assert np.allclose(lat.caps / lat.caps.sum(), wf.latency[:, 0] / wf.latency[:, 0].sum())
    r1 = sw.fixed_policy("random", wf, 200.0, seed=0, episode=1)
    r2 = sw.fixed_policy("random", wf, 200.0, seed=0, episode=2)
    assert not np.array_equal(r1.caps, r2.caps) and r1.caps.sum() == pytest.approx(200.0)
    ls = sw.fixed_policy("loader-static", wf, 200.0)
    assert ls.retry and np.all(ls.ks >= 1)


# --------------------------------------------------------------------------- the planner


def test_candidate_actions_full_and_free():
    gen = np.random.default_rng(0)
    acts, mode, n_base = candidate_actions([0, 1], 1, (1, 4, 16, 64), 3, 260, gen)
    assert mode == "full" and n_base == 4 and len(acts) == 16
    assert acts[:4] == [{0: (0, k), 1: (0, k)} for k in (1, 4, 16, 64)]
    # two models, three nodes: 8**3 = 512 > 4**3, so three free nodes are drawn
    acts, mode, n_base = candidate_actions([0, 1, 2, 3], 2, (1, 4, 16, 64), 3, 260, gen)
    assert mode == "free" and n_base == 8 and len(acts) == 260
    assert acts[:2] == [{v: (0, 1) for v in range(4)}, {v: (1, 1) for v in range(4)}]
    acts, _, _ = candidate_actions([0, 1, 2, 3], 2, (1, 4, 16, 64), 3, 4096, gen)
    assert len(acts) == 8 + 4 * 8**3 - 4   # the all-model-0 shared actions repeat the base ones


def _decide(wf, params, view_kw=None):
    data = sw.encode(wf, params.latency_law, params.k_values)
    mc = sw.MCPP(wf, data, params, "numba", rng.stream_key(0, "plan"))
    disp = [v for v in range(wf.n) if not wf.parents[v]]
    view = ex.View(0.0, params.deadline, params.budget, 0, disp, {}, 0, 0)
    return mc, mc.plan(view), view


@pytest.mark.parametrize("models", [1, 2])
def test_the_chosen_estimate_is_at_least_every_base_policys(models):
    params = WorkflowParams(models=models, nodes=8, graph_seed=5, budget=100.0, deadline=100.0)
    wf = sw.synthetic(params)
    mc, d, view = _decide(wf, params)
    assert d.base_estimates and all(d.estimate >= v for v in d.base_estimates.values())
    q = mc.estimates(view, [{v: (0, 4) for v in view.dispatchable}])
    assert q.shape == (1, models * 4)
    assert d.epsilon == pytest.approx(th.hoeffding_radius(d.pairs, 64, 0.05))
    assert d.pairs == d.candidates * models * 4


def test_ties_go_to_the_first_candidate():
    # every pair certainly succeeds: all estimates are 1, the first base action (k = 1) wins
    params, wf = _identical(nodes=3, p=1.0, budget=1e6, deadline=1e6)
    _, d, view = _decide(wf, params)
    assert d.estimate == 1.0
    assert d.action == {v: (0, 1) for v in view.dispatchable}
    assert d.continuation == (0, 1)


@pytest.mark.parametrize("shape, nodes, deadline", [("chain", 4, 6.0), ("fork-join", 8, 8.0)])
def test_mcpp_reaches_the_best_seq_k_minus_twice_the_radius(shape, nodes, deadline):
    params, wf = _identical(shape=shape, nodes=nodes, p=0.5, latency=1.0, budget=60.0,
                            deadline=deadline, policies=("mcpp",), k_values=(1, 4), rollouts=32)
    df = sw.evaluate(wf, params, trials=40, seed=3, backend="numba")
    mc = df[df["name"] == "mcpp"].iloc[0]
    best = max(sw.exact_seq(wf, k, 60.0, deadline) for k in (1, 4))
    assert mc["bound"] == pytest.approx(best - 2 * mc["epsilon"])
    assert mc["success"] >= mc["bound"]
    assert mc["success"] >= best - 0.25   # and in fact much closer than the bound


def test_loader_dual_plans_the_remaining_nodes():
    params = WorkflowParams(nodes=6, graph_seed=4)
    wf = sw.synthetic(params)
    pol = sw.LoaderDual(wf)
    view = ex.View(0.0, 120.0, 150.0, 0, [0], {}, 0, 0)
    action, _ = pol.decide(view)
    assert set(action) == {0} and action[0][1] >= 1
    plan = sw.loader_plan(wf, 150.0, range(wf.n), np.zeros(wf.n), np.zeros(wf.n))
    assert set(plan) == set(range(wf.n)) and min(plan.values()) >= 1


# --------------------------------------------------------------------------- simulate and grid


def test_simulate_returns_the_frame_with_theory_and_provenance():
    params = WorkflowParams(shape="chain", nodes=3, p=0.6, latency=2.0, latency_sd=0.0,
                            cost=1.0, budget=30.0, deadline=8.0,
                            policies=("mcpp", "seq:1", "seq:4", "uniform"), rollouts=16)
    df = sw.simulate(params, trials=30, seed=0, backend="numba")
    assert list(df["name"]) == ["mcpp", "seq:1", "seq:4", "uniform"]
    assert {"seed", "backend", "version", "theory", "ci_low", "ci_high"} <= set(df.columns)
    assert df.loc[df.name == "seq:1", "theory"].iloc[0] == pytest.approx(
        th.seq_chain_success(params, k=1))
    assert (df["ci_low"] <= df["success"]).all() and (df["success"] <= df["ci_high"]).all()
    # the NumPy reference runs the same episodes of the fixed policies
    ref = sw.simulate(params.__class__(**{**params.__dict__, "policies": ("seq:4",)}),
                      trials=30, seed=0, backend="numpy")
    assert ref["success"].iloc[0] == df.loc[df.name == "seq:4", "success"].iloc[0]


def test_success_surface_has_the_shape_of_the_public_grid():
    # envelope of the Seq-k portfolio on a synthetic workflow, same words in every cell:
    # monotone in budget and deadline, budget irrelevant at a short deadline, saturating
    params = WorkflowParams(nodes=8, graph_seed=0, policies=("seq:1", "seq:4", "seq:16"))
    wf = sw.synthetic(params)
    budgets, deadlines = [40.0, 80.0, 160.0, 320.0, 640.0], [30.0, 60.0, 120.0, 240.0]
    df = sw.grid(wf, params, budgets, deadlines, trials=3000, seed=0, backend="numba")
    env = df.groupby(["deadline", "budget"])["success"].max().unstack().to_numpy()
    assert np.all(np.diff(env, axis=0) >= -1e-12) and np.all(np.diff(env, axis=1) >= -1e-12)
    assert env[0].max() - env[0].min() < 0.03          # deadline-bound row
    gains = np.diff(env[-1])
    assert env[-1, -1] - env[-1, 0] > 0.3               # the budget matters at a long deadline
    assert gains[-1] < gains.max()                      # ... and saturates


@pytest.mark.slow
def test_mcpp_surface_is_monotone_up_to_noise():
    params = WorkflowParams(nodes=6, graph_seed=0, policies=("mcpp",), rollouts=32)
    wf = sw.synthetic(params)
    df = sw.grid(wf, params, [40.0, 120.0, 360.0], [40.0, 120.0, 360.0], trials=60, seed=0,
                 backend="numba")
    s = df.pivot(index="deadline", columns="budget", values="success").to_numpy()
    se = 0.5 / math.sqrt(60)
    assert np.all(np.diff(s, axis=0) > -4 * se) and np.all(np.diff(s, axis=1) > -4 * se)


# --------------------------------------------------------------------------- workflows


def test_synthetic_shapes():
    chain = sw.synthetic(WorkflowParams(shape="chain", nodes=5))
    assert chain.parents == ((), (0,), (1,), (2,), (3,))
    fj = sw.synthetic(WorkflowParams(shape="fork-join", nodes=13))
    assert fj.n == 2 + 2 * 3 and len(fj.children[0]) == 3 and len(fj.parents[-1]) == 3
    for seed in range(5):
        lay = sw.synthetic(WorkflowParams(nodes=12, graph_seed=seed, models=2))
        assert lay.n == 12 and lay.p.shape == (12, 2)
        assert all(lay.parents[v] or v == 0 for v in range(12)) or sum(
            1 for ps in lay.parents if not ps) >= 1
        assert all(u < v for v, ps in enumerate(lay.parents) for u in ps)
        assert np.all((lay.p >= 0.033) & (lay.p <= 0.99))
        assert np.allclose(lay.cost, lay.latency * th.TOKENS_PER_SECOND / 1000)
    same = sw.synthetic(WorkflowParams(p=0.3))
    assert np.all(same.p == 0.3) and np.all(same.latency == th.LIBRARY["latency_mean"])


def test_template_laws_match_the_library_statistics():
    gen = rng.generator(0, "t")
    st_ = sw.graph.template_stats(20000, 1, gen)
    assert st_["p"].mean() == pytest.approx(th.LIBRARY["p_mean"], abs=0.01)
    assert st_["p"].std() == pytest.approx(th.LIBRARY["p_sd"], abs=0.01)
    assert st_["latency"].mean() == pytest.approx(th.LIBRARY["latency_mean"], rel=0.05)
    assert st_["cost"].mean() == pytest.approx(th.LIBRARY["cost_mean"], rel=0.05)


def _write(tmp_path, obj):
    import json

    path = tmp_path / "wf.json"
    path.write_text(json.dumps(obj))
    return path


def _node(i, parents, **stats):
    base = dict(p=0.5, latency=3.0, latency_sd=1.0, cost=1.0)
    base.update(stats)
    return {"id": i, "parents": parents, "models": {"m": base}}


@pytest.mark.parametrize("nodes, msg", [
    ([_node("a", ["b"]), _node("b", ["a"])], r"cycle through nodes a, b"),
    ([_node("a", ["z"])], r"node 'a' has parent 'z', which is not a node"),
    ([_node("a", []), {"id": "b", "parents": ["a"], "models": {}}], r"node 'b' has no model"),
    ([_node("a", [], p=1.2)], r"p of node 'a', model 'm' must be in \[0, 1\], got 1.2"),
    ([_node("a", [], latency=-1.0)], r"latency of node 'a', model 'm' must be in \(0, inf\)"),
    ([_node("a", [], cost=-1.0)], r"cost of node 'a', model 'm' must be in \[0, inf\)"),
])
def test_workflow_files_are_validated(tmp_path, nodes, msg):
    with pytest.raises(ValueError, match=msg):
        sw.load_workflow(_write(tmp_path, {"nodes": nodes}))


def test_a_node_missing_a_model_and_the_round_trip(tmp_path):
    two = [{"id": "a", "parents": [], "models": {"x": dict(p=0.5, latency=1, latency_sd=0,
                                                           cost=1)}},
           {"id": "b", "parents": ["a"], "models": {"y": dict(p=0.5, latency=1, latency_sd=0,
                                                              cost=1)}}]
    with pytest.raises(ValueError, match=r"node 'a' has no statistics for model 'y'"):
        sw.load_workflow(_write(tmp_path, {"nodes": two}))
    wf = sw.synthetic(WorkflowParams(nodes=7, models=2, graph_seed=9))
    again = sw.load_workflow(_write(tmp_path, wf.to_dict()))
    assert again.parents == wf.parents and np.allclose(again.p, wf.p)


def test_records_replace_the_statistics(tmp_path):
    wf = sw.synthetic(WorkflowParams(shape="chain", nodes=2, p=0.5))
    path = tmp_path / "r.csv"
    path.write_text("node,latency,success,cost\n0,2.0,1,1.5\n0,4.0,0,2.5\n1,3.0,true,1.0\n")
    got = sw.load_records(path, wf)
    assert got.p[0, 0] == 0.5 and got.latency[0, 0] == 3.0 and got.cost[0, 0] == 2.0
    assert got.p[1, 0] == 1.0 and got.empirical
    bad = tmp_path / "b.csv"
    bad.write_text("node,latency,success,cost\n7,2.0,1,1.5\n")
    with pytest.raises(ValueError, match="records name node '7'"):
        sw.load_records(bad, wf)
    # a node whose only record succeeds at cost 1: Seq-1 finishes it in one batch of 3 s
    params = WorkflowParams(shape="chain", nodes=2, budget=100.0, deadline=100.0,
                            policies=("seq:1",))
    df = sw.evaluate(got, params, trials=2000, seed=0, backend="numba")
    assert 0.5 < df["success"].iloc[0] <= 1.0
