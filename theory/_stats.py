"""Small statistics every layer shares."""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["wilson_interval", "Moments", "chunk_seed"]


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
    """Means, variances and covariances of samples that arrive in chunks, pooled exactly.

    ``add(x)`` takes a chunk of shape ``(k, n)`` (``k`` series, ``n`` samples)
    or ``(n,)`` (one series); chunks are pooled with the pairwise update of
    Chan, Golub and LeVeque (1979), so a long Monte Carlo run can stream its
    replicates in chunks of bounded memory and report what one pass over all
    of them would. With one chunk, ``mean`` and ``var(ddof)`` are NumPy's.
    """

    def __init__(self):
        self.n = 0
        self._mean = None
        self._c = None  # co-moment matrix, sum (x_i - mean_i)(x_j - mean_j)
        self._flat = False

    def add(self, x):
        """Pool a chunk (samples along the last axis)."""
        x = np.asarray(x, dtype=float)
        self._flat = x.ndim == 1
        x = np.atleast_2d(x)
        n = x.shape[-1]
        if n == 0:
            return self
        mean = x.mean(axis=-1)
        d = x - mean[:, None]
        c = d @ d.T
        if self.n == 0:
            self._mean, self._c = mean, c
        else:
            tot = self.n + n
            delta = mean - self._mean
            self._c = self._c + c + np.outer(delta, delta) * (self.n * n / tot)
            self._mean = self._mean + delta * (n / tot)
        self.n += n
        return self

    def _out(self, v):
        return v[0] if self._flat else v

    @property
    def mean(self):
        """The pooled mean (an array for several series)."""
        return self._out(self._mean)

    def var(self, ddof=1):
        """The pooled variance with ``ddof`` degrees of freedom removed."""
        return self._out(np.diag(self._c) / (self.n - ddof))

    def cov(self, i, j, ddof=1):
        """The pooled covariance of series ``i`` and ``j``."""
        return float(self._c[i, j] / (self.n - ddof))

    def se(self):
        """Standard error of the mean, ``sqrt(var(1) / n)``."""
        return np.sqrt(self.var(1) / self.n)


def chunk_seed(seed, k):
    """The root seed of chunk ``k`` of a Monte Carlo run streamed in chunks of a fixed size.

    Chunk 0 keeps ``seed`` itself, so a run that fits in one chunk gives the
    numbers it always gave; chunk ``k > 0`` gets a 63-bit seed derived from
    ``(seed, k)`` by :class:`numpy.random.SeedSequence`, independent of the
    others. With a fixed chunk size, a result depends on the seed and the run's
    size only, never on the machine.
    """
    if k == 0:
        return seed
    state = np.random.SeedSequence([int(seed), int(k)]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))
