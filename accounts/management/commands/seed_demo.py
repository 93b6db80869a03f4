"""Load the demo data (idempotent): a branch tree, members in every role, announcements.

Demo accounts share one password and are printed at the end; they are for trying
Branchline locally, never for a deployment.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.identity import identity_for_user
from accounts.models import Branch, Membership
from announcements.actions import post_announcement
from announcements.models import Announcement

from accounts.demo import DEMO_PASSWORD

# username, full name, [(branch key, role), ...]
PEOPLE = [
    ("shuji", "王书记", [("b1", "secretary"), ("b1", "full")]),
    ("banzhu", "李版主", [("b1", "moderator"), ("b1", "full")]),
    ("dangyuan", "张党员", [("b1", "full"), ("g1", "full")]),
    ("yubei", "赵预备", [("b1", "probationary"), ("g1", "probationary")]),
    ("shuji2", "陈书记", [("b2", "secretary"), ("b2", "full")]),
    ("dangwei", "刘委员", [("c", "secretary")]),
]

ANNOUNCEMENTS = [
    ("b1", "shuji", "关于召开十一月支部党员大会的通知",
     "各位党员：定于本月28日（周六）上午9:00在社区党群服务中心召开支部党员大会，请准时参加。无法到会的请提前向支部书记请假。"),
    ("b1", "shuji", "“三会一课”学习材料已上传",
     "本月党课学习材料已上传至支部微论坛，请大家在会前阅读。"),
    ("b2", "shuji2", "第二党支部志愿服务报名",
     "本周六上午组织社区志愿服务，请有意参加的党员在本通知下回复报名。"),
]


class Command(BaseCommand):
    help = "Load Branchline's demo data (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        committee, _ = Branch.objects.get_or_create(
            name="城东街道党委", defaults={"kind": Branch.Kind.COMMITTEE, "time_zone": "Asia/Shanghai"}
        )
        b1, _ = Branch.objects.get_or_create(
            name="第一党支部", defaults={"kind": Branch.Kind.BRANCH, "parent": committee}
        )
        b2, _ = Branch.objects.get_or_create(
            name="第二党支部", defaults={"kind": Branch.Kind.BRANCH, "parent": committee}
        )
        g1, _ = Branch.objects.get_or_create(
            name="第一党小组", defaults={"kind": Branch.Kind.GROUP, "parent": b1}
        )
        branches = {"c": committee, "b1": b1, "b2": b2, "g1": g1}

        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD, first_name="管理员")
        users = {}
        for username, full_name, roles in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username, password=DEMO_PASSWORD, first_name=full_name)
            users[username] = user
            for key, role in roles:
                Membership.objects.get_or_create(user=user, branch=branches[key], role=role)

        for key, author, title, body in ANNOUNCEMENTS:
            branch = branches[key]
            if not Announcement.objects.filter(branch=branch, title=title).exists():
                post_announcement(identity=identity_for_user(users[author]), branch_id=branch.pk, title=title, body=body)

        self.stdout.write("Demo data ready. Log in at /login/ with password %r as:" % DEMO_PASSWORD)
        for username, full_name, roles in PEOPLE:
            described = ", ".join(f"{branches[k].name} {r}" for k, r in roles)
            self.stdout.write(f"  {username:<9} {full_name}  ({described})")
        self.stdout.write(f"  {'admin':<9} 管理员  (Django admin at /admin/)")
