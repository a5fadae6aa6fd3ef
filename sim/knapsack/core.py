"""One batch: allocate with each allocator, roll the allocation out, compare with the theory.

The true rates come from the population (:mod:`sim.knapsack.population`) or
from the user; the allocators see stale, noisy estimates
(:mod:`sim.knapsack.estimator`); each allocation is rolled out ``trials``
times with one of the backends, and the realised effective-gradient and
effective-prompt ratios are set beside their expectations,
``docs/models/knapsack.md (12)`` and ``(13)``.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.knapsack import kernel_array, kernel_numba, reference
from sim.knapsack.allocation import ALLOCATORS, allocate_batch
from sim.knapsack.estimator import estimate_rates
from sim.knapsack.layout import STREAM
from sim.knapsack.population import sample_rates
from sim.knapsack.rates import check_rates
from theory import knapsack as th
from theory._params import check_int, check_int_array
from theory._stats import Moments
from theory.knapsack import KnapsackSimParams

__all__ = ["DEFAULT_TRIALS", "MAX_WORK", "cost", "mixed_groups", "simulate", "simulate_batch",
           "allocation_table"]

#: Rollouts of each allocation per run (the command line's ``--trials``).
DEFAULT_TRIALS = 2000
#: The work limit of one run without ``allow`` (``--yes``), in elementary operations: a
#: rollout drawn, a cell of the authors' dynamic program, and (with ``--train``)
#: :data:`VISIT_OPERATIONS` per prompt visit. The rollout kernel and the dynamic program each
#: do about 1e9 of them per second on 2 cores, so the limit is under a minute
#: (:func:`sim.guard.check`).
MAX_WORK = 5e10
#: What one prompt visit of the toy training costs, in operations (about 25 microseconds:
#: its estimate from the history, its allocation and its update, per allocator).
VISIT_OPERATIONS = 25_000
#: Bytes one prompt holds while a batch is allocated (rates, estimates, the allocators'
#: arrays and their gains).
PROMPT_BYTES = 256


def _allocation_work(params):
    """Operations to allocate one batch with every allocator: the authors' DP dominates."""
    M = params.prompts
    extra = max(params.total - M * params.n_low, 0)
    dp = float(M) * min(params.n_up - params.n_low, extra) * extra
    return dp + 64.0 * M * len(ALLOCATORS)


def cost(params, trials, epochs=None, dataset=None):
    """The size of a run for :func:`sim.guard.check`: operations and peak bytes.

    Parameters
    ----------
    params : theory.knapsack.KnapsackSimParams
    trials : int
        Replicates of the batch's rollouts.
    epochs, dataset : int or None
        The toy training's size, when it runs.

    Returns
    -------
    dict
        ``param`` (the largest part of the work), ``work`` (operations, at most
        :data:`MAX_WORK`), ``unit``,
        ``work_limit`` and ``memory`` (bytes: the batch's prompts, the authors' DP
        table of 4 bytes per prompt and rollout, and one chunk of replicates).
    """
    M, total = float(params.prompts), float(params.total)
    parts = {"--trials * --budget (rollouts)": float(trials) * total,
             "--prompts * --budget (the authors' dynamic program)": _allocation_work(params)}
    memory = M * PROMPT_BYTES + 4.0 * M * (total + 1) + 2**24
    if epochs is not None:
        steps = float(epochs) * (dataset // params.prompts)
        parts["--epochs * --dataset (toy training)"] = (
            float(epochs) * dataset * VISIT_OPERATIONS + steps * _allocation_work(params))
        memory += float(epochs) * dataset * 16 + float(dataset) * PROMPT_BYTES
    return dict(param=max(parts, key=parts.get), work=sum(parts.values()), unit="operations",
                work_limit=MAX_WORK, memory=memory)


def mixed_groups(N, p, replicates, seed, backend="numba", first=0):
    """Successes ``K`` (replicates, M) of ``N_i`` Bernoulli(``p_i``) rollouts per prompt.

    Parameters
    ----------
    N : array_like of int
        Rollouts per prompt, ``>= 0``.
    p : array_like
        Success rate per prompt, in ``[0, 1]``.
    replicates : int
        Independent rollouts of the batch, ``>= 1``.
    seed : int
        Root seed; the words come from the stream
        :data:`sim.knapsack.layout.STREAM` of it.
    backend : {"numpy", "numba", "cupy", "auto"}
        ``numpy`` runs the reference, ``numba`` the compiled kernel and
        ``cupy`` the array kernel on the GPU; all give the same counts.
    first : int
        Index of the first replicate (a long run goes in chunks with the same counts).

    Returns
    -------
    ndarray of int64, shape ``(replicates, M)``
        ``docs/models/knapsack.md (21)``.
    """
    name = resolve_backend(backend)
    key = _rng.stream_key(check_int("seed", seed, 0), STREAM)
    replicates = check_int("replicates", replicates, 1)
    N = np.ascontiguousarray(check_int_array("N", N, 0).ravel(), dtype=np.int64)
    p = np.ascontiguousarray(check_rates(p) if N.size else np.zeros(0), dtype=np.float64)
    if p.shape != N.shape:
        raise ValueError(f"p must have one rate per prompt ({N.size}), got {p.size}")
    first = check_int("first", first, 0)
    if name == "numba":
        return kernel_numba.successes(N, p, replicates, key, first)
    if name == "numpy":
        return reference.successes(N, p, replicates, key, first)
    k = kernel_array.successes(array_module(name), N, p, replicates, key, first)
    return k.get()


def _rollout_ratios(N, p, replicates, seed, name):
    """Mean and standard error of the realised EGR and prompt ratio over the replicates.

    The replicates go in chunks of bounded memory (:func:`sim.guard.chunks`),
    pooled exactly (:class:`theory._stats.Moments`).
    """
    per_rep = 8.0 * (N.size * 4 + (int(N.sum()) * 5 if name != "numba" else 0))
    m = Moments()
    for lo, hi in _guard.chunks(replicates, per_rep):
        K = mixed_groups(N, p, hi - lo, seed, name, first=lo)
        mixed = (K > 0) & (K < N[None, :])
        m.add(np.stack([(mixed * N[None, :]).sum(axis=1) / N.sum(), mixed.mean(axis=1)]))
    se = m.se()
    return m.mean[0], se[0], m.mean[1], se[1]


def simulate_batch(params=None, rates=None, replicates=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED,
                   backend="auto", names=ALLOCATORS, allow=False):
    """Allocate one batch with each allocator and roll it out ``replicates`` times.

    Parameters
    ----------
    params : theory.knapsack.KnapsackSimParams or None
        The scenario (``None``: the defaults).
    rates : array_like or None
        True per-prompt success rates; ``None`` draws them from the population,
        ``docs/models/knapsack.md (17)``. With rates given, ``params.prompts``
        is taken from their number.
    replicates : int
        Independent rollouts of each allocation, ``>= 2``.
    seed : int
        Root seed, ``>= 0``.
    backend : {"auto", "numpy", "numba", "cupy"}
    names : sequence of str
        Allocators (:data:`sim.knapsack.allocation.TRAIN_ALLOCATORS`).
    allow : bool
        Run even when :func:`cost` exceeds this machine's limits (:func:`sim.guard.check`).

    Returns
    -------
    df : pandas.DataFrame
        One row per allocator (the port of the authors' allocator is left out where it fails
        its own budget assertion; ``df.attrs["skipped"]`` maps it to the reason):
        ``egr_expected`` (``docs/models/knapsack.md (12)``), ``egr_sim``, ``egr_se``,
        ``prompt_ratio`` (expected, ``(13)``),
        ``prompt_ratio_sim``, ``prompt_ratio_se``, ``max_budget``,
        ``min_budget``, ``value`` (``(5)`` at the true rates),
        ``value_estimated`` (at the estimates), ``fallback``, ``budget_used``,
        the parameters, ``replicates`` and the provenance ``seed``,
        ``backend``, ``version``.
    allocation : dict
        Allocator name -> rollouts per prompt (input order).
    p, p_hat : ndarray
        True rates and the estimates the allocators saw.
    """
    params = KnapsackSimParams() if params is None else params
    if not isinstance(params, KnapsackSimParams):
        raise TypeError(f"params must be a KnapsackSimParams, got {type(params).__name__}")
    replicates = check_int("replicates", replicates, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    if rates is not None:
        p = check_rates(rates)
        if params.budget is not None and params.budget < p.size * params.n_low:
            raise ValueError(f"budget must be >= prompts * n_low = {p.size * params.n_low}, "
                             f"got {params.budget}")
        params = replace(params, prompts=p.size)
    est = cost(params, replicates)
    _guard.check(est.pop("param"), allow=allow, **est)
    gen = _rng.generator(seed, "knapsack/batch")
    if rates is None:
        p = sample_rates(params, gen)
    p_hat = estimate_rates(p, params, gen)
    rows, allocation, skipped = [], {}, {}
    for alloc in names:
        try:
            N, info = allocate_batch(alloc, p_hat, params)
        except AssertionError as exc:  # the port keeps the authors' budget assertion
            skipped[alloc] = (f"the authors' allocator fails its own budget assertion on this "
                              f"batch ({exc})")
            continue
        allocation[alloc] = N
        egr, egr_se, epr, epr_se = _rollout_ratios(N, p, replicates, seed, name)
        rows.append(dict(
            name=alloc,
            egr_expected=float(th.effective_gradient_ratio(N, p)),
            egr_sim=float(egr), egr_se=float(egr_se),
            prompt_ratio=float(th.effective_prompt_ratio(N, p)),
            prompt_ratio_sim=float(epr),
            prompt_ratio_se=float(epr_se),
            max_budget=int(N.max()), min_budget=int(N.min()),
            value=float(th.total_value(N, p)), value_estimated=float(th.total_value(N, p_hat)),
            fallback=bool(info.get("fallback", False)), budget_used=int(N.sum()),
        ))
    df = pd.DataFrame(rows)
    for k, v in asdict(params).items():
        df[k] = str(v) if isinstance(v, tuple) else v
    df["replicates"] = replicates
    _cli.add_provenance(df, seed, name)
    df.attrs["skipped"] = skipped
    return df, allocation, p, p_hat


def simulate(params=None, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED, backend="auto",
             allow=False):
    """The model's Monte Carlo run (:class:`sim.interface.Model`): one batch, every allocator.

    Parameters
    ----------
    params : theory.knapsack.KnapsackSimParams or None
    trials : int
        Rollouts of each allocation (replicates), ``>= 2``.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}
    allow : bool
        Run even above the limits of :func:`cost`.

    Returns
    -------
    pandas.DataFrame
        The frame of :func:`simulate_batch`: one row per allocator of
        :data:`sim.knapsack.allocation.ALLOCATORS`, the theory beside each
        estimate.
    """
    return simulate_batch(params, None, trials, seed, backend, allow=allow)[0]


def allocation_table(allocation, p, p_hat):
    """The allocations of :func:`simulate_batch` as a tidy frame, one row per allocator and prompt.

    Returns
    -------
    pandas.DataFrame
        ``allocator``, ``prompt`` (input position), ``p`` (true rate),
        ``p_hat`` (estimate) and ``N`` (rollouts).
    """
    frames = [pd.DataFrame(dict(allocator=name, prompt=np.arange(len(N)), p=p, p_hat=p_hat,
                                N=np.asarray(N, dtype=np.int64)))
              for name, N in allocation.items()]
    return pd.concat(frames, ignore_index=True)
