"""A workflow as the arrays the kernels read, the state a simulation starts from, and policies.

``docs/models/workflow.md`` (25)-(26). Three things go into a kernel call:

* :class:`KernelData` -- the workflow: parent masks, per (node, model) the
  latency quantile table (:mod:`sim.workflow.layout`), the cost of a sample,
  the records of resampled pairs, and per sample-count level ``k`` the batch
  success ``1 - (1-p)^k`` (computed once on the host, so every backend
  compares the same number);
* :class:`Start` -- the state the rollouts start from: completed nodes, the
  batches in flight (when each ends, whether it is known to succeed or its
  chance to), the remaining deadline and budget;
* :class:`Plans` -- what the rollouts do: a set of per-node tables (model and
  level of every node's batches, a per-node budget cap, whether a failed batch
  is retried), optional first actions, and per pair of (first action, table)
  the number of rollouts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.workflow.layout import GRID, grid_levels
from theory.workflow import batch_success, latency_quantile, latency_tail_quantile

__all__ = ["KernelData", "Start", "Plans", "encode", "with_levels", "start_state",
           "make_plans", "NO_CAP"]

#: A per-node cap that never binds.
NO_CAP = np.inf


@dataclass(frozen=True, eq=False)
class KernelData:
    """The workflow in arrays (see the module docstring); build it with :func:`encode`."""

    n: int
    n_models: int
    par_mask: np.ndarray      # int64 (n,)
    lat_tab: np.ndarray       # float64 (n * models, GRID + 1), row v * models + m
    kappa: np.ndarray         # float64 (n, models): cost of one parametric sample
    emp: np.ndarray           # uint8 (n, models): 1 when resampled from records
    rec_ptr: np.ndarray       # int64 (n * models + 1,)
    rec_lat: np.ndarray       # float64
    rec_succ: np.ndarray      # uint8
    rec_cost: np.ndarray      # float64
    levels: np.ndarray        # int64 (L,): sample counts k
    qtab: np.ndarray          # float64 (n, models, L): 1 - (1-p)^k
    p: np.ndarray             # float64 (n, models)
    law: str

    def level(self, k):
        """Index of the level with ``k`` samples (KeyError when absent)."""
        idx = np.nonzero(self.levels == int(k))[0]
        if idx.size == 0:
            raise KeyError(k)
        return int(idx[0])


@dataclass(frozen=True, eq=False)
class Start:
    """The state rollouts start from (all times relative to the start)."""

    completed: int            # bit mask of completed nodes
    inflight: int             # bit mask of nodes with a batch in flight
    end: np.ndarray           # float64 (n,): when each batch in flight ends
    known: np.ndarray         # uint8 (n,): 1 when the batch in flight is known to succeed
    q: np.ndarray             # float64 (n,): else, its chance to succeed
    h: float                  # remaining deadline
    b: float                  # remaining budget


@dataclass(frozen=True, eq=False)
class Plans:
    """Tables, first actions and pairs of one kernel call (see the module docstring)."""

    tab_model: np.ndarray     # int64 (T, n)
    tab_level: np.ndarray     # int64 (T, n)
    tab_cap: np.ndarray       # float64 (T, n)
    tab_retry: np.ndarray     # uint8 (T,)
    first_model: np.ndarray   # int64 (A, n), -1 where a node is not in the action
    first_level: np.ndarray   # int64 (A, n)
    pair_table: np.ndarray    # int64 (P,)
    pair_first: np.ndarray    # int64 (P,), -1: no first action
    rollouts: int             # rollouts per pair
    max_steps: int

    @property
    def total(self):
        """Rollouts of the call: pairs times rollouts per pair."""
        return int(self.pair_table.shape[0]) * int(self.rollouts)


def encode(workflow, law, levels=(1,)):
    """The :class:`KernelData` of ``workflow`` under latency law ``law``.

    Parameters
    ----------
    workflow : sim.workflow.graph.Workflow
    law : {"lognormal", "gamma", "gaussian"}
    levels : iterable of int
        Sample counts the kernels may launch (more with :func:`with_levels`).
    """
    n, m = workflow.n, workflow.n_models
    lower, upper = grid_levels()
    low = lower < 0.5
    tab = np.empty((n * m, GRID + 1))
    emp = np.zeros((n, m), dtype=np.uint8)
    ptr = [0]
    lat, succ, cost = [], [], []
    for v in range(n):
        for j in range(m):
            rec = workflow.records.get((v, j))
            if rec is None:
                mu, sd = float(workflow.latency[v, j]), float(workflow.latency_sd[v, j])
                # each tail from the side where its level is accurate
                tab[v * m + j] = np.where(low, latency_quantile(law, mu, sd, lower),
                                          latency_tail_quantile(law, mu, sd, upper))
            else:       # resampled from its records; the table is not read
                tab[v * m + j] = np.nan
            if rec is not None:
                emp[v, j] = 1
                lat.append(np.maximum(rec[0], 1e-3))
                succ.append(rec[1].astype(np.uint8))
                cost.append(rec[2])
                ptr.append(ptr[-1] + len(rec[0]))
            else:
                ptr.append(ptr[-1])
    def cat(parts, dt):
        return (np.ascontiguousarray(np.concatenate(parts), dtype=dt)
                if parts else np.zeros(1, dtype=dt))
    data = KernelData(n, m, np.ascontiguousarray(workflow.parent_masks),
                      np.ascontiguousarray(tab), np.ascontiguousarray(workflow.cost, dtype=float),
                      emp, np.asarray(ptr, dtype=np.int64), cat(lat, np.float64),
                      cat(succ, np.uint8), cat(cost, np.float64), np.zeros(0, dtype=np.int64),
                      np.zeros((n, m, 0)), np.ascontiguousarray(workflow.p, dtype=float), law)
    return with_levels(data, levels)


def with_levels(data, ks):
    """``data`` with the sample-count levels ``ks`` added (existing levels keep their index)."""
    new = [int(k) for k in ks if int(k) not in set(data.levels.tolist())]
    new = list(dict.fromkeys(new))
    if not new:
        return data
    levels = np.concatenate([data.levels, np.asarray(new, dtype=np.int64)])
    q = np.empty((data.n, data.n_models, len(new)))
    for i, k in enumerate(new):
        q[:, :, i] = batch_success(data.p, k)
    qtab = np.ascontiguousarray(np.concatenate([data.qtab, q], axis=2))
    return replace(data, levels=levels, qtab=qtab)


def start_state(n, h, b, completed=0, inflight=0, end=None, known=None, q=None):
    """A :class:`Start`; by default nothing completed or in flight."""
    return Start(int(completed), int(inflight),
                 np.zeros(n) if end is None else np.ascontiguousarray(end, dtype=float),
                 np.zeros(n, dtype=np.uint8) if known is None
                 else np.ascontiguousarray(known, dtype=np.uint8),
                 np.zeros(n) if q is None else np.ascontiguousarray(q, dtype=float),
                 float(h), float(b))


def make_plans(n, tables, firsts=(), pairs=None, rollouts=1, max_steps=10000):
    """A :class:`Plans` from per-node tables and first actions.

    Parameters
    ----------
    n : int
        Nodes.
    tables : sequence of (model, level, cap, retry)
        ``model`` and ``level`` are per-node int arrays (or scalars for every
        node), ``cap`` a per-node float array or scalar (``NO_CAP``), ``retry``
        a bool.
    firsts : sequence of (model, level)
        Per-node arrays, ``-1`` for nodes not in the action.
    pairs : sequence of (table, first) or None
        ``None``: every table once, without a first action.
    rollouts : int
        Rollouts per pair.
    """
    def row(x, dtype):
        return np.broadcast_to(np.asarray(x, dtype=dtype), (n,))

    tm = np.array([row(t[0], np.int64) for t in tables], dtype=np.int64).reshape(-1, n)
    tl = np.array([row(t[1], np.int64) for t in tables], dtype=np.int64).reshape(-1, n)
    tc = np.array([row(t[2], np.float64) for t in tables], dtype=np.float64).reshape(-1, n)
    tr = np.array([bool(t[3]) for t in tables], dtype=np.uint8)
    fm = np.array([row(f[0], np.int64) for f in firsts], dtype=np.int64).reshape(-1, n)
    fl = np.array([row(f[1], np.int64) for f in firsts], dtype=np.int64).reshape(-1, n)
    if pairs is None:
        pairs = [(i, -1) for i in range(len(tables))]
    pt = np.array([int(p[0]) for p in pairs], dtype=np.int64)
    pf = np.array([int(p[1]) for p in pairs], dtype=np.int64)
    return Plans(np.ascontiguousarray(tm), np.ascontiguousarray(tl), np.ascontiguousarray(tc),
                 tr, np.ascontiguousarray(fm), np.ascontiguousarray(fl), pt, pf, int(rollouts),
                 int(max_steps))
