"""Queries on the search index: ranked, permission-filtered hits with snippets."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import SearchDocument
from .segmentation import is_han, segment_query

MAX_LIMIT = 100
SNIPPET_CHARS = 120
# FTS5 bm25 column weights (segmented_title, segmented_body): a word in the title
# says more about what a document is about than the same word in its body.
# PostgreSQL gets the same effect from the A/D weights of search_vector.
_SQLITE_RANK = "-bm25(search_fts, 10.0, 1.0)"


@dataclass(frozen=True, slots=True)
class Hit:
    doc_type: str
    doc_id: int
    title: str  # plain text: escape it when rendering
    snippet_html: SafeString  # escaped text with the query's words in <mark>; render as is
    rank: float  # higher is better; comparable only within one result list


def search(
    q: str,
    *,
    readable_branch_ids: Collection[int],
    include_public: bool,
    doc_types: Collection[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Hit]:
    """Documents matching every word of `q` that the reader may see, best first.

    Readable means: the document's branch is in `readable_branch_ids`, or it is public
    and `include_public`. `q` is cut like the indexed text (see segment_query), so
    one- and two-character Chinese words, Latin words and numbers are all found.
    """
    tokens = segment_query(q)
    limit = max(0, min(limit, MAX_LIMIT))
    if not tokens or limit == 0:
        return []

    access, params = [], []
    if readable_branch_ids:
        access.append(f"d.branch_id IN ({', '.join(['%s'] * len(readable_branch_ids))})")
        params.extend(readable_branch_ids)
    if include_public:
        access.append("d.public = %s")
        params.append(True)
    if not access:
        return []
    where = [f"({' OR '.join(access)})"]
    if doc_types is not None:
        if not doc_types:
            return []
        where.append(f"d.doc_type IN ({', '.join(['%s'] * len(doc_types))})")
        params.extend(doc_types)

    table = SearchDocument._meta.db_table
    if connection.vendor == "postgresql":
        # ts_rank normalisation 1: divide by 1 + log(length), so a long body does not
        # win by repeating a word, as bm25 also discounts long documents.
        sql = (
            f"SELECT d.doc_type, d.doc_id, d.title, d.body, ts_rank(d.search_vector, query, 1) AS score"
            f" FROM {table} d, plainto_tsquery('simple', %s) query"
            f" WHERE d.search_vector @@ query AND {' AND '.join(where)}"
        )
        match = " ".join(tokens)  # plainto_tsquery ANDs the words
    else:
        sql = (
            f"SELECT d.doc_type, d.doc_id, d.title, d.body, {_SQLITE_RANK} AS score"
            f" FROM search_fts JOIN {table} d ON d.id = search_fts.rowid"
            f" WHERE search_fts MATCH %s AND {' AND '.join(where)}"
        )
        # Each token quoted as a string, so a token is never read as FTS5 syntax
        # (AND, OR, NOT, NEAR); juxtaposed strings must all match.
        match = " ".join('"' + token.replace('"', '""') + '"' for token in tokens)
    sql += " ORDER BY score DESC, d.updated_at DESC, d.id DESC LIMIT %s OFFSET %s"

    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *params, limit, max(0, offset)])
        rows = cursor.fetchall()
    return [
        Hit(doc_type=doc_type, doc_id=doc_id, title=title, snippet_html=snippet_html(body, tokens), rank=float(rank))
        for doc_type, doc_id, title, body, rank in rows
    ]


def snippet_html(text: str, tokens: Sequence[str], width: int = SNIPPET_CHARS) -> SafeString:
    """About `width` characters of `text` around the first hit, escaped, hits in <mark>.

    Built in Python from the original text: the index only holds segmented tokens,
    so the databases' own snippet()/ts_headline would show those, not the text.
    Whitespace runs are shown as one space. Without a hit, the text's beginning.
    """
    text = " ".join(text.split())
    spans = _hit_spans(text, tokens)
    start = max(0, spans[0][0] - width // 4) if spans else 0
    end = min(len(text), start + width)
    start = max(0, end - width)  # near the end, still show a full window

    parts = ["…"] if start > 0 else []
    position = start
    for hit_start, hit_end in spans:
        hit_start, hit_end = max(hit_start, position), min(hit_end, end)
        if hit_start >= hit_end:
            continue
        parts.append(escape(text[position:hit_start]))
        parts.append(f"<mark>{escape(text[hit_start:hit_end])}</mark>")
        position = hit_end
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    return mark_safe("".join(parts))  # every piece of the text went through escape()


@lru_cache(maxsize=65_536)
def _fold(char: str) -> str:
    # The same folding segment() applies, one character at a time, so that a match in
    # the folded text maps back to a span of the original.
    return unicodedata.normalize("NFKC", char).lower()


def _hit_spans(text: str, tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Sorted, merged [start, end) spans of `text` where a query token occurs."""
    folded_parts: list[str] = []
    origin: list[int] = []  # index in `text` of each character of `folded`
    for index, char in enumerate(text):
        folded_char = _fold(char)
        folded_parts.append(folded_char)
        origin.extend([index] * len(folded_char))
    folded = "".join(folded_parts)

    spans = []
    for token in tokens:
        at = folded.find(token)
        while at != -1:
            after = at + len(token)
            # A Han token may sit anywhere (that is the point); a Latin word or number
            # must stand alone, as it does in the index: "art" is not a hit in "party".
            if is_han(token[0]) or not (_joins(folded, at - 1) or _joins(folded, after)):
                spans.append((origin[at], origin[after - 1] + 1))
            at = folded.find(token, at + 1)
    spans.sort()

    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:  # overlapping or touching: one <mark>
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _joins(folded: str, index: int) -> bool:
    """Whether the character at `index` would continue a Latin word or number."""
    if not 0 <= index < len(folded):
        return False
    char = folded[index]
    return char.isalnum() and not is_han(char)
