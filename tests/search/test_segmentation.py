"""What segment() puts in the index and what segment_query() asks of it."""

from __future__ import annotations

import pytest

from search.segmentation import MAX_QUERY_CHARS, segment, segment_query


@pytest.mark.parametrize(
    ("text", "expected_tokens"),
    [
        ("今天下午召开党员大会", {"党员", "大会", "党员大会", "党", "员", "会"}),  # words, sub-words, characters
        ("小区停车难的问题", {"停车", "停车难", "车", "的"}),
        ("Branchline 2026 版", {"branchline", "2026", "版"}),  # Latin lowercased, numbers kept
        ("ＢＲＡＮＣＨＬＩＮＥ２０２６", {"branchline2026"}),  # full-width folded to ASCII
        ("v1.2, snake_case!", {"v1", "2", "snake", "case"}),  # punctuation and "_" split
        ("café", {"café"}),  # a Latin word is never cut by jieba
    ],
)
def test_it_emits_words_and_single_characters(text, expected_tokens):
    assert expected_tokens <= set(segment(text).split())


def test_it_drops_punctuation_and_whitespace():
    assert segment("  党员，大会。\n<b>!</b>  ") == "党员 大会 b b 党 员 大 会"


def test_it_emits_each_character_once_per_occurrence():
    # 的 is a one-character word for jieba too; it must not count twice.
    assert segment("的").split() == ["的"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("党员", ["党员"]),
        ("党", ["党"]),
        ("党员 停车", ["党员", "停车"]),
        ("党员大会", ["党员", "大会"]),  # the compound is covered by its words
        ("Branchline 2026", ["branchline", "2026"]),
        ("党员 党员", ["党员"]),
        ("", []),
        ("   \n\t", []),
        ("！？。", []),
    ],
)
def test_query_words(query, expected):
    assert segment_query(query) == expected


def test_an_over_long_query_is_cut():
    assert segment_query("a" * (MAX_QUERY_CHARS + 50)) == ["a" * MAX_QUERY_CHARS]
