"""A workflow: a DAG of subtasks with statistics per (node, model), and where it comes from.

``docs/models/workflow.md`` (1)-(2), (18)-(19). A :class:`Workflow` holds the
nodes in a topological order (every parent before its children), the models,
and per (node, model) the success probability ``p`` of one sample, the mean
and sd of its latency and its cost, optionally with empirical rollout records
``(latency, success, cost)`` that are resampled in place of the parametric
law. It comes from

* :func:`synthetic` -- a chain, fork-join or layered DAG with statistics drawn
  from the template laws (18) or made identical;
* :func:`load_workflow` -- a JSON file with the DAG and the statistics;
* :func:`load_records` -- empirical records (CSV or Parquet) attached to a DAG.

Bad input (a cycle, a parent that is not a node, a node without statistics
for a model, ``p`` outside ``[0, 1]``, a latency that is not positive, a
negative sd or cost) is one line naming the node, the model and the value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim import rng as _rng
from theory.workflow import LIBRARY, TOKENS_PER_SECOND, WorkflowParams

__all__ = ["Workflow", "synthetic", "chain_parents", "fork_join_parents", "layered_parents",
           "fork_join_width", "template_stats", "load_workflow", "load_records",
           "from_parents", "MAX_NODES"]

#: Most nodes a workflow may have (the kernels keep a node set in one 64-bit word).
MAX_NODES = 62
#: Layers and edge probability of the layered shape (the authors' experiment settings).
LAYERS = 5
EDGE_PROB = 0.5
#: Middle depth of the fork-join shape (the authors' experiment setting).
FORK_DEPTH = 2
#: Host stream of the synthetic workflows (:func:`sim.rng.generator`).
GRAPH_STREAM = "workflow/graph"


@dataclass(frozen=True, eq=False)
class Workflow:
    """A DAG of subtasks with per (node, model) statistics; nodes in topological order.

    Attributes
    ----------
    ids : tuple of str
        Node names, in the topological order the arrays use.
    parents : tuple of tuple of int
        Parents of each node, as positions (every parent comes earlier).
    models : tuple of str
        Model names; the second axis of the arrays.
    p, latency, latency_sd, cost : ndarray, shape (nodes, models)
        Success probability of one sample, mean and sd of its latency (s), its
        cost (thousands of output tokens, or the records' unit).
    records : dict
        ``(node, model) -> (latency, success, cost)`` arrays of empirical
        rollouts; a pair with records is resampled from them (its statistics
        above are the records' means).
    source : str
        Where the workflow came from (``"layered"``, ``"file:..."``, ...).
    """

    ids: tuple
    parents: tuple
    models: tuple
    p: np.ndarray
    latency: np.ndarray
    latency_sd: np.ndarray
    cost: np.ndarray
    records: dict = field(default_factory=dict)
    source: str = ""

    @property
    def n(self):
        """Number of nodes."""
        return len(self.ids)

    @property
    def n_models(self):
        """Number of models."""
        return len(self.models)

    @property
    def children(self):
        """Children of each node, as positions."""
        out = [[] for _ in range(self.n)]
        for v, ps in enumerate(self.parents):
            for u in ps:
                out[u].append(v)
        return tuple(tuple(c) for c in out)

    @property
    def parent_masks(self):
        """``int64`` bit mask of each node's parents (bit ``u`` for parent ``u``)."""
        out = np.zeros(self.n, dtype=np.int64)
        for v, ps in enumerate(self.parents):
            for u in ps:
                out[v] |= np.int64(1) << np.int64(u)
        return out

    @property
    def empirical(self):
        """True when some (node, model) pair is resampled from records."""
        return bool(self.records)

    def longest_path(self, weight):
        """Largest sum of ``weight[v]`` along a path ending at each node, from the sources."""
        w = np.asarray(weight, dtype=float)
        out = np.zeros(self.n)
        for v in range(self.n):
            out[v] = w[v] + max((out[u] for u in self.parents[v]), default=0.0)
        return out

    def to_dict(self):
        """The workflow as the JSON object :func:`load_workflow` reads (records left out)."""
        nodes = []
        for v in range(self.n):
            stats = {m: dict(p=float(self.p[v, j]), latency=float(self.latency[v, j]),
                             latency_sd=float(self.latency_sd[v, j]), cost=float(self.cost[v, j]))
                     for j, m in enumerate(self.models)}
            nodes.append(dict(id=self.ids[v], parents=[self.ids[u] for u in self.parents[v]],
                              models=stats))
        return dict(models=list(self.models), nodes=nodes)

    def describe(self):
        """One line: nodes, edges, depth, models and the source."""
        edges = sum(len(ps) for ps in self.parents)
        depth = int(self.longest_path(np.ones(self.n)).max())
        kind = "records" if self.empirical else "parametric"
        return (f"{self.n} nodes, {edges} edges, depth {depth}, {self.n_models} model"
                f"{'s' if self.n_models > 1 else ''} ({', '.join(self.models)}), {kind}, "
                f"{self.source}")


def _check_stat(name, value, node, model, lo, lo_open=False, hi=None):
    x = float(value) if not isinstance(value, bool) else float("nan")
    where = f"{name} of node {node!r}, model {model!r}"
    if not math.isfinite(x):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    if x < lo or (lo_open and x == lo) or (hi is not None and x > hi):
        rng = f"{'(' if lo_open else '['}{lo:g}, {'inf)' if hi is None else f'{hi:g}]'}"
        raise ValueError(f"{where} must be in {rng}, got {x:g}")
    return x


def _topological(ids, parent_ids):
    """Positions in a topological order (ready nodes in input order); a cycle is a ValueError."""
    index = {u: i for i, u in enumerate(ids)}
    indeg = [0] * len(ids)
    kids = [[] for _ in ids]
    for v, ps in enumerate(parent_ids):
        for u in ps:
            if u not in index:
                raise ValueError(f"node {ids[v]!r} has parent {u!r}, which is not a node")
            if u == ids[v]:
                raise ValueError(f"the workflow has a cycle: node {u!r} is its own parent")
            kids[index[u]].append(v)
            indeg[v] += 1
    order, ready = [], [v for v in range(len(ids)) if indeg[v] == 0]
    while ready:
        v = ready.pop(0)
        order.append(v)
        for c in kids[v]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
        ready.sort()
    if len(order) != len(ids):
        stuck = [ids[v] for v in range(len(ids)) if indeg[v] > 0]
        raise ValueError(f"the workflow has a cycle through nodes {', '.join(map(str, stuck))}")
    return order


def from_parents(ids, parent_ids, models, stats, records=None, source=""):
    """A validated :class:`Workflow` from node names, their parents' names and statistics.

    Parameters
    ----------
    ids : sequence of str
        Node names (unique).
    parent_ids : sequence of sequence of str
        The parents of each node, by name.
    models : sequence of str
        Model names (unique, at least one).
    stats : dict
        ``stats[node][model] = dict(p=..., latency=..., latency_sd=..., cost=...)``.
    records : dict or None
        ``(node name, model) -> (latency, success, cost)`` arrays.
    source : str

    Raises
    ------
    ValueError
        One line: a cycle, an unknown parent, a missing model, a value out of range.
    """
    ids = [str(u) for u in ids]
    if not ids:
        raise ValueError("the workflow must have at least one node")
    if len(ids) > MAX_NODES:
        raise ValueError(f"nodes must be at most {MAX_NODES}, got {len(ids)}")
    if len(set(ids)) != len(ids):
        dup = next(u for u in ids if ids.count(u) > 1)
        raise ValueError(f"node {dup!r} appears twice")
    models = [str(m) for m in models]
    if not models:
        raise ValueError("the workflow must name at least one model")
    if len(set(models)) != len(models):
        raise ValueError(f"models must be distinct, got {', '.join(models)}")
    parent_ids = [[str(u) for u in ps] for ps in parent_ids]
    order = _topological(ids, parent_ids)
    pos = {ids[v]: i for i, v in enumerate(order)}
    n, m = len(ids), len(models)
    arrs = {k: np.zeros((n, m)) for k in ("p", "latency", "latency_sd", "cost")}
    for i, v in enumerate(order):
        node = ids[v]
        node_stats = stats.get(node, {}) if isinstance(stats, dict) else {}
        for j, model in enumerate(models):
            st = node_stats.get(model)
            if st is None:
                raise ValueError(f"node {node!r} has no statistics for model {model!r}")
            for key in ("p", "latency", "latency_sd", "cost"):
                if key not in st:
                    raise ValueError(f"node {node!r}, model {model!r} lacks {key!r}")
            arrs["p"][i, j] = _check_stat("p", st["p"], node, model, 0.0, hi=1.0)
            arrs["latency"][i, j] = _check_stat("latency", st["latency"], node, model, 0.0,
                                                lo_open=True)
            arrs["latency_sd"][i, j] = _check_stat("latency_sd", st["latency_sd"], node, model,
                                                   0.0)
            arrs["cost"][i, j] = _check_stat("cost", st["cost"], node, model, 0.0)
    parents = tuple(tuple(sorted(pos[u] for u in parent_ids[v])) for v in order)
    recs = {}
    for (node, model), (lat, succ, cst) in (records or {}).items():
        if node not in pos:
            raise ValueError(f"records name node {node!r}, which is not a node of the workflow")
        if model not in models:
            raise ValueError(f"records name model {model!r}, which is not a model of the "
                             f"workflow ({', '.join(models)})")
        recs[(pos[node], models.index(model))] = (np.asarray(lat, dtype=float),
                                                  np.asarray(succ, dtype=bool),
                                                  np.asarray(cst, dtype=float))
    for a in arrs.values():
        a.setflags(write=False)
    return Workflow(tuple(ids[v] for v in order), parents, tuple(models), arrs["p"],
                    arrs["latency"], arrs["latency_sd"], arrs["cost"], recs, source)


# ----------------------------------------------------------------------------- shapes

def chain_parents(n):
    """Parents of a chain of ``n`` nodes: node ``i`` has parent ``i - 1``."""
    return [[] if i == 0 else [i - 1] for i in range(n)]


def fork_join_width(nodes):
    """The fork-join width for a requested size: ``max(2, nodes // 4)`` (the authors' rule)."""
    return max(2, nodes // 4)


def fork_join_parents(width, depth=FORK_DEPTH):
    """Root, ``width`` branches of ``depth`` nodes, join: ``2 + width * depth`` nodes, (19)."""
    parents = [[]]
    ends = []
    for _ in range(width):
        prev = 0
        for _ in range(depth):
            parents.append([prev])
            prev = len(parents) - 1
        ends.append(prev)
    parents.append(ends)
    return parents


def layered_parents(n, gen, layers=LAYERS, edge_prob=EDGE_PROB):
    """A random layered DAG of ``n`` nodes, (19).

    ``min(layers, n)`` layers, one node each and the rest placed uniformly at
    random; every node links to each node of every later layer with
    probability ``edge_prob``, a node with no child links to a random node of
    the next layer, and a node with no parent gets a random earlier one (the
    authors' construction). Nodes are numbered layer by layer.
    """
    n_layers = min(layers, n)
    sizes = [1] * n_layers
    for _ in range(n - n_layers):
        sizes[int(gen.integers(n_layers))] += 1
    layer_nodes, start = [], 0
    for s in sizes:
        layer_nodes.append(list(range(start, start + s)))
        start += s
    parents = [set() for _ in range(n)]
    for i in range(n_layers - 1):
        for u in layer_nodes[i]:
            linked = False
            for j in range(i + 1, n_layers):
                for v in layer_nodes[j]:
                    if gen.random() < edge_prob:
                        parents[v].add(u)
                        linked = True
            if not linked:
                nxt = layer_nodes[i + 1]
                parents[nxt[int(gen.integers(len(nxt)))]].add(u)
    for i in range(1, n_layers):
        earlier = [u for layer in layer_nodes[:i] for u in layer]
        for v in layer_nodes[i]:
            if not parents[v]:
                parents[v].add(earlier[int(gen.integers(len(earlier)))])
    return [sorted(ps) for ps in parents]


# ----------------------------------------------------------------------------- statistics

def _beta_shapes(mean, sd):
    """Beta(a, b) with the given mean and sd (method of moments)."""
    common = mean * (1 - mean) / sd**2 - 1
    return mean * common, (1 - mean) * common


def template_stats(n, models, gen):
    """Statistics per (node, model) drawn from the template laws, ``docs/models/workflow.md`` (18).

    ``p ~ Beta`` and the mean latency ``~ lognormal`` matched to the mean and sd
    of the authors' template library and clipped to its range; the latency sd
    is the library's mean ratio sd/mean times the mean; the cost is the mean
    latency times :data:`theory.workflow.TOKENS_PER_SECOND` (in thousands).

    Returns
    -------
    dict of ndarray, shape (n, models)
        ``p``, ``latency``, ``latency_sd``, ``cost``.
    """
    L = LIBRARY
    a, b = _beta_shapes(L["p_mean"], L["p_sd"])
    p = np.clip(gen.beta(a, b, size=(n, models)), L["p_min"], L["p_max"])
    v = math.log1p((L["latency_sd"] / L["latency_mean"]) ** 2)
    lat = gen.lognormal(math.log(L["latency_mean"]) - v / 2, math.sqrt(v), size=(n, models))
    lat = np.clip(lat, L["latency_min"], L["latency_max"])
    sd = lat * (L["latency_sd_mean"] / L["latency_mean"])
    cost = lat * TOKENS_PER_SECOND / 1000.0
    return dict(p=p, latency=lat, latency_sd=sd, cost=cost)


def synthetic(params):
    """The synthetic workflow of ``params``, ``docs/models/workflow.md (18)-(19)``.

    Parameters
    ----------
    params : theory.workflow.WorkflowParams
        ``shape``, ``nodes``, ``models``, ``graph_seed`` and, for identical
        nodes, ``p``, ``latency``, ``latency_sd``, ``cost`` (the library means
        where not given).

    Returns
    -------
    Workflow
        Nodes named ``"0"``, ``"1"``, ...; models ``"m0"``, ``"m1"``, ...
        (``"m0"`` alone for identical nodes).
    """
    if not isinstance(params, WorkflowParams):
        raise TypeError(f"params must be a WorkflowParams, got {type(params).__name__}")
    gen = _rng.generator(params.graph_seed, GRAPH_STREAM)
    if params.shape == "chain":
        parents = chain_parents(params.nodes)
    elif params.shape == "fork-join":
        parents = fork_join_parents(fork_join_width(params.nodes))
    else:
        parents = layered_parents(params.nodes, gen)
    n = len(parents)
    models = [f"m{j}" for j in range(params.models)]
    if params.identical:
        L = LIBRARY
        one = dict(p=L["p_mean"] if params.p is None else params.p,
                   latency=L["latency_mean"] if params.latency is None else params.latency,
                   latency_sd=(L["latency_sd_mean"] if params.latency_sd is None
                               else params.latency_sd),
                   cost=L["cost_mean"] if params.cost is None else params.cost)
        draws = {k: np.full((n, 1), float(v)) for k, v in one.items()}
    else:
        draws = template_stats(n, params.models, gen)
    ids = [str(v) for v in range(n)]
    stats = {ids[v]: {m: {k: float(draws[k][v, j]) for k in draws} for j, m in enumerate(models)}
             for v in range(n)}
    return from_parents(ids, [[ids[u] for u in ps] for ps in parents], models, stats,
                        source=f"{params.shape} (graph seed {params.graph_seed})")


# ----------------------------------------------------------------------------- files

def load_workflow(path):
    """A workflow from a JSON file: ``{"models": [...], "nodes": [{"id", "parents", "models"}]}``.

    Each node's ``"models"`` maps a model name to ``{"p", "latency", "latency_sd",
    "cost"}``; the top-level ``"models"`` (optional) fixes the models' order,
    else they are taken in order of first appearance. Every node needs every
    model.

    Raises
    ------
    ValueError
        One line: the file cannot be read or parsed, or the workflow is invalid.
    """
    path = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ValueError(f"workflow file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"workflow file {path} could not be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise ValueError(f"workflow file {path} must hold an object with a list 'nodes'")
    ids, parents, stats, seen = [], [], {}, []
    for i, nd in enumerate(data["nodes"]):
        if not isinstance(nd, dict) or "id" not in nd:
            raise ValueError(f"workflow file {path}: node {i} must be an object with an 'id'")
        node = str(nd["id"])
        ps = nd.get("parents", [])
        ms = nd.get("models", {})
        if not isinstance(ps, list) or not isinstance(ms, dict):
            raise ValueError(f"workflow file {path}: node {node!r} needs a list 'parents' and "
                             "an object 'models'")
        if not ms:
            raise ValueError(f"node {node!r} has no model (give its statistics under 'models')")
        ids.append(node)
        parents.append(ps)
        stats[node] = {str(m): st for m, st in ms.items()}
        for m in ms:
            if str(m) not in seen:
                seen.append(str(m))
    models = [str(m) for m in data.get("models", seen)]
    return from_parents(ids, parents, models, stats, source=f"file {path}")


def load_records(path, workflow):
    """Attach empirical rollout records (CSV/Parquet) to ``workflow``, docs/models/workflow.md (2).

    The file has columns ``node``, ``latency``, ``success`` (0/1 or true/false),
    ``cost`` and, when the workflow has more than one model, ``model``. Each
    (node, model) pair with records is resampled from them, jointly (one row
    is one sample), and its statistics become the records' means; pairs
    without records keep their parametric law.

    Returns
    -------
    Workflow
    """
    path = str(path)
    try:
        df = pd.read_parquet(path) if path.endswith((".parquet", ".pq")) else pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"records file {path} does not exist") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"records file {path} could not be read: {first}") from None
    need = ["node", "latency", "success", "cost"]
    if workflow.n_models > 1:
        need.append("model")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"records file {path} lacks column(s) {', '.join(missing)}")
    if df.empty:
        raise ValueError(f"records file {path} has no rows")
    lat = pd.to_numeric(df["latency"], errors="coerce").to_numpy(dtype=float)
    cst = pd.to_numeric(df["cost"], errors="coerce").to_numpy(dtype=float)
    succ_raw = df["success"]
    if succ_raw.dtype == bool:
        succ = succ_raw.to_numpy()
    else:
        num = pd.to_numeric(succ_raw.map(lambda x: {"true": 1, "false": 0}.get(str(x).lower(), x)),
                            errors="coerce").to_numpy(dtype=float)
        if np.any(~np.isin(num, (0.0, 1.0))):
            raise ValueError(f"records file {path}: success must be 0/1 or true/false")
        succ = num.astype(bool)
    if np.any(~np.isfinite(lat)) or np.any(lat <= 0):
        raise ValueError(f"records file {path}: latency must be a positive number in every row")
    if np.any(~np.isfinite(cst)) or np.any(cst < 0):
        raise ValueError(f"records file {path}: cost must be a non-negative number in every row")
    nodes = df["node"].astype(str).to_numpy()
    models = (df["model"].astype(str).to_numpy() if "model" in df.columns
              else np.full(len(df), workflow.models[0]))
    known = set(workflow.ids)
    bad = [u for u in nodes if u not in known]
    if bad:
        raise ValueError(f"records name node {bad[0]!r}, which is not a node of the workflow")
    records, stats = {}, {}
    for v, node in enumerate(workflow.ids):
        stats[node] = {}
        for j, model in enumerate(workflow.models):
            sel = (nodes == node) & (models == model)
            st = dict(p=float(workflow.p[v, j]), latency=float(workflow.latency[v, j]),
                      latency_sd=float(workflow.latency_sd[v, j]),
                      cost=float(workflow.cost[v, j]))
            if sel.any():
                records[(node, model)] = (lat[sel], succ[sel], cst[sel])
                st = dict(p=float(succ[sel].mean()), latency=float(lat[sel].mean()),
                          latency_sd=float(lat[sel].std()), cost=float(cst[sel].mean()))
            stats[node][model] = st
    parents = [[workflow.ids[u] for u in ps] for ps in workflow.parents]
    return from_parents(workflow.ids, parents, workflow.models, stats, records,
                        source=f"{workflow.source}, records {path}")
