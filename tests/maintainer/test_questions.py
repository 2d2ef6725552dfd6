"""Concept checks: every question has a reference answer that grades right, every catalogued mistake
grades wrong with its hint, and the answers file is kept safely."""
from __future__ import annotations

import json
import math

import pytest

import cnnlib
from cnnlib.grading import grade_all, status_table
from cnnlib.grading.questions import MISTAKES, check_answer, grade_questions
from cnnlib.questions import KINDS, QUESTIONS, get_question
from solutions.answers import ANSWERS


@pytest.fixture
def answers_file(tmp_path, monkeypatch):
    path = tmp_path / "answers.json"
    monkeypatch.setenv("CNNLIB_ANSWERS", str(path))
    return path


def test_every_question_has_a_kind_a_reference_answer_and_a_catalogued_mistake():
    assert {q.id for q in QUESTIONS} == set(ANSWERS) == set(MISTAKES)
    assert all(q.kind in KINDS and (q.kind != "choice" or q.choices) for q in QUESTIONS)


@pytest.mark.parametrize("qid", ANSWERS)
def test_the_reference_answer_is_right(qid):
    assert check_answer(qid, ANSWERS[qid]).done


@pytest.mark.parametrize("qid, wrong, hint", [(q, w, h) for q, ms in MISTAKES.items() for w, h in ms])
def test_a_catalogued_mistake_is_wrong_and_gets_its_hint(qid, wrong, hint):
    res = check_answer(qid, wrong)
    assert res.status == "wrong" and hint in res.message
    assert repr(ANSWERS[qid]) not in res.message.split("\n", 1)[1]  # the hint never gives the answer


def test_floats_are_checked_to_half_a_percent():
    assert check_answer("10.q2", round(math.log(10), 3)).done and not check_answer("10.q2", 2.33).done


def test_answer_records_and_replaces_atomically_and_keeps_the_others(answers_file, capsys):
    cnnlib.answer("1.q1", None)
    assert not answers_file.exists() and "not answered yet" in capsys.readouterr().out
    cnnlib.answer("1.q1", 14)
    assert "not yet. Hint:" in capsys.readouterr().out
    cnnlib.answer("2.q2", (128, 16))
    cnnlib.answer("1.q1", 13)
    assert "1.q1: right." in capsys.readouterr().out
    assert json.loads(answers_file.read_text()) == {"1.q1": 13, "2.q2": [128, 16]}
    assert [p.name for p in answers_file.parent.iterdir()] == ["answers.json"]  # no temporary file left
    results = grade_questions()
    assert results["1.q1"].done and results["2.q2"].done and results["3.q1"].status == "not started"


@pytest.mark.parametrize("qid, value, exc, words", [
    ("1.q1", "13", TypeError, "must be a whole number"), ("1.q1", True, TypeError, "whole number"),
    ("3.q1", "d", ValueError, "one of the letters a, b, c"), ("2.q2", "128, 16", TypeError, "a tuple of ints"),
    ("10.q1", float("nan"), TypeError, "finite number"), ("9.q9", 1, ValueError, "question must be one of")])
def test_a_bad_answer_is_refused_and_nothing_is_written(answers_file, qid, value, exc, words):
    with pytest.raises(exc, match=words):
        cnnlib.answer(qid, value)
    assert not answers_file.exists()


def test_a_damaged_answers_file_is_named_and_left_alone(answers_file):
    answers_file.write_text("{not json")
    results = grade_questions()
    assert all(r.status == "broken" and "cannot be read as JSON" in r.message for r in results.values())
    with pytest.raises(ValueError, match="cannot be read as JSON"):
        cnnlib.answer("1.q1", 13)
    assert answers_file.read_text() == "{not json"


def test_an_answer_of_the_wrong_type_in_the_file_is_broken_not_a_crash(answers_file):
    answers_file.write_text(json.dumps({"3.q1": 7}))
    assert grade_questions(["3.q1"])["3.q1"].status == "broken"


def test_the_progress_table_lists_the_questions_with_their_chapter(answers_file):
    answers_file.write_text(json.dumps({"4.q1": 4}))
    table = status_table(grade_all(["4.q1", "4.q2", "relu_forward"]))
    assert "Chapter 04  Activations and pooling  (1/3 done)" in table  # relu_forward: the reference, switched on
    assert "4.q1 concept check              wrong" in table and "nothing is learned" in table
    assert 'cnnlib.answer("4.q2", ...)' in table
    assert get_question("4.q2").chapter == 4
