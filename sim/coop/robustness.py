"""The authors' robustness run: the loyalty effect under random parameter perturbations.

docs/models/coop.md, section "The robustness run".
"""

from __future__ import annotations

import numpy as np

from sim import _cli
from sim.coop.paper import GRID_FIXED, grid_mean_effort
from sim.coop.variants import DEFAULT_VARIANT, welfare_mode
from theory._params import check_int, check_real

__all__ = ["ROBUSTNESS_TRIALS", "monte_carlo"]

#: Default number of perturbed teams (the authors').
ROBUSTNESS_TRIALS = 2000
_BASE = {"omega": 25.0, "beta": 0.7, "c": 1.0, "n": 5, "phi_B": 0.8, "phi_C": 0.3}


def monte_carlo(variant=DEFAULT_VARIANT, trials=ROBUSTNESS_TRIALS, seed=_cli.DEFAULT_SEED,
                spread=0.15):
    """The authors' robustness run, vectorised over trials.

    Base ``omega = 25, beta = 0.7, c = 1, n = 5, phi_B = 0.8, phi_C = 0.3``;
    each trial draws 4 multipliers ``1 + U(-spread, spread)`` from NumPy's
    legacy generator seeded with ``seed`` (in the order omega, beta, c,
    phi_B) and clips beta to ``[0.3, 0.95]`` and phi_B to ``[0.2, 1]``. It
    checks that effort does not fall over theta in {0, 0.3, 0.6, 0.9}, and
    the differentiation ratio at theta = 0.9 over theta = 0.1
    (docs/models/coop.md (19)), with the effort bounds ``[0.01, 50]``.

    Parameters
    ----------
    variant : {"paper", "repo"}
    trials : int, default :data:`ROBUSTNESS_TRIALS`
        Perturbed teams, ``>= 1``.
    seed : int, default 0
        :data:`sim.coop.AUTHORS_SEED` reproduces the authors' draws.
    spread : float, default 0.15
        Half-width of the multiplicative perturbation, in ``[0, 1)``.

    Returns
    -------
    dict
        ``variant``, ``trials``, ``seed``, ``monotone`` and ``ratio_above_2``
        (shares of trials), ``ratio_mean`` and ``ratio_sd`` (ddof 0).
    """
    mode = welfare_mode(variant)
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    spread = check_real("spread", spread, 0.0, 1.0, hi_open=True)
    u = np.random.RandomState(seed).uniform(-spread, spread, size=(trials, 4))
    b = _BASE
    omega = b["omega"] * (1 + u[:, 0])
    beta = np.clip(b["beta"] * (1 + u[:, 1]), 0.3, 0.95)
    c = b["c"] * (1 + u[:, 2])
    phi_B = np.clip(b["phi_B"] * (1 + u[:, 3]), 0.2, 1.0)
    n = np.full(trials, b["n"])

    def eff(t):
        return grid_mean_effort(t, omega, beta, c, n, phi_B, b["phi_C"], mode,
                                GRID_FIXED["a_min"], GRID_FIXED["a_max"])

    e = np.stack([eff(t) for t in (0.0, 0.3, 0.6, 0.9)], axis=1)
    ratio = eff(0.9) / eff(0.1)
    return {"variant": variant, "trials": trials, "seed": seed,
            "monotone": float((np.diff(e, axis=1) >= 0).all(axis=1).mean()),
            "ratio_above_2": float((ratio > 2).mean()), "ratio_mean": float(ratio.mean()),
            "ratio_sd": float(ratio.std(ddof=0))}
