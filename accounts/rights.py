"""表决权、选举权和被选举权 suspended: a full member on probation within the party (留党察看)
has, while it lasts, no right to vote, to elect or to be elected, and the branch suspends
those rights of one detained or arrested under the law (基层组织选举工作条例). The
secretary records it on the members page (accounts.members.set_standing) on the member's
full row: why, and for 留党察看 the day the rights return (none: until restored by hand).

While suspended the member is not a voting member: meetings.selectors.party_members says
so, and with it the quorum's 应到会有表决权的党员 of a meeting not yet started, who may
vote, stand or be written in at an election. A meeting that has started keeps its roll.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from .clock import today_in
from .models import Membership


def suspended(branch_id: int, today: date | None = None) -> dict[int, dict]:
    """Members of the branch whose rights are suspended today (on its clock) -> {reason, until}."""
    today = today or today_in(branch_id)
    rows = (Membership.objects.filter(branch_id=branch_id, role=Membership.Role.FULL)
            .exclude(rights_suspended="").filter(Q(suspended_until__isnull=True) | Q(suspended_until__gt=today))
            .values_list("user_id", "rights_suspended", "suspended_until"))
    return {user_id: {"reason": reason, "until": until} for user_id, reason, until in rows}
