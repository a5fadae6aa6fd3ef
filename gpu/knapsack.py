"""The rollout kernel of :mod:`sim.knapsack` on CuPy arrays.

:func:`sim.knapsack.mixed_groups_array` is written once for NumPy and CuPy
arrays; this module runs it on the GPU and returns NumPy arrays. It uses the
same counter-based stream as the Numba kernel, so outcomes are identical.
"""

from __future__ import annotations

from sim import knapsack as sim_knapsack
from sim.backends import cupy_module

__all__ = ["successes"]


def successes(N, p, replicates, key, xp=None):
    """Successes per replicate and prompt (NumPy int64 array), computed with ``xp`` (default CuPy)."""
    if xp is None:
        xp = cupy_module()
    k = sim_knapsack.mixed_groups_array(xp, N, p, replicates, key)
    return k.get() if hasattr(k, "get") else k
