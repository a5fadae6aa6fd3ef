"""A sweep's directory: the manifest, one verified Parquet part per finished point, a lock.

* ``DIR/sweep.json`` is the manifest. Each part ``DIR/parts/<point>.parquet``
  carries in its Parquet metadata the sweep's key (a hash of the manifest),
  its point id and its row count. A part counts as finished only when it reads
  back with that key, point, row count and the columns every sweep row has
  (:func:`part_ok`); it is written to a temporary file, verified, and only
  then renamed into place (:func:`write_part`). A truncated, empty or foreign
  part is removed on resume and its point is run again; :func:`collect` never
  reads one.
* ``DIR/.lock`` holds the pid and host of the one process that writes the
  sweep (:func:`sweep_lock`); a second writer is refused, a lock left by a
  process that no longer runs is taken over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket

import numpy as np
import pandas as pd

from sim import __version__ as _VERSION
from sim import _cli

MANIFEST = "sweep.json"
PARTS = "parts"
LOCK = ".lock"
#: Columns every part has (:func:`sim.sweep.tidy_rows`).
REQUIRED = ("point", "model", "quantity", "theory", "estimate", "se", "trials", "seed")
_IDENTITY = ("format", "model", "design", "points", "axes", "fixed", "trials", "seed", "backend",
             "files")


def _same(a, b):
    return all(json.dumps(a.get(k), sort_keys=True) == json.dumps(b.get(k), sort_keys=True)
               for k in _IDENTITY)


def sweep_key(manifest):
    """16 hex digits naming a sweep: a hash of the manifest's identity (not its version)."""
    ident = {k: manifest.get(k) for k in _IDENTITY}
    text = json.dumps(_cli.jsonable(ident), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
                                    "seed", "backend", "files")
                        if json.dumps(have.get(k), sort_keys=True)
                        != json.dumps(want.get(k), sort_keys=True)]
                raise ValueError(f"{out} holds a different sweep (differs in "
                                 f"{', '.join(diff) or 'format'}); use a new --out directory "
                                 f"or --force to replace it")
            shutil.rmtree(os.path.join(out, PARTS))
            os.makedirs(os.path.join(out, PARTS))
        else:
            return _finished(out, sweep_key(want), clean=True)
    else:
        stray = [f for f in os.listdir(out) if f not in (PARTS, LOCK)]
        if stray or os.listdir(os.path.join(out, PARTS)):
            if not force:
                raise ValueError(f"{out} is not empty and holds no sweep manifest; use a new "
                                 f"--out directory or --force")
            shutil.rmtree(os.path.join(out, PARTS))
            os.makedirs(os.path.join(out, PARTS))
    _atomic_write(man_path, (json.dumps(_cli.jsonable(want), indent=1) + "\n").encode())
    return set()


def part_ok(path, key, pid=None):
    """Whether the part at ``path`` is a finished point of the sweep ``key``.

    It must read back as Parquet with the sweep's key, its point id (the file
    name's, when ``pid`` is given), a positive row count equal to the one
    recorded when it was written, and the columns in :data:`REQUIRED`.
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        kv = meta.metadata or {}
        names = set(meta.schema.names)
    except Exception:  # noqa: BLE001 -- any unreadable file is simply not finished
        return False
    rows = kv.get(b"budgetlab.rows")
    return (kv.get(b"budgetlab.sweep") == key.encode()
            and (pid is None or kv.get(b"budgetlab.point") == str(pid).encode())
            and rows is not None and rows.isdigit() and int(rows) == meta.num_rows > 0
            and set(REQUIRED) <= names)


def _part_names(out):
    return sorted(f for f in os.listdir(os.path.join(out, PARTS))
                  if f.endswith(".parquet") and not f.startswith("."))


def _finished(out, key, clean=False):
    """Point ids whose parts verify; with ``clean``, remove the others and stray temporaries."""
    done = set()
    parts = os.path.join(out, PARTS)
    for f in os.listdir(parts):
        path = os.path.join(parts, f)
        if f.endswith(".parquet") and not f.startswith(".") and part_ok(path, key, f[:-8]):
            done.add(f[:-8])
        elif clean:
            with contextlib.suppress(OSError):
                os.unlink(path)
    return done


def _atomic_write(path, data):
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_part(out, df, key):
    """Write one point's rows to ``out/parts/<point>.parquet``: write, verify, rename.

    ``key`` is the sweep's :func:`sweep_key`. The file appears only after it
    read back whole; a failed verification raises ``OSError`` and leaves no part.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    pid = str(df["point"].iloc[0])
    path = os.path.join(out, PARTS, f"{pid}.parquet")
    tmp = os.path.join(out, PARTS, f".{pid}.parquet.tmp-{os.getpid()}")
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta.update({b"budgetlab.sweep": key.encode(), b"budgetlab.point": pid.encode(),
                 b"budgetlab.rows": str(len(df)).encode()})
    try:
        pq.write_table(table.replace_schema_metadata(meta), tmp)
        if not part_ok(tmp, key, pid):
            raise OSError(f"the part of point {pid} did not read back whole from {tmp}")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path


@contextlib.contextmanager
def sweep_lock(out):
    """Hold ``out/.lock`` while writing the sweep; refuse when another live process holds it.

    The lock file records the owner's pid and host. A lock of a process that no
    longer runs on this host is stale and taken over; a lock held by this
    process is reentrant.

    Raises
    ------
    ValueError
        Another running process writes the sweep in ``out``.
    """
    out = os.fspath(out)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    path = os.path.join(out, LOCK)
    me = dict(pid=os.getpid(), host=socket.gethostname())
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read_lock(path)
            if owner == me:
                yield path
                return
            if owner is not None and _alive(owner):
                raise ValueError(f"another sweep (pid {owner['pid']} on {owner['host']}) is "
                                 f"writing {out}; wait for it to finish or stop it") from None
            with contextlib.suppress(OSError):
                os.unlink(path)  # stale: its owner is gone
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        try:
            yield path
        finally:
            if _read_lock(path) == me:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        return
    raise ValueError(f"cannot take the lock {path}")


def _read_lock(path):
    try:
        with open(path) as fh:
            owner = json.load(fh)
        return dict(pid=int(owner["pid"]), host=str(owner["host"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(owner):
    if owner["host"] != socket.gethostname():
        return True  # cannot tell for another host: assume it runs
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def collect(out, damaged=None):
    """All finished points of the sweep in ``out`` as one tidy DataFrame.

    Only parts that verify (:func:`part_ok`) are read; the names of the others
    are appended to the list ``damaged`` when one is given. Rows are sorted by
    the axes (in their order, each ascending) and keep their order within a
    point, so the result does not depend on the order in which points ran.
    """
    out = os.fspath(out)
    man = read_manifest(out)
    key = sweep_key(man)
    good = []
    for f in _part_names(out):
        if part_ok(os.path.join(out, PARTS, f), key, f[:-8]):
            good.append(f)
        elif damaged is not None:
            damaged.append(f)
    if not good:
        return pd.DataFrame()
    frames = [pd.read_parquet(os.path.join(out, PARTS, f)) for f in good]
    for f in frames:
        f["_row"] = np.arange(len(f))
    df = pd.concat(frames, ignore_index=True)
    keys = [a for a in man["axes"] if a in df.columns] + ["point", "_row"]
    return df.sort_values(keys, kind="mergesort").drop(columns="_row").reset_index(drop=True)
