"""The multiple-choice knapsack of tier routing: one tier per module within a budget.

``docs/models/memory.md (1)``-(6). Module ``i`` offers tiers ``t`` at cost
``c[i, t]`` and value ``v[i, t]``; a choice takes exactly one tier per module,
and the best choice maximises the total value with the total cost at most the
budget ``B``.

* :func:`solve_dp` -- the exact dynamic program over integer costs, for one
  instance or a batch sharing the costs, and for many budgets at once (4);
* :func:`upper_hull` -- a module's tiers that can matter to the linear
  relaxation: the upper concave hull of its (cost, value) points (2);
* :func:`solve_lp` -- the linear relaxation's optimum, by taking the hull's
  increments in order of value per unit cost (3);
* :func:`solve_greedy` -- the greedy integer choice, the relaxation's whole
  increments plus whatever else still fits, with its bounds (5);
* :func:`lagrangian_bound` -- the dual function, an upper bound at every
  price, equal to the relaxation at the fractional increment's price (6);
* :func:`frontier` -- the vertices of the relaxation's value against budget.

Values may be ``-inf`` (a tier that can never do its job, whose log-accuracy
is ``-inf``); such a tier is never chosen when a finite total is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory._params import accepts_params, check_int, check_real

__all__ = ["GreedySolution", "LPSolution", "solve_dp", "solve_lp", "solve_greedy",
           "upper_hull", "lagrangian_bound", "frontier", "pipeline_value", "min_cost"]


def _costs(cost, integer):
    c = np.asarray(cost)
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise ValueError(f"cost must be a (modules, tiers) array, got shape {c.shape}")
    if integer:
        if c.dtype.kind not in "iu":
            if c.dtype.kind != "f" or not np.all(np.isfinite(c)) or np.any(c != np.round(c)):
                raise ValueError("cost must be integers for the dynamic program (scale the "
                                 "costs or use the greedy choice)")
        c = c.astype(np.int64)
    else:
        c = c.astype(float)
        if not np.all(np.isfinite(c)):
            raise ValueError("cost must be finite")
    if np.any(c < 0):
        raise ValueError(f"cost must be >= 0, got {c[c < 0].flat[0]:g}")
    return c


def _values(value, shape):
    v = np.asarray(value, dtype=float)
    if v.ndim < 2 or v.shape[-2:] != shape:
        raise ValueError(f"value must have the cost's shape {shape} in its last two axes, "
                         f"got shape {v.shape}")
    if np.any(np.isnan(v)) or np.any(v == np.inf):
        raise ValueError("value must be finite or -inf")
    return v


def _valid(valid, shape):
    if valid is None:
        return np.ones(shape, dtype=bool)
    ok = np.asarray(valid)
    if ok.dtype.kind != "b" or ok.shape != shape:
        raise ValueError(f"valid must be a boolean array of shape {shape}")
    if not ok.any(axis=1).all():
        raise ValueError(f"valid must offer every module a tier; module "
                         f"{int(np.argmin(ok.any(axis=1)))} has none")
    return ok


@accepts_params
def min_cost(cost, valid=None):
    """Cost of the cheapest choice: every module at its cheapest available tier."""
    c = _costs(cost, integer=False)
    ok = _valid(valid, c.shape)
    return float(np.where(ok, c, np.inf).min(axis=1).sum())


def _budget_array(budget, cost, valid, integer):
    b = np.asarray(budget)
    scalar = b.ndim == 0
    b = b.reshape(-1)
    if b.dtype.kind not in "iuf" or b.size == 0:
        raise ValueError(f"budget must be a number or a 1-D array of numbers, got {budget!r}")
    if integer and b.dtype.kind == "f" and np.any(b != np.round(b)):
        raise ValueError(f"budget must be an integer for the dynamic program, got "
                         f"{b[b != np.round(b)][0]:g}")
    need = min_cost(cost, valid)
    for x in b:
        x = check_int("budget", int(x), 0) if integer else check_real("budget", float(x), 0.0)
        if x < need - 1e-9 * max(1.0, need):
            raise ValueError(f"budget must be >= the cheapest choice's cost {need:g}, "
                             f"got {x:g}")
    return (b.astype(np.int64) if integer else b.astype(float)), scalar


@accepts_params
def solve_dp(cost, value, budget, valid=None):
    """The best tier per module by dynamic programming over integer costs, (4).

    ``best_i(w) = max_t best_{i-1}(w - c[i, t]) + v[i, t]`` with ``best_0(w) =
    0`` for ``w >= 0``: the largest value of modules ``0..i`` with cost at most
    ``w``. One pass gives the optimum for every budget up to the largest
    asked; the choice is read back from the table. Among tiers of equal value
    the cheaper one (then the lower index) is kept. Time and memory
    ``O(instances * modules * tiers * B)``.

    Parameters
    ----------
    cost : array_like of int, shape (modules, tiers)
        Cost of each tier, ``>= 0``, shared by every instance.
    value : array_like, shape (..., modules, tiers)
        Value of each tier (finite or ``-inf``), one or many instances.
    budget : int or 1-D array_like of int
        Budget(s), each at least the cheapest choice's cost.
    valid : array_like of bool, shape (modules, tiers), optional
        Which tiers each module offers (default: all).

    Returns
    -------
    ndarray of int64
        Tier per module, shape ``value.shape[:-2] + (modules,)`` for one
        budget, ``value.shape[:-2] + (budgets, modules)`` for several.
    """
    c = _costs(cost, integer=True)
    v = _values(value, c.shape)
    ok = _valid(valid, c.shape)
    b, scalar = _budget_array(budget, c, ok, integer=True)
    m, T = c.shape
    lead = v.shape[:-2]
    vs = v.reshape((-1, m, T))
    S = vs.shape[0]
    W = int(b.max())
    best = np.zeros((S, W + 1))
    arg = np.zeros((m, S, W + 1), dtype=np.int16)
    for i in range(m):
        new = np.full((S, W + 1), -np.inf)
        reached = np.zeros(W + 1, dtype=bool)
        for t in sorted(range(T), key=lambda t, i=i: (c[i, t], t)):
            s = int(c[i, t])
            if not ok[i, t] or s > W:
                continue
            cand = best[:, : W + 1 - s] + vs[:, i, t][:, None]
            head = new[:, s:]
            better = (cand > head) | ~reached[s:][None, :]
            head[better] = cand[better]
            arg[i][:, s:][better] = t
            reached[s:] = True
        best = new
    rows = np.arange(S)[:, None]
    w = np.broadcast_to(b[None, :], (S, b.size)).copy()
    tiers = np.empty((S, b.size, m), dtype=np.int64)
    for i in range(m - 1, -1, -1):
        t = arg[i][rows, w]
        tiers[:, :, i] = t
        w -= c[i][t]
    out = tiers.reshape(lead + (b.size, m))
    return out[..., 0, :] if scalar else out


@accepts_params
def pipeline_value(cost, value, tiers):
    """Total cost and total value of a choice (one tier per module): ``(cost, value)``.

    ``tiers`` has shape ``(..., modules)`` and ``value`` ``(..., modules,
    tiers)``; their leading axes broadcast. Floats for one choice, arrays
    otherwise.
    """
    c = np.asarray(cost, dtype=float)
    v = np.asarray(value, dtype=float)
    t = np.asarray(tiers, dtype=np.int64)
    m = c.shape[0]
    if t.ndim < 1 or t.shape[-1] != m:
        raise ValueError(f"tiers must have one tier per module ({m}), got shape {t.shape}")
    if np.any(t < 0) or np.any(t >= c.shape[1]):
        raise ValueError(f"tiers must be in [0, {c.shape[1] - 1}]")
    lead = np.broadcast_shapes(v.shape[:-2], t.shape[:-1])
    vb = np.broadcast_to(v, lead + v.shape[-2:])
    tb = np.broadcast_to(t, lead + (m,))
    vals = np.take_along_axis(vb, tb[..., None], axis=-1)[..., 0].sum(axis=-1)
    costs = c[np.arange(m), tb].sum(axis=-1)
    if lead == ():
        return float(costs), float(vals)
    return costs, vals


@accepts_params
def upper_hull(cost, value, valid=None):
    """Tiers of one module on the upper concave hull of its (cost, value) points, (2).

    The tiers the linear relaxation can use: start from the cheapest tier (of
    the best value among the cheapest), keep only tiers that are dearer *and*
    better than every kept one, then drop any tier on or below the segment
    between its neighbours. Along the hull cost and value rise strictly and
    the value per unit of extra cost falls strictly. A module whose tiers are
    all ``-inf`` keeps its cheapest tier alone.

    Parameters
    ----------
    cost, value : array_like, shape (tiers,)
    valid : array_like of bool, shape (tiers,), optional

    Returns
    -------
    ndarray of int64
        The hull's tiers in order of rising cost.
    """
    c = np.asarray(cost, dtype=float).reshape(-1)
    v = np.asarray(value, dtype=float).reshape(-1)
    ok = np.ones(c.size, bool) if valid is None else np.asarray(valid, bool).reshape(-1)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((idx, -v[idx], c[idx]))]
    kept, top = [], -np.inf
    for k in order:
        if v[k] > top:
            kept.append(int(k))
            top = v[k]
    if not kept:
        return np.array([int(order[0])], dtype=np.int64)
    hull = []
    for k in kept:
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # b is dropped when it is not strictly above the segment from a to k
            if (v[b] - v[a]) * (c[k] - c[b]) <= (v[k] - v[b]) * (c[b] - c[a]):
                hull.pop()
            else:
                break
        hull.append(k)
    return np.array(hull, dtype=np.int64)


def _increments(c, v, ok):
    """Base tiers and the hull increments of every module, in the relaxation's order.

    Returns ``base`` (tiers), and arrays ``mod``, ``to`` (tier after the
    step), ``dc``, ``dv`` sorted by value per unit cost, highest first (ties:
    lower module, then lower step).
    """
    m = c.shape[0]
    base = np.empty(m, dtype=np.int64)
    mod, to, dc, dv, step = [], [], [], [], []
    for i in range(m):
        h = upper_hull(c[i], v[i], ok[i])
        base[i] = h[0]
        if not np.isfinite(v[i, h[0]]):
            continue
        for k in range(1, h.size):
            mod.append(i)
            to.append(h[k])
            dc.append(c[i, h[k]] - c[i, h[k - 1]])
            dv.append(v[i, h[k]] - v[i, h[k - 1]])
            step.append(k)
    mod, to = np.array(mod, dtype=np.int64), np.array(to, dtype=np.int64)
    dc, dv, step = np.array(dc, dtype=float), np.array(dv, dtype=float), np.array(step)
    order = np.lexsort((step, mod, -(dv / np.where(dc > 0, dc, 1.0))))
    return base, mod[order], to[order], dc[order], dv[order]


@dataclass(frozen=True)
class LPSolution:
    """The linear relaxation's optimum (3).

    Attributes
    ----------
    value : float
        Its value, an upper bound on every choice's value within the budget.
    tiers : ndarray of int64
        The whole part: each module's last fully taken hull tier.
    fractional : int
        The module whose next increment is taken in part (-1: none).
    theta : float
        The part taken, in ``[0, 1)``.
    price : float
        The value per unit cost of that increment (0 when every increment fits):
        the price at which the dual (6) equals ``value``.
    step_value : float
        The value of that whole increment (0 when none): the relaxation exceeds
        its whole part by ``theta * step_value``.
    """

    value: float
    tiers: np.ndarray
    fractional: int
    theta: float
    price: float
    step_value: float


def _lp(c, v, ok, B, inc=None):
    base, mod, to, dc, dv = _increments(c, v, ok) if inc is None else inc
    m = c.shape[0]
    mods = np.arange(m)
    tiers = base.copy()
    spent = c[mods, base].sum()
    total = v[mods, base].sum()
    left = B - spent
    if left < -1e-9 * max(1.0, B):
        # no choice of finite value fits: the optimum is -inf; report the cheapest choice
        cheap = np.array([min(np.flatnonzero(ok[i]), key=lambda t, i=i: (c[i, t], -v[i, t], t))
                          for i in range(m)], dtype=np.int64)
        return LPSolution(-np.inf, cheap, -1, 0.0, 0.0, 0.0), (mod, to, dc, dv, mod.size)
    for k in range(mod.size):
        if dc[k] <= left:
            tiers[mod[k]] = to[k]
            left -= dc[k]
            total += dv[k]
        else:
            theta = max(left, 0.0) / dc[k]
            return LPSolution(float(total + theta * dv[k]), tiers, int(mod[k]), float(theta),
                              float(dv[k] / dc[k]), float(dv[k])), (mod, to, dc, dv, k)
    return LPSolution(float(total), tiers, -1, 0.0, 0.0, 0.0), (mod, to, dc, dv, mod.size)


def _check_one(cost, value, budget, valid):
    c = _costs(cost, integer=False)
    v = _values(value, c.shape)
    if v.ndim != 2:
        raise ValueError(f"value must be one (modules, tiers) instance, got shape {v.shape}")
    ok = _valid(valid, c.shape)
    b, scalar = _budget_array(budget, c, ok, integer=False)
    if not scalar:
        raise ValueError("budget must be one number")
    return c, v, ok, float(b[0])


@accepts_params
def solve_lp(cost, value, budget, valid=None):
    """The linear relaxation of the tier choice and its optimum, (3).

    With each module's choice relaxed to a mix of its tiers, the optimum
    starts every module at its cheapest hull tier and buys the hull
    increments in order of value per unit cost while they fit; the first one
    that does not fit is bought in part. At most one module is mixed.

    Parameters
    ----------
    cost : array_like, shape (modules, tiers)
        Costs, ``>= 0`` (need not be integers).
    value : array_like, shape (modules, tiers)
    budget : float
    valid : array_like of bool, optional

    Returns
    -------
    LPSolution
    """
    return _lp(*_check_one(cost, value, budget, valid))[0]


@dataclass(frozen=True)
class GreedySolution:
    """The greedy choice and what bounds its loss, (5).

    Attributes
    ----------
    tiers : ndarray of int64
        Tier per module.
    cost, value : float
        The choice's total cost and value.
    lp_value : float
        The relaxation's optimum (3), an upper bound on the best choice's value.
    gap : float
        ``lp_value - value``: the most the greedy choice can lose against the
        best choice, certified after the fact.
    gap_bound : float
        The value of the increment the relaxation takes in part, a bound
        known before the fill: ``gap <= gap_bound <= max_range``.
    max_range : float
        The largest spread of values within one module (finite values only):
        the bound that holds for every budget.
    """

    tiers: np.ndarray
    cost: float
    value: float
    lp_value: float
    gap: float
    gap_bound: float
    max_range: float


def _greedy(c, v, ok, B, lp=None):
    if lp is None:
        lp = _lp(c, v, ok, B)
    sol, (mod, to, dc, dv, stop) = lp
    tiers = sol.tiers.copy()
    mods = np.arange(c.shape[0])
    left = B - c[mods, tiers].sum()
    blocked = set()
    if stop < mod.size:
        blocked.add(int(mod[stop]))
        for k in range(stop + 1, mod.size):
            i = int(mod[k])
            if i in blocked:
                continue
            if dc[k] <= left:
                tiers[i] = to[k]
                left -= dc[k]
            else:
                blocked.add(i)
    return tiers


def _range(v, ok):
    spreads = [0.0]
    for i in range(v.shape[0]):
        x = v[i][ok[i] & np.isfinite(v[i])]
        if x.size:
            spreads.append(float(x.max() - x.min()))
    return max(spreads)


@accepts_params
def solve_greedy(cost, value, budget, valid=None):
    """The greedy tier choice with its certified loss, (5).

    Takes the relaxation's whole increments (3), then scans the remaining
    increments in the same order and takes every one that still fits; once
    an increment of a module is skipped, that module takes no further one.
    The choice loses at most ``lp_value - value`` against the best choice,
    and that is at most the value of the increment the relaxation takes in
    part, which is at most one module's spread of values.

    Parameters
    ----------
    cost : array_like, shape (modules, tiers)
        Costs, ``>= 0`` (need not be integers).
    value : array_like, shape (modules, tiers)
    budget : float
    valid : array_like of bool, optional

    Returns
    -------
    GreedySolution
    """
    c, v, ok, B = _check_one(cost, value, budget, valid)
    lp = _lp(c, v, ok, B)
    tiers = _greedy(c, v, ok, B, lp)
    mods = np.arange(c.shape[0])
    val = float(v[mods, tiers].sum())
    gap = lp[0].value - val if np.isfinite(val) else 0.0
    return GreedySolution(tiers, float(c[mods, tiers].sum()), val, lp[0].value, float(gap),
                          lp[0].step_value, _range(v, ok))


def greedy_many(cost, value, budgets, valid=None):
    """Greedy tiers for a batch of instances and budgets: shape ``(instances, budgets, modules)``.

    ``value`` has shape ``(instances, modules, tiers)``; the relaxation's
    order is computed once per instance. Used by the routers.
    """
    c = _costs(cost, integer=False)
    v = _values(value, c.shape).reshape((-1,) + c.shape)
    ok = _valid(valid, c.shape)
    b, _ = _budget_array(budgets, c, ok, integer=False)
    out = np.empty((v.shape[0], b.size, c.shape[0]), dtype=np.int64)
    for s in range(v.shape[0]):
        inc = _increments(c, v[s], ok)
        for j, B in enumerate(b):
            out[s, j] = _greedy(c, v[s], ok, float(B), _lp(c, v[s], ok, float(B), inc))
    return out


@accepts_params
def lagrangian_bound(cost, value, budget, price, valid=None):
    """The dual function ``L(price) = price * B + sum_i max_t (v[i, t] - price * c[i, t])``, (6).

    At every ``price >= 0`` it bounds every choice within the budget from
    above; its least value over prices is the relaxation's optimum (3),
    reached at :attr:`LPSolution.price`. Broadcasts over ``price``.
    """
    c, v, ok, B = _check_one(cost, value, budget, valid)
    lam = np.asarray(price, dtype=float)
    if np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("price must be finite and >= 0")
    vv = np.where(ok, v, -np.inf)
    out = lam[..., None, None] * -c + vv
    res = lam * B + out.max(axis=-1).sum(axis=-1)
    return float(res) if res.ndim == 0 else res


@accepts_params
def frontier(cost, value, valid=None):
    """Vertices of the relaxation's value against the budget: ``(costs, values, prices)``.

    Starting from the cheapest choice, each vertex adds the next hull
    increment in the relaxation's order (3); between two vertices the
    relaxation is the straight line, so these points trace the concave upper
    frontier of value against cost. ``prices`` holds, for each vertex after
    the first, the value per unit cost of the increment that reached it.
    """
    c = _costs(cost, integer=False)
    v = _values(value, c.shape)
    ok = _valid(valid, c.shape)
    base, mod, to, dc, dv = _increments(c, v, ok)
    mods = np.arange(c.shape[0])
    c0, v0 = c[mods, base].sum(), v[mods, base].sum()
    costs = np.concatenate([[c0], c0 + np.cumsum(dc)])
    values = np.concatenate([[v0], v0 + np.cumsum(dv)])
    return costs, values, dv / np.where(dc > 0, dc, 1.0)
