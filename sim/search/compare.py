"""Where the annealed rule beats parallel sampling with a vote: a measured map.

:func:`advantage_map` runs two rules (by default BAVT's annealed rule and
majority vote) at equal budget on a grid of progress probability ``p``,
critic noise and tool budget, and states at each point which rule wins:
the difference of success rates with its standard error (the rules draw
from independent streams, so the variances add) and a verdict at
:data:`Z_VERDICT` standard errors. docs/models/search.md, section "Where the
annealed rule beats majority vote".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pandas as pd

from sim import _cli
from sim.search.core import DEFAULT_TRIALS, simulate
from theory._params import check_choice, check_int, check_real
from theory.search import RULES, SearchParams

__all__ = ["MAP_P", "MAP_NOISE", "MAP_BUDGETS", "Z_VERDICT", "advantage_map", "summarize"]

#: Default axes of the map.
MAP_P = (0.3, 0.5, 0.8)
MAP_NOISE = (0.0, 0.2, 0.4, 0.8)
MAP_BUDGETS = (5, 10, 20, 40)
#: Standard errors of the difference that make a verdict (else "tie").
Z_VERDICT = 3.0


def advantage_map(params=None, ps=MAP_P, noises=MAP_NOISE, budgets=MAP_BUDGETS,
                  trials=DEFAULT_TRIALS, seed=_cli.DEFAULT_SEED, backend="auto", rule="bavt",
                  against="majority", allow=False, progress=None):
    """Success of ``rule`` against ``against`` over the grid ``ps x noises x budgets``.

    Every other parameter comes from ``params``; the token budget follows
    the tool budget when ``params.token_budget`` is None.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``p``, ``noise``, ``budget``, ``<rule>``,
        ``<rule>_se``, ``<against>``, ``<against>_se``, ``diff``, ``diff_se``,
        ``z`` and ``verdict`` (``rule``'s name, ``against``'s name, or ``tie``).
    """
    params = SearchParams() if params is None else params
    check_choice("rule", rule, RULES)
    check_choice("against", against, RULES)
    if rule == against:
        raise ValueError(f"against must differ from rule, got {rule!r} twice")
    rows = []
    for p, noise, budget in itertools.product(ps, noises, budgets):
        point = replace(params, p=check_real("p", p, 0.0, 1.0, lo_open=True),
                        noise=check_real("noise", noise, 0.0, 10.0),
                        budget=check_int("budget", budget, 1))
        df = simulate(point, trials, seed, backend, (rule, against), allow=allow)
        a, b = (df[df.name == r].iloc[0] for r in (rule, against))
        diff = a.success - b.success
        se = math.hypot(a.se, b.se)
        z = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
        verdict = rule if z >= Z_VERDICT else against if z <= -Z_VERDICT else "tie"
        rows.append({"p": point.p, "noise": point.noise, "budget": point.budget,
                     rule: a.success, f"{rule}_se": a.se, against: b.success,
                     f"{against}_se": b.se, "diff": diff, "diff_se": se, "z": z,
                     "verdict": verdict})
        if progress:
            progress()
    return pd.DataFrame(rows)


def summarize(df, rule="bavt", against="majority"):
    """Counts of the verdicts of :func:`advantage_map`: ``{rule: n, against: n, "tie": n}``."""
    counts = df["verdict"].value_counts()
    return {k: int(counts.get(k, 0)) for k in (rule, against, "tie")}
