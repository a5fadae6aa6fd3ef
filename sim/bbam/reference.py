"""The bbam outcome model written to be read: one question, one sub-question at a time.

:func:`outcomes_reference` is the definition the kernels implement
(docs/models/bbam.md (17)-(20)): it walks each question's plan in order,
draws each sub-question's required length from its own word of the counter
layout (:mod:`sim.bbam.layout`), spends ``min(tau, cap)`` tokens, and applies
the synthesis rule. It is plain Python over NumPy scalars, so it is slow
(about 10**5 questions per second); the tests check both kernels against it.
The ``numpy`` backend runs the array kernel on NumPy arrays instead
(:mod:`sim.bbam.kernel_array`).
"""

from __future__ import annotations

import math

import numpy as np

from sim import rng as _rng
from sim.bbam.layout import STREAM, step_counter, synthesis_counter, words_per_question

__all__ = ["outcomes_reference"]


def outcomes_reference(params, q, b, seed):
    """Solved flags and tokens of allocation ``b`` for the questions ``q``.

    Parameters
    ----------
    params : BbamParams
        Uses ``synthesis``, ``synthesis_accuracy`` and ``carry_over``.
    q : Questions
    b : ndarray (n, M) or None
        Per-step caps; ``None`` is the global pool.
    seed : int

    Returns
    -------
    solved : ndarray of bool, shape (n,)
    tokens : ndarray of float, shape (n,)
    """
    key = _rng.stream_key(seed, STREAM)
    n, slots = q.c.shape
    width = words_per_question(np.uint64(slots))
    solved = np.zeros(n, dtype=bool)
    tokens = np.zeros(n)
    for i in range(n):
        # this question's counters and uniforms (as arrays, whose uint64 arithmetic
        # wraps silently; NumPy scalars would warn on the wrap)
        question = np.uint64(i)
        step_ctr = step_counter(question, np.arange(slots, dtype=np.uint64), width)
        synthesis_ctr = synthesis_counter(np.full(1, question), np.uint64(slots), width)
        u = _rng.uniform(_rng.splitmix64(key, step_ctr))
        u_syn = _rng.uniform(_rng.splitmix64(key, synthesis_ctr))[0]
        spent, carry, k = 0.0, 0.0, 0
        steps = np.flatnonzero(q.mask[i])
        for j in steps:
            gap = u[j] - q.u_ale[i, j]
            tau = (q.c[i, j] / gap) ** (1.0 / q.beta[i, j]) if gap > 0 else math.inf
            if b is None:
                cap = q.budget - spent  # one shared pool, worked in order
            elif params.carry_over:
                cap = b[i, j] + carry  # a soft cap: what earlier steps left unused
            else:
                cap = b[i, j]  # a hard cap
            used = min(tau, cap)
            spent += used
            carry = cap - used
            k += tau <= cap
        m = len(steps)
        rule = {"all": k == m, "any": k > 0, "majority": 2 * k > m}[params.synthesis]
        solved[i] = rule and u_syn < params.synthesis_accuracy
        tokens[i] = spent
    return solved, tokens
