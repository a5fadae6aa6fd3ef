"""Monte Carlo of the phase-transition model, and its command line.

Simulates b-ary majority trees of correlated agents with lossy messages
(Liu, Kong, Pei, arXiv 2601.17311; spec ``specs/phase.md``) and the continuous
warm-up (star, chain and tree averaging), and compares every estimate with the
closed forms of :mod:`theory.phase`.

The binary tree (spec section 5, 6.1):

* ``depth`` levels, ``b**depth`` leaf agents; level 0 is the leaves, level
  ``depth`` the root.
* Each leaf is correct with probability ``p0`` (or with its item's latent
  probability, or under a global shock, according to ``correlation``).
* Every child-to-parent message passes through its own binary symmetric
  channel with flip probability ``(1 - gamma) / 2``; the root's own output
  passes a channel only if ``root_channel``.
* Each internal node herds with probability ``rho`` (``herding``) or
  ``rho_node`` (``item``/``shock``): it then outputs the received bit of one
  child; otherwise it outputs the majority of the received bits.

Backends (spec 6.3): ``numpy`` is the literal reference (one int8 per vote,
a uniformly chosen child when herding); ``numba`` is a bit-sliced kernel
(64 trials per machine word); ``cupy`` (:mod:`gpu.phase`) runs the same
bit-sliced algorithm on whole arrays and returns bit-identical words to
``numba`` for the same seed.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd
from numba import njit, prange, uint64

from sim import __version__ as _VERSION
from sim import _cli
from sim import rng as _rng
from sim.backends import BackendUnavailable, resolve_backend
from theory import phase as th
from theory._params import check_choice, check_int, check_odd_int, check_real

__all__ = [
    "simulate",
    "summarize_levels",
    "simulate_root",
    "tree_levels",
    "sample_effective_votes",
    "sample_leaves",
    "lane_probabilities",
    "simulate_continuous",
    "phase_diagram",
    "main",
]


#: Words (of 64 trials) that the Numba kernel advances in lockstep; the
#: compiler turns the per-word loops into SIMD instructions.
LOCKSTEP_WORDS = 32

# Counter layout of the kernel stream: word w, node n, purpose p, digit k
#   ctr = ((w * n_nodes + n) * 4 + p) * 64 + k.
# Purposes: internal nodes 0 = herding word, 1 = channel flips of the node's
# output; leaves 0 = received bits (leaf vote and channel drawn as one
# Bernoulli word), leaf 0 only: 2 = own output, 3 = its channel flips.
_PURPOSE_STRIDE = 64
_NODE_STRIDE = 256
_KERNEL_STREAM = "phase/tree-kernel"
_LATENT_STREAM = "phase/tree-latent"
_NUMPY_STREAM = "phase/tree-numpy"


# ----------------------------------------------------------------------------
# Per-trial leaf probabilities (host draws, shared by the numba and cupy paths)
# ----------------------------------------------------------------------------

def _node_rho(params):
    """Herding probability at internal nodes."""
    return params.rho if params.correlation == "herding" else params.rho_node


def _item_latent(params, n, gen):
    """Per-item success probabilities p_item ~ Beta(a, c) (spec 5.2)."""
    p0, rho = params.p0, params.rho
    if rho == 0.0 or p0 in (0.0, 1.0):
        return np.full(n, p0)
    a, c = th.beta_params(2.0 * p0 - 1.0, rho)
    return gen.beta(a, c, n)


def lane_probabilities(params, trials, seed):
    """Per-trial probabilities that leaf 0 is correct and that a leaf's message arrives correct.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int
    seed : int

    Returns
    -------
    p_out, q_recv : ndarray of float64, shape (trials,)
        ``p_out``: probability that a leaf's own vote is correct in that trial;
        ``q_recv``: probability that its vote, after the channel, is received
        correct, ``p (1 - eps) + (1 - p) eps`` with ``eps = (1 - gamma) / 2``.
        Under ``herding`` both are constant; under ``item`` they follow the
        trial's latent ``p_item``; under ``shock`` a shocked trial's leaves all
        copy one draw ``X`` so ``p_out`` is 0 or 1 there.
    """
    eps = (1.0 - params.gamma) / 2.0
    p0 = params.p0
    gen = _rng.generator(seed, _LATENT_STREAM)
    if params.correlation == "herding":
        p_out = np.full(trials, p0)
    elif params.correlation == "item":
        p_out = _item_latent(params, trials, gen)
    else:  # shock
        shocked = gen.random(trials) < params.rho
        x = (gen.random(trials) < p0).astype(np.float64)
        p_out = np.where(shocked, x, p0)
    q_recv = p_out * (1.0 - eps) + (1.0 - p_out) * eps
    return p_out, q_recv


# ----------------------------------------------------------------------------
# NumPy reference: one int8 per vote, literal model
# ----------------------------------------------------------------------------

def _leaf_votes_numpy(params, t, n_leaves, gen):
    p0 = params.p0
    if params.correlation == "herding":
        bits = gen.random((t, n_leaves)) < p0
    elif params.correlation == "item":
        p_item = _item_latent(params, t, gen)
        bits = gen.random((t, n_leaves)) < p_item[:, None]
    else:
        shocked = gen.random(t) < params.rho
        x = gen.random(t) < p0
        iid = gen.random((t, n_leaves)) < p0
        bits = np.where(shocked[:, None], x[:, None], iid)
    return np.where(bits, 1, -1).astype(np.int8)


def _flips(gen, shape, eps):
    if eps == 0.0:
        return np.int8(1)
    return np.where(gen.random(shape) < eps, -1, 1).astype(np.int8)


def _tree_numpy(params, trials, seed, *, want_votes=False, want_leaves=False):
    """Literal reference simulation; see :func:`tree_levels` for the output."""
    gen = _rng.generator(seed, _NUMPY_STREAM)
    b, depth = params.b, params.depth
    eps = (1.0 - params.gamma) / 2.0
    rho_node = _node_rho(params)
    n_leaves = b ** depth
    levels = np.empty((depth + 1, trials), dtype=bool)
    votes = np.empty((trials, b), dtype=np.int8) if want_votes else None
    leaves = np.empty((trials, n_leaves), dtype=np.int8) if want_leaves else None
    chunk = max(1, (1 << 21) // n_leaves)
    for start in range(0, trials, chunk):
        t = min(chunk, trials - start)
        sl = slice(start, start + t)
        x = _leaf_votes_numpy(params, t, n_leaves, gen)
        if want_leaves:
            leaves[sl] = x
        levels[0, sl] = x[:, 0] > 0
        for lev in range(depth):
            recv = (x * _flips(gen, x.shape, eps)).reshape(t, -1, b)
            total = recv.sum(axis=2, dtype=np.int16)
            maj = np.where(total > 0, 1, -1).astype(np.int8)
            if rho_node > 0.0:
                herd = gen.random(maj.shape) < rho_node
                child = gen.integers(0, b, size=maj.shape)
                copied = np.take_along_axis(recv, child[..., None], axis=2)[..., 0]
                x = np.where(herd, copied, maj)
            else:
                herd = np.zeros(maj.shape, dtype=bool)
                copied = maj
                x = maj
            if want_votes and lev == depth - 1:
                votes[sl] = np.where(herd[:, :1], copied[:, :1], recv[:, 0, :])
            levels[lev + 1, sl] = x[:, 0] > 0
        if params.root_channel:
            levels[depth, sl] = (x[:, 0] * _flips(gen, (t,), eps)) > 0
    return levels, votes, leaves


# ----------------------------------------------------------------------------
# Numba kernel: bit-sliced trees, 64 trials per word, LOCKSTEP_WORDS words at once
# ----------------------------------------------------------------------------

_V = LOCKSTEP_WORDS
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_weyl = njit(inline="always")(_rng.weyl)
_finalize = njit(inline="always")(_rng.finalize)
_step = njit(inline="always")(_rng.bernoulli_step)


@njit(inline="always")
def _bern_planes(planes, key, ctr0, stride, res, und, zb):
    for v in range(_V):
        res[v] = _ZERO
        und[v] = _ALL
        zb[v] = _weyl(key, ctr0 + uint64(v) * stride)
    for k in range(64):
        kg = uint64(k) * _rng.GOLDEN
        open_ = _ZERO
        for v in range(_V):
            r = _finalize(zb[v] + kg)
            rv, uv = _step(res[v], und[v], planes[k, v], r)
            res[v] = rv
            und[v] = uv
            open_ |= uv
        if open_ == _ZERO:
            break


@njit(inline="always")
def _bern_const(P, key, ctr0, stride, res, und, zb):
    for v in range(_V):
        res[v] = _ZERO
        und[v] = _ALL
        zb[v] = _weyl(key, ctr0 + uint64(v) * stride)
    for k in range(64):
        kg = uint64(k) * _rng.GOLDEN
        plane = _ZERO - ((P >> uint64(63 - k)) & _ONE)
        open_ = _ZERO
        for v in range(_V):
            r = _finalize(zb[v] + kg)
            rv, uv = _step(res[v], und[v], plane, r)
            res[v] = rv
            und[v] = uv
            open_ |= uv
        if open_ == _ZERO:
            break


@njit(inline="always")
def _fill_planes(P, g, planes):
    for k in range(64):
        for v in range(_V):
            planes[k, v] = _ZERO
    for v in range(_V):
        base = (g * _V + v) * 64
        for lane in range(64):
            p = P[base + lane]
            bit = _ONE << uint64(lane)
            for k in range(64):
                if (p >> uint64(63 - k)) & _ONE:
                    planes[k, v] |= bit


@njit(inline="always")
def _majority(buf, lev, b, nbits, thr, out, cnt):
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
def _tree_kernel(P_out, P_recv, b, depth, P_rho, P_eps, use_rho, use_eps, root_channel, key):
    ngroups = P_out.shape[0] // (64 * _V)
    n_leaves = 1
    for _ in range(depth):
        n_leaves *= b
    off = np.zeros(depth + 2, np.int64)
    cnt_nodes = n_leaves
    for lev in range(depth + 1):
        off[lev + 1] = off[lev] + cnt_nodes
        cnt_nodes //= b
    n_nodes = off[depth + 1]
    stride = uint64(n_nodes) * uint64(256)
    nbits = 1
    while (1 << nbits) <= b:
        nbits += 1
    thr = (b + 1) // 2
    levels = np.zeros((ngroups * _V, depth + 1), np.uint64)
    for g in prange(ngroups):
        buf = np.zeros((depth + 1, b, _V), np.uint64)
        planes_out = np.empty((64, _V), np.uint64)
        planes_recv = np.empty((64, _V), np.uint64)
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
        _bern_planes(planes_out, key, base + uint64(128), stride, ow, und, zb)
        if depth == 0:
            if root_channel and use_eps:
                _bern_const(P_eps, key, base + uint64(192), stride, fw, und, zb)
                for v in range(_V):
                    ow[v] ^= fw[v]
            for v in range(_V):
                levels[g * _V + v, 0] = ow[v]
            continue
        for v in range(_V):
            levels[g * _V + v, 0] = ow[v]
        if use_eps:
            _bern_const(P_eps, key, base + uint64(192), stride, fw, und, zb)
            for v in range(_V):
                buf[0, 0, v] = ow[v] ^ fw[v]
        else:
            for v in range(_V):
                buf[0, 0, v] = ow[v]
        for i in range(n_leaves):
            if i > 0:
                _bern_planes(planes_recv, key, base + uint64(i) * uint64(256), stride, res, und, zb)
                slot = i % b
                for v in range(_V):
                    buf[0, slot, v] = res[v]
            j = i
            lev = 0
            while lev < depth and j % b == b - 1:
                j //= b
                ctr = base + uint64(off[lev + 1] + j) * uint64(256)
                _majority(buf, lev, b, nbits, thr, ow, cnt)
                if use_rho:
                    _bern_const(P_rho, key, ctr, stride, hw, und, zb)
                    for v in range(_V):
                        ow[v] = (hw[v] & buf[lev, 0, v]) | (~hw[v] & ow[v])
                top = lev + 1 == depth
                if top:
                    if root_channel and use_eps:
                        _bern_const(P_eps, key, ctr + uint64(64), stride, fw, und, zb)
                        for v in range(_V):
                            ow[v] ^= fw[v]
                    for v in range(_V):
                        levels[g * _V + v, depth] = ow[v]
                else:
                    if j == 0:
                        for v in range(_V):
                            levels[g * _V + v, lev + 1] = ow[v]
                    if use_eps:
                        _bern_const(P_eps, key, ctr + uint64(64), stride, fw, und, zb)
                        for v in range(_V):
                            ow[v] ^= fw[v]
                    slot = j % b
                    for v in range(_V):
                        buf[lev + 1, slot, v] = ow[v]
                lev += 1
    return levels



def kernel_inputs(params, trials, seed, pad_words=1):
    """Fixed-point lane probabilities, constants and key of the bit-sliced kernels.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int
    seed : int
    pad_words : int
        Pad the trial count up to a multiple of ``64 * pad_words``; padded
        lanes have probability 0 and are discarded.

    Returns
    -------
    dict
        ``P_out``, ``P_recv`` (uint64 arrays, one per padded trial), ``P_rho``,
        ``P_eps`` (uint64), ``use_rho``, ``use_eps``, ``root_channel`` (bool),
        ``key`` (uint64), ``words`` (number of 64-trial words kept).
    """
    p_out, q_recv = lane_probabilities(params, trials, seed)
    words = -(-trials // 64)
    padded_words = -(-words // pad_words) * pad_words
    pad = padded_words * 64 - trials
    rho_node = _node_rho(params)
    eps = (1.0 - params.gamma) / 2.0
    return dict(
        P_out=np.concatenate([_rng.prob_to_fixed(p_out), np.zeros(pad, np.uint64)]),
        P_recv=np.concatenate([_rng.prob_to_fixed(q_recv), np.zeros(pad, np.uint64)]),
        P_rho=np.uint64(_rng.prob_to_fixed(rho_node)),
        P_eps=np.uint64(_rng.prob_to_fixed(eps)),
        use_rho=rho_node > 0.0,
        use_eps=eps > 0.0,
        root_channel=bool(params.root_channel),
        key=_rng.stream_key(seed, _KERNEL_STREAM),
        words=words,
    )


def tree_words_numba(params, trials, seed):
    """Bit-packed node-0 outputs per level from the Numba kernel.

    Returns
    -------
    ndarray of uint64, shape (ceil(trials / 64), depth + 1)
        Bit ``lane`` of word ``w`` in column ``l`` is 1 when the first node of
        level ``l`` is correct in trial ``64 w + lane``.
    """
    kin = kernel_inputs(params, trials, seed, pad_words=LOCKSTEP_WORDS)
    words = _tree_kernel(kin["P_out"], kin["P_recv"], params.b, params.depth, kin["P_rho"],
                   kin["P_eps"], kin["use_rho"], kin["use_eps"], kin["root_channel"],
                   kin["key"])
    return words[: kin["words"]]


def unpack_levels(words, trials):
    """Turn kernel words (W, depth + 1) into booleans (depth + 1, trials)."""
    w = np.ascontiguousarray(np.asarray(words, dtype=np.uint64).T)
    bits = np.unpackbits(w.view(np.uint8), axis=1, bitorder="little")
    return bits[:, :trials].astype(bool)


#: Largest simulation :func:`tree_levels` accepts by default, in leaf-votes
#: (trees times leaves): about three minutes of the Numba kernel on 2 cores.
MAX_LEAF_VOTES = 10**12


def _check_size(params, trials, backend, max_leaf_votes):
    n_leaves = params.b ** params.depth
    votes = trials * n_leaves
    if votes > max_leaf_votes:
        raise ValueError(f"trials * b**depth must be <= {max_leaf_votes:.0e} leaf-votes, got "
                         f"{votes:.2e}; lower trials or depth")
    if backend == "numpy" and n_leaves > 1 << 26:
        raise ValueError(f"b**depth must be <= {1 << 26} leaves for the numpy backend, got "
                         f"{n_leaves}; use numba")


def tree_levels(params, trials, seed=0, backend="auto", max_leaf_votes=MAX_LEAF_VOTES):
    """Correctness of the first node of every level, trial by trial.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int
        Independent trees to simulate.
    seed : int
        Root seed; the same seed gives the same numbers on the same backend,
        and ``numba`` and ``cupy`` give identical numbers.
    backend : {"auto", "numpy", "numba", "cupy"}
    max_leaf_votes : int
        Refuse (ValueError) simulations larger than this many leaf-votes.

    Returns
    -------
    ndarray of bool, shape (depth + 1, trials)
        Row ``l`` holds whether the leftmost node of level ``l`` output the
        correct answer (level 0: a leaf's own vote; the last row is the root,
        after its channel when ``root_channel``).
    """
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    _check_size(params, trials, name, max_leaf_votes)
    if name == "numpy":
        return _tree_numpy(params, trials, seed)[0]
    if name == "numba":
        return unpack_levels(tree_words_numba(params, trials, seed), trials)
    from gpu import phase as gpu_phase

    return unpack_levels(gpu_phase.tree_words(params, trials, seed), trials)


def sample_effective_votes(params, trials, seed=0):
    """The root's ``b`` effective votes (signed, +1 correct) in each trial.

    Under herding a herding node's effective votes are ``b`` copies of one
    child's received bit; otherwise they are the received bits (spec 5.1).
    Uses the NumPy reference.

    Returns
    -------
    ndarray of int8, shape (trials, b)
    """
    if params.depth < 1:
        raise ValueError(f"depth must be >= 1 to have effective votes, got {params.depth}")
    return _tree_numpy(params, check_int("trials", trials, 1), seed, want_votes=True)[1]


def sample_leaves(params, trials, seed=0):
    """Signed leaf votes (+1 correct), shape (trials, b**depth), from the NumPy reference."""
    return _tree_numpy(params, check_int("trials", trials, 1), seed, want_leaves=True)[2]


# ----------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------

def _wilson(k, n, z=1.959963984540054):
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def _param_columns(params):
    return dict(b=params.b, rho=params.rho, gamma=params.gamma, depth=params.depth,
                p0=params.p0, correlation=params.correlation, rho_node=params.rho_node,
                root_channel=params.root_channel)


def theory_accuracy(params):
    """Theoretical accuracy of a node's output at each level, ``(1 + E mu_l) / 2``."""
    mu = th.level_biases(params.correlation, params.b, params.depth, params.rho,
                         params.gamma, params.mu0, rho_node=params.rho_node,
                         root_channel=params.root_channel)
    return (1.0 + np.asarray(mu, dtype=float)) / 2.0


def simulate(params, trials=100_000, seed=0, backend="auto"):
    """Simulate trees and compare the accuracy of every level with theory.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}

    Returns
    -------
    pandas.DataFrame
        One row per level (0 = leaves .. depth = root) with columns ``level``,
        ``p_theory``, ``p_sim``, ``se`` (binomial standard error of ``p_sim``),
        ``ci_low``, ``ci_high`` (95% Wilson interval), ``z`` ((p_sim -
        p_theory) / se at the theoretical p), ``trials``, the parameters,
        ``seed``, ``backend`` and ``version``.
    """
    name = resolve_backend(backend)
    df = summarize_levels(params, tree_levels(params, trials, seed, name), trials)
    _cli.add_provenance(df, seed, name)
    return df


def summarize_levels(params, levels, trials):
    """Per-level accuracy against theory from simulated correctness (the frame of :func:`simulate`).

    Parameters
    ----------
    params : theory.phase.PhaseParams
    levels : ndarray, shape (depth + 1, trials)
        Correctness (bool or 0/1) of one node per level and trial, level 0 = leaves, as
        returned by :func:`tree_levels` or :func:`unpack_levels`.
    trials : int

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`simulate` without the provenance columns.
    """
    k = np.asarray(levels).sum(axis=1).astype(float)
    p_sim = k / trials
    p_th = theory_accuracy(params)
    se_th = np.sqrt(np.maximum(p_th * (1.0 - p_th), 0.0) / trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_th > 0, (p_sim - p_th) / se_th, np.where(p_sim == p_th, 0.0, np.inf))
    lo, hi = _wilson(k, trials)
    df = pd.DataFrame(dict(
        level=np.arange(params.depth + 1), p_theory=p_th, p_sim=p_sim,
        se=np.sqrt(p_sim * (1 - p_sim) / trials), ci_low=lo, ci_high=hi, z=z,
        trials=trials,
    ))
    for col, val in _param_columns(params).items():
        df[col] = val
    return df


def simulate_root(params, trials, seed=0, backend="auto"):
    """Fraction of trials whose root is correct (one float)."""
    return float(tree_levels(params, trials, seed, backend)[-1].mean())


# ----------------------------------------------------------------------------
# Continuous warm-up (spec 3, 5.3, 6.2)
# ----------------------------------------------------------------------------

ORGANIZATIONS = ("star", "tree", "tree_shock", "chain_relay", "chain_running")


def _continuous_numpy(org, size, v0, rho, sigma2, b, trials, gen):
    sd, sc = math.sqrt(v0), math.sqrt(sigma2)
    out = np.empty(trials)
    n = b ** size if org in ("tree", "tree_shock") else size
    chunk = max(1, (1 << 20) // max(n, 1))
    a_mean = math.sqrt(1.0 + (b - 1) * rho) if org == "tree" else 0.0
    a_dev = math.sqrt(1.0 - rho)
    for start in range(0, trials, chunk):
        t = min(chunk, trials - start)
        if org == "tree":
            e = sd * gen.standard_normal((t, n))
            for _ in range(size):
                g = e.reshape(t, -1, b)
                m = g.mean(axis=2, keepdims=True)
                u = a_dev * (g - m) + a_mean * m
                e = (u + sc * gen.standard_normal(u.shape)).mean(axis=2)
            est = e[:, 0]
        elif org == "tree_shock":
            z = gen.standard_normal((t, 1))
            e = sd * (math.sqrt(rho) * z + a_dev * gen.standard_normal((t, n)))
            for _ in range(size):
                e = (e + sc * gen.standard_normal(e.shape)).reshape(t, -1, b).mean(axis=2)
            est = e[:, 0]
        elif org == "star":
            z = gen.standard_normal((t, 1))
            e = sd * (math.sqrt(rho) * z + a_dev * gen.standard_normal((t, n)))
            est = (e + sc * gen.standard_normal(e.shape)).mean(axis=1)
        elif org == "chain_relay":
            est = sd * gen.standard_normal(t) + sc * gen.standard_normal((t, n)).sum(axis=1)
        else:  # chain_running
            z = gen.standard_normal(t)
            e = sd * (math.sqrt(rho) * z[:, None] + a_dev * gen.standard_normal((t, n)))
            noise = sc * gen.standard_normal((t, n))
            m = e[:, 0]
            for j in range(2, n + 1):
                m = ((j - 1) * (m + noise[:, j - 1]) + e[:, j - 1]) / j
            est = m
        out[start:start + t] = est
    return out


_INV53 = 1.0 / 9007199254740992.0
_TWO_PI = 2.0 * math.pi


@njit(inline="always")
def _normal(key, ctr):
    # Box-Muller on two 53-bit uniforms in (0, 1]
    u1 = ((_finalize(_weyl(key, ctr)) >> uint64(11)) + uint64(1)) * _INV53
    u2 = (_finalize(_weyl(key, ctr + uint64(1))) >> uint64(11)) * _INV53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(parallel=True, cache=True)
def _continuous_kernel(org, size, v0, rho, sigma2, b, trials, key):
    sd = math.sqrt(v0)
    sc = math.sqrt(sigma2)
    sr = math.sqrt(rho)
    a_dev = math.sqrt(1.0 - rho)
    a_mean = math.sqrt(1.0 + (b - 1) * rho)
    n = size
    if org == 1 or org == 2:
        n = 1
        for _ in range(size):
            n *= b
    per_trial = uint64(8 * (n + 2))
    out = np.empty(trials)
    nchunks = min(trials, 256)
    for ch in prange(nchunks):
        lo = ch * trials // nchunks
        hi = (ch + 1) * trials // nchunks
        e = np.empty(n)
        for t in range(lo, hi):
            base = uint64(t) * per_trial
            c = uint64(0)
            if org == 0 or org == 2 or org == 4:
                z = _normal(key, base)
                c = uint64(2)
                for i in range(n):
                    e[i] = sd * (sr * z + a_dev * _normal(key, base + c))
                    c += uint64(2)
            else:
                for i in range(n):
                    e[i] = sd * _normal(key, base + c)
                    c += uint64(2)
            if org == 0:  # star
                s = 0.0
                for i in range(n):
                    s += e[i] + sc * _normal(key, base + c)
                    c += uint64(2)
                out[t] = s / n
            elif org == 1 or org == 2:  # tree (per-level) / tree (global shock)
                m_nodes = n
                for _ in range(size):
                    m_nodes //= b
                    for j in range(m_nodes):
                        mean = 0.0
                        for q in range(b):
                            mean += e[j * b + q]
                        mean /= b
                        s = 0.0
                        for q in range(b):
                            x = e[j * b + q]
                            if org == 1:
                                x = a_dev * (x - mean) + a_mean * mean
                            s += x + sc * _normal(key, base + c)
                            c += uint64(2)
                        e[j] = s / b
                out[t] = e[0]
            elif org == 3:  # relay chain
                s = e[0]
                for i in range(n):
                    s += sc * _normal(key, base + c)
                    c += uint64(2)
                out[t] = s
            else:  # running-average chain
                m = e[0]
                for j in range(2, n + 1):
                    m = ((j - 1) * (m + sc * _normal(key, base + c)) + e[j - 1]) / j
                    c += uint64(2)
                out[t] = m
    return out





def simulate_continuous(org, size, *, v0=1.0, rho=0.0, sigma2=0.0, b=3, trials=100_000,
                        seed=0, backend="auto"):
    """Monte Carlo risk of an averaging organization in the continuous warm-up.

    Every agent holds a scalar estimate with error variance ``v0``; messages
    add independent N(0, ``sigma2``) noise; aggregators average (spec 3).

    Parameters
    ----------
    org : {"star", "tree", "tree_shock", "chain_relay", "chain_running"}
        ``star``: N leaves with pairwise error correlation ``rho`` read by one
        aggregator. ``tree``: b-ary averaging tree of depth ``size`` with
        per-level correlation ``rho`` between siblings (the model behind
        Eq. 13); siblings' i.i.d. Gaussian errors are made exchangeable with
        pairwise correlation ``rho`` by the variance-preserving map
        ``u = sqrt(1-rho)(e - mean) + sqrt(1+(b-1)rho) mean`` (derived for this
        project; it gives exactly the equicorrelated Gaussian law).
        ``tree_shock``: the same tree with one shock shared by all leaves
        (spec 5.3). ``chain_relay``: one estimate relayed over ``size`` hops.
        ``chain_running``: ``size`` agents keeping a running average.
    size : int
        N for a star, depth L for trees, k for chains.
    v0, rho, sigma2 : float
        Leaf error variance, error correlation, message noise variance.
    b : int
        Fan-in of trees.
    trials, seed, backend :
        As for :func:`simulate` (``cupy`` is not offered for this model).

    Returns
    -------
    dict
        ``risk`` (mean squared error of the final estimate), ``se`` (its
        standard error), ``theory`` (closed form), ``z``, ``trials``,
        ``backend``.
    """
    check_choice("org", org, ORGANIZATIONS)
    size = check_int("size", size, 0 if org.startswith("tree") else 1)
    v0 = check_real("v0", v0, 0.0)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real("sigma2", sigma2, 0.0)
    b = check_odd_int("b", b) if org.startswith("tree") else check_int("b", b, 1)
    trials = check_int("trials", trials, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    if name == "cupy":
        raise BackendUnavailable("backend 'cupy' is not offered for the continuous warm-up; "
                                 "use numpy or numba")
    if name == "numpy":
        est = _continuous_numpy(org, size, v0, rho, sigma2, b, trials,
                                _rng.generator(seed, "phase/continuous-numpy"))
    else:
        est = _continuous_kernel(ORGANIZATIONS.index(org), size, v0, rho, sigma2, b, trials,
                                _rng.stream_key(seed, "phase/continuous-kernel"))
    sq = est * est
    risk = float(sq.mean())
    se = float(sq.std(ddof=1) / math.sqrt(trials))
    if org == "star":
        theory = th.star_risk(size, v0, rho, sigma2)
    elif org == "tree":
        theory = th.tree_risk(size, v0, b, rho, sigma2)
    elif org == "tree_shock":
        theory = th.tree_risk_global_shock(size, v0, b, rho, sigma2)
    elif org == "chain_relay":
        theory = th.chain_risk_relay(size, v0, sigma2)
    else:
        theory = th.chain_risk_running(size, v0, rho, sigma2)
    theory = float(theory)
    z = (risk - theory) / se if se > 0 else (0.0 if risk == theory else math.inf)
    return dict(org=org, size=size, risk=risk, se=se, theory=theory, z=z, trials=trials,
                backend=name)


# ----------------------------------------------------------------------------
# Phase diagram
# ----------------------------------------------------------------------------

def phase_diagram(params, rhos, gammas, trials=2048, seed=0, backend="auto", progress=None):
    """Simulated root accuracy on a (rho, gamma) grid.

    Parameters
    ----------
    params : theory.phase.PhaseParams
        Everything but ``rho`` and ``gamma`` is taken from here.
    rhos, gammas : sequence of float
    trials : int
        Trees per grid cell.
    progress : callable or None
        Called with no argument after each cell.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``rho``, ``gamma``, ``p_sim``, ``p_theory`` and the
        cell's seed (cells use independent seeds derived from ``seed``).
    """
    from dataclasses import replace

    seeds = np.random.SeedSequence(seed).generate_state(len(rhos) * len(gammas), np.uint32)
    rows = []
    idx = 0
    for r in rhos:
        for g in gammas:
            p = replace(params, rho=float(r), gamma=float(g))
            acc = simulate_root(p, trials, int(seeds[idx]), backend)
            rows.append(dict(rho=float(r), gamma=float(g), p_sim=acc,
                             p_theory=float(theory_accuracy(p)[-1]), seed=int(seeds[idx])))
            idx += 1
            if progress is not None:
                progress()
    return pd.DataFrame(rows)


def plot_phase_diagram(df, params, ax=None):
    """Heat map of simulated root accuracy with the theoretical critical line; returns the axes."""
    from sim._plot import axes_or_new

    ax = axes_or_new(ax, 6.4, 4.8)
    fig = ax.figure
    rhos = np.sort(df["rho"].unique())
    gammas = np.sort(df["gamma"].unique())
    grid = df.pivot(index="gamma", columns="rho", values="p_sim").loc[gammas, rhos].to_numpy()
    dr = (rhos[1] - rhos[0]) / 2 if len(rhos) > 1 else 0.01
    dg = (gammas[1] - gammas[0]) / 2 if len(gammas) > 1 else 0.01
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0.5, vmax=1.0,
                   extent=(rhos[0] - dr, rhos[-1] + dr, gammas[0] - dg, gammas[-1] + dg))
    fig.colorbar(im, ax=ax, label=f"simulated root accuracy (depth {params.depth})")
    rr = np.linspace(rhos[0], rhos[-1], 200)
    if params.correlation == "herding":
        gc = th.gamma_c(rr, params.b)
        label = r"$\gamma_c(\rho)$: $\alpha_\rho = 1$ (Thm 4)"
    else:
        gc = np.full_like(rr, 1.0 / th.f_b_prime0(params.b))
        label = r"$\gamma_c = 1/f_b'(0)$: $\alpha_0 = 1$ ($\rho$-free)"
    inside = gc <= gammas[-1] + dg
    ax.plot(rr[inside], gc[inside], color="white", lw=2, ls="--", label=label)
    ax.set_xlabel(r"correlation $\rho$")
    ax.set_ylabel(r"channel fidelity $\gamma$")
    ax.set_title(f"{params.correlation}: b={params.b}, p0={params.p0:g}, "
                 f"depth {params.depth}")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.6)
    return ax


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------

def _none_if_nan(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def summary(params):
    """The closed-form headline numbers for ``params`` (dict, JSON-ready)."""
    b, rho, gamma = params.b, params.rho, params.gamma
    alpha = float(th.alpha_rho(b, rho, gamma))
    alpha0 = float(th.alpha_0(b, gamma))
    if params.correlation == "herding":
        gain = alpha
        mu_star = float(th.fixed_point(b, rho, gamma))
        gamma_c = float(th.gamma_c(rho, b))
        rho_c = _none_if_nan(th.rho_c(gamma, b))
        ceiling_bias = mu_star
    else:
        gain = float(th.layer_map_prime(0.0, b, params.rho_node, gamma))
        mu_star = float(th.fixed_point(b, params.rho_node, gamma))
        gamma_c = float(th.gamma_c(params.rho_node, b))
        rho_c = None
        ceiling_bias = float(th.limit_bias(params.correlation, b, rho, gamma, params.mu0))
    regime = th.regime(gain)
    mu0 = params.mu0
    # L_mix (spec 2.8, A6) is defined for the herding recursion only.
    if params.correlation == "herding" and regime == "amplifying" and mu0 > 0:
        mixing = int(th.mixing_depth(mu0, b, rho, gamma))
    else:
        mixing = None
    return dict(
        alpha=alpha, alpha_0=alpha0, gain=gain,
        s=_none_if_nan(th.organization_exponent(b, rho, gamma)),
        regime=regime, gamma_c=gamma_c, rho_c=rho_c,
        mu_star=mu_star, p_star=(1.0 + ceiling_bias) / 2.0,
        mixing_depth=mixing,
    )


def _build_parser():
    p = _cli.ArgumentParser(
        prog="python -m sim.phase",
        description="Majority trees of correlated agents with lossy messages: gain, "
                    "phase transition, fixed point, and Monte Carlo against theory "
                    "(Liu, Kong, Pei, arXiv 2601.17311).")
    p.add_argument("--b", type=int, default=3, help="fan-in, odd >= 3 (default 3)")
    p.add_argument("--rho", type=float, default=0.0,
                   help="correlation of signed correctness, in [0, 1) (default 0)")
    p.add_argument("--gamma", type=float, default=0.9,
                   help="message fidelity gamma(m), in (0, 1] (default 0.9)")
    p.add_argument("--depth", type=int, default=8, help="tree depth L >= 0 (default 8)")
    p.add_argument("--p0", type=float, default=0.6, help="leaf accuracy in [0, 1] (default 0.6)")
    p.add_argument("--correlation", default="herding", choices=("herding", "item", "shock"),
                   help="correlation model (spec 5): herding (the paper's recursion), "
                        "item difficulty, or a global shock (default herding)")
    p.add_argument("--rho-node", type=float, default=0.0,
                   help="node herding composed with item/shock, in [0, 1) (default 0)")
    p.add_argument("--root-channel", action="store_true",
                   help="also pass the root's output through a channel")
    budget = p.add_argument_group("budget analysis (Thm 5, Thm 9)")
    budget.add_argument("--beta", type=float, help="leaf compute exponent beta > 0")
    budget.add_argument("--budget", type=float, help="total budget B > 0 (tokens)")
    budget.add_argument("--msg-tokens", type=float, default=256.0,
                        help="message length m in tokens (default 256)")
    budget.add_argument("--context", type=float, default=128_000.0,
                        help="context window W in tokens (default 128000)")
    budget.add_argument("--t", type=float, default=None,
                        help="organization exponent used in Thm 9 (default: s)")
    plot = p.add_argument_group("phase diagram")
    plot.add_argument("--plot-grid", type=int, default=24,
                      help="cells per axis of the --plot diagram (default 24)")
    plot.add_argument("--plot-trials", type=int, default=2048,
                      help="trees per cell of the --plot diagram (default 2048)")
    _cli.add_common_arguments(p, trials=100_000)
    return p


def _validate_args(args):
    from theory.phase import PhaseParams

    params = PhaseParams(b=args.b, rho=args.rho, gamma=args.gamma, depth=args.depth,
                         p0=args.p0, correlation=args.correlation, rho_node=args.rho_node,
                         root_channel=args.root_channel)
    check_int("trials", args.trials, 1)
    check_int("seed", args.seed, 0)
    check_int("plot-grid", args.plot_grid, 2, 200)
    check_int("plot-trials", args.plot_trials, 1)
    budget = None
    if args.beta is not None or args.budget is not None:
        if args.beta is None or args.budget is None:
            raise ValueError("budget analysis needs both --beta and --budget")
        check_real("beta", args.beta, 0.0, lo_open=True)
        check_real("budget", args.budget, 0.0, lo_open=True)
        check_real("msg-tokens", args.msg_tokens, 0.0, lo_open=True)
        check_real("context", args.context, 0.0, lo_open=True)
        if args.t is not None:
            check_real("t", args.t, 0.0, lo_open=True)
        budget = dict(beta=args.beta, budget=args.budget, msg_tokens=args.msg_tokens,
                      context=args.context, t=args.t)
    elif args.t is not None:
        raise ValueError("--t needs --beta and --budget")
    else:
        check_real("msg-tokens", args.msg_tokens, 0.0, lo_open=True)
        check_real("context", args.context, 0.0, lo_open=True)
    return params, budget




def _report(params, head, df, budget, args, backend, out):
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(f"[bold]budgetlab phase[/bold]  b={params.b} rho={params.rho:g} "
                  f"gamma={params.gamma:g} depth={params.depth} p0={params.p0:g} "
                  f"correlation={params.correlation}"
                  + (f" rho_node={params.rho_node:g}" if params.rho_node else "")
                  + (" root_channel" if params.root_channel else ""))
    console.print(f"  trials={args.trials} seed={args.seed} backend={backend}")

    def fmt(x, spec=".4f"):
        return "n/a" if x is None else format(x, spec)

    console.print(f"  alpha_rho = {head['alpha']:.4f}   (Thm 4: gamma[rho + (1-rho) f_b'(0)])", markup=False)
    if params.correlation != "herding":
        console.print(f"  alpha_0   = {head['alpha_0']:.4f}   (per-item gain; the {params.correlation}"
                      f" model's threshold is gain = 1, rho-free)")
    console.print(f"  s         = {fmt(head['s'])}   (organization exponent log_b alpha_rho)")
    console.print(f"  regime    = {head['regime']}")
    console.print(f"  gamma_c   = {head['gamma_c']:.4f}   rho_c = {fmt(head['rho_c'])}")
    console.print(f"  p*        = {head['p_star']:.4f}   (deep-tree ceiling (1 + mu*)/2)")
    console.print(f"  mixing depth = {head['mixing_depth'] if head['mixing_depth'] is not None else 'n/a'}")
    if budget is not None:
        bud = head["budget"]
        console.print("[bold]budget[/bold] (Thm 5 synergy iff s > beta; Thm 9 x*; "
                      "B_crit derived for this project)")
        console.print(f"  beta={bud['beta']:g} t={fmt(bud['t'])} synergy={bud['synergy']} "
                      f"c0={fmt(bud['c0'], '.1f')} x*={fmt(bud['x_star'], '.1f')} "
                      f"N*={fmt(bud['n_star'], '.1f')} B_crit={fmt(bud['b_crit'], '.1f')} "
                      f"fan-in feasible={bud['feasible']} (b_max={bud['b_max']}) "
                      f"scale-out wins={bud['scale_out_wins']}")
    table = Table(title="accuracy by level (level 0 = leaves)", title_justify="left")
    for col in ("level", "theory", "simulated", "95% interval", "z"):
        table.add_column(col, justify="right")
    for row in df.itertuples():
        table.add_row(str(row.level), f"{row.p_theory:.4f}", f"{row.p_sim:.4f}",
                      f"[{row.ci_low:.4f}, {row.ci_high:.4f}]", f"{row.z:+.2f}")
    console.print(table)


def main(argv=None):
    """Run ``python -m sim.phase``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        params, budget = _validate_args(args)
        backend = resolve_backend(args.backend)
        head = summary(params)
        if budget is not None:
            head["budget"] = th.budget_analysis(params.b, params.rho, params.gamma,
                                                budget["beta"], budget["budget"],
                                                budget["msg_tokens"], context=budget["context"],
                                                t=budget["t"])
        with _cli.progress_spinner(not args.json, "simulating trees"):
            df = simulate(params, args.trials, args.seed, backend)
        if args.plot:
            n = args.plot_grid
            rhos = np.linspace(0.0, 0.95, n)
            gammas = np.linspace(0.3, 1.0, n)
            with _cli.progress_bar(not args.json, "phase diagram", n * n) as advance:
                grid = phase_diagram(params, rhos, gammas, args.plot_trials, args.seed,
                                     backend, progress=advance)
            fig, ax = _cli.new_figure(6.4, 4.8)
            plot_phase_diagram(grid, params, ax)
            _cli.save_figure(fig, args.plot, prog="python -m sim.phase")
    except (ValueError, TypeError, BackendUnavailable, OSError) as exc:
        return _cli.fail(parser.prog, exc)
    levels = [dict(level=int(r.level), p_theory=float(r.p_theory), p_sim=float(r.p_sim),
                   ci_low=float(r.ci_low), ci_high=float(r.ci_high)) for r in df.itertuples()]
    if args.json:
        payload = dict(head, params=dict(_param_columns(params), trials=args.trials,
                                         seed=args.seed, backend=backend),
                       levels=levels, version=_VERSION)
        if args.plot:
            payload["plot"] = args.plot
        print(json.dumps(_cli.jsonable(payload)))
    else:
        _report(params, head, df, budget, args, backend, sys.stdout)
        if args.plot:
            print(f"phase diagram written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
