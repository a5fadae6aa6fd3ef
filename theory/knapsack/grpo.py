"""GRPO advantages with variable group size and clipping, as the authors' trainer computes them.

``docs/models/knapsack.md (14)`` (from the authors' code) and the expected
clipped fraction ``(15)`` (derived here).
"""

from __future__ import annotations

import numpy as np

from theory._params import check_int, check_int_array, check_real, check_real_array
from theory.knapsack._common import _out, _p_array

__all__ = ["grpo_advantages", "grpo_group_advantages", "expected_clipped_fraction"]


def _adv(k, N, eps, clip):
    """Advantages of a success and of a failure, ``docs/models/knapsack.md (14)`` (no checks)."""
    k = k.astype(float)
    Nf = N.astype(float)
    one = N == 1
    denom_n = np.where(one, 1.0, Nf * (Nf - 1.0))
    std = np.where(one, 1.0, np.sqrt(k * (Nf - k) / denom_n))
    mean = np.where(one, 0.0, k / Nf)
    mixed = one | ((k > 0) & (k < Nf))  # all-equal groups: r - mean = 0 exactly
    with np.errstate(divide="ignore", invalid="ignore"):
        a_pos = np.where(mixed & (k >= 1), (1.0 - mean) / (std + eps), 0.0)
        a_neg = np.where(mixed & (k < Nf), (0.0 - mean) / (std + eps), 0.0)
    if clip is not None:
        a_pos = np.clip(a_pos, -clip, clip)
        a_neg = np.clip(a_neg, -clip, clip)
    return a_pos, a_neg


def grpo_advantages(k, N, eps=1e-6, clip=5.0):
    """GRPO advantages of a success and of a failure in a group of ``N`` with ``k`` successes.

    From the authors' code (``compute_grpo_outcome_advantage``),
    ``docs/models/knapsack.md (14)``.

    ``A = (r - mean) / (std + eps)`` with the UNBIASED std
    ``s = sqrt(k (N-k) / (N (N-1)))`` (``torch.std``) and rewards in
    ``{0, 1}``; before clipping
    ``A+ = sqrt((N-k)(N-1)/(kN))`` and ``A- = -sqrt(k(N-1)/((N-k)N))`` up to
    ``eps``. A group of one gets mean 0 and std 1. Advantages are then
    clipped to ``[-clip, clip]`` (the authors' ``algorithm.adv_clip_value = 5``).

    Parameters
    ----------
    k : array_like of int
        Successes, ``0 <= k <= N``.
    N : array_like of int
        Group size, ``>= 1``.
    eps : float, default 1e-6
        In ``[0, inf)``.
    clip : float or None, default 5.0
        In ``(0, inf)``; ``None`` disables clipping.

    Returns
    -------
    (a_pos, a_neg) : tuple of float or ndarray
        Advantage of each successful rollout (0 where ``k = 0``: there is
        none) and of each failed rollout (0 where ``k = N``).
    """
    N = check_int_array("N", N, 1)
    k = check_int_array("k", k, 0)
    k, N = np.broadcast_arrays(k, N)
    if (k > N).any():
        bad = (k > N)
        raise ValueError(f"k must be an integer in [0, N], got {int(k[bad][0])} "
                         f"with N = {int(N[bad][0])}")
    eps = check_real("eps", eps, 0.0, None)
    if clip is not None:
        clip = check_real("clip", clip, 0.0, None, lo_open=True)
    a_pos, a_neg = _adv(k, N, eps, clip)
    return _out(a_pos), _out(a_neg)


def expected_clipped_fraction(N, p, clip=5.0, eps=1e-6):
    """Expected fraction of a group's rollouts whose GRPO advantage is clipped.

    ``docs/models/knapsack.md (15)``.

    With ``K ~ Bin(N, p)`` successes, the ``K`` successes have advantage
    ``A+(K, N)`` and the ``N - K`` failures ``A-(K, N)`` (``(14)``, before
    clipping); the fraction is ``E[K 1{A+ > clip} + (N-K) 1{-A- > clip}] / N``
    (derived here from ``(14)`` and the binomial law). A success is clipped when
    it is rare: ``A+ > 5`` needs roughly ``K/N < 1/26``.

    Parameters
    ----------
    N : int
        Group size, ``>= 1``.
    p : array_like
        Success rate in ``[0, 1]``.
    clip : float
        Clipping level, ``> 0``.
    eps : float
        The std offset of ``(14)``, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    from scipy import stats

    N = check_int("N", N, 1)
    p = _p_array(p)
    clip = check_real("clip", clip, 0.0, None, lo_open=True)
    eps = check_real("eps", eps, 0.0, None)
    k = np.arange(N + 1)
    a_pos, a_neg = _adv(k, np.full_like(k, N), eps, None)
    clipped = k * (a_pos > clip) + (N - k) * (-a_neg > clip)
    pmf = stats.binom.pmf(k, N, np.asarray(p)[..., None])
    return _out((pmf * clipped).sum(axis=-1) / N)


def grpo_group_advantages(rewards, group_sizes, eps=1e-6, clip=5.0):
    """Per-rollout GRPO advantages for groups of variable size.

    From the authors' code, ``docs/models/knapsack.md (14)``.

    The rollouts of all groups are concatenated: group ``g`` owns the next
    ``group_sizes[g]`` entries of ``rewards``. Vectorised (``np.add.reduceat``),
    no loop over groups.

    Parameters
    ----------
    rewards : array_like
        1-D binary rewards in ``{0, 1}`` (map the code's ``-1`` to 0).
    group_sizes : array_like of int
        1-D sizes, each ``>= 1``, summing to ``len(rewards)``.
    eps, clip
        As in :func:`grpo_advantages`.

    Returns
    -------
    ndarray
        Advantages, same shape as ``rewards``.
    """
    r = check_real_array("rewards", rewards, 0.0, 1.0)
    if r.ndim != 1:
        raise ValueError(f"rewards must be a 1-D array, got {r.ndim} dimensions")
    if not np.all((r == 0.0) | (r == 1.0)):
        bad = r[(r != 0.0) & (r != 1.0)][0]
        raise ValueError(f"rewards must be 0 or 1, got {bad:g}")
    sizes = check_int_array("group_sizes", group_sizes, 1)
    if sizes.ndim != 1 or int(sizes.sum()) != r.size:
        raise ValueError(
            f"group_sizes must be 1-D and sum to len(rewards) = {r.size}, "
            f"got sum {int(sizes.sum())}")
    eps = check_real("eps", eps, 0.0, None)
    if clip is not None:
        clip = check_real("clip", clip, 0.0, None, lo_open=True)
    if r.size == 0:
        return r.copy()
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    k = np.add.reduceat(r, starts).round().astype(np.int64)
    a_pos, a_neg = _adv(k, sizes, eps, clip)
    return np.where(r == 1.0, np.repeat(a_pos, sizes), np.repeat(a_neg, sizes))
