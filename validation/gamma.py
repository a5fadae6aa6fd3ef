"""The Budget Guidance length predictor in JAX, its baselines and its evaluation.

The predictor maps the frozen LM's hidden states at a position (all layers)
to one Gamma law over ``y = log(L + offset)`` per candidate next token,
trained by the Gamma NLL (docs/models/gamma.md, "The predictor", (8)-(9)).
The closed forms it relies on (densities, CDFs, the fit of one Gamma law,
calibration tools) live in :mod:`theory.gamma`; this module holds what is
fitted to runs (docs/models/gamma.md, "Checking on a real model").

* :class:`PredictorConfig`: the architecture and loss (open choices "predictor
  input", "loss weighting" and "likelihood").
* :class:`PredictorData`: positions with hidden states, optional position
  features, candidate tokens, trace ids and targets ``L``.
* :func:`fit_predictor` (optax AdamW, constant LR after a 5 % linear warm-up
  as in the authors' training recipes), :func:`predict`, :func:`save_predictor`,
  :func:`load_predictor`.
* Baselines: :func:`fit_unconditional` and the bucketed
  position-only predictor :func:`fit_position_buckets` /
  :func:`predict_position`.
* :func:`evaluate`: mean continuous and discrete NLL ((9), (4)) with standard
  errors, and the calibration summaries (25)-(26).

Everything runs in JAX's default float32 (the authors' heads are fp32).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.scipy.special import gammainc, gammaincc, gammaln

from sim._cli import command as _cli_command
from theory import gamma as tg
from theory._params import check_bool, check_choice, check_int, check_int_array, check_real

__all__ = [
    "ENCODERS",
    "LOSS_WEIGHTINGS",
    "SCHEDULES",
    "PredictorConfig",
    "PredictorData",
    "Predictor",
    "init_params",
    "gamma_params",
    "position_nll",
    "loss",
    "fit_predictor",
    "predict",
    "save_predictor",
    "load_predictor",
    "fit_unconditional",
    "PositionBuckets",
    "fit_position_buckets",
    "predict_position",
    "save_position_buckets",
    "load_position_buckets",
    "train_on_run",
    "hidden_predictor_data",
    "fallback_info",
    "main",
    "Evaluation",
    "evaluate",
]

#: Encoders (open choice "predictor input"): the authors' CLS + self-attention stack (scaled
#: down), an MLP over the concatenated layers, and the code's last-layer
#: "linear" path.
ENCODERS = ("attention", "mlp", "linear")
#: Loss weightings (open choice "loss weighting"): per-trace mean (the authors') or per-token.
LOSS_WEIGHTINGS = ("per_trace", "per_token")
_INIT_STD = 0.02  # HF _init_weights, as in the authors' code
_FORMAT = "budgetlab.gamma.predictor/1"
_POSITION_FORMAT = "budgetlab.gamma.position/1"


# ---------------------------------------------------------------------------
# configuration and data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictorConfig:
    """Architecture and loss of the length predictor (docs/models/gamma.md, "The predictor").

    Parameters
    ----------
    n_vocab : int
        Vocabulary size ``n`` (rows of each per-token head), ``>= 1``.
    d_in : int
        Hidden size ``d`` of the LM, ``>= 1``.
    n_layers_in : int
        Number of hidden-state vectors per position (``N + 1`` for all
        layers, 1 for last-layer-only), ``>= 1``.
    encoder : {"attention", "mlp", "linear"}
        ``"attention"``: a learnable CLS vector (zeros, in the LM's hidden
        space) prepended to the layer "sequence", ``Linear(d_in -> width)``
        on every item, ``depth`` pre-norm self-attention blocks without
        positional embeddings (unless ``layer_positions``), output at CLS
        (the authors' encoder scaled down; their BERT is post-norm with 12
        layers of 768).
        ``"mlp"``: the layers concatenated, ``depth`` GELU layers of ``width``
        and a final layer norm (as the attention encoder's, so that ``z`` has
        unit scale and the heads can reach large ``alpha``).
        ``"linear"``: the heads read the last layer directly (the code's
        ``encoder_type="linear"``); ``width`` is then ``d_in``.
    width, depth, heads : int
        Encoder width (``>= 1``), number of blocks/layers (``>= 0``; ``>= 1``
        for "mlp"), attention heads (must divide ``width``).
    per_token : bool
        Two ``[n_vocab, width]`` heads without bias, one row per candidate
        token (docs/models/gamma.md (8)); ``False``: one ``(alpha, rate)`` per position
        (a ``[2, width]`` head with a bias, for positions without candidates).
    use_position : bool
        Add ``Linear(n_pos -> width)`` of the position features to the
        encoder output (not in the authors' code: a baseline feature).
    n_pos : int
        Number of position features (e.g. 1: fraction of the trace elapsed).
    layer_positions : bool
        Learned layer-position embeddings in the attention encoder (an option of
        "predictor input").
    likelihood : {"continuous", "discrete"}
        Training loss: the density of ``y`` ((9), the authors') or the discrete
        likelihood ``F(log(L+offset)) - F(log(L-1+offset))`` ((4); JAX
        differentiates ``gammainc`` in its shape).
    loss_weighting : {"per_trace", "per_token"}
        Every trace weighs the same (the authors') or every position does.
    offset : float
        ``y = log(L + offset)``, ``> 0`` (open choice "offset").
    seed : int
        Seed of the initialisation, ``>= 0``.
    """

    n_vocab: int
    d_in: int
    n_layers_in: int = 1
    encoder: str = "mlp"
    width: int = 128
    depth: int = 2
    heads: int = 4
    per_token: bool = True
    use_position: bool = True
    n_pos: int = 1
    layer_positions: bool = False
    likelihood: str = "continuous"
    loss_weighting: str = "per_trace"
    offset: float = 1.0
    seed: int = 0

    def __post_init__(self):
        check_int("n_vocab", self.n_vocab, lo=1)
        check_int("d_in", self.d_in, lo=1)
        check_int("n_layers_in", self.n_layers_in, lo=1)
        check_choice("encoder", self.encoder, ENCODERS)
        check_int("width", self.width, lo=1)
        check_int("depth", self.depth, lo=1 if self.encoder == "mlp" else 0)
        check_int("heads", self.heads, lo=1)
        if self.encoder == "attention" and self.width % self.heads:
            raise ValueError(f"heads must divide width {self.width}, got {self.heads}")
        check_bool("per_token", self.per_token)
        check_bool("use_position", self.use_position)
        check_int("n_pos", self.n_pos, lo=1)
        check_bool("layer_positions", self.layer_positions)
        check_choice("likelihood", self.likelihood, tg.LIKELIHOODS)
        check_choice("loss_weighting", self.loss_weighting, LOSS_WEIGHTINGS)
        check_real("offset", self.offset, lo=0.0, lo_open=True)
        check_int("seed", self.seed, lo=0)

    @property
    def z_dim(self):
        """Size of the encoder output read by the heads."""
        return self.d_in if self.encoder == "linear" else self.width


def _h_array(h, config):
    h = np.asarray(h, dtype=np.float32)
    want = (config.n_layers_in, config.d_in)
    if h.ndim != 3 or h.shape[1:] != want:
        raise ValueError(f"h must have shape [N, {want[0]}, {want[1]}], got {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("h must be finite, got a NaN or infinity")
    return h


def _pos_array(pos, n, config):
    if not config.use_position:
        return np.zeros((n, 1), np.float32)
    if pos is None:
        raise ValueError("pos must be given when use_position is True, got None")
    pos = np.asarray(pos, dtype=np.float32)
    if pos.ndim == 1:
        pos = pos[:, None]
    if pos.shape != (n, config.n_pos) or not np.all(np.isfinite(pos)):
        raise ValueError(f"pos must be finite with shape [{n}] or [{n}, {config.n_pos}], "
                         f"got {pos.shape}")
    return pos


def _token_array(tokens, n, config):
    if not config.per_token:
        return np.zeros(n, np.int32)
    if tokens is None:
        raise ValueError("tokens must be given when per_token is True, got None")
    tokens = check_int_array("tokens", tokens, lo=0, hi=config.n_vocab - 1)
    if tokens.shape != (n,):
        raise ValueError(f"tokens must have shape [{n}], got {tokens.shape}")
    return tokens.astype(np.int32)


@dataclass(frozen=True)
class PredictorData:
    """Training or evaluation positions (docs/models/gamma.md, "The predictor").

    Parameters
    ----------
    h : array_like
        Hidden states ``[N, n_layers_in, d_in]`` at the position before each
        candidate (all layers).
    lengths : array_like of int
        Targets ``L >= 1`` ``[N]`` (remaining length counting the candidate
        and ``</think>``, (9)).
    tokens : array_like of int, optional
        The observed next token ``[N]`` (the candidate whose head row is
        scored, (9)).
    traces : array_like of int, optional
        Trace id ``[N]`` for the per-trace mean; default: one trace.
    pos : array_like, optional
        Position features ``[N]`` or ``[N, n_pos]`` (e.g. fraction elapsed).
    """

    h: np.ndarray
    lengths: np.ndarray
    tokens: np.ndarray | None = None
    traces: np.ndarray | None = None
    pos: np.ndarray | None = None

    def __post_init__(self):
        h = np.asarray(self.h, dtype=np.float32)
        if h.ndim != 3 or h.shape[0] == 0:
            raise ValueError(f"h must have shape [N, n_layers_in, d_in] with N >= 1, got {h.shape}")
        n = h.shape[0]
        lengths = tg._lengths(self.lengths)
        if lengths.shape != (n,):
            raise ValueError(f"lengths must have shape [{n}], got {np.shape(self.lengths)}")
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "lengths", lengths)
        if self.tokens is not None:
            tokens = check_int_array("tokens", self.tokens, lo=0)
            if tokens.shape != (n,):
                raise ValueError(f"tokens must have shape [{n}], got {tokens.shape}")
            object.__setattr__(self, "tokens", tokens)
        traces = np.zeros(n, np.int64) if self.traces is None else check_int_array(
            "traces", self.traces)
        if traces.shape != (n,):
            raise ValueError(f"traces must have shape [{n}], got {traces.shape}")
        object.__setattr__(self, "traces", traces)
        if self.pos is not None:
            pos = np.asarray(self.pos, dtype=np.float32)
            pos = pos[:, None] if pos.ndim == 1 else pos
            if pos.ndim != 2 or pos.shape[0] != n:
                raise ValueError(f"pos must have shape [{n}] or [{n}, n_pos], got {pos.shape}")
            object.__setattr__(self, "pos", pos)

    def __len__(self):
        return int(self.h.shape[0])

    def subset(self, idx):
        """The positions ``idx`` (an index array or boolean mask) as new data."""
        def pick(a):
            return None if a is None else a[idx]

        return PredictorData(self.h[idx], self.lengths[idx], pick(self.tokens), self.traces[idx],
                             pick(self.pos))


# ---------------------------------------------------------------------------
# parameters and forward pass
# ---------------------------------------------------------------------------


def init_params(config):
    """Initial parameters, a dict of float32 arrays: weights ``N(0, 0.02^2)``, CLS zeros.

    Weight matrices are drawn from ``N(0, 0.02^2)`` (HF ``_init_weights``),
    biases are 0 and layer-norm scales 1, so every untrained head row gives
    pre-activations near 0 and ``alpha ~ rate ~ log 2`` (docs/models/gamma.md (8)). The
    per-token heads are stored as ``[n_vocab, z_dim]`` (one row per token,
    as torch's ``Linear.weight``).
    """
    rng = np.random.default_rng(config.seed)

    def normal(*shape):
        return (rng.standard_normal(shape) * _INIT_STD).astype(np.float32)

    def zeros(*shape):
        return np.zeros(shape, np.float32)

    w, d, L = config.width, config.d_in, config.n_layers_in
    p = {}
    if config.encoder == "attention":
        p["cls"] = zeros(d)
        p["proj_w"], p["proj_b"] = normal(d, w), zeros(w)
        if config.layer_positions:
            p["layer_pos"] = normal(L + 1, w)
        for i in range(config.depth):
            p[f"block{i}_ln1_g"], p[f"block{i}_ln1_b"] = np.ones(w, np.float32), zeros(w)
            for name in ("q", "k", "v", "o"):
                p[f"block{i}_w{name}"] = normal(w, w)
            p[f"block{i}_ln2_g"], p[f"block{i}_ln2_b"] = np.ones(w, np.float32), zeros(w)
            p[f"block{i}_ff1_w"], p[f"block{i}_ff1_b"] = normal(w, 4 * w), zeros(4 * w)
            p[f"block{i}_ff2_w"], p[f"block{i}_ff2_b"] = normal(4 * w, w), zeros(w)
        p["ln_f_g"], p["ln_f_b"] = np.ones(w, np.float32), zeros(w)
    elif config.encoder == "mlp":
        fan_in = L * d
        for i in range(config.depth):
            p[f"mlp{i}_w"], p[f"mlp{i}_b"] = normal(fan_in, w), zeros(w)
            fan_in = w
        p["ln_f_g"], p["ln_f_b"] = np.ones(w, np.float32), zeros(w)
    z = config.z_dim
    if config.use_position:
        p["pos_w"] = normal(config.n_pos, z)
    if config.per_token:
        p["w_alpha"], p["w_rate"] = normal(config.n_vocab, z), normal(config.n_vocab, z)
    else:
        p["w_head"], p["b_head"] = normal(2, z), zeros(2)
    return {k: jnp.asarray(v) for k, v in p.items()}


def _layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) * jax.lax.rsqrt(var + eps) * g + b


def _encode(params, config, h, pos):
    """Encoder output ``z`` ``[B, z_dim]``."""
    if config.encoder == "linear":
        z = h[:, -1, :]
    elif config.encoder == "mlp":
        x = h.reshape(h.shape[0], -1)
        for i in range(config.depth):
            x = jax.nn.gelu(x @ params[f"mlp{i}_w"] + params[f"mlp{i}_b"])
        z = _layer_norm(x, params["ln_f_g"], params["ln_f_b"])
    else:
        B = h.shape[0]
        cls = jnp.broadcast_to(params["cls"], (B, 1, config.d_in))
        x = jnp.concatenate([cls, h], axis=1) @ params["proj_w"] + params["proj_b"]
        if config.layer_positions:
            x = x + params["layer_pos"]
        nh, dh = config.heads, config.width // config.heads
        for i in range(config.depth):
            a = _layer_norm(x, params[f"block{i}_ln1_g"], params[f"block{i}_ln1_b"])
            q, k, v = (
                (a @ params[f"block{i}_w{n}"]).reshape(B, -1, nh, dh) for n in ("q", "k", "v"))
            att = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh), axis=-1)
            o = jnp.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, -1, config.width)
            x = x + o @ params[f"block{i}_wo"]
            a = _layer_norm(x, params[f"block{i}_ln2_g"], params[f"block{i}_ln2_b"])
            f = jax.nn.gelu(a @ params[f"block{i}_ff1_w"] + params[f"block{i}_ff1_b"])
            x = x + f @ params[f"block{i}_ff2_w"] + params[f"block{i}_ff2_b"]
        z = _layer_norm(x[:, 0, :], params["ln_f_g"], params["ln_f_b"])
    if config.use_position:
        z = z + pos @ params["pos_w"]
    return z


def gamma_params(params, config, h, pos, tokens):
    """``(alpha, rate)`` of the candidates ``tokens`` ``[B]`` ((8)), jnp arrays ``[B]``.

    ``alpha = softplus(w_alpha[v] . z)``, ``rate = softplus(w_rate[v] . z)``
    with a gather of the candidates' head rows (cheaper than all rows; the
    ``[B, n_vocab]`` logits are never formed).
    """
    z = _encode(params, config, h, pos)
    if config.per_token:
        ua = jnp.sum(z * params["w_alpha"][tokens], axis=-1)
        ur = jnp.sum(z * params["w_rate"][tokens], axis=-1)
    else:
        u = z @ params["w_head"].T + params["b_head"]
        ua, ur = u[:, 0], u[:, 1]
    return jax.nn.softplus(ua), jax.nn.softplus(ur)


_GL_X, _GL_W = (np.asarray(a, np.float32) for a in np.polynomial.legendre.leggauss(4))


def position_nll(alpha, rate, lengths, likelihood="continuous", offset=1.0):
    """Per-position loss in JAX ((9) or (4)), differentiable in ``alpha`` and ``rate``.

    * continuous: ``-[alpha log rate - lgamma(alpha) + (alpha - 1) log y - rate y]``
      with ``y = log(L + offset)``, no Jacobian term (code).
    * discrete: ``-log[F(log(L + offset)) - F(log(L - 1 + offset))]`` (``F``
      at the lower edge is 0 for ``L = 1``) with ``F = gammainc`` (JAX
      differentiates it in the shape). The difference is taken in the smaller
      tail; bins narrow on the density's scale (where float32 differences
      cancel) use a 4-point Gauss-Legendre integral of the density instead
      (derived for this project).
    """
    lengths = jnp.asarray(lengths, jnp.float32)
    y = jnp.log(lengths + offset)
    if likelihood == "continuous":
        return -(alpha * jnp.log(rate) - gammaln(alpha) + (alpha - 1.0) * jnp.log(y) - rate * y)
    first = lengths <= 1.0
    ylo = jnp.where(first, 0.0, jnp.log(jnp.maximum(lengths - 1.0 + offset, 1.0)))
    width = jnp.where(first, y, jnp.log1p(1.0 / jnp.maximum(lengths - 1.0 + offset, 1e-30)))
    safe_lo = jnp.where(first, 1.0, ylo)
    scale = jnp.maximum(rate, jnp.abs(alpha - 1.0) / safe_lo)
    narrow = (~first) & (width * scale < 0.05)
    # the branch not taken must still have finite gradients (where() passes 0 * grad):
    # no incomplete gamma at x = 0 (its shape derivative is NaN there) or in narrow bins
    x_hi = jnp.where(narrow, alpha, rate * y)
    x_lo = jnp.where(first | narrow, alpha, rate * ylo)
    p_hi, q_hi = gammainc(alpha, x_hi), gammaincc(alpha, x_hi)
    p_lo = jnp.where(first, 0.0, gammainc(alpha, x_lo))
    q_lo = jnp.where(first, 1.0, gammaincc(alpha, x_lo))
    mass = jnp.where(p_hi < 0.5, p_hi - p_lo, q_lo - q_hi)
    log_cdf = jnp.log(jnp.maximum(mass, 1e-37))
    nodes = safe_lo[:, None] + 0.5 * width[:, None] * (_GL_X + 1.0)
    logf = (alpha[:, None] * jnp.log(rate[:, None]) - gammaln(alpha[:, None])
            + (alpha[:, None] - 1.0) * jnp.log(nodes) - rate[:, None] * nodes)
    log_quad = jax.scipy.special.logsumexp(logf, b=0.5 * width[:, None] * _GL_W, axis=-1)
    return -jnp.where(narrow, log_quad, log_cdf)


def loss(params, config, h, pos, tokens, lengths, weights):
    """Weighted mean of :func:`position_nll`, ``sum w l / sum w``.

    docs/models/gamma.md (9); open choice "loss weighting".
    """
    alpha, rate = gamma_params(params, config, h, pos, tokens)
    ell = position_nll(alpha, rate, lengths, config.likelihood, config.offset)
    return jnp.sum(weights * ell) / jnp.sum(weights)


# ---------------------------------------------------------------------------
# training, prediction, persistence
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictor:
    """A fitted predictor: ``params`` (arrays), ``config`` and ``history`` (loss per step)."""

    params: dict
    config: PredictorConfig
    history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Where the inputs come from (plain JSON values), e.g. ``layers`` (the model's hidden-state
    #: layers, in order), ``pos_scale`` (position feature ``t / pos_scale``), ``model``.
    info: dict = field(default_factory=dict)


def _weights(data, config):
    if config.loss_weighting == "per_token":
        return np.ones(len(data), np.float32)
    _, inverse, counts = np.unique(data.traces, return_inverse=True, return_counts=True)
    return (1.0 / counts[inverse]).astype(np.float32)


#: Learning-rate schedules after the warm-up: constant (the authors' recipes) or cosine decay to 0.
SCHEDULES = ("constant", "cosine")


def fit_predictor(config, data, *, steps=1000, lr=1e-3, batch_size=256, seed=0,
                  weight_decay=0.0, warmup=0.05, schedule="constant", progress=False):
    """Train the predictor by the Gamma NLL with optax AdamW (docs/models/gamma.md (9)).

    Mini-batches are drawn without replacement (reshuffled each epoch). With
    ``loss_weighting="per_trace"`` each position weighs ``1 / (positions of
    its trace)`` and a batch's loss is ``sum w l / sum w``, whose expectation
    ratio is the authors' per-trace mean. The learning rate rises
    linearly over the first ``warmup`` fraction of the steps, then stays
    constant (the authors' recipes' ``constant_with_warmup``).

    Parameters
    ----------
    config : PredictorConfig
    data : PredictorData
    steps : int
        Optimiser steps, ``>= 1``.
    lr : float
        Peak learning rate, ``> 0``.
    batch_size : int
        ``>= 1`` (capped at ``len(data)``).
    seed : int
        Seed of the batch order.
    weight_decay : float
        AdamW decoupled weight decay (0 as in HF's default).
    warmup : float
        Warm-up fraction in ``[0, 1)``.
    schedule : {"constant", "cosine"}
        After the warm-up: constant (recipes) or cosine decay to 0 (converges
        more tightly on small problems).
    progress : bool
        Print the mean loss every tenth of the run.

    Returns
    -------
    Predictor
    """
    if not isinstance(config, PredictorConfig):
        raise TypeError(f"config must be a PredictorConfig, got {type(config).__name__}")
    if not isinstance(data, PredictorData):
        raise TypeError(f"data must be a PredictorData, got {type(data).__name__}")
    steps = check_int("steps", steps, lo=1)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    batch_size = min(check_int("batch_size", batch_size, lo=1), len(data))
    seed = check_int("seed", seed, lo=0)
    weight_decay = check_real("weight_decay", weight_decay, lo=0.0)
    warmup = check_real("warmup", warmup, 0.0, 1.0, hi_open=True)
    check_bool("progress", progress)
    n = len(data)
    h = jnp.asarray(_h_array(data.h, config))
    pos = jnp.asarray(_pos_array(data.pos, n, config))
    tokens = jnp.asarray(_token_array(data.tokens, n, config))
    lengths = jnp.asarray(data.lengths.astype(np.float32))
    weights = jnp.asarray(_weights(data, config))

    schedule = check_choice("schedule", schedule, SCHEDULES)
    n_warm = int(round(warmup * steps))
    after = (optax.constant_schedule(lr) if schedule == "constant"
             else optax.cosine_decay_schedule(lr, max(1, steps - n_warm)))
    sched = (optax.join_schedules([optax.linear_schedule(0.0, lr, n_warm), after], [n_warm])
             if n_warm > 0 else after)
    opt = optax.adamw(sched, weight_decay=weight_decay)
    params = init_params(config)
    state = opt.init(params)

    @jax.jit
    def step(params, state, idx):
        val, grads = jax.value_and_grad(loss)(params, config, h[idx], pos[idx], tokens[idx],
                                              lengths[idx], weights[idx])
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, val

    rng = np.random.default_rng(seed)
    order, cursor = rng.permutation(n), 0
    history = np.empty(steps)
    for t in range(steps):
        if cursor + batch_size > n:
            order, cursor = rng.permutation(n), 0
        idx = jnp.asarray(order[cursor:cursor + batch_size])
        cursor += batch_size
        params, state, val = step(params, state, idx)
        history[t] = float(val)
        if progress and (t + 1) % max(1, steps // 10) == 0:
            recent = history[max(0, t + 1 - steps // 10):t + 1]
            print(f"step {t + 1}/{steps}  loss {recent.mean():.4f}")
    return Predictor(params=params, config=config, history=history)


def _check_predictor(predictor):
    if not isinstance(predictor, Predictor):
        raise TypeError(f"predictor must be a Predictor, got {type(predictor).__name__}")
    return predictor.config


@jax.jit
def _softplus_logits(z, w):
    return jax.nn.softplus(z @ w.T)


def predict(predictor, h, pos=None, tokens=None, *, batch_size=4096):
    """``(alpha, rate)`` as numpy float64 arrays (docs/models/gamma.md (8)).

    Parameters
    ----------
    predictor : Predictor
    h : array_like
        Hidden states ``[N, n_layers_in, d_in]``.
    pos : array_like, optional
        Position features ``[N]`` or ``[N, n_pos]`` (required when the config
        uses them).
    tokens : array_like of int, optional
        Candidate tokens ``[N]``: returns ``[N]`` arrays. ``None``: the whole
        vocabulary, ``[N, n_vocab]`` arrays, as guidance needs at a step
        (:func:`theory.gamma.guide`); a ``per_token=False`` predictor's one
        law per position is broadcast over the vocabulary.
    batch_size : int
        Positions per forward pass.
    """
    config = _check_predictor(predictor)
    h = _h_array(h, config)
    n = h.shape[0]
    pos = _pos_array(pos, n, config)
    batch_size = check_int("batch_size", batch_size, lo=1)
    whole = tokens is None
    tok = np.zeros(n, np.int32) if whole or not config.per_token else _token_array(tokens, n,
                                                                                    config)
    params = predictor.params
    enc = jax.jit(lambda p, hh, pp: _encode(p, config, hh, pp))
    alphas, rates = [], []
    for s in range(0, n, batch_size):
        hb, pb = jnp.asarray(h[s:s + batch_size]), jnp.asarray(pos[s:s + batch_size])
        if whole and config.per_token:
            z = enc(params, hb, pb)
            alphas.append(np.asarray(_softplus_logits(z, params["w_alpha"])))
            rates.append(np.asarray(_softplus_logits(z, params["w_rate"])))
        else:
            a, r = gamma_params(params, config, hb, pb, jnp.asarray(tok[s:s + batch_size]))
            alphas.append(np.asarray(a))
            rates.append(np.asarray(r))
    alpha = np.concatenate(alphas).astype(np.float64)
    rate = np.concatenate(rates).astype(np.float64)
    if whole and not config.per_token:
        alpha = np.repeat(alpha[:, None], config.n_vocab, axis=1)
        rate = np.repeat(rate[:, None], config.n_vocab, axis=1)
    return alpha, rate


def save_predictor(predictor, path):
    """Write ``params``, ``config`` (JSON) and ``history`` to one ``.npz`` file."""
    config = _check_predictor(predictor)
    arrays = {f"param/{k}": np.asarray(v) for k, v in predictor.params.items()}
    meta = {"format": _FORMAT, "config": dataclasses.asdict(config),
            "info": dict(predictor.info)}
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta)), __history__=np.asarray(predictor.history),
                 **arrays)


def load_predictor(path):
    """Read a file written by :func:`save_predictor`; one-line ValueError if it is malformed.

    The stored parameters must have exactly the names and shapes that the
    stored config implies (:func:`init_params`).
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            files = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"path must be a predictor .npz file, got {str(path)!r} "
                         f"({type(exc).__name__})") from None
    try:
        meta = json.loads(str(files.pop("__meta__")))
        if meta.get("format") != _FORMAT:
            raise ValueError(meta.get("format"))
        config = PredictorConfig(**meta["config"])
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        why = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        raise ValueError(f"path must hold a {_FORMAT} predictor, got unreadable metadata in "
                         f"{str(path)!r} ({why})") from None
    history = files.pop("__history__", np.zeros(0))
    params = {k[len("param/"):]: v for k, v in files.items() if k.startswith("param/")}
    want = {k: v.shape for k, v in init_params(config).items()}
    got = {k: v.shape for k, v in params.items()}
    if got != want or len(params) != len(files):
        missing = sorted(set(want) - set(got))
        extra = sorted(set(files) - {f"param/{k}" for k in want})
        bad = sorted(k for k in set(want) & set(got) if want[k] != got[k])
        raise ValueError(f"path must hold parameters matching its config, got missing {missing}, "
                         f"unexpected {extra}, wrong shapes {bad} in {str(path)!r}")
    info = meta.get("info", {})
    return Predictor(params={k: jnp.asarray(v) for k, v in params.items()}, config=config,
                     history=np.asarray(history), info=info if isinstance(info, dict) else {})


# ---------------------------------------------------------------------------
# baselines (docs/models/gamma.md, "Checking on a real model")
# ---------------------------------------------------------------------------


def fit_unconditional(lengths, *, offset=1.0, likelihood="continuous"):
    """The unconditional Gamma baseline: :func:`theory.gamma.fit_gamma` ((22))."""
    return tg.fit_gamma(lengths, offset=offset, likelihood=likelihood)


@dataclass(frozen=True)
class PositionBuckets:
    """Position-only baseline: one Gamma law per bucket of the position feature.

    Attributes
    ----------
    edges : ndarray
        Bucket edges ``[bins + 1]`` (quantiles of the training positions;
        the outer edges are ``-inf`` and ``inf``).
    alpha, rate : ndarray
        Per-bucket parameters ``[bins]``.
    counts : ndarray of int
        Training positions per bucket.
    """

    edges: np.ndarray
    alpha: np.ndarray
    rate: np.ndarray
    counts: np.ndarray
    #: Plain JSON values saved with the model, e.g. ``pos_scale`` (the feature is
    #: ``t / pos_scale``) and ``offset``.
    info: dict = field(default_factory=dict)


def fit_position_buckets(pos, lengths, *, bins=10, offset=1.0, likelihood="continuous",
                         min_count=20):
    """Fit one Gamma law per quantile bucket of a scalar position feature.

    A bucket with fewer than ``min_count`` positions, or whose lengths are all
    equal, gets the pooled (unconditional) fit.

    Parameters
    ----------
    pos : array_like
        Position feature ``[N]`` (e.g. fraction of the trace elapsed).
    lengths : array_like of int
        Targets ``L >= 1`` ``[N]``.
    bins : int
        Number of buckets, ``>= 1``.
    offset, likelihood
        See :func:`theory.gamma.fit_gamma`.
    min_count : int
        Smallest bucket that gets its own fit, ``>= 2``.

    Returns
    -------
    PositionBuckets
    """
    ell = tg._lengths(lengths)
    pos = np.asarray(pos, float).ravel()
    if pos.shape != ell.shape or not np.all(np.isfinite(pos)):
        raise ValueError(f"pos must be finite with shape {ell.shape}, got {np.shape(pos)}")
    bins = check_int("bins", bins, lo=1)
    min_count = check_int("min_count", min_count, lo=2)
    edges = np.quantile(pos, np.linspace(0.0, 1.0, bins + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    pooled = tg.fit_gamma(ell, offset=offset, likelihood=likelihood)
    idx = np.clip(np.searchsorted(edges, pos, side="right") - 1, 0, bins - 1)
    alpha, rate = np.full(bins, pooled.alpha), np.full(bins, pooled.rate)
    counts = np.bincount(idx, minlength=bins)
    for j in range(bins):
        sub = ell[idx == j]
        if sub.size >= min_count and np.any(sub != sub[0]):
            fit = tg.fit_gamma(sub, offset=offset, likelihood=likelihood)
            alpha[j], rate[j] = fit.alpha, fit.rate
    return PositionBuckets(edges=edges, alpha=alpha, rate=rate, counts=counts)


def predict_position(model, pos):
    """``(alpha, rate)`` ``[N]`` of the bucket of each position."""
    if not isinstance(model, PositionBuckets):
        raise TypeError(f"model must be a PositionBuckets, got {type(model).__name__}")
    pos = np.asarray(pos, float).ravel()
    if not np.all(np.isfinite(pos)):
        raise ValueError("pos must be finite, got a NaN or infinity")
    idx = np.clip(np.searchsorted(model.edges, pos, side="right") - 1, 0, model.alpha.size - 1)
    return model.alpha[idx], model.rate[idx]


def save_position_buckets(model, path):
    """Write a :class:`PositionBuckets` (arrays and ``info``) to one ``.npz`` file."""
    if not isinstance(model, PositionBuckets):
        raise TypeError(f"model must be a PositionBuckets, got {type(model).__name__}")
    meta = {"format": _POSITION_FORMAT, "info": dict(model.info)}
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta)), edges=model.edges, alpha=model.alpha,
                 rate=model.rate, counts=model.counts)


def load_position_buckets(path):
    """Read a file written by :func:`save_position_buckets`; one-line ValueError if malformed."""
    try:
        with np.load(path, allow_pickle=False) as f:
            files = {k: f[k] for k in f.files}
        meta = json.loads(str(files["__meta__"]))
        if meta.get("format") != _POSITION_FORMAT:
            raise ValueError(meta.get("format"))
        edges, alpha, rate = (np.asarray(files[k], float) for k in ("edges", "alpha", "rate"))
        counts = np.asarray(files["counts"], np.int64)
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"path must be a {_POSITION_FORMAT} file, got {str(path)!r} "
                         f"({type(exc).__name__})") from None
    bins = alpha.size
    if (edges.shape != (bins + 1,) or rate.shape != (bins,) or counts.shape != (bins,)
            or bins < 1 or not (np.all(alpha > 0) and np.all(rate > 0))):
        raise ValueError(f"path must hold edges [bins + 1] and positive alpha, rate [bins], "
                         f"got shapes {edges.shape}, {alpha.shape}, {rate.shape} in {str(path)!r}")
    info = meta.get("info", {})
    return PositionBuckets(edges=edges, alpha=alpha, rate=rate, counts=counts,
                           info=info if isinstance(info, dict) else {})


# ---------------------------------------------------------------------------
# evaluation (docs/models/gamma.md (4), (9), (25)-(26))
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Held-out quality of predicted Gamma laws (:func:`evaluate`).

    Attributes
    ----------
    n : int
    nll_continuous, nll_continuous_se : float
        Mean ``-log f(log(L + offset))`` (the authors' loss (9)) and its s.e.
    nll_discrete, nll_discrete_se : float
        Mean ``-log Pr(L)`` of the discrete model (4) and its s.e.
    pit : theory.gamma.PitUniformity
        Randomised-PIT uniformity ((25)).
    coverage : pandas.DataFrame
        :func:`theory.gamma.interval_coverage` (50 %, 90 %).
    reliability : theory.gamma.EventReliability
        :func:`theory.gamma.event_reliability` at ``budgets``.
    """

    n: int
    nll_continuous: float
    nll_continuous_se: float
    nll_discrete: float
    nll_discrete_se: float
    pit: tg.PitUniformity
    coverage: object
    reliability: tg.EventReliability


def evaluate(lengths, alpha, rate, *, offset=1.0, budgets=(64, 256, 1024), levels=(0.5, 0.9),
             seed=0):
    """NLLs and calibration of per-position predictions against observed lengths.

    The standard errors are ``sd / sqrt(n)`` over positions; positions of one
    trace are dependent, so they understate the uncertainty of run data
    (subsample one position per trace segment for the PIT test).
    To compare two predictors on the same positions, use the s.e. of the
    paired per-position difference.

    Parameters
    ----------
    lengths : array_like of int
        Observed ``L >= 1``.
    alpha, rate : array_like
        Predicted parameters per position (or scalars, e.g. from
        :func:`fit_unconditional`).
    offset : float
    budgets : sequence of float
        Budgets of the event-reliability table.
    levels : sequence of float
        Central-interval levels.
    seed : int
        PIT randomisation.

    Returns
    -------
    Evaluation
    """
    ell = tg._lengths(lengths)
    alpha = np.broadcast_to(np.asarray(alpha, float), ell.shape)
    rate = np.broadcast_to(np.asarray(rate, float), ell.shape)
    y = np.log(ell + check_real("offset", offset, lo=0.0, lo_open=True))
    cont = np.asarray(tg.nll(y, alpha, rate))
    disc = np.asarray(tg.discrete_nll(ell, alpha, rate, offset))
    n = int(ell.size)

    def se(v):
        return float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan

    u = tg.randomized_pit(ell, alpha, rate, offset=offset, seed=seed)
    return Evaluation(
        n=n, nll_continuous=float(cont.mean()), nll_continuous_se=se(cont),
        nll_discrete=float(disc.mean()), nll_discrete_se=se(disc),
        pit=tg.pit_uniformity(u),
        coverage=tg.interval_coverage(ell, alpha, rate, levels=levels, offset=offset, seed=seed),
        reliability=tg.event_reliability(ell, alpha, rate, budgets, offset=offset))


# ---------------------------------------------------------------------------
# training on a run record: python -m validation.gamma
# ---------------------------------------------------------------------------

#: The position feature of run-trained predictors is ``t / POS_SCALE`` (as in the gamma check).
POS_SCALE = 64.0


def hidden_predictor_data(hidden):
    """Positions of a run's ``hidden.npz`` arrays as :class:`PredictorData`, and the kept mask.

    Keeps closed traces (``remaining >= 1``); the candidate token is the ``token`` array, the
    trace id the row, the position feature ``t / POS_SCALE``.
    """
    if "token" not in hidden:
        raise ValueError("the predictor needs hidden.npz with candidate tokens "
                         "(write the run with --hidden)")
    keep = hidden["remaining"] >= 1
    if not keep.any():
        raise ValueError("the run has no closed thinking trace to train the predictor on")
    pos = hidden["position"][keep].astype(np.float32) / POS_SCALE
    return PredictorData(h=hidden["states"][keep].astype(np.float32),
                         lengths=hidden["remaining"][keep], tokens=hidden["token"][keep],
                         traces=hidden["row"][keep], pos=pos), keep


def _run_layers(run):
    """The model layers of the run's hidden-state slots (``hidden_layers``, else 0..n-1)."""
    n = run.hidden["states"].shape[1]
    layers = run.meta.get("hidden_layers")
    return [int(x) for x in layers] if layers else list(range(n))


def train_on_run(run, *, layers=None, held_out=0.3, steps=4000, width=64, depth=2,
                 likelihood="discrete", lr=1e-2, batch_size=512, n_vocab=None, seed=0,
                 budgets=None, min_count=20, progress=False):
    """Train the length predictor on a run's hidden states; evaluate it on held-out questions.

    The positions of closed traces (``remaining >= 1``) are split **by question**: a fraction
    ``held_out`` of the questions (drawn with ``seed``) is kept out of training. The predictor is
    the gamma check's (MLP encoder over the chosen layers, per-token heads, position feature
    ``t / 64``, the discrete likelihood (4) by default, cosine schedule); the position-only
    baseline (:func:`fit_position_buckets`) is fitted on the same training positions.

    Parameters
    ----------
    run : validation.records.Run
        A run written with hidden states (``--hidden``).
    layers : sequence of int or None
        Model layers to read, among the run's ``hidden_layers``; default all saved layers.
    held_out : float
        Fraction of questions held out, in ``(0, 1)``.
    steps, width, depth, likelihood, lr, batch_size, seed
        Training (:class:`PredictorConfig`, :func:`fit_predictor`).
    n_vocab : int or None
        Rows of the per-token heads; default the largest candidate token id + 1 (ids beyond it
        get the untrained law ``alpha = rate = log 2`` of (8) in the guidance processors).
    budgets : sequence of int or None
        Budgets of the event-reliability table; default 1/4, 1/2 and 1 times the median
        thinking length of the run's closed traces.
    min_count : int
        Candidates with fewer training positions take the position-only law in the guidance
        processors (:func:`fallback_info`).
    progress : bool

    Returns
    -------
    predictor : Predictor
        With ``info`` (layers, ``pos_scale``, model, hidden size, the held-out summary).
    position : PositionBuckets
    report : dict
        Held-out evaluation: counts, mean discrete NLL of the predictor and of both baselines
        (with the standard error over traces), the randomised-PIT KS distance on one position
        per trace and its p-value, central-interval coverage, event reliability.
    """
    if run.hidden is None:
        raise ValueError(f"run {run.path} has no hidden states (write it with --hidden)")
    saved = _run_layers(run)
    layers = saved if layers is None else [int(x) for x in layers]
    missing = [x for x in layers if x not in saved]
    if missing or not layers:
        raise ValueError(f"layer must be among the run's saved layers {saved}, "
                         f"got {missing or layers}")
    held_out = check_real("held_out", held_out, 0.0, 1.0, lo_open=True, hi_open=True)
    data, keep = hidden_predictor_data(run.hidden)
    idx = [saved.index(x) for x in layers]
    data = PredictorData(h=data.h[:, idx], lengths=data.lengths, tokens=data.tokens,
                         traces=data.traces, pos=data.pos)
    qid = run.table["question_id"].to_numpy()[run.hidden["row"][keep]]
    uq = np.unique(qid)
    if uq.size < 2:
        raise ValueError(f"the run must have >= 2 questions with closed traces, got {uq.size}")
    gen = np.random.default_rng(seed)
    n_test = min(uq.size - 1, max(1, int(round(held_out * uq.size))))
    test = np.isin(qid, gen.choice(uq, size=n_test, replace=False))
    train, held = data.subset(~test), data.subset(test)
    top = int(data.tokens.max()) + 1
    n_vocab = top if n_vocab is None else check_int("n_vocab", n_vocab, lo=top)
    cfg = PredictorConfig(n_vocab=n_vocab, d_in=data.h.shape[2], n_layers_in=len(layers),
                          encoder="mlp", width=width, depth=depth, use_position=True, n_pos=1,
                          likelihood=likelihood, seed=seed)
    pred = fit_predictor(cfg, train, steps=steps, lr=lr, batch_size=batch_size, seed=seed,
                         schedule="cosine", progress=progress)
    position = fit_position_buckets(train.pos[:, 0], train.lengths)
    L = held.lengths
    a_p, r_p = predict(pred, held.h, held.pos, held.tokens)
    a_b, r_b = predict_position(position, held.pos[:, 0])
    unc = fit_unconditional(train.lengths)
    ut, tr = np.unique(held.traces, return_inverse=True)

    def per_trace_mean(x):
        m = np.bincount(tr, weights=x, minlength=ut.size) / np.bincount(tr, minlength=ut.size)
        return float(m.mean()), float(m.std(ddof=1) / math.sqrt(ut.size))

    nll = {"predictor": -tg.length_logpmf(L, a_p, r_p),
           "position": -tg.length_logpmf(L, a_b, r_b),
           "unconditional": -tg.length_logpmf(L, np.full(L.size, unc.alpha),
                                              np.full(L.size, unc.rate))}
    pick = np.array([gen.choice(np.flatnonzero(tr == i)) for i in range(ut.size)])
    pit = tg.pit_uniformity(tg.randomized_pit(L[pick], a_p[pick], r_p[pick], seed=seed))
    table = run.table
    med = float(np.median(table["thinking_length"][table["finished"]]))
    if budgets is None:
        budgets = sorted({max(1, int(round(f * med))) for f in (0.25, 0.5, 1.0)})
    cov = tg.interval_coverage(L, a_p, r_p, levels=(0.5, 0.9), seed=seed)
    rel = tg.event_reliability(L, a_p, r_p, budgets)
    report = dict(
        layers=layers, n_train=len(train), n_held=int(L.size), held_questions=int(n_test),
        questions=int(uq.size), held_traces=int(ut.size), median_thinking=med,
        nll={k: dict(zip(("mean", "se"), per_trace_mean(v))) for k, v in nll.items()},
        pit_ks=float(pit.ks_statistic), pit_p=float(pit.p_value),
        coverage={f"{r.level:g}": float(r.coverage_randomized) for r in cov.itertuples()},
        reliability=[dict(budget=int(r.budget), predicted=float(r.mean_predicted),
                          observed=float(r.observed), ece=float(r.ece))
                     for r in rel.summary.itertuples()])
    info = dict(layers=layers, pos_scale=POS_SCALE, model=run.meta.get("model"),
                checkpoint_sha256=run.meta.get("checkpoint_sha256"), d_model=cfg.d_in,
                run=str(run.path), held_out=report,
                **fallback_info(train, position, min_count))
    pred = dataclasses.replace(pred, info=info)
    position = dataclasses.replace(position, info=dict(
        pos_scale=POS_SCALE, offset=1.0, model=run.meta.get("model"),
        checkpoint_sha256=run.meta.get("checkpoint_sha256"), run=str(run.path)))
    return pred, position, report


def fallback_info(train, position, min_count=20):
    """``info`` entries that give candidates seen too rarely in training the position-only law.

    ``trained_tokens``: the candidate ids with at least ``min_count`` training positions (a
    head row fitted to one or two positions is confidently wrong; 20 is the smallest bucket of
    :func:`fit_position_buckets` too); ``position``: the bucket laws of ``position`` (inner
    edges, ``alpha``, ``rate``). Read by :class:`validation.guidance.LengthModel`.
    """
    min_count = check_int("min_count", min_count, lo=1)
    ids, counts = np.unique(train.tokens, return_counts=True)
    return dict(trained_tokens=[int(x) for x in ids[counts >= min_count]], min_count=min_count,
                position=dict(inner_edges=[float(x) for x in position.edges[1:-1]],
                              alpha=[float(x) for x in position.alpha],
                              rate=[float(x) for x in position.rate]))


PROG = "python -m validation.gamma"


def build_parser():
    """The parser of ``python -m validation.gamma``."""
    from sim import _cli

    d = PredictorConfig(n_vocab=1, d_in=1)
    p = _cli.ArgumentParser(prog=PROG, description=(
        "Train the Gamma length predictor on a run's hidden states (any model, e.g. a Hugging "
        "Face run written with --hidden) and report its calibration on held-out questions."))
    _cli.add_version(p)
    p.add_argument("--run", required=True, help="run directory with hidden.npz")
    p.add_argument("--layer", default=None,
                   help="model layer(s) to read, e.g. 20 or 10,20,30 (default: every saved "
                        "layer of the run)")
    p.add_argument("--out", default=None, help="predictor file to write (.npz)")
    p.add_argument("--position-out", default=None,
                   help="also write the position-only predictor (.npz; what the vLLM "
                        "processor reads)")
    p.add_argument("--held-out", type=float, default=0.3,
                   help="fraction of questions held out for calibration (default 0.3)")
    p.add_argument("--steps", type=int, default=4000, help="optimiser steps (default 4000)")
    p.add_argument("--width", type=int, default=64, help="encoder width (default 64)")
    p.add_argument("--depth", type=int, default=d.depth,
                   help=f"encoder layers (default {d.depth})")
    p.add_argument("--likelihood", default="discrete", choices=tg.LIKELIHOODS,
                   help="training loss (default discrete, as the gamma check)")
    p.add_argument("--vocab-size", type=int, default=None,
                   help="rows of the per-token heads (default: largest candidate id + 1)")
    p.add_argument("--min-count", type=int, default=20,
                   help="candidates seen fewer times in training take the position-only law "
                        "when guiding (default 20)")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed (default {d.seed})")
    p.add_argument("--json", action="store_true", help="print the held-out report as JSON")
    _cli.add_guard_argument(p)
    return p


@_cli_command("python -m validation.gamma")
def main(argv=None):
    """Run ``python -m validation.gamma``: 0 on success, 2 on bad input."""
    import sys

    from sim import _cli, guard
    from validation import records

    args = build_parser().parse_args(argv)
    check_int("steps", args.steps, lo=1)
    check_int("seed", args.seed, lo=0)
    layers = None
    if args.layer is not None:
        try:
            layers = [int(x) for x in str(args.layer).split(",") if x.strip()]
        except ValueError:
            raise ValueError(f"layer must be integers separated by commas, got "
                             f"{args.layer!r}") from None
    for path, flag in ((args.out, "--out"), (args.position_out, "--position-out")):
        if path is not None:
            _cli.writable_output(path, flag)
    run = records.read_run(args.run)
    if run.hidden is None:
        raise ValueError(f"run {args.run} has no hidden states (write it with --hidden)")
    d = run.hidden["states"].shape[2]
    n_in = len(layers) if layers else run.hidden["states"].shape[1]
    guard.check("--steps", work=float(args.steps) * 512 * (n_in * d * args.width
                                                           + 2 * args.width * 1000),
                allow=args.yes, hint="lower --steps or --width, or pass --yes")
    pred, position, report = train_on_run(
        run, layers=layers, held_out=args.held_out, steps=args.steps, width=args.width,
        depth=args.depth, likelihood=args.likelihood, n_vocab=args.vocab_size, seed=args.seed,
        min_count=args.min_count, progress=not args.json and sys.stderr.isatty())
    if args.out:
        save_predictor(pred, args.out)
    if args.position_out:
        save_position_buckets(position, args.position_out)
    if args.json:
        print(json.dumps(_cli.envelope(dict(run=args.run, layer=args.layer, steps=args.steps,
                                            seed=args.seed), report=report, out=args.out,
                                       position_out=args.position_out)))
        return 0
    print(format_report(report))
    for path in (args.out, args.position_out):
        if path:
            print(f"wrote {path}")
    return 0


def format_report(report):
    """The held-out report of :func:`train_on_run` as text."""
    nll = report["nll"]
    lines = [f"layers {report['layers']}: {report['n_train']} training positions, "
             f"{report['n_held']} held-out positions ({report['held_traces']} traces of "
             f"{report['held_questions']} of {report['questions']} questions)",
             "held-out discrete NLL per position (mean over traces, s.e.):"]
    for k in ("predictor", "position", "unconditional"):
        lines.append(f"  {k:14s} {nll[k]['mean']:.4f} ({nll[k]['se']:.4f})")
    lines.append(f"randomised PIT, one position per trace: KS {report['pit_ks']:.4f}, "
                 f"p = {report['pit_p']:.3g}")
    lines.append("central interval coverage: " + ", ".join(
        f"{float(k):.0%} -> {v:.3f}" for k, v in report["coverage"].items()))
    for r in report["reliability"]:
        lines.append(f"P(L <= {r['budget']}): mean predicted {r['predicted']:.4f}, observed "
                     f"{r['observed']:.4f}, ECE {r['ece']:.4f}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
