"""The phase model's parameters estimated from measurements, docs/models/phase.md (45)-(47).

* :func:`fit_leaf_law` -- ``kappa`` and ``beta`` of the leaf law
  ``p(x) = (1 + min(1, kappa x**beta)) / 2`` from accuracy against compute (45);
* :func:`fit_correlation` -- ``p0`` and ``rho`` from repeated samples per
  question, by the beta-binomial likelihood of the item-difficulty model (46);
* :func:`fit_fidelity` -- ``gamma`` from the correctness of messages before
  and after they pass a channel, ``gamma = 1 - 2 eps`` (47).

Each returns maximum-likelihood estimates with profile-likelihood intervals
(:mod:`theory._profile`) and a goodness-of-fit statistic with its p-value.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from theory._params import check_real, check_real_array
from theory._profile import (
    binomial_deviance,
    check_counts,
    chi2_gof,
    fit,
    pooled_counts,
    profile_interval,
)

__all__ = ["LEAF_BOUNDS", "leaf_accuracy", "fit_leaf_law", "beta_binomial_logpmf",
           "fit_correlation", "fit_fidelity"]

#: Box of the leaf-law fit over ``(ln kappa, beta)``.
LEAF_BOUNDS = ((-80.0, 20.0), (1e-3, 5.0))
_EPS = 1e-12


def _level(level):
    return check_real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)


def leaf_accuracy(x, kappa, beta):
    """``(1 + min(1, kappa x**beta)) / 2``, docs/models/phase.md (45) (no checks)."""
    return 0.5 * (1.0 + np.minimum(1.0, kappa * np.asarray(x, float) ** beta))


def fit_leaf_law(compute, n, k, level=0.95):
    """``kappa``, ``beta`` of the leaf law from ``k`` of ``n`` correct at each compute, (45).

    Parameters
    ----------
    compute : array_like
        Compute per attempt ``x > 0`` (tokens), one per row; equal values are pooled.
    n, k : array_like of int
        Attempts and successes per row.
    level : float, default 0.95

    Returns
    -------
    dict
        ``kappa``, ``beta`` with ``*_low``/``*_high`` profile-likelihood
        ends, ``nll``, ``computes`` (distinct values), ``attempts``, and the
        deviance goodness of fit ``deviance``, ``df``, ``p_value``.
    """
    x = check_real_array("compute", compute, 0.0, lo_open=True).ravel()
    level = _level(level)
    ux, nn, kk = pooled_counts(x, n, k, "compute", 2, "kappa and beta")
    lx = np.log(ux)

    def nll(t):
        p = np.clip(0.5 * (1.0 + np.minimum(1.0, np.exp(t[0] + t[1] * lx))), _EPS, 1 - _EPS)
        return -float(np.sum(kk * np.log(p) + (nn - kk) * np.log1p(-p)))

    def grad(t):
        e = np.exp(t[0] + t[1] * lx)
        inside = e < 1.0
        p = np.clip(0.5 * (1.0 + np.minimum(1.0, e)), _EPS, 1 - _EPS)
        d = np.where(inside, -(kk / p - (nn - kk) / (1.0 - p)) * 0.5 * e, 0.0)
        return np.array([float(d.sum()), float(np.sum(d * lx))])

    mu = np.clip(2.0 * kk / nn - 1.0, 1e-3, 0.999)
    slope = float(np.polyfit(lx, np.log(mu), 1)[0]) if ux.size > 1 else 0.3
    starts = []
    for b0 in (min(max(slope, 0.01), 4.0), 0.3, 1.0):
        starts.append((float(np.mean(np.log(mu) - b0 * lx)), b0))
    best = fit(nll, starts, LEAF_BOUNDS, grad)
    out = dict(kappa=math.exp(best.theta[0]), beta=float(best.theta[1]))
    for i, name in enumerate(("kappa", "beta")):
        lo, hi = profile_interval(nll, best, i, level)
        if name == "kappa":
            lo, hi = math.exp(lo), math.exp(hi)
        out[f"{name}_low"], out[f"{name}_high"] = lo, hi
    gof = binomial_deviance(kk, nn, leaf_accuracy(ux, out["kappa"], out["beta"]), 2)
    out.update(nll=best.nll, computes=int(ux.size), attempts=int(nn.sum()),
               deviance=gof["statistic"], df=gof["df"], p_value=gof["p_value"])
    return out


def _ab(p0, rho):
    s = (1.0 - rho) / rho
    return p0 * s, (1.0 - p0) * s


def beta_binomial_logpmf(k, n, p0, rho):
    """``log P(K = k)`` of the beta-binomial with mean ``p0`` and correlation ``rho``, (46).

    ``p_item ~ Beta(a, c)``, ``a = p0 (1 - rho)/rho``, ``c = (1 - p0)(1 - rho)/rho``
    (docs/models/phase.md (24)), then ``K ~ Bin(n, p_item)``; ``rho = 0`` is the
    binomial.
    """
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    logc = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    if rho <= 0.0:
        return logc + k * math.log(p0) + (n - k) * math.log1p(-p0)
    a, c = _ab(p0, rho)
    return logc + special.betaln(k + a, n - k + c) - special.betaln(a, c)


def fit_correlation(n, k, level=0.95):
    """``p0`` and ``rho`` from ``k_i`` correct of ``n_i`` samples per question, (46).

    The item-difficulty model (docs/models/phase.md (24)): each question has
    its own accuracy ``p_i ~ Beta`` with mean ``p0``; samples of one question
    are independent given ``p_i``; ``rho`` is then the correlation of any two
    samples' correctness on one question. Maximum likelihood of the
    beta-binomial, profile-likelihood intervals, and Pearson's goodness of
    fit of the number of questions with each count ``k`` (expected counts
    summed over the questions, bins merged to at least 5 expected).

    Returns
    -------
    dict
        ``p0``, ``rho`` with ``*_low``/``*_high``, ``nll``, ``questions``,
        ``samples``, ``chi2``, ``df``, ``p_value``.
    """
    n, k = check_counts(n, k)
    level = _level(level)
    if n.size < 2:
        raise ValueError(f"repeated samples of at least 2 questions are needed, got {n.size}")
    if np.all(n < 2):
        raise ValueError("rho needs at least 2 samples of some question, got 1 each")
    bounds = ((1e-6, 1.0 - 1e-6), (1e-8, 1.0 - 1e-6))

    def nll(t):
        return -float(np.sum(beta_binomial_logpmf(k, n, t[0], t[1])))

    pbar = float(np.clip(k.sum() / n.sum(), 0.01, 0.99))
    best = fit(nll, [(pbar, 0.05), (pbar, 0.3), (pbar, 0.7)], bounds)
    out = dict(p0=float(best.theta[0]), rho=float(best.theta[1]))
    for i, name in enumerate(("p0", "rho")):
        out[f"{name}_low"], out[f"{name}_high"] = profile_interval(nll, best, i, level)
    if out["rho_low"] <= bounds[1][0] * 1.0001:
        out["rho_low"] = 0.0
    nmax = int(n.max())
    kk = np.arange(nmax + 1)
    expected = np.zeros(nmax + 1)
    for m in np.unique(n):
        cnt = int(np.count_nonzero(n == m))
        expected[: m + 1] += cnt * np.exp(beta_binomial_logpmf(kk[: m + 1], m, out["p0"],
                                                               out["rho"]))
    observed = np.bincount(k, minlength=nmax + 1).astype(float)
    gof = chi2_gof(observed, expected, 2)
    out.update(nll=best.nll, questions=int(n.size), samples=int(n.sum()), chi2=gof["statistic"],
               df=gof["df"], p_value=gof["p_value"])
    return out


def fit_fidelity(sent, received, level=0.95):
    """``gamma = 1 - 2 eps`` from the correctness of messages before and after a channel, (47).

    A binary symmetric channel (docs/models/phase.md (30)) flips a message's
    correctness with probability ``eps``, whatever it was. The estimate is
    the flip rate; its interval is the profile-likelihood (binomial
    likelihood-ratio) interval mapped by ``gamma = 1 - 2 eps``; the goodness of
    fit is the likelihood-ratio test that right and wrong messages flip at
    the same rate (1 degree of freedom).

    Parameters
    ----------
    sent, received : array_like of 0/1
        Correctness of each message as written and as read.

    Returns
    -------
    dict
        ``gamma``, ``gamma_low``, ``gamma_high``, ``eps``, ``messages``,
        ``flips``, ``lr``, ``df`` (1), ``p_value``.
    """
    s = np.asarray(sent).ravel().astype(int)
    r = np.asarray(received).ravel().astype(int)
    if s.size != r.size or s.size == 0:
        raise ValueError(f"sent and received must be equal-length, non-empty, got {s.size} and "
                         f"{r.size}")
    level = _level(level)
    flips = s != r
    n, f = int(s.size), int(flips.sum())

    def nll(t):
        e = min(max(t[0], _EPS), 1 - _EPS)
        return -(f * math.log(e) + (n - f) * math.log1p(-e))

    bounds = ((0.0, 0.5),)
    best = fit(nll, [(min(max(f / n, 1e-6), 0.5 - 1e-6),)], bounds)
    lo, hi = profile_interval(nll, best, 0, level)

    def ll(x, m):
        return 0.0 if m == 0 or x in (0, m) else x * math.log(x / m) + (m - x) * math.log1p(-x / m)

    n1, f1 = int(np.sum(s == 1)), int(np.sum(flips & (s == 1)))
    n0, f0 = n - n1, f - f1
    lr = 2.0 * (ll(f1, n1) + ll(f0, n0) - ll(f, n))
    pv = float(stats.chi2.sf(lr, 1)) if n0 > 0 and n1 > 0 else None
    eps = float(best.theta[0])
    return dict(gamma=1.0 - 2.0 * eps, gamma_low=1.0 - 2.0 * hi, gamma_high=1.0 - 2.0 * lo,
                eps=eps, messages=n, flips=f, lr=lr, df=1, p_value=pv)
