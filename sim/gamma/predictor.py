"""Gamma predictors of the toy models: one Gamma law over ``log(L + 1)`` per (state, candidate).

docs/models/gamma.md, "The fitted Gamma predictor" and "Untrained candidates":
:func:`fit_predictor` fits every candidate's exact remaining-length law,
:func:`untrained` gives chosen candidates the untrained head values of
docs/models/gamma.md (8), and :func:`predictor_pit` measures the fit's
calibration by the randomised PIT (docs/models/gamma.md (25)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim import rng as _rng
from sim.gamma.exact import remaining_length_pmf
from theory import gamma as th
from theory.gamma import GammaParams

__all__ = ["GammaPredictor", "fit_predictor", "untrained", "predictor_pit", "LOG2"]

#: ``softplus(0) = log 2``: the head value of an untrained row (docs/models/gamma.md (8)).
LOG2 = math.log(2.0)
_D = GammaParams()


@dataclass(frozen=True, eq=False)
class GammaPredictor:
    """Per-(state, candidate) Gamma laws over ``log(L + 1)`` (docs/models/gamma.md (1)).

    A state plays the role of the hidden state the real predictor reads;
    ``alpha[s, v]`` and ``rate[s, v]`` are its head outputs for candidate
    ``v`` (docs/models/gamma.md (8)).

    Attributes
    ----------
    alpha, rate : ndarray, shape (S, V)
    source : str
        How the laws were made (for reports).
    """

    alpha: np.ndarray
    rate: np.ndarray
    source: str = "fitted"


def fit_predictor(model, *, stop_cv=_D.stop_cv, distortion=_D.distortion,
                  likelihood=_D.likelihood, rem=None, untrained_tokens=_D.untrained):
    """The fitted Gamma predictor: a Gamma law over ``log(L + 1)`` for every candidate.

    For each state and non-ending candidate the Gamma is the maximum
    likelihood fit to the exact law of ``L`` (the population limit of a
    predictor trained on unlimited traces; :func:`theory.gamma.fit_gamma`
    with the law's probabilities as weights). ``L = 1`` for the end token is
    a point mass that no Gamma fits; it gets a Gamma with mean ``log 2`` and
    coefficient of variation ``stop_cv`` (a choice made here: the authors'
    end token is trained on ``y = log 2`` only; docs/models/gamma.md, open
    choice "end token's Gamma").

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    stop_cv : float
        Coefficient of variation of the end token's Gamma, in (0, 1).
    distortion : float
        Misspecification knob: every continuing candidate's rate is multiplied
        by ``exp(-distortion)``, i.e. predicted log-lengths are stretched by
        ``exp(distortion)`` (``> 0`` predicts longer, ``< 0`` shorter).
    likelihood : {"continuous", "discrete"}
        Fitted likelihood, (9) or (4) (open choice "likelihood").
    rem : ndarray or None
        Precomputed :func:`sim.gamma.exact.remaining_length_pmf`.
    untrained_tokens : sequence of str
        Candidates given the untrained head values ``alpha = rate = log 2``
        (:func:`untrained`).

    Returns
    -------
    GammaPredictor

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, as :class:`theory.gamma.GammaParams`.
    """
    q = GammaParams(stop_cv=stop_cv, distortion=distortion, likelihood=likelihood)
    stop_cv, distortion, likelihood = q.stop_cv, q.distortion, q.likelihood
    rem = remaining_length_pmf(model) if rem is None else rem
    S, V = model.probs.shape
    alpha = np.full((S, V), np.nan)
    rate = np.full((S, V), np.nan)
    a_stop = 1.0 / stop_cv ** 2
    alpha[:, model.end] = a_stop
    rate[:, model.end] = a_stop / LOG2
    lengths = np.arange(1, rem.shape[1] + 2)
    cache = {}
    for s in range(S):
        for v in range(V):
            if v == model.end or model.probs[s, v] <= 0.0:
                continue
            key = model.next_state[s, v]
            if key not in cache:
                # the law of L = 1 + R from the next state (candidate_length_pmf's row)
                w = np.concatenate([[0.0], rem[key]])
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
    """``predictor`` with the head values of ``tokens`` set to ``log 2`` (untrained candidates).

    Rows of an untrained head give pre-activations near 0, hence
    ``alpha = rate = softplus(0) = log 2`` (docs/models/gamma.md (8)). The
    faithful mask (12) removes such candidates; the Bayes mode (11) does not.

    Raises
    ------
    ValueError
        A name in ``tokens`` is not a token of ``model``.
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


def predictor_pit(model, predictor, samples=20_000, seed=0, rem=None):
    """Randomised PIT of a Gamma predictor on the base model's guided points.

    Draws (state, candidate) pairs in proportion to their expected number of
    visits at line starts under the base model, then the candidate's exact
    remaining length, and returns ``u`` of :func:`theory.gamma.randomized_pit`
    (docs/models/gamma.md (25); uniform when the predictor is calibrated).
    """
    rem = remaining_length_pmf(model) if rem is None else rem
    S, V = model.probs.shape
    # Expected visits of each state: sum_t pi_t = e_start (I - M)^-1.
    if S > 64:
        from scipy import sparse as sp
        from scipy.sparse.linalg import spsolve

        a = (sp.identity(S, format="csr") - model.transition(sparse=True)).T.tocsc()
        visits = spsolve(a, np.eye(1, S, model.start).ravel())
    else:
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
