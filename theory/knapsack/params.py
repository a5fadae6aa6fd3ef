"""The parameters of the knapsack model: the allocator's and the simulated scenario's.

:class:`KnapsackParams` configures one allocation (bounds, budget, fallback,
solver, the authors' reference mode); :class:`KnapsackSimParams` is the
scenario the simulator runs (batch size, budget, rate population, estimator)
and is the model's parameter class (``sim.knapsack.Params``); its defaults are
the command line's. Both validate on construction with one-line errors.
The open choices behind the defaults are listed in ``docs/models/knapsack.md``,
section "Open choices".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from theory._params import check_bool, check_choice, check_int, check_real

__all__ = ["KnapsackParams", "KnapsackSimParams", "WEIGHTS", "SOLVERS", "FALLBACKS",
           "FALLBACK_TRIGGERS", "COSTS", "MODES"]

#: Names of the pluggable InfoGain weights, ``docs/models/knapsack.md (3)``;
#: ``"info_gain"`` is the paper's, the others are for sensitivity studies.
WEIGHTS = ("info_gain", "variance", "info_gain_cubed", "variance_3_2")
#: Exact clean solvers of the knapsack ``docs/models/knapsack.md (5)``.
SOLVERS = ("auto", "heap", "sort", "lagrangian", "dp")
#: Where surplus rollouts go in clean mode (open choice "fallback").
FALLBACKS = ("zero_first", "uniform", "none")
#: When the surplus is set aside before the knapsack is solved (open choice "fallback trigger").
FALLBACK_TRIGGERS = ("coverage", "none")
#: The authors' cost estimates of the fallback trigger, ``docs/models/knapsack.md (11)``.
COSTS = ("probability", "expectation")
#: Allocation modes: the clean default, or the port of the authors' allocator.
MODES = ("clean", "reference")

WeightLike = str | Callable


@dataclass(frozen=True)
class KnapsackParams:
    """Validated parameters of one knapsack allocation.

    Parameters
    ----------
    n : int, default 8
        Homogeneous per-prompt budget ``N_bar`` (``N_RESP_PER_PROMPT`` in the
        authors' scripts); the total budget is ``M * n`` unless ``budget`` is
        given. In ``[1, inf]``.
    n_low : int, default 2
        Minimum rollouts per valid prompt ``N_low`` (the authors' ``min_n``), in ``[1, n]``.
    n_up : int, default 128
        Maximum rollouts from the knapsack ``N_up`` (the authors' ``max_n``), ``>= n_low``.
    budget : int or None, default None
        Total rollouts ``N_total``; ``None`` means ``M * n`` (the authors' default).
    alpha : float, default 0.9
        Target probability of the "probability" cost,
        ``docs/models/knapsack.md (10)``, in ``(0, 1)``.
    cost : {"probability", "expectation"}, default "probability"
        Cost estimate of the fallback trigger, ``docs/models/knapsack.md (11)``.
    weight : str or callable, default "info_gain"
        InfoGain weight ``w(p)``, ``docs/models/knapsack.md (3)`` (open
        choice "weight"). One of :data:`WEIGHTS` or a function of an array
        ``p`` returning non-negative weights.
    fallback : {"zero_first", "uniform", "none"}, default "zero_first"
        Where surplus rollouts go in clean mode (open choice "fallback", see
        :func:`theory.knapsack.allocate`). ``"none"`` also switches the
        trigger off.
    fallback_trigger : {"coverage", "none"}, default "coverage"
        ``"coverage"``: the authors' rule ``C < R``,
        ``docs/models/knapsack.md (11)``; ``"none"``: the pure knapsack
        optimum, only the unusable leftover is spread.
    fallback_cap : int or None, default None
        Cap on a prompt's total after the fallback in clean mode (open choice
        "fallback cap"); ``None`` means ``n_up``. In ``[n_low, inf]``.
    strict_budget : bool, default True
        Spend the leftover that the knapsack cannot use with the fallback rule
        so that ``sum(N) == budget`` whenever the caps allow (open choice
        "budget constraint").
    mode : {"clean", "reference"}, default "clean"
        ``"reference"`` reproduces the authors' ``sampling_budget_by_knapsack``
        with its quirks (``docs/models/knapsack.md``, section "Disagreements
        with the authors' code"); ``weight``, ``fallback_trigger``,
        ``fallback_cap``, ``strict_budget`` and ``solver`` are then unused,
        and ``fallback="none"`` means ``allow_fallback=False``.
    solver : {"auto", "heap", "sort", "lagrangian", "dp"}, default "auto"
        Clean knapsack solver; all are exact, ``docs/models/knapsack.md (6)``.
    adv_clip : float or None, default 5.0
        GRPO advantage clip (the authors' ``algorithm.adv_clip_value``),
        ``docs/models/knapsack.md (14)``; ``None`` = no clip.
    adv_eps : float, default 1e-6
        The ``epsilon`` of the GRPO std normalisation,
        ``docs/models/knapsack.md (14)``, in ``[0, inf)``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    n: int = 8
    n_low: int = 2
    n_up: int = 128
    budget: int | None = None
    alpha: float = 0.9
    cost: str = "probability"
    weight: WeightLike = "info_gain"
    fallback: str = "zero_first"
    fallback_trigger: str = "coverage"
    fallback_cap: int | None = None
    strict_budget: bool = True
    mode: str = "clean"
    solver: str = "auto"
    adv_clip: float | None = 5.0
    adv_eps: float = 1e-6

    def __post_init__(self):
        put = object.__setattr__
        put(self, "n", check_int("n", self.n, 1))
        put(self, "n_low", check_int("n_low", self.n_low, 1, self.n))
        put(self, "n_up", check_int("n_up", self.n_up, self.n_low))
        if self.budget is not None:
            put(self, "budget", check_int("budget", self.budget, 0))
        put(self, "alpha", check_real("alpha", self.alpha, 0.0, 1.0, lo_open=True, hi_open=True))
        put(self, "cost", check_choice("cost", self.cost, COSTS))
        if not callable(self.weight):
            check_choice("weight", self.weight, WEIGHTS)
        put(self, "fallback", check_choice("fallback", self.fallback, FALLBACKS))
        put(self, "fallback_trigger",
            check_choice("fallback_trigger", self.fallback_trigger, FALLBACK_TRIGGERS))
        if self.fallback_cap is not None:
            put(self, "fallback_cap", check_int("fallback_cap", self.fallback_cap, self.n_low))
        put(self, "strict_budget", check_bool("strict_budget", self.strict_budget))
        put(self, "mode", check_choice("mode", self.mode, MODES))
        put(self, "solver", check_choice("solver", self.solver, SOLVERS))
        if self.adv_clip is not None:
            put(self, "adv_clip", check_real("adv_clip", self.adv_clip, 0.0, None, lo_open=True))
        put(self, "adv_eps", check_real("adv_eps", self.adv_eps, 0.0, None))


@dataclass(frozen=True)
class KnapsackSimParams:
    """The scenario of the rollout simulation: batch, budget, rate population, estimator.

    The model's parameter class (``sim.knapsack.Params``); its defaults are
    the command line's (``python -m sim.knapsack``). The population and the
    estimator are this project's choices, ``docs/models/knapsack.md (17)``
    and ``(18)``.

    Parameters
    ----------
    prompts : int, default 256
        Prompts per batch ``M`` (>= 1); the authors' batch size.
    n : int, default 8
        Homogeneous rollouts per prompt ``N_bar``; the budget defaults to ``M * n``.
    budget : int or None, default None
        Total rollouts per batch, in ``[M * n_low, M * n_up]`` (more would break the cap
        ``n_up``); ``None`` means ``M * n``, which must also be at most ``M * n_up``.
    n_low, n_up : int, default 2, 128
        Bounds on each prompt's rollouts (the authors' values), ``1 <= n_low <= n_up``.
    mixture : tuple of float, default (0.4, 0.2, 0.4)
        Weights of the three population components: near-solved
        ``U[0.97, 1]``, near-unsolved ``U[0, 0.02]`` and ``Beta(beta_a, beta_a)``
        (non-negative, positive sum), ``docs/models/knapsack.md (17)``.
    beta_a : float, default 0.7
        Shape of the symmetric Beta component, ``> 0``.
    estimate_samples : int, default 16
        Rollouts of the previous visit behind each estimate (the authors'
        buffer of 16), ``>= 1``, ``docs/models/knapsack.md (18)``.
    stale_sd : float, default 0.3
        Standard deviation of the logit's drift since the previous visit, ``>= 0``.

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.
    """

    prompts: int = 256
    n: int = 8
    budget: int | None = None
    n_low: int = 2
    n_up: int = 128
    mixture: tuple = (0.4, 0.2, 0.4)
    beta_a: float = 0.7
    estimate_samples: int = 16
    stale_sd: float = 0.3

    def __post_init__(self):
        check_int("prompts", self.prompts, 1)
        check_int("n", self.n, 1)
        check_int("n_low", self.n_low, 1)
        check_int("n_up", self.n_up, 1)
        if self.n_low > self.n_up:
            raise ValueError(f"n_low must be <= n_up, got n_low={self.n_low} > n_up={self.n_up}")
        if self.budget is None:
            check_int("n_low", self.n_low, 1, self.n)
        else:
            check_int("budget", self.budget, self.prompts * self.n_low)
        if self.total > self.prompts * self.n_up:
            what = "budget" if self.budget is not None else "prompts * n"
            raise ValueError(f"{what} must be at most prompts * n_up = {self.prompts * self.n_up} "
                             f"(no prompt may get more than n_up = {self.n_up} rollouts), got "
                             f"{self.total}")
        mix = tuple(float(w) for w in self.mixture)
        if len(mix) != 3 or any(w < 0 for w in mix) or sum(mix) <= 0:
            raise ValueError(f"mixture must be three non-negative weights with a positive sum, "
                             f"got {self.mixture!r}")
        object.__setattr__(self, "mixture", mix)
        check_real("beta_a", self.beta_a, 0.0, lo_open=True)
        check_int("estimate_samples", self.estimate_samples, 1)
        check_real("stale_sd", self.stale_sd, 0.0)

    @property
    def total(self):
        """The batch's rollout budget: ``budget``, or ``prompts * n``."""
        return self.budget if self.budget is not None else self.prompts * self.n

    def theory_params(self, **kw):
        """The matching :class:`KnapsackParams` (bounds, the batch's budget); ``kw`` adds fields."""
        return KnapsackParams(n=self.n, n_low=self.n_low, n_up=self.n_up, budget=self.total, **kw)
