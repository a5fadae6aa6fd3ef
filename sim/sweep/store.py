"""A sweep's directory: the manifest, one Parquet part per finished point, collecting them."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd

from sim import __version__ as _VERSION
from sim import _cli

MANIFEST = "sweep.json"
PARTS = "parts"


def _same(a, b):
    keys = ("format", "model", "design", "points", "axes", "fixed", "trials", "seed", "backend",
            "files")
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
                                    "seed", "backend", "files")
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
    for f in frames:
        f["_row"] = np.arange(len(f))
    df = pd.concat(frames, ignore_index=True)
    keys = [a for a in man["axes"] if a in df.columns] + ["point", "_row"]
    return df.sort_values(keys, kind="mergesort").drop(columns="_row").reset_index(drop=True)

