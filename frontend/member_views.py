"""成员: a branch's members, for its members to see; for its secretary, also their
accounts (e-mail on file, last login) and a link to set a new password for one who has
forgotten theirs (accounts.actions.password_link)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actions import password_link
from accounts.models import Membership
from accounts.selectors import PasswordLinkRules, can_manage_branch, roster
from realtime.errors import Forbidden, NotFound

from .forum_views import branch_sections, member_branch
from .password_views import link_days

_ISSUED = "members.password_link"  # the session key holding a just-made link, shown once


@login_required
def members(request, branch_id: int):
    branch, identity = member_branch(request, branch_id)
    people = roster(identity, branch.pk)
    secretary = can_manage_branch(identity, branch.pk)
    if secretary:
        rules = PasswordLinkRules(identity)
        pairs: dict[int, list] = {}
        for user_id, branch_of, role in Membership.objects.filter(
            user_id__in=[person["user"].pk for person in people]
        ).values_list("user_id", "branch_id", "role"):
            pairs.setdefault(user_id, []).append((branch_of, role))
        for person in people:
            person["link_refusal"] = rules.refusal(person["user"], pairs.get(person["user"].pk, []))
    issued = request.session.pop(_ISSUED, None)
    if issued and issued.get("branch") != branch.pk:
        issued = None
    return render(
        request,
        "frontend/members.html",
        {
            **branch_sections(identity, branch, "members"),
            "people": people,
            "is_secretary": secretary,
            "issued": issued,
            "link_days": link_days(),
        },
    )


@login_required
@require_POST
def give_password_link(request, branch_id: int, user_id: int):
    """Make a one-time link for the member, then show it once on the members page
    (post/redirect/get: a reload does not make another)."""
    branch, identity = member_branch(request, branch_id)
    try:
        user, uid, token = password_link(identity=identity, branch_id=branch.pk, user_id=user_id)
    except (Forbidden, NotFound) as refusal:
        messages.error(request, refusal.message)
        return redirect("members", branch_id=branch.pk)
    path = reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    request.session[_ISSUED] = {
        "branch": branch.pk,
        "user": user.pk,
        "name": user.get_full_name() or user.get_username(),
        "url": request.build_absolute_uri(path),
    }
    return redirect(f"{reverse('members', args=[branch.pk])}#issued-link")
