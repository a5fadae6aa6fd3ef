"""The tables that make every backend compute the same search: value levels, weights, noise.

docs/models/search.md (19). Node values live on :data:`VALUE_LEVELS` + 1
levels ``0, 1/Q, ..., 1`` (a critic's score with two decimals) and the
temperature is rounded up to a multiple of ``1 / TEMPERATURE_LEVELS``. The
selection weight of a node of level ``l`` when the best frontier node has
level ``m`` and the temperature level is ``k`` is the integer
``floor(2**40 (l / m)**(TEMPERATURE_LEVELS / k))`` (the rule (1) relative to
its largest term; ``k = 0`` is greedy: ``2**40`` for ``l = m``, else 0), so
a selection is a table lookup, an exact integer sum and one uniform, the same
in NumPy, Numba and CuPy. The critic's standard normal noise is the table of
its quantiles at the midpoints of :data:`NOISE_LEVELS` equal cells, indexed by
one uniform. Every table is made here, on the host, once.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

from theory import search as th

__all__ = ["VALUE_LEVELS", "TEMPERATURE_LEVELS", "NOISE_LEVELS", "WEIGHT_ONE", "weights",
           "noise", "level", "temperature_level", "hops_of_level", "gamma_levels", "Tables",
           "tables"]

#: ``Q``: values are ``level / Q``, ``level`` in ``0..Q``.
VALUE_LEVELS = 100
#: ``R``: temperatures are ``k / R``, ``k`` in ``0..R`` (``k = 0`` is greedy).
TEMPERATURE_LEVELS = 100
#: Cells of the quantised standard normal (2**16; the largest value is 4.33).
NOISE_LEVELS = 1 << 16
#: The weight of a node of the best level (``2**40``).
WEIGHT_ONE = 1 << 40


@functools.cache
def weights():
    """``W[k, l, m]``, int64 of shape ``(R + 1, Q + 1, Q + 1)``: the selection weights."""
    R, Q = TEMPERATURE_LEVELS, VALUE_LEVELS
    lv = np.arange(Q + 1, dtype=float)
    ratio = lv[:, None] / np.where(lv > 0, lv, 1.0)[None, :]  # l / m
    w = np.zeros((R + 1, Q + 1, Q + 1), dtype=np.int64)
    exps = R / np.arange(1, R + 1, dtype=float)
    with np.errstate(under="ignore"):
        powed = np.where(ratio[None] <= 1.0, ratio[None] ** exps[:, None, None], 0.0)
    w[1:] = np.floor(WEIGHT_ONE * powed).astype(np.int64)
    w[0] = np.where(np.eye(Q + 1, dtype=bool), WEIGHT_ONE, 0)
    w[:, 0, 0] = WEIGHT_ONE  # every frontier value 0: uniform
    w[:, :, 0] = np.where(np.arange(Q + 1) == 0, WEIGHT_ONE, 0)[None, :]
    w.setflags(write=False)
    return w


@functools.cache
def noise():
    """Quantiles of the standard normal at ``(i + 1/2) / NOISE_LEVELS``, float64."""
    z = special.ndtri((np.arange(NOISE_LEVELS) + 0.5) / NOISE_LEVELS)
    z.setflags(write=False)
    return z


def level(v):
    """The level of a value: ``floor(Q v + 1/2)``, clipped to ``0..Q``."""
    return int(min(max(math.floor(VALUE_LEVELS * float(v) + 0.5), 0), VALUE_LEVELS))


def temperature_level(t):
    """The temperature level ``ceil(R t)`` of a temperature ``t`` in ``[0, 1]``."""
    return int(min(max(math.ceil(round(TEMPERATURE_LEVELS * float(t), 9)), 0),
                   TEMPERATURE_LEVELS))


def hops_of_level(K, v0):
    """Hops still to go read off a value level: ``K - round(K (l/Q - v0) / (1 - v0))`` in ``1..K``.

    The remaining-length predictor's input under the option (18): the best
    frontier value on the scale of the true values (11).
    """
    lv = np.arange(VALUE_LEVELS + 1) / VALUE_LEVELS
    g = np.floor(K * (lv - v0) / (1.0 - v0) + 0.5)
    return np.clip(K - g, 1, K).astype(np.int64)


def gamma_levels(params):
    """``k[j, b]``: temperature level of the Gamma ratio (18), ``j`` hops and ``b`` tokens left.

    int64 of shape ``(K + 1, B_token + 1)``; row 0 is unused (``R``).
    """
    R = TEMPERATURE_LEVELS
    b = np.arange(params.tokens + 1)
    out = np.full((params.K + 1, b.size), R, dtype=np.int64)
    for j in range(1, params.K + 1):
        r = th.gamma_ratio(b, j, params.p, params.tree_step_tokens)
        out[j] = np.clip(np.ceil(R * np.asarray(r) - 1e-12), 0, R).astype(np.int64)
    return out


class Tables:
    """Everything a kernel reads besides the scalars: built by :func:`tables`."""

    __slots__ = ("weights", "noise", "vstar", "root_level", "hops", "gamma")

    def __init__(self, weights, noise, vstar, root_level, hops, gamma):
        self.weights, self.noise, self.vstar = weights, noise, vstar
        self.root_level, self.hops, self.gamma = root_level, hops, gamma


def tables(params):
    """The host tables of one :class:`theory.search.SearchParams`."""
    gam = (gamma_levels(params) if params.ratio == "gamma"
           else np.zeros((params.K + 1, 1), dtype=np.int64))
    return Tables(weights(), noise(), np.ascontiguousarray(th.true_values(params.K, params.v0)),
                  level(params.v0), hops_of_level(params.K, params.v0), gam)
