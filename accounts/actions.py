"""Writes for accounts: citizens are created here and nowhere else."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.errors import Invalid, RateLimited

from .models import Citizen, hash_citizen_token

CITIZEN_NAME_MAX = 80
# A cap on new citizens across the whole server, so that a script cannot fill the
# table: no per-address limit, since behind the proxy every request has one address.
# Existing citizens are never affected; a person refused now can try a minute later.
NEW_CITIZENS_PER_MINUTE = 30


@transaction.atomic
def create_citizen(*, display_name: str = "", contact: str = "") -> tuple[Citizen, str]:
    """Returns the new citizen and its token; the token is shown once, never stored."""
    display_name = (display_name or "").strip()
    contact = (contact or "").strip()
    if len(display_name) > CITIZEN_NAME_MAX:
        raise Invalid("display_name", _("The display name is at most 80 characters."))
    if len(contact) > 200:
        raise Invalid("contact", _("The contact is at most 200 characters."))
    if Citizen.objects.filter(created_at__gt=timezone.now() - timedelta(minutes=1)).count() >= NEW_CITIZENS_PER_MINUTE:
        raise RateLimited(_("Many people have just started writing as citizens. Please try again in a minute."))
    token = Citizen.new_token()
    citizen = Citizen.objects.create(
        token_hash=hash_citizen_token(token), display_name=display_name, contact=contact
    )
    return citizen, token


def touch_citizen(citizen: Citizen) -> None:
    citizen.last_seen_at = timezone.now()
    citizen.save(update_fields=["last_seen_at"])


def end_other_sessions(user, keep_session_key: str | None) -> int:
    """Log `user` out everywhere but the session `keep_session_key` (after a password
    change). Their open sockets there are closed by the next session check
    (realtime/sessions.py). Returns how many sessions were ended.

    Sessions are not indexed by user, so every live one is read: fine for a password
    change, which is rare; not for a hot path.
    """
    from django.contrib.sessions.models import Session

    from .models import LoginSession

    ended = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key=keep_session_key or "")
    for session in live.iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    LoginSession.objects.filter(user=user).exclude(session_key=keep_session_key or "").delete()
    return len(ended)


def password_link(*, identity, branch_id: int, user_id: int) -> tuple[object, str, str]:
    """A branch secretary gives a member a link to set a new password (for someone who
    forgot theirs and has no e-mail address here, or whose mail does not arrive).

    Returns (the member, uidb64, token): the link's parts, shown once to the secretary
    and never stored. It works once and for PASSWORD_RESET_TIMEOUT. Written to the
    branch's audit log.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from moderation.actions import audit
    from realtime.errors import Forbidden, NotFound

    from .models import Membership
    from .selectors import MemberRules, can_manage_branch

    if not can_manage_branch(identity, branch_id):
        raise Forbidden(_("Only the branch secretary may give members a link to set a new password."))
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    memberships = list(Membership.objects.filter(user_id=user_id).values_list("branch_id", "role")) if user else []
    if not any(b == branch_id for b, _role in memberships):
        raise NotFound(_("There is no such member in this branch."))
    refusal = MemberRules(identity).link_refusal(user, memberships)
    if refusal:
        raise Forbidden(refusal)
    token = default_token_generator.make_token(user)
    audit(actor=identity, action="member.password_link", target_type="accounts.member", target_id=user.pk,
          branch_id=branch_id, after={"user": user.pk})
    if user.last_login is not None:  # someone in use: told, in case they did not ask (a new account is not)
        from . import security

        security.notify(user, security.PASSWORD_LINK, by=identity.name)
    return user, urlsafe_base64_encode(force_bytes(user.pk)), token
