"""The value of a prompt's rollouts: ProbNonZeroGradient, InfoGain and their product.

``f(N, p)``, the probability that a group of ``N`` rollouts gives a non-zero
GRPO gradient, ``docs/models/knapsack.md (1)``; its marginal gain ``(2)``; the
InfoGain weight ``(3)``; the task value ``(4)`` and the knapsack objective
``(5)``.
"""

from __future__ import annotations

import numpy as np

from theory._params import accepts_params, check_choice, check_int_array
from theory.knapsack._common import _allocation_args, _out, _p_array
from theory.knapsack.params import WEIGHTS

__all__ = ["prob_nonzero_gradient", "marginal_gain", "info_gain", "value", "total_value"]


def _weight_values(p, weight):
    """InfoGain weight ``w(p)``, ``docs/models/knapsack.md (3)``, on a float array (no checks)."""
    if callable(weight):
        w = np.asarray(weight(p), dtype=float)
        try:
            w = np.broadcast_to(w, np.shape(p)).astype(float)
        except ValueError:
            raise ValueError(
                f"weight must return an array of the shape of p {np.shape(p)}, got shape {w.shape}"
            ) from None
        if np.isnan(w).any() or (w < 0).any():
            bad = w[np.isnan(w) | (w < 0)][0]
            raise ValueError(f"weight must return values in [0, inf], got {bad:g}")
        return w
    check_choice("weight", weight, WEIGHTS)
    q = 1.0 - p
    if weight == "info_gain":
        return p * q * q
    if weight == "variance":
        return p * q
    if weight == "info_gain_cubed":
        return p * q * q * q
    return (p * q) ** 1.5


def _f(n, p):
    """``f(n, p) = 1 - p^n - (1-p)^n`` in a cancellation-free form (no checks).

    With m = min(p, 1-p): f = -expm1(n log1p(-m)) - m^n. For p >= 1/2 the
    subtraction 1 - p is exact, so the form is exactly symmetric in p <-> 1-p.
    """
    m = np.minimum(p, 1.0 - p)
    with np.errstate(divide="ignore"):
        f = -np.expm1(n * np.log1p(-m)) - m**n
    return np.where(n == 1, 0.0, f)  # f(1, p) = 0 exactly (the form leaves ~1e-17)


def _delta(n, p):
    """Marginal gain ``f(n+1, p) - f(n, p)``, ``docs/models/knapsack.md (2)`` (no checks)."""
    q = 1.0 - p
    return p**n * q + p * q**n


@accepts_params
def prob_nonzero_gradient(N, p):
    """ProbNonZeroGradient ``f(N, p) = P[0 < K < N] = 1 - p^N - (1-p)^N``.

    From the paper; ``docs/models/knapsack.md (1)``.

    ``K ~ Bin(N, p)`` successes in ``N`` i.i.d. rollouts; a GRPO group is
    informative iff it mixes successes and failures. Evaluated as
    ``-expm1(N log1p(-m)) - m^N`` with ``m = min(p, 1-p)`` (exactly symmetric,
    no cancellation for large ``N``).

    Parameters
    ----------
    N : array_like of int
        Group size, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.

    Returns
    -------
    float or ndarray
        In ``[0, 1 - 2^(1-N)]``; 0 at ``p in {0, 1}`` or ``N = 1``.
    """
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    return _out(_f(N, p))


@accepts_params
def marginal_gain(N, p):
    """Marginal gain ``Delta(N, p) = f(N+1, p) - f(N, p) = p^N (1-p) + p (1-p)^N``.

    Derived here, ``docs/models/knapsack.md (2)``: positive on ``(0, 1)``, strictly
    decreasing in ``N`` (``f`` is strictly concave in ``N``).

    Parameters
    ----------
    N : array_like of int
        Current group size, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.

    Returns
    -------
    float or ndarray
    """
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    return _out(_delta(N, p))


@accepts_params
def info_gain(p, weight="info_gain"):
    """InfoGain weight ``w(p)``; the paper's is ``p (1-p)^2``, ``docs/models/knapsack.md (3)``.

    The alternatives are for sensitivity studies (open choice "weight"), none
    is the paper's: ``"variance"`` ``p (1-p)``, ``"info_gain_cubed"`` ``p (1-p)^3``
    (the authors' debug printout, ``print_results``) and
    ``"variance_3_2"`` ``[p (1-p)]^(3/2)``.

    Parameters
    ----------
    p : array_like
        Success rate in ``[0, 1]``.
    weight : str or callable, default "info_gain"
        One of :data:`WEIGHTS`, or a function of an array ``p`` returning
        non-negative weights of the same shape.

    Returns
    -------
    float or ndarray
        ``p (1-p)^2`` lies in ``[0, 4/27]`` with its maximum at ``p = 1/3``.
    """
    p = _p_array(p)
    return _out(_weight_values(p, weight))


@accepts_params
def value(N, p, weight="info_gain"):
    """Task value ``Value(N, p) = f(N, p) * InfoGain(p)``, ``docs/models/knapsack.md (4)``.

    From the paper.

    Parameters
    ----------
    N : array_like of int
        Rollouts, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.
    weight : str or callable, default "info_gain"
        As in :func:`info_gain` (open choice "weight").

    Returns
    -------
    float or ndarray
        ``0 <= Value <= InfoGain(p)``; increasing and concave in ``N``.
    """
    N = check_int_array("N", N, 1)
    p = _p_array(p)
    return _out(_f(N, p) * _weight_values(p, weight))


@accepts_params
def total_value(N, p, weight="info_gain"):
    """Knapsack objective ``sum_i Value(N_i, p_i)`` over the last axis.

    From the paper, ``docs/models/knapsack.md (5)``.

    Parameters
    ----------
    N : array_like of int
        Allocation, ``>= 1``, shape ``(..., M)``.
    p : array_like
        Success rates broadcasting against ``N``.
    weight : str or callable, default "info_gain"

    Returns
    -------
    float or ndarray
        Shape ``N.shape[:-1]`` after broadcasting.
    """
    N, p = _allocation_args(N, p)
    return _out((_f(N, p) * _weight_values(p, weight)).sum(axis=-1))
