"""Host draws of the tree simulators: per-trial latent variables and the kernels' inputs.

The per-trial leaf probabilities depend on the correlation model
(``docs/models/phase.md (23)-(26)``): constant under herding, the trial's
latent item accuracy under item difficulty, 0 or 1 in a shocked trial under
the global shock. They are drawn once on the host from
``sim.rng.generator(seed, LATENT_STREAM)`` and shared by the Numba and array
kernels, which then draw every other random word from the counter-based
stream ``KERNEL_STREAM``.
"""

from __future__ import annotations

import numpy as np

from sim import rng as _rng
from sim.phase.layout import KERNEL_STREAM, LANES, LATENT_STREAM
from theory import phase as th

__all__ = ["node_rho", "channel_flip", "item_latent", "lane_probabilities", "kernel_inputs"]


def node_rho(params):
    """Herding probability at internal nodes: ``rho`` under herding, else ``rho_node``."""
    return params.rho if params.correlation == "herding" else params.rho_node


def channel_flip(params):
    """Flip probability of a channel, ``eps = (1 - gamma) / 2`` (``docs/models/phase.md (30)``)."""
    return (1.0 - params.gamma) / 2.0


def item_latent(params, n, gen):
    """``n`` per-item accuracies ``p_item ~ Beta(a, c)`` (``docs/models/phase.md (24)``).

    A point mass at ``p0`` when ``rho = 0`` or ``p0`` is 0 or 1.
    """
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
        correct, ``p (1 - eps) + (1 - p) eps`` with ``eps = (1 - gamma) / 2``
        (``docs/models/phase.md (30)``). Under ``herding`` both are constant;
        under ``item`` they follow the trial's latent ``p_item``; under
        ``shock`` a shocked trial's leaves all copy one draw ``X``, so
        ``p_out`` is 0 or 1 there.
    """
    eps = channel_flip(params)
    p0 = params.p0
    gen = _rng.generator(seed, LATENT_STREAM)
    if params.correlation == "herding":
        p_out = np.full(trials, p0)
    elif params.correlation == "item":
        p_out = item_latent(params, trials, gen)
    else:  # shock
        shocked = gen.random(trials) < params.rho
        x = (gen.random(trials) < p0).astype(np.float64)
        p_out = np.where(shocked, x, p0)
    q_recv = p_out * (1.0 - eps) + (1.0 - p_out) * eps
    return p_out, q_recv


def kernel_inputs(params, trials, seed, pad_words=1):
    """Fixed-point lane probabilities, constants and stream key of the bit-sliced kernels.

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
    words = -(-trials // LANES)
    padded_words = -(-words // pad_words) * pad_words
    pad = padded_words * LANES - trials
    rho_node = node_rho(params)
    eps = channel_flip(params)
    return dict(
        P_out=np.concatenate([_rng.prob_to_fixed(p_out), np.zeros(pad, np.uint64)]),
        P_recv=np.concatenate([_rng.prob_to_fixed(q_recv), np.zeros(pad, np.uint64)]),
        P_rho=np.uint64(_rng.prob_to_fixed(rho_node)),
        P_eps=np.uint64(_rng.prob_to_fixed(eps)),
        use_rho=rho_node > 0.0,
        use_eps=eps > 0.0,
        root_channel=bool(params.root_channel),
        key=_rng.stream_key(seed, KERNEL_STREAM),
        words=words,
    )
