"""A drop-in for the KnapsackRL/verl trainer: ``sampling_budget_by_knapsack``.

The authors' trainer (https://github.com/liziniu/KnapsackRL, a fork of verl
0.5) allocates each batch's rollouts with
``verl.trainer.ppo.exploration_utils.sampling_budget_by_knapsack``.
:func:`sampling_budget_by_knapsack` here takes the same arguments and
returns the same things, and by default solves the knapsack
``docs/models/knapsack.md (5)`` exactly (its value is at least that of any
allocation within the bounds and the budget, the authors' dynamic program's
included). ``docs/integrations/verl.md`` shows the lines a verl user
changes.
"""

from __future__ import annotations

import numpy as np

from theory import knapsack as th
from theory._params import check_bool, check_choice, check_int

__all__ = ["sampling_budget_by_knapsack"]

#: Solver names accepted: the authors' ``"dp"`` and this project's exact solvers.
_SOLVERS = ("dp",) + th.SOLVERS


def _states(reward_states):
    """``(valid, rate, count)`` from the authors' ``[validity, success_rate, count]`` rows."""
    try:
        arr = np.array([list(r) for r in reward_states], dtype=float)
    except (TypeError, ValueError):
        raise ValueError("reward_states must be rows of [validity, success_rate, count] "
                         "numbers") from None
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] == 0:
        raise ValueError(f"reward_states must have shape (batch_size, 3) with rows "
                         f"[validity, success_rate, count], got shape {arr.shape}")
    valid = arr[:, 0] == 1
    rate = arr[:, 1]
    bad = valid & ~((rate >= 0) & (rate <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"success_rate must be in [0, 1] for a valid prompt, got {rate[i]:g} "
                         f"in row {i}")
    return valid, np.where(valid, rate, 0.0), arr[:, 2]


def sampling_budget_by_knapsack(reward_states, n, min_n=2, max_n=None, alpha=0.9, solver="dp",
                                verbose=False, rank=0, allow_fallback=True, negative_n=None,
                                positive_n=None, total_budget=None,
                                cost_estimation="probability", *, mode="clean",
                                fallback_trigger="none"):
    """Rollouts per prompt for one batch, with the authors' inputs and outputs.

    Parameters
    ----------
    reward_states : array_like, shape (batch_size, 3)
        Rows ``[validity, success_rate, count]`` as the authors' dataset
        builds them (``validity == 1`` marks a usable rate; a list of lists or
        an object array works too).
    n : int
        Rollouts of a prompt without a valid rate; the budget defaults to
        ``batch_size * n``.
    min_n : int, default 2
        Minimum rollouts of a prompt with a valid rate.
    max_n : int or None, default None
        Maximum rollouts from the knapsack; ``None`` means ``n``, as the
        authors' docstring says (their code fails on it).
    alpha : float, default 0.9
        Target probability of the fallback trigger's cost,
        ``docs/models/knapsack.md (10)``.
    solver : str, default "dp"
        ``"dp"`` (the authors' name) or any of :data:`theory.knapsack.SOLVERS`;
        every one is exact, so the choice changes only the time.
    verbose : bool, default False
        Print one line about the allocation (on ``rank`` 0).
    rank : int, default 0
        Process rank; only rank 0 prints.
    allow_fallback : bool, default True
        Spend what the knapsack cannot use on the prompts at rate 0 (then 1),
        up to ``max_n``; ``False`` leaves it unspent (``info["unspent"]``).
    negative_n, positive_n : int or None
        Budgets of prompts at rate 0 and 1. The clean mode supports only
        ``None`` or ``min_n`` (the authors' scripts' values); other values
        need ``mode="reference"``.
    total_budget : int or None
        Rollouts of the batch; ``None`` means ``batch_size * n``.
    cost_estimation : {"probability", "expectation"}, default "probability"
        Cost of the fallback trigger, ``docs/models/knapsack.md (11)``.
    mode : {"clean", "reference"}, default "clean"
        ``"clean"``: :func:`theory.knapsack.allocate`; ``"reference"``: the
        port of the authors' function, quirks included
        (:func:`theory.knapsack.allocate_reference`).
    fallback_trigger : {"none", "coverage"}, default "none"
        Clean mode: ``"none"`` gives the knapsack all of the budget it can use
        (the exact optimum of (5)); ``"coverage"`` sets aside the surplus
        over the coverage cost first, as the authors' code does.

    Returns
    -------
    sampling_budget : ndarray of int32
        Rollouts per prompt, in input order.
    info : dict
        ``fallback`` and ``fallback_effective_ratio`` (as the authors'), and
        ``coverage_cost``, ``unspent``, ``budget``.

    Raises
    ------
    ValueError
        One line: malformed ``reward_states``, a rate outside ``[0, 1]``,
        infeasible bounds or budget, an option the clean mode does not support.
    """
    valid, rate, _ = _states(reward_states)
    M = rate.size
    n = check_int("n", n, 1)
    min_n = check_int("min_n", min_n, 1)
    max_n = n if max_n is None else check_int("max_n", max_n, min_n)
    check_choice("solver", solver, _SOLVERS)
    check_choice("mode", mode, th.MODES)
    check_choice("fallback_trigger", fallback_trigger, th.FALLBACK_TRIGGERS)
    allow_fallback = check_bool("allow_fallback", bool(allow_fallback))
    budget = M * n if total_budget is None else check_int("total_budget", total_budget, 0)
    if mode == "reference":
        N, info = th.allocate_reference(rate, valid, n=n, min_n=min_n, max_n=max_n,
                                        alpha=alpha, cost=cost_estimation,
                                        allow_fallback=allow_fallback, negative_n=negative_n,
                                        positive_n=positive_n, budget=budget)
        info.update(unspent=0, budget=budget)
    else:
        if min_n > n:
            raise ValueError(f"min_n must be <= n = {n} in mode 'clean', got {min_n}")
        for name, value in (("negative_n", negative_n), ("positive_n", positive_n)):
            if value is not None and value != min_n:
                raise ValueError(f"{name} must be None or min_n = {min_n} in mode 'clean', got "
                                 f"{value}; use mode='reference' for other values")
        params = th.KnapsackParams(
            n=n, n_low=min_n, n_up=max_n, budget=budget, alpha=alpha,
            cost=cost_estimation, fallback="zero_first" if allow_fallback else "none",
            fallback_trigger=fallback_trigger, solver="auto" if solver == "dp" else solver)
        N, info = th.allocate(rate, valid, params)
    if verbose and rank == 0:
        print(f"knapsack allocation ({mode}): {M} prompts, {int(N.sum())} of {budget} rollouts, "
              f"N in [{int(N.min())}, {int(N.max())}], fallback={info['fallback']}")
    return N.astype(np.int32), info
