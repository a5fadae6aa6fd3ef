"""The parameters of the memory model: a pipeline of modules, their tiers and the router's signal.

:class:`MemoryParams` is the scenario the simulator runs and the model's
parameter class (``sim.memory.Params``); its defaults are the command line's
(``python -m sim.memory``). The scenario is this project's,
``docs/models/memory.md (7)``-(9); its open choices are listed in that
document, section "Open choices".
"""

from __future__ import annotations

from dataclasses import dataclass

from theory._params import check_int, check_real

__all__ = ["MemoryParams", "MAX_MODULES", "MAX_TIERS", "TIER_LETTERS"]

#: Most modules of a simulated pipeline: the exact theory sums over the
#: ``2**modules`` patterns the router can read.
MAX_MODULES = 12
#: Most tiers per module.
MAX_TIERS = 8
#: One letter per tier when there are three (Low, Mid, High); digits otherwise.
TIER_LETTERS = "LMH"


def _tuple(name, value, check):
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of numbers, got {value!r}") from None
    if not 2 <= len(items) <= MAX_TIERS:
        raise ValueError(f"{name} must have between 2 and {MAX_TIERS} tiers, got {len(items)}")
    return tuple(check(f"{name}[{t}]", v) for t, v in enumerate(items))


@dataclass(frozen=True)
class MemoryParams:
    """A memory pipeline routed tier by tier under a per-query budget.

    Each query passes through ``modules`` modules; each module runs at one of
    the tiers (Low, Mid, High by default) and does its job with the
    probability of that tier on the module's input, which is easy or hard,
    ``docs/models/memory.md (7)``. The answer is right when every module did
    its job. A router reads each module's difficulty correctly with
    probability ``signal`` and chooses the tiers, ``(8)``-(9).

    Parameters
    ----------
    modules : int, default 5
        Modules of the pipeline (the authors' pipeline has five), in
        ``[1, MAX_MODULES]``.
    costs : tuple of int, default (0, 1, 5)
        Cost of one call of each tier, integers ``>= 0`` (2 to ``MAX_TIERS`` tiers).
    easy : tuple of float, default (0.9, 0.96, 0.99)
        Probability that each tier does its job on an easy input, in ``[0, 1]``.
    hard : tuple of float, default (0.3, 0.6, 0.9)
        The same on a hard input.
    hard_share : float, default 0.3
        Probability that a module's input is hard, in ``[0, 1]``; inputs are
        independent across modules and queries.
    signal : float, default 0.85
        Probability that the router reads a module's difficulty correctly, in
        ``[0.5, 1]``: 0.5 carries no information, 1 is an oracle.
    budget : int or None, default None
        Cost allowed per query, ``>= modules * min(costs)``; ``None`` means
        every budget from the cheapest to the dearest pipeline (the frontier).

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    modules: int = 5
    costs: tuple = (0, 1, 5)
    easy: tuple = (0.9, 0.96, 0.99)
    hard: tuple = (0.3, 0.6, 0.9)
    hard_share: float = 0.3
    signal: float = 0.85
    budget: int | None = None

    def __post_init__(self):
        put = object.__setattr__
        put(self, "modules", check_int("modules", self.modules, 1, MAX_MODULES))
        put(self, "costs", _tuple("costs", self.costs, lambda n, v: check_int(n, v, 0)))
        prob = lambda n, v: check_real(n, v, 0.0, 1.0)  # noqa: E731
        put(self, "easy", _tuple("easy", self.easy, prob))
        put(self, "hard", _tuple("hard", self.hard, prob))
        tiers = len(self.costs)
        for name in ("easy", "hard"):
            if len(getattr(self, name)) != tiers:
                raise ValueError(f"{name} must have one value per tier ({tiers}), "
                                 f"got {len(getattr(self, name))}")
        put(self, "hard_share", check_real("hard_share", self.hard_share, 0.0, 1.0))
        put(self, "signal", check_real("signal", self.signal, 0.5, 1.0))
        if self.budget is not None:
            put(self, "budget", check_int("budget", self.budget, self.min_budget))

    @property
    def tiers(self):
        """Tiers per module."""
        return len(self.costs)

    @property
    def min_budget(self):
        """Cost of the cheapest pipeline: every module at its cheapest tier."""
        return self.modules * min(self.costs)

    @property
    def max_budget(self):
        """Cost of the dearest pipeline: every module at its dearest tier."""
        return self.modules * max(self.costs)

    @property
    def budgets(self):
        """Budgets a run covers: ``(budget,)``, or every one from the cheapest to the dearest."""
        if self.budget is not None:
            return (self.budget,)
        return tuple(range(self.min_budget, self.max_budget + 1))
