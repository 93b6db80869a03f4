"""预备期: a probationary member's year. The party constitution (Article 7) sets a
probationary period of one year, from the day the branch meeting admitted them; when
it ends the branch is to discuss in good time whether they become full members (转正).

The branch's secretary records that day on the members page (the `since` of the
member's probationary Membership row in the branch); the branch's overview and the
weekly summary then tell its secretaries whose year ends within NOTICE_DAYS or has
already ended, so that 转正 is put on a general meeting's agenda in time, and how many
probationary members have no day recorded. Nothing is decided or changed from it: the
standing changes only when a secretary sets it (members.set_standing).
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model

from .models import Membership

NOTICE_DAYS = 30
EARLIEST = date(1921, 7, 1)


def ends(since: date) -> date:
    """The day the probationary year is over: the same day a year on (29 February: the 28th)."""
    try:
        return since.replace(year=since.year + 1)
    except ValueError:
        return since.replace(year=since.year + 1, day=28)


def due(branch_ids: list[int], today: date) -> dict[int, dict]:
    """For each branch: {"people": [{"id", "name", "since", "ends", "days"}, …] whose year
    ends within NOTICE_DAYS of `today` or has ended (`days` until it ends; negative once
    over), the soonest first; "missing": how many probationary members have no day
    recorded}; `ago`: days since it ended. Two queries."""
    found: dict[int, dict] = {pk: {"people": [], "missing": 0} for pk in branch_ids}
    rows = list(Membership.objects.filter(branch_id__in=branch_ids, role=Membership.Role.PROBATIONARY,
                                          user__is_active=True).values_list("branch_id", "user_id", "since"))
    names = {user.pk: user.get_full_name() or user.get_username()
             for user in get_user_model().objects.filter(pk__in={user_id for _b, user_id, _s in rows})}
    for branch_id, user_id, since in rows:
        if since is None:
            found[branch_id]["missing"] += 1
            continue
        end = ends(since)
        days = (end - today).days
        if days <= NOTICE_DAYS:
            found[branch_id]["people"].append({"id": user_id, "name": names.get(user_id, ""), "since": since,
                                               "ends": end, "days": days, "ago": max(-days, 0)})
    for part in found.values():
        part["people"].sort(key=lambda p: (p["ends"], p["name"], p["id"]))
    return found
