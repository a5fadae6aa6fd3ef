"""``python -m validation.train``: train the project's reasoning LM on the chained-arithmetic task.

Fresh questions are drawn every step (difficulties uniform in ``1..--max-difficulty``); the loss is
next-token cross-entropy on the completion (trace, ``</think>``, answer, ``<eos>``), optimised with
optax AdamW (linear warm-up, cosine decay, gradient clipping at norm 1). JAX runs on a GPU when it
sees one. At the end the model is scored on a fixed evaluation set (:func:`eval_questions`) with
greedy decoding and with sampling (temperature 0.8, top-p 0.95, seed 0), and the checkpoint is
written with the command, seed, accuracies and its SHA-256 checksum.

The committed checkpoint ``validation/checkpoints/tiny`` (157,440 parameters, 0.6 MB) was made
with the defaults (d_model 64, 3 layers, 4 heads, 1200 steps of 64 questions, lr 3e-3, seed 0);
the flags spelled out are recorded in its ``config.json``::

    python -m validation.train --d-model 64 --layers 3 --heads 4 --steps 1200 --lr 3e-3

It took 741 s on the 2-core development machine while other jobs shared its cores.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sim import _cli, guard
from theory._params import check_int, check_real
from validation import model as M
from validation import task

__all__ = ["TrainConfig", "train", "make_batch", "eval_questions", "evaluate", "main"]

EVAL_SEED = 12345
EVAL_PER_DIFFICULTY = 50
#: Training work (floating-point operations, 6 per parameter per token) one command may ask
#: for without ``--yes``: about an hour of the 2-core CPU, where the default run (6.9e12) takes
#: four to twelve minutes.
TRAIN_FLOP_LIMIT = 1e14


def training_flops(mc, tc):
    """Estimated floating-point operations of a training run: 6 per parameter per token."""
    n_params = 12 * mc.n_layers * mc.d_model ** 2 + (len(task.VOCAB) + mc.max_len) * mc.d_model
    return 6.0 * tc.steps * tc.batch * mc.max_len * n_params


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes
    ----------
    steps : int
        Optimiser steps, >= 1.
    batch : int
        Sequences per step, >= 1.
    lr : float
        Peak learning rate, in (0, 1].
    max_difficulty : int
        Questions have 1..max_difficulty operations.
    seed : int
        Seed of the initial parameters and of the training questions.
    weight_decay : float
        AdamW weight decay, >= 0.
    warmup : int
        Linear warm-up steps.
    """

    steps: int = 1200
    batch: int = 64
    lr: float = 3e-3
    max_difficulty: int = 6
    seed: int = 0
    weight_decay: float = 0.01
    warmup: int = 100

    def __post_init__(self):
        check_int("steps", self.steps, 1)
        check_int("batch", self.batch, 1)
        check_real("lr", self.lr, 0.0, 1.0, lo_open=True)
        check_int("max_difficulty", self.max_difficulty, 1, task.MAX_DIFFICULTY)
        check_int("seed", self.seed, 0)
        check_real("weight_decay", self.weight_decay, 0.0)
        check_int("warmup", self.warmup, 0)


def seq_len_for(max_difficulty):
    """Padded training length that holds every question of difficulty <= ``max_difficulty``.

    The longest chain has one-digit numbers and intermediate values of at most three
    characters, so the bound is computed from that worst case, rounded up to 8.
    """
    d = max_difficulty
    prompt = 1 + (2 * d + 2) + 1
    trace = sum(3 + 2 * (d - j) + 1 for j in range(1, d + 1))
    n = prompt + trace + 1 + 3 + 1
    return int(-(-n // 8) * 8)


def make_batch(questions, seq_len):
    """Token array ``[B, seq_len]`` (padded) and loss mask (completion tokens only)."""
    B = len(questions)
    tokens = np.full((B, seq_len), task.PAD, np.int32)
    mask = np.zeros((B, seq_len), bool)
    for i, q in enumerate(questions):
        p, c = task.prompt_tokens(q), task.target_tokens(q)
        seq = (p + c)[:seq_len]
        tokens[i, :len(seq)] = seq
        mask[i, len(p):len(seq)] = True
    return tokens, mask


def eval_questions(max_difficulty=6):
    """The fixed evaluation set: 50 questions per difficulty 1..max_difficulty, seed 12345."""
    return task.make_questions(EVAL_PER_DIFFICULTY * max_difficulty, (1, max_difficulty),
                               seed=EVAL_SEED)


def evaluate(params, config, questions, temperature=0.0, top_p=0.95, seed=0):
    """Accuracy of the model on ``questions``: overall and by difficulty (dict)."""
    batch = M.sample(params, config, [task.prompt_tokens(q) for q in questions],
                     temperature=temperature, top_p=top_p, seed=seed, batch_size=512)
    correct = np.array([task.check_answer(task.parse_completion(t)["answer"], q.answer)
                        for t, q in zip(batch.tokens, questions)])
    diff = np.array([q.difficulty for q in questions])
    by = {int(d): float(correct[diff == d].mean()) for d in np.unique(diff)}
    return dict(accuracy=float(correct.mean()), by_difficulty=by, n=int(correct.size))


def train(model_config, train_config, progress=None):
    """Train from scratch; return ``(params, losses)`` (one loss per step).

    ``progress(step, loss)`` is called after each step when given.
    """
    tc = train_config
    seq_len = min(seq_len_for(tc.max_difficulty), model_config.max_len)
    params = M.init_params(model_config, tc.seed)
    sched = optax.warmup_cosine_decay_schedule(0.0, tc.lr, max(tc.warmup, 1),
                                               max(tc.steps, tc.warmup + 1), tc.lr * 0.05)
    opt = optax.chain(optax.clip_by_global_norm(1.0),
                      optax.adamw(sched, b1=0.9, b2=0.98, weight_decay=tc.weight_decay))
    opt_state = opt.init(params)
    n_heads = model_config.n_heads

    @jax.jit
    def update(params, opt_state, tokens, mask):
        loss, grads = jax.value_and_grad(M.loss_fn)(params, tokens, mask, n_heads)
        upd, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, upd), opt_state, loss

    gen = np.random.default_rng(np.random.SeedSequence([tc.seed, 0x7121]))
    losses = []
    for step in range(tc.steps):
        qs = task.make_questions(tc.batch, (1, tc.max_difficulty),
                                 seed=int(gen.integers(0, 2**31)))
        gen.shuffle(qs)
        tokens, mask = make_batch(qs, seq_len)
        params, opt_state, loss = update(params, opt_state, jnp.asarray(tokens),
                                         jnp.asarray(mask))
        losses.append(float(loss))
        if progress is not None:
            progress(step, losses[-1])
    return params, np.array(losses)


@_cli.command("python -m validation.train")
def main(argv=None):
    """Command line; returns the exit status."""
    parser = _cli.ArgumentParser(prog="python -m validation.train",
                                 description="Train the project's reasoning LM.")
    _cli.add_version(parser)
    parser.add_argument("--steps", type=_cli.integer, default=TrainConfig.steps)
    parser.add_argument("--batch", type=_cli.integer, default=TrainConfig.batch)
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--d-model", type=_cli.integer, default=M.ModelConfig.d_model)
    parser.add_argument("--layers", type=_cli.integer, default=M.ModelConfig.n_layers)
    parser.add_argument("--heads", type=_cli.integer, default=M.ModelConfig.n_heads)
    parser.add_argument("--d-ff", type=int, default=None, help="MLP width (default 4 d-model)")
    parser.add_argument("--task", choices=("chain",), default="chain",
                        help="the training task (chained addition/subtraction)")
    parser.add_argument("--max-difficulty", type=int, default=TrainConfig.max_difficulty,
                        help=f"operations per question, 1..{task.MAX_DIFFICULTY}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="validation/checkpoints/run",
                        help="checkpoint directory (default validation/checkpoints/run)")
    parser.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    _cli.add_guard_argument(parser)
    args = parser.parse_args(argv)
    try:
        tc = TrainConfig(steps=args.steps, batch=args.batch, lr=args.lr,
                         max_difficulty=args.max_difficulty, seed=args.seed)
        d_ff = 4 * args.d_model if args.d_ff is None else args.d_ff
        max_len = max(96, seq_len_for(args.max_difficulty))
        mc = M.ModelConfig(d_model=args.d_model, n_layers=args.layers, n_heads=args.heads,
                           d_ff=d_ff, max_len=max_len)
    except (TypeError, ValueError) as exc:
        return _cli.fail(parser.prog, exc)
    guard.check("--steps x --batch", work=training_flops(mc, tc), unit="floating-point operations",
                work_limit=TRAIN_FLOP_LIMIT, allow=args.yes,
                memory=4.0 * 16 * tc.batch * mc.max_len * mc.d_model * mc.n_layers)
    _cli.writable_output(args.out, "--out", directory=True)  # before training, not after
    device = jax.devices()[0]
    print(f"training on {device.platform} ({device.device_kind}): d_model={mc.d_model} "
          f"layers={mc.n_layers} heads={mc.n_heads} steps={tc.steps} batch={tc.batch} "
          f"max_difficulty={tc.max_difficulty} seed={tc.seed}", file=sys.stderr)
    t0 = time.perf_counter()
    with _bar(tc.steps) as advance:
        params, losses = train(mc, tc, progress=advance)
    train_s = time.perf_counter() - t0
    meta = dict(command="python -m validation.train " + shlex.join(
        argv if argv is not None else sys.argv[1:]), seed=tc.seed,
        train=dataclasses.asdict(tc), task="chain", train_seconds=round(train_s, 1),
        platform=device.platform, final_loss=float(np.mean(losses[-20:])),
        param_count=M.param_count(params))
    if not args.no_eval:
        qs = eval_questions(tc.max_difficulty)
        meta["eval"] = dict(
            questions=f"validation.train.eval_questions({tc.max_difficulty})",
            greedy=evaluate(params, mc, qs, temperature=0.0),
            sampled=dict(temperature=0.8, top_p=0.95, seed=0,
                         **evaluate(params, mc, qs, temperature=0.8, top_p=0.95, seed=0)))
    digest = M.save_checkpoint(args.out, params, mc, meta)
    print(f"trained in {train_s:.0f} s, final loss {meta['final_loss']:.4f}, "
          f"{meta['param_count']} parameters")
    if "eval" in meta:
        g, s = meta["eval"]["greedy"], meta["eval"]["sampled"]
        print("eval accuracy by difficulty (greedy / sampled T=0.8):")
        for d in g["by_difficulty"]:
            print(f"  {d}: {g['by_difficulty'][d]:.3f} / {s['by_difficulty'][d]:.3f}")
        print(f"  all: {g['accuracy']:.3f} / {s['accuracy']:.3f}")
    print(f"checkpoint {args.out} sha256 {digest}")
    return 0


def _bar(total):
    """Progress bar with the running loss (terminal only)."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext(lambda step, loss: None)

    @contextlib.contextmanager
    def bar():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), "loss {task.fields[loss]}", TimeRemainingColumn(),
                      transient=True) as prog:
            tid = prog.add_task("training", total=total, loss="-")
            yield lambda step, loss: prog.update(tid, advance=1, loss=f"{loss:.4f}")
    return bar()


if __name__ == "__main__":
    sys.exit(main())
