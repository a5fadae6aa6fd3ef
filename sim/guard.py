"""One guard for work and memory, shared by every simulator and command line.

Before a simulator allocates or loops, it estimates what the parameters ask
for -- elementary operations (``work``) and peak bytes (``memory``) -- and
calls :func:`check`. Anything beyond what this machine can do in reasonable
time is refused with one line naming the parameter, the estimate and the
limit (a :class:`TooLarge`, a ``ValueError``, so command lines exit 2). A user
with a bigger machine passes ``allow=True`` (the command-line flag ``--yes``).

Limits:

* **work**: :data:`WORK_LIMIT` elementary operations (about an hour of one
  core at 3e8 simple operations per second); a model may state its own unit
  and limit (the phase tree kernel counts leaf-votes, which it draws at
  several billion per second);
* **memory**: :func:`memory_limit`, half of this machine's physical memory
  (the environment variable ``BUDGETLAB_MEMORY_LIMIT`` in bytes overrides it).

The environment variable ``BUDGETLAB_WORK_SCALE`` multiplies every work limit
(``0.01`` makes each limit a hundredth: the fuzz tests use it so that every
command's guard is exercised within a short time budget; ``10`` suits a bigger
machine).

Where a large size is legitimate (many trials, many prompts, many teams) the
simulators stream it in chunks of bounded memory instead of refusing; the
guard then only bounds the total work.
"""

from __future__ import annotations

import math
import os

__all__ = ["TooLarge", "WORK_LIMIT", "memory_limit", "work_scale", "check", "chunks",
           "fmt_count", "fmt_bytes"]

#: Elementary operations a single command may ask for without ``allow``.
WORK_LIMIT = 1e12


class TooLarge(ValueError):
    """The parameters ask for more work or memory than this machine allows."""


def memory_limit():
    """Bytes one command may allocate: half the physical memory, or ``BUDGETLAB_MEMORY_LIMIT``."""
    env = os.environ.get("BUDGETLAB_MEMORY_LIMIT")
    if env:
        try:
            return float(env)
        except ValueError:
            raise ValueError(f"BUDGETLAB_MEMORY_LIMIT must be a number of bytes, got {env!r}") \
                from None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return total / 2


def work_scale():
    """The factor ``BUDGETLAB_WORK_SCALE`` applies to every work limit (default 1)."""
    env = os.environ.get("BUDGETLAB_WORK_SCALE")
    if not env:
        return 1.0
    try:
        scale = float(env)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"BUDGETLAB_WORK_SCALE must be a positive number, got {env!r}")
    return scale


def fmt_count(x):
    """``1.2e+15`` style for large counts, plain below a million."""
    x = float(x)
    return f"{x:.0f}" if abs(x) < 1e6 else f"{x:.2g}"


def fmt_bytes(x):
    """Bytes in binary units: ``820 GiB``."""
    x = float(x)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(x) < 1024 or unit == "PiB":
            return f"{x:.3g} {unit}"
        x /= 1024
    return f"{x:.3g} EiB"


def check(param, *, work=None, memory=None, allow=False, unit="operations",
          work_limit=WORK_LIMIT, hint=None):
    """Refuse a run whose estimated work or peak memory exceeds this machine's limits.

    Parameters
    ----------
    param : str
        The parameter (or parameters, ``"trials * b**depth"``) that sets the size,
        named in the message.
    work : float, optional
        Estimated elementary operations (in ``unit``).
    memory : float, optional
        Estimated peak bytes.
    allow : bool
        Skip the check (the ``--yes`` flag).
    unit : str
        What ``work`` counts.
    work_limit : float
        The limit on ``work``.
    hint : str, optional
        What to lower, appended to the message.

    Raises
    ------
    TooLarge
        One line: ``trials * b**depth asks for 3.2e+15 leaf-votes, above this machine's limit
        of 1e+12; lower them or pass --yes``.
    """
    if allow:
        return
    tail = f"; {hint}" if hint else "; lower it or pass --yes to run anyway"
    work_limit = float(work_limit) * work_scale()
    if work is not None:
        w = float(work)
        if not math.isfinite(w) or w > work_limit:
            raise TooLarge(f"{param} asks for {fmt_count(w)} {unit}, above this machine's "
                           f"limit of {fmt_count(work_limit)}{tail}")
    if memory is not None:
        m = float(memory)
        lim = memory_limit()
        if not math.isfinite(m) or m > lim:
            raise TooLarge(f"{param} needs about {fmt_bytes(m)} of memory, above this machine's "
                           f"limit of {fmt_bytes(lim)}{tail}")


def chunks(total, per_item_bytes, budget=None):
    """Split ``total`` items into chunk sizes whose memory stays within ``budget`` bytes.

    ``budget`` defaults to a sixteenth of :func:`memory_limit` (bounded memory,
    large enough that per-chunk overhead is negligible). Yields ``(start, stop)``.
    """
    total = int(total)
    budget = memory_limit() / 16 if budget is None else float(budget)
    size = max(1, int(budget // max(float(per_item_bytes), 1.0)))
    for start in range(0, total, size):
        yield start, min(total, start + size)
