"""The array kernel of the gamma Monte Carlo: all runs in lockstep on NumPy or CuPy arrays.

The same toy, rows and counter layout as the Numba kernel
(:mod:`sim.gamma.kernel_numba`): run ``i`` draws at step ``t`` the uniform of
counter ``step_counter(run_base(i, max_tokens), t)`` (:mod:`sim.gamma.layout`)
and inverts the same cumulative rows, so on NumPy and on CuPy it realises
exactly the Numba kernel's runs. The CuPy backend of :func:`sim.gamma.simulate`
is this kernel on ``sim.backends.array_module("cupy")``.
"""

from __future__ import annotations

import numpy as np

from sim.gamma.layout import cumulative, run_base, step_counter
from sim.rng import splitmix64, uniform

__all__ = ["decode_array"]


def _to_host(x):
    return x.get() if hasattr(x, "get") else np.asarray(x)


def decode_array(model, table, trials, key, max_tokens, xp=np, check_every=64):
    """Decode ``trials`` runs of a decoding rule on ``xp`` arrays.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    table : sim.gamma.methods.Table
        The rule's rows (:func:`sim.gamma.methods.guided_table`).
    trials, max_tokens : int
        Runs, and the generation cap.
    key : numpy.uint64
        Stream key, ``sim.rng.stream_key(seed, sim.gamma.layout.STREAM)``.
    xp : module
        ``numpy`` or ``cupy``.
    check_every : int
        Steps between host checks for whether every run has ended.

    Returns
    -------
    lengths, guided_steps, fallbacks, picks : numpy arrays
        As :func:`sim.gamma.kernel_numba.decode_numba`.
    """
    cum = xp.asarray(cumulative(table.rows))
    guided = xp.asarray(table.guided)
    fell = xp.asarray(table.fell)
    nxt = xp.asarray(model.next_state)
    V = model.n_tokens
    state = xp.full(trials, model.start, dtype=xp.int64)
    lengths = xp.full(trials, max_tokens + 1, dtype=xp.int64)
    n_guided = xp.zeros(trials, dtype=xp.int64)
    n_fall = xp.zeros(trials, dtype=xp.int64)
    picks = xp.zeros(V, dtype=xp.int64)
    alive = xp.ones(trials, dtype=bool)
    base = run_base(xp.arange(trials, dtype=xp.uint64), np.uint64(max_tokens))
    key = np.uint64(key)
    for t in range(max_tokens):
        if table.force_end and t >= table.budget - 1:
            lengths = xp.where(alive, t + 1, lengths)
            break
        r = max(table.budget - t, 1)
        u = uniform(splitmix64(key, step_counter(base, np.uint64(t))))
        rows = cum[r][state]                                     # (trials, V)
        v = xp.minimum((u[:, None] >= rows).sum(axis=1), V - 1)
        g = guided[r][state] & alive
        n_guided += g
        n_fall += fell[r][state] & g
        picks += xp.bincount(v[g], minlength=V)[:V]
        ended = alive & (v == model.end)
        lengths = xp.where(ended, t + 1, lengths)
        alive = alive & ~ended
        state = xp.where(alive, nxt[state, v], state)
        if (t + 1) % check_every == 0 and not bool(alive.any()):
            break
    return tuple(_to_host(a) for a in (lengths, n_guided, n_fall, picks))
