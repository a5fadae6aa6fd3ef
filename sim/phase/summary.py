"""The closed-form headline numbers of one configuration: gain, regime, thresholds, ceiling.

The report of ``python -m sim.phase`` and the phase sweep's boundary use them.
"""

from __future__ import annotations

import math

from theory import phase as th

__all__ = ["summary"]


def _none_if_nan(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def summary(params):
    """The closed-form headline numbers for ``params`` (a JSON-ready dict).

    Parameters
    ----------
    params : theory.phase.PhaseParams

    Returns
    -------
    dict
        ``alpha`` (the gain ``alpha_rho`` of paper Thm 4,
        ``docs/models/phase.md (5)``), ``alpha_0`` (the per-item gain,
        ``(14)``), ``gain`` (the gain that sets the model's threshold:
        ``alpha_rho`` under herding, the node-herding gain of the latent
        models otherwise), ``s`` (the organization exponent, ``(15)``),
        ``regime`` (``"amplifying"``, ``"washout"`` or ``"critical"``, from
        ``gain``), ``gamma_c`` (the model's critical fidelity, ``(11)``),
        ``rho_c`` (herding only, else None), ``mu_star`` (the fixed point of
        the model's layer map), ``p_star`` (the deep-tree accuracy ceiling
        ``(1 + limit)/2``, ``(28)``) and ``mixing_depth`` (``(21)``; herding
        and amplifying only, else None).
    """
    b, rho, gamma = params.b, params.rho, params.gamma
    alpha = float(th.alpha_rho(params))
    alpha0 = float(th.alpha_0(params))
    if params.correlation == "herding":
        gain = alpha
        mu_star = float(th.fixed_point(params))
        gamma_c = float(th.gamma_c(params))
        rho_c = _none_if_nan(th.rho_c(params))
        ceiling_bias = mu_star
    else:
        gain = float(th.layer_map_prime(0.0, b, params.rho_node, gamma))
        mu_star = float(th.fixed_point(b, params.rho_node, gamma))
        gamma_c = float(th.gamma_c(params.rho_node, b))
        rho_c = None
        ceiling_bias = float(th.limit_bias(params))
    regime = th.regime(gain)
    mu0 = params.mu0
    # the mixing depth is defined for the herding recursion only
    if params.correlation == "herding" and regime == "amplifying" and mu0 > 0:
        mixing = int(th.mixing_depth(params))
    else:
        mixing = None
    return dict(
        alpha=alpha, alpha_0=alpha0, gain=gain,
        s=_none_if_nan(th.organization_exponent(b, rho, gamma)),
        regime=regime, gamma_c=gamma_c, rho_c=rho_c,
        mu_star=mu_star, p_star=(1.0 + ceiling_bias) / 2.0,
        mixing_depth=mixing,
    )
