"""The uncertainty law fitted to measured accuracy against budget, docs/models/bbam.md (26)-(27).

A question (or a difficulty level) solved within ``b`` tokens with probability
``1 - min(1, c b**-beta + u)`` (docs/models/bbam.md (17), the law (1) read as a
success probability) gives, from ``k`` successes in ``n`` attempts at each of
several budgets, the binomial likelihood (26). :func:`fit_law` maximises it
over ``(ln c, beta, u)`` and gives profile-likelihood intervals and the
deviance goodness of fit (27); its ``c``, ``beta`` (and ``u``) are what the
allocation (4) needs (``python -m sim.bbam fit`` writes them as a table that
``python -m sim.bbam allocate --table`` reads).
"""

from __future__ import annotations

import math

import numpy as np

from theory._params import check_real, check_real_array
from theory._profile import binomial_deviance, fit, pooled_counts, profile_interval

__all__ = ["LAW_BOUNDS", "law_success", "law_nll", "law_nll_grad", "fit_law"]

#: Box of the fit over ``(ln c, beta, u)``: ``beta`` in [0.001, 10], ``u`` in [0, 1).
LAW_BOUNDS = ((-40.0, 120.0), (1e-3, 10.0), (0.0, 1.0 - 1e-9))
_EPS = 1e-12


def law_success(budget, c, beta, u):
    """``1 - min(1, c b**-beta + u)``, docs/models/bbam.md (17) (no checks; arrays broadcast)."""
    return 1.0 - np.minimum(1.0, c * np.asarray(budget, float) ** (-beta) + u)


def law_nll(theta, budget, n, k):
    """Negative binomial log-likelihood (26) of ``theta = (ln c, beta, u)``, constants dropped."""
    p = law_success(budget, math.exp(theta[0]), theta[1], theta[2])
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return -float(np.sum(k * np.log(p) + (n - k) * np.log1p(-p)))


def law_nll_grad(theta, budget, n, k):
    """Gradient of :func:`law_nll` in ``theta = (ln c, beta, u)`` (0 where p clips)."""
    c = math.exp(theta[0])
    t = c * np.asarray(budget, float) ** (-theta[1])
    p = 1.0 - t - theta[2]
    inside = (p > _EPS) & (p < 1.0 - _EPS)
    pc = np.clip(p, _EPS, 1.0 - _EPS)
    d = np.where(inside, -(k / pc - (n - k) / (1.0 - pc)), 0.0)  # d nll / d p
    return np.array([float(np.sum(d * -t)), float(np.sum(d * t * np.log(budget))),
                     float(np.sum(-d))])


def _starts(budget, n, k):
    acc = k / n
    err = np.clip(1.0 - acc, 1e-3, 1.0)
    u0 = max(0.0, float(err.min()) - 0.02)
    bm = float(np.median(budget))
    e_mid = float(np.interp(bm, budget[np.argsort(budget)], err[np.argsort(budget)]))
    out = []
    for beta0 in (0.3, 1.0, 2.5):
        for u in (u0, 0.0):
            c0 = max(e_mid - u, 1e-3) * bm**beta0
            out.append((math.log(c0), beta0, u))
    return out


def fit_law(budget, n, k, level=0.95):
    """Maximum-likelihood ``c``, ``beta``, ``u`` of the law (17) with profile intervals.

    docs/models/bbam.md (26)-(27).

    Parameters
    ----------
    budget : array_like
        Budgets ``b > 0`` (tokens), one per row; rows with equal budgets may repeat.
    n : array_like of int
        Attempts at each row, ``>= 1``.
    k : array_like of int
        Successes, ``0 <= k <= n``.
    level : float, default 0.95
        Coverage of the intervals, in (0, 1).

    Returns
    -------
    dict
        ``c``, ``beta``, ``u`` and their ``*_low``/``*_high`` profile-likelihood
        ends, ``nll``, ``budgets`` (distinct budgets), ``attempts``, and the
        deviance goodness of fit over the distinct budgets: ``deviance``,
        ``df``, ``p_value`` (``None`` with fewer than four budgets). Budgets
        where the fitted law gives probability 0 and no attempt succeeded
        carry no information and are left out of the goodness of fit.

    Raises
    ------
    ValueError
        Fewer than three distinct budgets (three parameters), or invalid counts.
    """
    b = check_real_array("budget", budget, 0.0, lo_open=True).ravel()
    level = check_real("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    ub, nn, kk = pooled_counts(b, n, k, "budget", 3, "c, beta and u")

    def nll(theta):
        return law_nll(theta, ub, nn, kk)

    def grad(theta):
        return law_nll_grad(theta, ub, nn, kk)

    best = fit(nll, _starts(ub, nn, kk), LAW_BOUNDS, grad)
    out = dict(c=math.exp(best.theta[0]), beta=float(best.theta[1]), u=float(best.theta[2]))
    for i, name in enumerate(("c", "beta", "u")):
        lo, hi = profile_interval(nll, best, i, level)
        if name == "c":
            lo, hi = math.exp(lo), math.exp(hi)
        out[f"{name}_low"], out[f"{name}_high"] = lo, hi
    p_hat = law_success(ub, out["c"], out["beta"], out["u"])
    # budgets where the fitted law is certain (p = 0 from the clip of (17)) and the data
    # agree carry no information: they are left out of the goodness of fit
    keep = (p_hat > _EPS) | (kk > 0)
    gof = binomial_deviance(kk[keep], nn[keep], p_hat[keep], 3)
    out.update(nll=best.nll, budgets=int(ub.size), attempts=int(nn.sum()),
               deviance=gof["statistic"], df=gof["df"], p_value=gof["p_value"])
    return out
