"""Where the memory kernels draw their random words: the counter layout.

Every query passes through ``modules`` modules and each module draws
:data:`WORDS_PER_MODULE` words of the stream :data:`STREAM`: whether its input
is hard (:data:`LEVEL_WORD`), whether the router reads it correctly
(:data:`READ_WORD`) and whether the module does its job at the chosen tier
(:data:`JOB_WORD`). Word ``w`` of module ``i`` of query ``j`` sits at counter
``(j * modules + i) * WORDS_PER_MODULE + w``, ``docs/models/memory.md (16)``.
Each word becomes a uniform (:func:`sim.rng.uniform`) compared with a
probability; no word is a lazy Bernoulli (:data:`sim.rng.DIGITS`) or a normal
(:data:`sim.rng.NORMAL_WORDS`).

Every policy of a run sees the same queries, reads and job words (common
random numbers): a module's job word decides its success at every tier at
once, so a better tier never fails where a worse one succeeds. The NumPy
reference, the Numba kernel and the array kernel all call
:func:`word_counter`, so they draw the same words.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["STREAM", "WORDS_PER_MODULE", "LEVEL_WORD", "READ_WORD", "JOB_WORD", "word_counter"]

#: Purpose of the counter-based stream of the queries (:func:`sim.rng.stream_key`).
STREAM = "memory/queries"
#: Words one module of one query consumes.
WORDS_PER_MODULE = 3
#: The word that decides whether the module's input is hard.
LEVEL_WORD = 0
#: The word that decides whether the router reads the module's difficulty correctly.
READ_WORD = 1
#: The word that decides whether the module does its job.
JOB_WORD = 2
_W = np.uint64(WORDS_PER_MODULE)


@register_jitable(inline="always")
def word_counter(query, module, modules, word):
    """Counter of word ``word`` of module ``module`` (of ``modules``) of query ``query``.

    ``(query * modules + module) * WORDS_PER_MODULE + word`` on
    ``numpy.uint64`` scalars or arrays (wrapping modulo 2**64), or inside
    Numba-compiled code.
    """
    return (query * modules + module) * _W + word
