"""What announcements keep about a member, for 我的数据 (accounts/personal_data.py):
the announcements they wrote (and those waiting to be published) and when they read each one."""

from __future__ import annotations

from accounts.personal_data import part, when

from .models import Announcement, Reading, ScheduledAnnouncement


@part("announcements_written")
def _written(user) -> list:
    return [{"id": a.pk, "branch": a.branch.name, "title": a.title, "body": a.body, "posted_at": when(a.created_at),
             "edited_at": when(a.edited_at), "withdrawn_at": when(a.withdrawn_at)}
            for a in Announcement.objects.filter(author=user, copy_of__isnull=True).select_related("branch")
            .order_by("-created_at")]


@part("announcements_scheduled")
def _scheduled(user) -> list:
    return [{"id": s.pk, "branch": s.branch.name, "title": s.title, "body": s.body, "publish_at": when(s.publish_at),
             "status": s.status} for s in ScheduledAnnouncement.objects.filter(author=user).select_related("branch")
            .order_by("-publish_at")]


@part("announcements_read")
def _read(user) -> list:
    return [{"announcement": r.announcement_id, "branch": r.announcement.branch.name, "title": r.announcement.title,
             "read_at": when(r.read_at)}
            for r in Reading.objects.filter(user=user).select_related("announcement__branch").order_by("-read_at")]
