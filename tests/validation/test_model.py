"""The JAX language model: training, checkpoint, sampling contract."""

import json
import shutil

import jax.numpy as jnp
import numpy as np
import pytest

from validation import model as M
from validation import task
from validation import train as T
from validation.adapters import CHECKPOINTS

TINY = CHECKPOINTS / "tiny"

# Greedy decoding is deterministic; the tolerance only absorbs argmax ties that floating-point
# differences between CPUs could flip (at most 3 of the 300 evaluation questions).
GREEDY_TOLERANCE = 0.01


@pytest.fixture(scope="module")
def tiny():
    return M.load_checkpoint(TINY)


@pytest.fixture(scope="module")
def prompts():
    return [task.prompt_tokens(q) for q in task.make_questions(8, (1, 6), seed=7)]


def test_a_few_training_steps_lower_the_loss():
    mc = M.ModelConfig(d_model=32, n_layers=1, n_heads=2, d_ff=64, max_len=96)
    tc = T.TrainConfig(steps=40, batch=16, lr=3e-3, warmup=5, max_difficulty=3)
    _, losses = T.train(mc, tc)
    assert losses.shape == (40,)
    assert losses[-5:].mean() < 0.8 * losses[:5].mean()


def test_committed_checkpoint_loads_and_is_small(tiny):
    params, config, info = tiny
    assert info["sha256"] == M.checkpoint_sha256(TINY)
    assert (TINY / "params.npz").stat().st_size < 5e6
    assert info["metadata"]["command"].startswith("python -m validation.train")
    assert M.param_count(params) == info["metadata"]["param_count"]


def test_tampered_checkpoint_is_rejected(tmp_path):
    bad = tmp_path / "ck"
    shutil.copytree(TINY, bad)
    data = bytearray((bad / "params.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "params.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum") as exc:
        M.load_checkpoint(bad)
    assert "\n" not in str(exc.value)
    (bad / "params.sha256").unlink()
    with pytest.raises(ValueError, match="params.sha256"):
        M.load_checkpoint(bad)


def test_committed_checkpoint_reproduces_recorded_greedy_accuracy(tiny):
    params, config, info = tiny
    recorded = info["metadata"]["eval"]["greedy"]
    qs = T.eval_questions(info["metadata"]["train"]["max_difficulty"])
    got = T.evaluate(params, config, qs, temperature=0.0)
    assert abs(got["accuracy"] - recorded["accuracy"]) <= GREEDY_TOLERANCE
    # a real, imperfect model: easy questions mostly right, the hardest often wrong
    by = got["by_difficulty"]
    assert by[1] > 0.85 and by[max(by)] < by[1] - 0.2


def test_sampling_is_reproducible_for_a_seed(tiny, prompts):
    params, config, _ = tiny
    a = M.sample(params, config, prompts, temperature=1.0, top_p=0.95, seed=5)
    b = M.sample(params, config, prompts, temperature=1.0, top_p=0.95, seed=5)
    c = M.sample(params, config, prompts, temperature=1.0, top_p=0.95, seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a.tokens, b.tokens))
    assert any(not np.array_equal(x, y) for x, y in zip(a.tokens, c.tokens))
    # a row's sample depends on its own seed, not on its batch neighbours
    d = M.sample(params, config, prompts[3:4], temperature=1.0, top_p=0.95, seed=[5 + 3])
    assert np.array_equal(d.tokens[0], a.tokens[3])


def test_hidden_states_and_remaining_lengths_match_the_traces(tiny, prompts):
    params, config, _ = tiny
    out = M.sample(params, config, prompts, temperature=1.0, seed=1, capture_hidden=True)
    full = np.full((len(prompts), config.max_len), task.PAD, np.int32)
    for i, (p, toks) in enumerate(zip(prompts, out.tokens)):
        full[i, :len(p) + len(toks)] = p + list(toks)
    _, hs = M.forward(params, jnp.asarray(full), config.n_heads, return_hidden=True)
    for i, (p, toks, h, rem) in enumerate(zip(prompts, out.tokens, out.hidden, out.remaining)):
        parsed = task.parse_completion(toks)
        assert parsed["closed"]
        k = parsed["thinking_length"]
        assert h.shape == (k + 1, config.n_layers + 1, config.d_model)
        assert list(rem) == list(range(k + 1, 0, -1))
        # the captured states are those of a full (causal) forward pass at the predicting positions
        np.testing.assert_allclose(np.asarray(hs[i, len(p) - 1:len(p) + k]), h, atol=2e-4)


def test_max_thinking_forces_end_of_thinking(tiny, prompts):
    params, config, _ = tiny
    out = M.sample(params, config, prompts, temperature=1.0, seed=1, max_thinking=4,
                   capture_hidden=True)
    for toks, h in zip(out.tokens, out.hidden):
        parsed = task.parse_completion(toks)
        assert parsed["closed"] and parsed["thinking_length"] <= 4
        assert h.shape[0] == parsed["thinking_length"] + 1


def test_logits_processor_that_bans_a_token_is_obeyed(tiny, prompts):
    params, config, _ = tiny
    newline = task.encode("\n")[0]

    def ban_newline_while_thinking(logits, state):
        return jnp.where(state["thinking"][:, None] & (jnp.arange(logits.shape[1]) == newline),
                         -jnp.inf, logits)

    out = M.sample(params, config, prompts, temperature=1.0, seed=1, max_new_tokens=30,
                   logits_processor=ban_newline_while_thinking)
    for toks in out.tokens:
        parsed = task.parse_completion(toks)
        assert newline not in list(toks[:parsed["thinking_length"]])


def test_bad_sampling_arguments_are_one_line(tiny, prompts):
    params, config, _ = tiny
    for kw, name in [(dict(temperature=-1.0), "temperature"), (dict(top_p=0.0), "top_p"),
                     (dict(seed=[1, 2]), "seed"), (dict(max_thinking=-1), "max_thinking")]:
        with pytest.raises((ValueError, TypeError), match=name):
            M.sample(params, config, prompts, **kw)


def test_train_cli_bad_input_exits_2(cli_exit):
    for argv, name in [(["--steps", "0"], "steps"), (["--d-model", "30", "--heads", "4"],
                                                     "d_model"),
                       (["--max-difficulty", "9"], "max_difficulty"), (["--lr", "0"], "lr")]:
        status, err = cli_exit(T.main, argv)
        assert status == 2 and name in err and err.count("\n") == 1


def test_train_cli_refuses_too_much_work_and_an_unwritable_out_before_training(cli_exit,
                                                                              monkeypatch):
    calls = []
    monkeypatch.setattr(T, "train", lambda *a, **k: calls.append(1))
    status, err = cli_exit(T.main, ["--steps", "1e8"])
    assert status == 2 and "--steps x --batch asks for" in err and "pass --yes" in err
    # default run: 6.9e12 operations, 6 per parameter per token
    mc = M.ModelConfig(d_model=64, n_layers=3, n_heads=4, d_ff=256, max_len=96)
    assert T.training_flops(mc, T.TrainConfig()) == pytest.approx(6.85e12, rel=0.01)
    status, err = cli_exit(T.main, ["--steps", "2", "--out", "/proc/ck"])
    assert status == 2 and "--out /proc/ck cannot be" in err and err.count("\n") == 1
    assert calls == []  # refused before any training step


def test_train_cli_writes_a_loadable_checkpoint(tmp_path, capsys):
    out = tmp_path / "ck"
    status = T.main(["--steps", "3", "--batch", "4", "--d-model", "16", "--layers", "1",
                     "--heads", "2", "--max-difficulty", "2", "--no-eval", "--out", str(out)])
    assert status == 0
    params, config, info = M.load_checkpoint(out)
    assert config.d_model == 16 and info["metadata"]["seed"] == 0
    assert json.loads((out / "config.json").read_text())["sha256"] == info["sha256"]
