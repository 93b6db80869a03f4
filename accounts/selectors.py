"""Permission-aware reads about branches and memberships."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _

from realtime.errors import Forbidden
from realtime.sql import held
from server.db.prepared import hot

from .identity import Identity
from .models import Branch, Citizen, Membership, hash_citizen_token

# Roles that may manage a branch's announcements and, later, its meetings.
MANAGING_ROLES = frozenset({Membership.Role.SECRETARY})


# The checks below run on every op, so they are plain SQL: building an ORM query costs
# this machine about 0.8 ms of Python each time, the statement itself a few µs.
_M = Membership._meta.db_table
_B = Branch._meta.db_table


def _rows(sql: str, params: list) -> list[tuple]:
    # In a batch's optimistic pass (realtime/batching.py: one transaction for many
    # writes) a question asked again gets the first answer: no op changes memberships
    # or the tree (only the admin does), so within the pass it cannot have changed.
    pending = held()
    if pending is not None:
        key = ("accounts.selectors", sql, tuple(params))
        found = pending.memo.get(key)
        if found is None:
            found = pending.memo[key] = _query(sql, params)
        return found
    return _query(sql, params)


def _query(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(hot(sql), params)  # planned once per connection on PostgreSQL
        return cursor.fetchall()


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def has_role(user_id: int, branch_ids, roles) -> bool:
    """Whether the user holds one of `roles` in one of `branch_ids`."""
    branch_ids, roles = list(branch_ids), [str(role) for role in roles]
    if not branch_ids or not roles:
        return False
    sql = (
        f"SELECT 1 FROM {_M} WHERE user_id = %s AND branch_id IN ({_marks(branch_ids)})"
        f" AND role IN ({_marks(roles)}) LIMIT 1"
    )
    return bool(_rows(sql, [user_id, *branch_ids, *roles]))


def roles_in_branch(identity: Identity, branch_id: int) -> set[str]:
    if not identity.is_user:
        return set()
    return {row[0] for row in _rows(f"SELECT role FROM {_M} WHERE user_id = %s AND branch_id = %s", [identity.user_id, branch_id])}


def branch_ids_for(identity: Identity) -> set[int]:
    if not identity.is_user:
        return set()
    return {row[0] for row in _rows(f"SELECT branch_id FROM {_M} WHERE user_id = %s", [identity.user_id])}


def branch_chain(branch_id: int) -> list[int] | None:
    """[branch, parent, grandparent, ...] ids, or None if the branch does not exist.

    The tree has three levels (committee, branch, group): one query with a join
    answers for a branch; a group's chain needs one more to see past its grandparent.
    """
    rows = _rows(
        f"SELECT b.parent_id, p.parent_id FROM {_B} b LEFT JOIN {_B} p ON p.id = b.parent_id WHERE b.id = %s",
        [branch_id],
    )
    if not rows:
        return None
    chain = [branch_id]
    for node in rows[0]:
        if node is None or node in chain:
            return chain
        chain.append(node)
    while len(chain) < 12:
        found = _rows(f"SELECT parent_id FROM {_B} WHERE id = %s", [chain[-1]])
        parent = found[0][0] if found else None
        if parent is None or parent in chain:
            break
        chain.append(parent)
    return chain


def role_on_chain(user_id: int, branch_id: int, roles) -> bool | None:
    """Whether the user holds one of `roles` in the branch or a branch above it; None
    if the branch does not exist. One query for the usual three-level tree (what
    `branch_chain` and `has_role` would answer in two)."""
    roles = [str(role) for role in roles]
    if not roles:
        return None if branch_chain(branch_id) is None else False
    rows = _rows(
        f"SELECT p.parent_id, EXISTS (SELECT 1 FROM {_M} m WHERE m.user_id = %s AND m.role IN ({_marks(roles)})"
        f" AND m.branch_id IN (b.id, b.parent_id, p.parent_id))"
        f" FROM {_B} b LEFT JOIN {_B} p ON p.id = b.parent_id WHERE b.id = %s",
        [user_id, *roles, branch_id],
    )
    if not rows:
        return None
    grandparent, found = rows[0]
    if found:
        return True
    if grandparent is None:
        return False
    # A deeper tree: the rest of the chain, above the grandparent.
    return has_role(user_id, (branch_chain(branch_id) or [])[3:], roles)


def secretary_reach(user_id: int, branch_id: int) -> list[int]:
    """The branch and those above it whose secretaries include `user_id` or answer to
    them: [branch, parent, …] up to the highest branch the user is a secretary of."""
    chain = branch_chain(branch_id) or []
    held = set(Membership.objects.filter(user_id=user_id, role=Membership.Role.SECRETARY, branch_id__in=chain)
               .values_list("branch_id", flat=True))
    highest = max((i for i, pk in enumerate(chain) if pk in held), default=-1)
    return chain[:highest + 1]


def ancestor_ids(branch_id: int) -> list[int]:
    """Parent ids from nearest to root."""
    return (branch_chain(branch_id) or [branch_id])[1:]


def can_read_branch(identity: Identity, branch_id: int) -> bool:
    """Members of the branch, and secretaries of a branch above it, read its streams."""
    if not identity.is_user:
        return False
    if _rows(f"SELECT 1 FROM {_M} WHERE user_id = %s AND branch_id = %s LIMIT 1", [identity.user_id, branch_id]):
        return True
    return has_role(identity.user_id, ancestor_ids(branch_id), [Membership.Role.SECRETARY])


def can_manage_branch(identity: Identity, branch_id: int) -> bool:
    """Secretaries of the branch or of a branch above it."""
    if not identity.is_user:
        return False
    return role_on_chain(identity.user_id, branch_id, MANAGING_ROLES) is True


MODERATING_ROLES = frozenset({Membership.Role.MODERATOR, Membership.Role.SECRETARY})


def can_moderate_branch(identity: Identity, branch_id: int) -> bool:
    """Moderators and secretaries of the branch, and secretaries of a branch above it."""
    if not identity.is_user:
        return False
    if has_role(identity.user_id, [branch_id], MODERATING_ROLES):
        return True
    return has_role(identity.user_id, ancestor_ids(branch_id), [Membership.Role.SECRETARY])


def citizen_for_token(token: str | None) -> Citizen | None:
    if not token or len(token) > 200:
        return None
    return Citizen.objects.filter(token_hash=hash_citizen_token(token)).first()


def readable_branch_ids(identity: Identity) -> set[int]:
    """Branches whose member streams the identity may read (see can_read_branch)."""
    if not identity.is_user:
        return set()
    direct = branch_ids_for(identity)
    frontier = set(
        Membership.objects.filter(user_id=identity.user_id, role=Membership.Role.SECRETARY).values_list(
            "branch_id", flat=True
        )
    )
    readable = set(direct)
    for _depth in range(10):  # the tree is shallow; bounded anyway
        children = set(Branch.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - readable
        if not children:
            break
        readable |= children
        frontier = children
    return readable


def branches_below(branch_id: int) -> list[tuple[Branch, int]]:
    """Every branch under this one, in tree order (each right after its parent, siblings
    by id), with its depth below it (1 for a child)."""
    children: dict[int, list[Branch]] = {}
    seen, frontier = {branch_id}, [branch_id]
    for _depth in range(10):  # the tree is shallow; bounded anyway
        level = [b for b in Branch.objects.filter(parent_id__in=frontier).order_by("id") if b.pk not in seen]
        if not level:
            break
        for branch in level:
            children.setdefault(branch.parent_id, []).append(branch)
            seen.add(branch.pk)
        frontier = [b.pk for b in level]
    ordered: list[tuple[Branch, int]] = []

    def walk(parent_id: int, depth: int) -> None:
        for branch in children.get(parent_id, []):
            ordered.append((branch, depth))
            walk(branch.pk, depth + 1)

    walk(branch_id, 1)
    return ordered


def branches_for(identity: Identity):
    return Branch.objects.filter(pk__in=branch_ids_for(identity)).order_by("id")


# -- a branch's members (成员), and who a secretary may give a password link -------------

# How a person's roles in one branch are listed: the one that does most first.
ROLE_ORDER = [Membership.Role.SECRETARY, Membership.Role.MODERATOR, Membership.Role.FULL, Membership.Role.PROBATIONARY]


def roster(identity: Identity, branch_id: int) -> list[dict]:
    """The branch's members, each once, by name: active users with any role in the
    branch itself. For its readers only (Forbidden otherwise)."""
    if not can_read_branch(identity, branch_id):
        raise Forbidden(_("You are not a member of this branch."))
    labels = dict(Membership.Role.choices)
    people: dict[int, dict] = {}
    rows = Membership.objects.filter(branch_id=branch_id, user__is_active=True).values_list("user_id", "role")
    for user_id, role in rows:
        people.setdefault(user_id, {"roles": []})["roles"].append(role)
    users = get_user_model().objects.filter(pk__in=people).only(
        "id", "username", "first_name", "last_name", "email", "last_login", "is_staff", "is_superuser"
    )
    for user in users:
        person = people[user.pk]
        person["user"] = user
        person["name"] = user.get_full_name() or user.get_username()
        person["role_codes"] = sorted(person["roles"], key=ROLE_ORDER.index)
        person["roles"] = [labels[role] for role in person["role_codes"]]
    return sorted(people.values(), key=lambda person: (person["name"], person["user"].pk))


class MemberRules:
    """What a secretary may do over a member, for many members at once (the members
    page) or one (an action): the branch tree and the secretary's roles are read once.

    A link to set a new password (`link_refusal`) and correcting the name
    (`name_refusal`) are refused for oneself, administrators, a member who also belongs
    to a branch the secretary does not manage, and a fellow secretary unless the
    secretary acting is one of a branch above every branch of theirs: both act on the
    whole account (a link is the account; the name shows in every branch of theirs), so
    only someone who could already act over all of it may.

    Keeping the member in this branch (`keeping_refusal`: standing, taking off;
    accounts/members.py) is refused over oneself, and over a secretary of the branch
    unless the secretary acting is one of a branch above it.
    """

    def __init__(self, identity: Identity):
        self.identity = identity
        self.secretary_of = (
            {row[0] for row in _rows(f"SELECT branch_id FROM {_M} WHERE user_id = %s AND role = %s",
                                     [identity.user_id, str(Membership.Role.SECRETARY)])}
            if identity.is_user else set()
        )
        self._chains: dict[int, list[int]] = {}

    def _chain(self, branch_id: int) -> list[int]:
        if branch_id not in self._chains:
            self._chains[branch_id] = branch_chain(branch_id) or [branch_id]
        return self._chains[branch_id]

    def _over_account(self, user, memberships) -> str | None:
        """Why the secretary may not act over the whole account (a password link, its
        name), as a word: "self", "admin", "elsewhere" (a branch they do not manage),
        "secretary" (a fellow secretary, not from above); None when they may."""
        if user.pk == self.identity.user_id:
            return "self"
        if user.is_staff or user.is_superuser:
            return "admin"
        branches = {branch_id for branch_id, _role in memberships}
        if not all(self.secretary_of & set(self._chain(b)) for b in branches):
            return "elsewhere"
        if any(role == Membership.Role.SECRETARY for _branch, role in memberships) and not all(
            self.secretary_of & set(self._chain(b)[1:]) for b in branches
        ):
            return "secretary"
        return None

    def link_refusal(self, user, memberships) -> str | None:
        """None when allowed, else why not (a sentence). `memberships`: the member's
        (branch id, role) pairs, all of them."""
        return self._refusal(user, memberships, "link")

    def name_refusal(self, user, memberships) -> str | None:
        """As link_refusal, for correcting the member's name: it is the account's,
        shown in every branch of theirs."""
        return self._refusal(user, memberships, "name")

    def _refusal(self, user, memberships, what: str) -> str | None:
        problem = self._over_account(user, memberships)
        if problem is None:
            return None
        sentence = {
            ("self", "link"): _("Change your own password on “My account”."),
            ("admin", "link"): _("%(name)s is an administrator: only another administrator can reset their "
                                 "password."),
            ("elsewhere", "link"): _("%(name)s also belongs to a branch you do not manage; a secretary over all "
                                     "their branches can give the link."),
            ("secretary", "link"): _("%(name)s is a secretary too; a secretary of a branch above theirs can give "
                                     "the link."),
            ("self", "name"): _("Your own name is corrected by a secretary of a branch above yours, or by an "
                                "administrator."),
            ("admin", "name"): _("%(name)s is an administrator: only another administrator can correct their name."),
            ("elsewhere", "name"): _("%(name)s also belongs to a branch you do not manage; a secretary over all "
                                     "their branches can correct the name."),
            ("secretary", "name"): _("%(name)s is a secretary too; a secretary of a branch above theirs can correct "
                                     "the name."),
        }[problem, what]
        return sentence % {"name": user.get_full_name() or user.get_username()} if problem != "self" else sentence

    def keeping_refusal(self, user, branch_id: int, roles_here) -> str | None:
        """None when the secretary may change this member's standing in `branch_id` or
        take them off it, else why not. `roles_here`: the member's roles there."""
        if user.pk == self.identity.user_id:
            return _("You cannot change your own membership.")
        if Membership.Role.SECRETARY in roles_here and not self.secretary_of & set(self._chain(branch_id)[1:]):
            return _("%(name)s is a secretary of this branch; a secretary of a branch above it decides on that.") % {
                "name": user.get_full_name() or user.get_username()}
        return None
