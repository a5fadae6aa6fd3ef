"""Simulate majority trees on a backend and compare every level with the theory.

:func:`simulate` is the model's main Monte Carlo run (the ``simulate`` of
:class:`sim.interface.Model`): it validates, draws the host randoms, runs the
chosen backend (:mod:`sim.phase.reference`, :mod:`sim.phase.kernel_numba`,
or :mod:`sim.phase.kernel_array` on CuPy) and returns a tidy frame with the
closed form of :func:`theory.phase.level_biases` beside each estimate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from sim import _cli
from sim.backends import array_module, resolve_backend
from sim.phase.kernel_array import tree_words
from sim.phase.kernel_numba import tree_words_numba
from sim.phase.reference import reference_levels
from theory import phase as th
from theory._params import check_int
from theory._stats import wilson_interval

__all__ = ["TRIALS", "MAX_LEAF_VOTES", "MAX_NUMPY_LEAVES", "simulate", "tree_levels",
           "simulate_root", "summarize_levels", "theory_accuracy", "unpack_levels",
           "param_columns"]

#: Default number of simulated trees (the command line's ``--trials``).
TRIALS = 100_000
#: Largest simulation :func:`tree_levels` accepts by default, in leaf-votes
#: (trees times leaves): about three minutes of the Numba kernel on 2 cores.
MAX_LEAF_VOTES = 10**12
#: Most leaves per tree the NumPy reference accepts.
MAX_NUMPY_LEAVES = 1 << 26
#: Two-sided 95% normal quantile of the Wilson interval.


def unpack_levels(words, trials):
    """Turn kernel words (W, depth + 1) into booleans (depth + 1, trials)."""
    w = np.ascontiguousarray(np.asarray(words, dtype=np.uint64).T)
    bits = np.unpackbits(w.view(np.uint8), axis=1, bitorder="little")
    return bits[:, :trials].astype(bool)


def _check_size(params, trials, backend, max_leaf_votes):
    n_leaves = params.b ** params.depth
    votes = trials * n_leaves
    if votes > max_leaf_votes:
        raise ValueError(f"trials * b**depth must be <= {max_leaf_votes:.0e} leaf-votes, got "
                         f"{votes:.2e}; lower trials or depth")
    if backend == "numpy" and n_leaves > MAX_NUMPY_LEAVES:
        raise ValueError(f"b**depth must be <= {MAX_NUMPY_LEAVES} leaves for the numpy backend, "
                         f"got {n_leaves}; use numba")


def tree_levels(params, trials, seed=0, backend="auto", max_leaf_votes=MAX_LEAF_VOTES):
    """Correctness of the first node of every level, trial by trial.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int
        Independent trees to simulate.
    seed : int
        Root seed; the same seed gives the same numbers on the same backend,
        and ``numba`` and ``cupy`` give identical numbers.
    backend : {"auto", "numpy", "numba", "cupy"}
    max_leaf_votes : int
        Refuse (ValueError) simulations larger than this many leaf-votes.

    Returns
    -------
    ndarray of bool, shape (depth + 1, trials)
        Row ``l`` holds whether the leftmost node of level ``l`` output the
        correct answer (level 0: a leaf's own vote; the last row is the root,
        after its channel when ``root_channel``).
    """
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    _check_size(params, trials, name, max_leaf_votes)
    if name == "numpy":
        return reference_levels(params, trials, seed)[0]
    if name == "numba":
        return unpack_levels(tree_words_numba(params, trials, seed), trials)
    return unpack_levels(tree_words(params, trials, seed, xp=array_module(name)), trials)


def param_columns(params):
    """The parameters of ``params`` as a dict of plain values (frame columns)."""
    return dataclasses.asdict(params)


def theory_accuracy(params):
    """Theoretical accuracy of a node's output at each level, ``(1 + E mu_l) / 2``.

    ``docs/models/phase.md (23)-(27)``, from :func:`theory.phase.level_biases`.
    """
    mu = th.level_biases(params)
    return (1.0 + np.asarray(mu, dtype=float)) / 2.0


def summarize_levels(params, levels, trials):
    """Per-level accuracy against theory from simulated correctness (the frame of :func:`simulate`).

    Parameters
    ----------
    params : theory.phase.PhaseParams
    levels : ndarray, shape (depth + 1, trials)
        Correctness (bool or 0/1) of one node per level and trial, level 0 =
        leaves, as returned by :func:`tree_levels` or :func:`unpack_levels`.
    trials : int

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`simulate` without the provenance columns.
    """
    k = np.asarray(levels).sum(axis=1).astype(float)
    p_sim = k / trials
    p_th = theory_accuracy(params)
    se_th = np.sqrt(np.maximum(p_th * (1.0 - p_th), 0.0) / trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_th > 0, (p_sim - p_th) / se_th, np.where(p_sim == p_th, 0.0, np.inf))
    lo, hi = wilson_interval(k, trials)
    df = pd.DataFrame(dict(
        level=np.arange(params.depth + 1), p_theory=p_th, p_sim=p_sim,
        se=np.sqrt(p_sim * (1 - p_sim) / trials), ci_low=lo, ci_high=hi, z=z,
        trials=trials,
    ))
    for col, val in param_columns(params).items():
        df[col] = val
    return df


def simulate(params, trials=TRIALS, seed=_cli.DEFAULT_SEED, backend="auto"):
    """Simulate trees and compare the accuracy of every level with theory.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int, default 100000
        Independent trees.
    seed : int, default 0
    backend : {"auto", "numpy", "numba", "cupy"}

    Returns
    -------
    pandas.DataFrame
        One row per level (0 = leaves .. depth = root) with columns ``level``,
        ``p_theory``, ``p_sim``, ``se`` (binomial standard error of ``p_sim``),
        ``ci_low``, ``ci_high`` (95% Wilson interval), ``z`` ((p_sim -
        p_theory) / se at the theoretical p), ``trials``, the parameters,
        ``seed``, ``backend`` and ``version``.

    Examples
    --------
    >>> from sim import phase
    >>> df = phase.simulate(phase.Params(rho=0.3), trials=10_000, backend="numba")
    >>> list(df.columns[:4])
    ['level', 'p_theory', 'p_sim', 'se']
    """
    name = resolve_backend(backend)
    df = summarize_levels(params, tree_levels(params, trials, seed, name), trials)
    _cli.add_provenance(df, seed, name)
    return df


def simulate_root(params, trials, seed=0, backend="auto"):
    """Fraction of trials whose root is correct (one float)."""
    return float(tree_levels(params, trials, seed, backend)[-1].mean())
