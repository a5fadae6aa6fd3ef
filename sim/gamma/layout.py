"""What the gamma Monte Carlo kernels share: the counter layout and the rows they invert.

Every run is one thinking segment decoded token by token; each step draws one
uniform (:func:`sim.rng.uniform`) of the stream :data:`STREAM` to invert the
step's next-token law. Run ``i`` owns the counters
``i * max_tokens * WORDS_PER_STEP`` up to the next run's first, one block of
:data:`WORDS_PER_STEP` counters per step, so a run's words never depend on how
many steps other runs take, and the reference decoder, the Numba kernel and the
array kernel realise the same runs. The uniform picks the first token whose
cumulative probability exceeds it, in the rows of :func:`cumulative`, which
every kernel inverts the same way.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["STREAM", "WORDS_PER_STEP", "run_base", "step_counter", "cumulative"]

#: Purpose name of the decoding stream (:func:`sim.rng.stream_key`).
STREAM = "gamma-decode"
#: Counters one decoding step consumes: one uniform to pick the next token.
WORDS_PER_STEP = 1
_W = np.uint64(WORDS_PER_STEP)  # unsigned, so that Numba keeps the arithmetic in uint64


@register_jitable(inline="always")
def run_base(run, max_tokens):
    """First counter of run ``run``; ``run`` and ``max_tokens`` are ``numpy.uint64`` (or arrays).

    Arithmetic wraps modulo 2**64, as every counter of :mod:`sim.rng` does.
    """
    return run * (max_tokens * _W)


@register_jitable(inline="always")
def step_counter(base, t):
    """Counter of the word drawn at step ``t`` (``numpy.uint64``) of the run starting at ``base``.

    One block of :data:`WORDS_PER_STEP` counters per step.
    """
    return base + t * _W


def cumulative(rows):
    """Cumulative next-token laws along the last axis, the last entry set to infinity.

    Inverting these rows (the first ``v`` with ``u < c[v]``) never runs off the
    end through rounding, so every ``u`` in ``[0, 1)`` picks a token.
    """
    c = np.cumsum(rows, axis=-1)
    c[..., -1] = np.inf
    return c
