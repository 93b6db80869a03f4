"""TWO_FACTOR_REQUIRED: those it names (secretaries, moderators, staff, or everyone) reach
only 我的账号 until they turn two-step verification on, as Discourse's
enforce_second_factor does; the HTTP API refuses them and their sockets carry no member
identity. Once it is on, they may not turn it off."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from accounts import two_factor
from accounts.models import TwoFactor
from server.settings import _two_factor_required
from tests.accounts.test_two_factor import at_step, turn_on
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)


@pytest.fixture
def for_secretaries(settings):
    settings.TWO_FACTOR_REQUIRED = frozenset({"secretary"})
    return settings


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_secretary_without_it_is_sent_to_my_account_and_a_member_is_not(for_secretaries, people, tree):
    pages = f"/branches/{tree['a'].pk}/announcements/"
    secretary = signed_in(people["secretary"])
    answer = secretary.get(pages)
    assert answer.status_code == 302 and answer["Location"] == "/account/#two-factor"
    assert secretary.get("/notifications/")["Location"] == "/account/#two-factor"
    account = secretary.get("/account/")
    assert account.status_code == 200
    assert "您担任的角色要求开启两步验证" in account.content.decode()
    # The HTTP API says why, in its own shape.
    api = secretary.get(f"/api/branches/{tree['a'].pk}/announcements")
    assert api.status_code == 403 and api.json()["code"] == "forbidden"
    assert "两步验证" in api.json()["message"]
    # Logging out and the language switch stay open.
    assert secretary.post("/i18n/setlang/", {"language": "en", "next": "/account/"}).status_code == 302

    member = signed_in(people["member"])
    assert member.get(pages).status_code == 200

    # Turned on, the secretary goes where they like, and may not turn it off.
    totp, _codes = turn_on(secretary, people["secretary"])
    assert two_factor.enabled(people["secretary"])
    assert secretary.get(pages).status_code == 200
    page = secretary.get("/account/").content.decode()
    assert 'value="2fa-off"' not in page and "two-factor-required" not in page
    secretary.post("/account/", {"form": "2fa-off", "code": at_step(totp, 1)})
    assert two_factor.enabled(people["secretary"])


@pytest.mark.django_db
def test_without_the_setting_nobody_is_held(people, tree):
    assert signed_in(people["secretary"]).get(f"/branches/{tree['a'].pk}/announcements/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("rule, who, held", [
    ({"moderator"}, "moderator", True),
    ({"moderator"}, "secretary", False),
    ({"all"}, "member", True),
    ({"staff"}, "member", False),
    ({"staff"}, "boss", True),
])
def test_who_each_rule_holds(settings, people, make_user, rule, who, held):
    settings.TWO_FACTOR_REQUIRED = frozenset(rule)
    user = make_user("boss", is_staff=True) if who == "boss" else people[who]
    assert two_factor.missing(user) is held
    assert (signed_in(user).get("/notifications/").status_code == 302) is held


def test_an_unknown_role_stops_the_server_with_a_clear_message():
    assert _two_factor_required(" Secretary, moderator ") == {"secretary", "moderator"}
    assert _two_factor_required("") == frozenset()
    with pytest.raises(ImproperlyConfigured, match="unknown admins"):
        _two_factor_required("secretary,admins")


@pytest.mark.django_db(transaction=True)
async def test_their_sockets_carry_no_member_identity_until_it_is_on(
        for_secretaries, connect, people, tree):  # noqa: F811  (connect: the fixture)
    from channels.db import database_sync_to_async

    held = await connect(people["secretary"])
    reply = await held.call("hello")
    assert reply["data"]["identity"]["kind"] == "anonymous"
    refused = await held.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    assert refused["op"] == "error"

    member = await connect(people["member"])
    assert (await member.call("hello"))["data"]["identity"]["kind"] == "user"

    await database_sync_to_async(TwoFactor.objects.create)(
        user=people["secretary"], sealed_key=two_factor.seal_key(people["secretary"].pk, "JBSWY3DPEHPK3PXP"),
        confirmed_at="2026-12-01T00:00:00Z")
    again = await connect(people["secretary"])
    assert (await again.call("hello"))["data"]["identity"]["id"] == people["secretary"].pk
