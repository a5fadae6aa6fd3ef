"""What both budget-guidance processors share: the length model in torch, the weights, the
thinking state of a row.

The law is the one of the in-project JAX hook (``validation.check.gamma.guidance_processor``;
docs/models/gamma.md (11), (13), (14)): at a guided step of a thinking row with ``t`` thinking
tokens, remaining budget ``b_t = max(budget - t, 1)`` and sampling temperature ``T``,

    logits_v  ->  logits_v + T log a_v,   a_v = P(alpha_v, rate_v log(b_t + offset)),

so that after the sampler divides by ``T`` the guided law is ``q ∝ p_T a`` (Bayes' rule in log
space; the power series (14) where ``P`` underflows; a row with no finite guided logit keeps
its logits). ``(alpha_v, rate_v)`` come from the project's Gamma predictor (per candidate, from
the hidden state of the predictor's layer and the position feature) or from the position-only
predictor (one law for every candidate). A candidate whose remaining length is known to be 1,
the next token of a partly written end-of-thinking marker (``Answer`` after the newline of
``"\\nAnswer:"``), has ``a = 1`` exactly (the law (17) of an end token).
"""

from __future__ import annotations

import math

import numpy as np

from validation import gamma as vg

__all__ = ["TRIGGERS", "UNTRAINED", "LengthModel", "load_length_model", "log_weights",
           "guide_logits", "end_sequences", "newline_ids", "next_end_tokens", "check_budget"]

#: Where guidance acts: the first thinking token and every token after a newline (the authors'
#: code), or every thinking token.
TRIGGERS = ("newline", "every_token")
_LOG2 = math.log(2.0)
#: Laws of candidates the hidden-state predictor never saw (:class:`LengthModel`).
UNTRAINED = ("position", "head")


def check_budget(budget):
    """The thinking budget as an int ``>= 1``; one-line ValueError otherwise."""
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer | float) or \
            not math.isfinite(float(budget)) or float(budget) != int(budget) or budget < 1:
        raise ValueError(f"budget must be an integer >= 1 (thinking tokens), got {budget!r}")
    return int(budget)


class LengthModel:
    """A fitted length predictor as torch tensors on one device.

    Parameters
    ----------
    predictor : validation.gamma.Predictor or validation.gamma.PositionBuckets
        The hidden-state predictor (encoder ``mlp`` or ``linear``) or the position-only one.
    device : str or torch.device
    untrained : {"position", "head"}
        The law of a candidate the hidden-state predictor never saw in training (its head row
        keeps its initial weights, near ``alpha = rate = log 2``, (8)): ``"position"`` (default)
        the position-only law stored with the predictor (``info["position"]``, fitted on the
        same training positions; candidates seen are ``info["trained_tokens"]``), ``"head"`` the
        untrained row itself. Without that information, ``"head"``.
    """

    def __init__(self, predictor, device="cpu", untrained="position"):
        import torch

        self.device = torch.device(device)
        self.fallback = None
        if isinstance(predictor, vg.PositionBuckets):
            self.needs_hidden = False
            info = predictor.info
            self.edges = torch.as_tensor(predictor.edges, dtype=torch.float64, device=self.device)
            self.alpha = torch.as_tensor(predictor.alpha, dtype=torch.float32, device=self.device)
            self.rate = torch.as_tensor(predictor.rate, dtype=torch.float32, device=self.device)
            self.offset = float(info.get("offset", 1.0))
            self.layers, self.d_in, self.n_vocab = (), None, None
        elif isinstance(predictor, vg.Predictor):
            cfg = predictor.config
            if cfg.encoder == "attention":
                raise ValueError("predictor encoder must be mlp or linear for the torch "
                                 "processors, got attention")
            self.needs_hidden = True
            info = predictor.info
            self.config = cfg
            self.params = {k: torch.as_tensor(np.array(v), dtype=torch.float32,
                                              device=self.device)
                           for k, v in predictor.params.items()}
            self.offset = float(cfg.offset)
            self.d_in, self.n_vocab = cfg.d_in, cfg.n_vocab
            self.layers = tuple(int(x) for x in info.get("layers", ()))
            if self.layers and len(self.layers) != cfg.n_layers_in:
                raise ValueError(f"predictor info lists {len(self.layers)} layers for "
                                 f"n_layers_in {cfg.n_layers_in}")
            if untrained not in UNTRAINED:
                raise ValueError(f"untrained must be one of {', '.join(UNTRAINED)}, got "
                                 f"{untrained!r}")
            fb = info.get("position")
            self.fallback = None
            if untrained == "position" and fb and info.get("trained_tokens") is not None:
                inner = np.asarray(fb["inner_edges"], float)
                self.fallback = LengthModel(vg.PositionBuckets(
                    edges=np.concatenate([[-np.inf], inner, [np.inf]]),
                    alpha=np.asarray(fb["alpha"], float), rate=np.asarray(fb["rate"], float),
                    counts=np.zeros(len(fb["alpha"]), np.int64),
                    info=dict(pos_scale=info.get("pos_scale", vg.POS_SCALE))), device)
                mask = torch.zeros(cfg.n_vocab, dtype=torch.bool)
                ids = torch.as_tensor([int(x) for x in info["trained_tokens"]], dtype=torch.long)
                mask[ids[(ids >= 0) & (ids < cfg.n_vocab)]] = True
                self.trained = mask.to(self.device)
        else:
            raise TypeError(f"predictor must be a validation.gamma.Predictor or PositionBuckets, "
                            f"got {type(predictor).__name__}")
        self.pos_scale = float(info.get("pos_scale", vg.POS_SCALE))

    def laws(self, t, hidden=None):
        """``(alpha, rate)``: ``[A, n_vocab]`` (hidden-state predictor) or ``[A, 1]``.

        ``t`` ``[A]`` thinking positions; ``hidden`` ``[A, n_layers_in, d]`` for the
        hidden-state predictor (docs/models/gamma.md (8)).
        """
        import torch
        import torch.nn.functional as F

        pos = t.to(self.device, torch.float32) / self.pos_scale
        if not self.needs_hidden:
            idx = torch.searchsorted(self.edges, pos.to(torch.float64), right=True) - 1
            idx = idx.clamp(0, self.alpha.numel() - 1)
            return self.alpha[idx][:, None], self.rate[idx][:, None]
        p, cfg = self.params, self.config
        h = hidden.to(self.device, torch.float32)
        if cfg.encoder == "linear":
            z = h[:, -1, :]
        else:
            x = h.reshape(h.shape[0], -1)
            for i in range(cfg.depth):
                x = F.gelu(x @ p[f"mlp{i}_w"] + p[f"mlp{i}_b"], approximate="tanh")
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            z = (x - mu) * torch.rsqrt(var + 1e-5) * p["ln_f_g"] + p["ln_f_b"]
        if cfg.use_position:
            z = z + pos[:, None] @ p["pos_w"]
        if cfg.per_token:
            return F.softplus(z @ p["w_alpha"].T), F.softplus(z @ p["w_rate"].T)
        u = z @ p["w_head"].T + p["b_head"]
        return F.softplus(u[:, :1]), F.softplus(u[:, 1:2])


    def log_weights(self, t, remaining, V, hidden=None):
        """``log a`` ``[A, V]`` for a vocabulary of ``V`` logits (see :func:`log_weights`).

        Candidates beyond the heads (ids ``>= n_vocab``) and, with a position fallback, those
        never trained take the position-only law; without one, the untrained law
        ``alpha = rate = log 2`` of (8).
        """
        import torch

        alpha, rate = self.laws(t, hidden)
        loga = log_weights(alpha, rate, remaining, self.offset)
        A, K = loga.shape
        if K == 1:
            return loga.expand(A, V).clone()
        if self.fallback is not None:
            a_f, r_f = self.fallback.laws(t)
            base = log_weights(a_f, r_f, remaining, self.fallback.offset)   # [A, 1]
            loga = torch.where(self.trained[None, :], loga, base)
        else:
            rest = torch.full((A, 1), _LOG2, device=loga.device)
            base = log_weights(rest, rest, remaining, self.offset)
        if K < V:
            loga = torch.cat([loga, base.expand(A, V - K)], dim=1)
        return loga[:, :V]


def load_length_model(path, device="cpu"):
    """A :class:`LengthModel` from a file of :func:`validation.gamma.save_predictor` or
    :func:`validation.gamma.save_position_buckets`; one-line ValueError otherwise."""
    try:
        return LengthModel(vg.load_predictor(path), device)
    except ValueError as first:
        try:
            return LengthModel(vg.load_position_buckets(path), device)
        except ValueError:
            raise first from None


def log_weights(alpha, rate, remaining, offset=1.0):
    """``log a = log P(alpha, rate log(b + offset))`` with the series (14) where ``P`` is 0.

    ``remaining`` ``[A]`` is ``b_t >= 1``; ``alpha``, ``rate`` ``[A, K]``. float32 as the
    JAX hook.
    """
    import torch

    b = remaining.to(alpha.device, torch.float32)[:, None]
    x = rate * torch.log(b + offset)
    p = torch.special.gammainc(alpha, x)
    lead = alpha * torch.log(x) - x - torch.lgamma(alpha + 1.0)
    return torch.where(p > 0, torch.log(torch.where(p > 0, p, torch.ones_like(p))), lead)


def guide_logits(logits, model, t, budget, gate, *, temperature=1.0, hidden=None, end=None):
    """The guided logits of the rows ``gate``; the other rows are returned unchanged.

    Parameters
    ----------
    logits : torch.Tensor
        ``[A, V]`` raw next-token logits (before temperature and top-p).
    model : LengthModel
    t : torch.Tensor
        ``[A]`` thinking tokens generated so far.
    budget : int or torch.Tensor
        Thinking budget (one, or ``[A]``), ``>= 1``.
    gate : torch.Tensor
        ``[A]`` bool: rows guided at this step.
    temperature : float or torch.Tensor
        The temperature the sampler divides by after this step (one, or ``[A]``); 0 (greedy)
        counts as 1.
    hidden : torch.Tensor or None
        ``[A, n_layers_in, d]`` for a hidden-state predictor.
    end : list of list of int or None
        Per row, candidate ids whose weight is exactly 1 (see :func:`next_end_tokens`).
    """
    import torch

    if not bool(gate.any()):
        return logits
    rows = torch.nonzero(gate.to(torch.bool)).flatten()
    A, V = logits.shape
    t = t.to(torch.float32)
    b = torch.as_tensor(budget, dtype=torch.float32).expand(A) if not torch.is_tensor(budget) \
        else budget.to(torch.float32).expand(A)
    remaining = torch.clamp(b - t.cpu(), min=1.0)[rows.cpu()]
    loga = model.log_weights(t[rows.to(t.device)], remaining.to(model.device), V,
                             None if hidden is None else hidden[rows.to(hidden.device)])
    loga = loga.to(logits.device)
    if end is not None:
        for j, r in enumerate(rows.tolist()):
            ids = [v for v in end[r] if 0 <= v < V]
            if ids:
                loga[j, ids] = 0.0
    temp = torch.as_tensor(temperature, dtype=torch.float32).expand(A) \
        if not torch.is_tensor(temperature) else temperature.to(torch.float32).expand(A)
    temp = torch.where(temp > 0, temp, torch.ones_like(temp)).to(logits.device)[rows]
    sub = logits[rows]
    guided = sub + temp[:, None] * loga.to(sub.dtype)
    ok = torch.isfinite(guided).any(dim=-1)
    out = logits.clone()
    out[rows] = torch.where(ok[:, None], guided, sub)
    return out


def end_sequences(tokenizer, texts=("\nAnswer:",)):
    """Token-id sequences of end-of-thinking markers (texts tokenized without special tokens).

    ``</think>`` is added when the tokenizer holds it as one token.
    """
    seqs = []
    for text in texts:
        ids = list(tokenizer(text, add_special_tokens=False).input_ids)
        if ids and ids not in seqs:
            seqs.append([int(x) for x in ids])
    think = tokenizer.convert_tokens_to_ids("</think>") if hasattr(
        tokenizer, "convert_tokens_to_ids") else None
    unk = getattr(tokenizer, "unk_token_id", None)
    if isinstance(think, int) and think >= 0 and think != unk and [think] not in seqs:
        seqs.append([int(think)])
    if not seqs:
        raise ValueError(f"end-of-thinking texts must tokenize to at least one token, got "
                         f"{list(texts)!r}")
    return seqs


def newline_ids(tokenizer):
    """The ids of the tokens whose text contains a newline (the trigger ``"newline"``)."""
    out = []
    for i in range(len(tokenizer)):
        if "\n" in tokenizer.decode([i]):
            out.append(i)
    return frozenset(out)


def next_end_tokens(generated, sequences):
    """Candidates that would complete or continue an end marker after ``generated``.

    For each end sequence ``s``: ``s[k]`` when the last ``k >= 1`` generated ids equal
    ``s[:k]``, and ``s[0]`` when ``s`` is a single token (``</think>``). The first token of a
    longer marker (the newline of ``"\\nAnswer:"``) also ends lines inside the thinking, so
    its weight stays the predictor's.
    """
    out = []
    n = len(generated)
    for s in sequences:
        if len(s) == 1:
            out.append(s[0])
            continue
        for k in range(1, len(s)):
            if k <= n and list(generated[n - k:]) == s[:k]:
                out.append(s[k])
    return out


def ends_thinking(generated, sequences):
    """True when ``generated`` ends with one of the end ``sequences``."""
    n = len(generated)
    return any(len(s) <= n and list(generated[n - len(s):]) == s for s in sequences)


class RowState:
    """The thinking state of one row from its generated ids (used by both processors)."""

    __slots__ = ("generated", "thinking", "t")

    def __init__(self):
        self.generated = []
        self.thinking = True
        self.t = 0

    def push(self, token, sequences):
        """Append one generated token; thinking ends once an end sequence is complete."""
        self.generated.append(int(token))
        if self.thinking:
            if ends_thinking(self.generated, sequences):
                self.thinking = False
            else:
                self.t = len(self.generated)

    def sync(self, ids, sequences):
        """Catch up with the row's whole generated list ``ids`` (tokens not yet pushed)."""
        for tok in ids[len(self.generated):]:
            self.push(tok, sequences)
