"""Budget-guidance processors on a tiny random Llama built here (no downloads), and the
predictor command on a run of it; one slow test on SmolLM2."""

import enum
import importlib
import math
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _helpers():
    """The tiny-model builders of test_hf_adapter.py (loaded by path: tests are not a package)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "_hf_adapter_helpers", Path(__file__).with_name("test_hf_adapter.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_h = _helpers()
D, N_LAYERS, QUESTIONS = _h.D, _h.N_LAYERS, _h.QUESTIONS
adapter, make_model, make_tokenizer = _h.adapter, _h.make_model, _h.make_tokenizer

from theory import gamma as tg  # noqa: E402
from validation import gamma as vg  # noqa: E402
from validation.guidance import BudgetGuidanceLogitsProcessor, LengthModel, core  # noqa: E402

END = "\nAnswer:"


@pytest.fixture(scope="module")
def tiny():
    tok = make_tokenizer()
    tok.padding_side = "left"
    return make_model(len(tok)), tok


def hidden_predictor(vocab, d=D, layers=(1,), seed=0):
    """A predictor with random weights scaled so that laws differ between candidates."""
    cfg = vg.PredictorConfig(n_vocab=vocab, d_in=d, n_layers_in=len(layers), width=16, depth=1,
                             seed=seed)
    params = {k: v * 40 if k in ("w_alpha", "w_rate", "pos_w") else v
              for k, v in vg.init_params(cfg).items()}
    return vg.Predictor(params=params, config=cfg, info=dict(layers=list(layers),
                                                             pos_scale=64.0))


def position_predictor(flat=False):
    alpha = [30.0, 30.0, 30.0] if flat else [30.0, 25.0, 12.0]
    rate = [9.0, 9.0, 9.0] if flat else [9.0, 9.0, 8.0]
    return vg.PositionBuckets(edges=np.array([-np.inf, 0.1, 0.3, np.inf]), alpha=np.array(alpha),
                              rate=np.array(rate), counts=np.array([10, 10, 10]))


def hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


def test_hooks_are_installed_and_removed(tiny):
    model, tok = tiny
    before = hook_count(model)
    with BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok)), 5, model=model,
                                       tokenizer=tok) as proc:
        assert proc.hooked and hook_count(model) == before + 1
        ids = tok(["hello", "hi there you"], return_tensors="pt", padding=True)
        out = model.generate(**ids, logits_processor=transformers.LogitsProcessorList([proc]),
                             do_sample=True, max_new_tokens=6, temperature=0.8)
        assert out.shape == (2, ids.input_ids.shape[1] + 6)
    assert not proc.hooked and hook_count(model) == before
    proc.close()   # idempotent
    assert hook_count(model) == before


def test_hooked_state_is_the_models_hidden_state(tiny):
    model, tok = tiny
    ids = tok(["hello there"], return_tensors="pt").input_ids
    for layer in (0, 1, N_LAYERS):
        with BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok), layers=(layer,)), 5,
                                           model=model, tokenizer=tok) as proc:
            with torch.no_grad():
                out = model(ids, output_hidden_states=True)
            torch.testing.assert_close(proc._captured[0], out.hidden_states[layer][:, -1])


def test_torch_predictor_matches_the_jax_predictor():
    pred = hidden_predictor(40, layers=(0, 1))
    h = np.random.default_rng(1).standard_normal((5, 2, D)).astype(np.float32)
    t = np.array([0, 2, 9, 30, 80])
    a, r = vg.predict(pred, h, t / 64.0)
    a2, r2 = LengthModel(pred).laws(torch.as_tensor(t), torch.as_tensor(h))
    np.testing.assert_allclose(a2.numpy(), a, rtol=2e-5)
    np.testing.assert_allclose(r2.numpy(), r, rtol=2e-5)


def test_guided_law_is_theory_guide_in_bayes_mode():
    pred = hidden_predictor(40)
    model = LengthModel(pred)
    gen = np.random.default_rng(2)
    logits = torch.as_tensor(gen.standard_normal((3, 40)) * 2, dtype=torch.float32)
    h = torch.as_tensor(gen.standard_normal((3, 1, D)), dtype=torch.float32)
    t = torch.tensor([0, 5, 12])
    out = core.guide_logits(logits, model, t, 15, torch.ones(3, dtype=torch.bool), hidden=h)
    alpha, rate = (x.double().numpy() for x in model.laws(t, h))
    q = tg.guide(logits.double().numpy(), alpha, rate, np.maximum(15 - t.numpy(), 1.0),
                 mode="bayes")
    np.testing.assert_allclose(torch.softmax(out.double(), -1).numpy(), q, atol=2e-6)


def test_budget_below_one_and_hidden_size_mismatch_are_one_line_errors(tiny):
    model, tok = tiny
    before = hook_count(model)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match=r"^budget must be an integer >= 1") as e:
            BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok)), bad, model=model,
                                          tokenizer=tok)
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError) as e:
        BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok), d=16), 5, model=model,
                                      tokenizer=tok)
    assert str(e.value) == "predictor hidden size 16 does not match the model's hidden size 32"
    assert hook_count(model) == before


def _step(proc, model, tok, texts):
    """Feed prompts + generated texts through the model one token at a time; logits out."""
    rows = [tok(t, add_special_tokens=False).input_ids for t in texts]
    n = max(len(r) for r in rows)
    pad = tok.pad_token_id
    ids = torch.tensor([[pad] * (n - len(r)) + r for r in rows])
    plen = 2
    proc.reset()
    out = None
    for k in range(plen, n + 1):
        with torch.no_grad():
            logits = model(ids[:, :k], attention_mask=(ids[:, :k] != pad).long()).logits[:, -1]
        out = (logits, proc(ids[:, :k], logits.clone()))
    return out


def test_rows_of_a_batch_are_guided_independently(tiny):
    model, tok = tiny
    texts = ["ab99 apples\nAns", "ab1 2 3\n", "ab7"]   # the first row is the longest: no padding
    with BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok)), 4, model=model, tokenizer=tok,
                                       temperature=0.7, trigger="every_token") as proc:
        raw_b, guided_b = _step(proc, model, tok, texts)
        raw_1, guided_1 = _step(proc, model, tok, texts[:1])
    change = guided_b - raw_b
    torch.testing.assert_close(change[0], (guided_1 - raw_1)[0], atol=1e-4, rtol=0)
    assert change.abs().max() > 0.1
    assert not torch.allclose(change[0], change[1])


def test_identity_when_the_budget_is_huge_and_outside_thinking(tiny):
    model, tok = tiny
    proc = BudgetGuidanceLogitsProcessor(position_predictor(), 10**9, tokenizer=tok,
                                         trigger="every_token")
    logits = torch.randn(2, len(tok))
    state = dict(thinking_position=torch.tensor([3, 3]), thinking=torch.tensor([True, False]),
                 generating=torch.ones(2, dtype=torch.bool),
                 tokens=torch.tensor(tok(["abc", "abc"], add_special_tokens=False).input_ids),
                 hidden=None)
    out = proc(logits.clone(), state)
    torch.testing.assert_close(out[1], logits[1], atol=0, rtol=0)      # not thinking
    assert (out[0] - logits[0]).abs().max() < 1e-5                       # a = 1 - 1e-9
    small = BudgetGuidanceLogitsProcessor(position_predictor(), 4, tokenizer=tok,
                                          trigger="every_token")(logits.clone(), state)
    assert (small[0] - logits[0]).abs().max() > 0.1                      # the law acts


def _end_logprob(proc, tok, t, generated="x 1\n"):
    ids = tok([generated], add_special_tokens=False).input_ids
    logits = torch.zeros(1, len(tok))
    state = dict(thinking_position=torch.tensor([t]), thinking=torch.tensor([True]),
                 generating=torch.ones(1, dtype=torch.bool), tokens=torch.tensor(ids),
                 hidden=torch.zeros(1, N_LAYERS + 1, D))
    out = proc(logits, state)
    end = tok("A", add_special_tokens=False).input_ids[0]
    return float(torch.log_softmax(out, -1)[0, end])


def test_end_of_thinking_is_raised_as_t_nears_the_budget(tiny):
    _, tok = tiny
    still = hidden_predictor(len(tok))
    still.params["pos_w"] = still.params["pos_w"] * 0   # the law does not move with t
    for pred in (position_predictor(flat=True), still):
        proc = BudgetGuidanceLogitsProcessor(pred, 20, tokenizer=tok, temperature=0.8)
        lp = [_end_logprob(proc, tok, t) for t in (0, 5, 10, 15, 19)]
        assert all(b >= a - 1e-6 for a, b in zip(lp, lp[1:]))
        assert lp[-1] > lp[0] + 0.1
        assert lp[0] > -math.log(len(tok)) - 1e-6    # the end token is never pushed down


def test_generated_marker_ends_thinking_and_guidance():
    seqs = [[5, 6, 7]]
    row = core.RowState()
    for tok in (1, 5, 6):
        row.push(tok, seqs)
    assert row.thinking and row.t == 3 and core.next_end_tokens(row.generated, seqs) == [7]
    row.push(7, seqs)
    assert not row.thinking and row.t == 3
    assert core.next_end_tokens([1, 2], seqs + [[9]]) == [9]


def test_adapter_runs_with_the_processor_and_reproduces(tiny):
    model, tok = tiny
    ad = adapter((model, tok))
    outs = []
    for _ in range(2):
        proc = BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok)), 3, tokenizer=tok,
                                             temperature=0.8)
        outs.append(ad.generate(QUESTIONS, logits_processor=proc, max_new_tokens=12, seed=4))
    assert [list(s.tokens) for s in outs[0]] == [list(s.tokens) for s in outs[1]]


# ----------------------------------------------------------------------------- vLLM stand-in


def fake_vllm():
    """The vLLM v1 objects a logits processor sees, as minimal stand-ins."""
    class MoveDirectionality(enum.Enum):
        UNIDIRECTIONAL = 1
        SWAP = 2

    @dataclass(frozen=True)
    class BatchUpdate:
        batch_size: int
        removed: list
        added: list
        moved: list

    class LogitsProcessor:
        pass

    mod = types.ModuleType("vllm.v1.sample.logits_processor")
    mod.LogitsProcessor, mod.MoveDirectionality, mod.BatchUpdate = (
        LogitsProcessor, MoveDirectionality, BatchUpdate)
    return mod


@pytest.fixture
def vllm_module(monkeypatch):
    mod = fake_vllm()
    for name in ("vllm", "vllm.v1", "vllm.v1.sample"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "vllm.v1.sample.logits_processor", mod)
    import validation.guidance.vllm as gv

    gv = importlib.reload(gv)
    yield gv, mod
    monkeypatch.undo()
    importlib.reload(gv)


def test_vllm_processor_matches_the_transformers_processor(vllm_module, tiny, tmp_path):
    gv, mod = vllm_module
    _, tok = tiny
    path = tmp_path / "position.npz"
    vg.save_position_buckets(position_predictor(), path)
    ends = core.end_sequences(tok, (END,))
    lines = sorted(core.newline_ids(tok))
    cfg = types.SimpleNamespace(additional_config={"budget_guidance": dict(
        predictor=str(path), end_ids=ends, newline_ids=lines)})
    proc = gv.VLLMBudgetGuidance(cfg, "cpu", False)
    assert proc.is_argmax_invariant() is False

    def params(budget, temp):
        return types.SimpleNamespace(extra_args={"thinking_budget": budget}, temperature=temp)

    texts = ["", "one step\n", "3 + 4 = 7\n", "done\nAnswer: 7\n"]
    outs = [tok(t, add_special_tokens=False).input_ids if t else [] for t in texts]
    budgets, temps = [6, 12, 30, 5], [0.8, 1.0, 0.5, 0.8]
    proc.update_state(mod.BatchUpdate(4, [], [(i, params(b, tt), [0], outs[i])
                                              for i, (b, tt) in enumerate(zip(budgets, temps))],
                                      []))
    # swap rows 0 and 2, move 3 to 1 after removing 1: the batch is now (2, 3, 0)
    proc.update_state(mod.BatchUpdate(3, [1], [], [(0, 2, mod.MoveDirectionality.SWAP),
                                                   (3, 1, mod.MoveDirectionality.UNIDIRECTIONAL)]))
    order = [2, 3, 0]
    logits = torch.randn(3, len(tok))
    got = proc.apply(logits.clone())
    for j, i in enumerate(order):
        ref = BudgetGuidanceLogitsProcessor(position_predictor(), budgets[i], end_ids=ends,
                                            newline_token_ids=lines, temperature=temps[i])
        row = core.RowState()
        for x in outs[i]:
            row.push(x, ends)
        state = dict(thinking_position=torch.tensor([row.t]),
                     thinking=torch.tensor([row.thinking]),
                     generating=torch.ones(1, dtype=torch.bool),
                     tokens=torch.tensor([outs[i]], dtype=torch.int64).reshape(1, -1),
                     hidden=None)
        want = ref(logits[j:j + 1].clone(), state)
        torch.testing.assert_close(got[j:j + 1], want, atol=1e-6, rtol=0)
    assert not torch.equal(got[0], logits[0])      # request 2 is thinking after a newline
    assert not torch.equal(got[2], logits[2])      # request 0 is at its first token
    torch.testing.assert_close(got[1], logits[1])  # request 3 has finished thinking
    # output lists grow in place: the processor catches up
    outs[0].extend(tok("x\n", add_special_tokens=False).input_ids)
    assert proc.apply(logits.clone()).shape == logits.shape


def test_vllm_processor_refuses_bad_settings(vllm_module, tmp_path):
    gv, _ = vllm_module
    with pytest.raises(ValueError, match="predictor"):
        gv.VLLMBudgetGuidance(types.SimpleNamespace(additional_config={}), "cpu", False)
    path = tmp_path / "p.npz"
    vg.save_predictor(hidden_predictor(20), path)
    cfg = types.SimpleNamespace(additional_config={"budget_guidance": dict(
        predictor=str(path), end_ids=[[1]], newline_ids=[2])})
    with pytest.raises(ValueError, match="sees no hidden states"):
        gv.VLLMBudgetGuidance(cfg, "cpu", False)
    with pytest.raises(ValueError, match="budget must be an integer >= 1"):
        gv.VLLMBudgetGuidance.validate_params(types.SimpleNamespace(
            extra_args={"thinking_budget": 0}))


# ----------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def hidden_run(tiny, tmp_path_factory):
    from validation import run as vr

    model, tok = tiny
    d = tmp_path_factory.mktemp("tiny-llama-guidance")
    model.save_pretrained(d)
    tok.save_pretrained(d)
    out = d / "run"
    assert vr.main(["--model", f"hf:{d}", "--task", "nl", "--questions", "6", "--samples", "2",
                    "--max-new-tokens", "24", "--max-thinking", "5", "--engine", "torch",
                    "--hidden", "--layers", "1,2", "--out", str(out)]) == 0
    return out


def test_gamma_command_trains_a_predictor_the_processor_reads(hidden_run, tiny, tmp_path,
                                                              capsys):
    model, tok = tiny
    p, q = tmp_path / "p.npz", tmp_path / "q.npz"
    assert vg.main(["--run", str(hidden_run), "--layer", "2", "--steps", "20", "--out", str(p),
                    "--position-out", str(q)]) == 0
    text = capsys.readouterr().out
    assert "held-out discrete NLL" in text and "questions" in text
    pred = vg.load_predictor(p)
    assert pred.info["layers"] == [2] and pred.config.d_in == D
    assert vg.load_position_buckets(q).alpha.size >= 1
    with BudgetGuidanceLogitsProcessor(str(p), 5, model=model, tokenizer=tok) as proc:
        assert proc.layers == (2,)
    other = make_model(len(tok), seed=1)
    other.config.hidden_size = 48   # as a model of another size reports it
    with pytest.raises(ValueError, match="^predictor hidden size 32 does not match the model's "
                                         "hidden size 48$"):
        BudgetGuidanceLogitsProcessor(str(p), 5, model=other, tokenizer=tok)
    assert vg.main(["--run", str(hidden_run), "--layer", "7", "--steps", "2"]) == 2
    assert "layer must be among the run's saved layers [1, 2]" in capsys.readouterr().err


def test_measure_puts_every_arm_on_the_same_questions(tiny):
    from validation.guidance import measure

    model, tok = tiny
    pred = LengthModel(hidden_predictor(len(tok), layers=(2,)))
    df = measure.measure(adapter((model, tok)), pred, [3], questions=2, samples=2,
                         max_new_tokens=20,
                         position=LengthModel(position_predictor()))
    assert list(df.arm) == ["unconstrained", "forcing", "guidance", "guidance (position only)"]
    assert df.set_index("arm").loc["forcing", "adherence"] == 1.0
    assert df.accuracy.between(0, 1).all()


def test_guidance_command_refuses_bad_budgets(capsys):
    from validation.guidance import measure

    assert measure.main(["--predictor", "x.npz", "--budgets", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "budget must be an integer >= 1" in err


@pytest.mark.slow
def test_smollm2_generate_with_guidance():
    pytest.importorskip("gguf")
    from validation.adapters import smollm2_gguf_path
    from validation.adapters.hf import HFAdapter

    ad = HFAdapter(smollm2_gguf_path(), threads=1)
    model, tok = ad.model, ad.tokenizer
    pred = hidden_predictor(len(tok), d=model.config.hidden_size, layers=(20,))
    prompt = tok.apply_chat_template([{"role": "user", "content": QUESTIONS[0]}],
                                     add_generation_prompt=True, return_tensors="pt",
                                     return_dict=True)
    with BudgetGuidanceLogitsProcessor(pred, 8, model=model, tokenizer=tok,
                                       temperature=0.8) as proc:
        out = model.generate(**prompt, logits_processor=transformers.LogitsProcessorList([proc]),
                             do_sample=True, temperature=0.8, max_new_tokens=12)
    assert out.shape[1] > prompt["input_ids"].shape[1]
    assert not proc.hooked
    with pytest.raises(ValueError, match="hidden size 32 does not match the model's hidden "
                                         "size 576"):
        BudgetGuidanceLogitsProcessor(hidden_predictor(len(tok)), 8, model=model, tokenizer=tok)


def test_untrained_candidates_take_the_position_law():
    pred = hidden_predictor(40)
    pos = position_predictor()
    trained = [3, 7, 11]
    train = vg.PredictorData(h=np.zeros((3, 1, D)), lengths=[1, 2, 3], tokens=trained)
    info = dict(pred.info, **vg.fallback_info(train, pos, min_count=1))
    with_fb = LengthModel(vg.Predictor(pred.params, pred.config, info=info))
    raw = LengthModel(vg.Predictor(pred.params, pred.config, info=info), untrained="head")
    t = torch.tensor([2, 30])
    h = torch.randn(2, 1, D)
    rem = torch.tensor([5.0, 5.0])
    got = with_fb.log_weights(t, rem, 50, h)
    head = raw.log_weights(t, rem, 50, h)
    a_p, r_p = LengthModel(pos).laws(t)
    want = core.log_weights(a_p, r_p, rem)           # [2, 1]
    others = [v for v in range(50) if v not in trained]
    torch.testing.assert_close(got[:, others], want.expand(2, len(others)))
    torch.testing.assert_close(got[:, trained], head[:, trained])
    assert not torch.allclose(head[:, others], want.expand(2, len(others)))


def test_rare_candidates_are_not_trusted():
    train = vg.PredictorData(h=np.zeros((25, 1, D)), lengths=np.arange(1, 26),
                             tokens=[3] * 21 + [7] * 4)
    info = vg.fallback_info(train, position_predictor())
    assert info["trained_tokens"] == [3] and info["min_count"] == 20


def test_gamma_check_finds_the_hidden_state_companion_run(hidden_run, tmp_path):
    import json
    import shutil

    from validation import records
    from validation.check.gamma import hidden_run as companion

    plain = tmp_path / "plain"
    shutil.copytree(hidden_run, plain)
    (plain / "hidden.npz").unlink()
    meta = json.loads((plain / "meta.json").read_text())
    (plain / "meta.json").write_text(json.dumps(dict(meta, hidden=False)))
    run = records.read_run(plain)
    with pytest.raises(ValueError, match="needs hidden states: a run written with --hidden"):
        companion(run)
    shutil.copytree(hidden_run, tmp_path / "plain-hidden")
    assert companion(run).hidden is not None
    other = json.loads((tmp_path / "plain-hidden" / "meta.json").read_text())
    other["checkpoint_sha256"] = "f" * 64
    (tmp_path / "plain-hidden" / "meta.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="is of another model"):
        companion(run)
