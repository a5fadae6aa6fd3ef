"""What every validation check shares: a comparison row, its verdict, and estimators
over the (question, sample) correctness matrix of a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Row", "verdict", "per_question", "correct_matrix", "split_samples", "icc",
           "bootstrap", "Z99", "run_task"]

Z99 = 2.5758293035489004

@dataclass(frozen=True)
class Row:
    """One comparison of a prediction with an observation."""

    check: str
    quantity: str
    predicted: float
    observed: float
    ci_low: float
    ci_high: float
    verdict: str
    tolerance: float = float("nan")
    primary: bool = True


def verdict(predicted, observed, se_diff, tol, primary=True):
    """``pass``/``fail`` (primary rows) or ``follows``/``departs`` (alternative theories).

    Within tolerance when ``|predicted - observed| <= tol + 2.58 se_diff``.
    """
    ok = abs(predicted - observed) <= tol + Z99 * se_diff
    if primary:
        return "pass" if ok else "fail"
    return "follows" if ok else "departs"



def per_question(table, columns):
    """Columns of a run's table as (questions, samples) matrices, samples in index order.

    Returns the matrices (one per name in ``columns``) and the question ids; every question
    must have the same number of samples (one-line ValueError otherwise).
    """
    t = table.sort_values(["question_id", "sample"])
    counts = t.groupby("question_id").size()
    if counts.nunique() != 1:
        raise ValueError("every question needs the same number of samples, "
                         f"got between {counts.min()} and {counts.max()}")
    s = int(counts.iloc[0])
    return [t[c].to_numpy().reshape(-1, s) for c in columns], counts.index.to_numpy()


def correct_matrix(table):
    """Correctness as a (questions, samples) bool matrix, samples in index order."""
    (correct,), qids = per_question(table, ["correct"])
    return correct.astype(bool), qids


def split_samples(correct, fraction=0.5):
    """Split each question's samples by index: estimation part, observation part."""
    s = correct.shape[1]
    k = int(round(s * fraction))
    if k < 2 or s - k < 2:
        raise ValueError(f"samples per question must allow two parts of >= 2, got {s}")
    return correct[:, :k], correct[:, k:]


def icc(correct):
    """Pooled accuracy and within-question correlation of correctness.

    The beta-binomial moment estimator: with ``n`` samples per question and
    per-question accuracies ``p_q``, ``Var(p_q) = p(1-p)[rho + (1 - rho)/n]``,
    so ``rho = (Var(p_q) - p(1-p)/n) / (p(1-p)(1 - 1/n))`` (clipped to
    ``[0, 0.99]``). ``Var`` uses ``ddof=1`` over questions.
    """
    correct = np.asarray(correct, dtype=float)
    n = correct.shape[1]
    pq = correct.mean(axis=1)
    p = float(pq.mean())
    v = float(pq.var(ddof=1)) if pq.size > 1 else 0.0
    if p <= 0.0 or p >= 1.0:
        return p, 0.0
    rho = (v - p * (1 - p) / n) / (p * (1 - p) * (1 - 1 / n))
    return p, float(min(max(rho, 0.0), 0.99))


def bootstrap(values_fn, nq, reps=400, seed=0):
    """Bootstrap over questions: ``values_fn(idx)`` -> array of statistics."""
    gen = np.random.default_rng(seed)
    out = [values_fn(gen.integers(0, nq, nq)) for _ in range(reps)]
    return np.asarray(out)




def run_task(run):
    """The task module of a run (``make_questions``, ``check_answer``): from ``meta.json``.

    ``validation.nltask`` for a run of the natural-language task (``task.name == "nl"``),
    else the synthetic chain task ``validation.task``; answers are checked by
    ``validation.task.check_answer`` for both (the adapters return plain integers).
    """
    import types

    from validation import nltask, task

    spec = run.meta.get("task")
    name = spec.get("name") if isinstance(spec, dict) else spec
    if name == "nl":
        return types.SimpleNamespace(name="nl", make_questions=nltask.make_questions,
                                     check_answer=task.check_answer)
    return types.SimpleNamespace(name="chain", make_questions=task.make_questions,
                                 check_answer=task.check_answer)
