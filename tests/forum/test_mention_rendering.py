"""@mentions in posts: highlighted by the server's rendering, safely, only for real members."""

from __future__ import annotations

import pytest

from forum import actions
from forum.rendering import render_markdown
from moderation.actions import review_item
from moderation.models import ReviewItem

MEMBERS = {"dangyuan", "shuji", "li.wei"}


def span(name: str) -> str:
    return f'<span class="mention" data-user="{name}">@{name}</span>'


@pytest.mark.parametrize(
    "source, html",
    [
        ("@dangyuan 请看", f"<p>{span('dangyuan')} 请看</p>"),
        # Chinese runs straight into the mention on both sides.
        ("请@dangyuan看看", f"<p>请{span('dangyuan')}看看</p>"),
        # A full stop after the name ends the sentence, not the name.
        ("谢谢 @li.wei.", f"<p>谢谢 {span('li.wei')}.</p>"),
        ("**@shuji**", f"<p><strong>{span('shuji')}</strong></p>"),
        # Not members: plain text.
        ("@nobody 和 @outsider", "<p>@nobody 和 @outsider</p>"),
        # E-mail addresses, code and link text are no mentions.
        ("写信到 a@dangyuan.org", "<p>写信到 a@dangyuan.org</p>"),
        ("`@dangyuan`", "<p><code>@dangyuan</code></p>"),
        ("```\n@dangyuan\n```", "<pre><code>@dangyuan\n</code></pre>"),
        ("[@shuji](https://example.org/)",
         '<p><a href="https://example.org/" rel="nofollow noopener noreferrer">@shuji</a></p>'),
    ],
)
def test_members_are_highlighted_and_nothing_else(source, html):
    assert render_markdown(source, mentions=MEMBERS) == html


def test_without_members_nothing_is_highlighted():
    assert render_markdown("@dangyuan") == "<p>@dangyuan</p>"


@pytest.mark.parametrize(
    "source, mentions",
    [
        ('<span class="mention" data-user="x" onclick="alert(1)">@x</span>', 0),
        ('<span class="evil">@dangyuan</span>', 1),  # the typed tag is text; the member is mentioned
        ("@dangyuan<img src=x onerror=alert(1)>", 1),
    ],
)
def test_authors_cannot_forge_mentions_or_markup(source, mentions):
    html = render_markdown(source, mentions=MEMBERS)
    elements = start_tags(html)
    # Only the paragraph and real mentions are elements; the typed HTML is text.
    assert {tag for tag, _attrs in elements} <= {"p", "span"}
    spans = [attrs for tag, attrs in elements if tag == "span"]
    assert spans == [[("class", "mention"), ("data-user", "dangyuan")]] * len(spans)
    assert len(spans) == mentions


def start_tags(html: str) -> list[tuple[str, list]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_the_sanitiser_drops_other_classes_and_attributes_on_spans():
    from forum.rendering import ALLOWED_ATTRIBUTES, ALLOWED_CLASSES, ALLOWED_TAGS

    import nh3

    dirty = '<span class="mention other" data-user="a" style="color:red" onmouseover="x()">@a</span>'
    clean = nh3.clean(dirty, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, allowed_classes=ALLOWED_CLASSES)
    assert clean == '<span class="mention" data-user="a">@a</span>'


@pytest.mark.django_db
def test_posts_highlight_members_of_the_boards_branch_only(identities, boards, people):
    topic, first = actions.create_topic(
        identity=identities["moderator"], board=boards["members"], title="t",
        body="@member @probationary @other_secretary @outsider 请注意",
    )
    assert first.html == (
        f"<p>{span('member')} {span('probationary')} @other_secretary @outsider 请注意</p>"
    )
    edited = actions.edit_post(identity=identities["moderator"], post_id=first.pk, body="只提 @secretary")
    assert edited.html == f"<p>只提 {span('secretary')}</p>"


@pytest.mark.django_db
def test_censored_text_keeps_its_mentions(identities, boards):
    from moderation.models import WatchedWord

    WatchedWord.objects.create(branch=boards["members"].branch, pattern="停车", action="censor")
    _topic, first = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t",
                                         body="@member 停车问题")
    assert first.censored_html == f"<p>{span('member')} ■■问题</p>"


@pytest.mark.django_db
def test_a_moderators_edit_on_approval_renders_mentions_too(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    pending = actions.create_post(identity=identities["probationary"], topic_id=topic.pk, body="first")
    item = ReviewItem.objects.get(target_id=pending.pk)
    review_item(identity=identities["moderator"], item_id=item.pk, version=item.version, decision="edit_approve",
                body="请 @member 看")
    pending.refresh_from_db()
    assert pending.html == f"<p>请 {span('member')} 看</p>"


def test_a_typed_line_break_stays_a_line_break():
    # As in Discourse and Zulip: Chinese notices are written line by line.
    assert render_markdown("第一行\n第二行") == "<p>第一行<br>\n第二行</p>"
    assert render_markdown("一段\n\n另一段") == "<p>一段</p>\n<p>另一段</p>"
