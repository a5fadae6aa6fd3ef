"""The parameters of one configuration of the phase model: :class:`PhaseParams`.

The defaults are those of ``python -m sim.phase``; the model is described in
``docs/models/phase.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from theory._params import check_bool, check_choice, check_int, check_odd_int, check_real

__all__ = ["PhaseParams", "CORRELATIONS"]

#: The correlation models (``docs/models/phase.md``, section "Three correlation models").
CORRELATIONS = ("herding", "item", "shock")
#: Accepted spellings; ``"global_shock"`` is stored as ``"shock"``.
_CORRELATION_NAMES = ("herding", "item", "shock", "global_shock")


def correlation_name(value):
    """The stored name of a correlation model (``"global_shock"`` becomes ``"shock"``).

    Raises
    ------
    ValueError
        ``value`` is not one of ``herding``, ``item``, ``shock``, ``global_shock``.
    """
    check_choice("correlation", value, _CORRELATION_NAMES)
    return "shock" if value == "global_shock" else value


@dataclass(frozen=True)
class PhaseParams:
    """Validated parameters of one phase-model configuration.

    Frozen; every field is checked on construction. The defaults are the
    command line's (``python -m sim.phase``).

    Parameters
    ----------
    b : int, default 3
        Fan-in, odd, ``3 <= b <= 201`` (odd so that a majority has no ties;
        the paper's domain).
    rho : float, default 0.0
        Correlation of signed correctness between sibling votes, in ``[0, 1)``
        (the paper's domain; its meaning under each correlation model is in
        ``docs/models/phase.md``, section "Three correlation models").
    gamma : float, default 0.9
        Message fidelity ``gamma(m)``, in ``(0, 1]``: a channel multiplies a
        bias by ``gamma`` (``docs/models/phase.md (4)``).
    depth : int, default 8
        Tree depth ``L`` in ``[0, 60]``; the tree has ``b**depth`` leaves.
    p0 : float, default 0.6
        Leaf accuracy in ``[0, 1]`` (the mean accuracy under ``"item"``).
    correlation : {"herding", "item", "shock"}, default "herding"
        Correlation mechanism, an open choice of the paper
        (``docs/models/phase.md``, section "Open choices"). ``"global_shock"``
        is accepted and stored as ``"shock"``.
    rho_node : float, default 0.0
        Node herding composed with ``"item"`` or ``"shock"``
        (``docs/models/phase.md (27)``), in ``[0, 1)``; must be 0 under
        ``"herding"``, where ``rho`` already is the node herding probability.
    root_channel : bool, default False
        Whether the root's output also passes a channel (an open choice; the
        paper's recursion has none).

    Raises
    ------
    ValueError, TypeError
        One line naming the parameter, its value and the allowed range.

    Examples
    --------
    >>> PhaseParams(rho=0.3).mu0
    0.19999999999999996
    """

    b: int = 3
    rho: float = 0.0
    gamma: float = 0.9
    depth: int = 8
    p0: float = 0.6
    correlation: str = "herding"
    rho_node: float = 0.0
    root_channel: bool = False

    def __post_init__(self):
        put = object.__setattr__
        put(self, "b", check_odd_int("b", self.b, lo=3, hi=201))
        put(self, "rho", check_real("rho", self.rho, 0.0, 1.0, hi_open=True))
        put(self, "gamma", check_real("gamma", self.gamma, 0.0, 1.0, lo_open=True))
        put(self, "depth", check_int("depth", self.depth, 0, 60))
        put(self, "p0", check_real("p0", self.p0, 0.0, 1.0))
        put(self, "correlation", correlation_name(self.correlation))
        put(self, "rho_node", check_real("rho_node", self.rho_node, 0.0, 1.0, hi_open=True))
        if self.correlation == "herding" and self.rho_node != 0.0:
            raise ValueError(
                f"rho_node must be 0 when correlation='herding', got {self.rho_node:g}"
            )
        put(self, "root_channel", check_bool("root_channel", self.root_channel))

    @property
    def mu0(self) -> float:
        """Leaf bias ``2 p0 - 1`` (``docs/models/phase.md``, section "The model")."""
        return 2.0 * self.p0 - 1.0
