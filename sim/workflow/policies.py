"""The baselines of the authors' repository: policies for the executor, tables for the kernels.

``docs/models/workflow.md`` (14)-(17). Every baseline uses the first model of
each node (the authors' baselines use a node's assigned template).

* ``seq:K`` (``seq:K:M`` with model ``M``) -- Seq-k: every dispatchable node
  gets ``K`` samples, a failed batch is retried the same way (9);
* ``uniform``, ``random``, ``latency-weighted``, ``success-weighted``,
  ``critical-path`` -- static shares ``B_v`` of the budget (equal, Dirichlet(1)
  per episode, ``prop. t_v``, ``prop. 1 - p_v``, ``prop.`` the longest mean-latency
  path from ``v`` to a sink); node ``v`` gets ``r_v = max(1, floor(B_v / kappa_v))``
  samples once, may not spend more than ``B_v``, and is not retried (16);
* ``loader-static`` -- the LOADER plan of the whole workflow computed once,
  retried with the same ``r_v`` (17);
* ``loader-dual`` -- the LOADER plan of the remaining workflow recomputed at
  every decision (17).

The fixed policies (all but ``loader-dual``) become per-node tables
(:meth:`Fixed.table`) that the kernels run; every policy also has
``decide(view)`` for the executor (:mod:`sim.workflow.executor`).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.workflow.encode import NO_CAP
from theory.workflow import loader_integer, parse_policy, surrogate_cost, surrogate_delay

__all__ = ["Fixed", "LoaderDual", "fixed_policy", "static_shares", "loader_plan", "top_paths",
           "STATIC_MAX", "RANDOM_STREAM"]

#: Largest number of samples a static baseline gives one node.
STATIC_MAX = 4096
#: Host stream of the random baseline's Dirichlet shares (one draw per episode).
RANDOM_STREAM = "workflow/random-policy"
#: LOADER's dual iterations, stable rounds, step sizes and active paths (the authors' defaults).
DUAL_ITERS, STABLE_ROUNDS, ETA_BETA, ETA_LAMBDA, ACTIVE_PATHS = 30, 3, 0.05, 0.5, 4


class Fixed:
    """A policy that is one table: ``(model, k)`` per node, retries, per-node caps.

    Attributes
    ----------
    name : str
    models, ks : ndarray of int
        Model and samples of each node's batches.
    retry : bool
        Whether a failed batch is launched again.
    caps : ndarray or None
        Per-node cost caps (None: none).
    """

    def __init__(self, name, models, ks, retry, caps=None):
        self.name = name
        self.models = np.asarray(models, dtype=np.int64)
        self.ks = np.asarray(ks, dtype=np.int64)
        self.retry = bool(retry)
        self.caps = None if caps is None else np.asarray(caps, dtype=float)

    def decide(self, view):
        """The table's ``(model, k)`` for every dispatchable node."""
        return {v: (int(self.models[v]), int(self.ks[v])) for v in view.dispatchable}, None

    def table(self, data):
        """``(model, level, cap, retry)`` for :func:`sim.workflow.encode.make_plans`."""
        lev = np.array([data.level(k) for k in self.ks], dtype=np.int64)
        cap = NO_CAP if self.caps is None else self.caps
        return self.models, lev, cap, self.retry


def static_shares(workflow, kind, gen=None):
    """The budget shares ``B_v / B`` of a static baseline, ``docs/models/workflow.md`` (16)."""
    n = workflow.n
    t = np.maximum(workflow.latency[:, 0], 1e-9)
    if kind == "uniform":
        w = np.ones(n)
    elif kind == "random":
        w = gen.dirichlet(np.ones(n))
    elif kind == "latency-weighted":
        w = t
    elif kind == "success-weighted":
        w = np.maximum(1.0 - workflow.p[:, 0], 1e-9)
    elif kind == "critical-path":
        kids = workflow.children
        down = np.zeros(n)
        for v in range(n - 1, -1, -1):
            down[v] = t[v] + max((down[c] for c in kids[v]), default=0.0)
        w = down
    else:
        raise ValueError(f"unknown static baseline {kind!r}")
    return w / w.sum()


def _static(workflow, kind, budget, gen=None):
    share = static_shares(workflow, kind, gen)
    b_v = budget * share
    kappa = workflow.cost[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(kappa > 0, np.floor(b_v / kappa), STATIC_MAX)
    r = np.clip(r, 1, STATIC_MAX).astype(np.int64)
    return Fixed(kind, np.zeros(workflow.n, dtype=np.int64), r, retry=False, caps=b_v)


# ----------------------------------------------------------------------------- LOADER

def top_paths(workflow, weight, nodes=None, k=ACTIVE_PATHS):
    """The ``k`` source-to-sink paths of largest total ``weight`` (of the sub-DAG on ``nodes``)."""
    n = workflow.n
    keep = np.ones(n, dtype=bool) if nodes is None else np.isin(np.arange(n), list(nodes))
    kids = [[c for c in cs if keep[c]] for cs in workflow.children]
    has_parent = np.zeros(n, dtype=bool)
    for v in range(n):
        if keep[v]:
            for c in kids[v]:
                has_parent[c] = True
    best = [[] for _ in range(n)]
    for v in range(n - 1, -1, -1):
        if not keep[v]:
            continue
        if not kids[v]:
            best[v] = [(float(weight[v]), (v,))]
            continue
        cands = [(float(weight[v]) + val, (v,) + path) for c in kids[v] for val, path in best[c]]
        cands.sort(key=lambda x: (-x[0], x[1]))
        best[v] = cands[:k]
    roots = [v for v in range(n) if keep[v] and not has_parent[v]]
    allp = sorted((x for v in roots for x in best[v]), key=lambda x: (-x[0], x[1]))
    return [list(p) for _, p in allp[:k]]


def loader_plan(workflow, budget, nodes, r_cur, wait, ready=None):
    """The LOADER plan ``r_v`` of ``nodes`` by dual iterations, ``docs/models/workflow.md`` (17).

    Path duals ``lambda_P`` on the ``ACTIVE_PATHS`` longest paths (by the
    surrogate delay at ``r = max(1, r_cur)``) start uniform, the budget dual
    ``beta`` at 1. Each iteration plans every node at the integer optimum of
    (14) with ``w_v = max(sum_{P ni v} lambda_P, 1e-3)`` and the cost priced in
    the budget's unit (``beta kappa_v / t_v`` in place of ``beta``, derived
    here), keeps the feasible plan of largest cost, stops after
    ``STABLE_ROUNDS`` unchanged plans, and moves
    ``beta <- max(1e-8, beta + ETA_BETA (C - B))`` and
    ``lambda_P <- lambda_P exp(ETA_LAMBDA D_P / max D)`` (normalised).

    Returns
    -------
    dict
        ``node -> r_v`` (all 1 when no plan was feasible).
    """
    nodes = np.asarray(list(nodes), dtype=np.int64)
    p = workflow.p[nodes, 0]
    t = np.maximum(workflow.latency[nodes, 0], 1e-9)
    price = workflow.cost[nodes, 0] / t
    rc = np.asarray(r_cur, dtype=float)[nodes]
    wt = np.asarray(wait, dtype=float)[nodes]
    proxy = np.zeros(workflow.n)
    r0 = np.maximum(1.0, rc)
    proxy[nodes] = surrogate_delay(p, t, r0, r0, wt)
    paths = top_paths(workflow, proxy, nodes.tolist())
    if not paths:
        return {int(v): 1 for v in nodes}
    pos = {int(v): i for i, v in enumerate(nodes)}
    member = np.zeros((len(paths), len(nodes)))
    for j, path in enumerate(paths):
        for v in path:
            member[j, pos[v]] = 1.0
    lam = np.full(len(paths), 1.0 / len(paths))
    beta = 1.0
    prev, stable, best, best_cost = None, 0, None, -1.0
    for _ in range(DUAL_ITERS):
        w = np.maximum(lam @ member, 1e-3)
        plan = np.atleast_1d(loader_integer(p, t, w, beta * price, rc, wt, r_max=STATIC_MAX))
        cost = float(np.sum(price * surrogate_cost(p, t, plan, rc, wt)))
        if cost <= budget and cost > best_cost:
            best, best_cost = plan.copy(), cost
        stable = stable + 1 if prev is not None and np.array_equal(prev, plan) else 0
        prev = plan.copy()
        if stable >= STABLE_ROUNDS:
            best = plan.copy()
            break
        beta = max(1e-8, beta + ETA_BETA * (cost - budget))
        vals = member @ np.atleast_1d(surrogate_delay(p, t, plan, rc, wt))
        lam = lam * np.exp(ETA_LAMBDA * vals / max(vals.max(), 1e-12))
        lam = np.maximum(lam, 1e-12)
        lam = lam / lam.sum()
    if best is None:
        return {int(v): 1 for v in nodes}
    return {int(v): int(r) for v, r in zip(nodes, best)}


class LoaderDual:
    """LOADER recomputed on the remaining workflow at every decision (17); retries."""

    retry = True
    caps = None

    def __init__(self, workflow):
        self.workflow = workflow
        self.name = "loader-dual"

    def decide(self, view):
        """The plan of the remaining nodes, for the dispatchable ones, with the first model."""
        n = self.workflow.n
        nodes = [v for v in range(n) if not view.completed >> v & 1]
        r_cur = np.zeros(n)
        wait = np.zeros(n)
        for v, (remaining, _partial, pending, _m) in view.inflight.items():
            r_cur[v] = pending
            wait[v] = max(remaining, 0.0)
        plan = loader_plan(self.workflow, view.b, nodes, r_cur, wait)
        return {v: (0, int(plan.get(v, 1))) for v in view.dispatchable}, None


def fixed_policy(name, workflow, budget, seed=0, episode=0):
    """The :class:`Fixed` policy called ``name`` (``random`` draws its shares for ``episode``)."""
    kind, k, model = parse_policy(name)
    n = workflow.n
    if kind == "seq":
        model = 0 if model is None else model
        if model >= workflow.n_models:
            raise ValueError(f"policy {name}: model index {model} is not below the "
                             f"{workflow.n_models} model(s) of the workflow")
        return Fixed(name, np.full(n, model), np.full(n, k), retry=True)
    if kind in ("uniform", "latency-weighted", "success-weighted", "critical-path"):
        return _static(workflow, kind, budget)
    if kind == "random":
        gen = _rng.generator(seed, f"{RANDOM_STREAM}/{episode}")
        return _static(workflow, kind, budget, gen)
    if kind == "loader-static":
        plan = loader_plan(workflow, budget, range(n), np.ones(n), np.zeros(n))
        return Fixed(name, np.zeros(n), [plan[v] for v in range(n)], retry=True)
    raise ValueError(f"policy {name} is not a fixed table")

