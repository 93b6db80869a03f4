"""Markdown to safe HTML: rendered on the server, sanitised, never raw HTML."""

from __future__ import annotations

import re
from collections.abc import Collection

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# `@username` (Django usernames, ASCII part). Not after a letter, digit or dot, so an
# e-mail address is no mention; Chinese text may run straight into it: 请@dangyuan看看.
# A name does not end in "." or "-": "@dangyuan." is dangyuan at the end of a sentence.
MENTION_RE = re.compile(r"(?<![A-Za-z0-9_.@])@([A-Za-z0-9_](?:[A-Za-z0-9_.+\-]{0,148}[A-Za-z0-9_])?)")

# html=False: HTML in the source is shown as text, not interpreted. nh3 then removes
# anything the renderer could still produce that is unsafe (javascript: links, ...).
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)


def _mentions_rule(state: StateCore) -> None:
    """Turn `@name` in plain text into a mention token, for the members named in env.

    Only text tokens are split: code spans and fenced code stay literal, and text inside
    a link stays the link's text.
    """
    members = state.env.get("mentions") or ()
    if not members:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            position = 0
            for match in MENTION_RE.finditer(token.content):
                if match.group(1) not in members:
                    continue
                if match.start() > position:
                    text = Token("text", "", 0)
                    text.content = token.content[position : match.start()]
                    children.append(text)
                mention = Token("mention", "span", 0)
                mention.content = match.group(1)
                children.append(mention)
                position = match.end()
            if position < len(token.content):
                rest = Token("text", "", 0)
                rest.content = token.content[position:]
                children.append(rest)
        block.children = children


def _render_mention(self, tokens, idx, options, env) -> str:
    name = escapeHtml(tokens[idx].content)
    return f'<span class="mention" data-user="{name}">@{name}</span>'


_md.core.ruler.push("mentions", _mentions_rule)
_md.add_render_rule("mention", _render_mention)

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}, "span": {"data-user"},
}
# Only the renderer makes spans (the source's HTML is text), and only this class.
ALLOWED_CLASSES = {"span": {"mention"}}


def mentioned_names(source: str) -> set[str]:
    return set(MENTION_RE.findall(source))


def render_markdown(source: str, *, mentions: Collection[str] = ()) -> str:
    """`mentions`: the usernames that are real members here; only they are highlighted."""
    html = _md.render(source, {"mentions": frozenset(mentions)})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    ).strip()
