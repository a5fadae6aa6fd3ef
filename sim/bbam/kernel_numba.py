"""The bbam outcome kernel in Numba: one question per iteration, all cores.

:func:`outcomes_numba` walks each question's sub-questions in order, drawing
the words of :mod:`sim.bbam.layout` and converting them with
:func:`sim.rng.uniform`, like the array kernel (:mod:`sim.bbam.kernel_array`),
so the two see the same uniforms bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from sim import rng as _rng
from sim.bbam.layout import step_counter, synthesis_counter, words_per_question

__all__ = ["RULE_CODE", "outcomes_numba"]

#: Synthesis rules as the integers the kernel takes.
RULE_CODE = {"all": 0, "majority": 1, "any": 2}


@njit(parallel=True, cache=True)
def outcomes_numba(b, sequential, carry_over, c, beta, u_ale, mask, budget, rule, s_acc, key):
    """Solved flags and tokens per question.

    Parameters
    ----------
    b : float64 array (n, M)
        Per-step caps (ignored when ``sequential``; pass any 2-d array).
    sequential : bool
        The global pool: steps worked in order from ``budget`` tokens.
    carry_over : bool
        Soft caps: what a solved step leaves unused passes to the next.
    c, beta, u_ale : float64 arrays (n, M)
        True parameters, docs/models/bbam.md (1).
    mask : bool array (n, M)
        Existing sub-questions.
    budget : float
    rule : int
        :data:`RULE_CODE` of the synthesis rule, docs/models/bbam.md (20).
    s_acc : float
        Probability that the synthesis step succeeds.
    key : uint64
        Stream key, ``sim.rng.stream_key(seed, sim.bbam.layout.STREAM)``.

    Returns
    -------
    solved : bool array (n,)
    tokens : float64 array (n,)
    """
    n, M = c.shape
    slots = uint64(M)
    width = words_per_question(slots)
    solved_q = np.zeros(n, np.bool_)
    tokens = np.zeros(n)
    for q in prange(n):
        qq = uint64(q)
        spent = 0.0
        carry = 0.0
        k = 0
        m = 0
        for j in range(M):
            if not mask[q, j]:
                continue
            m += 1
            u = _rng.uniform(_rng.splitmix64(key, step_counter(qq, uint64(j), width)))
            # required length, docs/models/bbam.md (18)
            gap = u - u_ale[q, j]
            tau = (c[q, j] / gap) ** (1.0 / beta[q, j]) if gap > 0 else np.inf
            if sequential:
                cap = budget - spent
            elif carry_over:
                cap = b[q, j] + carry
            else:
                cap = b[q, j]
            if tau <= cap:
                k += 1
                spent += tau
                carry = cap - tau
            else:
                spent += cap
                carry = 0.0
        us = _rng.uniform(_rng.splitmix64(key, synthesis_counter(qq, slots, width)))
        if rule == 0:
            ok = k == m
        elif rule == 2:
            ok = k > 0
        else:
            ok = 2 * k > m
        solved_q[q] = ok and us < s_acc
        tokens[q] = spent
    return solved_q, tokens
