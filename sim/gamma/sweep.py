"""The gamma model's sweep: every decoding rule's budget adherence, exact and simulated.

One sweep point is :func:`sim.gamma.simulate` at the point's
:class:`theory.gamma.GammaParams`; each decoding rule becomes a row whose
``theory`` is the exact adherence ``Pr(T <= budget)`` (docs/models/gamma.md
(18)) and whose ``estimate`` is the simulated one, with its binomial standard
error. ``python -m sim.sweep gamma --budget 50:250:5 --out DIR``.
"""

from __future__ import annotations

import pandas as pd

from sim.gamma.core import simulate
from sim.gamma.plot import plot_adherence
from sim.gamma.size import run_cost
from sim.interface import SweepModel, params_of
from theory.gamma import GammaParams

__all__ = ["SWEEP", "TRIALS"]

#: Default runs per decoding rule at one sweep point.
TRIALS = 5000


def point(values, seed, trials, backend):
    """One sweep point: a row per decoding rule, exact adherence beside the simulated one."""
    df = simulate(GammaParams(**values), trials, seed, backend)
    return pd.DataFrame(dict(method=df["name"], quantity="adherence",
                             theory=df["adherence_exact"], estimate=df["adherence_sim"],
                             se=df["adherence_se_sim"], mean_length_exact=df["mean_length_exact"],
                             mean_length_sim=df["mean_length_sim"],
                             overshoot_p90=df["overshoot_p90_sim"]))


def validate(values):
    """Raise the one-line error of :class:`theory.gamma.GammaParams` for an invalid point."""
    GammaParams(**values)


def cost(values, trials):
    """One point's size known before it runs (:func:`sim.gamma.size.run_cost`, the work)."""
    return run_cost(GammaParams(**values), trials)[0]


SWEEP = SweepModel("gamma", params_of(GammaParams, skip=("untrained", "max_tokens")), point,
                   trials=TRIALS, plot=plot_adherence, validate=validate, cost=cost)
