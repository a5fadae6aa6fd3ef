"""The Apache HTTP Server case: four phases scored on the authors' 60-point rubric.

docs/models/coop.md, section "The Apache case". Each phase is one team with
heterogeneous loyalty, solved exactly by the direct solver
(docs/models/coop.md (15)-(16)); the rubric scores the predicted mean efforts
per phase on convergence, ranking, pattern and trend.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.coop.variants import DEFAULT_VARIANT, welfare_mode
from theory import coop as th

__all__ = ["APACHE", "apache_phases", "run_apache"]

#: The case's inputs (the authors' ``get_apache_parameters``).
APACHE = {
    "omega": 30.0, "beta": 0.65, "c": 1.2, "a_min": 0.01, "a_max": 50.0,
    "phi_B": 0.8, "phi_C": 0.3,
    "founders": ("Behlendorf", "Fielding", "Hartill", "Robinson", "Skolnick", "Terbush", "Thau",
                 "Wilson"),
    "founder_D": (0.18, 0.20, 0.12, 0.10, 0.08, 0.10, 0.12, 0.10),
    "founder_theta": (0.85, 0.90, 0.80, 0.75, 0.70, 0.78, 0.82, 0.76),
    # (name, n_core, loyalty multiplier, observed pattern, "expected effort")
    "phases": (("Formation", 8, 1.00, "High", 6.8), ("Growth", 25, 0.85, "Moderate", 5.2),
               ("Maturation", 40, 0.70, "Sustained", 4.1),
               ("Evolution", 35, 0.60, "Declining", 3.8)),
    "observed_skew": 4.2,
}


def apache_phases(variant=DEFAULT_VARIANT):
    """Solve the four phases of the Apache case with the direct solver.

    Member ``i`` of a phase of size ``n`` has loyalty
    ``founder_theta[i mod 8] * multiplier`` and dependency weight
    ``founder_D[i]`` for ``i < 8``, else ``1/n`` (the authors' construction).

    Parameters
    ----------
    variant : {"paper", "repo"}

    Returns
    -------
    list of dict
        Per phase: ``name``, ``n``, ``pattern``, ``expected``, ``mean_theta``,
        ``cohesion`` (docs/models/coop.md (7)), ``predicted`` (mean
        equilibrium effort) and ``efforts``.
    """
    mode = welfare_mode(variant)
    A = APACHE
    ft, fD = np.array(A["founder_theta"]), np.array(A["founder_D"])
    out = []
    for name, n, mult, pattern, expected in A["phases"]:
        idx = np.arange(n)
        theta = ft[idx % 8] * mult
        D = np.where(idx < 8, fD[np.minimum(idx, 7)], 1.0 / n)
        T = th.target_aggregate(theta, A["omega"], A["beta"], A["c"], n, A["phi_B"], A["phi_C"],
                                mode)
        eq = th.equilibrium_direct(T, A["a_min"], A["a_max"])
        out.append({"name": name, "n": n, "pattern": pattern, "expected": expected,
                    "mean_theta": float(theta.mean()), "cohesion": th.team_cohesion(theta, D),
                    "predicted": float(eq.mean_effort), "efforts": eq.efforts})
    return out


def _pattern_points(pattern, norm):
    if pattern == "High":
        return 4 if norm > 0.6 else 3 if norm > 0.4 else 2 if norm > 0.2 else 1
    if pattern == "Moderate":
        return 4 if 0.3 < norm < 0.9 else 2 if norm > 0.2 else 1
    if pattern == "Sustained":
        return 4 if 0.1 < norm < 0.6 else 2 if norm > 0.05 else 1
    return 4 if norm < 0.5 else 2 if norm < 0.7 else 1  # Declining


def run_apache(variant=DEFAULT_VARIANT):
    """Score the Apache case on the authors' 60-point rubric.

    docs/models/coop.md, section "The Apache case". Per phase (at most 15):
    convergence and stability (0-3), relative magnitude ranking (0-4), pattern
    matching (0-4, ``norm = pred / a_max``) and cross-phase trend (0-4).

    Parameters
    ----------
    variant : {"paper", "repo"}

    Returns
    -------
    dict
        ``variant``, ``score`` (out of 60), ``max_score``, ``phases`` (per
        phase the inputs, ``predicted``, ``cohesion``, the four ``items`` and
        ``score``), and the secondary statistics against the "expected effort"
        column: ``pearson_r``, ``pearson_p``, ``rmse``, ``mape`` (%),
        ``founders_skew`` (top over bottom founder effort in the first phase)
        and ``observed_skew`` (4.2).
    """
    phases = apache_phases(variant)
    preds = np.array([p["predicted"] for p in phases])
    order = np.argsort(-preds, kind="stable")
    rank = np.empty(len(preds), int)
    rank[order] = np.arange(1, len(preds) + 1)
    a_max = APACHE["a_max"]
    rank_points = {0: 4, 1: 3, 2: 1}
    total = 0
    for j, p in enumerate(phases):
        pred = p["predicted"]
        conv = int(pred > 0) + int(pred < 100) + int(np.isfinite(pred))
        ranking = rank_points.get(abs(int(rank[j]) - (j + 1)), 0)
        pattern = _pattern_points(p["pattern"], pred / a_max)
        if j == 0:
            trend = 4 if pred >= 0.95 * preds.max() else 2
        else:
            prev = preds[j - 1]
            trend = 4 if pred < prev else 2 if pred == prev else 1 if pred < 1.1 * prev else 0
        items = {"convergence": conv, "ranking": ranking, "pattern": pattern, "trend": trend}
        p["items"] = items
        p["score"] = min(15, sum(items.values()))
        total += p["score"]
    expected = np.array([p["expected"] for p in phases])
    r = stats.pearsonr(preds, expected)
    founders = phases[0]["efforts"]
    return {
        "variant": variant,
        "score": int(total),
        "max_score": 15 * len(phases),
        "phases": phases,
        "pearson_r": float(r.statistic),
        "pearson_p": float(r.pvalue),
        "rmse": float(np.sqrt(np.mean((preds - expected) ** 2))),
        "mape": float(np.mean(np.abs(preds - expected) / expected) * 100.0),
        "founders_skew": float(founders.max() / founders.min()),
        "observed_skew": APACHE["observed_skew"],
    }
