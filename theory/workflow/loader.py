"""The LOADER per-node surrogate and its Lambert-W optimum (the authors' repository baseline).

``docs/models/workflow.md`` (12)-(15). A node with success probability ``p``
(``a = 1 - p``), mean latency ``t``, ``r_cur`` samples in flight that end in
``wait`` seconds, given ``r`` further samples per round, has the surrogate delay
and cost

    d(r) = wait + a^r_cur t / (1 - a^r),      c(r) = r_cur wait + r d(r)

(the authors' code; ``c`` is in sample-seconds). Its objective is
``w d(r) + beta c(r)`` with ``w`` the sum of the path duals through the node
and ``beta`` the budget dual. With nothing in flight the stationary point is
``r* = -ln(y*) / b`` with ``b = -ln(1-p)``, ``alpha = b w / beta``,
``c = 1 + alpha`` and ``y* = -1 / W_{-1}(-e^{-c})`` (the authors' code); it
solves ``1 + alpha = 1/y + ln y`` (derived here, certified by
``theory.symbolic.workflow.loader_stationarity``). For ``c > 500`` the branch
``W_{-1}(-e^{-c}) ~ -(c + ln c)`` is used, and the integer plan is whichever of
``floor(r*)`` and ``ceil(r*)`` has the smaller objective.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from theory._params import check_int
from theory.workflow._common import _nonneg, _out, _positive, _prob

__all__ = ["surrogate_delay", "surrogate_cost", "node_objective", "loader_r_star",
           "loader_integer", "stationarity_residual", "ASYMPTOTE_C", "FALLBACK_R"]

#: Above this ``c = 1 + alpha`` the asymptote of ``W_{-1}`` replaces the function.
ASYMPTOTE_C = 500.0
#: The authors' answer when the closed form fails numerically.
FALLBACK_R = 64.0


def _a(p):
    """``1 - p`` kept inside ``[1e-12, 1 - 1e-12]`` (the authors' guard)."""
    return np.clip(1.0 - p, 1e-12, 1.0 - 1e-12)


def surrogate_delay(p, latency, r, r_cur=0.0, wait=0.0):
    """``d(r) = wait + a^r_cur t / (1 - a^r)``: the node's surrogate delay, (12).

    Parameters
    ----------
    p : array_like
        Success probability of one sample, in ``[0, 1]``.
    latency : array_like
        Mean latency ``t > 0``.
    r : array_like
        Samples per future round, ``> 0``.
    r_cur : array_like
        Samples in flight, ``>= 0``.
    wait : array_like
        Time until the samples in flight return, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    p = _prob("p", p)
    t = _positive("latency", latency)
    r = _positive("r", r)
    r_cur = _nonneg("r_cur", r_cur)
    wait = _nonneg("wait", wait)
    a = 1.0 - p
    y_cur = a ** np.maximum(r_cur, 1e-9)
    y = np.clip(_a(p) ** np.maximum(r, 1e-9), 1e-12, 1.0 - 1e-12)
    return _out(wait + y_cur * t / (1.0 - y))


def surrogate_cost(p, latency, r, r_cur=0.0, wait=0.0):
    """``c(r) = r_cur wait + r d(r)``: the node's surrogate cost in sample-seconds, (13)."""
    d = np.asarray(surrogate_delay(p, latency, r, r_cur, wait))
    return _out(np.asarray(r_cur, dtype=float) * np.asarray(wait, dtype=float)
                + np.asarray(r, dtype=float) * d)


def node_objective(p, latency, r, w, beta, r_cur=0.0, wait=0.0):
    """``w d(r) + beta c(r)``, the node's part of the LOADER Lagrangian, (14)."""
    w = _nonneg("w", w)
    beta = _nonneg("beta", beta)
    return _out(w * np.asarray(surrogate_delay(p, latency, r, r_cur, wait))
                + beta * np.asarray(surrogate_cost(p, latency, r, r_cur, wait)))


def loader_r_star(p, w, beta):
    """The continuous stationary point ``r*`` of (14) with nothing in flight, (15).

    ``b = -ln(1-p)``, ``alpha = b w / beta``, ``c = 1 + alpha``,
    ``y* = -1 / W_{-1}(-e^{-c})``, ``r* = -ln(y*) / b``, at least 1; for
    ``c > 500``, ``W_{-1}(-e^{-c})`` is replaced by ``-(c + ln c)``. The
    guards of the authors' code are kept: ``1 - p`` within
    ``[1e-12, 1 - 1e-12]``, ``beta >= 1e-30``, ``alpha <= 1e-10`` gives 1, and
    a result that is not finite gives :data:`FALLBACK_R`.

    Parameters
    ----------
    p : array_like
        Success probability, in ``[0, 1]``.
    w : array_like
        Path weight, ``>= 0``.
    beta : array_like
        Budget dual, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    p = _prob("p", p)
    w = _nonneg("w", w)
    beta = np.maximum(_nonneg("beta", beta), 1e-30)
    p, w, beta = np.broadcast_arrays(p, w, beta)
    b = -np.log(_a(p))
    alpha = b * w / beta
    c = 1.0 + alpha
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # the asymptote W_{-1}(-e^{-c}) ~ -(c + ln c) for c > 500
        y_big = np.clip(1.0 / (c + np.log(c)), 1e-15, 1.0 - 1e-12)
        r_big = -np.log(y_big) / b
        r_big = np.where(np.isfinite(r_big) & (r_big >= 1.0), r_big, FALLBACK_R)
        z = np.maximum(-np.exp(-np.minimum(c, ASYMPTOTE_C)), -1.0 / math.e + 1e-12)
        wv = special.lambertw(z, k=-1).real
        y = -1.0 / wv
        bad = ~np.isfinite(y) | (y <= 0.0)
        y = np.clip(np.where(bad, 0.5, y), 1e-12, 1.0 - 1e-12)
        r = -np.log(y) / b
        r = np.where(bad | ~np.isfinite(r), FALLBACK_R, np.maximum(r, 1.0))
    out = np.where(alpha <= 1e-10, 1.0, np.where(c > ASYMPTOTE_C, r_big, r))
    return _out(out)


def loader_integer(p, latency, w, beta, r_cur=0.0, wait=0.0, r_max=None):
    """The integer plan: ``floor(r*)`` or ``ceil(r*)``, whichever has the smaller objective, (15).

    Ties go to ``floor``; both are at least 1 (and at most ``r_max`` when
    given). Broadcasts over its arguments.

    Returns
    -------
    int or ndarray of int
    """
    r = np.asarray(loader_r_star(p, w, beta))
    lo = np.maximum(1.0, np.floor(r))
    hi = np.maximum(1.0, np.ceil(r))
    if r_max is not None:
        r_max = check_int("r_max", r_max, 1)
        lo, hi = np.minimum(lo, r_max), np.minimum(hi, r_max)
    f_lo = np.asarray(node_objective(p, latency, lo, w, beta, r_cur, wait))
    f_hi = np.asarray(node_objective(p, latency, hi, w, beta, r_cur, wait))
    out = np.where(f_lo <= f_hi, lo, hi).astype(np.int64)
    return int(out) if out.ndim == 0 else out


def stationarity_residual(y, alpha):
    """``1/y + ln y - (1 + alpha)``: zero at the stationary ``y* = (1-p)^r*``, (15)."""
    y = _positive("y", y)
    alpha = _nonneg("alpha", alpha)
    return _out(1.0 / y + np.log(y) - (1.0 + alpha))
