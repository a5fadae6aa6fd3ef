"""Run records: round trip and rejection of malformed files."""

import json

import numpy as np
import pandas as pd
import pytest

from validation import records


def make_table(n_q=3, n_s=2):
    rows = []
    for q in range(n_q):
        for s in range(n_s):
            k = 2 + q
            rows.append(dict(question_id=q, difficulty=q + 1, sample=s, seed=100 * q + s,
                             prompt=f"{q}+1=", target=str(q + 1), answer=str(q + 1 - s),
                             correct=s == 0, thinking_length=k, total_length=k + 3,
                             finished=True))
    return pd.DataFrame(rows)


def make_hidden(table, layers=3, d=4):
    states, row, pos, rem = [], [], [], []
    for i, k in enumerate(table["thinking_length"]):
        for t in range(k + 1):
            states.append(np.full((layers, d), i + t / 10))
            row.append(i)
            pos.append(t)
            rem.append(k + 1 - t)
    return dict(states=np.array(states), row=np.array(row), position=np.array(pos),
                remaining=np.array(rem), token=np.full(len(rem), 7))


META = dict(model="tiny", checkpoint_sha256="ab" * 32,
            decoding=dict(temperature=0.8, top_p=0.95, seed=0))


def test_round_trip_with_hidden(tmp_path):
    table = make_table()
    hidden = make_hidden(table)
    records.write_run(tmp_path / "run", table, META, hidden)
    run = records.read_run(tmp_path / "run")
    pd.testing.assert_frame_equal(run.table, records._coerce(table))
    assert run.meta["schema_version"] == records.SCHEMA_VERSION
    assert run.meta["n_questions"] == 3 and run.meta["n_samples"] == 2 and run.meta["hidden"]
    for k in records.HIDDEN_KEYS:
        np.testing.assert_allclose(run.hidden[k], hidden[k], rtol=1e-3)
    assert run.hidden["states"].dtype == np.float16
    assert not list((tmp_path / "run").glob(".*"))  # no temporary files left


def test_round_trip_without_hidden_replaces_old_hidden(tmp_path):
    table = make_table()
    records.write_run(tmp_path, table, META, make_hidden(table))
    records.write_run(tmp_path, table, META)
    run = records.read_run(tmp_path)
    assert run.hidden is None and not (tmp_path / "hidden.npz").exists()


def _corrupt_table(tmp_path, change):
    table = make_table()
    records.write_run(tmp_path, table, META)
    df = pd.read_parquet(tmp_path / "samples.parquet")
    df = change(df)
    df.to_parquet(tmp_path / "samples.parquet", index=False)


@pytest.mark.parametrize("change,message", [
    (lambda df: df.drop(columns=["correct"]), "missing column"),
    (lambda df: df.assign(correct=df["correct"].astype(float)), "correct must have dtype bool"),
    (lambda df: df.assign(thinking_length=df["thinking_length"].astype(str)),
     "thinking_length must have dtype int64"),
    (lambda df: df.iloc[:0], "empty"),
    (lambda df: df.iloc[:3], "meta.json says n_rows = "),
    (lambda df: df.assign(sample=0), "duplicate"),
    (lambda df: df.assign(total_length=0), "exceeds total_length"),
])
def test_malformed_tables_are_rejected(tmp_path, change, message):
    _corrupt_table(tmp_path, change)
    with pytest.raises(ValueError, match=message) as exc:
        records.read_run(tmp_path)
    assert "\n" not in str(exc.value)


def _edit_meta(path, **kw):
    meta = json.loads((path / "meta.json").read_text())
    meta.update(kw)
    for k, v in list(meta.items()):
        if v is KeyError:
            del meta[k]
    (path / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("edit,message", [
    (dict(schema_version=2), "schema_version 2 is not supported"),
    (dict(model=KeyError), "lacks key"),
    (dict(hidden=True), "hidden.npz is missing"),
])
def test_bad_meta_is_rejected(tmp_path, edit, message):
    records.write_run(tmp_path, make_table(), META)
    _edit_meta(tmp_path, **edit)
    with pytest.raises(ValueError, match=message):
        records.read_run(tmp_path)


def test_missing_or_broken_files_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        records.read_run(tmp_path / "nothing")
    with pytest.raises(ValueError, match="no meta.json"):
        records.read_run(tmp_path)
    records.write_run(tmp_path, make_table(), META)
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        records.read_run(tmp_path)
    records.write_run(tmp_path, make_table(), META)
    (tmp_path / "samples.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot be read"):
        records.read_run(tmp_path)


@pytest.mark.parametrize("change,message", [
    (lambda h: h.pop("remaining"), "missing array"),
    (lambda h: h.pop("token"), "missing array"),
    (lambda h: h.update(row=h["row"][:-1]), "row must have shape"),
    (lambda h: h.update(row=h["row"] + 100), "out of range"),
    (lambda h: h.update(remaining=h["remaining"] + 1), "remaining != thinking_length"),
    (lambda h: h.update(states=h["states"][:, 0]), "states must be"),
])
def test_mismatched_hidden_file_is_rejected(tmp_path, change, message):
    table = make_table()
    records.write_run(tmp_path, table, META, make_hidden(table))
    with np.load(tmp_path / "hidden.npz") as z:
        h = {k: z[k] for k in z.files}
    change(h)
    np.savez(tmp_path / "hidden.npz", **h)
    with pytest.raises(ValueError, match=message) as exc:
        records.read_run(tmp_path)
    assert "\n" not in str(exc.value)


def test_write_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="meta must have key"):
        records.write_run(tmp_path, make_table(), dict(model="x"))
    with pytest.raises(ValueError, match="empty"):
        records.write_run(tmp_path, make_table().iloc[:0], META)


def make_tokens(table):
    prompts = [[5, 6, 7][: 1 + i % 3] for i in range(len(table))]
    generated = [list(range(100 + i, 100 + i + n)) for i, n in enumerate(table["total_length"])]
    return records.pack_tokens(prompts, generated), prompts, generated


def test_tokens_and_optional_columns_round_trip(tmp_path):
    table = make_table()
    table["text"] = [f"text {i}" for i in range(len(table))]
    table["closed"] = [i % 2 == 0 for i in range(len(table))]
    tokens, prompts, generated = make_tokens(table)
    records.write_run(tmp_path, table, META, tokens=tokens)
    run = records.read_run(tmp_path)
    assert run.meta["token_ids"] is True
    assert list(run.table["text"]) == list(table["text"])
    assert run.table["closed"].dtype == bool and list(run.table["closed"]) == list(table["closed"])
    for i in range(len(table)):
        p, g = records.row_tokens(run.tokens, i)
        assert p.tolist() == prompts[i] and g.tolist() == generated[i]


def test_runs_without_tokens_or_optional_columns_still_load(tmp_path):
    records.write_run(tmp_path, make_table(), META)
    meta = json.loads((tmp_path / "meta.json").read_text())
    del meta["token_ids"]  # a run written before tokens.npz existed
    meta["tokens"] = 1234  # which counted generated tokens under this key
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    run = records.read_run(tmp_path)
    assert run.tokens is None and "text" not in run.table.columns


@pytest.mark.parametrize("change,message", [
    (lambda t: t.pop("prompt"), "missing array"),
    (lambda t: t.update(generated_offsets=t["generated_offsets"][:-1]), "generated_offsets"),
    (lambda t: t.update(generated_offsets=t["generated_offsets"] * 2,
                        generated=np.zeros(2 * len(t["generated"]), np.int32)), "row 0 has"),
    (lambda t: t.update(prompt=t["prompt"].astype(float)), "must be integer"),
])
def test_mismatched_tokens_file_is_rejected(tmp_path, change, message):
    table = make_table()
    tokens, _, _ = make_tokens(table)
    records.write_run(tmp_path, table, META, tokens=tokens)
    with np.load(tmp_path / "tokens.npz") as z:
        t = {k: z[k] for k in z.files}
    change(t)
    np.savez(tmp_path / "tokens.npz", **t)
    with pytest.raises(ValueError, match=message) as exc:
        records.read_run(tmp_path)
    assert "\n" not in str(exc.value)
    _edit_meta(tmp_path, token_ids=True)
    (tmp_path / "tokens.npz").unlink()
    with pytest.raises(ValueError, match="tokens.npz is missing"):
        records.read_run(tmp_path)
