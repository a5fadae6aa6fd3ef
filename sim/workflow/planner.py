"""The MCPP planner: one-step lookahead over a portfolio of Seq(m, k) base policies.

``docs/models/workflow.md`` (9)-(11). At a decision the planner

1. builds the candidate actions (11): every base policy's first action
   (all dispatchable nodes with model ``m`` and ``k`` samples, in order of
   ``k`` then model), then either the full product of (model, ``k``) choices
   (at most :data:`~theory.workflow.WorkflowParams.free_nodes` dispatchable
   nodes and ``(|M| |K|)^nodes <= |K|^free_nodes``) or, for a wider frontier,
   ``free_nodes`` nodes drawn at random whose choices are enumerated while
   every other node shares one ``k`` with the first model, capped at
   ``max_candidates`` (base actions kept);
2. estimates, for every candidate ``a`` and base policy ``(m', k')``, the
   probability of completing in time and within budget when ``a`` is launched
   now and ``Seq(m', k')`` is followed afterwards, by ``M`` continuation
   rollouts (the kernels of :mod:`sim.workflow.kernel_numba`,
   :mod:`sim.workflow.kernel_array` or the reference), from the current state:
   batches in flight end when they will (the executor knows), and succeed if
   a returned sample did or else with ``1 - (1-p)^pending``;
3. executes the first action of the pair with the largest estimate, ties to
   the first pair (base actions first, smallest ``k`` first), and reports the
   Hoeffding radius (10) of the decision.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sim import rng as _rng
from sim.backends import array_module
from sim.workflow import kernel_array, kernel_numba, reference
from sim.workflow.encode import NO_CAP, make_plans, start_state
from theory.workflow import batch_success, hoeffding_radius

__all__ = ["MCPP", "Decision", "candidate_actions", "decision_key", "CANDIDATE_STREAM"]

#: Host stream of the random free nodes of wide frontiers (one generator per decision).
CANDIDATE_STREAM = "workflow/candidates"


@dataclass
class Decision:
    """What one decision chose and why (plain values)."""

    action: dict
    estimate: float
    epsilon: float
    candidates: int
    pairs: int
    continuation: tuple
    base_estimates: dict
    mode: str


def decision_key(base, episode, decision):
    """The key of one decision: SplitMix64 of ``(episode << 20) + decision`` under ``base``."""
    ctr = np.array([(int(episode) << 20) + int(decision)], dtype=np.uint64)
    return np.uint64(_rng.splitmix64(np.array([base], dtype=np.uint64), ctr)[0])


def candidate_actions(disp, n_models, ks, free_nodes, cap, gen):
    """The candidate actions of a decision, (11): a list of dicts ``node -> (model, k)``.

    Parameters
    ----------
    disp : list of int
        Dispatchable nodes.
    n_models : int
    ks : tuple of int
        The levels ``K``.
    free_nodes : int
    cap : int
        Most candidates of a wide frontier.
    gen : numpy.random.Generator
        Draws the free nodes of a wide frontier.

    Returns
    -------
    actions : list of dict
        Base actions first (by ``k``, then model).
    mode : str
        ``"full"`` or ``"free"``.
    n_base : int
        Number of base actions at the front.
    """
    seen, out = set(), []

    def add(action):
        key = tuple(sorted(action.items()))
        if key not in seen:
            seen.add(key)
            out.append(action)

    for k in ks:
        add({v: (0, k) for v in disp})
        for m in range(n_models):
            add({v: (m, k) for v in disp})
    n_base = len(out)
    levels = [(m, k) for m in range(n_models) for k in ks]
    if len(disp) <= free_nodes and len(levels) ** len(disp) <= len(ks) ** free_nodes:
        for choice in itertools.product(levels, repeat=len(disp)):
            add(dict(zip(disp, choice)))
        return out, "full", n_base
    width = min(len(disp), free_nodes)
    free = sorted(int(v) for v in gen.choice(np.asarray(disp), size=width, replace=False))
    fixed = [v for v in disp if v not in free]
    shared = ks if fixed else ks[:1]
    most = max(cap, n_base)
    for k in shared:
        for choice in itertools.product(levels, repeat=width):
            if len(out) >= most:  # the first ``most`` are kept: stop enumerating there
                return out, "free", n_base
            action = {v: (0, k) for v in fixed}
            action.update(zip(free, choice))
            add(action)
    return out[:most], "free", n_base


class MCPP:
    """The planner as a policy of the executor (:func:`sim.workflow.executor.run_episode`).

    Parameters
    ----------
    workflow : sim.workflow.graph.Workflow
    data : sim.workflow.encode.KernelData
        With the levels of ``params.k_values``.
    params : theory.workflow.WorkflowParams
        ``k_values``, ``rollouts``, ``delta``, ``free_nodes``, ``candidates_cap``,
        ``max_steps``.
    backend : {"numpy", "numba", "cupy"}
        The continuation rollouts' kernel (a concrete backend).
    key : numpy.uint64
        Base key of the planner's rollouts (:data:`sim.workflow.layout.STREAM_PLAN`).
    seed : int
        Root seed of the random free nodes.
    xp : module or None
        Run the array kernel on this array module (``numpy`` or ``cupy``)
        whatever ``backend`` says (for checks and benchmarks).
    """

    retry = True
    caps = None
    name = "mcpp"

    def __init__(self, workflow, data, params, backend, key, seed=0, xp=None):
        self.workflow = workflow
        self.data = data
        self.params = params
        self.backend = backend
        self.key = np.uint64(key)
        self.seed = int(seed)
        self.xp = xp
        self.ks = tuple(params.k_values)
        self.levels = [data.level(k) for k in self.ks]
        n, nm = workflow.n, workflow.n_models
        self.tables = [(m, lev, NO_CAP, True) for m in range(nm) for lev in self.levels]
        self.cont = [(m, k) for m in range(nm) for k in self.ks]
        self.n = n

    def _start(self, view):
        n = self.n
        end = np.zeros(n)
        known = np.zeros(n, dtype=np.uint8)
        q = np.zeros(n)
        inflight = 0
        for v, (remaining, partial, pending, m) in view.inflight.items():
            inflight |= 1 << v
            end[v] = max(remaining, 0.0)
            known[v] = 1 if partial else 0
            q[v] = batch_success(float(self.workflow.p[v, m]), int(pending))
        return start_state(n, view.h, view.b, view.completed, inflight, end, known, q)

    def estimates(self, view, actions):
        """``Q[a, (m', k')]``: the estimated success of every candidate and base policy, (9)."""
        n = self.n
        lev_of = {k: lev for k, lev in zip(self.ks, self.levels)}
        firsts = []
        for a in actions:
            fm = np.full(n, -1, dtype=np.int64)
            fl = np.full(n, -1, dtype=np.int64)
            for v, (m, k) in a.items():
                fm[v], fl[v] = m, lev_of[k]
            firsts.append((fm, fl))
        pairs = [(ti, ai) for ai in range(len(actions)) for ti in range(len(self.tables))]
        plans = make_plans(n, self.tables, firsts, pairs, rollouts=self.params.rollouts,
                           max_steps=self.params.max_steps)
        key = decision_key(self.key, view.episode, view.decision)
        start = self._start(view)
        if self.xp is not None:
            success = kernel_array.rollouts(self.xp, self.data, start, plans, key)[0]
            success = success.get() if hasattr(success, "get") else success
        elif self.backend == "numba":
            success = kernel_numba.rollouts(self.data, start, plans, key)[0]
        elif self.backend == "numpy":
            success = reference.rollouts(self.data, start, plans, key)[0]
        else:
            xp = array_module(self.backend)
            success = kernel_array.rollouts(xp, self.data, start, plans, key)[0]
            success = success.get() if hasattr(success, "get") else success
        wins = np.asarray(success, dtype=np.int64).reshape(len(pairs), self.params.rollouts)
        return wins.sum(axis=1).reshape(len(actions), len(self.tables)) / self.params.rollouts

    def plan(self, view):
        """The :class:`Decision` at ``view`` (``view.dispatchable`` must not be empty)."""
        gen = _rng.generator(self.seed, f"{CANDIDATE_STREAM}/{view.episode}/{view.decision}")
        actions, mode, n_base = candidate_actions(
            view.dispatchable, self.workflow.n_models, self.ks, self.params.free_nodes,
            self.params.candidates_cap, gen)
        q = self.estimates(view, actions)
        flat = int(np.argmax(q))
        ai, ti = divmod(flat, len(self.tables))
        eps = float(hoeffding_radius(q.size, self.params.rollouts, self.params.delta))
        base = {}
        for a_idx in range(n_base):
            m, k = next(iter(actions[a_idx].values()))
            base[f"seq:{k}:{m}"] = float(q[a_idx, self.cont.index((m, k))])
        return Decision(actions[ai], float(q[ai, ti]), eps, len(actions), int(q.size),
                        self.cont[ti], base, mode)

    def decide(self, view):
        """The executor's entry point: ``(action, info)`` with the decision as ``info``."""
        d = self.plan(view)
        info = dict(estimate=d.estimate, epsilon=d.epsilon, candidates=d.candidates,
                    pairs=d.pairs, continuation=d.continuation, base=d.base_estimates,
                    mode=d.mode, t=view.t)
        return d.action, info
