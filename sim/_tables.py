"""Reading the user's tables (CSV or Parquet) for the allocate, fit and decide commands.

:func:`output_table` checks an ``--out`` path before the work starts.
Every check raises a one-line ``ValueError`` naming the file, the column and
what is wrong, so the command lines print it and exit with status 2:
:func:`read_table` (a regular file, CSV or Parquet by extension, not empty),
:func:`require_columns`, :func:`numeric_column` (no missing value, no NaN,
inside a range, integers where counts are asked), :func:`id_column` (no
missing or duplicate id).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import _cli

__all__ = ["read_table", "require_columns", "numeric_column", "id_column", "binary_column",
           "output_table", "add_fit_arguments"]


def read_table(path, flag, max_bytes=_cli.MAX_INPUT_BYTES):
    """The table in ``path`` (``.parquet``/``.pq`` as Parquet, anything else as CSV).

    ``flag`` names the input in messages (``"PLAN_FILE"``, ``"--table"``).
    ``max_bytes=None`` lifts the size limit (the ``--yes`` flag).
    """
    path = _cli.regular_file(path, flag, max_bytes=max_bytes)
    try:
        if path.lower().endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{flag} {path} is empty") from None
    except Exception as exc:  # parsers raise their own types for malformed files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{flag} {path} could not be read: {first}") from None
    if len(df) == 0:
        raise ValueError(f"{flag} {path} has no rows")
    df.columns = [str(c) for c in df.columns]
    return df


def output_table(path, flag="--out"):
    """Check before any work that a result table can be written to ``path``; return it.

    The extension must be ``.csv``, ``.parquet`` or ``.pq`` (what
    :func:`sim._cli.write_table` writes) and the place writable
    (:func:`sim._cli.writable_output`).
    """
    if not str(path).lower().endswith((".csv", ".parquet", ".pq")):
        raise ValueError(f"{flag} must end in .csv or .parquet, got {str(path)!r}")
    return _cli.writable_output(path, flag)


def add_fit_arguments(parser, level, out_help):
    """Add ``--level`` (the intervals' coverage), ``--out FILE`` and ``--json`` to a fit command."""
    parser.add_argument("--level", type=float, default=level,
                        help=f"coverage of the intervals, in (0, 1) (default {level:g})")
    parser.add_argument("--out", metavar="FILE", help=out_help)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of a report")
    return parser


def require_columns(df, columns, flag, path):
    """Raise unless every name in ``columns`` is a column of ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{flag} {path} has no column {missing[0]!r} (columns: "
                         f"{', '.join(map(str, df.columns)) or 'none'})")


def numeric_column(df, column, flag, path, lo=None, hi=None, lo_open=False, integer=False):
    """Column ``column`` as a float (or int64 with ``integer``) array, checked.

    Missing, non-numeric and NaN values, values outside ``[lo, hi]`` (``(lo,``
    with ``lo_open``) and, with ``integer``, non-integers are refused.
    """
    raw = df[column]
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{flag} {path}: column {column!r} has a missing, non-numeric or "
                         f"infinite value at row {i + 1} ({raw.iloc[i]!r})")
    out_lo = np.zeros(vals.shape, bool) if lo is None else (vals <= lo if lo_open else vals < lo)
    out_hi = np.zeros(vals.shape, bool) if hi is None else vals > hi
    if (out_lo | out_hi).any():
        i = int(np.flatnonzero(out_lo | out_hi)[0])
        left = "(" if lo_open else "["
        rng = f"{left}{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
        raise ValueError(f"{flag} {path}: column {column!r} must be in {rng}, got "
                         f"{vals[i]:g} at row {i + 1}")
    if integer:
        frac = vals != np.round(vals)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise ValueError(f"{flag} {path}: column {column!r} must hold integers, got "
                             f"{vals[i]:g} at row {i + 1}")
        return vals.astype(np.int64)
    return vals


def binary_column(df, column, flag, path):
    """Column ``column`` as 0/1 int64 (``True``/``False`` accepted), checked."""
    raw = df[column]
    if raw.dtype == bool:
        return raw.to_numpy().astype(np.int64)
    text = raw.astype(str).str.strip().str.lower()
    mapped = text.map({"true": 1.0, "false": 0.0})
    num = pd.to_numeric(raw, errors="coerce").astype(float)
    vals = np.where(mapped.notna(), mapped.to_numpy(dtype=float), num.to_numpy(dtype=float))
    bad = ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{flag} {path}: column {column!r} must be 0/1 (or true/false), got "
                         f"{raw.iloc[i]!r} at row {i + 1}")
    return vals.astype(np.int64)


def id_column(df, column, flag, path):
    """Column ``column`` as ids: no missing and no duplicate value; returns the Series."""
    require_columns(df, [column], flag, path)
    ids = df[column]
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise ValueError(f"{flag} {path}: column {column!r} has a missing id at row {i + 1}")
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"{flag} {path}: column {column!r} has the duplicate id "
                         f"{ids.iloc[i]!r} at row {i + 1}")
    return ids
