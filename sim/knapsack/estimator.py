"""The success-rate estimates the allocators see.

* :func:`estimate_rates` -- one batch: the success fraction of
  ``estimate_samples`` rollouts of the prompt's previous visit, whose rate has
  drifted since (``docs/models/knapsack.md (18)``, this project's choice);
* :func:`estimate_from_history` -- the training loop: the authors' estimator,
  the previous visit if it had enough rollouts, else padded with older
  rewards (``docs/models/knapsack.md (20)``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["estimate_rates", "estimate_from_history", "MIN_VALID"]

#: Rollouts a prompt needs in its history before its estimate is used (the
#: authors' ``min_buffer_length``); fewer, and it gets the uniform budget.
MIN_VALID = 8


def estimate_rates(p, params, gen):
    """Stale, noisy estimates of the true rates ``p``, ``docs/models/knapsack.md (18)``.

    The logit of each rate drifts by ``params.stale_sd`` times a standard
    normal; the estimate is the success fraction of ``params.estimate_samples``
    Bernoulli rollouts at the drifted rate.

    Parameters
    ----------
    p : ndarray
        True rates in ``[0, 1]``.
    params : theory.knapsack.KnapsackSimParams
    gen : numpy.random.Generator

    Returns
    -------
    ndarray of float64
        Estimates on the grid ``k / estimate_samples``.
    """
    if params.stale_sd > 0:
        with np.errstate(divide="ignore"):
            logit = np.log(p) - np.log1p(-p)
        prev = 1.0 / (1.0 + np.exp(-(logit + params.stale_sd * gen.standard_normal(p.shape))))
    else:
        prev = p
    return gen.binomial(params.estimate_samples, prev) / params.estimate_samples


def estimate_from_history(hist_k, hist_n, want):
    """The authors' estimate from a prompt's past visits, ``docs/models/knapsack.md (20)``.

    The last visit's success fraction if it had ``>= want`` rollouts; else the
    newest ``want`` rewards of the history, a partly used oldest visit counted
    by its success fraction.

    Parameters
    ----------
    hist_k, hist_n : list of int
        Successes and rollouts of past visits, newest last.
    want : int
        The buffer length (16 in the authors' scripts).

    Returns
    -------
    (p_hat, count) : (float, int)
        The estimate (0.0 without history) and the rollouts seen in total;
        the estimate is used when ``count >= MIN_VALID``.
    """
    if not hist_n:
        return 0.0, 0
    if hist_n[-1] >= want:
        return hist_k[-1] / hist_n[-1], sum(hist_n)
    k_sum, n_sum = 0.0, 0
    for k, n in zip(reversed(hist_k), reversed(hist_n)):
        take = min(n, want - n_sum)
        k_sum += k * take / n
        n_sum += take
        if n_sum >= want:
            break
    return k_sum / n_sum, sum(hist_n)
