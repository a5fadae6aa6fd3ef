"""The allocators compared by the simulation: how each splits a question's budget.

* ``uniform`` -- ``B/m`` each, docs/models/bbam.md (6);
* ``global`` -- no plan: one shared pool worked in order (no per-step caps);
* ``paper`` -- the paper's Eq. (6) on the planner's estimates, (5);
* ``exact`` -- the exact optimum on the planner's estimates, (4);
* ``oracle`` -- the exact optimum on the true ``c``, (4);
* ``constant``, ``linear``, ``polynomial``, ``exponential``, ``cosine`` --
  the Plan-and-Budget schedules, (10)-(12), with the planner's credit
  ``c_hat**(1/beta)`` of (16) and the rounding and floor of the parameters.

Only ``oracle`` sees the true ``c``; the others use the planner's estimates.
"""

from __future__ import annotations

import numpy as np

from sim.bbam._blocks import blocked
from theory import bbam as th
from theory._params import check_choice

__all__ = ["ALLOCATORS", "allocation", "allocations"]

#: Allocators compared by :func:`sim.bbam.simulate`, in report order.
ALLOCATORS = ("uniform", "global", "paper", "exact", "oracle") + tuple(th.SCHEDULES)


def allocation(params, q, name):
    """Token budgets ``(n, M)`` of the allocator ``name`` for the questions ``q``.

    Parameters
    ----------
    params : BbamParams
    q : Questions
    name : str
        One of :data:`ALLOCATORS`.

    Returns
    -------
    ndarray or None
        ``(n, M)`` budgets, 0 at absent sub-questions; ``None`` for ``global``
        (a shared pool has no per-step budgets).
    """
    check_choice("allocator", name, ALLOCATORS)
    if name == "global":
        return None
    return blocked(q.n, lambda sl: _allocate(params, q.rows(sl), name))


def _allocate(params, q, name):
    B = q.budget
    if name == "uniform":
        return th.allocate_uniform(np.full(q.n, B), q.mask)
    if name == "paper":
        return th.allocate_paper(q.c_hat, q.beta, B, mask=q.mask)
    if name == "exact":
        return th.allocate_kkt(q.c_hat, q.beta, B, mask=q.mask)
    if name == "oracle":
        return th.allocate_kkt(q.c, q.beta, B, mask=q.mask)
    # the planner's credit for a step: its estimated tokens to bring the
    # epistemic uncertainty down to 1, c_hat**(1/beta), docs/models/bbam.md (16)
    credits = q.c_hat ** (1.0 / q.beta)
    return th.allocate_plan_and_budget(credits, int(round(B)), schedule=name,
                                       rounding=params.rounding, mask=q.mask,
                                       min_tokens=params.min_tokens).astype(float)


def allocations(params, q, names=ALLOCATORS):
    """``{name: allocation(params, q, name)}`` for each allocator in ``names``."""
    return {name: allocation(params, q, name) for name in names}
