"""Parameter sweeps over any model: ``python -m sim.sweep``.

A sweep is a grid (or a random design) over a model's parameters, run as
independent points. Each point calls the model's own simulator and theory
(:func:`sim.phase.simulate`, :func:`sim.bbam.simulate`,
:func:`sim.knapsack.simulate_batch`, :func:`sim.coop.repeated_play` with
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

Adding a model is one :func:`register` call with its parameters and a
``point(values, seed, trials, backend) -> DataFrame`` function (see the four
registrations at the end of the registry section).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import itertools
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sim import __version__ as _VERSION
from sim import _cli
from sim import rng as _rng
from sim.backends import BACKENDS, BackendUnavailable, resolve_backend
from theory._params import check_choice, check_int

__all__ = [
    "Param",
    "SweepModel",
    "MODELS",
    "register",
    "SweepSpec",
    "parse_values",
    "make_spec",
    "point_params",
    "point_id",
    "point_seed",
    "run_point",
    "tidy_rows",
    "prepare_dir",
    "write_part",
    "run_sweep",
    "make_executor",
    "collect",
    "phase_boundary",
    "plot_sweep",
    "main",
]

#: Largest sweep run without ``--yes`` (``yes=True``).
MAX_POINTS = 10**7
#: Significant digits kept of every real grid value (``linspace`` noise removed).
DIGITS = 12
MANIFEST = "sweep.json"
PARTS = "parts"
_FORMAT = 1


# ----------------------------------------------------------------------------
# Model registry
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One sweepable parameter of a model.

    Parameters
    ----------
    name : str
        Name as in the model's parameter dataclass (``rho_node``); the flag is
        ``--rho-node`` (``--rho_node`` is accepted too).
    kind : {float, int, str, bool}
        Type of every value.
    default : object
        Value used when the sweep does not set the parameter.
    """

    name: str
    kind: type
    default: object


@dataclass(frozen=True)
class SweepModel:
    """A model that :func:`run_sweep` can sweep.

    Parameters
    ----------
    name : str
    params : tuple of Param
    point : callable
        ``point(values, seed, trials, backend) -> pandas.DataFrame``; ``values``
        maps every parameter name to its value. The frame must have the columns
        ``quantity``, ``theory``, ``estimate`` and ``se`` (one row per estimate);
        :func:`run_point` adds the parameters and provenance.
    trials : int
        Default Monte Carlo size of one point (the meaning of a trial is the
        model's: trees, questions, batch replicates, teams).
    plot : callable or None
        ``plot(df, spec, path)`` draws the model's figure from collected rows.
    backends : tuple of str
        Backends the point function accepts.
    """

    name: str
    params: tuple
    point: object
    trials: int
    plot: object = None
    backends: tuple = BACKENDS

    def param(self, name):
        for p in self.params:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.params)
        raise ValueError(f"unknown parameter {name!r} for model {self.name}; "
                         f"parameters: {names}")


MODELS = {}


def register(model):
    """Add ``model`` (a :class:`SweepModel`) to :data:`MODELS`; returns it."""
    MODELS[model.name] = model
    return model


def _from_dataclass(cls, skip=(), kinds=None):
    """Parameters with the defaults of a frozen parameter dataclass ``cls``."""
    kinds = kinds or {}
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind = kinds.get(f.name, type(f.default))
        out.append(Param(f.name, kind, f.default))
    return tuple(out)


def _phase_point(values, seed, trials, backend):
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    df = sim_phase.simulate(PhaseParams(**values), trials, seed, backend)
    df["quantity"] = "accuracy"
    df["theory"] = df["p_theory"]
    df["estimate"] = df["p_sim"]
    return df


def _bbam_point(values, seed, trials, backend):
    from sim import bbam as sim_bbam

    df = sim_bbam.simulate(sim_bbam.BbamParams(**values), trials, seed, backend)
    df["quantity"] = "accuracy_percent"
    df["theory"] = df["accuracy_theory"]
    df["estimate"] = df["accuracy"]
    df["se"] = df["accuracy_se"]
    return df


def _knapsack_point(values, seed, trials, backend):
    from sim import knapsack as sim_knapsack

    df = sim_knapsack.simulate_batch(sim_knapsack.KnapsackSimParams(**values), None, trials,
                                     seed, backend)[0]
    df["quantity"] = "effective_gradient_ratio"
    df["theory"] = df["egr_expected"]
    df["estimate"] = df["egr_sim"]
    df["se"] = df["egr_se"]
    return df


#: Independent batches of teams behind the standard error of a coop point.
COOP_BATCHES = 4


def _coop_point(values, seed, trials, backend):
    from sim import coop as sim_coop
    from theory import coop as th_coop

    v = dict(values)
    n = v.pop("n")
    theta = v.pop("theta")
    noise, rounds = v.pop("noise"), v.pop("rounds")
    params = th_coop.CoopParams(n=n, theta=(theta,) * n, **v)
    eq = th_coop.solve(params)
    trials = check_int("trials", trials, COOP_BATCHES)
    ends = []
    for k in range(COOP_BATCHES):
        sub = int(np.random.SeedSequence(seed, spawn_key=(k,)).generate_state(1, np.uint64)[0]
                  >> np.uint64(1))
        df = sim_coop.repeated_play(params, trials // COOP_BATCHES, rounds, noise, seed=sub)
        ends.append(float(df["mean_effort"].iloc[-1]))
    ends = np.asarray(ends)
    return pd.DataFrame(dict(
        quantity=["mean_effort"], theory=[float(eq.mean_effort)], estimate=[ends.mean()],
        se=[ends.std(ddof=1) / math.sqrt(COOP_BATCHES)], unique=[bool(eq.unique)],
        teams=[trials // COOP_BATCHES * COOP_BATCHES]))


def _gamma_point(values, seed, trials, backend):
    from sim import gamma as sim_gamma

    v = dict(values)
    if v.pop("toy") == "geometric":
        model = sim_gamma.geometric_model(v.pop("h"))
        for k in ("p_wait", "p_end", "newline", "max_paragraph"):
            v.pop(k)
    else:
        v.pop("h")
        model = sim_gamma.paragraph_model(p_wait=v.pop("p_wait"), p_end=v.pop("p_end"),
                                          newline=v.pop("newline"),
                                          max_paragraph=v.pop("max_paragraph"))
    budget = v.pop("budget")
    pred = sim_gamma.fit_predictor(model, distortion=v.pop("distortion"))
    methods = [replace(m, strength=v["strength"]) if m.kind == "guided" else m
               for m in sim_gamma.default_methods(model)]
    df = sim_gamma.compare(model, budget, methods, pred, trials, seed, backend)
    return pd.DataFrame(dict(method=df["name"], quantity="adherence",
                             theory=df["adherence_exact"], estimate=df["adherence_sim"],
                             se=df["adherence_se_sim"], mean_length_exact=df["mean_length_exact"],
                             mean_length_sim=df["mean_length_sim"],
                             overshoot_p90=df["overshoot_p90_sim"]))


def _register_builtin():
    from sim.bbam import BbamParams
    from sim.knapsack import KnapsackSimParams
    from theory.phase import PhaseParams

    register(SweepModel("phase", _from_dataclass(PhaseParams), _phase_point, trials=4096,
                        plot=_plot_phase))
    register(SweepModel("bbam", _from_dataclass(BbamParams, skip=("m_counts",)), _bbam_point,
                        trials=20_000, plot=_plot_bbam))
    register(SweepModel("knapsack", _from_dataclass(KnapsackSimParams, skip=("mixture",),
                                                    kinds={"budget": int}),
                        _knapsack_point, trials=500, plot=_plot_knapsack))
    register(SweepModel("coop", (
        Param("theta", float, 0.5), Param("n", int, 5), Param("omega", float, 25.0),
        Param("beta", float, 0.7), Param("c", float, 1.0), Param("phi_B", float, 0.8),
        Param("phi_C", float, 0.3), Param("a_min", float, 0.0), Param("a_max", float, 50.0),
        Param("welfare_mode", str, "paper"), Param("noise", float, 0.5),
        Param("rounds", int, 30),
    ), _coop_point, trials=2000, plot=_plot_coop, backends=("auto", "numba")))
    register(SweepModel("gamma", (
        Param("toy", str, "paragraph"), Param("budget", int, 150), Param("h", float, 0.01),
        Param("p_wait", float, 0.25), Param("p_end", float, 0.01), Param("newline", float, 0.12),
        Param("max_paragraph", int, 20), Param("distortion", float, 0.0),
        Param("strength", float, 1.0),
    ), _gamma_point, trials=5000, plot=_plot_gamma))


# ----------------------------------------------------------------------------
# Values, specs and points
# ----------------------------------------------------------------------------

def _round(x):
    return float(f"{float(x):.{DIGITS}g}")


def _scalar(param, text):
    """One value of ``param`` from text (or a TOML scalar)."""
    kind = param.kind
    if isinstance(text, str):
        t = text.strip()
    else:
        t = text
    try:
        if kind is bool:
            if isinstance(t, bool):
                return t
            low = str(t).lower()
            if low in ("true", "yes", "1", "on"):
                return True
            if low in ("false", "no", "0", "off"):
                return False
            raise ValueError
        if kind is int:
            if isinstance(t, bool):
                raise ValueError
            x = float(t)
            if not x.is_integer():
                raise ValueError
            return int(x)
        if kind is float:
            if isinstance(t, bool):
                raise ValueError
            x = float(t)
            if not math.isfinite(x):
                raise ValueError
            return _round(x)
        if t == "":
            raise ValueError
        return str(t)
    except (TypeError, ValueError):
        what = {bool: "true or false", int: "an integer", float: "a finite number",
                str: "a non-empty word"}[kind]
        raise ValueError(f"{param.name} values must be {what}, got {text!r}") from None


def parse_values(param, spec):
    """The values of one axis from its command-line or TOML form.

    ``START:STOP:N`` is ``N`` evenly spaced values from ``START`` to ``STOP``
    inclusive (``numpy.linspace``); ``A,B,C`` is an explicit list; a single
    value fixes the parameter. TOML may also give a list or a number.

    Returns
    -------
    tuple
        The values, real ones rounded to 12 significant digits.

    Raises
    ------
    ValueError
        One line naming the parameter (bad number, empty range, non-integer
        value of an integer parameter).
    """
    if isinstance(spec, (list, tuple)):
        if len(spec) == 0:
            raise ValueError(f"{param.name} list is empty")
        return tuple(_scalar(param, v) for v in spec)
    if not isinstance(spec, str):
        return (_scalar(param, spec),)
    text = spec.strip()
    if text.count(":") == 2 and param.kind in (int, float):
        a, b, n = (s.strip() for s in text.split(":"))
        try:
            lo, hi = float(a), float(b)
            num = float(n)
        except ValueError:
            raise ValueError(f"{param.name} range must be START:STOP:N, got {spec!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)) or not num.is_integer():
            raise ValueError(f"{param.name} range must be START:STOP:N with finite ends and "
                             f"an integer N, got {spec!r}")
        if num < 1:
            raise ValueError(f"{param.name} range {spec!r} is empty: N must be >= 1")
        if num == 1 and lo != hi:
            raise ValueError(f"{param.name} range {spec!r} has one point but two ends; "
                             f"give N >= 2 or a single value")
        grid = np.linspace(lo, hi, int(num))
        if param.kind is int:
            bad = [x for x in grid if not float(x).is_integer()]
            if bad:
                raise ValueError(f"{param.name} values must be integers, range {spec!r} "
                                 f"gives {bad[0]:g}")
            return tuple(int(x) for x in grid)
        return tuple(_round(x) for x in grid)
    if ":" in text and param.kind in (int, float):
        raise ValueError(f"{param.name} range must be START:STOP:N, got {spec!r}")
    parts = [p.strip() for p in text.split(",")]
    if not text or any(p == "" for p in parts):
        raise ValueError(f"{param.name} must be a value, a comma list or START:STOP:N, "
                         f"got {spec!r}")
    return tuple(_scalar(param, p) for p in parts)


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep computes; two runs with equal specs produce equal rows.

    Parameters
    ----------
    model : str
    axes : tuple of (str, tuple)
        The swept parameters with their values, in the order given.
    fixed : tuple of (str, object)
        Every other parameter of the model with its value.
    trials, seed : int
        Monte Carlo size of a point; root seed of the sweep.
    backend : str
        Requested backend (``auto`` resolves where the point runs).
    design : {"grid", "random"}
    points : int or None
        Number of points of a random design: real axes are drawn uniformly
        between their smallest and largest value, other axes from their values.
    """

    model: str
    axes: tuple
    fixed: tuple
    trials: int
    seed: int = 0
    backend: str = "auto"
    design: str = "grid"
    points: int | None = None

    @property
    def size(self):
        """Number of points."""
        if self.design == "random":
            return self.points
        return math.prod(len(v) for _, v in self.axes)

    def manifest(self):
        """The JSON-ready record stored as ``DIR/sweep.json``."""
        return dict(format=_FORMAT, model=self.model, design=self.design, points=self.size,
                    axes={k: list(v) for k, v in self.axes}, fixed=dict(self.fixed),
                    trials=self.trials, seed=self.seed, backend=self.backend)


def make_spec(model, values, trials=None, seed=0, backend="auto", design="grid", points=None,
              yes=False):
    """Validate a sweep and return its :class:`SweepSpec`.

    Parameters
    ----------
    model : str
        A key of :data:`MODELS`.
    values : dict
        Parameter name -> text (``"0:1:11"``, ``"3,5"``), list or single value.
        Parameters with more than one value become axes (in this order); the
        rest are fixed, together with the model's defaults.
    trials : int or None
        ``None`` takes the model's default.
    yes : bool
        Allow more than :data:`MAX_POINTS` points.

    Raises
    ------
    ValueError
        One line: unknown model or parameter, bad or empty range, too many
        points, a parameter value the model rejects.
    """
    if not MODELS:
        _register_builtin()
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    m = MODELS[model]
    check_choice("design", design, ("grid", "random"))
    check_choice("backend", backend, BACKENDS)
    if backend not in m.backends:
        raise ValueError(f"backend for {model} must be one of {', '.join(m.backends)}, "
                         f"got {backend!r}")
    trials = check_int("trials", m.trials if trials is None else trials, 1)
    seed = check_int("seed", seed, 0)
    axes, fixed = [], {}
    for name, spec in values.items():
        param = m.param(name.replace("-", "_"))
        vals = parse_values(param, spec)
        if len(vals) > 1:
            axes.append((param.name, vals))
        else:
            fixed[param.name] = vals[0]
    for p in m.params:
        if p.name not in fixed and all(p.name != a for a, _ in axes):
            fixed[p.name] = p.default
    if design == "random":
        if points is None:
            raise ValueError("a random design needs --points N")
        points = check_int("points", points, 1)
        if not axes:
            raise ValueError("a random design needs at least one parameter with a range or a "
                             "list of values")
    elif points is not None:
        raise ValueError("--points is only used with --design random")
    spec = SweepSpec(model, tuple(axes), tuple(fixed.items()), trials, seed, backend, design,
                     points)
    if spec.size > MAX_POINTS and not yes:
        raise ValueError(f"the sweep has {spec.size:.3g} points (more than {MAX_POINTS:.0e}); "
                         f"pass --yes to run it")
    _validate(spec)
    return spec


def _validate(spec, limit=20_000):
    """Construct the model's parameters for the points (all of them up to ``limit``)."""
    m = MODELS[spec.model]
    for values in itertools.islice(point_params(spec), limit):
        _check_point(m, values)


def _check_point(m, values):
    """Raise the model's own one-line error if ``values`` is not a valid point."""
    if m.name == "phase":
        from theory.phase import PhaseParams
        PhaseParams(**values)
    elif m.name == "bbam":
        from sim.bbam import BbamParams
        BbamParams(**values)
    elif m.name == "knapsack":
        from sim.knapsack import KnapsackSimParams
        KnapsackSimParams(**values)
    elif m.name == "coop":
        from theory import coop as th_coop
        v = dict(values)
        n, theta = v.pop("n"), v.pop("theta")
        check_int("rounds", v.pop("rounds"), 1)
        if not v.pop("noise") >= 0:
            raise ValueError(f"noise must be in [0, inf), got {values['noise']:g}")
        th_coop.CoopParams(n=n, theta=(theta,) * n, **v)


def point_params(spec):
    """Iterate over the points of ``spec`` as dicts of every parameter's value.

    A grid runs through the axes in product order (the last axis fastest). A
    random design draws its points from the root seed (stream
    ``"sweep/random-design"``); repeated points are kept once.
    """
    m = MODELS[spec.model]
    fixed = dict(spec.fixed)
    order = [p.name for p in m.params]
    names = [a for a, _ in spec.axes]
    if spec.design == "grid":
        for combo in itertools.product(*(v for _, v in spec.axes)):
            values = {**fixed, **dict(zip(names, combo))}
            yield {k: values[k] for k in order}
        return
    gen = _rng.generator(spec.seed, "sweep/random-design")
    seen = set()
    for _ in range(spec.points):
        values = dict(fixed)
        for name, vals in spec.axes:
            if m.param(name).kind is float:
                values[name] = _round(gen.uniform(min(vals), max(vals)))
            else:
                values[name] = vals[int(gen.integers(len(vals)))]
        values = {k: values[k] for k in order}
        pid = point_id(spec.model, values)
        if pid not in seen:
            seen.add(pid)
            yield values


def _canonical(model, values):
    return json.dumps([model, sorted(values.items())], separators=(",", ":"))


def point_id(model, values):
    """Stable 16-hex-digit name of a point (SHA-256 of its canonical parameter values)."""
    return hashlib.sha256(_canonical(model, values).encode()).hexdigest()[:16]


def point_seed(root_seed, model, values):
    """The seed of one point: SeedSequence(root seed, spawn key from the point's hash).

    Depends only on the root seed, the model and the point's values (not on
    the order in which points run or where); fits in a signed 64-bit column.
    """
    digest = hashlib.sha256(_canonical(model, values).encode()).digest()
    key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    ss = np.random.SeedSequence(int(root_seed), spawn_key=key)
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def run_point(model, values, seed, trials, backend="auto", numba_threads=None):
    """Run one point and return its tidy rows (what a part file holds).

    Parameters
    ----------
    model : str
    values : dict
        Every parameter's value.
    seed, trials : int
    backend : str
    numba_threads : int or None
        Threads of the Numba kernels in this call (results do not depend on it).

    Returns
    -------
    pandas.DataFrame
        ``point``, ``model``, the parameters, ``quantity``, ``theory``,
        ``estimate``, ``se``, ``trials``, ``seed``, ``backend``, ``version``,
        then the simulator's own columns.
    """
    if not MODELS:
        _register_builtin()
    m = MODELS[model]
    if numba_threads:
        import numba

        numba.set_num_threads(max(1, min(int(numba_threads), numba.config.NUMBA_NUM_THREADS)))
    name = resolve_backend(backend)
    if model == "coop":
        name = "numba"
    return tidy_rows(model, values, m.point(dict(values), seed, trials, name), seed, trials,
                     name)


def tidy_rows(model, values, df, seed, trials, backend):
    """A point function's frame with the point, parameters and provenance in front."""
    df = df.reset_index(drop=True)
    head = _cli.add_provenance(pd.DataFrame(dict(
        point=point_id(model, values), model=model, **values, quantity=df["quantity"],
        theory=df["theory"], estimate=df["estimate"], se=df["se"], trials=trials)), seed,
        backend)
    rest = df.drop(columns=[c for c in df.columns if c in head.columns])
    return pd.concat([head, rest], axis=1)


# ----------------------------------------------------------------------------
# Output directory
# ----------------------------------------------------------------------------

def _same(a, b):
    keys = ("format", "model", "design", "points", "axes", "fixed", "trials", "seed", "backend")
    return all(json.dumps(a.get(k), sort_keys=True) == json.dumps(b.get(k), sort_keys=True)
               for k in keys)


def prepare_dir(out, spec, force=False):
    """Create or reopen ``out`` for ``spec``; return the set of finished point ids.

    Raises
    ------
    ValueError
        ``out`` holds a different sweep (and ``force`` is false) or files that
        are not a sweep's.
    OSError
        ``out`` cannot be created or written.
    """
    out = os.fspath(out)
    man_path = os.path.join(out, MANIFEST)
    want = dict(spec.manifest(), version=_VERSION)
    try:
        os.makedirs(os.path.join(out, PARTS), exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK) or not os.access(os.path.join(out, PARTS), os.W_OK):
        raise OSError(f"cannot write to --out {out}: permission denied")
    if os.path.exists(man_path):
        try:
            with open(man_path) as fh:
                have = json.load(fh)
        except (OSError, ValueError):
            raise ValueError(f"{man_path} is not a sweep manifest; use a new --out "
                             f"directory") from None
        if not _same(have, want):
            if not force:
                diff = [k for k in ("model", "design", "points", "axes", "fixed", "trials",
                                    "seed", "backend")
                        if json.dumps(have.get(k), sort_keys=True)
                        != json.dumps(want.get(k), sort_keys=True)]
                raise ValueError(f"{out} holds a different sweep (differs in "
                                 f"{', '.join(diff) or 'format'}); use a new --out directory "
                                 f"or --force to replace it")
            shutil.rmtree(os.path.join(out, PARTS))
            os.makedirs(os.path.join(out, PARTS))
        else:
            return _finished(out)
    else:
        stray = [f for f in os.listdir(out) if f != PARTS]
        if stray or os.listdir(os.path.join(out, PARTS)):
            if not force:
                raise ValueError(f"{out} is not empty and holds no sweep manifest; use a new "
                                 f"--out directory or --force")
            shutil.rmtree(os.path.join(out, PARTS))
            os.makedirs(os.path.join(out, PARTS))
    _atomic_write(man_path, (json.dumps(_cli.jsonable(want), indent=1) + "\n").encode())
    return set()


def _finished(out):
    return {f[:-8] for f in os.listdir(os.path.join(out, PARTS))
            if f.endswith(".parquet") and not f.startswith(".")}


def _atomic_write(path, data):
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_part(out, df):
    """Write one point's rows to ``out/parts/<point>.parquet`` atomically."""
    pid = str(df["point"].iloc[0])
    path = os.path.join(out, PARTS, f"{pid}.parquet")
    tmp = os.path.join(out, PARTS, f".{pid}.parquet.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------

@dataclass
class SweepSummary:
    """What :func:`run_sweep` did."""

    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)
    wall: float = 0.0
    interrupted: bool = False

    @property
    def rate(self):
        return self.done / self.wall if self.wall > 0 else math.nan

    def as_dict(self):
        return dict(total=self.total, done=self.done, skipped=self.skipped, failed=self.failed,
                    errors=self.errors[:5], wall_s=self.wall, points_per_s=self.rate,
                    interrupted=self.interrupted)


def run_sweep(spec, out, executor=None, *, force=False, progress=None, max_pending=None,
              numba_threads=None):
    """Run the points of ``spec`` that ``out`` does not hold yet.

    Parameters
    ----------
    spec : SweepSpec
    out : str or path
        Output directory (created; see :func:`prepare_dir`).
    executor : concurrent.futures.Executor or None
        ``None`` runs the points here, one after another. Any executor works
        (process pool, ``distributed.Client.get_executor()``); its workers run
        :func:`run_point` and this process writes the parts as they finish.
    force : bool
        Replace a different sweep found in ``out``.
    progress : callable or None
        Called with no argument after each finished point (written or failed).
    max_pending : int or None
        Points submitted ahead of the finished ones (default 4 per worker,
        at least 8), so huge sweeps do not queue millions of tasks.
    numba_threads : int or None
        Passed to :func:`run_point`.

    Returns
    -------
    SweepSummary
        Counts of points run, skipped (already done) and failed, with the
        first errors. On Ctrl-C the points finished so far are written, the
        rest cancelled, and ``interrupted`` is true.
    """
    out = os.fspath(out)
    finished = prepare_dir(out, spec, force)
    summary = SweepSummary(total=spec.size)
    todo = []
    for values in point_params(spec):
        if point_id(spec.model, values) in finished:
            summary.skipped += 1
        else:
            todo.append(values)
    summary.total = summary.skipped + len(todo)

    def args(values):
        return (spec.model, values, point_seed(spec.seed, spec.model, values), spec.trials,
                spec.backend, numba_threads)

    def finish(values, fut=None, df=None):
        try:
            rows = fut.result() if fut is not None else df
            write_part(out, rows)
            summary.done += 1
        except (KeyboardInterrupt, OSError):
            raise
        except Exception as exc:  # a point's own error: record it, go on
            summary.failed += 1
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            summary.errors.append(f"{_label(values, spec)}: {msg}")
        if progress is not None:
            progress()

    t0 = time.perf_counter()
    try:
        if executor is None:
            for values in todo:
                try:
                    df = run_point(*args(values))
                except (KeyboardInterrupt, OSError):
                    raise
                except Exception as exc:
                    fut = cf.Future()
                    fut.set_exception(exc)
                    finish(values, fut)
                    continue
                finish(values, df=df)
        else:
            window = max_pending or max(8, 4 * _workers(executor))
            pending = {}
            it = iter(todo)
            try:
                for values in itertools.islice(it, window):
                    pending[executor.submit(run_point, *args(values))] = values
                while pending:
                    done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    for fut in done:
                        finish(pending.pop(fut), fut)
                        nxt = next(it, None)
                        if nxt is not None:
                            pending[executor.submit(run_point, *args(nxt))] = nxt
            finally:
                for fut in pending:
                    fut.cancel()
    except KeyboardInterrupt:
        summary.interrupted = True
    summary.wall = time.perf_counter() - t0
    return summary


def _label(values, spec):
    return " ".join(f"{a}={values[a]}" for a, _ in spec.axes) or spec.model


def _workers(executor):
    n = getattr(executor, "_max_workers", None)
    if n:
        return int(n)
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:
            return 1
    return 1


class _Closing:
    """An executor and whatever must be closed with it."""

    def __init__(self, executor, closers, threads, label):
        self.executor, self.closers, self.numba_threads, self.label = (
            executor, closers, threads, label)

    def close(self):
        for c in self.closers:
            try:
                c()
            except Exception:
                pass


def _count(text, name, default):
    if text is None:
        return default
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"{name} worker count must be an integer, got {text!r}") from None
    return check_int(f"{name} workers", n, 1)


def make_executor(text, connect_timeout=10.0):
    """Build the executor named on the command line.

    Parameters
    ----------
    text : str
        ``inline``; ``processes`` or ``processes:N`` (spawned processes,
        default: all cores); ``dask-local`` or ``dask-local:N`` (a
        ``distributed.LocalCluster`` of N single-threaded worker processes);
        ``tcp://HOST:PORT`` (an existing Dask scheduler).
    connect_timeout : float
        Seconds to wait for a ``tcp://`` scheduler.

    Returns
    -------
    object
        ``.executor`` (a concurrent.futures.Executor or None for inline),
        ``.numba_threads``, ``.label`` and ``.close()``.

    Raises
    ------
    ValueError
        Unknown executor, bad worker count, Dask missing, or a scheduler that
        does not answer.
    """
    cores = os.cpu_count() or 1
    kind, _, arg = text.partition(":")
    if text.startswith("tcp://") or text.startswith("tls://"):
        kind, arg = "remote", text
    if kind == "inline" and not arg:
        return _Closing(None, [], None, "inline")
    if kind == "processes":
        import multiprocessing

        n = _count(arg or None, "processes", cores)
        ex = cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        return _Closing(ex, [lambda: ex.shutdown(wait=True, cancel_futures=True)],
                        max(1, cores // n), f"processes:{n}")
    if kind in ("dask-local", "remote"):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("the Dask executors need dask.distributed; install it with "
                             "pip install 'budgetlab[dist]'") from None
        if kind == "dask-local":
            import logging

            n = _count(arg or None, "dask-local", cores)
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
            return _Closing(client.get_executor(), [client.close, cluster.close],
                            max(1, cores // n), f"dask-local:{n}")
        try:
            client = Client(arg, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"the Dask scheduler at {arg} does not answer within "
                             f"{connect_timeout:g} s ({type(exc).__name__})") from None
        return _Closing(client.get_executor(), [client.close], None, arg)
    raise ValueError(f"executor must be inline, processes[:N], dask-local[:N] or "
                     f"tcp://HOST:PORT, got {text!r}")


# ----------------------------------------------------------------------------
# Collecting and plotting
# ----------------------------------------------------------------------------

def read_manifest(out):
    """The manifest of the sweep in ``out`` (dict); ValueError if there is none."""
    path = os.path.join(os.fspath(out), MANIFEST)
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ValueError(f"{out} holds no sweep (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None


def collect(out):
    """All finished points of the sweep in ``out`` as one tidy DataFrame.

    Rows are sorted by the axes (in their order, each ascending) and keep their
    order within a point, so the result does not depend on the order in which
    points ran.
    """
    out = os.fspath(out)
    man = read_manifest(out)
    names = sorted(f for f in os.listdir(os.path.join(out, PARTS))
                   if f.endswith(".parquet") and not f.startswith("."))
    if not names:
        return pd.DataFrame()
    frames = [pd.read_parquet(os.path.join(out, PARTS, f)) for f in names]
    for i, f in enumerate(frames):
        f["_row"] = np.arange(len(f))
    df = pd.concat(frames, ignore_index=True)
    keys = [a for a in man["axes"] if a in df.columns] + ["point", "_row"]
    return df.sort_values(keys, kind="mergesort").drop(columns="_row").reset_index(drop=True)


def _first_slice(df, axes, keep):
    """Rows where every axis not in ``keep`` takes its first value; the dropped axes."""
    fixed = {}
    for name in axes:
        if name not in keep and name in df.columns:
            fixed[name] = axes[name][0]
            df = df[df[name] == axes[name][0]]
    return df, fixed


def _slice_note(fixed):
    return ", ".join(f"{k}={v}" for k, v in fixed.items())


def _plot_phase(df, man, path):
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    axes = man["axes"]
    if "rho" not in axes or "gamma" not in axes:
        raise ValueError("the phase figure needs ranges of both rho and gamma")
    part, _ = _first_slice(df, axes, ("rho", "gamma"))
    root = part[part["level"] == part["depth"]]
    first = root.iloc[0]
    params = PhaseParams(**{p.name: (first[p.name].item() if hasattr(first[p.name], "item")
                                     else first[p.name])
                            for p in MODELS["phase"].params if p.name not in ("rho", "gamma")})
    sim_phase.plot_phase_diagram(root[["rho", "gamma", "p_sim"]], params, path)


def _plot_bbam(df, man, path):
    from sim import bbam as sim_bbam

    if "budget" not in man["axes"]:
        raise ValueError("the bbam frontier needs a range of budget")
    part, _ = _first_slice(df, man["axes"], ("budget",))
    sim_bbam.plot_frontier(part, path)


def _plot_xy(df, man, path, ylabel, title, log=False, group="name"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = man["axes"]
    x = next(iter(axes))
    keep = (x,) if group in df.columns and group not in axes else (x, group)
    part, fixed = _first_slice(df, axes, keep)
    fig, ax = plt.subplots(figsize=(7.0, 4.8), dpi=120)
    for i, (g, rows) in enumerate(part.groupby(group, sort=False)):
        rows = rows.sort_values(x)
        color = f"C{i % 10}"
        ax.plot(rows[x], rows["theory"], "-", color=color, lw=1.3,
                label=f"{group} {g}: theory" if group != "name" else f"{g}: expected")
        ax.errorbar(rows[x], rows["estimate"], yerr=1.96 * rows["se"], fmt="o", ms=3,
                    color=color, capsize=2, label=f"{group} {g}: simulated"
                    if group != "name" else f"{g}: simulated")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    note = _slice_note(fixed)
    ax.set_title(title + (f" ({note})" if note else ""), fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_knapsack(df, man, path):
    _plot_xy(df, man, path, "effective-gradient ratio (95% interval)",
             "knapsack: expected and simulated EGR by allocator")


def _plot_gamma(df, man, path):
    _plot_xy(df, man, path, "P(T <= budget) (95% interval)",
             "gamma: exact and simulated budget adherence by decoding rule", group="method")


def _plot_coop(df, man, path):
    if "theta" not in man["axes"]:
        raise ValueError("the coop figure (effort against loyalty) needs a range of theta")
    axes = {"theta": man["axes"]["theta"], **{k: v for k, v in man["axes"].items()
                                               if k != "theta"}}
    group = "n" if "n" in axes else "welfare_mode"
    _plot_xy(df, dict(man, axes=axes), path, "mean effort per member",
             "coop: equilibrium effort (line) and repeated play (points) against loyalty",
             log=True, group=group)


def plot_sweep(out_or_df, path, manifest=None):
    """Draw the model's standard figure from a sweep directory (or collected rows).

    phase: heat map of the simulated root accuracy over (rho, gamma) with the
    theoretical critical line; bbam: accuracy-token frontier over budgets;
    knapsack: EGR against the first axis per allocator; coop: effort against
    loyalty per team size; gamma: budget adherence against the first axis per
    decoding rule. Axes outside the figure are held at their first value.
    """
    if isinstance(out_or_df, pd.DataFrame):
        df, man = out_or_df, manifest
    else:
        df, man = collect(out_or_df), read_manifest(out_or_df)
    if df.empty:
        raise ValueError("the sweep has no finished points to plot")
    if not man["axes"]:
        raise ValueError("a figure needs at least one parameter with a range")
    if not MODELS:
        _register_builtin()
    MODELS[man["model"]].plot(df, man, path)


def phase_boundary(df):
    """Empirical critical fidelity of a phase sweep, next to the theory.

    For each (rho, b, depth, p0, ...) the simulated root accuracy is compared
    with the leaf accuracy ``p0`` along ``gamma``: a tree that amplifies beats
    its leaves and one that washes out falls below them. The boundary is the
    ``gamma`` of the last upward crossing, by linear interpolation between
    grid points (derived for this project: at depth L the root keeps the
    leaves' bias exactly when the finite-depth gain is 1, which tends to
    ``alpha = 1``, Thm 4, as the leaf bias goes to 0).

    Returns
    -------
    pandas.DataFrame
        One row per setting: ``gamma_emp`` (from ``estimate``),
        ``gamma_depth`` (the same crossing of the exact finite-depth theory
        column) and ``gamma_c`` (the model's critical fidelity from
        :func:`sim.phase.summary`); NaN where the grid has no crossing.
    """
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    root = df[df["level"] == df["depth"]]
    keys = [p.name for p in MODELS["phase"].params if p.name != "gamma"]
    rows = []
    for vals, g in root.groupby(keys, sort=True):
        g = g.sort_values("gamma")
        setting = dict(zip(keys, vals))
        p0 = setting["p0"]
        row = dict(setting)
        for col, out in (("estimate", "gamma_emp"), ("theory", "gamma_depth")):
            y = g[col].to_numpy() - p0
            x = g["gamma"].to_numpy()
            below = np.flatnonzero(y[:-1] < 0)
            below = below[y[below + 1] >= 0]
            if below.size:
                i = below[-1]
                row[out] = float(x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i]))
            else:
                row[out] = math.nan
        params = PhaseParams(**{k: (v.item() if hasattr(v, "item") else v)
                                for k, v in setting.items()}, gamma=1.0)
        row["gamma_c"] = sim_phase.summary(params)["gamma_c"]
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------

_PROG = "python -m sim.sweep"


def _load_config(path):
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None


def _build_parser(model=None):
    p = _cli.ArgumentParser(
        prog=_PROG,
        description="Parameter sweeps: a grid (or random design) over a model's parameters, "
                    "one resumable Parquet part per point, run here, in local processes or on "
                    "a Dask cluster. Give ranges as START:STOP:N (N values, ends included) or "
                    "comma lists. 'python -m sim.sweep collect DIR' gathers the parts.",
        epilog=f"models: {', '.join(MODELS)}. Model parameters: "
               "'python -m sim.sweep MODEL --help'.")
    p.add_argument("model", help="model to sweep: " + ", ".join(MODELS))
    p.add_argument("--out", help="output directory (holds sweep.json and parts/)")
    p.add_argument("--config", metavar="FILE.toml",
                   help="read the sweep from a TOML file; flags given here override it")
    p.add_argument("--executor", default=None,
                   help="inline, processes[:N], dask-local[:N] or tcp://HOST:PORT "
                        "(default inline)")
    p.add_argument("--connect-timeout", type=float, default=10.0,
                   help="seconds to wait for a tcp:// Dask scheduler (default 10)")
    p.add_argument("--design", default=None, choices=("grid", "random"),
                   help="grid (default) or random points between each range's ends")
    p.add_argument("--points", type=int, default=None, help="points of a random design")
    p.add_argument("--yes", action="store_true", help=f"allow more than {MAX_POINTS:.0e} points")
    p.add_argument("--force", action="store_true",
                   help="replace a different sweep found in --out")
    g = p.add_argument_group("common")
    g.add_argument("--trials", type=int, default=None, help="Monte Carlo size of each point "
                   "(default: the model's)")
    g.add_argument("--seed", type=int, default=None, help="root seed of the sweep (default 0)")
    g.add_argument("--backend", default=None, choices=BACKENDS, help="default auto")
    g.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    g.add_argument("--plot", metavar="FILE.png", help="draw the model's figure from the sweep")
    if model is not None and model in MODELS:
        mg = p.add_argument_group(f"{model} parameters (a value, A,B,C or START:STOP:N)")
        for prm in MODELS[model].params:
            flags = [f"--{prm.name.replace('_', '-')}"]
            if "_" in prm.name:
                flags.append(f"--{prm.name}")
            mg.add_argument(*flags, dest=f"param_{prm.name}", default=None, metavar="VALUES",
                            help=f"{prm.kind.__name__}, default {prm.default}")
    return p


def _summary_text(summary, spec, out, label, backend):
    axes = " x ".join(f"{a}({len(v)})" for a, v in spec.axes) or "one point"
    lines = [f"sweep {spec.model}: {summary.total} points ({spec.design} over {axes}) in {out}",
             f"  run {summary.done}, skipped {summary.skipped} (already done), "
             f"failed {summary.failed}",
             f"  wall {summary.wall:.1f} s, {summary.rate:.3g} points/s, executor {label}, "
             f"backend {backend}, trials {spec.trials}, root seed {spec.seed}"]
    for e in summary.errors[:3]:
        lines.append(f"  error: {e}")
    if summary.interrupted:
        lines.append("  interrupted: finished points are saved; rerun the same command to "
                     "resume")
    else:
        lines.append(f"  gather the parts: python -m sim.sweep collect {out}")
    return "\n".join(lines)


def _collect_main(argv):
    p = _cli.ArgumentParser(prog=f"{_PROG} collect",
                            description="Gather a sweep's parts into one Parquet or CSV file.")
    p.add_argument("out", metavar="DIR", help="the sweep's output directory")
    p.add_argument("--parquet", metavar="FILE", help="write a Parquet file "
                   "(default DIR/results.parquet when --csv is not given)")
    p.add_argument("--csv", metavar="FILE", help="write a CSV file")
    p.add_argument("--plot", metavar="FILE.png", help="draw the model's figure")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    try:
        man = read_manifest(args.out)
        df = collect(args.out)
        if df.empty:
            raise ValueError(f"{args.out} has no finished points yet")
        written = []
        parquet = args.parquet or (None if args.csv else os.path.join(args.out,
                                                                      "results.parquet"))
        if parquet:
            df.to_parquet(parquet, index=False)
            written.append(parquet)
        if args.csv:
            df.to_csv(args.csv, index=False)
            written.append(args.csv)
        if args.plot:
            plot_sweep(df, args.plot, man)
    except (ValueError, TypeError, OSError) as exc:
        return _cli.fail(p.prog, exc)
    points = int(df["point"].nunique())
    if args.json:
        print(json.dumps(_cli.jsonable(dict(model=man["model"], points=points,
                                            expected=man["points"], rows=len(df),
                                            files=written, plot=args.plot))))
    else:
        missing = "" if points >= man["points"] else (
            f"; {man['points'] - points} points not done yet (rerun the sweep to finish)")
        print(f"collected {points} of {man['points']} points ({len(df)} rows) of the "
              f"{man['model']} sweep in {args.out} into {', '.join(written)}{missing}")
        if args.plot:
            print(f"figure written to {args.plot}")
    return 0


def main(argv=None):
    """Run ``python -m sim.sweep``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not MODELS:
        _register_builtin()
    if argv and argv[0] == "collect":
        return _collect_main(argv[1:])
    config = {}
    model = argv[0] if argv and not argv[0].startswith("-") else None
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 < len(argv):
            try:
                config = _load_config(argv[i + 1])
            except ValueError as exc:
                return _cli.fail(_PROG, exc)
            if model is None and "model" in config:
                model = str(config["model"])
                argv = [model] + argv
    if model is not None and model not in MODELS and model not in ("-h", "--help"):
        return _cli.fail(_PROG, ValueError(f"unknown model {model!r}; choose from "
                                           f"{', '.join(MODELS)}"))
    parser = _build_parser(model)
    args, extra = parser.parse_known_args(argv)
    if extra:
        flag = next((e for e in extra if e.startswith("-")), extra[0])
        names = ", ".join(p.name for p in MODELS[model].params)
        return _cli.fail(_PROG, ValueError(f"unknown parameter {flag} for model {model}; "
                                           f"parameters: {names}"))

    def pick(name, default):
        v = getattr(args, name)
        return v if v is not None else config.get(name, default)

    closing = None
    try:
        values = {}
        for k, v in dict(config.get("params", {})).items():
            MODELS[model].param(k)
            values[k] = v
        for prm in MODELS[model].params:
            v = getattr(args, f"param_{prm.name}")
            if v is not None:
                values[prm.name] = v
        out = pick("out", None)
        if not out:
            raise ValueError("--out DIR is required (or 'out' in the config file)")
        spec = make_spec(model, values, trials=pick("trials", None), seed=pick("seed", 0),
                         backend=pick("backend", "auto"), design=pick("design", "grid"),
                         points=pick("points", None), yes=args.yes or bool(config.get("yes")))
        executor_text = str(pick("executor", "inline"))
        if not executor_text.startswith(("tcp://", "tls://")):
            backend_here = resolve_backend(spec.backend)
            if spec.model == "coop":
                backend_here = "numba"
        else:
            backend_here = spec.backend
        plot = pick("plot", None)
        # refuse a different sweep (or an unwritable directory) before starting workers
        finished = prepare_dir(out, spec, force=args.force)
        closing = make_executor(executor_text, args.connect_timeout)
        with _cli.progress_bar(not args.json, f"sweep {model}", spec.size - len(finished),
                               unit="points") as advance:
            summary = run_sweep(spec, out, closing.executor, progress=advance,
                                numba_threads=closing.numba_threads)
        if plot and summary.done + summary.skipped == 0:
            raise ValueError("no finished points to plot")
        if plot:
            plot_sweep(out, plot)
    except (ValueError, TypeError, OSError, BackendUnavailable) as exc:
        return _cli.fail(_PROG, exc)
    finally:
        if closing is not None:
            closing.close()
    if args.json:
        print(json.dumps(_cli.jsonable(dict(summary.as_dict(), model=spec.model, out=out,
                                            executor=closing.label, backend=backend_here,
                                            trials=spec.trials, seed=spec.seed,
                                            plot=plot, version=_VERSION))))
    else:
        print(_summary_text(summary, spec, out, closing.label, backend_here))
        if plot:
            print(f"figure written to {plot}")
    if summary.interrupted:
        return 130
    return 1 if summary.failed else 0


_register_builtin()

if __name__ == "__main__":
    sys.exit(main())
