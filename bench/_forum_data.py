"""The Django side of bench/forum.py: seeding, the search corpus, checks (not a test).

Run by bench/forum.py as a child process with the server's environment (same database,
same settings), before daphne starts (seed) and after the run (verify):

    python bench/_forum_data.py seed '<json>'    -> one JSON line on stdout
    python bench/_forum_data.py verify '<json>'  -> one JSON line on stdout

What `seed` writes, and through which code:

* readers (`bench_r0000`...) and posting members (`bench_p00`...): User and Membership
  rows (full members of 第一党支部) written with the ORM, every user with the demo
  password hashed once; one logged-in session per user written the way
  django.contrib.auth.login() writes it (session engine, SESSION_KEY,
  BACKEND_SESSION_KEY, HASH_SESSION_KEY), so the server authenticates the sockets
  exactly as after a login, without 1,000 PBKDF2 rounds on a 2-core machine;
* a board (ORM: boards are made by administrators) and the benchmark topic, created
  with forum.actions.create_topic;
* each posting member's first posts (pre-moderated: forum.actions.PREMODERATE_FIRST_POSTS)
  through forum.actions.create_post and approved through moderation.actions.review_item,
  so their benchmark posts are published at once, as a regular member's are;
* the search corpus: `posts` posts of generated mixed Chinese/Latin text (deterministic,
  seeded PRNG) in topics of ~100 posts on three boards (members-only board of 第一党支部,
  its public board, and a board of 第二党支部 that the searching member may NOT read, so
  permission filtering has work to do). Topics are created with
  forum.actions.create_topic; the other posts are written in batches of 1,000 rows
  (Post.objects.bulk_create, HTML from forum.rendering.render_markdown) inside one
  transaction per batch, and every post is indexed with forum.actions.index_post, the
  function a live post is indexed with (search.index.index_document: rjieba
  segmentation, one upsert per document, FTS5 triggers / generated tsvector + GIN).
  What the bulk path skips: events (nobody is subscribed to history) and the
  per-post moderation scan (the text has no watched words).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "branchline-demo"

# --------------------------------------------------------------------------- text

# Words people write in a branch's forum, grouped by role in a sentence. Weights fall
# off with the position in each list (Zipf-like), so some words are everywhere (党员,
# 小区) and some are rare (GPS, 无人机).
TIMES = [
    "本周六",
    "下周一",
    "本月底",
    "明天上午",
    "今天下午",
    "周末",
    "月初",
    "国庆节前",
    "春节期间",
    "每周三晚上",
    "上个月",
    "最近",
    "昨天晚上",
    "早上七点",
    "中午",
    "年底",
]
PLACES = [
    "小区",
    "社区",
    "党群服务中心",
    "3号楼",
    "东门",
    "地下车库",
    "活动室",
    "菜市场",
    "公园",
    "幼儿园",
    "卫生服务站",
    "停车场",
    "电梯间",
    "楼道",
    "老年食堂",
    "图书室",
    "篮球场",
    "北门岗亭",
    "快递柜旁",
    "12号楼",
]
PEOPLE = [
    "党员",
    "居民",
    "志愿者",
    "物业",
    "业主",
    "老人",
    "孩子",
    "网格员",
    "楼长",
    "支部书记",
    "预备党员",
    "退休党员",
    "年轻党员",
    "社区民警",
    "保洁阿姨",
    "外卖小哥",
]
THINGS = [
    "停车",
    "垃圾分类",
    "电梯维修",
    "绿化",
    "路灯",
    "噪音",
    "快递",
    "充电桩",
    "消防通道",
    "健身器材",
    "下水道",
    "物业费",
    "外墙脱落",
    "门禁",
    "监控",
    "雨棚",
    "宠物",
    "共享单车",
    "无障碍通道",
    "无人机",
]
ACTS = [
    "学习",
    "讨论",
    "报名",
    "参加",
    "组织",
    "检查",
    "整改",
    "反映",
    "宣传",
    "登记",
    "维修",
    "清理",
    "巡查",
    "走访",
    "慰问",
    "投票",
]
EVENTS = [
    "党员大会",
    "主题党日",
    "党课",
    "组织生活会",
    "民主评议",
    "志愿服务",
    "三会一课",
    "支委会",
    "读书会",
    "座谈会",
    "义诊活动",
    "消防演练",
    "文艺汇演",
    "理论学习",
]
OPINIONS = [
    "我觉得这个问题很重要",
    "建议尽快解决",
    "希望大家积极参与",
    "谢谢大家的支持",
    "这个办法不错",
    "我同意楼上的意见",
    "情况已经好转了",
    "还需要继续跟进",
    "请支部书记协调一下",
    "大家有什么想法可以留言",
    "问题已经反映给物业",
    "下次会议再讨论",
]
LATIN = [
    "WiFi",
    "PPT",
    "Excel",
    "PDF",
    "APP",
    "微信群",
    "Zoom",
    "QQ",
    "email",
    "iPad",
    "Python",
    "AI",
    "5G",
    "U盘",
    "GPS",
    "Word",
    "OK",
    "PM2.5",
    "ETC",
    "CPU",
]
NUMBERS = ["2026", "2025", "28", "502", "110", "12", "3", "8", "100", "1000", "9", "15", "2024", "30"]

TEMPLATES = [
    "{time}在{place}{act}{event}，请{people}准时参加。",
    "关于{place}的{thing}问题，{opinion}。",
    "{people}反映{place}{thing}的情况，{opinion}。",
    "{time}的{event}材料已经做成{latin}发到{latin2}里了，请大家提前{act}。",
    "{place}的{thing}已经{act}完毕，共{num}处，{opinion}。",
    "我是{num}号楼的{people}，{thing}的事情{opinion}。",
    "{event}定于{time}召开，地点在{place}，议题是{thing}。",
    "请各位{people}在{num}日前{act}，用{latin}填写表格。",
    "{place}附近的{thing}问题{opinion}，{people}都很关心。",
    "{time}{people}一起{act}了{place}的{thing}，{opinion}！",
    "会议记录：{event}，到会{num}人，{act}{thing}相关事项。",
    "{latin}上看到{thing}的通知，{opinion}。",
]
MARKDOWN_DECOR = [
    ("**", "**"),
    ("", ""),
    ("", ""),
    ("", ""),
    ("> ", ""),
    ("- ", ""),
]


def _zipf_choice(rng: random.Random, words: list[str]) -> str:
    # P(word i) ~ 1/(i+1): the head of each list is common, the tail rare.
    weights = _WEIGHTS.setdefault(len(words), [1.0 / (i + 1) for i in range(len(words))])
    return rng.choices(words, weights)[0]


_WEIGHTS: dict[int, list[float]] = {}


def sentence(rng: random.Random) -> str:
    template = rng.choice(TEMPLATES)
    return template.format(
        time=_zipf_choice(rng, TIMES),
        place=_zipf_choice(rng, PLACES),
        people=_zipf_choice(rng, PEOPLE),
        thing=_zipf_choice(rng, THINGS),
        act=_zipf_choice(rng, ACTS),
        event=_zipf_choice(rng, EVENTS),
        opinion=_zipf_choice(rng, OPINIONS),
        latin=_zipf_choice(rng, LATIN),
        latin2=_zipf_choice(rng, LATIN),
        num=_zipf_choice(rng, NUMBERS),
    )


def post_text(rng: random.Random) -> str:
    """One post: 1-6 sentences (30-250 characters), sometimes with Markdown."""
    sentences = [sentence(rng) for _ in range(rng.choice((1, 2, 2, 3, 3, 4, 6)))]
    if len(sentences) > 2 and rng.random() < 0.3:
        return "\n".join("- " + s for s in sentences)
    head, tail = rng.choice(MARKDOWN_DECOR)
    if head == "**":
        sentences[0] = f"**{sentences[0]}**"
        return "".join(sentences)
    return head + "".join(sentences) + tail


def topic_title(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{_zipf_choice(rng, PLACES)}{_zipf_choice(rng, THINGS)}问题讨论",
            f"{_zipf_choice(rng, TIMES)}{_zipf_choice(rng, EVENTS)}安排",
            f"关于{_zipf_choice(rng, THINGS)}的建议",
            f"{_zipf_choice(rng, EVENTS)}学习心得",
        ]
    )


# The searches timed by bench/forum.py: (class, query).
QUERIES = [
    ("zh-1", "党"),
    ("zh-1", "车"),
    ("zh-1", "楼"),
    ("zh-1", "会"),
    ("zh-1", "灯"),
    ("zh-2", "党员"),
    ("zh-2", "停车"),
    ("zh-2", "物业"),
    ("zh-2", "电梯"),
    ("zh-2", "党课"),
    ("zh-2", "宠物"),
    ("multi", "党员 大会"),
    ("multi", "停车 物业费"),
    ("multi", "小区停车难"),
    ("multi", "垃圾分类 宣传 志愿者"),
    ("multi", "电梯维修 整改"),
    ("multi", "主题党日 PPT"),
    ("latin", "WiFi"),
    ("latin", "ppt"),
    ("latin", "Excel"),
    ("latin", "python"),
    ("latin", "GPS"),
    ("number", "2026"),
    ("number", "502"),
    ("number", "28"),
    ("number", "12345"),
    ("none", "火星"),
    ("none", "quantum"),
]


# --------------------------------------------------------------------------- django side


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()


def _session_cookie(user) -> str:
    """A logged-in session for `user`, as django.contrib.auth.login() stores it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _users(prefix: str, count: int, name: str, password_hash: str, branch) -> list:
    from django.contrib.auth import get_user_model

    from accounts.models import Membership

    User = get_user_model()
    names = [f"{prefix}{i:04d}" for i in range(count)]
    User.objects.bulk_create(
        [User(username=u, first_name=f"{name}{i}", password=password_hash) for i, u in enumerate(names)],
        batch_size=500,
    )
    users = list(User.objects.filter(username__in=names).order_by("username"))
    Membership.objects.bulk_create(
        [Membership(user=u, branch=branch, role=Membership.Role.FULL) for u in users], batch_size=500
    )
    return users


def seed(cfg: dict) -> dict:
    _setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.identity import identity_for_user
    from accounts.models import Branch
    from forum import actions
    from forum.models import Board, Post
    from moderation.actions import review_item
    from moderation.models import ReviewItem

    out: dict = {"timings": {}}
    t0 = time.monotonic()
    User = get_user_model()
    b1 = Branch.objects.get(name="第一党支部")
    b2 = Branch.objects.get(name="第二党支部")
    password_hash = make_password(DEMO_PASSWORD)
    readers = _users("bench_r", cfg["readers"], "读者", password_hash, b1)
    posters = _users("bench_p", cfg["posters"], "发帖人", password_hash, b1)
    moderator = identity_for_user(User.objects.get(username="banzhu"))
    secretary2 = identity_for_user(User.objects.get(username="shuji2"))
    out["reader_cookies"] = [_session_cookie(u) for u in readers]
    out["poster_cookies"] = [_session_cookie(u) for u in posters]
    searcher = User.objects.get(username="dangyuan")  # member of 第一党支部 and 第一党小组, not 第二党支部
    out["search_cookie"] = _session_cookie(searcher)
    out["timings"]["users_sessions"] = time.monotonic() - t0

    t1 = time.monotonic()
    board = Board.objects.create(branch=b1, name="千人在线", description="bench/forum.py")
    topic, _first = actions.create_topic(
        identity=moderator, board=board, title="千人在线：本周支部工作讨论", body="欢迎大家在这里讨论本周的支部工作。"
    )
    out["topic"] = topic.pk
    # A new member's first posts wait for review: post them and approve them, as a
    # moderator would, so the timed posts are published at once.
    welcome, _ = actions.create_topic(identity=moderator, board=board, title="新成员报到", body="请新成员在此报到。")
    for user in posters:
        ident = identity_for_user(user)
        for i in range(actions.PREMODERATE_FIRST_POSTS):
            post = actions.create_post(
                identity=ident, topic_id=welcome.pk, body=f"报到 {i + 1}：我是{user.first_name}。"
            )
            if post.status == Post.Status.PENDING:
                item = ReviewItem.objects.get(target_type="forum.post", target_id=post.pk)
                review_item(identity=moderator, item_id=item.pk, version=item.version, decision="approve")
    out["timings"]["topic_posters"] = time.monotonic() - t1

    # ---- the search corpus
    t2 = time.monotonic()
    rng = random.Random(cfg.get("seed", 20261122))
    n_posts = cfg["posts"]
    voice = Board.objects.filter(branch=b1, visibility=Board.Visibility.PUBLIC).first() or Board.objects.create(
        branch=b1, name="群众之声", visibility=Board.Visibility.PUBLIC
    )
    other, _ = Board.objects.get_or_create(branch=b2, name="支部交流", defaults={"description": "第二党支部"})
    b1_authors = [u.pk for u in readers + posters] or [moderator.user_id]
    b2_authors = [secretary2.user_id]
    per_topic = 100
    n_topics = (n_posts + per_topic - 1) // per_topic if n_posts else 0
    topics = []  # (topic, authors)
    for i in range(n_topics):
        roll = i % 10  # 6 in 10 topics members-only, 2 public, 2 in a branch the searcher cannot read
        if roll < 6:
            board_, ident, authors = board, moderator, b1_authors
        elif roll < 8:
            board_, ident, authors = voice, moderator, b1_authors
        else:
            board_, ident, authors = other, secretary2, b2_authors
        t, _p = actions.create_topic(identity=ident, board=board_, title=topic_title(rng), body=post_text(rng))
        topics.append((t, authors))
    out["timings"]["corpus_topics"] = time.monotonic() - t2
    t3 = time.monotonic()
    remaining = max(0, n_posts - n_topics)  # each topic's first post counts
    plan = []  # (topic index) for each bulk post, in order
    for i in range(remaining):
        plan.append(i % n_topics)
    batch = 1000
    chars = 0
    for start in range(0, len(plan), batch):
        with transaction.atomic():
            rows = []
            for ti in plan[start : start + batch]:
                t, authors = topics[ti]
                t.last_number += 1
                source = post_text(rng)
                chars += len(source)
                rows.append(
                    Post(
                        topic=t,
                        number=t.last_number,
                        author_id=rng.choice(authors),
                        source=source,
                        html=actions.render_markdown(source),
                        status=Post.Status.VISIBLE,
                    )
                )
            Post.objects.bulk_create(rows)
            for post in rows:
                actions.index_post(post)  # post.topic (and its board) are the cached objects
        if cfg.get("progress") and (start // batch) % 10 == 9:
            print(
                json.dumps({"progress": start + batch, "seconds": round(time.monotonic() - t3, 1)}),
                file=sys.stderr,
                flush=True,
            )
    with transaction.atomic():
        from django.db.models import Count, Max

        from forum.models import Topic

        stats = (
            Post.objects.filter(topic__in=[t for t, _ in topics], status=Post.Status.VISIBLE)
            .values("topic")
            .annotate(n=Count("id"), last=Max("number"), at=Max("created_at"))
        )
        for row in stats:
            Topic.objects.filter(pk=row["topic"]).update(
                post_count=row["n"], last_number=row["last"], last_post_at=row["at"]
            )
    out["timings"]["corpus_posts"] = time.monotonic() - t3
    t4 = time.monotonic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute("PRAGMA optimize")
    out["timings"]["analyze"] = time.monotonic() - t4
    from search.models import SearchDocument

    out["corpus"] = {
        "posts": Post.objects.filter(topic__in=[t for t, _ in topics]).count(),
        "topics": len(topics),
        "documents": SearchDocument.objects.count(),
        "avg_chars": round(chars / max(1, len(plan)), 1),
    }
    out["matches"] = match_counts()
    out["timings"]["total"] = time.monotonic() - t0
    out["vendor"] = connection.vendor
    return out


def match_counts() -> dict[str, int]:
    """For each benchmark query: how many indexed documents match it (all branches)."""
    from django.db import connection

    from search.segmentation import segment_query

    counts = {}
    with connection.cursor() as cur:
        for _cls, q in QUERIES:
            tokens = segment_query(q)
            if connection.vendor == "postgresql":
                cur.execute(
                    "SELECT count(*) FROM search_searchdocument WHERE search_vector @@ plainto_tsquery('simple', %s)",
                    [" ".join(tokens)],
                )
            else:
                cur.execute(
                    "SELECT count(*) FROM search_fts WHERE search_fts MATCH %s",
                    [" ".join('"' + t.replace('"', '""') + '"' for t in tokens)],
                )
            counts[q] = cur.fetchone()[0]
    return counts


def verify(cfg: dict) -> dict:
    """Every acknowledged post id is a visible post of the topic, with its marker, once."""
    _setup()
    from forum.models import Post

    ids = cfg["post_ids"]
    rows = dict(Post.objects.filter(pk__in=ids).values_list("pk", "status"))
    marked = Post.objects.filter(topic_id=cfg["topic"], source__contains="BLT").count()
    wrong_topic = Post.objects.filter(pk__in=ids).exclude(topic_id=cfg["topic"]).count()
    return {
        "acked": len(ids),
        "unique_acked": len(set(ids)),
        "found": len(rows),
        "visible": sum(1 for s in rows.values() if s == Post.Status.VISIBLE),
        "marked_in_topic": marked,
        "wrong_topic": wrong_topic,
    }


def members(cfg: dict) -> dict:
    """`count` more full members of 第一党支部, each with a logged-in session (bench/idle.py)."""
    _setup()
    from django.contrib.auth.hashers import make_password

    from accounts.models import Branch

    users = _users(cfg.get("prefix", "bench_i"), cfg["count"], "在线党员", make_password(DEMO_PASSWORD), Branch.objects.get(name="第一党支部"))
    return {"cookies": [_session_cookie(u) for u in users]}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in {"seed", "verify", "members"}:
        result = {"seed": seed, "verify": verify, "members": members}[sys.argv[1]](json.loads(sys.argv[2]))
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        print("usage: _forum_data.py seed|verify|members '<json>'", file=sys.stderr)
        sys.exit(2)
