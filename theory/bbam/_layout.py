"""Array layout shared by the bbam closed forms: sub-questions on the last axis, masks, budgets.

Internal helpers of :mod:`theory.bbam`; apart from the checks of
:mod:`theory._params` they do not validate. The conventions they implement are
those of the package docstring: sub-questions lie on the last axis, ``mask``
marks the sub-questions that exist, ``budget`` broadcasts against the leading
(question) axes.
"""

from __future__ import annotations

import math

import numpy as np

from theory._params import check_bool_array, check_broadcast, check_real_array

#: Interval keywords of :func:`theory._params.check_real_array`: ``(0, inf)``.
POS = {"lo": 0.0, "lo_open": True, "hi": math.inf, "hi_open": True}
#: ``[0, inf)``.
NONNEG = {"lo": 0.0, "hi": math.inf, "hi_open": True}


def out(x):
    """Return a Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def lead_out(x, lead):
    """Reshape a per-question vector to the leading shape; 0-d gives a float."""
    x = np.asarray(x).reshape(lead)
    return float(x) if x.ndim == 0 else x


def last_axis(name, value):
    """``value`` as an array with at least one sub-question on its last axis."""
    arr = np.asarray(value)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(
            f"{name} must be an array with at least one sub-question on its last axis, "
            f"got shape {arr.shape}"
        )
    return arr


def layout(first_name, first, others=(), mask=None, budget=None, budget_name="budget"):
    """Broadcast per-sub-question arrays, a mask and a per-question budget.

    Returns ``(arrays, mask2, budget1, lead, m)``: the arrays (first, then
    others, unvalidated) as ``(N, m)`` views or copies, the mask as ``(N, m)``
    bool or ``None``, the budget as ``(N,)`` or ``None``, the leading shape and
    the number of sub-question slots ``m``.
    """
    first = last_axis(first_name, first)
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


def inside(arr, lo=None, hi=None, lo_open=False, hi_open=False):
    """Whether every element of a float array lies in the interval (False on NaN)."""
    if arr.size == 0:
        return True
    low, high = arr.min(), arr.max()
    ok_lo = lo is None or (low > lo if lo_open else low >= lo)
    ok_hi = hi is None or (high < hi if hi_open else high <= hi)
    return bool(ok_lo and ok_hi)


def checked(name, arr, mask, fill=1.0, **interval):
    """Validate ``arr`` where ``mask`` holds; return a float array with ``fill`` elsewhere.

    The values are checked by :func:`check_real_array`; a float64 array whose
    minimum and maximum already lie in the interval is not copied (without a
    mask), which keeps large inputs cheap. Callers never modify the result.
    ``fill=None`` returns the masked-out entries unchanged (unvalidated).
    """
    if mask is None:
        if arr.dtype == np.float64 and inside(arr, **interval):
            return arr
        return check_real_array(name, arr, **interval)
    values = arr[mask]
    if not (values.dtype == np.float64 and inside(values, **interval)):
        check_real_array(name, values, **interval)
    if fill is None:
        return arr if arr.dtype == np.float64 else np.asarray(arr, dtype=float)
    return np.where(mask, arr, fill).astype(float, copy=False)


def reshape_out(b, lead, m):
    return b.reshape(lead + (m,))


def row_sum(x):
    """Sum over the last axis of an ``(N, m)`` float array (BLAS matrix-vector product)."""
    return x @ np.ones(x.shape[-1])


def col_max(x):
    """Maximum over the last axis of an ``(N, m)`` array, one column at a time."""
    acc = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(acc, x[:, j], out=acc)
    return acc




def c_beta_budget(c, beta, budget, mask, fill=1.0):
    """Layout and checks of ``(c, beta, budget, mask)`` for the allocation rules.

    Returns ``(c2, beta2, budget1, mask2, lead, m)`` as :func:`layout` does,
    with ``c`` and ``beta`` checked ``> 0`` where the mask holds (``fill``
    elsewhere, see :func:`checked`) and ``budget`` checked ``> 0``.
    """
    (c2, beta2), mask2, budget1, lead, m = layout(
        "c", c, (("beta", beta),), mask, budget)
    c2 = checked("c", c2, mask2, fill, **POS)
    beta2 = checked("beta", beta2, mask2, fill, **POS)
    budget1 = checked("budget", budget1, None, **POS)
    return c2, beta2, budget1, mask2, lead, m
