"""The two versions of the model, by the names the command line uses.

The teammates' welfare term of the loyalty modifier (docs/models/coop.md (3))
exists in two versions of the authors' code: ``"paper"`` sums the teammates'
payoffs (the version behind every number of the paper's abstract) and
``"repo"`` averages them (the authors' later code). In :mod:`theory.coop` they
are the welfare modes ``"sum"`` and ``"mean"``.
"""

from __future__ import annotations

from theory._params import check_choice
from theory.coop import CoopParams

__all__ = ["VARIANTS", "DEFAULT_VARIANT", "welfare_mode", "variant_of"]

_MODES = {"paper": "sum", "repo": "mean"}
#: The model versions: ``"paper"`` (teammates' payoffs summed) and ``"repo"`` (averaged).
VARIANTS = tuple(_MODES)


def welfare_mode(variant):
    """The :mod:`theory.coop` welfare mode of a variant (``"paper"`` -> ``"sum"``).

    Raises
    ------
    ValueError
        ``variant`` is not one of :data:`VARIANTS` (one line).
    """
    return _MODES[check_choice("variant", variant, VARIANTS)]


def variant_of(mode):
    """The variant of a welfare mode (``"sum"`` -> ``"paper"``); aliases are accepted."""
    mode = CoopParams(welfare_mode=mode).welfare_mode
    return next(v for v, m in _MODES.items() if m == mode)


#: The default variant: that of :class:`theory.coop.CoopParams`' default welfare mode.
DEFAULT_VARIANT = variant_of(CoopParams.welfare_mode)
