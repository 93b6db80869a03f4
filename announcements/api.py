from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Header, Router, Schema, Status, UploadedFile
from ninja.security import django_auth

from accounts.api import request_identity
from realtime.idempotency import once_if_keyed

from . import actions, scheduling, selectors
from . import attachments as attachment_actions

router = Router(tags=["announcements"])


class AnnouncementIn(Schema):
    title: str
    body: str


class NewAnnouncementIn(AnnouncementIn):
    attachments: list[int] = []  # ids from POST /branches/{branch_id}/attachments
    also: list[int] = []  # 下发: ids of branches below this one that get it too, each a copy of its own


class EditedAnnouncementIn(AnnouncementIn):
    attachments: list[int] | None = None  # the files it keeps plus new uploads; absent: unchanged


@router.get("/branches/{branch_id}/announcements", auth=django_auth, summary="Announcements of a branch, newest first")
def list_announcements(request: HttpRequest, branch_id: int, before: int | None = None, limit: int = 50):
    identity = request_identity(request)
    items = selectors.announcements_for(identity, branch_id, limit=max(1, min(limit, 100)), before=before)
    return {
        "announcements": selectors.listed(identity, branch_id, items),
        "unread": selectors.unread_count(identity, branch_id),
    }


@router.post(
    "/branches/{branch_id}/announcements",
    auth=django_auth,
    response={201: dict},
    summary="Post an announcement (secretaries); send Idempotency-Key to make retries safe",
)
def post_announcement(
    request: HttpRequest, branch_id: int, payload: NewAnnouncementIn, idempotency_key: str | None = Header(None)
):
    identity = request_identity(request)

    def write() -> dict:
        a = actions.post_announcement(identity=identity, branch_id=branch_id, title=payload.title, body=payload.body,
                                      attachments=payload.attachments, also=payload.also)
        return {"announcement": a.to_dict()}

    return Status(201, once_if_keyed(identity, idempotency_key, "announcements.post", write))


@router.patch(
    "/announcements/{announcement_id}",
    auth=django_auth,
    summary="Correct an announcement's title and text (secretaries); Idempotency-Key makes retries safe",
)
def edit_announcement(
    request: HttpRequest, announcement_id: int, payload: EditedAnnouncementIn,
    idempotency_key: str | None = Header(None),
):
    identity = request_identity(request)

    def write() -> dict:
        a = actions.edit_announcement(
            identity=identity, announcement_id=announcement_id, title=payload.title, body=payload.body,
            attachments=payload.attachments,
        )
        return {"announcement": a.to_dict()}

    return once_if_keyed(identity, idempotency_key, "announcements.edit", write)


@router.delete(
    "/announcements/{announcement_id}",
    auth=django_auth,
    summary="Withdraw (撤回) an announcement (secretaries): shown to nobody, kept in the audit log",
)
def withdraw_announcement(request: HttpRequest, announcement_id: int, idempotency_key: str | None = Header(None)):
    identity = request_identity(request)

    def write() -> dict:
        a = actions.withdraw_announcement(identity=identity, announcement_id=announcement_id)
        return {"announcement": {"id": a.pk, "withdrawn": True}}

    return once_if_keyed(identity, idempotency_key, "announcements.withdraw", write)


@router.get(
    "/announcements/{announcement_id}/readers",
    auth=django_auth,
    summary="Who of the branch's members has read an announcement and who has not yet (secretaries)",
)
def announcement_readers(request: HttpRequest, announcement_id: int):
    return selectors.readers_of(request_identity(request), announcement_id)


@router.post(
    "/announcements/{announcement_id}/remind",
    auth=django_auth,
    summary="Remind (提醒未读) those who have not read an announcement yet (secretaries); at most every 30 minutes",
)
def remind_unread(request: HttpRequest, announcement_id: int, idempotency_key: str | None = Header(None)):
    identity = request_identity(request)
    return once_if_keyed(identity, idempotency_key, "announcements.remind",
                         lambda: actions.remind_unread(identity=identity, announcement_id=announcement_id))


class PinIn(Schema):
    pinned: bool
    until: str | None = None  # 置顶至: unpinned by itself then (on the branch's clock without an offset)


@router.post(
    "/announcements/{announcement_id}/pin",
    auth=django_auth,
    summary="Pin (置顶) or unpin an announcement (secretaries); Idempotency-Key makes retries safe",
)
def pin_announcement(request: HttpRequest, announcement_id: int, payload: PinIn,
                     idempotency_key: str | None = Header(None)):
    identity = request_identity(request)

    def write() -> dict:
        a = actions.pin_announcement(identity=identity, announcement_id=announcement_id, pinned=payload.pinned,
                                     until=payload.until)
        return {"announcement": a.to_dict()}

    return once_if_keyed(identity, idempotency_key, "announcements.pin", write)


class ScheduledIn(NewAnnouncementIn):
    publish_at: str  # ISO 8601; without an offset, on the branch's clock


class ChangedScheduledIn(EditedAnnouncementIn):
    publish_at: str
    also: list[int] | None = None  # 下发: the branches below, all of them; absent: unchanged


@router.get(
    "/branches/{branch_id}/scheduled-announcements",
    auth=django_auth,
    summary="Announcements waiting to be published later (定时发布), the soonest first (secretaries)",
)
def list_scheduled(request: HttpRequest, branch_id: int):
    return {"scheduled": scheduling.scheduled_for(request_identity(request), branch_id)}


@router.post(
    "/branches/{branch_id}/scheduled-announcements",
    auth=django_auth,
    response={201: dict},
    summary="Schedule an announcement to be published later (secretaries); Idempotency-Key makes retries safe",
)
def schedule_announcement(
    request: HttpRequest, branch_id: int, payload: ScheduledIn, idempotency_key: str | None = Header(None)
):
    identity = request_identity(request)

    def write() -> dict:
        s = scheduling.schedule_announcement(identity=identity, branch_id=branch_id, title=payload.title,
                                             body=payload.body, publish_at=payload.publish_at,
                                             attachments=payload.attachments, also=payload.also)
        return {"scheduled": scheduling.to_dict(s)}

    return Status(201, once_if_keyed(identity, idempotency_key, "announcements.schedule", write))


@router.patch(
    "/scheduled-announcements/{scheduled_id}",
    auth=django_auth,
    summary="Change an announcement scheduled for later: its text, files, time and branches below (secretaries)",
)
def change_scheduled(request: HttpRequest, scheduled_id: int, payload: ChangedScheduledIn,
                     idempotency_key: str | None = Header(None)):
    identity = request_identity(request)

    def write() -> dict:
        s = scheduling.change_scheduled(identity=identity, scheduled_id=scheduled_id, title=payload.title,
                                        body=payload.body, publish_at=payload.publish_at,
                                        attachments=payload.attachments, also=payload.also)
        return {"scheduled": scheduling.to_dict(s)}

    return once_if_keyed(identity, idempotency_key, "announcements.change_scheduled", write)


@router.delete(
    "/scheduled-announcements/{scheduled_id}",
    auth=django_auth,
    summary="Cancel an announcement scheduled for later (secretaries); its files are deleted",
)
def cancel_scheduled(request: HttpRequest, scheduled_id: int, idempotency_key: str | None = Header(None)):
    identity = request_identity(request)

    def write() -> dict:
        s = scheduling.cancel_scheduled(identity=identity, scheduled_id=scheduled_id)
        return {"scheduled": {"id": s.pk, "status": s.status}}

    return once_if_keyed(identity, idempotency_key, "announcements.cancel_scheduled", write)


@router.post(
    "/scheduled-announcements/{scheduled_id}/publish",
    auth=django_auth,
    summary="Publish an announcement scheduled for later at once, as the secretary who asks",
)
def publish_scheduled(request: HttpRequest, scheduled_id: int, idempotency_key: str | None = Header(None)):
    identity = request_identity(request)

    def write() -> dict:
        return {"announcement": scheduling.publish_now(identity=identity, scheduled_id=scheduled_id).to_dict()}

    return once_if_keyed(identity, idempotency_key, "announcements.publish_scheduled", write)


@router.post(
    "/branches/{branch_id}/attachments",
    auth=django_auth,
    response={201: dict},
    summary="Upload a file to attach to an announcement about to be posted (secretaries); "
    "posting names it in `attachments`. Not attached within a day, it is removed",
)
def upload_attachment(request: HttpRequest, branch_id: int, file: File[UploadedFile]):
    a = attachment_actions.upload_attachment(identity=request_identity(request), branch_id=branch_id, uploaded=file)
    return Status(201, {"attachment": a.to_dict()})


@router.delete(
    "/attachments/{attachment_id}",
    auth=django_auth,
    response={204: None},
    summary="Remove an upload that was not attached yet (its uploader)",
)
def discard_attachment(request: HttpRequest, attachment_id: int):
    attachment_actions.discard_upload(identity=request_identity(request), attachment_id=attachment_id)
    return Status(204, None)
