"""The Numba kernel of the majority-tree simulator: bit-sliced trees, 64 trials per word.

Each bit lane of a ``uint64`` word is one trial, so one bit-wise operation
advances 64 trees: the majority of three words is ``(a&b)|(a&c)|(b&c)``
(larger fan-ins add the words' bits with a bit-sliced counter), a herding
node selects its first child's word where the herding word has a 1, and a
channel XORs its flip word. Every Bernoulli word is drawn lazily with
:func:`sim.rng.bernoulli_step`, exact to the 64 binary digits of its
probability, from the counter-based words :func:`sim.rng.splitmix64` at the
counters of :mod:`sim.phase.layout`; :mod:`sim.phase.kernel_array` draws the
same words, so both give bit-identical results for a seed.

Each thread walks its trees depth first, one group of :data:`LOCKSTEP_WORDS`
words at a time: the per-word loops are independent, and the compiler turns
them (the random number generator included) into SIMD instructions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

from sim.phase.draws import kernel_inputs
from sim.phase.layout import FLIP, HERD, LANES, NODE_STRIDE, OWN, OWN_FLIP, RECV, level_offsets
from sim.rng import DIGITS, GOLDEN, bernoulli_step, finalize, weyl

__all__ = ["LOCKSTEP_WORDS", "tree_words_numba"]

#: Words (of 64 trials) that the kernel advances in lockstep.
LOCKSTEP_WORDS = 32

_V = LOCKSTEP_WORDS
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
# Layout constants as uint64, so that counter arithmetic stays in uint64 under Numba.
_NODE = np.uint64(NODE_STRIDE)
_HERD = np.uint64(HERD)
_FLIP = np.uint64(FLIP)
_RECV = np.uint64(RECV)
_OWN = np.uint64(OWN)
_OWN_FLIP = np.uint64(OWN_FLIP)
_TOP = DIGITS - 1


@njit(inline="always")
def _bern_planes(planes, key, ctr0, stride, res, und, zb):
    """Bernoulli words with per-lane probabilities (bit planes) for the words of a group."""
    for v in range(_V):
        res[v] = _ZERO
        und[v] = _ALL
        zb[v] = weyl(key, ctr0 + uint64(v) * stride)
    for k in range(DIGITS):
        kg = uint64(k) * GOLDEN
        open_ = _ZERO
        for v in range(_V):
            rv, uv = bernoulli_step(res[v], und[v], planes[k, v], finalize(zb[v] + kg))
            res[v] = rv
            und[v] = uv
            open_ |= uv
        if open_ == _ZERO:
            break


@njit(inline="always")
def _bern_const(P, key, ctr0, stride, res, und, zb):
    """Bernoulli words with one probability (fixed point ``P``) for the words of a group."""
    for v in range(_V):
        res[v] = _ZERO
        und[v] = _ALL
        zb[v] = weyl(key, ctr0 + uint64(v) * stride)
    for k in range(DIGITS):
        kg = uint64(k) * GOLDEN
        plane = _ZERO - ((P >> uint64(_TOP - k)) & _ONE)
        open_ = _ZERO
        for v in range(_V):
            rv, uv = bernoulli_step(res[v], und[v], plane, finalize(zb[v] + kg))
            res[v] = rv
            und[v] = uv
            open_ |= uv
        if open_ == _ZERO:
            break


@njit(inline="always")
def _fill_planes(P, g, planes):
    """Bit planes of the lanes' fixed-point probabilities ``P`` for the words of group ``g``."""
    for k in range(DIGITS):
        for v in range(_V):
            planes[k, v] = _ZERO
    for v in range(_V):
        base = (g * _V + v) * LANES
        for lane in range(LANES):
            p = P[base + lane]
            bit = _ONE << uint64(lane)
            for k in range(DIGITS):
                if (p >> uint64(_TOP - k)) & _ONE:
                    planes[k, v] |= bit


@njit(inline="always")
def _majority(buf, lev, b, nbits, thr, out, cnt):
    """Bit-wise majority of the ``b`` words ``buf[lev, :, v]`` for every word ``v``."""
    if b == 3:
        for v in range(_V):
            a0 = buf[lev, 0, v]
            a1 = buf[lev, 1, v]
            a2 = buf[lev, 2, v]
            out[v] = (a0 & a1) | (a0 & a2) | (a1 & a2)
        return
    for v in range(_V):
        for j in range(nbits):
            cnt[j] = _ZERO
        for c in range(b):
            carry = buf[lev, c, v]
            for j in range(nbits):
                t = cnt[j] & carry
                cnt[j] ^= carry
                carry = t
        gt = _ZERO
        eq = _ALL
        for j in range(nbits - 1, -1, -1):
            if (thr >> j) & 1:
                eq &= cnt[j]
            else:
                gt |= eq & cnt[j]
                eq &= ~cnt[j]
        out[v] = gt | eq


@njit(parallel=True, cache=True)
def _tree_kernel(P_out, P_recv, b, depth, off, P_rho, P_eps, use_rho, use_eps, root_channel,
                 key):
    """Levels (words, depth + 1) of node-0 outputs; ``off`` is :func:`level_offsets`."""
    ngroups = P_out.shape[0] // (LANES * _V)
    n_leaves = off[1]
    n_nodes = off[depth + 1]
    stride = uint64(n_nodes) * _NODE
    nbits = 1
    while (1 << nbits) <= b:
        nbits += 1
    thr = (b + 1) // 2
    levels = np.zeros((ngroups * _V, depth + 1), np.uint64)
    for g in prange(ngroups):
        buf = np.zeros((depth + 1, b, _V), np.uint64)
        planes_out = np.empty((DIGITS, _V), np.uint64)
        planes_recv = np.empty((DIGITS, _V), np.uint64)
        res = np.empty(_V, np.uint64)
        und = np.empty(_V, np.uint64)
        zb = np.empty(_V, np.uint64)
        hw = np.empty(_V, np.uint64)
        fw = np.empty(_V, np.uint64)
        ow = np.empty(_V, np.uint64)
        cnt = np.empty(nbits, np.uint64)
        _fill_planes(P_out, g, planes_out)
        _fill_planes(P_recv, g, planes_recv)
        base = uint64(g) * uint64(_V) * stride
        # leaf 0: own vote, recorded as level 0, then its channel
        _bern_planes(planes_out, key, base + _OWN, stride, ow, und, zb)
        if depth == 0:
            if root_channel and use_eps:
                _bern_const(P_eps, key, base + _OWN_FLIP, stride, fw, und, zb)
                for v in range(_V):
                    ow[v] ^= fw[v]
            for v in range(_V):
                levels[g * _V + v, 0] = ow[v]
            continue
        for v in range(_V):
            levels[g * _V + v, 0] = ow[v]
        if use_eps:
            _bern_const(P_eps, key, base + _OWN_FLIP, stride, fw, und, zb)
            for v in range(_V):
                buf[0, 0, v] = ow[v] ^ fw[v]
        else:
            for v in range(_V):
                buf[0, 0, v] = ow[v]
        for i in range(n_leaves):
            if i > 0:
                _bern_planes(planes_recv, key, base + uint64(i) * _NODE + _RECV, stride, res,
                             und, zb)
                slot = i % b
                for v in range(_V):
                    buf[0, slot, v] = res[v]
            j = i
            lev = 0
            while lev < depth and j % b == b - 1:
                j //= b
                ctr = base + uint64(off[lev + 1] + j) * _NODE
                _majority(buf, lev, b, nbits, thr, ow, cnt)
                if use_rho:
                    _bern_const(P_rho, key, ctr + _HERD, stride, hw, und, zb)
                    for v in range(_V):
                        ow[v] = (hw[v] & buf[lev, 0, v]) | (~hw[v] & ow[v])
                top = lev + 1 == depth
                if top:
                    if root_channel and use_eps:
                        _bern_const(P_eps, key, ctr + _FLIP, stride, fw, und, zb)
                        for v in range(_V):
                            ow[v] ^= fw[v]
                    for v in range(_V):
                        levels[g * _V + v, depth] = ow[v]
                else:
                    if j == 0:
                        for v in range(_V):
                            levels[g * _V + v, lev + 1] = ow[v]
                    if use_eps:
                        _bern_const(P_eps, key, ctr + _FLIP, stride, fw, und, zb)
                        for v in range(_V):
                            ow[v] ^= fw[v]
                    slot = j % b
                    for v in range(_V):
                        buf[lev + 1, slot, v] = ow[v]
                lev += 1
    return levels


def tree_words_numba(params, trials, seed):
    """Bit-packed node-0 outputs per level from the Numba kernel.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials, seed : int

    Returns
    -------
    ndarray of uint64, shape (ceil(trials / 64), depth + 1)
        Bit ``lane`` of word ``w`` in column ``l`` is 1 when the first node of
        level ``l`` is correct in trial ``64 w + lane``.
    """
    kin = kernel_inputs(params, trials, seed, pad_words=LOCKSTEP_WORDS)
    off = np.asarray(level_offsets(params.b, params.depth)[0], dtype=np.int64)
    words = _tree_kernel(kin["P_out"], kin["P_recv"], params.b, params.depth, off,
                         kin["P_rho"], kin["P_eps"], kin["use_rho"], kin["use_eps"],
                         kin["root_channel"], kin["key"])
    return words[: kin["words"]]
