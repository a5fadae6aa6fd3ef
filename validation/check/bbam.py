"""Bbam check: accuracy against thinking budget, the uncertainty law and budget allocation."""

from __future__ import annotations

import math

import numpy as np

from validation.check._common import Row, verdict

NAME = "bbam"
NEEDS_MODEL = True

TOL_BBAM = 0.05
BBAM_FRACTIONS = (0.15, 0.3, 0.5, 0.75, 1.0, 1.5)


def fit_uncertainty_law(budgets, errors, weights=None):
    """Least-squares fit of ``U(b) = c b^(-beta) + u_ale`` (spec D1, D2) to error rates.

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
    from validation import task

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
    rows = []
    for d in levels:
        b, acc, se = curves[d]
        cc, bb, uu = laws[d]
        fit = np.clip(1.0 - (cc * b.astype(float) ** (-bb) + uu), 0.0, 1.0)
        worst = int(np.argmax(np.abs(fit - acc) / np.maximum(se, 1e-3)))
        rows.append(Row("bbam", f"law 1 - c b^-beta - u at difficulty {d} (c={cc:.3g}, "
                                f"beta={bb:.3g}, u={uu:.3g}): worst budget {int(b[worst])}",
                        float(fit[worst]), float(acc[worst]),
                        float(acc[worst] - 1.96 * se[worst]), float(acc[worst] + 1.96 * se[worst]),
                        verdict(fit[worst], acc[worst], se[worst], TOL_BBAM, primary=False),
                        TOL_BBAM, primary=False))
    c = np.array([laws[d][0] for d in levels])
    beta = np.array([laws[d][1] for d in levels])
    ua = np.array([laws[d][2] for d in levels])
    B = fraction * sum(med.values())
    allocs = {"exact": np.asarray(tb.allocate_kkt(c, beta, B), float),
              "paper": np.asarray(tb.allocate_paper(c, beta, B), float),
              "uniform": np.asarray(tb.allocate_uniform(B, m=len(levels)), float)}
    detail = dict(levels=levels, median=med, laws=laws, curves=curves, budget=B,
                  allocations=allocs, realised={})
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
        rows.append(Row("bbam", f"mean accuracy over levels, {name} allocation "
                                f"(budgets {', '.join(str(x) for x in b)}; E3 {e3:.2f})",
                        A_pred, A_obs, A_obs - 1.96 * se, A_obs + 1.96 * se,
                        verdict(A_pred, A_obs, se, TOL_BBAM), TOL_BBAM))
        detail["realised"][name] = dict(budgets=b, predicted=pred, observed=oks.mean(axis=1),
                                        accuracy=A_obs, tokens=T, e3=e3)
    ex, un = detail["realised"]["exact"], detail["realised"]["uniform"]
    rows.append(Row("bbam", "E3 of the exact allocation vs uniform (realised)", un["e3"],
                    ex["e3"], float("nan"), float("nan"),
                    "follows" if ex["e3"] >= un["e3"] else "departs", float("nan"),
                    primary=False))
    return rows, detail



def _plot_bbam(path, detail):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for i, d in enumerate(detail["levels"]):
        b, acc, se = detail["curves"][d]
        c, beta, ua = detail["laws"][d]
        ax.errorbar(b, acc, yerr=1.96 * se, fmt="o", ms=3, color=f"C{i}", capsize=2)
        grid = np.linspace(b.min(), b.max(), 100)
        ax.plot(grid, np.clip(1 - (c * grid ** (-beta) + ua), 0, 1), "-", color=f"C{i}",
                label=f"difficulty {d}: beta={beta:.2f}")
    ax.set_xscale("log")
    ax.set_xlabel("thinking budget (tokens, truncation)")
    ax.set_ylabel("accuracy")
    ax.set_title("bbam: accuracy against budget and the fitted law 1 - c b^-beta - u", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


