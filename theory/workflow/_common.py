"""Input checks shared by the modules of :mod:`theory.workflow`.

Closed forms broadcast and return a ``float`` for scalar input, an ``ndarray``
otherwise; invalid input raises a one-line :class:`ValueError` or
:class:`TypeError` naming the parameter, the value and the allowed range.
"""

from __future__ import annotations

import numpy as np

from theory._params import check_real_array

__all__ = ["_out", "_prob", "_positive", "_nonneg"]


def _out(x):
    """A Python float for 0-d input, else the array."""
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def _prob(name, x):
    """Probabilities in ``[0, 1]`` as a float array."""
    return check_real_array(name, x, 0.0, 1.0)


def _positive(name, x):
    """Values in ``(0, inf]`` as a float array."""
    return check_real_array(name, x, 0.0, None, lo_open=True)


def _nonneg(name, x):
    """Values in ``[0, inf]`` as a float array."""
    return check_real_array(name, x, 0.0, None)
