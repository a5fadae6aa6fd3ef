"""Helpers shared by the GPU checks."""

from __future__ import annotations


def sync(xp):
    """Wait for the device (CuPy); nothing to wait for on NumPy."""
    if xp.__name__ == "cupy":
        xp.cuda.Device().synchronize()
