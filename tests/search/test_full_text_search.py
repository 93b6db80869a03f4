"""Full-text search over indexed documents, on whichever database the suite runs on."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from search.index import index_document, remove_document
from search.models import SearchDocument
from search.selectors import Hit, search, snippet_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def index(tree):
    """index(doc_id, body, title="", branch="a", public=False) through the real write path."""

    def add(
        doc_id: int,
        body: str,
        *,
        title: str = "",
        branch: str | None = "a",
        public: bool = False,
        doc_type: str = "post",
    ) -> None:
        branch_id = tree[branch].pk if branch else None
        index_document(doc_type, doc_id, branch_id=branch_id, public=public, title=title, body=body)

    return add


@pytest.fixture
def hits(tree):
    """hits(q) -> [Hit, ...] for a member of branch A who may also read public documents."""

    def run(q: str, **kwargs) -> list[Hit]:
        kwargs.setdefault("readable_branch_ids", {tree["a"].pk})
        kwargs.setdefault("include_public", True)
        return search(q, **kwargs)

    return run


@pytest.fixture
def find(hits):
    """find(q) -> [doc_id, ...], best first, as hits() sees them."""
    return lambda q, **kwargs: [hit.doc_id for hit in hits(q, **kwargs)]


@pytest.mark.parametrize(
    ("body", "query", "marked"),
    [
        ("今天下午召开党员大会", "党员", "党员"),  # two-character words inside sentences
        ("小区停车难的问题", "停车", "停车"),
        ("下周召开支部会议，请准时参加", "会议", "会议"),
        ("今天下午召开党员大会", "党", "党"),  # one-character words inside words
        ("小区停车难的问题", "车", "车"),
        ("Branchline 上线了", "Branchline", "Branchline"),  # Latin words
        ("Branchline 上线了", "BRANCHLINE", "Branchline"),
        ("ＢＲＡＮＣＨＬＩＮＥ 上线了", "branchline", "ＢＲＡＮＣＨＬＩＮＥ"),
        ("2026年工作计划", "2026", "2026"),  # numbers
        ("今天下午召开党员大会", "党员大会", "党员大会"),
        ("党员代表大会在小区举行", "党员大会", "党员"),  # every word of the query, not the phrase
    ],
)
def test_it_finds_words_inside_sentences(index, hits, body, query, marked):
    index(1, body)
    index(2, "与此无关的一段文字 unrelated text 1999")
    [hit] = hits(query)
    assert (hit.doc_type, hit.doc_id) == ("post", 1)
    assert f"<mark>{marked}</mark>" in hit.snippet_html


@pytest.mark.parametrize(
    ("body", "query"),
    [
        ("小区停车难的问题", "党员"),
        ("暂停车辆通行", "停车"),  # 停 and 车 are adjacent but belong to two other words
        ("Branchlines", "branchline"),  # Latin words match whole
        ("今天下午召开党员大会", "党员 停车"),  # a query of several words needs them all
        ("20261", "2026"),
    ],
)
def test_it_does_not_find_what_is_not_there(index, find, body, query):
    index(1, body)
    assert find(query) == []


def test_a_document_with_every_query_word_is_found(index, find):
    index(1, "党员大会讨论了小区停车难的问题")
    index(2, "党员大会")
    assert find("党员 停车") == [1]


def test_a_title_hit_ranks_above_a_body_only_hit(index, hits):
    # The body-only document is indexed last, so the newer-first tie-break would put
    # it first if the ranking did not.
    index(1, "请大家准时参加。", title="关于停车的通知")
    index(2, "会议讨论了小区停车难的问题，请全体党员准时参加。", title="三月工作安排")
    found = hits("停车")
    assert [hit.doc_id for hit in found] == [1, 2]
    assert found[0].rank > found[1].rank


@pytest.mark.parametrize(
    ("readable", "include_public", "expected"),
    [
        ({"a"}, False, [1]),
        ({"a"}, True, [1, 3, 4]),
        ({"b"}, False, [2, 3]),  # a public document is still readable by its own branch
        ({"a", "b"}, False, [1, 2, 3]),
        (set(), True, [3, 4]),  # a citizen: public only
        (set(), False, []),  # an outsider
    ],
)
def test_it_returns_only_what_the_reader_may_read(tree, index, readable, include_public, expected):
    index(1, "党员大会 A", branch="a")
    index(2, "党员大会 B", branch="b")
    index(3, "党员大会 B public", branch="b", public=True)
    index(4, "党员大会 no branch, public", branch=None, public=True)
    index(5, "党员大会 no branch, private", branch=None)
    hits = search("党员大会", readable_branch_ids={tree[name].pk for name in readable}, include_public=include_public)
    assert sorted(hit.doc_id for hit in hits) == expected


def test_it_filters_by_document_type(index, hits):
    index(1, "党员大会", doc_type="topic")
    index(1, "党员大会", doc_type="post")
    assert sorted((hit.doc_type, hit.doc_id) for hit in hits("党员")) == [("post", 1), ("topic", 1)]
    assert [(hit.doc_type, hit.doc_id) for hit in hits("党员", doc_types=["topic"])] == [("topic", 1)]
    assert hits("党员", doc_types=[]) == []


def test_it_pages_with_limit_and_offset(index, find):
    for doc_id in range(1, 8):
        index(doc_id, f"党员大会 第{doc_id}次")
    first, second, third = find("党员", limit=3), find("党员", limit=3, offset=3), find("党员", limit=3, offset=6)
    assert len(first) == len(second) == 3 and len(third) == 1
    assert sorted(first + second + third) == list(range(1, 8))


def test_remove_document_removes_it(index, find):
    index(1, "今天下午召开党员大会")
    index(2, "党员学习")
    assert remove_document("post", 1) is True
    assert find("党员") == [2]
    assert remove_document("post", 1) is False


def test_reindexing_replaces_the_text_and_the_access(tree, index, find):
    index(1, "今天下午召开党员大会")
    index(1, "小区停车难的问题", branch="b")
    assert SearchDocument.objects.count() == 1
    assert find("党员") == []
    assert find("停车") == []  # now in branch B
    assert find("停车", readable_branch_ids={tree["b"].pk}) == [1]
    index(1, "小区停车难的问题", branch="b", public=True)
    assert find("停车") == [1]


def test_the_index_follows_the_callers_transaction(index, find):
    with pytest.raises(RuntimeError), transaction.atomic():
        index(1, "今天下午召开党员大会")
        assert find("党员") == [1]
        raise RuntimeError("the action failed")
    assert find("党员") == []


def test_deleting_a_branch_deletes_its_documents(tree, index, find):
    index(1, "党员大会 A", branch="a")
    index(2, "党员大会 B", branch="b")
    tree["b"].delete()
    assert find("党员", readable_branch_ids={tree["a"].pk}) == [1]
    index(3, "党员大会 A again", branch="a")  # and the index is still consistent
    assert sorted(find("党员")) == [1, 3]


def test_blank_and_over_long_queries(index, find):
    index(1, "今天下午召开党员大会")
    assert find("") == []
    assert find("  \n ") == []
    assert find("，。！") == []
    # The words past the first 200 characters are dropped, so this still finds it.
    assert find("党员" + " " * 250 + "不存在") == [1]


def test_the_snippet_escapes_html_and_marks_the_hit(index, hits):
    index(1, "<script>alert('x')</script> 今天下午召开党员大会 & <b>表彰</b>")
    [hit] = hits("党员")
    assert "<script>" not in hit.snippet_html and "<b>" not in hit.snippet_html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in hit.snippet_html
    assert "<mark>党员</mark>" in hit.snippet_html
    assert "&amp; &lt;b&gt;表彰&lt;/b&gt;" in hit.snippet_html


def test_a_title_only_hit_shows_the_body_start(index, hits):
    index(1, "请准时参加。", title="党员大会")
    [hit] = hits("党员")
    assert hit.title == "党员大会"
    assert hit.snippet_html == "请准时参加。"


@pytest.mark.parametrize(
    ("text", "tokens", "expected"),
    [
        ("召开党员大会", ["党员", "大会"], "召开<mark>党员大会</mark>"),  # touching hits merge
        ("party art", ["art"], "party <mark>art</mark>"),  # Latin words whole
        ("Ｂｒａｎｃｈ line", ["branch"], "<mark>Ｂｒａｎｃｈ</mark> line"),  # folded, mapped back
        ("a\n\n  b <i>", ["b"], "a <mark>b</mark> &lt;i&gt;"),
        ("无关", ["党员"], "无关"),
    ],
)
def test_snippet_marks(text, tokens, expected):
    assert snippet_html(text, tokens) == expected


def test_snippet_is_a_window_around_the_first_hit():
    text = "开头" * 100 + "党员大会" + "结尾" * 100
    html = snippet_html(text, ["党员"], width=40)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>党员</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) == 40 + 2


def test_the_index_stays_consistent_with_the_documents(tree, index):
    # SQLite: FTS5 external content is only correct while the triggers hand it exactly
    # what was indexed; 'integrity-check' with rank 1 compares the index with the table.
    # PostgreSQL: search_vector is a generated column, so it must equal a recomputation.
    index(1, "今天下午召开党员大会")
    index(2, "小区停车难的问题", branch="b")
    index(1, "党员学习 Branchline")
    index(2, "小区停车难的问题", branch="a", public=True)
    index(3, "会议")
    remove_document("post", 3)
    tree["b"].delete()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
        else:
            cursor.execute(
                "SELECT count(*) FROM search_searchdocument WHERE search_vector IS DISTINCT FROM "
                "setweight(to_tsvector('simple', segmented_title), 'A') || "
                "setweight(to_tsvector('simple', segmented_body), 'D')"
            )
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM search_searchdocument")
            assert cursor.fetchone()[0] == 2
