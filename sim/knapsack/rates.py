"""True per-prompt success rates given by the user: a list or a CSV/Parquet file."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from sim import guard as _guard

__all__ = ["ROW_BYTES", "check_rates", "table_rows", "check_rows", "load_rates"]

#: Bytes a row of a rates table takes once read (an id, a rate, pandas' overhead).
ROW_BYTES = 128


def check_rates(rates):
    """``rates`` as a flat float array in ``[0, 1]``; one-line ValueError if not."""
    p = np.asarray(rates, dtype=float).ravel()
    if p.size == 0:
        raise ValueError("rates must be a non-empty list of success rates")
    if np.any(np.isnan(p)):
        raise ValueError("rates must not contain NaN")
    if np.any((p < 0) | (p > 1)):
        bad = p[(p < 0) | (p > 1)][0]
        raise ValueError(f"rates must be in [0, 1], got {bad:g}")
    return p


def table_rows(path):
    """Rows of a table file before reading it: a Parquet file's from its metadata, a CSV's
    bound from its size (a row takes at least 4 bytes, ``a,0`` and a newline)."""
    path = os.fspath(path)
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception as exc:  # pyarrow raises its own types for a damaged file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"rates file {path} could not be read: {first}") from None
    return os.path.getsize(path) // 4


def check_rows(path, flag, allow=False):
    """Refuse before reading a table whose rows would not fit in memory (sim.guard.check)."""
    rows = table_rows(path)
    _guard.check(f"the rows of {flag} ({_guard.fmt_count(rows)})", memory=float(rows) * ROW_BYTES,
                 allow=allow, hint="give a smaller file or pass --yes to read it anyway")
    return rows


def load_rates(path):
    """Per-prompt success rates from a CSV or Parquet file with a column ``p``.

    Parameters
    ----------
    path : str or os.PathLike
        ``.parquet``/``.pq`` is read as Parquet, anything else as CSV.

    Returns
    -------
    ndarray of float64
        The column ``p`` in file order.

    Raises
    ------
    ValueError
        One line: the file is missing or unreadable, has no column ``p``, or
        a value is missing, not a number, a boolean or outside ``[0, 1]``.
    """
    path = str(path)
    try:
        if path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"rates file not found: {path}") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError,
            UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"rates file {path} could not be read: {first}") from None
    if "p" not in df.columns:
        raise ValueError(f"rates file {path} has no column 'p' (columns: "
                         f"{', '.join(map(str, df.columns)) or 'none'})")
    col = df["p"]
    if pd.api.types.is_bool_dtype(col.dtype) or (
            col.dtype == object and col.map(lambda v: isinstance(v, (bool, np.bool_))).any()):
        raise ValueError(f"rates file {path}: column 'p' holds booleans (True/False), not "
                         f"success rates in [0, 1]")
    vals = pd.to_numeric(col, errors="coerce")
    if vals.isna().any():
        raise ValueError(f"rates file {path}: column 'p' has missing or non-numeric values")
    return check_rates(vals.to_numpy())
