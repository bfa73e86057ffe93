"""Whisper's decoding loops are cut back to the first copy (seen in 11% of English Piper
questions before: "How do I renew my residence permit? How do I renew my residence permit?")."""

from __future__ import annotations

from voice_agent.speech_in.stt import collapse_repeats


def test_a_question_decoded_twice_or_more_keeps_one_copy() -> None:
    q = [11, 12, 13, 14, 15]
    assert collapse_repeats(q + q) == q
    assert collapse_repeats(q + q + q[:2]) == q  # cut off by the token limit
    assert collapse_repeats([1, 2] + q + q) == [1, 2] + q  # the loop starts mid-way


def test_a_short_phrase_must_repeat_three_times() -> None:
    assert collapse_repeats([5, 6, 7, 8, 7, 8]) == [5, 6, 7, 8, 7, 8]  # "no, no" stays
    assert collapse_repeats([5, 6, 7, 8, 7, 8, 7, 8, 7]) == [5, 6, 7, 8]


def test_ordinary_text_is_untouched() -> None:
    for ids in ([], [3], [3, 3], [1, 2, 3, 4, 5, 6], [1, 2, 1, 3, 1, 2]):
        assert collapse_repeats(ids) == ids
