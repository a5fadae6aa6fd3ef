"""Decoding engines of the Hugging Face adapter: one forward step for many rows at once.

An engine holds the key-value cache of a batch of rows and answers, for the last token of every
row, the next-token logits and (when asked) the hidden states::

    logits, hidden = engine.start(prompts, capacity, hidden=True)   # left-padded prefill
    logits, hidden = engine.step(next_tokens)                       # one token per row
    engine.keep(rows)                                               # drop finished rows

``logits`` is a float32 tensor ``[A, V]`` (``A`` rows still kept), ``hidden`` a float32 tensor
``[A, n_layers + 1, d]`` in the Hugging Face ``output_hidden_states`` convention (index 0 the
embedding output, index i the output of block i, the last entry after the final norm) or
``None``. The sampler, the stop rules and the bookkeeping of thinking live in
:mod:`validation.adapters.hf`, the same for every engine.

Engines (:data:`ENGINES`):

``torch``
    A hand-written batched decoder for Llama-architecture models (SmolLM2 is one) in plain
    torch on the weights transformers loaded: fused q/k/v and gate/up projections, a
    preallocated cache written in place, grouped-query attention without copying the keys.
    Hidden states at every layer.
``hf``
    The model's own ``forward`` with a ``DynamicCache``, for any causal LM transformers loads;
    slower, and the reference the ``torch`` engine is tested against.
``llama.cpp``
    llama.cpp (the ``llama-cpp-python`` binding) on the GGUF file itself: its quantized kernels,
    one sequence per row in one unified cache. No hidden states.
"""

from __future__ import annotations

import ctypes

import numpy as np

__all__ = ["ENGINES", "TorchLlamaEngine", "HFEngine", "LlamaCppEngine", "make_engine"]

ENGINES = ("torch", "hf", "llama.cpp")


def _neg(dtype):
    import torch
    return torch.finfo(dtype).min


class TorchLlamaEngine:
    """Batched decoding of a Llama-architecture ``transformers`` model in plain torch.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A ``LlamaForCausalLM`` (or a model of the same architecture: RMSNorm, rotary positions,
        grouped-query attention without biases, a SiLU-gated MLP).
    """

    supports_hidden = True

    def __init__(self, model):
        import torch

        cfg = model.config
        if getattr(cfg, "model_type", None) != "llama":
            raise ValueError(f"engine torch runs Llama-architecture models, not "
                             f"{getattr(cfg, 'model_type', '?')!r}; use engine hf")
        if getattr(cfg, "attention_bias", False) or getattr(cfg, "mlp_bias", False) or \
                getattr(cfg, "hidden_act", "silu") != "silu":
            raise ValueError("engine torch needs a Llama model without biases and with SiLU; "
                             "use engine hf")
        self.torch = torch
        self.n_layers = cfg.num_hidden_layers
        self.n_heads = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.d_model = cfg.hidden_size
        self.head_dim = getattr(cfg, "head_dim", None) or self.d_model // self.n_heads
        self.vocab_size = cfg.vocab_size
        self.eps = cfg.rms_norm_eps
        inner = model.model
        self.embed = inner.embed_tokens.weight.detach()
        self.blocks = []
        with torch.no_grad():
            for layer in inner.layers:
                a, m = layer.self_attn, layer.mlp
                self.blocks.append(dict(
                    ln1=layer.input_layernorm.weight.detach(),
                    qkv=torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach()
                    .contiguous(),
                    o=a.o_proj.weight.detach(),
                    ln2=layer.post_attention_layernorm.weight.detach(),
                    gu=torch.cat([m.gate_proj.weight, m.up_proj.weight]).detach().contiguous(),
                    down=m.down_proj.weight.detach()))
        self.norm = inner.norm.weight.detach()
        self.lm_head = model.lm_head.weight.detach()
        self.rotary = inner.rotary_emb
        self.scale = self.head_dim ** -0.5
        self.dtype = self.embed.dtype

    def _rms(self, x, w):
        v = x.pow(2).mean(-1, keepdim=True)
        return w * (x * self.torch.rsqrt(v + self.eps))

    def _rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rot = self.torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rot * sin

    def _forward(self, ids, pos, bias, hidden):
        """Run ``ids [A, T]`` at positions ``pos [A, T]`` into cache slots ``n .. n + T - 1``."""
        torch = self.torch
        F = torch.nn.functional
        A, T = ids.shape
        H, KV, dh = self.n_heads, self.n_kv, self.head_dim
        G = H // KV
        n = self.n
        x = F.embedding(ids, self.embed)
        cos, sin = self.rotary(x, pos)
        cos, sin = cos[:, :, None, :], sin[:, :, None, :]
        hs = [x[:, -1]] if hidden else None
        for li, b in enumerate(self.blocks):
            h = self._rms(x, b["ln1"])
            qkv = F.linear(h, b["qkv"])
            q = qkv[..., :H * dh].view(A, T, H, dh)
            k = qkv[..., H * dh:(H + KV) * dh].view(A, T, KV, dh)
            v = qkv[..., (H + KV) * dh:].view(A, T, KV, dh)
            q = self._rope(q, cos, sin)
            k = self._rope(k, cos, sin)
            self.k[li, :, :, n:n + T] = k.transpose(1, 2)
            self.v[li, :, :, n:n + T] = v.transpose(1, 2)
            keys = self.k[li, :, :, :n + T]
            vals = self.v[li, :, :, :n + T]
            qg = q.view(A, T, KV, G, dh).permute(0, 2, 3, 1, 4).reshape(A, KV, G * T, dh)
            s = torch.matmul(qg, keys.transpose(-1, -2)).mul_(self.scale)
            s = s.view(A, KV, G, T, n + T).add_(bias[:, None, None])
            p = torch.softmax(s, dim=-1).view(A, KV, G * T, n + T)
            o = torch.matmul(p, vals).view(A, KV, G, T, dh).permute(0, 3, 1, 2, 4)
            x = x + F.linear(o.reshape(A, T, H * dh), b["o"])
            h = self._rms(x, b["ln2"])
            g, u = F.linear(h, b["gu"]).chunk(2, dim=-1)
            x = x + F.linear(F.silu(g) * u, b["down"])
            if hidden:
                hs.append(x[:, -1])
        last = self._rms(x[:, -1], self.norm)
        logits = F.linear(last, self.lm_head).float()
        if hidden:
            hs[-1] = last
            return logits, torch.stack(hs, dim=1).float()
        return logits, None

    def start(self, prompts, capacity, hidden=False):
        """Prefill ``prompts`` (lists of token ids); room for ``capacity`` tokens per row.

        The prompts' longest common prefix (a system message, worked examples) is computed
        once and copied into every row's first cache slots; the rest of each prompt follows,
        left-padded to the longest rest, with the padding slots masked.
        """
        torch = self.torch
        B = len(prompts)
        lens = torch.as_tensor([len(p) for p in prompts])
        C = _common_prefix(prompts) if B > 1 else 0
        C = min(C, int(lens.min()) - 1) if C >= 2 else 0
        S = int(lens.max()) - C
        if capacity < C + S + 1:
            raise ValueError(f"capacity {capacity} must exceed the longest prompt ({C + S})")
        self.k = torch.zeros((self.n_layers, B, self.n_kv, capacity, self.head_dim),
                             dtype=self.dtype)
        self.v = torch.zeros_like(self.k)
        self.valid = torch.zeros((B, capacity), dtype=torch.bool)
        self.n = 0
        with torch.no_grad():
            if C:
                big_k, big_v = self.k, self.v
                self.k, self.v = big_k[:, :1, :, :C].clone(), big_v[:, :1, :, :C].clone()
                causal = torch.tril(torch.ones((C, C), dtype=torch.bool))
                bias = torch.zeros((1, C, C), dtype=self.dtype).masked_fill_(
                    ~causal[None], _neg(self.dtype))
                self._forward(torch.as_tensor(prompts[0][:C])[None], torch.arange(C)[None],
                              bias, False)
                big_k[:, :, :, :C] = self.k
                big_v[:, :, :, :C] = self.v
                self.k, self.v = big_k, big_v
                self.valid[:, :C] = True
                self.n = C
            ids = torch.zeros((B, S), dtype=torch.long)
            rest = lens - C
            for r, p in enumerate(prompts):
                ids[r, S - len(p) + C:] = torch.as_tensor(p[C:], dtype=torch.long)
                self.valid[r, C + S - int(rest[r]):C + S] = True
            pos = C + (torch.arange(S)[None, :] - (S - rest)[:, None]).clamp(min=0)
            key = torch.arange(C + S)[None, None, :]
            query = (C + torch.arange(S))[None, :, None]
            allowed = (key <= query) & self.valid[:, None, :C + S] | (key == query)
            bias = torch.zeros((B, S, C + S), dtype=self.dtype).masked_fill_(
                ~allowed, _neg(self.dtype))
            out = self._forward(ids, pos, bias, hidden)
        self.n = C + S
        self.next_pos = lens.clone()
        self.shared_prefix = C
        return out

    def step(self, tokens, hidden=False):
        """Feed one token per kept row; return the next logits (and hidden states)."""
        torch = self.torch
        if self.n >= self.k.shape[3]:
            raise ValueError(f"the cache is full ({self.n} tokens)")
        tokens = torch.as_tensor(tokens, dtype=torch.long).view(-1, 1)
        self.valid[:, self.n] = True
        bias = torch.zeros((len(tokens), 1, self.n + 1), dtype=self.dtype).masked_fill_(
            ~self.valid[:, None, :self.n + 1], _neg(self.dtype))
        with torch.no_grad():
            out = self._forward(tokens, self.next_pos[:, None], bias, hidden)
        self.n += 1
        self.next_pos = self.next_pos + 1
        return out

    def keep(self, rows):
        """Keep only the rows ``rows`` (indices into the current rows), in that order."""
        idx = self.torch.as_tensor(rows, dtype=self.torch.long)
        self.k = self.k.index_select(1, idx)
        self.v = self.v.index_select(1, idx)
        self.valid = self.valid.index_select(0, idx)
        self.next_pos = self.next_pos.index_select(0, idx)

    def close(self):
        """Free the cache."""
        self.k = self.v = self.valid = None


class HFEngine:
    """Batched decoding through the model's own ``forward`` and a ``DynamicCache``.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any causal LM transformers loads.
    """

    supports_hidden = True

    def __init__(self, model):
        import torch

        self.torch = torch
        self.model = model
        cfg = model.config
        self.n_layers = cfg.num_hidden_layers
        self.d_model = cfg.hidden_size
        self.vocab_size = cfg.vocab_size

    def _run(self, ids, hidden):
        torch = self.torch
        pos = (self.mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
        with torch.no_grad():
            out = self.model(input_ids=ids, attention_mask=self.mask, position_ids=pos,
                             cache=self.cache, use_cache=True, logits_to_keep=1,
                             output_hidden_states=hidden)
        logits = out.logits[:, -1].float()
        hs = (torch.stack([h[:, -1] for h in out.hidden_states], dim=1).float()
              if hidden else None)
        return logits, hs

    def start(self, prompts, capacity, hidden=False):
        """Prefill left-padded ``prompts``; ``capacity`` is not needed by a dynamic cache."""
        from transformers import DynamicCache

        torch = self.torch
        P = max(len(p) for p in prompts)
        ids = torch.zeros((len(prompts), P), dtype=torch.long)
        self.mask = torch.zeros((len(prompts), P), dtype=torch.long)
        for r, p in enumerate(prompts):
            ids[r, P - len(p):] = torch.as_tensor(p, dtype=torch.long)
            self.mask[r, P - len(p):] = 1
        self.cache = DynamicCache(config=self.model.config)
        return self._run(ids, hidden)

    def step(self, tokens, hidden=False):
        """Feed one token per kept row."""
        torch = self.torch
        tokens = torch.as_tensor(tokens, dtype=torch.long).view(-1, 1)
        self.mask = torch.cat([self.mask, torch.ones_like(tokens)], dim=1)
        return self._run(tokens, hidden)

    def keep(self, rows):
        """Keep only the rows ``rows`` of the cache."""
        idx = self.torch.as_tensor(rows, dtype=self.torch.long)
        self.cache.batch_select_indices(idx)
        self.mask = self.mask.index_select(0, idx)

    def close(self):
        """Free the cache."""
        self.cache = self.mask = None


class LlamaCppEngine:
    """Batched decoding with llama.cpp on a GGUF file: one sequence per row.

    Parameters
    ----------
    gguf : str or Path
        The model file.
    threads : int or None
        CPU threads of llama.cpp (default: the number of cores).
    """

    supports_hidden = False

    def __init__(self, gguf, threads=None):
        try:
            import llama_cpp
        except ImportError:
            raise ValueError("engine llama.cpp needs llama-cpp-python "
                             "(pip install llama-cpp-python)") from None
        import os

        self.L = llama_cpp
        llama_cpp.llama_backend_init()
        # keep a reference: llama.cpp calls it after this function returns
        self._log = llama_cpp.llama_log_callback(lambda level, text, data: None)
        llama_cpp.llama_log_set(self._log, None)
        params = llama_cpp.llama_model_default_params()
        self.model = llama_cpp.llama_model_load_from_file(str(gguf).encode(), params)
        if not self.model:
            raise ValueError(f"llama.cpp cannot load {gguf}")
        self.vocab_size = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(
            self.model))
        self.n_layers = llama_cpp.llama_model_n_layer(self.model)
        self.d_model = llama_cpp.llama_model_n_embd(self.model)
        self.threads = int(threads or os.cpu_count() or 1)
        self.ctx = None

    def _decode(self, items):
        """``items``: (token, position, sequence, wants logits); return logits of the marked."""
        L = self.L
        b = self.batch
        for i, (tok, pos, seq, out) in enumerate(items):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = out
        b.n_tokens = len(items)
        status = L.llama_decode(self.ctx, b)
        if status != 0:
            raise ValueError(f"llama.cpp decode failed with status {status}")
        n_out = sum(1 for it in items if it[3])
        ptr = L.llama_get_logits(self.ctx)
        arr = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)),
                                    shape=(n_out, self.vocab_size))
        import torch
        return torch.from_numpy(arr.copy())

    def start(self, prompts, capacity, hidden=False):
        """Prefill one sequence per prompt (no padding); room for ``capacity`` tokens each."""
        if hidden:
            raise ValueError("engine llama.cpp does not give hidden states; use engine torch")
        L = self.L
        self.close()
        B = len(prompts)
        if B > L.llama_max_parallel_sequences():
            raise ValueError(f"engine llama.cpp runs at most "
                             f"{L.llama_max_parallel_sequences()} rows at once, got {B}")
        total = sum(len(p) for p in prompts)
        cp = L.llama_context_default_params()
        cp.n_ctx = B * capacity
        cp.n_batch = max(total, B)
        cp.n_ubatch = min(512, cp.n_batch)
        cp.n_seq_max = B
        cp.kv_unified = True
        cp.n_threads = cp.n_threads_batch = self.threads
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise ValueError("llama.cpp could not create a context")
        self.batch = L.llama_batch_init(cp.n_batch, 0, 1)
        self.seqs = list(range(B))
        self.pos = [len(p) for p in prompts]
        C = _common_prefix(prompts) if B > 1 else 0
        C = min(C, min(len(p) for p in prompts) - 1) if C >= 2 else 0
        if C:  # the shared prefix once, in sequence 0, then shared by every sequence
            self._decode([(int(t), j, 0, False) for j, t in enumerate(prompts[0][:C])])
            mem = L.llama_get_memory(self.ctx)
            for r in range(1, B):
                L.llama_memory_seq_cp(mem, 0, r, -1, -1)
        self.shared_prefix = C
        items = [(int(t), C + j, r, j == len(p) - C - 1) for r, p in enumerate(prompts)
                 for j, t in enumerate(p[C:])]
        return self._decode(items), None

    def step(self, tokens, hidden=False):
        """Feed one token per kept row."""
        toks = [int(t) for t in np.asarray(tokens).ravel()]
        items = [(t, self.pos[i], self.seqs[i], True) for i, t in enumerate(toks)]
        self.pos = [p + 1 for p in self.pos]
        return self._decode(items), None

    def keep(self, rows):
        """Keep the rows ``rows``; the others' sequences are removed from the cache."""
        rows = [int(r) for r in np.asarray(rows).ravel()]
        mem = self.L.llama_get_memory(self.ctx)
        for i in set(range(len(self.seqs))) - set(rows):
            self.L.llama_memory_seq_rm(mem, self.seqs[i], -1, -1)
        self.seqs = [self.seqs[r] for r in rows]
        self.pos = [self.pos[r] for r in rows]

    def close(self):
        """Free the context of the last batch."""
        if self.ctx is not None:
            self.L.llama_batch_free(self.batch)
            self.L.llama_free(self.ctx)
            self.ctx = None


def _common_prefix(prompts):
    """Length of the longest common prefix of token lists."""
    first = prompts[0]
    n = min(len(p) for p in prompts)
    for p in prompts[1:]:
        k = 0
        while k < n and p[k] == first[k]:
            k += 1
        n = k
    return n


def make_engine(name, model=None, gguf=None, threads=None):
    """The engine ``name`` of :data:`ENGINES` over a transformers ``model`` or a ``gguf`` file."""
    if name == "torch":
        return TorchLlamaEngine(model)
    if name == "hf":
        return HFEngine(model)
    if name == "llama.cpp":
        if gguf is None:
            raise ValueError("engine llama.cpp needs a GGUF model file")
        return LlamaCppEngine(gguf, threads)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
