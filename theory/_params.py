"""Parameter checks shared by every model.

Each check raises :class:`ValueError` (or :class:`TypeError` for a value of the
wrong kind) with one line that names the parameter, the value received and the
allowed range, e.g. ``rho must be in [0, 1), got 1.5``. Command lines print that
line and exit with status 2.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np

__all__ = [
    "check_real",
    "check_int",
    "check_odd_int",
    "check_choice",
    "check_bool",
    "check_real_array",
    "check_int_array",
    "check_bool_array",
    "check_broadcast",
    "accepts_params",
]


def _fmt_interval(lo, hi, lo_open, hi_open):
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    return f"{left}{lo_s}, {hi_s}{right}"


def check_real(name, value, lo=None, hi=None, *, lo_open=False, hi_open=False):
    """Return ``value`` as a float after checking it lies in the given interval.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : object
        The value to check. Booleans and non-numbers are rejected.
    lo, hi : float or None
        Interval ends; ``None`` means unbounded.
    lo_open, hi_open : bool
        Whether the ends are excluded.

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is NaN or outside the interval.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    interval = _fmt_interval(lo, hi, lo_open, hi_open)
    if math.isnan(x):
        raise ValueError(f"{name} must be in {interval}, got nan")
    below = lo is not None and (x < lo or (lo_open and x == lo))
    above = hi is not None and (x > hi or (hi_open and x == hi))
    if below or above:
        raise ValueError(f"{name} must be in {interval}, got {value:g}")
    return x


def check_int(name, value, lo=None, hi=None):
    """Return ``value`` as an int after checking ``lo <= value <= hi``.

    Integral floats (``3.0``) are rejected: a count must be given as an integer.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        lo_s = "-inf" if lo is None else str(lo)
        hi_s = "inf" if hi is None else str(hi)
        raise ValueError(f"{name} must be an integer in [{lo_s}, {hi_s}], got {v}")
    return v


def check_odd_int(name, value, lo=3, hi=None):
    """Return ``value`` as an int after checking it is odd and ``>= lo``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an odd integer >= {lo}, got {value!r}")
    v = int(value)
    if v < lo or v % 2 == 0 or (hi is not None and v > hi):
        upper = "" if hi is None else f" and <= {hi}"
        raise ValueError(f"{name} must be an odd integer >= {lo}{upper}, got {v}")
    return v


def check_choice(name, value, choices):
    """Return ``value`` after checking it is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_bool(name, value):
    """Return ``value`` after checking it is a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_real_array(name, value, lo=None, hi=None, *, lo_open=False, hi_open=False):
    """Like :func:`check_real` for a scalar or every element of an array (float ndarray)."""
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf":
        if raw.dtype.kind in "bcSU" or raw.size == 0:
            check_real(name, raw.flat[0].item() if raw.size else value)
        try:
            raw = raw.astype(float)
        except (TypeError, ValueError):
            check_real(name, value)  # raises the one-line TypeError
            raise
    arr = raw.astype(float)
    if arr.ndim == 0:
        check_real(name, float(arr), lo, hi, lo_open=lo_open, hi_open=hi_open)
        return arr
    bad = np.isnan(arr)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if bad.any():
        check_real(name, float(arr[bad][0]), lo, hi, lo_open=lo_open, hi_open=hi_open)
    return arr


def check_int_array(name, value, lo=None, hi=None):
    """Like :func:`check_int` for a scalar or every element of an array; returns an int ndarray."""
    raw = np.asarray(value)
    if raw.ndim == 0:
        item = value if isinstance(value, numbers.Integral) else raw.item()
        return np.asarray(check_int(name, item, lo, hi))
    if raw.dtype.kind not in "iu":
        first = raw.flat[0] if raw.size else value
        check_int(name, first.item() if isinstance(first, np.generic) else first)
        if raw.dtype.kind == "O":  # Python integers beyond int64
            for v in raw.flat:
                check_int(name, v, lo, hi)
                if not -(2**63) <= int(v) < 2**63:
                    raise ValueError(f"{name} must be an integer below 2**63, got {int(v)}")
    arr = raw.astype(np.int64)
    bad = np.zeros(arr.shape, dtype=bool)
    if lo is not None:
        bad |= arr < lo
    if hi is not None:
        bad |= arr > hi
    if bad.any():
        check_int(name, int(arr[bad][0]), lo, hi)
    return arr


def check_bool_array(name, value):
    """Like :func:`check_bool` for a scalar or every element of an array; returns a bool ndarray.

    Only arrays of dtype ``bool`` are accepted: ``0``/``1`` integers are rejected
    so that a mask is never confused with a count or an index array.
    """
    arr = np.asarray(value)
    if arr.dtype.kind != "b":
        raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    return arr


def check_broadcast(name, shape, other_name, other_shape):
    """Return ``np.broadcast_shapes(shape, other_shape)`` after checking they broadcast.

    Raises
    ------
    ValueError
        One line naming both parameters and their shapes, e.g.
        ``beta must broadcast against c of shape (3,), got shape (2,)``.
    """
    shape, other_shape = tuple(shape), tuple(other_shape)
    try:
        return np.broadcast_shapes(shape, other_shape)
    except ValueError:
        raise ValueError(
            f"{name} must broadcast against {other_name} of shape {other_shape}, got shape {shape}"
        ) from None


def accepts_params(fn):
    """Let a theory function take a model's parameter object in place of the numbers.

    ``f(params, **kw)``, where ``params`` is a parameter dataclass instance
    (``PhaseParams(...)``), calls ``f`` with every argument whose name is an
    attribute of ``params`` (fields and properties) taken from it; keywords in
    ``kw`` override. Called with plain numbers, ``f`` behaves as written.
    Further arguments after a parameter object must be keywords.
    """
    names = tuple(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if args and hasattr(type(args[0]), "__dataclass_fields__"):
            if len(args) > 1:
                raise TypeError(f"{fn.__name__}: after a parameter object, pass the other "
                                "arguments by keyword")
            params = args[0]
            merged = {n: getattr(params, n) for n in names
                      if n not in kwargs and hasattr(params, n)}
            merged.update(kwargs)
            return fn(**merged)
        return fn(*args, **kwargs)

    return wrapper
