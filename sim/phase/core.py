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
from sim import guard as _guard
from sim.backends import array_module, resolve_backend
from sim.phase.kernel_array import tree_words
from sim.phase.kernel_numba import tree_words_numba
from sim.phase.reference import reference_levels
from theory import phase as th
from theory._params import check_int
from theory._stats import chunk_seed, wilson_interval

__all__ = ["TRIALS", "MAX_LEAF_VOTES", "TRIAL_OVERHEAD", "CHUNK_TRIALS", "MAX_NUMPY_LEAVES",
           "cost", "simulate", "tree_levels", "level_counts", "simulate_root", "summarize_levels",
           "theory_accuracy", "unpack_levels", "param_columns"]

#: Default number of simulated trees (the command line's ``--trials``).
TRIALS = 100_000
#: The work limit of a simulation without ``allow`` (``--yes``), in leaf-votes: trees times
#: (leaves per tree + :data:`TRIAL_OVERHEAD`). The Numba kernel draws about 5e9 leaf-votes per
#: second on 2 cores, so the limit is about half a minute of it (:func:`sim.guard.check`).
MAX_LEAF_VOTES = 10**11
#: What one tree costs besides its leaves, in leaf-votes: its host draws, fixed-point
#: probabilities and unpacked levels (about 0.5 microseconds a tree, measured at depth 0).
TRIAL_OVERHEAD = 2500
#: Trees per chunk of :func:`simulate`: a chunk holds about 100 bytes per tree, so a run of
#: any size stays within half a gigabyte. Chunk ``k > 0`` draws from its own seed
#: (:func:`theory._stats.chunk_seed`), so a result depends on the seed and the trials only.
CHUNK_TRIALS = 1 << 22
#: Bytes one tree of :func:`tree_levels` holds at its peak, besides a byte per level.
_TREE_BYTES = 96
#: Most leaves per tree the NumPy reference accepts.
MAX_NUMPY_LEAVES = 1 << 26


def cost(params, trials):
    """The size of :func:`simulate` for :func:`sim.guard.check`: leaf-votes and peak bytes.

    Work is ``trials * (b**depth + TRIAL_OVERHEAD)`` leaf-votes, at most
    :data:`MAX_LEAF_VOTES`; memory is one chunk (:data:`CHUNK_TRIALS` trees).
    """
    per_tree = float(params.b) ** params.depth + TRIAL_OVERHEAD
    chunk = min(float(trials), CHUNK_TRIALS)
    return dict(param="--trials * b**depth", work=float(trials) * per_tree, unit="leaf-votes",
                work_limit=MAX_LEAF_VOTES, memory=chunk * (_TREE_BYTES + params.depth + 1),
                hint="lower --trials or --depth, or pass --yes to run anyway")


def unpack_levels(words, trials):
    """Turn kernel words (W, depth + 1) into booleans (depth + 1, trials)."""
    w = np.ascontiguousarray(np.asarray(words, dtype=np.uint64).T)
    bits = np.unpackbits(w.view(np.uint8), axis=1, bitorder="little")
    return bits[:, :trials].astype(bool)


def _check_size(params, trials, backend, max_leaf_votes, allow, chunk=None):
    n_leaves = params.b ** params.depth
    est = cost(params, trials)
    if chunk is None:  # the whole array comes back
        est["memory"] = float(trials) * (_TREE_BYTES + 2 * (params.depth + 1))
    est["work_limit"] = max_leaf_votes
    _guard.check(est.pop("param"), allow=allow, **est)
    if backend == "numpy" and n_leaves > MAX_NUMPY_LEAVES:
        raise ValueError(f"b**depth must be <= {MAX_NUMPY_LEAVES} leaves for the numpy backend, "
                         f"got {n_leaves}; use numba")


def tree_levels(params, trials, seed=0, backend="auto", max_leaf_votes=MAX_LEAF_VOTES,
                allow=False):
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
        Refuse (:class:`sim.guard.TooLarge`, a ValueError) simulations larger than this many
        leaf-votes (:func:`cost`), or whose array would not fit in memory.
    allow : bool
        Skip that check (the ``--yes`` flag).

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
    _check_size(params, trials, name, max_leaf_votes, allow)
    return _levels(params, trials, seed, name)


def _levels(params, trials, seed, name):
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


def level_counts(params, trials, seed=0, backend="auto", allow=False, progress=None):
    """Correct nodes per level, summed over ``trials`` trees run in chunks of bounded memory.

    The trees go in chunks of :data:`CHUNK_TRIALS`; the first chunk is
    :func:`tree_levels` of ``seed`` itself, chunk ``k`` that of a seed derived
    from ``(seed, k)``. ``progress(done, total)`` is called after each chunk.

    Returns
    -------
    ndarray of int64, shape (depth + 1,)
    """
    trials = check_int("trials", trials, 1)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    _check_size(params, trials, name, MAX_LEAF_VOTES, allow, chunk=CHUNK_TRIALS)
    counts = np.zeros(params.depth + 1, dtype=np.int64)
    for k, start in enumerate(range(0, trials, CHUNK_TRIALS)):
        n = min(CHUNK_TRIALS, trials - start)
        counts += _levels(params, n, chunk_seed(seed, k), name).sum(axis=1)
        if progress is not None:
            progress(start + n, trials)
    return counts


def summarize_levels(params, levels, trials):
    """Per-level accuracy against theory from simulated correctness (the frame of :func:`simulate`).

    Parameters
    ----------
    params : theory.phase.PhaseParams
    levels : ndarray, shape (depth + 1, trials) or (depth + 1,)
        Correctness (bool or 0/1) of one node per level and trial, level 0 =
        leaves, as returned by :func:`tree_levels` or :func:`unpack_levels`;
        or the counts of correct nodes per level (:func:`level_counts`).
    trials : int

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`simulate` without the provenance columns.
    """
    levels = np.asarray(levels)
    k = (levels if levels.ndim == 1 else levels.sum(axis=1)).astype(float)
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


def simulate(params, trials=TRIALS, seed=_cli.DEFAULT_SEED, backend="auto", allow=False,
             progress=None):
    """Simulate trees and compare the accuracy of every level with theory.

    Parameters
    ----------
    params : theory.phase.PhaseParams
    trials : int, default 100000
        Independent trees.
    seed : int, default 0
    backend : {"auto", "numpy", "numba", "cupy"}
    allow : bool
        Run even above :data:`MAX_LEAF_VOTES` (:func:`cost`, :func:`sim.guard.check`).
    progress : callable or None
        ``progress(done, total)`` after each chunk of :data:`CHUNK_TRIALS` trees.

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
    counts = level_counts(params, trials, seed, name, allow=allow, progress=progress)
    df = summarize_levels(params, counts, trials)
    _cli.add_provenance(df, seed, name)
    return df


def simulate_root(params, trials, seed=0, backend="auto", allow=False):
    """Fraction of trials whose root is correct (one float), run as :func:`level_counts`."""
    return float(level_counts(params, trials, seed, backend, allow=allow)[-1] / trials)
