"""A secretary keeps the branch's members on the members page: adds a person (a new
account with a link to set its password, or an existing one), sets their standing (转正,
moderator), takes them off; refused over themselves and fellow secretaries; a person
taken off stops getting the branch's streams at once."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts import members
from accounts.identity import identity_for_user
from accounts.models import Membership
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)

User = get_user_model()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def roles(user, branch) -> set[str]:
    return set(Membership.objects.filter(user=user, branch=branch).values_list("role", flat=True))


@pytest.mark.django_db
def test_a_new_person_gets_an_account_and_a_link_to_set_its_password(people, tree):
    client = client_for(people["secretary"])
    url = reverse("member-add", args=[tree["a"].pk])
    response = client.post(url, {"username": "xiaoli", "name": "李小红", "standing": "probationary",
                                 "email": "li@example.org"})
    assert response.status_code == 302 and response["Location"].endswith("#issued-link")
    user = User.objects.get(username="xiaoli")
    assert user.get_full_name() == "李小红" and user.email == "li@example.org"
    assert not user.has_usable_password()
    assert roles(user, tree["a"]) == {"probationary"}
    page = client.get(reverse("members", args=[tree["a"].pk])).content.decode()
    assert "李小红 有账号了：设置密码的链接" in page and "/password/set/" in page
    entry = AuditEntry.objects.get(action="member.add")
    assert entry.after == {"user": "xiaoli", "roles": ["probationary"]} and entry.branch_id == tree["a"].pk


@pytest.mark.django_db
def test_someone_with_an_account_elsewhere_is_added_with_it(people, tree):
    client = client_for(people["secretary"])
    elsewhere = people["other_secretary"]  # of branch B
    response = client.post(reverse("member-add", args=[tree["a"].pk]),
                           {"username": elsewhere.username, "name": "", "standing": "full", "moderator": "on"})
    assert response.status_code == 302 and "#issued-link" not in response["Location"]
    assert roles(elsewhere, tree["a"]) == {"full", "moderator"}
    assert roles(elsewhere, tree["b"]) == {"secretary", "full"}  # untouched
    assert elsewhere.has_usable_password()
    again = client.post(reverse("member-add", args=[tree["a"].pk]), {"username": elsewhere.username,
                                                                      "standing": "full"})
    assert again.status_code == 409 and "已经是本支部的成员" in again.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("form, field", [
    ({"username": "", "name": "某人", "standing": "full"}, "username"),
    ({"username": "has space", "name": "某人", "standing": "full"}, "username"),
    ({"username": "newbie", "name": "", "standing": "full"}, "name"),
    ({"username": "newbie", "name": "某人", "standing": "secretary"}, "standing"),
    ({"username": "newbie", "name": "某人", "standing": "full", "email": "not-an-address"}, "email"),
])
def test_a_form_with_a_mistake_comes_back_filled_in_with_the_reason(people, tree, form, field):
    response = client_for(people["secretary"]).post(reverse("member-add", args=[tree["a"].pk]), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="field-error"' in page
    if form.get("name"):
        assert f'value="{form["name"]}"' in page
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["member", "moderator", "other_secretary", "outsider"])
def test_only_the_branchs_secretaries_keep_its_members(people, tree, who):
    response = client_for(people[who]).post(reverse("member-add", args=[tree["a"].pk]),
                                            {"username": "newbie", "name": "某人", "standing": "full"})
    assert response.status_code in (403, 404)
    assert not User.objects.filter(username="newbie").exists()
    with pytest.raises(Forbidden):
        members.remove_member(identity=identity_for_user(people[who]), branch_id=tree["a"].pk,
                              user_id=people["probationary"].pk)


@pytest.mark.django_db
def test_standing_changes_and_taking_off_are_audited(people, tree):
    secretary = identity_for_user(people["secretary"])
    yubei = people["probationary"]
    assert members.set_standing(identity=secretary, branch_id=tree["a"].pk, user_id=yubei.pk,
                                standing="full", moderator=True) == ["full", "moderator"]  # 转正, and moderates
    assert roles(yubei, tree["a"]) == {"full", "moderator"}
    entry = AuditEntry.objects.get(action="member.roles")
    assert entry.before["roles"] == ["probationary"] and entry.after["roles"] == ["full", "moderator"]
    members.set_standing(identity=secretary, branch_id=tree["a"].pk, user_id=yubei.pk, standing="full",
                         moderator=True)
    assert AuditEntry.objects.filter(action="member.roles").count() == 1  # nothing changed: no entry
    with pytest.raises(Invalid):
        members.set_standing(identity=secretary, branch_id=tree["a"].pk, user_id=yubei.pk, standing="secretary",
                             moderator=False)

    members.remove_member(identity=secretary, branch_id=tree["a"].pk, user_id=yubei.pk)
    assert roles(yubei, tree["a"]) == set()
    assert User.objects.filter(pk=yubei.pk, is_active=True).exists()  # the account stays
    assert AuditEntry.objects.get(action="member.remove").before["roles"] == ["full", "moderator"]
    log = client_for(people["secretary"]).get(f"/branches/{tree['a'].pk}/audit/").content.decode()
    assert "更改了成员身份" in log and "将成员移出了支部" in log


@pytest.mark.django_db
def test_never_over_oneself_and_over_a_secretary_only_from_above(people, tree):
    secretary = identity_for_user(people["secretary"])
    with pytest.raises(Forbidden):
        members.remove_member(identity=secretary, branch_id=tree["a"].pk, user_id=people["secretary"].pk)
    deputy = User.objects.create_user("deputy", first_name="副书记")
    Membership.objects.create(user=deputy, branch=tree["a"], role="secretary")
    Membership.objects.create(user=deputy, branch=tree["a"], role="full")
    with pytest.raises(Forbidden):
        members.set_standing(identity=secretary, branch_id=tree["a"].pk, user_id=deputy.pk, standing="full",
                             moderator=True)
    # The committee's secretary may; the secretary role itself stays.
    above = identity_for_user(people["committee_secretary"])
    members.set_standing(identity=above, branch_id=tree["a"].pk, user_id=deputy.pk, standing="full", moderator=True)
    assert roles(deputy, tree["a"]) == {"secretary", "full", "moderator"}
    page = client_for(people["secretary"]).get(reverse("members", args=[tree["a"].pk])).content.decode()
    assert "副书记 是本支部的书记" in page
    with pytest.raises(Conflict):
        members.add_member(identity=secretary, branch_id=tree["a"].pk, username="deputy", name="",
                           standing="full")


@pytest.mark.django_db(transaction=True)
async def test_a_person_taken_off_stops_getting_the_branchs_streams(connect, people, tree):  # noqa: F811
    user = people["member"]
    page = await connect(user)
    stream = f"announcements:{tree['a'].pk}"
    for key in (f"inbox:{user.pk}", stream):
        assert (await page.call("subscribe", {"stream": key}))["op"] == "ok"
    await database_sync_to_async(members.remove_member)(
        identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, user_id=user.pk)
    gone = (await page.recv_until(lambda f: f.get("op") == "unsubscribed"))[-1]
    assert gone == {"op": "unsubscribed", "stream": stream, "reason": "forbidden"}
    again = await page.call("subscribe", {"stream": stream})
    assert again["op"] == "error" and again["code"] == "forbidden"
    assert await page.nothing()  # the inbox is still theirs: not unsubscribed


def test_lines_are_read_from_a_spreadsheet_or_typed_with_commas():
    rows = members.parse_member_lines("# 名单\nzhangsan\t张三\t预备\tzs@example.org\n\n lisi，李四 \nwangwu,王五,正式,")
    assert [(n, r["username"], r["name"], r["standing_word"], r["email"]) for n, _line, r in rows] == [
        (2, "zhangsan", "张三", "预备", "zs@example.org"), (4, "lisi", "李四", "", ""), (5, "wangwu", "王五", "正式", "")]


@pytest.mark.django_db
def test_an_import_adds_everyone_or_nobody(people, tree):
    client = client_for(people["secretary"])
    url = reverse("member-import", args=[tree["a"].pk])
    bad = client.post(url, {"lines": "zhangsan,张三,预备\nlisi,,正式\nwangwu,王五,党员\nzhangsan,张三\n"
                                      f"{people['member'].username},张党员"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "未添加任何人" in page
    for line, why in ((2, "请填写姓名"), (3, "身份请写"), (4, "前面的行中已出现"), (5, "已经是本支部的成员")):
        assert f"第 {line} 行：" in page and why in page
    assert "第 1 行：" not in page
    assert not User.objects.filter(username="zhangsan").exists()  # nobody, not even line 1
    assert "zhangsan,张三,预备" in page  # the text comes back to be corrected

    good = client.post(url, {"lines": f"zhangsan,张三,预备,zs@example.org\n{people['other_secretary'].username}\tX"})
    assert good.status_code == 302 and good["Location"].endswith("#imported")
    assert roles(User.objects.get(username="zhangsan"), tree["a"]) == {"probationary"}
    assert roles(people["other_secretary"], tree["a"]) == {"full"}
    shown = client.get(reverse("members", args=[tree["a"].pk])).content.decode()
    assert "已添加 2 人" in shown and shown.count("/password/set/") == 1 and "原已有账号" in shown
    assert "已添加 2 人" not in client.get(reverse("members", args=[tree["a"].pk])).content.decode()  # once
    assert AuditEntry.objects.filter(action="member.add").count() == 2

    refused = client_for(people["member"]).post(url, {"lines": "someone,某人"})
    assert refused.status_code == 403 and not User.objects.filter(username="someone").exists()
    empty = client.post(url, {"lines": "\n# only a comment\n"})
    assert empty.status_code == 400 and "请每行写一个人" in empty.content.decode()


@pytest.mark.django_db
def test_a_username_taken_in_the_same_moment_is_a_conflict_not_a_crash(people, tree, monkeypatch):
    real_filter = User.objects.select_for_update

    class Missed:  # the lookup ran just before another secretary's add committed
        def filter(self, **kwargs):
            return User.objects.none()

    User.objects.create_user("twin", first_name="双")
    monkeypatch.setattr(User.objects, "select_for_update", lambda: Missed())
    with pytest.raises(Conflict):
        members.add_member(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                           username="twin", name="另一个", standing="full")
    monkeypatch.setattr(User.objects, "select_for_update", real_filter)
    assert not Membership.objects.filter(user__username="twin").exists()


# -- 更正姓名: correcting a name typed wrong ----------------------------------------------


@pytest.mark.django_db
def test_a_secretary_corrects_a_members_name(people, tree):
    client = client_for(people["secretary"])
    page = client.get(reverse("members", args=[tree["a"].pk])).content.decode()
    assert f'action="{reverse("member-name", args=[tree["a"].pk, people["member"].pk])}"' in page
    response = client.post(reverse("member-name", args=[tree["a"].pk, people["member"].pk]), {"name": "  张卫东 "})
    assert response.status_code == 302 and response["Location"].endswith(f"#member-{people['member'].pk}")
    people["member"].refresh_from_db()
    assert people["member"].get_full_name() == "张卫东" and people["member"].last_name == ""
    page = client.get(reverse("members", args=[tree["a"].pk])).content.decode()
    assert "现在的姓名是张卫东。" in page and "张卫东" in page
    entry = AuditEntry.objects.get(action="member.name")
    assert entry.before == {"user": "member", "name": "Member"}
    assert entry.after == {"user": "member", "name": "张卫东"}
    assert "更正了成员姓名" in client.get(reverse("audit-log", args=[tree["a"].pk])).content.decode()
    # The same name again changes nothing and logs nothing.
    members.correct_name(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                         user_id=people["member"].pk, name="张卫东")
    assert AuditEntry.objects.filter(action="member.name").count() == 1


@pytest.mark.django_db
def test_a_name_is_corrected_only_by_who_may_act_over_the_whole_account(people, tree, make_user):
    a, b = tree["a"], tree["b"]
    in_both = make_user("in_both", branch=a, roles=("full",))
    Membership.objects.create(user=in_both, branch=b, role=Membership.Role.FULL)
    fellow = make_user("fellow", branch=a, roles=("secretary", "full"))
    admin = make_user("admin", branch=a, roles=("full",), is_staff=True)
    secretary = identity_for_user(people["secretary"])
    cases = [
        (secretary, people["secretary"], Forbidden, "上级支部的书记或管理员"),  # oneself
        (secretary, in_both, Forbidden, "还属于您不管理的支部"),
        (secretary, fellow, Forbidden, "也是书记"),
        (secretary, admin, Forbidden, "管理员"),
        (secretary, people["other_secretary"], NotFound, ""),  # not of this branch
        (identity_for_user(people["member"]), people["probationary"], Forbidden, ""),
        (secretary, people["member"], Invalid, ""),  # with an empty name
    ]
    for actor, user, error, words in cases:
        with pytest.raises(error) as refused:
            members.correct_name(identity=actor, branch_id=a.pk, user_id=user.pk,
                                 name="" if error is Invalid else "新名字")
        assert words in refused.value.message, (user.username, refused.value.message)
    assert not User.objects.filter(first_name="新名字").exists()
    assert not AuditEntry.objects.filter(action="member.name").exists()

    # A secretary of the committee above may, over the branch's secretary and over a
    # member of two branches under it.
    above = identity_for_user(people["committee_secretary"])
    members.correct_name(identity=above, branch_id=a.pk, user_id=fellow.pk, name="刘书记")
    members.correct_name(identity=above, branch_id=a.pk, user_id=in_both.pk, name="陈同志")
    assert set(User.objects.filter(first_name__in=["刘书记", "陈同志"]).values_list("username", flat=True)) == {
        "fellow", "in_both"}

    # The members page says why instead of offering the form.
    page = client_for(people["secretary"]).get(reverse("members", args=[a.pk])).content.decode()
    assert f'action="{reverse("member-name", args=[a.pk, in_both.pk])}"' not in page
    assert "需由管理其所在全部支部的书记更正姓名" in page


@pytest.mark.django_db(transaction=True)
async def test_taken_off_in_the_admin_too_the_branchs_streams_stop(connect, people, tree, make_user):  # noqa: F811
    """The Django admin's changes reach open pages as the members page's do: the
    membership deleted there (alone, in a bulk action, or in the branch's inline) and
    the person's sockets keep only what they may still read."""
    from django.test import Client

    from accounts.models import Membership

    admin_user = await database_sync_to_async(make_user)("root")
    admin_user.is_staff = admin_user.is_superuser = True
    await database_sync_to_async(admin_user.save)()
    user = people["member"]
    page = await connect(user)
    stream = f"announcements:{tree['a'].pk}"
    for key in (f"inbox:{user.pk}", stream):
        assert (await page.call("subscribe", {"stream": key}))["op"] == "ok"

    def delete_in_admin() -> int:
        client = Client()
        client.force_login(admin_user)
        ids = list(Membership.objects.filter(user=user, branch=tree["a"]).values_list("pk", flat=True))
        response = client.post("/admin/accounts/membership/", {
            "action": "delete_selected", "_selected_action": ids, "post": "yes"})
        return response.status_code

    assert await database_sync_to_async(delete_in_admin)() == 302
    gone = (await page.recv_until(lambda f: f.get("op") == "unsubscribed"))[-1]
    assert gone == {"op": "unsubscribed", "stream": stream, "reason": "forbidden"}


@pytest.mark.django_db
def test_the_branch_admins_membership_rows_are_followed_up_too(people, tree, make_user, monkeypatch):
    """Rows added, changed or deleted in the branch's inline are each followed up once
    committed (the person's streams rechecked, the read counts sent)."""
    from django.test import Client

    from accounts.models import Membership

    followed: list[tuple[int, int]] = []
    monkeypatch.setattr(members, "membership_changed",
                        lambda *, user_id, branch_id: followed.append((user_id, branch_id)))
    admin_user = make_user("root")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    branch = tree["a"]
    rows = list(Membership.objects.filter(branch=branch).order_by("pk"))
    data = {"name": branch.name, "kind": branch.kind, "parent": branch.parent_id, "time_zone": branch.time_zone,
            "memberships-TOTAL_FORMS": len(rows) + 1, "memberships-INITIAL_FORMS": len(rows),
            "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data |= {f"memberships-{i}-id": row.pk, f"memberships-{i}-branch": branch.pk,
                 f"memberships-{i}-user": row.user_id, f"memberships-{i}-role": row.role}
    member_row = rows.index(next(r for r in rows if r.user_id == people["member"].pk))
    data[f"memberships-{member_row}-DELETE"] = "on"
    newcomer = make_user("newcomer")
    n = len(rows)
    data |= {f"memberships-{n}-branch": branch.pk, f"memberships-{n}-user": newcomer.pk, f"memberships-{n}-role": "full"}
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/admin/accounts/branch/{branch.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.filter(user=people["member"], branch=branch).exists()
    assert sorted(followed) == sorted([(people["member"].pk, branch.pk), (newcomer.pk, branch.pk)])
