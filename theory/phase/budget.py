"""Budgeted synergy: the organization exponent, the cost of a tree and the optimal allocation.

``docs/models/phase.md (15)-(20)``: the exponent ``s`` and the synergy test of
paper Thm 5, the per-leaf overhead ``c0`` and the optimum ``x*`` of paper Thm 9,
the optimal number of leaves ``N*`` and the budget threshold ``B_crit``
(derived here), and the context-window caps on the fan-in.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from theory._params import (
    accepts_params,
    check_bool,
    check_int,
    check_odd_int,
    check_real,
    check_real_array,
)
from theory.phase._numeric import _alpha, _core_args, _out

__all__ = ["MSG_TOKENS", "CONTEXT", "organization_exponent", "synergy", "c0", "edge_count",
           "tree_cost", "x_star", "n_star", "b_crit", "fan_in_max_tree", "fan_in_max_star",
           "budget_analysis"]

#: Default message length ``m`` in tokens (a project default, not the paper's).
MSG_TOKENS = 256
#: Default context window ``W`` in tokens (a project default, not the paper's).
CONTEXT = 128_000


@accepts_params
def organization_exponent(b, rho, gamma):
    """Organization exponent ``s = log_b alpha_rho = ln(alpha_rho) / ln(b)``.

    Paper Thm 5; ``docs/models/phase.md (15)``.

    In the small-signal regime ``alpha_rho^L = N^s`` with ``N = b^L``; scale-out
    beats scale-up iff ``s > beta`` (paper Thm 5).

    Parameters
    ----------
    b, rho, gamma
        As in :func:`alpha_rho`.

    Returns
    -------
    float or ndarray
    """
    b, rho, gamma = _core_args(b, rho, gamma)
    return _out(np.log(_alpha(b, rho, gamma)) / math.log(b))


def synergy(s, beta):
    """Budgeted-synergy test ``s > beta`` (paper Thm 5; ``docs/models/phase.md (15)``).

    Parameters
    ----------
    s : array_like
        Organization exponent.
    beta : array_like
        Leaf exponent, ``> 0``.

    Returns
    -------
    bool or ndarray of bool
    """
    s = check_real_array("s", s)
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    out = s > beta
    return bool(out) if out.ndim == 0 else out


@accepts_params
def c0(m, b):
    """Communication overhead per leaf, ``c0 = 2 m b / (b - 1)`` (paper Thm 9).

    ``docs/models/phase.md (16)``.

    Each of the ``b (N-1)/(b-1)`` edges of a full tree carries one ``m``-token
    message, paid twice (written and read): ``c0 (N - 1)`` in total (derived here).

    Parameters
    ----------
    m : array_like
        Message length in tokens, ``> 0``.
    b : int
        Fan-in ``>= 2``.

    Returns
    -------
    float or ndarray
    """
    m = check_real_array("m", m, 0.0, None, lo_open=True)
    b = check_int("b", b, 2)
    return _out(2.0 * m * b / (b - 1))


@accepts_params
def edge_count(n_leaves, b):
    """Edges of a full ``b``-ary tree with ``N`` leaves, ``b (N - 1) / (b - 1)``.

    ``docs/models/phase.md (16)``, derived here. A full tree needs
    ``(N - 1) % (b - 1) == 0`` (e.g. ``N = b^L``).

    Parameters
    ----------
    n_leaves : int
        Number of leaves ``N >= 1``.
    b : int
        Fan-in ``>= 2``.

    Returns
    -------
    int
    """
    n = check_int("n_leaves", n_leaves, 1)
    b = check_int("b", b, 2)
    if (n - 1) % (b - 1):
        raise ValueError(
            f"n_leaves must be 1 + a multiple of b - 1 = {b - 1} for a full tree, got {n}"
        )
    return b * (n - 1) // (b - 1)


@accepts_params
def tree_cost(n_leaves, x, m, b, exact=True):
    """Total budget of a tree, ``B = N x + c0 (N - 1)`` (``exact``) or ``N (x + c0)``.

    ``docs/models/phase.md (16)``, derived here from ``c0``. Whether the paper
    uses the exact or the approximate form is open (``docs/models/phase.md``,
    section "Open choices"); ``exact=True`` is the project default and does
    not count the root's own output.

    Parameters
    ----------
    n_leaves : array_like
        Number of leaves ``N >= 1``.
    x : array_like
        Compute per leaf, ``>= 0``.
    m : array_like
        Message length, ``> 0``.
    b : int
        Fan-in ``>= 2``.
    exact : bool, default True

    Returns
    -------
    float or ndarray
    """
    n = check_real_array("n_leaves", n_leaves, 1.0, None)
    x = check_real_array("x", x, 0.0, None)
    m = check_real_array("m", m, 0.0, None, lo_open=True)
    b = check_int("b", b, 2)
    exact = check_bool("exact", exact)
    cost = 2.0 * m * b / (b - 1)
    return _out(n * x + cost * (n - 1.0) if exact else n * (x + cost))


def x_star(beta, t, c0):
    """Optimal compute per leaf, ``x* = beta c0 / (t - beta)`` for ``t > beta``.

    Paper Thm 9; ``docs/models/phase.md (17)``.

    For ``t <= beta`` there is no interior optimum: the whole budget goes to
    one stronger agent, returned as ``inf`` (paper Thm 9). The meaning of ``t`` is
    open (``docs/models/phase.md``, section "Open choices"): use ``t = s``
    for a majority tree.

    Parameters
    ----------
    beta : array_like
        Leaf exponent, ``> 0``.
    t : array_like
        Organization exponent of the costed organization.
    c0 : array_like
        Communication overhead per leaf, ``>= 0``.

    Returns
    -------
    float or ndarray
    """
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    t = check_real_array("t", t)
    cost = check_real_array("c0", c0, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(t > beta, beta * cost / (t - beta), np.inf)
    return _out(out)


def n_star(budget, beta, t, c0):
    """Optimal number of leaves at ``x*``, ``N* = B (t - beta) / (t c0)``.

    ``docs/models/phase.md (18)``, derived here from paper Thm 9 with
    ``N = B/(x + c0)``;
    a continuous optimum, to be rounded to a power of ``b`` in practice.
    ``t <= beta`` gives 1 (one agent with the whole budget); ``c0 = 0`` gives
    ``inf``.

    Parameters
    ----------
    budget : array_like
        Total budget ``B > 0``.
    beta, t, c0
        As in :func:`x_star`.

    Returns
    -------
    float or ndarray
    """
    budget = check_real_array("budget", budget, 0.0, None, lo_open=True)
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    t = check_real_array("t", t)
    cost = check_real_array("c0", c0, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(t > beta, budget * (t - beta) / (t * cost), 1.0)
    return _out(out)


def b_crit(beta, t, c0):
    """Budget above which scale-out at the optimum beats one agent.

    ``B_crit = c0 r^(-r/(1-r)) / (1 - r)`` with ``r = beta / t`` is derived here
    (``docs/models/phase.md (19)``) as the root of ``x*^beta N*^t = B^beta``;
    the paper promises explicit thresholds but does not give their form.
    ``t <= beta`` gives ``inf`` (scale-out never wins).

    Parameters
    ----------
    beta, t, c0
        As in :func:`x_star`.

    Returns
    -------
    float or ndarray
    """
    beta = check_real_array("beta", beta, 0.0, None, lo_open=True)
    t = check_real_array("t", t)
    cost = check_real_array("c0", c0, 0.0, None)
    beta, t, cost = np.broadcast_arrays(beta, t, cost)
    ok = t > beta
    r = np.where(ok, beta / np.where(ok, t, 1.0), 0.5)
    out = np.where(ok, cost * r ** (-r / (1.0 - r)) / (1.0 - r), np.inf)
    return _out(out)


def fan_in_max_tree(context, msg_tokens, overhead=0):
    """Largest odd fan-in that fits one aggregator's context, ``b m + w0 <= W``.

    ``docs/models/phase.md (20)``. The constraint ``b m <= W`` is the paper's;
    the prompt overhead
    ``w0`` (default 0) is a project option. Returns 1 when only a relay fits
    and 0 when not even one message fits.

    Parameters
    ----------
    context : int or float
        Context window ``W`` in tokens, ``> 0``.
    msg_tokens : int or float
        Message length ``m``, ``> 0``.
    overhead : int or float, default 0
        Aggregator overhead ``w0 >= 0``.

    Returns
    -------
    int
    """
    w = check_real("context", context, 0.0, None, lo_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, None, lo_open=True)
    w0 = check_real("overhead", overhead, 0.0, None)
    if all(isinstance(v, numbers.Integral) for v in (context, msg_tokens, overhead)):
        q = (int(context) - int(overhead)) // int(msg_tokens)
    else:
        q = math.floor((w - w0) / m)
    if q < 1:
        return 0
    return q if q % 2 else q - 1


def fan_in_max_star(context, msg_tokens):
    """Largest star that fits the aggregator's context, ``N_max = floor(W / m)``.

    ``docs/models/phase.md (20)``.

    The constraint ``N m <= W`` is the paper's. A majority star also needs
    ``N`` odd.

    Parameters
    ----------
    context : int or float
        Context window ``W``, ``> 0``.
    msg_tokens : int or float
        Message length ``m``, ``> 0``.

    Returns
    -------
    int
    """
    w = check_real("context", context, 0.0, None, lo_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, None, lo_open=True)
    if isinstance(context, numbers.Integral) and isinstance(msg_tokens, numbers.Integral):
        return int(context) // int(msg_tokens)
    return math.floor(w / m)


@accepts_params
def budget_analysis(b, rho, gamma, beta, budget, msg_tokens=MSG_TOKENS, context=CONTEXT,
                    overhead=0, t=None):
    """Scale-out versus scale-up report for one configuration (paper Thm 5, Thm 9).

    ``docs/models/phase.md (15)-(20)``. Takes a :class:`PhaseParams` in place
    of ``b, rho, gamma``: ``budget_analysis(params, beta=0.3, budget=1e6)``.
    The defaults of ``msg_tokens`` and ``context`` are those of
    ``python -m sim.phase``.

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 3``.
    rho : float
        Correlation in ``[0, 1)``.
    gamma : float
        Fidelity in ``(0, 1]``.
    beta : float
        Leaf exponent ``> 0``.
    budget : float
        Total budget ``B > 0`` (tokens).
    msg_tokens : int or float, default 256
        Message length ``m > 0`` (:data:`MSG_TOKENS`).
    context : int or float, default 128000
        Context window ``W`` (:data:`CONTEXT`).
    overhead : int or float, default 0
        Aggregator prompt overhead ``w0`` (a project option).
    t : float, optional
        Exponent of paper Thm 9; defaults to ``s`` of the tree (an open
        choice, ``docs/models/phase.md``, section "Open choices").

    Returns
    -------
    dict
        ``s``, ``t``, ``beta``, ``synergy`` (``s > beta``, paper Thm 5), ``c0``,
        ``x_star``, ``n_star`` (at least 1: a budget that pays for less than one leaf at
        ``x*`` is one agent's), ``depth_star`` (``log_b N*``, at least 0), ``b_crit``,
        ``feasible`` (``b m + w0 <= W``), ``b_max`` (:func:`fan_in_max_tree`),
        ``n_max_star`` (:func:`fan_in_max_star`), ``scale_out_wins``
        (synergy and ``budget > b_crit``).
    """
    b = check_odd_int("b", b)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    gamma = check_real("gamma", gamma, 0.0, 1.0, lo_open=True)
    beta = check_real("beta", beta, 0.0, math.inf, lo_open=True, hi_open=True)
    budget = check_real("budget", budget, 0.0, math.inf, lo_open=True, hi_open=True)
    m = check_real("msg_tokens", msg_tokens, 0.0, math.inf, lo_open=True, hi_open=True)
    w = check_real("context", context, 0.0, math.inf, lo_open=True, hi_open=True)
    w0 = check_real("overhead", overhead, 0.0, math.inf, hi_open=True)
    s = math.log(_alpha(b, rho, gamma)) / math.log(b)
    t = s if t is None else check_real("t", t, -math.inf, math.inf, hi_open=True, lo_open=True)
    cost = c0(m, b)
    # fewer than one leaf at the optimum means one agent: N* is at least 1 (derived here)
    n_opt = max(float(n_star(budget, beta, t, cost)), 1.0)
    threshold = b_crit(beta, t, cost)
    has_synergy = s > beta
    return {
        "s": s,
        "t": t,
        "beta": beta,
        "synergy": has_synergy,
        "c0": cost,
        "x_star": x_star(beta, t, cost),
        "n_star": n_opt,
        "depth_star": math.log(n_opt) / math.log(b),
        "b_crit": threshold,
        "feasible": b * m + w0 <= w,
        "b_max": fan_in_max_tree(context, msg_tokens, overhead),
        "n_max_star": fan_in_max_star(context, msg_tokens),
        "scale_out_wins": bool(has_synergy and budget > threshold),
    }
