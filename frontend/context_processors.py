from __future__ import annotations

from django.conf import settings
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts import appearance
from accounts.models import Branch, Membership


def readable_branches(user) -> list[Branch]:
    """The branches a user belongs to, plus those below a branch they are secretary of.

    Mirrors accounts.selectors.can_read_branch: a committee secretary reads the
    branches under the committee, so the navigation offers them too. The tree has
    three levels, so walking down at most two generations is enough.
    """
    member_ids = set(Membership.objects.filter(user=user).values_list("branch_id", flat=True))
    frontier = set(
        Membership.objects.filter(user=user, role=Membership.Role.SECRETARY).values_list("branch_id", flat=True)
    )
    below: set[int] = set()
    for _generation in range(3):
        if not frontier:
            break
        frontier = set(Branch.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - below
        below |= frontier
    return list(Branch.objects.filter(pk__in=member_ids | below).order_by("id"))


def realtime_strings() -> dict[str, str]:
    """Strings realtime.js shows (status indicator, error headlines), in the active language."""
    return {
        "status_online": _("Online"),
        "status_connecting": _("Connecting…"),
        "status_offline": _("Offline"),
        "status_retry": _("retrying in %(seconds)s s"),
        "status_ended": _("Session ended — please log in again"),
        "status_title": _("Connection to the server"),
        # Compose forms keep what was typed until it is posted (drafts.js).
        "draft_restored": _("Your unposted draft is back."),
        "draft_elsewhere": _("Your draft from another device is here."),
        "draft_discard": _("Discard the draft"),
        "draft_changed": _("This draft was changed on another device too. Yours is here; the other is a click away."),
        "draft_swap": _("Use the other version"),
        "error_bad_request": _("The server could not accept that."),
        "error_forbidden": _("You are not allowed to do that."),
        "error_not_found": _("Not found."),
        "error_unauthenticated": _("Your session has ended. Please log in again."),
        "error_rate_limited": _("Too many requests. Wait a moment and try again."),
        "error_too_large": _("That is too large to send."),
        "error_conflict": _("That conflicts with an earlier request."),
        "error_internal": _("Something went wrong on the server; nothing was changed."),
        "error_disconnected": _("The connection dropped before the server answered. Try again."),
        "error_offline": _("You are offline. Try again when the connection is back."),
        # Not a server error code: the server took this page off a stream it may no
        # longer read (realtime.js, the `unsubscribed` frame).
        "error_unsubscribed": _("This is no longer shown to you: your membership in the branch has changed."),
        "error_unknown": _("Something went wrong."),
    }


def _own_announcement_streams(user) -> list[tuple[int, str, str, int]]:
    """(branch id, name, stream key, head) of the announcements of each of the member's
    own branches: read once per page, for the tabs' unread counts and the desktop
    notifications both."""
    from announcements.actions import stream_for
    from realtime.models import Stream

    branches = dict(Branch.objects.filter(memberships__user=user).distinct().values_list("pk", "name"))
    keys = {pk: stream_for(pk) for pk in branches}
    heads = dict(Stream.objects.filter(key__in=keys.values()).values_list("key", "last_seq"))
    return [(pk, name, keys[pk], heads.get(keys[pk], 0)) for pk, name in sorted(branches.items())]


def _announcement_heads(own) -> list[dict]:
    return [{"stream": key, "branch": name, "since": head} for _pk, name, key, head in own]


def _branch_unread(user, own) -> list[dict]:
    """Each of the member's own branches' unread announcements, for the count on its
    tab (nav_unread.js keeps it live, following the stream from its head)."""
    from announcements.selectors import unread_by_branch

    unread = unread_by_branch(user.pk, [pk for pk, *_rest in own])
    return [{"branch": pk, "stream": key, "since": head, **unread[pk]} for pk, _name, key, head in own]


def navigation(request) -> dict:
    branches: list[Branch] = []
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    if authenticated:
        branches = readable_branches(user)
    # A visitor who took part as a citizen (a cookie, accounts/middleware.py).
    citizen = None if authenticated else getattr(request, "citizen", None) or None
    bell = None
    branch_unread = None
    looks = appearance.for_request(request)  # <html data-theme data-text-size> (accounts/appearance.py)
    if authenticated:
        own = _own_announcement_streams(user)
        branch_unread = _branch_unread(user, own)
        from accounts import notifications
        from accounts.api import request_identity

        bell = notifications.bell(request_identity(request))
        bell["types"] = list(bell["types"])
        bell["me"] = user.pk
        # For the desktop notifications (desktop.js): their heading and picture, and the
        # announcements of the member's own branches, followed from their heads for that.
        bell["desktop"] = {
            "title": _("Branchline notification"),
            "icon": static("frontend/icon.svg"),
            "announcement_title": _("%(branch)s · Announcements"),
            "announcement_body": _("%(name)s: %(title)s"),
            "announcements": _announcement_heads(own),
        }
    return {
        # Between the items of a short list of words (roles): "、" in Chinese, ", " in English.
        "list_separator": pgettext("list separator", ", "),
        "bell": bell,
        "branch_unread": branch_unread,
        "nav_branches": branches,
        "citizen": citizen,
        "appearance": looks,
        "realtime_limits": settings.BRANCHLINE_REALTIME,
        # Only pages with a signed-in member or a citizen show the socket's status.
        "realtime_strings": realtime_strings() if authenticated or citizen else None,
    }
