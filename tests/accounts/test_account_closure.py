"""注销账号 (accounts/closure.py): a person who belongs to no branch closes their own
account from 我的账号, after their password and a tick; what the account kept for
them alone is deleted, what is the branch's record stays under their name; they can
no longer log in; a member still in a branch, or an administrator, is told why not."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from accounts import closure, outbox, security
from accounts.identity import identity_for_user
from accounts.members import remove_member
from accounts.models import (
    AnniversaryGreeted,
    Draft,
    LoginFailure,
    LoginSession,
    MailSettings,
    Membership,
    Passkey,
    PasswordResetRequest,
    SecurityRecord,
    TwoFactor,
    WeeklySent,
)
from announcements.models import Reading
from forum.models import Post, Reaction, TopicReadState
from meetings import calendar_feed
from meetings.models import AttendanceInterval, CalendarFeed, ChatMessage, OpenBallot
from moderation.models import Flag
from realtime.errors import Conflict
from realtime.models import Event, ReadMarker
from tests.accounts.test_personal_data import PASSWORD, with_a_life

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(people):
    """A full member of branch A who can log in, with an address kept as typed (the
    throttles' rows are lower-cased)."""
    user = people["member"]
    user.set_password(PASSWORD)
    user.email, user.first_name = "Member@Example.org", "张党员"
    user.save()
    return user


def close(client: Client, password: str = PASSWORD, understood: bool = True):
    data = {"form": "close-account", "password": password}
    if understood:
        data["understood"] = "yes"
    return client.post("/account/", data)


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def test_a_member_still_in_a_branch_is_told_to_be_taken_off_first(member):
    client = logged_in(member)
    page = client.get("/account/").content.decode()
    assert 'id="close-account-refusal"' in page and "您仍是第一党支部的成员" in page
    assert 'id="close-account-form"' not in page
    answer = close(client)
    assert answer.status_code == 400 and "请先请支部书记将您移出成员" in answer.content.decode()
    member.refresh_from_db()
    assert member.is_active and member.email and Membership.objects.filter(user=member).exists()
    with pytest.raises(Conflict):
        closure.close_account(member)


def test_an_administrators_account_is_closed_by_another(make_user):
    assert "由另一位管理员" in closure.refusal(make_user("root", is_staff=True))


@pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed
def test_closing_deletes_what_was_kept_for_them_and_keeps_the_branchs_records(people, tree, member, settings):
    settings.SENDS_EMAIL = True
    made = with_a_life(people, tree, member)
    TopicReadState.objects.create(user=member, topic=made["topic"], last_read_number=1)
    PasswordResetRequest.objects.create(email="member@example.org", at=made["notice"].created_at)
    ReadMarker.objects.create(user=member, stream=f"inbox:{member.pk}", seq=1)
    WeeklySent.objects.create(user=member, week=made["notice"].created_at.date())
    AnniversaryGreeted.objects.create(user=member, day=made["notice"].created_at.date())
    calendar_feed.make(member)
    remove_member(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, user_id=member.pk)
    elsewhere = logged_in(member)  # another browser of theirs
    client = logged_in(member)
    assert 'id="close-account-form"' in client.get("/account/").content.decode()

    wrong = close(client, password="not it")
    assert wrong.status_code == 400 and "密码不正确。" in wrong.content.decode()
    assert LoginFailure.objects.filter(username="member").count() == 1  # counted as a failed login
    unticked = close(client, understood=False)
    assert unticked.status_code == 400 and "请勾选确认" in unticked.content.decode()
    assert get_user_model().objects.get(pk=member.pk).is_active

    mail.outbox.clear()
    done = close(client)
    assert done.status_code == 200 and "账号已注销" in done.content.decode()
    user = get_user_model().objects.get(pk=member.pk)
    assert not user.is_active and user.email == "" and not user.has_usable_password()
    assert user.get_username() == "member" and user.first_name == "张党员"  # the name the records are under
    for model in (Draft, LoginSession, MailSettings, Passkey, SecurityRecord, TwoFactor, TopicReadState, WeeklySent,
                  CalendarFeed, AnniversaryGreeted):
        assert not model.objects.filter(user=member).exists(), model.__name__
    assert not LoginFailure.objects.filter(username="member").exists()
    assert not PasswordResetRequest.objects.filter(email="member@example.org").exists()
    assert not Event.objects.filter(stream_id=f"inbox:{member.pk}").exists()
    assert not ReadMarker.objects.filter(user=member, stream=f"inbox:{member.pk}").exists()
    # The branch's records stay, under their name.
    assert Post.objects.get(pk=made["mine"].pk).author_id == member.pk
    assert Reaction.objects.filter(user=member).exists() and Flag.objects.filter(user=member).exists()
    assert Reading.objects.filter(user=member, announcement=made["notice"]).exists()
    assert AttendanceInterval.objects.filter(user=member).exists() and ChatMessage.objects.filter(author=member).exists()
    assert OpenBallot.objects.filter(user=member).exists()

    # Logged out everywhere, and no way back in.
    assert elsewhere.get("/account/").status_code == 302
    assert all(s.get_decoded().get("_auth_user_id") != str(member.pk) for s in Session.objects.all())
    assert not Client().login(username="member", password=PASSWORD)
    # The notice went to the address it had, at once.
    outbox.wait_idle()
    (notice,) = [m for m in mail.outbox if "注销" in m.body]
    assert notice.to == ["Member@Example.org"] and "不能再登录" in notice.body


def test_the_notice_text_exists_in_both_languages():
    from django.utils import translation

    for code, word in (("zh-hans", "注销"), ("en", "closed")):
        with translation.override(code):
            what, advice = security.text(security.ACCOUNT_CLOSED, {})
        assert word in what and advice


def test_an_administrator_closes_accounts_in_the_admin(people, make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    left = make_user("left")  # in no branch any more
    other_admin = make_user("other_admin", is_staff=True)
    Draft.objects.create(user=left, place="reply:1", fields={"body": "草稿"})
    admin = Client()
    admin.force_login(boss)
    ids = [people["member"].pk, left.pk, other_admin.pk, boss.pk]
    answer = admin.post("/admin/auth/user/", {"action": "close_accounts", "_selected_action": ids}, follow=True)
    page = answer.content.decode()
    assert "2 个账号已注销。" in page
    assert "Member: 您仍是第一党支部的成员" in page and "Boss: 管理员的账号须由另一位管理员" in page  # capfirst
    users = {u.username: u for u in get_user_model().objects.filter(pk__in=ids)}
    assert not users["left"].is_active and not users["other_admin"].is_active
    assert users["member"].is_active and users["boss"].is_active
    assert not Draft.objects.filter(user=left).exists()
    assert security.text(security.ACCOUNT_CLOSED, {"by": "admin"})[0].startswith("管理员注销了您的账号")
