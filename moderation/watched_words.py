"""Matching watched words (敏感词) against text.

A pattern is literal text with `*` standing for any run of letters, digits or CJK
characters (not spaces or punctuation).
Latin letters and digits match on word boundaries ("ass" does not hit "class");
Chinese (and other scripts written without spaces) match as substrings, since there
are no word boundaries to rely on. Matching is case-insensitive unless asked.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

import re
from dataclasses import dataclass, field
from typing import Iterable

MAX_PATTERN_LENGTH = 100
_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")


class InvalidPattern(ValueError):
    pass


def compile_pattern(pattern: str, *, case_sensitive: bool = False) -> re.Pattern[str]:
    text = pattern.strip()
    if not text:
        raise InvalidPattern(_("A watched word cannot be empty."))
    if len(text) > MAX_PATTERN_LENGTH:
        raise InvalidPattern(_("A watched word is at most %(max)d characters.") % {"max": MAX_PATTERN_LENGTH})
    if not text.replace("*", "").strip():
        raise InvalidPattern(_("A watched word needs more than '*'."))
    if "**" in text:
        raise InvalidPattern(_("Use a single '*', not several in a row."))
    if any(ch.isspace() and ch != " " for ch in text):
        raise InvalidPattern(_("A watched word cannot contain line breaks or tabs."))
    body = r"\w*".join(re.escape(part) for part in text.split("*"))
    body = body.replace(r"\ ", r"\s+")
    if _WORD_CHAR.match(text[0]):
        body = r"(?<![A-Za-z0-9_])" + body
    if _WORD_CHAR.match(text[-1]):
        body = body + r"(?![A-Za-z0-9_])"
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


@dataclass(frozen=True)
class WatchedWordRule:
    pattern: str
    action: str  # block | require_approval | flag | censor
    case_sensitive: bool = False


@dataclass
class ScanResult:
    blocked: list[str] = field(default_factory=list)
    needs_approval: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    censored: list[str] = field(default_factory=list)
    censored_text: str = ""

    @property
    def clean(self) -> bool:
        return not (self.blocked or self.needs_approval or self.flagged or self.censored)


CENSOR_CHAR = "■"


class WatchedWordSet:
    def __init__(self, rules: Iterable[WatchedWordRule]):
        self.rules = [(rule, compile_pattern(rule.pattern, case_sensitive=rule.case_sensitive)) for rule in rules]

    def scan(self, text: str) -> ScanResult:
        result = ScanResult(censored_text=text)
        buckets = {
            "block": result.blocked,
            "require_approval": result.needs_approval,
            "flag": result.flagged,
            "censor": result.censored,
        }
        for rule, regex in self.rules:
            matches = [m.group(0) for m in regex.finditer(text) if m.group(0)]
            if not matches:
                continue
            bucket = buckets[rule.action]
            for word in matches:
                if word not in bucket:
                    bucket.append(word)
            if rule.action == "censor":
                result.censored_text = regex.sub(lambda m: CENSOR_CHAR * len(m.group(0)), result.censored_text)
        return result
