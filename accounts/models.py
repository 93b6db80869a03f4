"""Branches (a tree), memberships with roles, and citizens without accounts."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}) from exc


class Branch(models.Model):
    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("committee")
        BRANCH = "branch", _("branch")
        GROUP = "group", _("group")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BRANCH)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent"),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def ancestors(self) -> list[Branch]:
        """Parents up to the root, nearest first; stops at a cycle (the tree has 3 levels)."""
        chain: list[Branch] = []
        node = self.parent
        seen = {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain

    def clean(self) -> None:
        node, hops = self.parent, 0
        while node is not None and hops < 50:
            if self.pk is not None and node.pk == self.pk:
                raise ValidationError(_("A branch cannot be its own ancestor."))
            node, hops = node.parent, hops + 1

    def to_dict(self) -> dict:
        return {"id": self.pk, "name": self.name, "kind": self.kind, "time_zone": self.time_zone}


class Membership(models.Model):
    """One role of one user in one branch; a user may hold several rows.

    A secretary is a full member with vote; a moderator's vote comes from a separate
    full-member row, since moderators may also be probationary members.
    """

    class Role(models.TextChoices):
        FULL = "full", _("full member")
        PROBATIONARY = "probationary", _("probationary member")
        SECRETARY = "secretary", _("secretary")
        MODERATOR = "moderator", _("moderator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("user"),
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("branch")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    since = models.DateField(_("since"), null=True, blank=True)
    # 延长预备期: on a probationary row, the day an extended probationary period ends
    # (accounts/party_dates.py); null: the year from `since`.
    probation_until = models.DateField(_("probation extended to"), null=True, blank=True)

    class Suspension(models.TextChoices):
        """Why a full member's rights to vote, to elect and to be elected are suspended
        (基层组织选举工作条例; accounts/rights.py)."""

        NONE = "", _("not suspended")
        DISCIPLINE = "discipline", _("on probation within the party (留党察看)")
        DETAINED = "detained", _("detained or arrested under the law")

    # On a full member's row: their rights suspended, and for 留党察看 until when (the
    # day they return; null: until the secretary restores them).
    rights_suspended = models.CharField(_("rights suspended"), max_length=16, blank=True, default="",
                                        choices=Suspension.choices)
    suspended_until = models.DateField(_("rights suspended until"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "branch", "role"], name="membership_unique_role"),
        ]
        indexes = [models.Index(fields=["branch", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.branch} ({self.get_role_display()})"

    @property
    def has_vote(self) -> bool:
        return self.role in (self.Role.FULL, self.Role.SECRETARY)


def hash_citizen_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Citizen(models.Model):
    """A person without an account, known only by a secret token they keep.

    Only the SHA-256 of the token is stored: the token has 192 random bits, so a
    plain hash is enough (no salt or slow hash needed against guessing).
    """

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        indexes = [models.Index(fields=["created_at"])]  # the cap on new citizens counts the last minute

    def __str__(self) -> str:
        return self.display_name or f"{_('citizen')} #{self.pk}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(24)


class LoginFailure(models.Model):
    """A failed password login, kept for a while to slow down password guessing
    (accounts/throttle.py)."""

    username = models.CharField(max_length=150)  # as typed, lower-cased
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "at"])]


class PasswordResetRequest(models.Model):
    """A request for a password reset e-mail, kept for a while so one address cannot be
    sent link after link (accounts/throttle.py)."""

    email = models.CharField(max_length=254)  # as typed, lower-cased
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["email", "at"])]


class MailSettings(models.Model):
    """What a member wants by e-mail (when the server sends mail), the language of
    their pages and mail (accounts/language.py) and their pages' appearance
    (accounts/appearance.py); no row = the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="mail_settings")
    announcements = models.BooleanField(_("new announcements by e-mail"), default=True)
    # 每日摘要 (announcements/digest.py): once a day, what they have not read yet.
    digest = models.BooleanField(_("a daily digest by e-mail"), default=False)
    digest_hour = models.PositiveSmallIntegerField(_("hour of the daily digest"), default=8)  # on their branch's clock
    # 提醒邮件 (accounts/notification_mail.py): notifications still unread a while after
    # they came, by kind.
    notify_mentions = models.BooleanField(_("mentions by e-mail"), default=True)
    notify_meetings = models.BooleanField(_("meetings and leave by e-mail"), default=True)
    notify_posts = models.BooleanField(_("moderation of my posts by e-mail"), default=True)
    notify_discussions = models.BooleanField(_("topic discussions by e-mail"), default=True)
    notify_membership = models.BooleanField(_("my party standing by e-mail"), default=True)
    # 每周待办 (frontend/weekly.py): for those who run a branch, on Monday, what waits on them.
    weekly = models.BooleanField(_("a weekly summary of what waits on me by e-mail"), default=True)
    weekly_day = models.PositiveSmallIntegerField(_("day of the weekly summary"), default=0)  # 0 Monday … 6 Sunday
    # A code of LANGUAGES, chosen with the header's switch; "": the site's LANGUAGE_CODE.
    language = models.CharField(_("language"), max_length=10, blank=True, default="")

    class Theme(models.TextChoices):
        DEVICE = "", _("As the device is set")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    class TextSize(models.TextChoices):
        STANDARD = "", _("Standard")
        LARGE = "large", _("Large")
        LARGER = "larger", _("Larger still")

    # 外观 (accounts/appearance.py), chosen on 我的账号.
    theme = models.CharField(_("appearance"), max_length=5, blank=True, default="", choices=Theme.choices)
    text_size = models.CharField(_("text size"), max_length=6, blank=True, default="", choices=TextSize.choices)

    class Meta:
        verbose_name = _("e-mail settings")
        verbose_name_plural = _("e-mail settings")


class WeeklySent(models.Model):
    """每周待办: a member's weekly summary for one week (its Monday, on their clock) has
    been made, by one process (the unique key is the claim), whether or not it had
    anything to say (frontend/weekly.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()  # the Monday
    at = models.DateTimeField(auto_now_add=True)
    mailed = models.BooleanField(default=False)  # False: nothing waited, no mail

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="weekly_once_a_week")]


class AnniversaryGreeted(models.Model):
    """政治生日: a member has been greeted on their political birthday (`day`, on their
    branch's clock), by one process (the unique key is the claim; accounts/party_dates.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="anniversary_greeted_once")]


class ProbationReminded(models.Model):
    """转正申请: a probationary member has been reminded that their period here ends on
    `ends` (the year's end, or as extended), once, by one process (the unique key is the
    claim; accounts/party_dates.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    ends = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "branch", "ends"], name="probation_reminded_once")]


class NotificationMail(models.Model):
    """提醒邮件 (accounts/notification_mail.py), per member: when the mail of their
    unread notifications is due (null: none pending), since when it gathers them, and
    the newest notification a mail has told, so that none is told twice."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="+")
    due_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    mailed_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="notificationmail_due",
                                condition=models.Q(due_at__isnull=False))]


class LoginSession(models.Model):
    """登录设备: one browser a member is signed in on (a Django session), with what they
    would know it by, so that they can see where they are signed in and sign out of any
    of them (accounts/devices.py). The session itself stays Django's."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen"], name="loginsession_by_user")]


class Draft(models.Model):
    """草稿 kept on the server (accounts/drafts.py): what a member typed into a compose
    form and has not posted yet, so that it follows them to their other devices."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Where it belongs, as the page names it: "announcement:3", "topic:5", "reply:17".
    place = models.CharField(max_length=48)
    fields = models.JSONField(default=dict)  # {"title": "…", "body": "…"}
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "place"], name="draft_one_per_place")]


class TwoFactor(models.Model):
    """两步验证: after the password, a six-digit code from an authenticator app on the
    member's phone (TOTP, RFC 6238), or one of their recovery codes (accounts/two_factor.py)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="two_factor")
    # The key the app was given (base32), sealed under SECRET_KEY (accounts/two_factor.py):
    # a copy of the database alone does not give anyone the members' codes.
    sealed_key = models.BinaryField(editable=False)
    # None while being set up: the password alone still logs in until a code confirms it.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The 30-second step of the last code accepted: a code is good once.
    last_step = models.BigIntegerField(default=0)
    recovery = models.JSONField(default=list)  # SHA-256 hex of the unused recovery codes
    # Moved on to make every remembered browser ask for the code again.
    trust_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("two-step verification")
        verbose_name_plural = _("two-step verification")

    def __str__(self) -> str:
        return str(self.user)


class SecurityRecord(models.Model):
    """安全记录: one thing that happened to how an account is entered, for the member's
    我的账号 and for administrators: a login (and how), a wrong password or code, and
    every security notice (accounts/security.py). Kept security.LOG_DAYS."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_records")
    kind = models.CharField(max_length=40)  # security.LOGIN, .LOGIN_FAILED, or a notice's type
    data = models.JSONField(default=dict, blank=True)  # browser, ip, and what the kind says
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("security record")
        verbose_name_plural = _("security records")
        indexes = [models.Index(fields=["user", "-at"], name="security_record_by_user"),
                   models.Index(fields=["at"], name="security_record_by_age")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Passkey(models.Model):
    """通行密钥: a WebAuthn credential (a passkey in the phone's or computer's password
    manager, or a security key) that logs its member in without a password
    (accounts/passkeys.py). Only the public key is kept here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    # The credential's id (base64url, as the browser names it; at most 1,023 bytes).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE, as the authenticator gave it
    # Authenticators that count their uses: a count that goes back means a copied key.
    sign_count = models.PositiveBigIntegerField(default=0)
    name = models.CharField(_("name"), max_length=60)
    # Synced between the member's devices by their password manager (not a single key).
    backed_up = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        indexes = [models.Index(fields=["user", "created_at"], name="passkey_by_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"
