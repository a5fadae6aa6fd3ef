"""The bit-sliced majority-tree kernel of :mod:`sim.phase` on whole arrays, for CuPy.

The algorithm and the random stream are those of the Numba kernel in
:mod:`sim.phase`: 64 trials per ``uint64`` word, Bernoulli words by lazy
bit-wise comparison with the binary expansion of the probability, and the
counter-based generator :func:`sim.rng.splitmix64` indexed by (word, node,
purpose, digit). Instead of walking each tree depth first, this version
computes one level of all trees at a time with array operations, so the same
seed gives **bit-identical** words to the Numba kernel.

The code uses only operations common to NumPy and CuPy: pass ``xp=numpy`` to
run it on a CPU (that is how the test suite exercises it without a GPU).
"""

from __future__ import annotations

import numpy as np

from sim import phase as sim_phase
from sim import rng as _rng
from sim.backends import cupy_module

__all__ = ["tree_words", "bit_planes", "level_offsets"]

_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)


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
    P = P.reshape(-1, 64)
    shifts = xp.asarray(np.arange(63, -1, -1, dtype=np.uint64))
    lanes = xp.asarray(np.arange(64, dtype=np.uint64))
    bits = (P[:, None, :] >> shifts[None, :, None]) & _ONE
    return (bits << lanes[None, None, :]).sum(axis=2, dtype=np.uint64)


def _bernoulli(xp, plane_of_digit, key, ctr):
    """Bernoulli words for every counter in ``ctr`` (same stream as the Numba kernel)."""
    res = xp.zeros(ctr.shape, dtype=np.uint64)
    und = xp.full(ctr.shape, _ALL, dtype=np.uint64)
    for k in range(64):
        r = _rng.splitmix64(key, ctr + np.uint64(k))
        res, und = _rng.bernoulli_step(res, und, plane_of_digit(k), r)
        if k % 4 == 3 and not bool(und.any()):
            break
    return res


def _const_plane(P):
    P = int(P)
    return lambda k: _ALL if (P >> (63 - k)) & 1 else _ZERO


def _majority(xp, g, b):
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


def _chunk_words(xp, kin, w0, w1, b, depth, offsets, n_nodes):
    key = kin["key"]
    use_eps, use_rho = kin["use_eps"], kin["use_rho"]
    eps_plane, rho_plane = _const_plane(kin["P_eps"]), _const_plane(kin["P_rho"])
    cw = w1 - w0
    base = xp.arange(w0, w1, dtype=np.uint64) * np.uint64(n_nodes * 256)
    planes_out = bit_planes(xp, xp.asarray(kin["P_out"][w0 * 64:w1 * 64]))
    levels = xp.zeros((cw, depth + 1), dtype=np.uint64)
    own = _bernoulli(xp, lambda k: planes_out[:, k], key, base + np.uint64(128))
    if depth == 0:
        if kin["root_channel"] and use_eps:
            own = own ^ _bernoulli(xp, eps_plane, key, base + np.uint64(192))
        levels[:, 0] = own
        return levels
    levels[:, 0] = own
    if use_eps:
        own = own ^ _bernoulli(xp, eps_plane, key, base + np.uint64(192))
    n_leaves = b ** depth
    planes_recv = bit_planes(xp, xp.asarray(kin["P_recv"][w0 * 64:w1 * 64]))
    leaf_idx = xp.arange(1, n_leaves, dtype=np.uint64)[None, :] * np.uint64(256)
    recv = _bernoulli(xp, lambda k: planes_recv[:, k][:, None], key, base[:, None] + leaf_idx)
    x = xp.concatenate([own[:, None], recv], axis=1)
    for lev in range(depth):
        g = x.reshape(cw, -1, b)
        out = _majority(xp, g, b)
        node = xp.arange(out.shape[1], dtype=np.uint64) + np.uint64(offsets[lev + 1])
        ctr = base[:, None] + node[None, :] * np.uint64(256)
        if use_rho:
            h = _bernoulli(xp, rho_plane, key, ctr)
            out = (h & g[..., 0]) | (~h & out)
        if lev + 1 == depth:
            if kin["root_channel"] and use_eps:
                out = out ^ _bernoulli(xp, eps_plane, key, ctr + np.uint64(64))
            levels[:, depth] = out[:, 0]
        else:
            levels[:, lev + 1] = out[:, 0]
            if use_eps:
                out = out ^ _bernoulli(xp, eps_plane, key, ctr + np.uint64(64))
            x = out
    return levels


def level_offsets(b, depth):
    """Start of each level in a flat array of all nodes, leaves first, and the node count.

    Level ``l`` holds ``b ** (depth - l)`` nodes; ``offsets[l]`` is its first index.
    """
    offsets = [0]
    count = b ** depth
    for _ in range(depth + 1):
        offsets.append(offsets[-1] + count)
        count //= b
    return offsets, offsets[depth + 1]


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
        xp = cupy_module()
    kin = sim_phase.kernel_inputs(params, trials, seed, pad_words=1)
    b, depth = params.b, params.depth
    n_leaves = b ** depth
    offsets, n_nodes = level_offsets(b, depth)
    words = kin["words"]
    chunk = max(1, max_elements // max(n_leaves, 4096))
    parts = []
    for w0 in range(0, words, chunk):
        w1 = min(words, w0 + chunk)
        part = _chunk_words(xp, kin, w0, w1, b, depth, offsets, n_nodes)
        parts.append(part.get() if hasattr(part, "get") else np.asarray(part))
    return np.concatenate(parts, axis=0)
