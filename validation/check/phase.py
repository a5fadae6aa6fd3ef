"""Phase check: majority votes and trees of a run's samples against the correlation models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim._plot import axes_or_new
from validation.check._common import Row, icc, split_samples, verdict
from validation.check._common import bootstrap as _bootstrap
from validation.check._common import correct_matrix as _correct_matrix

NAME = "phase"
NEEDS_MODEL = False

TOL_PHASE = 0.02
MODELS = ("independent", "item", "herding", "shock")


def vote_accuracy(correct, b):
    """Per-question accuracy of majority votes over disjoint groups of ``b`` samples."""
    g = correct.shape[1] // b
    if g == 0:
        raise ValueError(f"a vote of b={b} needs b samples per question, got {correct.shape[1]}")
    groups = correct[:, :g * b].reshape(correct.shape[0], g, b)
    return (groups.sum(axis=2) * 2 > b).mean(axis=1)


def tree_accuracy(correct, b, depth):
    """Per-question accuracy of ``b``-ary majority trees of ``depth`` over disjoint samples."""
    leaves = b ** depth
    g = correct.shape[1] // leaves
    if g == 0:
        raise ValueError(f"a tree of b={b}, depth={depth} needs {leaves} samples per question")
    x = correct[:, :g * leaves].reshape(correct.shape[0], g, leaves)
    for _ in range(depth):
        x = x.reshape(x.shape[0], g, -1, b).sum(axis=3) * 2 > b
    return x[:, :, 0].mean(axis=1)


def predict_votes(model, p, rho, b, depth=1):
    """Accuracy of a ``b``-ary majority tree of ``depth`` under correlation ``model``.

    ``independent`` is ``rho = 0``; the others are
    :func:`theory.phase.level_biases` at lossless messages (``gamma = 1``).
    """
    from theory import phase as th

    mu0 = 2.0 * p - 1.0
    if model == "independent":
        mu = th.level_biases("herding", b, depth, 0.0, 1.0, mu0)[-1]
    else:
        r = min(max(rho, 1e-6), 0.99)
        mu = th.level_biases(model, b, depth, r, 1.0, mu0)[-1]
    return float((1.0 + mu) / 2.0)


def check_phase(table, fraction=0.5, votes=(3, 5, 7, 9), seed=0, reps=400):
    """Majority votes and trees of real samples against four correlation models.

    Returns
    -------
    rows : list of Row
    detail : dict
        ``p``, ``rho`` (estimation half), per-model errors, the followed
        models, and the data of the figure.
    """
    correct, _ = _correct_matrix(table)
    est, obs = split_samples(correct, fraction)
    p, rho = icc(est)
    nq = correct.shape[0]
    shapes = [(b, 1) for b in votes if b <= obs.shape[1]]
    shapes += [(3, d) for d in (2, 3) if 3 ** d <= obs.shape[1]]
    if not shapes:
        raise ValueError("the observation half needs >= 3 samples per question")

    def observed(idx, b, d):
        o = obs[idx]
        return (vote_accuracy(o, b) if d == 1 else tree_accuracy(o, b, d)).mean()

    def predicted(idx, model, b, d):
        pp, rr = icc(est[idx])
        return predict_votes(model, pp, rr, b, d)

    rows = []
    errors = {m: [] for m in MODELS}
    ok = {m: True for m in MODELS}
    fig = []
    for b, d in shapes:
        obs_val = observed(np.arange(nq), b, d)
        preds = {m: predict_votes(m, p, rho, b, d) for m in MODELS}
        boot = _bootstrap(lambda idx, b=b, d=d: [observed(idx, b, d)]
                          + [predicted(idx, m, b, d) for m in MODELS], nq, reps, seed)
        lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
        name = f"vote b={b}" if d == 1 else f"tree b={b} depth={d}"
        fig.append((name, obs_val, lo, hi, preds))
        for j, m in enumerate(MODELS):
            se = float(np.std(boot[:, 1 + j] - boot[:, 0], ddof=1))
            v = verdict(preds[m], obs_val, se, TOL_PHASE, primary=False)
            ok[m] &= v == "follows"
            errors[m].append(preds[m] - obs_val)
            rows.append(Row("phase", f"{name} accuracy, {m} model", preds[m], obs_val, lo, hi, v,
                            TOL_PHASE, primary=False))
    followed = [m for m in MODELS if ok[m]]
    correlated = [m for m in followed if m != "independent"]
    best = min(MODELS, key=lambda m: float(np.mean(np.abs(errors[m]))))
    summary = Row("phase", f"follows a correlated model (best: {best}; followed: "
                           f"{', '.join(followed) if followed else 'none'})",
                  1.0, 1.0 if correlated else 0.0, float("nan"), float("nan"),
                  "pass" if correlated else "fail", TOL_PHASE)
    rows.insert(0, Row("phase", "within-question correlation rho (estimation half)", rho, rho,
                       *_rho_ci(est, reps, seed), "info", float("nan"), primary=False))
    rows.insert(0, summary)
    detail = dict(p=p, rho=rho, followed=followed, best=best,
                  mean_abs_error={m: float(np.mean(np.abs(errors[m]))) for m in MODELS},
                  figure=fig, n_questions=nq, n_est=est.shape[1], n_obs=obs.shape[1])
    return rows, detail


def _rho_ci(est, reps, seed):
    boot = _bootstrap(lambda idx: [icc(est[idx])[1]], est.shape[0], reps, seed + 1)
    lo, hi = np.quantile(boot[:, 0], [0.025, 0.975])
    return float(lo), float(hi)



def planted_table(model, questions=400, samples=16, p=0.6, rho=0.3, seed=0):
    """A run table whose correctness follows a known correlation model.

    ``herding``: the panel law of herding, all samples of a question copy one
    draw with probability ``rho``, else they are independent with accuracy
    ``p`` (``docs/models/phase.md (23)``); ``item``: per-question accuracy
    ``~ Beta`` with mean ``p`` and correlation ``rho``
    (``docs/models/phase.md (24)``); ``independent``: ``rho = 0``.
    """
    gen = np.random.default_rng(seed)
    if model == "herding":
        copy = gen.random(questions) < rho
        one = gen.random(questions) < p
        ind = gen.random((questions, samples)) < p
        correct = np.where(copy[:, None], one[:, None], ind)
    elif model == "item":
        a = p * (1 - rho) / rho
        c = (1 - p) * (1 - rho) / rho
        pq = gen.beta(a, c, questions)
        correct = gen.random((questions, samples)) < pq[:, None]
    elif model == "independent":
        correct = gen.random((questions, samples)) < p
    else:
        raise ValueError(f"model must be herding, item or independent, got {model!r}")
    q, s = np.meshgrid(np.arange(questions), np.arange(samples), indexing="ij")
    return pd.DataFrame({"question_id": q.ravel().astype(np.int64),
                         "sample": s.ravel().astype(np.int64),
                         "difficulty": np.ones(q.size, dtype=np.int64),
                         "correct": correct.ravel()})




def plot_phase_check(detail, ax=None):
    """Observed accuracy of real majority votes and trees against each correlation model.

    Parameters
    ----------
    detail : dict
        The ``detail`` of :func:`check_phase`.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = axes_or_new(ax, 7.0, 4.0)
    names = [f[0] for f in detail["figure"]]
    x = np.arange(len(names))
    obs = np.array([f[1] for f in detail["figure"]])
    lo = np.array([f[2] for f in detail["figure"]])
    hi = np.array([f[3] for f in detail["figure"]])
    ax.errorbar(x, obs, yerr=[obs - lo, hi - obs], fmt="ko", capsize=3, label="observed (95%)")
    for j, m in enumerate(MODELS):
        ax.plot(x + 0.08 * (j - 1.5), [f[4][m] for f in detail["figure"]], "s", ms=5,
                label=f"{m} model", color=f"C{j}")
    ax.set_xticks(x, names, rotation=20, fontsize=8)
    ax.set_ylabel("accuracy of the vote")
    ax.set_title(f"phase: majority votes of real samples (p={detail['p']:.3f}, "
                 f"rho={detail['rho']:.3f})", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax


#: The check has no sizes of its own: it reads the records only.
SIZES = {}
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (7.0, 4.0)
PANELS = 1


def check(run, adapter=None, *, seed=0, sizes=None):
    """The phase check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    Needs only the run records; ``adapter`` and ``sizes`` are not used.
    """
    return check_phase(run.table, seed=seed)


def plot(detail, ax=None):
    """The check's figure on ``ax`` (one axes; new ones when None); returns it."""
    return plot_phase_check(detail, ax)
