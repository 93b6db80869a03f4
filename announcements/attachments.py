"""Files attached to announcements: uploaded by a secretary over HTTP, attached when the
announcement is posted, fetched by the branch's members.

Only document and picture types a branch passes round (PDF, Word, Excel, PowerPoint,
WPS, plain text, pictures, zip) are taken, told apart by the file name's extension; the
type the browser claims is not trusted, and a download is always sent with that
extension's type and `nosniff`, so an upload can never become a page of this site.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.selectors import can_manage_branch, can_read_branch
from realtime.errors import Conflict, Invalid, NotFound, TooLarge
from realtime.scheduler import register_periodic

from .models import Announcement, Attachment

TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".wps": "application/vnd.ms-works",
    ".et": "application/vnd.ms-excel",
    ".dps": "application/vnd.ms-powerpoint",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".zip": "application/zip",
}
# Shown in the page rather than saved: pictures and PDFs open in the browser.
INLINE = {"application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp"}
# Pictures that get a smaller copy for the pages (a phone photo is several MB; a GIF
# keeps its animation and is shown as it is).
PREVIEWED = {"image/jpeg", "image/png", "image/webp"}
PREVIEW_PIXELS = 1280
# Larger pictures are refused rather than decoded (a small file can declare a huge one).
MAX_PICTURE_PIXELS = 60_000_000
PER_ANNOUNCEMENT = 10
# Uploads a secretary may have waiting, not yet attached to anything.
WAITING_MAX = 30
# An upload never attached is removed after this long.
UNATTACHED_HOURS = 24
NAME_MAX = 200


def clean_name(raw: str) -> str:
    """The file's own name, without any folder, control character or bidi trickery."""
    name = PurePosixPath(str(raw).replace("\\", "/")).name
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = name.strip().strip(".")
    if len(name) > NAME_MAX:
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix[:10]
        name = stem[: NAME_MAX - len(suffix)] + suffix
    return name


def upload_attachment(*, identity: Identity, branch_id: int, uploaded: UploadedFile) -> Attachment:
    """Keep an uploaded file, not yet attached to anything."""
    from .actions import check_may_post

    check_may_post(identity, branch_id)
    name = clean_name(uploaded.name or "")
    suffix = PurePosixPath(name).suffix.lower()
    if not name or suffix not in TYPES:
        raise Invalid("file", _("Files of this type cannot be attached. Allowed: %(types)s.")
                      % {"types": " ".join(sorted(t.lstrip(".") for t in TYPES))})
    if uploaded.size > settings.ATTACHMENT_MAX_BYTES:
        raise TooLarge(_("The file is larger than %(mb)s MB.")
                       % {"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)})
    if uploaded.size == 0:
        raise Invalid("file", _("The file is empty."))
    limit = settings.BRANCH_ATTACHMENTS_BYTES
    if limit and (used := space_used(branch_id)) + uploaded.size > limit:
        raise TooLarge(_("This file does not fit in the %(limit)s this branch has for its files (%(used)s used). "
                         "Take files off announcements that no longer need them (Edit), or ask an administrator "
                         "for more room. A withdrawn announcement's files are deleted %(days)s days after.")
                       % {"limit": filesizeformat(limit), "used": filesizeformat(used),
                          "days": settings.WITHDRAWN_FILES_DAYS})
    waiting = Attachment.objects.filter(uploaded_by_id=identity.user_id, announcement__isnull=True,
                                        scheduled__isnull=True).count()
    if waiting >= WAITING_MAX:
        raise Conflict(_("You have %(count)s files waiting to be attached; post or remove them first.")
                       % {"count": waiting})
    attachment = Attachment(branch_id=branch_id, uploaded_by_id=identity.user_id, name=name,
                            size=uploaded.size, content_type=TYPES[suffix])
    preview = _preview_of(uploaded) if attachment.content_type in PREVIEWED else None
    attachment.file.save(name, uploaded, save=False)
    try:
        if preview is not None:
            attachment.preview.save(f"{PurePosixPath(name).stem}-preview.jpg", preview, save=False)
        attachment.save()
    except Exception:
        _delete_files(attachment)
        raise
    return attachment


def space_used(branch_id: int) -> int:
    """Bytes the branch's own files take (BRANCH_ATTACHMENTS_BYTES): every upload of
    its, attached or waiting, withdrawn announcements' too; not the files a branch
    above shared with its copies (下发), which count where they were uploaded. One query."""
    earlier = Attachment.objects.filter(file=OuterRef("file"), pk__lt=OuterRef("pk"))
    return (Attachment.objects.filter(branch_id=branch_id).exclude(Exists(earlier))
            .aggregate(total=Sum("size"))["total"] or 0)


def _preview_of(uploaded: UploadedFile) -> ContentFile:
    """A JPEG at most PREVIEW_PIXELS a side, turned upright as the camera meant it and
    without the original's metadata (a phone photo's EXIF holds where it was taken).
    A file that is not the picture its name says is refused."""
    from PIL import Image, ImageOps

    try:
        uploaded.seek(0)
        with Image.open(uploaded) as picture:
            if picture.width * picture.height > MAX_PICTURE_PIXELS:
                raise Invalid("file", _("The picture is too large (at most %(mp)s megapixels).")
                              % {"mp": MAX_PICTURE_PIXELS // 1_000_000})
            picture = ImageOps.exif_transpose(picture)
            picture.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
            if picture.mode not in ("RGB", "L"):
                flat = Image.new("RGB", picture.size, (255, 255, 255))
                flat.paste(picture, mask=picture.convert("RGBA").getchannel("A"))
                picture = flat
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=82, optimize=True)
    except Invalid:
        raise
    except Exception:  # not a picture PIL can read, however it is named
        raise Invalid("file", _("This picture could not be read; is the file damaged?")) from None
    finally:
        uploaded.seek(0)
    return ContentFile(out.getvalue())


def _delete_files(attachment: Attachment) -> None:
    for field in (attachment.file, attachment.preview):
        if field:
            field.delete(save=False)


def waiting_for(identity: Identity, branch_id: int, ids: list[int], *, already: int = 0) -> list[Attachment]:
    """The uploads an announcement about to be posted (or corrected, and holding
    `already` files) names, checked: the poster's own, for this branch, not attached
    yet. In the order they were uploaded, as they are listed ever after."""
    if not ids:
        return []
    if already + len(ids) > PER_ANNOUNCEMENT:
        raise Invalid("attachments", _("At most %(max)s files can be attached.") % {"max": PER_ANNOUNCEMENT})
    if len(set(ids)) != len(ids):
        raise Invalid("attachments", _("The same file is attached twice."))
    found = {a.pk: a for a in Attachment.objects.filter(
        pk__in=ids, branch_id=branch_id, uploaded_by_id=identity.user_id, announcement__isnull=True,
        scheduled__isnull=True)}
    if len(found) != len(ids):
        raise Invalid("attachments", _("A file is no longer waiting to be attached; upload it again."))
    return [found[pk] for pk in sorted(ids)]


def attach(attachments: list[Attachment], announcement_id: int, *, scheduled_id: int | None = None) -> None:
    """Inside the post's transaction. Two posts naming the same upload at once: the
    second finds it taken and fails whole. `scheduled_id`: the files that announcement,
    scheduled for later, held until it was published now."""
    _take(attachments, {"scheduled_id": scheduled_id}, announcement_id=announcement_id)


def share(attachments: list[Attachment], branch_id: int) -> list[Attachment]:
    """下发: the same files for a copy of the announcement in another branch, not attached
    yet: new rows (that branch's readers may open them) naming the same stored files,
    which stay on disk while any row names them (detach)."""
    if not attachments:
        return []
    return Attachment.objects.bulk_create([
        Attachment(branch_id=branch_id, uploaded_by_id=a.uploaded_by_id, file=a.file.name, preview=a.preview.name,
                   name=a.name, size=a.size, content_type=a.content_type)
        for a in attachments
    ])


def hold(attachments: list[Attachment], scheduled_id: int) -> None:
    """Inside the transaction that schedules an announcement for later (定时发布): its
    files wait with it, and no longer count as waiting to be attached."""
    _take(attachments, {"scheduled__isnull": True}, scheduled_id=scheduled_id)


def _take(attachments: list[Attachment], where: dict, **put) -> None:
    """Set `put` on these uploads if none is attached yet (and `where` holds), or none."""
    if not attachments:
        return
    taken = Attachment.objects.filter(pk__in=[a.pk for a in attachments], announcement__isnull=True,
                                      **where).update(**put)
    if taken != len(attachments):
        raise Conflict(_("A file was attached to another announcement meanwhile; upload it again."))
    for a in attachments:
        for field, value in put.items():
            setattr(a, field, value)


def detach(removed: list[Attachment]) -> None:
    """Files a correction took off: their rows go with the edit, the files once it is
    committed (a rolled-back edit keeps both)."""
    if not removed:
        return
    Attachment.objects.filter(pk__in=[f.pk for f in removed]).delete()
    stored = [field.name for f in removed for field in (f.file, f.preview) if field]
    storage = removed[0].file.storage
    transaction.on_commit(lambda: _delete_unnamed(storage, stored))


def _delete_unnamed(storage, stored: list[str]) -> None:
    """Of these stored files, those no row names any more: a file shared with the
    copies of an announcement sent below (share) stays while another row names it."""
    named = set(Attachment.objects.filter(file__in=stored).values_list("file", flat=True))
    named |= set(Attachment.objects.filter(preview__in=stored).values_list("preview", flat=True))
    for name in stored:
        if name not in named:
            storage.delete(name)


def discard_upload(*, identity: Identity, attachment_id: int) -> None:
    """A secretary took a file out of the form before posting."""
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().filter(
            pk=attachment_id, uploaded_by_id=identity.user_id).first()
        if attachment is None:
            raise NotFound(_("There is no such file."))
        if attachment.announcement_id is not None:
            raise Conflict(_("This file belongs to a posted announcement."))
        if attachment.scheduled_id is not None:
            raise Conflict(_("This file belongs to an announcement scheduled for later."))
        attachment.delete()
    _delete_files(attachment)


def for_download(identity: Identity, attachment_id: int) -> Attachment:
    """A file the person may see: attached to an announcement of a branch they read
    (the caller answers 410 when that was withdrawn: `announcement.withdrawn_at`),
    their own upload not attached yet, or one held by an announcement scheduled for
    later in a branch they manage (secretaries check what will go out)."""
    attachment = Attachment.objects.select_related("announcement__branch").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("There is no such file."))
    announcement: Announcement | None = attachment.announcement
    if announcement is None:
        own = identity.is_user and attachment.uploaded_by_id == identity.user_id
        if not own and not (attachment.scheduled_id and can_manage_branch(identity, attachment.branch_id)):
            raise NotFound(_("There is no such file."))
        return attachment
    if not can_read_branch(identity, announcement.branch_id):
        raise NotFound(_("There is no such file."))
    return attachment


@register_periodic("announcements.unattached_uploads", every_seconds=3600)
def remove_unattached() -> int:
    """Uploads never attached to an announcement, a day on."""
    cutoff = timezone.now() - timedelta(hours=UNATTACHED_HOURS)
    removed = 0
    waiting = Attachment.objects.filter(announcement__isnull=True, scheduled__isnull=True)
    for attachment in waiting.filter(created_at__lt=cutoff)[:500]:
        with transaction.atomic():
            if not waiting.filter(pk=attachment.pk).delete()[0]:
                continue  # attached meanwhile
        _delete_files(attachment)
        removed += 1
    return removed


@register_periodic("announcements.withdrawn_files", every_seconds=3600)
def remove_withdrawn() -> int:
    """The files of announcements withdrawn WITHDRAWN_FILES_DAYS ago: nobody may open
    them (410), and they would go on taking the branch's room. The announcement's row
    and its audit entry stay. A file a live copy below still names stays with it."""
    cutoff = timezone.now() - timedelta(days=settings.WITHDRAWN_FILES_DAYS)
    gone = list(Attachment.objects.filter(announcement__withdrawn_at__lt=cutoff)[:500])
    if gone:
        with transaction.atomic():
            detach(gone)
    return len(gone)
