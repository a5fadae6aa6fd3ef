"""Knapsack check: rollout allocations on a run's success rates, predicted against realised.

``docs/models/knapsack.md``, section "Validation".
"""

from __future__ import annotations

import numpy as np
from scipy import special

from validation.check._common import Row, verdict
from validation.check._common import bootstrap as _bootstrap
from validation.check._common import correct_matrix as _correct_matrix

NAME = "knapsack"
NEEDS_MODEL = False

TOL_KNAPSACK = 0.03


def _hyper_mixed(k, n, N):
    """P(a draw of N without replacement from n items with k successes is mixed)."""
    k = np.asarray(k)
    N = np.asarray(N)
    with np.errstate(divide="ignore", invalid="ignore"):
        tot = special.comb(n, N)
        all_s = special.comb(k, N) / tot
        all_f = special.comb(n - k, N) / tot
    return 1.0 - all_s - all_f


def check_knapsack(table, n_bar=4, seed=0, reps=400):
    """Rollout allocation on real success rates: predicted vs realised ratios.

    Each question's samples are split by index into three parts: the first
    quarter estimates the success rates the allocators see; the next part
    (half of the rest) predicts; the last part is observed. Allocations
    (``uniform``, ``knapsack``: the exact optimum, ``knapsack-reference``: the
    authors' rules) share the budget ``n_bar`` per question and are capped at
    the size of the prediction and observation parts. The prediction is the
    theory's ``E[EGR] = sum N f(N, p) / sum N`` (``docs/models/knapsack.md (12)``) with ``f(N, p) =
    1 - p^N - (1-p)^N`` estimated without bias from the prediction part
    (``C(k, N) / C(n, N)`` estimates ``p^N``); a part separate from the one
    that chose ``N`` avoids the winner's curse of the allocation. The
    observation is the exact expected ratio of drawing the allocated rollouts
    without replacement from the observation part (hypergeometric).

    Returns
    -------
    rows : list of Row
    detail : dict
    """
    from theory import knapsack as th

    correct, _ = _correct_matrix(table)
    s = correct.shape[1]
    n1 = max(2, s // 4)
    n2 = (s - n1) // 2
    if n2 < 2:
        raise ValueError(f"the knapsack check needs >= 6 samples per question, got {s}")
    a1, a2, obs = correct[:, :n1], correct[:, n1:n1 + n2], correct[:, n1 + n2:]
    nq, n_obs = correct.shape[0], obs.shape[1]
    cap = min(n2, n_obs)
    n_bar = min(n_bar, cap)
    p_hat = a1.mean(axis=1)
    k2 = a2.sum(axis=1)
    k_obs = obs.sum(axis=1)
    budget = n_bar * nq
    n_low = min(2, n_bar)
    allocs = {
        "uniform": th.allocate_uniform(nq, budget),
        "knapsack": th.allocate(p_hat, None, th.KnapsackParams(n=n_bar, n_low=n_low, n_up=cap,
                                                               budget=budget))[0],
    }
    try:
        ref = th.allocate(p_hat, None, th.KnapsackParams(n=n_bar, n_low=n_low, n_up=cap,
                                                         budget=budget, mode="reference"))[0]
        allocs["knapsack-reference"] = ref
    except AssertionError:
        pass  # the authors' code fails its own budget assertion on this batch
    allocs = {k: np.minimum(np.asarray(v, dtype=np.int64), cap) for k, v in allocs.items()}

    def ratios(idx, N):
        N = N[idx]
        f_obs = _hyper_mixed(k_obs[idx], n_obs, N)
        f_pred = _hyper_mixed(k2[idx], n2, N)
        return np.array([(N * f_obs).sum() / N.sum(), (N * f_pred).sum() / N.sum(),
                         f_obs.mean(), f_pred.mean()])

    rows = []
    detail = dict(budget=budget, n_parts=(n1, n2, n_obs), allocations=allocs, egr={})
    everything = np.arange(nq)
    for name, N in allocs.items():
        val = ratios(everything, N)
        boot = _bootstrap(lambda idx, N=N: ratios(idx, N), nq, reps, seed)
        for j, q in ((0, "effective-gradient ratio"), (2, "effective-prompt ratio")):
            lo, hi = np.quantile(boot[:, j], [0.025, 0.975])
            se = float(np.std(boot[:, j + 1] - boot[:, j], ddof=1))
            rows.append(Row("knapsack", f"{q}, {name} (budget {budget})", val[j + 1], val[j],
                            lo, hi, verdict(val[j + 1], val[j], se, TOL_KNAPSACK),
                            TOL_KNAPSACK))
        detail["egr"][name] = (val[0], val[1])

    def gain(idx):
        k, u = ratios(idx, allocs["knapsack"]), ratios(idx, allocs["uniform"])
        return np.array([k[0] - u[0], k[1] - u[1]])

    val = gain(everything)
    boot = _bootstrap(gain, nq, reps, seed + 2)
    lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
    se = float(np.std(boot[:, 1] - boot[:, 0], ddof=1))
    rows.append(Row("knapsack", "EGR gain of knapsack over uniform", val[1], val[0], lo, hi,
                    verdict(val[1], val[0], se, TOL_KNAPSACK), TOL_KNAPSACK))
    return rows, detail


def plot_check(detail, ax=None):
    """Predicted and realised effective-gradient ratio per allocator, as bars.

    Parameters
    ----------
    detail : dict
        The ``detail`` of :func:`check_knapsack` (``egr``: allocator ->
        (realised, predicted); ``budget``).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sim._plot import axes_or_new

    ax = axes_or_new(ax, 5.0, 3.4)
    names = list(detail["egr"])
    obs = [detail["egr"][n][0] for n in names]
    pred = [detail["egr"][n][1] for n in names]
    x = np.arange(len(names))
    ax.bar(x - 0.2, pred, 0.4, color="0.7", label="predicted E[EGR], docs/models/knapsack.md (12)")
    ax.bar(x + 0.2, obs, 0.4, color="C0", label="realised")
    ax.set_xticks(x, names)
    ax.set_ylabel("effective-gradient ratio")
    ax.set_ylim(0, 1)
    ax.set_title(f"rollouts allocated on a run's success rates (budget {detail['budget']})",
                 fontsize=9, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


#: The check has no sizes of its own: it reads the records only.
SIZES = {}
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (5.0, 3.4)
PANELS = 1


def check(run, adapter=None, *, seed=0, sizes=None):
    """The knapsack check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    Needs only the run records; ``adapter`` and ``sizes`` are not used.
    """
    return check_knapsack(run.table, seed=seed)


def plot(detail, ax=None):
    """The check's figure on ``ax`` (one axes; new ones when None); returns it."""
    return plot_check(detail, ax)
