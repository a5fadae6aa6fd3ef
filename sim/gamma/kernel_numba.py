"""The Numba kernel of the gamma Monte Carlo: decode many runs of one rule in parallel.

Each run walks the toy's states, drawing at step ``t`` the uniform
:func:`sim.rng.uniform` of counter ``step_counter(run_base(i, max_tokens), t)``
of the stream ``sim.gamma.layout.STREAM`` and inverting the step's cumulative
next-token law (:mod:`sim.gamma.layout`), so it realises exactly the runs of
the array kernel (:mod:`sim.gamma.kernel_array`) and of the NumPy reference
(:mod:`sim.gamma.reference`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.gamma.layout import cumulative, run_base, step_counter
from sim.rng import splitmix64, uniform

__all__ = ["decode_numba"]


@njit(cache=True, parallel=True)
def _kernel(cum, guided, fell, next_state, start, end, budget, force_end, max_tokens,
            key, trials, lengths, n_guided, n_fall, picks):
    V = cum.shape[2]
    cap = np.uint64(max_tokens)
    for i in prange(trials):
        s = start
        t = 0
        g = 0
        f = 0
        T = max_tokens + 1
        base = run_base(np.uint64(i), cap)
        while t < max_tokens:
            if force_end and t >= budget - 1:
                T = t + 1
                break
            r = budget - t
            if r < 1:
                r = 1
            u = uniform(splitmix64(key, step_counter(base, np.uint64(t))))
            v = 0
            while v < V - 1 and u >= cum[r, s, v]:
                v += 1
            if guided[r, s]:
                g += 1
                picks[i, v] += 1
                if fell[r, s]:
                    f += 1
            t += 1
            if v == end:
                T = t
                break
            s = next_state[s, v]
        lengths[i] = T
        n_guided[i] = g
        n_fall[i] = f


def decode_numba(model, table, trials, key, max_tokens):
    """Decode ``trials`` runs of a decoding rule with the compiled, parallel kernel.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    table : sim.gamma.methods.Table
        The rule's rows (:func:`sim.gamma.methods.guided_table`).
    trials, max_tokens : int
        Runs, and the generation cap (a run without the end token by then is a
        runaway, reported with length ``max_tokens + 1``).
    key : numpy.uint64
        Stream key, ``sim.rng.stream_key(seed, sim.gamma.layout.STREAM)``.

    Returns
    -------
    lengths, guided_steps, fallbacks : ndarray of int, shape (trials,)
    picks : ndarray of int, shape (V,)
        Tokens chosen at guided steps, summed over runs.
    """
    cum = cumulative(table.rows)
    lengths = np.empty(trials, dtype=np.int64)
    n_guided = np.empty(trials, dtype=np.int64)
    n_fall = np.empty(trials, dtype=np.int64)
    picks = np.zeros((trials, model.n_tokens), dtype=np.int64)
    _kernel(cum, table.guided, table.fell, model.next_state, model.start, model.end,
            table.budget, table.force_end, max_tokens, np.uint64(key), trials, lengths,
            n_guided, n_fall, picks)
    return lengths, n_guided, n_fall, picks.sum(axis=0)
