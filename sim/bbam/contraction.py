"""Monte Carlo of posterior contraction: where the power law of the uncertainty can come from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim import rng as _rng
from theory import bbam as th
from theory._params import check_choice, check_int, check_real

__all__ = ["posterior_contraction", "fit_power_law"]


def posterior_contraction(model, budgets, trials=100_000, seed=0, *, tau2=1.0, sigma2=1.0,
                          x_m=1.0, k=3.0):
    """Monte Carlo of the epistemic uncertainty left after ``b`` observations.

    ``model="normal"``: ``theta ~ N(0, tau2)``, ``y_i ~ N(theta, sigma2)``; the
    estimate is the mean squared error of the posterior mean, to compare with
    :func:`theory.bbam.normal_bayes_risk`, docs/models/bbam.md (22) (a power
    law with exponent 1). ``model="pareto"``: ``theta ~ Pareto(x_m, k)``,
    ``y_i ~ Uniform(0, theta)``; the estimate is the mean posterior variance
    (:func:`theory.bbam.pareto_posterior_variance` averaged over data,
    docs/models/bbam.md (23); exponent 2).

    Parameters
    ----------
    model : {"normal", "pareto"}
    budgets : sequence of float
        Numbers of observations ``b >= 1``.
    trials : int
        Draws of ``theta`` and data per budget, ``>= 2``.
    seed : int
    tau2, sigma2 : float
        Prior and noise variances of the normal model.
    x_m, k : float
        Scale and shape of the Pareto prior.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``b``, ``mc``, ``se`` and ``theory`` (closed form for
        ``normal``; NaN for ``pareto``, whose mean over data has no closed form
        here).
    """
    check_choice("model", model, ("normal", "pareto"))
    trials = check_int("trials", trials, 2)
    budgets = [check_real("budgets", float(b), 1.0) for b in budgets]
    if not budgets:
        raise ValueError("budgets must be a non-empty list of numbers >= 1")
    gen = _rng.generator(seed, f"bbam/contraction-{model}")
    rows = []
    for b in budgets:
        if model == "normal":
            theta = math.sqrt(tau2) * gen.standard_normal(trials)
            # the sample mean is sufficient
            ybar = theta + math.sqrt(sigma2 / b) * gen.standard_normal(trials)
            post_mean = (b * ybar / sigma2) / (1.0 / tau2 + b / sigma2)
            x = (theta - post_mean) ** 2
            theory = float(th.normal_bayes_risk(b, tau2, sigma2))
        else:
            theta = x_m * gen.random(trials) ** (-1.0 / k)
            y_max = theta * gen.random(trials) ** (1.0 / b)
            x = th.pareto_posterior_variance(np.maximum(x_m, y_max), k, b)
            theory = math.nan
        rows.append(dict(model=model, b=b, mc=float(x.mean()),
                         se=float(x.std(ddof=1) / math.sqrt(trials)), theory=theory))
    return pd.DataFrame(rows)


def fit_power_law(b, u):
    """Least-squares slope and intercept of ``log u`` against ``log b`` (``u ~ e**a b**slope``).

    Returns
    -------
    slope, intercept : float
    """
    slope, intercept = np.polyfit(np.log(np.asarray(b, float)), np.log(np.asarray(u, float)), 1)
    return float(slope), float(intercept)
