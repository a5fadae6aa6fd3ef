"""The bbam outcome kernel on whole arrays, for NumPy or CuPy (``xp``).

One function, :func:`outcomes_array`, computes every question at once with
array operations of ``xp``; run on CuPy arrays it is the ``cupy`` backend
(through :func:`sim.backends.array_module`), run on NumPy arrays the
``numpy`` backend. It draws the words of :mod:`sim.bbam.layout` and converts
them with :func:`sim.rng.uniform`, like the Numba kernel
(:mod:`sim.bbam.kernel_numba`), so both see the same uniforms bit for bit and
give the same outcomes (tokens agree to the last bit of ``pow``, which may
differ between libraries).
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.bbam.layout import step_counter, synthesis_counter, words_per_question

__all__ = ["uniforms", "required_tokens", "outcomes_array", "outcomes_on"]


def uniforms(xp, key, n, slots):
    """The uniforms of ``n`` questions with ``slots`` sub-question slots, by the layout.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    key : numpy.uint64
        Stream key.
    n, slots : int
        Questions and sub-question slots per question.

    Returns
    -------
    steps : xp array, shape (n, slots)
        One uniform per sub-question slot (its required length).
    synthesis : xp array, shape (n,)
        The synthesis step's uniform.
    """
    width = words_per_question(np.uint64(slots))
    q = xp.arange(n, dtype=np.uint64)
    j = xp.arange(slots, dtype=np.uint64)
    steps = _rng.uniform(_rng.splitmix64(key, step_counter(q[:, None], j[None, :], width)))
    synthesis = _rng.uniform(_rng.splitmix64(key, synthesis_counter(q, np.uint64(slots), width)))
    return steps, synthesis


def required_tokens(xp, u, c, beta, u_ale):
    """Required length ``tau`` from a uniform ``u``, docs/models/bbam.md (18).

    The inverse of the survival function ``min(1, U(x))`` of (17):
    ``tau = (c / (u - u_ale))**(1/beta)`` where ``u > u_ale``, ``inf``
    (never solved) elsewhere.
    """
    gap = u - u_ale
    with np.errstate(divide="ignore", over="ignore"):
        return xp.where(gap > 0, (c / xp.where(gap > 0, gap, 1.0)) ** (1.0 / beta), xp.inf)


def outcomes_array(xp, b, c, beta, u_ale, mask, budget, rule, synthesis_accuracy, key,
                   carry_over=False):
    """Solved flags and tokens per question, on NumPy or CuPy arrays.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; every array argument lives there.
    b : array (n, M) or None
        The allocation's per-step caps; ``None`` is the global pool (steps
        worked in order from ``budget`` tokens).
    c, beta, u_ale : array (n, M)
        True parameters of the sub-questions, docs/models/bbam.md (1).
    mask : array of bool (n, M)
        Existing sub-questions.
    budget : float
        Tokens per question (the global pool).
    rule : {"all", "any", "majority"}
        Synthesis rule, docs/models/bbam.md (20).
    synthesis_accuracy : float
        Probability that the synthesis step succeeds.
    key : numpy.uint64
        Stream key, ``sim.rng.stream_key(seed, sim.bbam.layout.STREAM)``.
    carry_over : bool
        Soft caps: what a solved step leaves unused passes to the next.

    Returns
    -------
    solved : xp array of bool, shape (n,)
    tokens : xp array of float, shape (n,)
    """
    n, M = c.shape
    u, u_syn = uniforms(xp, key, n, M)
    tau = required_tokens(xp, u, c, beta, u_ale)
    if b is None or carry_over:
        # sequential: the global pool, or caps plus what earlier steps left unused
        spent = xp.zeros(n)
        carry = xp.zeros(n)
        solved = xp.zeros((n, M), dtype=bool)
        for j in range(M):
            cap = budget - spent if b is None else b[:, j] + carry
            ok = mask[:, j] & (tau[:, j] <= cap)
            use = xp.where(mask[:, j], xp.minimum(tau[:, j], cap), 0.0)
            carry = xp.where(mask[:, j], cap - use, carry)
            solved[:, j] = ok
            spent = spent + use
        tokens = spent
    else:
        solved = mask & (tau <= b)
        tokens = xp.where(mask, xp.minimum(tau, b), 0.0).sum(axis=1)
    k = solved.sum(axis=1)
    m = mask.sum(axis=1)
    if rule == "all":
        good = k == m
    elif rule == "any":
        good = k > 0
    else:
        good = 2 * k > m
    return good & (u_syn < synthesis_accuracy), tokens


def outcomes_on(xp, params, q, b, key):
    """Run :func:`outcomes_array` on ``xp`` arrays; returns NumPy ``(solved, tokens)``.

    Moves the questions ``q`` (:class:`sim.bbam.Questions`) and the
    allocation ``b`` to ``xp`` (a copy to the GPU for CuPy), runs the kernel
    and brings the results back.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy`` (:func:`sim.backends.array_module`).
    params : BbamParams
        Uses ``synthesis``, ``synthesis_accuracy`` and ``carry_over``.
    q : Questions
    b : ndarray (n, M) or None
        Per-step caps; ``None`` is the global pool.
    key : numpy.uint64
        Stream key, ``sim.rng.stream_key(seed, sim.bbam.layout.STREAM)``.

    Returns
    -------
    solved, tokens : numpy.ndarray
    """
    dev = [xp.asarray(a) for a in (q.c, q.beta, q.u_ale, q.mask)]
    bb = None if b is None else xp.asarray(b)
    good, tokens = outcomes_array(xp, bb, *dev, float(q.budget), params.synthesis,
                                  params.synthesis_accuracy, key, carry_over=params.carry_over)
    if hasattr(good, "get"):
        return good.get(), tokens.get()
    return np.asarray(good), np.asarray(tokens)
