"""One workflow, one budget and deadline: every policy's completion probability, with theory.

``simulate(params, trials, seed, backend)`` builds the synthetic workflow of
``params`` (:func:`sim.workflow.graph.synthetic`) and runs :func:`evaluate`:
the fixed policies (Seq-k, the static baselines, LOADER static) as ``trials``
episodes of the rollout kernel, MCPP and LOADER dual as ``trials`` episodes of
the executor (:mod:`sim.workflow.executor`), which asks them at every
decision. Beside each estimate stands the exact value where the theory has
one: Seq-k on a chain or fork-join of identical nodes with deterministic
latency (``docs/models/workflow.md`` (22), (23)), and for MCPP the bound of its
portfolio, the best exact Seq-k value minus twice the radius (10).
:func:`grid` repeats the comparison over budgets and deadlines.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim.backends import array_module, resolve_backend
from sim.workflow import kernel_array, kernel_numba, reference
from sim.workflow.encode import encode, make_plans, start_state, with_levels
from sim.workflow.executor import policy_key, run_episode
from sim.workflow.graph import FORK_DEPTH, Workflow, synthetic
from sim.workflow.layout import STREAM_EVAL, STREAM_PLAN
from sim.workflow.planner import MCPP
from sim.workflow.policies import LoaderDual, fixed_policy
from theory._params import check_int
from theory._stats import wilson_interval
from theory.workflow import (
    WorkflowParams,
    batch_success,
    fork_join_success,
    max_batches,
    parse_policy,
    seq_chain_success,
)

__all__ = ["DEFAULT_TRIALS", "simulate", "evaluate", "grid", "exact_seq", "run_kernel",
           "PLANNED", "MAX_WORK", "cost", "candidates_bound"]

#: Episodes per policy of a run (the command line's ``--trials``).
DEFAULT_TRIALS = 100
#: Policies that decide at run time (run by the executor); the others are tables.
PLANNED = ("mcpp", "loader-dual")


def run_kernel(data, start, plans, key, backend):
    """The rollout kernel of ``backend`` (``numpy``: the reference); NumPy arrays back."""
    if backend == "numba":
        return kernel_numba.rollouts(data, start, plans, key)
    if backend == "numpy":
        return reference.rollouts(data, start, plans, key)
    out = kernel_array.rollouts(array_module(backend), data, start, plans, key)
    return tuple(x.get() if hasattr(x, "get") else np.asarray(x) for x in out)


def _uniform_nodes(workflow):
    """The one (p, latency, cost) of a workflow of identical, deterministic, parametric nodes."""
    if workflow.empirical or workflow.n_models != 1:
        return None
    cols = (workflow.p[:, 0], workflow.latency[:, 0], workflow.latency_sd[:, 0],
            workflow.cost[:, 0])
    if any(np.ptp(c) != 0 for c in cols) or cols[2][0] != 0:
        return None
    return float(cols[0][0]), float(cols[1][0]), float(cols[3][0])


def _shape(workflow):
    """``("chain", n)`` or ``("fork-join", width)`` when the DAG is one of them, else None."""
    n = workflow.n
    if all(ps == (() if v == 0 else (v - 1,)) for v, ps in enumerate(workflow.parents)):
        return "chain", n
    width = (n - 2) // FORK_DEPTH
    if n >= 2 + FORK_DEPTH and (n - 2) % FORK_DEPTH == 0:
        kids = workflow.children
        if len(kids[0]) == width and workflow.parents[n - 1] and len(workflow.parents[n - 1]) \
                == width and all(len(workflow.parents[v]) == 1 for v in range(1, n - 1)):
            return "fork-join", width
    return None


def exact_seq(workflow, k, budget, deadline):
    """Exact completion of Seq-k where the theory has it, else NaN; (22), (23).

    A chain or fork-join (middle depth 2) of identical nodes with deterministic
    latency and one model.
    """
    same = _uniform_nodes(workflow)
    shape = _shape(workflow)
    if same is None or shape is None or not math.isfinite(budget):
        return math.nan
    p, tau, kappa = same
    if shape[0] == "chain":
        return float(seq_chain_success(shape[1], p, k, max(tau, 1e-3), kappa, budget, deadline))
    q = batch_success(p, k)
    n_time = max_batches(deadline, max(tau, 1e-3), math.inf, k, 0.0)
    n_budget = max_batches(math.inf, 1.0, budget, k, kappa) if kappa > 0 else math.inf
    n_time = int(min(n_time, 10**4))
    return float(fork_join_success(q, shape[1], FORK_DEPTH, n_time, n_budget))


#: The work limit of a run without ``allow`` (``--yes``), in nanoseconds of one core (the
#: rates below are measured on this machine with Numba): about a minute on 2 cores.
MAX_WORK = 5e10
#: Nanoseconds of one node of one episode of a fixed policy (measured: about 0.3).
FIXED_NODE_OPS = 500
#: ... of the random policy, which builds its table per episode (measured: about 9500).
RANDOM_NODE_OPS = 15_000
#: ... of the loader-dual policy, which re-plans at every decision (measured: 2 to 4 ms).
DUAL_NODE_OPS = 5_000_000
#: Nanoseconds of one node of one continuation rollout of MCPP (measured: about 15).
ROLLOUT_NODE_OPS = 20
#: Bytes an episode holds until the policy's row is made: the fixed policies' draws (per
#: node), the random policy's table (per node) and a planned policy's record.
FIXED_NODE_BYTES, RANDOM_NODE_BYTES, EPISODE_BYTES = 16, 200, 2048


def candidates_bound(params, n_models):
    """Most candidate actions of one MCPP decision, docs/models/workflow.md (11): every
    choice of at most ``free_nodes`` ready nodes, or the cap of a wide frontier."""
    ks = len(params.k_values)
    return max(float(ks) ** params.free_nodes + ks * (1 + n_models), params.candidates_cap)


def cost(workflow, params, trials, policies):
    """The size of :func:`evaluate` for :func:`sim.guard.check`: work (ns) and peak bytes.

    Per episode, a fixed policy draws each node once; MCPP makes at most one decision a node,
    each estimating every candidate action against every base policy with ``rollouts``
    continuations of up to ``n`` nodes.
    """
    n, trials = float(workflow.n), float(trials)
    work = memory = 0.0
    for pol in policies:
        kind = parse_policy(pol)[0]
        if kind == "mcpp":
            pairs = candidates_bound(params, workflow.n_models) * workflow.n_models \
                * len(params.k_values)
            work += trials * n * pairs * params.rollouts * n * ROLLOUT_NODE_OPS
            memory = max(memory, trials * EPISODE_BYTES + pairs * params.rollouts * n * 16)
        elif kind == "loader-dual":
            work += trials * n * DUAL_NODE_OPS
            memory = max(memory, trials * EPISODE_BYTES)
        elif kind == "random":
            work += trials * n * RANDOM_NODE_OPS
            memory = max(memory, trials * n * RANDOM_NODE_BYTES)
        else:
            work += trials * n * FIXED_NODE_OPS
            memory = max(memory, trials * n * FIXED_NODE_BYTES)
    return dict(work=work, memory=memory, unit="operations (ns)", work_limit=MAX_WORK)


def evaluate(workflow, params=None, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED,
             backend="auto", policies=None, progress=None):
    """Every policy's completion probability on ``workflow`` at ``params``' budget and deadline.

    Parameters
    ----------
    workflow : sim.workflow.graph.Workflow
    params : theory.workflow.WorkflowParams or None
        Budget, deadline, latency law, the planner's settings and the
        policies (the workflow fields are not used).
    trials : int
        Episodes per policy, ``>= 1``.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}
        The rollout kernel (fixed policies and MCPP's continuations).
    policies : sequence of str or None
        Overrides ``params.policies``.
    progress : callable or None
        Called after every policy.

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``name``, ``success``, ``se``, ``ci_low``,
        ``ci_high`` (95% Wilson), ``theory`` (exact, NaN where none),
        ``bound`` (MCPP: best exact Seq-k minus twice the radius),
        ``cost_mean`` (charged per episode), ``time_mean`` (makespan of the
        completed episodes), ``decisions``, ``epsilon``, ``estimate`` (MCPP:
        mean radius and chosen estimate of the first decision), ``trials``,
        ``budget``, ``deadline`` and the provenance.
    """
    params = WorkflowParams() if params is None else params
    if not isinstance(workflow, Workflow):
        raise TypeError(f"workflow must be a Workflow, got {type(workflow).__name__}")
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    policies = tuple(params.policies if policies is None else policies)
    for p in policies:
        parse_policy(p)
    B, T = params.budget, params.deadline
    data = encode(workflow, params.latency_law, params.k_values)
    fixed = {}
    for pol in policies:
        if parse_policy(pol)[0] in PLANNED or parse_policy(pol)[0] == "random":
            continue
        fixed[pol] = fixed_policy(pol, workflow, B)
        data = with_levels(data, fixed[pol].ks)
    exact = {k: exact_seq(workflow, k, B, T) for k in params.k_values}
    rows = []
    for pol in policies:
        kind, k, model = parse_policy(pol)
        extra = dict(decisions=math.nan, epsilon=math.nan, estimate=math.nan, bound=math.nan,
                     theory=math.nan)
        if kind in PLANNED:
            if kind == "mcpp":
                policy = MCPP(workflow, data, params, name, policy_key(seed, pol, STREAM_PLAN),
                              seed)
            else:
                policy = LoaderDual(workflow)
            key = policy_key(seed, pol)
            eps = [run_episode(workflow, data, policy, B, T, key, e, params.max_steps)
                   for e in range(trials)]
            success = np.array([e.success for e in eps], dtype=float)
            cost = np.array([e.cost for e in eps])
            time = np.array([e.time for e in eps])
            extra["decisions"] = float(np.mean([e.decisions for e in eps]))
            if kind == "mcpp":
                firsts = [e.infos[0] for e in eps if e.infos]
                if firsts:
                    extra["epsilon"] = float(np.mean([f["epsilon"] for f in firsts]))
                    extra["estimate"] = float(np.mean([f["estimate"] for f in firsts]))
                best = max(exact.values()) if exact else math.nan
                if math.isfinite(best) and math.isfinite(extra["epsilon"]):
                    extra["bound"] = best - 2 * extra["epsilon"]
        else:
            if kind == "random":
                tables = []
                for e in range(trials):
                    f = fixed_policy(pol, workflow, B, seed, e)
                    data = with_levels(data, f.ks)
                    tables.append(f)
                plans = make_plans(workflow.n, [f.table(data) for f in tables],
                                   rollouts=1, max_steps=params.max_steps)
            else:
                plans = make_plans(workflow.n, [fixed[pol].table(data)], rollouts=trials,
                                   max_steps=params.max_steps)
            key = policy_key(seed, pol, STREAM_EVAL)
            s, cost, time = run_kernel(data, start_state(workflow.n, T, B), plans, key, name)
            success = np.asarray(s, dtype=float)
            if kind == "seq" and (model in (None, 0)):
                extra["theory"] = exact.get(k, exact_seq(workflow, k, B, T))
        wins = int(success.sum())
        lo, hi = wilson_interval(wins, trials)
        ok = success > 0
        rows.append(dict(name=pol, success=wins / trials,
                         se=math.sqrt(max(wins / trials * (1 - wins / trials), 0.0) / trials),
                         ci_low=lo, ci_high=hi, cost_mean=float(np.mean(cost)),
                         time_mean=float(np.mean(time[ok])) if ok.any() else math.nan,
                         trials=trials, **extra))
        if progress is not None:
            progress()
    df = pd.DataFrame(rows)
    cols = ["name", "success", "se", "ci_low", "ci_high", "theory", "bound", "cost_mean",
            "time_mean", "decisions", "epsilon", "estimate", "trials"]
    df = df[cols]
    df["budget"] = B
    df["deadline"] = T
    df["nodes"] = workflow.n
    _cli.add_provenance(df, seed, name)
    return df


def simulate(params=None, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED, backend="auto",
             allow=False):
    """The model's Monte Carlo run (:class:`sim.interface.Model`): every policy on one workflow.

    Parameters
    ----------
    params : theory.workflow.WorkflowParams or None
        The synthetic workflow, budget, deadline, planner and policies.
    trials : int
        Episodes per policy, ``>= 1``.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}
    allow : bool
        Skip the size guard (:func:`sim.guard.check`).

    Returns
    -------
    pandas.DataFrame
        The frame of :func:`evaluate`, with the workflow's parameters.
    """
    params = WorkflowParams() if params is None else params
    if not isinstance(params, WorkflowParams):
        raise TypeError(f"params must be a WorkflowParams, got {type(params).__name__}")
    workflow = synthetic(params)
    trials = check_int("trials", trials, 1)
    _guard.check("trials", allow=allow, **cost(workflow, params, trials, params.policies))
    df = evaluate(workflow, params, trials, seed, backend)
    for k in ("shape", "models", "graph_seed", "latency_law"):
        df[k] = getattr(params, k)
    return df


def grid(workflow, params, budgets, deadlines, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED,
         backend="auto", progress=None):
    """:func:`evaluate` at every (budget, deadline): the success surface of every policy.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`evaluate` for every cell (``budget``, ``deadline``).
    """
    from dataclasses import replace

    frames = []
    for B in budgets:
        for T in deadlines:
            p = replace(params, budget=float(B), deadline=float(T))
            frames.append(evaluate(workflow, p, trials, seed, backend))
            if progress is not None:
                progress()
    return pd.concat(frames, ignore_index=True)

