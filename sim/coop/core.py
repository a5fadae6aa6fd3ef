"""Repeated play: many teams playing noisy best responses, round after round.

:func:`simulate` is the model's Monte Carlo run (docs/models/coop.md, section
"Repeated play"): ``trials`` independent copies of one team start at half the
effort cap and play rounds of noisy clipped best responses in Gauss-Seidel
order (docs/models/coop.md (22)). Without noise the teams reach the
equilibrium aggregate of docs/models/coop.md (15); with noise they fluctuate
around it; with trust dynamics (docs/models/coop.md (24)-(26)) the loyalties,
and with them the equilibrium, move from round to round.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim import _cli
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.coop import kernel_array, kernel_numba, reference
from theory import coop as th
from theory._params import check_bool, check_int, check_real

__all__ = ["TRIALS", "ROUNDS", "NOISE", "KAPPA", "STREAM", "simulate"]

#: Default number of teams played in parallel (the Monte Carlo size).
TRIALS = 10_000
#: Default number of rounds.
ROUNDS = 30
#: Default standard deviation of the noise on each best response.
NOISE = 0.5
#: Default signal sensitivity of the trust dynamics (the TR-2 suite's).
KAPPA = 1.0
#: Purpose of the counter-based stream of the noise (:func:`sim.rng.stream_key`).
STREAM = "coop/repeated-play"


def _player(name):
    """``play(a, targets, a_min, a_max, noise, key, round_index)`` of a concrete backend."""
    if name == "numba":
        return kernel_numba.play_round
    if name == "numpy":
        return reference.play_round
    xp = array_module(name)
    return lambda *args: kernel_array.play_round(xp, *args)


def _targets(theta, params):
    """Targets ``S_i*`` of every member of every team, and each team's equilibrium aggregate."""
    T = np.asarray(th.target_aggregate(theta, params.omega, params.beta, params.c, params.n,
                                       params.phi_B, params.phi_C, params.welfare_mode),
                   dtype=float)
    S_star = np.asarray(th.equilibrium_direct(T, params.a_min, params.a_max).aggregate)
    return T, S_star


def simulate(params, trials=TRIALS, seed=_cli.DEFAULT_SEED, backend="auto", rounds=ROUNDS,
             noise=NOISE, trust=False, kappa=KAPPA):
    """Play ``trials`` copies of a team for ``rounds`` rounds of noisy best responses.

    Each round every member in turn moves to its clipped best response plus
    normal noise, ``clip(S_i* - S_{-i} + noise Z, a_min, a_max)``
    (docs/models/coop.md (22); the normal noise is this project's choice).
    With ``trust=True`` a member's loyalty follows its mean trust in its
    teammates, updated after every round by the TR-2 dynamics from the signal
    of each teammate's effort against the free-riding effort
    (docs/models/coop.md (24)-(26)); the targets follow the new loyalties.

    Parameters
    ----------
    params : theory.coop.CoopParams
        The team; every copy starts with every effort at ``a_max / 2`` (1 when
        ``a_max`` is infinite).
    trials : int, default :data:`TRIALS`
        Teams played in parallel, ``>= 1``.
    seed : int, default 0
        Root seed of the noise (stream :data:`STREAM`).
    backend : {"auto", "numpy", "numba", "cupy"}
        ``numpy`` runs :mod:`sim.coop.reference`, ``numba``
        :mod:`sim.coop.kernel_numba`, ``cupy`` :mod:`sim.coop.kernel_array` on
        the GPU. All draw the same noise; efforts agree to rounding.
    rounds : int, default :data:`ROUNDS`
        Rounds played, ``>= 1``.
    noise : float, default :data:`NOISE`
        Standard deviation of the noise, ``>= 0``.
    trust : bool, default False
        Let loyalty follow the trust dynamics.
    kappa : float, default :data:`KAPPA`
        Signal sensitivity of the trust dynamics, ``> 0``.

    Returns
    -------
    pandas.DataFrame
        One row per round: ``round`` (from 1), ``quantity`` (``"mean_effort"``),
        ``theory`` (the equilibrium mean effort ``S*/n`` of the round's
        loyalties, averaged over teams), ``estimate`` (the mean effort over
        teams and members after the round), ``se`` (its standard error over
        teams), ``aggregate_gap`` (mean ``|S - S*|`` over teams),
        ``mean_theta``, ``trials``, ``noise``, ``seed``, ``backend`` and
        ``version``.

    Raises
    ------
    ValueError, TypeError
        One line naming the bad argument.
    """
    if not isinstance(params, th.CoopParams):
        raise TypeError(f"params must be a CoopParams, got {type(params).__name__}")
    trials = check_int("trials", trials, 1)
    rounds = check_int("rounds", rounds, 1)
    noise = check_real("noise", noise, 0.0, math.inf, hi_open=True)
    trust = check_bool("trust", trust)
    kappa = check_real("kappa", kappa, 0.0, math.inf, lo_open=True, hi_open=True)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    play = _player(name)
    xp = array_module("cupy") if name == "cupy" else np
    n = params.n
    theta = np.tile(params.theta_array, (trials, 1))
    start = params.a_max / 2 if math.isfinite(params.a_max) else 1.0
    a = xp.full((trials, n), start)
    key = _rng.stream_key(seed, STREAM)
    T, S_star = _targets(theta, params)
    targets, S_dev = xp.asarray(T), xp.asarray(S_star)
    if trust:
        a_base = float(th.free_riding_effort(params))
        trust_ij = np.repeat(theta[:, :, None], n, axis=2)  # trust of member i in member j
        damage = np.zeros((trials, n))  # reputation damage of each member
        others = ~np.eye(n, dtype=bool)
    rows = []
    for r in range(rounds):
        play(a, targets, params.a_min, params.a_max, noise, key, r)
        team_mean = a.mean(axis=1)
        se = float(team_mean.std(ddof=1)) / math.sqrt(trials) if trials > 1 else math.nan
        rows.append(dict(round=r + 1, theory=float(S_star.mean()) / n,
                         estimate=float(team_mean.mean()), se=se,
                         aggregate_gap=float(xp.abs(a.sum(axis=1) - S_dev).mean()),
                         mean_theta=float(theta.mean())))
        if trust and r + 1 < rounds:
            a_host = a if xp is np else xp.asnumpy(a)
            signal = np.repeat(th.trust_signal(a_host, a_base, kappa)[:, None, :], n, axis=1)
            trust_ij, damage_ij = th.trust_update(trust_ij, np.repeat(damage[:, None, :], n,
                                                                      axis=1), signal)
            damage = damage_ij.mean(axis=1)
            theta = (trust_ij * others).sum(axis=2) / (n - 1)
            T, S_star = _targets(theta, params)
            targets, S_dev = xp.asarray(T), xp.asarray(S_star)
    df = pd.DataFrame(rows)
    df.insert(1, "quantity", "mean_effort")
    df["trials"] = trials
    df["noise"] = noise
    return _cli.add_provenance(df, seed, name)
