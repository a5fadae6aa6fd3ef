"""``python -m validation.check``: every theory checked against a real model run.

Each check estimates the theory's inputs from one part of a run, predicts, and
compares with what the other part of the run actually did. Every comparison is
a row ``(check, quantity, predicted, observed, ci_low, ci_high, verdict)``:
the interval is a 95 % bootstrap interval over questions of the observed
value, and the verdict is ``pass`` when ``|predicted - observed|`` is within
the row's tolerance (the stated absolute tolerance plus 2.58 bootstrap
standard errors of the difference, a 99 % band), else ``fail``. Rows that
compare an alternative theory are ``follows`` / ``departs``: they say which
theory the model follows and do not decide the exit status.

* **phase** (:func:`check_phase`): samples are split by index into an
  estimation half (per-question accuracy, pooled accuracy ``p``, within-question
  correlation ``rho`` by the beta-binomial moment estimator) and an observation
  half. Majority votes of ``b = 3, 5, 7, ...`` disjoint samples and majority
  trees (``b = 3``, depth 2, and 3 when there are 27 samples) are formed from
  the observation half and compared with the predictions of four correlation
  models at the same ``(p, rho)``: independence (``rho = 0``), item difficulty
  (Beta latent), herding and global shock (``theory.phase.level_biases`` with
  lossless messages). For one vote, herding and shock predict the same panel
  law; trees separate them. The check passes when at least one correlated
  model follows every vote and tree row; the report names it.
* **knapsack** (:func:`check_knapsack`): success rates from the estimation
  half; uniform, knapsack (exact) and reference-compatible allocations at equal
  budget, capped at the observation half's size; the allocated rollouts are
  drawn without replacement from the observation half, whose expected
  effective-gradient and effective-prompt ratios are exact (hypergeometric),
  and compared with the theory's ``E[EGR]`` at the estimated rates.
* **gamma** and **bbam** need the model itself (guided and truncated
  decoding); see :func:`check_gamma` and :func:`check_bbam`.

The checks follow one protocol (:class:`Check`): each model of
:data:`sim.registry.MODELS` that real runs can speak to has a module
``validation.check.<model>`` with ``NAME``, ``NEEDS_MODEL`` (whether the check
runs the model, not only reads the records), ``SIZES``, ``FIGSIZE``,
``PANELS``, ``check(run, adapter=None, *, seed=0, sizes=None) -> (rows,
detail)`` and ``plot(detail, ax=None) -> axes``. :data:`NO_RUN_CHECK` names the
models that have none, and why.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from sim.registry import MODELS
from validation.check import bbam, gamma
from validation.check._common import Row, icc, split_samples, verdict
from validation.check.bbam import check_bbam, fit_uncertainty_law
from validation.check.gamma import check_gamma, guidance_processor, predictor_data
from validation.check.knapsack import check_knapsack
from validation.check.phase import (
    check_phase,
    planted_table,
    predict_votes,
    tree_accuracy,
    vote_accuracy,
)

__all__ = [
    "Check", "Row", "split_samples", "icc", "vote_accuracy", "tree_accuracy", "predict_votes",
    "check_phase", "check_knapsack", "check_gamma", "check_bbam", "verdict", "planted_table",
    "fit_uncertainty_law", "predictor_data", "guidance_processor", "CHECKS", "NO_RUN_CHECK",
    "QUICK", "check_module", "run_checks", "rows_frame", "write_report",
]


@runtime_checkable
class Check(Protocol):
    """What every ``validation.check.<model>`` module provides (see the module docstring)."""

    NAME: str
    NEEDS_MODEL: bool
    SIZES: dict
    FIGSIZE: tuple
    PANELS: int

    def check(self, run, adapter=None, *, seed=0, sizes=None): ...

    def plot(self, detail, ax=None): ...


#: Registered models without a check against real runs, and why.
NO_RUN_CHECK = {
    "coop": "coop is a game-theoretic model of human teams, not of model samples; its empirical "
            "checks are the paper's experiments and the Apache case (python -m sim.coop "
            "--experiment paper|apache), see docs/models/coop.md",
}

#: The registered models that have a check, in the registry's order.
CHECKS = tuple(m for m in MODELS if importlib.util.find_spec(f"validation.check.{m}"))

#: Sizes of ``--quick``: the sampled run and every check's own sizes.
QUICK = dict(questions=240, samples=32, difficulty="1:4", **gamma.SIZES, **bbam.SIZES)


def check_module(name):
    """The module ``validation.check.<name>``; one-line ValueError for a model without one."""
    if name in NO_RUN_CHECK:
        raise ValueError(f"{name} has no check against model runs: {NO_RUN_CHECK[name]}")
    if name not in CHECKS:
        raise ValueError(f"check must be one of {', '.join(CHECKS)}, got {name!r}")
    return importlib.import_module(f"validation.check.{name}")


def run_checks(run, only=CHECKS, adapter=None, seed=0, sizes=None, progress=None):
    """Run the selected checks on a loaded run; returns ``(rows, details)``.

    ``adapter`` is needed by the checks whose module has ``NEEDS_MODEL``;
    ``sizes`` overrides entries of :data:`QUICK`.
    """
    sizes = {**QUICK, **(sizes or {})}
    rows, details = [], {}
    for name in only:
        r, d = check_module(name).check(run, adapter, seed=seed, sizes=sizes)
        rows += r
        details[name] = d
        if progress:
            progress()
    return rows, details


def rows_frame(rows):
    """The rows as a DataFrame with the columns of the ``--json`` table."""
    return pd.DataFrame([r.__dict__ for r in rows])


def write_report(directory, rows, details, run_meta):
    """Markdown report with one PNG figure per check, beside the run."""
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Validation report", "",
             f"Run: model `{run_meta.get('model')}`, checkpoint "
             f"`{str(run_meta.get('checkpoint_sha256'))[:12]}`, "
             f"{run_meta.get('n_questions')} questions x {run_meta.get('n_samples')} samples, "
             f"decoding {run_meta.get('decoding')}.", "",
             "Verdicts: `pass`/`fail` decide the exit status (|predicted - observed| within the "
             "stated tolerance plus 2.58 bootstrap standard errors); `follows`/`departs` say "
             "whether an alternative theory describes the run.", ""]
    for name, d in details.items():
        lines += [f"## {name}", "", "| quantity | predicted | observed | 95% interval | "
                  "tolerance | verdict |", "|---|---|---|---|---|---|"]
        for r in rows:
            if r.check != name:
                continue
            tol = "" if not np.isfinite(r.tolerance) else f"{r.tolerance:g}"
            ci = "" if not np.isfinite(r.ci_low) else f"[{r.ci_low:.4f}, {r.ci_high:.4f}]"
            lines.append(f"| {r.quantity} | {r.predicted:.4f} | {r.observed:.4f} | {ci} | {tol} "
                         f"| {r.verdict} |")
        png = out / f"{name}.png"
        _write_figure(check_module(name), d, png)
        lines += ["", f"![{name}]({png.name})", ""]
        failed = [r for r in rows if r.check == name and r.verdict == "fail"]
        for r in failed:
            lines.append(f"- FAILED: {r.quantity}: off by {abs(r.predicted - r.observed):.4f} "
                         f"(tolerance {r.tolerance:g})")
        lines.append("")
    (out / "report.md").write_text("\n".join(lines))
    return out / "report.md"


def _write_figure(mod, detail, path):
    from sim import _cli

    fig, axes = _cli.new_figure(*mod.FIGSIZE, ncols=mod.PANELS)
    mod.plot(detail, axes)
    _cli.save_figure(fig, path, dpi=150.0, say=False)
