"""Monte Carlo of reasoning under token budgets, and ``python -m sim.bbam``.

Compares ways of splitting a question's token budget over its sub-questions
(Lin et al., "Plan and Budget", arXiv 2505.16122; spec ``specs/bbam.md``): the
exact BBAM optimum (T1), the paper's closed form (T2, v3 Eq. (6)), the uniform
split, the five Plan-and-Budget decay schedules with the official code's
integer rounding (D5-D7), and a plain global budget.

The generative model (derived for this project; every choice is a field of
:class:`BbamParams` with a documented default):

* A question has ``m`` sub-questions; sub-question ``j`` has true parameters
  ``(c_j, beta_j, u_ale_j)`` and uncertainty ``U(b) = c b**-beta + u_ale``
  after ``b`` tokens (D1-D2).
* Its required length ``tau_j`` has survival function ``min(1, U(x))``, so it
  is solved within ``b_j`` tokens with probability ``1 - min(1, U(b_j))`` (D3)
  and spends ``min(tau_j, b_j)`` tokens.
* The planner sees ``c_j`` only through a noisy estimate
  ``c_hat = c exp(sigma Z)``; allocators use the estimates, never the truth
  (except ``oracle``, the exact optimum with the true ``c``).
* A static allocator gives each sub-question a hard cap ``b_j`` (or, with
  ``carry_over``, a soft one: what a solved step leaves unused passes on).
  ``global`` has no plan: the sub-questions are worked in order from one
  shared pool of ``budget`` tokens, each taking what it needs from what is
  left.
* The planner's credit for a step (used by the schedules) is its estimated
  number of tokens to bring the epistemic uncertainty down to 1,
  ``c_hat**(1/beta)``.
* The question is solved when its synthesis rule holds (``all``: every
  sub-question solved; ``majority``; ``any``) and a final synthesis step
  succeeds (probability ``synthesis_accuracy``).

Accuracy ``A`` is reported in percent, ``T`` is the mean tokens spent per
question, and ``E3 = A**2 / T`` (D4).
"""

from __future__ import annotations

import json
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from numba import njit, prange, uint64

from sim import _cli
from sim import __version__ as _VERSION
from sim import rng as _rng
from sim.backends import BackendUnavailable, resolve_backend
from theory import bbam as th
from theory._params import check_bool, check_choice, check_int, check_real

__all__ = [
    "BbamParams",
    "ALLOCATORS",
    "sample_questions",
    "allocation",
    "allocations",
    "outcomes",
    "simulate",
    "frontier",
    "posterior_contraction",
    "fit_power_law",
    "e3_estimator",
    "rounding_loss",
    "main",
]


#: Sub-question counts of the paper's released MATH-500 plans, m = 1..7 (spec 5).
MATH500_M_COUNTS = (1, 69, 156, 133, 132, 7, 2)

#: Allocators compared by :func:`simulate`, in report order.
ALLOCATORS = ("uniform", "global", "paper", "exact", "oracle") + tuple(th.SCHEDULES)

SYNTHESIS_RULES = ("all", "majority", "any")
_RULE_CODE = {"all": 0, "majority": 1, "any": 2}


@dataclass(frozen=True)
class BbamParams:
    """Question prior, planner noise and synthesis rule of the budget simulation.

    All defaults are project choices, not the paper's.

    Parameters
    ----------
    budget : float
        Token budget per question, B (> 0).
    m_counts : tuple of int
        Relative frequencies of m = 1, 2, ... sub-questions (default: the
        released MATH-500 plans, mean 3.71).
    beta_low, beta_high : float
        beta ~ Uniform(beta_low, beta_high), 0 < low <= high (v1 assumes beta >= 1).
    half_low, half_high : float
        Tokens at which the epistemic uncertainty of a sub-question falls to
        0.5, log-uniform between these (> 0); then ``c = 0.5 half**beta``.
    front_loading : float
        ``c_j`` is multiplied by ``exp(-front_loading * j)``, j = 0-based
        position, so earlier sub-questions carry more uncertainty (>= 0).
    u_ale_max : float
        u_ale ~ Uniform(0, u_ale_max), in [0, 1).
    planner_noise : float
        sigma of the planner's log-normal estimate of c (>= 0).
    synthesis : {"all", "majority", "any"}
        Which sub-question outcomes make the question solvable.
    synthesis_accuracy : float
        Probability that the final synthesis step succeeds, in [0, 1].
    rounding : {"paper", "largest_remainder"}
        Integer rounding of the Plan-and-Budget schedules (D7).
    min_tokens : int
        Floor of every schedule budget (0 as in the official code).
    carry_over : bool
        Soft budgets: tokens a solved sub-question leaves unused pass on to
        the next one (default False: hard caps). With carry-over there is no
        closed-form expectation and the theory columns are NaN.
    """

    budget: float = 400.0
    m_counts: tuple = MATH500_M_COUNTS
    beta_low: float = 1.0
    beta_high: float = 2.0
    half_low: float = 20.0
    half_high: float = 200.0
    front_loading: float = 0.3
    u_ale_max: float = 0.05
    planner_noise: float = 0.3
    synthesis: str = "all"
    synthesis_accuracy: float = 1.0
    rounding: str = "paper"
    min_tokens: int = 0
    carry_over: bool = False

    def __post_init__(self):
        check_real("budget", self.budget, 0.0, lo_open=True)
        counts = tuple(self.m_counts)
        if len(counts) == 0:
            raise ValueError("m_counts must be a non-empty list of non-negative counts")
        for k in counts:
            check_real("m_counts", k, 0.0)
        if sum(counts) <= 0:
            raise ValueError("m_counts must have a positive total")
        object.__setattr__(self, "m_counts", counts)
        check_real("beta_low", self.beta_low, 0.0, lo_open=True)
        check_real("beta_high", self.beta_high, self.beta_low)
        check_real("half_low", self.half_low, 0.0, lo_open=True)
        check_real("half_high", self.half_high, self.half_low)
        check_real("front_loading", self.front_loading, 0.0)
        check_real("u_ale_max", self.u_ale_max, 0.0, 1.0, hi_open=True)
        check_real("planner_noise", self.planner_noise, 0.0)
        check_choice("synthesis", self.synthesis, SYNTHESIS_RULES)
        check_real("synthesis_accuracy", self.synthesis_accuracy, 0.0, 1.0)
        check_choice("rounding", self.rounding, ("paper", "largest_remainder"))
        check_int("min_tokens", self.min_tokens, 0)
        check_bool("carry_over", self.carry_over)


@dataclass
class Questions:
    """A batch of simulated questions; arrays are (n, M), M = max sub-questions."""

    c: np.ndarray
    beta: np.ndarray
    u_ale: np.ndarray
    c_hat: np.ndarray
    mask: np.ndarray
    budget: float
    extra: dict = field(default_factory=dict)

    @property
    def n(self):
        return self.c.shape[0]

    def rows(self, sl):
        """The questions of the slice ``sl``."""
        return Questions(c=self.c[sl], beta=self.beta[sl], u_ale=self.u_ale[sl],
                         c_hat=self.c_hat[sl], mask=self.mask[sl], budget=self.budget)


#: Questions per block when allocating and evaluating closed forms; blocks keep
#: the temporaries of the vectorised formulas in cache.
BLOCK = 1 << 15


def _blocked(n, fn):
    """Apply ``fn`` to consecutive slices of ``range(n)`` on all cores and stack the results.

    NumPy releases the GIL inside its array operations, so threads run the
    blocks in parallel; the result does not depend on the number of threads.
    """
    slices = [slice(i, min(n, i + BLOCK)) for i in range(0, n, BLOCK)]
    if len(slices) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            parts = list(pool.map(fn, slices))
    else:
        parts = [fn(slices[0])]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts))
    return np.concatenate(parts)


def sample_questions(params, n, seed=0):
    """Draw ``n`` questions from the prior of ``params`` (host draws, seeded)."""
    gen = _rng.generator(seed, "bbam/questions")
    counts = np.asarray(params.m_counts, dtype=float)
    M = len(counts)
    m = 1 + gen.choice(M, size=n, p=counts / counts.sum())
    mask = np.arange(M)[None, :] < m[:, None]
    beta = gen.uniform(params.beta_low, params.beta_high, (n, M))
    half = np.exp(gen.uniform(math.log(params.half_low), math.log(params.half_high), (n, M)))
    c = 0.5 * half ** beta * np.exp(-params.front_loading * np.arange(M))[None, :]
    u_ale = gen.uniform(0.0, params.u_ale_max, (n, M)) if params.u_ale_max > 0 else np.zeros((n, M))
    c_hat = c * np.exp(params.planner_noise * gen.standard_normal((n, M)))
    # entries past a question's m are ignored through ``mask``; give them
    # harmless valid values so that parameter checks see no zeros
    absent = ~mask
    c[absent] = 1.0
    c_hat[absent] = 1.0
    u_ale[absent] = 0.0
    beta[absent] = 1.0
    return Questions(c=c, beta=beta, u_ale=u_ale, c_hat=c_hat, mask=mask, budget=params.budget)


def allocation(params, q, name):
    """Token budgets (n, M) of the allocator ``name`` (``None`` for ``global``)."""
    check_choice("allocator", name, ALLOCATORS)
    if name == "global":
        return None
    return _blocked(q.n, lambda sl: _allocate(params, q.rows(sl), name))


def _allocate(params, q, name):
    B = q.budget
    if name == "uniform":
        return th.allocate_uniform(np.full(q.n, B), q.mask)
    if name == "paper":
        return th.allocate_paper(q.c_hat, q.beta, B, mask=q.mask)
    if name == "exact":
        return th.allocate_kkt(q.c_hat, q.beta, B, mask=q.mask)
    if name == "oracle":
        return th.allocate_kkt(q.c, q.beta, B, mask=q.mask)
    # the planner's credit for a step: its estimated tokens to bring the
    # epistemic uncertainty down to 1, c_hat**(1/beta) (project choice)
    credits = q.c_hat ** (1.0 / q.beta)
    return th.allocate_plan_and_budget(credits, int(round(B)), schedule=name,
                                       rounding=params.rounding, mask=q.mask,
                                       min_tokens=params.min_tokens).astype(float)


def allocations(params, q, names=ALLOCATORS):
    """Token budgets (n, M) of each allocator in ``names`` (``global`` maps to ``None``)."""
    return {name: allocation(params, q, name) for name in names}


# ----------------------------------------------------------------------------
# Outcomes: one kernel written for numpy/cupy arrays, one for Numba
# ----------------------------------------------------------------------------

_INV53 = 1.0 / 9007199254740992.0


def _required_tokens(xp, u, c, beta, u_ale):
    """Inverse of the survival function min(1, U(x)) at u (inf where never solved)."""
    gap = u - u_ale
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = xp.where(gap > 0, (c / xp.where(gap > 0, gap, 1.0)) ** (1.0 / beta), xp.inf)
    return tau


def outcomes_array(xp, b, q_c, q_beta, q_u_ale, mask, budget, rule, synthesis_accuracy, key,
                   carry_over=False):
    """Solved flags and tokens per question, on NumPy or CuPy arrays.

    ``b`` is an (n, M) allocation, or ``None`` for the sequential global pool.
    Uses the counter-based stream of :mod:`sim.rng`, draw ``q * (M + 1) + j``
    for sub-question ``j`` of question ``q`` and ``q * (M + 1) + M`` for the
    synthesis step, so every allocator sees the same draws (common random
    numbers) and the Numba kernel sees the same numbers too.
    """
    n, M = q_c.shape
    ctr = (xp.arange(n, dtype=np.uint64)[:, None] * np.uint64(M + 1)
           + xp.arange(M + 1, dtype=np.uint64)[None, :])
    u = ((_rng.splitmix64(key, ctr) >> np.uint64(11)).astype(np.float64) + 0.5) * _INV53
    tau = _required_tokens(xp, u[:, :M], q_c, q_beta, q_u_ale)
    if b is None or carry_over:
        # sequential: the global pool, or caps plus what earlier steps left unused
        spent = xp.zeros(n)
        carry = xp.zeros(n)
        solved = xp.zeros((n, M), dtype=bool)
        for j in range(M):
            cap = budget - spent if b is None else b[:, j] + carry
            ok = mask[:, j] & (tau[:, j] <= cap)
            use = xp.where(mask[:, j], xp.minimum(tau[:, j], cap), 0.0)
            carry = xp.where(mask[:, j], cap - use, carry)
            solved[:, j] = ok
            spent = spent + use
        tokens = spent
    else:
        solved = mask & (tau <= b)
        tokens = xp.where(mask, xp.minimum(tau, b), 0.0).sum(axis=1)
    k = solved.sum(axis=1)
    m = mask.sum(axis=1)
    if rule == "all":
        good = k == m
    elif rule == "any":
        good = k > 0
    else:
        good = 2 * k > m
    good = good & (u[:, M] < synthesis_accuracy)
    return good, tokens


@njit(parallel=True, cache=True)
def _outcomes_numba(b, sequential, carry_over, c, beta, u_ale, mask, budget, rule, s_acc, key):
    n, M = c.shape
    solved_q = np.zeros(n, np.bool_)
    tokens = np.zeros(n)
    for q in prange(n):
        base = uint64(q) * uint64(M + 1)
        spent = 0.0
        carry = 0.0
        k = 0
        m = 0
        for j in range(M):
            if not mask[q, j]:
                continue
            m += 1
            r = _rng_finalize(_rng_weyl(key, base + uint64(j)))
            u = ((r >> uint64(11)) + 0.5) * _INV53
            gap = u - u_ale[q, j]
            tau = (c[q, j] / gap) ** (1.0 / beta[q, j]) if gap > 0 else np.inf
            if sequential:
                cap = budget - spent
            elif carry_over:
                cap = b[q, j] + carry
            else:
                cap = b[q, j]
            if tau <= cap:
                k += 1
                spent += tau
                carry = cap - tau
            else:
                spent += cap
                carry = 0.0
        r = _rng_finalize(_rng_weyl(key, base + uint64(M)))
        us = ((r >> uint64(11)) + 0.5) * _INV53
        if rule == 0:
            ok = k == m
        elif rule == 2:
            ok = k > 0
        else:
            ok = 2 * k > m
        solved_q[q] = ok and us < s_acc
        tokens[q] = spent
    return solved_q, tokens


_rng_weyl = njit(inline="always")(_rng.weyl)
_rng_finalize = njit(inline="always")(_rng.finalize)


def outcomes(params, q, b, seed, backend="numba"):
    """Solved flags (bool, n) and tokens spent (float, n) of allocation ``b``."""
    key = _rng.stream_key(seed, "bbam/outcomes")
    if backend == "numba":
        seq = b is None
        bb = np.zeros((1, 1)) if seq else np.ascontiguousarray(b, dtype=np.float64)
        return _outcomes_numba(bb, seq, bool(params.carry_over), q.c, q.beta, q.u_ale, q.mask,
                               float(q.budget),
                               _RULE_CODE[params.synthesis], float(params.synthesis_accuracy), key)
    if backend == "numpy":
        return outcomes_array(np, b, q.c, q.beta, q.u_ale, q.mask, float(q.budget),
                              params.synthesis, params.synthesis_accuracy, key,
                              carry_over=params.carry_over)
    from gpu import bbam as gpu_bbam

    return gpu_bbam.outcomes(params, q, b, key)


def expected_outcome(params, q, b):
    """Closed-form expected accuracy (fraction) and tokens per question of a static allocation."""
    return _blocked(q.n, lambda sl: _expected_block(params, q.rows(sl), b[sl]))


def _expected_block(params, q, b):
    m = q.mask
    args = (b[m], q.c[m], q.beta[m], q.u_ale[m])  # present sub-questions only
    p = np.zeros(m.shape)
    p[m] = th.solve_probability(*args)
    tok = np.zeros(m.shape)
    tok[m] = th.expected_tokens(*args)
    acc = th.synthesis_probability(p, rule=params.synthesis, mask=m) * params.synthesis_accuracy
    return acc, tok.sum(axis=1)


def _summary_row(name, solved, tokens, theory=None):
    n = solved.size
    a = solved.astype(float) * 100.0
    A = a.mean()
    T = float(tokens.mean())
    sa = a.std(ddof=1) / math.sqrt(n)
    st_ = tokens.std(ddof=1) / math.sqrt(n)
    cov = np.cov(a, tokens)[0, 1] / n
    e3 = A * A / T if T > 0 else math.nan
    # delta method for A^2/T
    ga, gt = 2 * A / T, -A * A / (T * T)
    se_e3 = math.sqrt(max(ga * ga * sa * sa + gt * gt * st_ * st_ + 2 * ga * gt * cov, 0.0))
    z = 1.959963984540054
    row = dict(name=name, accuracy=A, accuracy_se=sa, ci_low=A - z * sa, ci_high=A + z * sa,
               tokens=T, tokens_se=st_, e3=e3, e3_ci_low=e3 - z * se_e3, e3_ci_high=e3 + z * se_e3)
    if theory is not None:
        acc_th, tok_th = theory
        row["accuracy_theory"] = float(acc_th.mean() * 100.0)
        row["accuracy_theory_se"] = float(100.0 * math.sqrt(np.sum(acc_th * (1 - acc_th))) / n)
        row["tokens_theory"] = float(tok_th.mean())
    else:
        row["accuracy_theory"] = math.nan
        row["accuracy_theory_se"] = math.nan
        row["tokens_theory"] = math.nan
    return row


def simulate(params=None, questions=200_000, seed=0, backend="auto", names=ALLOCATORS):
    """Compare allocators on the same simulated questions.

    Parameters
    ----------
    params : BbamParams or None
    questions : int
        Questions drawn from the prior (each allocator sees the same ones and
        the same random outcomes).
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}
    names : sequence of str
        Allocators to compare (see :data:`ALLOCATORS`).

    Returns
    -------
    pandas.DataFrame
        One row per allocator: ``name``, ``accuracy`` (percent), its standard
        error, ``ci_low``/``ci_high`` (95% interval of the accuracy),
        ``tokens`` (mean per question), ``e3`` with ``e3_ci_low``/``e3_ci_high``
        (delta method), ``accuracy_theory``/``tokens_theory`` (closed-form
        expectation of the same allocation on the same questions; NaN for
        ``global``), the parameters, ``seed``, ``backend``, ``version``.
    """
    params = params or BbamParams()
    questions = check_int("questions", questions, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    q = sample_questions(params, questions, seed)
    for alloc_name in names:
        check_choice("allocator", alloc_name, ALLOCATORS)
    rows = []
    for alloc_name in names:
        b = allocation(params, q, alloc_name)
        solved, tokens = outcomes(params, q, b, seed, name)
        solved, tokens = np.asarray(solved), np.asarray(tokens)
        static = b is not None and not params.carry_over
        theory = expected_outcome(params, q, b) if static else None
        rows.append(_summary_row(alloc_name, solved, tokens, theory))
    df = pd.DataFrame(rows)
    for key, val in asdict(params).items():
        df[key] = str(val) if isinstance(val, tuple) else val
    df["questions"] = questions
    _cli.add_provenance(df, seed, name)
    return df


def frontier(params, budgets, questions=20_000, seed=0, backend="auto", names=ALLOCATORS,
             progress=None):
    """Accuracy and tokens of every allocator across budgets (one row per budget x allocator)."""
    parts = []
    for B in budgets:
        df = simulate(replace(params, budget=float(B)), questions, seed, backend, names)
        df["budget"] = float(B)
        parts.append(df)
        if progress is not None:
            progress()
    return pd.concat(parts, ignore_index=True)


def plot_frontier(df, ax=None):
    """Accuracy-tokens frontier per allocator, with iso-E3 curves; returns the axes."""
    from sim._plot import axes_or_new

    ax = axes_or_new(ax, 7.0, 4.8)
    tmax = df["tokens"].max() * 1.05
    tt = np.linspace(1.0, tmax, 200)
    for level in np.quantile(df["e3"].dropna(), [0.25, 0.5, 0.75]):
        ax.plot(tt, np.sqrt(level * tt), color="0.85", lw=0.8, zorder=0)
        ax.annotate(f"E3={level:.2f}", (tt[-1], math.sqrt(level * tt[-1])), fontsize=7,
                    color="0.6", ha="right", va="bottom")
    styles = {"uniform": "k--", "global": "k:", "paper": "C3-o", "exact": "C0-o", "oracle": "C0:",
              "constant": "C1-", "linear": "C2-", "polynomial": "C4-", "exponential": "C5-",
              "cosine": "C6-"}
    for name, g in df.groupby("name", sort=False):
        g = g.sort_values("tokens")
        ax.plot(g["tokens"], g["accuracy"], styles.get(name, "-"), ms=3, lw=1.3, label=name)
    ax.set_xlabel("mean tokens per question T")
    ax.set_ylabel("accuracy A (%)")
    ax.set_ylim(0, min(100, df["accuracy"].max() * 1.1 + 1))
    ax.set_xlim(0, tmax)
    ax.set_title("accuracy-token frontier by allocator (budgets " +
                 ", ".join(f"{b:g}" for b in sorted(df["budget"].unique())) + ")", fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return ax


# ----------------------------------------------------------------------------
# Spec 7.4: where the power law comes from, the E3 estimator, rounding loss
# ----------------------------------------------------------------------------

def posterior_contraction(model, budgets, draws=100_000, seed=0, *, tau2=1.0, sigma2=1.0,
                          x_m=1.0, k=3.0):
    """Monte Carlo of the epistemic uncertainty left after ``b`` observations (spec 7.4, 1-2).

    ``model="normal"``: ``theta ~ N(0, tau2)``, ``y_i ~ N(theta, sigma2)``; the
    estimate is the mean squared error of the posterior mean, to compare with
    :func:`theory.bbam.normal_bayes_risk` (power law with beta = 1).
    ``model="pareto"``: ``theta ~ Pareto(x_m, k)``, ``y_i ~ Uniform(0, theta)``;
    the estimate is the mean posterior variance
    (:func:`theory.bbam.pareto_posterior_variance` averaged over data; beta = 2).

    Returns
    -------
    pandas.DataFrame
        ``b``, ``mc``, ``se`` and ``theory`` (closed form for ``normal``; NaN for
        ``pareto``, whose mean over data has no closed form here).
    """
    check_choice("model", model, ("normal", "pareto"))
    draws = check_int("draws", draws, 2)
    budgets = [check_real("budgets", float(b), 1.0) for b in budgets]
    if not budgets:
        raise ValueError("budgets must be a non-empty list of numbers >= 1")
    gen = _rng.generator(seed, f"bbam/contraction-{model}")
    rows = []
    for b in budgets:
        if model == "normal":
            theta = math.sqrt(tau2) * gen.standard_normal(draws)
            ybar = theta + math.sqrt(sigma2 / b) * gen.standard_normal(draws)  # sufficient statistic
            post_mean = (b * ybar / sigma2) / (1.0 / tau2 + b / sigma2)
            x = (theta - post_mean) ** 2
            theory = float(th.normal_bayes_risk(b, tau2, sigma2))
        else:
            theta = x_m * gen.random(draws) ** (-1.0 / k)
            y_max = theta * gen.random(draws) ** (1.0 / b)
            x = th.pareto_posterior_variance(np.maximum(x_m, y_max), k, b)
            theory = math.nan
        rows.append(dict(model=model, b=b, mc=float(x.mean()),
                         se=float(x.std(ddof=1) / math.sqrt(draws)), theory=theory))
    return pd.DataFrame(rows)


def fit_power_law(b, u):
    """Least-squares slope and intercept of ``log u`` against ``log b`` (so ``u ~ e^a b^slope``)."""
    slope, intercept = np.polyfit(np.log(np.asarray(b, float)), np.log(np.asarray(u, float)), 1)
    return float(slope), float(intercept)


def e3_estimator(p, n, mean_tokens, token_sigma=0.5, runs=10_000, seed=0):
    """Distribution of the E3 estimate of one run of ``n`` questions (spec 7.4 item 4).

    Scores are Bernoulli(p); tokens are log-normal with mean ``mean_tokens`` and
    log-scale ``token_sigma``. Returns a dict with the true ``e3``, the Monte
    Carlo mean of the estimate and its standard error, the first-order
    ``bias_theory`` (:func:`theory.bbam.e3_estimator_bias`, which ignores the
    variance of the token mean) and the per-run estimates.
    """
    p = check_real("p", p, 0.0, 1.0)
    n = check_int("n", n, 1)
    runs = check_int("runs", runs, 2)
    mean_tokens = check_real("mean_tokens", mean_tokens, 0.0, lo_open=True)
    token_sigma = check_real("token_sigma", token_sigma, 0.0)
    gen = _rng.generator(seed, "bbam/e3-estimator")
    correct = gen.binomial(n, p, size=runs) / n
    mu = math.log(mean_tokens) - token_sigma ** 2 / 2
    tokens = np.exp(mu + token_sigma * gen.standard_normal((runs, n))).mean(axis=1)
    est = th.e3(100.0 * correct, tokens)
    return dict(e3=float(th.e3(100.0 * p, mean_tokens)), mean=float(est.mean()),
                se=float(est.std(ddof=1) / math.sqrt(runs)),
                bias_theory=th.e3_estimator_bias(p, n, mean_tokens), estimates=est)


def rounding_loss(cases=20_000, seed=0, schedule="polynomial", beta=1.0, m_max=7,
                  budgets=(200, 600), min_tokens=0):
    """Relative loss of the BBAM objective from the integer rounding of D7 (spec 7.4 item 5).

    For random integer credits (``m`` uniform in 2..``m_max``, credits >= 1
    summing to 100) and budgets uniform in ``budgets``, the prior
    ``c = (w f)**(beta+1)`` makes the real-valued schedule the exact optimum
    (bridge identity); the loss is ``objective(integer) / objective(real) - 1``,
    ``inf`` where rounding leaves a sub-question 0 tokens.

    Returns
    -------
    ndarray of float, shape (cases,)
    """
    cases = check_int("cases", cases, 1)
    m_max = check_int("m_max", m_max, 2, 100)
    check_choice("schedule", schedule, th.SCHEDULES)
    beta = check_real("beta", beta, 0.0, lo_open=True)
    lo, hi = (check_int("budgets", int(x), 1) for x in budgets)
    gen = _rng.generator(seed, "bbam/rounding")
    m = gen.integers(2, m_max + 1, size=cases)
    mask = np.arange(m_max)[None, :] < m[:, None]
    weights = np.where(mask, gen.dirichlet(np.ones(m_max), size=cases), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    credits = np.ones((cases, m_max), dtype=np.int64)
    for i in range(cases):  # credits >= 1 summing to 100
        credits[i, : m[i]] += gen.multinomial(100 - m[i], weights[i, : m[i]])
    B = gen.integers(lo, hi + 1, size=cases)
    shares = th.plan_and_budget_shares(credits, schedule, mask=mask)
    f = np.stack([np.concatenate([th.schedule_weights(schedule, int(k)), np.ones(m_max - k)])
                  for k in m])
    w = credits / np.where(mask, credits, 0).sum(axis=1, keepdims=True)
    c = np.where(mask, (w * f) ** (beta + 1.0), 1.0)
    real = shares * B[:, None]
    integer = th.allocate_plan_and_budget(credits, B, schedule=schedule, mask=mask,
                                          min_tokens=min_tokens).astype(float)
    with np.errstate(divide="ignore"):
        obj_int = np.where(mask, c * np.where(integer > 0, integer, 0.0) ** -beta, 0.0).sum(axis=1)
    obj_real = np.where(mask, c * np.where(mask, real, 1.0) ** -beta, 0.0).sum(axis=1)
    return obj_int / obj_real - 1.0


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------

def _build_parser():
    p = _cli.ArgumentParser(
        prog="python -m sim.bbam",
        description="Token budgets over sub-questions: the exact BBAM optimum, the paper's closed "
                    "form, uniform, global and the Plan-and-Budget schedules, compared by Monte "
                    "Carlo on accuracy, tokens and E3 (Lin et al., arXiv 2505.16122).")
    p.add_argument("--budget", type=float, default=400.0, help="token budget per question (default 400)")
    one = p.add_argument_group("one question (--allocate)")
    one.add_argument("--allocate", action="store_true",
                     help="print the exact, paper and uniform allocation of one question")
    one.add_argument("--c", help="initial epistemic uncertainties c_j, comma-separated (> 0)")
    one.add_argument("--beta", help="exponents beta_j, comma-separated (> 0)")
    sim = p.add_argument_group("simulation prior (project defaults)")
    sim.add_argument("--beta-range", default="1,2", help="beta ~ Uniform(lo, hi) (default 1,2)")
    sim.add_argument("--half-range", default="20,200",
                     help="tokens to halve the epistemic uncertainty, log-uniform (default 20,200)")
    sim.add_argument("--front-loading", type=float, default=0.3,
                     help="c_j scaled by exp(-x j) along the plan (default 0.3)")
    sim.add_argument("--u-ale-max", type=float, default=0.05, help="u_ale ~ Uniform(0, x) (default 0.05)")
    sim.add_argument("--planner-noise", type=float, default=0.3,
                     help="log-normal sigma of the planner's estimate of c (default 0.3)")
    sim.add_argument("--synthesis", default="all", help="all | majority | any (default all)")
    sim.add_argument("--synthesis-accuracy", type=float, default=1.0,
                     help="probability the final synthesis succeeds (default 1)")
    sim.add_argument("--rounding", default="paper", help="paper | largest_remainder (default paper)")
    sim.add_argument("--min-tokens", type=int, default=0, help="floor of schedule budgets (default 0)")
    sim.add_argument("--carry-over", action="store_true",
                     help="soft budgets: unused tokens of a solved step pass to the next")
    sim.add_argument("--allocators", default=",".join(ALLOCATORS),
                     help="comma-separated subset of: " + ", ".join(ALLOCATORS))
    sim.add_argument("--plot-budgets", default="100,150,200,300,400,600,800",
                     help="budgets of the --plot frontier (default 100,...,800)")
    sim.add_argument("--plot-questions", type=int, default=20_000,
                     help="questions per budget for --plot (default 20000)")
    _cli.add_common_arguments(p, trials=200_000)
    return p


def _params_from_args(args):
    blo, bhi = _pair("beta-range", args.beta_range)
    hlo, hhi = _pair("half-range", args.half_range)
    return BbamParams(budget=args.budget, beta_low=blo, beta_high=bhi, half_low=hlo,
                      half_high=hhi, front_loading=args.front_loading, u_ale_max=args.u_ale_max,
                      planner_noise=args.planner_noise, synthesis=args.synthesis,
                      synthesis_accuracy=args.synthesis_accuracy, rounding=args.rounding,
                      min_tokens=args.min_tokens, carry_over=args.carry_over)


def _pair(name, text):
    vals = _cli.float_list(name, text)
    if len(vals) != 2:
        raise ValueError(f"{name} must be two numbers lo,hi, got {text!r}")
    return vals


def _allocate_one(args):
    if args.c is None or args.beta is None:
        raise ValueError("--allocate needs --c and --beta")
    c = np.array(_cli.float_list("c", args.c))
    beta = np.array(_cli.float_list("beta", args.beta))
    if c.size != beta.size:
        raise ValueError(f"c and beta must have the same length, got {c.size} and {beta.size}")
    B = check_real("budget", args.budget, 0.0, lo_open=True)
    res = dict(exact=th.allocate_kkt(c, beta, B), paper=th.allocate_paper(c, beta, B),
               uniform=th.allocate_uniform(B, np.ones(c.size, dtype=bool)))
    objective = {k: float(th.objective(v, c, beta)) for k, v in res.items()}
    return c, beta, B, {k: [float(x) for x in v] for k, v in res.items()}, objective




def main(argv=None):
    """Run ``python -m sim.bbam``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.allocate:
            c, beta, B, res, objective = _allocate_one(args)
            if args.json:
                print(json.dumps(_cli.jsonable(dict(res, objective=objective, c=list(c),
                                                beta=list(beta), budget=B))))
            else:
                print(f"one question: B={B:g}, c={', '.join(f'{x:g}' for x in c)}, "
                      f"beta={', '.join(f'{x:g}' for x in beta)}")
                print(f"{'allocation':<28s} " + " ".join(f"b_{j + 1:<9d}" for j in range(c.size))
                      + " objective sum c b^-beta")
                labels = {"exact": "exact KKT optimum (T1)", "paper": "paper closed form (Eq. 6)",
                          "uniform": "uniform B/m"}
                for k in ("exact", "paper", "uniform"):
                    print(f"{labels[k]:<28s} " + " ".join(f"{x:<11.3f}" for x in res[k])
                          + f" {objective[k]:.6g}")
            return 0
        params = _params_from_args(args)
        check_int("trials", args.trials, 2)
        check_int("seed", args.seed, 0)
        check_int("plot-questions", args.plot_questions, 2)
        names = [s.strip() for s in args.allocators.split(",")]
        if not names or any(not s for s in names):
            raise ValueError("allocators must be a non-empty comma-separated list")
        for s in names:
            check_choice("allocator", s, ALLOCATORS)
        backend = resolve_backend(args.backend)
        with _cli.progress_spinner(not args.json, "simulating questions"):
            df = simulate(params, args.trials, args.seed, backend, names)
        if args.plot:
            budgets = _cli.float_list("plot-budgets", args.plot_budgets)
            for B in budgets:
                check_real("plot-budgets", B, 0.0, lo_open=True)
            with _cli.progress_bar(not args.json, "frontier", len(budgets)) as advance:
                fr = frontier(params, budgets, args.plot_questions, args.seed, backend, names,
                              progress=advance)
            fig, ax = _cli.new_figure(7.0, 4.8)
            plot_frontier(fr, ax)
            _cli.save_figure(fig, args.plot, prog="python -m sim.bbam")
    except (ValueError, TypeError, BackendUnavailable, OSError) as exc:
        return _cli.fail(parser.prog, exc)
    cols = ["name", "accuracy", "tokens", "e3", "ci_low", "ci_high", "e3_ci_low", "e3_ci_high",
            "accuracy_theory", "tokens_theory"]
    if args.json:
        pdict = asdict(params)
        pdict.update(questions=args.trials, seed=args.seed, backend=backend)
        allocs = [dict(zip(cols, r)) for r in df[cols].itertuples(index=False)]
        payload = dict(params=pdict, allocators=allocs, version=_VERSION)
        if args.plot:
            payload["plot"] = args.plot
        print(json.dumps(_cli.jsonable(payload)))
        return 0
    _report(params, df, args, backend)
    if args.plot:
        print(f"frontier written to {args.plot}")
    return 0


def _report(params, df, args, backend):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    console.print(f"budgetlab bbam  questions={args.trials} budget={params.budget:g} "
                  f"seed={args.seed} backend={backend}", markup=False)
    console.print(f"  prior: m ~ MATH-500 plans, beta ~ U({params.beta_low:g}, {params.beta_high:g}), "
                  f"half-life tokens ~ logU({params.half_low:g}, {params.half_high:g}), "
                  f"front-loading {params.front_loading:g}, u_ale ~ U(0, {params.u_ale_max:g}); "
                  f"planner noise {params.planner_noise:g}; synthesis {params.synthesis} "
                  f"(success {params.synthesis_accuracy:g})", markup=False)
    table = Table(title="allocators (A in %, T tokens per question, E3 = A^2/T)",
                  title_justify="left")
    for col in ("allocator", "A", "95% interval", "theory A", "T", "theory T", "E3", "E3 95%"):
        table.add_column(col, justify="right")
    for r in df.itertuples():
        th_a = "-" if math.isnan(r.accuracy_theory) else f"{r.accuracy_theory:.2f}"
        th_t = "-" if math.isnan(r.tokens_theory) else f"{r.tokens_theory:.1f}"
        table.add_row(r.name, f"{r.accuracy:.2f}", f"[{r.ci_low:.2f}, {r.ci_high:.2f}]", th_a,
                      f"{r.tokens:.1f}", th_t, f"{r.e3:.3f}",
                      f"[{r.e3_ci_low:.3f}, {r.e3_ci_high:.3f}]")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
