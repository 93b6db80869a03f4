"""成员: a branch's members, for its members to see; for its secretary, also their
accounts (e-mail on file, last login), a link to set a new password for one who has
forgotten theirs (accounts.actions.password_link), and keeping the list: adding a
person, their standing (转正, moderator), taking them off, and correcting a name
(accounts/members.py)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from accounts import members as member_actions
from accounts import party_dates, rights, two_factor
from accounts.actions import password_link
from accounts.members import roster_records
from accounts.models import Membership
from accounts.selectors import MemberRules, can_manage_branch, roster
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from server.spreadsheets import csv_download

from . import overview
from .forum_views import branch_sections, member_branch
from .password_views import link_days

_ISSUED = "members.password_link"  # the session key holding a just-made link, shown once
_IMPORTED = "members.imported"  # the links of an import's new accounts, shown once


@login_required
def members(request, branch_id: int, *, add_form: dict | None = None, import_form: dict | None = None,
            status: int = 200):
    branch, identity = member_branch(request, branch_id)
    people = roster(identity, branch.pk)
    secretary = can_manage_branch(identity, branch.pk)
    if secretary:
        rules = MemberRules(identity)
        pairs: dict[int, list] = {}
        for user_id, branch_of, role in Membership.objects.filter(
            user_id__in=[person["user"].pk for person in people]
        ).values_list("user_id", "branch_id", "role"):
            pairs.setdefault(user_id, []).append((branch_of, role))
        verified = two_factor.enabled_among(person["user"].pk for person in people)
        joined = dict(Membership.objects.filter(branch=branch, role__in=party_dates.STANDINGS)
                      .values_list("user_id", "since"))
        extended = party_dates.extended(branch.pk)
        today = timezone.localdate(timezone.now(), branch.zone)
        suspended = rights.suspended(branch.pk, today)
        for person in people:
            person["two_factor"] = person["user"].pk in verified
            person["link_refusal"] = rules.link_refusal(person["user"], pairs.get(person["user"].pk, []))
            person["name_refusal"] = rules.name_refusal(person["user"], pairs.get(person["user"].pk, []))
            here = [role for branch_of, role in pairs.get(person["user"].pk, []) if branch_of == branch.pk]
            person["keep_refusal"] = rules.keeping_refusal(person["user"], branch.pk, here)
            person["probationary"] = Membership.Role.PROBATIONARY in here
            person["moderator"] = Membership.Role.MODERATOR in here
            since = joined.get(person["user"].pk)
            person["since"] = since
            person["party_member"] = any(role in party_dates.STANDINGS for role in here)
            ending = since is not None and person["probationary"]
            person["probation_until"] = extended.get(person["user"].pk) if person["probationary"] else None
            person["probation_ends"] = party_dates.probation_ends(since, person["probation_until"]) if ending else None
            person["probation_earliest"] = party_dates.ends(since) + timedelta(days=1) if ending else None
            person["probation_latest"] = party_dates.longest_extension(since) if ending else None
            person["probation_days"] = (person["probation_ends"] - today).days if ending else None
            person["probation_due"] = ending and person["probation_days"] <= party_dates.NOTICE_DAYS
            person["full"] = Membership.Role.FULL in here
            person["suspended"] = suspended.get(person["user"].pk)
    issued = request.session.pop(_ISSUED, None)
    if issued and issued.get("branch") != branch.pk:
        issued = None
    imported = request.session.pop(_IMPORTED, None)
    if imported and imported.get("branch") != branch.pk:
        imported = None
    return render(
        request,
        "frontend/members.html",
        {
            **branch_sections(identity, branch, "members"),
            "people": people,
            "is_secretary": secretary,
            "issued": issued,
            "link_days": link_days(),
            "add": add_form or {"values": {"standing": "full"}, "errors": {}},
            "import_form": import_form or {"text": "", "error": "", "lines": []},
            "imported": imported,
            "import_max": member_actions.IMPORT_MAX,
        },
        status=status,
    )


@login_required
def members_csv(request, branch_id: int):
    """花名册 as a spreadsheet, for the branch's records: its secretaries' view of the
    members page (times in the branch's zone)."""
    branch, identity = member_branch(request, branch_id)
    secretary, records = roster_records(identity, branch.pk)
    if not secretary:
        raise PermissionDenied
    labels = dict(Membership.Role.choices)
    separator = pgettext("list separator", ", ")
    return csv_download(
        _("%(branch)s - members.csv") % {"branch": branch.name[:80]},
        [_("Name"), _("Username"), _("Role"), _("E-mail address"), _("Last login"), _("Two-step verification"),
         _("Joined the party"), _("Probationary year ends"), _("Rights to vote, elect and be elected")],
        [[r["name"], r["username"], separator.join(str(labels[role]) for role in r["roles"]),
          _("on file") if r["email_on_file"] else _("none"),
          r["last_login"].astimezone(branch.zone).strftime("%Y-%m-%d %H:%M") if r["last_login"] else _("never"),
          _("On") if r["two_factor"] else pgettext("two-step verification", "Off"),
          r["joined_party"].isoformat() if r["joined_party"] else "",
          r["probation_ends"].isoformat() if r["probation_ends"] else "", _suspension_text(r["rights_suspended"])]
         for r in records])


def _suspension_text(suspended: dict | None) -> str:
    if not suspended:
        return ""
    if suspended["until"]:
        return _("suspended: 留党察看 until %(day)s") % {"day": suspended["until"].isoformat()}
    return _("suspended: detained or arrested")


def _issue_link(request, branch_id: int, identity, user_id: int, *, new: bool) -> bool:
    try:
        user, uid, token = password_link(identity=identity, branch_id=branch_id, user_id=user_id)
    except (Forbidden, NotFound) as refusal:
        messages.error(request, refusal.message)
        return False
    path = reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": token})
    request.session[_ISSUED] = {
        "branch": branch_id,
        "user": user.pk,
        "name": user.get_full_name() or user.get_username(),
        "url": request.build_absolute_uri(path),
        "new": new,
    }
    return True


@login_required
@require_POST
def add(request, branch_id: int):
    """Put a person on the branch; a new account gets its link to set a password at
    once, shown as the password links are. A refusal shows the form again, filled in."""
    branch, identity = member_branch(request, branch_id)
    values = {key: request.POST.get(key, "") for key in ("username", "name", "standing", "email", "since")}
    values["moderator"] = request.POST.get("moderator") == "on"
    try:
        user, created = member_actions.add_member(
            identity=identity, branch_id=branch.pk, username=values["username"], name=values["name"],
            standing=values["standing"], moderator=values["moderator"], email=values["email"],
            since=values["since"])
    except Invalid as error:
        return members(request, branch_id, add_form={"values": values, "errors": {error.field: error.message}},
                       status=400)
    except (Conflict, Forbidden) as error:
        return members(request, branch_id, add_form={"values": values, "errors": {"form": error.message}},
                       status=409 if isinstance(error, Conflict) else 403)
    name = user.get_full_name() or user.get_username()
    if created and _issue_link(request, branch.pk, identity, user.pk, new=True):
        return redirect(f"{reverse('members', args=[branch.pk])}#issued-link")
    messages.success(request, _("%(name)s is now a member of this branch.") % {"name": name})
    return redirect("members", branch_id=branch.pk)


@login_required
@require_POST
def import_members(request, branch_id: int):
    """Many people at once, all or none; each new account's link is listed once."""
    branch, identity = member_branch(request, branch_id)
    text = request.POST.get("lines", "")[:100_000]
    try:
        added = member_actions.import_members(identity=identity, branch_id=branch.pk, text=text)
    except member_actions.ImportRefused as refused:
        form = {"text": text, "error": refused.message, "lines": refused.lines}
        return members(request, branch_id, import_form=form, status=400)
    except (Invalid, Forbidden) as error:
        form = {"text": text, "error": error.message, "lines": []}
        return members(request, branch_id, import_form=form, status=400 if isinstance(error, Invalid) else 403)
    links = []
    for user, created in added:
        row = {"name": user.get_full_name() or user.get_username(), "username": user.get_username(), "url": ""}
        if created:
            _user, uid, token = password_link(identity=identity, branch_id=branch.pk, user_id=user.pk)
            row["url"] = request.build_absolute_uri(
                reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": token}))
        links.append(row)
    request.session[_IMPORTED] = {"branch": branch.pk, "people": links}
    return redirect(f"{reverse('members', args=[branch.pk])}#imported")


@login_required
@require_POST
def standing(request, branch_id: int, user_id: int):
    branch, identity = member_branch(request, branch_id)
    try:
        member_actions.set_standing(identity=identity, branch_id=branch.pk, user_id=user_id,
                                    standing=request.POST.get("standing", ""),
                                    moderator=request.POST.get("moderator") == "on",
                                    since=request.POST.get("since"),  # absent: kept
                                    probation_until=request.POST.get("probation_until"),
                                    rights_suspended=request.POST.get("rights_suspended"),
                                    suspended_until=request.POST.get("suspended_until"))
    except (Invalid, Forbidden, NotFound) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Saved."))
    return redirect(f"{reverse('members', args=[branch.pk])}#member-{user_id}")


@login_required
@require_POST
def correct_name(request, branch_id: int, user_id: int):
    branch, identity = member_branch(request, branch_id)
    try:
        user = member_actions.correct_name(identity=identity, branch_id=branch.pk, user_id=user_id,
                                           name=request.POST.get("name", ""))
    except (Invalid, Forbidden, NotFound) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("The name is now %(name)s.") % {"name": user.get_full_name()})
    return redirect(f"{reverse('members', args=[branch.pk])}#member-{user_id}")


@login_required
@require_POST
def remove(request, branch_id: int, user_id: int):
    branch, identity = member_branch(request, branch_id)
    try:
        member_actions.remove_member(identity=identity, branch_id=branch.pk, user_id=user_id)
    except (Forbidden, NotFound) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Taken off the branch. Their account and their other branches stay."))
    return redirect("members", branch_id=branch.pk)


@login_required
@require_POST
def give_password_link(request, branch_id: int, user_id: int):
    """Make a one-time link for the member, then show it once on the members page
    (post/redirect/get: a reload does not make another)."""
    branch, identity = member_branch(request, branch_id)
    if not _issue_link(request, branch.pk, identity, user_id, new=False):
        return redirect("members", branch_id=branch.pk)
    return redirect(f"{reverse('members', args=[branch.pk])}#issued-link")


@login_required
@require_POST
def probation_full(request, branch_id: int, user_id: int):
    """转正 after the vote: once the general meeting has passed a member's 转正 (and the
    party committee above has approved it, which the button says), the secretary sets
    their standing from the overview in one click (accounts.members.set_standing, as the
    members page does). Refused for anyone whose 转正 the branch has not voted through."""
    branch, identity = member_branch(request, branch_id)
    if not can_manage_branch(identity, branch.pk):
        raise PermissionDenied
    people = party_dates.due([branch.pk], timezone.localdate(timezone.now(), branch.zone))[branch.pk]["people"]
    person = next((p for p in people if p["id"] == user_id), None)
    if person is None:
        raise Http404("not a probationary member whose year is ending here")
    overview.full_membership_steps(branch, [person])
    back = f"{reverse('branch-overview', args=[branch.pk])}#todo-probation"
    if person["step"] != "passed":
        messages.error(request, _("No general meeting has voted %(name)s a full member: nothing was changed.")
                       % {"name": person["name"]})
        return redirect(back)
    moderates = Membership.objects.filter(user_id=user_id, branch=branch, role=Membership.Role.MODERATOR).exists()
    try:
        member_actions.set_standing(identity=identity, branch_id=branch.pk, user_id=user_id,
                                    standing=Membership.Role.FULL, moderator=moderates)
    except (Forbidden, NotFound) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("%(name)s is a full member from %(day)s, the day the probationary period ended.")
                         % {"name": person["name"], "day": formats.date_format(person["ends"], "Y-m-d")})
    return redirect(back)
