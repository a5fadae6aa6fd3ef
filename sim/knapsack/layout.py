"""Where the knapsack rollouts draw their random words: the counter layout of the kernels.

Every rollout is one Bernoulli(``p_i``) draw, ``uniform(word) < p_i``
(:func:`sim.rng.uniform`), so a rollout consumes one word; no rollout needs the
lazy bit-sliced words (:data:`sim.rng.DIGITS`) or normals
(:data:`sim.rng.NORMAL_WORDS`). Replicate ``r`` of a batch of ``total``
rollouts (prompt ``0``'s rollouts first, then prompt ``1``'s, ...) uses the
words at counters ``r * total * WORDS_PER_ROLLOUT + j * WORDS_PER_ROLLOUT`` of
the stream :data:`STREAM`, ``docs/models/knapsack.md (21)``. The NumPy
reference, the Numba kernel and the array kernel all call
:func:`rollout_counter`, so they draw the same words.

A rollout of the DUET simulation (:mod:`sim.knapsack.duet`) draws
:data:`DUET_WORDS` words of the stream :data:`DUET_STREAM`: its reward, the
position of its answer marker (a uniform turned into a length by the gamma
model's quantile function) and the abort lottery, at counters
``(replicate * total + rollout) * DUET_WORDS + word``
(:func:`duet_counter`, ``docs/models/knapsack.md (33)``).
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["STREAM", "WORDS_PER_ROLLOUT", "rollout_counter", "DUET_STREAM", "DUET_WORDS",
           "REWARD_WORD", "LENGTH_WORD", "LOTTERY_WORD", "duet_counter"]

#: Purpose of the counter-based stream of the rollouts (:func:`sim.rng.stream_key`).
STREAM = "knapsack/rollouts"
#: Random words one rollout consumes: one uniform compared with its prompt's rate.
WORDS_PER_ROLLOUT = 1
_W = np.uint64(WORDS_PER_ROLLOUT)


@register_jitable(inline="always")
def rollout_counter(replicate, rollout, total):
    """Counter of the word of rollout ``rollout`` (of ``total``) in replicate ``replicate``.

    ``(replicate * total + rollout) * WORDS_PER_ROLLOUT``; ``numpy.uint64``
    scalars or arrays (wrapping modulo 2**64), or inside Numba-compiled code.
    """
    return (replicate * total + rollout) * _W


#: Purpose of the counter-based stream of the DUET simulation.
DUET_STREAM = "knapsack/duet"
#: Words one rollout of the DUET simulation draws.
DUET_WORDS = 3
#: Offsets of the reward, the marker's length and the abort lottery among them.
REWARD_WORD, LENGTH_WORD, LOTTERY_WORD = 0, 1, 2
_DW = np.uint64(DUET_WORDS)


@register_jitable(inline="always")
def duet_counter(replicate, rollout, total, word):
    """Counter of word ``word`` of DUET rollout ``rollout`` (of ``total``) in ``replicate``."""
    return (replicate * total + rollout) * _DW + word
