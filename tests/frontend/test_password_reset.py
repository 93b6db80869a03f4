"""Forgotten passwords: a link by e-mail (when the server sends mail), or from the
branch secretary on the members page; the link works once, ends every session, and
lets a throttled username log in again. Also the e-mail address on 我的账号."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor
from accounts.models import Membership, PasswordResetRequest, TwoFactor
from accounts.throttle import LIMIT, RESET_LIMIT, record_failure
from moderation.models import AuditEntry

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/password/set/[^/\s]+/[^/\s]+/)")


def logged_in(username: str, password: str) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


def set_password_through(link: str, password: str) -> Client:
    """Open the link and set `password` as a stranger's browser would; returns that browser."""
    browser = Client()
    form_page = browser.get(link, follow=True)
    assert form_page.status_code == 200 and "set-password-form" in form_page.content.decode()
    done = browser.post(form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
    assert done.status_code == 302 and done["Location"] == reverse("password-set-done")
    return browser


# -- by e-mail -------------------------------------------------------------------------


@pytest.fixture
def by_email(settings):
    settings.SENDS_EMAIL = True
    return settings


def test_a_member_gets_a_link_by_email_and_it_works_once(by_email, people):
    people["member"].email = "member@example.org"
    people["member"].save()
    phone = logged_in("member", "pw-member")
    record_failure("member", None)
    for _ in range(LIMIT):
        record_failure("member", None)  # someone had been guessing: the username is throttled

    response = Client().post(reverse("password-reset"), {"email": "Member@Example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password-reset-sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["member@example.org"] and message.subject == "设置新的 Branchline 密码"
    assert "Member" in message.body and "3 天内" in message.body
    link = LINK.search(message.body).group(1)

    set_password_through(link, "a-new-secret-9")
    # Every session ended, the guesses forgotten, the new password works, the old does not.
    assert not Session.objects.filter(session_key=phone.session.session_key).exists()
    assert Client().login(username="member", password="a-new-secret-9")
    assert not Client().login(username="member", password="pw-member")
    # The same link again: it says the link no longer works.
    again = Client().get(link, follow=True).content.decode()
    assert "link-invalid" in again and "set-password-form" not in again


def test_an_unknown_address_gets_the_same_answer_and_no_mail(by_email, people):
    response = Client().post(reverse("password-reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password-reset-sent")
    assert mail.outbox == []
    page = Client().get(reverse("password-reset-sent")).content.decode()
    assert "如果有账号使用该地址" in page


def test_one_address_gets_at_most_a_few_links_an_hour(by_email, people):
    people["member"].email = "member@example.org"
    people["member"].save()
    for _ in range(RESET_LIMIT):
        assert Client().post(reverse("password-reset"), {"email": "member@example.org"}).status_code == 302
    refused = Client().post(reverse("password-reset"), {"email": "MEMBER@example.org "})
    assert refused.status_code == 200 and "请稍后再试" in refused.content.decode()
    assert len(mail.outbox) == RESET_LIMIT
    assert PasswordResetRequest.objects.count() == RESET_LIMIT  # the refused one is not counted


def test_a_bad_address_is_named_at_the_field(by_email):
    page = Client().post(reverse("password-reset"), {"email": "not an address"})
    assert page.status_code == 200 and 'aria-invalid="true"' in page.content.decode()
    assert mail.outbox == [] and not PasswordResetRequest.objects.exists()


def test_without_mail_the_page_says_to_ask_the_secretary(settings):
    settings.SENDS_EMAIL = False
    page = Client().get(reverse("password-reset")).content.decode()
    assert "ask-secretary" in page and "forgot-form" not in page
    assert Client().post(reverse("password-reset"), {"email": "x@example.org"}).status_code == 200
    assert mail.outbox == []
    assert reverse("password-reset") in Client().get(reverse("login")).content.decode()


def test_a_tampered_link_is_refused(people):
    page = Client().get("/password/set/MQ/abc-123/").content.decode()
    assert "link-invalid" in page


# -- the e-mail address on 我的账号 ------------------------------------------------------


def test_a_member_sets_and_removes_their_email_address(people):
    client = logged_in("member", "pw-member")
    response = client.post(reverse("account"), {"form": "email", "email": "me@example.org"})
    assert response.status_code == 302
    people["member"].refresh_from_db()
    assert people["member"].email == "me@example.org"
    page = client.post(reverse("account"), {"form": "email", "email": "no-at-sign"})
    html = page.content.decode()
    assert page.status_code == 200 and 'aria-invalid="true"' in html
    assert html.count('aria-invalid="true"') == 1  # the password form is not marked wrong too
    people["member"].refresh_from_db()
    assert people["member"].email == "me@example.org"
    client.post(reverse("account"), {"form": "email", "email": ""})
    people["member"].refresh_from_db()
    assert people["member"].email == ""


# -- from the branch secretary ---------------------------------------------------------


def members_url(tree) -> str:
    return reverse("members", args=[tree["a"].pk])


def link_url(tree, user) -> str:
    return reverse("member-password-link", args=[tree["a"].pk, user.pk])


def test_members_see_the_roster_and_only_the_secretary_sees_accounts(people, tree):
    member = logged_in("member", "pw-member")
    html = member.get(members_url(tree)).content.decode()
    for name in ("Secretary", "Member", "Probationary", "Moderator"):
        assert name in html
    assert "Other_Secretary" not in html and "Committee_Secretary" not in html  # not members of A
    assert "member-password-link" not in html and "password-link" not in html
    assert "支部书记、正式党员" in html  # one row per person, their roles together
    assert Client().get(members_url(tree)).status_code == 302  # log in first
    assert logged_in("outsider", "pw-outsider").get(members_url(tree)).status_code == 404

    secretary = logged_in("secretary", "pw-secretary")
    html = secretary.get(members_url(tree)).content.decode()
    assert link_url(tree, people["member"]) in html
    assert link_url(tree, people["secretary"]) not in html  # their own: 我的账号
    assert "我的账号" in html
    # Who logs in with 两步验证: the member once it is on (two_factor.confirm).
    def row(page: str, user) -> str:
        return page.split(f'id="member-{user.pk}"')[1].split("</tr>")[0]
    assert "未开启" in row(html, people["member"]) and "已开启" not in row(html, people["member"])
    assert "两步验证" not in member.get(members_url(tree)).content.decode()  # members do not see it
    TwoFactor.objects.create(user=people["member"], sealed_key=two_factor.seal_key(people["member"].pk, "A" * 32),
                             confirmed_at=timezone.now())
    html = secretary.get(members_url(tree)).content.decode()
    assert "已开启" in row(html, people["member"]) and "未开启" in row(html, people["moderator"])


def test_the_secretary_gives_a_link_shown_once_and_audited(people, tree):
    secretary = logged_in("secretary", "pw-secretary")
    response = secretary.post(link_url(tree, people["member"]))
    assert response.status_code == 302 and response["Location"].endswith("#issued-link")
    page = secretary.get(members_url(tree)).content.decode()
    link = LINK.search(page).group(1)
    assert "仅能使用一次" in page
    assert LINK.search(secretary.get(members_url(tree)).content.decode()) is None  # shown once

    entry = AuditEntry.objects.get(action="member.password_link")
    assert entry.branch_id == tree["a"].pk and entry.target_id == people["member"].pk
    audit = secretary.get(reverse("audit-log", args=[tree["a"].pk])).content.decode()
    assert "给成员设置新密码的链接" in audit and "Member" in audit

    set_password_through(link, "chosen-by-member-1")
    assert Client().login(username="member", password="chosen-by-member-1")


@pytest.mark.parametrize(
    "giver, target, status",
    [
        ("member", "probationary", "forbidden"),  # only secretaries
        ("moderator", "member", "forbidden"),
        ("secretary", "secretary", "forbidden"),  # oneself: 我的账号
        ("secretary", "outsider", "not_found"),  # not a member of the branch
        ("other_secretary", "member", "not_member"),  # another branch's secretary
    ],
)
def test_who_may_not_give_a_link(people, tree, giver, target, status):
    client = logged_in(giver, f"pw-{giver}")
    response = client.post(link_url(tree, people[target]))
    if status == "not_member":
        assert response.status_code == 404
    else:
        assert response.status_code == 302
        assert "flash-error" in client.get(members_url(tree)).content.decode()
    assert not AuditEntry.objects.filter(action="member.password_link").exists()


def test_a_link_never_reaches_beyond_what_the_giver_manages(people, tree, make_user):
    # A member of branch A who is also in branch B: A's secretary may not.
    both = make_user("both", branch=tree["a"], roles=("full",))
    Membership.objects.create(user=both, branch=tree["b"], role="full")
    # A co-secretary of A: A's secretary may not, the committee's secretary may.
    co = make_user("co", branch=tree["a"], roles=("secretary", "full"))
    # An administrator in A: nobody on this page may.
    admin = make_user("boss", branch=tree["a"], roles=("full",), is_staff=True)
    secretary = logged_in("secretary", "pw-secretary")
    for user in (both, co, admin):
        secretary.post(link_url(tree, user))
    assert not AuditEntry.objects.filter(action="member.password_link").exists()
    page = secretary.get(members_url(tree)).content.decode()
    assert "也属于您不管理的支部" in page and "也是书记" in page and "只有其他管理员" in page

    committee = logged_in("committee_secretary", "pw-committee_secretary")
    assert committee.post(link_url(tree, co)).status_code == 302
    assert committee.post(link_url(tree, both)).status_code == 302
    assert AuditEntry.objects.filter(action="member.password_link").count() == 2
