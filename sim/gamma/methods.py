"""Decoding rules of the thinking segment and their transition rows.

A decoding rule (:class:`Method`) is unguided decoding, hard truncation
(budget forcing) or guidance by the exact oracle or a fitted Gamma predictor,
at every token or at line starts, in Bayes or faithful arithmetic
(docs/models/gamma.md (11)-(13)). On a toy language model every rule draws the
next token from a law that depends on the state and the remaining budget only;
:func:`guided_table` computes those laws once, with the guidance operator of
:func:`theory.gamma.guide`, for the exact programme and the Monte Carlo kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from sim.gamma.exact import oracle_weights
from theory import gamma as th
from theory._params import check_choice, check_int, check_real
from theory.gamma import GammaParams

__all__ = ["Method", "default_methods", "Table", "guided_table", "TRIGGERS", "KINDS",
           "PREDICTORS"]

#: Where guidance acts (open choice "trigger"): every token, or where the next token starts a line.
TRIGGERS = ("every_token", "newline")
#: Decoding rules: no guidance, hard truncation, guidance.
KINDS = ("unguided", "forcing", "guided")
#: Sources of the guidance weights: the exact oracle (17) or a fitted Gamma predictor.
PREDICTORS = ("oracle", "gamma")
_D = GammaParams()


@dataclass(frozen=True)
class Method:
    """One decoding rule for the thinking segment.

    Parameters
    ----------
    name : str
    kind : {"unguided", "forcing", "guided"}
        ``forcing`` is hard truncation (budget forcing): the end token is
        forced when ``budget - 1`` tokens have been generated, so the segment
        never exceeds the budget.
    predictor : {"oracle", "gamma"} or None
        Source of the guidance weights (guided only).
    trigger : {"every_token", "newline"}
        Where guidance acts (open choice "trigger"): every token, or only
        where the next token starts a line (the authors' code).
    mode : {"bayes", "faithful"}
        Guidance arithmetic of :func:`theory.gamma.guide`: pure Bayes (log
        space, no mask; docs/models/gamma.md (11), (14)) or faithful (linear
        space, validity mask, one-hot fallback; (12)). The oracle has no head
        values to mask and always uses Bayes' rule.
    strength : float
        Exponent ``gamma >= 0`` on the weights (docs/models/gamma.md (11)).
    rate_min, alpha_min, mode_min : float
        Thresholds of the faithful validity mask (docs/models/gamma.md (12);
        the authors' 10, 1 and 0.9).
    """

    name: str
    kind: str = "guided"
    predictor: str | None = "oracle"
    trigger: str = "every_token"
    mode: str = "bayes"
    strength: float = _D.strength
    rate_min: float = _D.rate_min
    alpha_min: float = _D.alpha_min
    mode_min: float = _D.mode_min

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


def default_methods(model, *, strength=_D.strength, rate_min=_D.rate_min,
                    alpha_min=_D.alpha_min, mode_min=_D.mode_min):
    """The comparison of :func:`sim.gamma.simulate`: baselines, oracle and Gamma guidance.

    Unguided decoding, budget forcing, the exact oracle at every token and (on
    a toy with lines longer than one token) at line starts, and the fitted
    Gamma predictor in Bayes and faithful arithmetic at line starts. The
    guided rules get ``strength`` and the mask thresholds.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    strength, rate_min, alpha_min, mode_min : float
        See :class:`Method`.

    Returns
    -------
    list of Method
    """
    g = dict(strength=strength, rate_min=rate_min, alpha_min=alpha_min, mode_min=mode_min)
    out = [Method("unguided", kind="unguided", predictor=None),
           Method("budget forcing", kind="forcing", predictor=None),
           Method("oracle, every token", predictor="oracle", trigger="every_token", **g)]
    gated = not np.all(model.line_start)
    if gated:
        out.append(Method("oracle, newline", predictor="oracle", trigger="newline", **g))
    trig = "newline" if gated else "every_token"
    where = "newline" if gated else "every token"
    out.append(Method(f"gamma, {where}", predictor="gamma", trigger=trig, mode="bayes", **g))
    out.append(Method(f"gamma faithful, {where}", predictor="gamma", trigger=trig,
                      mode="faithful", **g))
    return out


def base_logits(model):
    """``log probs`` of the toy's base law (``-inf`` where a token is impossible)."""
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
        logp = base_logits(model)[None]
        lognum = logp + loga
        with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
            tot = logsumexp(lognum, axis=-1, keepdims=True)
            fell = np.isneginf(tot)[..., 0]
            q = np.exp(lognum - np.where(fell[..., None], 0.0, tot))
        q = np.where(fell[..., None], model.probs[None], q)
        return q, fell
    logits = np.broadcast_to(base_logits(model)[None], (budgets.size, S, V))
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
    """Transition rows of a decoding rule (:func:`guided_table`).

    Attributes
    ----------
    rows : ndarray, shape (budget + 1, S, V)
        ``rows[i, s, :]`` is the next-token law at remaining budget ``b = i``
        (``i = 1..budget``; row 0 unused) in state ``s``.
    guided, fell : ndarray of bool, shape (budget + 1, S)
        Guided steps and fallbacks.
    masked : ndarray, shape (S,)
        Base mass the faithful mask removes in each state.
    force_end : bool
        Hard truncation: the end token is forced at step ``budget - 1``.
    budget : int
    """

    rows: np.ndarray
    guided: np.ndarray
    fell: np.ndarray
    masked: np.ndarray
    force_end: bool
    budget: int

    def row(self, t):
        """Row index of step ``t`` (0-based): the remaining budget ``max(lbar - t, 1)`` (13)."""
        return max(self.budget - t, 1)


def guided_table(model, method, budget, predictor=None, rem=None):
    """Next-token law of ``method`` at every remaining budget ``b = 1..budget`` and state.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    method : Method
    budget : int
        Thinking budget ``lbar >= 1``; the remaining budget is
        ``b_t = max(lbar - t, 1)`` (docs/models/gamma.md (13)).
    predictor : sim.gamma.predictor.GammaPredictor or None
        Needed for ``predictor="gamma"`` methods.
    rem : ndarray or None
        Precomputed :func:`sim.gamma.exact.remaining_length_pmf`.

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
