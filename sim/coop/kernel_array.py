"""Repeated play on whole arrays: one round for NumPy or CuPy (``xp``), the CuPy backend.

The same arithmetic as :func:`sim.coop.kernel_numba.play_round`, in the same
order (the team's total is summed member by member, not by a tree
reduction), on the same random words. Uniforms and clipping agree bit for
bit; the logarithm and cosine of the normal may differ in the last bit
between Numba, NumPy and CUDA, so efforts agree to rounding (tested to
1e-12) rather than bit for bit.
"""

from __future__ import annotations

import numpy as np

from sim.coop.layout import move_noise

__all__ = ["play_round"]


def play_round(xp, a, targets, a_min, a_max, noise, key, round_index):
    """One round of every team, in place, on ``xp`` arrays (docs/models/coop.md (22)).

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; ``a`` and ``targets`` are its arrays.
    a, targets, a_min, a_max, noise, key, round_index
        As in :func:`sim.coop.kernel_numba.play_round`.

    Returns
    -------
    array
        ``a``, updated.
    """
    teams, n = a.shape
    team = xp.arange(teams, dtype=xp.uint64)
    r, t_all, n_all = np.uint64(round_index), np.uint64(teams), np.uint64(n)
    S = xp.zeros(teams)
    for i in range(n):
        S = S + a[:, i]
    for i in range(n):
        z = move_noise(key, r, team, np.uint64(i), t_all, n_all)
        x = targets[:, i] - (S - a[:, i]) + noise * z
        x = xp.minimum(xp.maximum(x, a_min), a_max)
        S = S + (x - a[:, i])
        a[:, i] = x
    return a
