"""The true success rates of a simulated batch: the population mixture.

``docs/models/knapsack.md (17)``: a prompt is near-solved (``U[0.97, 1]``),
near-unsolved (``U[0, 0.02]``) or of middling difficulty
(``Beta(beta_a, beta_a)``), with the weights of ``params.mixture``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sample_rates"]


def sample_rates(params, gen):
    """True success rates of one batch of ``params.prompts`` prompts.

    Parameters
    ----------
    params : theory.knapsack.KnapsackSimParams
        ``prompts``, ``mixture`` and ``beta_a`` are used.
    gen : numpy.random.Generator
        Host stream (:func:`sim.rng.generator`).

    Returns
    -------
    ndarray of float64, shape ``(prompts,)``
    """
    M = params.prompts
    w = np.asarray(params.mixture) / sum(params.mixture)
    comp = gen.choice(3, size=M, p=w)
    return np.where(comp == 0, gen.uniform(0.97, 1.0, M),
                    np.where(comp == 1, gen.uniform(0.0, 0.02, M),
                             gen.beta(params.beta_a, params.beta_a, M)))
