"""The flags and behaviour every command line of budgetlab shares.

* ``--version``, ``--trials``, ``--seed`` (default :data:`DEFAULT_SEED`),
  ``--backend``, ``--json``, ``--plot FILE.png`` with ``--dpi``
  (:func:`add_common_arguments`).
* ``--json`` prints one object that always carries ``params`` and ``version``
  (:func:`envelope`).
* An option that does not apply to the chosen mode is refused, not ignored
  (:func:`refuse`).
* Bad input exits with status 2 and one line on stderr, no traceback; every
  ``main`` is wrapped by :func:`command`, which also turns a closed pipe, a
  full disk and Ctrl-C into clean exits.
* Figures are drawn on a :class:`matplotlib.figure.Figure` made here and
  written with :func:`save_figure`, which says where; no code selects a
  matplotlib backend.
* Progress is shown with rich only on a terminal and never with ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import sys
import tempfile

import numpy as np

from sim.backends import BACKENDS, BackendUnavailable

__all__ = ["DEFAULT_SEED", "MAX_INPUT_BYTES", "ArgumentParser", "integer", "add_version",
           "add_common_arguments", "add_plot_arguments", "add_guard_argument", "add_provenance",
           "command", "envelope", "explicit", "refuse", "fail", "float_list", "jsonable",
           "new_figure", "save_figure", "write_table", "write_atomic", "regular_file",
           "writable_output",
           "progress_spinner", "progress_bar"]

#: Largest input file a command reads (bytes); ``--yes`` lifts it.
MAX_INPUT_BYTES = 2 * 2**30

#: The root seed of every command line and simulator unless the user gives one.
DEFAULT_SEED = 0


def _version():
    from sim import __version__

    return __version__


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr and exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def integer(text):
    """An argparse type for counts: ``1000``, ``1e6`` or ``2**20`` written as ``1048576``.

    Accepts any number with an integer value (``1e6``), so sizes can be written the way people
    write them; the guard (:mod:`sim.guard`) then judges whether they fit this machine.
    """
    t = str(text).strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        x = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not math.isfinite(x) or not x.is_integer():
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}")
    return int(x)


def add_version(parser):
    """Add ``--version`` (prints ``budgetlab <version>`` and exits 0)."""
    parser.add_argument("--version", action="version", version=f"budgetlab {_version()}")
    return parser


#: Highest ``--dpi``: a figure's pixels grow with its square (1200 dpi is about 200 MB).
MAX_DPI = 1200.0


def dpi(text):
    """An argparse type for ``--dpi``: a resolution in (0, :data:`MAX_DPI`]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"dpi must be a number, got {text!r}") from None
    if not 0.0 < value <= MAX_DPI:  # also refuses nan
        raise argparse.ArgumentTypeError(f"dpi must be in (0, {MAX_DPI:g}], got {text}")
    return value


def add_plot_arguments(parser, what="the model's figure"):
    """Add ``--plot FILE.png`` and ``--dpi`` to ``parser`` (or an argument group)."""
    parser.add_argument("--plot", metavar="FILE.png", help=f"write {what} to FILE.png "
                        "(or .pdf/.svg)")
    parser.add_argument("--dpi", type=dpi, default=150.0,
                        help="resolution of the --plot figure (default 150)")
    return parser


def add_guard_argument(parser):
    """Add ``--yes``: run even when the estimated work or memory exceeds this machine's limits."""
    parser.add_argument("--yes", action="store_true",
                        help="run even when the estimated work, memory or input size exceeds "
                             "this machine's limits (see sim.guard)")
    return parser


def regular_file(path, name="file", max_bytes=MAX_INPUT_BYTES):
    """Check that ``path`` is a readable regular file of at most ``max_bytes``; return it.

    FIFOs, directories and devices are refused (reading them could block or never end).

    Raises
    ------
    ValueError
        One line naming ``name`` and the reason.
    """
    import stat

    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{name} {path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"{name} {path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else
                "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file")
        raise ValueError(f"{name} {path} is {kind}; give a regular file")
    if max_bytes is not None and st.st_size > max_bytes:
        from sim.guard import fmt_bytes

        raise ValueError(f"{name} {path} is {fmt_bytes(st.st_size)}, above the limit of "
                         f"{fmt_bytes(max_bytes)}; pass --yes to read it anyway")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{name} {path} cannot be read: permission denied")
    return path


def writable_output(path, name="out", directory=False, create=True):
    """Check before any work that ``path`` can be written; return it.

    For a file, its directory must exist and accept a new file (tested by
    creating and removing a temporary file); for a ``directory`` output, the
    directory is created if needed and tested the same way. With
    ``create=False`` a missing directory is not made: the nearest existing
    folder above it is tested instead, so a refused command leaves nothing behind.

    Raises
    ------
    ValueError
        One line naming ``name`` and why the path cannot be written.
    """
    path = os.fspath(path)
    target = path if directory else (os.path.dirname(os.path.abspath(path)) or ".")
    if directory:
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"{name} {path} exists and is not a directory")
        if not create:
            target = os.path.abspath(path)
            while not os.path.exists(target):
                target = os.path.dirname(target)
            if not os.path.isdir(target):
                raise ValueError(f"{name} {path} cannot be created: {target} is not a directory")
        else:
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"{name} {path} cannot be created: {exc.strerror or exc}") \
                    from None
    elif os.path.isdir(path):
        raise ValueError(f"{name} {path} is a directory; give a file name")
    elif not os.path.isdir(target):
        raise ValueError(f"{name} {path}: directory {target} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".budgetlab-write-test-", dir=target)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise ValueError(f"{name} {path} cannot be written: {exc.strerror or exc}") from None
    return path


def add_common_arguments(parser, trials, backend=True, plot=True, helps=None):
    """Add the shared flags to ``parser``; ``trials`` is the model's default Monte Carlo size.

    Adds ``--version``, ``--trials``, ``--seed`` (default :data:`DEFAULT_SEED`),
    ``--backend`` (unless ``backend`` is false), ``--json`` and, unless ``plot``
    is false, ``--plot`` and ``--dpi``. ``helps`` maps a flag's destination
    (``"trials"``, ``"seed"``, ``"backend"``) to a help text that replaces the
    generic one, where the model gives the flag a more specific meaning.
    """
    helps = helps or {}
    add_version(parser)
    g = parser.add_argument_group("common")
    g.add_argument("--trials", type=integer, default=trials,
                   help=helps.get("trials", f"Monte Carlo size (default {trials})"))
    g.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=helps.get("seed", f"root seed, >= 0 (default {DEFAULT_SEED})"))
    if backend:
        g.add_argument("--backend", default="auto", choices=BACKENDS,
                       help=helps.get("backend", "numpy (reference), numba (fast CPU), cupy "
                                                 "(GPU) or auto (default)"))
    g.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    if plot:
        add_plot_arguments(g)
    return parser


def explicit(parser, argv):
    """The destinations of the options given on the command line ``argv``.

    Parses ``argv`` once more with every default suppressed, so an option is
    counted as given even when its value equals the default.
    """
    saved = [(a, a.default) for a in parser._actions]
    saved_parser = dict(parser._defaults)
    try:
        for a, _ in saved:
            a.default = argparse.SUPPRESS
        parser._defaults.clear()
        ns, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    finally:
        for a, d in saved:
            a.default = d
        parser._defaults.update(saved_parser)
    return set(vars(ns))


def refuse(given, mode, *dests):
    """Raise a one-line ValueError when an option in ``dests`` was given in ``mode``.

    Parameters
    ----------
    given : set of str
        Destinations given on the command line (:func:`explicit`).
    mode : str
        The chosen mode, as the user wrote it (``"--allocate"``).
    dests : str
        Destinations that do not apply in that mode.
    """
    for d in dests:
        if d in given:
            flag = "--" + d.replace("_", "-")
            raise ValueError(f"{flag} does not apply to {mode}")


def envelope(params, **fields):
    """The ``--json`` object: ``{"params": ..., "version": ..., **fields}``, made plain.

    ``params`` is a parameter dataclass (turned into a dict) or a dict.
    """
    import dataclasses

    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        params = dataclasses.asdict(params)
    return jsonable(dict(params=params, version=_version(), **fields))


def command(prog):
    """Wrap a ``main(argv) -> int`` so that nothing escapes it as a traceback.

    * ``ValueError``, ``TypeError``, ``OSError`` and
      :class:`sim.backends.BackendUnavailable`: one line on stderr, exit 2;
    * a closed pipe (``| head``): quiet exit 0, like other Unix tools;
    * Ctrl-C: a line saying the run was interrupted, exit 130;
    * anything else: one line naming the exception, exit 1 (the traceback is
      printed only with the environment variable ``BUDGETLAB_DEBUG=1``).
    """
    def wrap(main):
        @functools.wraps(main)
        def run(argv=None):
            _pipe_safe_rich()
            try:
                status = main(argv)
                sys.stdout.flush()
                return status
            except BrokenPipeError:
                _quiet_stdout()
                return 0
            except KeyboardInterrupt:
                print(f"{prog}: interrupted; finished results were kept", file=sys.stderr)
                return 130
            except (ValueError, TypeError, OSError, BackendUnavailable) as exc:
                if os.environ.get("BUDGETLAB_DEBUG"):
                    raise
                return fail(prog, exc)
            except Exception as exc:  # noqa: BLE001 -- last line of defence
                if os.environ.get("BUDGETLAB_DEBUG"):
                    raise
                fail(prog, f"unexpected {type(exc).__name__}: {exc} "
                           "(set BUDGETLAB_DEBUG=1 for the traceback)")
                return 1
        return run
    return wrap


def _pipe_safe_rich():
    """Make rich report a closed pipe as ``BrokenPipeError`` (it exits with status 1 itself)."""
    from rich.console import Console

    if getattr(Console.on_broken_pipe, "_budgetlab", False):
        return

    def on_broken_pipe(self):
        self.quiet = True
        _quiet_stdout()
        raise BrokenPipeError

    on_broken_pipe._budgetlab = True
    Console.on_broken_pipe = on_broken_pipe


def _quiet_stdout():
    """After a closed pipe: point stdout at /dev/null so the interpreter's flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def add_provenance(df, seed, backend):
    """Add the provenance columns ``seed``, ``backend`` and ``version`` to a result frame."""
    from sim import __version__

    df["seed"] = seed
    df["backend"] = backend
    df["version"] = __version__
    return df


def fail(prog, exc):
    """Print ``exc`` as one line on stderr and return exit status 2."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    print(f"{prog}: error: {msg}", file=sys.stderr)
    return 2


def float_list(name, text):
    """Parse a comma-separated list of numbers given for flag ``name`` (one-line ValueError)."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(p == "" for p in parts):
        raise ValueError(f"{name} must be a non-empty comma-separated list of numbers, "
                         f"got {text!r}")
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{name} must be a comma-separated list of numbers, "
                         f"got {text!r}") from None


def jsonable(x):
    """``x`` with NumPy scalars and arrays made plain, and NaN or infinity as None (JSON null)."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(float(x)) else None
    return x


def new_figure(width=7.0, height=4.2, nrows=1, ncols=1, **kw):
    """A figure and its axes for a command line's ``--plot``, without pyplot.

    The figure is a plain :class:`matplotlib.figure.Figure`, so writing it
    selects no backend and opens no window. Returns ``(fig, axes)`` like
    :func:`matplotlib.pyplot.subplots`.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, **kw)


def save_figure(fig, path, dpi=150.0, prog=None, say=True):
    """Write ``fig`` to ``path`` atomically and, unless ``say`` is false, say where on stderr.

    The file appears whole or not at all (written beside it, then renamed).
    """
    path = os.fspath(path)
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=_fig_format(path)))
    if say:
        print(f"{prog + ': ' if prog else ''}figure written to {path}", file=sys.stderr)
    return path


def _fig_format(path):
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    return ext or "png"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path, write):
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``.

    The file appears whole or not at all, with the permissions a new file gets
    (``0o666`` less the umask).
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_table(df, path):
    """Write a result table to CSV or Parquet (chosen by the extension), atomically.

    Raises
    ------
    ValueError
        The extension is neither ``.csv`` nor ``.parquet``/``.pq``.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        write_atomic(path, lambda tmp: df.to_csv(tmp, index=False))
    elif ext in (".parquet", ".pq"):
        write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        raise ValueError(f"out must end in .csv or .parquet, got {path!r}")
    return path


def _interactive(enabled):
    return enabled and sys.stderr.isatty()


@contextlib.contextmanager
def progress_spinner(enabled, text):
    """A spinner on stderr while the block runs (terminal only)."""
    if not _interactive(enabled):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(text):
        yield


@contextlib.contextmanager
def progress_bar(enabled, text, total, unit=None):
    """A progress bar on stderr; yields a function to call once per finished item.

    With ``unit`` (e.g. ``"points"``) the bar also shows the rate, ``12.3 points/s``.
    """
    if not _interactive(enabled):
        yield lambda: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.3g} {unit}/s")

    columns = [MofNCompleteColumn()] + ([RateColumn()] if unit else []) + [TimeRemainingColumn()]
    with Progress("[progress.description]{task.description}", BarColumn(), *columns,
                  console=None, transient=True) as prog:
        task = prog.add_task(text, total=total)
        yield lambda: prog.advance(task)
