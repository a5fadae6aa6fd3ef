"""Every command line against hostile input: no traceback, no hang, exit 0 or 2, one line.

The argument lists are generated from each command's own argparse parser (captured by running
its ``main`` until it parses): every option gets values from a pool of hostile texts (huge,
negative, non-finite, empty, non-numeric, very long), positional arguments and file options get
hostile files (a FIFO, a directory, a missing path, an empty file, binary junk, malformed CSV
and JSON), output options get unwritable places, and unknown flags are mixed in. Each case runs
``main(argv)`` in this process under a wall-clock budget and must

* return 0 or 2 (1 only where the command documents it: a check that fails, a sweep point that
  fails), never let an exception escape, never report an unexpected error;
* on failure, write exactly one line to stderr;
* finish within its budget.

The default run fuzzes every command with a few examples each (8, under a minute in all); the
``slow`` run fuzzes every command with more (120).
``BUDGETLAB_FUZZ_EXAMPLES`` sets the examples per command of both. Every case runs with the
work guard at a hundredth of its limits (``BUDGETLAB_WORK_SCALE``, :mod:`sim.guard`) and with a
cap on its memory, so a command that loops or allocates before checking its sizes is caught
without exhausting the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import time
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("BUDGETLAB_FUZZ_EXAMPLES", "8"))
SLOW_EXAMPLES = int(os.environ.get("BUDGETLAB_FUZZ_EXAMPLES", "120"))

HOSTILE = ["0", "-1", "1", "2", "3", "1e15", "1e400", "-1e400", "nan", "inf", "-inf", "1.5",
           "", "abc", "9" * 300, "0x10", "-0", "1e-300", "2147483648", "0.5,nan", "1,2,3",
           "0:1:1e9", "../../etc", "null", "\u00e9\u00e8", "1000000000000", "100000", "40000",
           "99999999", "1e12", "1e300", "0.999999", "0.000001", "65", "1,inf", "0,1", "-5,5",
           "100000000"]


class _Captured(BaseException):
    pass


class _TooLong(BaseException):
    pass


def parser_of(main, argv=()):
    """The parser ``main`` builds, captured when it starts parsing ``argv``."""
    box = {}

    def grab(self, args=None, namespace=None):
        box["parser"] = self
        raise _Captured

    with mock.patch.object(argparse.ArgumentParser, "parse_args", grab), \
            mock.patch.object(argparse.ArgumentParser, "parse_known_args",
                              lambda self, *a, **k: grab(self)):
        with contextlib.suppress(_Captured):
            main(list(argv))
    return box["parser"]


#: Memory a case may take (bytes of heap and anonymous maps, RLIMIT_DATA): a command that tries
#: to allocate more gets a MemoryError, which the test reports, instead of exhausting the machine.
MEMORY = int(os.environ.get("BUDGETLAB_FUZZ_MEMORY", str(6 * 2**30)))


@contextlib.contextmanager
def memory_cap(limit=MEMORY):
    import resource

    old = resource.getrlimit(resource.RLIMIT_DATA)
    used = _rss()
    cap = used + limit if old[1] == resource.RLIM_INFINITY else min(used + limit, old[1])
    resource.setrlimit(resource.RLIMIT_DATA, (cap, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, old)


def _rss():
    """Bytes of this process's data segment now (VmData), so the cap is on top of it."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def budget(seconds):
    def alarm(signum, frame):
        raise _TooLong(f"case ran longer than its budget of {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    fifo = d / "fifo"
    os.mkfifo(fifo)
    (d / "empty.csv").write_text("")
    (d / "junk.bin").write_bytes(bytes(range(256)) * 8)
    (d / "bad.csv").write_text("p,id\n0.5,a\nnan,a\n2,\ntrue,b\n")
    (d / "bad.jsonl").write_text('{"prompt": "x"}\nnot json\n')
    (d / "meta").mkdir()
    (d / "meta" / "meta.json").write_text('{"a": ' * 2000 + "1" + "}" * 2000)
    return [str(fifo), str(d), str(d / "missing.csv"), str(d / "empty.csv"),
            str(d / "junk.bin"), str(d / "bad.csv"), str(d / "bad.jsonl"), str(d / "meta")]


OUTPUTS = ["/proc/forbidden.png", "/dev/full", "/nonexistent/dir/out.csv"]

#: (command, how to import its main, argv that picks its mode, base argv that keeps valid runs
#: small, budget in seconds, exit statuses it documents besides 0 and 2)
COMMANDS = [
    ("sim.phase", "sim.phase.__main__", [], ["--trials", "2000"], 60, ()),
    ("sim.bbam", "sim.bbam.__main__", [], ["--trials", "2000"], 60, ()),
    ("sim.knapsack", "sim.knapsack.__main__", [], ["--trials", "20"], 60, ()),
    ("sim.coop", "sim.coop.__main__", [], [], 60, ()),
    ("sim.gamma", "sim.gamma.__main__", [], ["--trials", "500"], 60, ()),
    ("sim.sweep", "sim.sweep.__main__", ["phase"], ["--trials", "64", "--depth", "2"], 60,
     (1,)),
    ("validation.run", "validation.run", [], ["--questions", "3", "--samples", "2"], 90, ()),
    ("validation.check", "validation.check.__main__", [], ["--only", "phase"], 90, (1,)),
    ("validation.import", "validation.import", [], [], 60, ()),
    ("validation.gamma", "validation.gamma", [], [], 60, ()),
    ("validation.guidance", "validation.guidance.__main__", [], [], 60, ()),
    ("validation.train", "validation.train", [], ["--steps", "2", "--batch", "4", "--no-eval"],
     90, ()),
    ("gpu.check", "gpu.check.__main__", ["phase"], ["--device", "cpu"], 90, (1,)),
    ("sim.workflow", "sim.workflow.__main__", [], ["--trials", "20"], 60, ()),
    ("sim.search", "sim.search.__main__", [], ["--trials", "500"], 60, ()),
    ("sim.memory", "sim.memory.__main__", [], ["--trials", "2000"], 60, ()),
    ("sim.knapsack allocate", "sim.knapsack.__main__", ["allocate"], [], 60, ()),
    ("sim.bbam allocate", "sim.bbam.__main__", ["allocate"], [], 60, ()),
    ("sim.bbam fit", "sim.bbam.__main__", ["fit"], [], 60, ()),
    ("sim.phase decide", "sim.phase.__main__", ["decide"], [], 60, ()),
    ("sim.phase fit", "sim.phase.__main__", ["fit"], [], 60, ()),
    ("sim.memory allocate", "sim.memory.__main__", ["allocate"], [], 60, ()),
]


def _options(parser):
    """(flags, takes_value, choices) of every optional action except help/version."""
    out = []
    for a in parser._actions:
        if not a.option_strings or isinstance(a, (argparse._HelpAction,
                                                  argparse._VersionAction)):
            continue
        takes = a.nargs != 0
        out.append((a.option_strings[0], takes, list(a.choices or [])))
    return out


def _positionals(parser):
    return [a for a in parser._actions if not a.option_strings]


def _argv_strategy(parser, mode, files, tmp):
    opts = [o for o in _options(parser) if o[0] != "--yes"]  # --yes lifts the guard by design
    pos = _positionals(parser)

    def value(choices):
        pool = HOSTILE + files + OUTPUTS + [f"{tmp}/out.csv", f"{tmp}/fig.png"]
        return st.sampled_from(choices + pool) if choices else st.sampled_from(pool)

    option = st.sampled_from(opts).flatmap(
        lambda o: value(o[2]).map(lambda v, o=o: [o[0], v] if o[1] else [o[0]]))
    unknown = st.sampled_from([["--vibes"], ["--trials=abc"], ["-x"], ["--", "extra"]])
    extra_pos = st.lists(st.sampled_from(files + HOSTILE[:6]), max_size=max(1, len(pos)))
    return st.tuples(st.lists(option, min_size=1, max_size=4),
                     st.lists(unknown, max_size=1), extra_pos).map(
        lambda t: mode + [x for pair in t[0] for x in pair]
        + [x for u in t[1] for x in u] + t[2])


@pytest.mark.parametrize("name, module, mode, base, seconds, extra_ok",
                         COMMANDS, ids=[c[0] for c in COMMANDS])
def test_hostile_arguments_quick(name, module, mode, base, seconds, extra_ok,
                                         hostile_files, tmp_path, capsys, monkeypatch):
    _fuzz(EXAMPLES, name, module, mode, base, seconds, extra_ok, hostile_files, tmp_path,
          capsys, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("name, module, mode, base, seconds, extra_ok",
                         COMMANDS, ids=[c[0] for c in COMMANDS])
def test_hostile_arguments(name, module, mode, base, seconds, extra_ok, hostile_files,
                           tmp_path, capsys, monkeypatch):
    _fuzz(SLOW_EXAMPLES, name, module, mode, base, seconds, extra_ok, hostile_files, tmp_path,
          capsys, monkeypatch)


def _fuzz(examples, name, module, mode, base, seconds, extra_ok, hostile_files, tmp_path, capsys,
          monkeypatch):
    main = importlib.import_module(module).main
    parser = parser_of(main, mode)
    monkeypatch.chdir(tmp_path)
    # every guard at a hundredth of its limit: what a guard allows then runs in seconds, so a
    # case that outlives its budget is a command that loops or allocates before checking sizes
    monkeypatch.setenv("BUDGETLAB_WORK_SCALE", os.environ.get("BUDGETLAB_FUZZ_WORK_SCALE", "0.01"))
    ok = {0, 2, *extra_ok}
    failures = []

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_argv_strategy(parser, mode, hostile_files, tmp_path))
    def case(argv):
        argv = mode + base + argv[len(mode):]
        capsys.readouterr()
        t0 = time.perf_counter()
        log = os.environ.get("BUDGETLAB_FUZZ_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{name}: {argv}\n")
        try:
            with memory_cap(), budget(seconds):
                try:
                    status = main(argv)
                except SystemExit as exc:  # argparse's own usage errors
                    status = exc.code
        except _TooLong as exc:
            failures.append(f"{argv}: {exc}")
            return
        except BaseException as exc:  # noqa: BLE001 -- anything escaping is the finding
            failures.append(f"{argv}: escaped {type(exc).__name__}: {exc}")
            return
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if status not in ok:
            failures.append(f"{argv}: exit {status}: {err[-300:]}")
        elif "unexpected" in err or "Traceback" in err:
            failures.append(f"{argv}: {err[-300:]}")
        elif status == 2 and len(lines) != 1:
            failures.append(f"{argv}: {len(lines)} lines on stderr: {err[-300:]}")
        elif time.perf_counter() - t0 > seconds:
            failures.append(f"{argv}: took {time.perf_counter() - t0:.1f} s")

    case()
    assert failures == [], f"{len(failures)} failing cases:\n" + "\n".join(failures[:10])


# ----------------------------------------------------------------------------
# Output: a full disk or a closed pipe is a clean exit, for every command
# ----------------------------------------------------------------------------

_MAINS = sorted({c[1] for c in COMMANDS} | {"validation.train", "gpu.sweep"})


@pytest.mark.parametrize("module", _MAINS)
def test_every_command_runs_inside_the_one_error_handler(module):
    from sim import _cli

    main = importlib.import_module(module).main
    wrapped = _cli.command("x")(lambda argv=None: 0)
    assert main.__code__ is wrapped.__code__, f"{module}.main is not wrapped by _cli.command"


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["-m", "sim.phase", "--trials", "1000", "--depth", "3"],
    ["-m", "sim.knapsack", "--trials", "20", "--json"],
])
def test_a_full_disk_or_a_closed_pipe_is_a_clean_exit(argv):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, *argv], stdout=full, stderr=subprocess.PIPE,
                              text=True, cwd=root, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "No space left" in proc.stderr
    pipe = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=root)
    assert pipe.stdout.read(1)
    pipe.stdout.close()  # like `| head -c 1`
    err = pipe.stderr.read()
    assert pipe.wait(timeout=300) == 0 and err == ""
