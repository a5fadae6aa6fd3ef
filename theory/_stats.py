"""Small statistics every layer shares."""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["wilson_interval"]


def wilson_interval(k, n, level=0.95):
    """Wilson score interval of ``k`` successes in ``n`` trials; broadcasts; inside [0, 1].

    ``(c - h, c + h)`` with ``c = (p + z^2/2n) / (1 + z^2/n)`` and
    ``h = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)``, ``p = k/n`` and ``z`` the
    normal quantile of ``(1 + level)/2`` (Wilson, JASA 1927). Unlike
    ``p +- z se`` it stays inside [0, 1] and does not collapse at ``k = 0`` or
    ``k = n``; the ends are exactly 0 and 1 there.

    Returns
    -------
    (low, high) : floats, or arrays of the broadcast shape
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(special.ndtri((1.0 + level) / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k >= n, 1.0, np.clip(centre + half, 0.0, 1.0))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
