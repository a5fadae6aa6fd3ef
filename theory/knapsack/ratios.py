"""Expected effective-gradient and effective-prompt ratios of an allocation.

The expectations of the authors' two training metrics under i.i.d. Bernoulli
rollouts, ``docs/models/knapsack.md (12)`` and ``(13)``.
"""

from __future__ import annotations

from theory._params import accepts_params
from theory.knapsack._common import _allocation_args, _out
from theory.knapsack.value import _f

__all__ = ["effective_gradient_ratio", "effective_prompt_ratio"]


@accepts_params
def effective_gradient_ratio(N, p):
    """Expected effective-gradient ratio ``sum_i N_i f(N_i, p_i) / sum_i N_i``.

    ``docs/models/knapsack.md (12)``.

    The expectation of the code's rollout-weighted ``effective_gradient_ratio``
    metric (``compute_coverage_metric``) for an allocation ``N`` under true
    rates ``p``, by linearity (derived here). Reduces over the last axis.

    Parameters
    ----------
    N : array_like of int
        Allocation, ``>= 1``, shape ``(..., M)``.
    p : array_like
        True success rates broadcasting against ``N``.

    Returns
    -------
    float or ndarray
    """
    N, p = _allocation_args(N, p)
    return _out((N * _f(N, p)).sum(axis=-1) / N.sum(axis=-1))


@accepts_params
def effective_prompt_ratio(N, p):
    """Expected effective-prompt ratio ``(1/M) sum_i f(N_i, p_i)``.

    ``docs/models/knapsack.md (13)``.

    The expectation of the code's ``effective_prompt_ratio`` metric (prompts
    with both a positive and a negative rollout, over prompts), by linearity
    (derived here). Reduces over the last axis.

    Parameters
    ----------
    N : array_like of int
        Allocation, ``>= 1``, shape ``(..., M)``.
    p : array_like
        True success rates broadcasting against ``N``.

    Returns
    -------
    float or ndarray
    """
    N, p = _allocation_args(N, p)
    return _out(_f(N, p).mean(axis=-1))
