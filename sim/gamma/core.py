"""The gamma model's Monte Carlo beside its exact laws: ``simulate``, ``compare``, ``decode``.

:func:`simulate` takes a :class:`theory.gamma.GammaParams`, builds the toy,
fits the Gamma predictor and compares every decoding rule of
:func:`sim.gamma.methods.default_methods`; :func:`compare` does the same for
any toy, rules and predictor; :func:`decode` runs the Monte Carlo of one rule
on a backend. Exact values come from the forward programme
(docs/models/gamma.md (18)), simulated ones from the same seed on every
backend (:mod:`sim.gamma.layout`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim import rng as _rng
from sim.backends import array_module, resolve_backend
from sim.gamma.exact import exact_law, law_summary, remaining_length_pmf
from sim.gamma.kernel_array import decode_array
from sim.gamma.kernel_numba import decode_numba
from sim.gamma.layout import STREAM
from sim.gamma.methods import Method, default_methods, guided_table
from sim.gamma.predictor import fit_predictor
from sim.gamma.reference import decode_reference
from sim.gamma.size import (
    MAX_HORIZON,
    MAX_WORK,
    decode_cost,
    fit_cost,
    horizon_limit,
    run_cost,
)
from sim.gamma.toy import toy_model
from theory._params import check_int
from theory.gamma import GammaParams

__all__ = ["TRIALS", "simulate", "compare", "decode", "predictor_for", "methods_for",
           "remaining_law"]

#: Default Monte Carlo size: runs per decoding rule.
TRIALS = 20_000


def decode(model, method, budget, trials=TRIALS, seed=_cli.DEFAULT_SEED, backend="auto",
           predictor=None, max_tokens=None, table=None):
    """Monte Carlo of one decoding rule: thinking lengths and guidance counts.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    method : sim.gamma.methods.Method
    budget : int
        Thinking budget ``lbar >= 1``.
    trials : int
        Runs (``>= 1``).
    seed : int
        Root seed, ``>= 0``.
    backend : {"numpy", "numba", "cupy", "auto"}
        ``numpy`` runs the decoder literally (:mod:`sim.gamma.reference`);
        ``numba`` and ``cupy`` sample the precomputed rows of
        :func:`sim.gamma.methods.guided_table`. The same seed realises the
        same runs on every backend.
    predictor : sim.gamma.predictor.GammaPredictor or None
        Needed by rules guided by a Gamma predictor.
    max_tokens : int or None
        Generation cap, ``>= budget``; default ``20 * budget + 1000``
        (:attr:`theory.gamma.GammaParams.token_cap`). Runs without an end by
        then are runaways (length reported as ``max_tokens + 1``).
    table : sim.gamma.methods.Table or None
        Precomputed rows of ``method``.

    Returns
    -------
    dict
        ``lengths`` (int array), ``guided_steps``, ``fallbacks`` (per-run
        arrays), ``picks`` (tokens chosen at guided steps, summed),
        ``backend``, ``max_tokens``.
    """
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    max_tokens = GammaParams(budget=budget, max_tokens=max_tokens).token_cap
    budget = int(budget)
    backend = resolve_backend(backend)
    if table is None:
        table = guided_table(model, method, budget, predictor)
    key = _rng.stream_key(seed, STREAM)
    if backend == "numpy":
        out = decode_reference(model, method, table, predictor, trials, key, max_tokens)
    elif backend == "numba":
        out = decode_numba(model, table, trials, key, max_tokens)
    else:
        out = decode_array(model, table, trials, key, max_tokens, xp=array_module(backend))
    lengths, g, f, picks = out
    return dict(lengths=lengths, guided_steps=g, fallbacks=f, picks=picks, backend=backend,
                max_tokens=max_tokens)


def _sim_summary(lengths, budget, max_tokens):
    lengths = np.asarray(lengths)
    n = lengths.size
    fin = lengths <= max_tokens
    ok = lengths <= budget
    adh = ok.mean()
    over = np.maximum(lengths - budget, 0)
    return dict(adherence=float(adh), adherence_se=float(math.sqrt(max(adh * (1 - adh), 0) / n)),
                mean_length=float(lengths[fin].mean()) if fin.any() else float("nan"),
                mean_length_se=float(lengths[fin].std(ddof=1) / math.sqrt(fin.sum()))
                if fin.sum() > 1 else float("nan"),
                overshoot_p90=int(np.quantile(over, 0.9, method="inverted_cdf")),
                overshoot_p99=int(np.quantile(over, 0.99, method="inverted_cdf")),
                overshoot_max=int(over.max()), runaway=float((~fin).mean()))


def compare(model, budget, methods=None, predictor=None, trials=TRIALS, seed=_cli.DEFAULT_SEED,
            backend="auto", max_tokens=None, progress=None, rem=None):
    """Exact and simulated behaviour of several decoding rules on one toy model.

    Parameters
    ----------
    model : sim.gamma.toy.ToyLM
    budget : int
        Thinking budget ``lbar >= 1``.
    methods : list of sim.gamma.methods.Method or None
        Default :func:`sim.gamma.methods.default_methods`.
    predictor : sim.gamma.predictor.GammaPredictor or None
        Default: :func:`sim.gamma.predictor.fit_predictor` of ``model``, when a
        rule needs one.
    trials, seed, backend, max_tokens
        See :func:`decode`.
    progress : callable or None
        Called once per finished rule.
    rem : ndarray or None
        Precomputed :func:`sim.gamma.exact.remaining_length_pmf` of ``model``.

    Returns
    -------
    pandas.DataFrame
        One row per method: exact (``*_exact``) and simulated (``*_sim``)
        adherence ``Pr(T <= budget)``, mean length, overshoot quantiles,
        runaway rate, ``tv`` and ``kl`` to the base law conditioned on
        ``T <= budget``, guided steps and fallbacks per run (exact
        expectation and simulated mean), masked mass, and the provenance
        columns ``seed``, ``backend``, ``version``. ``df.attrs["laws"]`` maps
        each method to ``(exact pmf, simulated lengths)``,
        ``df.attrs["base"]`` is the unguided law, ``df.attrs["toy"]`` the toy
        and ``df.attrs["predictor"]`` the Gamma predictor (or None).
    """
    budget = check_int("budget", budget, 1)
    methods = default_methods(model) if methods is None else methods
    rem = remaining_length_pmf(model) if rem is None else rem
    if predictor is None and any(m.predictor == "gamma" for m in methods if m.kind == "guided"):
        predictor = fit_predictor(model, rem=rem)
    max_tokens = GammaParams(budget=budget, max_tokens=max_tokens).token_cap
    base = exact_law(model, guided_table(model, Method("u", kind="unguided", predictor=None),
                                         budget), max_tokens)
    rows = []
    laws = {}
    for m in methods:
        table = guided_table(model, m, budget, predictor, rem)
        ex = exact_law(model, table, max_tokens)
        es = law_summary(ex["pmf"], budget, ex["runaway"], reference=base["pmf"])
        sim = decode(model, m, budget, trials, seed, backend, predictor, max_tokens, table=table)
        ss = _sim_summary(sim["lengths"], budget, max_tokens)
        laws[m.name] = (ex["pmf"], sim["lengths"])
        row = dict(name=m.name, kind=m.kind, predictor=m.predictor, trigger=m.trigger,
                   mode=m.mode, strength=m.strength)
        row.update({f"{k}_exact": v for k, v in es.items()})
        row.update({f"{k}_sim": v for k, v in ss.items()})
        row.update(guided_steps_exact=ex["guided_steps"],
                   guided_steps_sim=float(sim["guided_steps"].mean()),
                   fallbacks_exact=ex["fallbacks"], fallbacks_sim=float(sim["fallbacks"].mean()),
                   masked_mass=ex["masked"])
        rows.append(row)
        if progress:
            progress()
    df = pd.DataFrame(rows)
    df["model"] = model.name
    df["budget"] = budget
    df["trials"] = trials
    _cli.add_provenance(df, seed, sim["backend"])
    df.attrs["laws"] = laws
    df.attrs["base"] = base["pmf"]
    df.attrs["toy"] = model
    df.attrs["predictor"] = predictor
    return df


def predictor_for(params, model=None, rem=None):
    """The fitted Gamma predictor that ``params`` describes (distortion, likelihood, untrained).

    ``rem``: the precomputed :func:`sim.gamma.exact.remaining_length_pmf` of the toy.
    """
    model = toy_model(params) if model is None else model
    return fit_predictor(model, stop_cv=params.stop_cv, distortion=params.distortion,
                         likelihood=params.likelihood, untrained_tokens=params.untrained,
                         rem=rem)


def remaining_law(model, allow=False):
    """:func:`sim.gamma.exact.remaining_length_pmf` of ``model`` within the guard's limits.

    The horizon grows until the law's missing mass is negligible; where that
    would take more memory or work than the guard allows
    (:func:`sim.gamma.size.horizon_limit`), a one-line
    :class:`sim.guard.TooLarge` names the toy's states (``allow`` lifts it).
    """
    limit = horizon_limit(model.n_states, allow)
    rem = remaining_length_pmf(model, max_horizon=limit)
    if limit < MAX_HORIZON and rem.shape[1] >= limit and np.any(1.0 - rem.sum(axis=1) >= 1e-13):
        S = model.n_states
        _guard.check(f"the remaining-length law of the toy's {S} states (--max-paragraph, "
                     f"--plan-max, --newline, --h)", work=8.0 * S * MAX_HORIZON,
                     memory=16.0 * S * MAX_HORIZON, unit="operations",
                     work_limit=MAX_WORK)
    missing = 1.0 - float(rem[model.start].sum())
    if missing > 1.0 - 1e-6:  # almost no mass within the horizon: nothing to fit or run
        raise ValueError(f"the toy rarely ends its thinking: Pr(length > {rem.shape[1]}) = "
                         f"{missing:.3g}; raise --h (geometric) or --p-end, lower --p-wait "
                         f"(paragraph)")
    return rem


def methods_for(params, model=None):
    """The decoding rules :func:`simulate` compares, with ``params``' strength and mask."""
    model = toy_model(params) if model is None else model
    return default_methods(model, strength=params.strength, rate_min=params.rate_min,
                           alpha_min=params.alpha_min, mode_min=params.mode_min)


def simulate(params=None, trials=TRIALS, seed=_cli.DEFAULT_SEED, backend="auto", progress=None,
             allow=False):
    """Every decoding rule on the toy of ``params``: exact law beside Monte Carlo.

    Builds the toy (:func:`sim.gamma.toy.toy_model`), fits its Gamma predictor
    (:func:`predictor_for`), and compares the rules of :func:`methods_for`
    at the budget and generation cap of ``params`` (:func:`compare`).

    Parameters
    ----------
    params : theory.gamma.GammaParams or None
        Default ``GammaParams()``, the command line's defaults.
    trials : int
        Runs per decoding rule.
    seed : int
        Root seed, ``>= 0``.
    backend : {"numpy", "numba", "cupy", "auto"}
    progress : callable or None
        Called once per finished rule.
    allow : bool
        Run even when the size exceeds this machine's limits (:mod:`sim.gamma.size`,
        :func:`sim.guard.check`); without it every part is checked before it runs.

    Returns
    -------
    pandas.DataFrame
        As :func:`compare`: one row per rule, ``*_exact`` beside ``*_sim``.

    Examples
    --------
    >>> from sim import gamma
    >>> df = gamma.simulate(gamma.Params(toy="geometric"), trials=2000)
    >>> round(float(df.set_index("name").loc["oracle, every token", "mean_length_exact"]), 2)
    57.33
    """
    params = GammaParams() if params is None else params
    if not isinstance(params, GammaParams):
        raise TypeError(f"params must be a GammaParams, got {type(params).__name__}")
    trials = check_int("trials", trials, 1)

    def guard(est):
        _guard.check(est.pop("param"), allow=allow, **est)

    for est in run_cost(params, trials):
        guard(est)
    model = toy_model(params)
    rem = remaining_law(model, allow)
    guard(fit_cost(params, model.n_states, rem.shape[1]))
    mean = float(np.arange(1, rem.shape[1] + 1) @ rem[model.start])
    guard(decode_cost(params, trials, mean))
    return compare(model, params.budget, methods_for(params, model),
                   predictor_for(params, model, rem), trials, seed, backend, params.max_tokens,
                   progress=progress, rem=rem)
