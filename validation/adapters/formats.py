"""Prompt formats: how a question becomes a prompt, and where a model's thinking ends.

A model without ``<think>`` tags thinks in plain text; a :class:`PromptFormat` says where that
thinking ends. Its ``marker`` is a regular expression searched in the completion's text; the
**end-of-thinking token** is the generated token that holds the first character of the first
match, the thinking tokens are the generated tokens before it, and the marker plays the role of
``</think>``: the remaining-length target at thinking position ``t`` counts the tokens from the
predicted one through the end-of-thinking token (``L = thinking_length + 1 - t``). Budget
forcing after ``N`` thinking tokens appends the token ids of ``forced`` (whose first character
starts a match of ``marker``), so a forced trace has exactly ``N`` thinking tokens. The answer
follows the marker; ``answer_line`` stops generation at the end of the answer's line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

__all__ = ["PromptFormat", "CHAIN_FORMAT", "FEW_SHOT"]


@dataclasses.dataclass(frozen=True)
class PromptFormat:
    """A prompt layout, its thinking marker and its answer extraction.

    Attributes
    ----------
    name : str
        Short name, recorded in the run's metadata.
    marker : str
        Regular expression (case-insensitive, searched in the completion) whose first match
        ends thinking.
    forced : str
        Text appended by budget forcing; its first character must start a match of ``marker``.
    system : str or None
        System message of a chat prompt (``None``: the chat template's default).
    user : str
        The user message, with ``{question}``.
    examples : tuple of (str, str)
        Worked examples put before the question as earlier chat turns (user, assistant).
    template : str or None
        A plain-text prompt with ``{question}``; when given the chat template is not used, so a
        model without one can run.
    answer_line : bool
        Stop a row at the end of the line that follows the marker.
    max_answer_tokens : int
        Stop a row this many tokens after the end-of-thinking token at the latest.
    extractor : callable or None
        ``f(text) -> str``, the answer from the whole completion; by default the rest of the
        marker's line, stripped (``""`` when the marker never came).
    """

    name: str
    marker: str
    forced: str
    system: str | None = None
    user: str = "{question}"
    examples: tuple = ()
    template: str | None = None
    answer_line: bool = True
    max_answer_tokens: int = 24
    extractor: Callable[[str], str] | None = None

    def __post_init__(self):
        try:
            pat = re.compile(self.marker, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"marker {self.marker!r} is not a regular expression ({exc})") \
                from None
        m = pat.search(self.forced)
        if m is None or m.start() != 0:
            raise ValueError(f"the forced text {self.forced!r} must start a match of the marker "
                             f"{self.marker!r}")
        if self.template is not None and "{question}" not in self.template:
            raise ValueError("a plain template must contain {question}")

    @property
    def pattern(self):
        """The compiled marker."""
        return re.compile(self.marker, re.IGNORECASE)

    def find(self, text):
        """``(start, end)`` of the marker's first match in ``text``, or ``None``."""
        m = self.pattern.search(text)
        return None if m is None else (m.start(), m.end())

    def answer(self, text):
        """The answer in a completion ``text`` (see ``extractor``)."""
        if self.extractor is not None:
            return self.extractor(text)
        span = self.find(text)
        if span is None:
            return ""
        return text[span[1]:].strip().split("\n")[0].strip()

    def messages(self, question):
        """The chat messages of ``question`` (for a chat template)."""
        out = [] if self.system is None else [dict(role="system", content=self.system)]
        for q, a in self.examples:
            out += [dict(role="user", content=self.user.format(question=q)),
                    dict(role="assistant", content=a)]
        return out + [dict(role="user", content=self.user.format(question=question))]


FEW_SHOT = ("Reduce the chain step by step, combining the two leftmost numbers on each line, then "
            "give the answer.\n"
            "7+5-3=<think>12-3\n9\n</think>9\n"
            "4-6+2+1=<think>-2+2+1\n0+1\n1\n</think>1\n")

#: The project's chain task on a general model: a few-shot plain prompt in the trace format of
#: :mod:`validation.task`, thinking between ``<think>`` and ``</think>`` written as text.
CHAIN_FORMAT = PromptFormat(name="chain-few-shot", marker=r"</think>", forced="</think>",
                            template=FEW_SHOT + "{question}<think>")
