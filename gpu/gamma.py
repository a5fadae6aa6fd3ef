"""Budget guidance on whole arrays: the toy-model sampler and the vocabulary-wide operator.

* :func:`simulate_xp` samples the decoding rules of :mod:`sim.gamma` for all
  runs in lockstep on NumPy or CuPy arrays. It draws the uniform of run ``i``
  at step ``t`` as word ``i * max_tokens + t`` of the shared counter-based
  stream (:mod:`sim.rng`) and inverts the same cumulative rows, so it realises
  exactly the runs of the Numba kernel.
* :func:`guide_xp` is the guidance operator of :func:`theory.gamma.guide`
  (spec 2.3, 3.3) for one decoding step over a whole vocabulary, written once
  for NumPy and CuPy arrays (CuPy's ``cupyx.scipy.special`` supplies the
  incomplete gamma function).
* :func:`guide_jax` is the same operator jitted with JAX (it runs on a GPU
  when JAX sees one).
"""

from __future__ import annotations


import numpy as np

from sim import rng as _rng
from sim.backends import cupy_module

__all__ = ["simulate_xp", "guide_xp", "guide_jax"]

_INV53 = 1.0 / 9007199254740992.0


def _to_host(x):
    return x.get() if hasattr(x, "get") else np.asarray(x)


def simulate_xp(model, table, trials, key, max_tokens, xp=None, check_every=64):
    """Sample ``trials`` runs of a decoding rule on ``xp`` arrays (default CuPy).

    Parameters
    ----------
    model : sim.gamma.ToyLM
    table : sim.gamma.Table
        Rows of :func:`sim.gamma.guided_table`.
    trials, max_tokens : int
    key : numpy.uint64
        Stream key (``sim.rng.stream_key(seed, "gamma-decode")``).
    xp : module or None
        ``numpy`` or ``cupy``; default CuPy.
    check_every : int
        Steps between host checks for whether every run has ended.

    Returns
    -------
    lengths, guided_steps, fallbacks, picks : numpy arrays
        As :func:`sim.gamma.simulate`.
    """
    if xp is None:
        xp = cupy_module()
    cum = np.cumsum(table.rows, axis=-1)
    cum[..., -1] = np.inf
    cum = xp.asarray(cum)
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
    base = xp.arange(trials, dtype=xp.uint64) * xp.uint64(max_tokens)
    kk = xp.uint64(int(key))
    for t in range(max_tokens):
        if table.force_end and t >= table.budget - 1:
            lengths = xp.where(alive, t + 1, lengths)
            break
        r = max(table.budget - t, 1)
        z = _rng.finalize(_rng.weyl(kk, base + xp.uint64(t)))
        u = (z >> xp.uint64(11)).astype(xp.float64) * _INV53
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


def _special(xp):
    if xp.__name__ == "cupy":
        import cupyx.scipy.special as sp
    else:
        import scipy.special as sp
    return sp


def _log_p_lower(xp, sp, a, x):
    """``log P(a, x)``: ``log(gammainc)`` where it is positive, else the series' first term.

    Where ``gammainc`` underflows to 0 (``x`` far below ``a``), ``P(a, x)``
    is ``x^a e^-x / Gamma(a + 1)`` to first order (the power series of the
    lower incomplete gamma function), whose log is finite.
    """
    p = sp.gammainc(a, x)
    with np.errstate(divide="ignore"):
        lead = a * xp.log(x) - x - sp.gammaln(a + 1.0)
        return xp.where(p > 0, xp.log(xp.where(p > 0, p, 1.0)), lead)


def guide_xp(xp, logits, alpha, rate, budget, *, mode="bayes", strength=1.0, offset=1.0,
             rate_min=10.0, alpha_min=1.0, mode_min=0.9):
    """One guided step over a vocabulary on ``xp`` arrays (spec 2.3, 3.3).

    ``mode="bayes"``: ``log q = log p + strength * log a - logsumexp`` with a
    tail-safe ``log a``; a row with no positive weight falls back to ``p``.
    ``mode="faithful"``: linear space, validity mask, one-hot fallback at the
    raw-logit argmax (reference code). ``logits``, ``alpha``, ``rate`` have
    the vocabulary on the last axis; ``budget`` is a scalar or per row.

    Returns
    -------
    q : xp array
    """
    sp = _special(xp)
    z = xp.asarray(logits, dtype=xp.float64)
    alpha = xp.asarray(alpha, dtype=xp.float64)
    rate = xp.asarray(rate, dtype=xp.float64)
    b = xp.asarray(budget, dtype=xp.float64)
    y = xp.log(b + offset)
    if y.ndim:
        y = y[..., None]
    zmax = z.max(axis=-1, keepdims=True)
    logp = z - zmax - xp.log(xp.exp(z - zmax).sum(axis=-1, keepdims=True))
    if mode == "bayes":
        loga = _log_p_lower(xp, sp, alpha, rate * y)
        lognum = logp + (strength * loga if strength > 0 else xp.zeros_like(loga))
        m = lognum.max(axis=-1, keepdims=True)
        ok = xp.isfinite(m)
        m = xp.where(ok, m, 0.0)
        w = xp.exp(lognum - m)
        q = w / w.sum(axis=-1, keepdims=True)
        return xp.where(ok, q, xp.exp(logp))
    with np.errstate(over="ignore"):
        keep = (rate >= rate_min) & (alpha > alpha_min) & \
            (xp.exp((alpha - 1.0) / rate) - 1.0 >= mode_min)
    a = xp.clip(sp.gammainc(alpha, rate * y), 0.0, 1.0) ** strength * keep
    num = xp.exp(logp) * a
    tot = num.sum(axis=-1, keepdims=True)
    onehot = (xp.arange(z.shape[-1]) == xp.argmax(z, axis=-1)[..., None]).astype(xp.float64)
    return xp.where(tot > 0, num / xp.where(tot > 0, tot, 1.0), onehot)


_JAX_FN = {}


def guide_jax(logits, alpha, rate, budget, *, mode="bayes", strength=1.0, offset=1.0,
              rate_min=10.0, alpha_min=1.0, mode_min=0.9):
    """:func:`guide_xp` in JAX, jitted once per mode (float32 unless x64 is enabled)."""
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import gammainc, gammaln

    if mode not in _JAX_FN:
        def fn(z, al, ra, b, strength, offset, rate_min, alpha_min, mode_min):
            y = jnp.log(b + offset)
            logp = jax.nn.log_softmax(z, axis=-1)
            if mode == "bayes":
                p = gammainc(al, ra * y)
                lead = al * jnp.log(ra * y) - ra * y - gammaln(al + 1.0)
                loga = jnp.where(p > 0, jnp.log(jnp.where(p > 0, p, 1.0)), lead)
                lognum = logp + jnp.where(strength > 0, strength * loga, 0.0)
                tot = jax.scipy.special.logsumexp(lognum, axis=-1, keepdims=True)
                ok = jnp.isfinite(tot)
                return jnp.where(ok, jnp.exp(lognum - jnp.where(ok, tot, 0.0)), jnp.exp(logp))
            keep = (ra >= rate_min) & (al > alpha_min) & (jnp.exp((al - 1.0) / ra) - 1.0 >=
                                                          mode_min)
            a = jnp.clip(gammainc(al, ra * y), 0.0, 1.0) ** strength * keep
            num = jnp.exp(logp) * a
            tot = num.sum(axis=-1, keepdims=True)
            onehot = jax.nn.one_hot(jnp.argmax(z, axis=-1), z.shape[-1], dtype=num.dtype)
            return jnp.where(tot > 0, num / jnp.where(tot > 0, tot, 1.0), onehot)
        _JAX_FN[mode] = jax.jit(fn)
    return _JAX_FN[mode](logits, alpha, rate, budget, strength, offset, rate_min, alpha_min,
                         mode_min)
