"""Budget guidance as a ``transformers`` logits processor (docs/real-models.md, "Budget
guidance in transformers and vLLM").

:class:`BudgetGuidanceLogitsProcessor` works in a plain
``model.generate(input_ids, logits_processor=LogitsProcessorList([proc]), do_sample=True, ...)``
on any causal LM, batched, and as the per-token hook of
:meth:`validation.adapters.HFAdapter.generate` (``logits_processor=proc``). The law is the one of
:mod:`validation.guidance.core` (docs/models/gamma.md (11), (13), (14)).
"""

from __future__ import annotations

import numpy as np

from validation.guidance import core

try:  # a transformers.LogitsProcessor when transformers is installed (extra "hf")
    from transformers import LogitsProcessor as _Base
except ImportError:  # pragma: no cover - the processor then needs the adapter's state
    _Base = object

__all__ = ["BudgetGuidanceLogitsProcessor", "layer_module"]


def layer_module(model, layer):
    """The module whose output is hidden state ``layer`` (``hidden_states[layer]`` of the model).

    0 is the embedding output, ``1..N-1`` the output of decoder block ``layer - 1``, ``N`` (the
    number of blocks) the final norm's output, as transformers' ``output_hidden_states``.
    """
    base = model.get_decoder() if hasattr(model, "get_decoder") else None
    if base is None:
        base = getattr(model, getattr(model, "base_model_prefix", "model"), model)
    blocks = next((getattr(base, n) for n in ("layers", "h", "blocks") if hasattr(base, n)), None)
    if blocks is None:
        raise ValueError(f"cannot find the decoder blocks of {type(model).__name__}")
    N = len(blocks)
    if not 0 <= layer <= N:
        raise ValueError(f"layer must lie in [0, {N}], got {layer}")
    if layer == 0:
        return model.get_input_embeddings()
    if layer < N:
        return blocks[layer - 1]
    norm = next((getattr(base, n) for n in ("norm", "ln_f", "final_layer_norm")
                 if hasattr(base, n)), None)
    if norm is None:
        raise ValueError(f"cannot find the final norm of {type(model).__name__}")
    return norm


class BudgetGuidanceLogitsProcessor(_Base):
    """Budget guidance for ``transformers.generate`` (and :class:`~validation.adapters.HFAdapter`).

    Parameters
    ----------
    predictor : validation.gamma.Predictor, PositionBuckets, LengthModel or str
        The project's Gamma length predictor (``python -m validation.gamma --out``; reads the
        hidden state of its layers) or the position-only one (``--position-out``), or a path to
        either file.
    budget : int
        Thinking budget in tokens, ``>= 1``.
    model : transformers.PreTrainedModel or None
        The causal LM. Needed in a plain ``generate`` call with a hidden-state predictor: a
        forward hook on each of the predictor's layers keeps the last position's hidden state;
        :meth:`close` (or leaving the ``with`` block) removes the hooks. Its hidden size must be
        the predictor's.
    tokenizer : transformers tokenizer or None
        Gives the end-of-thinking ids (``end_texts``) and the newline ids (trigger
        ``"newline"``) when they are not given.
    temperature : float
        The sampling temperature, applied by the sampler after this processor (transformers
        runs user processors before its temperature and top-p warpers); the guided law is
        ``q ∝ p_T a``. 1 for greedy decoding.
    trigger : {"newline", "every_token"}
        Guide the first thinking token and every token after a newline (the authors' code),
        or every thinking token.
    end_texts : sequence of str
        End-of-thinking markers (default ``"\\nAnswer:"``, the word-problem format's; ``</think>``
        is added when the tokenizer has it as one token).
    end_ids : list of list of int or None
        The markers' token ids, instead of ``tokenizer`` and ``end_texts``.
    newline_token_ids : iterable of int or None
        Ids of tokens containing a newline, instead of ``tokenizer``.
    device : str or None
        Device of the predictor's tensors (default: the model's, else cpu).

    Notes
    -----
    In a plain ``generate`` call the processor keeps per-row state (generated ids, thinking,
    ``t``) from ``input_ids``; a call whose length is not the previous one plus one starts a new
    generation (:meth:`reset` does it explicitly). As the adapter's hook it reads the adapter's
    own state (``thinking``, ``thinking_position``, ``tokens``, ``hidden``).
    """

    def __init__(self, predictor, budget, *, model=None, tokenizer=None, temperature=1.0,
                 trigger="newline", end_texts=("\nAnswer:",), end_ids=None,
                 newline_token_ids=None, device=None):
        self.budget = core.check_budget(budget)
        if trigger not in core.TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(core.TRIGGERS)}, got "
                             f"{trigger!r}")
        self.trigger = trigger
        if isinstance(temperature, bool) or not np.isfinite(float(temperature)) or \
                float(temperature) < 0:
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
        self.temperature = float(temperature)
        if device is None:
            device = next(model.parameters()).device if model is not None else "cpu"
        if isinstance(predictor, str | bytes) or hasattr(predictor, "__fspath__"):
            predictor = core.load_length_model(predictor, device)
        self.length = predictor if isinstance(predictor, core.LengthModel) else \
            core.LengthModel(predictor, device)
        self.model = model
        self._hooks, self._captured = [], {}
        if model is not None and self.length.needs_hidden:
            d = int(model.config.hidden_size)
            if d != self.length.d_in:
                raise ValueError(f"predictor hidden size {self.length.d_in} does not match the "
                                 f"model's hidden size {d}")
        if end_ids is None:
            if tokenizer is None:
                raise ValueError("give tokenizer (or end_ids) to find the end-of-thinking "
                                 "marker")
            end_ids = core.end_sequences(tokenizer, end_texts)
        self.end_ids = [[int(x) for x in s] for s in end_ids]
        if not self.end_ids or not all(self.end_ids):
            raise ValueError(f"end_ids must be non-empty token-id sequences, got {end_ids!r}")
        if trigger == "newline":
            if newline_token_ids is None:
                if tokenizer is None:
                    raise ValueError("trigger newline needs tokenizer (or newline_token_ids)")
                newline_token_ids = core.newline_ids(tokenizer)
            self.newline_ids = frozenset(int(x) for x in newline_token_ids)
        else:
            self.newline_ids = frozenset()
        self.reset()
        if model is not None and self.length.needs_hidden:
            self._install(model)

    # ------------------------------------------------------------------ hooks

    def _install(self, model):
        layers = self.length.layers
        N = int(model.config.num_hidden_layers)
        if not layers:
            if self.length.config.n_layers_in != N + 1:
                raise ValueError("predictor names no layers (info['layers']) and does not read "
                                 f"all {N + 1} of the model's")
            layers = tuple(range(N + 1))
        self.layers = layers
        for i, layer in enumerate(layers):
            def hook(module, args, output, i=i):
                out = output[0] if isinstance(output, tuple | list) else output
                self._captured[i] = out[:, -1, :].detach()
            self._hooks.append(layer_module(model, layer).register_forward_hook(hook))

    @property
    def hooked(self):
        """True while forward hooks are installed on the model."""
        return bool(self._hooks)

    def close(self):
        """Remove the forward hooks (idempotent)."""
        for h in self._hooks:
            h.remove()
        self._hooks = []
        self._captured = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 -- interpreter shutdown
            pass

    # ------------------------------------------------------------------ state

    def reset(self):
        """Forget the rows of the previous generation."""
        self._rows = None
        self._prompt_len = None
        self._last_len = None

    def _plain_state(self, input_ids):
        B, n = input_ids.shape
        if self._rows is None or len(self._rows) != B or n != self._last_len + 1:
            self._rows = [core.RowState() for _ in range(B)]
            self._prompt_len = n
        else:
            last = input_ids[:, -1].tolist()
            for row, tok in zip(self._rows, last):
                row.push(tok, self.end_ids)
        self._last_len = n

    # ------------------------------------------------------------------ call

    def __call__(self, input_ids, scores):
        """``(input_ids, scores) -> scores`` (transformers) or ``(logits, state) -> logits``
        (the adapter's hook)."""
        import torch

        if isinstance(scores, dict):
            return self._adapter_call(input_ids, scores)
        self._plain_state(input_ids)
        rows = self._rows
        t = torch.tensor([r.t for r in rows], dtype=torch.int64)
        thinking = torch.tensor([r.thinking for r in rows], dtype=torch.bool)
        prev = [r.generated[-1] if r.generated else None for r in rows]
        hidden = None
        if self.length.needs_hidden:
            if len(self._captured) != len(self.layers):
                raise ValueError("no hidden state was captured: build the processor with "
                                 "model= (its hooks read the predictor's layers) and keep it "
                                 "open during generate")
            hidden = torch.stack([self._captured[i] for i in range(len(self.layers))], dim=1)
        gate = self._gate(t, thinking, prev)
        end = [core.next_end_tokens(r.generated, self.end_ids) for r in rows]
        return core.guide_logits(scores, self.length, t, self.budget, gate,
                                 temperature=self.temperature, hidden=hidden, end=end)

    def _gate(self, t, thinking, prev):
        import torch

        if self.trigger == "every_token":
            return thinking
        line = torch.tensor([p is None or p in self.newline_ids for p in prev], dtype=torch.bool)
        return thinking & ((t == 0) | line)

    def _adapter_call(self, logits, state):
        import torch

        t = state["thinking_position"].to(torch.int64).cpu()
        thinking = state["thinking"].to(torch.bool).cpu() & state["generating"].to(
            torch.bool).cpu()
        tokens = state["tokens"]
        gen = tokens.tolist() if tokens.numel() else [[] for _ in range(logits.shape[0])]
        prev = [g[-1] if g else None for g in gen]
        hidden = None
        if self.length.needs_hidden:
            h = state.get("hidden")
            if h is None:
                raise ValueError("the adapter's engine gives no hidden states; use engine "
                                 "torch or hf, or a position-only predictor")
            if h.shape[-1] != self.length.d_in:
                raise ValueError(f"predictor hidden size {self.length.d_in} does not match the "
                                 f"model's hidden size {h.shape[-1]}")
            layers = self.length.layers or tuple(range(h.shape[1]))
            hidden = h[:, list(layers)]
        gate = self._gate(t, thinking, prev)
        end = [core.next_end_tokens(g, self.end_ids) for g in gen]
        return core.guide_logits(logits, self.length, t, self.budget, gate,
                                 temperature=self.temperature, hidden=hidden, end=end)
