"""The allocators the simulator compares, by name."""

from __future__ import annotations

from theory import knapsack as th

__all__ = ["ALLOCATORS", "TRAIN_ALLOCATORS", "allocate_batch"]

#: Allocators of one batch: the homogeneous baseline, the clean knapsack
#: (``docs/models/knapsack.md (5)`` with the fallback of the open choices) and
#: the port of the authors' allocator.
ALLOCATORS = ("uniform", "knapsack", "knapsack-reference")
#: Allocators of the toy training run: also twice the uniform budget, and the
#: knapsack without any fallback.
TRAIN_ALLOCATORS = ("uniform", "uniform-2x", "knapsack", "knapsack-reference",
                    "knapsack-no-fallback")


def allocate_batch(name, p_hat, params, valid=None):
    """Rollouts per prompt of allocator ``name`` on the estimates ``p_hat``.

    Parameters
    ----------
    name : str
        One of :data:`TRAIN_ALLOCATORS`: ``uniform`` (``N_bar`` each,
        ``docs/models/knapsack.md (16)``), ``uniform-2x`` (twice the budget),
        ``knapsack`` (:func:`theory.knapsack.allocate`, clean mode),
        ``knapsack-reference`` (the authors' rules) or
        ``knapsack-no-fallback`` (the pure optimum).
    p_hat : ndarray
        Estimated rates, one per prompt.
    params : theory.knapsack.KnapsackSimParams
        Budget and bounds.
    valid : ndarray of bool or None
        Whether each estimate may be used (None: all).

    Returns
    -------
    N : ndarray of int64
    info : dict
        The allocator's report (``fallback`` among others).
    """
    M = p_hat.shape[0]
    if name == "uniform":
        return th.allocate_uniform(M, params.total), dict(fallback=False)
    if name == "uniform-2x":
        return th.allocate_uniform(M, 2 * params.total), dict(fallback=False)
    if name == "knapsack":
        return th.allocate(p_hat, valid, params.theory_params())
    if name == "knapsack-reference":
        return th.allocate(p_hat, valid, params.theory_params(mode="reference"))
    if name == "knapsack-no-fallback":
        return th.allocate(p_hat, valid, params.theory_params(fallback="none",
                                                              fallback_trigger="none"))
    raise ValueError(f"allocator must be one of {', '.join(TRAIN_ALLOCATORS)}, got {name!r}")
