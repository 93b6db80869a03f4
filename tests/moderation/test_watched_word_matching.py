"""The matching table for watched words: Latin boundaries, Chinese substrings, wildcard, case."""

from __future__ import annotations

import pytest

from moderation.watched_words import InvalidPattern, WatchedWordRule, WatchedWordSet, compile_pattern


@pytest.mark.parametrize(
    "pattern, text, hits",
    [
        # Latin words match whole words only
        ("spam", "this is spam!", ["spam"]),
        ("spam", "spammer here", []),
        ("ass", "first class", []),
        ("ass", "ASS hat", ["ASS"]),
        # wildcard
        ("spam*", "spammer and spamming", ["spammer", "spamming"]),
        ("*coin", "buy bitcoin now", ["bitcoin"]),
        ("f*k", "fork folk", ["fork", "folk"]),
        ("spam*", "spammer, hi", ["spammer"]),
        # Chinese matches as substrings, without word boundaries
        ("发票", "代开发票请联系", ["发票"]),
        ("代开*发票", "代开增值税发票", ["代开增值税发票"]),
        ("法轮", "法轮功", ["法轮"]),
        # mixed scripts: boundary only on the Latin side
        ("VX号", "加VX号123", ["VX号"]),
        ("VX号", "aVX号123", []),
        ("加微信", "请加微信abc", ["加微信"]),
        # spaces in a pattern match any run of whitespace
        ("buy now", "please BUY   now", ["BUY   now"]),
        # digits are word characters
        ("110", "call 110 now", ["110"]),
        ("110", "call 1100 now", []),
    ],
)
def test_matching_table(pattern, text, hits):
    regex = compile_pattern(pattern)
    assert [m.group(0) for m in regex.finditer(text)] == hits


def test_case_sensitive_patterns():
    assert not compile_pattern("Spam", case_sensitive=True).search("spam")
    assert compile_pattern("Spam", case_sensitive=True).search("Spam")


@pytest.mark.parametrize("pattern", ["", "   ", "*", "**", "a**b", "x" * 101, "a\nb"])
def test_invalid_patterns_are_refused_with_a_message(pattern):
    with pytest.raises(InvalidPattern) as info:
        compile_pattern(pattern)
    assert str(info.value)


def test_regex_characters_are_literal():
    assert compile_pattern("a.b").search("a.b")
    assert not compile_pattern("a.b").search("axb")
    assert compile_pattern("(测试)").search("这是(测试)")


def test_scan_sorts_hits_by_action_and_masks_censored_words():
    words = WatchedWordSet(
        [
            WatchedWordRule("赌博", "block"),
            WatchedWordRule("代购", "require_approval"),
            WatchedWordRule("stupid", "flag"),
            WatchedWordRule("傻*瓜", "censor"),
        ]
    )
    result = words.scan("你这个傻瓜 stupid，代购赌博")
    assert result.blocked == ["赌博"]
    assert result.needs_approval == ["代购"]
    assert result.flagged == ["stupid"]
    assert result.censored == ["傻瓜"]
    assert result.censored_text == "你这个■■ stupid，代购赌博"
    assert not result.clean
    assert words.scan("今天开会").clean
