"""Budget guidance as a vLLM (v1) logits processor, driven by the position-only predictor.

vLLM gives a logits processor the batch's logits and, per request, its sampling parameters and
the list of output token ids so far; it gives no hidden states. This processor therefore uses
what it can see: the thinking position ``t`` (output tokens while thinking), the end-of-thinking
marker in the output ids, and the position-only Gamma predictor
(:func:`validation.gamma.fit_position_buckets`, written by ``python -m validation.gamma
--position-out``). The law is :mod:`validation.guidance.core`'s, the same as
:class:`~validation.guidance.BudgetGuidanceLogitsProcessor` with a position-only predictor.

Use (vLLM installed; not run inside vLLM here, see docs/real-models.md)::

    from vllm import LLM, SamplingParams
    llm = LLM(model=PATH, logits_processors=["validation.guidance.vllm:VLLMBudgetGuidance"],
              additional_config={"budget_guidance": {"predictor": "position.npz"}})
    params = SamplingParams(temperature=0.8, top_p=0.95,
                            extra_args={"thinking_budget": 20})

Settings (``additional_config["budget_guidance"]``): ``predictor`` (path; required),
``trigger`` (``"newline"`` or ``"every_token"``), ``end_texts`` or ``end_ids``,
``newline_ids`` (else from the model's tokenizer), ``budget`` (default for requests without
``extra_args["thinking_budget"]``; requests without either are left alone).
vLLM is imported when this module is, never by :mod:`validation.guidance`.
"""

from __future__ import annotations

from validation.guidance import core

try:
    from vllm.v1.sample.logits_processor import LogitsProcessor as _Base
    from vllm.v1.sample.logits_processor import MoveDirectionality as _Move
except ImportError:  # vLLM absent: importable for the docs; the constructor says so
    _Base, _Move = object, None

__all__ = ["VLLMBudgetGuidance", "SETTINGS_KEY", "BUDGET_ARG"]

#: Key of the settings in ``vllm_config.additional_config``.
SETTINGS_KEY = "budget_guidance"
#: Key of a request's budget in ``SamplingParams.extra_args``.
BUDGET_ARG = "thinking_budget"


class _Request:
    __slots__ = ("budget", "temperature", "output", "state")

    def __init__(self, budget, temperature, output):
        self.budget, self.temperature, self.output = budget, temperature, output
        self.state = core.RowState()


class VLLMBudgetGuidance(_Base):
    """vLLM v1 logits processor: ``__init__(vllm_config, device, is_pin_memory)``,
    ``is_argmax_invariant``, ``update_state(batch_update)``, ``apply(logits)``."""

    def __init__(self, vllm_config, device, is_pin_memory=False):
        if _Move is None:
            raise ValueError("VLLMBudgetGuidance needs vLLM (pip install vllm, on a GPU machine)")
        extra = getattr(vllm_config, "additional_config", None) or {}
        cfg = dict(extra.get(SETTINGS_KEY, {}))
        if "predictor" not in cfg:
            raise ValueError(f"additional_config[{SETTINGS_KEY!r}]['predictor'] must name a "
                             f"position-only predictor file (python -m validation.gamma "
                             f"--position-out)")
        self.length = core.load_length_model(cfg["predictor"], device)
        if self.length.needs_hidden:
            raise ValueError("the vLLM processor sees no hidden states: predictor must be a "
                             "position-only file (--position-out), got a hidden-state predictor")
        self.trigger = cfg.get("trigger", "newline")
        if self.trigger not in core.TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(core.TRIGGERS)}, got "
                             f"{self.trigger!r}")
        self.default_budget = None if cfg.get("budget") is None else core.check_budget(
            cfg["budget"])
        tok = None
        if cfg.get("end_ids") is None or (self.trigger == "newline" and
                                          cfg.get("newline_ids") is None):
            from transformers import AutoTokenizer

            mc = vllm_config.model_config
            tok = AutoTokenizer.from_pretrained(getattr(mc, "tokenizer", None) or mc.model)
        self.end_ids = [list(map(int, s)) for s in cfg["end_ids"]] if cfg.get("end_ids") else \
            core.end_sequences(tok, tuple(cfg.get("end_texts", ("\nAnswer:",))))
        if self.trigger == "newline":
            ids = cfg.get("newline_ids")
            self.newline_ids = frozenset(map(int, ids)) if ids is not None else \
                core.newline_ids(tok)
        else:
            self.newline_ids = frozenset()
        self.device = device
        self.requests = {}

    @classmethod
    def validate_params(cls, sampling_params):
        """A request's ``extra_args["thinking_budget"]`` must be an integer >= 1."""
        extra = getattr(sampling_params, "extra_args", None) or {}
        if extra.get(BUDGET_ARG) is not None:
            core.check_budget(extra[BUDGET_ARG])

    def is_argmax_invariant(self):
        """False: guidance can change the most likely token."""
        return False

    def update_state(self, batch_update):
        """Apply removals, additions and moves (in that order) to the per-request state."""
        if batch_update is None:
            return
        for index in batch_update.removed:
            self.requests.pop(index, None)
        for index, params, _prompt, output in batch_update.added:
            extra = getattr(params, "extra_args", None) or {}
            budget = extra.get(BUDGET_ARG, self.default_budget)
            if budget is None:
                self.requests.pop(index, None)
                continue
            temp = float(getattr(params, "temperature", 1.0) or 1.0)
            self.requests[index] = _Request(core.check_budget(budget), temp, output)
        for a, b, direction in batch_update.moved:
            ra, rb = self.requests.pop(a, None), self.requests.pop(b, None)
            if ra is not None:
                self.requests[b] = ra
            if rb is not None and direction == _Move.SWAP:
                self.requests[a] = rb

    def apply(self, logits):
        """Guide the rows of requests with a budget that are thinking at a trigger step."""
        import torch

        if not self.requests:
            return logits
        A = logits.shape[0]
        t = torch.zeros(A, dtype=torch.int64)
        gate = torch.zeros(A, dtype=torch.bool)
        budget = torch.ones(A)
        temp = torch.ones(A)
        end = [[] for _ in range(A)]
        for i, req in self.requests.items():
            if i >= A:
                continue
            st = req.state
            st.sync(req.output, self.end_ids)
            if not st.thinking:
                continue
            prev = st.generated[-1] if st.generated else None
            t[i], budget[i], temp[i] = st.t, req.budget, req.temperature
            gate[i] = self.trigger == "every_token" or st.t == 0 or prev in self.newline_ids
            end[i] = core.next_end_tokens(st.generated, self.end_ids)
        return core.guide_logits(logits, self.length, t, budget, gate, temperature=temp, end=end)
