"""The models of budgetlab, in one list.

:data:`MODELS` names every model; :func:`model` returns the package
``sim.<name>``, which follows :class:`sim.interface.Model`. Sweeps
(:mod:`sim.sweep`), validation checks (:mod:`validation.check`) and GPU checks
(:mod:`gpu.check`) loop over this list, so a new model is one package and one
entry here.
"""

from __future__ import annotations

import importlib

from sim.interface import Model

__all__ = ["MODELS", "model", "models"]

#: Every model, in the order the documentation presents them.
MODELS = ("phase", "bbam", "knapsack", "coop", "gamma", "workflow", "search", "memory")


def model(name):
    """The package ``sim.<name>`` of a registered model.

    Raises
    ------
    ValueError
        ``name`` is not in :data:`MODELS` (one line listing the models).
    """
    if name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {name!r}")
    mod = importlib.import_module(f"sim.{name}")
    if not isinstance(mod, Model):
        missing = [a for a in ("NAME", "Params", "simulate", "SWEEP") if not hasattr(mod, a)]
        raise TypeError(f"sim.{name} does not provide the model interface (missing "
                        f"{', '.join(missing)})")
    return mod


def models():
    """``{name: package}`` for every registered model."""
    return {name: model(name) for name in MODELS}
