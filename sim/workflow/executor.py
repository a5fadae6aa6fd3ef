"""The discrete-event executor: one episode of a workflow under a policy, sample by sample.

``docs/models/workflow.md`` (7)-(8). Time is wall-clock; every sample of a
launched batch is an event on a queue that fires when its latency has
elapsed. At time 0 and whenever a node's batch ends, the policy is asked for
an action on the *dispatchable* nodes (parents complete, nothing in flight,
not complete): a (model, k) per node. The launch is atomic: all its samples
are drawn, and the episode fails when their total cost exceeds the remaining
budget or their longest latency exceeds the remaining time (or a node's cost
its cap); otherwise the cost is charged at once. A node completes when all
``k`` samples of its batch have returned and at least one succeeded; if all
failed it is dispatchable again (a policy without retries fails the episode
there). An episode succeeds when every node is complete by the deadline.

The executor draws each sample from the same floored law and quantile table
as the kernels (the slowest of ``k`` samples there, each sample here), so a
fixed policy has the same law of outcomes on both (tested), though not the
same random numbers.
"""

from __future__ import annotations

import heapq
import zlib
from dataclasses import dataclass, field

import numpy as np

from sim import rng as _rng
from sim.workflow.layout import ROLLOUT_SHIFT, STREAM_EXECUTE, table_latency_array, table_x

__all__ = ["View", "Episode", "run_episode", "policy_key"]

_EPS = 1e-12


@dataclass
class View:
    """What a policy sees at a decision.

    Attributes
    ----------
    t : float
        Time since the start.
    h, b : float
        Remaining deadline and budget.
    completed : int
        Bit mask of the completed nodes.
    dispatchable : list of int
        Nodes to act on, in node order.
    inflight : dict
        ``node -> (remaining, partial, pending, model)``: time until its batch
        ends, whether a returned sample succeeded, samples still out, model.
    episode, decision : int
        Which episode and which of its decisions this is.
    """

    t: float
    h: float
    b: float
    completed: int
    dispatchable: list
    inflight: dict
    episode: int
    decision: int


@dataclass
class Episode:
    """The outcome of one episode."""

    success: bool
    cost: float
    time: float
    decisions: int
    reason: str
    infos: list = field(default_factory=list)


def policy_key(seed, name, stream=STREAM_EXECUTE):
    """The stream key of policy ``name``'s episodes under ``seed`` (one stream per policy)."""
    base = _rng.stream_key(seed, stream)
    sub = np.array([zlib.crc32(name.encode())], dtype=np.uint64)
    return np.uint64(_rng.splitmix64(np.array([base], dtype=np.uint64), sub)[0])


class _Words:
    """The words of one episode, drawn in order (``episode << 32`` onwards)."""

    def __init__(self, key, episode):
        self.key = np.array([key], dtype=np.uint64)
        self.base = np.uint64(episode) << np.uint64(ROLLOUT_SHIFT)
        self.i = 0

    def take(self, count):
        ctr = self.base + np.arange(self.i, self.i + count, dtype=np.uint64)
        self.i += count
        return _rng.uniform(_rng.splitmix64(self.key, ctr))


def _samples(workflow, data, words, v, m, k):
    """``k`` samples of node ``v`` with model ``m``: latencies, successes, costs."""
    rec = workflow.records.get((v, m))
    if rec is not None:
        u = words.take(k)
        idx = np.minimum((u * len(rec[0])).astype(np.int64), len(rec[0]) - 1)
        return np.maximum(rec[0][idx], 1e-3), rec[1][idx].astype(bool), rec[2][idx]
    u = words.take(2 * k)
    with np.errstate(divide="ignore"):
        x = table_x(u[0::2], 1)
    lat = table_latency_array(np, data.lat_tab, np.full(k, v * data.n_models + m), x)
    return lat, u[1::2] < workflow.p[v, m], np.full(k, float(workflow.cost[v, m]))


def run_episode(workflow, data, policy, budget, deadline, key, episode, max_steps=10000):
    """One episode of ``policy`` on ``workflow``; see the module docstring.

    Parameters
    ----------
    workflow : sim.workflow.graph.Workflow
    data : sim.workflow.encode.KernelData
        Its latency tables (:func:`sim.workflow.encode.encode`).
    policy : object
        ``decide(view) -> (action, info)`` with ``action`` a dict ``node -> (model, k)``
        (nodes outside the view's dispatchable ones are ignored), and the
        attributes ``retry`` (bool) and ``caps`` (per-node cost caps or None).
    budget, deadline : float
    key : numpy.uint64
        Stream key (:func:`policy_key`).
    episode : int
        Episode number: its words start at ``episode << 32``.
    max_steps : int
        Launches after which the episode fails.

    Returns
    -------
    Episode
    """
    n = workflow.n
    everything = (1 << n) - 1
    words = _Words(key, episode)
    caps = None if policy.caps is None else np.array(policy.caps, dtype=float)
    par = [int(x) for x in workflow.parent_masks]
    t, b, used = 0.0, float(budget), 0.0
    completed = 0
    count = [0] * n
    partial = [False] * n
    last_end = [0.0] * n
    model_of = [0] * n
    queue, seq, decisions, launches = [], 0, 0, 0
    infos = []

    def out(ok, reason):
        return Episode(ok, used, t, decisions, reason, infos)

    while True:
        if completed == everything:
            return out(True, "completed")
        disp = [v for v in range(n) if not completed >> v & 1 and count[v] == 0
                and par[v] & ~completed == 0]
        if disp:
            if launches >= max_steps:
                return out(False, "steps")
            view = View(t, deadline - t, b, completed, disp,
                        {v: (last_end[v] - t, partial[v], count[v], model_of[v])
                         for v in range(n) if count[v] > 0}, episode, decisions)
            action, info = policy.decide(view)
            decisions += 1
            if info is not None:
                infos.append(info)
            batch = []
            total = longest = 0.0
            for v in disp:
                if v not in action:
                    continue
                m, k = action[v]
                lat, succ, cost = _samples(workflow, data, words, v, int(m), int(k))
                c = float(cost.sum())
                if caps is not None and c > caps[v] + _EPS:
                    return out(False, "budget")
                total += c
                longest = max(longest, float(lat.max()))
                batch.append((v, int(m), lat, succ, c))
            if batch:
                launches += 1
                if longest > deadline - t + _EPS:
                    return out(False, "deadline")
                if total > b + _EPS:
                    return out(False, "budget")
                b -= total
                used += total
                for v, m, lat, succ, c in batch:
                    if caps is not None:
                        caps[v] -= c
                    count[v] = len(lat)
                    partial[v] = False
                    model_of[v] = m
                    last_end[v] = t + float(lat.max())
                    for x, s in zip(lat.tolist(), succ.tolist()):
                        heapq.heappush(queue, (t + x, seq, v, s))
                        seq += 1
        if not queue:
            return out(False, "stalled")
        while True:
            ft, _, v, s = heapq.heappop(queue)
            t = ft
            count[v] -= 1
            partial[v] = partial[v] or s
            if count[v] == 0:
                break
        if partial[v]:
            completed |= 1 << v
        elif not policy.retry:
            return out(False, "failed node")
