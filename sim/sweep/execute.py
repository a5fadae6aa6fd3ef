"""Running a sweep's points here, on a process pool or on a Dask cluster."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import os
import time
from dataclasses import dataclass, field

from sim.sweep.spec import point_id, point_params, point_seed, run_point
from sim.sweep.store import prepare_dir, sweep_key, sweep_lock, write_part
from theory._params import check_int, check_real


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
    with sweep_lock(out):
        return _run_locked(spec, out, executor, force, progress, max_pending, numba_threads)


def _run_locked(spec, out, executor, force, progress, max_pending, numba_threads):
    finished = prepare_dir(out, spec, force)
    key = sweep_key(spec.manifest())
    summary = SweepSummary(total=spec.size)

    def pending_points():  # streamed: a huge sweep never holds all its points in memory
        for values in point_params(spec):
            if point_id(spec.model, values) in finished:
                summary.skipped += 1
            else:
                yield values

    todo = pending_points()

    def args(values):
        return (spec.model, values, point_seed(spec.seed, spec.model, values), spec.trials,
                spec.backend, numba_threads)

    def finish(values, fut=None, df=None):
        try:
            rows = fut.result() if fut is not None else df
            write_part(out, rows, key)
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
    if not summary.interrupted:
        summary.total = summary.skipped + summary.done + summary.failed
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
    connect_timeout = check_real("connect-timeout", connect_timeout, 0.0, 3600.0, lo_open=True)
    cores = os.cpu_count() or 1
    kind, _, arg = text.partition(":")
    if text.startswith("tcp://") or text.startswith("tls://"):
        kind, arg = "remote", text
    if kind == "inline" and not arg:
        return _Closing(None, [], None, "inline")
    if kind == "processes":
        import multiprocessing

        n = _count(arg or None, "processes", cores)
        ex = cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_die_with_parent, initargs=(os.getpid(),))
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
        _probe_scheduler(arg, connect_timeout)
        try:
            client = Client(arg, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"the Dask scheduler at {arg} does not answer within "
                             f"{connect_timeout:g} s ({type(exc).__name__})") from None
        return _Closing(client.get_executor(), [client.close], None, arg)
    raise ValueError(f"executor must be inline, processes[:N], dask-local[:N] or "
                     f"tcp://HOST:PORT, got {text!r}")



def _die_with_parent(parent):
    """Worker initializer: end this worker when the sweep's process ends, however it ends.

    On Linux the kernel sends SIGTERM when the parent dies (``PR_SET_PDEATHSIG``);
    elsewhere, and as a guard against the race before that call, a daemon thread
    checks once a second that the parent still runs.
    """
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
        except (OSError, AttributeError):
            pass

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(1.0)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def _probe_scheduler(address, timeout):
    """Refuse an address whose service does not greet like a Dask scheduler.

    A Dask scheduler sends its handshake first: an 8-byte length followed by a
    small message. A service that sends nothing, or a first word that is no
    plausible length (an HTTP server's ``HTTP/1.1``), is refused with one line
    before Dask would read it as a frame size. ``tls://`` addresses are left to
    Dask.
    """
    import socket
    import struct

    if not address.startswith("tcp://"):
        return
    hostport = address[len("tcp://"):].rstrip("/")
    host, _, port = hostport.rpartition(":")
    try:
        port = int(port)
    except ValueError:
        raise ValueError(f"executor address must be tcp://HOST:PORT, got {address!r}") from None
    host = host.strip("[]") or "127.0.0.1"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            head = b""
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"the Dask scheduler at {address} does not answer within "
                         f"{timeout:g} s ({type(exc).__name__})") from None
    if len(head) < 8 or not 0 < struct.unpack("<Q", head)[0] <= 1 << 20:
        raise ValueError(f"the service at {address} is not a Dask scheduler (its greeting is "
                         f"not a Dask handshake)")
