"""A toy model of GRPO training under each allocator, at equal budget.

``docs/models/knapsack.md (19)``: each prompt has a logit ``z_i`` and
``p_i = sigmoid(z_i + s)`` with a shared skill ``s``. A visit samples
``K_i ~ Bin(N_i, p_i)``, computes the clipped GRPO advantages
(``docs/models/knapsack.md (14)``) and moves ``z_i`` by the expected tabular
policy gradient ``eta / sum(N) * sum_j A_ij (r_ij - p_i)``; ``s`` moves by
``kappa`` times the sum of the moves. A group without a mixed outcome does not
move. Estimates follow the authors' estimator
(:func:`sim.knapsack.estimator.estimate_from_history`); prompts with fewer
than :data:`sim.knapsack.estimator.MIN_VALID` rewards get the uniform budget,
so the first epoch is homogeneous. The toy tests the mechanism, not the
benchmark gains.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from sim import __version__ as _VERSION
from sim import _cli
from sim import guard as _guard
from sim import rng as _rng
from sim.knapsack.allocation import TRAIN_ALLOCATORS, allocate_batch
from sim.knapsack.core import cost
from sim.knapsack.estimator import MIN_VALID, estimate_from_history
from sim.knapsack.population import sample_rates
from theory import knapsack as th
from theory._params import check_int, check_real
from theory.knapsack import KnapsackSimParams

__all__ = ["simulate_training"]


def simulate_training(params=None, epochs=10, dataset=1024, lr=100.0, transfer=0.0,
                      seed=_cli.DEFAULT_SEED, names=TRAIN_ALLOCATORS, progress=None, allow=False):
    """Toy GRPO training under each allocator at equal budget, ``docs/models/knapsack.md (19)``.

    Parameters
    ----------
    params : theory.knapsack.KnapsackSimParams or None
        Batch size (``prompts`` prompts per step), ``N_bar``, bounds,
        population and estimator buffer.
    epochs : int, default 10
        Passes over the data set, ``>= 1``.
    dataset : int, default 1024
        Number of prompts, ``>= params.prompts``; their initial rates come
        from the population.
    lr : float, default 100.0
        ``eta`` of the logit update, ``>= 0``.
    transfer : float, default 0.0
        ``kappa``: the shared skill moves by ``kappa`` times the sum of logit
        moves, ``>= 0``.
    seed : int
    names : sequence of str
        Allocators (see :data:`sim.knapsack.allocation.TRAIN_ALLOCATORS`);
        every allocator starts from the same prompts and uses the same seed.
    progress : callable or None
        Called once per finished epoch of an allocator.
    allow : bool
        Run even when the size (:func:`sim.knapsack.core.cost`) exceeds this machine's
        limits (:func:`sim.guard.check`).

    Returns
    -------
    pandas.DataFrame
        One row per allocator and epoch (an allocator whose batch fails -- the port of the
        authors' allocator on its own budget assertion -- is left out, its reason in
        ``df.attrs["skipped"]``): ``egr`` (realised, rollout-weighted),
        ``prompt_ratio``, ``mean_p`` (mean true success rate after the epoch),
        ``stuck`` (fraction of prompts with p < 0.01), ``max_budget``,
        ``rollouts`` (spent in the epoch), ``fallback_steps``, and ``seed``,
        ``version``.
    """
    params = KnapsackSimParams() if params is None else params
    epochs = check_int("epochs", epochs, 1)
    dataset = check_int("dataset", dataset, params.prompts)
    lr = check_real("lr", lr, 0.0)
    transfer = check_real("transfer", transfer, 0.0)
    seed = check_int("seed", seed, 0)
    est = cost(params, 0, epochs, dataset)
    _guard.check("--epochs * --dataset", allow=allow,
                 **{k: v for k, v in est.items() if k != "param"})
    gen0 = _rng.generator(seed, "knapsack/train-init")
    p0 = sample_rates(replace(params, prompts=dataset), gen0)
    p0 = np.clip(p0, 1e-6, 1 - 1e-6)
    z0 = np.log(p0) - np.log1p(-p0)
    rows, skipped = [], {}
    for alloc in names:
        try:
            rows += _train(alloc, params, epochs, dataset, lr, transfer, seed, z0, progress)
        except AssertionError as exc:  # the port keeps the authors' budget assertion
            skipped[alloc] = f"the authors' allocator fails its own budget assertion ({exc})"
    df = pd.DataFrame(rows)
    df["seed"] = seed
    df["version"] = _VERSION
    df.attrs["skipped"] = skipped
    return df


def _train(alloc, params, epochs, dataset, lr, transfer, seed, z0, progress):
    """The rows of one allocator's training run (one per epoch)."""
    rows = []
    gen = _rng.generator(seed, "knapsack/train")
    z = z0.copy()
    s = 0.0
    hist_k = [[] for _ in range(dataset)]
    hist_n = [[] for _ in range(dataset)]
    for epoch in range(epochs):
        order = gen.permutation(dataset)
        mixed_roll = total_roll = mixed_prompts = visited = 0
        max_budget = 0
        fallback_steps = 0
        for b0 in range(0, dataset - params.prompts + 1, params.prompts):
            idx = order[b0:b0 + params.prompts]
            est = [estimate_from_history(hist_k[i], hist_n[i], params.estimate_samples)
                   for i in idx]
            p_hat = np.array([e[0] for e in est])
            valid = np.array([e[1] >= MIN_VALID for e in est])
            N, info = allocate_batch(alloc, p_hat, params, valid)
            fallback_steps += bool(info.get("fallback", False))
            p = 1.0 / (1.0 + np.exp(-(z[idx] + s)))
            K = gen.binomial(N, p)
            mixed = (K > 0) & (K < N)
            a_pos, a_neg = th.grpo_advantages(K, N)
            # sum_j A_ij (r_ij - p_i) over the group, token-mean weighting
            dz = lr * (K * a_pos * (1 - p) - (N - K) * a_neg * p) / N.sum()
            dz = np.where(mixed, dz, 0.0)
            z[idx] += dz
            s += transfer * dz.sum()
            for i, k, n in zip(idx, K, N):
                hist_k[i].append(int(k))
                hist_n[i].append(int(n))
            mixed_roll += int((N * mixed).sum())
            total_roll += int(N.sum())
            mixed_prompts += int(mixed.sum())
            visited += len(idx)
            max_budget = max(max_budget, int(N.max()))
        p_all = 1.0 / (1.0 + np.exp(-(z + s)))
        rows.append(dict(allocator=alloc, epoch=epoch + 1, egr=mixed_roll / total_roll,
                         prompt_ratio=mixed_prompts / visited, mean_p=float(p_all.mean()),
                         stuck=float(np.mean(p_all < 0.01)), max_budget=max_budget,
                         rollouts=total_roll, fallback_steps=fallback_steps))
        if progress is not None:
            progress()
    return rows
