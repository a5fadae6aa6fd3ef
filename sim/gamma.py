"""Budget guidance on Markov toy language models, and ``python -m sim.gamma``.

Guided decoding (Li et al., "Steering LLM Thinking with Budget Guidance",
arXiv 2506.13752; spec ``specs/gamma.md``) multiplies the next-token
probability of every candidate ``v`` by ``a_v = Pr(L <= b_t | v)``, the chance
that thinking ends within the remaining budget if ``v`` is emitted, and
renormalises (section 2.3). This module runs it on toy language models whose
next-token law depends only on a small latent state, so that every guided run
has an **exact** length law, computed by forward dynamic programming over
``(state, step)`` (section 7.3):

* **S1** :func:`geometric_model` -- thinking stops with probability ``h`` at
  every token. Every token is a line of its own.
* **S2** :func:`paragraph_model` -- paragraphs open with a move token
  (``Wait`` adds planned paragraphs, ``So`` works one off, ``</think>`` ends)
  followed by words until a newline, with paragraph length capped.
  Newline-gated guidance acts only at paragraph starts.
* **S3** Gamma predictors: a Gamma law over ``log(L+1)`` is fitted to every
  candidate's exact remaining-length law (:func:`fit_predictor`) and used in
  place of the exact oracle, optionally distorted.
* **S4** untrained candidates: chosen tokens get the untrained head values
  ``alpha = rate = log 2``; the faithful validity mask removes them and
  fallbacks are counted.

Each decoding rule (:class:`Method`: unguided, hard truncation, guided with
the oracle or a Gamma predictor, every-token or newline-gated, faithful or
pure-Bayes arithmetic) turns the model into a time-inhomogeneous Markov chain
whose transition rows depend on ``(b_t, state)`` only; :func:`guided_table`
builds those rows with the guidance operator of :mod:`theory.gamma`.
:func:`exact_law` propagates them exactly; :func:`simulate` samples them:
the NumPy reference runs the decoder literally (it recomputes the guidance
operator for each active run at each step), the Numba and array (CuPy)
kernels sample the precomputed rows. All three draw the uniform of run ``i``
at step ``t`` as word ``i * max_tokens + t`` of one counter-based stream
(:mod:`sim.rng`), so they realise the same runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numba import njit, prange

from sim import __version__ as _VERSION
from sim import _cli
from sim import rng as _rng
from sim.backends import BackendUnavailable, resolve_backend
from theory import gamma as th
from theory._params import check_choice, check_int, check_real

__all__ = [
    "ToyLM",
    "Method",
    "geometric_model",
    "paragraph_model",
    "remaining_length_pmf",
    "candidate_length_pmf",
    "oracle_weights",
    "GammaPredictor",
    "fit_predictor",
    "untrained",
    "guided_table",
    "exact_law",
    "law_summary",
    "default_methods",
    "simulate",
    "compare",
    "load_lengths",
    "guide_numba",
    "fit_report",
    "predictor_pit",
    "plot_comparison",
    "plot_fit",
    "Table",
    "main",
]

_INV53 = 1.0 / 9007199254740992.0
LOG2 = math.log(2.0)
TRIGGERS = ("every_token", "newline")
KINDS = ("unguided", "forcing", "guided")
PREDICTORS = ("oracle", "gamma")


# ----------------------------------------------------------------------------
# Toy language models
# ----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ToyLM:
    """A Markov toy language model of a thinking segment.

    In latent state ``s`` the next token is ``v`` with probability
    ``probs[s, v]``; emitting ``v`` moves to ``next_state[s, v]`` (``-1`` for
    the end-of-thinking token, which ends the segment). ``line_start[s]`` says
    whether the next token starts a line (the newline-gated trigger of the
    reference code, section 2.3). Thinking starts in ``start``.

    Parameters
    ----------
    name : str
    tokens : tuple of str
        Token names; ``tokens[end]`` is the end-of-thinking token.
    probs : ndarray, shape (S, V)
        Base next-token probabilities; rows sum to 1.
    next_state : ndarray of int, shape (S, V)
    line_start : ndarray of bool, shape (S,)
    start : int
    end : int
    params : dict
        The builder's parameters (for reports).
    state_names : tuple of str
    """

    name: str
    tokens: tuple
    probs: np.ndarray
    next_state: np.ndarray
    line_start: np.ndarray
    start: int
    end: int
    params: dict = field(default_factory=dict)
    state_names: tuple = ()

    def __post_init__(self):
        p = np.asarray(self.probs, dtype=np.float64)
        ns = np.asarray(self.next_state, dtype=np.int64)
        if p.ndim != 2 or p.shape != ns.shape or p.shape[1] != len(self.tokens):
            raise ValueError(f"probs and next_state must have shape (states, {len(self.tokens)})")
        if np.any(p < 0) or np.any(np.abs(p.sum(axis=1) - 1.0) > 1e-12):
            raise ValueError("probs must be non-negative with rows summing to 1")
        if np.any(ns[:, self.end] != -1) or np.any((ns < 0) & (np.arange(p.shape[1]) != self.end)):
            raise ValueError("next_state must be -1 exactly for the end token")
        if np.any(ns >= p.shape[0]):
            raise ValueError("next_state must index a state")
        object.__setattr__(self, "probs", p)
        object.__setattr__(self, "next_state", ns)
        object.__setattr__(self, "line_start", np.asarray(self.line_start, dtype=bool))

    @property
    def n_states(self):
        return self.probs.shape[0]

    @property
    def n_tokens(self):
        return self.probs.shape[1]

    def transition(self):
        """Sub-stochastic state-to-state matrix of the non-ending tokens (base law)."""
        S, V = self.probs.shape
        m = np.zeros((S, S))
        for v in range(V):
            if v != self.end:
                np.add.at(m, (np.arange(S), self.next_state[:, v]), self.probs[:, v])
        return m


def geometric_model(h=0.01):
    """S1: thinking stops with probability ``h`` at every token (spec 7.3 S1).

    One latent state and two tokens, ``</think>`` (probability ``h``) and
    ``step``. Every token is its own line, so newline-gated guidance is
    every-token guidance. The thinking length is geometric,
    ``Pr(T = k) = h (1 - h)^(k - 1)``.
    """
    h = check_real("h", h, lo=0.0, hi=1.0, lo_open=True)
    return ToyLM("geometric", ("</think>", "step"), np.array([[h, 1.0 - h]]),
                 np.array([[-1, 0]]), np.array([True]), start=0, end=0,
                 params=dict(h=h), state_names=("step",))


def paragraph_model(p_wait=0.25, p_end=0.01, plan=6, plan_max=10, wait_adds=3,
                    newline=0.12, max_paragraph=20):
    """S2: a paragraph model with move tokens and newline gating (spec 7.3 S2).

    The latent state is ``(k, j)``: ``k`` planned paragraphs still to write
    (``0..plan_max``) and ``j`` tokens written in the current paragraph
    (``0`` = at a paragraph start). Thinking starts at ``(plan, 0)``.

    * At a paragraph start with ``k > 0`` the move is ``Wait`` (probability
      ``p_wait``; ``k -> min(k + wait_adds, plan_max)``), ``</think>``
      (``p_end``, an early stop) or ``So`` (the rest; ``k -> k - 1``). With
      ``k = 0`` it is ``Wait`` (``p_wait``) or ``</think>`` (the rest).
    * Inside a paragraph (``1 <= j``) the next token is ``\\n`` with
      probability ``newline`` (a line ends; the next token is a paragraph
      start), else a word; at ``j = max_paragraph - 1`` it is ``\\n``, so a
      paragraph (move token, words, newline) has at most ``max_paragraph``
      tokens.

    The parameters are this project's illustration of the spec's "Wait ->
    many more paragraphs, So -> few, </think> -> end"; the defaults give a
    mean thinking length of 252 tokens (median 176).
    """
    p_wait = check_real("p_wait", p_wait, lo=0.0, hi=1.0, hi_open=True)
    p_end = check_real("p_end", p_end, lo=0.0, hi=1.0)
    if p_wait + p_end > 1.0:
        raise ValueError(f"p_wait + p_end must be <= 1, got {p_wait + p_end:g}")
    plan_max = check_int("plan_max", plan_max, 0)
    plan = check_int("plan", plan, 0, plan_max)
    wait_adds = check_int("wait_adds", wait_adds, 1)
    newline = check_real("newline", newline, lo=0.0, hi=1.0, lo_open=True)
    max_paragraph = check_int("max_paragraph", max_paragraph, 2)
    tokens = ("</think>", "Wait", "So", "word", "\\n")
    END, WAIT, SO, WORD, NL = range(5)
    J = max_paragraph
    S = (plan_max + 1) * J

    def sid(k, j):
        return k * J + j

    probs = np.zeros((S, 5))
    nxt = np.zeros((S, 5), dtype=np.int64)
    line = np.zeros(S, dtype=bool)
    names = []
    for k in range(plan_max + 1):
        for j in range(J):
            s = sid(k, j)
            names.append(f"k={k},j={j}")
            nxt[s, :] = s          # unused entries point at themselves
            nxt[s, END] = -1
            if j == 0:
                line[s] = True
                probs[s, WAIT] = p_wait
                nxt[s, WAIT] = sid(min(k + wait_adds, plan_max), 1)
                if k > 0:
                    probs[s, END] = p_end
                    probs[s, SO] = 1.0 - p_wait - p_end
                    nxt[s, SO] = sid(k - 1, 1)
                else:
                    probs[s, END] = 1.0 - p_wait
            else:
                hz = 1.0 if j == J - 1 else newline
                probs[s, NL] = hz
                probs[s, WORD] = 1.0 - hz
                nxt[s, NL] = sid(k, 0)
                nxt[s, WORD] = sid(k, min(j + 1, J - 1))
    params = dict(p_wait=p_wait, p_end=p_end, plan=plan, plan_max=plan_max, wait_adds=wait_adds,
                  newline=newline, max_paragraph=max_paragraph)
    return ToyLM("paragraph", tokens, probs, nxt, line, start=sid(plan, 0), end=END,
                 params=params, state_names=tuple(names))


# ----------------------------------------------------------------------------
# Exact remaining-length laws and predictors
# ----------------------------------------------------------------------------

def remaining_length_pmf(model, horizon=None, tol=1e-13):
    """Law of the remaining thinking length from every state, unguided.

    ``out[s, n - 1] = Pr(R = n | state s)``, where ``R`` counts the tokens
    still to come through the end token inclusive; computed by the backward
    recursion ``Pr(R = 1 | s) = p(end | s)``,
    ``Pr(R = n | s) = sum_{v != end} p(v | s) Pr(R = n - 1 | s'(v))`` (derived).

    Parameters
    ----------
    model : ToyLM
    horizon : int or None
        Longest length kept; ``None`` grows it until every state's missing
        mass is below ``tol`` (at most 200,000).
    tol : float

    Returns
    -------
    ndarray, shape (S, horizon)
    """
    m = model.transition()
    stop = model.probs[:, model.end]
    cap = 200_000 if horizon is None else check_int("horizon", horizon, 1)
    cols = [stop.copy()]
    mass = stop.copy()
    cur = stop
    while len(cols) < cap:
        if horizon is None and np.all(1.0 - mass < tol):
            break
        cur = m @ cur
        cols.append(cur)
        mass = mass + cur
    return np.stack(cols, axis=1)


def candidate_length_pmf(model, rem=None):
    """Law of ``L`` given the state and the candidate (``L`` counts the candidate).

    ``L = 1`` for the end token, else ``1 + R`` from the state the candidate
    leads to (spec 1.1).

    Returns
    -------
    ndarray, shape (S, V, horizon + 1)
        ``out[s, v, n - 1] = Pr(L = n | s, v)``.
    """
    rem = remaining_length_pmf(model) if rem is None else rem
    S, V = model.probs.shape
    out = np.zeros((S, V, rem.shape[1] + 1))
    for v in range(V):
        if v == model.end:
            out[:, v, 0] = 1.0
        else:
            out[:, v, 1:] = rem[model.next_state[:, v]]
    return out


def oracle_weights(model, budgets, rem=None):
    """Exact guidance weights ``a[b, s, v] = Pr(L <= b | s, v)`` for ``b`` in ``budgets``.

    With these weights at every token, guided decoding samples the base model
    conditioned on finishing within the budget (spec 2.7, the Doob
    h-transform).
    """
    rem = remaining_length_pmf(model) if rem is None else rem
    cdf = np.concatenate([np.zeros((rem.shape[0], 1)), np.cumsum(rem, axis=1)], axis=1)
    cdf = np.minimum(cdf, 1.0)
    budgets = np.asarray(budgets, dtype=np.int64)
    S, V = model.probs.shape
    a = np.empty((budgets.size, S, V))
    for v in range(V):
        if v == model.end:
            a[:, :, v] = (budgets >= 1)[:, None]
        else:
            idx = np.clip(budgets - 1, 0, cdf.shape[1] - 1)
            a[:, :, v] = cdf[model.next_state[:, v]][:, idx].T
    return a


@dataclass(frozen=True, eq=False)
class GammaPredictor:
    """Per-(state, candidate) Gamma laws over ``log(L + 1)`` (spec 1.3).

    A state plays the role of the hidden state the real predictor reads;
    ``alpha[s, v]`` and ``rate[s, v]`` are its head outputs for candidate
    ``v``.
    """

    alpha: np.ndarray
    rate: np.ndarray
    source: str = "fitted"


def fit_predictor(model, *, stop_cv=0.05, distortion=0.0, likelihood="continuous", rem=None,
                  untrained_tokens=()):
    """S3: fit a Gamma over ``log(L + 1)`` to every candidate's exact law.

    For each state and non-ending candidate the Gamma is the maximum
    likelihood fit to the exact law of ``L`` (the population limit of a
    predictor trained on unlimited traces; :func:`theory.gamma.fit_gamma`
    with the law's probabilities as weights). ``L = 1`` for the end token is
    a point mass that no Gamma fits; it gets a Gamma with mean ``log 2`` and
    coefficient of variation ``stop_cv`` (project choice: the reference code's
    end token is trained on ``y = log 2`` only, section 2.6).

    Parameters
    ----------
    model : ToyLM
    stop_cv : float
        Coefficient of variation of the end token's Gamma, in (0, 1).
    distortion : float
        Misspecification knob: every continuing candidate's rate is multiplied
        by ``exp(-distortion)``, i.e. predicted log-lengths are stretched by
        ``exp(distortion)`` (``> 0`` predicts longer, ``< 0`` shorter).
    likelihood : {"continuous", "discrete"}
        Fitted likelihood (spec A9).
    untrained_tokens : sequence of str
        S4: candidates given the untrained head values ``alpha = rate = log 2``.
    """
    stop_cv = check_real("stop_cv", stop_cv, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    distortion = check_real("distortion", distortion, lo=-5.0, hi=5.0)
    likelihood = check_choice("likelihood", likelihood, ("continuous", "discrete"))
    cand = candidate_length_pmf(model, rem)
    S, V = model.probs.shape
    alpha = np.full((S, V), np.nan)
    rate = np.full((S, V), np.nan)
    a_stop = 1.0 / stop_cv ** 2
    alpha[:, model.end] = a_stop
    rate[:, model.end] = a_stop / LOG2
    lengths = np.arange(1, cand.shape[2] + 1)
    cache = {}
    for s in range(S):
        for v in range(V):
            if v == model.end or model.probs[s, v] <= 0.0:
                continue
            key = model.next_state[s, v]
            if key not in cache:
                w = cand[s, v]
                keep = w > 1e-15
                fit = th.fit_gamma(lengths[keep], weights=w[keep], likelihood=likelihood)
                cache[key] = (fit.alpha, fit.rate)
            alpha[s, v], rate[s, v] = cache[key]
    # Candidates the model never emits in a state still need finite head values.
    fill = np.isnan(alpha)
    alpha[fill], rate[fill] = LOG2, LOG2
    cont = np.arange(V) != model.end
    rate[:, cont] = rate[:, cont] * math.exp(-distortion)
    pred = GammaPredictor(alpha, rate, source=f"fitted ({likelihood})")
    if untrained_tokens:
        pred = untrained(model, pred, untrained_tokens)
    return pred


def untrained(model, predictor, tokens):
    """S4: ``predictor`` with the head values of ``tokens`` set to ``log 2`` (spec 2.1).

    Rows of an untrained head give pre-activations near 0, hence
    ``alpha = rate = softplus(0) = log 2``.
    """
    idx = []
    for t in tokens:
        if t not in model.tokens:
            raise ValueError(f"untrained must name tokens of the model {model.tokens}, got {t!r}")
        idx.append(model.tokens.index(t))
    alpha = predictor.alpha.copy()
    rate = predictor.rate.copy()
    alpha[:, idx] = LOG2
    rate[:, idx] = LOG2
    return GammaPredictor(alpha, rate, source=predictor.source + f", untrained {list(tokens)}")


# ----------------------------------------------------------------------------
# Decoding rules and their transition tables
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Method:
    """One decoding rule for the thinking segment.

    Parameters
    ----------
    name : str
    kind : {"unguided", "forcing", "guided"}
        ``forcing`` is hard truncation (budget forcing, s1): the end token is
        forced when ``budget - 1`` tokens have been generated, so the segment
        never exceeds the budget.
    predictor : {"oracle", "gamma"} or None
        Source of the guidance weights (guided only).
    trigger : {"every_token", "newline"}
        Where guidance acts (spec A2): every token, or only where the next
        token starts a line (reference code).
    mode : {"bayes", "faithful"}
        Guidance arithmetic of :func:`theory.gamma.guide`: pure Bayes (log
        space, no mask) or faithful (linear space, validity mask, one-hot
        fallback). The oracle has no head values to mask and always uses
        Bayes' rule.
    strength : float
        Exponent ``gamma >= 0`` on the weights (spec 2.4).
    rate_min, alpha_min, mode_min : float
        Thresholds of the faithful validity mask (spec 2.3, A3; the code's
        10, 1 and 0.9).
    """

    name: str
    kind: str = "guided"
    predictor: str | None = "oracle"
    trigger: str = "every_token"
    mode: str = "bayes"
    strength: float = 1.0
    rate_min: float = 10.0
    alpha_min: float = 1.0
    mode_min: float = 0.9

    @property
    def mask(self):
        """Keyword arguments of the validity mask."""
        return dict(rate_min=self.rate_min, alpha_min=self.alpha_min, mode_min=self.mode_min)

    def __post_init__(self):
        check_choice("kind", self.kind, KINDS)
        check_choice("trigger", self.trigger, TRIGGERS)
        check_choice("mode", self.mode, th.MODES)
        check_real("strength", self.strength, lo=0.0)
        if self.kind == "guided":
            check_choice("predictor", self.predictor, PREDICTORS)


def default_methods(model):
    """The comparison of the command line: baselines, oracle and Gamma guidance."""
    out = [Method("unguided", kind="unguided", predictor=None),
           Method("budget forcing", kind="forcing", predictor=None),
           Method("oracle, every token", predictor="oracle", trigger="every_token")]
    gated = not np.all(model.line_start)
    if gated:
        out.append(Method("oracle, newline", predictor="oracle", trigger="newline"))
    trig = "newline" if gated else "every_token"
    out.append(Method(f"gamma, {'newline' if gated else 'every token'}", predictor="gamma",
                      trigger=trig, mode="bayes"))
    out.append(Method(f"gamma faithful, {'newline' if gated else 'every token'}",
                      predictor="gamma", trigger=trig, mode="faithful"))
    return out


def _base_logits(model):
    with np.errstate(divide="ignore"):
        return np.log(model.probs)


def _guided_rows(model, method, budgets, predictor, oracle=None):
    """Guided rows ``q[b, s, :]`` and fallback flags ``fell[b, s]`` for ``b`` in ``budgets``."""
    budgets = np.asarray(budgets, dtype=np.int64)
    S, V = model.probs.shape
    if method.predictor == "oracle":
        a = oracle_weights(model, budgets) if oracle is None else oracle
        with np.errstate(divide="ignore"):
            loga = np.log(a) * method.strength if method.strength > 0 else np.where(a > 0, 0.0,
                                                                                    -np.inf)
        logp = _base_logits(model)[None]
        lognum = logp + loga
        with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
            from scipy.special import logsumexp
            tot = logsumexp(lognum, axis=-1, keepdims=True)
            fell = np.isneginf(tot)[..., 0]
            q = np.exp(lognum - np.where(fell[..., None], 0.0, tot))
        q = np.where(fell[..., None], model.probs[None], q)
        return q, fell
    logits = np.broadcast_to(_base_logits(model)[None], (budgets.size, S, V))
    b = np.broadcast_to(budgets[:, None], (budgets.size, S)).astype(np.float64)
    q, fell = th.guide(logits, predictor.alpha[None], predictor.rate[None], b, mode=method.mode,
                       strength=method.strength, return_fallback=True, **method.mask)
    return q, np.asarray(fell)


def _masked_mass(model, method, predictor):
    if method.kind != "guided" or method.predictor != "gamma" or method.mode != "faithful":
        return np.zeros(model.n_states)
    keep = th.validity_mask(predictor.alpha, predictor.rate, **method.mask)
    return (model.probs * ~keep).sum(axis=1)


@dataclass(frozen=True, eq=False)
class Table:
    """Transition rows of a decoding rule: ``rows[i, s, :]`` is the next-token law at
    remaining budget ``b = i`` (``i = 1..budget``; row 0 unused) in state ``s``;
    ``guided[i, s]`` and ``fell[i, s]`` mark guided steps and fallbacks;
    ``force_end`` is true for hard truncation."""

    rows: np.ndarray
    guided: np.ndarray
    fell: np.ndarray
    masked: np.ndarray
    force_end: bool
    budget: int


def guided_table(model, method, budget, predictor=None, rem=None):
    """Next-token law of ``method`` at every remaining budget ``b = 1..budget`` and state.

    Parameters
    ----------
    model : ToyLM
    method : Method
    budget : int
        Thinking budget ``lbar >= 1``; the remaining budget is
        ``b_t = max(lbar - t, 1)`` (spec 2.5).
    predictor : GammaPredictor or None
        Needed for ``predictor="gamma"`` methods.
    rem : ndarray or None
        Precomputed :func:`remaining_length_pmf`.

    Returns
    -------
    Table
    """
    budget = check_int("budget", budget, 1)
    S, V = model.probs.shape
    budgets = np.arange(0, budget + 1)
    budgets[0] = 1
    rows = np.broadcast_to(model.probs, (budget + 1, S, V)).copy()
    guided = np.zeros((budget + 1, S), dtype=bool)
    fell = np.zeros((budget + 1, S), dtype=bool)
    if method.kind == "guided":
        if method.predictor == "gamma" and predictor is None:
            raise ValueError("a gamma method needs a predictor (see fit_predictor)")
        gate = np.ones(S, dtype=bool) if method.trigger == "every_token" else model.line_start
        oracle = oracle_weights(model, budgets, rem) if method.predictor == "oracle" else None
        q, f = _guided_rows(model, method, budgets, predictor, oracle)
        rows = np.where(gate[None, :, None], q, rows)
        guided[:] = gate[None, :]
        fell = f & gate[None, :]
    masked = _masked_mass(model, method, predictor)
    return Table(rows, guided, fell, masked, method.kind == "forcing", budget)


def _step_rows(table, t):
    """Row index for step ``t`` (0-based): the remaining budget ``max(lbar - t, 1)``."""
    return max(table.budget - t, 1)


# ----------------------------------------------------------------------------
# Exact law by forward dynamic programming
# ----------------------------------------------------------------------------

def exact_law(model, table, max_tokens=None, tol=1e-14):
    """Exact law of the thinking length ``T`` under a decoding rule (forward DP).

    ``pi_t(s)`` is the probability of being in state ``s`` after ``t`` tokens
    without having ended; ``Pr(T = t + 1) = sum_s pi_t(s) q_t(s, end)`` and
    ``pi_{t+1}(s') = sum_s pi_t(s) sum_{v != end, s'(v) = s'} q_t(s, v)``.
    Hard truncation emits the end token at ``t = lbar - 1``.

    Parameters
    ----------
    model : ToyLM
    table : Table
    max_tokens : int or None
        Generation cap (``max_gen_toks``); a run without the end token by then
        is a runaway. ``None``: ``20 * budget`` plus enough to drain the chain
        below ``tol``.

    Returns
    -------
    dict
        ``pmf`` (``pmf[k - 1] = Pr(T = k)``, ``k = 1..max_tokens``),
        ``runaway`` (mass without the end token by the cap), ``guided_steps``
        and ``fallbacks`` (expected counts per run), ``masked`` (expected
        base mass removed by the mask per guided step).
    """
    S, V = model.probs.shape
    cap = 200_000 if max_tokens is None else check_int("max_tokens", max_tokens, 1)
    floor = table.budget + 20 * table.budget if max_tokens is None else cap
    pi = np.zeros(S)
    pi[model.start] = 1.0
    nonend = [v for v in range(V) if v != model.end]
    ns = model.next_state
    pmf = []
    g_steps = 0.0
    falls = 0.0
    masked = 0.0
    t = 0
    while t < cap:
        if table.force_end and t >= table.budget - 1:
            pmf.append(pi.sum())
            pi = np.zeros(S)
            t += 1
            break
        i = _step_rows(table, t)
        q = table.rows[i]
        g = table.guided[i]
        g_steps += pi[g].sum()
        falls += pi[table.fell[i]].sum()
        masked += (pi * g * table.masked).sum()
        pmf.append(float(pi @ q[:, model.end]))
        new = np.zeros(S)
        for v in nonend:
            np.add.at(new, ns[:, v], pi * q[:, v])
        pi = new
        t += 1
        if max_tokens is None and t >= floor and pi.sum() < tol:
            break
    pmf = np.asarray(pmf)
    return dict(pmf=pmf, runaway=float(max(pi.sum(), 0.0)), guided_steps=g_steps,
                fallbacks=falls, masked=masked / g_steps if g_steps > 0 else 0.0)


def _quantile_from_pmf(pmf, q, offset=0):
    c = np.cumsum(pmf)
    return int(np.searchsorted(c, q * c[-1] - 1e-12) + 1 + offset) if c[-1] > 0 else 0


def law_summary(pmf, budget, runaway=0.0, reference=None):
    """Adherence, mean length, overshoot quantiles and distances of a length law.

    Parameters
    ----------
    pmf : ndarray
        ``pmf[k - 1] = Pr(T = k)``.
    budget : int
    runaway : float
        Mass without an end by the cap (counted as over budget).
    reference : ndarray or None
        The base law; then ``tv`` (total variation) and ``kl`` (KL of the base
        law conditioned on ``T <= budget`` from ``pmf``: finite whenever
        ``pmf`` covers ``1..budget``) are added.

    Returns
    -------
    dict
    """
    pmf = np.asarray(pmf, dtype=np.float64)
    k = np.arange(1, pmf.size + 1)
    done = pmf.sum()
    adherence = float(pmf[:budget].sum())
    mean = float((k * pmf).sum() / done) if done > 0 else float("nan")
    over = np.maximum(k - budget, 0)
    # Overshoot quantiles over all runs; runaways count as the largest overshoot.
    ov_pmf = np.bincount(over, weights=pmf, minlength=1)
    if runaway > 0:
        ov_pmf = np.append(ov_pmf, runaway)
    cum = np.cumsum(ov_pmf) / ov_pmf.sum()
    out = dict(adherence=adherence, mean_length=mean,
               overshoot_p90=int(np.searchsorted(cum, 0.9 - 1e-12)),
               overshoot_p99=int(np.searchsorted(cum, 0.99 - 1e-12)),
               overshoot_max=int(np.nonzero(ov_pmf > 1e-15)[0].max()), runaway=runaway)
    if reference is not None:
        ref = np.zeros(max(reference.size, pmf.size))
        ref[:reference.size] = reference
        ref[budget:] = 0.0
        ref = ref / ref.sum()
        g = np.zeros_like(ref)
        g[:pmf.size] = pmf
        out["tv"] = 0.5 * float(np.abs(g - ref).sum() + runaway)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(ref > 0, ref * (np.log(ref) - np.log(g)), 0.0)
        out["kl"] = max(float(terms.sum()), 0.0)
    return out


# ----------------------------------------------------------------------------
# Monte Carlo
# ----------------------------------------------------------------------------

@njit(inline="always")
def _u01(key, ctr):
    z = _finalize(_weyl(key, ctr))
    return (z >> np.uint64(11)) * _INV53


_weyl = njit(inline="always")(_rng.weyl)
_finalize = njit(inline="always")(_rng.finalize)


def _cumulative(rows):
    c = np.cumsum(rows, axis=-1)
    c[..., -1] = np.inf           # inversion never runs off the end through rounding
    return c


@njit(cache=True, parallel=True)
def _mc_kernel(cum, guided, fell, next_state, start, end, budget, force_end, max_tokens,
               key, trials, lengths, n_guided, n_fall, picks):
    V = cum.shape[2]
    for i in prange(trials):
        s = start
        t = 0
        g = 0
        f = 0
        T = max_tokens + 1
        base = np.uint64(i) * np.uint64(max_tokens)
        while t < max_tokens:
            if force_end and t >= budget - 1:
                T = t + 1
                break
            r = budget - t
            if r < 1:
                r = 1
            u = _u01(key, base + np.uint64(t))
            v = 0
            while v < V - 1 and u >= cum[r, s, v]:
                v += 1
            if guided[r, s]:
                g += 1
                picks[i, v] += 1
                if fell[r, s]:
                    f += 1
            t += 1
            if v == end:
                T = t
                break
            s = next_state[s, v]
        lengths[i] = T
        n_guided[i] = g
        n_fall[i] = f


def _mc_numba(model, table, trials, key, max_tokens):
    cum = _cumulative(table.rows)
    lengths = np.empty(trials, dtype=np.int64)
    n_guided = np.empty(trials, dtype=np.int64)
    n_fall = np.empty(trials, dtype=np.int64)
    picks = np.zeros((trials, model.n_tokens), dtype=np.int64)
    _mc_kernel(cum, table.guided, table.fell, model.next_state, model.start, model.end,
               table.budget, table.force_end, max_tokens, key, trials, lengths, n_guided,
               n_fall, picks)
    return lengths, n_guided, n_fall, picks.sum(axis=0)


def _mc_numpy(model, method, table, predictor, trials, key, max_tokens):
    """The decoder written out: the guidance operator is recomputed for each active run."""
    S, V = model.probs.shape
    logits = _base_logits(model)
    state = np.full(trials, model.start, dtype=np.int64)
    lengths = np.full(trials, max_tokens + 1, dtype=np.int64)
    n_guided = np.zeros(trials, dtype=np.int64)
    n_fall = np.zeros(trials, dtype=np.int64)
    picks = np.zeros(V, dtype=np.int64)
    active = np.arange(trials)
    rem = remaining_length_pmf(model) if method.predictor == "oracle" else None
    gate = (np.ones(S, dtype=bool) if method.trigger == "every_token" else model.line_start)
    base = active.astype(np.uint64) * np.uint64(max_tokens)
    for t in range(max_tokens):
        if active.size == 0:
            break
        if method.kind == "forcing" and t >= table.budget - 1:
            lengths[active] = t + 1
            break
        b = max(table.budget - t, 1)
        s = state[active]
        probs = model.probs[s]
        g = np.zeros(active.size, dtype=bool)
        if method.kind == "guided":
            g = gate[s]
            if np.any(g):
                sg = s[g]
                if method.predictor == "oracle":
                    a = oracle_weights(model, [b], rem)[0][sg]
                    q, fell = _reweight_bayes(probs[g], a, method.strength)
                else:
                    q, fell = th.guide(logits[sg], predictor.alpha[sg], predictor.rate[sg],
                                       np.full(sg.size, float(b)), mode=method.mode,
                                       strength=method.strength, return_fallback=True,
                                       **method.mask)
                probs = probs.copy()
                probs[g] = q
                n_fall[active[g]] += fell
                n_guided[active[g]] += 1
        u = (_rng.splitmix64(key, base[active] + np.uint64(t)) >> np.uint64(11)) * _INV53
        cum = _cumulative(probs)
        v = (u[:, None] >= cum).sum(axis=1)
        v = np.minimum(v, V - 1)
        if np.any(g):
            picks += np.bincount(v[g], minlength=V)
        ended = v == model.end
        lengths[active[ended]] = t + 1
        state[active] = model.next_state[s, v]
        active = active[~ended]
    return lengths, n_guided, n_fall, picks


def _reweight_bayes(p, a, strength):
    with np.errstate(divide="ignore", invalid="ignore"):
        w = p * (a ** strength if strength > 0 else (a > 0).astype(float))
        tot = w.sum(axis=1, keepdims=True)
        fell = tot[:, 0] <= 0
        q = np.where(fell[:, None], p, w / np.where(tot > 0, tot, 1.0))
    return q, fell


def simulate(model, method, budget, trials=20_000, seed=0, backend="auto", predictor=None,
             max_tokens=None, table=None):
    """Monte Carlo of one decoding rule: thinking lengths and guidance counts.

    Parameters
    ----------
    model : ToyLM
    method : Method
    budget : int
        Thinking budget ``lbar >= 1``.
    trials : int
        Runs (``>= 1``).
    seed : int
    backend : {"numpy", "numba", "cupy", "auto"}
        ``numpy`` runs the decoder literally; ``numba`` and ``cupy`` sample the
        precomputed rows of :func:`guided_table`. The same seed realises the
        same runs on every backend.
    predictor : GammaPredictor or None
    max_tokens : int or None
        Generation cap; default ``20 * budget + 1000``. Runs without an end by
        then are runaways (length reported as ``max_tokens + 1``).

    Returns
    -------
    dict
        ``lengths`` (int array), ``guided_steps``, ``fallbacks`` (per-run
        arrays), ``picks`` (tokens chosen at guided steps, summed),
        ``backend``.
    """
    budget = check_int("budget", budget, 1)
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    max_tokens = 20 * budget + 1000 if max_tokens is None else check_int("max_tokens",
                                                                          max_tokens, 1)
    backend = resolve_backend(backend)
    if table is None:
        table = guided_table(model, method, budget, predictor)
    key = _rng.stream_key(seed, "gamma-decode")
    if backend == "numpy":
        out = _mc_numpy(model, method, table, predictor, trials, key, max_tokens)
    elif backend == "numba":
        out = _mc_numba(model, table, trials, key, max_tokens)
    else:
        from gpu.gamma import simulate_xp
        out = simulate_xp(model, table, trials, key, max_tokens)
    lengths, g, f, picks = out
    return dict(lengths=lengths, guided_steps=g, fallbacks=f, picks=picks, backend=backend,
                max_tokens=max_tokens)


def _sim_summary(lengths, budget, max_tokens):
    lengths = np.asarray(lengths)
    n = lengths.size
    fin = lengths <= max_tokens
    ok = lengths <= budget
    adh = ok.mean()
    over = np.maximum(lengths - budget, 0)
    return dict(adherence=float(adh), adherence_se=float(math.sqrt(max(adh * (1 - adh), 0) / n)),
                mean_length=float(lengths[fin].mean()) if fin.any() else float("nan"),
                mean_length_se=float(lengths[fin].std(ddof=1) / math.sqrt(fin.sum()))
                if fin.sum() > 1 else float("nan"),
                overshoot_p90=int(np.quantile(over, 0.9, method="inverted_cdf")),
                overshoot_p99=int(np.quantile(over, 0.99, method="inverted_cdf")),
                overshoot_max=int(over.max()), runaway=float((~fin).mean()))


def compare(model, budget, methods=None, predictor=None, trials=20_000, seed=0, backend="auto",
            max_tokens=None, progress=None):
    """Exact and simulated behaviour of several decoding rules on one toy model.

    Returns
    -------
    pandas.DataFrame
        One row per method: exact (``*_exact``) and simulated (``*_sim``)
        adherence ``Pr(T <= budget)``, mean length, overshoot quantiles,
        runaway rate, ``tv`` and ``kl`` to the base law conditioned on
        ``T <= budget``, guided steps and fallbacks per run (exact
        expectation and simulated mean), masked mass, and provenance columns.
    """
    budget = check_int("budget", budget, 1)
    methods = default_methods(model) if methods is None else methods
    if predictor is None and any(m.predictor == "gamma" for m in methods if m.kind == "guided"):
        predictor = fit_predictor(model)
    rem = remaining_length_pmf(model)
    max_tokens = 20 * budget + 1000 if max_tokens is None else max_tokens
    base = exact_law(model, guided_table(model, Method("u", kind="unguided", predictor=None),
                                         budget), max_tokens)
    rows = []
    laws = {}
    for m in methods:
        table = guided_table(model, m, budget, predictor, rem)
        ex = exact_law(model, table, max_tokens)
        es = law_summary(ex["pmf"], budget, ex["runaway"], reference=base["pmf"])
        sim = simulate(model, m, budget, trials, seed, backend, predictor, max_tokens, table=table)
        ss = _sim_summary(sim["lengths"], budget, max_tokens)
        laws[m.name] = (ex["pmf"], sim["lengths"])
        row = dict(name=m.name, kind=m.kind, predictor=m.predictor, trigger=m.trigger,
                   mode=m.mode, strength=m.strength)
        row.update({f"{k}_exact": v for k, v in es.items()})
        row.update({f"{k}_sim": v for k, v in ss.items()})
        row.update(guided_steps_exact=ex["guided_steps"],
                   guided_steps_sim=float(sim["guided_steps"].mean()),
                   fallbacks_exact=ex["fallbacks"], fallbacks_sim=float(sim["fallbacks"].mean()),
                   masked_mass=ex["masked"])
        rows.append(row)
        if progress:
            progress()
    df = pd.DataFrame(rows)
    df["model"] = model.name
    df["budget"] = budget
    df["trials"] = trials
    _cli.add_provenance(df, seed, sim["backend"])
    df.attrs["laws"] = laws
    df.attrs["base"] = base["pmf"]
    return df


# ----------------------------------------------------------------------------
# The vocabulary-wide guidance operator on the CPU (Numba)
# ----------------------------------------------------------------------------

_GAMMAINC = None


def _gammainc_c():
    """SciPy's compiled ``gammainc(a, x)`` as a C function callable from Numba."""
    global _GAMMAINC
    if _GAMMAINC is None:
        import ctypes

        from numba.extending import get_cython_function_address

        addr = get_cython_function_address("scipy.special.cython_special", "gammainc")
        _GAMMAINC = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double, ctypes.c_double)(addr)
    return _GAMMAINC


_GUIDE_KERNEL = None


def _guide_kernel():
    # Compiled on first use and not cached on disk: it calls SciPy's gammainc through a
    # function address that is only valid in this process.
    global _GUIDE_KERNEL
    if _GUIDE_KERNEL is not None:
        return _GUIDE_KERNEL
    cgammainc = _gammainc_c()

    @njit(parallel=True)
    def kernel(z, alpha, rate, y, bayes, strength, rate_min, alpha_min, mode_min, out, fell):
        B, V = z.shape
        for r in range(B):
            for v in prange(V):
                a = alpha[r, v]
                lam = rate[r, v]
                x = lam * y[r]
                p = cgammainc(a, x)
                if bayes:
                    if strength == 0.0:
                        out[r, v] = z[r, v]
                    elif p > 0.0:
                        out[r, v] = z[r, v] + strength * math.log(p)
                    else:  # first term of the power series of P(a, x): finite log
                        out[r, v] = z[r, v] + strength * (a * math.log(x) - x
                                                          - math.lgamma(a + 1.0))
                else:
                    keep = (lam >= rate_min) and (a > alpha_min) and \
                        (math.exp((a - 1.0) / lam) - 1.0 >= mode_min)
                    w = min(max(p, 0.0), 1.0)
                    out[r, v] = (w ** strength if strength > 0.0 else 1.0) if keep else 0.0
            zmax = -np.inf
            for v in range(V):
                zmax = max(zmax, z[r, v])
            if bayes:
                m = -np.inf
                for v in range(V):
                    m = max(m, out[r, v])
                fell[r] = not (m > -np.inf)
                base = zmax if fell[r] else m
                src = z if fell[r] else out
                tot = 0.0
                for v in range(V):
                    e = math.exp(src[r, v] - base)
                    out[r, v] = e
                    tot += e
                for v in range(V):
                    out[r, v] /= tot
            else:
                tot_p = 0.0
                for v in range(V):
                    tot_p += math.exp(z[r, v] - zmax)
                tot = 0.0
                for v in range(V):
                    out[r, v] = math.exp(z[r, v] - zmax) / tot_p * out[r, v]
                    tot += out[r, v]
                fell[r] = not (tot > 0.0)
                if fell[r]:
                    best = 0
                    for v in range(V):
                        out[r, v] = 0.0
                        if z[r, v] > z[r, best]:
                            best = v
                    out[r, best] = 1.0
                else:
                    for v in range(V):
                        out[r, v] /= tot

    _GUIDE_KERNEL = kernel
    return kernel


def guide_numba(logits, alpha, rate, budget, *, mode="bayes", strength=1.0, offset=1.0,
                rate_min=10.0, alpha_min=1.0, mode_min=0.9, return_fallback=False):
    """:func:`theory.gamma.guide` as one compiled pass over the vocabulary (spec 2.3, 3.3).

    The incomplete gamma function is SciPy's own compiled routine, called from a
    Numba kernel that evaluates the candidates in parallel and fuses the
    softmax, the weights and the normalisation. ``mode="bayes"`` works in log
    space (tail-safe log weight from the first term of the power series where
    ``gammainc`` underflows; a row without positive weight falls back to
    ``softmax(logits)``); ``mode="faithful"`` is the reference code's linear
    space with the validity mask and the one-hot fallback. ``logits``,
    ``alpha`` and ``rate`` are ``[V]`` or ``[B, V]`` (broadcast to the logits'
    shape); ``budget`` is a scalar or one per row. Inputs are validated as in
    :func:`theory.gamma.guide`.

    Returns
    -------
    q : ndarray, the shape of ``logits``; with ``return_fallback`` also the
    per-row fallback flags.
    """
    mode = check_choice("mode", mode, th.MODES)
    strength = check_real("strength", strength, lo=0.0)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape [V] or [B, V] with V >= 1, got {z.shape}")
    one = z.ndim == 1
    z2 = np.ascontiguousarray(np.atleast_2d(z))
    al = np.ascontiguousarray(np.broadcast_to(np.asarray(alpha, dtype=np.float64), z2.shape))
    ra = np.ascontiguousarray(np.broadcast_to(np.asarray(rate, dtype=np.float64), z2.shape))
    if not (np.all(al > 0) and np.all(ra > 0) and np.all(np.isfinite(al))
            and np.all(np.isfinite(ra))):
        raise ValueError("alpha and rate must be finite and > 0")
    b = np.broadcast_to(np.asarray(budget, dtype=np.float64), (z2.shape[0],))
    if np.any(~(b >= 1.0)):
        raise ValueError(f"budget must be >= 1, got {b.min():g}")
    if np.any(np.all(np.isneginf(z2), axis=1)) or np.any(np.isnan(z2)):
        raise ValueError("logits must have a finite entry in every row and no NaN")
    y = np.log(b + offset)
    out = np.empty_like(z2)
    fell = np.zeros(z2.shape[0], dtype=np.bool_)
    _guide_kernel()(z2, al, ra, y, mode == "bayes", strength, float(rate_min), float(alpha_min),
                    float(mode_min), out, fell)
    q = out[0] if one else out
    if return_fallback:
        return q, (bool(fell[0]) if one else fell)
    return q


# ----------------------------------------------------------------------------
# Fitting observed lengths
# ----------------------------------------------------------------------------

def load_lengths(path):
    """Remaining lengths from column ``length`` of a CSV or Parquet file.

    Raises a one-line ``ValueError`` for an unknown format, a missing column,
    an empty column, or values that are not integers ``>= 1``.
    """
    path = str(path)
    try:
        if path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        elif path.endswith((".csv", ".txt")):
            df = pd.read_csv(path)
        else:
            raise ValueError(f"fit file must be .csv or .parquet, got {path!r}")
    except FileNotFoundError:
        raise ValueError(f"fit file not found: {path}")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        if isinstance(exc, pd.errors.EmptyDataError):
            raise ValueError(f"fit file {path} is empty")
        raise ValueError(f"fit file {path} could not be read: {str(exc).splitlines()[0]}")
    except Exception as exc:  # pyarrow raises its own types for malformed Parquet
        raise ValueError(f"fit file {path} could not be read: {str(exc).splitlines()[0]}")
    if "length" not in df.columns:
        raise ValueError(f"fit file {path} needs a column 'length', has {list(df.columns)}")
    x = pd.to_numeric(df["length"], errors="coerce").to_numpy(dtype=np.float64)
    if x.size == 0:
        raise ValueError(f"fit file {path} has no lengths")
    if np.any(~np.isfinite(x)) or np.any(x < 1) or np.any(x != np.round(x)):
        bad = x[~(np.isfinite(x) & (x >= 1) & (x == np.round(x)))][0]
        raise ValueError(f"length must be integers >= 1, got {bad:g}")
    return x.astype(np.int64)


def fit_report(lengths, budgets=None, seed=0, alpha=None, rate=None):
    """Fit a Gamma over ``log(L + 1)`` to observed lengths and measure its calibration.

    With ``alpha`` and ``rate`` given, nothing is fitted: the report measures
    how well that Gamma law (e.g. a predictor's) describes the lengths.

    Returns
    -------
    dict
        ``alpha``, ``rate``, ``nll`` (mean continuous NLL per observation),
        ``nll_discrete``, ``n``, the median/mode/mean of the fitted length law,
        the randomised-PIT KS statistic and p-value, central-interval coverage
        at 50% and 90%, and event reliability (ECE, Brier) at ``budgets``
        (default: the 25/50/75% sample quantiles).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if (alpha is None) != (rate is None):
        raise ValueError("alpha and rate must be given together")
    if alpha is None:
        fit = th.fit_gamma(lengths)
        a, r, nll = fit.alpha, fit.rate, fit.nll
    else:
        a = check_real("alpha", alpha, lo=0.0, lo_open=True)
        r = check_real("rate", rate, lo=0.0, lo_open=True)
        nll = float(np.mean(th.nll(np.log(lengths + 1.0), a, r)))
    if budgets is None:
        budgets = sorted(set(int(x) for x in np.quantile(lengths, [0.25, 0.5, 0.75])))
    u = th.randomized_pit(lengths, a, r, seed=seed)
    ks = th.pit_uniformity(u)
    cov = th.interval_coverage(lengths, a, r, levels=(0.5, 0.9))
    rel = th.event_reliability(lengths, a, r, budgets)
    out = dict(alpha=float(a), rate=float(r), nll=nll, fitted=alpha is None,
               nll_discrete=float(np.mean(th.discrete_nll(lengths, a, r))), n=int(lengths.size),
               median=float(th.length_median(a, r)), mode=float(th.length_mode(a, r)),
               mean=float(th.length_mean(a, r)), pit=u, pit_ks=ks, coverage=cov,
               reliability=rel)
    return out


# ----------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------

def plot_comparison(path, df, model, budget, pit=None):
    """Length histograms (Monte Carlo) against the exact laws, and a PIT histogram.

    One panel per method (bars: simulated lengths; line: exact pmf; dashed: the
    budget), plus the randomised PIT of the fitted Gamma predictor on
    base-model paragraph starts when ``pit`` is given.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    laws = df.attrs["laws"]
    n = len(laws) + (pit is not None)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    top = int(min(4 * budget, max(np.quantile(np.concatenate([l for _, l in laws.values()]),
                                              0.995), budget + 10)))
    edges = np.arange(0.5, top + 1.5, max(1, top // 60), dtype=float)
    for ax, (name, (pmf, lengths)) in zip(axes.flat, laws.items()):
        width = np.diff(edges)
        sim_counts = np.histogram(lengths, bins=edges)[0]
        ax.bar(edges[:-1], sim_counts / (lengths.size * width), width=width, align="edge",
               color="#9ecae1", label="simulated")
        cum = np.concatenate([[0.0], np.cumsum(pmf)])
        lo = np.clip(np.ceil(edges).astype(int) - 1, 0, pmf.size)
        mass = cum[np.clip(lo[1:], 0, pmf.size)] - cum[lo[:-1]]
        ax.stairs(mass / width, edges, color="#08519c", lw=1.2, label="exact (DP)")
        ax.axvline(budget + 0.5, color="#cb181d", ls="--", lw=1, label="budget")
        r = df[df.name == name].iloc[0]
        ax.set_title(f"{name}\nP(T<=b)={r.adherence_exact:.3f}, mean {r.mean_length_exact:.0f}",
                     fontsize=9)
        ax.set_xlabel(f"thinking length T (bins of {int(width[0])})")
        ax.set_ylim(0, None)
    axes.flat[0].legend(fontsize=7)
    if pit is not None:
        ax = axes.flat[len(laws)]
        ax.hist(pit, bins=20, range=(0, 1), density=True, color="#a1d99b")
        ax.axhline(1.0, color="k", lw=1)
        ax.set_title("randomised PIT of the fitted Gamma\n(uniform = calibrated)", fontsize=9)
        ax.set_xlabel("u")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(f"budget guidance on the {model.name} toy model, budget {budget}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_fit(path, lengths, rep):
    """Histogram of observed lengths against the fitted discrete law, and the PIT histogram."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    top = int(np.quantile(lengths, 0.995)) + 1
    edges = np.unique(np.geomspace(1, top + 1, 40).astype(int)).astype(float) - 0.5
    a1.hist(lengths, bins=edges, density=True, color="#9ecae1", label="observed")
    k = np.arange(1, top + 1)
    pmf = th.length_pmf(k, rep["alpha"], rep["rate"])
    a1.plot(k, pmf, color="#08519c", label=f"Gamma fit: alpha={rep['alpha']:.3g}, "
                                           f"rate={rep['rate']:.3g}")
    a1.set_xscale("log")
    a1.set_xlabel("remaining length L")
    a1.legend(fontsize=7)
    a2.hist(rep["pit"], bins=20, range=(0, 1), density=True, color="#a1d99b")
    a2.axhline(1.0, color="k", lw=1)
    a2.set_title("randomised PIT", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def predictor_pit(model, predictor, samples=20_000, seed=0, rem=None):
    """Randomised PIT of a Gamma predictor on the base model's guided points.

    Draws (state, candidate) pairs in proportion to their expected number of
    visits at line starts under the base model, then the candidate's exact
    remaining length, and returns ``u`` of :func:`theory.gamma.randomized_pit`
    (uniform when the predictor is calibrated).
    """
    rem = remaining_length_pmf(model) if rem is None else rem
    S, V = model.probs.shape
    # Expected visits of each state: sum_t pi_t = e_start (I - M)^-1.
    visits = np.linalg.solve((np.eye(S) - model.transition()).T, np.eye(S)[model.start])
    w = np.clip(visits, 0, None)[:, None] * model.probs * model.line_start[:, None]
    w = w.ravel() / w.sum()
    gen = _rng.generator(seed, "gamma-pit")
    idx = gen.choice(w.size, size=samples, p=w)
    s, v = np.divmod(idx, V)
    lengths = np.ones(samples, dtype=np.int64)
    cont = v != model.end
    cdf = np.cumsum(rem, axis=1)
    u = gen.random(samples)
    nxt = model.next_state[s[cont], v[cont]]
    lengths[cont] = 1 + 1 + np.array([np.searchsorted(cdf[n], x) for n, x in
                                      zip(nxt, u[cont])])
    return th.randomized_pit(lengths, predictor.alpha[s, v], predictor.rate[s, v], seed=seed)


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------

def _build_parser():
    p = _cli.ArgumentParser(
        prog="python -m sim.gamma",
        description="Budget guidance on toy language models with exact length laws: unguided "
                    "decoding, hard truncation, and guidance by the exact oracle or a fitted "
                    "Gamma predictor over log(L+1), each by dynamic programming and Monte Carlo "
                    "(Li et al., arXiv 2506.13752). --fit FILE fits a Gamma to observed lengths.")
    p.add_argument("--budget", type=int, default=150, help="thinking budget in tokens (default 150)")
    p.add_argument("--model", default="paragraph", help="geometric | paragraph (default paragraph)")
    g = p.add_argument_group("toy models (project defaults)")
    g.add_argument("--h", type=float, default=0.01,
                   help="geometric: stop probability per token (default 0.01)")
    g.add_argument("--p-wait", type=float, default=0.25, help="paragraph: P(Wait) (default 0.25)")
    g.add_argument("--p-end", type=float, default=0.01,
                   help="paragraph: P(</think>) with paragraphs still planned (default 0.01)")
    g.add_argument("--newline", type=float, default=0.12,
                   help="paragraph: newline probability per word (default 0.12)")
    g.add_argument("--max-paragraph", type=int, default=20,
                   help="paragraph: longest paragraph in tokens (default 20)")
    pr = p.add_argument_group("guidance")
    pr.add_argument("--strength", type=float, default=1.0,
                    help="exponent gamma on the guidance weights (default 1)")
    pr.add_argument("--distortion", type=float, default=0.0,
                    help="Gamma predictor misspecification: rates times exp(-x) (default 0)")
    pr.add_argument("--likelihood", default="continuous",
                    help="Gamma predictor fit: continuous | discrete (default continuous)")
    pr.add_argument("--rate-min", type=float, default=10.0,
                    help="faithful validity mask: smallest rate kept (default 10, the code's)")
    pr.add_argument("--untrained", default="",
                    help="comma-separated tokens given untrained heads alpha=rate=log 2 (S4)")
    pr.add_argument("--max-tokens", type=int, default=None,
                    help="generation cap; runs without </think> by then are runaways "
                         "(default 20*budget+1000)")
    p.add_argument("--fit", metavar="FILE",
                   help="fit a Gamma to remaining lengths (column 'length', CSV or Parquet) "
                        "and report calibration instead of the toy comparison")
    p.add_argument("--alpha", type=float, default=None,
                   help="with --fit: evaluate this shape (> 0) instead of fitting (needs --rate)")
    p.add_argument("--rate", type=float, default=None,
                   help="with --fit: evaluate this rate (> 0) instead of fitting (needs --alpha)")
    _cli.add_common_arguments(p, trials=20_000)
    return p


def _model_from_args(args):
    name = check_choice("model", args.model, ("geometric", "paragraph"))
    if name == "geometric":
        return geometric_model(args.h)
    return paragraph_model(p_wait=args.p_wait, p_end=args.p_end, newline=args.newline,
                           max_paragraph=args.max_paragraph)


def _fit_main(args, parser):
    try:
        check_int("seed", args.seed, 0)
        lengths = load_lengths(args.fit)
        if args.alpha is None and np.unique(lengths).size < 2:
            raise ValueError("length needs at least two distinct values to fit a Gamma")
        rep = fit_report(lengths, seed=args.seed, alpha=args.alpha, rate=args.rate)
        if args.plot:
            plot_fit(args.plot, lengths, rep)
    except (ValueError, TypeError, OSError) as exc:
        return _cli.fail(parser.prog, exc)
    ks = rep["pit_ks"]
    cov = rep["coverage"]
    rel = rep["reliability"].summary
    if args.json:
        payload = dict(alpha=rep["alpha"], rate=rep["rate"], nll=rep["nll"], n=rep["n"],
                       fitted=rep["fitted"],
                       nll_discrete=rep["nll_discrete"], median=rep["median"], mode=rep["mode"],
                       mean=rep["mean"],
                       pit=dict(ks_statistic=ks.ks_statistic, p_value=ks.p_value,
                                counts=ks.counts),
                       coverage=cov.to_dict(orient="records"),
                       reliability=rel.to_dict(orient="records"), file=args.fit,
                       version=_VERSION)
        print(json.dumps(_cli.jsonable(payload)))
        return 0
    print(f"budgetlab gamma fit  {args.fit}: n={rep['n']} lengths, "
          f"min {lengths.min()}, median {int(np.median(lengths))}, max {lengths.max()}")
    how = "fitted by maximum likelihood" if rep["fitted"] else "given (not fitted)"
    print(f"  Gamma over log(L+1), {how}: alpha={rep['alpha']:.6g}  rate={rep['rate']:.6g}")
    print(f"  mean NLL per length: continuous {rep['nll']:.4f} (density of log(L+1)), "
          f"discrete {rep['nll_discrete']:.4f} (Pr(L = l))")
    mean = "inf (rate <= 1)" if not np.isfinite(rep["mean"]) else f"{rep['mean']:.1f}"
    print(f"  length law: median {rep['median']:.1f}, mode {rep['mode']:.1f}, mean {mean}")
    print(f"  randomised PIT: KS {ks.ks_statistic:.4f} (p = {ks.p_value:.3g}); decile counts "
          f"{' '.join(str(int(c)) for c in ks.counts)} (expected {ks.expected:.0f} each)")
    for r in cov.itertuples():
        print(f"  central {100 * r.level:.0f}% interval covers {100 * r.coverage:.1f}% "
              f"(Wilson 95% [{100 * r.wilson_lo:.1f}, {100 * r.wilson_hi:.1f}]); randomised "
              f"{100 * r.coverage_randomized:.1f}% (z = {r.z:+.2f})")
    for r in rel.itertuples():
        print(f"  P(L <= {int(r.budget)}): predicted {r.mean_predicted:.3f}, observed "
              f"{r.observed:.3f}; ECE {r.ece:.4f}, Brier {r.brier:.4f}")
    return 0


def main(argv=None):
    """Run ``python -m sim.gamma``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.fit:
        return _fit_main(args, parser)
    if args.alpha is not None or args.rate is not None:
        return _cli.fail(parser.prog, ValueError("--alpha and --rate are used with --fit FILE"))
    try:
        budget = check_int("budget", args.budget, 1)
        check_int("trials", args.trials, 2)
        check_int("seed", args.seed, 0)
        if args.max_tokens is not None:
            check_int("max_tokens", args.max_tokens, budget)
        model = _model_from_args(args)
        backend = resolve_backend(args.backend)
        untrained_tokens = tuple(t.strip() for t in args.untrained.split(",") if t.strip())
        predictor = fit_predictor(model, distortion=args.distortion, likelihood=args.likelihood,
                                  untrained_tokens=untrained_tokens)
        strength = check_real("strength", args.strength, lo=0.0)
        rate_min = check_real("rate_min", args.rate_min, lo=0.0)
        methods = [replace(m, strength=strength, rate_min=rate_min)
                   if m.kind == "guided" else m for m in default_methods(model)]
        with _cli.progress_bar(not args.json, "decoding rules", len(methods)) as advance:
            df = compare(model, budget, methods, predictor, args.trials, args.seed, backend,
                         args.max_tokens, progress=advance)
        if args.plot:
            pit = predictor_pit(model, predictor, seed=args.seed)
            plot_comparison(args.plot, df, model, budget, pit)
    except (ValueError, TypeError, BackendUnavailable, OSError) as exc:
        return _cli.fail(parser.prog, exc)
    if args.json:
        methods_out = [dict(name=r.name, adherence_exact=r.adherence_exact,
                            adherence_sim=r.adherence_sim, adherence_se=r.adherence_se_sim,
                            mean_length=r.mean_length_sim, mean_length_exact=r.mean_length_exact,
                            overshoot_p90=r.overshoot_p90_sim,
                            overshoot_p90_exact=r.overshoot_p90_exact,
                            overshoot_p99=r.overshoot_p99_sim, runaway_exact=r.runaway_exact,
                            tv=r.tv_exact, kl=r.kl_exact, guided_steps=r.guided_steps_sim,
                            fallbacks=r.fallbacks_sim, fallbacks_exact=r.fallbacks_exact,
                            masked_mass=r.masked_mass)
                       for r in df.itertuples()]
        params = dict(model=model.name, **model.params, budget=budget, trials=args.trials,
                      seed=args.seed, backend=backend, strength=args.strength,
                      distortion=args.distortion, likelihood=args.likelihood,
                      rate_min=args.rate_min,
                      untrained=list(untrained_tokens), max_tokens=args.max_tokens)
        print(json.dumps(_cli.jsonable(dict(params=params, methods=methods_out,
                                            version=_VERSION))))
        return 0
    _report(model, df, args, backend, untrained_tokens)
    return 0


def _report(model, df, args, backend, untrained_tokens):
    from rich.console import Console
    from rich.table import Table as RTable

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 150))
    pars = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in model.params.items())
    base = df.attrs["base"]
    k = np.arange(1, base.size + 1)
    console.print(f"budgetlab gamma  model={model.name} ({pars})  budget={args.budget} "
                  f"runs={args.trials} seed={args.seed} backend={backend}", markup=False)
    console.print(f"  unguided thinking length: mean {(k * base).sum() / base.sum():.1f}, "
                  f"P(T <= budget) = {base[:args.budget].sum():.4f}; Gamma predictor fitted by "
                  f"{args.likelihood} MLE per (state, candidate)"
                  + (f", distortion {args.distortion:g}" if args.distortion else "")
                  + (f", untrained {list(untrained_tokens)}" if untrained_tokens else ""),
                  markup=False)
    t = RTable(title="decoding rules: exact (dynamic programming) vs simulated",
               title_justify="left")
    t.add_column("method", no_wrap=True)
    for col in ("P(T<=b) exact", "P(T<=b) sim", "E[T] exact", "E[T] sim", "over p90",
                "over max", "TV", "guided", "fallbacks", "masked"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in df.itertuples():
        t.add_row(r.name, f"{r.adherence_exact:.4f}",
                  f"{r.adherence_sim:.4f}±{r.adherence_se_sim:.4f}",
                  f"{r.mean_length_exact:.1f}", f"{r.mean_length_sim:.1f}",
                  f"{r.overshoot_p90_sim}", f"{r.overshoot_max_sim}", f"{r.tv_exact:.3f}",
                  f"{r.guided_steps_sim:.1f}", f"{r.fallbacks_sim:.2f}", f"{r.masked_mass:.3f}")
    console.print(t)
    console.print("  TV: total variation from the base law conditioned on T <= budget (0 for "
                  "exact every-token guidance); over: overshoot T - budget of simulated runs; "
                  "guided, fallbacks: per run; masked: base mass removed by the faithful "
                  "validity mask per guided step.", markup=False)


if __name__ == "__main__":
    raise SystemExit(main())
