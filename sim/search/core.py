"""The rules at equal budget: run each in the synthetic tree environment, theory beside it.

:func:`run_rule` runs one rule ``trials`` times on a backend and returns the
per-run results; :func:`simulate` compares the rules of
:data:`theory.search.RULES` at the same budgets and puts the closed form
beside each estimate where one exists: greedy search with a noiseless critic
(docs/models/search.md (14)) and parallel sampling with a plurality vote
((17)). :func:`budget_curve` repeats the comparison over tool budgets (the
token budget scaled with them when it is the default).
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from sim import _cli
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.guard import check as guard_check
from sim.guard import chunks
from sim.search import kernel_array, kernel_numba, reference
from sim.search.layout import stream
from sim.search.tables import tables, temperature_level
from theory import cost as _cost
from theory import search as th
from theory._params import check_choice, check_int
from theory._stats import Moments, wilson_interval
from theory.search import RULES, SearchParams

__all__ = ["DEFAULT_TRIALS", "DEFAULT_BUDGETS", "run_rule", "array_runs", "simulate",
           "budget_curve", "rule_theory", "work", "MAX_WORK"]

#: Runs per rule (the command line's ``--trials``).
DEFAULT_TRIALS = 4000
#: Tool budgets of :func:`budget_curve` and of ``--plot`` (the paper's tiers and one above).
DEFAULT_BUDGETS = (5, 10, 20, 40)
_CRITICS = {"residual": 0, "absolute": 1}
_COMBINES = {c: i for i, c in enumerate(th.COMBINES)}
_TREE = {"greedy": 0, "softmax": 1, "bavt": 2}


#: The work limit of a run without ``allow`` (``--yes``), in nanoseconds of one core (the
#: costs below are measured with Numba): about a minute on this 2-core machine.
MAX_WORK = 5e10
#: Nanoseconds of one step of a majority run (measured: 50 to 65).
MAJORITY_STEP_OPS = 100
#: Nanoseconds per squared step of a tree run, and a tree run's fixed cost (measured: 1 to
#: 10 ns per squared step, about a microsecond a run).
TREE_STEP2_OPS, TREE_RUN_OPS = 4, 1000
#: Nanoseconds of one entry of the Gamma ratio's table.
TABLE_ENTRY_OPS = 20
#: Bytes of one run's results (success, tokens, tools, steps, ...), kept until its chunk is
#: pooled.
RUN_BYTES = 64
#: Runs per chunk of :func:`simulate`: results are pooled chunk by chunk, so memory stays at
#: about ``CHUNK_RUNS * RUN_BYTES`` whatever the number of trials.
CHUNK_RUNS = 1 << 20


def work(params, rule, trials):
    """Nanoseconds and peak bytes of ``trials`` runs of ``rule`` (for the guard).

    The bytes are those of the host tables: the array kernel streams the runs
    in chunks of bounded memory.
    """
    m = float(params.max_steps(rule))
    trials = float(trials)
    held = RUN_BYTES * min(trials, CHUNK_RUNS)  # simulate pools the runs chunk by chunk
    if rule == "majority":
        return trials * (m + params.wrong_answers) * MAJORITY_STEP_OPS, held
    entries = (params.K + 1) * (float(params.tokens) + 1) if params.ratio == "gamma" else 0
    return (trials * (TREE_STEP2_OPS * (m + 1) ** 2 + TREE_RUN_OPS) + TABLE_ENTRY_OPS * entries,
            8 * entries + 8 * 101**3 + held)


def run_rule(params, rule, trials, seed=_cli.DEFAULT_SEED, backend="auto", first=0):
    """``trials`` runs of ``rule`` (runs ``first .. first + trials - 1`` of its stream).

    Parameters
    ----------
    params : theory.search.SearchParams
    rule : {"majority", "greedy", "softmax", "bavt"}
    trials : int
        Runs, ``>= 1``.
    seed : int
        Root seed; the rule's words come from the stream ``search/<rule>`` of it.
    backend : {"auto", "numpy", "numba", "cupy"}
        ``numpy`` runs the reference (one run at a time), ``numba`` the
        compiled kernel and ``cupy`` the array kernel on the GPU; all give
        the same runs.
    first : int
        Index of the first run (a later chunk of the same stream).

    Returns
    -------
    dict of ndarray
        ``success`` (bool), ``tokens``, ``tools``, ``steps`` (int64) per run,
        and ``found`` (a terminal was reached; tree rules) or ``chains``
        (completed chains; majority).
    """
    if not isinstance(params, SearchParams):
        raise TypeError(f"params must be a SearchParams, got {type(params).__name__}")
    check_choice("rule", rule, RULES)
    trials = check_int("trials", trials, 1)
    first = check_int("first", first, 0)
    name = resolve_backend(backend)
    key = _rng.stream_key(check_int("seed", seed, 0), stream(rule))
    max_steps = params.max_steps(rule)
    stride = max_steps + 1
    last = "chains" if rule == "majority" else "found"
    fields = ("success", "tokens", "tools", "steps", last)
    if rule == "majority":
        if name == "numba":
            out = kernel_numba.majority_runs(first, trials, key, stride, params.K, params.p,
                                             params.budget, params.tokens, params.tool_rate,
                                             params.step_tokens, params.wrong_answers,
                                             max_steps)
        elif name == "numpy":
            rows = [reference.majority_run(first + i, key, stride, params, max_steps)
                    for i in range(trials)]
            out = [np.array(c) for c in zip(*rows)]
        else:
            return array_runs(array_module(name), params, rule, trials, seed, first)
        return _as_dict(fields, out)
    T = tables(params)
    k_fixed = temperature_level(params.temperature)
    if name == "numba":
        out = kernel_numba.tree_runs(
            first, trials, key, stride, params.K, params.p, params.budget, params.tokens,
            params.tool_rate, params.tree_step_tokens, params.noise, _CRITICS[params.critic],
            params.bias, _TREE[rule], k_fixed, _COMBINES[params.combine],
            params.ratio == "gamma", params.stop_at_answer, max_steps, T.weights, T.noise,
            T.vstar, T.root_level, T.hops, T.gamma)
    elif name == "numpy":
        rows = [reference.tree_run(first + i, key, stride, params, rule, T, k_fixed, max_steps)
                for i in range(trials)]
        out = [np.array(c) for c in zip(*rows)]
    else:
        return array_runs(array_module(name), params, rule, trials, seed, first)
    return _as_dict(fields, out)


def array_runs(xp, params, rule, trials, seed=_cli.DEFAULT_SEED, first=0):
    """:func:`run_rule` on the array kernel with the array module ``xp`` (NumPy or CuPy).

    The runs go in chunks of bounded memory (:func:`sim.guard.chunks`); the
    results come back as NumPy arrays, equal to the Numba kernel's bit for bit.
    """
    check_choice("rule", rule, RULES)
    key = _rng.stream_key(check_int("seed", seed, 0), stream(rule))
    max_steps = params.max_steps(rule)
    stride = max_steps + 1
    if rule == "majority":
        per_run = (params.wrong_answers + 8) * 8

        def fn(f, n):
            return kernel_array.majority_runs(xp, f, n, key, stride, params, max_steps)
        fields = ("success", "tokens", "tools", "steps", "chains")
    else:
        T = tables(params)
        k_fixed = temperature_level(params.temperature)
        per_run = (max_steps + 1) * 6 * 8

        def fn(f, n):
            return kernel_array.tree_runs(xp, f, n, key, stride, params, rule, T, k_fixed,
                                          max_steps)
        fields = ("success", "tokens", "tools", "steps", "found")
    parts = []
    for a, b in chunks(check_int("trials", trials, 1), per_run * 4):
        res = fn(first + a, b - a)
        parts.append([r.get() if hasattr(r, "get") else np.asarray(r) for r in res])
    return _as_dict(fields, [np.concatenate(c) for c in zip(*parts)])


def _as_dict(fields, out):
    d = {f: np.asarray(v) for f, v in zip(fields, out)}
    d["success"] = d["success"].astype(bool)
    for f in ("tokens", "tools", "steps"):
        d[f] = d[f].astype(np.int64)
    return d


def rule_theory(params, rule):
    """The closed-form success of ``rule`` at ``params``, or NaN where none is known.

    Majority: docs/models/search.md (17), always. Greedy: (14), when the
    critic is noiseless and prunes every step off the path (the residual
    critic, or the absolute critic without bias).
    """
    if rule == "majority":
        return th.majority_success(params)
    exact_greedy = params.noise == 0 and (params.critic == "residual" or params.bias == 0)
    if rule == "greedy" and exact_greedy:
        return th.greedy_success(params)
    return math.nan


def simulate(params=None, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED, backend="auto",
             rules=RULES, prices=None, allow=False):
    """The model's Monte Carlo run (:class:`sim.interface.Model`): every rule at one budget.

    Parameters
    ----------
    params : theory.search.SearchParams or None
        The environment and the budgets (``None``: the defaults).
    trials : int
        Runs per rule, ``>= 2``.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}
    rules : sequence of str
        Rules of :data:`theory.search.RULES` to compare.
    prices : theory.cost.Prices or None
        Prices of the unified cost (``None``: the defaults); the steps' tokens
        are output tokens.
    allow : bool
        Run even when the work exceeds this machine's limit (:func:`sim.guard.check`).

    Returns
    -------
    pandas.DataFrame
        One row per rule: ``name``, ``success`` (the fraction of runs that
        end on the correct answer), ``se``, ``ci_low``/``ci_high`` (Wilson 95 %),
        ``theory`` (the closed form, or NaN), ``z`` ((success - theory) / se),
        ``found`` (runs that reached any answer), ``tokens_mean``,
        ``tokens_se``, ``tools_mean``, ``steps_mean``, ``cost_mean`` (the
        unified cost in USD, docs/costs.md (3)), ``trials``, the parameters
        and the provenance ``seed``, ``backend``, ``version``.
    """
    params = SearchParams() if params is None else params
    if not isinstance(params, SearchParams):
        raise TypeError(f"params must be a SearchParams, got {type(params).__name__}")
    trials = check_int("trials", trials, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    if not rules:
        raise ValueError(f"rules must name at least one of {', '.join(RULES)}")
    for r in rules:
        check_choice("rule", r, RULES)
    total = sum(work(params, r, trials)[0] for r in rules)
    memory = max(work(params, r, trials)[1] for r in rules)
    guard_check("trials * steps**2", work=total, memory=memory, allow=allow,
                unit="operations (ns)", work_limit=MAX_WORK,
                hint="lower --trials or the budgets, or pass --yes")
    rows = [_row(params, r, _pooled(params, r, trials, seed, name, prices)) for r in rules]
    df = pd.DataFrame(rows)
    for k, v in asdict(params).items():
        df[k] = v
    df["token_budget"] = params.tokens
    df["trials"] = trials
    _cli.add_provenance(df, seed, name)
    return df


def _pooled(params, rule, trials, seed, backend, prices):
    """Sufficient statistics of ``trials`` runs of ``rule``, run in chunks of
    :data:`CHUNK_RUNS` (runs ``a .. b - 1`` of the rule's stream each), so memory stays
    bounded; one chunk when ``trials <= CHUNK_RUNS``."""
    acc = dict(k=0, found=0, tokens=Moments(), tools=0.0, steps=0.0, cost=0.0)
    for a, b in chunks(trials, 1, budget=CHUNK_RUNS):
        res = run_rule(params, rule, b - a, seed, backend, first=a)
        acc["k"] += int(res["success"].sum())
        found = res["found"] if "found" in res else res["chains"] > 0
        acc["found"] += int(np.count_nonzero(found))
        acc["tokens"].add(res["tokens"])
        acc["tools"] += float(res["tools"].sum())
        acc["steps"] += float(res["steps"].sum())
        acc["cost"] += float(np.sum(_cost.unified_cost(
            output=res["tokens"].astype(float), calls=res["tools"], prices=prices)))
    return acc


def _row(params, rule, acc):
    tok = acc["tokens"]
    n, k = tok.n, acc["k"]
    p_hat = k / n
    se = math.sqrt(max(p_hat * (1 - p_hat), 0.0) / n)
    ci_low, ci_high = wilson_interval(k, n)
    theory = rule_theory(params, rule)
    z = (p_hat - theory) / se if se > 0 and math.isfinite(theory) else math.nan
    return dict(name=rule, success=p_hat, se=se, ci_low=ci_low, ci_high=ci_high,
                theory=theory, z=z, found=acc["found"] / n, tokens_mean=float(tok.mean),
                tokens_se=math.sqrt(float(tok.var(1)) / n),
                tools_mean=acc["tools"] / n, steps_mean=acc["steps"] / n,
                cost_mean=acc["cost"] / n)


def budget_curve(params=None, budgets=DEFAULT_BUDGETS, trials=DEFAULT_TRIALS,
                 seed=_cli.DEFAULT_SEED, backend="auto", rules=RULES, prices=None, allow=False):
    """:func:`simulate` at each tool budget of ``budgets`` (one frame, a row per rule and budget).

    The token budget follows the tool budget (``TOKENS_PER_CALL`` per call)
    when ``params.token_budget`` is None, and stays fixed otherwise.
    """
    params = SearchParams() if params is None else params
    frames = [simulate(replace(params, budget=check_int("budget", b, 1)), trials, seed, backend,
                       rules, prices, allow) for b in budgets]
    return pd.concat(frames, ignore_index=True)

