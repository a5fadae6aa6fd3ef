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
from sim import guard as _guard
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.coop import kernel_array, kernel_numba, reference
from theory import coop as th
from theory._params import check_bool, check_int, check_real
from theory._stats import Moments, chunk_seed

__all__ = ["TRIALS", "ROUNDS", "NOISE", "KAPPA", "STREAM", "MAX_WORK", "CHUNK_ENTRIES",
           "cost", "team_cost", "simulate"]

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
#: The work limit of every experiment without ``allow`` (``--yes``), in elementary operations
#: of about a nanosecond each (the costs below are measured on one core): about a minute on
#: this 2-core machine.
MAX_WORK = 5e10
#: Operations of one member's move in one round (measured: about 80 ns with Numba).
MOVE_OPERATIONS = 100
#: Operations of one pair of members' trust update in one round (measured: about 30 ns).
TRUST_OPERATIONS = 40
#: Operations of one round of one chunk besides the moves (its kernel call, its moments and
#: targets; measured: about 160 microseconds).
ROUND_OPERATIONS = 200_000
#: Operations of one member of a solved team: its equilibrium, its row of the report or of
#: the JSON (measured: about 2 microseconds a member, end to end).
MEMBER_OPERATIONS = 2000
#: Bytes a member of a solved team holds at the peak (its efforts, loyalty, table and JSON;
#: measured: about 230).
MEMBER_BYTES = 400
#: Bytes a round of the result holds (its moments and its row).
ROUND_BYTES = 2048
#: Entries (efforts, or trusts between members with ``trust``) of one chunk of teams: the
#: teams go in chunks of ``CHUNK_ENTRIES // n`` (``// n**2`` with trust), at most about
#: 128 bytes an entry; chunk ``k > 0`` draws from :func:`theory._stats.chunk_seed`.
CHUNK_ENTRIES = 1 << 22
#: Bytes an entry of a chunk holds at its peak (measured with trust: about 110).
_ENTRY_BYTES = 128


def team_cost(n):
    """The size of solving one team of ``n`` members, for :func:`sim.guard.check`."""
    n = float(n)
    return dict(param="--n (team size)", work=MEMBER_OPERATIONS * n, unit="operations",
                work_limit=MAX_WORK, memory=MEMBER_BYTES * n)


def _entries(n, trust):
    return n * n if trust else n


def _chunk_teams(n, trust):
    return max(1, CHUNK_ENTRIES // _entries(n, trust))


def cost(params, trials, rounds=ROUNDS, trust=False):
    """The size of :func:`simulate` for :func:`sim.guard.check`: operations and peak bytes.

    Work: ``trials * rounds * (n moves + n**2 trust updates)`` plus a fixed cost per round of
    each chunk; memory: one chunk of teams and the rounds' results.
    """
    n = float(params.n)
    per_round = MOVE_OPERATIONS * n + (TRUST_OPERATIONS * n * n if trust else 0.0)
    size = _chunk_teams(params.n, trust)
    chunks = math.ceil(float(trials) / size)
    chunk = min(float(trials), size)
    return dict(param="--trials * --rounds * --n" + ("**2 (trust)" if trust else ""),
                work=float(trials) * rounds * per_round + ROUND_OPERATIONS * chunks * rounds,
                unit="operations", work_limit=MAX_WORK,
                memory=chunk * _entries(n, trust) * _ENTRY_BYTES + MEMBER_BYTES * n
                + ROUND_BYTES * float(rounds))


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


def _play(params, trials, seed, name, rounds, noise, trust, kappa):
    """Play one chunk of ``trials`` teams; per round: the teams' mean efforts, and the sums
    over teams of ``S*``, ``|S - S*|`` and the mean loyalty."""
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
    for r in range(rounds):
        play(a, targets, params.a_min, params.a_max, noise, key, r)
        team_mean = a.mean(axis=1)
        yield (team_mean if xp is np else xp.asnumpy(team_mean), float(S_star.sum()),
               float(xp.abs(a.sum(axis=1) - S_dev).sum()), float(theta.mean(axis=1).sum()))
        if trust and r + 1 < rounds:
            a_host = a if xp is np else xp.asnumpy(a)
            signal = np.repeat(th.trust_signal(a_host, a_base, kappa)[:, None, :], n, axis=1)
            trust_ij, damage_ij = th.trust_update(trust_ij, np.repeat(damage[:, None, :], n,
                                                                      axis=1), signal)
            damage = damage_ij.mean(axis=1)
            theta = (trust_ij * others).sum(axis=2) / (n - 1)
            T, S_star = _targets(theta, params)
            targets, S_dev = xp.asarray(T), xp.asarray(S_star)


def simulate(params, trials=TRIALS, seed=_cli.DEFAULT_SEED, backend="auto", rounds=ROUNDS,
             noise=NOISE, trust=False, kappa=KAPPA, allow=False):
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
    allow : bool
        Run even when :func:`cost` exceeds this machine's limits (:func:`sim.guard.check`).

    The teams go in chunks of bounded memory (:data:`CHUNK_ENTRIES`); the
    first chunk plays with ``seed`` itself, so a run that fits in one chunk is
    unchanged by the chunking.

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
    est = cost(params, trials, rounds, trust)
    _guard.check(est.pop("param"), allow=allow, **est)
    size = _chunk_teams(params.n, trust)
    team_mean = [Moments() for _ in range(rounds)]
    sums = np.zeros((rounds, 3))  # S*/n, |S - S*|, theta, summed over teams
    for k, lo in enumerate(range(0, trials, size)):
        teams = min(size, trials - lo)
        for r, (tm, s_star, gap, theta) in enumerate(
                _play(params, teams, chunk_seed(seed, k), name, rounds, noise, trust, kappa)):
            team_mean[r].add(tm)
            sums[r] += (s_star, gap, theta)
    n = params.n
    rows = []
    for r in range(rounds):
        se = math.sqrt(float(team_mean[r].var(1)) / trials) if trials > 1 else math.nan
        rows.append(dict(round=r + 1, theory=sums[r, 0] / trials / n,
                         estimate=float(team_mean[r].mean), se=se,
                         aggregate_gap=sums[r, 1] / trials, mean_theta=sums[r, 2] / trials))
    df = pd.DataFrame(rows)
    df.insert(1, "quantity", "mean_effort")
    df["trials"] = trials
    df["noise"] = noise
    return _cli.add_provenance(df, seed, name)
