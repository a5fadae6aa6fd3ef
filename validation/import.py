"""``python -m validation.import``: turn the generation files you already have into run records.

Example::

    python -m validation.import generations.jsonl --format vllm --references answers.csv \\
        --extract boxed --out runs/mine
    python -m validation.check runs/mine --only phase knapsack

The input is JSON Lines (one JSON object a line) of generations in one of four layouts:

``vllm``
    One line per request, the fields of vLLM's ``RequestOutput``: ``request_id``,
    ``prompt`` and ``outputs``, a list of ``CompletionOutput`` objects (``index``, ``text``,
    ``token_ids``, ``finish_reason``). Every output is a sample of the line's question.
``openai``
    OpenAI-style batch output (also what ``vllm run-batch`` writes): ``custom_id`` and
    ``response.body`` with ``choices[].message.content`` (or ``choices[].text``),
    ``choices[].finish_reason`` and ``usage.completion_tokens`` (and
    ``usage.completion_tokens_details.reasoning_tokens``). Requests that failed (``error``
    set or ``status_code`` not 200) are left out and counted.
``lm-eval``
    lm-evaluation-harness sample logs (``samples_<task>_<date>.jsonl``): ``doc_id``,
    ``target``, ``resps`` (the repeats of a generation request), ``filtered_resps``,
    ``filter`` and the per-document metrics such as ``exact_match`` or ``acc``.
``generic``
    One line per sample; the fields are named by the mapping options, whose defaults are the
    column names of :data:`validation.records.COLUMNS` (a JSON Lines dump of a
    ``samples.parquet`` imports as it is).

Correctness comes from a correctness field when there is one, else from comparing the
sample's answer with the reference answer after :func:`normalize_answer`. The answer is the
layout's extracted answer, or is extracted from the text by :func:`extract_answer`
(``--extract exact|last-number|boxed|answer-line``). Question ids become ``question_id`` 0,
1, ... in order of first appearance; the original ids are kept in ``meta.json``
(``question_ids``). The phase and knapsack checks need the same number of samples for every
question: ``--samples N`` keeps the first N of each and drops the questions with fewer.

The run directory is written only when the whole file has been read and checked: into a
temporary directory beside ``--out``, renamed at the end. Every problem is one line on stderr
and exit status 2. The format of the records, and which checks need which columns:
``docs/records.md``.
"""

from __future__ import annotations

import codecs
import dataclasses
import decimal
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim import _cli
from validation import records

__all__ = ["FORMATS", "EXTRACTORS", "DEFAULT_FIELDS", "LM_EVAL_METRICS", "RECORD_CHECKS",
           "Fields", "Imported", "record_checks",
           "normalize_answer", "extract_answer", "read_jsonl", "import_jsonl", "write_imported",
           "build_parser", "main"]

PROG = "python -m validation.import"

#: The layouts ``--format`` accepts.
FORMATS = ("vllm", "openai", "lm-eval", "generic")

#: The answer extractors of ``--extract`` (see :func:`extract_answer`).
EXTRACTORS = ("exact", "last-number", "boxed", "answer-line")

#: lm-eval metrics read as a document's correctness, in this order, when ``--metric`` is not
#: given (with one sample per document).
LM_EVAL_METRICS = ("exact_match", "acc")

#: Placeholders written when a sample's answer or a question's reference is unknown (the
#: source gives only correctness): every wrong answer of a question is then one answer.
UNKNOWN_TARGET = "<correct>"
UNKNOWN_WRONG = "<wrong>"

#: What the checks of ``python -m validation.check`` that read the records only need of a run:
#: check -> (samples per question, questions), as the checks stand (the tests hold them to it).
RECORD_CHECKS = {"phase": (5, 2), "knapsack": (6, 2), "search": (4, 2), "workflow": (16, 30),
                 "memory": (20, 2)}

#: Bytes of memory one byte of JSON Lines may take while it is read, for the guard (measured:
#: about 2 for a file of long texts, less for vLLM files whose token ids are not kept).
MEMORY_PER_BYTE = 4


@dataclasses.dataclass(frozen=True)
class Fields:
    """Field names of the input, by role; ``None`` means the layout's default
    (:data:`DEFAULT_FIELDS`). A name may be a dotted path into nested objects (``doc.level``,
    ``choices.0.text``) unless the line has a field of that exact name.

    Line-level roles (every layout): ``question`` (the question id), ``prompt``,
    ``reference`` (the correct answer) and ``difficulty``. Sample-level roles (``generic``
    only): ``sample`` (the sample's text), ``answer`` (its extracted answer), ``correct``,
    ``tokens`` (generated tokens), ``thinking_tokens``, ``finished``, ``sample_index`` (the
    sample's order within its question) and ``seed``.
    """

    question: str | None = None
    prompt: str | None = None
    reference: str | None = None
    difficulty: str | None = None
    sample: str | None = None
    answer: str | None = None
    correct: str | None = None
    tokens: str | None = None
    thinking_tokens: str | None = None
    finished: str | None = None
    sample_index: str | None = None
    seed: str | None = None


#: The roles each layout reads, with their default field names (``None``: no default field).
DEFAULT_FIELDS = {
    "vllm": dict(question="request_id", prompt="prompt", reference=None, difficulty=None),
    "openai": dict(question="custom_id", prompt=None, reference=None, difficulty=None),
    "lm-eval": dict(question="doc_id", prompt=None, reference="target", difficulty=None),
    "generic": dict(question="question_id", prompt="prompt", reference="target",
                    difficulty="difficulty", sample="text", answer="answer", correct="correct",
                    tokens="total_length", thinking_tokens="thinking_length",
                    finished="finished", sample_index="sample", seed="seed"),
}

#: The field every line of a layout must hold once in the file (a request is answered once).
UNIQUE_FIELD = {"vllm": "request_id", "openai": "custom_id", "lm-eval": "doc_id"}

_MISSING = object()
#: How the summary says that lengths are unknown, and that thinking has no count of its own.
NO_LENGTHS = "none (no counts, no text: 0)"
SAME_AS_TOTAL = "the total length (no count of its own)"
_INT64_MAX = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Imported:
    """What :func:`import_jsonl` read.

    Attributes
    ----------
    table : pandas.DataFrame
        The run table, columns and dtypes of :data:`validation.records.COLUMNS`.
    meta : dict
        ``meta.json`` for :func:`validation.records.write_run` (``model`` is ``None``: an
        imported run names no runnable model).
    summary : dict
        Counts for the report: ``lines``, ``questions``, ``samples`` (per question), ``rows``,
        ``dropped_questions``, ``failed_requests``, ``accuracy``, ``correctness``,
        ``lengths``, ``thinking``.
    """

    table: pd.DataFrame
    meta: dict
    summary: dict


# --------------------------------------------------------------------------- answers

_NUMBER = re.compile(r"-?(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:e[+-]?\d+)?$")
_ANSWER_LINE = re.compile(r"(?i)answer\s*\**\s*[:：]\s*\**\s*(.*)")


def normalize_answer(text):
    """The canonical form two answers are compared in.

    Surrounding whitespace and ``$`` signs are removed, letters lower-cased, runs of
    whitespace made one space, a trailing ``.`` dropped; a number (thousands commas allowed,
    ``1,234.50``) is written in its shortest exact decimal form (``1234.5``; ``3.0`` is
    ``3``; ``-0`` is ``0``).
    """
    s = " ".join(str(text).split()).strip().strip("$").strip().lower()
    s = s[:-1].rstrip() if s.endswith(".") else s
    if s and any(c.isdigit() for c in s) and _PLAIN_NUMBER.match(s):
        try:
            d = decimal.Decimal(s.replace(",", ""))
        except decimal.InvalidOperation:
            return s
        if d.is_finite():
            if d == d.to_integral_value():
                return str(int(d))
            return format(d.normalize(), "f")
    return s


def _after_thinking(text):
    """The text after the last ``</think>`` (the whole text when there is none)."""
    return text.rsplit("</think>", 1)[-1]


def _boxed(text):
    """Content of the last ``\\boxed{...}`` with balanced braces; None without one."""
    start = text.rfind("\\boxed{")
    while start >= 0:
        i = start + len("\\boxed{")
        depth = 1
        j = i
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        if depth == 0:
            return text[i:j - 1]
        start = text.rfind("\\boxed{", 0, start)
    return None


def extract_answer(text, how="exact"):
    """The answer in a sample's text, normalised (:func:`normalize_answer`).

    Only the text after the last ``</think>`` is read. ``how``:

    ``exact``
        that whole text;
    ``last-number``
        its last number (``-12``, ``1,234.5``, ``.5``);
    ``boxed``
        the content of its last ``\\boxed{...}`` (nested braces allowed);
    ``answer-line``
        what follows the last ``Answer:`` (any case, ``**Answer:**`` too) on its line.

    Returns ``""`` when the text has no such answer.
    """
    if how not in EXTRACTORS:
        raise ValueError(f"extract must be one of {', '.join(EXTRACTORS)}, got {how!r}")
    text = _after_thinking(str(text))
    if how == "exact":
        return normalize_answer(text)
    if how == "last-number":
        found = _NUMBER.findall(text)
        return normalize_answer(found[-1]) if found else ""
    if how == "boxed":
        found = _boxed(text)
        return "" if found is None else normalize_answer(found)
    found = _ANSWER_LINE.findall(text)
    return normalize_answer(found[-1].strip().strip("*")) if found else ""


# --------------------------------------------------------------------------- reading

def read_jsonl(path, *, max_bytes=_cli.MAX_INPUT_BYTES, flag="FILE", digest=None):
    """Yield ``(line number, object)`` for each non-blank line of a JSON Lines file.

    One-line ``ValueError`` for a file that is not a regular readable file (a FIFO, a
    directory), is larger than ``max_bytes`` (``None``: no limit), has no JSON line, or has a
    line that is not UTF-8, not JSON, nested too deeply or not a JSON object; the message
    names the line. ``digest`` (a ``hashlib`` object) is updated with the file's bytes.
    """
    path = _cli.regular_file(path, flag, max_bytes=max_bytes)
    where = f"{flag} {path}"
    seen = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if digest is not None:
                digest.update(raw)
            if n == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{where}: line {n} is not UTF-8 text") from None
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: line {n} is not JSON ({exc.msg} at column "
                                 f"{exc.colno})") from None
            except RecursionError:
                raise ValueError(f"{where}: line {n} is nested too deeply") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{where}: line {n} is not a JSON object (got a "
                                 f"{type(obj).__name__})")
            seen += 1
            yield n, obj
    if not seen:
        raise ValueError(f"{where} is empty (no JSON lines)")


def _field(obj, path):
    """``obj[path]``, else the dotted path into nested objects and lists, else _MISSING."""
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and re.fullmatch(r"-?\d+", part) \
                and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return _MISSING
    return cur


def _count(value, where, what):
    """A count of tokens: a whole number >= 0 (integral floats accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: {what} must be a whole number >= 0, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {what} is {'NaN' if math.isnan(value) else 'infinite'}; "
                         "it must be a whole number >= 0")
    if value < 0 or value != int(value) or value > _INT64_MAX:
        raise ValueError(f"{where}: {what} must be a whole number in [0, 2**63), got {value!r}")
    return int(value)


def _flag(value, where, what):
    """A yes/no value: true/false, 1/0 (1.0/0.0), "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"{where}: {what} is NaN; it must be true/false or 1/0")
        if value in (0, 1):
            return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"{where}: {what} must be true/false or 1/0, got {value!r}")


def _text(value, where, what):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: {what} must be a string, got {value!r}")
    return value


def _label(value, where, what):
    """A reference answer or id-like value as text (strings, integers, finite numbers)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {what} is {value!r}")
        return repr(value)
    raise ValueError(f"{where}: {what} must be a string or a number, got {value!r}")


class _Columns:
    """The samples read so far, one list per role (values, ``_MISSING`` where absent)."""

    ROLES = ("line", "key", "sub", "prompt", "reference", "difficulty", "text", "answer",
             "correct", "tokens", "thinking", "finished", "index", "seed", "lengths_from",
             "thinking_from", "filter")

    def __init__(self):
        for r in self.ROLES:
            setattr(self, r, [])

    def add(self, **values):
        for r in self.ROLES:
            getattr(self, r).append(values.get(r, _MISSING))

    def __len__(self):
        return len(self.line)


class _Reader:
    """Reads the lines of one layout into :class:`_Columns`, checking every field."""

    def __init__(self, fmt, fields, where, extract, metric, question_regex):
        self.fmt = fmt
        self.where = where
        self.extract = extract
        self.metric = metric
        self.regex = re.compile(question_regex) if question_regex else None
        defaults = DEFAULT_FIELDS[fmt]
        given = {k: v for k, v in dataclasses.asdict(fields).items() if v is not None}
        self.explicit = set(given)
        self.names = {**defaults, **given}
        self.cols = _Columns()
        self.unique = {}
        self.present = {}      # role -> first line holding it
        self.absent = {}       # role -> first line lacking it
        self.failed = 0
        self.models = set()
        self.lines = 0

    # -- line-level fields --
    def get(self, obj, role, n):
        name = self.names.get(role)
        if name is None:
            return _MISSING
        value = _field(obj, name)
        if value is _MISSING:
            self.absent.setdefault(role, n)
        else:
            self.present.setdefault(role, n)
        return value

    def key(self, obj, n):
        name = self.names["question"]
        value = self.get(obj, "question", n)
        if value is _MISSING or value is None:
            fields = ", ".join(map(str, list(obj)[:12])) or "none"
            raise ValueError(f"{self.where}: line {n} has no question id: no field {name!r} "
                             f"(--question-column; the line's fields: {fields})")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{self.where}: line {n}: the question id {name!r} must be a "
                             f"string or an integer, got {value!r}")
        if self.regex is not None:
            m = self.regex.search(str(value))
            if m is None:
                raise ValueError(f"{self.where}: line {n}: --question-regex does not match "
                                 f"the id {str(value)!r}")
            value = m.group("question") if "question" in self.regex.groupindex else (
                m.group(1) if self.regex.groups else m.group(0))
        return value

    def once(self, obj, n, scope=None):
        """The layout's request id must appear once (within ``scope``, e.g. a filter)."""
        name = UNIQUE_FIELD.get(self.fmt)
        if name is None:
            return
        value = _field(obj, name)
        if value is _MISSING or value is None:
            if name == self.names["question"]:
                return  # reported by key()
            return
        label = (scope, str(value))
        if label in self.unique:
            within = f" within filter {scope!r}" if scope is not None else ""
            raise ValueError(f"{self.where}: line {n}: duplicate {name} {value!r}{within} "
                             f"(first on line {self.unique[label]}); ids must be unique")
        self.unique[label] = n

    def common(self, obj, n):
        where = f"{self.where}: line {n}"
        ref = self.get(obj, "reference", n)
        diff = self.get(obj, "difficulty", n)
        prompt = self.get(obj, "prompt", n)
        if prompt is _MISSING:
            prompt = ""
        elif isinstance(prompt, (list, dict)):  # chat messages
            prompt = json.dumps(prompt, ensure_ascii=False)
        else:
            prompt = _text(prompt, where, f"the prompt {self.names['prompt']!r}")
        return dict(line=n, key=self.key(obj, n), prompt=prompt,
                    reference=_MISSING if ref is _MISSING else self._reference(ref, where),
                    difficulty=diff)

    def _reference(self, value, where):
        if value is None:
            raise ValueError(f"{where}: the reference answer {self.names['reference']!r} is "
                             "null")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        return _label(value, where, f"the reference answer {self.names['reference']!r}")

    # -- layouts --
    def read(self, lines):
        read = {"vllm": self._vllm, "openai": self._openai, "lm-eval": self._lm_eval,
                "generic": self._generic}[self.fmt]
        for n, obj in lines:
            self.lines += 1
            read(obj, n)
        return self.cols

    def _vllm(self, obj, n):
        where = f"{self.where}: line {n}"
        self.once(obj, n)
        base = self.common(obj, n)
        outputs = obj.get("outputs", _MISSING)
        if not isinstance(outputs, list) or not outputs:
            raise ValueError(f"{where}: 'outputs' must be a non-empty list of completions, got "
                             f"{'nothing' if outputs is _MISSING else repr(outputs)[:60]}")
        order = []
        for j, out in enumerate(outputs):
            if not isinstance(out, dict):
                raise ValueError(f"{where}: outputs[{j}] is not an object")
            idx = out.get("index", j)
            if isinstance(idx, bool) or not isinstance(idx, int):
                raise ValueError(f"{where}: outputs[{j}].index must be an integer, got {idx!r}")
            order.append((idx, j, out))
        for rank, (_, j, out) in enumerate(sorted(order, key=lambda t: (t[0], t[1]))):
            if "text" not in out:
                raise ValueError(f"{where}: outputs[{j}] has no 'text'")
            text = _text(out["text"], where, f"outputs[{j}].text")
            ids = out.get("token_ids")
            tokens, source = _MISSING, _MISSING
            if ids is not None:
                if not isinstance(ids, list):
                    raise ValueError(f"{where}: outputs[{j}].token_ids must be a list")
                tokens, source = len(ids), "len(token_ids)"
            reason = out.get("finish_reason")
            self.cols.add(**base, sub=rank, text=text, tokens=tokens, lengths_from=source,
                          finished=reason not in ("length", "abort"))

    def _openai(self, obj, n):
        where = f"{self.where}: line {n}"
        self.once(obj, n)
        base = self.common(obj, n)
        resp = obj.get("response")
        if obj.get("error") is not None or not isinstance(resp, dict) \
                or resp.get("status_code", 200) != 200:
            self.failed += 1
            return
        body = resp.get("body")
        if not isinstance(body, dict):
            raise ValueError(f"{where}: response.body must be an object")
        if isinstance(body.get("model"), str):
            self.models.add(body["model"])
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"{where}: response.body.choices must be a non-empty list")
        texts, reasons = [], []
        for j, ch in enumerate(choices):
            if not isinstance(ch, dict):
                raise ValueError(f"{where}: choices[{j}] is not an object")
            msg = ch.get("message")
            raw = msg.get("content") if isinstance(msg, dict) else ch.get("text")
            texts.append(_text(raw, where, f"choices[{j}] content"))
            reasons.append(ch.get("finish_reason"))
        usage = body.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        tokens = thinking = [_MISSING] * len(choices)
        lengths_from = thinking_from = _MISSING
        if usage.get("completion_tokens") is not None:
            total = _count(usage["completion_tokens"], where, "usage.completion_tokens")
            weights = [len(t) + 1 for t in texts]
            tokens = _apportion(total, weights)
            lengths_from = "usage.completion_tokens" + (
                "" if len(choices) == 1 else ", shared by text length")
            details = usage.get("completion_tokens_details")
            r = details.get("reasoning_tokens") if isinstance(details, dict) else None
            if r is not None:
                r = _count(r, where, "usage.completion_tokens_details.reasoning_tokens")
                if r > total:
                    raise ValueError(f"{where}: reasoning_tokens {r} exceed completion_tokens "
                                     f"{total}")
                thinking = [min(a, b) for a, b in zip(_apportion(r, weights), tokens)]
                thinking_from = "usage reasoning_tokens"
        order = sorted(range(len(choices)), key=lambda j: (
            choices[j].get("index", j) if isinstance(choices[j].get("index", j), int) else j, j))
        for rank, j in enumerate(order):
            self.cols.add(**base, sub=rank, text=texts[j], tokens=tokens[j], thinking=thinking[j],
                          lengths_from=lengths_from, thinking_from=thinking_from,
                          finished=reasons[j] not in ("length", "content_filter"))

    def _lm_eval(self, obj, n):
        where = f"{self.where}: line {n}"
        filt = obj.get("filter", _MISSING)
        filt = None if filt is _MISSING else str(filt)
        self.once(obj, n, scope=filt)
        base = self.common(obj, n)
        if "prompt" not in self.explicit:
            base["prompt"] = _lm_eval_prompt(obj.get("arguments"))
        resps, filtered = obj.get("resps"), obj.get("filtered_resps")
        if not isinstance(resps, list) or not isinstance(filtered, list):
            raise ValueError(f"{where}: 'resps' and 'filtered_resps' must be lists")
        generated = (len(resps) == 1 and isinstance(resps[0], list) and resps[0]
                     and all(isinstance(r, str) for r in resps[0]))
        if not generated:  # loglikelihood requests (multiple choice): one scored "sample"
            answer = _MISSING
            pairs = [f[0] if isinstance(f, list) and f else f for f in filtered]
            if pairs and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                             for v in pairs):
                answer = str(int(np.argmax(pairs)))
            self.cols.add(**base, sub=0, answer=answer, correct=self._metric(obj, where, 1),
                          filter=filt, finished=True)
            return
        texts = resps[0]
        k = len(texts)
        per = filtered[0] if len(filtered) == 1 else _MISSING
        if isinstance(per, list) and len(per) == k and all(isinstance(a, str) for a in per):
            answers = list(per)
        elif isinstance(per, str) and k == 1:
            answers = [per]
        else:
            answers = [_MISSING] * k
            if self.extract is None:
                raise ValueError(f"{where}: doc has {k} repeats but no answer for each in "
                                 "filtered_resps; pass --extract "
                                 f"{'|'.join(EXTRACTORS)} to read them from resps")
        correct = self._metric(obj, where, k)
        for j in range(k):
            self.cols.add(**base, sub=j, text=texts[j], answer=answers[j], correct=correct,
                          filter=filt, finished=True)

    def _metric(self, obj, where, k):
        """A document's correctness from its metric (one sample only), else _MISSING."""
        if k != 1:
            if self.metric is not None:
                raise ValueError(f"{where}: --metric {self.metric!r} is one value for the "
                                 f"document's {k} repeats; drop --metric to compare each "
                                 "repeat's answer with the target")
            return _MISSING
        names = [self.metric] if self.metric is not None else [
            m for m in LM_EVAL_METRICS if m in obj]
        if not names:
            return _MISSING
        if names[0] not in obj:
            raise ValueError(f"{where}: no metric {names[0]!r} (metrics: "
                             f"{', '.join(map(str, obj.get('metrics', []))) or 'none listed'})")
        return _flag(obj[names[0]], where, f"metric {names[0]!r}")

    def _generic(self, obj, n):
        where = f"{self.where}: line {n}"
        base = self.common(obj, n)
        vals = {r: self.get(obj, r, n) for r in ("sample", "answer", "correct", "tokens",
                                                  "thinking_tokens", "finished",
                                                  "sample_index", "seed")}
        name = self.names
        text = _MISSING if vals["sample"] is _MISSING else _text(
            vals["sample"], where, f"the text {name['sample']!r}")
        answer = _MISSING if vals["answer"] is _MISSING else normalize_answer(_label(
            vals["answer"], where, f"the answer {name['answer']!r}"))
        correct = _MISSING if vals["correct"] is _MISSING else _flag(
            vals["correct"], where, f"the correctness {name['correct']!r}")
        tokens = _MISSING if vals["tokens"] is _MISSING else _count(
            vals["tokens"], where, f"the token count {name['tokens']!r}")
        thinking = _MISSING if vals["thinking_tokens"] is _MISSING else _count(
            vals["thinking_tokens"], where, f"the thinking token count "
                                            f"{name['thinking_tokens']!r}")
        finished = True if vals["finished"] is _MISSING else _flag(
            vals["finished"], where, f"{name['finished']!r}")
        index = _MISSING if vals["sample_index"] is _MISSING else _count(
            vals["sample_index"], where, f"the sample index {name['sample_index']!r}")
        seed = _MISSING if vals["seed"] is _MISSING else _count(
            vals["seed"], where, f"the seed {name['seed']!r}")
        self.cols.add(**base, sub=0, text=text, answer=answer, correct=correct, tokens=tokens,
                      thinking=thinking, finished=finished, index=index, seed=seed,
                      lengths_from="the file's counts" if tokens is not _MISSING else _MISSING,
                      thinking_from="the file's counts" if thinking is not _MISSING else _MISSING)

    def check_fields(self):
        """Named fields that no line has, and fields that some lines have and others lack."""
        for role in sorted(self.explicit):
            if role not in self.present and role in self.absent:
                flag = "--" + role.replace("_", "-") + "-column"
                raise ValueError(f"{self.where}: {flag} {self.names[role]!r} is not a field of "
                                 "any line")
        for role, first in self.present.items():
            if role in self.absent:
                raise ValueError(f"{self.where}: line {self.absent[role]} has no field "
                                 f"{self.names[role]!r} (line {first} has it)")


def _lm_eval_prompt(arguments):
    """The prompt of an lm-eval request: ``arguments[0][0]`` or ``gen_args_0.arg_0``."""
    first = _MISSING
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], list) \
            and arguments[0]:
        first = arguments[0][0]
    elif isinstance(arguments, dict):
        first = _field(arguments, "gen_args_0.arg_0")
    return first if isinstance(first, str) else ""


def _apportion(total, weights):
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    short = int(total - out.sum())
    if short:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return [int(x) for x in out]


# --------------------------------------------------------------------------- the table

def _references(path, where, max_bytes):
    """``{id: (reference or _MISSING, difficulty or _MISSING)}`` from a CSV/Parquet table."""
    from sim._tables import id_column, read_table

    df = read_table(path, "--references", max_bytes=max_bytes)
    ids = id_column(df, "id", "--references", path)
    have = [c for c in ("reference", "difficulty") if c in df.columns]
    if not have:
        raise ValueError(f"--references {path} needs a column 'reference' or 'difficulty' "
                         f"(columns: {', '.join(df.columns)})")
    out = {}
    for i, key in enumerate(ids):
        vals = []
        for c in ("reference", "difficulty"):
            if c not in df.columns:
                vals.append(_MISSING)
                continue
            v = df[c].iloc[i]
            if pd.isna(v):
                raise ValueError(f"--references {path}: column {c!r} has a missing value at "
                                 f"row {i + 1}")
            v = v.item() if hasattr(v, "item") else v
            vals.append(_label(v, f"--references {path}: row {i + 1}", c)
                        if c == "reference" else v)
        out[_id_text(key)] = tuple(vals)
    return out


def _id_text(value):
    """Ids compare as text; integral floats (17.0 from a CSV) as integers."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _difficulty_codes(values, where):
    """Integers >= 0 kept; any other values coded 0, 1, ... by first appearance."""
    def as_int(v):
        if isinstance(v, bool):
            return None
        if isinstance(v, int) and 0 <= v <= _INT64_MAX:
            return v
        if isinstance(v, float) and v.is_integer() and 0 <= v <= _INT64_MAX:
            return int(v)
        return None

    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            raise ValueError(f"{where}: question {i} has the difficulty {v!r}")
    ints = [as_int(v) for v in values]
    if all(x is not None for x in ints):
        return np.asarray(ints, dtype=np.int64), None
    labels = {}
    codes = [labels.setdefault(json.dumps(v) if not isinstance(v, str) else v, len(labels))
             for v in values]
    return np.asarray(codes, dtype=np.int64), labels


def import_jsonl(path, fmt, *, fields=None, question_regex=None, references=None,
                 extract=None, samples=None, metric=None, filter_name=None,
                 max_bytes=_cli.MAX_INPUT_BYTES):
    """Read a JSON Lines file of generations into a run table; nothing is written.

    Parameters
    ----------
    path : str or Path
        The JSON Lines file.
    fmt : str
        One of :data:`FORMATS`.
    fields : Fields or None
        Field names by role; ``None`` fields take the layout's defaults.
    question_regex : str or None
        A regular expression searched in each question id; its group ``question`` (or its
        first group, or the whole match) is the question (``q17-s3`` -> ``q17`` with
        ``(?P<question>.+)-s\\d+$``).
    references : str or None
        A CSV or Parquet table with a column ``id`` (the question ids, after
        ``question_regex``) and a column ``reference`` (the correct answers) and/or
        ``difficulty``.
    extract : str or None
        One of :data:`EXTRACTORS`: read every sample's answer from its text. ``None`` keeps
        the layout's own answers (``generic``: the answer field; ``lm-eval``: the filtered
        responses) or, to compare free text with a reference, asks for one.
    samples : int or None
        Keep the first ``samples`` samples of each question and drop the questions with
        fewer. Without it every question must have the same number.
    metric : str or None
        ``lm-eval``: the metric read as correctness of a one-sample document (default the
        first of :data:`LM_EVAL_METRICS` present).
    filter_name : str or None
        ``lm-eval``: the filter whose lines are read (needed when the file has several).
    max_bytes : int or None
        Largest input file read.

    Returns
    -------
    Imported

    Raises
    ------
    ValueError
        One line naming the file, the line and the problem.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if extract is not None and extract not in EXTRACTORS:
        raise ValueError(f"extract must be one of {', '.join(EXTRACTORS)}, got {extract!r}")
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int)
                                or samples < 1):
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    fields = fields or Fields()
    allowed = set(DEFAULT_FIELDS[fmt])
    extra = [k for k, v in dataclasses.asdict(fields).items() if v is not None
             and k not in allowed]
    if extra:
        raise ValueError(f"--{extra[0].replace('_', '-')}-column does not apply to --format "
                         f"{fmt}")
    if fmt != "lm-eval" and (metric is not None or filter_name is not None):
        raise ValueError(f"--{'metric' if metric is not None else 'filter'} applies to "
                         "--format lm-eval only")
    if references is not None and fields.reference is not None:
        raise ValueError("give the reference answers by --reference-column or by --references, "
                         "not both")
    if question_regex is not None:
        try:
            re.compile(question_regex)
        except re.error as exc:
            raise ValueError(f"question_regex {question_regex!r} is not a regular expression "
                             f"({exc})") from None
    where = f"FILE {os.fspath(path)}"
    digest = hashlib.sha256()
    refs = None if references is None else _references(references, where, max_bytes)
    reader = _Reader(fmt, fields, where, extract, metric, question_regex)
    cols = reader.read(read_jsonl(path, max_bytes=max_bytes, digest=digest))
    reader.check_fields()
    cols = _select_filter(cols, filter_name, where) if fmt == "lm-eval" else cols
    if not len(cols):
        raise ValueError(f"{where}: no sample to import ({reader.failed} failed requests)")
    table, meta, summary = _build(cols, reader, refs, references, extract, samples, where)
    summary.update(lines=reader.lines, failed_requests=reader.failed)
    meta.update(source=dict(format=fmt, file=os.fspath(path), sha256=digest.hexdigest(),
                            lines=reader.lines, failed_requests=reader.failed,
                            models=sorted(reader.models), filter=filter_name),
                imported=dict(extract=extract, samples=samples,
                              dropped_questions=summary["dropped_questions"],
                              correctness=summary["correctness"], lengths=summary["lengths"],
                              thinking=summary["thinking"], answers=summary["answers"]))
    return Imported(table, meta, summary)


def _select_filter(cols, filter_name, where):
    """Keep the lines of one lm-eval filter."""
    filters = list(dict.fromkeys(f for f in cols.filter if f is not _MISSING and f is not None))
    if filter_name is None:
        if len(filters) > 1:
            raise ValueError(f"{where}: the file has the filters {', '.join(filters)}; choose "
                             "one with --filter")
        return cols
    if filter_name not in filters:
        raise ValueError(f"{where}: no line has filter {filter_name!r} (filters: "
                         f"{', '.join(filters) or 'none'})")
    keep = [i for i, f in enumerate(cols.filter) if f == filter_name]
    out = _Columns()
    for r in _Columns.ROLES:
        src = getattr(cols, r)
        setattr(out, r, [src[i] for i in keep])
    return out


def _build(cols, reader, refs, references, extract, samples, where):
    """The run table, meta.json and the summary from the columns read."""
    n = len(cols)
    keys = [str(k) for k in cols.key]
    first = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    qid_of = {k: q for q, k in enumerate(first)}
    qid = np.fromiter((qid_of[k] for k in keys), dtype=np.int64, count=n)
    nq = len(first)

    # references and difficulty per question, from the file or the lines
    reference = list(cols.reference)
    difficulty = list(cols.difficulty)
    if refs is not None:
        for i, k in enumerate(keys):
            if k not in refs:
                raise ValueError(f"{where}: question {k!r} (line {cols.line[i]}) has no row in "
                                 f"--references {references}")
            r, d = refs[k]
            if r is not _MISSING:
                reference[i] = r
            if d is not _MISSING:
                difficulty[i] = d
    q_ref = _per_question(reference, qid, nq, cols.line, where, "reference answers")
    q_diff = _per_question(difficulty, qid, nq, cols.line, where, "difficulties")
    has_ref = [r is not _MISSING for r in q_ref]
    if any(has_ref) and not all(has_ref):
        q = has_ref.index(False)
        raise ValueError(f"{where}: question {list(first)[q]!r} has no reference answer")
    if any(d is not _MISSING for d in q_diff):
        missing = [q for q, d in enumerate(q_diff) if d is _MISSING]
        if missing:
            raise ValueError(f"{where}: question {list(first)[missing[0]]!r} has no difficulty")
        diff_codes, labels = _difficulty_codes(q_diff, where)
    else:
        diff_codes, labels = np.zeros(nq, dtype=np.int64), None

    # answers and correctness
    answer, correct, target = [], [], []
    how = set()
    for i in range(n):
        text = cols.text[i]
        ans = cols.answer[i]
        if extract is not None:
            if text is _MISSING:
                raise ValueError(f"{where}: line {cols.line[i]}: --extract needs the sample's "
                                 "text, and this sample has none")
            ans = extract_answer(text, extract)
        elif ans is not _MISSING:
            ans = normalize_answer(ans)
        ref = q_ref[qid[i]]
        ref = _MISSING if ref is _MISSING else normalize_answer(ref)
        ok = cols.correct[i]
        if ok is _MISSING:
            if ref is _MISSING:
                raise ValueError(f"{where}: line {cols.line[i]}: no correctness: give a "
                                 "correctness field or the reference answers (--reference-column "
                                 "FIELD or --references FILE)")
            if ans is _MISSING:
                if text is _MISSING:
                    raise ValueError(f"{where}: line {cols.line[i]}: the sample has neither an "
                                     "answer nor a text to compare with the reference")
                raise ValueError(f"{where}: comparing free text with the reference needs an "
                                 f"extractor: pass --extract {'|'.join(EXTRACTORS)}")
            ok = ans == ref
            how.add("compared")
        else:
            how.add("field")
        if ans is _MISSING and text is not _MISSING:
            ans = extract_answer(text, "exact")
        tgt = UNKNOWN_TARGET if ref is _MISSING else ref
        if ans is _MISSING:
            ans = tgt if ok else UNKNOWN_WRONG
        answer.append(ans)
        correct.append(bool(ok))
        target.append(tgt)

    # lengths
    total, think, length_src, think_src = [], [], set(), set()
    for i in range(n):
        t, th = cols.tokens[i], cols.thinking[i]
        if t is _MISSING and th is not _MISSING:
            t, src = th, "the thinking counts"
        elif t is not _MISSING:
            src = cols.lengths_from[i]
        elif cols.text[i] is not _MISSING:
            t, src = len(cols.text[i].split()), "words of the text"
        else:
            t, src = 0, NO_LENGTHS
        if th is _MISSING:
            th, tsrc = t, SAME_AS_TOTAL
        else:
            tsrc = cols.thinking_from[i]
        if th > t:
            raise ValueError(f"{where}: line {cols.line[i]}: thinking tokens {th} exceed the "
                             f"generated tokens {t}")
        total.append(t)
        think.append(th)
        length_src.add(src)
        think_src.add(tsrc)

    # sample order within each question
    has_index = [x is not _MISSING for x in cols.index]
    if any(has_index):
        idx = np.asarray(cols.index, dtype=np.int64)
        pairs = pd.Series(list(zip(qid.tolist(), idx.tolist())))
        dup = pairs.duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise ValueError(f"{where}: line {cols.line[i]}: duplicate sample "
                             f"{int(idx[i])} of question {keys[i]!r}")
        order = np.lexsort((idx, qid))
    else:
        order = np.lexsort((np.asarray(cols.sub), np.asarray(cols.line), qid))
    counts = np.bincount(qid, minlength=nq)
    dropped = 0
    if samples is None:
        if counts.min() != counts.max():
            few = int((counts < counts.max()).sum())
            raise ValueError(f"{where}: questions have between {counts.min()} and "
                             f"{counts.max()} samples ({few} have fewer than {counts.max()}); "
                             "the phase and knapsack checks need the same number for every "
                             "question: pass --samples N to keep the first N of each")
        per = int(counts.max())
    else:
        per = samples
        keep_q = counts >= per
        dropped = int((~keep_q).sum())
        if not keep_q.any():
            raise ValueError(f"{where}: no question has {per} samples (the most is "
                             f"{counts.max()}); lower --samples")
    rank = np.empty(n, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(n) - start[qid[order]]
    keep = (rank < per) & (counts[qid] >= per)
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((rank[rows], qid[rows]))]
    new_q = np.cumsum(counts >= per) - 1  # renumber the kept questions 0..
    kept_keys = [k for q, k in enumerate(first) if counts[q] >= per]
    orig = {k: cols.key[first[k]] for k in first}
    seeds = [0 if cols.seed[i] is _MISSING else cols.seed[i] for i in rows]
    table = pd.DataFrame({
        "question_id": new_q[qid[rows]],
        "difficulty": diff_codes[qid[rows]],
        "sample": rank[rows],
        "seed": np.asarray(seeds, dtype=np.int64),
        "prompt": [cols.prompt[i] for i in rows],
        "target": [target[i] for i in rows],
        "answer": [answer[i] for i in rows],
        "correct": np.asarray(correct, dtype=bool)[rows],
        "thinking_length": np.asarray(think, dtype=np.int64)[rows],
        "total_length": np.asarray(total, dtype=np.int64)[rows],
        "finished": np.asarray(cols.finished, dtype=bool)[rows],
    })
    for c, dt in records.COLUMNS.items():
        table[c] = table[c].astype(dt)
    answers = any(a not in (UNKNOWN_WRONG,) for a in answer) and not all(
        t == UNKNOWN_TARGET for t in target)
    meta = dict(model=None, checkpoint_sha256=None, decoding={},
                question_ids=[orig[k] for k in kept_keys])
    if labels is not None:
        meta["difficulty_labels"] = labels
    summary = dict(questions=len(kept_keys), samples=per, rows=int(len(table)),
                   dropped_questions=dropped, accuracy=float(table["correct"].mean()),
                   correctness=" and ".join(sorted(how)), lengths=", ".join(sorted(length_src)),
                   thinking=", ".join(sorted(think_src)), answers=bool(answers),
                   finished=float(table["finished"].mean()))
    return table, meta, summary


def _per_question(values, qid, nq, lines, where, what):
    """One value per question; the samples of a question must agree."""
    out = [_MISSING] * nq
    seen = [None] * nq
    for i, v in enumerate(values):
        if v is _MISSING:
            continue
        q = int(qid[i])
        if out[q] is _MISSING:
            out[q], seen[q] = v, lines[i]
        elif out[q] != v:
            raise ValueError(f"{where}: line {lines[i]} gives question {q} other {what} than "
                             f"line {seen[q]} ({out[q]!r} and {v!r})")
    return out


# --------------------------------------------------------------------------- writing

def _check_out(out):
    """Check before reading that ``out`` can become the run directory; return it.

    ``out`` may be new (its missing parents are created at the end), an empty directory or
    an earlier run (replaced); a file or a directory holding something else is refused.
    """
    out = os.fspath(out)
    if os.path.isdir(out):
        if os.listdir(out) and not os.path.isfile(os.path.join(out, "meta.json")):
            raise ValueError(f"--out {out} is a directory that holds files but no run; give a "
                             "new or empty directory, or an earlier run to replace")
        _cli.writable_output(out, "--out", directory=True)
        return out
    if os.path.lexists(out):
        raise ValueError(f"--out {out} exists and is not a directory")
    base = os.path.dirname(os.path.abspath(out))
    while not os.path.isdir(base):
        if os.path.lexists(base):
            raise ValueError(f"--out {out}: {base} is not a directory")
        base = os.path.dirname(base)
    _cli.writable_output(os.path.join(base, ".budgetlab-import-probe"), "--out")
    return out


def write_imported(out, imported):
    """Write ``imported`` as the run directory ``out``, whole or not at all; return its path.

    The run is written by :func:`validation.records.write_run` into a temporary directory
    beside ``out`` and renamed; an earlier run at ``out`` is replaced, an empty directory
    taken over.
    """
    out = Path(_check_out(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_dir(out.parent, f".{out.name}.import-")
    old = None
    try:
        records.write_run(tmp, imported.table, imported.meta)
        if out.is_dir():
            old = _new_dir(out.parent, f".{out.name}.old-")
            os.rmdir(old)
            os.rename(out, old)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def _new_dir(parent, prefix):
    """A new, empty directory ``parent/prefix<random>`` with the usual permissions."""
    for _ in range(100):
        path = Path(parent) / f"{prefix}{secrets.token_hex(6)}"
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise OSError(f"cannot create a temporary directory in {parent}")


# --------------------------------------------------------------------------- command line

#: The mapping options ``--<role>-column``: role -> help text.
_MAPPING = {
    "question": "the question id (default: request_id, custom_id, doc_id or question_id)",
    "prompt": "the prompt text (default: prompt; lm-eval: the request's arguments)",
    "reference": "the reference answer of the question (default: lm-eval target, generic "
                 "target)",
    "difficulty": "a difficulty level per question: integers >= 0, or labels coded 0, 1, ... "
                  "(default: generic difficulty)",
    "sample": "generic: the sample's text (default text)",
    "answer": "generic: the sample's extracted answer (default answer)",
    "correct": "generic: the sample's correctness, true/false or 1/0 (default correct)",
    "tokens": "generic: generated tokens of the sample (default total_length)",
    "thinking_tokens": "generic: thinking tokens of the sample (default thinking_length)",
    "finished": "generic: whether the sample ended within its cap (default finished)",
    "sample_index": "generic: the sample's order within its question (default sample)",
    "seed": "generic: the seed of the sample (default seed)",
}


def build_parser():
    """The parser of ``python -m validation.import``."""
    p = _cli.ArgumentParser(
        prog=PROG,
        description="Turn a JSON Lines file of generations (vLLM offline output, OpenAI-style "
                    "batch output, lm-evaluation-harness sample logs, or any JSONL named by "
                    "the mapping options) into a run directory that python -m validation.check "
                    "reads (docs/records.md).")
    _cli.add_version(p)
    p.add_argument("file", metavar="FILE.jsonl", help="the JSON Lines file of generations")
    p.add_argument("--format", required=True, choices=FORMATS, help="the file's layout")
    p.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="the run directory to write (new, empty, or an earlier run to replace)")
    p.add_argument("--samples", type=_cli.integer, metavar="N",
                   help="keep the first N samples of each question and drop the questions with "
                        "fewer (the checks need the same number for every question)")
    p.add_argument("--extract", choices=EXTRACTORS,
                   help="read each sample's answer from its text: the whole text after "
                        "</think>, its last number, its last \\boxed{}, or its 'Answer:' line "
                        "(all normalised before comparison)")
    p.add_argument("--references", metavar="FILE",
                   help="CSV or Parquet with columns id and reference (and/or difficulty) per "
                        "question")
    p.add_argument("--question-regex", metavar="REGEX",
                   help="the question is the group 'question' (or the first group) of this "
                        "expression searched in the id, e.g. '(?P<question>.+)-s\\d+$'")
    g = p.add_argument_group("mapping options (field names; dotted paths reach nested fields)")
    for role, text in _MAPPING.items():
        g.add_argument("--" + role.replace("_", "-") + "-column", dest=role + "_column",
                       metavar="FIELD",
                       help=text)
    le = p.add_argument_group("lm-eval")
    le.add_argument("--metric", help="the metric read as correctness of one-sample documents "
                                     f"(default: the first of {', '.join(LM_EVAL_METRICS)})")
    le.add_argument("--filter", metavar="NAME",
                    help="the filter whose lines are read (when the log has several)")
    _cli.add_guard_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    return p


@_cli.command(PROG)
def main(argv=None):
    """Run ``python -m validation.import``; 0 on success, 2 on bad input."""
    p = build_parser()
    args = p.parse_args(argv)
    given = _cli.explicit(p, argv)
    generic_only = [r for r in _MAPPING if r not in DEFAULT_FIELDS["vllm"]]
    if args.format != "generic":
        _cli.refuse(given, f"--format {args.format}", *(r + "_column" for r in generic_only))
    if args.format != "lm-eval":
        _cli.refuse(given, f"--format {args.format}", "metric", "filter")
    if args.samples is not None and args.samples < 1:
        raise ValueError(f"--samples must be an integer >= 1, got {args.samples}")
    out = _check_out(args.out)
    max_bytes = None if args.yes else _cli.MAX_INPUT_BYTES
    path = _cli.regular_file(args.file, "FILE", max_bytes=max_bytes)
    from sim import guard

    guard.check("FILE", memory=MEMORY_PER_BYTE * os.path.getsize(path), allow=args.yes,
                hint="split the file or pass --yes to read it anyway")
    fields = Fields(**{r: getattr(args, r + "_column") for r in _MAPPING})
    imported = import_jsonl(path, args.format, fields=fields,
                            question_regex=args.question_regex, references=args.references,
                            extract=args.extract, samples=args.samples, metric=args.metric,
                            filter_name=args.filter, max_bytes=max_bytes)
    written = write_imported(out, imported)
    s = imported.summary
    fit, short = record_checks(imported)
    nxt = [f"python -m validation.check {written} --only {' '.join(fit)}"] if fit else []
    t = imported.table
    if NO_LENGTHS not in s["lengths"] and t["total_length"].min() >= 1:
        col = "thinking_length" if s["thinking"] != SAME_AS_TOTAL \
            and t["thinking_length"].min() >= 1 else "total_length"
        by = " --by difficulty" if t["difficulty"].nunique() > 1 else ""
        nxt.append(f"python -m sim.gamma --fit {written / 'samples.parquet'} --length-column "
                   f"{col}{by}")
    if args.json:
        params = dict(file=args.file, format=args.format, out=str(written), samples=args.samples,
                      extract=args.extract, references=args.references,
                      question_regex=args.question_regex, metric=args.metric,
                      filter=args.filter, **{r + "_column": getattr(args, r + "_column")
                                             for r in _MAPPING})
        print(json.dumps(_cli.envelope(params, run=str(written), **s, checks=fit,
                                       checks_short=short, next=nxt)))
        return 0
    print(f"budgetlab import  {args.file} (--format {args.format}): {s['lines']} lines")
    if s["failed_requests"]:
        print(f"  left out {s['failed_requests']} failed requests (error or status not 200)")
    drop = (f"; dropped {s['dropped_questions']} questions with fewer than {s['samples']} "
            "samples" if args.samples is not None else "")
    print(f"  {s['questions']} questions x {s['samples']} sample{'s' * (s['samples'] != 1)} = "
          f"{s['rows']} rows{drop}")
    print(f"  correctness: {_say_correctness(s['correctness'], args.extract)}; accuracy "
          f"{s['accuracy']:.4f}; finished {s['finished']:.4f}")
    print(f"  lengths: {s['lengths']}; thinking length: {s['thinking']}")
    if not s["answers"]:
        print("  answers unknown: every wrong answer of a question is one answer "
              f"({UNKNOWN_WRONG!r}) for the search check")
    print(f"  record-only checks this run can feed: {', '.join(fit) or 'none'}"
          + (f" ({'; '.join(f'{c} needs {w}' for c, w in short.items())})" if short else ""))
    print(f"wrote {written} (run record schema {records.SCHEMA_VERSION})")
    if nxt:
        print("next: " + "\n      ".join(nxt))
    return 0


def record_checks(imported):
    """The record-only checks an imported run can feed, and what the others lack.

    Returns ``(names, {name: what it needs})`` from :data:`RECORD_CHECKS`; the search check
    also needs the samples' answers.
    """
    s = imported.summary
    fit, short = [], {}
    for name, (samples, questions) in RECORD_CHECKS.items():
        if s["samples"] < samples:
            short[name] = f">= {samples} samples per question"
        elif s["questions"] < questions:
            short[name] = f">= {questions} questions"
        elif name == "search" and not s["answers"]:
            short[name] = "the samples' answers"
        else:
            fit.append(name)
    return fit, short


def _say_correctness(how, extract):
    if how == "field":
        return "from the file"
    via = f"answers extracted by {extract}" if extract else "the file's answers"
    text = f"{via} compared with the reference"
    return text if how == "compared" else text + " where the file gives none"


if __name__ == "__main__":
    sys.exit(main())
