"""The NumPy reference of the gamma Monte Carlo: the decoder written out, step by step.

Unlike the kernels, which sample precomputed rows, the reference recomputes the
guidance at every step for every active run: the exact oracle weights
(docs/models/gamma.md (17)) reweighted by Bayes' rule (11), or the guidance
operator :func:`theory.gamma.guide` on the fitted Gamma predictor ((11)-(12)),
at the remaining budget ``max(lbar - t, 1)`` (13). It draws the same words as
the kernels (:mod:`sim.gamma.layout`), so the three realise the same runs.
"""

from __future__ import annotations

import numpy as np

from sim.gamma.exact import oracle_weights, remaining_length_pmf
from sim.gamma.layout import cumulative, run_base, step_counter
from sim.gamma.methods import base_logits
from sim.rng import splitmix64, uniform
from theory import gamma as th

__all__ = ["decode_reference"]


def decode_reference(model, method, table, predictor, trials, key, max_tokens):
    """Decode ``trials`` runs of ``method``, recomputing the guidance for each active run.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    method : sim.gamma.methods.Method
    table : sim.gamma.methods.Table
        Only its ``budget`` is read.
    predictor : sim.gamma.predictor.GammaPredictor or None
    trials, max_tokens : int
    key : numpy.uint64
        Stream key, ``sim.rng.stream_key(seed, sim.gamma.layout.STREAM)``.

    Returns
    -------
    lengths, guided_steps, fallbacks, picks : ndarray
        As :func:`sim.gamma.kernel_numba.decode_numba`.
    """
    S, V = model.probs.shape
    logits = base_logits(model)
    state = np.full(trials, model.start, dtype=np.int64)
    lengths = np.full(trials, max_tokens + 1, dtype=np.int64)
    n_guided = np.zeros(trials, dtype=np.int64)
    n_fall = np.zeros(trials, dtype=np.int64)
    picks = np.zeros(V, dtype=np.int64)
    active = np.arange(trials)
    rem = remaining_length_pmf(model) if method.predictor == "oracle" else None
    gate = (np.ones(S, dtype=bool) if method.trigger == "every_token" else model.line_start)
    base = run_base(active.astype(np.uint64), np.uint64(max_tokens))
    key = np.uint64(key)
    for t in range(max_tokens):
        if active.size == 0:
            break
        if method.kind == "forcing" and t >= table.budget - 1:
            lengths[active] = t + 1
            break
        b = max(table.budget - t, 1)
        s = state[active]
        probs = model.probs[s]
        g = np.zeros(active.size, dtype=bool)
        if method.kind == "guided":
            g = gate[s]
            if np.any(g):
                sg = s[g]
                if method.predictor == "oracle":
                    a = oracle_weights(model, [b], rem)[0][sg]
                    q, fell = _reweight_bayes(probs[g], a, method.strength)
                else:
                    q, fell = th.guide(logits[sg], predictor.alpha[sg], predictor.rate[sg],
                                       np.full(sg.size, float(b)), mode=method.mode,
                                       strength=method.strength, return_fallback=True,
                                       **method.mask)
                probs = probs.copy()
                probs[g] = q
                n_fall[active[g]] += fell
                n_guided[active[g]] += 1
        u = uniform(splitmix64(key, step_counter(base[active], np.uint64(t))))
        v = np.minimum((u[:, None] >= cumulative(probs)).sum(axis=1), V - 1)
        if np.any(g):
            picks += np.bincount(v[g], minlength=V)
        ended = v == model.end
        lengths[active[ended]] = t + 1
        state[active] = model.next_state[s, v]
        active = active[~ended]
    return lengths, n_guided, n_fall, picks


def _reweight_bayes(p, a, strength):
    """Bayes' rule (11) with weights ``a``: ``q = p a^strength / sum``; ``p`` where the sum is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = p * (a ** strength if strength > 0 else (a > 0).astype(float))
        tot = w.sum(axis=1, keepdims=True)
        fell = tot[:, 0] <= 0
        q = np.where(fell[:, None], p, w / np.where(tot > 0, tot, 1.0))
    return q, fell
