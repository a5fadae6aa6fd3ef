"""A run whose files disagree is refused on load, with one line naming the file and the field.

Each case damages a copy of the committed SmolLM2 run (300 questions x 8 samples, task ``nl``)
the way a hand-edited or half-converted run would be damaged.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validation import records

RUN = Path(__file__).resolve().parents[2] / "data" / "runs" / "smollm2-135m-instruct"


@pytest.fixture
def run_copy(tmp_path):
    d = tmp_path / "run"
    shutil.copytree(RUN, d, ignore=shutil.ignore_patterns("report", "tokens.npz"))
    meta = json.loads((d / "meta.json").read_text())
    meta["token_ids"] = False
    (d / "meta.json").write_text(json.dumps(meta))
    return d


def _edit_meta(d, **changes):
    meta = json.loads((d / "meta.json").read_text())
    meta.update(changes)
    (d / "meta.json").write_text(json.dumps(meta))


def _edit_table(d, fn):
    df = pd.read_parquet(d / "samples.parquet")
    df = fn(df)
    df.to_parquet(d / "samples.parquet", index=False)


def _refused(d, *fragments):
    with pytest.raises(ValueError) as info:
        records.read_run(d)
    msg = str(info.value)
    assert "\n" not in msg and str(d) in msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_the_intact_copy_loads(run_copy):
    run = records.read_run(run_copy)
    assert len(run.table) == 2400 and run.meta["n_questions"] == 300


@pytest.mark.parametrize("key,value", [("n_samples", 7), ("n_questions", 301),
                                       ("n_rows", 2399)])
def test_wrong_counts(run_copy, key, value):
    _edit_meta(run_copy, **{key: value})
    _refused(run_copy, "meta.json says", key, str(value))


@pytest.mark.parametrize("key,value", [("n_samples", "8"), ("n_rows", True), ("n_questions", -1),
                                       ("hidden", "no")])
def test_counts_of_the_wrong_type(run_copy, key, value):
    _edit_meta(run_copy, **{key: value})
    _refused(run_copy, "meta.json", key)


def test_empty_answer_marked_correct(run_copy):
    def f(df):
        i = df.index[~df["correct"]][0]
        df.loc[i, "answer"] = ""
        df.loc[i, "correct"] = True
        return df
    _edit_table(run_copy, f)
    _refused(run_copy, "empty answer marked correct")


def test_wrong_answer_marked_correct(run_copy):
    def f(df):
        i = df.index[(~df["correct"]) & (df["answer"] != "")][0]
        df.loc[i, "correct"] = True
        return df
    _edit_table(run_copy, f)
    _refused(run_copy, "says correct = True")


def test_shifted_question_ids(run_copy):
    _edit_table(run_copy, lambda df: df.assign(question_id=(df["question_id"] + 1) % 300))
    _refused(run_copy, "shifted or foreign ids")


def test_ids_beyond_the_question_set(run_copy):
    _edit_table(run_copy, lambda df: df.assign(question_id=df["question_id"] + 1))
    _refused(run_copy, "question_id 300 is beyond the task's 300 questions")


def test_two_questions_under_one_id(run_copy):
    def f(df):
        df.loc[df["question_id"] == 1, "question_id"] = 0
        df.loc[df["question_id"] == 0, "sample"] = np.arange(16)
        return df
    _edit_table(run_copy, f)
    _edit_meta(run_copy, n_questions=299, n_samples=16)
    _refused(run_copy, "question_id 0 has 2 different values of")


def test_sample_indices_with_a_gap(run_copy):
    def f(df):
        df.loc[(df["question_id"] == 5) & (df["sample"] == 7), "sample"] = 9
        return df
    _edit_table(run_copy, f)
    _refused(run_copy, "question 5's sample indices are not 0..7")


def test_zeroed_checkpoint_hash(run_copy):
    _edit_meta(run_copy, checkpoint_sha256="0" * 64)
    _refused(run_copy, "checkpoint_sha256 is all zeros")


@pytest.mark.parametrize("value", ["abc", "G" * 64, 12])
def test_malformed_checkpoint_hash(run_copy, value):
    _edit_meta(run_copy, checkpoint_sha256=value)
    _refused(run_copy, "checkpoint_sha256 must be 64 lowercase hex digits")


def test_deeply_nested_meta(run_copy):
    (run_copy / "meta.json").write_text("[" * 200_000 + "]" * 200_000)
    _refused(run_copy, "meta.json", "nested too deeply")


def test_binary_meta(run_copy):
    (run_copy / "meta.json").write_bytes(bytes(range(256)) * 4)
    _refused(run_copy, "meta.json is not UTF-8 text")


def test_meta_with_infinity(run_copy):
    text = (run_copy / "meta.json").read_text().replace('"temperature": 0.8',
                                                         '"temperature": Infinity')
    (run_copy / "meta.json").write_text(text)
    _refused(run_copy, "meta.json holds the non-standard JSON value Infinity")


def test_huge_meta(run_copy):
    (run_copy / "meta.json").write_text(" " * (records.MAX_META_BYTES + 1) + "{}")
    _refused(run_copy, "meta.json has", "bytes")


def test_meta_not_an_object(run_copy):
    (run_copy / "meta.json").write_text("[1, 2]")
    _refused(run_copy, "meta.json must hold an object, got list")


def test_nulls_in_correct(run_copy):
    def f(df):
        c = df["correct"].astype("boolean")
        c.iloc[[3, 10]] = pd.NA
        return df.assign(correct=c)
    _edit_table(run_copy, f)
    _refused(run_copy, "column correct has 2 missing value(s) (first in row 3)")


def test_nulls_in_answer(run_copy):
    def f(df):
        a = df["answer"].astype(object)
        a.iloc[4] = None
        return df.assign(answer=a)
    _edit_table(run_copy, f)
    _refused(run_copy, "column answer has 1 missing value(s) (first in row 4)")


def test_a_run_without_a_task_is_checked_for_counts_only(tmp_path):
    """Imported runs name no task: ids and prompts are then whatever the source had."""
    df = pd.read_parquet(RUN / "samples.parquet").iloc[:80]
    df = df.assign(question_id=df["question_id"] + 1000)
    records.write_run(tmp_path, df, dict(model=None, checkpoint_sha256=None, decoding={}))
    run = records.read_run(tmp_path)
    assert run.meta["n_questions"] == 10 and run.meta["n_samples"] == 8
