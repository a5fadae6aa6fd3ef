"""The flags and behaviour every ``python -m sim.<model>`` command shares.

* ``--trials``, ``--seed``, ``--backend``, ``--json``, ``--plot FILE.png``.
* Bad input exits with status 2 and one line on stderr, no traceback.
* Progress is shown with rich only on a terminal and never with ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys

import numpy as np

from sim.backends import BACKENDS

__all__ = ["ArgumentParser", "add_common_arguments", "add_provenance", "fail", "float_list",
           "jsonable", "progress_spinner", "progress_bar"]


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr and exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_common_arguments(parser, trials, seed=0):
    """Add the shared flags to ``parser``; ``trials`` and ``seed`` are the model's defaults."""
    g = parser.add_argument_group("common")
    g.add_argument("--trials", type=int, default=trials,
                   help=f"Monte Carlo trials (default {trials})")
    g.add_argument("--seed", type=int, default=seed, help=f"root seed, >= 0 (default {seed})")
    g.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="numpy (reference), numba (fast CPU), cupy (GPU) or auto (default)")
    g.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    g.add_argument("--plot", metavar="FILE.png", help="write the model's figure to FILE.png")
    return parser


def add_provenance(df, seed, backend):
    """Add the provenance columns ``seed``, ``backend`` and ``version`` to a result frame."""
    from sim import __version__

    df["seed"] = seed
    df["backend"] = backend
    df["version"] = __version__
    return df


def fail(prog, exc):
    """Print ``exc`` as one line on stderr and return exit status 2."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return 2


def float_list(name, text):
    """Parse a comma-separated list of numbers given for flag ``name``; one-line ValueError if not."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(p == "" for p in parts):
        raise ValueError(f"{name} must be a non-empty comma-separated list of numbers, "
                         f"got {text!r}")
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{name} must be a comma-separated list of numbers, got {text!r}")


def jsonable(x):
    """``x`` with NumPy scalars and arrays made plain, and NaN or infinity as None (JSON null)."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(float(x)) else None
    return x


def _interactive(enabled):
    return enabled and sys.stderr.isatty()


@contextlib.contextmanager
def progress_spinner(enabled, text):
    """A spinner on stderr while the block runs (terminal only)."""
    if not _interactive(enabled):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(text):
        yield


@contextlib.contextmanager
def progress_bar(enabled, text, total, unit=None):
    """A progress bar on stderr; yields a function to call once per finished item.

    With ``unit`` (e.g. ``"points"``) the bar also shows the rate, ``12.3 points/s``.
    """
    if not _interactive(enabled):
        yield lambda: None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.3g} {unit}/s")

    columns = [MofNCompleteColumn()] + ([RateColumn()] if unit else []) + [TimeRemainingColumn()]
    with Progress("[progress.description]{task.description}", BarColumn(), *columns,
                  console=None, transient=True) as prog:
        task = prog.add_task(text, total=total)
        yield lambda: prog.advance(task)
