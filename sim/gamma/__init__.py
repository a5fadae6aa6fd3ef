"""Budget guidance on Markov toy language models, exact laws beside Monte Carlo.

Guided decoding (Li et al., "Steering LLM Thinking with Budget Guidance",
arXiv 2506.13752; docs/models/gamma.md) multiplies the next-token probability
of every candidate ``v`` by ``a_v = Pr(L <= b_t | v)``, the chance that
thinking ends within the remaining budget if ``v`` is emitted, and
renormalises (docs/models/gamma.md (11)-(13)). This package runs it on toy
language models whose next-token law depends only on a small latent state, so
that every decoding rule has an **exact** length law by forward dynamic
programming over ``(state, step)`` (docs/models/gamma.md (18)), checked
against Monte Carlo:

* the toys (:mod:`sim.gamma.toy`): the geometric toy and the paragraph toy;
* their exact laws and oracle weights (:mod:`sim.gamma.exact`), the fitted
  Gamma predictors (:mod:`sim.gamma.predictor`) and the decoding rules with
  their transition rows (:mod:`sim.gamma.methods`);
* the Monte Carlo: a NumPy reference that runs the decoder literally
  (:mod:`sim.gamma.reference`), a Numba kernel and an array kernel for NumPy
  or CuPy (:mod:`sim.gamma.kernel_numba`, :mod:`sim.gamma.kernel_array`), on
  one counter layout (:mod:`sim.gamma.layout`), so they realise the same runs;
* the guidance operator over a whole vocabulary (:mod:`sim.gamma.guide`),
  fitting observed lengths (:mod:`sim.gamma.fit`), figures
  (:mod:`sim.gamma.plot`), the sweep (:mod:`sim.gamma.sweep`) and the command
  line ``python -m sim.gamma``.

>>> from sim import gamma
>>> df = gamma.simulate(gamma.Params(toy="geometric", budget=150), trials=2000)
"""

from __future__ import annotations

from sim.gamma.core import TRIALS, compare, decode, methods_for, predictor_for, simulate
from sim.gamma.exact import (
    candidate_length_pmf,
    exact_law,
    law_summary,
    oracle_weights,
    remaining_length_pmf,
)
from sim.gamma.fit import fit_report, load_lengths
from sim.gamma.guide import guide_jax, guide_numba, guide_xp
from sim.gamma.kernel_array import decode_array
from sim.gamma.kernel_numba import decode_numba
from sim.gamma.methods import Method, Table, default_methods, guided_table
from sim.gamma.plot import plot_adherence, plot_comparison, plot_fit, plot_lengths, plot_pit
from sim.gamma.predictor import GammaPredictor, fit_predictor, predictor_pit, untrained
from sim.gamma.reference import decode_reference
from sim.gamma.sweep import SWEEP
from sim.gamma.toy import ToyLM, geometric_model, paragraph_model, toy_model
from theory.gamma import GammaParams as Params

__all__ = [
    "NAME",
    "Params",
    "simulate",
    "SWEEP",
    "TRIALS",
    "ToyLM",
    "geometric_model",
    "paragraph_model",
    "toy_model",
    "remaining_length_pmf",
    "candidate_length_pmf",
    "oracle_weights",
    "exact_law",
    "law_summary",
    "GammaPredictor",
    "fit_predictor",
    "untrained",
    "predictor_pit",
    "Method",
    "Table",
    "default_methods",
    "guided_table",
    "compare",
    "decode",
    "methods_for",
    "predictor_for",
    "decode_reference",
    "decode_numba",
    "decode_array",
    "guide_numba",
    "guide_xp",
    "guide_jax",
    "load_lengths",
    "fit_report",
    "plot_lengths",
    "plot_pit",
    "plot_comparison",
    "plot_fit",
    "plot_adherence",
    "main",
]

#: The model's name in :data:`sim.registry.MODELS`.
NAME = "gamma"


def main(argv=None):
    """Run ``python -m sim.gamma`` (see :mod:`sim.gamma.__main__`); returns the exit status."""
    from sim.gamma.__main__ import main as _main

    return _main(argv)
