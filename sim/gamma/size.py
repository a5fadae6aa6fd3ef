"""The size of a gamma run, for the guard (:func:`sim.guard.check`): work and peak memory.

A run of :func:`sim.gamma.simulate` builds the toy (``S`` states, ``V``
tokens), the unguided remaining-length law (``S`` states times a horizon
``H`` of lengths, :func:`sim.gamma.exact.remaining_length_pmf`), the Gamma
predictor (one fit per state over ``H`` lengths), one table of next-token laws
per rule (``(budget + 1) S V`` entries), the exact law of every rule by the
forward programme (one step per token up to the generation cap), and the Monte
Carlo (``trials`` runs per rule). Work is counted in elementary operations, about
a nanosecond each on this machine, measured per part:

* a forward-programme step: 200 plus ``2 S V`` (compiled);
* a token of a simulated run: 10;
* a cell of a rule's table: 200 (Gamma CDFs for the predictor's rules);
* a (state, length) of the predictor's fit: 250 continuous, 42,000 discrete (a
  quasi-Newton search over the discrete likelihood, about 160 evaluations).
"""

from __future__ import annotations

import math

from sim import guard as _guard
from theory.gamma import TOY_TOKENS

__all__ = ["MAX_WORK", "MAX_HORIZON", "RULES", "toy_shape", "run_cost", "horizon_limit",
           "fit_cost", "decode_cost"]

#: The work limit of one run without ``allow`` (``--yes``), in elementary operations: about
#: a minute on 2 cores.
MAX_WORK = 5e10
#: Longest remaining length the exact laws keep (the forward recursion stops here).
MAX_HORIZON = 200_000
#: Most decoding rules a run compares, plus the unguided base law.
RULES = 7
#: Operations of one step of the forward programme, one simulated token, one table cell.
STEP_OPS, TOKEN_OPS, CELL_OPS = 200, 10, 200
#: Operations of the predictor's fit per (state, length), by likelihood.
FIT_OPS = {"continuous": 250, "discrete": 42_000}


def toy_shape(params):
    """``(S, V)``: the states and tokens of the toy of ``params`` (without building it)."""
    V = len(TOY_TOKENS[params.toy])
    if params.toy == "geometric":
        return 1, V
    return (params.plan_max + 1) * params.max_paragraph, V


def _pick(parts):
    """The guard's keywords for the sum of ``parts`` (name -> operations), named by the largest."""
    return dict(param=max(parts, key=parts.get), work=sum(parts.values()), unit="operations",
                work_limit=MAX_WORK)


def run_cost(params, trials):
    """What is known before the toy is built: tables, exact laws, and the runs' memory.

    Returns two sets of keywords of :func:`sim.guard.check`, one for the work
    and one for the peak memory, each naming its largest part.
    """
    S, V = toy_shape(params)
    cap = float(params.token_cap)
    cells = (params.budget + 1.0) * S * V
    work = _pick({"--max-paragraph * --plan-max (the toy's states)": 1000.0 * S,
                  "--budget * states (the rules' tables)": RULES * cells * CELL_OPS,
                  "--max-tokens (the exact laws, one step a token)":
                  RULES * cap * (STEP_OPS + 2.0 * S * V)})
    parts = {"--budget * states (the rules' tables)": 48.0 * cells + 16.0 * S * V,
             "--max-tokens (the exact laws)": RULES * cap * 8,
             "--trials (the simulated lengths)": float(trials) * 8 * (RULES + 3)}
    memory = dict(param=max(parts, key=parts.get), memory=sum(parts.values()))
    return work, memory


def horizon_limit(S, allow=False):
    """The longest horizon the remaining-length law of ``S`` states may reach under the guard.

    ``16 S H`` bytes (the columns and their stack) and ``S H`` operations a length;
    with ``allow`` the recursion's own cap, :data:`MAX_HORIZON`.
    """
    if allow:
        return MAX_HORIZON
    by_memory = _guard.memory_limit() / (16.0 * S)
    by_work = MAX_WORK * _guard.work_scale() / (8.0 * S)
    return int(max(1, min(MAX_HORIZON, by_memory, by_work)))


def fit_cost(params, S, horizon):
    """The predictor's fit: one fit per state over the horizon's lengths."""
    return _pick({f"--likelihood {params.likelihood} (the Gamma predictor's fits over "
                  f"{S} states x {horizon} lengths)":
                  float(S) * horizon * FIT_OPS[params.likelihood]})


def decode_cost(params, trials, mean_length):
    """The Monte Carlo: ``trials`` runs per rule, each at most the cap and about the base
    law's mean length or the budget, whichever is longer."""
    per_run = min(float(params.token_cap), max(mean_length, 1.0) + params.budget)
    if not math.isfinite(per_run):
        per_run = float(params.token_cap)
    return _pick({"--trials (the Monte Carlo runs)": RULES * float(trials) * per_run
                  * TOKEN_OPS})
