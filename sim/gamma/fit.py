"""Fitting a Gamma law to observed remaining lengths: ``python -m sim.gamma --fit FILE``.

:func:`load_lengths` reads the lengths (any column, optionally per group);
:func:`fit_report` fits the Gamma law over ``log(L + 1)`` (docs/models/gamma.md
(22)) with profile-likelihood intervals (28), or takes a given one, and
measures its calibration: the randomised PIT (25), central-interval coverage
and the reliability of the guidance event (26); :func:`fit_table` does so per
group, as one table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theory import gamma as th
from theory._params import check_real

__all__ = ["load_lengths", "fit_report", "TABLE_COLUMNS", "report_row", "fit_table",
           "sample_lengths"]


def load_lengths(path, column="length", by=None, max_bytes=None):
    """Remaining lengths from column ``column`` of a CSV or Parquet file, per group of ``by``.

    Returns the lengths (int64) without ``by``, else a dict ``{group: lengths}``
    in order of first appearance. Raises a one-line ``ValueError`` for an
    unreadable file, a missing column, an empty column, a missing group
    label, or values that are not integers ``>= 1``.
    """
    from sim._tables import numeric_column, read_table, require_columns

    kw = {} if max_bytes is None else dict(max_bytes=max_bytes)
    if not str(path).lower().endswith((".csv", ".txt", ".parquet", ".pq")):
        raise ValueError(f"--fit file must be .csv or .parquet, got {str(path)!r}")
    df = read_table(path, "--fit", **kw)
    require_columns(df, [column] + ([by] if by else []), "--fit", path)
    x = numeric_column(df, column, "--fit", path, lo=1.0, integer=True)
    if by is None:
        return x
    labels = df[by]
    if labels.isna().any():
        i = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise ValueError(f"--fit {path}: column {by!r} has a missing value at row {i + 1}")
    return {g: x[idx] for g, idx in pd.Series(np.arange(len(df))).groupby(
        labels.to_numpy(), sort=False).groups.items()}


def fit_report(lengths, budgets=None, seed=0, alpha=None, rate=None, level=0.95):
    """Fit a Gamma over ``log(L + 1)`` to observed lengths and measure its calibration.

    With ``alpha`` and ``rate`` given, nothing is fitted: the report measures
    how well that Gamma law (e.g. a predictor's) describes the lengths.

    Parameters
    ----------
    lengths : array_like of int
        Observed remaining lengths ``L >= 1``.
    budgets : sequence of int or None
        Budgets of the event reliability (26).
    seed : int
        Seed of the PIT randomisation.
    alpha, rate : float or None
        A given Gamma law (both or neither), ``> 0``.
    level : float
        Coverage of the profile-likelihood intervals of a fitted ``alpha``
        and ``rate`` (docs/models/gamma.md (28)).

    Returns
    -------
    dict
        ``alpha``, ``rate``, ``nll`` (mean continuous NLL (9) per observation),
        ``nll_discrete``, ``n``, the median/mode/mean of the fitted length law,
        the randomised-PIT KS statistic and p-value, central-interval coverage
        at 50% and 90%, and event reliability (ECE, Brier) at ``budgets``
        (default: the 25/50/75% sample quantiles); ``alpha_low``,
        ``alpha_high``, ``rate_low``, ``rate_high`` (NaN for a given law).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if (alpha is None) != (rate is None):
        raise ValueError("alpha and rate must be given together")
    ci = dict(alpha_low=np.nan, alpha_high=np.nan, rate_low=np.nan, rate_high=np.nan)
    if alpha is None:
        fit = th.fit_gamma(lengths)
        a, r, nll = fit.alpha, fit.rate, fit.nll
        ci = {k: v for k, v in th.profile_intervals(lengths, level).items()
              if k.endswith(("_low", "_high"))}
    else:
        a = check_real("alpha", alpha, lo=0.0, lo_open=True)
        r = check_real("rate", rate, lo=0.0, lo_open=True)
        nll = float(np.mean(th.nll(np.log(lengths + 1.0), a, r)))
    if budgets is None:
        budgets = sorted(set(int(x) for x in np.quantile(lengths, [0.25, 0.5, 0.75])))
    u = th.randomized_pit(lengths, a, r, seed=seed)
    ks = th.pit_uniformity(u)
    cov = th.interval_coverage(lengths, a, r, levels=(0.5, 0.9))
    rel = th.event_reliability(lengths, a, r, budgets)
    out = dict(alpha=float(a), rate=float(r), nll=nll, fitted=alpha is None,
               nll_discrete=float(np.mean(th.discrete_nll(lengths, a, r))), n=int(lengths.size),
               median=float(th.length_median(a, r)), mode=float(th.length_mode(a, r)),
               mean=float(th.length_mean(a, r)), pit=u, pit_ks=ks, coverage=cov,
               reliability=rel, **ci)
    return out


#: Columns of :func:`fit_table` after the group.
TABLE_COLUMNS = ("n", "alpha", "alpha_low", "alpha_high", "rate", "rate_low", "rate_high",
                 "nll", "nll_discrete", "median", "mode", "mean", "pit_ks", "pit_p_value",
                 "coverage_50", "coverage_90", "fitted")


def report_row(rep):
    """One table row (:data:`TABLE_COLUMNS`) of a :func:`fit_report`."""
    cov = {f"coverage_{int(round(100 * r.level))}": float(r.coverage)
           for r in rep["coverage"].itertuples()}
    return dict(n=rep["n"], alpha=rep["alpha"], alpha_low=rep["alpha_low"],
                alpha_high=rep["alpha_high"], rate=rep["rate"], rate_low=rep["rate_low"],
                rate_high=rep["rate_high"], nll=rep["nll"], nll_discrete=rep["nll_discrete"],
                median=rep["median"], mode=rep["mode"], mean=rep["mean"],
                pit_ks=rep["pit_ks"].ks_statistic, pit_p_value=rep["pit_ks"].p_value,
                coverage_50=cov.get("coverage_50"), coverage_90=cov.get("coverage_90"),
                fitted=rep["fitted"])


def fit_table(groups, by, seed=0, alpha=None, rate=None, level=0.95, progress=None):
    """One :func:`fit_report` per group, as one table.

    Parameters
    ----------
    groups : dict
        ``{group: lengths}`` (:func:`load_lengths` with ``by``).
    by : str
        Name of the group column of the table.

    Returns
    -------
    (DataFrame, dict)
        One row per group (``by`` then :data:`TABLE_COLUMNS`), and the
        reports by group.
    """
    rows, reports = [], {}
    for g, lengths in groups.items():
        if alpha is None and np.unique(lengths).size < 2:
            raise ValueError(f"length needs at least two distinct values to fit a Gamma, "
                             f"got {lengths.size} length(s) at {by} {g!r}")
        rep = fit_report(lengths, seed=seed, alpha=alpha, rate=rate, level=level)
        reports[g] = rep
        rows.append({by: g, **report_row(rep)})
        if progress is not None:
            progress()
    return pd.DataFrame(rows), reports


def sample_lengths(alpha, rate, n, seed=0):
    """``n`` lengths of the discrete model (4) of docs/models/gamma.md on the project's stream.

    ``y = F^-1(u)`` of the Gamma law over ``log(L + 1)`` for uniforms ``u``
    from :func:`sim.rng.uniform` of the stream ``"gamma/lengths"``, and
    ``L = max(1, ceil(exp(y) - 1))``; for checking the fits.
    """
    from sim import rng as _rng

    key = _rng.stream_key(seed, "gamma/lengths")
    u = _rng.uniform(_rng.splitmix64(key, np.arange(int(n), dtype=np.uint64)))
    y = np.asarray(th.ppf(u, alpha, rate), dtype=float)
    return np.maximum(1, np.ceil(np.expm1(y))).astype(np.int64)
