"""What ``python -m sim.sweep bbam`` needs: the sweepable parameters, one point, the figure."""

from __future__ import annotations

from sim._plot import first_slice, slice_note
from sim.bbam.core import cost as _cost
from sim.bbam.core import simulate
from sim.bbam.plot import plot_frontier
from sim.interface import SweepModel, params_of
from theory.bbam import BbamParams

__all__ = ["SWEEP", "point", "plot", "validate"]

#: Questions per sweep point unless the sweep says otherwise.
TRIALS = 20_000


def point(values, seed, trials, backend):
    """One sweep point: every allocator's accuracy (percent) against its closed form.

    Parameters
    ----------
    values : dict
        Every sweepable field of :class:`BbamParams` (all but ``m_counts``).
    seed, trials : int
        Root seed and questions of the point.
    backend : str

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`sim.bbam.simulate` with ``quantity``
        (``"accuracy_percent"``), ``theory``, ``estimate`` and ``se``.
    """
    df = simulate(BbamParams(**values), trials, seed, backend, allow=True)  # sized by cost
    df["quantity"] = "accuracy_percent"
    df["theory"] = df["accuracy_theory"]
    df["estimate"] = df["accuracy"]
    df["se"] = df["accuracy_se"]
    return df


def plot(df, manifest, ax=None):
    """The accuracy-token frontier over the swept budgets (:func:`sim.bbam.plot_frontier`).

    Needs a range of ``budget``; every other swept parameter is held at its
    first value (named in the title).
    """
    axes = manifest["axes"]
    if "budget" not in axes:
        raise ValueError("the bbam frontier needs a range of budget")
    df, held = first_slice(df, axes, ("budget",))
    ax = plot_frontier(df, ax)
    if held:
        ax.set_title(f"{ax.get_title()} ({slice_note(held)})", fontsize=9)
    return ax


def validate(values):
    """Raise the one-line error of :class:`BbamParams` when ``values`` is not a valid point."""
    BbamParams(**values)


def cost(values, trials):
    """One point's size for :func:`sim.guard.check` (:func:`sim.bbam.core.cost`)."""
    est = _cost(BbamParams(**values), trials)
    est["param"] = "trials"
    return est


#: The bbam model as :mod:`sim.sweep` runs it.
SWEEP = SweepModel("bbam", params_of(BbamParams, skip=("m_counts",)), point, trials=TRIALS,
                   plot=plot, validate=validate, cost=cost)
