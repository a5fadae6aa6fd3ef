"""What every model package provides: the one model interface.

A model is a package ``sim.<name>`` whose ``__init__`` exports, besides its own
API:

* ``NAME`` -- the model's name, equal to the package's last component;
* ``Params`` -- its frozen, validating parameter class (defined in
  ``theory.<name>`` and re-exported), whose defaults are the command line's;
* ``simulate(params, trials=..., seed=0, backend="auto")`` -- the model's main
  Monte Carlo run, a tidy :class:`pandas.DataFrame` with the theory beside each
  estimate and the provenance columns ``seed``, ``backend`` and ``version``;
* ``SWEEP`` -- a :class:`SweepModel`: the sweepable parameters, the function
  that computes one sweep point, its default size and the sweep figure.

and a command line in ``sim/<name>/__main__.py``. The validation check of the
model lives in ``validation.check.<name>`` and its GPU check in
``gpu.check.<name>`` (each layer keeps its own part, so imports only go down);
:mod:`sim.registry` lists the models and the higher layers loop over that list.
Adding a model is one package and one entry in :data:`sim.registry.MODELS`.

This module defines the interface only; it imports no model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sim.backends import BACKENDS

__all__ = ["Param", "SweepModel", "Model", "params_of"]


@dataclass(frozen=True)
class Param:
    """One sweepable parameter of a model.

    Parameters
    ----------
    name : str
        Name as in the model's parameter class (``rho_node``); the sweep flag is
        ``--rho-node`` (``--rho_node`` is accepted too).
    kind : {float, int, str, bool, pathlib.Path}
        Type of every value; ``pathlib.Path`` marks a file-valued parameter (its
        values are regular files stored as absolute paths, and the sweep
        manifest records each file's SHA-256, so a changed file is a different
        sweep).
    default : object
        Value used when a sweep does not set the parameter.
    """

    name: str
    kind: type
    default: object


@dataclass(frozen=True)
class SweepModel:
    """How :mod:`sim.sweep` runs one point of a model.

    Parameters
    ----------
    name : str
        The model's name.
    params : tuple of Param
        Sweepable parameters with their defaults.
    point : callable
        ``point(values, seed, trials, backend) -> pandas.DataFrame``; ``values``
        maps every parameter name to its value. The frame has the columns
        ``quantity``, ``theory``, ``estimate`` and ``se`` (one row per
        estimate); the sweep adds the parameters and the provenance.
    trials : int
        Default Monte Carlo size of one point (the model's unit: trees,
        questions, batch replicates, teams, runs).
    plot : callable or None
        ``plot(df, manifest, ax=None) -> Axes`` draws the model's sweep figure
        from collected rows.
    backends : tuple of str
        Backends the point function accepts; another requested backend runs
        on the last of these.
    validate : callable or None
        ``validate(values)`` raises the model's one-line error when ``values``
        is not a valid point (checked before a sweep starts).
    cost : callable or None
        ``cost(values, trials) -> dict`` with the keyword arguments of
        :func:`sim.guard.check` (``param``, ``work``, ``memory``, ``unit``,
        ``work_limit``): the estimated size of one point, refused before the
        sweep starts when it exceeds the machine's limits.
    """

    name: str
    params: tuple
    point: Callable[..., Any]
    trials: int
    plot: Callable[..., Any] | None = None
    backends: tuple = BACKENDS
    validate: Callable[..., Any] | None = None
    cost: Callable[..., Any] | None = None

    def param(self, name):
        """The :class:`Param` called ``name``; one-line ValueError if there is none."""
        for p in self.params:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.params)
        raise ValueError(f"unknown parameter {name!r} for model {self.name}; "
                         f"parameters: {names}")


def params_of(cls, skip=(), kinds=None):
    """Sweepable :class:`Param` entries from the fields of a parameter dataclass.

    Parameters
    ----------
    cls : dataclass type
        The model's ``Params``.
    skip : iterable of str
        Fields that are not swept (arrays, tuples).
    kinds : dict, optional
        Field name to type, where the default's type is not the field's.
    """
    kinds = kinds or {}
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        out.append(Param(f.name, kinds.get(f.name, type(f.default)), f.default))
    return tuple(out)


@runtime_checkable
class Model(Protocol):
    """The attributes every ``sim.<name>`` package has (see the module docstring)."""

    NAME: str
    Params: type
    SWEEP: SweepModel

    def simulate(self, params, trials=..., seed=0, backend="auto"): ...
