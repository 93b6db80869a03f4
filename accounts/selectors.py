"""Permission-aware reads about branches and memberships."""

from __future__ import annotations

from .identity import Identity
from .models import Branch, Citizen, Membership, hash_citizen_token

# Roles that may manage a branch's announcements and, later, its meetings.
MANAGING_ROLES = frozenset({Membership.Role.SECRETARY})


def roles_in_branch(identity: Identity, branch_id: int) -> set[str]:
    if not identity.is_user:
        return set()
    return set(
        Membership.objects.filter(user_id=identity.user_id, branch_id=branch_id).values_list(
            "role", flat=True
        )
    )


def branch_ids_for(identity: Identity) -> set[int]:
    if not identity.is_user:
        return set()
    return set(
        Membership.objects.filter(user_id=identity.user_id).values_list("branch_id", flat=True)
    )


def branch_chain(branch_id: int) -> list[int] | None:
    """[branch, parent, grandparent, ...] ids, or None if the branch does not exist.

    The tree has three levels (committee, branch, group): one query with a join
    answers for a branch; a group's chain needs one more to see past its grandparent.
    """
    row = Branch.objects.filter(pk=branch_id).values_list("parent_id", "parent__parent_id").first()
    if row is None:
        return None
    chain = [branch_id]
    for node in row:
        if node is None or node in chain:
            return chain
        chain.append(node)
    while len(chain) < 12:
        parent = Branch.objects.filter(pk=chain[-1]).values_list("parent_id", flat=True).first()
        if parent is None or parent in chain:
            break
        chain.append(parent)
    return chain


def ancestor_ids(branch_id: int) -> list[int]:
    """Parent ids from nearest to root."""
    return (branch_chain(branch_id) or [branch_id])[1:]


def can_read_branch(identity: Identity, branch_id: int) -> bool:
    """Members of the branch, and secretaries of a branch above it, read its streams."""
    if not identity.is_user:
        return False
    if Membership.objects.filter(user_id=identity.user_id, branch_id=branch_id).exists():
        return True
    parents = ancestor_ids(branch_id)
    return bool(parents) and Membership.objects.filter(
        user_id=identity.user_id, branch_id__in=parents, role=Membership.Role.SECRETARY
    ).exists()


def can_manage_branch(identity: Identity, branch_id: int) -> bool:
    """Secretaries of the branch or of a branch above it."""
    if not identity.is_user:
        return False
    ids = branch_chain(branch_id)
    if ids is None:
        return False
    return Membership.objects.filter(
        user_id=identity.user_id, branch_id__in=ids, role__in=MANAGING_ROLES
    ).exists()


MODERATING_ROLES = frozenset({Membership.Role.MODERATOR, Membership.Role.SECRETARY})


def can_moderate_branch(identity: Identity, branch_id: int) -> bool:
    """Moderators and secretaries of the branch, and secretaries of a branch above it."""
    if not identity.is_user:
        return False
    if Membership.objects.filter(user_id=identity.user_id, branch_id=branch_id, role__in=MODERATING_ROLES).exists():
        return True
    parents = ancestor_ids(branch_id)
    return bool(parents) and Membership.objects.filter(
        user_id=identity.user_id, branch_id__in=parents, role=Membership.Role.SECRETARY
    ).exists()


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


def branches_for(identity: Identity):
    return Branch.objects.filter(pk__in=branch_ids_for(identity)).order_by("id")
