"""What the review queue can act on: each app registers its target types here.

The queue is shared (forum posts now; meeting chat and citizen messages later), so
it knows targets only through these handlers, each run inside the review action's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from accounts.identity import Identity


@dataclass(frozen=True)
class ReviewTarget:
    name: str
    # (identity, target id) -> {"branch": id, "author": identity key, "author_user_id": id | None};
    # optionally "member": True when seeing it proved can_read_branch(identity, branch) (a
    # members-only target), so a flag does not ask again; raises NotFound when the
    # identity may not see the target.
    describe: Callable[[Identity, int], dict]
    approve: Callable[[Identity, int], None]  # publish a pending target / show a hidden one
    reject: Callable[[Identity, int, str], None]  # refuse a pending one / hide a visible one, telling the author
    hide: Callable[[Identity, int, str], None]  # hide until reviewed (flags), telling the author
    restore: Callable[[Identity, int], None]
    delete: Callable[[Identity, int, str], None]
    edit: Callable[[Identity, int, str], None]
    # (identity, target id) -> what a moderator needs to decide (text, author, status, link).
    preview: Callable[[Identity, int], dict]
    # (identity, target ids of one branch the identity moderates) -> {id: preview}, in a
    # few queries for a page of the queue; ids it cannot show are left out.
    preview_many: Callable[[Identity, list[int]], dict[int, dict]] | None = None


_targets: dict[str, ReviewTarget] = {}


def register_review_target(target: ReviewTarget) -> None:
    _targets[target.name] = target


def review_target(name: str) -> ReviewTarget:
    return _targets[name]
