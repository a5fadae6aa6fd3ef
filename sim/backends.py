"""The backend registry: ``numpy`` | ``numba`` | ``cupy`` | ``auto``.

* ``numpy`` is the readable reference implementation of each simulator.
* ``numba`` is the fast CPU path (compiled, multi-threaded).
* ``cupy`` is the GPU path; it needs CuPy and a CUDA device.
* ``auto`` picks ``cupy`` when a GPU is usable, else ``numba``, else ``numpy``.

A backend that cannot run here raises :class:`BackendUnavailable` with a one-line
reason (never an ImportError traceback); command lines turn it into exit code 2.
"""

from __future__ import annotations

import functools
import importlib.util

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "available_backends",
    "resolve_backend",
    "cupy_module",
    "array_module",
]

BACKENDS = ("numpy", "numba", "cupy", "auto")


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine."""


@functools.cache
def _numba_ok():
    return importlib.util.find_spec("numba") is not None


@functools.cache
def _cupy_status():
    """Return (cupy module or None, reason string)."""
    if importlib.util.find_spec("cupy") is None:
        return None, ("CuPy is not installed; install the GPU extra "
                      "(pip install 'budgetlab[gpu-cuda12]' or 'budgetlab[gpu-cuda13]')")
    try:
        import cupy

        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing, no device, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"CuPy is installed but no CUDA device is usable ({first})"
    if n < 1:
        return None, "CuPy is installed but no CUDA device is usable (0 devices)"
    return cupy, ""


def cupy_module():
    """Return the ``cupy`` module, or raise :class:`BackendUnavailable` saying why not."""
    mod, reason = _cupy_status()
    if mod is None:
        raise BackendUnavailable(f"backend 'cupy' is unavailable: {reason}")
    return mod


def available_backends():
    """Names of the concrete backends that can run here, fastest last."""
    names = ["numpy"]
    if _numba_ok():
        names.append("numba")
    if _cupy_status()[0] is not None:
        names.append("cupy")
    return tuple(names)


def resolve_backend(name):
    """Map a backend name (``auto`` included) to a concrete, usable backend.

    Raises
    ------
    ValueError
        Unknown name.
    BackendUnavailable
        Known name that cannot run here.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if name == "auto":
        return available_backends()[-1]
    if name == "numba" and not _numba_ok():
        raise BackendUnavailable("backend 'numba' is unavailable: numba is not installed")
    if name == "cupy":
        cupy_module()
    return name


def array_module(backend):
    """The array namespace of a concrete backend (``numpy`` or ``cupy``)."""
    if backend == "cupy":
        return cupy_module()
    import numpy

    return numpy
