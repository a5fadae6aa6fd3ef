"""Maximum likelihood with profile-likelihood intervals, and goodness of fit, for the fit commands.

Shared by the fits of ``theory.bbam`` (the uncertainty law from accuracy
against budget), ``theory.phase`` (the leaf law, the intra-question
correlation, the message fidelity) and ``theory.gamma`` (the length law).

A model is a negative log-likelihood ``nll(theta)`` over a parameter vector
with box bounds. :func:`fit` minimises it from several starting points;
:func:`profile_interval` gives the likelihood-ratio (profile-likelihood)
interval of one parameter: the values ``v`` with

    2 [min_{theta_i = v} nll(theta) - nll(theta_hat)] <= chi2_1(level),

the other parameters re-optimised at every ``v`` (Wilks' theorem). An end that
the profile does not cross inside the bounds is the bound itself (a one-sided
interval, e.g. an aleatoric floor estimated at 0).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize, stats

__all__ = ["Fit", "fit", "profile_interval", "chi2_gof", "binomial_deviance", "check_counts",
           "pooled_counts"]


def check_counts(n, k):
    """Attempts ``n >= 1`` and successes ``0 <= k <= n`` as int arrays (one-line ValueError)."""
    from theory._params import check_int_array

    n = check_int_array("n", n, 1).ravel()
    k = check_int_array("k", k, 0).ravel()
    if n.size != k.size:
        raise ValueError(f"n and k must have one entry per row, got {n.size} and {k.size}")
    if np.any(k > n):
        i = int(np.flatnonzero(k > n)[0])
        raise ValueError(f"k must be <= n, got k={int(k[i])} > n={int(n[i])}")
    return n, k


def pooled_counts(x, n, k, name, min_distinct, what):
    """Attempts and successes pooled over equal values of ``x``: ``(distinct x, n, k)``.

    Raises a one-line ValueError when ``x``, ``n``, ``k`` differ in length or
    ``x`` takes fewer than ``min_distinct`` values (``what`` names the
    parameters that need them).
    """
    n, k = check_counts(n, k)
    if x.size != n.size:
        raise ValueError(f"{name}, n and k must have one entry per row, got {x.size}, {n.size}")
    ux, inv = np.unique(x, return_inverse=True)
    if ux.size < min_distinct:
        raise ValueError(f"{name} must take at least {min_distinct} distinct values to fit "
                         f"{what}, got {ux.size}")
    return ux, np.bincount(inv, weights=n).astype(float), np.bincount(inv, weights=k).astype(float)


#: The gradient-based local minimiser (a scipy.optimize.minimize method with bounds). TNC
#: rather than L-BFGS-B: the latter calls BLAS on tiny vectors, and a threaded BLAS on a busy
#: machine makes each of its steps milliseconds (benchmarks/bbam.py, part "fit").
LOCAL_METHOD = "TNC"


class Fit:
    """The result of :func:`fit`: ``theta`` (the MLE), ``nll`` (its value), ``bounds``."""

    def __init__(self, theta, nll, bounds):
        self.theta = np.asarray(theta, dtype=float)
        self.nll = float(nll)
        self.bounds = [tuple(map(float, b)) for b in bounds]


def _simplex(x0, bounds):
    """A Nelder-Mead start around ``x0`` with edges of 5% of each bound's width (at most 0.1).

    Edges point inward at a bound, so a start on a bound (an aleatoric floor
    at 0) does not give a degenerate simplex.
    """
    x0 = np.asarray(x0, float)
    k = x0.size
    out = np.tile(x0, (k + 1, 1))
    for j, (lo, hi) in enumerate(bounds):
        d = min(0.1, 0.05 * (hi - lo))
        out[j + 1, j] = x0[j] + d if x0[j] + d <= hi else x0[j] - d
    return out


def _minimize(nll, x0, bounds, grad=None, polish=True, quick=False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if quick:  # a warm start close to the optimum: Nelder-Mead alone
            nm = optimize.minimize(nll, np.asarray(x0, float), method="Nelder-Mead",
                                   bounds=bounds, options={"xatol": 1e-9, "fatol": 1e-11,
                                                           "maxiter": 4000,
                                                           "initial_simplex":
                                                               _simplex(x0, bounds)})
            return nm.x, float(nm.fun)
        opts = ({"maxfun": 4000, "ftol": 1e-12, "gtol": 1e-8} if LOCAL_METHOD == "TNC" else
                {"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-8})
        res = optimize.minimize(nll, np.asarray(x0, float), method=LOCAL_METHOD, bounds=bounds,
                                jac=grad, options=opts)
        x = res.x
        # polish with Nelder-Mead (the objective may have kinks where a probability clips)
        if polish and len(x) > 1:
            nm = optimize.minimize(nll, x, method="Nelder-Mead", bounds=bounds,
                                   options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000})
            if nm.fun < res.fun:
                return nm.x, float(nm.fun)
    return x, float(res.fun)


def fit(nll, starts, bounds, grad=None):
    """Minimise ``nll`` over the box ``bounds`` from every point of ``starts``; keep the best.

    Parameters
    ----------
    nll : callable
        ``theta (ndarray) -> float``, the negative log-likelihood (finite on the box).
    starts : sequence of array_like
        Starting points.
    bounds : sequence of (lo, hi)
    grad : callable, optional
        ``theta -> ndarray``, the gradient of ``nll`` (finite differences without it).

    Returns
    -------
    Fit
    """
    best_x, best_f = None, math.inf
    for x0 in starts:
        x0 = np.clip(np.asarray(x0, float), [b[0] for b in bounds], [b[1] for b in bounds])
        x, f = _minimize(nll, x0, bounds, grad)
        if f < best_f:
            best_x, best_f = x, f
    if best_x is None or not math.isfinite(best_f):
        raise ValueError("the likelihood could not be maximised on these data")
    out = Fit(best_x, best_f, bounds)
    out.grad = grad
    return out


def _profile(nll, fit_, i, v, warm):
    """``min nll`` with ``theta_i = v`` (the others re-optimised from ``warm``); returns (f, x)."""
    k = fit_.theta.size
    if k == 1:
        return float(nll(np.array([v]))), np.array([v])
    others = [j for j in range(k) if j != i]
    bnds = [fit_.bounds[j] for j in others]

    def full(y):
        th = np.empty(k)
        th[i] = v
        th[others] = y
        return th

    grad = getattr(fit_, "grad", None)
    if grad is None or len(others) == 1:  # one other parameter: a local line search
        y, f = _minimize(lambda y: nll(full(y)), warm[others], bnds, quick=True)
    else:  # a gradient lets L-BFGS-B leave a local minimum on a bound; then polish
        y, f = _minimize(lambda y: nll(full(y)), warm[others], bnds,
                         lambda y: grad(full(y))[others])
    x = np.empty(k)
    x[i] = v
    x[others] = y
    return f, x


def _curvature_scale(nll, fit_, i):
    """A rough standard error of parameter ``i`` from the curvature of the profile at the MLE."""
    lo_b, hi_b = fit_.bounds[i]
    est = float(fit_.theta[i])
    h = 1e-3 * max(1.0, abs(est))
    if est - h < lo_b or est + h > hi_b:
        return None
    f0 = fit_.nll
    fp = _profile(nll, fit_, i, est + h, fit_.theta)[0]
    fm = _profile(nll, fit_, i, est - h, fit_.theta)[0]
    curv = (fp - 2.0 * f0 + fm) / h**2
    if not (math.isfinite(curv) and curv > 0):
        return None
    return 1.0 / math.sqrt(curv)


def profile_interval(nll, fit_, i, level=0.95, scale=None):
    """The profile-likelihood interval of parameter ``i`` at ``level``.

    Parameters
    ----------
    nll : callable
        The negative log-likelihood of :func:`fit`.
    fit_ : Fit
        Its maximum.
    i : int
        Which parameter.
    level : float
        Coverage, in (0, 1).
    scale : float, optional
        First step away from the estimate (default: the standard error from
        the profile's curvature at the estimate, else 5% of the bound width
        or 0.1, whichever is smaller).

    Returns
    -------
    (float, float)
        The ends; an end is the bound when the profile stays below the
        threshold up to it.
    """
    target = fit_.nll + 0.5 * float(stats.chi2.ppf(level, 1))
    lo_b, hi_b = fit_.bounds[i]
    est = float(fit_.theta[i])
    width = hi_b - lo_b
    if scale is None:
        scale = _curvature_scale(nll, fit_, i)
    step0 = scale if scale is not None else max(min(0.1, 0.05 * width), 1e-3 * width)
    step0 = min(max(step0, 1e-6 * width), 0.25 * width)
    xtol = 1e-3 * step0
    ends = []
    for direction, bound in ((-1.0, lo_b), (1.0, hi_b)):
        warm = fit_.theta.copy()
        inside_v, step = est, step0
        crossed = None
        for _ in range(60):
            v = inside_v + direction * step
            if (direction < 0 and v <= bound) or (direction > 0 and v >= bound):
                f, x = _profile(nll, fit_, i, bound, warm)
                if f < target:
                    break
                crossed = bound
                break
            f, x = _profile(nll, fit_, i, v, warm)
            if f >= target:
                crossed = v
                break
            inside_v, warm, step = v, x, step * 1.5
        if crossed is None:
            ends.append(bound)
            continue
        a, b = sorted((inside_v, crossed))

        def g(v, warm=warm):
            return _profile(nll, fit_, i, v, warm)[0] - target

        try:
            ends.append(optimize.brentq(g, a, b, xtol=xtol, maxiter=80))
        except ValueError:  # the inner optimum moved: keep the bracket's outer end
            ends.append(crossed)
    return float(ends[0]), float(ends[1])


def chi2_gof(observed, expected, n_params, min_expected=5.0):
    """Pearson's goodness of fit of counts, with bins merged until each expects ``min_expected``.

    Bins are merged left to right (and the remainder into the last bin), then
    ``X2 = sum (O - E)**2 / E`` on ``bins - 1 - n_params`` degrees of freedom.

    Returns
    -------
    dict
        ``statistic``, ``df``, ``p_value`` (``None`` when ``df < 1``), ``bins``.
    """
    obs = np.asarray(observed, dtype=float).ravel()
    exp = np.asarray(expected, dtype=float).ravel()
    mo, me = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(obs, exp):
        o_acc += o
        e_acc += e
        if e_acc >= min_expected:
            mo.append(o_acc)
            me.append(e_acc)
            o_acc = e_acc = 0.0
    if e_acc > 0 or o_acc > 0:
        if me:
            mo[-1] += o_acc
            me[-1] += e_acc
        else:
            mo.append(o_acc)
            me.append(e_acc)
    mo, me = np.array(mo), np.array(me)
    stat = float(np.sum((mo - me) ** 2 / np.maximum(me, 1e-300)))
    df = int(mo.size - 1 - n_params)
    p = float(stats.chi2.sf(stat, df)) if df >= 1 else None
    return dict(statistic=stat, df=df, p_value=p, bins=int(mo.size))


def binomial_deviance(k, n, p, n_params):
    """Deviance of binomial counts ``k`` of ``n`` against fitted probabilities ``p``.

    ``D = 2 sum [k log(k/(n p)) + (n - k) log((n - k)/(n (1 - p)))]`` on
    ``rows - n_params`` degrees of freedom, against chi-squared (valid when
    every row has several successes and failures expected).

    Returns
    -------
    dict
        ``statistic``, ``df``, ``p_value`` (``None`` when ``df < 1``).
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-300, 1.0 - 1e-16)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
        t2 = np.where(n - k > 0, (n - k) * np.log((n - k) / (n * (1.0 - p))), 0.0)
    stat = float(2.0 * np.sum(t1 + t2))
    df = int(k.size - n_params)
    pv = float(stats.chi2.sf(stat, df)) if df >= 1 else None
    return dict(statistic=stat, df=df, p_value=pv)
