"""The threshold (Lagrange-multiplier) form of the greedy knapsack solver, vectorised.

The optimum of ``docs/models/knapsack.md (5)`` has a threshold ``lambda``: an
interior ``N_i`` has ``w_i Delta(N_i - 1) >= lambda >= w_i Delta(N_i)``
(``(6)``, derived here). This module finds the counts at the threshold for
very large batches without the ``M x (n_up - n_low)`` gain matrix, and
returns the heap's allocation bit for bit (ties included); where it cannot
guarantee that, it says so and :mod:`theory.knapsack.greedy` answers with an
exact solver instead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["threshold_extra", "WINDOW", "WINDOW_MAX"]

# Error model of the exp/log form of the gains, ``w exp(n ln p) q + w p exp(n ln q)``,
# against the heap's running products (derived here): the two
# differ by at most ``_LAG_REL * g + (2 w_max + 1) * _LAG_ABS``. The true
# relative error is below ~1e-12 for n_up <= 10**4 (a few ulps per product,
# ~|n ln p| ulps in the exponent); the margins are wide on purpose.
_LAG_REL = 1e-9
_LAG_ABS = 1e-300
#: The Lagrangian solver stops refining lambda once at most this many gains
#: lie between its two brackets, and never materialises more than
#: ``WINDOW_MAX`` (an exact solver answers instead).
WINDOW = 1 << 15
WINDOW_MAX = 1 << 23


class _LagGains:
    """Marginal gains of the informative prompts for the Lagrangian solver.

    ``approx``: the exp/log form (one formula per entry, no running product);
    ``guess``: the closed-form count of the dominant term, for small p
    ``w Delta(N) ~ w min(p,q) max(p,q)^N`` (``docs/models/knapsack.md (7)``), so
    ``#{c : gain(n_low + c) > e^L} ~ ceil((L - ln(w m)) / ln M) - n_low``.
    """

    def __init__(self, pe, we, n_low, n_up):
        self.pe, self.we, self.n_low, self.n_up = pe, we, n_low, n_up
        self.K = n_up - n_low
        self.qe = 1.0 - pe  # the heap's q
        with np.errstate(divide="ignore"):
            lw = np.log(we)
        lp = np.log(pe)
        lq = np.log(self.qe)  # 0 where 1 - p rounds to 1
        self.lp, self.lq = lp, lq
        self.c1 = lw + lq
        self.c2 = lw + lp
        self.a = lw + np.minimum(lp, lq)
        self.inv_b = 1.0 / np.minimum(np.maximum(lp, lq), -1e-300)
        self.eps = (2.0 * float(we.max()) + 1.0) * _LAG_ABS
        # every gain is below e^L_top (w Delta <= 2 w m M^n_low); positive ones above e^L_bot
        fin = np.isfinite(self.a)
        top = (self.a[fin] + n_low / self.inv_b[fin]).max() if fin.any() else -1.0
        bot = (self.a[fin] + (n_up - 1) / self.inv_b[fin]).min() if fin.any() else 1.0
        self.L_top = float(top) + 1.0
        self.L_bot = float(bot) - 1.0

    def approx(self, c, rows=None):
        """The exp/log form of the gains at columns ``c`` (of rows ``rows``)."""
        n = c + float(self.n_low)
        if rows is None:
            return np.exp(self.c1 + n * self.lp) + np.exp(self.c2 + n * self.lq)
        return (np.exp(self.c1[rows] + n * self.lp[rows])
                + np.exp(self.c2[rows] + n * self.lq[rows]))

    def guess(self, L, rows=None):
        """Closed-form count of gains above ``e^L`` per prompt (dominant term)."""
        a, ib = (self.a, self.inv_b) if rows is None else (self.a[rows], self.inv_b[rows])
        with np.errstate(invalid="ignore", over="ignore"):
            x = (L - a) * ib
        np.clip(x, self.n_low, self.n_up, out=x)
        x -= self.n_low
        return np.ceil(x, out=x).astype(np.int64)


def _crossing(G, thr, strict, c0, gm, g0, rows=None):
    """Per row the k with test(k - 1) (or k = 0) and not test(k) (or k = K).

    ``test(c)`` is ``approx gain(c) > thr`` (``>=`` if not ``strict``). ``c0``
    is a guess, ``gm``/``g0`` the gains at ``c0 - 1``/``c0`` (clamped). A
    bisection keeps the invariant, so the k found is a crossing even where the
    approximate gains are not monotone at the ulp level.
    """
    K = G.K
    test = np.greater if strict else np.greater_equal
    t0 = test(g0, thr) & (c0 < K)
    tm = test(gm, thr) | (c0 == 0)
    out = c0.copy()
    idx = np.flatnonzero(t0 | ~tm)
    if idx.size == 0:
        return out
    c = c0[idx]
    up = t0[idx]
    lo = np.where(up, c + 1, 0)
    hi = np.where(up, K, c - 1)
    mid = np.where(up, lo, hi - 1)  # first probe: the neighbour of the guess
    while True:
        open_ = lo < hi
        if not open_.all():
            out[idx[~open_]] = lo[~open_]
            idx, lo, hi, mid = idx[open_], lo[open_], hi[open_], mid[open_]
            if idx.size == 0:
                return out
        ok = test(G.approx(mid, idx if rows is None else rows[idx]), thr)
        lo = np.where(ok, mid + 1, lo)
        hi = np.where(ok, hi, mid)
        mid = (lo + hi) // 2


def _lag_counts(G, L, c0, rows=None):
    """(A, B) at ``lam = e^L``: A_i <= #{exact gains > lam}, B_i >= #{exact gains >= lam}.

    B differs from A only where the gain at column A lies within the error
    band ``[tB, tA]`` of ``lam``; only those rows get a second search.
    """
    lam = math.exp(L)
    K = G.K
    tA = (lam + G.eps) / (1.0 - _LAG_REL)
    tB = (lam - G.eps) / (1.0 + _LAG_REL)
    gm = G.approx(np.maximum(c0 - 1, 0), rows)
    g0 = G.approx(np.minimum(c0, K - 1), rows)
    A = _crossing(G, tA, True, c0, gm, g0, rows)
    B = A.copy()
    moved = np.flatnonzero(A != c0)
    gA = g0.copy()
    if moved.size:
        gA[moved] = G.approx(np.minimum(A[moved], K - 1), moved if rows is None else rows[moved])
    band = np.flatnonzero((A < K) & (gA >= tB))
    if band.size:
        sub = band if rows is None else rows[band]
        cb = A[band]
        gmb = G.approx(np.maximum(cb - 1, 0), sub)
        B[band] = _crossing(G, tB, False, cb, gmb, gA[band], sub)
    return A, B


def _lag_start(G, take):
    """Starting ``L = ln lambda`` and slope ``-dS/dL`` of the count, from a subsample.

    Bisection of the closed-form (dominant-term) count, then two secant steps
    with the searched counts of the subsample.
    """
    E, n_low, n_up = G.pe.size, G.n_low, G.n_up
    sub = np.arange(0, E, max(1, E // 8192))
    scale = E / sub.size
    a, ib = G.a[sub], G.inv_b[sub]
    fin = np.isfinite(a)
    if not fin.any():
        return min(0.0, G.L_top), 1.0
    L_hi = float((a + n_low / ib)[fin].max()) + 1.0
    L_lo = float((a + (n_up - 1) / ib)[fin].min()) - 1.0
    target = take / scale
    for _ in range(40):
        L = 0.5 * (L_hi + L_lo)
        if G.guess(L, sub).sum() >= target:
            L_lo = L
        else:
            L_hi = L
    x = (L - a) * ib
    slope = max(float(-ib[(x > n_low) & (x < n_up)].sum()), 1.0)
    for _ in range(2):
        A, _ = _lag_counts(G, L, G.guess(L, sub), sub)
        L = min(L + (int(A.sum()) - target) / slope, G.L_top)
    return L, slope * scale


def _lag_bracket(G, take, L, slope, target, hi, lo):
    """Move ``lam_hi`` down and ``lam_lo`` up until ``sum B(lam_lo) - sum A(lam_hi) <= target``.

    ``hi = (L, A, sum B)`` with ``sum B < take``; ``lo = (L, B, sum A)`` with
    ``sum A >= take``. Secant steps, with bisection when one side stalls, and
    a stop when the bracket is as narrow as the error band (ties).
    """
    K = G.K
    prev = last = None
    stall, last_width = 0, G.K * G.pe.size
    for _ in range(64):
        L = min(L, G.L_top)
        g = G.guess(L)
        if prev is not None:
            g = np.clip(prev[1] + (g - prev[2]), 0, K)
        A, B = _lag_counts(G, L, g)
        prev = (L, A, G.guess(L))
        sA, sB = int(A.sum()), int(B.sum())
        side = None
        if sB < take:
            hi, side = (L, A, sB), "hi"
        elif sA >= take:
            lo, side = (L, B, sA), "lo"
        width = int(lo[1].sum()) - int(hi[1].sum())
        stall = stall + 1 if width >= last_width else 0
        last_width = width
        if width <= target or (side == "hi" and L < G.L_bot):
            break
        if stall >= 3 and width <= WINDOW_MAX:
            break  # a tie block wider than the target: the window cannot shrink
        d = 1e-8 * max(1.0, abs(L))
        if side is None:  # lambda within the error band of a gain: step out
            L = L + d if L + d < hi[0] else L - d
            continue
        if math.isfinite(lo[0]) and math.isfinite(hi[0]):
            if hi[0] - lo[0] <= 4 * d:
                break  # a tie block wider than the target: the window cannot shrink
            if side == last:  # stalled on one side: bisect
                L = 0.5 * (lo[0] + hi[0])
            else:
                aim = take - target // 4 if take - hi[2] > lo[2] - take else take + target // 4
                t = (lo[2] - aim) / max(lo[2] - hi[2], 1)
                L = lo[0] + min(max(t, 0.1), 0.9) * (hi[0] - lo[0])
        elif side == "lo":
            L = lo[0] + (lo[2] - take + target // 4) / slope
            slope *= 0.5
        else:
            L = hi[0] - (take - hi[2] + target // 4) / slope
            slope *= 0.5
        last = side
    return hi, lo


def _exact_gains(G, pw0, qw0, rows, cols):
    """The heap's gains ``w (pw q + p qw)`` at (rows, cols), pw, qw running products."""
    ur, inv = np.unique(rows, return_inverse=True)
    top = np.zeros(ur.size, dtype=np.int64)
    np.maximum.at(top, inv, cols)
    order = np.argsort(-top, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    pos = rank[inv]
    sel = ur[order]
    P, Q, Wt = G.pe[sel], G.qe[sel], G.we[sel]
    pw, qw = pw0[sel], qw0[sel]
    top_s = top[order]  # descending
    cmax = int(top_s[0])
    n_active = np.searchsorted(-top_s, -np.arange(cmax + 1), side="right")
    eo = np.argsort(cols, kind="stable")
    edges = np.searchsorted(cols[eo], np.arange(cmax + 2))
    out = np.empty(rows.size)
    for c in range(cmax + 1):
        if c:
            n = n_active[c]
            pw[:n] *= P[:n]
            qw[:n] *= Q[:n]
        s, e = edges[c], edges[c + 1]
        if s < e:
            ent = eo[s:e]
            k = pos[ent]
            out[ent] = Wt[k] * (pw[k] * Q[k] + P[k] * qw[k])
    return out


def threshold_extra(pe, we, extra, n_low, n_up, cap=None):
    """Extra rollouts per informative prompt at the threshold; the heap's, bit for bit, or None.

    1. A closed-form count per prompt (:class:`_LagGains`) on a subsample
       gives a first ``L = ln lambda``; then a few full evaluations of
       ``A_i(lambda) <= #{gains > lambda} `` and ``B_i(lambda) >= #{gains >=
       lambda}`` (per-prompt integer search from the closed-form guess, on
       the exp/log form of the gains with a rigorous error margin) bracket the
       threshold: ``sum B(lam_hi) < take <= sum A(lam_lo)``.
    2. Every gain before column ``A_i(lam_hi)`` is taken, none from
       ``B_i(lam_lo)`` on. In the window between, interval bounds on the
       gains settle most entries; the rest get the heap's exact gains (running
       products) and are ranked by the heap's key ``(-gain, N_i, i)``.

    ``cap`` is the window size at which the bracket search stops (tests set
    it small to exercise the search).

    Returns
    -------
    ndarray of int64 or None
        Extra rollouts (beyond ``n_low``) per prompt; None where an exact
        solver must answer instead (weights above ``1e250`` or not finite, a
        window wider than :data:`WINDOW_MAX`).
    """
    K = n_up - n_low
    E = pe.size
    total = E * K
    take = min(extra, total)
    if take <= 0:
        return np.zeros(E, dtype=np.int64)
    if take == total:
        return np.full(E, K, dtype=np.int64)
    if not np.isfinite(we).all() or we.max() > 1e250:
        return None
    target = min(max(WINDOW, E // 2), WINDOW_MAX) if cap is None else max(int(cap), 1)
    G = _LagGains(pe, we, n_low, n_up)
    hi = (math.inf, np.zeros(E, dtype=np.int64), 0)  # (L, A, sum B) at lambda = +inf
    lo = (-math.inf, np.full(E, K, dtype=np.int64), total)  # (L, B, sum A) at lambda < 0
    if total > target:
        L, slope = _lag_start(G, take)
        hi, lo = _lag_bracket(G, take, L, slope, target, hi, lo)
    A_hi, B_lo = hi[1], lo[1]

    # 2. the window [A_hi, B_lo) per prompt
    width = B_lo - A_hi
    n_win = int(width.sum())
    need = take - int(A_hi.sum())
    if (width < 0).any() or n_win > WINDOW_MAX or not 0 <= need <= n_win:
        return None
    if need == 0:
        return A_hi
    if need == n_win:
        return B_lo
    rows = np.repeat(np.arange(E), width)
    starts = np.cumsum(width) - width
    cols = A_hi[rows] + (np.arange(n_win) - starts[rows])
    g = G.approx(cols, rows)
    lo_e = g * (1.0 - _LAG_REL) - G.eps
    hi_e = g * (1.0 + _LAG_REL) + G.eps
    a = np.partition(lo_e, n_win - need)[n_win - need]  # need-th largest lower bound
    b = np.partition(hi_e, n_win - need)[n_win - need]  # need-th largest upper bound
    sure = lo_e > b
    unsure = ~sure & (hi_e >= a)
    ur, uc = rows[unsure], cols[unsure]
    ge = _exact_gains(G, pe**n_low, G.qe**n_low, ur, uc)
    pick = np.lexsort((ur, uc, -ge))[: need - int(sure.sum())]
    return (A_hi + np.bincount(rows[sure], minlength=E)
            + np.bincount(ur[pick], minlength=E)).astype(np.int64)
