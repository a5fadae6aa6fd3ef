"""Expected bias at every level under the three correlation models, and their deep limits.

``docs/models/phase.md (23)-(29)``: herding (the paper's recursion), item
difficulty and a global shock, each composable with node herding; the star
(one level) and the ``L -> infinity`` limits of each.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from theory._params import accepts_params, check_bool, check_odd_int, check_real_array
from theory.phase._numeric import _core_args, _f, _iterate, _out, _scalar_map, _vectorize
from theory.phase.item import (
    RHO_POINT_MASS,
    _beta_ac,
    _beta_quad,
    _check_common,
    _item_levels_scalar,
    item_root_bias,
)
from theory.phase.params import correlation_name
from theory.phase.recursion import fixed_point

__all__ = ["level_biases", "root_bias", "star_bias", "limit_bias"]


@accepts_params
def level_biases(correlation, b, depth, rho, gamma, mu0, rho_node=0.0, root_channel=False,
                 method="quad"):
    """Expected bias of a node's output at every level of a majority tree.

    ``docs/models/phase.md (23)-(27)``.

    Level 0 is the leaves (``mu0``); level ``l`` is a node ``l`` levels up;
    ``g`` is the layer map with node herding ``rho_node`` (``rho_node = 0``
    gives ``h(mu) = f_b(gamma mu)``).

    * ``"herding"`` (default model; reproduces the recursion of paper Thm 4,
      ``docs/models/phase.md (23)``):
      ``mu_l = g_rho^l(mu0)``, node herding with probability ``rho``.
    * ``"item"`` (item difficulty, derived here, ``docs/models/phase.md (25)``): one
      ``p_item ~ Beta(a, c)`` per item shared by all leaves, with
      ``(a, c) = beta_params(mu0, rho)``;
      ``E[mu_l] = int g^l(2p - 1) Beta(p; a, c) dp``. ``rho = 0`` or
      ``|mu0| = 1`` is a point mass and gives ``g^l(mu0)``; so is
      ``rho < RHO_POINT_MASS`` (1e-10), below which the Beta law is narrower
      than the quadrature can resolve.
    * ``"shock"`` / ``"global_shock"`` (an ablation, derived here,
      ``docs/models/phase.md (26)``): ``E[mu_l] = rho mu0 g^l(1) + (1 - rho) g^l(mu0)``.

    ``rho_node > 0`` composes leaf-level ``"item"``/``"shock"`` correlation
    with node herding (``docs/models/phase.md (27)``).

    Parameters
    ----------
    correlation : {"herding", "item", "shock", "global_shock"}
        Correlation model (an open choice, ``docs/models/phase.md``, section
        "Open choices").
    b : int
        Odd fan-in ``>= 3``.
    depth : int
        Tree depth ``L >= 0``.
    rho : array_like
        Correlation in ``[0, 1)`` (pairwise correlation of signed correctness
        between the relevant votes, ``docs/models/phase.md``, section "Three
        correlation models").
    gamma : array_like
        Channel fidelity in ``(0, 1]`` on every edge.
    mu0 : array_like
        Leaf bias (mean leaf bias under ``"item"``) in ``[-1, 1]``.
    rho_node : float, default 0.0
        Node herding composed with ``"item"`` or ``"shock"``, in ``[0, 1)``;
        must be 0 for ``"herding"``.
    root_channel : bool, default False
        An open choice (``docs/models/phase.md (27)``): when True the root's
        output also passes a channel, so the last entry is multiplied by ``gamma``.
    method : {"quad", "jacobi", "midpoint"}, default "quad"
        Quadrature of the ``"item"`` integral (``docs/models/phase.md (25)``): ``"quad"`` splits at
        ``p = 1/2`` and uses QUADPACK's algebraic endpoint weights;
        ``"jacobi"`` is Gauss-Jacobi in ``x = 2p - 1``, exact with
        ``(b^L + 1)/2`` nodes (raises ValueError beyond ``JACOBI_MAX_NODES``
        nodes or for ``rho < 1/1025``); ``"midpoint"`` is the
        inverse-CDF midpoint rule with ``MIDPOINT_NODES`` nodes (about 1e-4).
        Ignored by the other models.

    Returns
    -------
    ndarray
        Shape ``(depth + 1,) + broadcast(rho, gamma, mu0).shape``; entry ``l``
        is ``E[mu_l]``.
    """
    correlation = correlation_name(correlation)
    b, depth, rho, gamma, mu0, rho_node, method = _check_common(
        b, depth, rho, gamma, mu0, rho_node, method
    )
    root_channel = check_bool("root_channel", root_channel)
    if correlation == "herding":
        if rho_node != 0.0:
            raise ValueError(
                f"rho_node must be 0 when correlation='herding', got {rho_node:g}"
            )
        out = _iterate(mu0, b, rho, gamma, depth)
    elif correlation == "shock":
        rho, gamma, mu0 = np.broadcast_arrays(rho, gamma, mu0)
        from_one = _iterate(np.ones_like(mu0), b, rho_node, gamma, depth)
        from_mu0 = _iterate(mu0, b, rho_node, gamma, depth)
        out = rho * mu0 * from_one + (1.0 - rho) * from_mu0
        out[0] = mu0  # exact at the leaves
    else:
        rho, gamma, mu0 = np.broadcast_arrays(rho, gamma, mu0)
        out = np.empty((depth + 1,) + mu0.shape)
        levels = list(range(depth + 1))
        for idx in np.ndindex(mu0.shape):
            out[(slice(None),) + idx] = _item_levels_scalar(
                b, depth, float(rho[idx]), float(gamma[idx]), float(mu0[idx]), rho_node,
                method, levels,
            )
    if root_channel:
        out[-1] = out[-1] * gamma
    return out


@accepts_params
def root_bias(correlation, b, depth, rho, gamma, mu0, rho_node=0.0, root_channel=False,
              method="quad"):
    """Expected root bias, ``level_biases(...)[-1]``.

    ``docs/models/phase.md (23)-(27)``.

    See :func:`level_biases` for the models and parameters. Root accuracy is
    ``(1 + root_bias) / 2``.

    Returns
    -------
    float or ndarray
        Shape ``broadcast(rho, gamma, mu0).shape``.
    """
    correlation = correlation_name(correlation)
    if correlation == "item":
        out = item_root_bias(b, depth, rho, gamma, mu0, rho_node=rho_node, method=method)
        if check_bool("root_channel", root_channel):
            out = out * check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
        return _out(out)
    return _out(
        level_biases(correlation, b, depth, rho, gamma, mu0, rho_node, root_channel, method)[-1]
    )


@accepts_params
def star_bias(correlation, N, rho, gamma, mu0):
    """Expected output bias of a one-level star of ``N`` leaves.

    ``docs/models/phase.md (29)``.

    * ``"herding"``: ``rho gamma mu0 + (1 - rho) f_N(gamma mu0)``.
    * ``"item"``: ``E[f_N(gamma (2p - 1))]``, ``p ~ Beta(beta_params(mu0, rho))``
      (with ``gamma = 1`` this is the beta-binomial majority).
    * ``"shock"``: ``rho mu0 f_N(gamma) + (1 - rho) f_N(gamma mu0)``.

    All derived here. The fan-in cap ``N m <= W`` is checked by the
    caller (:func:`fan_in_max_star`).

    Parameters
    ----------
    correlation : {"herding", "item", "shock", "global_shock"}
    N : int
        Odd number of leaves ``>= 1``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.
    mu0 : array_like
        Leaf bias in ``[-1, 1]``.

    Returns
    -------
    float or ndarray
    """
    correlation = correlation_name(correlation)
    N = check_odd_int("N", N, lo=1)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real_array("gamma", gamma, 0.0, 1.0, lo_open=True)
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    if correlation == "herding":
        return _out(rho * gamma * mu0 + (1.0 - rho) * _f(gamma * mu0, N))
    if correlation == "shock":
        return _out(rho * mu0 * _f(gamma, N) + (1.0 - rho) * _f(gamma * mu0, N))

    def item(r, g, m):
        if r < RHO_POINT_MASS or abs(m) == 1.0:
            return float(_f(g * m, N))
        a, c = _beta_ac(m, r)
        return _beta_quad(_scalar_map(N, 0.0, g), a, c)

    return _vectorize(item, rho, gamma, mu0)


@accepts_params
def limit_bias(correlation, b, rho, gamma, mu0):
    """Deep-tree limit ``lim_{L -> inf} E[mu_L]``.

    ``docs/models/phase.md (28)``.

    * ``"herding"``: ``sign(mu0) mu*`` (paper Thm 4; 0 when ``alpha_rho <= 1``).
    * ``"item"``: ``mu*_0 [1 - 2 I_{1/2}(a, c)]``, each item driven to
      ``+-mu*_0`` by the sign of its ``2 p_item - 1``.
    * ``"shock"``: ``mu*_0 [rho mu0 + (1 - rho) sign(mu0)]`` (equals
      ``mu*_0 (1 - rho (1 - mu0))`` for ``mu0 > 0``).

    ``mu*_0`` is the fixed point of ``h(mu) = f_b(gamma mu)`` (0 when
    ``alpha_0 = gamma f_b'(0) <= 1``); the item and shock limits are derived
    here, and their phase boundary ``alpha_0 = 1`` does not depend
    on ``rho``.

    Parameters
    ----------
    correlation : {"herding", "item", "shock", "global_shock"}
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.
    gamma : array_like
        Fidelity in ``(0, 1]``.
    mu0 : array_like
        Leaf bias (mean leaf bias under ``"item"``) in ``[-1, 1]``.

    Returns
    -------
    float or ndarray
    """
    correlation = correlation_name(correlation)
    b, rho, gamma = _core_args(b, rho, gamma)
    mu0 = check_real_array("mu0", mu0, -1.0, 1.0)
    if correlation == "herding":
        return _out(np.sign(mu0) * fixed_point(b, rho, gamma))
    star0 = np.asarray(fixed_point(b, 0.0, gamma))
    if correlation == "shock":
        return _out(star0 * (rho * mu0 + (1.0 - rho) * np.sign(mu0)))
    rho, mu0 = np.broadcast_arrays(rho, mu0)
    degenerate = (rho == 0.0) | (np.abs(mu0) == 1.0)
    safe_rho = np.where(degenerate, 0.5, rho)
    safe_mu0 = np.where(degenerate, 0.0, mu0)
    a, c = _beta_ac(safe_mu0, safe_rho)
    split = 1.0 - 2.0 * special.betainc(a, c, 0.5)
    return _out(star0 * np.where(degenerate, np.sign(mu0), split))
