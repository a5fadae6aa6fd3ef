"""validation.import: files of each layout, written here, become run records the checks accept.

The fixtures plant a known correctness matrix (questions x samples, per-question accuracies
drawn from a Beta law, so samples of a question are correlated as real ones are), known
answers and known token counts, write them in each layout, import them, and compare the run
table with what was planted.
"""

from __future__ import annotations

import importlib
import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from validation import records
from validation.check.__main__ import main as check_main

vi = importlib.import_module("validation.import")
Q, S = 120, 12


@pytest.fixture(scope="module")
def planted():
    """A planted run: correctness, answers, references, lengths, difficulty, per (q, s)."""
    gen = np.random.default_rng(20260514)
    pq = gen.beta(1.2, 0.8, Q)
    correct = gen.random((Q, S)) < pq[:, None]
    ref = 100 + np.arange(Q)
    wrong = ref[:, None] + gen.integers(1, 4, (Q, S))
    answers = np.where(correct, ref[:, None], wrong)
    thinking = gen.integers(3, 60, (Q, S))
    total = thinking + gen.integers(2, 9, (Q, S))
    difficulty = gen.integers(1, 5, Q)
    return dict(correct=correct, ref=ref, answers=answers, thinking=thinking, total=total,
                difficulty=difficulty)


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _references(path, planted):
    pd.DataFrame({"id": [str(q) for q in range(Q)], "reference": planted["ref"],
                  "difficulty": planted["difficulty"]}).to_csv(path, index=False)
    return path


def _text(think, answer, style):
    body = "<think>" + " ".join(["step"] * int(think)) + "</think>"
    tail = {"boxed": f"So the result is \\boxed{{{answer}}}.",
            "answer-line": f"Check 7 + 3 = 10.\n**Answer:** {answer}",
            "last-number": f"Adding 1 and 2 gives {answer}."}[style]
    return body + tail


def _vllm_rows(planted, gen):
    rows = []
    for q in range(Q):
        outs = [dict(index=j, text=_text(planted["thinking"][q, j], planted["answers"][q, j],
                                         "boxed"),
                     token_ids=list(range(int(planted["total"][q, j]))),
                     cumulative_logprob=-3.5, logprobs=None, finish_reason="stop",
                     stop_reason=None) for j in range(S)]
        gen.shuffle(outs)  # the output index, not the list order, orders the samples
        rows.append(dict(request_id=str(q), prompt=f"Question {q}: what is {q} + 100?",
                         prompt_token_ids=[1, 2, 3], outputs=outs, finished=True))
    return rows


def _openai_rows(planted):
    rows = []
    for q in range(Q):
        for j in range(S):
            body = dict(id=f"chatcmpl-{q}-{j}", object="chat.completion", model="gpt-test",
                        choices=[dict(index=0, finish_reason="stop", logprobs=None,
                                      message=dict(role="assistant", content=_text(
                                          0, planted["answers"][q, j], "answer-line")))],
                        usage=dict(prompt_tokens=20,
                                   completion_tokens=int(planted["total"][q, j]),
                                   total_tokens=20 + int(planted["total"][q, j]),
                                   completion_tokens_details=dict(
                                       reasoning_tokens=int(planted["thinking"][q, j]))))
            rows.append(dict(id=f"batch_req_{q}_{j}", custom_id=f"q{q}-s{j}",
                             response=dict(status_code=200, request_id=f"req_{q}_{j}",
                                           body=body), error=None))
    rows.append(dict(id="batch_req_x", custom_id="q999-s0", response=None,
                     error=dict(code="server_error", message="boom")))
    return rows


def _lm_eval_rows(planted):
    rows = []
    for filt, shift in (("strict-match", 0), ("flexible-extract", 1)):
        for q in range(Q):
            ans = [str(a + shift) for a in planted["answers"][q]]
            texts = [_text(planted["thinking"][q, j], ans[j], "last-number") for j in range(S)]
            rows.append(dict(doc_id=q, doc=dict(question=f"{q} + 100?",
                                                level=int(planted["difficulty"][q])),
                             target=str(planted["ref"][q]),
                             arguments={"gen_args_0": {"arg_0": f"Q: {q} + 100?\nA:",
                                                       "arg_1": {"until": ["\n\n"]}}},
                             resps=[texts], filtered_resps=[ans], filter=filt,
                             metrics=["exact_match"], doc_hash="h", prompt_hash="p",
                             target_hash="t", exact_match=float(ans[0] == str(planted["ref"][q]))))
    return rows


def _generic_rows(planted, gen):
    rows = [dict(item=f"item-{q}", k=j, pred=str(planted["answers"][q, j]),
                 label=bool(planted["correct"][q, j]), ntok=int(planted["total"][q, j]),
                 think=int(planted["thinking"][q, j]), level=["easy", "mid", "hard", "x"][
                     int(planted["difficulty"][q]) - 1])
            for q in range(Q) for j in range(S)]
    return [rows[i] for i in gen.permutation(len(rows))]


GENERIC_MAP = ["--question-column", "item", "--sample-index-column", "k", "--answer-column",
               "pred", "--correct-column", "label", "--tokens-column", "ntok",
               "--thinking-tokens-column", "think", "--difficulty-column", "level"]


@pytest.fixture(scope="module")
def layouts(planted, tmp_path_factory):
    """``{name: (argv without --out, how to map question ids back)}`` for each layout."""
    d = tmp_path_factory.mktemp("layouts")
    gen = np.random.default_rng(7)
    refs = str(_references(d / "refs.csv", planted))
    return {
        "vllm": [str(_write_jsonl(d / "vllm.jsonl", _vllm_rows(planted, gen))), "--format",
                 "vllm", "--references", refs, "--extract", "boxed"],
        "openai": [str(_write_jsonl(d / "openai.jsonl", _openai_rows(planted))), "--format",
                   "openai", "--references", refs, "--extract", "answer-line",
                   "--question-regex", r"q(?P<question>\d+)-s\d+$"],
        "lm-eval": [str(_write_jsonl(d / "lm.jsonl", _lm_eval_rows(planted))), "--format",
                    "lm-eval", "--filter", "strict-match", "--difficulty-column", "doc.level"],
        "generic": [str(_write_jsonl(d / "generic.jsonl", _generic_rows(planted, gen))),
                    "--format", "generic", *GENERIC_MAP],
    }


def _question_index(meta):
    """Planted question number of each imported question_id."""
    return np.array([int(str(k).rsplit("-", 1)[-1]) for k in meta["question_ids"]])


@pytest.mark.parametrize("name", ["vllm", "openai", "lm-eval", "generic"])
def test_each_layout_imports_the_planted_run(name, layouts, planted, tmp_path, capsys):
    out = tmp_path / "run"
    assert vi.main([*layouts[name], "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{Q} questions x {S} samples = {Q * S} rows" in printed
    run = records.read_run(out)
    t = run.table.sort_values(["question_id", "sample"])
    assert run.meta["model"] is None and run.meta["source"]["format"] == name
    q = _question_index(run.meta)
    assert sorted(q) == list(range(Q))
    got = t["correct"].to_numpy().reshape(Q, S)
    np.testing.assert_array_equal(got, planted["correct"][q])
    total = t["total_length"].to_numpy().reshape(Q, S)
    thinking = t["thinking_length"].to_numpy().reshape(Q, S)
    if name == "lm-eval":
        # no token counts in the logs: whitespace-separated words of the text, here the
        # thinking steps (the tags stick to the first and last) and "1 and 2 gives N."
        np.testing.assert_array_equal(total, planted["thinking"][q] + 5)
    else:
        np.testing.assert_array_equal(total, planted["total"][q])
    if name in ("openai", "generic"):
        np.testing.assert_array_equal(thinking, planted["thinking"][q])
    else:  # no separate thinking count
        np.testing.assert_array_equal(thinking, total)
    answers = t["answer"].to_numpy().reshape(Q, S)
    np.testing.assert_array_equal(answers, planted["answers"][q].astype(str))
    if name != "openai":
        diff = t.groupby("question_id")["difficulty"].first().to_numpy()
        planted_diff = planted["difficulty"][q]
        if name == "generic":  # labels coded by first appearance in the file
            labels = run.meta["difficulty_labels"]
            names = ["easy", "mid", "hard", "x"]
            planted_diff = np.array([labels[names[d - 1]] for d in planted_diff])
        np.testing.assert_array_equal(diff, planted_diff)


def test_imported_runs_pass_through_the_record_only_checks(layouts, tmp_path, capsys):
    out = tmp_path / "run"
    assert vi.main([*layouts["vllm"], "--out", str(out)]) == 0
    capsys.readouterr()
    status = check_main([str(out), "--only", "phase", "knapsack"])
    printed = capsys.readouterr().out
    assert status in (0, 1)
    assert "vote b=3 accuracy, item model" in printed
    assert "effective-gradient ratio, knapsack" in printed
    assert f"{Q} questions x {S} samples" in printed


def test_every_layout_passes_the_record_only_checks_as_json(layouts, tmp_path, capsys):
    for name, argv in layouts.items():
        out = tmp_path / name
        assert vi.main([*argv, "--out", str(out), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["questions"] == Q and doc["samples"] == S and doc["params"]["format"] == name
        status = check_main([str(out), "--only", "phase,knapsack", "--json"])
        res = json.loads(capsys.readouterr().out)
        assert status == res["status"] in (0, 1)
        assert {c["check"] for c in res["checks"]} == {"phase", "knapsack"}


def test_checks_that_run_the_model_say_what_to_supply(layouts, tmp_path, cli_exit):
    out = tmp_path / "run"
    assert vi.main([*layouts["generic"], "--out", str(out)]) == 0
    status, err = cli_exit(check_main, [str(out), "--only", "phase", "gamma", "bbam"])
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert "--model" in err and "gamma and bbam" in err and "--only phase" in err


def test_gamma_fits_the_imported_lengths(layouts, planted, tmp_path, capsys):
    from sim.gamma.__main__ import main as gamma_main

    out = tmp_path / "run"
    assert vi.main([*layouts["openai"], "--out", str(out)]) == 0
    capsys.readouterr()
    fits = tmp_path / "fits.csv"
    assert gamma_main(["--fit", str(out / "samples.parquet"), "--length-column",
                       "thinking_length", "--by", "difficulty", "--out", str(fits)]) == 0
    table = pd.read_csv(fits).set_index("difficulty")
    # the difficulty came from the references file: one fit per level, all samples of it
    levels, counts = np.unique(planted["difficulty"], return_counts=True)
    assert sorted(table.index) == levels.tolist()
    assert table.loc[levels, "n"].tolist() == (counts * S).tolist()


def test_failed_batch_requests_are_left_out_and_counted(layouts, tmp_path, capsys):
    out = tmp_path / "run"
    assert vi.main([*layouts["openai"], "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed_requests"] == 1 and doc["questions"] == Q
    meta = records.read_run(out).meta
    assert meta["source"]["failed_requests"] == 1 and meta["source"]["models"] == ["gpt-test"]


@pytest.mark.parametrize("name", sorted(vi.RECORD_CHECKS))
def test_record_check_needs_are_those_of_the_checks(name):
    """What the importer says a check needs is what the check needs: it runs at those sizes
    and refuses one sample (or one question) fewer."""
    import warnings

    from validation.check import check_module, planted_table

    samples, questions = vi.RECORD_CHECKS[name]
    mod = check_module(name)
    assert not mod.NEEDS_MODEL

    def run(q, s):
        t = planted_table("item", questions=q, samples=s, p=0.6, rho=0.3, seed=1)
        t["target"] = "1"
        t["answer"] = np.where(t["correct"], "1", "2")
        t["total_length"] = 7
        t["thinking_length"] = 5
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return mod.check(records.Run(t, {}, None, None), seed=0)

    rows, _ = run(max(questions, 2), samples)
    assert rows
    with pytest.raises(ValueError):
        run(max(questions, 2), samples - 1)
    if questions > 2:
        with pytest.raises(ValueError):
            run(questions - 1, samples)


# ------------------------------------------------------------------ samples per question

def _uneven(tmp_path):
    rows = []
    for q, k in enumerate([8, 8, 5, 10, 8]):
        rows += [dict(question_id=q, answer="1" if j % 2 else "2", target="1",
                      total_length=10 + j) for j in range(k)]
    return str(_write_jsonl(tmp_path / "uneven.jsonl", rows))


def test_uneven_sample_counts_are_refused_without_samples(tmp_path, cli_exit):
    out = tmp_path / "run"
    status, err = cli_exit(vi.main, [_uneven(tmp_path), "--format", "generic", "--out",
                                     str(out)])
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "between 5 and 10 samples" in err and "--samples N" in err
    assert not out.exists()


def test_samples_keeps_the_first_n_and_drops_short_questions(tmp_path, capsys):
    out = tmp_path / "run"
    assert vi.main([_uneven(tmp_path), "--format", "generic", "--out", str(out),
                    "--samples", "8"]) == 0
    assert "dropped 1 questions with fewer than 8 samples" in capsys.readouterr().out
    run = records.read_run(out)
    assert run.meta["question_ids"] == [0, 1, 3, 4]
    t = run.table
    assert (t.groupby("question_id").size() == 8).all()
    # question 3 had 10 samples: its first 8 are kept, in order
    q3 = t[t.question_id == 2].sort_values("sample")
    assert q3["total_length"].tolist() == list(range(10, 18))
    assert q3["correct"].tolist() == [j % 2 == 1 for j in range(8)]


def test_samples_above_every_count_is_refused(tmp_path, cli_exit):
    status, err = cli_exit(vi.main, [_uneven(tmp_path), "--format", "generic", "--out",
                                     str(tmp_path / "run"), "--samples", "11"])
    assert status == 2 and "no question has 11 samples" in err


# ------------------------------------------------------------------ bad input

def _generic_line(**kw):
    return json.dumps(dict(question_id=1, answer="3", target="3", **kw))


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("\n\n  \n", "is empty"),
    (_generic_line() + "\n{not json}\n", "line 2 is not JSON"),
    (_generic_line() + "\n[1, 2]\n", "line 2 is not a JSON object"),
    ('{"answer": "1", "target": "1"}\n', "line 1 has no question id"),
    (_generic_line() + "\n" + json.dumps(dict(question_id=None, answer="3", target="3")),
     "line 2 has no question id"),
    (_generic_line(total_length=float("nan")), "NaN"),
    (_generic_line(total_length=2.5), "whole number"),
    (_generic_line(correct="maybe"), "true/false"),
    (_generic_line(total_length=3, thinking_length=5), "exceed"),
    (json.dumps(dict(question_id=1, answer="3")), "no correctness"),
    (_generic_line(sample=0) + "\n" + _generic_line(sample=0), "duplicate sample 0"),
    (_generic_line() + "\n" + json.dumps(dict(question_id=1, answer="3", target="4")),
     "other reference answers"),
    (_generic_line(difficulty=1) + "\n" + json.dumps(dict(question_id=2, answer="3",
                                                          target="3")),
     "line 2 has no field 'difficulty'"),
    (b"\xff\xfe\x00junk".decode("latin-1"), "not UTF-8"),
    ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_bad_generic_files_get_one_line_and_nothing_written(content, message, tmp_path,
                                                            cli_exit):
    f = tmp_path / "in.jsonl"
    f.write_bytes(content.encode("latin-1") if "junk" in content else content.encode())
    out = tmp_path / "run"
    status, err = cli_exit(vi.main, [str(f), "--format", "generic", "--out", str(out)])
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]


@pytest.mark.parametrize("fmt, lines, message", [
    ("vllm", [dict(request_id="a", outputs=[dict(text="1")]),
              dict(request_id="a", outputs=[dict(text="2")])], "duplicate request_id 'a'"),
    ("openai", [dict(custom_id="x", response=dict(status_code=200, body=dict(
        choices=[dict(message=dict(content="1"))])))] * 2, "duplicate custom_id 'x'"),
    ("lm-eval", [dict(doc_id=1, target="1", resps=[["1"]], filtered_resps=["1"],
                      exact_match=1.0)] * 2, "duplicate doc_id 1"),
    ("vllm", [dict(prompt="p", outputs=[dict(text="1")])], "line 1 has no question id"),
    ("vllm", [dict(request_id="a", outputs=[])], "'outputs' must be a non-empty list"),
    ("vllm", [dict(request_id="a", outputs=[dict(text="1")])], "no correctness"),
    ("lm-eval", [dict(doc_id=1, target="1", resps=[["1", "2"]], filtered_resps=["1"],
                      exact_match=1.0)], "pass --extract"),
    ("lm-eval", [dict(doc_id=1, target="1", resps=[["1"]], filtered_resps=["1"], filter="a"),
                 dict(doc_id=1, target="1", resps=[["1"]], filtered_resps=["1"], filter="b")],
     "choose one with --filter"),
])
def test_bad_layout_files_are_refused(fmt, lines, message, tmp_path, cli_exit):
    f = _write_jsonl(tmp_path / "in.jsonl", lines)
    status, err = cli_exit(vi.main, [str(f), "--format", fmt, "--out", str(tmp_path / "run")])
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert message in err
    assert not (tmp_path / "run").exists()


def test_free_text_needs_an_extractor(tmp_path, cli_exit, planted):
    f = _write_jsonl(tmp_path / "in.jsonl", [dict(request_id="0", outputs=[dict(text="7")])])
    refs = _references(tmp_path / "refs.csv", planted)
    status, err = cli_exit(vi.main, [str(f), "--format", "vllm", "--references", str(refs),
                                     "--out", str(tmp_path / "run")])
    assert status == 2 and "--extract" in err


@pytest.mark.parametrize("argv, message", [
    (["--question-column", "nope"], "no field 'nope' (--question-column"),
    (["--tokens-column", "nope"], "--tokens-column 'nope' is not a field of any line"),
    (["--metric", "acc"], "--metric does not apply to --format generic"),
    (["--question-regex", "("], "not a regular expression"),
    (["--samples", "0"], "--samples must be an integer >= 1"),
])
def test_bad_options_are_refused(argv, message, tmp_path, cli_exit):
    f = tmp_path / "in.jsonl"
    f.write_text(_generic_line() + "\n")
    status, err = cli_exit(vi.main, [str(f), "--format", "generic", "--out",
                                     str(tmp_path / "run"), *argv])
    assert status == 2 and message in err
    assert not (tmp_path / "run").exists()


def test_generic_options_do_not_apply_to_other_layouts(tmp_path, cli_exit):
    f = tmp_path / "in.jsonl"
    f.write_text(_generic_line() + "\n")
    status, err = cli_exit(vi.main, [str(f), "--format", "vllm", "--out", str(tmp_path / "r"),
                                     "--tokens-column", "n"])
    assert status == 2 and "--tokens-column does not apply to --format vllm" in err


def test_fifo_directory_and_missing_inputs_are_refused(tmp_path, cli_exit):
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    for path, message in ((fifo, "is a FIFO"), (tmp_path, "is a directory"),
                          (tmp_path / "missing.jsonl", "does not exist")):
        status, err = cli_exit(vi.main, [str(path), "--format", "generic", "--out",
                                         str(tmp_path / "run")])
        assert status == 2 and message in err
    assert not (tmp_path / "run").exists()


def test_out_replaces_a_run_and_refuses_other_directories(tmp_path, capsys, cli_exit):
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(_generic_line(sample=j) for j in range(4)) + "\n")
    out = tmp_path / "run"
    assert vi.main([str(f), "--format", "generic", "--out", str(out)]) == 0
    assert records.read_run(out).meta["n_rows"] == 4
    f.write_text("\n".join(_generic_line(sample=j) for j in range(6)) + "\n")
    assert vi.main([str(f), "--format", "generic", "--out", str(out)]) == 0
    assert records.read_run(out).meta["n_rows"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "run"]
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    status, err = cli_exit(vi.main, [str(f), "--format", "generic", "--out", str(other)])
    assert status == 2 and "holds files but no run" in err
    assert (other / "todo.txt").read_text() == "keep me"
    nested = tmp_path / "a" / "b" / "run"
    assert vi.main([str(f), "--format", "generic", "--out", str(nested)]) == 0
    assert records.read_run(nested).meta["n_rows"] == 6


def test_a_bad_line_late_in_a_file_leaves_an_earlier_run_untouched(tmp_path, cli_exit):
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(_generic_line(sample=j) for j in range(4)) + "\n")
    out = tmp_path / "run"
    assert vi.main([str(f), "--format", "generic", "--out", str(out)]) == 0
    before = (out / "samples.parquet").read_bytes()
    f.write_text("\n".join(_generic_line(sample=j) for j in range(40)) + "\nnot json\n")
    status, err = cli_exit(vi.main, [str(f), "--format", "generic", "--out", str(out)])
    assert status == 2 and "line 41 is not JSON" in err
    assert (out / "samples.parquet").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "run"]


def test_openai_choices_share_the_usage_by_text_length(tmp_path):
    body = dict(choices=[dict(index=i, message=dict(content=c), finish_reason=r)
                         for i, (c, r) in enumerate([("a" * 9, "stop"), ("b" * 29, "length"),
                                                     ("c" * 19, "stop")])],
                usage=dict(completion_tokens=101))
    f = _write_jsonl(tmp_path / "in.jsonl",
                     [dict(custom_id="q", response=dict(status_code=200, body=body))])
    refs = tmp_path / "refs.csv"
    pd.DataFrame({"id": ["q"], "reference": ["a" * 9]}).to_csv(refs, index=False)
    imp = vi.import_jsonl(f, "openai", references=str(refs), extract="exact")
    t = imp.table
    # weights 10, 30, 20 of 60: exactly 101/6, 101/2, 101/3 -> 16.83, 50.5, 33.67 -> 17, 50, 34
    assert t["total_length"].tolist() == [17, 50, 34]
    assert t["total_length"].sum() == 101
    assert t["finished"].tolist() == [True, False, True]
    assert t["correct"].tolist() == [True, False, False]
    assert imp.summary["lengths"] == "usage.completion_tokens, shared by text length"


# ------------------------------------------------------------------ answers

@pytest.mark.parametrize("text, how, expected", [
    ("<think>maybe 12</think>The answer is 1,234.50.", "last-number", "1234.5"),
    ("<think>\\boxed{9}</think>so \\boxed{\\frac{1}{2}} and done", "boxed", "\\frac{1}{2}"),
    ("no box here", "boxed", ""),
    ("Work.\n**Answer:** Paris.\n", "answer-line", "paris"),
    ("answer: 3\nANSWER: -0", "answer-line", "0"),
    ("  The   Answer  Is  $42$ . ", "exact", "the answer is $42$"),
    ("no digits", "last-number", ""),
    ("x = -7 and y = .5", "last-number", "0.5"),
])
def test_extractors(text, how, expected):
    assert vi.extract_answer(text, how) == expected


@pytest.mark.parametrize("a, b", [("3.0", "3"), ("1,000", "1000"), ("$5$", "5"), (" Yes. ", "yes"),
                                  ("-0.0", "0"), ("2.50", "2.5")])
def test_normalisation_identifies_equal_answers(a, b):
    assert vi.normalize_answer(a) == vi.normalize_answer(b)


@given(st.text(max_size=40))
def test_normalisation_is_idempotent(s):
    once = vi.normalize_answer(s)
    assert vi.normalize_answer(once) == once


@given(st.integers(-10**12, 10**12), st.sampled_from(["", "The result is ", "so x = "]))
def test_last_number_finds_any_integer(n, prefix):
    assert vi.extract_answer(f"<think>1 2 3</think>{prefix}{n:,}.", "last-number") == str(n)


@given(st.recursive(st.text(alphabet="ab1 ", max_size=5),
                    lambda inner: inner.map(lambda s: "{" + s + "}"), max_leaves=5))
def test_boxed_takes_balanced_braces(inner):
    assert vi.extract_answer(f"x \\boxed{{{inner}}} y", "boxed") == vi.normalize_answer(inner)


# ------------------------------------------------------------------ correctness sources

def test_correctness_alone_codes_every_wrong_answer_as_one(tmp_path, capsys):
    rows = [dict(question_id=q, correct=bool((q + j) % 3), total_length=5 + j)
            for q in range(40) for j in range(6)]
    f = _write_jsonl(tmp_path / "in.jsonl", rows)
    assert vi.main([str(f), "--format", "generic", "--out", str(tmp_path / "run"),
                    "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["answers"] is False and doc["correctness"] == "field"
    assert "search" not in doc["checks"] and doc["checks_short"]["search"] == \
        "the samples' answers"
    t = records.read_run(tmp_path / "run").table
    assert set(t["target"]) == {vi.UNKNOWN_TARGET}
    assert (t["answer"] == np.where(t["correct"], vi.UNKNOWN_TARGET, vi.UNKNOWN_WRONG)).all()
    assert t["correct"].tolist() == [bool((q + j) % 3) for q in range(40) for j in range(6)]


def test_lm_eval_multiple_choice_reads_the_metric(tmp_path):
    lls = [[-2.0, False], [-0.5, False], [-1.0, False]]
    rows = [dict(doc_id=d, target=d % 3, resps=[[x] for x in lls], filtered_resps=lls,
                 acc=float(d % 3 == 1), acc_norm=0.0) for d in range(9)]
    imp = vi.import_jsonl(_write_jsonl(tmp_path / "mc.jsonl", rows), "lm-eval")
    t = imp.table
    assert imp.summary["samples"] == 1 and imp.summary["correctness"] == "field"
    assert t["correct"].tolist() == [d % 3 == 1 for d in range(9)]
    assert set(t["answer"]) == {"1"}  # the choice of highest log-likelihood
    assert t["target"].tolist() == [str(d % 3) for d in range(9)]
    imp = vi.import_jsonl(tmp_path / "mc.jsonl", "lm-eval", metric="acc_norm")
    assert not imp.table["correct"].any()


def test_a_correctness_field_wins_over_the_comparison(tmp_path):
    # lm-eval with one sample per doc: the metric decides, even where the answers differ
    rows = [dict(doc_id=d, target="5", resps=[["x"]], filtered_resps=["5"], exact_match=0.0)
            for d in range(3)]
    t = vi.import_jsonl(_write_jsonl(tmp_path / "l.jsonl", rows), "lm-eval").table
    assert not t["correct"].any() and (t["answer"] == "5").all()


# ------------------------------------------------------------------ hostile lines

DELETE = "<delete this field>"
HOSTILE = [None, float("nan"), float("inf"), -1, 1.5, 10**30, "", "x" * 300, [], {}, True,
           [None], {"a": None}, "NaN", -0.0, DELETE]


def _valid_lines():
    text = "<think>a b</think>\\boxed{3}"
    return {
        "vllm": [dict(request_id=str(i), prompt="p", outputs=[dict(
            index=j, text=text, token_ids=[1, 2, 3], finish_reason="stop") for j in range(2)])
            for i in range(3)],
        "openai": [dict(custom_id=f"{i}-{j}", error=None, response=dict(status_code=200, body=dict(
            model="m", choices=[dict(index=0, message=dict(content=text), finish_reason="stop")],
            usage=dict(completion_tokens=5, completion_tokens_details=dict(reasoning_tokens=2)))))
            for i in range(3) for j in range(2)],
        "lm-eval": [dict(doc_id=i, target="3", resps=[[text, text]], filtered_resps=[["3", "4"]],
                         filter="none", exact_match=1.0) for i in range(3)],
        "generic": [dict(question_id=i, sample=j, text=text, answer="3", target="3",
                         correct=True, total_length=4, thinking_length=2, difficulty=1)
                    for i in range(3) for j in range(2)],
    }


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _replace(obj, path, value):
    if not path:
        return {} if value == DELETE else value
    obj = json.loads(json.dumps(obj))
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    if value == DELETE:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return obj


@given(st.sampled_from(["vllm", "openai", "lm-eval", "generic"]), st.data())
def test_hostile_values_give_exit_0_or_one_line_and_2(fmt, data):
    import contextlib
    import io
    import tempfile

    lines = _valid_lines()[fmt]
    i = data.draw(st.integers(0, len(lines) - 1))
    paths = list(_paths(lines[i]))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        lines[i] = _replace(lines[i], path, data.draw(st.sampled_from(HOSTILE)))
        paths = list(_paths(lines[i]))
    extra = ["--extract", "boxed"] if fmt in ("vllm", "openai") else []
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "in.jsonl")
        with open(f, "w") as fh:
            fh.write("".join(json.dumps(x) + "\n" for x in lines))
        refs = os.path.join(d, "refs.csv")
        pd.DataFrame({"id": ["0", "1", "2"], "reference": ["3"] * 3}).to_csv(refs, index=False)
        if fmt == "openai":
            extra += ["--question-regex", r"^(\d+)-", "--references", refs]
        elif fmt == "vllm":
            extra += ["--references", refs]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = vi.main([f, "--format", fmt, "--out", os.path.join(d, "run"), *extra])
        msg = err.getvalue()
        assert status in (0, 2), msg
        assert "unexpected" not in msg and "Traceback" not in msg
        if status == 2:
            assert len(msg.strip().splitlines()) == 1
            assert not os.path.exists(os.path.join(d, "run"))
        else:
            records.read_run(os.path.join(d, "run"))
