"""The natural-language task: arithmetic word problems for a general chat model.

A question is a short story of whole-number steps, e.g. ``"Tom has 7 apples. He gets 5 more.
He gives 3 away. How many apples does Tom have now?"``; the chat prompt asks the model to think
step by step, one step per line, and to end with a line ``Answer: N``, and shows two worked
examples. Difficulty levels (:data:`LEVELS`) set the number of steps and the size of the
numbers (no step makes the count negative); they were chosen on a pilot of
SmolLM2-135M-Instruct so that its accuracy falls from well above chance at level 1 to rare
success at the top level (``docs/real-models.md``).

**Thinking** for a model without ``<think>`` tags (:data:`MARKER`): the generated tokens before
the line that starts with ``Answer:`` (case-insensitive, optionally after ``#``, ``*``, ``>``,
``-`` or ``_`` and the word ``Final``). The end-of-thinking token is the token that holds the
newline opening that line (or the first character of the completion when the completion starts
with it): the marker is the line break plus ``Answer:``, so the newline that a model writes
before it belongs to the marker, not to the thinking. Budget forcing after ``N`` thinking
tokens appends ``"\nAnswer:"``, which makes the forced newline the end-of-thinking token: a
forced trace has exactly ``N`` thinking tokens, and the model then writes the answer.

**Answers** (:func:`extract_answer`) are read from the marker's line (the number after the last
``=`` on it, else its first number), else from the last ``the answer is N``, else from the last
number of the completion; they are returned as plain integers (``"1,234"`` -> ``"1234"``,
``"9.0"`` -> ``"9"``) and compared with :func:`validation.task.check_answer`.
"""

from __future__ import annotations

import re

import numpy as np

from theory._params import check_int
from validation import task
from validation.adapters.formats import PromptFormat

__all__ = ["LEVELS", "MAX_DIFFICULTY", "MARKER", "FORCED", "SYSTEM", "EXAMPLES",
           "NAMES", "ITEMS", "CHAT_FORMAT", "PLAIN_FORMAT", "FORMATS", "make_questions",
           "extract_answer", "parse_number"]

#: Difficulty level -> (steps, largest number). Numbers are drawn uniformly from 1..largest,
#: each step gets (+) or gives away (-) with equal probability, redrawn until no count is
#: negative.
LEVELS = {1: (1, 5), 2: (1, 20), 3: (2, 5), 4: (2, 9), 5: (3, 9), 6: (4, 9)}
MAX_DIFFICULTY = max(LEVELS)

MARKER = r"(?:^|\n)[ \t>#*_-]*(?:final[ \t]+)?answer[ \t*_]*:"
FORCED = "\nAnswer:"
SYSTEM = ("You are a careful math tutor. Solve the problem step by step, one short step per "
          "line. Then write a last line of the form 'Answer: N' with the number N.")
EXAMPLES = (
    ("Sam has 6 coins. He gets 3 more. How many coins does Sam have now?",
     "Sam starts with 6 coins.\nHe gets 3 more: 6 + 3 = 9.\nAnswer: 9"),
    ("Lily has 12 books. She gives 5 away. She gets 8 more. She gives 4 away. How many books "
     "does Lily have now?",
     "Lily starts with 12 books.\nShe gives 5 away: 12 - 5 = 7.\nShe gets 8 more: 7 + 8 = 15."
     "\nShe gives 4 away: 15 - 4 = 11.\nAnswer: 11"),
)
NAMES = (("Tom", "He"), ("Anna", "She"), ("Ben", "He"), ("Lily", "She"), ("Sam", "He"),
         ("Mia", "She"), ("Omar", "He"), ("Nina", "She"))
ITEMS = ("apples", "marbles", "books", "stickers", "coins", "pencils", "cards", "shells")

_NUMBER = re.compile(r"(?<![\d)])-?\d[\d,]*(?:\.\d+)?|(?<=[\d)])\d[\d,]*(?:\.\d+)?")
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)", re.IGNORECASE)


def parse_number(text):
    """A number's text as a plain integer string (``"1,234"`` -> ``"1234"``), or the text."""
    s = text.replace(",", "")
    try:
        v = float(s)
    except ValueError:
        return text
    return str(int(v)) if v.is_integer() else s


def _numbers(text):
    return [m.group(0) for m in _NUMBER.finditer(text)]


def extract_answer(text):
    """The answer in a chatty completion; ``""`` when it holds no number.

    1. The line of the marker (``Answer: ...``): the number after its last ``=``, else its
       first number.
    2. Else the last ``the answer is N``.
    3. Else the last number of the completion.
    """
    text = str(text).replace("\u2212", "-")
    m = re.search(MARKER, text, re.IGNORECASE)
    if m is not None:
        line = text[m.end():].lstrip(" \t*").split("\n")[0]
        if "=" in line:
            nums = _numbers(line.rsplit("=", 1)[1])
            if nums:
                return parse_number(nums[0])
        nums = _numbers(line)
        if nums:
            return parse_number(nums[0])
    found = _ANSWER_IS.findall(text)
    if found:
        return parse_number(found[-1])
    nums = _numbers(text)
    return parse_number(nums[-1]) if nums else ""


#: The chat prompt: system instruction, one worked example, the question.
CHAT_FORMAT = PromptFormat(name="nl-chat", marker=MARKER, forced=FORCED, system=SYSTEM,
                           examples=EXAMPLES, extractor=extract_answer)
#: A plain-text prompt for models without a chat template.
PLAIN_FORMAT = PromptFormat(
    name="nl-plain", marker=MARKER, forced=FORCED, extractor=extract_answer,
    template=(SYSTEM + "".join(f"\n\nQuestion: {q}\n{a}" for q, a in EXAMPLES)
              + "\n\nQuestion: {question}\n"))
FORMATS = {"chat": CHAT_FORMAT, "plain": PLAIN_FORMAT}


def make_questions(n, difficulty=(1, MAX_DIFFICULTY), seed=0, levels=None):
    """Draw ``n`` questions; difficulties cycle evenly through the range.

    Parameters
    ----------
    n : int
        Number of questions, >= 1.
    difficulty : int, pair or str
        One level or an inclusive range (``(1, 6)`` or ``"1:6"``).
    seed : int
        Seed of the draw; the same seed gives the same questions.
    levels : dict or None
        Level -> (operations, largest operand); default :data:`LEVELS`.

    Returns
    -------
    list of validation.task.Question
        Question ``i`` has level ``lo + i % (hi - lo + 1)``; ``text`` is the story,
        ``trace`` the reference steps (one line per step, as in the worked examples),
        ``answer`` the final count.
    """
    n = check_int("n", n, 1)
    seed = check_int("seed", seed, 0)
    levels = LEVELS if levels is None else levels
    lo, hi = task.parse_difficulty(difficulty, max(levels))
    gen = np.random.default_rng(np.random.SeedSequence([seed, 0x4E4C]))
    out = []
    for i in range(n):
        d = lo + i % (hi - lo + 1)
        n_ops, top = levels[d]
        while True:
            numbers = [int(x) for x in gen.integers(1, top + 1, size=n_ops + 1)]
            ops = [str(o) for o in gen.choice(["+", "-"], size=n_ops)]
            counts = np.cumsum([numbers[0]] + [v if o == "+" else -v
                                               for o, v in zip(ops, numbers[1:])])
            if counts.min() >= 0:
                break
        name, pronoun = NAMES[int(gen.integers(len(NAMES)))]
        item = ITEMS[int(gen.integers(len(ITEMS)))]
        words = [f"{name} has {numbers[0]} {item}."]
        lines = [f"{name} starts with {numbers[0]} {item}.\n"]
        for o, v, before, after in zip(ops, numbers[1:], counts[:-1], counts[1:]):
            act = f"gets {v} more" if o == "+" else f"gives {v} away"
            words.append(f"{pronoun} {act}.")
            lines.append(f"{pronoun} {act}: {before} {o} {v} = {after}.\n")
        words.append(f"How many {item} does {name} have now?")
        out.append(task.Question(i, d, " ".join(words), "".join(lines), int(counts[-1])))
    return out

