"""草稿 kept on the server: what a member has typed into a compose form and not posted yet
follows them to their other devices (Discourse keeps drafts so too).

The browser keeps its own copy first (frontend/static/frontend/drafts.js), so nothing
typed waits on the network; it sends the draft here a moment after typing stops, and
asks for it when a compose form opens. A save names the server copy it grew from, so
one made on two devices at once is a conflict, not a silent overwrite (drafts.js then
keeps both, one in the form and one a click away). A draft is the member's alone: named by a
place the page chooses ("announcement:3", "topic:5", "reply:17"), a few text fields,
and when it was last saved. Posting or discarding removes it. Drafts untouched for
KEEP_DAYS are removed by a periodic job.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.errors import Conflict, Invalid
from realtime.frames import iso
from realtime.scheduler import register_periodic

from .identity import Identity, member_id
from .models import Draft

PLACE_RE = re.compile(r"^[a-z][a-z_]{0,30}:[0-9]{1,12}$")
FIELDS_MAX = 8
CHARS_MAX = 30_000  # all fields together: an announcement's title and text fit
PER_USER = 100  # the oldest beyond these are dropped
KEEP_DAYS = 30
# `base` not given: the save overwrites whatever the server has (last write wins).
ANY = object()


def _place(place: str) -> str:
    if not PLACE_RE.match(place):
        raise Invalid("place", _("A draft's place looks like 'reply:17'."))
    return place


def to_dict(draft: Draft | None) -> dict | None:
    if draft is None:
        return None
    return {"place": draft.place, "fields": draft.fields, "updated_at": iso(draft.updated_at)}


def get_draft(*, identity: Identity, place: str) -> dict | None:
    return to_dict(Draft.objects.filter(user_id=member_id(identity), place=_place(place)).first())


@transaction.atomic
def save_draft(*, identity: Identity, place: str, fields: dict[str, str], base: str | None | object = ANY) -> dict | None:
    """Keep the fields (None back when they are all blank: the draft is removed).

    `base`: the `updated_at` of the server's copy these fields grew from (None: no copy
    was known). When the server's copy has changed since (saved from another device),
    nothing is saved and `Conflict` carries that copy, so neither text is lost: the
    device decides, with both in hand."""
    user_id, place = member_id(identity), _place(place)
    if len(fields) > FIELDS_MAX or any(not re.match(r"^[a-z_]{1,30}$", name) for name in fields):
        raise Invalid("fields", _("A draft has at most %(max)d fields, named in lower case.") % {"max": FIELDS_MAX})
    if sum(len(value) for value in fields.values()) > CHARS_MAX:
        raise Invalid("fields", _("A draft is at most %(max)d characters.") % {"max": CHARS_MAX})
    if base is not ANY:
        # Locked until commit: two devices saving at once are told apart here.
        theirs = Draft.objects.select_for_update().filter(user_id=user_id, place=place).first()
        if theirs is not None and iso(theirs.updated_at) != base:
            raise Conflict(_("This draft was changed on another device in the meantime."),
                           details={"draft": to_dict(theirs)})
    if not any(value.strip() for value in fields.values()):
        Draft.objects.filter(user_id=user_id, place=place).delete()
        return None
    draft, created = Draft.objects.update_or_create(user_id=user_id, place=place, defaults={"fields": fields})
    if created:  # the oldest past PER_USER make room
        mine = Draft.objects.filter(user_id=user_id).order_by("-updated_at", "-id")
        beyond = list(mine.values_list("pk", flat=True)[PER_USER:])
        if beyond:
            Draft.objects.filter(pk__in=beyond).delete()
    return to_dict(draft)


def discard_draft(*, identity: Identity, place: str) -> None:
    Draft.objects.filter(user_id=member_id(identity), place=_place(place)).delete()


@register_periodic("accounts.old_drafts", every_seconds=3600)
def remove_old_drafts() -> int:
    return Draft.objects.filter(updated_at__lt=timezone.now() - timedelta(days=KEEP_DAYS)).delete()[0]
