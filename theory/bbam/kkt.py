"""The exact optimum of the allocation problem for any exponents, docs/models/bbam.md (4).

:func:`allocate_kkt` solves many questions at once (Newton's method on the log
of the Lagrange multiplier, vectorised over questions, with a bisection
fallback); :func:`allocate_kkt_scipy` solves one question with
:func:`scipy.optimize.brentq` and serves as the independent reference.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from theory._params import accepts_params, check_broadcast, check_real, check_real_array
from theory.bbam._layout import POS, c_beta_budget, col_max, inside, last_axis, reshape_out, row_sum

__all__ = ["allocate_kkt", "allocate_kkt_scipy"]

#: Newton steps of the vectorised KKT solver before a row falls back to
#: bisection (Newton typically needs 3-8), and the cap on bisection steps
#: (~60 suffice for the widest bracket that float64 can represent).
_NEWTON_MAXITER = 50
_KKT_MAXITER = 200

#: Questions per block of the vectorised KKT solver: its three work arrays of
#: ``_KKT_BLOCK * m`` floats stay in the processor cache and are reused, so no
#: large temporary is allocated (each would cost page faults).
_KKT_BLOCK = 8192


def _kkt_solve(c, beta, budget, mask, tol):
    """Vectorised docs/models/bbam.md (4) on ``(N, m)`` arrays; returns the ``(N, m)`` allocation.

    Works on ``t = ln(lambda)`` with the stationary points
    ``b_j(t) = exp(e_j (L_j - t))``, ``e_j = 1/(beta_j+1)``,
    ``L_j = ln(beta_j c_j)``, and Newton's method on the convex, strictly
    decreasing ``g(t) = ln(sum_j b_j(t)) - ln B`` (root ``g = 0``), one block
    of questions at a time (each block is vectorised).
    """
    n, m = c.shape
    out = np.empty((n, m))
    rows = min(n, _KKT_BLOCK)
    bufs = (np.empty((rows, m)), np.empty((rows, m)), np.empty((rows, m)))
    ln_budget = np.log(budget)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # a bisection midpoint far right of the root may underflow sum_j b_j
        # to 0; g = -inf then only moves the bracket
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            sub = None if mask is None else mask[start:stop]
            _kkt_block(c[start:stop], beta[start:stop], budget[start:stop],
                       ln_budget[start:stop], sub, tol, out[start:stop],
                       [buf[: stop - start] for buf in bufs])
    return out


def _kkt_block(c, beta, budget, ln_b, mask, tol, out, bufs):
    """Solve one block of questions into ``out`` (see :func:`_kkt_solve`).

    Masked-out entries get ``e_j = 0`` and weight 0 in every sum, so they stay
    out of the problem with finite arithmetic only (NaN and infinite values
    take slow paths through ``log`` and ``exp``).
    """
    e, big_l, work = bufs
    wt = None
    if mask is not None:  # masked-out entries may hold any padding
        wt = mask.astype(float)
        if not inside(c, **POS):
            c = np.where(mask, c, 1.0)
        if not inside(beta, **POS):
            beta = np.where(mask, beta, 1.0)
    np.add(beta, 1.0, out=e)
    np.reciprocal(e, out=e)
    np.log(beta, out=big_l)
    np.log(c, out=work)
    big_l += work  # ln(beta c) without under/overflow of the product
    # Left end of the bracket: b_j(t) = B alone at v_j = L_j - ln(B)/e_j, so at
    # t_lo = max_j v_j one term equals B and g >= 0 (derived here).
    np.divide(ln_b[:, None], e, out=work)
    np.subtract(big_l, work, out=work)
    if wt is not None:
        work *= wt
        work -= (1.0 - wt) * 1e300  # masked-out entries never attain the max
        e *= wt
    t_lo = col_max(work)
    t = _kkt_newton(big_l, e, wt, ln_b, t_lo, work, tol)
    np.subtract(big_l, t[:, None], out=out)
    out *= e
    np.exp(out, out=out)
    if wt is not None:
        out *= wt
    out *= (budget / row_sum(out))[:, None]  # sum exactly B (relative change <= tol)


def _kkt_newton(big_l, e, wt, ln_b, t_lo, work, tol):
    """Newton iteration of :func:`_kkt_solve` with a bisection fallback; returns ``t = ln(lambda)``.

    Newton from the left of the root (``t_lo``) stays left of it and increases
    monotonically, because g is convex and decreasing. Since g'' is a variance
    of the e_j in (0, 1), g'' <= 1/4, so after a Newton step s,
    |g(t + s)| <= s**2/8: s**2 <= 8 tol certifies |g| <= tol at the new point
    without evaluating it. Rows whose iteration leaves this pattern in floating
    point (a non-finite or backward step, or no convergence in
    ``_NEWTON_MAXITER`` steps) are
    solved by bisection (:func:`_kkt_bisect`). ``wt`` (0/1 floats or None)
    weights the terms of the sum.
    """
    ones = np.ones(big_l.shape[1])
    t = t_lo.copy()
    step_tol = 8.0 * tol
    root_tol = math.sqrt(step_tol)
    idx = np.arange(t.size)  # rows in the working set
    live = np.ones(t.size, dtype=bool)  # not yet converged, over the working set
    la, ea, wa, lb, ta = big_l, e, wt, ln_b, t
    failed = []
    for _ in range(_NEWTON_MAXITER):
        x = work[: idx.size]
        np.subtract(la, ta[:, None], out=x)
        x *= ea
        np.exp(x, out=x)
        s_sum = x @ ones if wa is None else np.einsum("ij,ij->i", x, wa)  # sum_j b_j
        d_sum = np.einsum("ij,ij->i", x, ea)  # -g'(t) sum_j b_j
        step = np.log(s_sum)
        step -= lb  # g(t)
        step *= s_sum
        step /= d_sum
        ta = ta + step
        bad = ~np.isfinite(ta) | (step < -root_tol)
        step *= step
        live &= step > step_tol  # False also for nan
        if bad.any():
            failed.append(idx[bad])
            live &= ~bad
        n_live = int(np.count_nonzero(live))
        if n_live == 0:
            t[idx] = ta
            break
        if n_live <= 0.75 * idx.size:  # compact the working set
            t[idx] = ta
            keep = np.flatnonzero(live)
            idx, la, ea, lb = idx[keep], la[keep], ea[keep], lb[keep]
            ta, live = ta[keep], live[keep]
            wa = None if wa is None else wa[keep]
    else:
        t[idx] = ta
        failed.append(idx[live])
    if failed:
        rows = np.concatenate(failed)
        t[rows] = _kkt_bisect(big_l[rows], e[rows], None if wt is None else wt[rows],
                              ln_b[rows], t_lo[rows], tol)
    return t


def _kkt_bisect(big_l, e, wt, ln_b, t_lo, tol):
    """Bisection on ``g(t) = ln(sum_j w_j exp(e_j (L_j - t))) - ln B`` over its bracket.

    The bracket is ``[t_lo, t_lo + (beta_max + 1) ln m]``: at the right end
    every ``b_j <= B/m``, so ``g <= 0`` (derived here). ``wt``
    (0/1 weights of the existing entries, or None) is as in :func:`_kkt_newton`.
    """
    if wt is None:
        wt = np.ones_like(e)
    lo = t_lo.copy()
    e_min = -col_max(-(e + (1.0 - wt)))  # over the existing entries
    hi = lo + math.log(big_l.shape[1]) / e_min
    for _ in range(_KKT_MAXITER):
        mid = 0.5 * (lo + hi)
        terms = np.exp(e * (big_l - mid[:, None])) * wt
        left = np.log(terms.sum(axis=-1)) > ln_b
        lo = np.where(left, mid, lo)
        hi = np.where(left, hi, mid)
        if (hi - lo <= tol * np.maximum(1.0, np.abs(mid))).all():
            return 0.5 * (lo + hi)
    raise RuntimeError(f"allocate_kkt did not converge in {_KKT_MAXITER} bisection steps")


@accepts_params
def allocate_kkt(c, beta, budget, mask=None, tol=1e-12):
    """Exact optimum of the allocation problem for any exponents, docs/models/bbam.md (4).

    Derived here from the paper's allocation problem, docs/models/bbam.md (3):
    each term ``c b**(-beta)`` is
    strictly convex and decreasing, so the budget binds, the optimum is unique
    and the KKT conditions are sufficient. Stationarity of the paper's
    Lagrangian ``sum_j c_j b_j**(-beta_j) + lambda (sum_j b_j - B)`` gives

    ``b_j = (beta_j c_j / lambda)**(1/(beta_j+1))``,

    with ``lambda > 0`` the unique root of ``sum_j b_j(lambda) = B``: every
    sub-question has the same marginal reduction
    ``beta_j c_j b_j**(-beta_j-1) = lambda``. This differs from the paper's
    Eq. (6) (:func:`~theory.bbam.allocate_paper`) unless all ``beta_j`` in a question are
    equal (docs/models/bbam.md, "Known disagreements with the papers").

    The root is found for all questions at once on ``t = ln(lambda)``
    (derived here): Newton's method on the convex decreasing
    ``ln(sum_j b_j / B)``, started at the lower end of the bracket
    ``[max_j t_j, max_j t_j + (beta_max+1) ln m]`` (``t_j`` where ``b_j``
    alone would be ``B``), from where it increases monotonically to the root
    (typically 3-5 steps); a row whose iteration fails in floating point falls
    back to bisection on the bracket. Converged rows leave the working set, and
    questions are processed in cache-sized blocks (10**6 questions x 8
    sub-questions take about 0.3 s on one core).

    Takes a :class:`~theory.bbam.BbamParams` in place of ``budget``:
    ``allocate_kkt(params, c=c, beta=beta)``.

    Parameters
    ----------
    c : array_like
        Initial epistemic uncertainties ``c_ij > 0``, sub-questions on the last
        axis.
    beta : array_like
        Exponents ``beta_ij > 0``; broadcasts against ``c``.
    budget : array_like
        Total budgets ``B_i > 0``; broadcasts against the leading (question)
        axes.
    mask : array_like of bool, optional
        Existing sub-questions (see the module notes).
    tol : float, default 1e-12
        Stopping tolerance on ``|ln(sum_j b_j(lambda) / B)|``, in ``(0, 1)``;
        the allocation is then rescaled to sum to ``B``, so the marginals
        ``beta_j c_j b_j**(-beta_j-1)`` agree to about ``(beta_max+1) tol``
        relative.

    Returns
    -------
    ndarray
        ``b*``, shape ``broadcast(leading axes, budget.shape) + (m,)``; positive
        where the sub-question exists and exactly 0 elsewhere; sums to ``B`` to
        rounding.

    See Also
    --------
    allocate_kkt_scipy : the same optimum for one question with ``brentq``.
    theory.bbam.allocate_paper : the paper's closed form, docs/models/bbam.md (5).
    """
    tol = check_real("tol", tol, 0.0, 1.0, lo_open=True, hi_open=True)
    c2, beta2, budget1, mask2, lead, m = c_beta_budget(c, beta, budget, mask, fill=None)
    b = _kkt_solve(c2, beta2, budget1, mask2, tol)
    return reshape_out(b, lead, m)


@accepts_params
def allocate_kkt_scipy(c, beta, budget):
    """docs/models/bbam.md (4) for ONE question with :func:`scipy.optimize.brentq` (reference).

    The root ``t* = ln(lambda)`` of
    ``h(t) = ln(sum_j (beta_j c_j)**(1/(beta_j+1)) exp(-t/(beta_j+1))) - ln B``
    (decreasing in ``t``) by ``brentq`` on a bracket widened from ``t = 0``
    until ``h(lo) > 0 > h(hi)``; then ``b_j = (beta_j c_j / lambda)**(1/(beta_j+1))``.
    Independent of the vectorised solver of :func:`allocate_kkt`, which the
    tests and ``benchmarks/bbam.py`` compare against it.

    Parameters
    ----------
    c : array_like, shape (m,)
        Initial epistemic uncertainties, ``> 0``.
    beta : float or array_like, shape (m,)
        Exponents, ``> 0``.
    budget : float
        Total budget, ``> 0``.

    Returns
    -------
    ndarray, shape (m,)
    """
    c = last_axis("c", c)
    if c.ndim != 1:
        raise ValueError(f"c must be one question (a 1-d array), got shape {c.shape}")
    c = check_real_array("c", c, **POS)
    beta = np.asarray(beta)
    check_broadcast("beta", beta.shape, "c", c.shape)
    beta = np.broadcast_to(check_real_array("beta", beta, **POS), c.shape)
    budget = check_real("budget", budget, 0.0, math.inf, lo_open=True, hi_open=True)
    ln_a = (np.log(beta) + np.log(c)) / (beta + 1.0)
    e = 1.0 / (beta + 1.0)
    ln_b = math.log(budget)

    def h(t):
        return float(special.logsumexp(ln_a - e * t)) - ln_b

    lo, hi, width = 0.0, 0.0, 1.0
    while h(lo) <= 0.0:
        lo -= width
        width *= 2.0
    width = 1.0
    while h(hi) >= 0.0:
        hi += width
        width *= 2.0
    t = optimize.brentq(h, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    return np.exp(ln_a - e * t)


