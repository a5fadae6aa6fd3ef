"""What every adapter shares: the :class:`Sample` it returns, the :class:`Adapter` protocol, seeds
and checksums."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Sample", "Adapter", "row_seeds", "file_sha256", "dir_sha256"]


@dataclasses.dataclass(frozen=True)
class Sample:
    """One generated completion.

    Attributes
    ----------
    text : str
        The completion after the prompt (thinking, the end of thinking, the answer).
    answer : str
        The extracted answer (for the project's model the text after ``</think>``, stripped;
        ``""`` when thinking never closed).
    thinking_length : int
        Thinking tokens (before the end-of-thinking token).
    total_length : int
        Generated tokens.
    finished : bool
        Thinking ended and the answer was completed within the cap.
    hidden : ndarray or None
        ``[n_positions, n_layers, d]`` with ``capture_hidden`` (all layers for the project's
        model, the chosen ``layers`` for a Hugging Face model).
    remaining : ndarray or None
        ``[n_positions]`` remaining-length targets with ``capture_hidden``.
    tokens : ndarray or None
        The generated token ids (when the adapter has them); ``tokens[t]`` is the
        candidate predicted at captured position ``t``.
    closed : bool or None
        Thinking ended (``None`` when the adapter does not say).
    prompt_tokens : ndarray or None
        The prompt's token ids as the model saw them (when the adapter has them).
    """

    text: str
    answer: str
    thinking_length: int
    total_length: int
    finished: bool
    hidden: np.ndarray | None = None
    remaining: np.ndarray | None = None
    tokens: np.ndarray | None = None
    closed: bool | None = None
    prompt_tokens: np.ndarray | None = None


@runtime_checkable
class Adapter(Protocol):
    """What a model must offer to produce run records."""

    name: str
    checkpoint_sha256: str

    def generate(self, prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                 max_thinking=None, logits_processor=None, capture_hidden=False):
        """Return one :class:`Sample` per prompt."""


def row_seeds(seed, n):
    """One seed per row: ``seed + i`` for an int ``seed``, else the given sequence (checked).

    Every seed must lie in ``[0, 2**63)``; ValueError (one line) otherwise.
    """
    if np.ndim(seed) == 0:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
            raise ValueError(f"seed must be an integer >= 0 or one per prompt, got {seed!r}")
        return [int(seed) + i for i in range(n)]
    seeds = [int(s) for s in np.asarray(seed).ravel()]
    if len(seeds) != n:
        raise ValueError(f"seed must be an int or one seed per prompt ({n}), got {len(seeds)} "
                         f"seeds")
    if any(s < 0 or s >= 2**63 for s in seeds):
        raise ValueError("seed values must be in [0, 2**63)")
    return seeds


def file_sha256(path):
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dir_sha256(path):
    """SHA-256 over a directory's files (relative names and contents, sorted)."""
    h = hashlib.sha256()
    for f in sorted(Path(path).rglob("*")):
        if f.is_file():
            h.update(f.relative_to(path).as_posix().encode())
            h.update(file_sha256(f).encode())
    return h.hexdigest()
