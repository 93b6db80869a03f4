from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.selectors import can_read_branch
from realtime.errors import Forbidden
from realtime.models import ReadMarker

from .models import Announcement

PAGE_SIZE = 50  # newest announcements in a snapshot or a page


def announcements_for(identity: Identity, branch_id: int, *, limit: int = PAGE_SIZE, before: int | None = None):
    if not can_read_branch(identity, branch_id):
        raise Forbidden(_("You are not a member of this branch."))
    qs = Announcement.objects.filter(branch_id=branch_id, withdrawn_at__isnull=True).select_related("author")
    if before is not None:
        qs = qs.filter(seq__lt=before)
    return list(qs.order_by("-seq", "-id")[:limit])


def read_marker(identity: Identity, branch_id: int) -> int:
    if not identity.is_user:
        return 0
    from .actions import stream_for

    return (
        ReadMarker.objects.filter(user_id=identity.user_id, stream=stream_for(branch_id))
        .values_list("seq", flat=True)
        .first()
        or 0
    )


def unread_count(identity: Identity, branch_id: int, *, read_seq: int | None = None) -> int:
    """Announcements after the reader's marker, not counting their own. `read_seq`: the
    marker, when the caller has just read it (read_marker) and need not ask again."""
    if read_seq is None:
        read_seq = read_marker(identity, branch_id)
    return (
        Announcement.objects.filter(branch_id=branch_id, seq__gt=read_seq,
                                    withdrawn_at__isnull=True)
        .exclude(author_id=identity.user_id)
        .count()
    )
