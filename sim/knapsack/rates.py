"""True per-prompt success rates given by the user: a list or a CSV/Parquet file."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["check_rates", "load_rates"]


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
        a value is missing, not a number or outside ``[0, 1]``.
    """
    path = str(path)
    try:
        if path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"rates file not found: {path}") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"rates file {path} could not be read: {first}") from None
    if "p" not in df.columns:
        raise ValueError(f"rates file {path} has no column 'p' (columns: "
                         f"{', '.join(map(str, df.columns)) or 'none'})")
    vals = pd.to_numeric(df["p"], errors="coerce")
    if vals.isna().any():
        raise ValueError(f"rates file {path}: column 'p' has missing or non-numeric values")
    return check_rates(vals.to_numpy())
