"""Cut text into the space-separated tokens the full-text index stores.

Chinese has no spaces between words and most words are two characters long, so
neither SQLite's nor PostgreSQL's tokenizers can find 党员 inside 召开党员大会 by
themselves. We cut at write time with rjieba (jieba in Rust) in search mode, which
emits a long word and its dictionary sub-words (党员大会 -> 党员, 大会, 党员大会), and
hand the database plain tokens separated by spaces. Both databases then only need
their simplest tokenizer (FTS5 unicode61, PostgreSQL 'simple'), and the same Python
code decides what a token is for every deployment shape.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import rjieba

MAX_QUERY_CHARS = 200

# Han ideographs: the basic block, extension A, compatibility ideographs, and the
# supplementary-plane extensions (B and later).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A run of Han characters goes to jieba; any other run of letters and digits is one
# token as it stands. Everything else (punctuation, whitespace, "_", symbols) splits.
# jieba is not asked about Latin words: it cuts "café" into "caf" + "é".
_RUNS = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<other>(?:(?![{_HAN}])[^\W_])+)")
_HAN_CHAR = re.compile(rf"[{_HAN}]")


def is_han(char: str) -> bool:
    return _HAN_CHAR.fullmatch(char) is not None


def _normalise(text: str) -> str:
    # NFKC folds full-width Latin and digits (Ｂｒａｎｃｈ２０２６) into ASCII, so they are
    # found by an ASCII query; lowercasing makes Latin case-insensitive.
    return unicodedata.normalize("NFKC", text).lower()


def _words(text: str) -> Iterator[str]:
    """Search-mode words, in order: jieba's words for Han runs, other runs whole."""
    for run in _RUNS.finditer(_normalise(text)):
        if run.lastgroup == "other":
            yield run.group()
        else:
            yield from rjieba.cut_for_search(run.group())


def segment(text: str) -> str:
    """The tokens of `text` for the index, separated by single spaces.

    Besides jieba's words, every Han character is emitted once as a token of its own:
    jieba's search mode only adds dictionary sub-words of two and three characters,
    so the one-character words people do search for (党, 车, 会) would otherwise never
    be found inside 党员 or 停车. The single characters come after the words, so a
    character jieba already emitted as a one-character word is not counted twice.
    """
    tokens = [word for word in _words(text) if not (len(word) == 1 and is_han(word))]
    tokens.extend(char for char in _normalise(text) if is_han(char))
    return " ".join(tokens)


def segment_query(q: str) -> list[str]:
    """The tokens a document must all contain to match `q`; empty for a blank query.

    The query is cut like a document (without the extra single characters, which a
    document containing the word contains anyway). A compound whose characters are
    all covered by shorter tokens of the query is dropped: jieba's choice of the long
    word depends on context, so 党员大会 in a query matches 党员 + 大会 in a document
    even where the document was cut as 党员代表大会.
    """
    words = list(dict.fromkeys(_words(q[:MAX_QUERY_CHARS])))  # unique, in order
    return [word for word in words if not _covered(word, words)]


def _covered(word: str, words: list[str]) -> bool:
    covered = [False] * len(word)
    for other in words:
        if len(other) >= len(word):
            continue
        start = word.find(other)
        while start != -1:
            covered[start : start + len(other)] = [True] * len(other)
            start = word.find(other, start + 1)
    return all(covered)
