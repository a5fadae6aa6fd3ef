"""Decisions per second of the MCPP planner: the kernels against a plain Python planner.

    python benchmarks/workflow.py [--decisions D] [--python-decisions P] [--repeat R]

The default workflow with two models (a 10-node layered DAG, statistics from
the template laws of docs/models/workflow.md (18)), the default planner
(M = 64 continuation rollouts per pair, K = {1, 4, 16, 64}, candidates as in
(11)). One MCPP episode is run to collect the states of its first ``D``
decisions; every planner then decides at the same states:

* ``numba`` -- :class:`sim.workflow.MCPP` with the Numba kernel (the serial path
  below 16384 rollouts per call, the parallel one above);
* ``array kernel on numpy`` -- the same planner with the array kernel on NumPy
  (the code the CuPy backend runs);
* ``numpy reference`` -- with ``--reference`` (slow: one rollout at a time);
* ``pure Python`` -- a straightforward planner written here for the benchmark:
  the same candidates and pairs, each continuation rollout simulated sample by
  sample with dictionaries, a sorted event list and :mod:`random`, as a plain
  Python implementation of the algorithm would be written.

Every planner decides at the first ``P`` states (the common states); printed
are its seconds there, decisions per second and the ratio to pure Python (all
measured in this run, side by side), and the kernel planners' decisions per
second over all ``D`` states. As a check that the planners estimate the same
thing: the mean difference of their estimates over all pairs of the first state,
with its standard error.
"""

from __future__ import annotations

import argparse
import math
import random
import time

import numpy as np


def collect_states(params, wf, data, decisions, seed=0):
    """The views of the first ``decisions`` decisions of one MCPP episode (numba)."""
    from sim import rng
    from sim.workflow import MCPP, run_episode
    from sim.workflow.executor import policy_key

    views = []
    mc = MCPP(wf, data, params, "numba", rng.stream_key(seed, "bench-plan"), seed)

    class Recorder:
        retry, caps, name = True, None, "mcpp"

        def decide(self, view):
            if len(views) < decisions:
                views.append(view)
            return mc.decide(view)

    ep = 0
    while len(views) < decisions and ep < 50:
        run_episode(wf, data, Recorder(), params.budget, params.deadline,
                    policy_key(seed, "bench"), ep)
        ep += 1
    return views


# --------------------------------------------------------------------------- the plain planner

class PythonPlanner:
    """MCPP written plainly: dict states, one sample at a time, :mod:`random` for draws."""

    def __init__(self, wf, params, seed=0):
        from theory.workflow import lognormal_params

        self.wf, self.params = wf, params
        self.rand = random.Random(seed)
        self.children = wf.children
        self.parents = wf.parents
        self.law = {}
        for v in range(wf.n):
            for m in range(wf.n_models):
                mu, s = float(wf.latency[v, m]), float(wf.latency_sd[v, m])
                self.law[(v, m)] = lognormal_params(mu, max(s, 1e-9))

    def sample(self, v, m):
        ml, sl = self.law[(v, m)]
        lat = max(self.rand.lognormvariate(ml, sl), 1e-3)
        ok = self.rand.random() < self.wf.p[v, m]
        return lat, ok, float(self.wf.cost[v, m])

    def launch(self, state, action):
        """Launch ``action`` (node -> (model, k)); False when it does not fit."""
        cost, longest, new = 0.0, 0.0, []
        for v, (m, k) in action.items():
            for _ in range(k):
                lat, ok, c = self.sample(v, m)
                cost += c
                longest = max(longest, lat)
                new.append((lat, v, ok))
        if cost > state["b"] + 1e-12 or longest > state["h"] + 1e-12:
            return False
        state["b"] -= cost
        for lat, v, ok in new:
            state["pending"].append([lat, v, ok])
            state["count"][v] = state["count"].get(v, 0) + 1
        state["pending"].sort(key=lambda e: e[0])
        return True

    def advance(self, state):
        """Pop samples until a node's batch ends; False when nothing is in flight."""
        while state["pending"]:
            lat, v, ok = state["pending"].pop(0)
            for e in state["pending"]:
                e[0] -= lat
            state["h"] -= lat
            state["partial"][v] = state["partial"].get(v, False) or ok
            state["count"][v] -= 1
            if state["count"][v] == 0:
                if state["partial"].pop(v):
                    state["done"].add(v)
                return True
        return False

    def ready(self, state):
        return [v for v in range(self.wf.n) if v not in state["done"]
                and state["count"].get(v, 0) == 0
                and all(u in state["done"] for u in self.parents[v])]

    def rollout(self, start, action, m2, k2):
        state = dict(b=start["b"], h=start["h"], done=set(start["done"]), count={},
                     partial={}, pending=[])
        for v, (remaining, partial, pending, m) in start["inflight"].items():
            q = 1 - (1 - self.wf.p[v, m]) ** pending
            state["pending"].append([remaining, v, partial or self.rand.random() < q])
            state["count"][v] = 1
        state["pending"].sort(key=lambda e: e[0])
        if not self.launch(state, action):
            return False
        for _ in range(self.params.max_steps):
            if len(state["done"]) == self.wf.n:
                return True
            disp = self.ready(state)
            if disp:
                if not self.launch(state, {v: (m2, k2) for v in disp}):
                    return False
            if not self.advance(state):
                return False
        return False

    def plan(self, view):
        from sim import rng
        from sim.workflow.planner import CANDIDATE_STREAM, candidate_actions

        gen = rng.generator(0, f"{CANDIDATE_STREAM}/{view.episode}/{view.decision}")
        actions, _, _ = candidate_actions(view.dispatchable, self.wf.n_models,
                                          self.params.k_values, self.params.free_nodes,
                                          self.params.candidates_cap, gen)
        start = dict(b=view.b, h=view.h, inflight=view.inflight,
                     done={v for v in range(self.wf.n) if view.completed >> v & 1})
        q = np.zeros((len(actions), self.wf.n_models * len(self.params.k_values)))
        for a, action in enumerate(actions):
            j = 0
            for m2 in range(self.wf.n_models):
                for k2 in self.params.k_values:
                    wins = sum(self.rollout(start, action, m2, k2)
                               for _ in range(self.params.rollouts))
                    q[a, j] = wins / self.params.rollouts
                    j += 1
        best = int(np.argmax(q))
        return actions[best // q.shape[1]], q


# --------------------------------------------------------------------------- timing


def _time(fn, views, repeat):
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for v in views:
            fn(v)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decisions", type=int, default=6,
                    help="states of the kernel planners (default 6)")
    ap.add_argument("--python-decisions", type=int, default=2,
                    help="the first states, where every planner is timed (default 2)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    ap.add_argument("--reference", action="store_true",
                    help="also time the NumPy reference (slow)")
    ap.add_argument("--models", type=int, default=2)
    args = ap.parse_args(argv)

    from sim import rng
    from sim.workflow import MCPP, encode, synthetic
    from theory.workflow import WorkflowParams

    params = WorkflowParams(models=args.models)
    wf = synthetic(params)
    data = encode(wf, params.latency_law, params.k_values)
    views = collect_states(params, wf, data, args.decisions)
    key = rng.stream_key(1, "bench")
    planners = {b: MCPP(wf, data, params, b, key) for b in ("numba", "numpy")}
    pairs = []
    for v in views:
        d = planners["numba"].plan(v)
        pairs.append(d.pairs)
    print(f"workflow: {wf.describe()}")
    print(f"planner: M={params.rollouts}, K={params.k_values}, {len(views)} decision states; "
          f"pairs per decision {min(pairs)}..{max(pairs)} "
          f"({sum(pairs) * params.rollouts} continuation rollouts in all)")
    array_planner = MCPP(wf, data, params, "numba", key, xp=np)
    kernels = [("numba", planners["numba"].plan), ("array kernel on numpy", array_planner.plan)]
    if args.reference:
        kernels.append(("numpy reference", planners["numpy"].plan))
    common = views[:args.python_decisions]
    n_common = sum(pairs[:len(common)]) * params.rollouts
    print(f"common states: the first {len(common)} ({n_common} continuation rollouts); "
          f"all states: {len(views)}")
    py = PythonPlanner(wf, params)
    t_py = _time(py.plan, common, 1)
    rate_py = len(common) / t_py
    print(f"{'planner':24s} {'common: s':>10s} {'decisions/s':>12s} {'x pure Python':>14s} "
          f"{'all: decisions/s':>17s}")
    for name, fn in kernels:
        fn(views[0])
        t_c = _time(fn, common, args.repeat)
        if name == "numpy reference":
            all_rate = math.nan
        else:
            all_rate = len(views) / _time(fn, views, args.repeat)
        rate = len(common) / t_c
        print(f"{name:24s} {t_c:10.3f} {rate:12.3f} {rate / rate_py:13.1f}x {all_rate:17.3f}")
    print(f"{'pure Python':24s} {t_py:10.3f} {rate_py:12.3f} {1.0:13.1f}x {'':>17s}")
    # agreement of the estimates at the first state (independent random numbers)
    _, q_py = py.plan(views[0])
    q_nb = planners["numba"].estimates(views[0], _actions(planners["numba"], views[0]))
    diff = (q_py - q_nb).ravel()
    se = math.sqrt(np.mean(q_py * (1 - q_py) + q_nb * (1 - q_nb)) / params.rollouts
                   / diff.size)
    print(f"estimates at the first state, pure Python minus numba over {diff.size} pairs: "
          f"mean {diff.mean():+.4f} (se {se:.4f}), mean |diff| {np.abs(diff).mean():.3f}")


def _actions(planner, view):
    from sim import rng
    from sim.workflow.planner import CANDIDATE_STREAM, candidate_actions

    gen = rng.generator(0, f"{CANDIDATE_STREAM}/{view.episode}/{view.decision}")
    return candidate_actions(view.dispatchable, planner.workflow.n_models, planner.ks,
                             planner.params.free_nodes, planner.params.candidates_cap, gen)[0]


if __name__ == "__main__":
    main()
