"""New announcements by e-mail, for members who are not on the site when one is posted,
and a secretary's reminder (提醒未读) to those who have not read one yet.

Sent after the post's transaction commits, from one background thread per process, so
neither the writer nor the fan-out waits for the mail server. Only when the server
sends mail (SENDS_EMAIL: EMAIL_HOST, or EMAIL_CONSOLE), only to the branch's own
members with an address on 我的账号 who have not turned it off there, never to the
author. Each is plain text with the same in HTML (the announcement formatted as on the
site), for mail programs that show it. Best effort: a mail server that is down loses
that round (it is logged), and the announcement itself is on the site regardless.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import language, outbox, unsubscribe

log = logging.getLogger(__name__)
_SITE_LINK = re.compile(r'\b(href|src)="/(?!/)')


def after_post(announcement_id: int, base_url: str | None = None, *, not_in: list[int] = ()) -> None:
    """Called in the post's transaction: once it commits, mail the members (`not_in`:
    but not those of these branches, who were mailed another copy of it)."""
    outbox.after_commit(_send, announcement_id, base_url, None, list(not_in))


def after_reminder(announcement_id: int, user_ids: list[int]) -> None:
    """Called in the reminder's transaction (提醒未读): once it commits, mail it again to
    those of `user_ids` who take announcements by e-mail, marked as a reminder."""
    outbox.after_commit(_send, announcement_id, None, list(user_ids))


def recipients(announcement, only: list[int] | None = None, not_in: list[int] = ()) -> dict[str, list[tuple[int, str]]]:
    """Whom to mail `announcement` to, (user id, address), by the language each member
    reads; `only`: of these users alone; `not_in`: none who belong to these branches."""
    User = get_user_model()
    members = User.objects.filter(is_active=True, memberships__branch_id=announcement.branch_id)
    if only is not None:
        members = members.filter(pk__in=only)
    if not_in:
        members = members.exclude(memberships__branch_id__in=not_in)
    members = dict(
        members.exclude(pk=announcement.author_id).exclude(email="")
        .exclude(mail_settings__announcements=False)
        .values_list("pk", "email").distinct()
    )
    by_language: dict[str, list[tuple[int, str]]] = {}
    for user_id, code in language.of_each(members).items():
        by_language.setdefault(code, []).append((user_id, members[user_id]))
    return {code: sorted(people, key=lambda person: person[1]) for code, people in by_language.items()}


def _send(announcement_id: int, base_url: str | None, only: list[int] | None = None, not_in: list[int] = ()) -> int:
    from .models import Announcement

    try:
        announcement = (
            Announcement.objects.select_related("branch", "author")
            .filter(pk=announcement_id, withdrawn_at__isnull=True).first()
        )
        if announcement is None:
            return 0
        to = recipients(announcement, only, not_in)
        if not to:
            return 0
        base = (base_url or settings.SITE_URL).rstrip("/")
        context = {
            "a": announcement,
            "reminder": only is not None,
            # The page's own rendering (sanitised Markdown), its site links made absolute.
            "body_html": _SITE_LINK.sub(lambda m: f'{m.group(1)}="{base}/', announcement.body_html),
            "author": announcement.author.get_full_name() or announcement.author.get_username(),
            "url": base + reverse("announcement", args=[announcement.pk]),
            "account_url": base + reverse("account"),
            # Linked, not attached: mail stays small, and the files stay the members'.
            "files": [(f.name, base + reverse("attachment", args=[f.pk, f.name]))
                      for f in announcement.attachments.all()],
        }
        mail_connection = get_connection()
        messages = []
        for code, people in sorted(to.items()):
            with translation.override(code):
                subject = f"[{announcement.branch.name}] {announcement.title}"
                if only is not None:
                    subject = _("Reminder: %(subject)s") % {"subject": subject}
                for user_id, address in people:
                    # Each their own link to stop these mails; the HTML part is the
                    # announcement formatted as on the site.
                    stop = base + unsubscribe.path(user_id)
                    each = {**context, "unsubscribe_url": stop}
                    messages.append(unsubscribe.listed_mail(
                        subject, render_to_string("announcements/email.txt", each),
                        render_to_string("announcements/email.html", each), address, stop,
                        connection=mail_connection))
        return mail_connection.send_messages(messages) or 0
    except Exception:
        log.exception("could not mail announcement %s", announcement_id)
        return 0
