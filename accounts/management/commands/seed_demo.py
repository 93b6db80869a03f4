"""Load the demo data (idempotent): a branch tree, members in every role, announcements.

Demo accounts share one password and are printed at the end; they are for trying
Branchline locally, never for a deployment.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.identity import identity_for_user
from accounts.models import Branch, Membership
from announcements.actions import post_announcement, read_announcements
from announcements.attachments import upload_attachment
from announcements.models import Announcement, ScheduledAnnouncement
from announcements.scheduling import schedule_announcement

from accounts.demo import DEMO_PASSWORD, chinese_day

# username, full name, [(branch key, role), ...]
PEOPLE = [
    ("shuji", "王书记", [("b1", "secretary"), ("b1", "full")]),
    ("banzhu", "李版主", [("b1", "moderator"), ("b1", "full")]),
    ("dangyuan", "张党员", [("b1", "full"), ("g1", "full")]),
    ("yubei", "赵预备", [("b1", "probationary"), ("g1", "probationary")]),
    ("shuji2", "陈书记", [("b2", "secretary"), ("b2", "full")]),
    ("dangwei", "刘委员", [("c", "secretary")]),
]

# The notice of the upcoming general meeting is posted with the meeting (meetings/demo.py).
# Branch key, author, title, text, and the branches below it is sent to as well (下发).
ANNOUNCEMENTS = [
    ("b1", "shuji", "“三会一课”学习材料已上传",
     "本月党课学习材料已上传，见附件，请大家在会前阅读。", []),
    ("b2", "shuji2", "第二党支部志愿服务报名",
     "本周六上午组织社区志愿服务，请有意参加的党员在本通知下回复报名。", []),
    ("c", "dangwei", "关于做好年度党员民主评议工作的通知",
     "各党支部：请于本月底前完成年度党员民主评议，评议结果报街道党委组织委员。", ["b1", "b2"]),
]

# One 王书记 wrote to go out later (定时发布): title, text.
SCHEDULED = ("关于元旦前走访慰问老党员的通知",
             "请各党小组组长于月底前联系本组老党员、困难党员，确定走访时间，报支部汇总。")

# Files the demo's announcements carry (announcements/attachments.py), by title.
ANNOUNCEMENT_FILES = {
    "“三会一课”学习材料已上传": [(
        "党课学习提纲.txt",
        "党课学习提纲\n\n一、学习目的\n二、学习内容与安排\n三、讨论题\n\n（示例文件，由演示数据生成）\n",
    )],
}


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
            users[username] = user
            if user is not None:
                # Seeded before: what the demo has done since (转正, a moderator unticked)
                # stands; the roles are given once, with the account.
                continue
            # example.org addresses: with `make run` a reset mail is printed, not sent.
            user = users[username] = User.objects.create_user(username, f"{username}@example.org", DEMO_PASSWORD,
                                                              first_name=full_name)
            for key, role in roles:
                row, made = Membership.objects.get_or_create(user=user, branch=branches[key], role=role)
                if made and role == Membership.Role.PROBATIONARY and key == "b1":
                    # 入党日期 (accounts/party_dates.py): admitted a year ago less three weeks, so the
                    # secretary's overview shows the year ending soon.
                    Membership.objects.filter(pk=row.pk).update(
                        since=timezone.localdate() - timedelta(days=365 - 21))

        for key, author, title, body, below in ANNOUNCEMENTS:
            branch = branches[key]
            if not Announcement.objects.filter(branch=branch, title=title).exists():
                identity = identity_for_user(users[author])
                files = [upload_attachment(identity=identity, branch_id=branch.pk,
                                           uploaded=SimpleUploadedFile(name, text.encode("utf-8")))
                         for name, text in ANNOUNCEMENT_FILES.get(title, [])]
                post_announcement(identity=identity, branch_id=branch.pk, title=title, body=body,
                                  attachments=[f.pk for f in files], also=[branches[b].pk for b in below])

        # 李版主 has read the study materials (once, however often this runs): the
        # secretary's list shows a read count that is not zero.
        materials = Announcement.objects.filter(branch=b1, title=ANNOUNCEMENTS[0][2]).first()
        if materials is not None:
            read_announcements(identity=identity_for_user(users["banzhu"]), branch_id=b1.pk,
                               announcement_ids=[materials.pk])

        # 王书记 has written one to go out later (定时发布): the secretary's page shows what
        # waits, and members see nothing of it until then. Once only: it is published in
        # due course, as any would be, by the running server.
        if not ScheduledAnnouncement.objects.filter(branch=b1, title=SCHEDULED[0]).exists():
            day = (timezone.now().astimezone(b1.zone) + timedelta(days=3)).date()
            schedule_announcement(identity=identity_for_user(users["shuji"]), branch_id=b1.pk, title=SCHEDULED[0],
                                  body=SCHEDULED[1], publish_at=f"{day.isoformat()}T08:00")

        # Meetings before the forum: the past meeting's entries in the audit log are
        # dated a month back and must come before today's.
        from meetings.demo import seed as seed_meetings

        seed_meetings(branches, users)

        self._forum(branches, users)

        self.stdout.write("Demo data ready. Log in at /login/ with password %r as:" % DEMO_PASSWORD)
        for username, full_name, roles in PEOPLE:
            described = ", ".join(f"{branches[k].name} {r}" for k, r in roles)
            self.stdout.write(f"  {username:<9} {full_name}  ({described})")
        self.stdout.write(f"  {'admin':<9} 管理员  (Django admin at /admin/)")

    def _forum(self, branches, users) -> None:
        """Boards with topics, an open topic discussion, a few items in the review queue."""
        from datetime import timedelta

        from django.utils import timezone

        from forum.actions import create_post, create_topic, toggle_reaction
        from forum.discussions import open_discussion
        from forum.models import Board, Topic
        from moderation.actions import review_item
        from moderation.models import ReviewItem, WatchedWord

        b1 = branches["b1"]
        ident = {name: identity_for_user(user) for name, user in users.items()}
        WatchedWord.objects.get_or_create(branch=b1, pattern="代购", action="require_approval")
        WatchedWord.objects.get_or_create(branch=b1, pattern="赌博", action="block")
        WatchedWord.objects.get_or_create(branch=b1, pattern="傻瓜", action="censor")
        talk, _ = Board.objects.get_or_create(branch=b1, name="支部交流", defaults={"description": "支部党员内部交流"})
        voice, _ = Board.objects.get_or_create(
            branch=b1, name="群众之声",
            defaults={"description": "面向群众公开，群众留言经审核后显示", "visibility": "public", "citizens_may_post": True},
        )
        if not Topic.objects.filter(board=talk, title="本月主题党日活动安排").exists():
            # A date ahead of the day the demo is loaded, not a fixed "28日" that may be past.
            party_day = chinese_day(timezone.localdate(timezone.now(), b1.zone) + timedelta(days=5))
            topic, first = create_topic(identity=ident["shuji"], board=talk, title="本月主题党日活动安排",
                                        body=f"本月主题党日安排在 **{party_day}上午**，内容为社区环境整治志愿服务。"
                                             "\n\n请大家回复报名。")
            create_post(identity=ident["banzhu"], topic_id=topic.pk, body="报名参加，我可以负责登记。")
            reply = create_post(identity=ident["dangyuan"], topic_id=topic.pk, body="报名！建议提前准备手套和垃圾袋。")
            # A new member's first posts wait for review: the moderator approved this one.
            item = ReviewItem.objects.get(target_type="forum.post", target_id=reply.pk)
            review_item(identity=ident["banzhu"], item_id=item.pk, version=item.version, decision="approve")
            toggle_reaction(identity=ident["banzhu"], post_id=first.pk, emoji="👍")
            # A probationary member's first post waits in the review queue.
            create_post(identity=ident["yubei"], topic_id=topic.pk, body="我也想参加，请问需要带什么？")
            # A member's post with a require-approval word waits too.
            create_post(identity=ident["dangyuan"], topic_id=topic.pk, body="有没有人需要代购劳保用品？")
        if not Topic.objects.filter(board=voice, title="小区停车难的问题").exists():
            create_topic(identity=ident["banzhu"], board=voice, title="小区停车难的问题",
                         body="近期多位居民反映小区停车难，欢迎大家留言提出建议。")
        if not Topic.objects.filter(board=talk, title="如何更好地为群众办实事").exists():
            open_discussion(identity=ident["banzhu"], board=talk, title="如何更好地为群众办实事",
                            prompt="围绕“我为群众办实事”，请每位党员谈一谈自己的想法和建议。",
                            opens_at=None, closes_at=timezone.now() + timedelta(days=7))
