"""Run records: what a model did on a set of questions, in a documented, versioned format.

A run is a directory with

``samples.parquet``
    One row per (question, sample), columns and dtypes (:data:`COLUMNS`):

    ============== ======= =====================================================================
    question_id    int64   id of the question in the run's question set
    difficulty     int64   the task's difficulty knob (operations per question)
    sample         int64   sample index within the question, 0..samples-1
    seed           int64   the seed that reproduces this sample alone
    prompt         string  question text (without special tokens)
    target         string  the correct answer
    answer         string  the model's answer (text after ``</think>``; "" when not closed)
    correct        bool    answer == target
    thinking_length int64  tokens between ``<think>`` and ``</think>`` (all generated tokens up to
                           ``<eos>`` or the cap when ``</think>`` never came)
    total_length   int64   generated tokens including ``</think>``, the answer and ``<eos>``
    finished       bool    ``</think>`` and then ``<eos>`` were generated within the cap
    ============== ======= =====================================================================

    For a model that thinks in plain text, ``</think>`` stands for the end-of-thinking token of
    its prompt format (:mod:`validation.adapters.formats`; for the natural-language task the
    line ``Answer:``), and ``finished`` means that thinking ended and the answer's line was
    completed.

    Optional columns (kept when present, absent in older runs, :data:`OPTIONAL_COLUMNS`):
    ``text`` (string, the completion's text) and ``closed`` (bool, thinking ended).

``meta.json``
    ``schema_version`` (:data:`SCHEMA_VERSION`), ``model``, ``checkpoint_sha256``, ``decoding``
    (temperature, top_p, seed, max_new_tokens, max_thinking), ``created`` (UTC ISO time),
    ``package_version``, ``n_questions``, ``n_samples``, ``n_rows``, ``hidden`` (bool),
    ``token_ids`` (bool; absent in older runs), and any extra keys the writer adds
    (``validation.run`` adds ``tokens``, the number of generated tokens).

``hidden.npz`` (optional)
    Hidden states at thinking positions: ``states`` float16 ``[P, n_layers + 1, d]``, ``row``
    int64 ``[P]`` (row of ``samples.parquet``), ``position`` int64 ``[P]`` (thinking position t,
    0 = the position that predicts the first thinking token), ``remaining`` int64 ``[P]`` (tokens
    from the predicted token through ``</think>`` inclusive; -1 when the sample never closed its
    thinking), ``token`` int64 ``[P]`` (the token id predicted at that position, i.e. the
    candidate whose remaining length is ``remaining``; -1 when the model gives no token ids).
    A closed row has ``thinking_length + 1`` positions, t = 0..thinking_length. A run of a
    Hugging Face model keeps only some layers: ``meta.json``'s ``hidden_layers`` lists them
    (0 = the embedding output, ``n_layers`` = the last block after the final norm).

``tokens.npz`` (optional)
    The token ids of every row as the model saw them, so that hidden states (or anything else)
    can be recomputed from the run by one forward pass: ``prompt`` and ``generated`` (int32,
    all rows concatenated) with ``prompt_offsets`` and ``generated_offsets`` (int64
    ``[n_rows + 1]``, row ``i`` is ``generated[generated_offsets[i]:generated_offsets[i + 1]]``);
    row ``i`` has ``total_length`` generated tokens. ``meta.json`` then says
    ``"token_ids": true``.

Files are written to temporary names and renamed; ``meta.json`` is written last, so a directory
without it is an unfinished run. :func:`read_run` checks everything above and raises one-line
``ValueError`` naming the problem.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SCHEMA_VERSION", "COLUMNS", "OPTIONAL_COLUMNS", "Run", "write_run", "read_run",
           "validate_table", "validate_hidden", "validate_tokens", "check_consistency",
           "pack_tokens", "row_tokens"]

SCHEMA_VERSION = 1

COLUMNS = {
    "question_id": "int64",
    "difficulty": "int64",
    "sample": "int64",
    "seed": "int64",
    "prompt": "string",
    "target": "string",
    "answer": "string",
    "correct": "bool",
    "thinking_length": "int64",
    "total_length": "int64",
    "finished": "bool",
}

OPTIONAL_COLUMNS = {
    "text": "string",
    "closed": "bool",
}

TOKEN_KEYS = ("prompt", "prompt_offsets", "generated", "generated_offsets")
HIDDEN_KEYS = ("states", "row", "position", "remaining", "token")
META_KEYS = ("schema_version", "model", "checkpoint_sha256", "decoding", "created",
             "package_version", "n_questions", "n_samples", "n_rows", "hidden")


@dataclasses.dataclass(frozen=True)
class Run:
    """A loaded run.

    Attributes
    ----------
    table : pandas.DataFrame
        ``samples.parquet`` with the dtypes of :data:`COLUMNS`.
    meta : dict
        ``meta.json``.
    hidden : dict of ndarray or None
        ``hidden.npz`` arrays (``states``, ``row``, ``position``, ``remaining``), if present.
    path : pathlib.Path
        The run directory.
    tokens : dict of ndarray or None
        ``tokens.npz`` arrays, if present (see :func:`row_tokens`).
    """

    table: pd.DataFrame
    meta: dict
    hidden: dict | None
    path: Path
    tokens: dict | None = None


def _package_version():
    try:
        from importlib.metadata import version
        return version("budgetlab")
    except Exception:  # not installed: the source tree
        return "unknown"


def _coerce(table):
    cols = dict(COLUMNS)
    cols.update({c: dt for c, dt in OPTIONAL_COLUMNS.items() if c in table})
    df = pd.DataFrame({c: table[c] for c in cols})
    for c, dt in cols.items():
        df[c] = df[c].astype(dt)
    return df.reset_index(drop=True)


def _dtype_ok(series, expected):
    kind = series.dtype
    if expected == "string":
        return pd.api.types.is_string_dtype(kind) or kind == np.dtype(object) and all(
            isinstance(v, str) for v in series)
    if expected == "bool":
        return pd.api.types.is_bool_dtype(kind)
    return pd.api.types.is_integer_dtype(kind)


def validate_table(df, where="samples.parquet"):
    """Check columns, dtypes and basic invariants; one-line ValueError on a problem."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {', '.join(missing)}")
    if len(df) == 0:
        raise ValueError(f"{where}: the table is empty")
    for c in COLUMNS:
        n_null = int(df[c].isna().sum())
        if n_null:
            raise ValueError(f"{where}: column {c} has {n_null} missing value(s) (first in row "
                             f"{int(np.flatnonzero(df[c].isna().to_numpy())[0])})")
    for c, dt in list(COLUMNS.items()) + [(c, d) for c, d in OPTIONAL_COLUMNS.items()
                                          if c in df.columns]:
        if not _dtype_ok(df[c], dt):
            raise ValueError(f"{where}: column {c} must have dtype {dt}, got {df[c].dtype}")
    for c in ("question_id", "difficulty", "sample", "seed", "thinking_length", "total_length"):
        if (df[c] < 0).any():
            raise ValueError(f"{where}: column {c} has negative values")
    if (df["thinking_length"] > df["total_length"]).any():
        raise ValueError(f"{where}: thinking_length exceeds total_length in some rows")
    if df.duplicated(["question_id", "sample"]).any():
        raise ValueError(f"{where}: duplicate (question_id, sample) rows")
    wrong = df["correct"].to_numpy(bool) & (df["answer"].astype(str).str.strip() == "").to_numpy()
    if wrong.any():
        raise ValueError(f"{where}: row {int(np.flatnonzero(wrong)[0])} has an empty answer "
                         f"marked correct ({int(wrong.sum())} such rows)")
    per_q = df.groupby("question_id")[["prompt", "target", "difficulty"]].nunique()
    mixed = per_q[(per_q > 1).any(axis=1)]
    if len(mixed):
        qid = int(mixed.index[0])
        col = next(c for c in per_q.columns if mixed.loc[qid, c] > 1)
        raise ValueError(f"{where}: question_id {qid} has {int(mixed.loc[qid, col])} different "
                         f"values of {col} (rows of different questions share the id)")


def validate_hidden(hidden, table, where="hidden.npz"):
    """Check the hidden-state arrays against the table; one-line ValueError on a problem."""
    missing = [k for k in HIDDEN_KEYS if k not in hidden]
    if missing:
        raise ValueError(f"{where}: missing array(s) {', '.join(missing)}")
    states = hidden["states"]
    P = states.shape[0] if states.ndim == 3 else -1
    if states.ndim != 3:
        raise ValueError(f"{where}: states must be [positions, layers, d], got shape "
                         f"{states.shape}")
    for k in ("row", "position", "remaining", "token"):
        a = hidden[k]
        if a.shape != (P,):
            raise ValueError(f"{where}: {k} must have shape ({P},), got {a.shape}")
        if a.dtype.kind not in "iu":
            raise ValueError(f"{where}: {k} must be integer, got dtype {a.dtype}")
    row = hidden["row"]
    n = len(table)
    if P and (row.min() < 0 or row.max() >= n):
        raise ValueError(f"{where}: row index out of range [0, {n})")
    counts = np.bincount(row, minlength=n)
    tl = table["thinking_length"].to_numpy()
    bad = (counts != tl + 1) & (counts != tl)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}: row {i} has {counts[i]} positions, expected thinking_length "
                         f"+ 1 = {tl[i] + 1}")
    rem = hidden["remaining"]
    known = rem >= 0
    pos = hidden["position"]
    if (known & (rem != tl[row] + 1 - pos)).any():
        raise ValueError(f"{where}: remaining != thinking_length + 1 - position for some "
                         f"positions")


def pack_tokens(prompts, generated):
    """The arrays of ``tokens.npz`` from per-row lists of prompt and generated token ids."""
    def pack(rows):
        rows = [np.asarray(r, np.int64).ravel() for r in rows]
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        flat = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        return flat.astype(np.int32), offsets
    p, po = pack(prompts)
    g, go = pack(generated)
    return dict(prompt=p, prompt_offsets=po, generated=g, generated_offsets=go)


def row_tokens(tokens, i):
    """``(prompt, generated)`` token ids of row ``i`` of a ``tokens.npz`` dict."""
    po, go = tokens["prompt_offsets"], tokens["generated_offsets"]
    return (tokens["prompt"][po[i]:po[i + 1]].astype(np.int64),
            tokens["generated"][go[i]:go[i + 1]].astype(np.int64))


def validate_tokens(tokens, table, where="tokens.npz"):
    """Check the token arrays against the table; one-line ValueError on a problem."""
    missing = [k for k in TOKEN_KEYS if k not in tokens]
    if missing:
        raise ValueError(f"{where}: missing array(s) {', '.join(missing)}")
    n = len(table)
    for flat, off in (("prompt", "prompt_offsets"), ("generated", "generated_offsets")):
        o = np.asarray(tokens[off])
        if o.shape != (n + 1,) or o[0] != 0 or (np.diff(o) < 0).any() or \
                o[-1] != len(tokens[flat]):
            raise ValueError(f"{where}: {off} must rise from 0 to len({flat}) over {n} rows")
        if np.asarray(tokens[flat]).dtype.kind not in "iu":
            raise ValueError(f"{where}: {flat} must be integer")
    lengths = np.diff(tokens["generated_offsets"])
    if (lengths != table["total_length"].to_numpy()).any():
        i = int(np.flatnonzero(lengths != table["total_length"].to_numpy())[0])
        raise ValueError(f"{where}: row {i} has {lengths[i]} generated tokens, total_length "
                         f"says {table['total_length'].iloc[i]}")


def _atomic_bytes(path, data):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_npz(path, arrays, save):
    """Write ``arrays`` atomically with ``save`` (np.savez or np.savez_compressed), or remove
    an old file when ``arrays`` is None."""
    if arrays is None:
        path.unlink(missing_ok=True)
        return
    buf = io.BytesIO()
    save(buf, **arrays)
    _atomic_bytes(path, buf.getvalue())


def write_run(directory, table, meta, hidden=None, tokens=None):
    """Write a run directory atomically (file by file, ``meta.json`` last); return its path.

    Parameters
    ----------
    directory : str or Path
        Created if needed; an existing run there is replaced.
    table : pandas.DataFrame or dict of columns
        At least the columns of :data:`COLUMNS`; converted to their dtypes.
    meta : dict
        ``model``, ``checkpoint_sha256``, ``decoding`` are required; the other keys of
        :data:`META_KEYS` are filled in.
    hidden : dict of ndarray or None
        ``states``, ``row``, ``position``, ``remaining`` (see the module docstring).
    tokens : dict of ndarray or None
        The arrays of ``tokens.npz`` (:func:`pack_tokens`).
    """
    directory = Path(directory)
    df = _coerce(pd.DataFrame(table) if not isinstance(table, pd.DataFrame) else table)
    validate_table(df)
    for k in ("model", "checkpoint_sha256", "decoding"):
        if k not in meta:
            raise ValueError(f"meta must have key {k!r}")
    try:  # before anything is written
        json.dumps(meta, allow_nan=False, default=str)
    except ValueError:
        raise ValueError("meta.json must hold finite numbers (no NaN or Infinity), got "
                         f"{str(meta.get('decoding'))[:200]}") from None
    if hidden is not None:
        hidden = dict(states=np.asarray(hidden["states"], np.float16),
                      row=np.asarray(hidden["row"], np.int64),
                      position=np.asarray(hidden["position"], np.int64),
                      remaining=np.asarray(hidden["remaining"], np.int64),
                      token=np.asarray(hidden["token"], np.int64) if "token" in hidden
                      else np.full(len(hidden["row"]), -1, np.int64))
        validate_hidden(hidden, df)
    if tokens is not None:
        tokens = {k: np.asarray(tokens[k]) for k in TOKEN_KEYS}
        validate_tokens(tokens, df)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "meta.json").unlink(missing_ok=True)
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    _atomic_bytes(directory / "samples.parquet", buf.getvalue())
    _write_npz(directory / "hidden.npz", hidden, np.savez)
    _write_npz(directory / "tokens.npz", tokens, np.savez_compressed)
    full = dict(meta)
    full.update(schema_version=SCHEMA_VERSION,
                created=meta.get("created") or datetime.datetime.now(
                    datetime.UTC).isoformat(timespec="seconds"),
                package_version=meta.get("package_version") or _package_version(),
                n_questions=int(df["question_id"].nunique()),
                n_samples=int(df.groupby("question_id").size().max()),
                n_rows=int(len(df)), hidden=hidden is not None,
                token_ids=tokens is not None)
    try:
        text = json.dumps(full, indent=1, allow_nan=False)
    except ValueError:
        raise ValueError("meta.json must hold finite numbers (no NaN or Infinity), got "
                         f"{str(full.get('decoding'))[:200]}") from None
    _atomic_bytes(directory / "meta.json", (text + "\n").encode())
    return directory


#: meta.json is small: a few KB of settings (the largest holds a prompt format's examples).
MAX_META_BYTES = 4 * 2**20


def _reject_constant(name):
    raise ValueError(f"the non-standard JSON value {name}")


def _read_meta(directory):
    """meta.json as a dict; one-line ValueError naming the file on any problem."""
    mp = directory / "meta.json"
    where = f"run {directory}: meta.json"
    if not mp.exists():
        raise ValueError(f"run {directory} has no meta.json (unfinished or not a run)")
    if not mp.is_file():
        raise ValueError(f"{where} is not a regular file")
    size = mp.stat().st_size
    if size > MAX_META_BYTES:
        raise ValueError(f"{where} has {size} bytes; a run's metadata is at most "
                         f"{MAX_META_BYTES} bytes")
    try:
        text = mp.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where} is not UTF-8 text (byte {exc.start} is "
                         f"0x{exc.object[exc.start]:02x})") from None
    try:
        meta = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise ValueError(f"{where} is nested too deeply to be a run's metadata") from None
    except ValueError as exc:
        raise ValueError(f"{where} holds {exc}; a run's numbers are finite") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{where} must hold an object, got {type(meta).__name__}")
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"{where} lacks key(s) {', '.join(missing)}")
    if meta["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"run {directory}: schema_version {meta['schema_version']!r} is not "
                         f"supported (this reader knows {SCHEMA_VERSION})")
    _check_meta_fields(meta, where)
    return meta


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_meta_fields(meta, where):
    for k in ("n_questions", "n_samples", "n_rows"):
        if not _is_count(meta[k]):
            raise ValueError(f"{where}: {k} must be a non-negative integer, got {meta[k]!r}")
    if not isinstance(meta["hidden"], bool):
        raise ValueError(f"{where}: hidden must be true or false, got {meta['hidden']!r}")
    if "token_ids" in meta and not isinstance(meta["token_ids"], bool):
        raise ValueError(f"{where}: token_ids must be true or false, got {meta['token_ids']!r}")
    if meta["model"] is not None and not (isinstance(meta["model"], str) and meta["model"]):
        raise ValueError(f"{where}: model must be a non-empty string or null, got "
                         f"{meta['model']!r}")
    sha = meta["checkpoint_sha256"]
    if sha is not None:
        if not (isinstance(sha, str) and len(sha) == 64
                and all(ch in "0123456789abcdef" for ch in sha)):
            raise ValueError(f"{where}: checkpoint_sha256 must be 64 lowercase hex digits or "
                             f"null, got {str(sha)[:80]!r}")
        if set(sha) == {"0"}:
            raise ValueError(f"{where}: checkpoint_sha256 is all zeros, not the hash of a "
                             f"checkpoint (null when the checkpoint is unknown)")
    if not isinstance(meta["decoding"], dict):
        raise ValueError(f"{where}: decoding must be an object, got "
                         f"{type(meta['decoding']).__name__}")


def _task_questions(meta, n):
    """The question set a run's ``task`` names (chain or nl), or None when it names none."""
    t = meta.get("task")
    if not isinstance(t, dict) or t.get("name") not in ("chain", "nl"):
        return None
    if "difficulty" not in t or not _is_count(t.get("question_seed")):
        return None
    if t["name"] == "nl":
        from validation import nltask
        levels = t.get("levels")
        levels = None if not isinstance(levels, dict) else {
            int(k): tuple(v) for k, v in levels.items()}
        return nltask.make_questions(n, t["difficulty"], t["question_seed"], levels=levels)
    from validation import task
    return task.make_questions(n, t["difficulty"], t["question_seed"])


def check_consistency(df, meta, where):
    """Check that ``samples.parquet`` and ``meta.json`` describe the same run.

    The counts (``n_rows``, ``n_questions``, ``n_samples``) must match the table; sample
    indices run 0..k-1 within each question; and when ``meta.json`` names the project's task
    (``task``: ``chain`` or ``nl`` with its difficulty and question seed) every row's question
    id, prompt and target must be those of the question set it names, and ``correct`` must be
    what the task's answer check gives. Raises a one-line ``ValueError`` naming the field.
    """
    counts = {"n_rows": len(df), "n_questions": int(df["question_id"].nunique()),
              "n_samples": int(df.groupby("question_id").size().max())}
    for k, v in counts.items():
        if meta[k] != v:
            raise ValueError(f"{where}: meta.json says {k} = {meta[k]}, samples.parquet has {v}")
    top = df.groupby("question_id")["sample"].agg(["max", "size"])
    gap = top[top["max"] != top["size"] - 1]
    if len(gap):
        qid = int(gap.index[0])
        raise ValueError(f"{where}: question {qid}'s sample indices are not "
                         f"0..{gap.loc[qid, 'size'] - 1}")
    try:
        questions = _task_questions(meta, meta["n_questions"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: meta.json's task cannot be rebuilt ({exc})") from None
    if questions is None:
        return
    ids = df["question_id"].to_numpy()
    if ids.max() >= len(questions):
        raise ValueError(f"{where}: question_id {int(ids.max())} is beyond the task's "
                         f"{len(questions)} questions (ids run from 0)")
    text = np.array([q.text for q in questions], dtype=object)[ids]
    target = np.array([str(q.answer) for q in questions], dtype=object)[ids]
    bad = (df["prompt"].to_numpy(object) != text) | (df["target"].to_numpy(object) != target)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}: row {i} (question_id {int(ids[i])}) does not hold that "
                         f"question of the task meta.json names (shifted or foreign ids)")
    from validation.task import check_answer
    expect = np.array([check_answer(a, t) for a, t in zip(df["answer"], df["target"])])
    bad = expect != df["correct"].to_numpy(bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}: row {i} says correct = {bool(df['correct'].iloc[i])} for "
                         f"answer {str(df['answer'].iloc[i])[:40]!r} and target "
                         f"{df['target'].iloc[i]!r} ({int(bad.sum())} such rows)")


def _read_npz(path, where):
    """The arrays of an ``.npz`` file; one-line ValueError naming ``where`` if it cannot be read."""
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:  # a damaged archive raises zipfile, OSError or ValueError errors
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{where} cannot be read ({msg})") from None


def read_run(directory, *, load_hidden=True):
    """Load and check a run directory; one-line ValueError naming the problem.

    Parameters
    ----------
    directory : str or Path
    load_hidden : bool
        Read ``hidden.npz`` when the run has one.

    Returns
    -------
    Run
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"run {directory} is not a directory")
    meta = _read_meta(directory)
    tp = directory / "samples.parquet"
    if not tp.is_file():
        raise ValueError(f"run {directory} has no samples.parquet")
    try:
        df = pd.read_parquet(tp)
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"run {directory}: samples.parquet cannot be read ({msg})") from None
    validate_table(df, f"run {directory}: samples.parquet")
    df = _coerce(df)
    check_consistency(df, meta, f"run {directory}")
    hidden = None
    hp = directory / "hidden.npz"
    if meta["hidden"] and not hp.is_file():
        raise ValueError(f"run {directory}: meta.json says hidden states were saved but "
                         f"hidden.npz is missing")
    if hp.is_file() and not meta["hidden"]:
        raise ValueError(f"run {directory}: hidden.npz present but meta.json says hidden=false")
    if meta["hidden"] and load_hidden:
        hidden = _read_npz(hp, f"run {directory}: hidden.npz")
        validate_hidden(hidden, df, f"run {directory}: hidden.npz")
    tokens = None
    tp = directory / "tokens.npz"
    if meta.get("token_ids") and not tp.is_file():
        raise ValueError(f"run {directory}: meta.json says tokens were saved but tokens.npz is "
                         f"missing")
    if tp.is_file():
        tokens = _read_npz(tp, f"run {directory}: tokens.npz")
        validate_tokens(tokens, df, f"run {directory}: tokens.npz")
    return Run(df, meta, hidden, directory, tokens)
