"""Branchline settings.

Twelve-factor: every deployment choice comes from the environment, and the embedded
defaults (SQLite in WAL mode, in-memory channel layer) need no variable at all.
The scaled shape is selected by DATABASE_URL=postgres://... and REDIS_URL=redis://...
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_minutes(name: str, default: str) -> tuple[int, ...]:
    """Minutes from a list like 1440,30 -> (1440, 30), the longest first; empty or 0 -> () (off)."""
    from django.core.exceptions import ImproperlyConfigured

    raw = os.environ.get(name, default).strip()
    try:
        minutes = {int(part) for part in raw.split(",") if part.strip()} - {0}
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be minutes separated by commas, like 1440,30; got {raw!r}") from None
    if any(m < 0 or m > 60 * 24 * 30 for m in minutes):
        raise ImproperlyConfigured(f"{name}: each value must be between 1 and 43200 minutes (30 days); got {raw!r}")
    return tuple(sorted(minutes, reverse=True))


DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment; else one generated once and kept in var/.

    The embedded shape needs no configuration, yet never runs on a key that anyone
    else knows. Several processes of a deployment must share one SECRET_KEY.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    import secrets

    path = BASE_DIR / "var" / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        try:
            with open(path, "x") as handle:  # "x": a concurrent first start keeps the first key
                handle.write(key)
            os.chmod(path, 0o600)
        except FileExistsError:
            pass
        return path.read_text().strip()


SECRET_KEY = _secret_key()
# Keys SECRET_KEY has replaced, still accepted: Django checks sessions and signatures
# against them, and meetings/sealing.py tries them on secret votes' sealed tallies. Keep
# the old key here until every secret vote prepared or open at the change has closed.
SECRET_KEY_FALLBACKS = [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# A form refused by the CSRF check gets a page in the reader's language (frontend/views.py).
CSRF_FAILURE_VIEW = "frontend.views.csrf_failure"
PORT = env_int("PORT", 8000)  # daphne's port is given on its command line (Makefile)

# Behind a TLS-terminating proxy (docs/deploy.md): trust its X-Forwarded-Proto and
# send cookies only over HTTPS.
if env_bool("HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
    # What still reaches daphne over plain HTTP, not through the proxy (which redirects
    # itself and says X-Forwarded-Proto: https), is sent to HTTPS too; but for the health
    # check and the metrics, which a monitor on the machine asks of each daphne directly.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

INSTALLED_APPS = [
    "daphne",
    "server.admin_site.BranchlineAdminConfig",  # django.contrib.admin, with ADMIN_TWO_FACTOR
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "accounts",
    "realtime",
    "announcements",
    "moderation",
    "search",
    "forum",
    "meetings",
    "frontend",
    "ninja",  # /api/docs serves Swagger UI from its static files, not from a CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the rest, so error pages made from their exceptions get the policy too.
    "server.middleware.SecurityHeadersMiddleware",
    # Django's, without answering a stale session cookie by deleting the browser's newer one.
    "server.middleware.SessionMiddleware",
    # Chinese unless the person chose English (cookie): the browser's Accept-Language
    # is not consulted, since members' phones are often set to English.
    "server.middleware.IgnoreAcceptLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.CitizenMiddleware",
    # Notes now and then that a signed-in session is in use (我的账号's list of devices).
    "accounts.devices.DeviceSeenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # With TWO_FACTOR_REQUIRED, those it names reach only 我的账号 until they turn it on.
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The Django admin only for staff who have two-step verification on (server/admin_site.py).
ADMIN_TWO_FACTOR = env_bool("ADMIN_TWO_FACTOR", False)


def _two_factor_required(value: str) -> frozenset[str]:
    """TWO_FACTOR_REQUIRED: who must turn on two-step verification before using the site,
    a comma list of `secretary`, `moderator`, `staff`, or `all` (accounts/two_factor.py)."""
    from django.core.exceptions import ImproperlyConfigured

    roles = frozenset(part.strip().lower() for part in value.split(",") if part.strip())
    unknown = roles - {"secretary", "moderator", "staff", "all"}
    if unknown:
        raise ImproperlyConfigured(
            f"TWO_FACTOR_REQUIRED: unknown {', '.join(sorted(unknown))}; use secretary, moderator, staff or all")
    return roles


TWO_FACTOR_REQUIRED = _two_factor_required(os.environ.get("TWO_FACTOR_REQUIRED", ""))

# Content-Security-Policy of the pages (server/middleware.py): "enforce", "report"
# (Report-Only: violations are logged, nothing is refused) or "off".
CSP = os.environ.get("CSP", "enforce").strip().lower()
if CSP not in ("enforce", "report", "off"):
    raise ValueError(f"CSP must be enforce, report or off, not {CSP!r}")

ROOT_URLCONF = "server.urls"
ASGI_APPLICATION = "server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "server.db.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "var" / "branchline.sqlite3")),
        }
    }
# Django's backends with the write path's needs on top (server/db/): WAL checkpoints
# off the commit path on SQLite; on PostgreSQL no health-check round trip on a busy
# connection, and BEGIN sent with a transaction's first statement.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.sqlite3": "server.db.sqlite3",
    "django.db.backends.postgresql": "server.db.postgresql",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"] == "server.db.sqlite3":
    # Concurrent writers: IMMEDIATE takes the write lock at BEGIN, so two writers
    # queue on the busy timeout instead of failing with "database is locked" when a
    # read transaction tries to upgrade; WAL lets readers run beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file, not Django's shared-cache in-memory database: shared cache
    # locks whole tables and ignores the busy timeout, so tests of concurrent writers
    # would see errors the real (file) database never gives.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
        "SQLITE_TEST_PATH", str(BASE_DIR / "var" / "test.sqlite3")
    )

# Keep database connections open between thread hops. With 0, every
# database_sync_to_async call (one per WebSocket op, several per connect) opened a new
# connection and closed it again: on PostgreSQL a TCP connect + backend start per op;
# on SQLite a connect + PRAGMAs and, closing the last connection, a WAL checkpoint.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL: prepare the statements of every op once per connection (server/db/prepared.py).
DATABASES["default"]["PREPARE_HOT"] = env_bool("DB_PREPARE", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: one published message reaches every process subscribed to the
            # group, which is exactly the "doorbell per process" the hub needs.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py 8 defaults to a 5 s socket timeout, which kills the
                        # idle pub/sub connection; and its 100-connection pool cap
                        # fails a connect storm.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 15,
                        "max_connections": 10000,
                    }
                ],
                "prefix": os.environ.get("REDIS_PREFIX", "branchline"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # One hub channel per process receives every event: give it room, and
            # never let group membership expire under a long-running server.
            "CONFIG": {"capacity": 100_000, "expiry": 60, "group_expiry": 10 * 365 * 86400},
        }
    }

# --- Auth, sessions ---------------------------------------------------------------
# Django's password backend, refusing a username after too many failed logins
# (accounts/throttle.py). Django's own stays listed so that sessions made before
# the throttle keep working (a session names the backend that logged it in).
AUTHENTICATION_BACKENDS = ["accounts.throttle.ThrottledModelBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
SESSION_COOKIE_AGE = 14 * 86400

# --- e-mail (password reset links) -------------------------------------------------
# EMAIL_HOST set: mail goes out over SMTP. EMAIL_CONSOLE=true (what `make run` sets):
# mail is printed on the server's output instead. Neither: the server sends no mail,
# and "forgot your password" says to ask the branch secretary for a link instead.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = 10
elif env_bool("EMAIL_CONSOLE", False):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
SENDS_EMAIL = bool(EMAIL_HOST) or env_bool("EMAIL_CONSOLE", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Branchline <noreply@localhost>")
# The public address, for links in mail sent without a request (new announcements).
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{PORT}")
# /metrics (realtime/metrics.py): with a token, read with "Authorization: Bearer <token>";
# without one, only from the machine itself.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# 提醒邮件 (accounts/notification_mail.py): a notification still unread this many seconds
# after it came is mailed (with any others that came meanwhile).
NOTIFICATION_MAIL_DELAY = env_int("NOTIFICATION_MAIL_DELAY", 600)
# A link to set a new password (by e-mail, or handed over by a secretary) works once,
# for this long.
PASSWORD_RESET_TIMEOUT = 3 * 86400

# --- i18n, time -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The server's own zone; pages show times in the branch's zone (Branch.time_zone).
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

# --- Static -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# --- Uploaded files (announcements' attachments) -------------------------------------
# Every server process must see the same folder (one machine, or a shared volume).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 20) * 1024 * 1024
# What one branch's files may take in all (announcements/attachments.py); 0: no limit.
BRANCH_ATTACHMENTS_BYTES = env_int("BRANCH_ATTACHMENTS_MB", 2048) * 1024 * 1024
# Where `manage.py backup` writes, and `manage.py restore` keeps what it replaces
# (realtime/backup.py); outside var/, which `make clean` deletes.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", str(BASE_DIR / "backups")))
# A withdrawn announcement's files (nobody may open them) are deleted this many days on.
WITHDRAWN_FILES_DAYS = env_int("WITHDRAWN_FILES_DAYS", 30)

# 会议提醒: those expected at a meeting (and not on approved leave) get a notification
# this many minutes before it starts, once for each value (meetings/actions.py).
MEETING_REMINDER_MINUTES = env_minutes("MEETING_REMINDERS", "1440,30")

# Uploads bigger than this are spooled to a temp file instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Real-time core -----------------------------------------------------------------
BRANCHLINE_REALTIME = {
    "MAX_FRAME_BYTES": env_int("WS_MAX_FRAME_BYTES", 64 * 1024),
    "RATE_PER_SECOND": env_int("WS_RATE_PER_SECOND", 20),
    "RATE_BURST": env_int("WS_RATE_BURST", 60),
    "RETENTION_DAYS": env_int("EVENT_RETENTION_DAYS", 7),
    "RETENTION_EVENTS": env_int("EVENT_RETENTION_EVENTS", 10_000),
    "MAX_SUBSCRIPTIONS": env_int("WS_MAX_SUBSCRIPTIONS", 200),
    # How often each process re-checks sessions and stream heads (seconds).
    "SESSION_CHECK_SECONDS": env_int("WS_SESSION_CHECK_SECONDS", 20),
    "HEAD_CHECK_SECONDS": env_int("WS_HEAD_CHECK_SECONDS", 5),
    "CATCHUP_BATCH": 500,
    # A socket is dropped once more than this many bytes wait for it in the server
    # beyond its largest frame (a reader that stopped reading); the client resumes.
    "SEND_BUFFER_MAX": env_int("WS_SEND_BUFFER_MAX", 4 * 1024 * 1024),
    # Presence lists name everyone on a stream up to this many people; past it,
    # subscribers are told only how many (realtime/presence.py).
    "PRESENCE_LIST_MAX": env_int("WS_PRESENCE_LIST_MAX", 100),
    # Group commit: at most this many waiting write ops share one transaction
    # (realtime/batching.py); 1 gives every op its own.
    "WRITE_BATCH": env_int("WS_WRITE_BATCH", 32),
    # daphne's --ping-interval + --ping-timeout: how long a dropped socket may have been
    # silent before it was noticed (a lost connection's stay ends that much earlier).
    "HEARTBEAT_SILENCE_SECONDS": env_int("WS_HEARTBEAT_SILENCE_SECONDS", 50),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}
