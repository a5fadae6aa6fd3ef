"""The budget-allocation outcome kernel of :mod:`sim.bbam` on CuPy arrays.

The kernel is :func:`sim.bbam.outcomes_array`, written once for NumPy and CuPy
arrays; this module moves a batch of questions to the GPU, runs it there and
brings the results back. It draws from the same counter-based stream as the
Numba kernel, so the three backends see the same random numbers.
"""

from __future__ import annotations

import numpy as np

from sim import bbam as sim_bbam
from sim.backends import cupy_module

__all__ = ["outcomes"]


def outcomes(params, q, b, key, xp=None):
    """Solved flags and tokens per question (NumPy arrays) computed with ``xp`` (default CuPy)."""
    if xp is None:
        xp = cupy_module()
    dev = [xp.asarray(a) for a in (q.c, q.beta, q.u_ale, q.mask)]
    bb = None if b is None else xp.asarray(b)
    good, tokens = sim_bbam.outcomes_array(xp, bb, *dev, float(q.budget), params.synthesis,
                                           params.synthesis_accuracy, key,
                                           carry_over=params.carry_over)
    if hasattr(good, "get"):
        return good.get(), tokens.get()
    return np.asarray(good), np.asarray(tokens)
