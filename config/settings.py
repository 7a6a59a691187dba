"""Redress settings: one module, every deployment difference read from the environment.

The defaults suit a developer's machine with PostgreSQL and Redis on loopback (which is what
the test suite uses). `make run` sets the embedded defaults (SQLite, a file-system Celery
transport, emails written to files) when DATABASE_URL or REDIS_URL are not set.
"""

import ipaddress
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The fallback key is public, so it is for a developer's machine only (DEBUG=1, as `make run`
# sets): whoever knows the key can forge sessions and customer links that never expire.
DEVELOPMENT_KEY = "django-insecure-local-development-key-never-use-in-production"
SECRET_KEY = env("SECRET_KEY") or DEVELOPMENT_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Keys that have been published: the fallback above and the placeholder docker-compose.yml
# carried before it required SECRET_KEY.
PUBLISHED_SECRET_KEYS = frozenset(
    {DEVELOPMENT_KEY, "change-me-this-key-is-public-and-only-fit-for-local-use"}
)


def secret_key_problem(key):
    """Why `key` may not sign a production site's sessions and links; '' when it may.

    The length and variety rules are those of Django's deploy check (security.W009)."""
    if key in PUBLISHED_SECRET_KEYS or key.startswith("django-insecure-"):
        return "SECRET_KEY is not set, or is a published placeholder"
    if len(key) < 50 or len(set(key)) < 5:
        return "SECRET_KEY is too weak (it needs at least 50 characters, 5 of them different)"
    return ""


def site_url_problem(url):
    """Why people may not reach the site at `url` without TLS; '' when they may."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return ""
    if parts.scheme == "http" and parts.hostname:
        try:
            loopback = ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if loopback:
            return ""
    return (
        f"SITE_URL {url!r} is not an https:// address (plain http is allowed on loopback only, "
        "since passwords and customer links would cross the network in clear)"
    )


# Production refuses to start unsafe: settings are the one module that web (gunicorn), worker
# and beat (celery) and manage.py all load, so each of them stops here with the reason.
if not DEBUG:
    _problems = [p for p in (secret_key_problem(SECRET_KEY), site_url_problem(SITE_URL)) if p]
    if _problems:
        raise ImproperlyConfigured(
            "Redress will not start with DEBUG off: "
            + "; ".join(_problems)
            + ". Set SECRET_KEY to a long random string (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))') and SITE_URL to the https:// address people "
            "use, or set DEBUG=1 on a developer's machine."
        )

INSTALLED_APPS = [
    "config.admin.RedressAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "accounts",
    "complaints",
    "reports",
    "django_prometheus",
]

MIDDLEWARE = [
    # Outermost, so that its timing and counts cover every other layer (django-prometheus).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Next, so that every log record of the request, the 503 page's too, carries its id.
    "config.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the database unavailable page, so that it carries them as every page does.
    "config.middleware.SecurityHeadersMiddleware",
    # Below WhiteNoise, so static files keep their caching and nothing else is stored.
    "config.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # PostgreSQL unreachable: a 503 page instead of a server error. Above everything that
    # may touch the database (the session, the signed-in user).
    "config.middleware.DatabaseUnavailableMiddleware",
    # Chooses the read replica for the pages that may use it (config/db_router.py).
    "config.db_router.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Says which second factor, if any, this session has passed (request.user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    # Deny by default: every view needs a signed-in user unless it is marked
    # @login_not_required, and those views are listed in config.urls.PUBLIC_URL_NAMES.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Then the second step: a signed-in user reaches nothing but the sign-in steps until the
    # session has passed the second factor, or enrolled one where it is required.
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Below the messages, so that a session ended for idleness can say so on the sign-in page.
    "accounts.middleware.IdleSessionTimeoutMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
    "config.metrics.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redress"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
EMBEDDED_DATABASE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if EMBEDDED_DATABASE:
    # Web, worker and beat share the embedded file; wait for a lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DB_CONNECT_TIMEOUT", 5
    )
# A read replica (a streaming standby) for the dashboard, the reports and the exports;
# config/db_router.py chooses it per page. Without DATABASE_REPLICA_URL every query goes to
# the primary. A browser that has just written reads from the primary for
# REPLICA_PIN_SECONDS, which must exceed the replica's usual lag (docs/scaling.md).
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL and not EMBEDDED_DATABASE:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {"connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5)}
    # Tests read the replica's rows from the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)
# PgBouncer in transaction mode hands each transaction to any server connection, so a cursor
# opened outside a transaction (Django's .iterator() on PostgreSQL) would be gone by the next
# fetch: the CSV export then fetches its rows client-side, in chunks, instead. Django's
# psycopg 3 backend prepares no statements unless OPTIONS asks it to (another server
# connection would not know them), and sets no time zone when the server's is UTC. Keeping
# Django's connection to PgBouncer open (DB_CONN_MAX_AGE) is cheap: PgBouncer holds the few
# real ones.
if env_bool("DB_BEHIND_PGBOUNCER"):
    for database in DATABASES.values():
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses further tries for a while (django-axes).
    "axes.backends.AxesStandaloneBackend",
    # Passwords, unless OIDC_ONLY; then single sign-on through the identity provider.
    "accounts.backends.PasswordBackend",
    "accounts.backends.IdentityProviderBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
# Per account and, separately, per address: many addresses get LOGIN_FAILURE_LIMIT guesses at
# an account between them, not each; one address gets as many across every account it tries.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
if env_bool("BEHIND_PROXY"):
    # Behind a proxy every request comes from the proxy's address; count the client's instead.
    AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.signin.attempted_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# OWASP ASVS 5.0 level 2: at least 12 characters, none of the 20,000 passwords most often
# found in breaches (the list Django ships), no rules about which kinds of character.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Two-step sign-in (accounts/mfa.py, docs/authentication.md). Administrators (superusers) and
# the roles listed must have a second factor; MFA_ENFORCED=0 (what `make run` sets for its
# demo users) requires it of nobody, but whoever has enrolled is still asked for it.
MFA_ENFORCED = env_bool("MFA_ENFORCED", True)
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", "manager")
MFA_REQUIRED_FOR_ALL = env_bool("MFA_REQUIRED_FOR_ALL", False)
# Wrong codes in a row before the session is signed out; each device also makes every
# further try wait twice as long as the one before (django-otp's throttling).
MFA_FAILURE_LIMIT = env_int("MFA_FAILURE_LIMIT", 5)
MFA_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = env("MFA_ISSUER", "Redress")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A passkey is a second factor after the password (which django-axes counts), not a way in.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Single sign-on through the firm's OpenID Connect provider (mozilla-django-oidc; see
# docs/authentication.md). Configured when OIDC_CLIENT_ID is set.
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_RP_CLIENT_ID = env("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env("OIDC_CLIENT_SECRET")
OIDC_OP_ISSUER = env("OIDC_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env("OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env("OIDC_SIGN_ALGORITHM", "RS256")
OIDC_RP_SCOPES = env("OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "login"
# Which claim carries the user's groups, and which group gives which role ("csr",
# "resolver", "manager" or "administrator"): OIDC_ROLE_GROUPS=complaints-managers=manager,...
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", "groups")
OIDC_ROLE_GROUPS = dict(item.split("=", 1) for item in env_list("OIDC_ROLE_GROUPS") if "=" in item)
OIDC_USERNAME_CLAIM = env("OIDC_USERNAME_CLAIM", "preferred_username")
# Hide the password form and refuse passwords, the admin's sign-in included.
OIDC_ONLY = env_bool("OIDC_ONLY", False)
# The provider is where the firm enforces its own second factor; set to 0 to ask for
# Redress's second factor after single sign-on as well.
OIDC_MFA_BY_PROVIDER = env_bool("OIDC_MFA_BY_PROVIDER", True)

LANGUAGE_CODE = "en-gb"
# The languages a customer may choose: their pages and emails follow the complaint's
# preferred_language. Staff pages stay English (no LocaleMiddleware).
LANGUAGES = [("en", "English"), ("es", "Spanish")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end libraries come from the npm registry (package.json), never copied in.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Attachments live outside the public URL space and are served only through a checked view.
ATTACHMENT_ROOT = Path(env("ATTACHMENT_ROOT", str(VAR_DIR / "attachments")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# What one complaint may take through the customer's link, whoever holds it.
CUSTOMER_DOCUMENTS_MAX = env_int("CUSTOMER_DOCUMENTS_MAX", 10)
CUSTOMER_DOCUMENTS_MAX_BYTES = env_int("CUSTOMER_DOCUMENTS_MAX_BYTES", 30 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The admin's history pages show earlier versions and never offer to revert to one: every
# change goes through the services (complaints/admin.py refuses the POST as well).
SIMPLE_HISTORY_REVERT_DISABLED = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email. Production sets EMAIL_HOST and friends; `make run` writes emails to var/mail.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Redress Complaints <complaints@example.com>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# A message claimed longer ago than this belongs to a worker that died mid-send, and the relay
# sends it again. It must outlast any send: an SMTP conversation is about ten exchanges, each
# bounded by EMAIL_TIMEOUT, hence twelve times it (2 minutes at the default 10 s).
OUTBOX_STALE_CLAIM_SECONDS = env_int("OUTBOX_STALE_CLAIM_SECONDS", 12 * EMAIL_TIMEOUT)

# Inbound email (docs/correspondence.md). Replies find their complaint through our Message-IDs,
# the reference in the subject, or the complaint's own reply address, complaints+<reference>@.
INBOUND_PLUS_ADDRESSING = env_bool("INBOUND_PLUS_ADDRESSING", True)
# A larger message keeps its text; its attachments are refused (each is also held to
# ATTACHMENT_MAX_BYTES like any upload).
INBOUND_MESSAGE_MAX_BYTES = env_int("INBOUND_MESSAGE_MAX_BYTES", 40 * 1024 * 1024)
# A folder of .eml files the mailbox job reads (make run sets var/mail/inbox); '' for none.
INBOUND_DROP_FOLDER = env("INBOUND_DROP_FOLDER")


def _mailbox(url):
    """imaps://user:password@host:993/INBOX?name=main&processed=Processed (the password
    percent-encoded): one IMAP mailbox the job polls. Without `processed`, a stored message is
    flagged on the server instead of moved."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return {
        "name": query.get("name") or parts.hostname,
        "host": parts.hostname,
        "port": parts.port or (993 if parts.scheme == "imaps" else 143),
        "ssl": parts.scheme == "imaps",
        "starttls": query.get("starttls") == "1",
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "folder": unquote(parts.path.lstrip("/")) or "INBOX",
        "processed_folder": query.get("processed", ""),
    }


# The category a complaint that arrives by email starts in, until staff classify it.
INBOUND_CATEGORY = env("INBOUND_CATEGORY", "Not yet classified")
# Comma-separated mailbox URLs (see _mailbox).
INBOUND_MAILBOXES = [_mailbox(url) for url in env_list("INBOUND_MAILBOXES") if url]
INBOUND_IMAP_TIMEOUT = env_int("INBOUND_IMAP_TIMEOUT", 30)
# Mailgun's inbound routes post to /api/v1/inbound/mailgun/, signed with this key (Mailgun's
# "HTTP webhook signing key"); without it the address answers 404.
INBOUND_MAILGUN_SIGNING_KEY = env("INBOUND_MAILGUN_SIGNING_KEY")
# How long a poll of one mailbox holds it; a worker that died holding it is presumed dead after.
INBOUND_CLAIM_SECONDS = env_int("INBOUND_CLAIM_SECONDS", 10 * 60)

# Celery. Configuration lives here (namespace CELERY_); config/celery.py loads it.
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A web request must never hang on a dead broker: fail fast, the outbox retries.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A task is acknowledged only when done, one at a time, and requeued if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Periodic jobs. Each scans the database and claims its work, so a missed or doubled beat
# tick is harmless. Later issues add their jobs here.
CELERY_BEAT_SCHEDULE = {
    # Every clock of every regulatory profile (docs/clocks.md); the two jobs after it are the
    # same sweep narrowed to the acknowledgment and the response clocks, kept under the
    # names operators know: a clock two of them reach is still acted on once.
    "enforce_clocks": {"task": "complaints.tasks.enforce_clocks", "schedule": 5 * 60.0},
    "enforce_acknowledgment_deadline": {
        "task": "complaints.tasks.enforce_acknowledgment_deadline",
        "schedule": 5 * 60.0,
    },
    "enforce_resolution_targets": {
        "task": "complaints.tasks.enforce_resolution_targets",
        "schedule": 15 * 60.0,
    },
    "send_follow_ups": {"task": "complaints.tasks.send_follow_ups", "schedule": 60 * 60.0},
    "relay_outbox": {"task": "complaints.tasks.relay_outbox", "schedule": 60.0},
    # What became each person's turn, one email per person per run: at most one every
    # SIGNAL_DIGEST_MINUTES.
    "send_signal_digests": {
        "task": "complaints.tasks.send_signal_digests",
        "schedule": env_int("SIGNAL_DIGEST_MINUTES", 5) * 60.0,
    },
    "poll_mailboxes": {"task": "complaints.tasks.poll_mailboxes", "schedule": 60.0},
    # Builds each period's report once it has closed; hourly, so a missed run catches up.
    "build_trend_reports": {"task": "reports.tasks.build_trend_reports", "schedule": 60 * 60.0},
    # The tamper-evident record (docs/data-protection.md): new rows join their case's chain.
    "chain_record": {"task": "complaints.tasks.chain_record", "schedule": 5 * 60.0},
    # Anonymises closed cases past their retention policy; daily is plenty for years.
    "apply_retention": {"task": "complaints.tasks.apply_retention", "schedule": 24 * 60 * 60.0},
}

# Business rules that managers may tune per deployment.
ACKNOWLEDGMENT_HOURS = env_int("ACKNOWLEDGMENT_HOURS", 24)
ACKNOWLEDGMENT_WARNING_HOURS = env_int("ACKNOWLEDGMENT_WARNING_HOURS", 18)
FEEDBACK_REQUEST_DELAY_DAYS = env_int("FEEDBACK_REQUEST_DELAY_DAYS", 3)
FEEDBACK_REMINDER_DAYS = env_int("FEEDBACK_REMINDER_DAYS", 5)
FOLLOW_UP_CLOSE_DAYS = env_int("FOLLOW_UP_CLOSE_DAYS", 7)
RESOLUTION_APPROVAL_THRESHOLD = Decimal(env("RESOLUTION_APPROVAL_THRESHOLD", "500"))
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "GBP")
# The customer's country when intake is not told it (ISO code); it chooses the regulatory
# profile with the product (docs/clocks.md).
FIRM_COUNTRY = env("FIRM_COUNTRY", "GB")
# Resolution targets by complexity: (amount, unit) with unit "business_days" or "calendar_days".
RESOLUTION_TARGETS = {
    "simple": (env_int("TARGET_SIMPLE_BUSINESS_DAYS", 3), "business_days"),
    "standard": (env_int("TARGET_STANDARD_BUSINESS_DAYS", 10), "business_days"),
    "complex": (env_int("TARGET_COMPLEX_CALENDAR_DAYS", 30), "calendar_days"),
}

# Security. Production runs with DEBUG off behind TLS; `check --deploy` must be clean.
SESSION_COOKIE_HTTPONLY = True
# A session ends SESSION_COOKIE_AGE after sign-in however busy it is, and sooner after
# SESSION_IDLE_MINUTES without a request (accounts.middleware.IdleSessionTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# SITE_URL says how people reach us: when it is https, everything insists on TLS.
SERVED_OVER_TLS = SITE_URL.startswith("https://")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SERVED_OVER_TLS)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SERVED_OVER_TLS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SERVED_OVER_TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SERVED_OVER_TLS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SERVED_OVER_TLS)
# A load balancer probes each node over plain HTTP on the inside.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
if env_bool("BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Passkeys (django-otp-webauthn) belong to the host people reach us on, over https (or
# http://localhost); browsers refuse them on a bare IP address, so a first look on 127.0.0.1
# offers the authenticator app only, and the placeholders below only satisfy the app's checks.
MFA_PASSKEYS = SERVED_OVER_TLS or urlsplit(SITE_URL).hostname == "localhost"
OTP_WEBAUTHN_RP_ID = urlsplit(SITE_URL).hostname if MFA_PASSKEYS else "localhost"
OTP_WEBAUTHN_RP_NAME = env("MFA_ISSUER", "Redress")
OTP_WEBAUTHN_ALLOWED_ORIGINS = [SITE_URL if MFA_PASSKEYS else "http://localhost"]
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")
if EMBEDDED_DATABASE:
    # SQLite keeps neither covering columns nor NULLS NOT DISTINCT; the first look is fine
    # without them.
    SILENCED_SYSTEM_CHECKS += ["models.W040", "models.W047"]
# No inline script anywhere: every script is a file under /static/. Styles may be inline
# because Bootstrap's and Chart.js's scripts set element styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

DEMO_PASSWORD = env("DEMO_PASSWORD", "redress-demo")
# Real public complaints loaded by `seed_demo --demo` for a first look ('' to skip); the
# sample ships in the repository.
DEMO_CFPB_PATH = env(
    "DEMO_CFPB_PATH", str(BASE_DIR / "complaints" / "demo_data" / "cfpb-complaints.csv.gz")
)

# Trend reports: a category is rising when its volume reaches this multiple of its average
# over the previous eight periods (and at least RISING_MIN_COUNT complaints).
RISING_THRESHOLD = float(env("RISING_THRESHOLD", "1.5"))
RISING_MIN_COUNT = env_int("RISING_MIN_COUNT", 5)
PROCEDURE_REVIEW_INTERVAL_DAYS = env_int("PROCEDURE_REVIEW_INTERVAL_DAYS", 90)
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 60)

# Customer communications.
COMPLAINTS_TEAM_NAME = env("COMPLAINTS_TEAM_NAME", "the Complaints Team")
# The firm: its name heads letters to customers (docs/correspondence.md) and is the brand the
# regulators' returns name where a complaint names no business unit; its postal address has
# its lines separated by semicolons.
FIRM_NAME = env("FIRM_NAME", "Redress Financial Services")
FIRM_ADDRESS = [
    line.strip()
    for line in env("FIRM_ADDRESS", "1 Example Street;Springfield;EX1 2AB").split(";")
    if line.strip()
]
# Hold intake acknowledgments for a CSR to send after review instead of sending at once.
ACKNOWLEDGMENT_HOLD_FOR_REVIEW = env_bool("ACKNOWLEDGMENT_HOLD_FOR_REVIEW", False)
CUSTOMER_LINK_MAX_AGE_DAYS = env_int("CUSTOMER_LINK_MAX_AGE_DAYS", 180)
PUBLIC_FORM_RATE_LIMIT = env_int("PUBLIC_FORM_RATE_LIMIT", 5)  # complaints per address per hour
# Messages a customer may write on their link, per address per hour.
CUSTOMER_REPLY_RATE_LIMIT = env_int("CUSTOMER_REPLY_RATE_LIMIT", 20)

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if CELERY_BROKER_URL.startswith("redis")
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# Plain lines for a developer's terminal; LOG_FORMAT=json (docker-compose) writes one JSON
# object a line for a log collector. Both carry the request id (config/logging.py).
LOG_FORMAT = env("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each step of every letter it renders.
        "weasyprint": {"level": "WARNING"},
    },
}

# Operations: /health/ for load balancers and /metrics for Prometheus (config/health.py,
# config/metrics.py, docs/operations-health.md).
# /metrics answers loopback, or anyone sending `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env("METRICS_TOKEN")
# The relay job runs every minute; no run for this long means beat (or every worker) stopped.
HEALTH_BEAT_MAX_AGE_MINUTES = env_int("HEALTH_BEAT_MAX_AGE_MINUTES", 5)
HEALTH_OUTBOX_MAX_PENDING = env_int("HEALTH_OUTBOX_MAX_PENDING", 500)
HEALTH_OUTBOX_MAX_AGE_MINUTES = env_int("HEALTH_OUTBOX_MAX_AGE_MINUTES", 15)
# The acknowledgment sweep runs every 5 minutes; a deadline left unmarked this long after it
# passed means the sweep is not running.
HEALTH_CLOCKS_MAX_LATE_MINUTES = env_int("HEALTH_CLOCKS_MAX_LATE_MINUTES", 15)
HEALTH_SMTP_TIMEOUT_SECONDS = env_int("HEALTH_SMTP_TIMEOUT_SECONDS", 3)

# JSON API (complaints/api/): token per integrating system, OpenAPI schema and local docs.
INSTALLED_APPS += [
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
]
REST_FRAMEWORK = {
    # Token first: an anonymous caller is told 401 with `WWW-Authenticate: Token`. Tokens are
    # accounts.ApiToken: hashed at rest, expiring, revocable, read or write.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["complaints.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "complaints.api.pagination.PagePagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 25),
    "DEFAULT_THROTTLE_CLASSES": ["complaints.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env("API_THROTTLE_RATE", "120/min")},
    "EXCEPTION_HANDLER": "complaints.api.errors.exception_handler",
}
# How long a new API token lasts unless its creator says otherwise.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
SPECTACULAR_SETTINGS = {
    "TITLE": "Redress API",
    "DESCRIPTION": (
        "Log and track complaints from other systems. Authenticate with "
        "`Authorization: Token <key>`; the key belongs to a user whose role sets what the "
        "caller may see and do, exactly as in the web interface."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "complaints.workflow.STAGE_CHOICES",
        "StageFilterEnum": "complaints.selectors.lists.STAGE_FILTERS",
        "EscalationTargetEnum": "complaints.api.serializers.ESCALATION_TARGETS",
        "AcknowledgmentMethodEnum": "complaints.models.AcknowledgmentMethod",
        "ChannelEnum": "complaints.models.Channel",
        "MessageChannelEnum": "complaints.models.MessageChannel",
    },
    # The inbound mail webhook is anymail's view, outside DRF: documented by a hook.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "complaints.api.mail_webhook.document_in_schema",
    ],
    # The documentation pages load Swagger UI and Redoc from this server, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
