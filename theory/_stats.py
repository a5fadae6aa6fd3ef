"""Small statistics every layer shares."""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["wilson_interval", "Moments"]


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


class Moments:
    """Mean and variance of samples that arrive in chunks, pooled exactly.

    ``add(x)`` takes a chunk whose last axis holds the samples (leading axes are
    separate series); chunks are pooled with the pairwise update of Chan, Golub
    and LeVeque (1979), so a long Monte Carlo run can stream its replicates in
    chunks of bounded memory and report what one pass over all of them would.
    With one chunk, ``mean`` and ``var(ddof)`` are those of NumPy.
    """

    def __init__(self):
        self.n = 0
        self._mean = None
        self._m2 = None

    def add(self, x):
        """Pool a chunk (samples along the last axis)."""
        x = np.asarray(x, dtype=float)
        n = x.shape[-1]
        if n == 0:
            return self
        mean = x.mean(axis=-1)
        m2 = ((x - mean[..., None]) ** 2).sum(axis=-1)
        if self.n == 0:
            self._mean, self._m2 = mean, m2
        else:
            tot = self.n + n
            delta = mean - self._mean
            self._m2 = self._m2 + m2 + delta**2 * (self.n * n / tot)
            self._mean = self._mean + delta * (n / tot)
        self.n += n
        return self

    @property
    def mean(self):
        """The pooled mean (an array for several series)."""
        return self._mean

    def var(self, ddof=1):
        """The pooled variance with ``ddof`` degrees of freedom removed."""
        return self._m2 / (self.n - ddof)

    def se(self):
        """Standard error of the mean, ``sqrt(var(1) / n)``."""
        return np.sqrt(self.var(1) / self.n)
