"""A small decoder-only transformer language model in plain JAX, its sampler and its checkpoints.

Parameters are a dict of arrays (``tok_emb``, ``pos_emb``, ``blocks`` as a list of dicts,
``ln_f``); the architecture is pre-LayerNorm GPT with learned positions and tied input/output
embeddings. :func:`forward` scores whole sequences (training, evaluation); :func:`sample`
generates with a key-value cache inside one compiled ``lax.while_loop``.

Sampling contract (what :func:`sample` does per row of a batch)
----------------------------------------------------------------
* Prompts (token lists, each ending in ``<think>``) may differ in length; every position is fed
  one token at a time, prompt tokens are copied, later tokens are drawn.
* ``temperature == 0`` is greedy; otherwise logits / temperature, then top-p (nucleus) filtering.
  Each row draws from its own key ``PRNGKey(seed_row)`` folded with the position, so a row's
  sample depends on its seed only, not on the rest of the batch.
* Thinking position ``t`` of a row is the number of thinking tokens already generated (after
  ``<think>``); the row is *thinking* until it emits ``</think>``.
* ``max_thinking``: when a thinking row has ``t == max_thinking``, its next token is forced to
  ``</think>`` (budget forcing); the answer is then generated as usual.
* ``logits_processor(logits, state) -> logits``: a JAX-traceable function applied to the
  next-token logits ``[B, V]`` of every step before forcing and sampling. ``state`` is a dict:
  ``position`` (scalar, index of the current token), ``thinking_position`` (``[B]`` int32, t),
  ``thinking`` (``[B]`` bool), ``generating`` (``[B]`` bool: the next token is drawn, not copied
  from the prompt), ``tokens`` (``[B, T]`` the sequence buffer) and ``hidden``
  (``[B, n_layers + 1, d]`` the hidden states at the current position). The function is compiled
  into the loop (pass the same object again to reuse the compilation).
* ``capture_hidden``: at every position whose next token is a thinking token or ``</think>``
  (the position that predicts it: the ``<think>`` token itself, then each thinking token), the
  hidden states ``[n_layers + 1, d]`` are kept: the embedding output, each block's output, the
  last one after the final LayerNorm (the Hugging Face ``output_hidden_states`` convention).
  Per sequence this is ``[thinking_length + 1, n_layers + 1, d]`` when ``</think>`` was emitted
  (forced or not); the remaining-length target at thinking position ``t`` is
  ``L = thinking_length + 1 - t`` (tokens from the predicted token through ``</think>``
  inclusive, so ``L = 1`` at the position that predicts ``</think>``). A sequence that never
  closes its thinking has ``L = -1`` (unknown) at every captured position.

Checkpoints are a directory with ``params.npz``, ``config.json`` (the :class:`ModelConfig` and
training metadata) and ``params.sha256`` (SHA-256 of ``params.npz``), verified on load.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from theory._params import check_int, check_real
from validation import task

__all__ = [
    "ModelConfig", "init_params", "forward", "loss_fn", "sample", "SampleBatch",
    "save_checkpoint", "load_checkpoint", "checkpoint_sha256", "param_count",
]


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape of the transformer.

    Attributes
    ----------
    vocab_size : int
        Number of token ids (the task's vocabulary by default).
    d_model : int
        Width of the residual stream, divisible by ``n_heads``.
    n_layers : int
        Number of transformer blocks, >= 1.
    n_heads : int
        Attention heads per block, >= 1.
    d_ff : int
        Hidden width of each MLP.
    max_len : int
        Longest sequence (learned positions), prompt included.
    """

    vocab_size: int = len(task.VOCAB)
    d_model: int = 64
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 256
    max_len: int = 96

    def __post_init__(self):
        check_int("vocab_size", self.vocab_size, 2)
        check_int("d_model", self.d_model, 8, 8192)
        check_int("n_layers", self.n_layers, 1, 64)
        check_int("n_heads", self.n_heads, 1, self.d_model)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads={self.n_heads}, "
                             f"got {self.d_model}")
        check_int("d_ff", self.d_ff, 1, 65536)
        check_int("max_len", self.max_len, 8, 4096)


def init_params(config, seed=0):
    """Random initial parameters (normal 0.02; residual projections scaled by depth)."""
    key = jax.random.PRNGKey(check_int("seed", seed, 0))
    d, f = config.d_model, config.d_ff
    keys = iter(jax.random.split(key, 2 + 4 * config.n_layers))

    def normal(k, shape, s=0.02):
        return (s * jax.random.normal(k, shape)).astype(jnp.float32)

    res = 0.02 / math.sqrt(2 * config.n_layers)
    blocks = []
    for _ in range(config.n_layers):
        blocks.append(dict(
            ln1_g=jnp.ones(d), ln1_b=jnp.zeros(d),
            w_qkv=normal(next(keys), (d, 3 * d)), b_qkv=jnp.zeros(3 * d),
            w_o=normal(next(keys), (d, d), res), b_o=jnp.zeros(d),
            ln2_g=jnp.ones(d), ln2_b=jnp.zeros(d),
            w_1=normal(next(keys), (d, f)), b_1=jnp.zeros(f),
            w_2=normal(next(keys), (f, d), res), b_2=jnp.zeros(d),
        ))
    return dict(tok_emb=normal(next(keys), (config.vocab_size, d)),
                pos_emb=normal(next(keys), (config.max_len, d), 0.01),
                blocks=blocks, ln_f_g=jnp.ones(d), ln_f_b=jnp.zeros(d))


def param_count(params):
    """Number of scalar parameters."""
    return int(sum(np.size(x) for x in jax.tree_util.tree_leaves(params)))


def _ln(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) * jax.lax.rsqrt(var + 1e-5) * g + b


def _mlp(blk, x):
    h = _ln(x, blk["ln2_g"], blk["ln2_b"])
    return jax.nn.gelu(h @ blk["w_1"] + blk["b_1"]) @ blk["w_2"] + blk["b_2"]


def forward(params, tokens, n_heads, return_hidden=False):
    """Logits for every position of ``tokens`` ``[B, T]`` (causal).

    Returns
    -------
    logits : array [B, T, V]
    hidden : array [B, T, n_layers + 1, d], only with ``return_hidden``
        Embedding output, each block's output; the last entry after the final LayerNorm.
    """
    B, T = tokens.shape
    x = params["tok_emb"][tokens] + params["pos_emb"][:T]
    d = x.shape[-1]
    dh = d // n_heads
    mask = jnp.tril(jnp.ones((T, T), bool))
    hs = [x]
    for blk in params["blocks"]:
        h = _ln(x, blk["ln1_g"], blk["ln1_b"])
        qkv = (h @ blk["w_qkv"] + blk["b_qkv"]).reshape(B, T, 3, n_heads, dh)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        att = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)
        att = jax.nn.softmax(jnp.where(mask, att, -1e9), axis=-1)
        o = jnp.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, T, d)
        x = x + o @ blk["w_o"] + blk["b_o"]
        x = x + _mlp(blk, x)
        hs.append(x)
    x = _ln(x, params["ln_f_g"], params["ln_f_b"])
    logits = x @ params["tok_emb"].T
    if not return_hidden:
        return logits
    hs[-1] = x
    return logits, jnp.stack(hs, axis=2)


def loss_fn(params, tokens, loss_mask, n_heads):
    """Mean next-token cross-entropy over positions where ``loss_mask[:, 1:]`` is true."""
    logits = forward(params, tokens[:, :-1], n_heads)
    logp = jax.nn.log_softmax(logits, axis=-1)
    tgt = tokens[:, 1:]
    nll = -jnp.take_along_axis(logp, tgt[..., None], axis=-1)[..., 0]
    m = loss_mask[:, 1:].astype(jnp.float32)
    return (nll * m).sum() / jnp.maximum(m.sum(), 1.0)


# ----------------------------------------------------------------------------- sampling

def _step(params, cache_k, cache_v, tok, pos, n_heads):
    """One position for all rows: returns logits [B, V], hidden [B, L+1, d], new caches."""
    x = params["tok_emb"][tok] + params["pos_emb"][pos]
    B, d = x.shape
    dh = d // n_heads
    T = cache_k.shape[3]
    visible = jnp.arange(T) <= pos
    hs = [x]
    for li, blk in enumerate(params["blocks"]):
        h = _ln(x, blk["ln1_g"], blk["ln1_b"])
        qkv = (h @ blk["w_qkv"] + blk["b_qkv"]).reshape(B, 3, n_heads, dh)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        cache_k = cache_k.at[li, :, :, pos].set(k)
        cache_v = cache_v.at[li, :, :, pos].set(v)
        att = jnp.einsum("bhd,bhtd->bht", q, cache_k[li]) / math.sqrt(dh)
        att = jax.nn.softmax(jnp.where(visible, att, -1e9), axis=-1)
        o = jnp.einsum("bht,bhtd->bhd", att, cache_v[li]).reshape(B, d)
        x = x + o @ blk["w_o"] + blk["b_o"]
        x = x + _mlp(blk, x)
        hs.append(x)
    x = _ln(x, params["ln_f_g"], params["ln_f_b"])
    hs[-1] = x
    return x @ params["tok_emb"].T, jnp.stack(hs, axis=1), cache_k, cache_v


def _top_p_filter(logits, top_p):
    """Mask logits outside the smallest set whose probability reaches ``top_p`` (per row)."""
    order = jnp.argsort(-logits, axis=-1)
    sorted_logits = jnp.take_along_axis(logits, order, axis=-1)
    probs = jax.nn.softmax(sorted_logits, axis=-1)
    before = jnp.cumsum(probs, axis=-1) - probs
    # the most likely token is always kept: a top_p below float32's range (1e-300) rounds
    # to 0, and ``before < 0`` would otherwise mask every token
    keep_sorted = (before < top_p) | (jnp.arange(logits.shape[-1]) == 0)
    keep = jnp.zeros_like(keep_sorted).at[jnp.arange(logits.shape[0])[:, None], order].set(
        keep_sorted)
    return jnp.where(keep, logits, -jnp.inf)


@functools.partial(jax.jit, static_argnames=("n_heads", "greedy", "capture", "processor"))
def _generate(params, buf, prompt_len, seeds, temperature, top_p, max_new, max_thinking,
              n_heads, greedy, capture, processor):
    B, T = buf.shape
    n_layers = len(params["blocks"])
    d = params["tok_emb"].shape[1]
    dh = d // n_heads
    cache = jnp.zeros((n_layers, B, n_heads, T, dh), jnp.float32)
    hid = jnp.zeros((B, T if capture else 1, n_layers + 1, d), jnp.float32)
    keys = jax.vmap(jax.random.PRNGKey)(seeds)
    rows = jnp.arange(B)

    def cond(c):
        pos, done = c[0], c[5]
        return (pos < T - 1) & ~jnp.all(done)

    def body(c):
        pos, buf, ck, cv, hid, done, t, thinking = c
        logits, hs, ck, cv = _step(params, ck, cv, buf[:, pos], pos, n_heads)
        generating = (pos + 1 >= prompt_len) & ~done
        if capture:
            slot = jnp.where(generating & thinking, t, T)  # T is out of range: dropped
            hid = hid.at[rows, slot].set(hs, mode="drop")
        if processor is not None:
            state = dict(position=pos, thinking_position=t, thinking=thinking,
                         generating=generating, tokens=buf, hidden=hs)
            logits = processor(logits, state)
        if greedy:
            nxt = jnp.argmax(logits, axis=-1)
        else:
            z = _top_p_filter(logits / temperature, top_p)
            step_keys = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys, pos)
            nxt = jax.vmap(jax.random.categorical)(step_keys, z)
        nxt = jnp.where(thinking & (t >= max_thinking), task.END_THINK, nxt).astype(buf.dtype)
        new_tok = jnp.where(generating, nxt, jnp.where(done, task.PAD, buf[:, pos + 1]))
        buf = buf.at[:, pos + 1].set(new_tok)
        n_new = pos + 2 - prompt_len
        t = jnp.where(generating & thinking & (new_tok != task.END_THINK), t + 1, t)
        thinking = thinking & ~(generating & (new_tok == task.END_THINK))
        done = done | (generating & ((new_tok == task.EOS) | (n_new >= max_new)))
        return pos + 1, buf, ck, cv, hid, done, t, thinking

    init = (jnp.int32(0), buf, cache, cache, hid, jnp.zeros(B, bool), jnp.zeros(B, jnp.int32),
            jnp.ones(B, bool))
    pos, buf, _, _, hid, done, t, thinking = jax.lax.while_loop(cond, body, init)
    return buf, hid


@dataclasses.dataclass(frozen=True)
class SampleBatch:
    """What :func:`sample` returns for ``N`` prompts.

    Attributes
    ----------
    tokens : list of ndarray
        Generated tokens of each row (after the prompt, up to and including ``<eos>``).
    hidden : list of ndarray or None
        Per row ``[n_positions, n_layers + 1, d]`` float32 (see the module docstring).
    remaining : list of ndarray or None
        Per row ``[n_positions]`` int: remaining-length target L at each captured position.
    """

    tokens: list
    hidden: list | None = None
    remaining: list | None = None


def sample(params, config, prompts, *, temperature=0.8, top_p=0.95, seed=0, max_new_tokens=None,
           max_thinking=None, logits_processor=None, capture_hidden=False, batch_size=256):
    """Generate completions for token prompts, in batches, with the sampling contract above.

    Parameters
    ----------
    params : dict
        Model parameters.
    config : ModelConfig
        Model shape.
    prompts : list of list of int
        Prompt token ids, each ending in ``<think>``.
    temperature : float
        >= 0; 0 means greedy decoding.
    top_p : float
        Nucleus mass in (0, 1].
    seed : int or sequence of int
        One seed for all rows (row ``i`` uses ``seed + i``) or one seed per row (each in
        ``[0, 2**31)``).
    max_new_tokens : int or None
        Cap on generated tokens (default: up to ``config.max_len``).
    max_thinking : int or None
        Force ``</think>`` after this many thinking tokens (budget forcing).
    logits_processor : callable or None
        ``f(logits[B, V], state) -> logits``, JAX-traceable.
    capture_hidden : bool
        Keep the hidden states at thinking positions.
    batch_size : int
        Rows per compiled batch; the last batch is padded with copies.

    Returns
    -------
    SampleBatch
    """
    temperature = check_real("temperature", temperature, 0.0)
    top_p = check_real("top_p", top_p, 0.0, 1.0, lo_open=True)
    batch_size = check_int("batch_size", batch_size, 1)
    n = len(prompts)
    if n == 0:
        raise ValueError("prompts must be a non-empty list")
    T = config.max_len
    longest = max(len(p) for p in prompts)
    if longest >= T:
        raise ValueError(f"prompt length must be < max_len={T}, got {longest}")
    if max_new_tokens is None:
        max_new_tokens = T
    max_new_tokens = check_int("max_new_tokens", max_new_tokens, 1)
    max_thinking = T if max_thinking is None else check_int("max_thinking", max_thinking, 0)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        check_int("seed", int(seed), 0, 2**31 - 1 - n)
        seeds = np.arange(n, dtype=np.int64) + int(seed)
    else:
        seeds = np.asarray(seed, dtype=np.int64).ravel()
        if seeds.shape != (n,):
            raise ValueError(f"seed must be an int or one seed per prompt ({n}), "
                             f"got {seeds.shape[0]} seeds")
        if seeds.min() < 0 or seeds.max() >= 2**31:
            raise ValueError("seed values must be in [0, 2**31)")
    bs = min(batch_size, n)
    out_tokens = []
    out_hidden, out_rem = ([], []) if capture_hidden else (None, None)
    for start in range(0, n, bs):
        idx = list(range(start, min(start + bs, n)))
        idx_pad = idx + [idx[-1]] * (bs - len(idx))
        buf = np.full((bs, T), task.PAD, np.int32)
        plen = np.zeros(bs, np.int32)
        for r, i in enumerate(idx_pad):
            buf[r, :len(prompts[i])] = prompts[i]
            plen[r] = len(prompts[i])
        res_buf, hid = _generate(
            params, jnp.asarray(buf), jnp.asarray(plen), jnp.asarray(seeds[idx_pad], jnp.uint32),
            jnp.float32(max(temperature, 1e-6)), jnp.float32(top_p), jnp.int32(max_new_tokens),
            jnp.int32(max_thinking), n_heads=config.n_heads, greedy=temperature == 0.0,
            capture=bool(capture_hidden), processor=logits_processor)
        res_buf = np.asarray(res_buf)
        hid = np.asarray(hid) if capture_hidden else None
        for r in range(len(idx)):
            # a row stopped by max_new_tokens is padded after its last token: cut it there
            gen = res_buf[r, plen[r]:plen[r] + max_new_tokens]
            parsed = task.parse_completion(gen)
            toks = gen[:parsed["total_length"]].copy()
            out_tokens.append(toks)
            if capture_hidden:
                k = parsed["thinking_length"]
                n_pos = k + 1 if parsed["closed"] else k
                n_pos = min(n_pos, hid.shape[1])
                out_hidden.append(hid[r, :n_pos].copy())
                if parsed["closed"]:
                    out_rem.append(np.arange(k + 1, k + 1 - n_pos, -1, dtype=np.int64))
                else:
                    out_rem.append(np.full(n_pos, -1, dtype=np.int64))
    return SampleBatch(out_tokens, out_hidden, out_rem)


# ----------------------------------------------------------------------------- checkpoints

def _flatten(params):
    flat = {"tok_emb": params["tok_emb"], "pos_emb": params["pos_emb"],
            "ln_f_g": params["ln_f_g"], "ln_f_b": params["ln_f_b"]}
    for i, blk in enumerate(params["blocks"]):
        for k, v in blk.items():
            flat[f"blocks.{i}.{k}"] = v
    return {k: np.asarray(v, np.float32) for k, v in flat.items()}


def _unflatten(flat, n_layers):
    params = {k: jnp.asarray(flat[k]) for k in ("tok_emb", "pos_emb", "ln_f_g", "ln_f_b")}
    blocks = [{} for _ in range(n_layers)]
    for k, v in flat.items():
        if k.startswith("blocks."):
            _, i, name = k.split(".", 2)
            blocks[int(i)][name] = jnp.asarray(v)
    params["blocks"] = blocks
    return params


def checkpoint_sha256(directory):
    """SHA-256 (hex) of the checkpoint's ``params.npz``."""
    h = hashlib.sha256()
    with open(Path(directory) / "params.npz", "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_write(path, data):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def save_checkpoint(directory, params, config, metadata=None):
    """Write ``params.npz``, ``params.sha256`` and ``config.json``; return the checksum."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    import io
    bio = io.BytesIO()
    np.savez(bio, **_flatten(params))
    _atomic_write(directory / "params.npz", bio.getvalue())
    digest = checkpoint_sha256(directory)
    _atomic_write(directory / "params.sha256", (digest + "  params.npz\n").encode())
    doc = dict(config=dataclasses.asdict(config), sha256=digest, metadata=metadata or {})
    _atomic_write(directory / "config.json", (json.dumps(doc, indent=1) + "\n").encode())
    return digest


def load_checkpoint(directory):
    """Load ``(params, config, info)`` after verifying the checksum.

    ``info`` is the ``config.json`` document (``sha256``, ``metadata``). Raises a one-line
    ``ValueError`` when a file is missing or the checksum does not match.
    """
    directory = Path(directory)
    for name in ("params.npz", "params.sha256", "config.json"):
        if not (directory / name).is_file():
            raise ValueError(f"checkpoint {directory} has no {name}")
    expected = (directory / "params.sha256").read_text().split()[0] if (
        directory / "params.sha256").read_text().strip() else ""
    actual = checkpoint_sha256(directory)
    if actual != expected:
        raise ValueError(f"checkpoint {directory}: params.npz checksum {actual[:12]}... does not "
                         f"match params.sha256 {expected[:12]}...")
    try:
        info = json.loads((directory / "config.json").read_text())
        config = ModelConfig(**info["config"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"checkpoint {directory}: bad config.json ({exc})") from None
    if info.get("sha256") not in (None, actual):
        raise ValueError(f"checkpoint {directory}: config.json records sha256 "
                         f"{str(info['sha256'])[:12]}..., params.npz has {actual[:12]}...")
    with np.load(directory / "params.npz") as z:
        flat = {k: z[k] for k in z.files}
    params = _unflatten(flat, config.n_layers)
    return params, config, info
