"""Workflow check: Seq-k chains of a run's questions, predicted from one half, realised in another.

``docs/models/workflow.md``, section "Validation". Each question of a run is a
node whose samples are rollouts: success is the sample's correctness, its
latency and cost its total length (in thousands of tokens, so one thousand
tokens per second). Consecutive questions form chains of :data:`CHAIN` nodes
run with Seq-k. Each question's samples are split by index: the first half
predicts, the second half is realised in its own order (batch ``b`` of a node is
its samples ``b k .. (b + 1) k - 1``).

* **batches**: the chain completes within ``N_max = CHAIN + 1`` batches (one
  retry in all). Predicted by the negative-binomial composition (22) with each
  node's batch-count law estimated without bias from the first half
  (``C(f, j) / C(n, j)`` estimates ``(1 - p)^j``), observed as the share of
  chains whose realised batch counts add up to at most ``N_max``.
* **deadline**: the chain completes within ``T`` seconds when every batch takes
  as long as its slowest sample. Predicted by the model's simulator with the
  first half's samples resampled as records (2), observed in the second half.

Intervals and standard errors come from a bootstrap over chains.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from validation.check._common import Row, verdict
from validation.check._common import bootstrap as _bootstrap
from validation.check._common import correct_matrix as _correct_matrix

NAME = "workflow"
NEEDS_MODEL = False

#: Questions per chain, sample levels k, and the tolerance of a row.
CHAIN = 3
KS = (1, 2, 4)
TOL_WORKFLOW = 0.06
#: The deadline of the "deadline" rows, in units of the chain's median sample time.
DEADLINE_FACTOR = 2.0


def _lengths(table):
    t = table.sort_values(["question_id", "sample"])
    s = int(t.groupby("question_id").size().iloc[0])
    return t["total_length"].to_numpy(dtype=float).reshape(-1, s) / 1000.0


def _batch_law(fails, n, k, top):
    """Unbiased ``P(B = b)``, ``b = 1..top``, of a node's batches when ``fails`` of ``n`` fail."""
    a = [special.comb(fails, j * k) / special.comb(n, j * k) for j in range(top + 1)]
    return np.array([a[b - 1] - a[b] for b in range(1, top + 1)])


def _chain_within(pmfs, n_max):
    """``P(sum B_i <= n_max)`` from per-node laws on ``1..top`` (convolution)."""
    dist = np.zeros(n_max + 1)
    dist[0] = 1.0
    for pmf in pmfs:
        step = np.concatenate([[0.0], pmf])
        dist = np.convolve(dist, step)[:n_max + 1]
    return float(dist.sum())


def _realised(correct, lengths, k):
    """Batches each node needs (inf when none succeeds) and the time they take, in sample order."""
    nb = correct.shape[1] // k
    ok = correct[:, : nb * k].reshape(-1, nb, k).any(axis=2)
    slow = lengths[:, : nb * k].reshape(-1, nb, k).max(axis=2)
    first = np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, np.inf)
    cum = np.cumsum(slow, axis=1)
    time = np.where(np.isfinite(first), cum[np.arange(len(first)),
                                            np.minimum(first, nb).astype(int) - 1], np.inf)
    return first, time


def check_workflow(table, seed=0, reps=300, trials=2000):
    """Seq-k chains of questions: predicted from the first half of the samples, realised after.

    Returns
    -------
    rows : list of Row
    detail : dict
        ``labels``, ``predicted``, ``observed``, ``ci`` per row.
    """
    from sim.workflow import evaluate, from_parents
    from theory.workflow import WorkflowParams

    correct, _ = _correct_matrix(table)
    if "total_length" not in table.columns:
        raise ValueError("the workflow check needs the column total_length")
    lengths = _lengths(table)
    s = correct.shape[1]
    half = s // 2
    if half < 2 * max(KS):
        raise ValueError(f"the workflow check needs >= {4 * max(KS)} samples per question, "
                         f"got {s}")
    est_c, obs_c = correct[:, :half], correct[:, half:]
    est_l, obs_l = lengths[:, :half], lengths[:, half:]
    n_chains = correct.shape[0] // CHAIN
    if n_chains < 10:
        raise ValueError(f"the workflow check needs >= {10 * CHAIN} questions, "
                         f"got {correct.shape[0]}")
    idx = np.arange(n_chains * CHAIN).reshape(n_chains, CHAIN)
    n_max = CHAIN + 1
    deadline = DEADLINE_FACTOR * CHAIN * float(np.median(lengths))
    rows, detail = [], dict(labels=[], predicted=[], observed=[], ci=[], deadline=deadline)
    fails = (~est_c).sum(axis=1)
    for k in KS:
        pred_b = np.array([_chain_within([_batch_law(fails[q], half, k, n_max - CHAIN + 1)
                                          for q in chain], n_max) for chain in idx])
        first, time = _realised(obs_c, obs_l, k)
        obs_b = (first[idx].sum(axis=1) <= n_max).astype(float)
        obs_t = (time[idx].sum(axis=1) <= deadline).astype(float)
        pred_t = np.empty(n_chains)
        params = WorkflowParams(budget=1e9, deadline=deadline, policies=(f"seq:{k}",))
        for c, chain in enumerate(idx):
            ids = [str(q) for q in chain]
            stats = {u: {"run": dict(p=0.5, latency=1.0, latency_sd=0.0, cost=1.0)} for u in ids}
            recs = {(str(q), "run"): (est_l[q], est_c[q], est_l[q]) for q in chain}
            wf = from_parents(ids, [[]] + [[ids[i - 1]] for i in range(1, CHAIN)], ["run"],
                              stats, recs)
            pred_t[c] = evaluate(wf, params, trials, seed + c, "numba")["success"].iloc[0]
        for label, pred, obs in ((f"Seq-{k}: chain of {CHAIN} within {n_max} batches (22)",
                                  pred_b, obs_b),
                                 (f"Seq-{k}: chain of {CHAIN} within {deadline:.3g} s, "
                                  "records resampled", pred_t, obs_t)):
            boot = _bootstrap(lambda i, p=pred, o=obs: np.array([o[i].mean(), p[i].mean()]),
                              n_chains, reps, seed + k)
            lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
            se = float(np.std(boot[:, 1] - boot[:, 0], ddof=1))
            p_, o_ = float(pred.mean()), float(obs.mean())
            rows.append(Row("workflow", label, p_, o_, float(lo), float(hi),
                            verdict(p_, o_, se, TOL_WORKFLOW), TOL_WORKFLOW))
            detail["labels"].append(label)
            detail["predicted"].append(p_)
            detail["observed"].append(o_)
            detail["ci"].append((float(lo), float(hi)))
    return rows, detail


def plot_check(detail, ax=None):
    """Predicted and realised chain completion per row, as bars with the realised 95% interval.

    Parameters
    ----------
    detail : dict
        The ``detail`` of :func:`check_workflow`.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
    """
    from sim._plot import axes_or_new

    ax = axes_or_new(ax, 5.0, 3.4)
    x = np.arange(len(detail["labels"]))
    obs = np.asarray(detail["observed"])
    ci = np.asarray(detail["ci"])
    ax.bar(x - 0.2, detail["predicted"], 0.4, color="0.7", label="predicted")
    ax.bar(x + 0.2, obs, 0.4, color="C0", label="realised (95% interval)")
    ax.errorbar(x + 0.2, obs, yerr=[obs - ci[:, 0], ci[:, 1] - obs], fmt="none", ecolor="k",
                capsize=2, lw=0.8)
    short = [lab.split(":")[0] + (" batches" if "batches" in lab else " deadline")
             for lab in detail["labels"]]
    ax.set_xticks(x, short, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("chains completed")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Seq-k chains of {CHAIN} questions (docs/models/workflow.md (22))",
                 fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(True, axis="y", alpha=0.3)
    return ax


#: The check has no sizes of its own: it reads the records only.
SIZES = {}
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (5.0, 3.4)
PANELS = 1


def check(run, adapter=None, *, seed=0, sizes=None):
    """The workflow check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    Needs only the run records; ``adapter`` and ``sizes`` are not used.
    """
    return check_workflow(run.table, seed=seed)


def plot(detail, ax=None):
    """The check's figure on ``ax`` (one axes; new ones when None); returns it."""
    return plot_check(detail, ax)
