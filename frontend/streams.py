"""The op the pages' shared scripts ask for words: what the newest notifications say,
for the desktop notifications a member's browser shows while the page is in the
background (bell.js)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from realtime.errors import Invalid
from realtime.ops import OpArgs, OpContext, register_op

RECENT_MAX = 20


class RecentArgs(OpArgs):
    after: int = 0  # the highest seq the browser already told the member about
    limit: int = 5


@register_op("notifications.recent", args=RecentArgs)
def recent_notifications(ctx: OpContext, args: RecentArgs) -> dict:
    """The member's newest notifications after `after`, newest first, in words."""
    from accounts import notifications

    from .notification_text import describe

    if args.after < 0:
        raise Invalid("after", _("after must not be negative."))
    if not 1 <= args.limit <= RECENT_MAX:
        raise Invalid("limit", _("limit must be between 1 and %(max)s.") % {"max": RECENT_MAX})
    items = describe(notifications.recent(ctx.identity, limit=args.limit, after=args.after))
    for item in items:
        item["at"] = item["at"].isoformat().replace("+00:00", "Z")
    return {"items": items, "read_seq": notifications.read_seq(ctx.identity.user_id)}
