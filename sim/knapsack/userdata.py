"""Allocation on the user's own rates: read and check a table, allocate exactly as given.

:func:`allocate_table` takes a DataFrame of prompts (an id, an estimated
success rate, optionally the count of rewards behind it or a mean rollout
length) and returns one with the allocation, one row per input row in input
order; nothing is simulated. The knapsack allocator is
:func:`theory.knapsack.allocate` (``docs/models/knapsack.md (5)``), DUET's is
:func:`theory.knapsack.duet.duet_allocate` (``(24)``, ``(25)``). The summary
(expected effective-gradient ratio against uniform, ``(12)``, or the variance
ratio against uniform, ``(30)``) is in ``frame.attrs["summary"]``.
:func:`read_table` reads a CSV or Parquet file for it.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from sim.knapsack.estimator import MIN_VALID
from theory import knapsack as th
from theory.knapsack.duet import DuetParams, duet_allocate, neyman_gain, variance_ratio

__all__ = ["ALLOCATORS", "read_table", "check_table", "allocate_table", "reference_memory"]

#: Allocators of :func:`allocate_table`.
ALLOCATORS = ("knapsack", "duet")


def read_table(path):
    """A CSV or Parquet file (by extension: ``.parquet``/``.pq``, else CSV) as a DataFrame.

    Raises
    ------
    ValueError
        One line: the file cannot be parsed or is empty.
    """
    path = os.fspath(path)
    try:
        if path.lower().endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"rates file {path} does not exist") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError,
            UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"rates file {path} could not be read: {first}") from None
    return df


def _column(df, name, flag):
    if name not in df.columns:
        cols = ", ".join(map(str, df.columns)) or "none"
        raise ValueError(f"{flag} {name!r} is not a column of the rates (columns: {cols})")
    return df[name]


def _ids(col, name):
    """Ids: none missing, none repeated."""
    missing = col.isna() | (col.astype(str).str.strip() == "")
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise ValueError(f"id column {name!r} has a missing id in row {row + 1}")
    dup = col.duplicated(keep=False)
    if dup.any():
        first = col[dup].iloc[0]
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero((col == first).to_numpy())[:3])
        raise ValueError(f"id column {name!r} repeats id {first!r} (rows {rows}); ids must be "
                         f"unique")
    return col


def _numbers(col, name, ids, what):
    """A numeric column as float64, refusing booleans, text and missing values."""
    if pd.api.types.is_bool_dtype(col.dtype) or (
            col.dtype == object and col.map(lambda v: isinstance(v, (bool, np.bool_))).any()):
        raise ValueError(f"column {name!r} holds booleans (True/False), not {what}")
    vals = pd.to_numeric(col, errors="coerce")
    bad = vals.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"column {name!r} has a missing or non-numeric value "
                         f"{col.iloc[i]!r} at id {ids.iloc[i]!r}; give {what}")
    return vals.to_numpy(dtype=float)


def check_table(df, id_column="id", p_column="p", count_column=None, length_column=None,
                min_prompts=2):
    """Check a table of prompts and return its columns as arrays.

    Parameters
    ----------
    df : pandas.DataFrame
    id_column, p_column : str
        Columns of the prompt id (unique, none missing) and of the estimated
        success rate (numbers in ``[0, 1]``, no NaN, not booleans).
    count_column : str or None
        Column of the number of rewards behind each rate (integers ``>= 0``).
    length_column : str or None
        Column of the mean rollout length in tokens (finite, ``> 0``).
    min_prompts : int
        Fewest rows allowed.

    Returns
    -------
    dict
        ``id`` (Series), ``p`` (float array) and, where asked for, ``count``
        (int array) and ``length`` (float array).

    Raises
    ------
    ValueError
        One line naming the column, the offending id or row and the allowed range.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"rates must be a pandas DataFrame, got {type(df).__name__}")
    ids = _ids(_column(df, id_column, "id_column").reset_index(drop=True), id_column)
    p = _numbers(_column(df, p_column, "p_column").reset_index(drop=True), p_column, ids,
                 "success rates in [0, 1]")
    out_of = (p < 0) | (p > 1) | ~np.isfinite(p)
    if out_of.any():
        i = int(np.flatnonzero(out_of)[0])
        raise ValueError(f"column {p_column!r} must hold success rates in [0, 1], got "
                         f"{p[i]:g} at id {ids.iloc[i]!r}")
    if len(ids) < min_prompts:
        raise ValueError(f"the rates must have at least {min_prompts} prompts to allocate "
                         f"between, got {len(ids)}")
    res = {"id": ids, "p": p}
    if count_column is not None:
        c = _numbers(_column(df, count_column, "count_column").reset_index(drop=True),
                     count_column, ids, "integer counts >= 0")
        bad = ~np.isfinite(c) | (c < 0) | (c != np.floor(c))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"column {count_column!r} must hold integer counts >= 0, got "
                             f"{c[i]:g} at id {ids.iloc[i]!r}")
        res["count"] = c.astype(np.int64)
    if length_column is not None:
        ell = _numbers(_column(df, length_column, "length_column").reset_index(drop=True),
                       length_column, ids, "mean lengths in tokens > 0")
        bad = ~np.isfinite(ell) | (ell <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"column {length_column!r} must hold mean lengths > 0, got "
                             f"{ell[i]:g} at id {ids.iloc[i]!r}")
        res["length"] = ell
    return res


def reference_memory(prompts, budget):
    """Bytes the port of the authors' dynamic program needs: its choice table (int32)."""
    return 4.0 * prompts * (budget + 1) + 16.0 * (budget + 1)


def _knapsack(cols, params, min_count):
    p = cols["p"]
    M = p.size
    valid = None
    if "count" in cols:
        valid = cols["count"] >= min_count
    B = M * params.n if params.budget is None else params.budget
    v = np.ones(M, dtype=bool) if valid is None else valid
    cap_total = int(np.where(v, params.n_up, params.n).sum())
    if B > cap_total:
        invalid = int((~v).sum())
        rest = f", {invalid} prompts without a valid rate at n = {params.n}" if invalid else ""
        raise ValueError(f"budget must be at most {cap_total} (every prompt at n_up = "
                         f"{params.n_up}{rest}), got {B}")
    try:
        N, info = th.allocate(p, valid, params)
    except AssertionError as exc:  # the port keeps the authors' budget assertion
        raise ValueError(f"the authors' allocator fails on these rates ({exc}); use mode "
                         f"clean") from None
    if params.mode == "reference" and N.max() > params.n_up:
        raise ValueError(f"the authors' allocator gave a prompt {int(N.max())} rollouts, above "
                         f"n_up = {params.n_up}; lower the budget or use mode clean")
    uni = th.allocate_uniform(M, B)
    egr = float(th.effective_gradient_ratio(N, p))
    egr_u = float(th.effective_gradient_ratio(uni, p))
    summary = dict(
        allocator="knapsack", prompts=M, budget=int(B), rollouts=int(N.sum()),
        unspent=int(info.get("unspent", 0)), valid=int(v.sum()),
        egr_expected=egr, egr_uniform=egr_u,
        egr_ratio=egr / egr_u if egr_u > 0 else math.inf,
        value=float(th.total_value(N, p)), value_uniform=float(th.total_value(uni, p)),
        fallback=bool(info.get("fallback", False)), max_n=int(N.max()), min_n=int(N.min()))
    return N, None, summary


def _duet(cols, duet, token_budget):
    p, ell = cols["p"], cols["length"]
    sigma = np.maximum(np.sqrt(p * (1.0 - p)), duet.sigma_min)
    n, cap, info = duet_allocate(sigma, ell, token_budget, duet.n_min, duet.n_max, duet.tau_min,
                                 duet.tau_max, duet.sigma_min, duet.multiplier, duet.iterations)
    summary = dict(
        allocator="duet", prompts=p.size, token_budget=float(token_budget),
        tokens=float(n @ ell), rollouts=int(n.sum()), multiplier=info["multiplier"],
        variance_ratio=variance_ratio(n, sigma, ell, token_budget),
        variance_ratio_unclipped=neyman_gain(sigma, ell),
        uniform_rollouts=float(token_budget / ell.sum()),
        trimmed=info["trimmed"], max_n=int(n.max()), min_n=int(n.min()))
    return n, cap, summary


def allocate_table(df, params=None, *, allocator="knapsack", id_column="id", p_column="p",
                   count_column=None, min_count=MIN_VALID, length_column="length",
                   token_budget=None):
    """Allocate rollouts on a table of prompts, exactly on the rates given (nothing is simulated).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per prompt.
    params : theory.knapsack.KnapsackParams, theory.knapsack.duet.DuetParams or None
        The allocator's parameters (``None``: the defaults). The knapsack's
        total budget is ``params.budget``, or ``prompts * params.n``.
    allocator : {"knapsack", "duet"}
        ``knapsack``: :func:`theory.knapsack.allocate`
        (``docs/models/knapsack.md (5)``; with ``fallback="none"`` the exact
        optimum). ``duet``: DUET's rollouts and length caps under
        ``token_budget`` (``(24)``, ``(25)``) with the informativeness
        ``sqrt(p (1 - p))``.
    id_column, p_column : str
        Columns of the prompt id and the estimated success rate.
    count_column : str or None
        Knapsack only: rewards behind each rate; prompts with fewer than
        ``min_count`` have no valid rate and get ``params.n`` (the authors'
        rule, ``docs/models/knapsack.md (20)``).
    min_count : int
        See ``count_column``; default the authors' ``min_buffer_length``
        (:data:`sim.knapsack.estimator.MIN_VALID`).
    length_column : str
        DUET only: mean rollout length in tokens.
    token_budget : float or None
        DUET only: tokens of the batch, ``>= n_min * sum(length)``.

    Returns
    -------
    pandas.DataFrame
        The id column (its own name), ``p``, ``count`` or ``length`` where
        used, the integer ``n`` and, for DUET, the integer length cap
        ``cap``; input order. ``attrs["summary"]`` holds the summary: for the
        knapsack ``egr_expected`` and ``egr_uniform`` (``(12)`` at the given
        rates for the allocation and for uniform at the same budget),
        ``egr_ratio``, ``value`` and ``value_uniform`` (``(5)``),
        ``fallback``, ``unspent``; for DUET ``tokens``, ``multiplier``,
        ``variance_ratio`` (``(30)`` against uniform at the same token budget)
        and ``variance_ratio_unclipped`` (the Neyman gain).

    Raises
    ------
    ValueError
        One line: a missing or repeated id, a rate outside ``[0, 1]`` or NaN,
        booleans read as rates, a non-integer count, an unknown column, fewer
        than 2 prompts, a budget outside what the bounds allow.
    """
    from theory._params import check_choice, check_int

    check_choice("allocator", allocator, ALLOCATORS)
    if allocator == "knapsack":
        params = th.KnapsackParams() if params is None else params
        if not isinstance(params, th.KnapsackParams):
            raise TypeError(f"params must be a KnapsackParams for the knapsack, got "
                            f"{type(params).__name__}")
        if token_budget is not None:
            raise ValueError("token_budget applies to allocator 'duet' only")
        min_count = check_int("min_count", min_count, 0)
        cols = check_table(df, id_column, p_column, count_column=count_column)
        n, cap, summary = _knapsack(cols, params, min_count)
    else:
        params = DuetParams() if params is None else params
        if not isinstance(params, DuetParams):
            raise TypeError(f"params must be a DuetParams for DUET, got {type(params).__name__}")
        if token_budget is None:
            raise ValueError("allocator 'duet' needs a token_budget")
        if count_column is not None:
            raise ValueError("count_column applies to allocator 'knapsack' only")
        cols = check_table(df, id_column, p_column, length_column=length_column)
        n, cap, summary = _duet(cols, params, token_budget)
    out = pd.DataFrame({id_column: cols["id"].to_numpy(), p_column: cols["p"]})
    if "count" in cols:
        out[count_column] = cols["count"]
    if "length" in cols:
        out[length_column] = cols["length"]
    out["n"] = np.asarray(n, dtype=np.int64)
    if cap is not None:
        out["cap"] = np.asarray(cap, dtype=np.int64)
    out.attrs["summary"] = summary
    return out
