"""Monte Carlo of the phase-transition model, against its closed forms.

Simulates b-ary majority trees of correlated agents with lossy messages
(Liu, Kong, Pei, arXiv 2601.17311) and the continuous warm-up (star, chain
and tree averaging), and compares every estimate with the closed forms of
:mod:`theory.phase`. The model, its equations and the command line
(``python -m sim.phase``) are described in ``docs/models/phase.md``.

The package, one concept per module:

* :mod:`~sim.phase.core` -- :func:`simulate`, :func:`tree_levels`: validate,
  draw, dispatch to a backend, compare with the theory;
* :mod:`~sim.phase.draws` -- host draws (per-trial latent variables) and the
  kernels' inputs;
* :mod:`~sim.phase.layout` -- the counter layout of the kernels' random stream;
* :mod:`~sim.phase.reference` -- the NumPy reference, the model written out;
* :mod:`~sim.phase.kernel_numba` -- the bit-sliced Numba kernel;
* :mod:`~sim.phase.kernel_array` -- the same kernel on NumPy or CuPy arrays
  (the ``cupy`` backend), bit-identical to the Numba kernel;
* :mod:`~sim.phase.continuous` -- the continuous warm-up and its kernels;
* :mod:`~sim.phase.summary` -- the closed-form headline numbers;
* :mod:`~sim.phase.diagram`, :mod:`~sim.phase.plot` -- the phase diagram;
* :mod:`~sim.phase.sweep` -- :data:`SWEEP` and :func:`phase_boundary`;
* ``__main__`` -- the command line.

Backends: ``numpy`` is the literal reference (one int8 per vote, a uniformly
chosen child when herding); ``numba`` is the bit-sliced kernel (64 trials per
machine word); ``cupy`` runs the array kernel on a GPU and returns words
bit-identical to ``numba`` for the same seed.
"""

from __future__ import annotations

from sim.phase.continuous import ORGANIZATIONS, simulate_continuous
from sim.phase.core import (
    MAX_LEAF_VOTES,
    TRIALS,
    cost,
    level_counts,
    simulate,
    simulate_root,
    summarize_levels,
    theory_accuracy,
    tree_levels,
    unpack_levels,
)
from sim.phase.diagram import phase_diagram
from sim.phase.draws import kernel_inputs, lane_probabilities
from sim.phase.kernel_array import tree_words
from sim.phase.kernel_numba import LOCKSTEP_WORDS, tree_words_numba
from sim.phase.layout import level_offsets
from sim.phase.plot import plot_phase_diagram
from sim.phase.reference import reference_levels, sample_effective_votes, sample_leaves
from sim.phase.summary import summary
from sim.phase.sweep import SWEEP, phase_boundary
from theory.phase import PhaseParams as Params

#: The model's name (``sim.registry``).
NAME = "phase"

__all__ = [
    "NAME",
    "Params",
    "simulate",
    "SWEEP",
    "TRIALS",
    "MAX_LEAF_VOTES",
    "cost",
    "level_counts",
    "tree_levels",
    "simulate_root",
    "summarize_levels",
    "theory_accuracy",
    "unpack_levels",
    "summary",
    "lane_probabilities",
    "kernel_inputs",
    "reference_levels",
    "sample_effective_votes",
    "sample_leaves",
    "tree_words_numba",
    "tree_words",
    "LOCKSTEP_WORDS",
    "level_offsets",
    "ORGANIZATIONS",
    "simulate_continuous",
    "phase_diagram",
    "plot_phase_diagram",
    "phase_boundary",
]
