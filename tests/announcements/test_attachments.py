"""Files on announcements: a secretary uploads them over HTTP, the post names them, the
branch's members (and only they) fetch them; uploads never attached and the files of
withdrawn announcements are cleared."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.identity import identity_for_user
from announcements import actions, attachments
from announcements.models import Announcement, Attachment
from realtime.errors import Conflict, Invalid, NotFound
from realtime.models import Event
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def upload(client: Client, branch, name: str = "学习材料.pdf", content: bytes = PDF):
    return client.post(f"/api/branches/{branch.pk}/attachments", {"file": SimpleUploadedFile(name, content)})


def uploaded(people, tree, name: str = "学习材料.pdf", content: bytes = PDF) -> int:
    response = upload(client_for(people["secretary"]), tree["a"], name, content)
    assert response.status_code == 201, response.content
    return response.json()["attachment"]["id"]


@pytest.mark.django_db
def test_a_secretary_uploads_and_the_post_carries_the_files(people, tree, settings):
    client = client_for(people["secretary"])
    response = upload(client, tree["a"])
    assert response.status_code == 201
    data = response.json()["attachment"]
    assert data["name"] == "学习材料.pdf" and data["size"] == len(PDF)
    assert data["content_type"] == "application/pdf"
    stored = Attachment.objects.get(pk=data["id"])
    on_disk = Path(settings.MEDIA_ROOT) / stored.file.name
    assert on_disk.read_bytes() == PDF and "学习材料" not in stored.file.name  # a random name on disk
    second = uploaded(people, tree, "报名表.docx", b"PK\x03\x04 a word file")

    post = client.post(f"/api/branches/{tree['a'].pk}/announcements",
                       {"title": "学习通知", "body": "见附件", "attachments": [second, data["id"]]},
                       content_type="application/json")
    assert post.status_code == 201
    names = [f["name"] for f in post.json()["announcement"]["attachments"]]
    assert names == ["学习材料.pdf", "报名表.docx"]  # in the order they were uploaded
    event = Event.objects.get(stream_id=f"announcements:{tree['a'].pk}", type="announcement.posted")
    assert [f["id"] for f in event.data["attachments"]] == [data["id"], second]
    assert event.data["attachments"][0]["url"] == f"/attachments/{data['id']}/{quote('学习材料.pdf')}"

    # Members fetch them: a PDF opens in the browser, a Word file downloads.
    member = client_for(people["member"])
    pdf = member.get(event.data["attachments"][0]["url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == PDF
    assert pdf["Content-Type"] == "application/pdf" and pdf["X-Content-Type-Options"] == "nosniff"
    assert pdf["Content-Disposition"].startswith("inline")
    word = member.get(event.data["attachments"][1]["url"])
    assert word["Content-Disposition"].startswith("attachment")
    assert "sandbox" in word["Content-Security-Policy"]

    # Listed with the announcement, on the page and in the snapshot.
    page = member.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert f'href="/attachments/{data["id"]}/{quote("学习材料.pdf")}"' in page
    from announcements import selectors

    [listed] = selectors.listed(identity_for_user(people["member"]), tree["a"].pk,
                                selectors.announcements_for(identity_for_user(people["member"]), tree["a"].pk))
    assert [f["name"] for f in listed["attachments"]] == ["学习材料.pdf", "报名表.docx"]


@pytest.mark.django_db
def test_only_the_branch_reads_them_and_a_withdrawn_ones_are_gone(people, tree):
    file_id = uploaded(people, tree)
    a = actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                  title="通知", body="正文", attachments=[file_id])
    url = f"/attachments/{file_id}/学习材料.pdf"
    assert client_for(people["outsider"]).get(url).status_code == 404
    assert client_for(people["other_secretary"]).get(url).status_code == 404
    assert client_for(people["committee_secretary"]).get(url).status_code == 200  # reads the branches below
    assert client_for().get(url).status_code == 302  # to the login page
    assert client_for(people["member"]).get("/attachments/999999/x.pdf").status_code == 404

    actions.withdraw_announcement(identity=identity_for_user(people["secretary"]), announcement_id=a.pk)
    gone = client_for(people["member"]).get(url)
    assert gone.status_code == 410
    assert "撤回" in gone.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who, status", [("member", 403), ("moderator", 403), ("other_secretary", 403),
                                         ("outsider", 403), (None, 401)])
def test_only_secretaries_upload(people, tree, who, status):
    response = upload(client_for(people[who] if who else None), tree["a"])
    assert response.status_code == status
    assert not Attachment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name, content, status, code", [
    ("page.html", b"<script>alert(1)</script>", 400, "bad_request"),
    ("picture.svg", b"<svg onload=alert(1)>", 400, "bad_request"),
    ("setup.exe", b"MZ", 400, "bad_request"),
    ("no-extension", b"data", 400, "bad_request"),
    ("empty.pdf", b"", 400, "bad_request"),
])
def test_files_of_other_types_or_empty_ones_are_refused(people, tree, name, content, status, code):
    response = upload(client_for(people["secretary"]), tree["a"], name, content)
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["details"]["field"] == "file"
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_as_too_large(people, tree, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    response = upload(client_for(people["secretary"]), tree["a"], "big.pdf", b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and "1 MB" in response.json()["message"]
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_a_branch_has_room_for_so_much_in_all(people, tree, settings):
    """BRANCH_ATTACHMENTS_BYTES: a branch's own files, attached or waiting, count; the
    files a branch above shared with its copies (下发) count only there; taking a file
    off an announcement frees its room."""
    settings.BRANCH_ATTACHMENTS_BYTES = 1000
    secretary = client_for(people["secretary"])
    first = upload(secretary, tree["a"], "一.pdf", PDF + b"x" * 600)
    assert first.status_code == 201
    refused = upload(secretary, tree["a"], "二.pdf", PDF + b"y" * 600)
    assert refused.status_code == 413 and refused.json()["code"] == "too_large"
    assert "本组织的附件空间共 1000\xa0字节（已用 648\xa0字节）" in refused.json()["message"]
    assert Attachment.objects.count() == 1
    assert attachments.space_used(tree["a"].pk) == len(PDF) + 600 == 648

    # Shared from the committee with its copy in branch A: A's room is not taken.
    committee = identity_for_user(people["committee_secretary"])
    shared = attachments.upload_attachment(identity=committee, branch_id=tree["committee"].pk,
                                           uploaded=SimpleUploadedFile("党委材料.pdf", PDF + b"z" * 500))
    actions.post_announcement(identity=committee, branch_id=tree["committee"].pk, title="下发", body="正文",
                              attachments=[shared.pk], also=[tree["a"].pk])
    assert Attachment.objects.filter(branch=tree["a"]).count() == 2  # the copy's file is a row of A's
    assert attachments.space_used(tree["a"].pk) == 648
    assert attachments.space_used(tree["committee"].pk) == len(PDF) + 500

    # Posted, then taken off in a correction: the room is free again.
    a = actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                  title="学习材料", body="见附件", attachments=[first.json()["attachment"]["id"]])
    actions.edit_announcement(identity=identity_for_user(people["secretary"]), announcement_id=a.pk,
                              title="学习材料", body="附件已撤下", attachments=[])
    assert attachments.space_used(tree["a"].pk) == 0
    assert upload(secretary, tree["a"], "二.pdf", PDF + b"y" * 600).status_code == 201
    page = secretary.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert "本组织附件已用 648\xa0字节，共 1000\xa0字节。" in page


def test_file_names_keep_no_folder_control_or_bidi_characters():
    assert attachments.clean_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert attachments.clean_name("C:\\Users\\王\\报告.docx") == "报告.docx"
    assert attachments.clean_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert attachments.clean_name("a\x00b\n.pdf") == "ab.pdf"
    long = attachments.clean_name("长" * 300 + ".pdf")
    assert len(long) == attachments.NAME_MAX and long.endswith(".pdf")


@pytest.mark.django_db
def test_a_post_names_only_its_posters_waiting_uploads(people, tree, make_user):
    secretary = identity_for_user(people["secretary"])
    mine = uploaded(people, tree)

    def post(ids, identity=secretary, branch=tree["a"].pk):
        return actions.post_announcement(identity=identity, branch_id=branch, title="t", body="b", attachments=ids)

    other = make_user("deputy", branch=tree["a"], roles=("secretary",))
    with pytest.raises(Invalid) as refused:
        post([mine], identity=identity_for_user(other))  # not the uploader
    assert refused.value.field == "attachments"
    with pytest.raises(Invalid):
        post([mine], branch=tree["a1"].pk)  # uploaded for another branch
    with pytest.raises(Invalid):
        post([mine, mine])
    with pytest.raises(Invalid):
        post(list(range(1, attachments.PER_ANNOUNCEMENT + 2)))
    assert not Announcement.objects.exists()

    post([mine])
    with pytest.raises(Invalid):
        post([mine])  # attached already
    assert Announcement.objects.count() == 1


@pytest.mark.django_db
def test_two_posts_racing_for_one_upload_leave_it_on_one(people, tree):
    file_id = uploaded(people, tree)
    files = attachments.waiting_for(identity_for_user(people["secretary"]), tree["a"].pk, [file_id])
    first = actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                      title="一", body="b", attachments=[file_id])
    with pytest.raises(Conflict):
        attachments.attach(files, first.pk + 1000)  # the second post's check passed before the first committed
    assert Attachment.objects.get(pk=file_id).announcement_id == first.pk


@pytest.mark.django_db
def test_an_upload_taken_out_of_the_form_is_deleted(people, tree, settings):
    file_id = uploaded(people, tree)
    path = Path(settings.MEDIA_ROOT) / Attachment.objects.get(pk=file_id).file.name
    assert client_for(people["member"]).delete(f"/api/attachments/{file_id}").status_code == 404  # not theirs
    assert client_for(people["secretary"]).delete(f"/api/attachments/{file_id}").status_code == 204
    assert not Attachment.objects.exists() and not path.exists()

    attached = uploaded(people, tree)
    actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                              title="t", body="b", attachments=[attached])
    response = client_for(people["secretary"]).delete(f"/api/attachments/{attached}")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    with pytest.raises(NotFound):
        attachments.for_download(identity_for_user(people["member"]), 123456)


@pytest.mark.django_db
def test_uploads_never_attached_are_removed_a_day_later(people, tree, settings):
    old, recent, kept = uploaded(people, tree, "旧.pdf"), uploaded(people, tree, "新.pdf"), uploaded(people, tree)
    actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                              title="t", body="b", attachments=[kept])
    day_ago = timezone.now() - timedelta(hours=attachments.UNATTACHED_HOURS, minutes=1)
    Attachment.objects.filter(pk__in=[old, kept]).update(created_at=day_ago)
    old_path = Path(settings.MEDIA_ROOT) / Attachment.objects.get(pk=old).file.name
    assert attachments.remove_unattached() == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {recent, kept}
    assert not old_path.exists()
    # Only the uploader sees an upload before it is attached.
    assert client_for(people["secretary"]).get(f"/attachments/{recent}/新.pdf").status_code == 200
    assert client_for(people["member"]).get(f"/attachments/{recent}/新.pdf").status_code == 404


@pytest.mark.django_db
def test_uploads_waiting_at_once_are_capped(people, tree, monkeypatch):
    monkeypatch.setattr(attachments, "WAITING_MAX", 2)
    uploaded(people, tree)
    uploaded(people, tree)
    response = upload(client_for(people["secretary"]), tree["a"])
    assert response.status_code == 409 and response.json()["code"] == "conflict"


@pytest.mark.django_db(transaction=True)
async def test_the_socket_op_posts_with_files_and_members_hear_them(connect, people, tree):  # noqa: F811
    file_id = await database_sync_to_async(uploaded)(people, tree)
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.post", {"branch": tree["a"].pk, "title": "附件通知", "body": "见附件",
                                                        "attachments": [file_id]}, cid="c-attach-1")
    assert reply["op"] == "ok"
    assert [f["id"] for f in reply["data"]["announcement"]["attachments"]] == [file_id]
    heard = (await member.recv_until(lambda f: f.get("type") == "announcement.posted"))[-1]
    assert heard["data"]["attachments"][0]["name"] == "学习材料.pdf"

    bad = await secretary.call("announcements.post", {"branch": tree["a"].pk, "title": "t", "body": "b",
                                                      "attachments": [file_id]}, cid="c-attach-2")
    assert bad["op"] == "error" and bad["code"] == "bad_request" and bad["details"]["field"] == "attachments"
    wrong_type = await secretary.call("announcements.post", {"branch": tree["a"].pk, "title": "t", "body": "b",
                                                             "attachments": ["1"]}, cid="c-attach-3")
    assert wrong_type["op"] == "error" and wrong_type["code"] == "bad_request"


@pytest.mark.django_db
def test_the_admin_shows_an_announcements_files(people, tree, make_user):
    file_id = uploaded(people, tree)
    a = actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                  title="通知", body="正文", attachments=[file_id])
    admin = make_user("root", is_staff=True, is_superuser=True)
    page = client_for(admin).get(f"/admin/announcements/announcement/{a.pk}/change/")
    assert page.status_code == 200 and "学习材料.pdf" in page.content.decode()


@pytest.mark.django_db
def test_a_correction_takes_files_off_and_adds_new_ones(people, tree, settings, django_capture_on_commit_callbacks):
    secretary = identity_for_user(people["secretary"])
    first, second = uploaded(people, tree, "旧材料.pdf"), uploaded(people, tree, "名单.xlsx", b"PK sheet")
    a = actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="通知", body="正文",
                                  attachments=[first, second])
    old_path = Path(settings.MEDIA_ROOT) / Attachment.objects.get(pk=first).file.name

    # No `attachments`: the files stay as they are.
    actions.edit_announcement(identity=secretary, announcement_id=a.pk, title="通知（更正）", body="正文")
    assert Attachment.objects.filter(announcement=a).count() == 2

    newer = uploaded(people, tree, "新材料.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        edited = actions.edit_announcement(identity=secretary, announcement_id=a.pk, title="通知（更正）",
                                           body="正文", attachments=[second, newer])
    assert [f["name"] for f in edited.to_dict()["attachments"]] == ["名单.xlsx", "新材料.pdf"]
    event = Event.objects.filter(stream_id=f"announcements:{tree['a'].pk}", type="announcement.edited").last()
    assert [f["id"] for f in event.data["attachments"]] == [second, newer]
    assert not Attachment.objects.filter(pk=first).exists() and not old_path.exists()  # taken off: deleted
    from moderation.models import AuditEntry

    entry = AuditEntry.objects.filter(action="announcement.edit").order_by("-pk").first()
    assert entry.before["attachments"] == ["旧材料.pdf", "名单.xlsx"]
    assert entry.after["attachments"] == ["名单.xlsx", "新材料.pdf"]

    # Unchanged: no event. Someone else's upload, or more than ten: refused, nothing changed.
    count = Event.objects.count()
    actions.edit_announcement(identity=secretary, announcement_id=a.pk, title="通知（更正）", body="正文",
                              attachments=[newer, second])
    assert Event.objects.count() == count
    with pytest.raises(Invalid):
        actions.edit_announcement(identity=secretary, announcement_id=a.pk, title="通知", body="正文",
                                  attachments=[second, 424242])
    more = [uploaded(people, tree, f"{i}.pdf") for i in range(attachments.PER_ANNOUNCEMENT - 1)]
    with pytest.raises(Invalid):
        actions.edit_announcement(identity=secretary, announcement_id=a.pk, title="通知", body="正文",
                                  attachments=[second, newer, *more])
    assert Attachment.objects.filter(announcement=a).count() == 2
    assert Announcement.objects.get(pk=a.pk).title == "通知（更正）"


@pytest.mark.django_db
def test_the_http_api_corrects_files_too(people, tree):
    file_id = uploaded(people, tree)
    client = client_for(people["secretary"])
    post = client.post(f"/api/branches/{tree['a'].pk}/announcements",
                       {"title": "通知", "body": "正文", "attachments": [file_id]}, content_type="application/json")
    a_id = post.json()["announcement"]["id"]
    kept = client.patch(f"/api/announcements/{a_id}", {"title": "通知", "body": "更正"},
                        content_type="application/json")
    assert kept.status_code == 200 and len(kept.json()["announcement"]["attachments"]) == 1
    emptied = client.patch(f"/api/announcements/{a_id}", {"title": "通知", "body": "更正", "attachments": []},
                           content_type="application/json")
    assert emptied.status_code == 200 and emptied.json()["announcement"]["attachments"] == []


def picture_bytes(width: int, height: int, kind: str = "PNG", **save) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (179, 18, 31)).save(out, kind, **save)
    return out.getvalue()


@pytest.mark.django_db
def test_a_picture_is_shown_in_the_announcement_from_a_smaller_copy(people, tree, settings):
    from PIL import Image

    # A phone photo: large, lying on its side with EXIF saying so, and where it was taken.
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show it upright
    exif[0x8825] = {2: (39.0, 54.0, 27.0)}  # GPS latitude
    photo = picture_bytes(3000, 2000, "JPEG", exif=exif)
    picture = uploaded(people, tree, "海报.jpg", photo)
    document = uploaded(people, tree, "名单.xlsx", b"PK sheet")
    actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                              title="海报", body="见图", attachments=[picture, document])
    url = f"/attachments/{picture}/{quote('海报.jpg')}"
    page = client_for(people["member"]).get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert f'<img src="{url}?preview=1" alt="海报.jpg" loading="lazy">' in page
    assert page.count("<img src=\"/attachments/") == 1  # the spreadsheet is only named

    member = client_for(people["member"])
    small = member.get(url + "?preview=1")
    assert small["Content-Type"] == "image/jpeg" and small["Content-Disposition"].startswith("inline")
    with Image.open(io.BytesIO(b"".join(small.streaming_content))) as shown:
        assert shown.size == (853, 1280)  # upright, at most 1280 a side
        assert not shown.getexif()  # nothing of the original's metadata
    original = member.get(url)
    assert b"".join(original.streaming_content) == photo  # a click opens the file as sent
    stored = Attachment.objects.get(pk=picture)
    assert stored.to_dict()["preview_url"] == url + "?preview=1"
    assert Attachment.objects.get(pk=document).to_dict()["preview_url"] is None


@pytest.mark.django_db
def test_a_picture_that_cannot_be_read_is_refused(people, tree):
    response = upload(client_for(people["secretary"]), tree["a"], "海报.png", b"\x89PNG\r\n\x1a\n not really drawn")
    assert response.status_code == 400 and response.json()["details"]["field"] == "file"
    assert "damaged" in response.json()["message"] or "损坏" in response.json()["message"]
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_taking_a_picture_out_deletes_its_smaller_copy_too(people, tree, settings):
    picture = uploaded(people, tree, "图.png", picture_bytes(2000, 100))
    stored = Attachment.objects.get(pk=picture)
    paths = [Path(settings.MEDIA_ROOT) / stored.file.name, Path(settings.MEDIA_ROOT) / stored.preview.name]
    assert all(path.exists() for path in paths)
    assert client_for(people["secretary"]).delete(f"/api/attachments/{picture}").status_code == 204
    assert not any(path.exists() for path in paths)


@pytest.mark.django_db
def test_a_withdrawn_announcements_files_are_deleted_days_later(people, tree, settings,
                                                                 django_capture_on_commit_callbacks):
    """WITHDRAWN_FILES_DAYS on, a withdrawn announcement's files go (and their room with
    them); the announcement stays. A file a live copy still names stays on disk."""
    settings.WITHDRAWN_FILES_DAYS = 30
    secretary = identity_for_user(people["secretary"])
    mine = uploaded(people, tree, "旧材料.pdf", PDF + b"x" * 100)
    kept = uploaded(people, tree, "留着.pdf")
    withdrawn = actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="撤回的", body="b",
                                          attachments=[mine])
    actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="还在的", body="b", attachments=[kept])
    mine_path = Path(settings.MEDIA_ROOT) / Attachment.objects.get(pk=mine).file.name
    actions.withdraw_announcement(identity=secretary, announcement_id=withdrawn.pk)

    # The committee sends one down to branch A, then withdraws A's copy alone.
    committee = identity_for_user(people["committee_secretary"])
    shared = attachments.upload_attachment(identity=committee, branch_id=tree["committee"].pk,
                                           uploaded=SimpleUploadedFile("党委材料.pdf", PDF))
    original = actions.post_announcement(identity=committee, branch_id=tree["committee"].pk, title="下发",
                                         body="b", attachments=[shared.pk], also=[tree["a"].pk])
    copy = Announcement.objects.get(branch=tree["a"], title="下发")
    actions.withdraw_announcement(identity=committee, announcement_id=copy.pk)
    shared_path = Path(settings.MEDIA_ROOT) / shared.file.name
    before = attachments.space_used(tree["a"].pk)

    assert attachments.remove_withdrawn() == 0  # not yet
    Announcement.objects.filter(pk__in=[withdrawn.pk, copy.pk]).update(
        withdrawn_at=timezone.now() - timedelta(days=30, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert attachments.remove_withdrawn() == 2
    assert not Attachment.objects.filter(announcement__in=[withdrawn, copy]).exists()
    assert not mine_path.exists()
    assert attachments.space_used(tree["a"].pk) == before - len(PDF) - 100
    assert shared_path.exists() and Attachment.objects.filter(announcement=original).count() == 1
    assert Announcement.objects.filter(pk=withdrawn.pk, withdrawn_at__isnull=False).exists()
    assert Attachment.objects.get(pk=kept).announcement.title == "还在的"
    with django_capture_on_commit_callbacks(execute=True):
        assert attachments.remove_withdrawn() == 0


@pytest.mark.django_db
def test_the_room_refusal_says_when_withdrawn_files_go(people, tree, settings):
    settings.BRANCH_ATTACHMENTS_BYTES, settings.WITHDRAWN_FILES_DAYS = 100, 7
    refused = upload(client_for(people["secretary"]), tree["a"], "大.pdf", PDF + b"x" * 100)
    assert refused.status_code == 413 and "已撤回通知的附件在撤回 7 天后删除。" in refused.json()["message"]
