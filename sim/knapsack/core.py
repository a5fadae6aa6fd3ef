"""One batch: allocate with each allocator, roll the allocation out, compare with the theory.

The true rates come from the population (:mod:`sim.knapsack.population`) or
from the user; the allocators see stale, noisy estimates
(:mod:`sim.knapsack.estimator`); each allocation is rolled out ``trials``
times with one of the backends, and the realised effective-gradient and
effective-prompt ratios are set beside their expectations,
``docs/models/knapsack.md (12)`` and ``(13)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from sim import _cli
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
from theory.knapsack import KnapsackSimParams

__all__ = ["DEFAULT_TRIALS", "mixed_groups", "simulate", "simulate_batch", "allocation_table"]

#: Rollouts of each allocation per run (the command line's ``--trials``).
DEFAULT_TRIALS = 2000


def mixed_groups(N, p, replicates, seed, backend="numba"):
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
    if name == "numba":
        return kernel_numba.successes(N, p, replicates, key)
    if name == "numpy":
        return reference.successes(N, p, replicates, key)
    k = kernel_array.successes(array_module(name), N, p, replicates, key)
    return k.get()


def simulate_batch(params=None, rates=None, replicates=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED,
                   backend="auto", names=ALLOCATORS):
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

    Returns
    -------
    df : pandas.DataFrame
        One row per allocator: ``egr_expected`` (``docs/models/knapsack.md
        (12)``), ``egr_sim``, ``egr_se``, ``prompt_ratio`` (expected, ``(13)``),
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
    gen = _rng.generator(seed, "knapsack/batch")
    if rates is None:
        p = sample_rates(params, gen)
    else:
        p = check_rates(rates)
        if params.budget is not None and params.budget < p.size * params.n_low:
            raise ValueError(f"budget must be >= prompts * n_low = {p.size * params.n_low}, "
                             f"got {params.budget}")
        params = replace(params, prompts=p.size)
    p_hat = estimate_rates(p, params, gen)
    rows, allocation = [], {}
    for alloc in names:
        N, info = allocate_batch(alloc, p_hat, params)
        allocation[alloc] = N
        K = mixed_groups(N, p, replicates, seed, name)
        mixed = (K > 0) & (K < N[None, :])
        egr = (mixed * N[None, :]).sum(axis=1) / N.sum()
        epr = mixed.mean(axis=1)
        rows.append(dict(
            name=alloc,
            egr_expected=float(th.effective_gradient_ratio(N, p)),
            egr_sim=float(egr.mean()), egr_se=float(egr.std(ddof=1) / math.sqrt(replicates)),
            prompt_ratio=float(th.effective_prompt_ratio(N, p)),
            prompt_ratio_sim=float(epr.mean()),
            prompt_ratio_se=float(epr.std(ddof=1) / math.sqrt(replicates)),
            max_budget=int(N.max()), min_budget=int(N.min()),
            value=float(th.total_value(N, p)), value_estimated=float(th.total_value(N, p_hat)),
            fallback=bool(info.get("fallback", False)), budget_used=int(N.sum()),
        ))
    df = pd.DataFrame(rows)
    for k, v in asdict(params).items():
        df[k] = str(v) if isinstance(v, tuple) else v
    df["replicates"] = replicates
    _cli.add_provenance(df, seed, name)
    return df, allocation, p, p_hat


def simulate(params=None, trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED, backend="auto"):
    """The model's Monte Carlo run (:class:`sim.interface.Model`): one batch, every allocator.

    Parameters
    ----------
    params : theory.knapsack.KnapsackSimParams or None
    trials : int
        Rollouts of each allocation (replicates), ``>= 2``.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}

    Returns
    -------
    pandas.DataFrame
        The frame of :func:`simulate_batch`: one row per allocator of
        :data:`sim.knapsack.allocation.ALLOCATORS`, the theory beside each
        estimate.
    """
    return simulate_batch(params, None, trials, seed, backend)[0]


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
