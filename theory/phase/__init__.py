"""Closed forms of the phase-transition model of budgeted multi-agent synergy.

Liu, Kong and Pei, "Phase Transition for Budgeted Multi-Agent Synergy",
arXiv 2601.17311 (v1 24 Jan 2026, v2 12 Feb 2026). The model, its numbered
equations and their provenance are in ``docs/models/phase.md``; docstrings
cite them as ``docs/models/phase.md (N)``, and the paper by its own numbers
(paper Thm 4, Thm 5, Thm 9, Eq. 13, in the v1 numbering).

One concept per module, all re-exported here (``from theory import phase as
th; th.alpha_rho(...)``):

* :mod:`~theory.phase.params` -- :class:`PhaseParams`, the validated
  parameters of one configuration;
* :mod:`~theory.phase.majority` -- the majority map ``f_b`` and ``f_{b,rho}``;
* :mod:`~theory.phase.recursion` -- the layer map, the gain ``alpha_rho``,
  the fixed point and the critical behaviour;
* :mod:`~theory.phase.critical` -- critical fidelity, correlation, fan-in
  and message length;
* :mod:`~theory.phase.budget` -- the exponent ``s``, synergy, the
  allocation of paper Thm 9, ``B_crit`` and the fan-in caps;
* :mod:`~theory.phase.mixing` -- mixing depth and the clipped predictor;
* :mod:`~theory.phase.channels` -- families of ``gamma(m)`` and
  ``sigma_c^2(m)``;
* :mod:`~theory.phase.continuous` -- the continuous star, tree and chain
  risks;
* :mod:`~theory.phase.item` and :mod:`~theory.phase.correlation` -- the three
  correlation models (herding, item difficulty, global shock);
* :mod:`~theory.phase.decide` -- one agent or an integer tree at a budget;
* :mod:`~theory.phase.fit` -- ``beta``, ``rho``, ``p0`` and ``gamma`` estimated
  from measurements.

Conventions
-----------
* ``mu`` is a signal bias, ``mu = 2 p - 1`` for an accuracy ``p``.
* ``b`` is an odd fan-in ``>= 3``, ``rho`` in ``[0, 1)``, ``gamma`` in
  ``(0, 1]``, ``depth`` (``L``) counts aggregation levels above the leaves.
* Functions broadcast: a ``float`` for scalar input, an ``ndarray`` for array
  input. Functions returning one value per level (:func:`iterate`,
  :func:`level_biases`, :func:`clipped_predictor`) put the level axis first,
  so ``result[-1]`` is always the root.
* Functions whose arguments are fields of :class:`PhaseParams` also take the
  parameter object: ``alpha_rho(PhaseParams(rho=0.3))`` (further arguments by
  keyword).
* Invalid input raises :class:`ValueError` (or :class:`TypeError`) with one
  line naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

from theory.phase.budget import (
    CONTEXT,
    MSG_TOKENS,
    b_crit,
    budget_analysis,
    c0,
    edge_count,
    fan_in_max_star,
    fan_in_max_tree,
    n_star,
    organization_exponent,
    synergy,
    tree_cost,
    x_star,
)
from theory.phase.channels import (
    gamma_exp_saturation,
    gamma_isotonic,
    gamma_logistic,
    sigma2_exp,
    sigma2_power,
)
from theory.phase.continuous import (
    budgeted_star_optimum,
    budgeted_star_risk,
    chain_risk_relay,
    chain_risk_running,
    star_risk,
    tree_lambda,
    tree_risk,
    tree_risk_global_shock,
    v_star,
)
from theory.phase.correlation import level_biases, limit_bias, root_bias, star_bias
from theory.phase.critical import b_c, evans_schulman_epsilon, gamma_c, m_c, rho_c
from theory.phase.decide import MAX_DEPTH, decide, leaf_bias, leaf_kappa, tree_candidates
from theory.phase.fit import (
    beta_binomial_logpmf,
    fit_correlation,
    fit_fidelity,
    fit_leaf_law,
    leaf_accuracy,
)
from theory.phase.item import (
    ITEM_METHODS,
    JACOBI_MAX_NODES,
    MIDPOINT_NODES,
    RHO_POINT_MASS,
    beta_params,
    item_root_bias,
)
from theory.phase.majority import f_b, f_b_prime, f_b_prime0, f_b_rho
from theory.phase.mixing import clipped_predictor, delta_depth, mixing_depth
from theory.phase.params import CORRELATIONS, PhaseParams
from theory.phase.recursion import (
    alpha_0,
    alpha_rho,
    contraction_rate,
    critical_decay,
    cubic_coefficient,
    fixed_point,
    iterate,
    layer_map,
    layer_map_prime,
    near_critical_fixed_point,
    regime,
)

__all__ = [
    "PhaseParams",
    "CORRELATIONS",
    # binary core
    "f_b",
    "f_b_prime",
    "f_b_prime0",
    "f_b_rho",
    "layer_map",
    "layer_map_prime",
    "alpha_rho",
    "alpha_0",
    "organization_exponent",
    "regime",
    "fixed_point",
    "contraction_rate",
    "iterate",
    "cubic_coefficient",
    "near_critical_fixed_point",
    "critical_decay",
    "gamma_c",
    "rho_c",
    "b_c",
    "m_c",
    "evans_schulman_epsilon",
    # budget
    "MSG_TOKENS",
    "CONTEXT",
    "c0",
    "edge_count",
    "tree_cost",
    "synergy",
    "x_star",
    "n_star",
    "b_crit",
    "budget_analysis",
    "mixing_depth",
    "delta_depth",
    "clipped_predictor",
    "fan_in_max_tree",
    "fan_in_max_star",
    # channels
    "gamma_exp_saturation",
    "gamma_logistic",
    "gamma_isotonic",
    "sigma2_exp",
    "sigma2_power",
    # continuous warm-up
    "star_risk",
    "budgeted_star_risk",
    "budgeted_star_optimum",
    "tree_lambda",
    "v_star",
    "tree_risk",
    "tree_risk_global_shock",
    "chain_risk_relay",
    "chain_risk_running",
    # correlation models
    "ITEM_METHODS",
    "MIDPOINT_NODES",
    "JACOBI_MAX_NODES",
    "RHO_POINT_MASS",
    "beta_params",
    "level_biases",
    "root_bias",
    "item_root_bias",
    "star_bias",
    "limit_bias",
    # decisions on the user's numbers: (42)-(44)
    "MAX_DEPTH",
    "leaf_kappa",
    "leaf_bias",
    "tree_candidates",
    "decide",
    # estimates from measurements: (45)-(47)
    "leaf_accuracy",
    "fit_leaf_law",
    "beta_binomial_logpmf",
    "fit_correlation",
    "fit_fidelity",
]
