"""How the shared review queue acts on meeting chat messages (target `meetings.chat`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.identity import Identity
from moderation.targets import ReviewTarget, register_review_target
from realtime.errors import NotFound

from . import actions, selectors
from .models import ChatMessage


def _message(identity: Identity, message_id: int) -> ChatMessage:
    message = ChatMessage.objects.select_related("meeting", "meeting__branch", "author").filter(pk=message_id).first()
    if message is None or not selectors.may_see(identity, message.meeting):
        raise NotFound(_("There is no such message."))
    return message


def describe(identity: Identity, message_id: int) -> dict:
    message = _message(identity, message_id)
    return {"branch": message.meeting.branch_id, "author": f"u:{message.author_id}",
            "author_user_id": message.author_id}


def approve(identity: Identity, message_id: int) -> None:
    actions.set_chat_status(identity, _message(identity, message_id), ChatMessage.Status.VISIBLE)


def reject(identity: Identity, message_id: int, reason: str) -> None:
    actions.set_chat_status(identity, _message(identity, message_id), ChatMessage.Status.HIDDEN)


def hide(identity: Identity, message_id: int, reason: str) -> None:
    actions.set_chat_status(identity, _message(identity, message_id), ChatMessage.Status.HIDDEN)


def restore(identity: Identity, message_id: int) -> None:
    actions.set_chat_status(identity, _message(identity, message_id), ChatMessage.Status.VISIBLE)


def delete(identity: Identity, message_id: int, reason: str) -> None:
    actions.set_chat_status(identity, _message(identity, message_id), ChatMessage.Status.HIDDEN)


def edit(identity: Identity, message_id: int, body: str) -> None:
    message = _message(identity, message_id)
    message.body = message.shown = body.strip()[: actions.CHAT_MAX]
    message.save(update_fields=["body", "shown"])


def preview(identity: Identity, message_id: int) -> dict:
    message = _message(identity, message_id)
    return {**message.to_dict(moderator=True), "title": message.meeting.title, "source": message.body}


register_review_target(ReviewTarget(
    name="meetings.chat", describe=describe, approve=approve, reject=reject, hide=hide, restore=restore,
    delete=delete, edit=edit, preview=preview,
))
