"""Monte Carlo of the E3 estimate from one run of ``n`` questions, and its bias."""

from __future__ import annotations

import math

import numpy as np

from sim import rng as _rng
from theory import bbam as th
from theory._params import check_int, check_real

__all__ = ["e3_estimator"]


def e3_estimator(p, n, mean_tokens, token_sigma=0.5, trials=10_000, seed=0):
    """Distribution of the E3 estimate of one run of ``n`` questions.

    Scores are Bernoulli(``p``); tokens are log-normal with mean
    ``mean_tokens`` and log-scale ``token_sigma``; one trial is one run, whose
    estimate is ``(100 mean score)**2 / mean tokens``, docs/models/bbam.md (9).

    Parameters
    ----------
    p : float
        Accuracy as a fraction, in [0, 1].
    n : int
        Questions per run, ``>= 1``.
    mean_tokens : float
        Mean tokens per question, ``> 0``.
    token_sigma : float
        Log-scale of the tokens, ``>= 0``.
    trials : int
        Simulated runs, ``>= 2``.
    seed : int

    Returns
    -------
    dict
        ``e3`` (the true value), ``mean`` (the Monte Carlo mean of the
        estimate) and its standard error ``se``, ``bias_theory`` (the
        first-order bias :func:`theory.bbam.e3_estimator_bias`,
        docs/models/bbam.md (24), which ignores the variance of the token
        mean) and ``estimates`` (one per run).
    """
    p = check_real("p", p, 0.0, 1.0)
    n = check_int("n", n, 1)
    trials = check_int("trials", trials, 2)
    mean_tokens = check_real("mean_tokens", mean_tokens, 0.0, lo_open=True)
    token_sigma = check_real("token_sigma", token_sigma, 0.0)
    gen = _rng.generator(seed, "bbam/e3-estimator")
    correct = gen.binomial(n, p, size=trials) / n
    mu = math.log(mean_tokens) - token_sigma ** 2 / 2
    tokens = np.exp(mu + token_sigma * gen.standard_normal((trials, n))).mean(axis=1)
    est = th.e3(100.0 * correct, tokens)
    return dict(e3=float(th.e3(100.0 * p, mean_tokens)), mean=float(est.mean()),
                se=float(est.std(ddof=1) / math.sqrt(trials)),
                bias_theory=th.e3_estimator_bias(p, n, mean_tokens), estimates=est)
