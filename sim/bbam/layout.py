"""The counter layout of the bbam outcome kernels, in one place.

Every random word of :mod:`sim.bbam.kernel_numba` and
:mod:`sim.bbam.kernel_array` is ``sim.rng.splitmix64(key, counter)`` for the
stream ``key = sim.rng.stream_key(seed, STREAM)``. A question with
``M`` sub-question slots (``M`` = the longest plan of the prior) owns
:func:`words_per_question` consecutive counters:

======================  ==============================================
counter                 draw
======================  ==============================================
``q * W + j``           the required length of sub-question ``j``
                        (one uniform, docs/models/bbam.md (18))
``q * W + M``           the synthesis step (one uniform, compared with
                        ``synthesis_accuracy``)
======================  ==============================================

with ``W = words_per_question(M) = M * STEP_WORDS + SYNTHESIS_WORDS``. Words
become numbers only through :func:`sim.rng.uniform`. A slot past a question's
own ``m`` keeps its counter unused, so a question's draws depend on its index
alone, every allocator sees the same draws (common random numbers), and the
two kernels draw the same words. The kernels draw one uniform per word and
neither lazy Bernoulli words nor normals, so no stride of
:data:`sim.rng.DIGITS` or :data:`sim.rng.NORMAL_WORDS` appears here.

The functions work on ``numpy.uint64`` scalars, on NumPy and CuPy ``uint64``
arrays and inside Numba-compiled code; pass every argument as ``uint64`` (an
``int64`` operand would turn the arithmetic into floating point).
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["STREAM", "STEP_WORDS", "SYNTHESIS_WORDS", "words_per_question", "step_counter",
           "synthesis_counter"]

#: Purpose of the outcome kernels' stream: ``sim.rng.stream_key(seed, STREAM)``.
STREAM = "bbam/outcomes"
#: Uniform words one sub-question draws: its required length.
STEP_WORDS = np.uint64(1)
#: Uniform words the synthesis step draws.
SYNTHESIS_WORDS = np.uint64(1)


@register_jitable(inline="always")
def words_per_question(slots):
    """Counters one question owns: ``slots * STEP_WORDS + SYNTHESIS_WORDS``."""
    return slots * STEP_WORDS + SYNTHESIS_WORDS


@register_jitable(inline="always")
def step_counter(question, step, width):
    """Counter of sub-question ``step`` of ``question``; ``width = words_per_question(M)``."""
    return question * width + step * STEP_WORDS


@register_jitable(inline="always")
def synthesis_counter(question, slots, width):
    """Counter of the synthesis step of ``question`` (after its ``slots`` sub-question words)."""
    return question * width + slots * STEP_WORDS
