"""外观 (accounts/appearance.py): the stylesheets draw every colour from one palette that
has a dark twin, and a member's choices on 我的账号 (light or dark, the text's size) are
named on every page they see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import MailSettings

ROOT = Path(__file__).resolve().parents[2]
SHEETS = [ROOT / "frontend/static/frontend/app.css", ROOT / "meetings/static/meetings/meetings.css"]
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(")


def blocks(css: str):
    """(selector or at-rule, body) of each top-level block, nested ones inside their parent's body."""
    depth, start, head = 0, 0, ""
    for i, ch in enumerate(css):
        if ch == "{":
            if depth == 0:
                head, start = css[start:i].strip().split("*/")[-1].strip(), i + 1
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                yield head, css[start:i]
                start = i + 1


def palette(body: str) -> dict[str, str]:
    return dict(re.findall(r"(--[a-z-]+):\s*([^;]+);", body))


def test_every_colour_comes_from_the_palette_and_each_has_a_dark_twin():
    app = SHEETS[0].read_text()
    found = dict(blocks(app))
    light = {name: value for name, value in palette(found[":root"]).items() if COLOUR.match(value)}
    dark_block = next(body for head, body in blocks(app) if head.startswith("@supports (color: light-dark("))
    dark = palette(dark_block.split("}")[0])
    assert len(light) >= 25
    assert set(dark) == set(light), "the dark palette names the same colours as the light one"
    for name, value in dark.items():
        pair = re.fullmatch(r"light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)", value)
        assert pair, f"{name}: {value}"
        assert pair[1] == light[name], f"{name}: the light side is {pair[1]}, the palette says {light[name]}"

    stray = []
    for sheet in SHEETS:
        for head, body in blocks(sheet.read_text()):
            # The palette itself, printing (black on white paper) and a QR code (must stay
            # dark on light to scan) are the only places a colour is written out.
            if head in (":root",) or head.startswith(("@supports (color: light-dark(", "@media print", ".qr-box")):
                continue
            for line in body.splitlines():
                if COLOUR.search(line.split("/*")[0]) and "backdrop" not in head:
                    stray.append(f"{sheet.name} {head}: {line.strip()}")
    assert not stray, "\n".join(stray)


def test_every_custom_property_used_is_defined():
    defined = set(palette(dict(blocks(SHEETS[0].read_text()))[":root"]))
    for sheet in SHEETS:
        used = set(re.findall(r"var\((--[a-z-]+)", sheet.read_text()))
        assert used <= defined, f"{sheet.name}: {sorted(used - defined)}"


@pytest.mark.django_db
def test_a_member_chooses_light_or_dark_and_every_page_says_so(people):
    member = people["member"]
    client = Client()
    client.force_login(member)
    page = client.get("/account/").content.decode()
    assert 'id="appearance"' in page and "<html lang=\"zh-hans\">" in page  # as the device is set
    assert '<input type="radio" name="theme" value="" checked>' in page
    assert '<input type="radio" name="text_size" value="" checked>' in page

    answer = client.post("/account/", {"form": "appearance", "theme": "dark", "text_size": ""})
    assert answer.status_code == 302 and answer["Location"] == "/account/#appearance"
    assert MailSettings.objects.get(user=member).theme == "dark"
    for path in ("/account/", "/notifications/", "/no-such-page/"):
        assert '<html lang="zh-hans" data-theme="dark">' in client.get(path).content.decode(), path
    assert 'value="dark" checked' in client.get("/account/").content.decode()

    other = Client()  # another browser of theirs takes it up at login
    other.force_login(member)
    assert 'data-theme="dark"' in other.get("/notifications/").content.decode()

    client.post("/account/", {"form": "appearance", "theme": "light", "text_size": ""})
    assert 'data-theme="light"' in client.get("/notifications/").content.decode()
    client.post("/account/", {"form": "appearance", "theme": "", "text_size": ""})
    assert "data-theme" not in client.get("/notifications/").content.decode()


@pytest.mark.django_db
def test_a_member_chooses_larger_text(people):
    member = people["member"]
    MailSettings.objects.create(user=member, digest=True)
    client = Client()
    client.force_login(member)
    client.post("/account/", {"form": "appearance", "theme": "", "text_size": "larger"})
    kept = MailSettings.objects.get(user=member)
    assert kept.text_size == "larger" and kept.theme == "" and kept.digest  # the other settings stay
    page = client.get("/notifications/").content.decode()
    assert '<html lang="zh-hans" data-text-size="larger">' in page
    assert 'value="larger" checked' in client.get("/account/").content.decode()
    client.post("/account/", {"form": "appearance", "theme": "dark", "text_size": "large"})
    assert '<html lang="zh-hans" data-theme="dark" data-text-size="large">' in client.get("/account/").content.decode()
    css = (ROOT / "frontend/static/frontend/app.css").read_text()
    for size in ("large", "larger"):
        assert f':root[data-text-size="{size}"]' in css


@pytest.mark.django_db
@pytest.mark.parametrize("theme, text_size", [("purple", ""), ("dark", "huge"), ("", "LARGE")])
def test_an_unknown_appearance_is_refused_and_changes_nothing(people, theme, text_size):
    member = people["member"]
    MailSettings.objects.create(user=member, theme="dark", text_size="large", digest=True)
    client = Client()
    client.force_login(member)
    answer = client.post("/account/", {"form": "appearance", "theme": theme, "text_size": text_size}, follow=True)
    assert "请从给出的外观中选择一种。" in answer.content.decode()
    kept = MailSettings.objects.get(user=member)
    assert (kept.theme, kept.text_size, kept.digest) == ("dark", "large", True)


@pytest.mark.django_db
def test_visitors_follow_their_device(people):
    MailSettings.objects.create(user=people["member"], theme="dark", text_size="larger")
    page = Client().get("/login/").content.decode()
    assert "data-theme" not in page and "data-text-size" not in page


@pytest.mark.django_db
def test_the_headers_large_text_button_for_a_visitor_keeps_it_in_this_browser(people):
    client = Client()
    page = client.get("/login/").content.decode()
    assert re.search(r'value="large" class="link-button"\s+aria-pressed="false">大字</button>', page)
    answer = client.post("/text-size/", {"text_size": "large", "next": "/citizen/"})
    assert answer.status_code == 302 and answer["Location"] == "/citizen/"
    assert client.cookies["bl_text_size"].value == "large" and client.cookies["bl_text_size"]["httponly"]
    page = client.get("/citizen/").content.decode()
    assert '<html lang="zh-hans" data-text-size="large">' in page and 'aria-pressed="true">大字' in page
    client.post("/text-size/", {"text_size": "", "next": "/citizen/"})
    assert "data-text-size" not in client.get("/citizen/").content.decode()

    # Somewhere else after it: home instead. A size not offered, or a GET: refused, nothing kept.
    away = client.post("/text-size/", {"text_size": "large", "next": "https://evil.example/"})
    assert away["Location"] == "/"
    other = Client()
    assert other.post("/text-size/", {"text_size": "huge", "next": "/"}).status_code == 400
    assert "bl_text_size" not in other.cookies
    assert other.get("/text-size/").status_code == 405
    client.cookies["bl_text_size"] = "huge"  # a forged cookie is ignored
    assert "data-text-size" not in client.get("/citizen/").content.decode()


@pytest.mark.django_db
def test_the_headers_button_for_a_member_keeps_it_on_their_account(people):
    member = people["member"]
    MailSettings.objects.create(user=member, theme="dark")
    client = Client()
    client.force_login(member)
    client.post("/text-size/", {"text_size": "large", "next": "/notifications/"})
    kept = MailSettings.objects.get(user=member)
    assert (kept.theme, kept.text_size) == ("dark", "large")  # the theme stays
    assert "bl_text_size" not in client.cookies
    other = Client()
    other.force_login(member)
    assert 'data-theme="dark" data-text-size="large"' in other.get("/notifications/").content.decode()
