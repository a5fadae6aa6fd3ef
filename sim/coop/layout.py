"""The counter layout of repeated play, shared by every kernel (docs/models/coop.md (23)).

In round ``r`` member ``i`` of team ``t`` (of ``teams`` teams of ``n``
members) moves once, with one standard normal of noise drawn from the words
at counters ``move_counter(r, t, i, teams, n)`` and the one after it:
:data:`MOVE_WORDS` (= :data:`sim.rng.NORMAL_WORDS`) consecutive counters per
move, moves numbered round by round, team by team, member by member. A word
depends only on the stream key and its counter, so the Numba kernel, the
array kernel and the NumPy reference draw the same noise.

The functions work on ``numpy.uint64`` scalars, NumPy and CuPy ``uint64``
arrays and inside Numba-compiled code; every argument must be ``uint64``
(mixing signed integers would turn the arithmetic into floating point).
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from sim.rng import NORMAL_WORDS, normal, splitmix64

__all__ = ["MOVE_WORDS", "move_counter", "move_noise"]

#: Counters one move consumes: one standard normal.
MOVE_WORDS = np.uint64(NORMAL_WORDS)
_NEXT = np.uint64(1)


@register_jitable(inline="always")
def move_counter(round_index, team, member, teams, n):
    """First counter of a move: ``((round * teams + team) * n + member) * MOVE_WORDS``."""
    return ((round_index * teams + team) * n + member) * MOVE_WORDS


@register_jitable(inline="always")
def move_noise(key, round_index, team, member, teams, n):
    """The standard normal of a move (:func:`sim.rng.normal` of its two words)."""
    ctr = move_counter(round_index, team, member, teams, n)
    return normal(splitmix64(key, ctr), splitmix64(key, ctr + _NEXT))
