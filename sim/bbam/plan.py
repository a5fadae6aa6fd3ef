"""Whole-token budgets over the user's own plan: ``python -m sim.bbam allocate PLAN_FILE``.

A plan is a table with one row per sub-question: an id, and either the law's
``c`` and ``beta`` (docs/models/bbam.md (1)) or a difficulty label that a
table (the output of ``python -m sim.bbam fit``, or any table with columns
``difficulty``, ``c``, ``beta``) maps to them. :func:`allocate_plan` splits an
integer budget over it by the exact optimum (4), the paper's Eq. (6) or
uniformly, with a floor per sub-question and largest-remainder rounding
(docs/models/bbam.md (28)-(29)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim._tables import id_column, numeric_column, read_table, require_columns
from theory import bbam as th

__all__ = ["load_plan", "load_law_table", "allocate_plan"]


def _labels(series):
    return series.astype(str).str.strip()


def load_law_table(path, max_bytes=None):
    """``{label: (c, beta)}`` from a table with columns ``difficulty``, ``c``, ``beta``."""
    df = read_table(path, "--table", max_bytes=max_bytes)
    require_columns(df, ["difficulty", "c", "beta"], "--table", path)
    labels = _labels(id_column(df, "difficulty", "--table", path))
    c = numeric_column(df, "c", "--table", path, lo=0.0, lo_open=True)
    beta = numeric_column(df, "beta", "--table", path, lo=0.0, lo_open=True)
    return {lab: (float(ci), float(bi)) for lab, ci, bi in zip(labels, c, beta)}


def load_plan(path, table=None, id_col="id", max_bytes=None):
    """The plan in ``path`` as a DataFrame with ``id``, ``c``, ``beta`` (and ``difficulty``).

    Parameters
    ----------
    path : str
        CSV or Parquet, one row per sub-question.
    table : str, optional
        A law table mapping the plan's ``difficulty`` labels to ``c`` and
        ``beta`` (:func:`load_law_table`); needed when the plan has no ``c``
        and ``beta`` columns, refused when it has them.
    id_col : str
        The id column (kept as given: its name and values are carried through).
    max_bytes : int, optional
        Size limit of the files (``None``: the command line's default).

    Raises
    ------
    ValueError
        One line: a missing or duplicate id, a missing column, a NaN or
        non-positive ``c`` or ``beta``, an unknown difficulty label.
    """
    kw = {} if max_bytes is None else dict(max_bytes=max_bytes)
    df = read_table(path, "PLAN_FILE", **kw)
    ids = id_column(df, id_col, "PLAN_FILE", path)
    has_law = "c" in df.columns or "beta" in df.columns
    out = pd.DataFrame({id_col: ids.to_numpy()})
    if has_law:
        if table is not None:
            raise ValueError(f"--table does not apply to a plan with columns c and beta "
                             f"({path})")
        require_columns(df, ["c", "beta"], "PLAN_FILE", path)
        if "difficulty" in df.columns:
            out["difficulty"] = df["difficulty"].to_numpy()
        out["c"] = numeric_column(df, "c", "PLAN_FILE", path, lo=0.0, lo_open=True)
        out["beta"] = numeric_column(df, "beta", "PLAN_FILE", path, lo=0.0, lo_open=True)
        return out
    if "difficulty" not in df.columns:
        raise ValueError(f"PLAN_FILE {path} needs columns c and beta, or difficulty with "
                         f"--table (columns: {', '.join(df.columns)})")
    if table is None:
        raise ValueError(f"PLAN_FILE {path} gives difficulty labels: pass --table FILE (the "
                         "output of python -m sim.bbam fit) to map them to c and beta")
    law = load_law_table(table, **kw)
    labels = _labels(df["difficulty"])
    unknown = sorted(set(labels) - set(law))
    if df["difficulty"].isna().any():
        i = int(np.flatnonzero(df["difficulty"].isna().to_numpy())[0])
        raise ValueError(f"PLAN_FILE {path}: column 'difficulty' has a missing value at row "
                         f"{i + 1}")
    if unknown:
        raise ValueError(f"PLAN_FILE {path}: difficulty {unknown[0]!r} is not in --table "
                         f"{table} (labels: {', '.join(sorted(law))})")
    out["difficulty"] = df["difficulty"].to_numpy()
    out["c"] = [law[s][0] for s in labels]
    out["beta"] = [law[s][1] for s in labels]
    return out


def allocate_plan(plan, budget, method="exact", min_tokens=th.MIN_TOKENS):
    """Whole tokens per sub-question of ``plan``, summing to ``budget``.

    docs/models/bbam.md (28)-(29) (:func:`theory.bbam.allocate_tokens`).

    Parameters
    ----------
    plan : DataFrame
        From :func:`load_plan`: an id column first, then ``c`` and ``beta``.
    budget : int
        Whole tokens for the plan, ``>= len(plan) * min_tokens``.
    method : {"exact", "paper", "uniform"}
    min_tokens : int

    Returns
    -------
    (DataFrame, dict)
        The plan's rows in input order with ``tokens`` (int64) after the id,
        ``tokens_real`` (the real-valued split with the floor) and
        ``uncertainty`` (``c tokens**-beta``, the epistemic part of (1)); and
        the objective ``sum_j c_j b_j**-beta_j`` (3) of the whole-token
        allocation of every method.
    """
    c = plan["c"].to_numpy(float)
    beta = plan["beta"].to_numpy(float)
    tokens = {m: th.allocate_tokens(c, beta, budget, m, min_tokens) for m in th.METHODS}
    real = th.allocate_floor(c, beta, budget, method, min_tokens)
    out = plan.copy()
    out.insert(1, "tokens", tokens[method])
    out["tokens_real"] = real * (budget / real.sum())
    with np.errstate(divide="ignore"):
        out["uncertainty"] = c * tokens[method].astype(float) ** (-beta)
        objective = {m: float(np.sum(c * t.astype(float) ** (-beta))) for m, t in tokens.items()}
    return out, objective
