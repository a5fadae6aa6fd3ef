"""Repeated play on the CPU: one round of noisy best responses, compiled with Numba."""

from __future__ import annotations

from numba import njit, prange, uint64

from sim.coop.layout import move_noise

__all__ = ["play_round"]


@njit(parallel=True, cache=True)
def play_round(a, targets, a_min, a_max, noise, key, round_index):
    """One round of every team, in place (docs/models/coop.md (22)); teams in parallel.

    Members move in turn (Gauss-Seidel order), each to
    ``clip(S_i* - S_{-i} + noise Z, a_min, a_max)`` with the teammates' current
    efforts; ``Z`` comes from the counters of :mod:`sim.coop.layout`.

    Parameters
    ----------
    a : ndarray of float64, shape (teams, n)
        Efforts, updated in place.
    targets : ndarray of float64, shape (teams, n)
        Best-response targets ``S_i*`` (docs/models/coop.md (10)).
    a_min, a_max, noise : float
        Effort bounds and the noise's standard deviation.
    key : numpy.uint64
        Stream key (:func:`sim.rng.stream_key`).
    round_index : int
        Round number, from 0.
    """
    teams, n = a.shape
    r, t_all, n_all = uint64(round_index), uint64(teams), uint64(n)
    for t in prange(teams):
        S = 0.0
        for i in range(n):
            S += a[t, i]
        for i in range(n):
            z = move_noise(key, r, uint64(t), uint64(i), t_all, n_all)
            x = targets[t, i] - (S - a[t, i]) + noise * z
            x = min(max(x, a_min), a_max)
            S += x - a[t, i]
            a[t, i] = x
