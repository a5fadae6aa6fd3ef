"""Closed forms of Plan-and-Budget: the BBAM allocation model, E3 and the decay schedules.

Lin, Zeng, Zhu, Wang, Shun, Wu and Zhou, "Plan and Budget: Effective and
Efficient Test-Time Scaling on Large Language Model Reasoning", arXiv
2505.16122 (v1 May 2025; v3 March 2026, ICLR 2026), and the authors' code
https://github.com/junhongmit/P-and-B at commit ``7f75b44``. Labels (D1..D8,
P1, T1, T2, C1, C2, A1..A13) are those of the project spec
``shared/specs/bbam.md``; the public surface is fixed by
``docs/bbam-theory-api.md``.

Provenance is stated in every docstring:

* "(paper)", "(v3 Eq. (6))", "(code)": the formula is the paper's or the
  official code's, as quoted by the spec's sources.
* "Derived for this project": a consequence of the stated facts, derived and
  checked numerically (and symbolically in :mod:`theory.symbolic.bbam`) for
  budgetlab; the paper does not state it in this form.
* Choices the paper leaves open ([open] in the spec) are parameters with a
  documented default and are never described as the paper's choice.

Conventions
-----------
* Sub-questions lie on the **last** axis; every function broadcasts over the
  leading (question) axes. ``budget`` broadcasts against those leading axes.
* ``mask`` (bool, broadcastable to the shape of ``c`` or ``credits``) marks
  the sub-questions that exist, so that questions with different numbers of
  sub-questions share one array; ``None`` means that all exist. Values at
  masked-out positions are ignored (they may be padding such as 0 or NaN), and
  masked-out entries of returned allocations are exactly 0. Every question
  must keep at least one sub-question.
* The exponent is written ``beta`` and the utility scale ``alpha`` (spec 0). A
  larger ``beta`` means a faster fall of uncertainty per token, i.e. an easier
  sub-question (A2).
* Functions that return one value per question return a ``float`` when there
  is a single question and an ``ndarray`` otherwise.
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import optimize, special

from ._params import (check_bool_array, check_broadcast, check_choice, check_int,
                      check_int_array, check_real, check_real_array)

__all__ = [
    # D1-D3
    "uncertainty",
    "utility",
    "objective",
    # P1, T1, T2, C1, C2, bridge
    "allocate_kkt",
    "allocate_kkt_scipy",
    "allocate_paper",
    "allocate_uniform",
    "equal_beta_value",
    "uniform_value",
    "beta_star",
    "bridge_prior",
    # D4
    "e3",
    "e3_from_scores",
    "e3_relative_change",
    "e3_ratio_identity",
    "PAPER_E3",
    "paper_relative_changes",
    # D5-D8
    "SCHEDULES",
    "ROUNDINGS",
    "schedule_weights",
    "plan_and_budget_shares",
    "allocate_plan_and_budget",
    "LEVEL_BUDGET",
    "level_budget",
    # sub-question outcomes
    "SYNTHESIS_RULES",
    "solve_probability",
    "expected_tokens",
    "synthesis_probability",
    # section 7.4 conjugate models and estimator bias
    "normal_bayes_risk",
    "pareto_posterior_variance",
    "e3_estimator_bias",
]

#: The five decay schedules of D5, by their ``--decay`` flag in the official code.
SCHEDULES = ("constant", "linear", "polynomial", "exponential", "cosine")
#: Integer rounding rules of :func:`allocate_plan_and_budget`.
ROUNDINGS = ("paper", "largest_remainder")
#: Synthesis rules of :func:`synthesis_probability`.
SYNTHESIS_RULES = ("all", "any", "majority")
#: Query-level budget by difficulty level (D8; ``level_map`` in the official code).
LEVEL_BUDGET = {1: 200, 2: 250, 3: 350, 4: 450, 5: 600}
_LEVEL_TABLE = np.array([0, 200, 250, 350, 450, 600], dtype=np.int64)

#: Newton steps of the vectorised KKT solver before a row falls back to
#: bisection (Newton typically needs 3-8), and the cap on bisection steps
#: (~60 suffice for the widest bracket that float64 can represent).
_NEWTON_MAXITER = 50
_KKT_MAXITER = 200

_POS = {"lo": 0.0, "lo_open": True, "hi": math.inf, "hi_open": True}  # (0, inf)
_NONNEG = {"lo": 0.0, "hi": math.inf, "hi_open": True}  # [0, inf)


# ---------------------------------------------------------------------------
# array layout (unchecked internals apart from the _params calls)
# ---------------------------------------------------------------------------


def _out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _lead_out(x, lead):
    """Reshape a per-question vector to the leading shape; 0-d gives a float."""
    x = np.asarray(x).reshape(lead)
    return float(x) if x.ndim == 0 else x


def _last_axis(name, value):
    """``value`` as an array with at least one sub-question on its last axis."""
    arr = np.asarray(value)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(
            f"{name} must be an array with at least one sub-question on its last axis, "
            f"got shape {arr.shape}"
        )
    return arr


def _layout(first_name, first, others=(), mask=None, budget=None, budget_name="budget"):
    """Broadcast per-sub-question arrays, a mask and a per-question budget.

    Returns ``(arrays, mask2, budget1, lead, m)``: the arrays (first, then
    others, unvalidated) as ``(N, m)`` views or copies, the mask as ``(N, m)``
    bool or ``None``, the budget as ``(N,)`` or ``None``, the leading shape and
    the number of sub-question slots ``m``.
    """
    first = _last_axis(first_name, first)
    shape = first.shape
    arrays = [first]
    for name, value in others:
        arr = np.asarray(value)
        shape = check_broadcast(name, arr.shape, first_name, shape)
        arrays.append(arr)
    if mask is not None:
        mask = check_bool_array("mask", mask)
        shape = check_broadcast("mask", mask.shape, first_name, shape)
    lead, m = shape[:-1], shape[-1]
    if budget is not None:
        budget = np.asarray(budget)
        lead = check_broadcast(budget_name, budget.shape, f"the questions of {first_name}", lead)
    full = lead + (m,)
    n = math.prod(lead)
    arrays = [np.broadcast_to(a, full).reshape(n, m) for a in arrays]
    if mask is not None:
        mask = np.broadcast_to(mask, full).reshape(n, m)
        if not mask.any(axis=-1).all():
            raise ValueError("mask must keep at least one sub-question in every question")
        if mask.all():
            mask = None
    if budget is not None:
        budget = np.broadcast_to(budget, lead).reshape(n)
    return arrays, mask, budget, lead, m


def _inside(arr, lo=None, hi=None, lo_open=False, hi_open=False):
    """Whether every element of a float array lies in the interval (False on NaN)."""
    if arr.size == 0:
        return True
    low, high = arr.min(), arr.max()
    ok_lo = lo is None or (low > lo if lo_open else low >= lo)
    ok_hi = hi is None or (high < hi if hi_open else high <= hi)
    return bool(ok_lo and ok_hi)


def _checked(name, arr, mask, fill=1.0, **interval):
    """Validate ``arr`` where ``mask`` holds; return a float array with ``fill`` elsewhere.

    The values are checked by :func:`check_real_array`; a float64 array whose
    minimum and maximum already lie in the interval is not copied (without a
    mask), which keeps large inputs cheap. Callers never modify the result.
    ``fill=None`` returns the masked-out entries unchanged (unvalidated).
    """
    if mask is None:
        if arr.dtype == np.float64 and _inside(arr, **interval):
            return arr
        return check_real_array(name, arr, **interval)
    values = arr[mask]
    if not (values.dtype == np.float64 and _inside(values, **interval)):
        check_real_array(name, values, **interval)
    if fill is None:
        return arr if arr.dtype == np.float64 else np.asarray(arr, dtype=float)
    return np.where(mask, arr, fill).astype(float, copy=False)


def _reshape_out(b, lead, m):
    return b.reshape(lead + (m,))


def _row_sum(x):
    """Sum over the last axis of an ``(N, m)`` float array (BLAS matrix-vector product)."""
    return x @ np.ones(x.shape[-1])


def _col_max(x):
    """Maximum over the last axis of an ``(N, m)`` array, one column at a time."""
    acc = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(acc, x[:, j], out=acc)
    return acc


# ---------------------------------------------------------------------------
# D1-D3: uncertainty, utility and the BBAM objective
# ---------------------------------------------------------------------------


def _power_law(b, c, beta):
    """``c * b**(-beta)`` with ``inf`` at ``b == 0`` and no warnings."""
    with np.errstate(divide="ignore", over="ignore"):
        return c * np.power(b, -beta)


def uncertainty(b, c, beta, u_ale=0.0):
    """Total predictive uncertainty ``U(b) = c b**(-beta) + u_ale`` (D1, D2).

    The epistemic part follows the paper's inverse power law
    ``U_epi(s_ij | b_ij) = c_ij / b_ij**beta_ij`` (D2, an assumption of the
    paper, not derived there) and the aleatoric part ``u_ale`` is constant in
    the budget (D1). No clipping to ``[0, 1]`` is done (A12).

    Parameters
    ----------
    b : array_like
        Tokens spent, ``>= 0`` (``b == 0`` gives ``inf``).
    c : array_like
        Initial epistemic uncertainty (the value at ``b = 1``), ``> 0``.
    beta : array_like
        Power-law exponent, ``> 0`` (the paper assumes ``beta >= 1``).
    u_ale : array_like, default 0.0
        Aleatoric uncertainty, ``>= 0``.

    Returns
    -------
    float or ndarray
        Broadcast of the inputs.
    """
    b = check_real_array("b", b, **_NONNEG)
    c = check_real_array("c", c, **_POS)
    beta = check_real_array("beta", beta, **_POS)
    u_ale = check_real_array("u_ale", u_ale, **_NONNEG)
    return _out(_power_law(b, c, beta) + u_ale)


def utility(b, c, beta, u_ale=0.0, alpha=1.0):
    """Utility of a sub-question, ``r(b) = alpha (1 - U(b))`` (D3, paper).

    Equals ``alpha (1 - u_ale) - alpha c b**(-beta)``; it is ``-inf`` at
    ``b == 0``. No clipping is done, so ``r`` may be negative when
    ``U(b) > 1`` (A12).

    Parameters
    ----------
    b, c, beta, u_ale : array_like
        As in :func:`uncertainty`.
    alpha : array_like, default 1.0
        Reward scale, ``> 0``.

    Returns
    -------
    float or ndarray
    """
    alpha = check_real_array("alpha", alpha, **_POS)
    u = np.asarray(uncertainty(b, c, beta, u_ale))
    return _out(alpha * (1.0 - u))


def objective(b, c, beta, mask=None):
    """BBAM objective ``sum_j c_j b_j**(-beta_j)`` over the last axis (P1, paper).

    Minimising it under ``sum_j b_j <= B`` is the paper's allocation problem
    P1 (equivalent to maximising ``R_total``). It is ``inf`` when some
    existing ``b_j == 0``.

    Parameters
    ----------
    b : array_like
        Allocation, ``>= 0``, sub-questions on the last axis.
    c : array_like
        Initial epistemic uncertainties, ``> 0``; broadcasts against ``b``.
    beta : array_like
        Exponents, ``> 0``; broadcasts against ``b``.
    mask : array_like of bool, optional
        Existing sub-questions; the others do not count.

    Returns
    -------
    float or ndarray
        One value per question (the leading shape).
    """
    (b2, c2, beta2), mask2, _, lead, m = _layout(
        "b", b, (("c", c), ("beta", beta)), mask)
    b2 = _checked("b", b2, mask2, **_NONNEG)
    c2 = _checked("c", c2, mask2, **_POS)
    beta2 = _checked("beta", beta2, mask2, **_POS)
    terms = _power_law(b2, c2, beta2)
    if mask2 is not None:
        terms[~mask2] = 0.0
    return _lead_out(terms.sum(axis=-1), lead)


# ---------------------------------------------------------------------------
# P1 / T1: the exact KKT optimum
# ---------------------------------------------------------------------------


def _kkt_prepare(c, beta, budget, mask, fill=1.0):
    (c2, beta2), mask2, budget1, lead, m = _layout(
        "c", c, (("beta", beta),), mask, budget)
    c2 = _checked("c", c2, mask2, fill, **_POS)
    beta2 = _checked("beta", beta2, mask2, fill, **_POS)
    budget1 = _checked("budget", budget1, None, **_POS)
    return c2, beta2, budget1, mask2, lead, m


#: Questions per block of the vectorised KKT solver: its three work arrays of
#: ``_KKT_BLOCK * m`` floats stay in the processor cache and are reused, so no
#: large temporary is allocated (each would cost page faults).
_KKT_BLOCK = 8192


def _kkt_solve(c, beta, budget, mask, tol):
    """Vectorised T1 on ``(N, m)`` arrays; returns the ``(N, m)`` allocation.

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
        if not _inside(c, **_POS):
            c = np.where(mask, c, 1.0)
        if not _inside(beta, **_POS):
            beta = np.where(mask, beta, 1.0)
    np.add(beta, 1.0, out=e)
    np.reciprocal(e, out=e)
    np.log(beta, out=big_l)
    np.log(c, out=work)
    big_l += work  # ln(beta c) without under/overflow of the product
    # Left end of the bracket: b_j(t) = B alone at v_j = L_j - ln(B)/e_j, so at
    # t_lo = max_j v_j one term equals B and g >= 0 (derived for this project).
    np.divide(ln_b[:, None], e, out=work)
    np.subtract(big_l, work, out=work)
    if wt is not None:
        work *= wt
        work -= (1.0 - wt) * 1e300  # masked-out entries never attain the max
        e *= wt
    t_lo = _col_max(work)
    t = _kkt_newton(big_l, e, wt, ln_b, t_lo, work, tol)
    np.subtract(big_l, t[:, None], out=out)
    out *= e
    np.exp(out, out=out)
    if wt is not None:
        out *= wt
    out *= (budget / _row_sum(out))[:, None]  # sum exactly B (relative change <= tol)


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
            idx, la, ea, lb, ta, live = idx[keep], la[keep], ea[keep], lb[keep], ta[keep], live[keep]
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
    every ``b_j <= B/m``, so ``g <= 0`` (derived for this project). ``wt``
    (0/1 weights of the existing entries, or None) is as in :func:`_kkt_newton`.
    """
    if wt is None:
        wt = np.ones_like(e)
    lo = t_lo.copy()
    e_min = -_col_max(-(e + (1.0 - wt)))  # over the existing entries
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


def allocate_kkt(c, beta, budget, mask=None, tol=1e-12):
    """Exact optimum of the BBAM problem P1 for heterogeneous exponents (T1).

    Derived for this project (spec P1, T1): each term ``c b**(-beta)`` is
    strictly convex and decreasing, so the budget binds, the optimum is unique
    and the KKT conditions are sufficient. Stationarity of the paper's
    Lagrangian ``sum_j c_j b_j**(-beta_j) + lambda (sum_j b_j - B)`` gives

    ``b_j = (beta_j c_j / lambda)**(1/(beta_j+1))``,

    with ``lambda > 0`` the unique root of ``sum_j b_j(lambda) = B``: every
    sub-question has the same marginal reduction
    ``beta_j c_j b_j**(-beta_j-1) = lambda``. This differs from the paper's
    Eq. (6) (:func:`allocate_paper`) unless all ``beta_j`` in a question are
    equal (A1).

    The root is found for all questions at once on ``t = ln(lambda)``
    (derived for this project): Newton's method on the convex decreasing
    ``ln(sum_j b_j / B)``, started at the lower end of the bracket
    ``[max_j t_j, max_j t_j + (beta_max+1) ln m]`` (``t_j`` where ``b_j``
    alone would be ``B``), from where it increases monotonically to the root
    (typically 3-5 steps); a row whose iteration fails in floating point falls
    back to bisection on the bracket. Converged rows leave the working set, and
    questions are processed in cache-sized blocks (10**6 questions x 8
    sub-questions take about 0.3 s on one core).

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
    allocate_paper : the paper's closed form (T2).
    """
    tol = check_real("tol", tol, 0.0, 1.0, lo_open=True, hi_open=True)
    c2, beta2, budget1, mask2, lead, m = _kkt_prepare(c, beta, budget, mask, fill=None)
    b = _kkt_solve(c2, beta2, budget1, mask2, tol)
    return _reshape_out(b, lead, m)


def allocate_kkt_scipy(c, beta, budget):
    """T1 for ONE question with :func:`scipy.optimize.brentq` (reference solver).

    The spec's ``BBAM_OPTIMAL`` (section 3): the root ``t* = ln(lambda)`` of
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
    c = _last_axis("c", c)
    if c.ndim != 1:
        raise ValueError(f"c must be one question (a 1-d array), got shape {c.shape}")
    c = check_real_array("c", c, **_POS)
    beta = np.asarray(beta)
    check_broadcast("beta", beta.shape, "c", c.shape)
    beta = np.broadcast_to(check_real_array("beta", beta, **_POS), c.shape)
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


# ---------------------------------------------------------------------------
# T2, uniform, C1, C2, bridge identity
# ---------------------------------------------------------------------------


def allocate_paper(c, beta, budget, mask=None):
    """The paper's closed form (v3 Eq. (6); spec T2).

    ``b_ij = B_i (c_ij beta_ij)**(1/(beta_ij+1)) / sum_k (c_ik beta_ik)**(1/(beta_ik+1))``.

    It normalises the stationary points at ``lambda = 1``. It equals the exact
    optimum :func:`allocate_kkt` when all exponents within a question are
    equal, and not otherwise (A1; derived for this project): with
    ``c = (0.5, 0.3, 0.9)``, ``beta = (1, 1.5, 2.5)``, ``B = 300`` its
    objective is about twice the optimum's and worse than uniform.

    Parameters
    ----------
    c, beta, budget, mask
        As in :func:`allocate_kkt`.

    Returns
    -------
    ndarray
        Same shape as :func:`allocate_kkt`.
    """
    c2, beta2, budget1, mask2, lead, m = _kkt_prepare(c, beta, budget, mask)
    lv = (np.log(beta2) + np.log(c2)) / (beta2 + 1.0)
    if mask2 is not None:
        lv[~mask2] = -np.inf
    w = np.exp(lv - _col_max(lv)[:, None])
    b = w * (budget1 / w.sum(axis=-1))[:, None]
    return _reshape_out(b, lead, m)


def _uniform_mask(mask, m):
    if m is not None:
        if mask is not None:
            raise ValueError("give either mask or m to allocate_uniform, not both")
        mask = m
    if mask is None:
        raise ValueError("allocate_uniform needs the number of sub-questions m or a mask")
    if isinstance(mask, (int, np.integer)) and not isinstance(mask, (bool, np.bool_)):
        m = check_int("m", mask, 1)
        mask = np.ones(m, dtype=bool)
    return mask


def allocate_uniform(budget, mask=None, m=None):
    """Uniform allocation ``B / m`` to each existing sub-question.

    The real-valued counterpart of the official code's
    ``planned_local_uniform`` baseline (``floor(B / m)`` words each; D6).

    Parameters
    ----------
    budget : array_like
        Total budgets, ``> 0``, one per question.
    mask : array_like of bool or int
        Existing sub-questions (sub-questions on the last axis), or the number
        of sub-questions ``m >= 1`` when every question has the same ``m``.
    m : int, optional
        Keyword form of the number of sub-questions (instead of ``mask``).

    Returns
    -------
    ndarray
        Shape ``broadcast(budget.shape, mask.shape[:-1]) + (m,)``; masked-out
        entries are 0.
    """
    mask = _uniform_mask(mask, m)
    (mask2,), _, budget1, lead, m_slots = _layout("mask", check_bool_array("mask", mask),
                                                  budget=budget)
    budget1 = check_real_array("budget", budget1, **_POS)
    count = mask2.sum(axis=-1)
    if not (count > 0).all():
        raise ValueError("mask must keep at least one sub-question in every question")
    b = np.where(mask2, (budget1 / count)[:, None], 0.0)
    return _reshape_out(b, lead, m_slots)


def _common_beta(beta2, mask2):
    """The per-question common exponent, checked to be constant over existing entries."""
    first = beta2[np.arange(beta2.shape[0]), np.argmax(mask2, axis=-1)] if mask2 is not None \
        else beta2[:, 0]
    same = beta2 == first[:, None]
    if mask2 is not None:
        same |= ~mask2
    if not same.all():
        raise ValueError(
            "beta must be common to the sub-questions of each question for the equal-beta "
            "closed form; use objective(allocate_kkt(...)) otherwise"
        )
    return first


def equal_beta_value(c, beta, budget, mask=None):
    """Optimal epistemic total for a common exponent, ``B**-beta (sum_j c_j**(1/(beta+1)))**(beta+1)`` (C1).

    Derived for this project (spec C1): with all ``beta_j = beta`` the
    optimum is T2 = T1, ``b_j = B c_j**(1/(beta+1)) / sum_k c_k**(1/(beta+1))``,
    and substituting it into ``sum_j c_j b_j**(-beta)`` gives the closed form.
    By Hoelder's inequality it never exceeds :func:`uniform_value`.

    Parameters
    ----------
    c : array_like
        ``> 0``, sub-questions on the last axis.
    beta : array_like
        ``> 0``; broadcasts against ``c`` and must be constant over the existing
        sub-questions of each question (e.g. a scalar, or ``beta[..., None]``
        for one exponent per question).
    budget : array_like
        ``> 0``, one per question.
    mask : array_like of bool, optional

    Returns
    -------
    float or ndarray
        One value per question.
    """
    c2, beta2, budget1, mask2, lead, _ = _kkt_prepare(c, beta, budget, mask)
    bq = _common_beta(beta2, mask2)
    powers = np.power(c2, 1.0 / (beta2 + 1.0))
    if mask2 is not None:
        powers[~mask2] = 0.0
    total = powers.sum(axis=-1)
    value = np.exp((bq + 1.0) * np.log(total) - bq * np.log(budget1))
    return _lead_out(value, lead)


def uniform_value(c, beta, budget, mask=None):
    """Objective of the uniform allocation, ``sum_j c_j (B/m)**(-beta_j)``.

    For a common exponent this is ``m**beta B**-beta sum_j c_j`` (spec C1).

    Parameters
    ----------
    c, beta, budget, mask
        As in :func:`allocate_kkt` (``beta`` may differ across sub-questions).

    Returns
    -------
    float or ndarray
        One value per question.
    """
    c2, beta2, budget1, mask2, lead, _ = _kkt_prepare(c, beta, budget, mask)
    count = np.full(c2.shape[0], c2.shape[1]) if mask2 is None else mask2.sum(axis=-1)
    terms = c2 * np.power((budget1 / count)[:, None], -beta2)
    if mask2 is not None:
        terms[~mask2] = 0.0
    return _lead_out(terms.sum(axis=-1), lead)


def beta_star(c, lam=1.0):
    """Exponent that receives the most tokens, ``beta* = 1 / W0(c / (lam e))`` (C2).

    Derived for this project (spec C2): for fixed ``c`` the stationary point
    ``(c beta / lam)**(1/(beta+1))`` is unimodal in ``beta > 0`` (it tends to 0
    as ``beta -> 0+`` and to 1 as ``beta -> inf``); setting
    ``d/dbeta ln(c beta / lam)/(beta + 1) = 0`` gives
    ``ln(c beta / lam) = 1 + 1/beta``, i.e. ``t e**t = c/(lam e)`` with
    ``t = 1/beta``. ``lam = 1`` is the paper's weight in Eq. (6) (T2), whose
    "medium difficulty gets the most tokens" reading is the paper's; with the
    exact multiplier of T1 the peak moves to ``1/W0(c/(lam e))`` and lies below
    1 for realistic budgets.

    Parameters
    ----------
    c : array_like
        ``> 0``.
    lam : array_like, default 1.0
        Lagrange multiplier, ``> 0``.

    Returns
    -------
    float or ndarray
        ``beta* > 0`` (the real part of :func:`scipy.special.lambertw` on the
        principal branch).
    """
    c = check_real_array("c", c, **_POS)
    lam = check_real_array("lam", lam, **_POS)
    z = np.exp(np.log(c) - np.log(lam) - 1.0)
    return _out(1.0 / special.lambertw(z, 0).real)


def bridge_prior(w, f, beta, kappa=1.0):
    """Implied prior under which a schedule is the BBAM optimum, ``c_j = kappa (w_j f_j)**(beta+1)``.

    Bridge identity, derived for this project: for any common ``beta``, the
    Plan-and-Budget allocation ``B w_j f_j / sum_k w_k f_k`` (D6) equals the
    T2 (= T1) allocation with these ``c_j``, for every ``kappa > 0``. So
    polynomial decay ``(m - i)**p`` is BBAM-optimal when ``c`` falls with
    position as ``(m - i)**(p (beta + 1))``.

    Parameters
    ----------
    w : array_like
        Complexity weights (credits or normalised credits), ``>= 0``.
    f : array_like
        Schedule multipliers (:func:`schedule_weights`), ``>= 0``.
    beta : array_like
        Common exponent, ``> 0``.
    kappa : array_like, default 1.0
        Scale, ``> 0``; does not change the allocation.

    Returns
    -------
    float or ndarray
        ``c``; zero where ``w f == 0`` (such a prior is outside the BBAM domain
        ``c > 0``).
    """
    w = check_real_array("w", w, **_NONNEG)
    f = check_real_array("f", f, **_NONNEG)
    beta = check_real_array("beta", beta, **_POS)
    kappa = check_real_array("kappa", kappa, **_POS)
    return _out(kappa * np.power(w * f, beta + 1.0))


# ---------------------------------------------------------------------------
# D4: E3
# ---------------------------------------------------------------------------


def e3(A, T):
    """Efficiency-aware effectiveness score ``E3 = A**2 / T`` (D4; paper, code).

    ``A`` is the dataset-average score **in percent** (accuracy, ROUGE-L x 100
    or pass score x 100; A11) and ``T`` the average number of completion tokens
    per query (A8). Only this scaling fits the reported values (o4-mini on
    MATH-500: E3 = 15.95 with A ~ 95 means T ~ 566).

    Parameters
    ----------
    A : array_like
        Score in ``[0, 100]``.
    T : array_like
        Mean completion tokens, ``> 0``.

    Returns
    -------
    float or ndarray
    """
    A = check_real_array("A", A, 0.0, 100.0)
    T = check_real_array("T", T, **_POS)
    return _out(A * A / T)


def e3_from_scores(scores, tokens):
    """E3 of a dataset from per-query results, ``(100 mean(score))**2 / mean(tokens)`` (D4; code).

    E3 is computed from **dataset means**, as the official code does
    (``score * score_over_avg_tokens``), not as the mean of per-query E3.

    Parameters
    ----------
    scores : array_like
        Per-query scores in ``[0, 1]``, queries on the last axis.
    tokens : array_like
        Per-query completion tokens, ``>= 0``; broadcasts against ``scores``;
        every mean must be ``> 0``.

    Returns
    -------
    float or ndarray
        One value per leading index.
    """
    (s2, t2), _, _, lead, _ = _layout("scores", scores, (("tokens", tokens),))
    s2 = check_real_array("scores", s2, 0.0, 1.0)
    t2 = check_real_array("tokens", t2, **_NONNEG)
    mean_t = t2.mean(axis=-1)
    if not (mean_t > 0).all():
        raise ValueError("tokens must have a positive mean, got 0")
    A = 100.0 * s2.mean(axis=-1)
    return _lead_out(A * A / mean_t, lead)


def e3_relative_change(e3_old, e3_new):
    """Relative change ``E3_new / E3_old - 1`` as a fraction (spec 4, 7.3).

    Parameters
    ----------
    e3_old : array_like
        ``> 0``.
    e3_new : array_like
        ``>= 0``.

    Returns
    -------
    float or ndarray
        E.g. ``0.47 / 0.16 - 1 = 1.9375`` (the v3 headline "+193.8%").
    """
    e3_old = check_real_array("e3_old", e3_old, **_POS)
    e3_new = check_real_array("e3_new", e3_new, **_NONNEG)
    return _out(e3_new / e3_old - 1.0)


def e3_ratio_identity(A, T, A2, T2):
    """Ratio of two E3 values from their scores and tokens, ``(A2/A)**2 (T/T2)`` (D4).

    Derived for this project from ``E3 = A**2/T``: the elasticities are +2 in
    ``A`` and -1 in ``T``, so a 1% accuracy loss is offset by a 2% token cut.

    Parameters
    ----------
    A, T : array_like
        Old score in ``(0, 100]`` and mean tokens ``> 0``.
    A2, T2 : array_like
        New score in ``[0, 100]`` and mean tokens ``> 0``.

    Returns
    -------
    float or ndarray
        ``E3(A2, T2) / E3(A, T)``.
    """
    A = check_real_array("A", A, 0.0, 100.0, lo_open=True)
    T = check_real_array("T", T, **_POS)
    A2 = check_real_array("A2", A2, 0.0, 100.0)
    T2 = check_real_array("T2", T2, **_POS)
    return _out((A2 / A) ** 2 * (T / T2))


#: E3 comparisons reported for the paper (spec section 4 table). ``old`` and
#: ``new`` are E3 values as printed (2 decimals), ``stated_change`` the relative
#: change as stated, in percent; the headline percentages appear to have been
#: computed from the rounded E3 values. The v1 headline "+187.5%" is not a row:
#: that it came from 0.16 -> 0.46 is an inference of the spec ([open]).
PAPER_E3 = (
    {"task": "MATH-500", "model": "DS-LLaMA-70B",
     "comparison": "Global Budget -> Plan-and-Budget",
     "old": 4.55, "new": 5.89, "stated_change": 29.4, "source": "[review], [paper]"},
    {"task": "MATH-500", "model": "o4-mini",
     "comparison": "Global Budget -> Plan-and-Budget",
     "old": 13.25, "new": 15.95, "stated_change": 20.3, "source": "[paper]"},
    {"task": "MATH-500", "model": "DS-Qwen-32B",
     "comparison": "Global Budget -> Plan-and-Budget (cosine)",
     "old": 5.26, "new": 5.92, "stated_change": 12.5, "source": "[review] reviewer 5, Table 3"},
    {"task": "NaturalInstructions", "model": "DS-Qwen-32B",
     "comparison": "baseline -> Plan-and-Budget",
     "old": 2.33, "new": 2.86, "stated_change": 22.7, "source": "[review]"},
    {"task": "TravelPlanner", "model": "DS-Qwen-32B",
     "comparison": "baseline -> Plan-and-Budget (polynomial)",
     "old": 0.16, "new": 0.47, "stated_change": 193.8, "source": "[review], [paper] (v3 headline)"},
)


def paper_relative_changes():
    """Relative E3 changes of :data:`PAPER_E3` recomputed from its E3 values, in percent.

    ``100 (new / old - 1)`` for each row, in the order of :data:`PAPER_E3`,
    to be compared with its ``stated_change`` (spec 4: e.g. 5.89/4.55 gives
    29.45 against the stated 29.4, 0.47/0.16 gives 193.75 against 193.8).

    Returns
    -------
    tuple of float
    """
    return tuple(100.0 * (row["new"] / row["old"] - 1.0) for row in PAPER_E3)


# ---------------------------------------------------------------------------
# D5-D8: schedules, Plan-and-Budget allocation, level budgets
# ---------------------------------------------------------------------------


def _schedule_params(p, gamma, offset):
    p = check_real("p", p, 0.0, math.inf, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    offset = check_real("offset", offset, 0.0, math.inf, hi_open=True)
    return p, gamma, offset


@lru_cache(maxsize=256)
def _schedule_row(name, m, p, gamma, offset):
    """f(i; m) for i = 0..m-1, with the official code's scalar arithmetic (D5)."""
    if name == "constant":
        vals = [1.0] * m
    elif name == "linear":
        vals = [float(m - i) for i in range(m)]
    elif name == "polynomial":
        vals = [float((m - i) ** p) for i in range(m)]
    elif name == "exponential":
        vals = [float(gamma**i) for i in range(m)]
    elif m > 1:  # cosine
        vals = [float(0.5 * (1 + np.cos(np.pi * i / (m - 1))) + offset) for i in range(m)]
    else:
        vals = [1.0]
    return tuple(vals)


def schedule_weights(name, m, p=2.0, gamma=0.9, offset=0.1):
    """Positional decay-schedule multipliers ``f(i; m)``, ``i = 0..m-1`` (D5; code).

    ========================= ======================================================
    ``constant`` (non-decay)  ``1``
    ``linear``                ``m - i``
    ``polynomial``            ``(m - i)**p``
    ``exponential``           ``gamma**i``
    ``cosine`` (annealing)    ``(1 + cos(pi i / (m-1)))/2 + offset`` (``1`` if ``m = 1``)
    ========================= ======================================================

    The formulas are the official code's (``inference/_5_planned_local_weighted_model.py``);
    the paper lists the same five families. The defaults ``p = 2`` and
    ``gamma = 0.9`` are the code's fixed values; whether the paper varies them
    is open (A5). The cosine ``offset = 0.1`` exists only in the code; the
    paper's formula is the plain ``(1 + cos)/2`` (``offset = 0``), which gives
    the last sub-question no tokens (A4). All five are non-increasing in ``i``
    for these parameter ranges; constant factors drop out on normalisation.

    Parameters
    ----------
    name : {"constant", "linear", "polynomial", "exponential", "cosine"}
    m : int
        Number of sub-questions, ``>= 1``.
    p : float, default 2.0
        Polynomial power, ``>= 0``.
    gamma : float, default 0.9
        Exponential base, in ``(0, 1]``.
    offset : float, default 0.1
        Cosine offset, ``>= 0``.

    Returns
    -------
    ndarray, shape (m,)
    """
    check_choice("schedule", name, SCHEDULES)
    m = check_int("m", m, 1)
    p, gamma, offset = _schedule_params(p, gamma, offset)
    return np.array(_schedule_row(name, m, p, gamma, offset))


def _pb_prepare(credits, schedule, mask, budget, p=2.0, gamma=0.9, offset=0.1):
    """Layout, checks and real shares ``s`` (N, m) of D6, matching the code's float ops."""
    check_choice("schedule", schedule, SCHEDULES)
    p, gamma, offset = _schedule_params(p, gamma, offset)
    (cr,), mask2, budget1, lead, m = _layout("credits", credits, (), mask, budget)
    cr = _checked("credits", cr, mask2, **_POS)
    n = cr.shape[0]
    if mask2 is None:
        counts = np.full(n, m)
        pos = np.broadcast_to(np.arange(m), (n, m))
    else:
        counts = mask2.sum(axis=-1)
        pos = np.cumsum(mask2, axis=-1) - 1
    table = np.zeros((m + 1, m))
    for k in np.unique(counts):
        table[k, :k] = _schedule_row(schedule, int(k), p, gamma, offset)
    f = table[counts[:, None], pos]
    g = cr * f
    if mask2 is not None:
        g[~mask2] = 0.0
    # Normalise each question over its own m entries with the code's float
    # sum. numpy adds a[0] + (a[1] + a[2] + ...) in order when fewer than 9
    # values are summed, so zeros of masked-out slots change nothing there;
    # longer rows are summed pairwise, so they are packed and summed over
    # exactly their own m entries.
    total = np.empty(n)
    if mask2 is None or m <= 8:
        total[:] = g.sum(axis=-1)
    else:
        order = np.argsort(~mask2, axis=-1, kind="stable")
        packed = np.take_along_axis(g, order, axis=-1)
        for k in np.unique(counts):
            rows = counts == k
            total[rows] = packed[rows, :k].sum(axis=-1)
    s = g / total[:, None]
    return s, mask2, budget1, counts, lead, m


def plan_and_budget_shares(credits, schedule="constant", mask=None, **schedule_params):
    """Real Plan-and-Budget shares ``s_j = w_j f(j; m) / sum_k w_k f(k; m)`` (D6, v3 Eq. (7)).

    ``w_j`` are the planner's credits (normalisation drops out) and ``f`` the
    decay schedule of :func:`schedule_weights`, applied at each existing
    sub-question's position among the existing ones of its question. The
    allocation before rounding is ``B s_j``.

    Parameters
    ----------
    credits : array_like
        Planner credits ``> 0`` (integers 1..100 summing to 100 in the code),
        sub-questions on the last axis.
    schedule : str, default "constant"
        One of :data:`SCHEDULES`.
    mask : array_like of bool, optional
    **schedule_params
        ``p``, ``gamma``, ``offset`` of :func:`schedule_weights`.

    Returns
    -------
    ndarray
        Shares summing to 1 over each question, 0 at masked-out entries.
    """
    s, _, _, _, lead, m = _pb_prepare(credits, schedule, mask, None, **schedule_params)
    return _reshape_out(s, lead, m)


def allocate_plan_and_budget(credits, budget, schedule="constant", rounding="paper", mask=None,
                             min_tokens=0, **schedule_params):
    """Integer Plan-and-Budget allocation (D6 with the rounding of D7).

    ``s`` as in :func:`plan_and_budget_shares`; ``b_j = floor(B s_j)``; the
    ``r = B - sum_j b_j`` missing tokens (``0 <= r <= m - 1``) then go one each
    to ``r`` positions chosen by ``rounding``:

    * ``"paper"`` (default): the official ``allocate_tokens``'s rule, the
      ``r`` largest **shares** ``s_j`` ("largest-weight" rounding, code), so
      ``|b_j - B s_j| <= 1`` and the bound is attained. The code breaks ties
      with numpy's unstable default sort; here ties go to the earlier position
      (stable sort, A10), which the spec's golden vectors assume.
    * ``"largest_remainder"``: the ``r`` largest fractional parts
      ``B s_j - floor(B s_j)`` (ties to the earlier position), so
      ``|b_j - B s_j| < 1``. Not the code's rule; offered for comparison.

    ``min_tokens > 0`` (derived for this project; off by default because the
    code allows 0 tokens, spec 7.4) first gives every existing sub-question
    ``min_tokens`` and allocates the remaining ``B - m min_tokens`` by the same
    rule.

    Parameters
    ----------
    credits : array_like
        Planner credits ``> 0``, sub-questions on the last axis.
    budget : int or array_like of int
        Total budgets ``B_i >= 0`` (integers), broadcast against the leading
        axes of ``credits``.
    schedule : str, default "constant"
        One of :data:`SCHEDULES`.
    rounding : {"paper", "largest_remainder"}, default "paper"
    mask : array_like of bool, optional
    min_tokens : int, default 0
        Minimum per existing sub-question; needs ``B >= m min_tokens``.
    **schedule_params
        ``p``, ``gamma``, ``offset`` of :func:`schedule_weights`.

    Returns
    -------
    ndarray of int64
        Sums exactly to ``B`` over each question; 0 at masked-out entries.
    """
    check_choice("rounding", rounding, ROUNDINGS)
    min_tokens = check_int("min_tokens", min_tokens, 0)
    s, mask2, budget1, counts, lead, m = _pb_prepare(credits, schedule, mask, budget,
                                                     **schedule_params)
    budget1 = check_int_array("budget", budget1, 0)
    spend = budget1 - min_tokens * counts
    if (spend < 0).any():
        i = int(np.flatnonzero(spend < 0)[0])
        raise ValueError(
            f"budget must be >= min_tokens * m = {min_tokens * int(counts[i])}, "
            f"got {int(budget1[i])}"
        )
    exact = s * spend[:, None]  # the code's combined * total_tokens
    b = np.floor(exact)
    missing = spend - b.sum(axis=-1).astype(np.int64)
    key = -s if rounding == "paper" else -(exact - b)
    if mask2 is not None:
        key[~mask2] = np.inf
    order = np.argsort(key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(m), order.shape), axis=-1)
    out = b.astype(np.int64) + (rank < missing[:, None])
    if min_tokens:
        out += min_tokens
    if mask2 is not None:
        out[~mask2] = 0
    return _reshape_out(out, lead, m)


def level_budget(level):
    """Query budget ``B_i`` for a difficulty level, from :data:`LEVEL_BUDGET` (D8; code).

    ``{1: 200, 2: 250, 3: 350, 4: 450, 5: 600}``; the code labels the levels
    simple/simple/medium/medium/hard and maps TravelPlanner's
    easy/medium/hard to 1/3/5.

    Parameters
    ----------
    level : int or array_like of int
        Levels in ``1..5``.

    Returns
    -------
    int or ndarray of int64
    """
    level = check_int_array("level", level, 1, 5)
    out = _LEVEL_TABLE[level]
    return int(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------
# sub-question outcomes (derived for this project; used by sim/bbam.py)
# ---------------------------------------------------------------------------


def _outcome_args(b, c, beta, u_ale):
    b = check_real_array("b", b, **_NONNEG)
    c = check_real_array("c", c, **_POS)
    beta = check_real_array("beta", beta, **_POS)
    u_ale = check_real_array("u_ale", u_ale, **_NONNEG)
    return np.broadcast_arrays(b, c, beta, u_ale)


def solve_probability(b, c, beta, u_ale=0.0):
    """Probability that a sub-question is solved within ``b`` tokens, ``1 - min(1, U(b))``.

    Derived for this project: the model of the contract gives the required
    length ``tau`` the survival function ``P(tau > x) = min(1, U(x))`` with
    ``U`` of :func:`uncertainty`, which reads D3's utility ``1 - U`` as a
    success probability (and, with probability ``u_ale``, ``tau = inf``).

    Parameters
    ----------
    b : array_like
        Tokens, ``>= 0`` (0 where ``b == 0``).
    c, beta, u_ale : array_like
        As in :func:`uncertainty`.

    Returns
    -------
    float or ndarray
        In ``[0, 1 - u_ale]``.
    """
    b, c, beta, u_ale = _outcome_args(b, c, beta, u_ale)
    u = _power_law(b, c, beta) + u_ale
    return _out(1.0 - np.minimum(1.0, u))


def expected_tokens(b, c, beta, u_ale=0.0):
    """Expected tokens spent under a cap ``b``, ``E[min(tau, b)] = int_0^b min(1, U(x)) dx``.

    Derived for this project for the length model of
    :func:`solve_probability`. With ``x0 = (c / (1 - u_ale))**(1/beta)`` the
    point where ``U(x0) = 1``: ``E = b`` if ``b <= x0`` (or ``u_ale >= 1``),
    else

    ``E = x0 + u_ale (b - x0) + (1 - u_ale) x0 ((b/x0)**(1-beta) - 1) / (1 - beta)``,

    whose last factor is ``ln(b / x0)`` at ``beta = 1`` (evaluated as
    ``expm1((1-beta) L) / (1-beta)``, ``L = ln(b/x0)``, with no cancellation
    near ``beta = 1``).

    Parameters
    ----------
    b : array_like
        Token cap, ``>= 0``.
    c, beta, u_ale : array_like
        As in :func:`uncertainty`.

    Returns
    -------
    float or ndarray
        In ``[0, b]``.
    """
    b, c, beta, u_ale = _outcome_args(b, c, beta, u_ale)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        reducible = u_ale < 1.0
        u_safe = np.where(reducible, u_ale, 0.0)
        x0 = np.where(reducible, np.exp((np.log(c) - np.log1p(-u_safe)) / beta), np.inf)
        tail = b > x0
        x0s = np.where(tail, x0, 1.0)
        bs = np.where(tail, b, 1.0)
        L = np.log(bs / x0s)
        a = 1.0 - beta
        a_safe = np.where(a == 0.0, 1.0, a)
        integral = np.where(a == 0.0, L, np.expm1(a * L) / a_safe)
        value = x0s + u_ale * (bs - x0s) + (1.0 - u_ale) * x0s * integral
    return _out(np.where(tail, value, b))


def synthesis_probability(p, rule="all", mask=None):
    """Probability that a question is solved from independent sub-question outcomes.

    Derived for this project (the paper's synthesis ``y = S(a_i1..a_im)`` is
    not specified; A3): with independent success probabilities ``p_j`` of the
    existing sub-questions,

    * ``"all"``: every sub-question must succeed, ``prod_j p_j``;
    * ``"any"``: one success suffices, ``1 - prod_j (1 - p_j)``;
    * ``"majority"``: more than half of the ``m`` succeed,
      ``P(sum_j X_j > m/2)`` for the Poisson-binomial count (dynamic
      programming over the sub-question axis).

    Parameters
    ----------
    p : array_like
        Success probabilities in ``[0, 1]``, sub-questions on the last axis.
    rule : {"all", "any", "majority"}, default "all"
    mask : array_like of bool, optional

    Returns
    -------
    float or ndarray
        One value per question.
    """
    check_choice("rule", rule, SYNTHESIS_RULES)
    (p2,), mask2, _, lead, m = _layout("p", p, (), mask)
    p2 = _checked("p", p2, mask2, fill=0.0, lo=0.0, hi=1.0)
    if rule == "all":
        prob = np.prod(p2 if mask2 is None else np.where(mask2, p2, 1.0), axis=-1)
    elif rule == "any":
        prob = 1.0 - np.prod(1.0 - p2, axis=-1)  # masked entries have p = 0
    else:
        n = p2.shape[0]
        dist = np.zeros((n, m + 1))
        dist[:, 0] = 1.0
        for j in range(m):  # loop over sub-question slots, vectorised over questions
            pj = p2[:, j : j + 1]
            dist[:, 1:] = dist[:, 1:] * (1.0 - pj) + dist[:, :-1] * pj
            dist[:, :1] *= 1.0 - pj
        counts = np.full(n, m) if mask2 is None else mask2.sum(axis=-1)
        need = counts // 2 + 1
        prob = np.where(np.arange(m + 1) >= need[:, None], dist, 0.0).sum(axis=-1)
    return _lead_out(prob, lead)


# ---------------------------------------------------------------------------
# spec 7.4: conjugate models behind the power law, and the E3 estimator
# ---------------------------------------------------------------------------


def normal_bayes_risk(b, tau2, sigma2):
    """Bayes risk of the posterior mean after ``b`` normal observations (spec 7.4 item 1).

    With ``theta ~ N(mu0, tau2)`` and ``y_1..y_b | theta ~ N(theta, sigma2)`` the
    posterior variance, and so the Bayes risk of ``E[theta | y]``, is
    ``1 / (1/tau2 + b/sigma2)``, which tends to ``sigma2 / b``: the D2 power law
    with ``c = sigma2`` and ``beta = 1`` (derived for this project).

    Parameters
    ----------
    b : array_like
        Number of observations (tokens), ``>= 0``.
    tau2, sigma2 : float
        Prior and noise variances, ``> 0``.
    """
    b = check_real_array("b", b, **_NONNEG)
    tau2 = check_real("tau2", tau2, **_POS)
    sigma2 = check_real("sigma2", sigma2, **_POS)
    return _out(1.0 / (1.0 / tau2 + b / sigma2))


def pareto_posterior_variance(M, k, b):
    """Posterior variance of ``theta`` for uniform data under a Pareto prior (spec 7.4 item 2).

    With ``y_1..y_b ~ Uniform(0, theta)`` and ``theta ~ Pareto(x_m, k)`` the
    posterior is ``Pareto(M, k + b)`` with ``M = max(x_m, max y)``, whose
    variance is ``M**2 (k+b) / ((k+b-1)**2 (k+b-2))`` (finite for ``k+b > 2``),
    about ``M**2 / b**2``: the D2 power law with ``beta = 2``.

    Parameters
    ----------
    M : array_like
        Posterior scale ``max(x_m, max y)``, ``> 0``.
    k : float
        Prior shape, ``> 0``.
    b : array_like
        Number of observations; ``k + b > 2`` is required.
    """
    M = check_real_array("M", M, **_POS)
    k = check_real("k", k, **_POS)
    b = check_real_array("b", b, **_NONNEG)
    a = k + b
    if np.any(a <= 2.0):
        raise ValueError(f"k + b must be > 2 for a finite posterior variance, got {float(np.min(a)):g}")
    return _out(M * M * a / ((a - 1.0) ** 2 * (a - 2.0)))


def e3_estimator_bias(p, n, mean_tokens):
    """First-order bias of the E3 estimate from ``n`` questions (spec 7.4 item 4).

    ``E[(100 A_hat)**2] = (100 p)**2 + 1e4 p (1 - p) / n`` (Jensen on the
    square of the accuracy estimate), so, ignoring the variance of the mean
    token count, ``E[E3_hat] - E3 = 1e4 p (1 - p) / (n E[T])`` (derived for
    this project by the delta method).

    Parameters
    ----------
    p : float
        Accuracy as a fraction, in [0, 1].
    n : int
        Questions per run, ``>= 1``.
    mean_tokens : float
        ``E[T]``, ``> 0``.
    """
    p = check_real("p", p, 0.0, 1.0)
    n = check_int("n", n, 1)
    mean_tokens = check_real("mean_tokens", mean_tokens, **_POS)
    return 1e4 * p * (1.0 - p) / (n * mean_tokens)
