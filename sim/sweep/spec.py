"""What a sweep computes: parameter values, the sweep's specification, its points and seeds."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import pathlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import _cli
from sim import rng as _rng
from sim.backends import BACKENDS, resolve_backend
from sim.registry import MODELS
from theory._params import check_choice, check_int

#: Largest sweep run without ``--yes`` (``yes=True``).
MAX_POINTS = 10**7
#: Significant digits kept of every real grid value (``linspace`` noise removed).
DIGITS = 12
FORMAT = 1


def sweep_model(name):
    """The :class:`sim.interface.SweepModel` of a registered model."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    from sim.registry import model

    return model(name).SWEEP


def _round(x):
    return float(f"{float(x):.{DIGITS}g}")


def _file(param, text):
    """A file-valued parameter's value: an existing regular file, as an absolute path."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ValueError(f"{param.name} values must be file names, got {text!r}")
    flag = "--" + param.name.replace("_", "-")
    return os.path.abspath(_cli.regular_file(str(text).strip(), flag))


def file_digests(spec):
    """``{path: SHA-256}`` of every file a sweep's file-valued parameters name.

    A parameter whose kind is :class:`pathlib.Path` takes a file (a model's
    input such as a table of rates); the manifest records the digest of each
    file, so that rerunning a sweep after a file changed is a different sweep.
    """
    m = sweep_model(spec.model)
    kinds = {p.name: p.kind for p in m.params}
    paths = [v for k, v in spec.fixed if kinds.get(k) is pathlib.Path and v is not None]
    paths += [v for k, vals in spec.axes if kinds.get(k) is pathlib.Path for v in vals]
    out = {}
    for path in sorted(set(paths)):
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out[path] = h.hexdigest()
    return out


def _scalar(param, text):
    """One value of ``param`` from text (or a TOML scalar)."""
    kind = param.kind
    if kind is pathlib.Path:
        return _file(param, text)
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


def parse_values(param, spec, max_values=MAX_POINTS):
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
        if num > max_values:
            raise ValueError(f"{param.name} range {spec!r} has {num:.3g} values, more than "
                             f"{max_values:.0e}; pass --yes to allow it")
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
        man = dict(format=FORMAT, model=self.model, design=self.design, points=self.size,
                   axes={k: list(v) for k, v in self.axes}, fixed=dict(self.fixed),
                   trials=self.trials, seed=self.seed, backend=self.backend)
        files = file_digests(self)
        if files:
            man["files"] = files
        return man


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
        Allow more than :data:`MAX_POINTS` points (or values of one axis), and
        points whose estimated work exceeds the machine guard
        (:mod:`sim.guard`).

    Raises
    ------
    ValueError
        One line: unknown model or parameter, bad or empty range, too many
        points, a parameter value the model rejects.
    """
    m = sweep_model(model)
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
        vals = parse_values(param, spec, max_values=math.inf if yes else MAX_POINTS)
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
    _validate(spec, allow=yes)
    return spec



def _validate(spec, limit=20_000, allow=False):
    """Check the points (all of them up to ``limit``) before any runs.

    The model's ``validate`` raises its one-line parameter errors; its ``cost``
    estimate goes through :func:`sim.guard.check`, so a point too large for
    this machine is refused here (exit 2) rather than failing while it runs.
    """
    from sim import guard

    m = sweep_model(spec.model)
    if m.validate is None and m.cost is None:
        return
    for values in itertools.islice(point_params(spec), limit):
        if m.validate is not None:
            m.validate(values)
        if m.cost is not None:
            est = dict(m.cost(values, spec.trials))
            guard.check(est.pop("param", "trials"), allow=allow, **est)


def point_params(spec):
    """Iterate over the points of ``spec`` as dicts of every parameter's value.

    A grid runs through the axes in product order (the last axis fastest). A
    random design draws its points from the root seed (stream
    ``"sweep/random-design"``); repeated points are kept once.
    """
    m = sweep_model(spec.model)
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
    m = sweep_model(model)
    if numba_threads:
        import numba

        numba.set_num_threads(max(1, min(int(numba_threads), numba.config.NUMBA_NUM_THREADS)))
    name = resolve_backend(backend)
    if name not in m.backends:
        name = resolve_backend(m.backends[-1])
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

