"""Parameter sweeps over any model: ``python -m sim.sweep``.

A sweep is a grid (or a random design) over a model's parameters, run as
independent points. Each point calls the model's own simulator and theory
(:func:`sim.phase.simulate`, :func:`sim.bbam.simulate`,
:func:`sim.knapsack.simulate`, :func:`sim.coop.simulate` with
:func:`theory.coop.solve`) and becomes one Parquet part of tidy rows: the
parameters, ``quantity``, ``theory``, ``estimate``, ``se``, ``trials``,
``seed``, ``backend``, ``version`` and the simulator's own columns.

* **Layout** of ``--out DIR``: ``DIR/sweep.json`` (the manifest: model, axes,
  fixed parameters, design, trials, root seed, backend, version) and
  ``DIR/parts/<point>.parquet``, one per finished point, written to a
  temporary file and renamed (:func:`os.replace`), so a crash or Ctrl-C never
  leaves a half-written part and never loses a finished one.
* **Resume**: rerunning the same sweep skips the points whose part exists. A
  different sweep into the same directory is refused (``--force`` starts over).
* **Seeds**: a point's seed is derived with :class:`numpy.random.SeedSequence`
  from the sweep's root seed and a SHA-256 hash of the point's canonical
  parameter values, so a point's numbers do not depend on the order in which
  points run, on the executor or on the machine.
* **Executors**: any :class:`concurrent.futures.Executor`. The command line
  offers ``inline``, ``processes[:N]`` (a spawn-based process pool),
  ``dask-local[:N]`` (a :class:`distributed.LocalCluster`) and
  ``tcp://HOST:PORT`` (an existing Dask scheduler; dask-jobqueue and dask-cuda
  clusters are reached this way). Results come back to this process, which
  writes the parts, so workers need no shared file system.

The models come from :data:`sim.registry.MODELS`; each declares what a sweep
needs in its ``SWEEP`` (:class:`sim.interface.SweepModel`: parameters, the point
function, default size, figure).
"""

from __future__ import annotations

from sim.interface import Param, SweepModel
from sim.sweep.execute import SweepSummary, make_executor, run_sweep
from sim.sweep.plot import plot_sweep
from sim.sweep.spec import (
    MAX_POINTS,
    SweepSpec,
    make_spec,
    parse_values,
    point_id,
    point_params,
    point_seed,
    run_point,
    sweep_model,
    tidy_rows,
)
from sim.sweep.store import (
    collect,
    part_ok,
    prepare_dir,
    read_manifest,
    sweep_key,
    sweep_lock,
    write_part,
)

__all__ = [
    "Param",
    "SweepModel",
    "SweepSpec",
    "SweepSummary",
    "MAX_POINTS",
    "sweep_model",
    "parse_values",
    "make_spec",
    "point_params",
    "point_id",
    "point_seed",
    "run_point",
    "tidy_rows",
    "prepare_dir",
    "write_part",
    "part_ok",
    "sweep_key",
    "sweep_lock",
    "run_sweep",
    "make_executor",
    "read_manifest",
    "collect",
    "plot_sweep",
    "main",
]


def main(argv=None):
    """Run ``python -m sim.sweep`` (see :mod:`sim.sweep.__main__`)."""
    from sim.sweep.__main__ import main as _main

    return _main(argv)
