"""Which organisation to deploy at a budget: one agent or an integer majority tree.

``docs/models/phase.md (42)-(44)``. One agent given the whole budget ``B`` has
the leaf law's bias ``kappa B**beta``; a ``b``-ary tree of integer depth
``L >= 1`` has ``N = b**L`` leaves, each with the compute
``x = (B - c0 (N - 1)) / N`` left after its messages (16), and the root bias of
the chosen correlation model (23)-(27) from leaves of bias ``kappa x**beta``.
:func:`decide` evaluates every feasible ``(b, L)`` exactly and answers with
the best, so it never reports a fractional number of agents or a negative
depth; the continuous optimum of paper Thm 9 and the threshold (19) are
reported beside it.
"""

from __future__ import annotations

import math

from theory._params import check_choice, check_odd_int, check_real
from theory.phase.budget import (
    CONTEXT,
    MSG_TOKENS,
    b_crit,
    c0,
    fan_in_max_tree,
    organization_exponent,
)
from theory.phase.correlation import level_biases
from theory.phase.params import CORRELATIONS

__all__ = ["MAX_DEPTH", "leaf_kappa", "leaf_bias", "tree_candidates", "decide"]

#: Deepest tree :func:`decide` considers (the depth limit of :class:`PhaseParams`).
MAX_DEPTH = 60


def leaf_kappa(p_single, beta, budget):
    """Scale of the leaf law from one agent's accuracy at the whole budget, (42).

    ``kappa = (2 p_single - 1) / B**beta`` (derived here from the leaf law
    ``mu(x) = kappa x**beta`` of docs/models/phase.md (15)).
    """
    p = check_real("p_single", p_single, 0.5, 1.0, lo_open=True)
    beta = check_real("beta", beta, 0.0, lo_open=True)
    budget = check_real("budget", budget, 0.0, lo_open=True)
    return (2.0 * p - 1.0) / budget**beta


def leaf_bias(x, kappa, beta):
    """Bias ``min(1, kappa x**beta)`` of an agent with compute ``x >= 0``, (42)."""
    return min(1.0, kappa * x**beta) if x > 0 else 0.0


def tree_candidates(b, rho, gamma, beta, budget, kappa, msg_tokens=MSG_TOKENS, overhead=0.0,
                    correlation="herding", rho_node=0.0, root_channel=False):
    """Every integer tree ``(b, L)``, ``L >= 1``, whose leaves keep compute ``x > 0``, (43).

    Returns
    -------
    list of dict
        ``b``, ``depth``, ``leaves``, ``compute_per_leaf``, ``p_leaf``,
        ``p_tree`` (root accuracy of the correlation model), in order of depth.
    """
    cost = c0(msg_tokens, b)
    out = []
    for depth in range(1, MAX_DEPTH + 1):
        n = b**depth
        x = (budget - cost * (n - 1)) / n
        if x <= 0:
            break
        mu0 = leaf_bias(x, kappa, beta)
        mu = float(level_biases(correlation, b, depth, rho, gamma, mu0, rho_node=rho_node,
                                root_channel=root_channel)[-1])
        out.append(dict(b=b, depth=depth, leaves=n, compute_per_leaf=x,
                        p_leaf=(1.0 + mu0) / 2.0, p_tree=(1.0 + mu) / 2.0))
    return out


def decide(b, rho, gamma, beta, budget, p_single=0.6, kappa=None, msg_tokens=MSG_TOKENS,
           context=CONTEXT, overhead=0.0, correlation="herding", rho_node=0.0,
           root_channel=False):
    """One agent or the best integer majority tree at ``budget``, docs/models/phase.md (42)-(44).

    Parameters
    ----------
    b : int or sequence of int
        Fan-in(s) allowed, odd ``>= 3``; those with ``b m + w0 > W`` (20) are
        left out.
    rho, gamma : float
        Correlation in ``[0, 1)`` and message fidelity in ``(0, 1]``.
    beta : float
        Exponent of the leaf law ``> 0``.
    budget : float
        Total budget ``B > 0`` (tokens), leaf compute plus messages (16).
    p_single : float, default 0.6
        Accuracy of one agent given the whole budget, in ``(0.5, 1]``; sets
        ``kappa`` by (42) unless ``kappa`` is given.
    kappa : float, optional
        Scale of the leaf law ``mu(x) = kappa x**beta`` (from a fit).
    msg_tokens, context, overhead : float
        ``m``, ``W`` and ``w0`` of (16) and (20).
    correlation, rho_node, root_channel
        The correlation model of the tree (23)-(27).

    Returns
    -------
    dict
        ``choice`` (``"single"`` or ``"tree"``); ``b``, ``depth``, ``leaves``,
        ``compute_per_leaf`` of the choice (``None``, 0, 1 and ``budget`` for
        one agent); ``budget``; ``p_single``; ``p_tree`` and ``margin = p_tree -
        p_single`` of the best tree (``None`` when no tree fits the budget);
        ``best_tree``; ``candidates`` (every tree evaluated); ``kappa``;
        ``b_allowed`` (the fan-ins within the context window); and per
        fan-in of the best tree the continuous theory: ``s`` (15),
        ``synergy`` (``s > beta``, paper Thm 5), ``b_crit`` (19).
    """
    bs = [b] if isinstance(b, int) else list(b)
    if not bs:
        raise ValueError("b must name at least one fan-in")
    bs = [check_odd_int("b", v, lo=3, hi=201) for v in bs]
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    beta = check_real("beta", beta, 0.0, math.inf, lo_open=True, hi_open=True)
    budget = check_real("budget", budget, 0.0, math.inf, lo_open=True, hi_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, math.inf, lo_open=True, hi_open=True)
    w = check_real("context", context, 0.0, math.inf, lo_open=True, hi_open=True)
    w0 = check_real("overhead", overhead, 0.0, math.inf, hi_open=True)
    check_choice("correlation", correlation, CORRELATIONS + ("global_shock",))
    if kappa is None:
        kappa = leaf_kappa(p_single, beta, budget)
    else:
        kappa = check_real("kappa", kappa, 0.0, lo_open=True)
    mu_single = leaf_bias(budget, kappa, beta)
    p_one = (1.0 + mu_single) / 2.0
    b_max = fan_in_max_tree(context, msg_tokens, overhead)
    allowed = sorted({v for v in bs if v * m + w0 <= w})
    candidates = []
    for v in allowed:
        candidates += tree_candidates(v, rho, gamma, beta, budget, kappa, m, w0, correlation,
                                      rho_node, root_channel)
    best = max(candidates, key=lambda r: (r["p_tree"], -r["leaves"]), default=None)
    tree = best is not None and best["p_tree"] > p_one + 1e-12
    theory = None
    if best is not None or allowed:
        bb = best["b"] if best is not None else allowed[0]
        s = float(organization_exponent(bb, rho, gamma))
        theory = dict(b=bb, s=s, synergy=bool(s > beta),
                      b_crit=float(b_crit(beta, s, c0(m, bb))))
    out = dict(choice="tree" if tree else "single",
               b=best["b"] if tree else None,
               depth=best["depth"] if tree else 0,
               leaves=best["leaves"] if tree else 1,
               compute_per_leaf=best["compute_per_leaf"] if tree else budget,
               p_single=p_one,
               p_tree=None if best is None else best["p_tree"],
               margin=None if best is None else best["p_tree"] - p_one,
               budget=budget, best_tree=best, kappa=kappa, b_allowed=allowed, b_max=b_max,
               theory=theory, candidates=candidates)
    return out


def _reason(res, beta, budget):
    """Why one agent is best, in words (used by :func:`sentence`)."""
    th = res["theory"]
    if not res["b_allowed"]:
        return "no fan-in of the range fits the context window (b m > W)"
    if res["best_tree"] is None:
        return "the budget does not pay for the messages of even one level of the tree"
    if th is not None and not th["synergy"]:
        return (f"the organisation exponent s = {th['s']:.3g} of the {th['b']}-ary tree does "
                f"not exceed beta = {beta:g} (paper Thm 5)")
    if th is not None and budget <= th["b_crit"]:
        return (f"the budget is below the threshold B_crit = {th['b_crit']:.4g} tokens at "
                f"which a {th['b']}-ary tree pays (docs/models/phase.md (19))")
    return "no integer tree reaches the single agent's accuracy at this budget"


def sentence(res, beta, budget):
    """The decision of :func:`decide` in one plain sentence."""
    if res["choice"] == "tree":
        return (f"Deploy a {res['b']}-ary majority tree of depth {res['depth']} "
                f"({res['leaves']} agents, {res['compute_per_leaf']:.4g} tokens of compute "
                f"each): predicted accuracy {res['p_tree']:.4f} against {res['p_single']:.4f} "
                f"for one agent with the whole budget (margin {res['margin']:+.4f}).")
    tail = ""
    if res["best_tree"] is not None:
        bt = res["best_tree"]
        tail = (f"; the best tree ({bt['b']}-ary, depth {bt['depth']}, {bt['leaves']} "
                f"agents) reaches {bt['p_tree']:.4f} (margin {res['margin']:+.4f})")
    return (f"Deploy one agent with the whole budget of {budget:g} tokens: predicted accuracy "
            f"{res['p_single']:.4f}{tail}; {_reason(res, beta, budget)}.")
