"""The natural-language task: questions, the thinking marker and answer extraction."""

import re

import pytest

from validation import nltask, task


@pytest.mark.parametrize("text,want", [
    ("Sam starts with 6 coins.\nHe gets 3 more: 6 + 3 = 9.\nAnswer: 9", "9"),
    ("Tom has 4.\n**Answer:** 12 apples\nI hope this helps!", "12"),
    ("Step one.\nAnswer: 7 + 5 = 12", "12"),
    ("Step one.\nFinal answer: 42.", "42"),
    ("Adding them up, the answer is 15. Great job with 3 more!", "15"),
    ("The answer is: -3", "-3"),
    ("He ends up with 1,234 coins", "1234"),
    ("We get 4 and then 9.0", "9"),
    ("12-3=9", "9"),
    ("so 5 \u2212 8 gives\nAnswer: \u22123", "-3"),
    ("Answer:\nhmm, 5 and then 6", "6"),
    ("Answer: 3 (since 1 + 2 = 3)", "3"),
    ("I cannot tell.", ""),
    ("", ""),
])
def test_extract_answer_reads_chatty_output(text, want):
    assert nltask.extract_answer(text) == want


def test_marker_is_a_line_that_starts_with_answer():
    fmt = nltask.CHAT_FORMAT
    assert fmt.find("ab\n\nAnswer: 3") == (3, len("ab\n\nAnswer:"))  # the line's own newline
    assert fmt.find("Answer: 3")[0] == 0
    assert fmt.find("x\n## Answer: 3")[0] == 1
    assert fmt.find("x\n**Answer**: 3")[0] == 1
    assert fmt.find("The answer: 3") is None  # mid-line: not the marker
    assert fmt.find("x\nAnswering is hard") is None
    text = "thinking 7\n"
    assert fmt.find(text + nltask.FORCED)[0] == len(text)  # forcing after a newline


def test_questions_are_reproducible_and_their_answers_right():
    qs = nltask.make_questions(60, "1:6", seed=3)
    again = nltask.make_questions(60, "1:6", seed=3)
    assert [q.text for q in qs] == [q.text for q in again]
    assert [q.text for q in qs] != [q.text for q in nltask.make_questions(60, "1:6", seed=4)]
    for q in qs:
        n_ops, top = nltask.LEVELS[q.difficulty]
        numbers = [int(x) for x in re.findall(r"\d+", q.text)]
        assert len(numbers) == n_ops + 1 and max(numbers) <= top and min(numbers) >= 1
        count = numbers[0]
        for sentence, v in zip(re.findall(r"(gets|gives) \d+", q.text), numbers[1:]):
            count += v if sentence == "gets" else -v
            assert count >= 0
        assert count == q.answer
        assert q.trace.rstrip().endswith(f"= {q.answer}.")
        assert q.trace.count("\n") == n_ops + 1
    assert [q.difficulty for q in qs[:7]] == [1, 2, 3, 4, 5, 6, 1]
    assert nltask.make_questions(5, 3, seed=0)[0].difficulty == 3


@pytest.mark.parametrize("bad", ["0:3", "2:9", "x", 7])
def test_bad_difficulty_is_refused(bad):
    with pytest.raises(ValueError, match="difficulty"):
        nltask.make_questions(5, bad)


def test_answers_are_checked_as_integers():
    assert task.check_answer(nltask.extract_answer("...\nAnswer: 09"), 9)
    assert not task.check_answer(nltask.extract_answer("...\nAnswer: 9.5"), 9)
