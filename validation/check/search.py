"""Search check: plurality votes of a run's answers against the search model's vote laws.

The search model's baseline, parallel sampling with a plurality vote, rests
on the vote law ``docs/models/search.md (16)`` for independent answers, and
its environment spreads the wrong answers uniformly over ``wrong_answers``
values. A real run can speak to both. ``docs/models/search.md``, section
"Validation".

Each question's samples are split by index. The second half is observed:
its samples form disjoint groups of ``n``, each group votes, and a win counts
``1/ties`` when the correct answer is among the ``ties`` most frequent. The
first half predicts, without the bias of plugging estimated shares into a
non-linear law:

* **independent answers** (the primary row, ``pass``/``fail``): the vote of
  ``n`` answers drawn without replacement from the first half, averaged over
  random draws, an unbiased estimate of the law (16) at the question's true
  answer law when answers are independent;
* **the environment's law** (``follows``/``departs``): the correct count
  ``c`` of a vote is hypergeometric from the first half (unbiased for the
  binomial), and the wrong answers spread uniformly over one ``W`` for the
  whole run, the effective number of wrong answers ``1 / sum s_j**2``
  estimated from collisions (pairs of wrong answers that agree);
* **binary majority** (``follows``/``departs``): every wrong answer merged
  into one, the view of the phase model.

The detail also fits the environment's ``wrong_answers`` to the run: the
``W`` whose law best matches the observed votes over every ``n``.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import stats

from validation.check._common import Row, per_question, verdict
from validation.check._common import bootstrap as _bootstrap

NAME = "search"
NEEDS_MODEL = False

TOL_SEARCH = 0.03
#: Vote sizes checked (those that fit the observation half).
VOTES = (1, 3, 5, 7, 9)
#: Candidate values of the environment's ``wrong_answers`` for the fit.
W_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 32)


def answer_codes(table):
    """Answers as integer codes per question: 0 the correct answer, 1, 2, ... distinct wrong ones.

    Returns
    -------
    codes : ndarray of int64, shape (questions, samples)
        Samples in index order; wrong answers numbered by first appearance.
    """
    (answers, targets), _ = per_question(table.astype({"answer": str, "target": str}),
                                         ["answer", "target"])
    target = targets[:, 0]
    codes = np.zeros(answers.shape, dtype=np.int64)
    for i in range(answers.shape[0]):
        seen = {}
        for j, a in enumerate(answers[i]):
            if a == target[i]:
                continue
            codes[i, j] = seen.setdefault(a, len(seen) + 1)
    return codes


def observed_votes(codes, n):
    """Per-question win rate of plurality votes over disjoint groups of ``n`` answers."""
    g = codes.shape[1] // n
    if g == 0:
        raise ValueError(f"a vote of n={n} needs n samples per question, got {codes.shape[1]}")
    groups = codes[:, :g * n].reshape(codes.shape[0], g, n)
    width = int(codes.max()) + 1
    counts = np.zeros((codes.shape[0], g, width), dtype=np.int64)
    for j in range(n):
        np.add.at(counts, (np.arange(codes.shape[0])[:, None], np.arange(g)[None, :],
                           groups[:, :, j]), 1)
    top = counts.max(axis=2)
    ties = (counts == top[:, :, None]).sum(axis=2)
    win = np.where(counts[:, :, 0] == top, 1.0 / ties, 0.0)
    return win.mean(axis=1)


def collision_wrong(codes):
    """The run's effective number of wrong answers ``1 / sum s_j**2`` from collisions.

    Pooled over questions: pairs of distinct wrong samples of a question
    that give the same wrong answer, over all such pairs (an unbiased
    estimate of the collision probability for each question's pairs).
    Infinite when no two wrong answers agree.
    """
    same = pairs = 0
    for row in codes:
        c = np.bincount(row)[1:]
        w = c.sum()
        same += int((c * (c - 1)).sum())
        pairs += int(w * (w - 1))
    return float(pairs / same) if same > 0 else float("inf")


@functools.lru_cache(maxsize=4096)
def _given(n, W):
    from theory.search import plurality_given_correct

    return plurality_given_correct(n, np.ones(W))


def predict_uniform(est, n, W):
    """Per-question win rate of a vote of ``n`` under the environment's law with ``W``
    wrong answers: the correct count hypergeometric from the first half ``est``."""
    m = est.shape[1]
    k = (est == 0).sum(axis=1)
    c = np.arange(n + 1)
    hyp = stats.hypergeom.pmf(c[None, :], m, k[:, None], n)
    return hyp @ _given(n, int(W))


def predict_independent(est, n, draws, seed):
    """Per-question win rate of votes of ``n`` answers drawn without replacement from ``est``."""
    gen = np.random.default_rng(seed)
    nq, m = est.shape
    idx = np.argsort(gen.random((nq, draws, m)), axis=2)[:, :, :n]
    picked = np.take_along_axis(np.broadcast_to(est[:, None, :], (nq, draws, m)), idx, axis=2)
    return observed_votes(picked.reshape(nq, draws * n), n)


def check_search(table, fraction=0.5, votes=VOTES, seed=0, reps=300, draws=64):
    """Plurality votes of real answers against the vote law (16) and the environment's laws.

    Returns
    -------
    rows : list of Row
    detail : dict
        ``votes`` (n -> observed, independent, uniform, binary), ``w_eff``
        (the run's effective number of wrong answers), ``wrong_answers_fit``
        and ``fit_error`` (W -> mean squared error), ``q`` (mean correct
        share), ``n_parts``.
    """
    for col in ("answer", "target"):
        if col not in table.columns:
            raise ValueError(f"the search check needs the run's column {col!r}")
    codes = answer_codes(table)
    s = codes.shape[1]
    k = int(round(s * fraction))
    if k < 2 or s - k < 2:
        raise ValueError(f"samples per question must allow two parts of >= 2, got {s}")
    est, obs = codes[:, :k], codes[:, k:]
    nq = codes.shape[0]
    w_eff = collision_wrong(est)
    W = int(min(max(round(w_eff), 1), 1000)) if np.isfinite(w_eff) else 1000
    votes = [n for n in votes if n <= min(k, s - k)]
    rows, table_v, observed = [], {}, {}
    for n in votes:
        o = observed_votes(obs, n)
        observed[n] = o
        pred = {"independent": predict_independent(est, n, draws, seed + n),
                "uniform": predict_uniform(est, n, W),
                "binary": predict_uniform(est, n, 1)}
        table_v[n] = dict(observed=float(o.mean()),
                          **{kind: float(v.mean()) for kind, v in pred.items()})
        for kind, primary, label in (
                ("independent", True, "law (16) for independent answers"),
                ("uniform", False, f"environment's law, W={W} wrong answers"),
                ("binary", False, "binary majority")):
            p = pred[kind]
            boot = _bootstrap(lambda idx, p=p, o=o: np.array([o[idx].mean(),
                                                              p[idx].mean() - o[idx].mean()]),
                              nq, reps, seed + n)
            lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
            se = float(np.std(boot[:, 1], ddof=1))
            rows.append(Row("search", f"plurality vote of n={n}, {label}", float(p.mean()),
                            float(o.mean()), lo, hi,
                            verdict(float(p.mean()), float(o.mean()), se, TOL_SEARCH, primary),
                            TOL_SEARCH, primary))
    err = {}
    for w in W_GRID:
        err[w] = float(np.mean([(predict_uniform(est, n, w).mean() - observed[n].mean()) ** 2
                                for n in votes]))
    detail = dict(votes=table_v, w_eff=w_eff, wrong_answers_fit=min(err, key=err.get),
                  fit_error=err, q=float((est == 0).mean()), n_parts=(k, s - k))
    return rows, detail


def plot_check(detail, ax=None):
    """Observed plurality-vote accuracy against vote size, with the three predictions."""
    from sim._plot import axes_or_new

    ax = axes_or_new(ax, 5.0, 3.4)
    ns = sorted(detail["votes"])
    get = {k: [detail["votes"][n][k] for n in ns] for k in ("observed", "independent",
                                                             "uniform", "binary")}
    ax.plot(ns, get["observed"], "o", color="k", label="observed (disjoint groups)")
    ax.plot(ns, get["independent"], "-", color="C0", label="law (16), independent answers")
    ax.plot(ns, get["uniform"], "--", color="C1",
            label=f"environment's law, W_eff = {detail['w_eff']:.1f}")
    ax.plot(ns, get["binary"], ":", color="C2", label="binary majority")
    ax.set_xlabel("answers per vote n")
    ax.set_ylabel("accuracy of the plurality vote")
    ax.set_ylim(0, 1)
    ax.set_title(f"plurality votes of a run's answers (fitted wrong_answers = "
                 f"{detail['wrong_answers_fit']})", fontsize=9, loc="left")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax


#: The check has no sizes of its own: it reads the records only.
SIZES = {}
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (5.0, 3.4)
PANELS = 1


def check(run, adapter=None, *, seed=0, sizes=None):
    """The search check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    Needs only the run records; ``adapter`` and ``sizes`` are not used.
    """
    return check_search(run.table, seed=seed)


def plot(detail, ax=None):
    """The check's figure on ``ax`` (one axes; new ones when None); returns it."""
    return plot_check(detail, ax)
