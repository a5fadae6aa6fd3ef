"""Fitting a Gamma law to observed remaining lengths: ``python -m sim.gamma --fit FILE``.

:func:`load_lengths` reads the lengths; :func:`fit_report` fits the Gamma law
over ``log(L + 1)`` (docs/models/gamma.md (22)) or takes a given one, and
measures its calibration: the randomised PIT (25), central-interval coverage
and the reliability of the guidance event (26).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theory import gamma as th
from theory._params import check_real

__all__ = ["load_lengths", "fit_report"]


def load_lengths(path):
    """Remaining lengths from column ``length`` of a CSV or Parquet file.

    Raises a one-line ``ValueError`` for an unknown format, a missing column,
    an empty column, or values that are not integers ``>= 1``.
    """
    path = str(path)
    try:
        if path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        elif path.endswith((".csv", ".txt")):
            df = pd.read_csv(path)
        else:
            raise ValueError(f"fit file must be .csv or .parquet, got {path!r}")
    except FileNotFoundError:
        raise ValueError(f"fit file not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        if isinstance(exc, pd.errors.EmptyDataError):
            raise ValueError(f"fit file {path} is empty") from None
        raise ValueError(f"fit file {path} could not be read: "
                         f"{str(exc).splitlines()[0]}") from None
    except Exception as exc:  # pyarrow raises its own types for malformed Parquet
        raise ValueError(f"fit file {path} could not be read: "
                         f"{str(exc).splitlines()[0]}") from None
    if "length" not in df.columns:
        raise ValueError(f"fit file {path} needs a column 'length', has {list(df.columns)}")
    x = pd.to_numeric(df["length"], errors="coerce").to_numpy(dtype=np.float64)
    if x.size == 0:
        raise ValueError(f"fit file {path} has no lengths")
    if np.any(~np.isfinite(x)) or np.any(x < 1) or np.any(x != np.round(x)):
        bad = x[~(np.isfinite(x) & (x >= 1) & (x == np.round(x)))][0]
        raise ValueError(f"length must be integers >= 1, got {bad:g}")
    return x.astype(np.int64)


def fit_report(lengths, budgets=None, seed=0, alpha=None, rate=None):
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

    Returns
    -------
    dict
        ``alpha``, ``rate``, ``nll`` (mean continuous NLL (9) per observation),
        ``nll_discrete``, ``n``, the median/mode/mean of the fitted length law,
        the randomised-PIT KS statistic and p-value, central-interval coverage
        at 50% and 90%, and event reliability (ECE, Brier) at ``budgets``
        (default: the 25/50/75% sample quantiles).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if (alpha is None) != (rate is None):
        raise ValueError("alpha and rate must be given together")
    if alpha is None:
        fit = th.fit_gamma(lengths)
        a, r, nll = fit.alpha, fit.rate, fit.nll
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
               reliability=rel)
    return out
