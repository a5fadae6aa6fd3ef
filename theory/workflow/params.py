"""The parameters of the workflow model: one workflow, one budget and deadline, the planner.

:class:`WorkflowParams` is the model's parameter class (``sim.workflow.Params``);
its defaults are the command line's (``python -m sim.workflow``). It validates
on construction with one-line errors naming the parameter, the value and the
allowed range. The open choices behind the defaults are listed in
``docs/models/workflow.md``, section "Open choices".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from theory._params import check_choice, check_int, check_real

__all__ = ["WorkflowParams", "SHAPES", "LAWS", "POLICIES", "BASELINES", "DEFAULT_POLICIES",
           "LIBRARY", "PRICES", "FLOOR", "DEFAULT_K", "parse_policy", "TOKENS_PER_SECOND"]

#: Synthetic workflow shapes, ``docs/models/workflow.md`` (19).
SHAPES = ("chain", "fork-join", "layered")
#: Latency laws, moment-matched to a mean and a standard deviation, ``docs/models/workflow.md`` (3).
LAWS = ("lognormal", "gamma", "gaussian")
#: Every latency is at least this (seconds), the authors' floor, ``docs/models/workflow.md`` (3).
FLOOR = 1e-3
#: Parallel-sample levels of the planner, the authors' default (powers of 4 up to 64).
DEFAULT_K = (1, 4, 16, 64)
#: The baselines, ``docs/models/workflow.md`` (14)-(17); ``seq:K`` and ``seq:K:MODEL`` too.
BASELINES = ("uniform", "random", "latency-weighted", "success-weighted", "critical-path",
             "loader-static", "loader-dual")
#: Every policy name the simulator knows (``seq:K`` stands for any positive integer K).
POLICIES = ("mcpp", "seq:K") + BASELINES
#: The policies a run compares unless told otherwise.
DEFAULT_POLICIES = ("mcpp", "seq:1", "seq:4", "seq:16", "seq:64", "uniform", "random",
                    "latency-weighted", "success-weighted", "critical-path", "loader-static",
                    "loader-dual")
#: Summary statistics of the authors' synthetic task library (5000 templates), the
#: targets of this project's template laws, ``docs/models/workflow.md`` (18).
LIBRARY = dict(p_mean=0.526, p_sd=0.193, p_min=0.033, p_max=0.99, latency_mean=7.94,
               latency_sd=6.67, latency_min=0.66, latency_max=51.8, latency_sd_mean=3.55,
               cost_mean=2.529, cost_min=0.234, cost_max=19.31)
#: Output tokens per second that turn a template's mean latency into its cost
#: (the library's mean cost over its mean latency), ``docs/models/workflow.md`` (18).
TOKENS_PER_SECOND = 1000.0 * LIBRARY["cost_mean"] / LIBRARY["latency_mean"]
#: The authors' output prices in USD per million output tokens (cost unit "dollars").
PRICES = {"Qwen3-30B-Instruct": 0.8, "Qwen3-30B-Thinking": 2.4, "Qwen3-4B-Instruct": 0.42,
          "Qwen3-4B-Thinking": 1.26, "goedel-32B": 2.8, "goedel-8B": 0.7, "kimina-7B": 0.5}


def parse_policy(name):
    """``(kind, k, model)`` of a policy name; one-line ValueError for an unknown one.

    ``"mcpp"`` and the baselines give ``(name, None, None)``; ``"seq:4"`` gives
    ``("seq", 4, None)`` and ``"seq:4:1"`` (model index 1) ``("seq", 4, 1)``.
    """
    if not isinstance(name, str):
        raise TypeError(f"policies must be names, got {name!r}")
    if name == "mcpp" or name in BASELINES:
        return name, None, None
    parts = name.split(":")
    if parts[0] == "seq" and len(parts) in (2, 3):
        try:
            k = int(parts[1])
            model = int(parts[2]) if len(parts) == 3 else None
        except ValueError:
            k, model = 0, None
        if k >= 1 and (model is None or model >= 0):
            return "seq", k, model
        raise ValueError(f"policy {name!r}: seq:K needs a positive integer K (and seq:K:M a "
                         "model index M >= 0)")
    raise ValueError(f"policies must be among mcpp, seq:K, seq:K:M, {', '.join(BASELINES)}; "
                     f"got {name!r}")


def _optional(name, value, lo, lo_open=False, hi=None):
    if value is None:
        return None
    return check_real(name, value, lo, hi, lo_open=lo_open)


@dataclass(frozen=True)
class WorkflowParams:
    """One workflow, its budget and deadline, and the planner's settings.

    Parameters
    ----------
    shape : {"layered", "chain", "fork-join"}, default "layered"
        Synthetic workflow, ``docs/models/workflow.md`` (19): 5 layers with edge
        probability 0.5, a chain, or a fork-join of width ``max(2, nodes // 4)``
        and middle depth 2 (so ``2 + 2 * width`` nodes).
    nodes : int, default 10
        Nodes of the synthetic workflow, in ``[1, 62]``.
    models : int, default 1
        Models per node; each (node, model) draws its own statistics from the
        template laws (18). In ``[1, 8]``; 1 when a node is made identical.
    p, latency, latency_sd, cost : float or None
        Give any of them and every node is identical with one model: success
        probability in ``[0, 1]``, mean latency (s, > 0), latency standard
        deviation (s, >= 0; 0 = deterministic) and cost per sample (thousands of
        output tokens, >= 0); those not given take the library means (18).
        All None: the template laws.
    graph_seed : int, default 0
        Seed of the synthetic workflow's structure and statistics, ``>= 0``.
    latency_law : {"lognormal", "gamma", "gaussian"}, default "lognormal"
        Law of a sample's latency given its mean and sd, (3).
    budget : float, default 150.0
        Hard budget ``B`` in the cost unit (thousands of output tokens), ``> 0``.
    deadline : float, default 120.0
        Deadline ``T`` in seconds, ``> 0``.
    k_values : tuple of int, default (1, 4, 16, 64)
        Parallel-sample levels ``K`` of the planner's base policies (distinct,
        increasing, each in ``[1, 4096]``).
    rollouts : int, default 64
        Continuation rollouts ``M`` per (candidate action, base policy), ``>= 1``.
    delta : float, default 0.05
        Confidence level of the reported radius (10), in ``(0, 1]``.
    free_nodes : int, default 3
        Ready nodes whose choices the planner enumerates (11), ``>= 1``.
    max_candidates : int or None, default None
        Cap on the candidate actions of a wide frontier (11); None is the
        authors' default ``|K| + |K|**(free_nodes + 1)`` (260).
    max_steps : int, default 10000
        Launch steps after which a continuation rollout counts as failed, ``>= 1``.
    policies : tuple of str
        Policies compared (:data:`DEFAULT_POLICIES`; names in :data:`POLICIES`).

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    shape: str = "layered"
    nodes: int = 10
    models: int = 1
    p: float | None = None
    latency: float | None = None
    latency_sd: float | None = None
    cost: float | None = None
    graph_seed: int = 0
    latency_law: str = "lognormal"
    budget: float = 150.0
    deadline: float = 120.0
    k_values: tuple = DEFAULT_K
    rollouts: int = 64
    delta: float = 0.05
    free_nodes: int = 3
    max_candidates: int | None = None
    max_steps: int = 10000
    policies: tuple = DEFAULT_POLICIES

    def __post_init__(self):
        put = object.__setattr__
        put(self, "shape", check_choice("shape", self.shape, SHAPES))
        put(self, "nodes", check_int("nodes", self.nodes, 1, 62))
        put(self, "models", check_int("models", self.models, 1, 8))
        put(self, "p", _optional("p", self.p, 0.0, hi=1.0))
        put(self, "latency", _optional("latency", self.latency, 0.0, lo_open=True))
        put(self, "latency_sd", _optional("latency_sd", self.latency_sd, 0.0))
        put(self, "cost", _optional("cost", self.cost, 0.0))
        for name in ("latency", "latency_sd", "cost"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{name} must be finite, got {v:g}")
        if self.identical and self.models != 1:
            raise ValueError(f"models must be 1 when p, latency, latency_sd or cost makes every "
                             f"node identical, got {self.models}")
        put(self, "graph_seed", check_int("graph_seed", self.graph_seed, 0))
        put(self, "latency_law", check_choice("latency_law", self.latency_law, LAWS))
        put(self, "budget", check_real("budget", self.budget, 0.0, lo_open=True))
        put(self, "deadline", check_real("deadline", self.deadline, 0.0, lo_open=True))
        for name in ("budget", "deadline"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name):g}")
        put(self, "k_values", check_k_values(self.k_values))
        put(self, "rollouts", check_int("rollouts", self.rollouts, 1, 1 << 16))
        put(self, "delta", check_real("delta", self.delta, 0.0, 1.0, lo_open=True))
        put(self, "free_nodes", check_int("free_nodes", self.free_nodes, 1, 8))
        if self.max_candidates is not None:
            put(self, "max_candidates",
                check_int("max_candidates", self.max_candidates, len(self.k_values), 1 << 16))
        put(self, "max_steps", check_int("max_steps", self.max_steps, 1, 10**6))
        pols = self.policies
        if isinstance(pols, str):
            pols = tuple(p.strip() for p in pols.split(","))
        pols = tuple(pols)
        if not pols:
            raise ValueError("policies must name at least one policy")
        for name in pols:
            parse_policy(name)
        if len(set(pols)) != len(pols):
            raise ValueError(f"policies must not repeat a name, got {','.join(pols)}")
        put(self, "policies", pols)

    @property
    def identical(self):
        """True when ``p``, ``latency``, ``latency_sd`` or ``cost`` makes every node the same."""
        return any(getattr(self, n) is not None for n in ("p", "latency", "latency_sd", "cost"))

    @property
    def candidates_cap(self):
        """The cap on candidate actions: ``max_candidates`` or ``|K| + |K|**(free_nodes + 1)``."""
        if self.max_candidates is not None:
            return self.max_candidates
        n = len(self.k_values)
        return n + n ** (self.free_nodes + 1)


def check_k_values(k_values, name="k_values"):
    """``k_values`` as a tuple of distinct increasing integers in ``[1, 4096]``; one-line errors."""
    if isinstance(k_values, str):
        parts = [p.strip() for p in k_values.split(",")]
        try:
            k_values = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"{name} must be positive integers, got {k_values!r}") from None
    try:
        ks = tuple(k_values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive integers, got {k_values!r}") \
            from None
    if not ks:
        raise ValueError(f"{name} must hold at least one level")
    out = tuple(check_int(name, k, 1, 4096) for k in ks)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"{name} must be distinct and increasing, got "
                         f"{','.join(map(str, out))}")
    return out
