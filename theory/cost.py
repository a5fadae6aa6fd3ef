"""The engine's one cost unit: tokens and tool calls priced into US dollars.

Liu et al., arXiv 2511.17006 (the Budget Tracker and BATS, budget-aware
tool use by search agents), prices an agent's run as its provider token bill
plus a price per tool call. budgetlab adopts that sum as the unit in which
every model's budget can be stated; ``docs/costs.md`` writes the convention
down (numbered equations, cited here as ``docs/costs.md (N)``), says how each
model's budget is stated in it, and lists the papers' reported curves that
serve as calibration data.

* :class:`Prices` -- a price table: USD per million input, output and
  cache-hit tokens, and per tool call (one price for every tool unless a
  tool is named);
* :class:`Usage` -- a cost record: token counts by class and calls by tool,
  additive;
* :func:`token_bill`, :func:`call_bill`, :func:`unified_cost` -- the unified
  cost (1)-(3);
* :func:`as_tokens` -- a cost in tokens of one class (4);
* :func:`budget_cost` -- the unified value of a token budget and a call
  budget (5);
* :func:`tracker_regime` -- the budget tracker's regime of a remaining
  fraction (6).

Functions broadcast over counts, return a ``float`` for scalar input and
raise one-line errors naming the parameter and its range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from theory._params import accepts_params, check_choice, check_real, check_real_array

__all__ = ["CALL_PRICE", "TOKEN_CLASSES", "REGIMES", "Prices", "DEFAULT_PRICES", "Usage",
           "token_bill", "call_bill", "unified_cost", "as_tokens", "budget_cost",
           "tracker_regime"]

#: The paper's price of one search or browse call, USD (an average over its runs).
CALL_PRICE = 0.001
#: Token classes of the bill.
TOKEN_CLASSES = ("input", "output", "cache")
#: Regimes of the budget tracker, from the most to the least budget left.
REGIMES = ("HIGH", "MEDIUM", "LOW", "CRITICAL")


def _calls_tuple(calls):
    if calls is None:
        return ()
    if isinstance(calls, Mapping):
        calls = tuple(calls.items())
    out = []
    for item in calls:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(f"tools must be pairs (tool, value), got {item!r}") from None
        if not isinstance(name, str):
            raise TypeError(f"a tool name must be a string, got {name!r}")
        out.append((name, value))
    return tuple(out)


@dataclass(frozen=True)
class Prices:
    """A price table: USD per million tokens of each class, and per tool call.

    The token prices are this project's round defaults, of the order of a
    mid-size hosted model; set your provider's. The call price is the
    paper's (docs/costs.md (2)).

    Parameters
    ----------
    input : float, default 1.0
        USD per million input (prompt) tokens, ``>= 0``.
    output : float, default 4.0
        USD per million output (generated) tokens, ``> 0``.
    cache : float, default 0.25
        USD per million cache-hit input tokens, ``>= 0``.
    call : float, default 0.001
        USD per tool call of any tool not in ``tools``, ``>= 0``.
    tools : mapping or tuple of pairs, default ()
        Per-tool prices that override ``call`` (``{"browse": 0.002}``).

    Raises
    ------
    ValueError, TypeError
        One line naming the price, its value and the allowed range.
    """

    input: float = 1.0
    output: float = 4.0
    cache: float = 0.25
    call: float = CALL_PRICE
    tools: tuple = ()

    def __post_init__(self):
        put = object.__setattr__
        put(self, "input", check_real("input", self.input, 0.0, math.inf, hi_open=True))
        put(self, "output", check_real("output", self.output, 0.0, math.inf, lo_open=True,
                                       hi_open=True))
        put(self, "cache", check_real("cache", self.cache, 0.0, math.inf, hi_open=True))
        put(self, "call", check_real("call", self.call, 0.0, math.inf, hi_open=True))
        put(self, "tools", tuple((n, check_real(f"price of {n}", v, 0.0, math.inf,
                                                hi_open=True))
                                 for n, v in _calls_tuple(self.tools)))

    def tool_price(self, tool=None):
        """USD per call of ``tool`` (``call`` unless the tool has its own price)."""
        return dict(self.tools).get(tool, self.call)

    def per_token(self, kind="output"):
        """USD per single token of ``kind`` (``input``, ``output`` or ``cache``)."""
        check_choice("kind", kind, TOKEN_CLASSES)
        return getattr(self, kind) / 1e6


#: The defaults of :class:`Prices`.
DEFAULT_PRICES = Prices()


def _prices(prices):
    if prices is None:
        return DEFAULT_PRICES
    if not isinstance(prices, Prices):
        raise TypeError(f"prices must be a Prices, got {type(prices).__name__}")
    return prices


def _out(x):
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


@accepts_params
def token_bill(input=0, output=0, cache=0, prices=None):
    """The token bill, USD: ``sum over classes of tokens * price``; docs/costs.md (1).

    ``input`` counts the prompt tokens that are not cache hits, ``cache``
    the cache-hit ones. Counts are ``>= 0`` and broadcast.
    """
    P = _prices(prices)
    i = check_real_array("input", input, 0.0)
    o = check_real_array("output", output, 0.0)
    c = check_real_array("cache", cache, 0.0)
    return _out(i * P.per_token("input") + o * P.per_token("output") + c * P.per_token("cache"))


@accepts_params
def call_bill(calls=0, prices=None):
    """The tool bill, USD: ``sum_i calls_i * price_i``; docs/costs.md (2).

    ``calls`` is a count (or array) of calls of any unnamed tool, or a
    mapping (or pairs) from tool name to count.
    """
    P = _prices(prices)
    if isinstance(calls, (Mapping, list, tuple)) and len(calls) == 0:
        return 0.0
    if isinstance(calls, Mapping) or (isinstance(calls, (list, tuple))
                                      and isinstance(calls[0], (list, tuple))):
        total = 0.0
        for name, n in _calls_tuple(calls):
            total = total + check_real_array(f"calls of {name}", n, 0.0) * P.tool_price(name)
        return _out(total)
    return _out(check_real_array("calls", calls, 0.0) * P.call)


@accepts_params
def unified_cost(input=0, output=0, cache=0, calls=0, prices=None):
    """The unified cost, USD: token bill plus tool bill; docs/costs.md (3).

    The paper's unified cost of one run: ``C = c_token + sum_i c_i p_i``.
    Additive over runs and non-negative; equal to the token bill when every
    call price is 0.
    """
    return _out(np.add(token_bill(input, output, cache, prices), call_bill(calls, prices)))


@accepts_params
def as_tokens(cost, kind="output", prices=None):
    """A unified cost as the number of tokens of ``kind`` it buys; docs/costs.md (4).

    ``cost / price per token``: with the default prices one call
    (USD 0.001) is worth 250 output tokens.
    """
    P = _prices(prices)
    c = check_real_array("cost", cost, 0.0)
    per = P.per_token(kind)
    if per <= 0:
        raise ValueError(f"the {kind} price must be > 0 to express a cost in {kind} tokens")
    return _out(c / per)


@accepts_params
def budget_cost(tokens=0, calls=0, kind="output", prices=None):
    """The unified value of a token budget and a call budget; docs/costs.md (5).

    The most a run held to both hard limits can spend:
    ``tokens * price(kind) + calls * price(call)``.
    """
    check_choice("kind", kind, TOKEN_CLASSES)
    return unified_cost(**{kind: tokens}, calls=calls, prices=prices)


@accepts_params
def tracker_regime(fractions):
    """The budget tracker's regime of the remaining fractions of each tool's budget.

    docs/costs.md (6): HIGH at ``>= 0.7``, MEDIUM in ``[0.3, 0.7)``, LOW in
    ``[0.1, 0.3)``, CRITICAL below 0.1 or when any tool is at 0 (the
    paper's thresholds; the half-open intervals are this project's reading).
    The regime is that of the smallest fraction.

    Parameters
    ----------
    fractions : float or sequence of float
        Remaining fraction of each tool's budget, in ``[0, 1]``.

    Returns
    -------
    str
        One of :data:`REGIMES`.
    """
    f = check_real_array("fractions", fractions, 0.0, 1.0).ravel()
    if f.size == 0:
        raise ValueError("fractions must hold at least one tool")
    low = float(f.min())
    if low <= 0.0 or low < 0.1:
        return "CRITICAL"
    if low < 0.3:
        return "LOW"
    if low < 0.7:
        return "MEDIUM"
    return "HIGH"


@dataclass(frozen=True)
class Usage:
    """A cost record of one run (or a sum of runs): tokens by class and calls by tool.

    Parameters
    ----------
    input, output, cache : float, default 0
        Non-cached input, output and cache-hit tokens, ``>= 0``.
    calls : mapping or tuple of pairs, default ()
        Calls per tool name (``{"search": 8, "browse": 1}``).

    ``a + b`` adds two records; ``usage.cost(prices)`` is the unified cost (3).
    """

    input: float = 0
    output: float = 0
    cache: float = 0
    calls: tuple = ()

    def __post_init__(self):
        put = object.__setattr__
        for name in TOKEN_CLASSES:
            put(self, name, check_real(name, getattr(self, name), 0.0))
        put(self, "calls", tuple((n, check_real(f"calls of {n}", v, 0.0))
                                 for n, v in _calls_tuple(self.calls)))

    def __add__(self, other):
        if not isinstance(other, Usage):
            return NotImplemented
        calls = dict(self.calls)
        for n, v in other.calls:
            calls[n] = calls.get(n, 0.0) + v
        return Usage(self.input + other.input, self.output + other.output,
                     self.cache + other.cache, tuple(calls.items()))

    @property
    def tokens(self):
        """All tokens of the record."""
        return self.input + self.output + self.cache

    def cost(self, prices=None):
        """The unified cost of the record, USD; docs/costs.md (3)."""
        return unified_cost(self.input, self.output, self.cache, self.calls, prices)
