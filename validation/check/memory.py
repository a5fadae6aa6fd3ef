"""Memory check: tier routing by question class on a real run, predicted against realised.

``docs/models/memory.md``, section "Validation". A run has no memory
pipeline, but it has what tier routing needs: tiers of different cost and
accuracy (one sample, or the majority of 3 or 5 samples, costing their
tokens) and a feature of each query a router can read (the task's difficulty
knob). Routing a tier per difficulty class within a mean token budget is the
multiple-choice knapsack of ``docs/models/memory.md (1)`` with the classes as
its modules and the additive objective; fixed tiers give every question the
same tier.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from validation.check._common import Row, verdict
from validation.check._common import bootstrap as _bootstrap
from validation.check._common import correct_matrix as _correct_matrix

NAME = "memory"
NEEDS_MODEL = False

#: The tiers: majority votes of this many samples.
VOTES = (1, 3, 5)
TOL_MEMORY = 0.03


def _vote_right(k, n, votes):
    """P(majority right) of ``votes`` draws without replacement from ``n`` samples, ``k`` right."""
    k = np.asarray(k)
    need = votes // 2 + 1
    j = np.arange(need, votes + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = special.comb(k[..., None], j) * special.comb(n - k[..., None], votes - j)
    return terms.sum(axis=-1) / special.comb(n, votes)


def _part(correct, lengths, lo, hi):
    """Expected accuracy and tokens of each tier on samples ``lo .. hi - 1``, (questions, tiers)."""
    n = hi - lo
    k = correct[:, lo:hi].sum(axis=1)
    mean_len = lengths[:, lo:hi].mean(axis=1)
    acc = np.stack([_vote_right(k, n, v) for v in VOTES], axis=1)
    tok = np.stack([v * mean_len for v in VOTES], axis=1)
    return acc, tok


def _lengths(table, qids, s):
    t = table.sort_values(["question_id", "sample"])
    if "total_length" not in t.columns:
        raise ValueError("the memory check needs the column total_length (tokens per sample)")
    return t["total_length"].to_numpy(dtype=float).reshape(-1, s)


def check_memory(table, seed=0, reps=400):
    """Tier routing per difficulty class on a run: predicted and realised accuracy.

    Each question's samples are split by index into three parts: the first
    quarter chooses the tiers, the next part (half of the rest) predicts and
    the last part is observed; a tier's accuracy on a part is the exact
    probability that the majority of ``v`` samples drawn without replacement
    from that part is right, and its cost ``v`` times the part's mean tokens.
    At two mean budgets, midway between the fixed tiers' costs on the first
    part, the router solves the knapsack over the difficulty classes exactly
    (``docs/models/memory.md (4)``) and the fixed tiers take the best single
    tier that fits. The prediction is the policy's accuracy on the second
    part; the observation its accuracy on the third.

    Returns
    -------
    rows : list of Row
    detail : dict
    """
    from theory import memory as th

    correct, qids = _correct_matrix(table)
    nq, s = correct.shape
    n1 = max(2, s // 4)
    n2 = (s - n1) // 2
    if min(n1, n2) < max(VOTES):
        raise ValueError(f"the memory check needs >= {4 * max(VOTES)} samples per "
                         f"question, got {s}")
    lengths = _lengths(table, qids, s)
    diff = table.groupby("question_id")["difficulty"].first().reindex(qids).to_numpy()
    classes, cls = np.unique(diff, return_inverse=True)
    acc_a, tok_a = _part(correct, lengths, 0, n1)
    acc_b, tok_b = _part(correct, lengths, n1, n1 + n2)
    acc_c, tok_c = _part(correct, lengths, n1 + n2, s)
    # the knapsack on the first part: one tier per class, values and costs summed over questions
    value = np.stack([acc_a[cls == c].sum(axis=0) for c in range(classes.size)])
    cost = np.stack([np.rint(tok_a[cls == c].sum(axis=0)) for c in range(classes.size)])
    fixed_cost = cost.sum(axis=0)
    budgets = [int((fixed_cost[i] + fixed_cost[i + 1]) // 2) for i in range(len(VOTES) - 1)]
    rows, detail = [], dict(classes=classes.tolist(), votes=VOTES, budgets=[], fixed={},
                            policies={})
    everything = np.arange(nq)

    def stats(idx, tiers_q):
        pick = (idx, tiers_q[idx])
        return np.array([acc_c[pick].mean(), acc_b[pick].mean(), tok_c[pick].mean(),
                         tok_b[pick].mean()])

    for v in range(len(VOTES)):
        t = np.full(nq, v)
        detail["fixed"][VOTES[v]] = stats(everything, t).tolist()
    for j, B in enumerate(budgets):
        routed = th.solve_dp(cost.astype(np.int64), value, B)
        fits = [v for v in range(len(VOTES)) if fixed_cost[v] <= B]
        fixed = max(fits, key=lambda v: value[:, v].sum())
        policies = {"router": routed[cls], "fixed": np.full(nq, fixed)}
        mean_b = B / nq
        detail["budgets"].append(mean_b)
        label = f"budget {mean_b:.0f} tokens/question"
        tag = {"router": "router (tiers " + ",".join(str(VOTES[t]) for t in routed) + ")",
               "fixed": f"fixed tiers (votes of {VOTES[fixed]})"}
        for name, tiers_q in policies.items():
            val = stats(everything, tiers_q)
            boot = _bootstrap(lambda idx, tq=tiers_q: stats(idx, tq), nq, reps, seed + j)
            lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
            se = float(np.std(boot[:, 1] - boot[:, 0], ddof=1))
            rows.append(Row("memory", f"accuracy, {tag[name]}, {label}", val[1], val[0], lo, hi,
                            verdict(val[1], val[0], se, TOL_MEMORY), TOL_MEMORY))
            detail["policies"].setdefault(name, []).append(val.tolist())

        def gain(idx, r=policies["router"], f=policies["fixed"]):
            return stats(idx, r)[:2] - stats(idx, f)[:2]

        val = gain(everything)
        boot = _bootstrap(gain, nq, reps, seed + 10 + j)
        lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
        se = float(np.std(boot[:, 1] - boot[:, 0], ddof=1))
        rows.append(Row("memory", f"routing gain over fixed tiers, {label}", val[1], val[0], lo,
                        hi, verdict(val[1], val[0], se, TOL_MEMORY), TOL_MEMORY))
    return rows, detail


def plot_check(detail, ax=None):
    """Realised accuracy against tokens: the fixed tiers and the router at each budget.

    Parameters
    ----------
    detail : dict
        The ``detail`` of :func:`check_memory`.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sim._plot import axes_or_new

    ax = axes_or_new(ax, 5.6, 3.6)
    fx = np.array([detail["fixed"][v] for v in detail["votes"]])
    ax.plot(fx[:, 2], fx[:, 0], "s-", color="0.35", ms=4, label="fixed tiers, realised")
    ax.plot(fx[:, 3], fx[:, 1], "s:", color="0.65", ms=3, label="fixed tiers, predicted")
    for v, (x, y) in zip(detail["votes"], fx[:, [2, 0]]):
        ax.annotate(f"vote of {v}", (x, y), fontsize=7, xytext=(3, -9),
                    textcoords="offset points")
    r = np.array(detail["policies"]["router"])
    ax.plot(r[:, 2], r[:, 0], "o", color="C0", ms=5, label="router by difficulty, realised")
    ax.plot(r[:, 3], r[:, 1], "o", mfc="none", color="C0", ms=7,
            label="router by difficulty, predicted")
    ax.set_xlabel("mean tokens per question")
    ax.set_ylabel("accuracy")
    ax.set_title("tiers routed by difficulty on a real run (docs/models/memory.md (4))",
                 fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.grid(True, alpha=0.3)
    return ax


#: The check has no sizes of its own: it reads the records only.
SIZES = {}
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (5.6, 3.6)
PANELS = 1


def check(run, adapter=None, *, seed=0, sizes=None):
    """The memory check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    Needs only the run records; ``adapter`` and ``sizes`` are not used.
    """
    return check_memory(run.table, seed=seed)


def plot(detail, ax=None):
    """The check's figure on ``ax`` (one axes; new ones when None); returns it."""
    return plot_check(detail, ax)
