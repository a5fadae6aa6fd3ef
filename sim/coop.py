"""The TR-3 experiments (collective action and loyalty) and ``python -m sim.coop``.

Pant and Yu, "Computational Foundations for Strategic Coopetition: Formalizing
Collective Action and Loyalty", arXiv 2601.16237, and the authors' validation
suite ``TR_validation/TR3_loyalty/TR3_validation_suite.py`` (spec
``shared/specs/coopetition.md``). Every equilibrium is computed with the exact,
vectorised direct aggregate solver of :mod:`theory.coop` (spec 3.3), which
reproduces every statistic of the suite's numerical Gauss-Seidel solver.

* :func:`sweep` solves the 3,125-configuration grid (spec 4.1).
* :func:`run_paper_experiment` evaluates the six behavioural targets with the
  suite's operational definitions (spec 4.3), the paired t-test, Cohen's d and
  the bootstrap (spec 4.2).
* :func:`run_apache` scores the Apache HTTP Server case on the 60-point rubric
  (spec 4.5).
* :func:`monte_carlo` is the suite's robustness run (spec 4.4).

``version="paper"`` (teammates' welfare summed, commit ``a9f5e2a``) reproduces
the abstract's numbers; ``version="repo"`` (averaged, repository HEAD) gives the
spec's other column. Both use the suite's bounds ``a_min = 0.01``,
``a_max = 50`` (``CoopParams.paper_compat``).
"""

from __future__ import annotations

import itertools
import json
import sys

import numpy as np
import pandas as pd
from numba import njit, prange, uint64
from scipy import stats

from sim import _cli
from sim import rng as _rng
from theory import coop as th
from theory._params import check_choice, check_int, check_real

__all__ = [
    "repeated_play",
    "VERSIONS",
    "GRID",
    "TARGET_NAMES",
    "PUBLISHED",
    "APACHE",
    "grid_mean_effort",
    "sweep",
    "run_paper_experiment",
    "apache_phases",
    "run_apache",
    "monte_carlo",
    "main",
]

#: Model versions (spec 0): "paper" (sum of teammates' payoffs) and "repo" (mean).
VERSIONS = ("paper", "repo")

#: The suite's ``standard`` grid, in product order (theta varies fastest; spec 4.1).
GRID = {
    "omega": (10.0, 15.0, 20.0, 25.0, 30.0),
    "beta": (0.40, 0.45, 0.50, 0.55, 0.60),
    "c": (1.5, 2.0, 2.5, 3.0, 3.5),
    "n": (3, 4, 5, 6, 8),
    "theta": (0.0, 0.3, 0.5, 0.7, 0.9),
}
#: Fixed sweep settings (code): loyalty strengths and the optimiser's bounds.
SWEEP_FIXED = {"phi_B": 0.8, "phi_C": 0.3, "a_min": 0.01, "a_max": 50.0}

#: The six behavioural targets, in the suite's order (spec 4.3).
TARGET_NAMES = ("free-riding", "monotonicity", "differentiation", "team size", "synergy",
                "bounded")
#: Share a target needs to be met: "> 95 %" or "100 %" (spec 4.3).
_TARGET_RULE = {"free-riding": 0.95, "monotonicity": 1.0, "differentiation": 0.95,
                "team size": 1.0, "synergy": 0.95, "bounded": 1.0}

#: Published or reproduced figures per version (spec 0, 4.2, 4.5); the paper
#: column's rounded figures are the abstract's.
PUBLISHED = {
    "paper": {"free-riding": "96.5 %", "monotonicity": "100 %", "differentiation": "100 %",
              "team size": "100 %", "synergy": "99.5 %", "bounded": "100 %",
              "median_differentiation": "15.04x", "median_synergy": "1.566", "t_stat": "17.86",
              "p_value": "< 0.001", "cohens_d": "0.71", "apache_score": "60/60"},
    "repo": {"free-riding": "96.48 %", "monotonicity": "100 %", "differentiation": "100 %",
             "team size": "100 %", "synergy": "99.52 %", "bounded": "100 %",
             "median_differentiation": "4.478x", "median_synergy": "1.424", "t_stat": "10.99",
             "p_value": "8.6e-26", "cohens_d": "0.4398", "apache_score": "45/60"},
}

#: Apache HTTP Server case inputs (``get_apache_parameters``; spec 4.5).
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


def _version(version):
    check_choice("version", version, VERSIONS)
    return "sum" if version == "paper" else "mean"


# ---------------------------------------------------------------------------
# the grid (spec 4.1)
# ---------------------------------------------------------------------------


def grid_mean_effort(theta, omega, beta, c, n, phi_B=0.8, phi_C=0.3, welfare_mode="sum",
                     a_min=0.01, a_max=50.0):
    """Mean equilibrium effort of symmetric teams over a grid, by the direct solver (spec 3.3).

    ``omega``, ``beta``, ``c``, ``n`` are equal-length 1-d arrays (one
    configuration each, ``n`` may vary); ``theta``, ``phi_B``, ``phi_C`` are
    scalars or arrays of the same length. Configurations are grouped by team
    size and each group is solved in one vectorised call of
    :func:`theory.coop.equilibrium_direct`.
    """
    omega, beta, c = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (omega, beta, c))
    n = np.atleast_1d(np.asarray(n))
    size = omega.shape[0]
    theta, phi_B, phi_C = (np.broadcast_to(np.asarray(x, dtype=float), (size,))
                           for x in (theta, phi_B, phi_C))
    out = np.empty(size)
    for m in np.unique(n):
        sel = n == m
        T = th.target_aggregate(theta[sel], omega[sel], beta[sel], c[sel], int(m), phi_B[sel],
                                phi_C[sel], welfare_mode)
        T = np.repeat(np.asarray(T, dtype=float)[:, None], int(m), axis=1)
        out[sel] = th.equilibrium_direct(T, a_min, a_max).mean_effort
    return out


def sweep(version="paper"):
    """Solve the 3,125-configuration grid (spec 4.1); one row per configuration.

    Returns
    -------
    dict of ndarray, each of length 3,125 in the suite's row order
        ``omega, beta, c, n, theta`` (the configuration), ``free_riding_eq``
        (mean effort at theta = 0), ``analytical_free_riding`` (``a_0*``),
        ``free_riding_error`` (%), ``equilibrium_effort`` (mean effort at
        theta), ``output_zero``, ``output_theta``, ``effort_differentiation``
        (theta = 0.9 over theta = 0.1; NaN except on theta = 0.5 rows) and
        ``mechanism_synergy`` (at theta = 0.7; spec 3.4).
    """
    mode = _version(version)
    rows = np.array(list(itertools.product(*GRID.values())))
    omega, beta, c, n, theta = rows.T
    n = n.astype(int)
    b = dict(a_min=SWEEP_FIXED["a_min"], a_max=SWEEP_FIXED["a_max"])
    pB, pC = SWEEP_FIXED["phi_B"], SWEEP_FIXED["phi_C"]

    def eff(t, phi_B=pB, phi_C=pC):
        return grid_mean_effort(t, omega, beta, c, n, phi_B, phi_C, mode, **b)

    e0, e = eff(0.0), eff(theta)
    a0 = np.asarray(th.free_riding_effort(omega, beta, c, n))
    diff = eff(0.9) / eff(0.1)
    e07 = eff(0.7)
    Ec, EB, EC = e07 - e0, eff(0.7, phi_C=0.0) - e0, eff(0.7, phi_B=0.0) - e0
    den = EB + EC
    syn = np.where(den > 0, Ec / np.where(den > 0, den, 1.0), 1.0)
    return {
        "omega": omega, "beta": beta, "c": c, "n": n, "theta": theta,
        "free_riding_eq": e0, "analytical_free_riding": a0,
        "free_riding_error": np.abs(e0 - a0) / a0 * 100.0,
        "equilibrium_effort": e,
        "effort_increase_pct": (e - e0) / e0 * 100.0,
        "output_zero": np.asarray(th.team_production(n * e0, omega, beta)),
        "output_theta": np.asarray(th.team_production(n * e, omega, beta)),
        "effort_differentiation": np.where(theta == 0.5, diff, np.nan),
        "mechanism_synergy": syn,
    }


def _target(name, ok):
    ok = np.asarray(ok, dtype=bool)
    share, need = float(ok.mean()), _TARGET_RULE[name]
    passed = share == 1.0 if need == 1.0 else share > need  # "only if 100 %" or "> 95 %"
    return {"name": name, "share": share, "passed": bool(passed), "count": int(ok.sum()),
            "units": int(ok.size)}


def run_paper_experiment(version="paper", bootstrap=10_000, seed=42):
    """The sweep's six behavioural targets and statistics (spec 4.2, 4.3).

    Parameters
    ----------
    version : {"paper", "repo"}, default "paper"
    bootstrap : int, default 10000
        Resamples of the 625 differentiation ratios (0 skips the bootstrap).
    seed : int, default 42
        Seed of the numpy legacy generator used by the bootstrap (the suite's
        ``np.random.seed(42)`` then ``np.random.choice``).

    Returns
    -------
    dict
        ``targets`` (list of ``{name, share, passed, count, units}``),
        ``median_differentiation``, ``mean_differentiation``, ``median_synergy``,
        ``t_stat``, ``p_value``
        (``scipy.stats.ttest_rel`` of the theta = 0.9 rows against the
        theta = 0 rows), ``cohens_d`` (paired, population SD), ``mean_difference``,
        ``bootstrap`` (``estimate``: the mean differentiation ratio; ``mean``:
        the mean of the resampled means; ``ci_low``/``ci_high``: their 95 %
        percentile interval) and ``mean_effort_by_theta``.
    """
    bootstrap = check_int("bootstrap", bootstrap, 0)
    seed = check_int("seed", seed, 0)
    r = sweep(version)
    e, theta = r["equilibrium_effort"], r["theta"]
    k = len(GRID["theta"])
    by_group = e.reshape(-1, k)  # 625 groups (omega, beta, c, n), theta ascending
    mono = (np.diff(by_group, axis=1) >= 0).all(axis=1)
    diff = r["effort_differentiation"][theta == 0.5]
    diff = diff[np.isfinite(diff)]
    # team size: rows with theta < 0.3 (only theta = 0), groups (omega, beta, c), n ascending
    n_vals = len(GRID["n"])
    low = e.reshape(-1, n_vals, k)[:, :, [i for i, t in enumerate(GRID["theta"]) if t < 0.3]]
    size_ok = (np.diff(low, axis=1) <= 0).all(axis=1).ravel()
    syn = r["mechanism_synergy"]
    targets = [
        _target("free-riding", r["free_riding_error"] < 5.0),
        _target("monotonicity", mono),
        _target("differentiation", diff > 2.0),
        _target("team size", size_ok),
        _target("synergy", syn > 1.1),
        _target("bounded", (e >= 0.0) & (e <= SWEEP_FIXED["a_max"])),
    ]
    high, low0 = e[theta == 0.9], e[theta == 0.0]
    t = stats.ttest_rel(high, low0)
    d = high - low0
    out = {
        "version": version,
        "configurations": int(e.size),
        "targets": targets,
        "median_differentiation": float(np.median(diff)),
        "mean_differentiation": float(np.mean(diff)),
        "median_synergy": float(np.median(syn)),
        "t_stat": float(t.statistic),
        "p_value": float(t.pvalue),
        "cohens_d": float(d.mean() / d.std(ddof=0)),
        "mean_difference": float(d.mean()),
        "mean_effort_by_theta": {f"{x:g}": float(e[theta == x].mean()) for x in GRID["theta"]},
    }
    if bootstrap:
        rs = np.random.RandomState(seed)
        means = np.array([rs.choice(diff, size=diff.size, replace=True).mean()
                          for _ in range(bootstrap)])
        out["bootstrap"] = {"resamples": bootstrap, "seed": seed, "estimate": float(diff.mean()),
                            "mean": float(means.mean()),
                            "ci_low": float(np.percentile(means, 2.5)),
                            "ci_high": float(np.percentile(means, 97.5))}
    return out


# ---------------------------------------------------------------------------
# Apache HTTP Server case (spec 4.5)
# ---------------------------------------------------------------------------


def apache_phases(version="paper"):
    """Solve the four Apache phases (spec 4.5) with the direct solver.

    Member ``i`` of a phase of size ``n`` has loyalty
    ``founder_theta[i mod 8] * multiplier`` and dependency weight
    ``founder_D[i]`` for ``i < 8``, else ``1/n`` (code).

    Returns
    -------
    list of dict
        Per phase: ``name``, ``n``, ``pattern``, ``expected``, ``mean_theta``,
        ``cohesion``, ``predicted`` (mean equilibrium effort), ``efforts``.
    """
    mode = _version(version)
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


def run_apache(version="paper"):
    """Score the Apache case on the suite's 60-point rubric (``_compute_phase_score``; spec 4.5).

    Per phase (max 15): convergence and stability (0-3), relative magnitude
    ranking (0-4), pattern matching (0-4, ``norm = pred / a_max``) and
    cross-phase trend (0-4).

    Returns
    -------
    dict
        ``score`` (out of 60), ``max_score``, ``phases`` (per phase the inputs,
        ``predicted``, ``cohesion`` and the four ``items`` with ``score``), and
        the secondary statistics against the "expected effort" column:
        ``pearson_r``, ``pearson_p``, ``rmse``, ``mape`` (%) and
        ``founders_skew`` (top/bottom founder effort in Formation; observed 4.2).
    """
    phases = apache_phases(version)
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
        "version": version,
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


# ---------------------------------------------------------------------------
# Monte Carlo robustness (spec 4.4)
# ---------------------------------------------------------------------------


def monte_carlo(version="paper", trials=2000, seed=42, noise=0.15):
    """The suite's robustness run (spec 4.4), vectorised over trials.

    Base ``omega = 25, beta = 0.7, c = 1, n = 5, phi_B = 0.8, phi_C = 0.3``;
    each trial draws 4 multipliers ``1 + U(-noise, noise)`` from the numpy
    legacy generator seeded with ``seed`` (in the order omega, beta, c, phi_B)
    and clips beta to ``[0.3, 0.95]`` and phi_B to ``[0.2, 1]``. Checks
    monotonicity over theta in {0, 0.3, 0.6, 0.9} and the differentiation
    ratio theta = 0.9 over theta = 0.1.

    Returns
    -------
    dict
        ``monotone`` and ``ratio_above_2`` (shares), ``ratio_mean``,
        ``ratio_sd`` (ddof 0).
    """
    mode = _version(version)
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    u = np.random.RandomState(seed).uniform(-noise, noise, size=(trials, 4))
    omega = 25.0 * (1 + u[:, 0])
    beta = np.clip(0.7 * (1 + u[:, 1]), 0.3, 0.95)
    c = 1.0 * (1 + u[:, 2])
    phi_B = np.clip(0.8 * (1 + u[:, 3]), 0.2, 1.0)
    n = np.full(trials, 5)

    def eff(t):
        return grid_mean_effort(t, omega, beta, c, n, phi_B, 0.3, mode, 0.01, 50.0)

    e = np.stack([eff(t) for t in (0.0, 0.3, 0.6, 0.9)], axis=1)
    ratio = eff(0.9) / eff(0.1)
    return {"version": version, "trials": trials, "seed": seed,
            "monotone": float((np.diff(e, axis=1) >= 0).all(axis=1).mean()),
            "ratio_above_2": float((ratio > 2).mean()), "ratio_mean": float(ratio.mean()),
            "ratio_sd": float(ratio.std(ddof=0))}


# ---------------------------------------------------------------------------
# one team
# ---------------------------------------------------------------------------


def solve_team(params):
    """Equilibrium, output, welfare, cohesion and the free-riding comparison of one team."""
    eq = th.solve(params)
    zero = th.solve(th.CoopParams(**{**_fields(params), "theta": (0.0,) * params.n}))
    S, S0 = float(eq.aggregate), float(zero.aggregate)
    Q = th.team_production(S, params.omega, params.beta)
    Q0 = th.team_production(S0, params.omega, params.beta)
    S_opt = th.social_optimum_aggregate(params.omega, params.beta, params.c)
    return {
        "efforts": eq.efforts, "aggregate": S, "mean_effort": float(eq.mean_effort),
        "unique": bool(eq.unique), "output": Q,
        "welfare": th.team_welfare(S, params.omega, params.beta, params.c),
        "cohesion": params.cohesion(),
        "free_riding": {
            "analytical_effort": th.free_riding_effort(params.omega, params.beta, params.c,
                                                       params.n),
            "equilibrium_effort": float(zero.mean_effort),
            "output": Q0,
            "welfare": th.team_welfare(S0, params.omega, params.beta, params.c),
            "social_optimum_effort": S_opt / params.n,
            "social_optimum_welfare": th.team_welfare(S_opt, params.omega, params.beta,
                                                      params.c),
            "effort_increase_pct": (float(eq.mean_effort) - float(zero.mean_effort))
            / float(zero.mean_effort) * 100.0 if zero.mean_effort > 0 else float("nan"),
            "output_increase_pct": (Q - Q0) / Q0 * 100.0 if Q0 > 0 else float("nan"),
        },
    }


def _fields(params):
    return {f: getattr(params, f) for f in ("omega", "beta", "c", "n", "theta", "D", "phi_B",
                                            "phi_C", "a_min", "a_max", "welfare_mode")}


def plot_effort_vs_loyalty(params, path, sizes=(3, 4, 5, 6, 8)):
    """Symmetric equilibrium effort against loyalty, one line per team size (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hi = min(1.0, (1.0 / params.phi_C) * 0.999) if params.phi_C > 0 else 1.0
    thetas = np.linspace(0.0, hi, 101)
    fig, ax = plt.subplots(figsize=(7.0, 4.8), dpi=120)
    for m in sizes:
        e = th.symmetric_equilibrium_effort(thetas, params.omega, params.beta, params.c, m,
                                            params.phi_B, params.phi_C, params.welfare_mode,
                                            params.a_min, params.a_max)
        ax.plot(thetas, e, lw=1.4, label=f"n = {m}")
    ax.set_yscale("log")
    ax.set_xlabel("loyalty theta (all members)")
    ax.set_ylabel("equilibrium effort per member")
    ax.set_title(f"TR-3 equilibrium effort ({'paper' if params.welfare_mode == 'sum' else 'repo'}"
                 f" version; omega={params.omega:g}, beta={params.beta:g}, c={params.c:g})")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------
# repeated play: noisy best-response dynamics of many teams (Numba)
# ---------------------------------------------------------------------------

_INV53 = 1.0 / 9007199254740992.0
_weyl = njit(inline="always")(_rng.weyl)
_finalize = njit(inline="always")(_rng.finalize)


@njit(parallel=True, cache=True)
def _play_round(a, targets, a_min, a_max, noise, key, round_index):
    """One Gauss-Seidel round of noisy clipped best responses in every team (in place)."""
    teams, n = a.shape
    for t in prange(teams):
        S = 0.0
        for i in range(n):
            S += a[t, i]
        for i in range(n):
            base = (uint64(round_index) * uint64(teams) + uint64(t)) * uint64(2 * n) + uint64(2 * i)
            u1 = ((_finalize(_weyl(key, base)) >> uint64(11)) + 1.0) * _INV53
            u2 = (_finalize(_weyl(key, base + uint64(1))) >> uint64(11)) * _INV53
            z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
            x = targets[t, i] - (S - a[t, i]) + noise * z
            x = min(max(x, a_min), a_max)
            S += x - a[t, i]
            a[t, i] = x


def repeated_play(params, teams=10_000, rounds=50, noise=1.0, trust=False, kappa=1.0,
                  seed=0):
    """Many teams repeatedly playing noisy best responses (Gauss-Seidel order), in parallel.

    Each round every member in turn moves to its clipped best response
    ``clip(S_i* - S_{-i} + noise Z, a_min, a_max)`` (spec 2.1; the noise ``Z`` is
    standard normal, a project choice). With ``trust=True`` each member's
    loyalty follows its mean trust in its teammates, updated every round by
    the TR-2 dynamics (:func:`theory.coop.trust_update`) from the signal of
    each teammate's effort against the free-riding effort (project choice:
    ``theta_i = mean_j T_ij``, baseline ``a_0*``); targets are recomputed from
    the new loyalties. Without trust the teams converge to (and fluctuate
    around) the equilibrium of ``params``.

    Parameters
    ----------
    params : theory.coop.CoopParams
    teams, rounds : int
    noise : float
        Standard deviation of the effort noise, ``>= 0``.
    trust : bool
    kappa : float
        Signal sensitivity of TR-2.
    seed : int

    Returns
    -------
    pandas.DataFrame
        One row per round: ``round``, ``mean_effort`` (over teams and members),
        ``aggregate_gap`` (mean |S - S*| over teams, S* of the round's loyalties),
        ``mean_theta``.
    """
    teams = check_int("teams", teams, 1)
    rounds = check_int("rounds", rounds, 1)
    noise = check_real("noise", noise, 0.0)
    seed = check_int("seed", seed, 0)
    n = params.n
    theta = np.tile(params.theta_array, (teams, 1))
    a = np.full((teams, n), params.a_max / 2 if np.isfinite(params.a_max) else 1.0)
    key = _rng.stream_key(seed, "coop/repeated-play")
    a_base = float(th.free_riding_effort(params.omega, params.beta, params.c, n))
    T = np.repeat(theta[:, :, None], n, axis=2)  # T[t, i, j]: trust of i in j
    R = np.zeros((teams, n))  # reputation damage of each member
    rows = []
    for r in range(rounds):
        targets = np.asarray(th.target_aggregate(theta, params.omega, params.beta, params.c, n,
                                                 params.phi_B, params.phi_C,
                                                 params.welfare_mode), dtype=float)
        _play_round(a, targets, float(params.a_min), float(params.a_max), noise, key, r)
        S_star = np.asarray(th.equilibrium_direct(targets, params.a_min, params.a_max).aggregate)
        rows.append(dict(round=r + 1, mean_effort=float(a.mean()),
                         aggregate_gap=float(np.abs(a.sum(axis=1) - S_star).mean()),
                         mean_theta=float(theta.mean())))
        if trust:
            sig = th.trust_signal(a, a_base, kappa)  # signal of member j's effort
            s_ij = np.repeat(sig[:, None, :], n, axis=1)
            T, R_j = th.trust_update(T, np.repeat(R[:, None, :], n, axis=1), s_ij)
            R = R_j.mean(axis=1)
            off = ~np.eye(n, dtype=bool)
            theta = (T * off).sum(axis=2) / (n - 1)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# command line (spec 5)
# ---------------------------------------------------------------------------


def _build_parser():
    p = _cli.ArgumentParser(
        prog="python -m sim.coop",
        description="Collective action and loyalty in teams (Pant and Yu, TR-3, arXiv "
                    "2601.16237): one team's equilibrium, the 3,125-configuration sweep with "
                    "the six behavioural targets, the Apache case and the Monte Carlo run.")
    p.add_argument("--experiment", default="team", choices=("team", "paper", "apache",
                                                             "montecarlo", "repeated"),
                   help="team (default): solve one team; paper: the sweep and its targets; "
                        "apache: the 60-point case study; montecarlo: robustness run; "
                        "repeated: many copies of the team playing noisy best responses")
    rep = p.add_argument_group("repeated play (--experiment repeated)")
    rep.add_argument("--teams", type=int, default=10_000, help="teams in parallel (default 10000)")
    rep.add_argument("--rounds", type=int, default=30, help="rounds (default 30)")
    rep.add_argument("--noise", type=float, default=0.5, help="effort noise sd (default 0.5)")
    rep.add_argument("--trust", action="store_true",
                     help="loyalty follows TR-2 trust dynamics (documented extension)")
    p.add_argument("--variant", default="paper", choices=VERSIONS,
                   help="paper (teammates' payoffs summed; default) or repo (averaged)")
    team = p.add_argument_group("one team (--experiment team; code defaults)")
    team.add_argument("--omega", type=float, default=25.0, help="productivity > 0 (default 25)")
    team.add_argument("--beta", type=float, default=0.7, help="returns to scale in (0, 1) "
                                                              "(default 0.7)")
    team.add_argument("--c", type=float, default=1.0, help="effort cost > 0 (default 1)")
    team.add_argument("--n", type=int, default=None,
                      help="team size >= 2 (default: length of --theta, else 5)")
    team.add_argument("--theta", default=None,
                      help="loyalty in [0, 1]: one value for all, or one per member, "
                           "comma-separated (default 0.5)")
    team.add_argument("--D", default=None,
                      help="dependency weights >= 0, one per member (default equal)")
    team.add_argument("--phi-B", type=float, default=0.8, help="loyalty benefit (default 0.8)")
    team.add_argument("--phi-C", type=float, default=0.3, help="cost tolerance (default 0.3)")
    team.add_argument("--a-min", type=float, default=0.0, help="effort floor (default 0)")
    team.add_argument("--a-max", type=float, default=50.0, help="effort cap (default 50)")
    # --trials is the Monte Carlo robustness study's number of draws
    _cli.add_common_arguments(p, trials=2000)
    return p


def _params_from_args(args):
    theta = None if args.theta is None else _cli.float_list("theta", args.theta)
    D = None if args.D is None else _cli.float_list("D", args.D)
    n = args.n
    if n is None:
        n = len(theta) if theta is not None and len(theta) > 1 else (
            len(D) if D is not None else 5)
    n = check_int("n", n, 2)
    if theta is not None and len(theta) == 1:
        theta = theta * n
    return th.CoopParams(omega=args.omega, beta=args.beta, c=args.c, n=n, theta=theta, D=D,
                         phi_B=args.phi_B, phi_C=args.phi_C, a_min=args.a_min, a_max=args.a_max,
                         welfare_mode=args.variant)


def main(argv=None):
    """Run ``python -m sim.coop``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        params = _params_from_args(args)
        check_int("trials", args.trials, 1)
        check_int("seed", args.seed, 0)
        if args.experiment == "paper":
            with _cli.progress_spinner(not args.json, "solving the 3,125-configuration grid"):
                res = run_paper_experiment(args.variant, seed=args.seed)
                res["apache_score"] = run_apache(args.variant)["score"]
        elif args.experiment == "apache":
            res = run_apache(args.variant)
        elif args.experiment == "montecarlo":
            res = monte_carlo(args.variant, args.trials, args.seed)
        elif args.experiment == "repeated":
            eq = th.solve(params)
            df = repeated_play(params, args.teams, args.rounds, args.noise, args.trust,
                               seed=args.seed)
            res = dict(equilibrium_mean_effort=float(eq.mean_effort),
                       rounds=df.to_dict(orient="records"))
        else:
            res = solve_team(params)
        if args.plot:
            plot_effort_vs_loyalty(params, args.plot)
    except (ValueError, TypeError, OSError) as exc:
        return _cli.fail(parser.prog, exc)
    if args.json:
        if args.experiment == "apache":
            res = dict(res, phases=[{k: v for k, v in ph.items() if k != "efforts"}
                                    for ph in res["phases"]])
        if args.experiment == "team":
            res = dict(res, params=_fields(params))
        if args.plot:
            res["plot"] = args.plot
        print(json.dumps(_cli.jsonable(res)))
        return 0
    {"paper": _report_paper, "apache": _report_apache, "montecarlo": _report_mc,
     "team": _report_team, "repeated": _report_repeated}[args.experiment](res, params, args)
    if args.plot:
        print(f"effort-loyalty figure written to {args.plot}")
    return 0


def _report_repeated(res, params, args):
    print(f"budgetlab coop  repeated play: {args.teams} teams x {args.rounds} rounds, noise "
          f"{args.noise:g}, trust dynamics {'on' if args.trust else 'off'}; equilibrium mean "
          f"effort {res['equilibrium_mean_effort']:.6g}")
    print(f"{'round':>5s} {'mean effort':>12s} {'|S - S*|':>10s} {'mean theta':>11s}")
    rows = res["rounds"]
    show = sorted(set([0, 1, 2, 4, 9, len(rows) - 1]) & set(range(len(rows))))
    for k in show:
        r = rows[k]
        print(f"{r['round']:5d} {r['mean_effort']:12.5g} {r['aggregate_gap']:10.4g} "
              f"{r['mean_theta']:11.4f}")


def _report_team(res, params, args):
    fr = res["free_riding"]
    print(f"budgetlab coop  variant={args.variant}  omega={params.omega:g} beta={params.beta:g} "
          f"c={params.c:g} n={params.n} phi_B={params.phi_B:g} phi_C={params.phi_C:g} "
          f"bounds=[{params.a_min:g}, {params.a_max:g}]")
    print("  loyalty theta: " + ", ".join(f"{t:g}" for t in params.theta))
    print("  equilibrium efforts: " + ", ".join(f"{a:.4g}" for a in res["efforts"])
          + ("" if res["unique"] else "  (tied targets: one selection of many)"))
    print(f"  aggregate S* = {res['aggregate']:.6g}, mean effort = {res['mean_effort']:.6g}")
    print(f"  team output Q = {res['output']:.6g}, welfare Q - cS = {res['welfare']:.6g}, "
          f"cohesion C = {res['cohesion']:.4f}")
    print("free riding (theta = 0):")
    print(f"  Holmstrom effort a0* = {fr['analytical_effort']:.6g} "
          f"(solver {fr['equilibrium_effort']:.6g}), output {fr['output']:.6g}, "
          f"welfare {fr['welfare']:.6g}")
    print(f"  social optimum effort = {fr['social_optimum_effort']:.6g}, "
          f"welfare {fr['social_optimum_welfare']:.6g}")
    print(f"  loyalty raises effort by {fr['effort_increase_pct']:.1f} % and output by "
          f"{fr['output_increase_pct']:.1f} %")


def _report_paper(res, params, args):
    pub = PUBLISHED[args.variant]
    print(f"budgetlab coop  sweep of {res['configurations']} configurations, "
          f"version={args.variant}")
    print(f"{'target':<17s} {'share':>8s} {'count':>11s} {'status':>6s}  published")
    for t in res["targets"]:
        print(f"{t['name']:<17s} {t['share'] * 100:7.2f}% {t['count']:>5d}/{t['units']:<5d} "
              f"{'pass' if t['passed'] else 'FAIL':>6s}  {pub[t['name']]}")
    rows = [("median differentiation", f"{res['median_differentiation']:.3f}x",
             "median_differentiation"),
            ("median synergy", f"{res['median_synergy']:.4f}", "median_synergy"),
            ("paired t (0.9 vs 0)", f"{res['t_stat']:.3f}", "t_stat"),
            ("p value", f"{res['p_value']:.3g}", "p_value"),
            ("Cohen's d (ddof 0)", f"{res['cohens_d']:.4f}", "cohens_d"),
            ("Apache score", f"{res['apache_score']}/60", "apache_score")]
    for label, val, key in rows:
        print(f"{label:<24s} {val:>12s}  published {pub[key]}")
    if "bootstrap" in res:
        b = res["bootstrap"]
        print(f"bootstrap mean differentiation {b['estimate']:.3f}, 95% CI "
              f"[{b['ci_low']:.2f}, {b['ci_high']:.2f}] ({b['resamples']} resamples, "
              f"seed {b['seed']})")


def _report_apache(res, params, args):
    print(f"budgetlab coop  Apache HTTP Server case, version={args.variant}")
    print(f"{'phase':<11s} {'n':>3s} {'mean theta':>10s} {'cohesion':>8s} {'predicted':>10s} "
          f"{'expected':>8s}  conv rank pattern trend  score")
    for p in res["phases"]:
        it = p["items"]
        print(f"{p['name']:<11s} {p['n']:>3d} {p['mean_theta']:10.4f} {p['cohesion']:8.4f} "
              f"{p['predicted']:10.4g} {p['expected']:8.1f}  {it['convergence']:>4d} "
              f"{it['ranking']:>4d} {it['pattern']:>7d} {it['trend']:>5d}  {p['score']:>5d}")
    print(f"score {res['score']}/{res['max_score']} (published "
          f"{PUBLISHED[args.variant]['apache_score']})")
    print(f"vs expected effort: Pearson r {res['pearson_r']:.3f} (p {res['pearson_p']:.3g}), "
          f"RMSE {res['rmse']:.2f}, MAPE {res['mape']:.1f} %; founders' top/bottom effort "
          f"{res['founders_skew']:.4g} (observed {res['observed_skew']:g})")


def _report_mc(res, params, args):
    print(f"budgetlab coop  Monte Carlo robustness, version={args.variant}, "
          f"trials={res['trials']}, seed={res['seed']}")
    print(f"  monotone {res['monotone'] * 100:.1f} %, ratio > 2 in "
          f"{res['ratio_above_2'] * 100:.1f} %, ratio {res['ratio_mean']:.3f} "
          f"+/- {res['ratio_sd']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
