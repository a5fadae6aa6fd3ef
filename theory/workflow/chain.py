"""Exact completion probabilities of Seq-k on chains and fork-joins, and the mean batch time.

With deterministic batch time ``tau`` and cost ``k * kappa`` per batch, the
number of batches a node needs under Seq-k is geometric with success
probability ``q = 1 - (1-p)^k`` (``docs/models/workflow.md`` (20)), a chain of
``n`` nodes needs a negative-binomial number of batches, and the run succeeds
when that number is at most ``N_max`` (21)-(22). A fork-join runs its branches
in parallel, so its deadline needs the *largest* branch and its budget the
*sum*; with the budget not binding the branches multiply (23). With
exponential latencies the batch of ``k`` samples lasts ``mu H_k`` on average
(24).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from theory._params import accepts_params, check_int, check_int_array
from theory.workflow._common import _nonneg, _out, _positive, _prob

__all__ = ["batch_success", "max_batches", "chain_success", "chain_success_sum",
           "seq_chain_success", "chain_success_general", "fork_join_success",
           "expected_max_exponential"]

#: Relative slack of ``floor(T / tau)``: a deadline that is a whole number of
#: batches up to rounding counts as that number.
_SLACK = 1e-9


@accepts_params
def batch_success(p, k):
    """``q = 1 - (1-p)^k``: at least one of ``k`` parallel samples succeeds, (20).

    Parameters
    ----------
    p : array_like
        Success probability of one sample, in ``[0, 1]``.
    k : array_like of int
        Samples in the batch, ``>= 1``.

    Returns
    -------
    float or ndarray
    """
    p = _prob("p", p)
    k = check_int_array("k", k, 1)
    with np.errstate(divide="ignore"):
        q = -np.expm1(k * np.log1p(-p))
    return _out(q)


@accepts_params
def max_batches(deadline, latency, budget, k, cost):
    """``N_max = min(floor(T / tau), floor(B / (k kappa)))``, the batches that fit, (21).

    Parameters
    ----------
    deadline : float
        ``T > 0``.
    latency : float
        Deterministic batch time ``tau > 0``.
    budget : float
        ``B > 0``.
    k : int
        Samples per batch, ``>= 1``.
    cost : float
        Cost ``kappa >= 0`` of one sample (0: the budget never binds).

    Returns
    -------
    float
        An integer value, or ``inf`` when neither constraint binds.
    """
    deadline = float(_positive("deadline", deadline))
    tau = float(_positive("latency", latency))
    budget = float(_positive("budget", budget))
    k = int(check_int("k", k, 1))
    kappa = float(_nonneg("cost", cost))
    n_time = math.floor(deadline / tau * (1 + _SLACK)) if math.isfinite(deadline) else math.inf
    n_budget = (math.floor(budget / (k * kappa) * (1 + _SLACK))
                if kappa > 0 and math.isfinite(budget) else math.inf)
    return float(min(n_time, n_budget))


@accepts_params
def chain_success(nodes, q, n_max):
    """``Pr[N <= N_max] = I_q(n, N_max - n + 1)``: a chain of ``n`` nodes under Seq-k, (22).

    ``N``, the batches to ``n`` successes of probability ``q``, is negative
    binomial; its distribution function is a regularised incomplete beta
    function (derived here; ``theory.symbolic.workflow.negative_binomial_cdf``).

    Parameters
    ----------
    nodes : array_like of int
        Chain length ``n >= 1``.
    q : array_like
        Per-batch success probability (20), in ``[0, 1]``.
    n_max : array_like
        Batches that fit (21), ``>= 0``; ``inf`` allowed.

    Returns
    -------
    float or ndarray
    """
    n = check_int_array("nodes", nodes, 1)
    q = _prob("q", q)
    nm = _nonneg("n_max", n_max)
    n, q, nm = np.broadcast_arrays(n, q, nm)
    finite = np.isfinite(nm)
    b = np.where(finite, np.floor(nm) - n + 1, 1.0)
    ok = b >= 1
    with np.errstate(invalid="ignore"):
        val = special.betainc(n.astype(float), np.where(ok, b, 1.0), q)
    out = np.where(~ok, 0.0, np.where(finite, val, np.where(q > 0, 1.0, 0.0)))
    return _out(out)


def chain_success_sum(nodes, q, n_max):
    """The negative-binomial sum ``sum_{j=n}^{N_max} C(j-1, n-1) q^n (1-q)^(j-n)``, (22).

    The same number as :func:`chain_success`, summed term by term (scalars only,
    finite ``n_max``); kept to check the incomplete-beta form numerically.
    """
    n = int(check_int("nodes", nodes, 1))
    q = float(_prob("q", q))
    n_max = int(check_int("n_max", n_max, 0))
    return float(sum(math.comb(j - 1, n - 1) * q**n * (1 - q) ** (j - n)
                     for j in range(n, n_max + 1)))


@accepts_params
def seq_chain_success(nodes, p, k, latency, cost, budget, deadline):
    """Completion probability of Seq-k on a chain of identical nodes, (20)-(22).

    Deterministic latency ``latency`` per batch (sd 0) and cost ``k * cost``
    per batch: ``I_q(n, N_max - n + 1)`` with ``q = 1 - (1-p)^k``.
    Takes a :class:`theory.workflow.WorkflowParams` with ``p``, ``latency``
    and ``cost`` set: ``seq_chain_success(params, k=4)``.

    Returns
    -------
    float
    """
    q = batch_success(p, k)
    return chain_success(nodes, q, max_batches(deadline, latency, budget, k, cost))


def chain_success_general(q, n_max):
    """``Pr[sum_i G_i <= N_max]`` for independent geometric ``G_i`` with success ``q_i``.

    A chain of nodes that differ (one per-batch success probability each,
    deterministic and equal batch times): the distribution of the total number
    of batches by convolution of the geometric laws. Equals :func:`chain_success`
    when every ``q_i`` is the same.

    Parameters
    ----------
    q : array_like
        One ``q_i`` in ``[0, 1]`` per node (a 1-D array).
    n_max : int
        Batches that fit, ``>= 0``.

    Returns
    -------
    float
    """
    q = np.atleast_1d(_prob("q", q)).ravel()
    n_max = int(check_int("n_max", n_max, 0))
    pmf = np.zeros(n_max + 1)
    pmf[0] = 1.0
    j = np.arange(n_max + 1)
    for qi in q:
        geo = np.where(j >= 1, qi * (1.0 - qi) ** np.maximum(j - 1, 0), 0.0)
        pmf = np.convolve(pmf, geo)[:n_max + 1]
    return float(min(1.0, pmf.sum()))


def _negbin_pmf(q, r, top):
    """``P(B = m)`` for ``m = 0..top`` of the trials to ``r`` successes of probability ``q``."""
    m = np.arange(top + 1)
    out = np.zeros(top + 1)
    ok = m >= r
    mm = m[ok]
    out[ok] = special.comb(mm - 1, r - 1) * q**r * (1.0 - q) ** (mm - r)
    return out


def fork_join_success(q, width, depth, n_time, n_budget=math.inf):
    """Seq-k on a fork-join of identical nodes: root, ``width`` branches of ``depth``, join; (23).

    The root needs ``R`` batches and the join ``J`` (geometric), branch ``i``
    needs ``B_i`` (negative binomial to ``depth`` successes). The deadline
    admits ``R + max_i B_i + J <= n_time`` and the budget
    ``R + sum_i B_i + J <= n_budget``. With the budget not binding the
    branches multiply, ``Pr[max_i B_i <= m] = Pr[B <= m]^width`` (derived here);
    otherwise the joint law of ``(max, sum)`` is built branch by branch.

    Parameters
    ----------
    q : float
        Per-batch success probability (20), in ``[0, 1]``.
    width, depth : int
        Branches (``>= 1``) and nodes per branch (``>= 1``).
    n_time : int
        Batch times that fit in the deadline, ``>= 0``.
    n_budget : int or inf
        Batches the budget pays for.

    Returns
    -------
    float
    """
    q = float(_prob("q", q))
    width = int(check_int("width", width, 1))
    depth = int(check_int("depth", depth, 1))
    n_time = int(check_int("n_time", n_time, 0))
    if math.isfinite(n_budget):
        n_budget = int(check_int("n_budget", int(n_budget), 0))
    geo = _negbin_pmf(q, 1, n_time)
    branch = _negbin_pmf(q, depth, n_time)
    budget_free = not math.isfinite(n_budget) or n_budget >= n_time * (width + 2)
    if budget_free:
        cdf = np.cumsum(branch)
        total = 0.0
        for r in range(1, n_time + 1):
            for j in range(1, n_time - r + 1):
                m = n_time - r - j
                total += geo[r] * geo[j] * cdf[m] ** width
        return float(min(1.0, total))
    nb = int(n_budget)
    joint = np.zeros((n_time + 1, nb + 1))
    joint[0, 0] = 1.0
    for _ in range(width):
        new = np.zeros_like(joint)
        for m in range(depth, min(n_time, nb) + 1):
            if branch[m] == 0.0:
                continue
            for top in range(n_time + 1):
                row = joint[top, : nb + 1 - m]
                if not row.any():
                    continue
                new[max(top, m), m:] += branch[m] * row
        joint = new
    total = 0.0
    for r in range(1, n_time + 1):
        for j in range(1, n_time - r + 1):
            w = geo[r] * geo[j]
            if w == 0.0:
                continue
            mt = n_time - r - j
            st = nb - r - j
            if st < 0:
                continue
            total += w * joint[: mt + 1, : st + 1].sum()
    return float(min(1.0, total))


@accepts_params
def expected_max_exponential(latency, k):
    """``E[max of k exponential latencies] = mu H_k``, (24).

    Parameters
    ----------
    latency : array_like
        Mean ``mu > 0`` of one latency.
    k : array_like of int
        Samples, ``>= 1``.

    Returns
    -------
    float or ndarray
        ``mu * (1 + 1/2 + ... + 1/k)``.
    """
    mu = _positive("latency", latency)
    k = check_int_array("k", k, 1)
    harmonic = special.digamma(k + 1.0) + np.euler_gamma
    return _out(mu * harmonic)
