"""The NumPy reference of the majority-tree simulator: the model written out literally.

One ``int8`` per vote (+1 correct, -1 wrong), one tree per trial, a level at a
time (``docs/models/phase.md``, section "The model"): leaves vote, every
child-to-parent message passes its own binary symmetric channel, and each
internal node herds (outputs the received bit of one uniformly chosen child)
with probability ``rho`` (``rho_node`` under item/shock) or else outputs the
majority of its received bits. All draws come from one host generator,
``sim.rng.generator(seed, NUMPY_STREAM)``.
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.phase.draws import channel_flip, item_latent, node_rho
from sim.phase.layout import NUMPY_STREAM
from theory._params import check_int

__all__ = ["reference_levels", "sample_effective_votes", "sample_leaves"]

#: Votes held at once (trials times leaves) by the reference; trials go in chunks.
CHUNK_VOTES = 1 << 21


def _leaf_votes(params, t, n_leaves, gen):
    """Signed leaf votes of ``t`` trials under the correlation model."""
    p0 = params.p0
    if params.correlation == "herding":
        bits = gen.random((t, n_leaves)) < p0
    elif params.correlation == "item":
        p_item = item_latent(params, t, gen)
        bits = gen.random((t, n_leaves)) < p_item[:, None]
    else:
        shocked = gen.random(t) < params.rho
        x = gen.random(t) < p0
        iid = gen.random((t, n_leaves)) < p0
        bits = np.where(shocked[:, None], x[:, None], iid)
    return np.where(bits, 1, -1).astype(np.int8)


def _flips(gen, shape, eps):
    """Channel multipliers: -1 with probability ``eps``, else +1."""
    if eps == 0.0:
        return np.int8(1)
    return np.where(gen.random(shape) < eps, -1, 1).astype(np.int8)


def reference_levels(params, trials, seed, *, want_votes=False, want_leaves=False):
    """Simulate ``trials`` trees literally; correctness of the first node of every level.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials, seed : int
    want_votes, want_leaves : bool
        Also return the root's effective votes / the leaf votes.

    Returns
    -------
    levels : ndarray of bool, shape (depth + 1, trials)
        As :func:`sim.phase.tree_levels`.
    votes : ndarray of int8, shape (trials, b), or None
    leaves : ndarray of int8, shape (trials, b**depth), or None
    """
    gen = _rng.generator(seed, NUMPY_STREAM)
    b, depth = params.b, params.depth
    eps = channel_flip(params)
    rho_node = node_rho(params)
    n_leaves = b ** depth
    levels = np.empty((depth + 1, trials), dtype=bool)
    votes = np.empty((trials, b), dtype=np.int8) if want_votes else None
    leaves = np.empty((trials, n_leaves), dtype=np.int8) if want_leaves else None
    chunk = max(1, CHUNK_VOTES // n_leaves)
    for start in range(0, trials, chunk):
        t = min(chunk, trials - start)
        sl = slice(start, start + t)
        x = _leaf_votes(params, t, n_leaves, gen)
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


def sample_effective_votes(params, trials, seed=0):
    """The root's ``b`` effective votes (signed, +1 correct) in each trial.

    Under herding a herding node's effective votes are ``b`` copies of one
    child's received bit; otherwise they are the received bits
    (``docs/models/phase.md (23)``). Uses the NumPy reference.

    Returns
    -------
    ndarray of int8, shape (trials, b)
    """
    if params.depth < 1:
        raise ValueError(f"depth must be >= 1 to have effective votes, got {params.depth}")
    return reference_levels(params, check_int("trials", trials, 1), seed, want_votes=True)[1]


def sample_leaves(params, trials, seed=0):
    """Signed leaf votes (+1 correct), shape (trials, b**depth), from the NumPy reference."""
    return reference_levels(params, check_int("trials", trials, 1), seed, want_leaves=True)[2]
