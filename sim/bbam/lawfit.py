"""The law fitted to the user's accuracy-against-budget data: ``python -m sim.bbam fit DATA_FILE``.

Rows are either one attempt each (a budget and a 0/1 ``correct``) or
aggregated (a budget, ``n`` attempts and ``k`` successes, or ``n`` and an
``accuracy``), optionally labelled by a difficulty column. Per label,
:func:`fit_table` fits ``c``, ``beta``, ``u`` of docs/models/bbam.md (17) by
maximum likelihood with profile-likelihood intervals and the deviance
goodness of fit (26)-(27); its table is what ``python -m sim.bbam allocate
--table`` reads. :func:`law_data` is the same data simulated by the
project's own outcome kernels, for checking the fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim._tables import binary_column, numeric_column, require_columns
from theory import bbam as th

__all__ = ["aggregate", "fit_table", "law_data", "FIT_COLUMNS"]

#: Columns of :func:`fit_table` after the label.
FIT_COLUMNS = ("c", "c_low", "c_high", "beta", "beta_low", "beta_high", "u", "u_low", "u_high",
               "budgets", "attempts", "deviance", "df", "p_value")


def aggregate(df, path, budget_col="budget", correct_col="correct", by=None):
    """Attempts and successes per (label, budget) of the user's rows.

    Parameters
    ----------
    df : DataFrame
        The user's rows.
    path : str
        The file, for messages.
    budget_col, correct_col : str
        Column names; ``correct`` holds 0/1 per attempt. Without it the rows
        must have ``n`` and either ``k`` or ``accuracy``.
    by : str, optional
        The label column (one fit per label); ``None`` fits all rows together.

    Returns
    -------
    DataFrame
        ``label`` (absent without ``by``), ``budget``, ``n``, ``k``.
    """
    flag = "DATA_FILE"
    require_columns(df, [budget_col] + ([by] if by else []), flag, path)
    budget = numeric_column(df, budget_col, flag, path, lo=0.0, lo_open=True)
    if correct_col in df.columns:
        k = binary_column(df, correct_col, flag, path)
        n = np.ones_like(k)
    elif "n" in df.columns and ("k" in df.columns or "accuracy" in df.columns):
        n = numeric_column(df, "n", flag, path, lo=1.0, integer=True)
        if "k" in df.columns:
            k = numeric_column(df, "k", flag, path, lo=0.0, integer=True)
        else:
            acc = numeric_column(df, "accuracy", flag, path, lo=0.0, hi=1.0)
            k = np.round(acc * n)
            if np.any(np.abs(acc * n - k) > 1e-6 * n):
                i = int(np.flatnonzero(np.abs(acc * n - k) > 1e-6 * n)[0])
                raise ValueError(f"{flag} {path}: accuracy * n must be a whole number of "
                                 f"successes, got {acc[i]:g} * {n[i]} at row {i + 1}")
            k = k.astype(np.int64)
        if np.any(k > n):
            i = int(np.flatnonzero(k > n)[0])
            raise ValueError(f"{flag} {path}: k must be <= n, got {k[i]} > {n[i]} at row {i + 1}")
    else:
        raise ValueError(f"{flag} {path} needs a column {correct_col!r} (0/1 per attempt) or "
                         f"columns 'n' and 'k' (or 'n' and 'accuracy') per row (columns: "
                         f"{', '.join(df.columns)})")
    out = pd.DataFrame({"budget": budget, "n": n, "k": k})
    keys = ["budget"]
    if by:
        if df[by].isna().any():
            i = int(np.flatnonzero(df[by].isna().to_numpy())[0])
            raise ValueError(f"{flag} {path}: column {by!r} has a missing value at row {i + 1}")
        out.insert(0, "label", df[by].to_numpy())
        keys = ["label", "budget"]
    return out.groupby(keys, sort=True, as_index=False)[["n", "k"]].sum()


def fit_table(agg, level=0.95, by=None, progress=None):
    """One fit of docs/models/bbam.md (26)-(27) per label of ``agg`` (:func:`aggregate`).

    Returns
    -------
    DataFrame
        One row per label (its column named ``by``, or ``difficulty``;
        absent without labels) with :data:`FIT_COLUMNS`.
    """
    groups = agg.groupby("label", sort=True) if "label" in agg.columns else [(None, agg)]
    rows = []
    for label, g in groups:
        try:
            res = th.fit_law(g["budget"].to_numpy(), g["n"].to_numpy(), g["k"].to_numpy(),
                             level=level)
        except ValueError as exc:
            where = "" if label is None else f" at {by or 'difficulty'} {label!r}"
            raise ValueError(f"{exc}{where}") from None
        row = {} if label is None else {by or "difficulty": label}
        row.update({k: res[k] for k in FIT_COLUMNS})
        rows.append(row)
        if progress is not None:
            progress()
    return pd.DataFrame(rows)


def law_data(c, beta, u, budgets, attempts, seed=0, backend="numpy"):
    """Successes at each budget drawn by the project's outcome kernels, docs/models/bbam.md (18).

    Each attempt is a one-sub-question question with the given ``c``,
    ``beta``, ``u`` and a hard cap at the budget (synthesis ``all`` with
    certain success), so it is solved with probability (17).

    Returns
    -------
    DataFrame
        ``budget``, ``n`` (= ``attempts``), ``k``.
    """
    from sim.bbam.core import outcomes
    from sim.bbam.questions import Questions

    budgets = np.asarray(budgets, dtype=float)
    total = budgets.size * attempts
    ones = np.ones((total, 1))
    q = Questions(c=ones * c, beta=ones * beta, u_ale=ones * u, c_hat=ones * c,
                  mask=np.ones((total, 1), bool), budget=float(budgets.max()))
    caps = np.repeat(budgets, attempts)[:, None]
    solved, _ = outcomes(th.BbamParams(budget=float(budgets.max()), m_counts=(1,)), q, caps,
                         seed, backend)
    k = np.asarray(solved).reshape(budgets.size, attempts).sum(axis=1)
    return pd.DataFrame({"budget": budgets, "n": attempts, "k": k})
