"""Where the search kernels draw their random words: the counter layout.

Every draw is one uniform (:func:`sim.rng.uniform`) of one word: a step of a
run uses the slots :data:`SELECT` (which frontier node to expand), :data:`TOOL`
(whether the step is a tool call), :data:`PROGRESS` (whether it makes
progress), :data:`NOISE` (the critic's noise, through the quantile table of
:mod:`sim.search.tables`) and :data:`ANSWER` (which wrong answer a wrong chain
ends in). No draw needs the lazy bit-sliced words (:data:`sim.rng.DIGITS`) or
the Box-Muller pair (:data:`sim.rng.NORMAL_WORDS`): the noise is a table lookup,
so that every backend computes the same values without a logarithm or a
cosine. Run ``i`` of a rule owns the counters from
``i * (max_steps + 1) * WORDS_PER_STEP``: one block per step and one more
block after the last step for the vote's tie-break, so a run's words never
depend on how many steps other runs take, and the NumPy reference, the Numba
kernel and the array kernel realise the same runs (docs/models/search.md (19)).
Each rule draws from its own stream, :func:`stream`.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["STREAM", "WORDS_PER_STEP", "SELECT", "TOOL", "PROGRESS", "NOISE", "ANSWER",
           "stream", "counter"]

#: Purpose prefix of the counter-based streams (:func:`sim.rng.stream_key`).
STREAM = "search"
#: Slots of one step's block of counters.
SELECT, TOOL, PROGRESS, NOISE, ANSWER = 0, 1, 2, 3, 4
#: Counters one step consumes.
WORDS_PER_STEP = 5
_W = np.uint64(WORDS_PER_STEP)


def stream(rule):
    """Purpose name of the stream of ``rule`` (``"search/bavt"``)."""
    return f"{STREAM}/{rule}"


@register_jitable(inline="always")
def counter(run, step, slot, stride):
    """Counter of ``slot`` at ``step`` of ``run``; every argument ``numpy.uint64`` (or arrays).

    ``(run * stride + step) * WORDS_PER_STEP + slot`` with ``stride = max_steps + 1``;
    arithmetic wraps modulo 2**64.
    """
    return (run * stride + step) * _W + slot
