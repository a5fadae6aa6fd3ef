"""The adapter of the project's own JAX model (:mod:`validation.model`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from validation import task
from validation.adapters.base import Sample

__all__ = ["CHECKPOINTS", "JaxAdapter"]

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


class JaxAdapter:
    """The project's JAX model.

    Parameters
    ----------
    checkpoint : str or Path
        A checkpoint directory, or a name under ``validation/checkpoints`` (``"tiny"``).
    batch_size : int
        Rows per compiled sampling batch.
    """

    def __init__(self, checkpoint="tiny", batch_size=512):
        from validation import model as M

        path = Path(checkpoint)
        if not path.is_dir() and (CHECKPOINTS / str(checkpoint)).is_dir():
            path = CHECKPOINTS / str(checkpoint)
        if not path.is_dir():
            raise ValueError(f"model {checkpoint!r} is neither a checkpoint directory nor one of "
                             f"{', '.join(sorted(p.name for p in CHECKPOINTS.glob('*')))}")
        self.params, self.config, self.info = M.load_checkpoint(path)
        self.name = str(checkpoint)
        self.path = path
        self.checkpoint_sha256 = self.info["sha256"]
        self.batch_size = batch_size

    def generate(self, prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                 max_thinking=None, logits_processor=None, capture_hidden=False):
        """See :mod:`validation.adapters`; ``prompts`` are task question texts."""
        from validation import model as M

        toks = [task.prompt_tokens(p) for p in prompts]
        out = M.sample(self.params, self.config, toks, temperature=temperature, top_p=top_p,
                       seed=seed, max_new_tokens=max_new_tokens, max_thinking=max_thinking,
                       logits_processor=logits_processor, capture_hidden=capture_hidden,
                       batch_size=self.batch_size)
        samples = []
        for i, t in enumerate(out.tokens):
            p = task.parse_completion(t)
            samples.append(Sample(
                text=task.decode(t), answer=p["answer"].strip(),
                thinking_length=p["thinking_length"], total_length=p["total_length"],
                finished=p["finished"],
                hidden=out.hidden[i] if capture_hidden else None,
                remaining=out.remaining[i] if capture_hidden else None,
                tokens=np.asarray(t, dtype=np.int64), closed=p["closed"],
                prompt_tokens=np.asarray(toks[i], dtype=np.int64)))
        return samples
