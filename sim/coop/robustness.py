"""The authors' robustness run: the loyalty effect under random parameter perturbations.

docs/models/coop.md, section "The robustness run".
"""

from __future__ import annotations

import numpy as np

from sim import _cli
from sim import guard as _guard
from sim.coop.core import MAX_WORK
from sim.coop.paper import GRID_FIXED, grid_mean_effort
from sim.coop.variants import DEFAULT_VARIANT, welfare_mode
from theory._params import check_int, check_real
from theory._stats import Moments

__all__ = ["ROBUSTNESS_TRIALS", "TRIAL_OPERATIONS", "CHUNK_TRIALS", "robustness_cost",
           "monte_carlo"]

#: Default number of perturbed teams (the authors').
ROBUSTNESS_TRIALS = 2000
#: Operations of one perturbed team (five equilibria of the grid's solver; measured: about
#: 1.5 microseconds), in the units of :data:`sim.coop.core.MAX_WORK`.
TRIAL_OPERATIONS = 2000
#: Perturbed teams per chunk (about 700 bytes each at the peak). The legacy generator fills
#: the draws row by row, so a chunked run draws exactly the numbers of one pass.
CHUNK_TRIALS = 1 << 18
_BASE = {"omega": 25.0, "beta": 0.7, "c": 1.0, "n": 5, "phi_B": 0.8, "phi_C": 0.3}


def robustness_cost(trials):
    """The size of :func:`monte_carlo` for :func:`sim.guard.check`."""
    return dict(param="--trials (perturbed teams)", work=float(trials) * TRIAL_OPERATIONS,
                unit="operations", work_limit=MAX_WORK,
                memory=min(float(trials), CHUNK_TRIALS) * 700.0)


def monte_carlo(variant=DEFAULT_VARIANT, trials=ROBUSTNESS_TRIALS, seed=_cli.DEFAULT_SEED,
                spread=0.15, allow=False):
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
    allow : bool
        Run even above the limits of :func:`robustness_cost` (:func:`sim.guard.check`).
        The trials go in chunks of :data:`CHUNK_TRIALS`, with the numbers of one pass.

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
    est = robustness_cost(trials)
    _guard.check(est.pop("param"), allow=allow, **est)
    gen = np.random.RandomState(seed)
    monotone = above = 0
    ratios = Moments()
    for lo in range(0, trials, CHUNK_TRIALS):
        u = gen.uniform(-spread, spread, size=(min(CHUNK_TRIALS, trials - lo), 4))
        mono, ratio = _perturbed(u, mode)
        monotone += int(mono.sum())
        above += int((ratio > 2).sum())
        ratios.add(ratio)
    return {"variant": variant, "trials": trials, "seed": seed,
            "monotone": monotone / trials, "ratio_above_2": above / trials,
            "ratio_mean": float(ratios.mean), "ratio_sd": float(np.sqrt(ratios.var(0)))}


def _perturbed(u, mode):
    """Whether effort rises with loyalty, and the differentiation ratio, per perturbation."""
    b = _BASE
    omega = b["omega"] * (1 + u[:, 0])
    beta = np.clip(b["beta"] * (1 + u[:, 1]), 0.3, 0.95)
    c = b["c"] * (1 + u[:, 2])
    phi_B = np.clip(b["phi_B"] * (1 + u[:, 3]), 0.2, 1.0)
    n = np.full(u.shape[0], b["n"])

    def eff(t):
        return grid_mean_effort(t, omega, beta, c, n, phi_B, b["phi_C"], mode,
                                GRID_FIXED["a_min"], GRID_FIXED["a_max"])

    e = np.stack([eff(t) for t in (0.0, 0.3, 0.6, 0.9)], axis=1)
    return (np.diff(e, axis=1) >= 0).all(axis=1), eff(0.9) / eff(0.1)
