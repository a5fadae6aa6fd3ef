"""One team: its equilibrium against free riding and the social optimum, and effort curves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from theory import coop as th

__all__ = ["SIZES", "solve_team", "effort_loyalty_curves"]

#: Team sizes of the effort-loyalty figure (those of the paper's grid).
SIZES = (3, 4, 5, 6, 8)


def solve_team(params):
    """Equilibrium, output, welfare, cohesion and the free-riding comparison of one team.

    Parameters
    ----------
    params : theory.coop.CoopParams

    Returns
    -------
    dict
        ``efforts``, ``aggregate`` (``S*``, docs/models/coop.md (15)),
        ``mean_effort``, ``unique`` (whether the individual efforts are
        determined), ``output`` (``Q``, docs/models/coop.md (1)), ``welfare``
        (``Q - c S``, docs/models/coop.md (21)), ``cohesion``
        (docs/models/coop.md (7)) and ``free_riding``: the same team at zero
        loyalty (``analytical_effort`` ``a_0*`` of docs/models/coop.md (12),
        ``equilibrium_effort`` from the solver, ``output``, ``welfare``), the
        social optimum (``social_optimum_effort``, ``social_optimum_welfare``,
        docs/models/coop.md (13)) and the percentage gains in effort and output
        that loyalty brings.
    """
    eq = th.solve(params)
    zero = th.solve(dataclasses.replace(params, theta=(0.0,) * params.n))
    S, S0 = float(eq.aggregate), float(zero.aggregate)
    Q = th.team_production(S, params.omega, params.beta)
    Q0 = th.team_production(S0, params.omega, params.beta)
    S_opt = th.social_optimum_aggregate(params)
    e, e0 = float(eq.mean_effort), float(zero.mean_effort)
    return {
        "efforts": eq.efforts, "aggregate": S, "mean_effort": e,
        "unique": bool(eq.unique), "output": Q,
        "welfare": th.team_welfare(params, S=S),
        "cohesion": params.cohesion(),
        "free_riding": {
            "analytical_effort": th.free_riding_effort(params),
            "equilibrium_effort": e0,
            "output": Q0,
            "welfare": th.team_welfare(params, S=S0),
            "social_optimum_effort": S_opt / params.n,
            "social_optimum_welfare": th.team_welfare(params, S=S_opt),
            "effort_increase_pct": (e - e0) / e0 * 100.0 if e0 > 0 else float("nan"),
            "output_increase_pct": (Q - Q0) / Q0 * 100.0 if Q0 > 0 else float("nan"),
        },
    }


def effort_loyalty_curves(params, sizes=SIZES, points=101):
    """Mean equilibrium effort of symmetric teams against their common loyalty.

    For every team size in ``sizes`` and ``points`` loyalties from 0 up to 1
    (or just below ``1/phi_C``), the bounded equilibrium effort and the
    interior one (no bounds) of docs/models/coop.md (14), at the other
    parameters of ``params``.

    Parameters
    ----------
    params : theory.coop.CoopParams
    sizes : sequence of int, default :data:`SIZES`
    points : int, default 101

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``theta``, ``mean_effort`` (bounded), ``interior``,
        and the parameters ``omega``, ``beta``, ``c``, ``phi_B``, ``phi_C``,
        ``a_min``, ``a_max``, ``welfare_mode``.
    """
    hi = min(1.0, 0.999 / params.phi_C) if params.phi_C > 0 else 1.0
    thetas = np.linspace(0.0, hi, int(points))
    frames = []
    for m in sizes:
        bounded = th.symmetric_equilibrium_effort(params, theta=thetas, n=m)
        interior = th.symmetric_equilibrium_effort(params, theta=thetas, n=m, a_min=0.0,
                                                   a_max=np.inf)
        frames.append(pd.DataFrame(dict(n=m, theta=thetas, mean_effort=bounded,
                                        interior=interior)))
    df = pd.concat(frames, ignore_index=True)
    for k in ("omega", "beta", "c", "phi_B", "phi_C", "a_min", "a_max", "welfare_mode"):
        df[k] = getattr(params, k)
    return df
