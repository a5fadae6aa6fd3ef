"""Where the power law can come from: posterior contraction in two conjugate models.

docs/models/bbam.md (22) and (23): the Bayes risk of a normal mean falls as
``1/b`` (exponent 1) and the posterior variance of a uniform scale under a
Pareto prior as ``1/b**2`` (exponent 2), so the paper's law
``U_epi = c b**-beta`` of docs/models/bbam.md (1) holds in both with a known
exponent. :func:`sim.bbam.posterior_contraction` checks both by Monte Carlo.
"""

from __future__ import annotations

import numpy as np

from theory._params import check_real, check_real_array
from theory.bbam._layout import NONNEG, POS, out

__all__ = ["normal_bayes_risk", "pareto_posterior_variance"]


def normal_bayes_risk(b, tau2, sigma2):
    """Bayes risk of the posterior mean after ``b`` normal observations.

    docs/models/bbam.md (22). With ``theta ~ N(mu0, tau2)`` and
    ``y_1..y_b | theta ~ N(theta, sigma2)`` the posterior variance, and so the
    Bayes risk of ``E[theta | y]``, is ``1 / (1/tau2 + b/sigma2)``, which tends
    to ``sigma2 / b``: the power law of docs/models/bbam.md (1) with
    ``c = sigma2`` and ``beta = 1`` (derived here).

    Parameters
    ----------
    b : array_like
        Number of observations (tokens), ``>= 0``.
    tau2, sigma2 : float
        Prior and noise variances, ``> 0``.

    Returns
    -------
    float or ndarray
    """
    b = check_real_array("b", b, **NONNEG)
    tau2 = check_real("tau2", tau2, **POS)
    sigma2 = check_real("sigma2", sigma2, **POS)
    return out(1.0 / (1.0 / tau2 + b / sigma2))


def pareto_posterior_variance(M, k, b):
    """Posterior variance of ``theta`` for uniform data under a Pareto prior.

    docs/models/bbam.md (23), derived here. With ``y_1..y_b ~ Uniform(0, theta)``
    and ``theta ~ Pareto(x_m, k)`` the posterior is ``Pareto(M, k + b)`` with
    ``M = max(x_m, max y)``, whose variance is
    ``M**2 (k+b) / ((k+b-1)**2 (k+b-2))`` (finite for ``k+b > 2``), about
    ``M**2 / b**2``: the power law (1) with ``beta = 2``.

    Parameters
    ----------
    M : array_like
        Posterior scale ``max(x_m, max y)``, ``> 0``.
    k : float
        Prior shape, ``> 0``.
    b : array_like
        Number of observations; ``k + b > 2`` is required.

    Returns
    -------
    float or ndarray
    """
    M = check_real_array("M", M, **POS)
    k = check_real("k", k, **POS)
    b = check_real_array("b", b, **NONNEG)
    a = k + b
    if np.any(a <= 2.0):
        raise ValueError("k + b must be > 2 for a finite posterior variance, "
                         f"got {float(np.min(a)):g}")
    return out(M * M * a / ((a - 1.0) ** 2 * (a - 2.0)))
