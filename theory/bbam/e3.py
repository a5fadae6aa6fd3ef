"""The efficiency score E3 = A**2 / T, docs/models/bbam.md (9), and the paper's reported values.

``A`` is a dataset's mean score in percent and ``T`` its mean number of
completion tokens per question (paper; the authors' code computes it from
dataset means). :func:`e3_estimator_bias` is the upward bias of E3 estimated
from one run, docs/models/bbam.md (24).
"""

from __future__ import annotations

from theory._params import check_int, check_real, check_real_array
from theory.bbam._layout import NONNEG, POS, layout, lead_out, out

__all__ = ["e3", "e3_from_scores", "e3_relative_change", "e3_ratio_identity", "PAPER_E3",
           "paper_relative_changes", "e3_estimator_bias"]


def e3(A, T):
    """Efficiency-aware effectiveness score ``E3 = A**2 / T``, docs/models/bbam.md (9) (paper).

    ``A`` is the dataset-average score **in percent** (accuracy, ROUGE-L x 100
    or pass score x 100) and ``T`` the average number of completion tokens per
    query (prompt and planner tokens excluded, as in the paper and the
    authors' code). Only this scaling fits the reported values (o4-mini on
    MATH-500: E3 = 15.95 with A ~ 95 means T ~ 566).

    Parameters
    ----------
    A : array_like
        Score in ``[0, 100]``.
    T : array_like
        Mean completion tokens, ``> 0``.

    Returns
    -------
    float or ndarray
    """
    A = check_real_array("A", A, 0.0, 100.0)
    T = check_real_array("T", T, **POS)
    return out(A * A / T)


def e3_from_scores(scores, tokens):
    """E3 of a dataset from per-query results, docs/models/bbam.md (9) (the authors' code).

    ``(100 mean(score))**2 / mean(tokens)``.

    E3 is computed from **dataset means**, as the official code does
    (``score * score_over_avg_tokens``), not as the mean of per-query E3.

    Parameters
    ----------
    scores : array_like
        Per-query scores in ``[0, 1]``, queries on the last axis.
    tokens : array_like
        Per-query completion tokens, ``>= 0``; broadcasts against ``scores``;
        every mean must be ``> 0``.

    Returns
    -------
    float or ndarray
        One value per leading index.
    """
    (s2, t2), _, _, lead, _ = layout("scores", scores, (("tokens", tokens),))
    s2 = check_real_array("scores", s2, 0.0, 1.0)
    t2 = check_real_array("tokens", t2, **NONNEG)
    mean_t = t2.mean(axis=-1)
    if not (mean_t > 0).all():
        raise ValueError("tokens must have a positive mean, got 0")
    A = 100.0 * s2.mean(axis=-1)
    return lead_out(A * A / mean_t, lead)


def e3_relative_change(e3_old, e3_new):
    """Relative change ``E3_new / E3_old - 1`` as a fraction.

    Parameters
    ----------
    e3_old : array_like
        ``> 0``.
    e3_new : array_like
        ``>= 0``.

    Returns
    -------
    float or ndarray
        E.g. ``0.47 / 0.16 - 1 = 1.9375`` (the v3 headline "+193.8%").
    """
    e3_old = check_real_array("e3_old", e3_old, **POS)
    e3_new = check_real_array("e3_new", e3_new, **NONNEG)
    return out(e3_new / e3_old - 1.0)


def e3_ratio_identity(A, T, A_new, T_new):
    """Ratio of two E3 values from their scores and tokens, ``(A_new/A)**2 (T/T_new)``.

    Derived here from docs/models/bbam.md (9): the elasticities are +2 in
    ``A`` and -1 in ``T``, so a 1% accuracy loss is offset by a 2% token cut.

    Parameters
    ----------
    A, T : array_like
        Old score in ``(0, 100]`` and mean tokens ``> 0``.
    A_new, T_new : array_like
        New score in ``[0, 100]`` and mean tokens ``> 0``.

    Returns
    -------
    float or ndarray
        ``E3(A_new, T_new) / E3(A, T)``.
    """
    A = check_real_array("A", A, 0.0, 100.0, lo_open=True)
    T = check_real_array("T", T, **POS)
    A_new = check_real_array("A_new", A_new, 0.0, 100.0)
    T_new = check_real_array("T_new", T_new, **POS)
    return out((A_new / A) ** 2 * (T / T_new))


#: E3 comparisons reported for the paper (docs/models/bbam.md, "Reported values").
#: ``old`` and ``new`` are E3 values as printed (2 decimals), ``stated_change``
#: the relative change as stated, in percent; the headline percentages appear to
#: have been computed from the rounded E3 values. The v1 headline "+187.5%" is
#: not a row: that it came from 0.16 -> 0.46 is an inference, not a reported
#: value. ``source`` says where the numbers are printed: the paper, or the
#: public ICLR 2026 reviews of its third version.
PAPER_E3 = (
    {"task": "MATH-500", "model": "DS-LLaMA-70B",
     "comparison": "Global Budget -> Plan-and-Budget",
     "old": 4.55, "new": 5.89, "stated_change": 29.4, "source": "paper; reviews"},
    {"task": "MATH-500", "model": "o4-mini",
     "comparison": "Global Budget -> Plan-and-Budget",
     "old": 13.25, "new": 15.95, "stated_change": 20.3, "source": "paper"},
    {"task": "MATH-500", "model": "DS-Qwen-32B",
     "comparison": "Global Budget -> Plan-and-Budget (cosine)",
     "old": 5.26, "new": 5.92, "stated_change": 12.5,
     "source": "reviews (reviewer 5, citing Table 3)"},
    {"task": "NaturalInstructions", "model": "DS-Qwen-32B",
     "comparison": "baseline -> Plan-and-Budget",
     "old": 2.33, "new": 2.86, "stated_change": 22.7, "source": "reviews"},
    {"task": "TravelPlanner", "model": "DS-Qwen-32B",
     "comparison": "baseline -> Plan-and-Budget (polynomial)",
     "old": 0.16, "new": 0.47, "stated_change": 193.8, "source": "paper (v3 headline); reviews"},
)


def paper_relative_changes():
    """Relative E3 changes of :data:`PAPER_E3` recomputed from its E3 values, in percent.

    ``100 (new / old - 1)`` for each row, in the order of :data:`PAPER_E3`,
    to be compared with its ``stated_change`` (e.g. 5.89/4.55 gives
    29.45 against the stated 29.4, 0.47/0.16 gives 193.75 against 193.8).

    Returns
    -------
    tuple of float
    """
    return tuple(100.0 * (row["new"] / row["old"] - 1.0) for row in PAPER_E3)


def e3_estimator_bias(p, n, mean_tokens):
    """First-order bias of the E3 estimate from ``n`` questions, docs/models/bbam.md (24).

    ``E[(100 A_hat)**2] = (100 p)**2 + 1e4 p (1 - p) / n`` (Jensen on the
    square of the accuracy estimate), so, ignoring the variance of the mean
    token count, ``E[E3_hat] - E3 = 1e4 p (1 - p) / (n E[T])`` (derived here
    by the delta method).

    Returns
    -------
    float

    Parameters
    ----------
    p : float
        Accuracy as a fraction, in [0, 1].
    n : int
        Questions per run, ``>= 1``.
    mean_tokens : float
        ``E[T]``, ``> 0``.
    """
    p = check_real("p", p, 0.0, 1.0)
    n = check_int("n", n, 1)
    mean_tokens = check_real("mean_tokens", mean_tokens, **POS)
    return 1e4 * p * (1.0 - p) / (n * mean_tokens)
