"""Bbam check: accuracy against thinking budget, the uncertainty law and budget allocation.

The real model's accuracy at truncated thinking budgets is fitted by the law
``1 - accuracy = c b**-beta + u`` (docs/models/bbam.md (1) read through (17));
its budget is then split over difficulty levels by the exact optimum, the
paper's Eq. (6) and uniformly (docs/models/bbam.md (4)-(6)), and the realised
accuracies and E3 (9) are compared with the law's predictions.
"""

from __future__ import annotations

import math

import numpy as np

from theory._stats import wilson_interval as _wilson
from validation.check._common import Row, run_task, verdict

__all__ = ["NAME", "NEEDS_MODEL", "TOL_BBAM", "BBAM_FRACTIONS", "fit_uncertainty_law",
           "wilson_interval", "check_bbam", "plot_bbam"]

NAME = "bbam"
NEEDS_MODEL = True

TOL_BBAM = 0.05
BBAM_FRACTIONS = (0.15, 0.3, 0.5, 0.75, 1.0, 1.5)


def fit_uncertainty_law(budgets, errors, weights=None):
    """Least-squares fit of ``U(b) = c b^(-beta) + u_ale`` to error rates, docs/models/bbam.md (1).

    Weighted least squares (``weights`` are inverse standard errors) from a grid
    of starting exponents; the best fit is kept, so a poor fit means the law
    does not describe the data rather than a local optimum.

    Returns ``(c, beta, u_ale)`` with ``c > 0``, ``beta`` in ``[0.05, 8]``,
    ``u_ale`` in ``[0, 1]``.
    """
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    b = np.asarray(budgets, dtype=float)
    u = np.asarray(errors, dtype=float)

    def law(x, logc, beta, ua):
        return np.exp(logc) * x ** (-beta) + ua

    sigma = None if weights is None else 1.0 / np.maximum(np.asarray(weights, float), 1e-6)
    w = np.ones_like(u) if sigma is None else 1.0 / sigma
    best, best_sse = None, np.inf
    for beta0 in (0.1, 0.3, 0.7, 1.5, 3.0):
        ua0 = max(float(u.min()) * 0.5, 0.0)
        c0 = max(float(u.max()) - ua0, 1e-3) * float(b.min()) ** beta0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            try:
                popt, _ = curve_fit(law, b, u, p0=(math.log(c0), beta0, ua0), sigma=sigma,
                                    maxfev=20000, bounds=([-20.0, 0.05, 0.0], [20.0, 8.0, 1.0]))
            except RuntimeError:
                continue
        sse = float(np.sum((w * (law(b, *popt) - u)) ** 2))
        if sse < best_sse:
            best, best_sse = popt, sse
    if best is None:
        raise ValueError("the uncertainty law could not be fitted to these error rates")
    return float(math.exp(best[0])), float(best[1]), float(best[2])


def check_bbam(run, adapter, *, questions=60, seed=0, fraction=0.5):
    """Accuracy against a thinking budget per difficulty, the fitted law, and allocation.

    Per difficulty level ``d`` (the levels of the run), the model is run with
    its thinking truncated at ``b = f * m_d`` (budget forcing; ``m_d`` the
    run's median thinking length at that level, ``f`` in
    :data:`BBAM_FRACTIONS`) on ``questions`` questions, and
    ``U_d(b) = 1 - accuracy`` is fitted by ``c_d b^(-beta_d) + u_d``. A shared
    budget ``B = fraction * sum_d m_d`` for one question per level (the
    levels play the sub-questions of a plan) is allocated by the exact KKT
    optimum, the paper's closed form and uniformly; fresh questions are run
    at those budgets and the realised mean accuracy over levels and E3 are
    compared with the law's prediction.

    Returns
    -------
    rows : list of Row
    detail : dict
    """
    from theory import bbam as tb

    task = run_task(run)
    table = run.table
    fin = table[table["finished"]]
    levels = sorted(int(d) for d in table["difficulty"].unique())
    med = {d: max(2.0, float(fin.loc[fin.difficulty == d, "thinking_length"].median()))
           for d in levels}
    dec = run.meta.get("decoding", {})
    kw = dict(temperature=float(dec.get("temperature", 0.8)),
              top_p=float(dec.get("top_p", 0.95)))

    def run_level(d, budget, n, s):
        qs = task.make_questions(n, difficulty=(d, d), seed=s)
        out = adapter.generate([q.text for q in qs], max_thinking=int(budget), seed=s, **kw)
        ok = np.array([task.check_answer(o.answer, str(q.answer)) for o, q in zip(out, qs)])
        used = np.array([o.thinking_length for o in out])
        return ok, used

    laws = {}
    curves = {}
    intervals = {}
    for i, d in enumerate(levels):
        bs = sorted({max(1, int(round(f * med[d]))) for f in BBAM_FRACTIONS})
        acc, se = [], []
        for j, b in enumerate(bs):
            ok, _ = run_level(d, b, questions, seed + 1000 * i + j)
            acc.append(ok.mean())
            p = min(max(ok.mean(), 0.05), 0.95)   # floor: an observed 0 or 1 is not exact
            se.append(math.sqrt(p * (1 - p) / questions))
        err = 1.0 - np.array(acc)
        laws[d] = fit_uncertainty_law(bs, err, 1.0 / np.array(se))
        curves[d] = (np.array(bs), np.array(acc), np.array(se))
        intervals[d] = wilson_interval(np.array(acc), questions)
    rows = []
    for d in levels:
        b, acc, se = curves[d]
        lo, hi = intervals[d]
        cc, bb, uu = laws[d]
        fit = np.clip(1.0 - (cc * b.astype(float) ** (-bb) + uu), 0.0, 1.0)
        worst = int(np.argmax(np.abs(fit - acc) / np.maximum(se, 1e-3)))
        rows.append(Row("bbam", f"law 1 - c b^-beta - u at difficulty {d} (c={cc:.3g}, "
                                f"beta={bb:.3g}, u={uu:.3g}): worst budget {int(b[worst])}",
                        float(fit[worst]), float(acc[worst]), float(lo[worst]), float(hi[worst]),
                        verdict(fit[worst], acc[worst], se[worst], TOL_BBAM, primary=False),
                        TOL_BBAM, primary=False))
    c = np.array([laws[d][0] for d in levels])
    beta = np.array([laws[d][1] for d in levels])
    ua = np.array([laws[d][2] for d in levels])
    B = fraction * sum(med.values())
    allocs = {"exact": np.asarray(tb.allocate_kkt(c, beta, B), float),
              "paper": np.asarray(tb.allocate_paper(c, beta, B), float),
              "uniform": np.asarray(tb.allocate_uniform(B, m=len(levels)), float)}
    detail = dict(levels=levels, median=med, laws=laws, curves=curves, intervals=intervals,
                  questions=questions, budget=B, allocations=allocs, realised={})
    for k, (name, b) in enumerate(allocs.items()):
        b = np.maximum(np.round(b), 1).astype(int)
        pred = np.clip(1.0 - (c * b.astype(float) ** (-beta) + ua), 0.0, 1.0)
        oks, used = [], []
        for i, d in enumerate(levels):
            ok, u = run_level(d, b[i], questions, seed + 50_000 + 1000 * k + i)
            oks.append(ok)
            used.append(u)
        oks = np.array(oks, dtype=float)            # (levels, questions)
        used = np.array(used, dtype=float)
        A_obs = float(oks.mean())
        A_pred = float(pred.mean())
        se = float(oks.mean(axis=0).std(ddof=1) / math.sqrt(oks.shape[1]))
        T = float(used.sum(axis=0).mean())
        e3 = tb.e3(100 * A_obs, T)
        # an accuracy lies in [0, 1]: the normal interval is clipped there
        rows.append(Row("bbam", f"mean accuracy over levels, {name} allocation "
                                f"(budgets {', '.join(str(x) for x in b)}; E3 {e3:.2f})",
                        A_pred, A_obs, max(0.0, A_obs - 1.96 * se), min(1.0, A_obs + 1.96 * se),
                        verdict(A_pred, A_obs, se, TOL_BBAM), TOL_BBAM))
        detail["realised"][name] = dict(budgets=b, predicted=pred, observed=oks.mean(axis=1),
                                        accuracy=A_obs, tokens=T, e3=e3)
    ex, un = detail["realised"]["exact"], detail["realised"]["uniform"]
    rows.append(Row("bbam", "E3 of the exact allocation vs uniform (realised)", un["e3"],
                    ex["e3"], float("nan"), float("nan"),
                    "follows" if ex["e3"] >= un["e3"] else "departs", float("nan"),
                    primary=False))
    return rows, detail


def wilson_interval(accuracy, n, level=0.95):
    """Wilson score interval of binomial proportions: ``(low, high)`` arrays inside [0, 1].

    Unlike ``p +- 1.96 se`` it never leaves [0, 1] and does not collapse at an
    observed 0 or 1 (:func:`theory._stats.wilson_interval`).

    Parameters
    ----------
    accuracy : array_like
        Observed proportions ``k / n``.
    n : int
        Trials behind each proportion.
    """
    acc = np.atleast_1d(np.asarray(accuracy, dtype=float))
    return _wilson(np.round(acc * n), n, level)


def plot_bbam(detail, ax=None):
    """Accuracy against the thinking budget per difficulty, with the fitted law.

    Points are the observed accuracies with their 95% Wilson intervals; lines
    are the fitted ``1 - c b**-beta - u`` (docs/models/bbam.md (1)), clipped
    to [0, 1]. The legend sits outside the axes, right of them.

    Parameters
    ----------
    detail : dict
        The second value returned by :func:`check_bbam`.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sim._plot import axes_or_new, plain_log_axis

    ax = axes_or_new(ax, 7.5, 4.2)
    n = detail.get("questions")
    handles = []
    for i, d in enumerate(detail["levels"]):
        b, acc, se = detail["curves"][d]
        c, beta, ua = detail["laws"][d]
        if "intervals" in detail:
            lo, hi = detail["intervals"][d]
        elif n:
            lo, hi = wilson_interval(acc, n)
        else:  # a detail without its size: the normal interval, clipped to [0, 1]
            lo, hi = np.clip(acc - 1.96 * se, 0, 1), np.clip(acc + 1.96 * se, 0, 1)
        points = ax.errorbar(b, acc, yerr=np.vstack([acc - lo, hi - acc]), fmt="o", ms=3,
                             color=f"C{i}", capsize=2, label=f"difficulty {d}: observed")
        grid = np.geomspace(b.min(), b.max(), 100)
        (line,) = ax.plot(grid, np.clip(1 - (c * grid ** (-beta) + ua), 0, 1), "-",
                          color=f"C{i}", label=f"difficulty {d}: fitted law, beta={beta:.2f}")
        handles += [points, line]
    ax.set_xscale("log")
    plain_log_axis(ax, "x")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("thinking budget b (tokens, truncation)")
    ax.set_ylabel("accuracy (95% Wilson interval)")
    ax.set_title("bbam: accuracy against budget and the fitted law 1 - c b^-beta - u",
                 fontsize=9)
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    ax.grid(alpha=0.3)
    return ax


#: Default size of the check (questions decoded at each truncation budget).
SIZES = dict(bbam_questions=40)
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (8.5, 4.2)
PANELS = 1


def check(run, adapter=None, *, seed=0, sizes=None):
    """The bbam check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    ``adapter`` runs the model (truncated decoding); ``sizes`` overrides :data:`SIZES`.
    """
    sizes = {**SIZES, **(sizes or {})}
    return check_bbam(run, adapter, seed=seed, questions=sizes["bbam_questions"])


def plot(detail, ax=None):
    """The check's figure on ``ax`` (one axes; new ones when None); returns it."""
    return plot_bbam(detail, ax)
