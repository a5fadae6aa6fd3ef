"""Repeated play in plain NumPy: the reference the kernels are checked against.

One round lets every member of every team move in turn to its noisy clipped
best response (docs/models/coop.md (22)); teams are independent, so each step
is one NumPy operation over all teams. The noise is drawn from the counters of
:mod:`sim.coop.layout`, so the reference draws the same numbers as the Numba
and array kernels.
"""

from __future__ import annotations

import numpy as np

from sim.coop.layout import move_noise

__all__ = ["play_round"]


def play_round(a, targets, a_min, a_max, noise, key, round_index):
    """One round of every team, in place.

    Parameters
    ----------
    a : ndarray, shape (teams, n)
        Efforts, updated in place.
    targets : ndarray, shape (teams, n)
        Best-response targets ``S_i*`` (docs/models/coop.md (10)).
    a_min, a_max : float
        Effort bounds.
    noise : float
        Standard deviation of the noise added to each best response.
    key : numpy.uint64
        Stream key.
    round_index : int
        Round number, from 0.
    """
    teams, n = a.shape
    team = np.arange(teams, dtype=np.uint64)
    total = np.zeros(teams)
    for i in range(n):  # summed member by member, like the kernels
        total += a[:, i]
    for i in range(n):
        others = total - a[:, i]  # S_{-i}
        z = move_noise(key, np.uint64(round_index), team, np.uint64(i), np.uint64(teams),
                       np.uint64(n))
        move = np.clip(targets[:, i] - others + noise * z, a_min, a_max)
        total += move - a[:, i]
        a[:, i] = move
