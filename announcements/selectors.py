from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.models import Branch, Membership
from accounts.selectors import can_manage_branch, can_read_branch, readable_branch_ids, role_on_chain
from realtime.errors import Forbidden, NotFound
from realtime.frames import iso
from realtime.models import ReadMarker

from .models import Announcement, Reading, name_branches_sent_to

PAGE_SIZE = 50  # newest announcements in a snapshot or a page


def announcements_for(identity: Identity, branch_id: int, *, limit: int = PAGE_SIZE, before: int | None = None):
    """The newest `limit` announcements (with `before`: older than that seq), and on the
    first page the pinned ones too, first. Pages go by seq among the unpinned only, so
    a pinned one is listed once."""
    if not can_read_branch(identity, branch_id):
        raise Forbidden(_("You are not a member of this branch."))
    qs = Announcement.objects.filter(branch_id=branch_id, withdrawn_at__isnull=True).select_related(
        "author", "sent_from").prefetch_related("attachments")
    pinned = [] if before is not None else list(qs.filter(pinned_at__isnull=False).order_by("-pinned_at", "-id"))
    page = qs.filter(pinned_at__isnull=True)
    if before is not None:
        page = page.filter(seq__lt=before)
    return pinned + list(page.order_by("-seq", "-id")[:limit])


SEARCH_LIMIT = 50
SEARCH_WORDS = 5


def search(identity: Identity, branch_id: int, q: str, *, everywhere: bool = False,
           limit: int = SEARCH_LIMIT) -> tuple[list, list[str]]:
    """The branch's announcements whose title or text holds every word of `q` (words
    split at spaces; Chinese matches anywhere in the text, so no segmentation is
    needed), newest first; and the words, for highlighting. `everywhere`: those of
    every branch the reader may read instead, a notice sent to several of them (下发)
    once (its copy in this branch, if there is one).

    A plain substring scan, not the forum's full-text index: a branch has hundreds of
    announcements, not hundreds of thousands, and posting one stays free of index work.
    """
    if not can_read_branch(identity, branch_id):
        raise Forbidden(_("You are not a member of this branch."))
    words = q.split()[:SEARCH_WORDS]
    if not words:
        return [], []
    branch_ids = readable_branch_ids(identity) if everywhere else {branch_id}
    qs = Announcement.objects.filter(branch_id__in=branch_ids, withdrawn_at__isnull=True).select_related(
        "author", "sent_from", "branch").prefetch_related("attachments")
    for word in words:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    found: list[Announcement] = []
    place: dict[int, int] = {}  # family -> its place in found: the copy in this branch if any, else the first
    for a in qs.order_by("-created_at", "-id")[:limit * 2 if everywhere else limit]:
        family = a.copy_of_id or a.pk
        if family not in place:
            place[family] = len(found)
            found.append(a)
        elif a.branch_id == branch_id:
            found[place[family]] = a
    return found[:limit], words


def more_after(items, limit: int = PAGE_SIZE) -> bool:
    """Whether a list from announcements_for may have older ones after it."""
    return sum(1 for a in items if a.pinned_at is None) >= limit


def listed(identity: Identity, branch_id: int, items, *, read_seq: int | None = None) -> list[dict]:
    """The announcements as frames, each with `read`: whether this reader has read it
    (their marker has reached it, or they read it on its own). For a secretary each
    also carries `receipt`, how many of the branch's members have read it
    (`{"read": n, "of": m}`)."""
    name_branches_sent_to(items)
    frames = [a.to_dict() for a in items]
    read = read_ids(identity, branch_id, items, read_seq=read_seq)
    for frame in frames:
        frame["read"] = frame["id"] in read
    if items and can_manage_branch(identity, branch_id):
        counts = read_counts(items)
        for frame in frames:
            frame["receipt"] = counts[frame["id"]]
    return frames


def read_marker(identity: Identity, branch_id: int) -> int:
    if not identity.is_user:
        return 0
    from .actions import stream_for

    return (
        ReadMarker.objects.filter(user_id=identity.user_id, stream=stream_for(branch_id))
        .values_list("seq", flat=True)
        .first()
        or 0
    )


def read_ids(identity: Identity, branch_id: int, items, *, read_seq: int | None = None) -> set[int]:
    """Of `items`, the ids this reader has read: up to their marker, or one by one."""
    if not identity.is_user or not items:
        return set()
    if read_seq is None:
        read_seq = read_marker(identity, branch_id)
    read = {a.pk for a in items if a.seq <= read_seq}
    after = [a.pk for a in items if a.seq > read_seq]
    if after:
        read.update(Reading.objects.filter(user_id=identity.user_id, announcement_id__in=after)
                    .values_list("announcement_id", flat=True))
    return read


def _waiting_for(user_id: int, after: Q):
    """Announcements (`after`: which, by branch and seq) that a reader may still have to
    read: not withdrawn, not their own. Those they read one by one are left to the caller."""
    return Announcement.objects.filter(after, withdrawn_at__isnull=True).exclude(author_id=user_id)


def unread_count(identity: Identity, branch_id: int, *, read_seq: int | None = None) -> int:
    """Announcements after the reader's marker that they have not read one by one, not
    counting their own. `read_seq`: the marker, when the caller has just read it
    (read_marker) and need not ask again."""
    if not identity.is_user:
        return 0
    if read_seq is None:
        read_seq = read_marker(identity, branch_id)
    after = Q(branch_id=branch_id, seq__gt=read_seq)
    return _waiting_for(identity.user_id, after).exclude(readings__user_id=identity.user_id).count()


def unread_by_branch(user_id: int, branch_ids) -> dict[int, dict]:
    """For the navigation: per branch, the reader's marker (`read_seq`), how many
    announcements are unread (`count`, as unread_count) and which of those after the
    marker they read one by one (`read_ids`). Three queries for all the branches."""
    from .actions import stream_for

    branch_ids = sorted(set(branch_ids))
    if not branch_ids:
        return {}
    keys = {branch_id: stream_for(branch_id) for branch_id in branch_ids}
    markers = dict(ReadMarker.objects.filter(user_id=user_id, stream__in=keys.values()).values_list("stream", "seq"))
    after = Q()
    for branch_id, key in keys.items():
        after |= Q(branch_id=branch_id, seq__gt=markers.get(key, 0))
    rows = list(_waiting_for(user_id, after).values_list("pk", "branch_id"))
    read = set(Reading.objects.filter(user_id=user_id, announcement_id__in=[pk for pk, _b in rows])
               .values_list("announcement_id", flat=True))
    result = {branch_id: {"read_seq": markers.get(key, 0), "count": 0, "read_ids": []}
              for branch_id, key in keys.items()}
    for pk, branch_id in rows:
        if pk in read:
            result[branch_id]["read_ids"].append(pk)
        else:
            result[branch_id]["count"] += 1
    return result


# -- for secretaries: one announcement to change, and who has read what ---------------------


def managed_announcement(identity: Identity, announcement_id: int, *, for_update: bool = False,
                         refusal: str | None = None) -> Announcement:
    """The announcement, for a secretary of its branch (or above) to change or to see its
    readers.

    Those who cannot read the branch, and everyone once it is withdrawn, are told it
    does not exist; members who can read it but are not secretaries, that they may not.
    """
    qs = Announcement.objects.select_related("author", "sent_from").filter(pk=announcement_id,
                                                                         withdrawn_at__isnull=True)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    announcement = qs.first()
    if announcement is None or not can_read_branch(identity, announcement.branch_id):
        raise NotFound(_("There is no announcement %(id)s.") % {"id": announcement_id})
    if not (identity.is_user and role_on_chain(identity.user_id, announcement.branch_id, [Membership.Role.SECRETARY])):
        raise Forbidden(refusal or _("Only the branch secretary may change announcements."))
    return announcement


def _readers_in(branch_ids) -> dict[int, dict[int, str]]:
    """Who is expected to read each branch's announcements: every active user with a role
    in the branch itself (secretaries above it may read, but are not counted), by name.
    One query for all the branches."""
    readers: dict[int, dict[int, str]] = {branch_id: {} for branch_id in branch_ids}
    rows = (Membership.objects.filter(branch_id__in=list(readers), user__is_active=True).select_related("user")
            .only("branch_id", "user__id", "user__username", "user__first_name", "user__last_name"))
    for membership in rows:
        user = membership.user
        readers[membership.branch_id][user.pk] = user.get_full_name() or user.get_username()
    return readers


def _markers(branch_ids, user_ids) -> dict[int, dict[int, int]]:
    """{branch id: {user id: seq}}: how far each has read each branch's announcements."""
    from .actions import stream_for

    streams = {stream_for(branch_id): branch_id for branch_id in branch_ids}
    markers: dict[int, dict[int, int]] = {branch_id: {} for branch_id in branch_ids}
    rows = ReadMarker.objects.filter(stream__in=list(streams), user_id__in=list(user_ids))
    for stream, user_id, seq in rows.values_list("stream", "user_id", "seq"):
        markers[streams[stream]][user_id] = seq
    return markers


def _readings(announcement_ids, user_ids) -> dict[tuple[int, int], object]:
    """{(announcement id, user id): when} of those read one by one."""
    rows = Reading.objects.filter(announcement_id__in=list(announcement_ids), user_id__in=list(user_ids))
    return {(aid, uid): at for aid, uid, at in rows.values_list("announcement_id", "user_id", "read_at")}


def read_counts(items) -> dict[int, dict]:
    """{announcement id: {"read": n, "of": m}} for a secretary's list: of those expected to read each (`_split_readers_of`: the branch's members
    other than the author, and for an original sent below (下发) its copies' readers
    too, each person once), how many have read it. Three queries for a list of plain
    announcements, five with originals in it, however long it is."""
    return {pk: {"read": len(read), "of": len(read) + len(unread)}
            for pk, (read, unread) in _split_readers_of(items).items()}


def _families(items) -> dict[int, list[Announcement]]:
    """下发: each of `items` with its copies still up in the branches below, in the order
    it was sent (the tree's); any other announcement alone. One query for all."""
    originals = [a for a in items if a.sent_to]
    copies: dict[int, list[Announcement]] = {}
    if originals:
        for copy in Announcement.objects.filter(copy_of__in=originals, withdrawn_at__isnull=True).select_related(
                "branch"):
            copies.setdefault(copy.copy_of_id, []).append(copy)
    families = {}
    for a in items:
        place = {branch["id"]: i for i, branch in enumerate(a.sent_to or [])}
        families[a.pk] = [a, *sorted(copies.get(a.pk, []), key=lambda copy: place.get(copy.branch_id, len(place)))]
    return families


def copies_read(original: Announcement) -> list[tuple[Announcement, dict]]:
    """下发: each copy still up in a branch below, with how many of that branch have read
    it (for the original's secretaries, who manage those branches too). Four queries
    however many branches it went to."""
    copies = _families([original])[original.pk][1:]
    counts = read_counts(copies)  # each copy alone: its own branch's readers
    return [(copy, counts[copy.pk]) for copy in copies]


def _has_read(a: Announcement, user_id: int, markers: dict, one_by_one: dict) -> bool:
    """Read: one by one (a Reading), or the reader's marker has reached its seq."""
    return (a.pk, user_id) in one_by_one or markers.get(user_id, 0) >= a.seq


def _split_readers(a: Announcement) -> tuple[list[dict], list[dict]]:
    return _split_readers_of([a])[a.pk]


def _split_readers_of(items) -> dict[int, tuple[list[dict], list[dict]]]:
    """For each of `items`, those expected to read it (not its author), by name: who has
    read it (with `read_at`: when, if they read it one by one; None when their marker
    passed it, whose moment is not kept), and who not yet.

    An original sent below (下发) counts everyone expected to read it or one of its
    copies, each person once: read in one of their branches is read (reading one copy
    records it in the reader's other branches too). Each person then also has
    `branches`, the names of theirs it went to, and `announcement` and `branch`, the one
    of those copies a reminder links them to (the first in the order it was sent).

    Three queries however many `items`, five when originals are among them (a 党委's
    list is mostly such originals)."""
    if not items:
        return {}
    families = _families(items)
    branch_ids = {x.branch_id for family in families.values() for x in family}
    readers = _readers_in(branch_ids)
    everyone = {user_id for names in readers.values() for user_id in names}
    markers = _markers(branch_ids, everyone)
    one_by_one = _readings([x.pk for family in families.values() for x in family], everyone)
    below = any(len(family) > 1 for family in families.values())
    names = dict(Branch.objects.filter(pk__in=branch_ids).values_list("pk", "name")) if below else {}
    result = {}
    for a in items:
        family = families[a.pk]
        people: dict[int, dict] = {}
        for x in family:
            for user_id, name in readers[x.branch_id].items():
                if user_id != a.author_id:
                    people.setdefault(user_id, {"id": user_id, "name": name, "in": []})["in"].append(x)
        read, unread = [], []
        for person in sorted(people.values(), key=lambda person: (person["name"], person["id"])):
            where = person.pop("in")
            entry = dict(person)
            if len(family) > 1:
                entry.update(branches=[names[x.branch_id] for x in where], announcement=where[0].pk,
                             branch=where[0].branch_id)
            if any(_has_read(x, person["id"], markers[x.branch_id], one_by_one) for x in where):
                times = [one_by_one[(x.pk, person["id"])] for x in where if (x.pk, person["id"]) in one_by_one]
                read.append({**entry, "read_at": min(times) if times else None})
            else:
                unread.append(entry)
        result[a.pk] = (read, unread)
    return result


def readers_of(identity: Identity, announcement_id: int, *, as_json: bool = True) -> dict:
    """Who has read an announcement (and when, where that is known) and who has not yet,
    by name (secretaries only), and when those who had not were last reminded. Times as
    ISO strings, or with as_json=False as datetimes (for pages and exports)."""
    a = managed_announcement(identity, announcement_id,
                             refusal=_("Only the branch secretary may see who has read an announcement."))
    read, unread = _split_readers(a)
    result = {"announcement": a.pk, "read": read, "unread": unread, "reminded_at": a.reminded_at}
    if as_json:
        result["reminded_at"] = iso(a.reminded_at) if a.reminded_at else None
        result["read"] = [{**person, "read_at": iso(person["read_at"]) if person["read_at"] else None}
                          for person in read]
    return result


def not_yet_read(a: Announcement) -> list[dict]:
    """Those expected to read `a` who have not yet (for a reminder): `id`, and for an
    original sent below, `announcement` and `branch`, the copy in their branch."""
    return _split_readers(a)[1]


def register_years(branch: Branch) -> list[int]:
    """The years (on the branch's clock) the branch has announcements in, newest first."""
    days = Announcement.objects.filter(branch=branch).datetimes("created_at", "year", order="DESC", tzinfo=branch.zone)
    return [day.year for day in days]


def register(identity: Identity, branch_id: int, year: int | None = None) -> list[dict]:
    """通知台账, for the branch's secretaries: each announcement of `year` (on the
    branch's clock; all with None), oldest first, withdrawn ones too: when and by whom
    it was posted, where it came from or also went (下发), how many of those expected
    have read it, and when it was withdrawn. A handful of queries however many there are."""
    if not can_manage_branch(identity, branch_id):
        raise Forbidden(_("Only the branch secretary may download the record of its announcements."))
    zone = Branch.objects.get(pk=branch_id).zone
    rows = Announcement.objects.filter(branch_id=branch_id)
    if year is not None:  # the year on the branch's clock, asked of the database
        rows = rows.filter(created_at__gte=datetime(year, 1, 1, tzinfo=zone),
                           created_at__lt=datetime(year + 1, 1, 1, tzinfo=zone))
    items = list(rows.select_related("author", "sent_from").order_by("created_at"))
    counts = read_counts(items)
    name_branches_sent_to(items)
    return [{
        "announcement": a, "posted_at": a.created_at.astimezone(zone),
        "author": a.author.get_full_name() or a.author.get_username(),
        "sent_from": a.sent_from.name if a.sent_from_id else "", "sent_to": a.sent_to_names,
        "read": counts[a.pk]["read"], "expected": counts[a.pk]["of"],
        "withdrawn_at": a.withdrawn_at.astimezone(zone) if a.withdrawn_at else None,
    } for a in items]
