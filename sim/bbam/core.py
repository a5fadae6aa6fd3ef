"""The bbam simulation: allocators compared on the same questions, with the theory beside them.

:func:`simulate` draws questions from the prior (docs/models/bbam.md (15)-(16)),
allocates each question's budget with every allocator
(:mod:`sim.bbam.allocators`), draws the outcomes with the chosen backend
(:func:`outcomes`) and reports accuracy, tokens and E3 per allocator, beside
the closed-form expectation of the same allocation on the same questions
(:func:`expected_outcome`, docs/models/bbam.md (17), (19), (20)).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.bbam._blocks import blocked
from sim.bbam.allocators import ALLOCATORS, allocation
from sim.bbam.kernel_array import outcomes_on
from sim.bbam.kernel_numba import RULE_CODE, outcomes_numba
from sim.bbam.layout import STREAM
from sim.bbam.questions import sample_questions
from theory import bbam as th
from theory._params import check_choice, check_int
from theory._stats import Moments, chunk_seed

__all__ = ["TRIALS", "MAX_WORK", "CHUNK_QUESTIONS", "cost", "simulate", "outcomes",
           "expected_outcome"]

#: Default Monte Carlo size of :func:`simulate` and ``python -m sim.bbam``: questions.
TRIALS = 200_000
#: The work limit of a run without ``allow`` (``--yes``), in elementary operations: about
#: a minute on 2 cores (the allocators and the outcome kernel take about 1 microsecond per
#: question, allocator and sub-question slot, :data:`QUESTION_OPERATIONS`).
MAX_WORK = 5e10
#: Operations per question, allocator and sub-question slot.
QUESTION_OPERATIONS = 1000
#: Questions per chunk of :func:`simulate`: every allocator runs on a chunk before the next
#: is drawn; chunk ``k > 0`` draws from :func:`theory._stats.chunk_seed`.
CHUNK_QUESTIONS = 1 << 18
#: Bytes a question holds per sub-question slot while a chunk runs (its draws, every
#: allocator's caps and the closed forms).
QUESTION_BYTES = 200
#: Two-sided 95% normal quantile of the reported intervals.
_Z95 = 1.959963984540054


def outcomes(params, q, b, seed, backend="numba"):
    """Solved flags (bool, n) and tokens spent (float, n) of allocation ``b``.

    Parameters
    ----------
    params : BbamParams
    q : Questions
    b : ndarray (n, M) or None
        Per-step caps of an allocator; ``None`` is the global pool.
    seed : int
        Root seed; the draws come from the stream :data:`sim.bbam.layout.STREAM`.
    backend : {"numba", "numpy", "cupy", "auto"}
        ``numba``: :func:`sim.bbam.kernel_numba.outcomes_numba`; ``numpy`` and
        ``cupy``: :func:`sim.bbam.kernel_array.outcomes_array` on that array
        module. All draw the same uniforms (docs/models/bbam.md, "Counter
        layout").

    Returns
    -------
    solved, tokens : ndarray
    """
    key = _rng.stream_key(seed, STREAM)
    backend = resolve_backend(backend)
    if backend == "numba":
        seq = b is None
        bb = np.zeros((1, 1)) if seq else np.ascontiguousarray(b, dtype=np.float64)
        return outcomes_numba(bb, seq, bool(params.carry_over), q.c, q.beta, q.u_ale, q.mask,
                              float(q.budget), RULE_CODE[params.synthesis],
                              float(params.synthesis_accuracy), key)
    return outcomes_on(array_module(backend), params, q, b, key)


def expected_outcome(params, q, b):
    """Closed-form expected accuracy (fraction) and tokens per question of static caps ``b``.

    docs/models/bbam.md (17), (19) and (20): each sub-question is solved with
    probability ``1 - min(1, U(b_j))`` and spends ``E[min(tau, b_j)]`` tokens;
    the synthesis rule and ``synthesis_accuracy`` make the question's accuracy.
    Valid for hard caps only (no global pool, no carry-over).

    Returns
    -------
    accuracy, tokens : ndarray (n,)
    """
    return blocked(q.n, lambda sl: _expected_block(params, q.rows(sl), b[sl]))


def _expected_block(params, q, b):
    m = q.mask
    args = (b[m], q.c[m], q.beta[m], q.u_ale[m])  # present sub-questions only
    p = np.zeros(m.shape)
    p[m] = th.solve_probability(*args)
    tok = np.zeros(m.shape)
    tok[m] = th.expected_tokens(*args)
    acc = th.synthesis_probability(p, rule=params.synthesis, mask=m) * params.synthesis_accuracy
    return acc, tok.sum(axis=1)


def _summary_row(name, m, theory=None):
    """One allocator's row from the pooled moments ``m`` of (accuracy in %, tokens).

    ``theory``: the sums over the questions of the closed-form accuracy, of its
    binomial variance ``acc (1 - acc)`` and of the closed-form tokens.
    """
    n = m.n
    A, T = (float(v) for v in m.mean)
    sa, st_ = (float(v) for v in m.se())
    cov = m.cov(0, 1) / n
    e3 = A * A / T if T > 0 else math.nan
    # delta method for A**2/T, docs/models/bbam.md (21)
    ga, gt = 2 * A / T, -A * A / (T * T)
    se_e3 = math.sqrt(max(ga * ga * sa * sa + gt * gt * st_ * st_ + 2 * ga * gt * cov, 0.0))
    row = dict(name=name, accuracy=A, accuracy_se=sa, ci_low=A - _Z95 * sa,
               ci_high=A + _Z95 * sa, tokens=T, tokens_se=st_, e3=e3, e3_se=se_e3,
               e3_ci_low=e3 - _Z95 * se_e3, e3_ci_high=e3 + _Z95 * se_e3)
    if theory is not None:
        acc_sum, var_sum, tok_sum = theory
        row["accuracy_theory"] = float(acc_sum / n * 100.0)
        row["accuracy_theory_se"] = float(100.0 * math.sqrt(var_sum) / n)
        row["tokens_theory"] = float(tok_sum / n)
    else:
        row["accuracy_theory"] = math.nan
        row["accuracy_theory_se"] = math.nan
        row["tokens_theory"] = math.nan
    return row


def cost(params, trials, allocators=None):
    """The size of :func:`simulate` for :func:`sim.guard.check`: operations and peak bytes.

    :data:`QUESTION_OPERATIONS` per question, allocator and sub-question slot,
    at most :data:`MAX_WORK`; memory is one chunk of :data:`CHUNK_QUESTIONS`.
    """
    M = params.max_subquestions
    allocators = len(ALLOCATORS) if allocators is None else allocators
    chunk = min(float(trials), CHUNK_QUESTIONS)
    return dict(param="--trials (questions)",
                work=float(trials) * allocators * M * QUESTION_OPERATIONS, unit="operations",
                work_limit=MAX_WORK, memory=chunk * M * QUESTION_BYTES)


def simulate(params=None, trials=TRIALS, seed=0, backend="auto", names=ALLOCATORS,
             allow=False, progress=None):
    """Compare allocators on the same simulated questions.

    Parameters
    ----------
    params : BbamParams or None
        ``None`` takes the defaults.
    trials : int
        Questions drawn from the prior (each allocator sees the same ones and
        the same random outcomes), ``>= 2``.
    seed : int
        Root seed, ``>= 0``.
    backend : {"auto", "numpy", "numba", "cupy"}
    names : sequence of str
        Allocators to compare (see :data:`sim.bbam.ALLOCATORS`).
    allow : bool
        Run even when :func:`cost` exceeds this machine's limits (:func:`sim.guard.check`).
    progress : callable or None
        ``progress(done, total)`` after each chunk of :data:`CHUNK_QUESTIONS` questions.

    The questions go in chunks of :data:`CHUNK_QUESTIONS` (memory stays
    bounded); the first chunk is drawn from ``seed`` itself.

    Returns
    -------
    pandas.DataFrame
        One row per allocator: ``name``, ``accuracy`` (percent), its standard
        error ``accuracy_se``, ``ci_low``/``ci_high`` (95% interval of the
        accuracy), ``tokens`` (mean per question) and ``tokens_se``, ``e3``
        with ``e3_se`` and ``e3_ci_low``/``e3_ci_high`` (delta method,
        docs/models/bbam.md (21)), ``accuracy_theory``/``tokens_theory``
        (closed-form expectation of the same allocation on the same
        questions; NaN for ``global`` and with ``carry_over``) and
        ``accuracy_theory_se`` (the standard error of the simulated accuracy
        around it), the parameters, ``trials``, ``seed``, ``backend``,
        ``version``.
    """
    params = params or th.BbamParams()
    trials = check_int("trials", trials, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    for alloc_name in names:
        check_choice("allocator", alloc_name, ALLOCATORS)
    est = cost(params, trials, len(names))
    _guard.check(est.pop("param"), allow=allow, **est)
    moments = {a: Moments() for a in names}
    sums = {a: np.zeros(3) for a in names}
    static = {}
    for k, start in enumerate(range(0, trials, CHUNK_QUESTIONS)):
        n = min(CHUNK_QUESTIONS, trials - start)
        ks = chunk_seed(seed, k)
        q = sample_questions(params, n, ks)
        for alloc_name in names:
            b = allocation(params, q, alloc_name)
            solved, tokens = outcomes(params, q, b, ks, name)
            moments[alloc_name].add(np.stack([np.asarray(solved, dtype=float) * 100.0,
                                              np.asarray(tokens, dtype=float)]))
            static[alloc_name] = b is not None and not params.carry_over
            if static[alloc_name]:
                acc_th, tok_th = expected_outcome(params, q, b)
                sums[alloc_name] += (acc_th.sum(), np.sum(acc_th * (1 - acc_th)), tok_th.sum())
        if progress is not None:
            progress(start + n, trials)
    rows = [_summary_row(a, moments[a], sums[a] if static[a] else None) for a in names]
    df = pd.DataFrame(rows)
    for key, val in asdict(params).items():
        df[key] = str(val) if isinstance(val, tuple) else val
    df["trials"] = trials
    _cli.add_provenance(df, seed, name)
    return df
