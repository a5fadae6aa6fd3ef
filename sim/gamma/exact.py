"""Exact laws of the toy language models: remaining lengths, oracle weights, the forward programme.

* :func:`remaining_length_pmf` and :func:`candidate_length_pmf`: the unguided
  remaining length from every state and after every candidate
  (docs/models/gamma.md (16)-(17)), by a backward recursion.
* :func:`oracle_weights`: the exact guidance weights ``Pr(L <= b | s, v)``
  (docs/models/gamma.md (17)).
* :func:`exact_law`: the law of the thinking length under any decoding rule
  (its :class:`sim.gamma.methods.Table`), by forward dynamic programming over
  ``(state, step)`` (docs/models/gamma.md (18)).
* :func:`law_summary`: adherence, mean length, overshoot quantiles and the
  distances to the base law conditioned on finishing in budget.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from theory._params import check_int

__all__ = ["remaining_length_pmf", "candidate_length_pmf", "oracle_weights", "exact_law",
           "law_summary"]


def remaining_length_pmf(model, horizon=None, tol=1e-13, max_horizon=200_000):
    """Law of the remaining thinking length from every state, unguided.

    ``out[s, n - 1] = Pr(R = n | state s)``, where ``R`` counts the tokens
    still to come through the end token inclusive; computed by the backward
    recursion ``Pr(R = 1 | s) = p(end | s)``,
    ``Pr(R = n | s) = sum_{v != end} p(v | s) Pr(R = n - 1 | s'(v))``
    (docs/models/gamma.md (16)).

    Parameters
    ----------
    model : ToyLM
    horizon : int or None
        Longest length kept; ``None`` grows it until every state's missing
        mass is below ``tol`` (at most ``max_horizon``).
    tol : float
    max_horizon : int
        Where the growth stops (200,000; the guard of :mod:`sim.gamma.size` may set less).

    Returns
    -------
    ndarray, shape (S, horizon)
    """
    m = model.transition(sparse=model.n_states > 64)
    stop = model.probs[:, model.end]
    cap = max_horizon if horizon is None else check_int("horizon", horizon, 1)
    cols = [stop.copy()]
    mass = stop.copy()
    cur = stop
    while len(cols) < cap:
        if horizon is None and np.all(1.0 - mass < tol):
            break
        cur = m @ cur
        cols.append(cur)
        mass = mass + cur
    return np.stack(cols, axis=1)


def candidate_length_pmf(model, rem=None):
    """Law of ``L`` given the state and the candidate (``L`` counts the candidate).

    ``L = 1`` for the end token, else ``1 + R`` from the state the candidate
    leads to (docs/models/gamma.md (17)).

    Returns
    -------
    ndarray, shape (S, V, horizon + 1)
        ``out[s, v, n - 1] = Pr(L = n | s, v)``.
    """
    rem = remaining_length_pmf(model) if rem is None else rem
    S, V = model.probs.shape
    out = np.zeros((S, V, rem.shape[1] + 1))
    for v in range(V):
        if v == model.end:
            out[:, v, 0] = 1.0
        else:
            out[:, v, 1:] = rem[model.next_state[:, v]]
    return out


def oracle_weights(model, budgets, rem=None):
    """Exact guidance weights ``a[b, s, v] = Pr(L <= b | s, v)`` for ``b`` in ``budgets``.

    With these weights at every token, guided decoding samples the base model
    conditioned on finishing within the budget (docs/models/gamma.md (15),
    a Doob h-transform).
    """
    rem = remaining_length_pmf(model) if rem is None else rem
    cdf = np.concatenate([np.zeros((rem.shape[0], 1)), np.cumsum(rem, axis=1)], axis=1)
    cdf = np.minimum(cdf, 1.0)
    budgets = np.asarray(budgets, dtype=np.int64)
    S, V = model.probs.shape
    a = np.empty((budgets.size, S, V))
    for v in range(V):
        if v == model.end:
            a[:, :, v] = (budgets >= 1)[:, None]
        else:
            idx = np.clip(budgets - 1, 0, cdf.shape[1] - 1)
            a[:, :, v] = cdf[:, idx][model.next_state[:, v]].T
    return a


def exact_law(model, table, max_tokens=None, tol=1e-14):
    """Exact law of the thinking length ``T`` under a decoding rule (forward DP).

    ``pi_t(s)`` is the probability of being in state ``s`` after ``t`` tokens
    without having ended; ``Pr(T = t + 1) = sum_s pi_t(s) q_t(s, end)`` and
    ``pi_{t+1}(s') = sum_s pi_t(s) sum_{v != end, s'(v) = s'} q_t(s, v)``
    (docs/models/gamma.md (18)). Hard truncation emits the end token at
    ``t = lbar - 1``.

    Parameters
    ----------
    model : ToyLM
    table : Table
    max_tokens : int or None
        Generation cap (``max_gen_toks``); a run without the end token by then
        is a runaway. ``None``: ``20 * budget`` plus enough to drain the chain
        below ``tol``.

    Returns
    -------
    dict
        ``pmf`` (``pmf[k - 1] = Pr(T = k)``, ``k = 1..max_tokens``),
        ``runaway`` (mass without the end token by the cap), ``guided_steps``
        and ``fallbacks`` (expected counts per run), ``masked`` (expected
        base mass removed by the mask per guided step).
    """
    S, V = model.probs.shape
    cap = 200_000 if max_tokens is None else check_int("max_tokens", max_tokens, 1)
    floor = table.budget + 20 * table.budget if max_tokens is None else cap
    rows = np.ascontiguousarray(table.rows, dtype=np.float64)
    pmf, left, g_steps, falls, masked = _forward(
        rows, np.ascontiguousarray(table.guided), np.ascontiguousarray(table.fell),
        np.ascontiguousarray(table.masked, dtype=np.float64), model.next_state, model.start,
        model.end, table.budget, bool(table.force_end), cap, max_tokens is None, floor, tol)
    return dict(pmf=pmf, runaway=float(max(left, 0.0)), guided_steps=g_steps,
                fallbacks=falls, masked=masked / g_steps if g_steps > 0 else 0.0)


@njit(cache=True)
def _forward(rows, guided, fell, masked_s, ns, start, end, budget, force_end, cap, drain, floor,
             tol):
    """The forward programme of :func:`exact_law`, compiled: one pass over ``(state, token)``
    a step. Returns the pmf, the mass left at the cap, and the expected guided steps,
    fallbacks and masked mass."""
    S, V = ns.shape
    pmf = np.zeros(cap)
    pi = np.zeros(S)
    pi[start] = 1.0
    new = np.zeros(S)
    g_steps = 0.0
    falls = 0.0
    masked = 0.0
    t = 0
    while t < cap:
        if force_end and t >= budget - 1:
            pmf[t] = pi.sum()
            pi[:] = 0.0
            t += 1
            break
        i = max(budget - t, 1)
        stop = 0.0
        new[:] = 0.0
        for s in range(S):
            ps = pi[s]
            if ps == 0.0:
                continue
            if guided[i, s]:
                g_steps += ps
                masked += ps * masked_s[s]
            if fell[i, s]:
                falls += ps
            stop += ps * rows[i, s, end]
            for v in range(V):
                if v != end:
                    new[ns[s, v]] += ps * rows[i, s, v]
        pmf[t] = stop
        pi, new = new, pi
        t += 1
        if drain and t >= floor and pi.sum() < tol:
            break
    return pmf[:t], pi.sum(), g_steps, falls, masked


def law_summary(pmf, budget, runaway=0.0, reference=None):
    """Adherence, mean length, overshoot quantiles and distances of a length law.

    Parameters
    ----------
    pmf : ndarray
        ``pmf[k - 1] = Pr(T = k)``.
    budget : int
    runaway : float
        Mass without an end by the cap (counted as over budget).
    reference : ndarray or None
        The base law; then ``tv`` (total variation) and ``kl`` (KL of the base
        law conditioned on ``T <= budget`` from ``pmf``: finite whenever
        ``pmf`` covers ``1..budget``) are added.

    Returns
    -------
    dict
    """
    pmf = np.asarray(pmf, dtype=np.float64)
    k = np.arange(1, pmf.size + 1)
    done = pmf.sum()
    adherence = float(pmf[:budget].sum())
    mean = float((k * pmf).sum() / done) if done > 0 else float("nan")
    over = np.maximum(k - budget, 0)
    # Overshoot quantiles over all runs; runaways count as the largest overshoot.
    ov_pmf = np.bincount(over, weights=pmf, minlength=1)
    if runaway > 0:
        ov_pmf = np.append(ov_pmf, runaway)
    cum = np.cumsum(ov_pmf) / ov_pmf.sum()
    out = dict(adherence=adherence, mean_length=mean,
               overshoot_p90=int(np.searchsorted(cum, 0.9 - 1e-12)),
               overshoot_p99=int(np.searchsorted(cum, 0.99 - 1e-12)),
               overshoot_max=int(np.nonzero(ov_pmf > 1e-15)[0].max()), runaway=runaway)
    if reference is not None:
        ref = np.zeros(max(reference.size, pmf.size))
        ref[:reference.size] = reference
        ref[budget:] = 0.0
        ref = ref / ref.sum()
        g = np.zeros_like(ref)
        g[:pmf.size] = pmf
        out["tv"] = 0.5 * float(np.abs(g - ref).sum() + runaway)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(ref > 0, ref * (np.log(ref) - np.log(g)), 0.0)
        out["kl"] = max(float(terms.sum()), 0.0)
    return out
