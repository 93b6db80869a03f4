"""记录签字: after the meeting the chair and the minute-taker sign the minutes; once both
have, the record is final (no more remarks, no more mending of who was in the room)
until the chair or the secretary reopens it, saying why."""

from __future__ import annotations

import pytest
from django.urls import reverse

from meetings import actions, minutes, selectors
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid
from realtime.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def ended(schedule, identities, clock):
    """A general meeting held 09:00–11:00 (chair: the secretary; minute-taker: the member)."""
    meeting = schedule("general")
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    clock.at(180)
    meeting.refresh_from_db()
    return meeting


def test_the_chair_and_the_minute_taker_sign_and_the_record_is_final(ended, identities, people, clock):
    meeting = ended
    # At the end, both were asked to check the minutes and sign them.
    from frontend.notification_text import describe

    for name in ("secretary", "member"):
        (asked,) = Event.objects.filter(stream_id=f"inbox:{people[name].pk}", type="meeting.minutes_to_sign")
        (item,) = describe([asked])
        assert item["url"] == reverse("meetings:minutes", args=[meeting.pk]) + "#minutes-signatures"
        assert "check its minutes and sign them" in item["text"]
    assert not Event.objects.filter(stream_id=f"inbox:{people['moderator'].pk}", type="meeting.minutes_to_sign")
    with pytest.raises(Forbidden):  # neither the chair nor the minute-taker
        actions.sign_minutes(identity=identities["moderator"], meeting_id=meeting.pk)
    state = actions.sign_minutes(identity=identities["member"], meeting_id=meeting.pk)
    assert state["final"] is False and [s["role"] for s in state["signatures"]] == ["minute_taker"]
    with pytest.raises(Conflict):  # once
        actions.sign_minutes(identity=identities["member"], meeting_id=meeting.pk)
    actions.add_remark(identity=identities["member"], meeting_id=meeting.pk, text="补记：会议议定按期报送材料")
    clock.at(190)
    state = actions.sign_minutes(identity=identities["secretary"], meeting_id=meeting.pk)
    assert state["final"] is True

    text = minutes.render_markdown(minutes.build_minutes(meeting))
    assert "## Signatures" in text and "- Chair：Secretary（signed 2026-11-28 12:10）" in text
    assert "- Minute-taker：Member（signed 2026-11-28 12:00）" in text
    # Final: nothing more is added or mended.
    with pytest.raises(Conflict, match="final"):
        actions.add_remark(identity=identities["member"], meeting_id=meeting.pk, text="再补一句")
    with pytest.raises(Conflict, match="final"):
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["moderator"].pk)

    # A mistake found: the secretary reopens it, saying why; it can then be mended and signed again.
    with pytest.raises(Forbidden):
        actions.reopen_minutes(identity=identities["member"], meeting_id=meeting.pk, reason="漏记")
    with pytest.raises(Invalid):
        actions.reopen_minutes(identity=identities["secretary"], meeting_id=meeting.pk, reason=" ")
    reopened = actions.reopen_minutes(identity=identities["secretary"], meeting_id=meeting.pk, reason="漏记李版主到会")
    assert reopened == {"required": ["chair", "minute_taker"], "signatures": [], "final": False}
    actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["moderator"].pk)
    with pytest.raises(Conflict):
        actions.reopen_minutes(identity=identities["secretary"], meeting_id=meeting.pk, reason="again")

    types = list(Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type__startswith="minutes.")
                 .order_by("seq").values_list("type", flat=True))
    assert types == ["minutes.signed", "minutes.signed", "minutes.reopened"]
    audited = list(AuditEntry.objects.filter(action__startswith="meeting.minutes.").order_by("id")
                   .values_list("action", "after"))
    assert audited[-1] == ("meeting.minutes.reopen", {"reason": "漏记李版主到会"})


def test_not_before_the_end_and_the_chair_alone_without_a_minute_taker(schedule, identities, clock):
    meeting = schedule("general", minute_taker_id=None)
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    with pytest.raises(Conflict):
        actions.sign_minutes(identity=identities["secretary"], meeting_id=meeting.pk)
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    state = actions.sign_minutes(identity=identities["secretary"], meeting_id=meeting.pk)
    assert state["required"] == ["chair"] and state["final"] is True
    assert selectors.signatures(meeting)["final"] is True


def test_signing_on_the_minutes_page(ended, people, client):
    meeting = ended
    page_url = reverse("meetings:minutes", args=[meeting.pk])
    client.force_login(people["secretary"])
    page = client.get(page_url).content.decode()
    assert 'id="sign-minutes"' in page and 'id="reopen-minutes"' not in page
    done = client.post(reverse("meetings:minutes-signature", args=[meeting.pk, "sign"]), follow=True)
    page = done.content.decode()
    assert 'data-role="chair"' in page and 'id="sign-minutes"' not in page and 'id="reopen-minutes"' in page
    client.force_login(people["probationary"])  # sees the minutes once ended, signs nothing
    page = client.get(page_url).content.decode()
    assert 'id="sign-minutes"' not in page and 'id="reopen-minutes"' not in page
    refused = client.post(reverse("meetings:minutes-signature", args=[meeting.pk, "sign"]), follow=True)
    assert refused.status_code == 200 and not selectors.signatures(meeting)["final"]
    assert client.get(reverse("meetings:minutes-signature", args=[meeting.pk, "sign"])).status_code == 405
    assert client.post(reverse("meetings:minutes-signature", args=[meeting.pk, "other"])).status_code == 404
