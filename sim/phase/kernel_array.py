"""The bit-sliced majority-tree kernel on whole arrays: NumPy or CuPy (the GPU backend).

The algorithm and the random stream are those of :mod:`sim.phase.kernel_numba`:
64 trials per ``uint64`` word, Bernoulli words by lazy bit-wise comparison
with the binary expansion of the probability (:func:`sim.rng.bernoulli_step`),
and the counter-based words :func:`sim.rng.splitmix64` at the counters of
:mod:`sim.phase.layout`. Instead of walking each tree depth first, this
kernel computes one level of all trees at a time with array operations, so
the same seed gives **bit-identical** words to the Numba kernel.

The code uses only operations common to NumPy and CuPy: ``xp`` is the array
module (``sim.backends.array_module("cupy")`` for the GPU; ``numpy`` runs the
same code on a CPU, which is how the test suite checks it without a GPU).
:func:`chunk_levels` also takes a stream key and probabilities per word, which
is how ``gpu.sweep`` lays many points of one tree shape side by side.
"""

from __future__ import annotations

import numpy as np

from sim.backends import array_module
from sim.phase.draws import kernel_inputs
from sim.phase.layout import FLIP, HERD, LANES, NODE_STRIDE, OWN, OWN_FLIP, RECV, level_offsets
from sim.rng import DIGITS, bernoulli_step, splitmix64

__all__ = ["tree_words", "chunk_levels", "bit_planes", "bernoulli_words", "majority_words"]

_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_TOP = DIGITS - 1


def bit_planes(xp, P):
    """Bit planes of per-lane fixed-point probabilities.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    P : uint64 array, shape (words * 64,)
        ``floor(p * 2**64)`` for trial ``64 w + lane``.

    Returns
    -------
    uint64 array, shape (words, 64)
        ``planes[w, k]`` has bit ``lane`` set when binary digit ``k`` (most
        significant first) of that trial's probability is 1.
    """
    P = P.reshape(-1, LANES)
    shifts = xp.asarray(np.arange(_TOP, -1, -1, dtype=np.uint64))
    lanes = xp.asarray(np.arange(LANES, dtype=np.uint64))
    bits = (P[:, None, :] >> shifts[None, :, None]) & _ONE
    return (bits << lanes[None, None, :]).sum(axis=2, dtype=np.uint64)


def bernoulli_words(xp, plane_of_digit, key, ctr):
    """Bernoulli words for every counter in ``ctr`` (the Numba kernel's stream).

    Parameters
    ----------
    xp : module
    plane_of_digit : callable
        ``plane_of_digit(k)``: binary digit ``k`` (most significant first) of
        each lane's probability, as a word broadcasting against ``ctr``.
    key : uint64 or uint64 array broadcasting against ``ctr``
        Stream key (one per word in a batch of points).
    ctr : uint64 array
        First counter of each Bernoulli word; digit ``k`` uses ``ctr + k``.
    """
    res = xp.zeros(ctr.shape, dtype=np.uint64)
    und = xp.full(ctr.shape, _ALL, dtype=np.uint64)
    for k in range(DIGITS):
        res, und = bernoulli_step(res, und, plane_of_digit(k), splitmix64(key, ctr + np.uint64(k)))
        if k % 4 == 3 and not bool(und.any()):
            break
    return res


def majority_words(xp, g, b):
    """Bit-wise majority over the last axis of ``g`` (odd length ``b``)."""
    if b == 3:
        a0, a1, a2 = g[..., 0], g[..., 1], g[..., 2]
        return (a0 & a1) | (a0 & a2) | (a1 & a2)
    nbits = int(b).bit_length()
    cnt = [xp.zeros(g.shape[:-1], dtype=np.uint64) for _ in range(nbits)]
    for c in range(b):
        carry = g[..., c]
        for j in range(nbits):
            t = cnt[j] & carry
            cnt[j] = cnt[j] ^ carry
            carry = t
    thr = (b + 1) // 2
    gt = xp.zeros(g.shape[:-1], dtype=np.uint64)
    eq = xp.full(g.shape[:-1], _ALL, dtype=np.uint64)
    for j in range(nbits - 1, -1, -1):
        if (thr >> j) & 1:
            eq = eq & cnt[j]
        else:
            gt = gt | (eq & cnt[j])
            eq = eq & ~cnt[j]
    return gt | eq


def _per_word(a):
    return getattr(a, "ndim", 0) == 1


def _plane(xp, P, ndim):
    """Digit planes of one probability ``P`` (a fixed-point scalar, or one per word)."""
    if not _per_word(P):
        P = int(P)
        return lambda k: _ALL if (P >> (_TOP - k)) & 1 else _ZERO
    arr = P[:, None] if ndim == 2 else P
    return lambda k: xp.where(((arr >> np.uint64(_TOP - k)) & _ONE) == 1, _ALL, _ZERO)


def chunk_levels(xp, key, wloc, P_out, P_recv, P_rho, P_eps, b, depth, root_channel,
                 use_rho=True, use_eps=True):
    """Levels (words, depth + 1) of node-0 outputs of a run of 64-trial words.

    Parameters
    ----------
    xp : module
    key : uint64 or uint64 array, shape (words,)
        Stream key, one for all words or one per word.
    wloc : uint64 array, shape (words,)
        Index of each word within its own point (sets its counters).
    P_out, P_recv : uint64 arrays, shape (words * 64,)
        Fixed-point per-lane probabilities (:func:`sim.phase.kernel_inputs`).
    P_rho, P_eps : uint64 or uint64 array, shape (words,)
        Fixed-point herding and channel-flip probabilities.
    b, depth : int
    root_channel : bool
    use_rho, use_eps : bool
        Draw the herding / channel words (a probability-0 word is all zeros,
        so drawing it changes nothing; skipping it saves time).
    """
    offsets, n_nodes = level_offsets(b, depth)
    stride = np.uint64(NODE_STRIDE)
    cw = wloc.shape[0]
    base = wloc * np.uint64(n_nodes * NODE_STRIDE)
    planes_out = bit_planes(xp, P_out)
    levels = xp.zeros((cw, depth + 1), dtype=np.uint64)
    own = bernoulli_words(xp, lambda k: planes_out[:, k], key, base + np.uint64(OWN))
    eps1 = _plane(xp, P_eps, 1)
    if depth == 0:
        if root_channel and use_eps:
            own = own ^ bernoulli_words(xp, eps1, key, base + np.uint64(OWN_FLIP))
        levels[:, 0] = own
        return levels
    levels[:, 0] = own
    if use_eps:
        own = own ^ bernoulli_words(xp, eps1, key, base + np.uint64(OWN_FLIP))
    planes_recv = bit_planes(xp, P_recv)
    key2 = key[:, None] if _per_word(key) else key
    leaf = xp.arange(1, b ** depth, dtype=np.uint64)[None, :] * stride + np.uint64(RECV)
    recv = bernoulli_words(xp, lambda k: planes_recv[:, k][:, None], key2, base[:, None] + leaf)
    x = xp.concatenate([own[:, None], recv], axis=1)
    rho2, eps2 = _plane(xp, P_rho, 2), _plane(xp, P_eps, 2)
    for lev in range(depth):
        g = x.reshape(cw, -1, b)
        out = majority_words(xp, g, b)
        node = xp.arange(out.shape[1], dtype=np.uint64) + np.uint64(offsets[lev + 1])
        ctr = base[:, None] + node[None, :] * stride
        if use_rho:
            h = bernoulli_words(xp, rho2, key2, ctr + np.uint64(HERD))
            out = (h & g[..., 0]) | (~h & out)
        if lev + 1 == depth:
            if root_channel and use_eps:
                out = out ^ bernoulli_words(xp, eps2, key2, ctr + np.uint64(FLIP))
            levels[:, depth] = out[:, 0]
        else:
            levels[:, lev + 1] = out[:, 0]
            if use_eps:
                out = out ^ bernoulli_words(xp, eps2, key2, ctr + np.uint64(FLIP))
            x = out
    return levels


def tree_words(params, trials, seed, xp=None, max_elements=1 << 23):
    """Bit-packed node-0 outputs per level, as :func:`sim.phase.tree_words_numba`.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials, seed : int
    xp : module or None
        Array namespace; ``None`` means CuPy (raises
        :class:`sim.backends.BackendUnavailable` without a usable GPU).
    max_elements : int
        Words of leaves held at once; trials are processed in chunks of
        whole 64-trial words so memory stays bounded.

    Returns
    -------
    numpy.ndarray of uint64, shape (ceil(trials / 64), depth + 1)
    """
    if xp is None:
        xp = array_module("cupy")
    kin = kernel_inputs(params, trials, seed, pad_words=1)
    words = kin["words"]
    chunk = max(1, max_elements // max(params.b ** params.depth, 4096))
    parts = []
    for w0 in range(0, words, chunk):
        w1 = min(words, w0 + chunk)
        part = chunk_levels(xp, kin["key"], xp.arange(w0, w1, dtype=np.uint64),
                            xp.asarray(kin["P_out"][w0 * LANES:w1 * LANES]),
                            xp.asarray(kin["P_recv"][w0 * LANES:w1 * LANES]),
                            kin["P_rho"], kin["P_eps"], params.b, params.depth,
                            kin["root_channel"], kin["use_rho"], kin["use_eps"])
        parts.append(part.get() if hasattr(part, "get") else np.asarray(part))
    return np.concatenate(parts, axis=0)
