"""The chained-arithmetic task: traces, answers, tokenizer, checker."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validation import task


@given(st.lists(st.integers(0, 9), min_size=2, max_size=9), st.data())
def test_trace_reduces_left_to_right(numbers, data):
    ops = data.draw(st.lists(st.sampled_from("+-"), min_size=len(numbers) - 1,
                             max_size=len(numbers) - 1))
    trace, answer = task.solve(numbers, ops)
    expr = str(numbers[0]) + "".join(o + str(v) for o, v in zip(ops, numbers[1:]))
    assert answer == eval(expr)
    lines = trace.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(ops)
    assert int(lines[-2]) == answer
    for line in lines[:-1]:  # every line is an equivalent chain
        assert eval(line.replace("--", "+").replace("+-", "-")) == answer


def test_questions_are_seeded_and_cycle_difficulty():
    a = task.make_questions(12, (1, 6), seed=3)
    b = task.make_questions(12, (1, 6), seed=3)
    c = task.make_questions(12, (1, 6), seed=4)
    assert a == b and a != c
    assert [q.difficulty for q in a] == [1, 2, 3, 4, 5, 6] * 2
    assert [q.id for q in a] == list(range(12))
    assert task.make_questions(3, "4", 0)[0].difficulty == 4


def test_trace_length_depends_on_input():
    qs = task.make_questions(600, (1, 6), seed=0)
    by = {}
    for q in qs:
        by.setdefault(q.difficulty, set()).add(len(q.trace))
    means = [sum(by[d]) / len(by[d]) for d in range(1, 7)]
    assert means == sorted(means)
    assert all(len(by[d]) > 1 for d in range(2, 7))  # varies within a difficulty too


def test_tokenizer_round_trip_and_completion_parsing():
    q = task.make_questions(1, 3, seed=1)[0]
    p, c = task.prompt_tokens(q), task.target_tokens(q)
    assert p[0] == task.BOS and p[-1] == task.THINK
    assert task.decode(p + c) == "<bos>" + q.text + "<think>" + q.trace + "</think>" + str(
        q.answer) + "<eos>"
    parsed = task.parse_completion(c + [task.PAD] * 3)
    assert parsed["closed"] and parsed["finished"]
    assert parsed["thinking_length"] == len(q.trace)
    assert parsed["total_length"] == len(c)
    assert task.check_answer(parsed["answer"], q.answer)
    unclosed = task.parse_completion(task.encode("12\n3"))
    assert not unclosed["closed"] and unclosed["thinking_length"] == 4 and unclosed["answer"] == ""


@pytest.mark.parametrize("answer,target,ok", [("17", 17, True), ("-3", -3, True), ("017", 17, True),
                                              ("", 0, False), ("1-2", -1, False), ("5\n", 5, True),
                                              ("x", 1, False)])
def test_check_answer(answer, target, ok):
    assert task.check_answer(answer, target) is ok


@pytest.mark.parametrize("bad", [0, 9, "0:3", "a", (3, 2), "1:2:3"])
def test_bad_difficulty_is_one_line(bad):
    with pytest.raises((ValueError, TypeError)) as exc:
        task.make_questions(4, bad)
    assert "difficulty" in str(exc.value) and "\n" not in str(exc.value)
