"""Budget guidance where users generate: ``transformers`` and vLLM logits processors.

Both processors apply the project's guidance law (docs/models/gamma.md (11), (13), (14); the law
of the in-project JAX hook) driven by the project's Gamma length predictor and a thinking
budget:

* :class:`BudgetGuidanceLogitsProcessor` (:mod:`validation.guidance.hf`): a
  ``transformers.LogitsProcessor`` for ``model.generate(...)`` on any causal LM, batched; it
  reads the hidden state of the predictor's layer through forward hooks that it installs and
  removes (``close()`` or a ``with`` block); also the per-token hook of
  :meth:`validation.adapters.HFAdapter.generate`.
* :class:`validation.guidance.vllm.VLLMBudgetGuidance`: a vLLM v1 logits processor, driven by
  the position-only predictor (vLLM shows a logits processor no hidden states). Importing
  :mod:`validation.guidance` does not import vLLM.
* ``python -m validation.guidance``: budget adherence and accuracy with and without guidance
  against budget forcing on one set of questions and seeds (:mod:`validation.guidance.measure`).

Train the predictor with ``python -m validation.gamma --run DIR --layer 20 --out P.npz``.
"""

from validation.guidance.core import LengthModel, load_length_model
from validation.guidance.hf import BudgetGuidanceLogitsProcessor

__all__ = ["BudgetGuidanceLogitsProcessor", "LengthModel", "load_length_model"]
