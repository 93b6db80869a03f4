"""注销账号: a person closes their own account, from 我的账号, after their password; or an
administrator closes one in the admin (an action on the users' list), on a request
made to the branch on paper, say.

Only once they belong to no branch: while they are a member, the branch's secretary
takes them off the members first (a transfer out, 转出), since the branch's rolls are
the branch's to keep. An administrator's account is closed by another administrator.

Closing deletes what the account kept for the person alone, and keeps what is the
branch's record, under the name it was written under:

- deleted: the e-mail address and the password (no login is possible any more), every
  signed-in browser, two-step verification and passkeys, the calendar's address,
  drafts, notifications and their mail, settings, the security log, how far they had read topics, failed logins
  and password-reset requests for the account;
- kept: forum posts, reactions and flags, announcements written and who read which,
  meeting attendance, leave, remarks, chat and votes (minutes and tallies are the
  branch's records), the audit log.

The username stays taken, so no one else can later appear under it. A security notice
goes to the address the account had, at once. Open pages are closed by the next session
check (realtime/sessions.py), within a minute.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from realtime.errors import Conflict
from realtime.models import Event, ReadMarker, Stream

from . import security
from .actions import end_other_sessions
from .models import (
    AnniversaryGreeted,
    Draft,
    LoginFailure,
    LoginSession,
    MailSettings,
    Membership,
    NotificationMail,
    Passkey,
    PasswordResetRequest,
    ProbationReminded,
    SecurityRecord,
    TwoFactor,
    WeeklySent,
)
from .streams import inbox_stream


def refusal(user, *, by=None) -> str | None:
    """Why `user`'s account may not be closed now (by themselves, or by the
    administrator `by`), or None."""
    branches = list(Membership.objects.filter(user=user).order_by("branch_id")
                    .values_list("branch__name", flat=True).distinct())
    if branches:
        return _("You are still a member of %(branches)s. Ask the branch secretary to take you off its members "
                 "(a transfer out) first; then the account can be closed.") % {
                     "branches": pgettext("list separator", ", ").join(branches)}
    if (user.is_staff or user.is_superuser) and (by is None or by.pk == user.pk):
        return _("An administrator's account is closed by another administrator, in the admin.")
    return None


@transaction.atomic
def close_account(user, *, request=None, by=None) -> None:
    """Close `user`'s account (the module's docstring says what goes and what stays);
    `by`: the administrator who did, when it was not its owner."""
    from announcements.models import DigestSent
    from forum.models import TopicReadState
    from meetings.models import CalendarFeed

    refused = refusal(user, by=by)
    if refused:
        raise Conflict(refused)
    # Told first, while the account still has its address; the mail goes after commit.
    security.notify(user, security.ACCOUNT_CLOSED, request=request, by="admin" if by is not None else None)
    address = user.email
    for model in (Draft, LoginSession, MailSettings, NotificationMail, Passkey, SecurityRecord, TwoFactor,
                  WeeklySent, DigestSent, TopicReadState, CalendarFeed, AnniversaryGreeted, ProbationReminded):
        model.objects.filter(user=user).delete()
    LoginFailure.objects.filter(username=user.get_username().lower()).delete()  # kept lower-cased
    if address:
        PasswordResetRequest.objects.filter(email=address.lower()).delete()
    inbox = inbox_stream(user.pk)
    Event.objects.filter(stream_id=inbox).delete()
    Stream.objects.filter(key=inbox).delete()
    ReadMarker.objects.filter(user=user, stream=inbox).delete()  # other markers say what was read: records
    end_other_sessions(user, None)
    user.email = ""
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["email", "password", "is_active"])
