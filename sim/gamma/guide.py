"""The guidance operator over a whole vocabulary, for Numba, NumPy/CuPy arrays and JAX.

One guided decoding step (docs/models/gamma.md (11)-(14)) as
:func:`theory.gamma.guide` computes it, written for speed on each array
library:

* :func:`guide_numba`: one compiled, parallel pass on the CPU that calls
  SciPy's compiled ``gammainc`` and fuses the softmax, the weights and the
  normalisation;
* :func:`guide_xp`: the same operator written once for NumPy and CuPy arrays
  (CuPy's ``cupyx.scipy.special`` supplies the incomplete gamma function);
* :func:`guide_jax`: the same operator jitted with JAX (on a GPU when JAX sees
  one).

``mode="bayes"`` is Bayes' rule in log space with the tail-safe weight (14);
``mode="faithful"`` is the authors' linear space with the validity mask and
the one-hot fallback (12).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from theory import gamma as th
from theory._params import check_choice, check_real

__all__ = ["guide_numba", "guide_xp", "guide_jax"]

_D = th.GammaParams()

_GAMMAINC = None


def _gammainc_c():
    """SciPy's compiled ``gammainc(a, x)`` as a C function callable from Numba."""
    global _GAMMAINC
    if _GAMMAINC is None:
        import ctypes

        from numba.extending import get_cython_function_address

        addr = get_cython_function_address("scipy.special.cython_special", "gammainc")
        _GAMMAINC = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double, ctypes.c_double)(addr)
    return _GAMMAINC


_GUIDE_KERNEL = None


def _guide_kernel():
    # Compiled on first use and not cached on disk: it calls SciPy's gammainc through a
    # function address that is only valid in this process.
    global _GUIDE_KERNEL
    if _GUIDE_KERNEL is not None:
        return _GUIDE_KERNEL
    cgammainc = _gammainc_c()

    @njit(parallel=True)
    def kernel(z, alpha, rate, y, bayes, strength, rate_min, alpha_min, mode_min, out, fell):
        B, V = z.shape
        for r in range(B):
            for v in prange(V):
                a = alpha[r, v]
                lam = rate[r, v]
                x = lam * y[r]
                p = cgammainc(a, x)
                if bayes:
                    if strength == 0.0:
                        out[r, v] = z[r, v]
                    elif p > 0.0:
                        out[r, v] = z[r, v] + strength * math.log(p)
                    else:  # first term of the power series of P(a, x): finite log
                        out[r, v] = z[r, v] + strength * (a * math.log(x) - x
                                                          - math.lgamma(a + 1.0))
                else:
                    keep = (lam >= rate_min) and (a > alpha_min) and \
                        (math.exp((a - 1.0) / lam) - 1.0 >= mode_min)
                    w = min(max(p, 0.0), 1.0)
                    out[r, v] = (w ** strength if strength > 0.0 else 1.0) if keep else 0.0
            zmax = -np.inf
            for v in range(V):
                zmax = max(zmax, z[r, v])
            if bayes:
                m = -np.inf
                for v in range(V):
                    m = max(m, out[r, v])
                fell[r] = not (m > -np.inf)
                base = zmax if fell[r] else m
                src = z if fell[r] else out
                tot = 0.0
                for v in range(V):
                    e = math.exp(src[r, v] - base)
                    out[r, v] = e
                    tot += e
                for v in range(V):
                    out[r, v] /= tot
            else:
                tot_p = 0.0
                for v in range(V):
                    tot_p += math.exp(z[r, v] - zmax)
                tot = 0.0
                for v in range(V):
                    out[r, v] = math.exp(z[r, v] - zmax) / tot_p * out[r, v]
                    tot += out[r, v]
                fell[r] = not (tot > 0.0)
                if fell[r]:
                    best = 0
                    for v in range(V):
                        out[r, v] = 0.0
                        if z[r, v] > z[r, best]:
                            best = v
                    out[r, best] = 1.0
                else:
                    for v in range(V):
                        out[r, v] /= tot

    _GUIDE_KERNEL = kernel
    return kernel


def guide_numba(logits, alpha, rate, budget, *, mode="bayes", strength=_D.strength, offset=1.0,
                rate_min=th.RATE_MIN, alpha_min=th.ALPHA_MIN, mode_min=th.MODE_MIN,
                return_fallback=False):
    """:func:`theory.gamma.guide` as one compiled pass over the vocabulary ((11)-(14)).

    The incomplete gamma function is SciPy's own compiled routine, called from a
    Numba kernel that evaluates the candidates in parallel and fuses the
    softmax, the weights and the normalisation. ``mode="bayes"`` works in log
    space (tail-safe log weight from the first term of the power series where
    ``gammainc`` underflows; a row without positive weight falls back to
    ``softmax(logits)``); ``mode="faithful"`` is the authors' linear
    space with the validity mask and the one-hot fallback. ``logits``,
    ``alpha`` and ``rate`` are ``[V]`` or ``[B, V]`` (broadcast to the logits'
    shape); ``budget`` is a scalar or one per row. Inputs are validated as in
    :func:`theory.gamma.guide`.

    Returns
    -------
    q : ndarray, the shape of ``logits``; with ``return_fallback`` also the
    per-row fallback flags.
    """
    mode = check_choice("mode", mode, th.MODES)
    strength = check_real("strength", strength, lo=0.0)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape [V] or [B, V] with V >= 1, got {z.shape}")
    one = z.ndim == 1
    z2 = np.ascontiguousarray(np.atleast_2d(z))
    al = np.ascontiguousarray(np.broadcast_to(np.asarray(alpha, dtype=np.float64), z2.shape))
    ra = np.ascontiguousarray(np.broadcast_to(np.asarray(rate, dtype=np.float64), z2.shape))
    if not (np.all(al > 0) and np.all(ra > 0) and np.all(np.isfinite(al))
            and np.all(np.isfinite(ra))):
        raise ValueError("alpha and rate must be finite and > 0")
    b = np.broadcast_to(np.asarray(budget, dtype=np.float64), (z2.shape[0],))
    if np.any(~(b >= 1.0)):
        raise ValueError(f"budget must be >= 1, got {b.min():g}")
    if np.any(np.all(np.isneginf(z2), axis=1)) or np.any(np.isnan(z2)):
        raise ValueError("logits must have a finite entry in every row and no NaN")
    y = np.log(b + offset)
    out = np.empty_like(z2)
    fell = np.zeros(z2.shape[0], dtype=np.bool_)
    _guide_kernel()(z2, al, ra, y, mode == "bayes", strength, float(rate_min), float(alpha_min),
                    float(mode_min), out, fell)
    q = out[0] if one else out
    if return_fallback:
        return q, (bool(fell[0]) if one else fell)
    return q


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


def guide_xp(xp, logits, alpha, rate, budget, *, mode="bayes", strength=_D.strength, offset=1.0,
             rate_min=th.RATE_MIN, alpha_min=th.ALPHA_MIN, mode_min=th.MODE_MIN):
    """One guided step over a vocabulary on ``xp`` arrays (docs/models/gamma.md (11)-(14)).

    ``mode="bayes"``: ``log q = log p + strength * log a - logsumexp`` with a
    tail-safe ``log a``; a row with no positive weight falls back to ``p``.
    ``mode="faithful"``: linear space, validity mask, one-hot fallback at the
    raw-logit argmax (the authors' code). ``logits``, ``alpha``, ``rate`` have
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


def guide_jax(logits, alpha, rate, budget, *, mode="bayes", strength=_D.strength, offset=1.0,
              rate_min=th.RATE_MIN, alpha_min=th.ALPHA_MIN, mode_min=th.MODE_MIN):
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
