"""The project's synthetic reasoning task: chained addition and subtraction, reduced step by step.

A question is a chain of ``difficulty`` operations on one-digit numbers, e.g. ``7+5-3+8=``. The
thinking trace rewrites the chain one step at a time, always combining the two leftmost numbers,
one line per step, until one number is left; the answer follows ``</think>``::

    <bos>7+5-3+8=<think>12-3+8
    9+8
    17
    </think>17<eos>

The trace has ``difficulty`` lines, each one shorter than the last, so its length grows roughly as
``difficulty**2`` and also depends on how many digits the intermediate results have: the length
depends on the input. Lines are separated by ``"\\n"``, so newline-gated guidance sees line starts.
The difficulty knob is the number of operations, 1 to :data:`MAX_DIFFICULTY`.

The tokenizer is character level with special tokens ``<pad> <bos> <eos> <think> </think>``.
A prompt ends with ``<think>``: the model writes the trace, ``</think>``, the answer and ``<eos>``.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from theory._params import check_int

__all__ = [
    "MAX_DIFFICULTY", "SPECIALS", "CHARS", "VOCAB", "PAD", "BOS", "EOS", "THINK", "END_THINK",
    "Question", "make_questions", "solve", "parse_difficulty", "encode", "decode",
    "prompt_tokens", "target_tokens", "parse_completion", "check_answer",
]

MAX_DIFFICULTY = 8
SPECIALS = ("<pad>", "<bos>", "<eos>", "<think>", "</think>")
CHARS = "0123456789+-=\n"
VOCAB = SPECIALS + tuple(CHARS)
PAD, BOS, EOS, THINK, END_THINK = range(5)
_INDEX = {c: i for i, c in enumerate(VOCAB)}


@dataclasses.dataclass(frozen=True)
class Question:
    """One question of the task.

    Attributes
    ----------
    id : int
        Index of the question in its set.
    difficulty : int
        Number of operations.
    text : str
        The question, e.g. ``"7+5-3+8="``.
    trace : str
        The reference thinking trace (lines ending in ``"\\n"``).
    answer : int
        The correct final value.
    """

    id: int
    difficulty: int
    text: str
    trace: str
    answer: int


def solve(numbers, ops):
    """Return (trace, answer) for the chain ``numbers[0] ops[0] numbers[1] ...``.

    Each line of the trace is the chain after combining its two leftmost numbers.
    """
    values = [int(v) for v in numbers]
    ops = list(ops)
    lines = []
    while ops:
        a, b, op = values[0], values[1], ops[0]
        values = [a + b if op == "+" else a - b] + values[2:]
        ops = ops[1:]
        line = str(values[0]) + "".join(o + str(v) for o, v in zip(ops, values[1:]))
        lines.append(line + "\n")
    return "".join(lines), values[0]


def parse_difficulty(value, top=MAX_DIFFICULTY):
    """Return (lo, hi) from an int ``d``, a pair, or a string ``"d"`` / ``"lo:hi"``, in [1, top]."""
    if isinstance(value, str):
        parts = value.split(":")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"difficulty must be an integer or lo:hi, got {value!r}") from None
        if len(nums) not in (1, 2):
            raise ValueError(f"difficulty must be an integer or lo:hi, got {value!r}")
        value = nums[0] if len(nums) == 1 else tuple(nums)
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"difficulty must be an integer or a pair (lo, hi), got {value!r}")
        lo = check_int("difficulty", value[0], 1, top)
        hi = check_int("difficulty", value[1], lo, top)
        return lo, hi
    d = check_int("difficulty", value, 1, top)
    return d, d


def make_questions(n, difficulty=(1, 6), seed=0):
    """Draw ``n`` questions; difficulties cycle evenly through the range.

    Parameters
    ----------
    n : int
        Number of questions, >= 1.
    difficulty : int, pair or str
        One difficulty or an inclusive range (``(1, 6)`` or ``"1:6"``).
    seed : int
        Seed of the draw; the same seed gives the same questions.

    Returns
    -------
    list of Question
        Question ``i`` has difficulty ``lo + i % (hi - lo + 1)``.
    """
    n = check_int("n", n, 1)
    seed = check_int("seed", seed, 0)
    lo, hi = parse_difficulty(difficulty)
    gen = np.random.default_rng(np.random.SeedSequence([seed, 0x7A5C]))
    out = []
    for i in range(n):
        d = lo + i % (hi - lo + 1)
        numbers = gen.integers(0, 10, size=d + 1)
        ops = gen.choice(["+", "-"], size=d)
        text = str(numbers[0]) + "".join(o + str(v) for o, v in zip(ops, numbers[1:])) + "="
        trace, answer = solve(numbers, ops)
        out.append(Question(i, d, text, trace, answer))
    return out


def encode(text):
    """Character tokens of ``text`` (no special tokens); ValueError on an unknown character."""
    try:
        return [_INDEX[c] for c in text]
    except KeyError as exc:
        raise ValueError(f"text has a character outside the vocabulary: {exc.args[0]!r}") from None


def decode(tokens):
    """Text of ``tokens``; special tokens are written by name, padding is dropped."""
    return "".join(VOCAB[int(t)] for t in tokens if int(t) != PAD)


def prompt_tokens(question):
    """``<bos> question <think>`` as a list of token ids."""
    text = question.text if isinstance(question, Question) else str(question)
    return [BOS] + encode(text) + [THINK]


def target_tokens(question):
    """The reference completion: ``trace </think> answer <eos>``."""
    return encode(question.trace) + [END_THINK] + encode(str(question.answer)) + [EOS]


_ANSWER = re.compile(r"^-?\d+$")


def parse_completion(tokens):
    """Split generated tokens (after the prompt) into its parts.

    Returns
    -------
    dict
        ``thinking_length`` (tokens before ``</think>``, or all tokens up to ``<eos>``/the end if
        it never closes), ``closed`` (``</think>`` seen), ``finished`` (closed and ``<eos>`` seen
        after it), ``answer`` (text between ``</think>`` and ``<eos>``; ``""`` if not closed),
        ``total_length`` (tokens up to and including ``<eos>``, or all tokens).
    """
    toks = [int(t) for t in tokens]
    n_total = len(toks)
    if EOS in toks:
        n_total = toks.index(EOS) + 1
    toks = toks[:n_total]
    if END_THINK in toks:
        k = toks.index(END_THINK)
        rest = toks[k + 1:]
        finished = bool(rest) and rest[-1] == EOS
        ans = decode([t for t in rest if t != EOS])
        return dict(thinking_length=k, closed=True, finished=finished, answer=ans,
                    total_length=n_total)
    k = n_total - 1 if toks and toks[-1] == EOS else n_total
    return dict(thinking_length=k, closed=False, finished=False, answer="", total_length=n_total)


def check_answer(answer, target):
    """True when ``answer`` (text) is exactly the integer ``target``."""
    answer = str(answer).strip()
    return bool(_ANSWER.match(answer)) and int(answer) == int(target)
