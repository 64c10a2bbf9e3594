"""Settings, all read from the environment (see README.md, "Configuration")."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import csp.constants
from django.core.exceptions import ImproperlyConfigured

from config.database import database_from_url
from config.env import (
    env_bool,
    env_days_by_type,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_region,
    env_str,
    env_timezone,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY must be set to a secret value when DEBUG is off.")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

TIME_ZONE = env_timezone("TIME_ZONE", "America/New_York")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

PHONE_DEFAULT_REGION = env_region("PHONE_DEFAULT_REGION", "US")

INSTALLED_APPS = [
    "config.apps.ClinicAdminConfig",  # django.contrib.admin with the clinic's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs' scripts served from here, not a CDN (CSP)
    "csp",
    "django_filters",
    "axes",  # sign-in lockout (see "Staff sign-in" below)
    "django_otp",  # the TOTP second factor (same section)
    "django_otp.plugins.otp_totp",
    "crm",
    "engagement",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the app (gunicorn), before anything else runs for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # A body sent in chunks is read to its end or refused (411), never taken as empty;
    # before anything reads a body (CSRF reads the admin's forms).
    "crm.request_bodies.RequestBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Tells whether this session's sign-in included the second factor (request.user).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL"), default_sqlite=VAR_DIR / "crm.sqlite3"
    )
}
# Seconds a web worker keeps its database connection between requests; 0 opens one per
# request. Under gunicorn set it (60): a PostgreSQL connection costs several times what the
# screen pop's queries do (docs/benchmarks.md, "API lookup"). Leave 0 with runserver, which
# starts a thread per request and would leave a connection behind for each.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
# Django turns psycopg's prepared statements off so connection poolers keep working; with
# PostgreSQL reached directly they spare it re-planning the hot statements (README). Only a
# statement bound on the server can be prepared: Django's default cursor binds parameters in
# the client and sends one-off text, so the setting also turns on server-side binding
# (the screen pop's PostgreSQL time per lookup halves, docs/benchmarks.md).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "DATABASE_PREPARE_THRESHOLD"
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        prepare_threshold=env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0),
        server_side_binding=True,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))

# --- Production: HTTPS, cookies, sessions, CSP, static files (deploy/README.md) -------------
# Each has the safe production default when DEBUG is off; `make run` (DEBUG=1) keeps plain
# HTTP. deploy/env.example lists them; `manage.py check --deploy` passes with it.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Behind a proxy that ends TLS: "HTTP_X_FORWARDED_PROTO,https". Only if the proxy always
# sets that header itself; otherwise a client could claim HTTPS.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
# Load balancers probe over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 86400, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A working day, not Django's two weeks: a desk left signed in overnight is not left open.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
# django-csp 4: our own scripts and styles only; data: images for the API docs' icons.
# CSP_REPORT_ONLY=1 reports violations (to CSP_REPORT_URI) without blocking anything.
_csp = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF],
        "style-src": [csp.constants.SELF],
        "img-src": [csp.constants.SELF, "data:"],
        "font-src": [csp.constants.SELF],
        "connect-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.NONE],
        "frame-ancestors": [csp.constants.NONE],
        "form-action": [csp.constants.SELF],
        "report-uri": env_str("CSP_REPORT_URI", "") or None,
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp
# One cache for every web worker on every host (the API's throttle counts live there):
# redis://host:6379/1. Empty: each process its own memory, fine for one process.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
# Hashed, compressed copies made by collectstatic, served by WhiteNoise with far-future
# caching; with DEBUG the files are read where they are (runserver, no collectstatic).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Patients' folded states each process keeps between commands (crm.handlers.states), so a
# command reads only the events since; 0 reads every stream whole. About 3 kB each for a
# 20-event stream (docs/benchmarks.md, "Commands against eventsourcing"); a
# contact center works a record in bursts (lookup, call, booking): the recent ones pay.
COMMAND_STATE_CACHE_SIZE = env_int("COMMAND_STATE_CACHE_SIZE", 10_000, minimum=0)

# How far ahead an appointment may be booked or a test fall due (crm.domain.times): a booking
# further out is almost always a typo in the year.
APPOINTMENT_HORIZON_DAYS = env_int("APPOINTMENT_HORIZON_DAYS", 731, minimum=1)

# How many events a catch-up projection takes per transaction.
PROJECTION_BATCH_SIZE = env_int("PROJECTION_BATCH_SIZE", 500, minimum=1)
# The pipeline's health (GET /api/v1/health/projections/, the dashboard's panel, /readyz):
# lag past this many seconds turns the panel red; a projection that has not advanced for
# this long while events wait makes /readyz answer 503.
PIPELINE_LAG_ALERT_SECONDS = env_int("PIPELINE_LAG_ALERT_SECONDS", 120, minimum=1)
READY_STALL_SECONDS = env_int("READY_STALL_SECONDS", 600, minimum=1)

REDIS_URL = os.environ.get("REDIS_URL", "")
_Q_TIMEOUT = env_int("Q_TIMEOUT_SECONDS", 60, minimum=1)
_Q_RETRY = env_int("Q_RETRY_SECONDS", 120, minimum=2)
if _Q_RETRY <= _Q_TIMEOUT:
    # Otherwise a task still running would be handed to a second worker.
    raise ImproperlyConfigured("Q_RETRY_SECONDS must be longer than Q_TIMEOUT_SECONDS.")
Q_CLUSTER: dict[str, object] = {
    # Every host's workers share one queue: the same name and REDIS_URL everywhere.
    "name": env_str("Q_CLUSTER_NAME", "crm"),
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": _Q_TIMEOUT,
    "retry": _Q_RETRY,
    "max_attempts": 1,
    "catch_up": False,
    "label": "Jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- The agent desktop REST API (crm/api, docs/api.md) -----------------------------------

# Bodies above this size are refused with 413 before they are parsed. A 10,000-character
# note is the largest thing a desktop sends; even written as JSON escapes it stays below.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024, minimum=1024)

REST_FRAMEWORK = {
    # Token first: its "WWW-Authenticate: Token" makes anonymous requests 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.TokenAuthentication",
        # The admin's session, only once it has passed the second factor where one is owed.
        "crm.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.IsClinicStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm.api.parsers.JSONBodyParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.PerUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_THROTTLE_RATE", "300/minute")},
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PatientPagination",
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.ApiSchema",
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "crm.api.problems.exception_handler",
    "NON_FIELD_ERRORS_KEY": "body",
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Proxies in front of the app (deploy/README.md): the client's address is the entry the
    # nearest one appended to X-Forwarded-For. 0 believes no header: behind a proxy every
    # request then comes from the proxy, for the audit and the sign-in lockout alike.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}

# A key stops working this long after it was issued (create_api_token --rotate issues the
# next one); supervisors can revoke one sooner in the admin ("API tokens").
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 90 * 24, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "Patient engagement CRM: agent desktop API",
    "DESCRIPTION": (
        "Screen pop by caller number, patient profile and timeline, and the commands an agent "
        "runs during a call. Errors are application/problem+json (RFC 9457). See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set used under several field names (channel, via), and names
    # for choice sets whose field name (channel, kind) others use too.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "crm.domain.events.catalogue.Channel",
        "RecordedChannelEnum": "crm.api.serializers.RECORDED_CHANNELS",
        "ReminderKindEnum": "reminders.models.ReminderKind",
        "SuggestionKindEnum": "engagement.domain.suggestions.Kind",
    },
    # Nullable objects a 3.0 validator accepts null for, and the problem types' enum.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.contract_hook",
    ],
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN: the docs work
    # offline and under the CSP; ReDoc too (/api/redoc/, inline styles allowed on its page).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- The live desk's event stream (crm/desk, docs/desk.md) --------------------------------
# A desktop reconnecting with Last-Event-ID gets what it missed this far back; the feed's
# rows are kept DESK_KEEP_HOURS, then the hourly job prunes them.
DESK_REPLAY_SECONDS = env_int("DESK_REPLAY_SECONDS", 600, minimum=0)
DESK_KEEP_HOURS = env_int("DESK_KEEP_HOURS", 24, minimum=1)
if DESK_REPLAY_SECONDS > DESK_KEEP_HOURS * 3600:
    raise ImproperlyConfigured("DESK_REPLAY_SECONDS must not exceed DESK_KEEP_HOURS.")
# A comment line this often keeps proxies from closing an idle stream.
DESK_KEEPALIVE_SECONDS = env_int("DESK_KEEPALIVE_SECONDS", 15, minimum=1)
# A stream ends after this long and the desktop reconnects (EventSource does by itself):
# its credentials are checked again, so a revoked token stops receiving within this time.
DESK_STREAM_MAX_SECONDS = env_int("DESK_STREAM_MAX_SECONDS", 900, minimum=10)
# How often a process looks for new events: SQLite always; PostgreSQL only as the fallback
# when no NOTIFY came (a lost notification delays an event this long, never loses it).
DESK_POLL_MS = env_int("DESK_POLL_MS", 250, minimum=10)
DESK_FALLBACK_POLL_MS = env_int("DESK_FALLBACK_POLL_MS", 2000, minimum=10)

# --- The supervisor dashboard's figures (crm/selectors/metrics.py) ------------------------
# Both are applied when the figures are read, so changing one needs no projection rebuild.

# First-contact resolution: a handled contact the agent marked "resolved on first contact"
# counts as resolved when the patient makes no further contact on the same reason (the
# clinic's list of contact reasons, crm.models.ContactReason) within this many days.
METRICS_FCR_REPEAT_DAYS = env_int("METRICS_FCR_REPEAT_DAYS", 7, minimum=1)
# Abandonment (inbound calls and chats that ended before reaching an agent: abandoned or
# missed in the queue) leaves out those that ended sooner than this (misdials, callers who
# meant another number): they never had a chance to reach an agent.
METRICS_SHORT_ABANDON_SECONDS = env_int("METRICS_SHORT_ABANDON_SECONDS", 5, minimum=0)
# Churn (crm/domain/churn.py, docs/churn.md), also applied when read: a patient is active
# with a completed visit in the last CHURN_ACTIVE_MONTHS, and lapses after CHURN_LAPSE_DAYS
# (by the last visit's type; `other` for the types not named) with no visit, nothing booked
# and no reached contact. The win-back suggestion (re_engage) follows the same two.
CHURN_ACTIVE_MONTHS = env_int("CHURN_ACTIVE_MONTHS", 12, minimum=1)
CHURN_LAPSE_DAYS = env_days_by_type(
    "CHURN_LAPSE_DAYS", {"therapy": 90, "psychiatry": 90, "other": 180}
)

# --- Next-best actions (engagement/): thresholds of the suggestion rules ------------------
# The defaults are RuleConfig's (engagement/domain/config.py); docs/engagement.md explains
# each rule.
from engagement import conf as _engagement_conf  # noqa: E402

_rules = _engagement_conf.RuleConfig()
_hour = dt.timedelta(hours=1)
# The crisis line shown on crisis suggestions and the screen pop (never derived from the
# caller's area code: the network routes 988 to the right center).
CRISIS_LINE = _engagement_conf.env_crisis_line("CRISIS_LINE", _rules.crisis_line)
ENGAGEMENT_ANNUAL_INTERVAL_DAYS = env_int(
    "ENGAGEMENT_ANNUAL_INTERVAL_DAYS", _rules.annual_interval.days, minimum=1
)
# Completed visits of these types call for a follow-up within this many days.
ENGAGEMENT_FOLLOW_UP_DAYS = _engagement_conf.env_days_by_type(
    "ENGAGEMENT_FOLLOW_UP_DAYS", _engagement_conf.DEFAULT_FOLLOW_UP_DAYS
)
# A follow-up nobody booked stays in the queue this long after it fell due.
ENGAGEMENT_FOLLOW_UP_WINDOW_DAYS = env_int(
    "ENGAGEMENT_FOLLOW_UP_WINDOW_DAYS", _rules.follow_up_window.days, minimum=1
)
ENGAGEMENT_NO_SHOW_WINDOW_DAYS = env_int(
    "ENGAGEMENT_NO_SHOW_WINDOW_DAYS", _rules.no_show_window.days, minimum=1
)
ENGAGEMENT_CALLBACK_DUE_HOURS = env_int(
    "ENGAGEMENT_CALLBACK_DUE_HOURS", _rules.callback_due // _hour, minimum=1
)
ENGAGEMENT_CALLBACK_WINDOW_DAYS = env_int(
    "ENGAGEMENT_CALLBACK_WINDOW_DAYS", _rules.callback_window.days, minimum=1
)
ENGAGEMENT_CRISIS_FIRST_CALL_HOURS = env_int(
    "ENGAGEMENT_CRISIS_FIRST_CALL_HOURS", _rules.crisis_first_call // _hour, minimum=1
)
ENGAGEMENT_CRISIS_WINDOW_HOURS = env_int(
    "ENGAGEMENT_CRISIS_WINDOW_HOURS", _rules.crisis_window // _hour, minimum=1
)
ENGAGEMENT_CRISIS_RETRY_HOURS = env_int(
    "ENGAGEMENT_CRISIS_RETRY_HOURS", _rules.crisis_retry // _hour, minimum=1
)
# Days after a crisis contact on which a caring contact is due (about a dozen in a year).
ENGAGEMENT_CARING_CONTACT_DAYS = _engagement_conf.env_day_list(
    "ENGAGEMENT_CARING_CONTACT_DAYS", _engagement_conf.DEFAULT_CARING_CONTACT_DAYS
)
ENGAGEMENT_UNCONFIRMED_HOURS = env_int(
    "ENGAGEMENT_UNCONFIRMED_HOURS", _rules.unconfirmed_window // _hour, minimum=1
)
ENGAGEMENT_UNREACHABLE_ATTEMPTS = env_int(
    "ENGAGEMENT_UNREACHABLE_ATTEMPTS", _rules.unreachable_attempts, minimum=1
)
ENGAGEMENT_CLAIM_MINUTES = env_int(
    "ENGAGEMENT_CLAIM_MINUTES", _rules.claim_expiry // dt.timedelta(minutes=1), minimum=1
)

# --- SMS reminders and two-way texting (reminders/) ----------------------------------------
# The schedule, the dispatcher and the SMS backends (docs/reminders.md)
from reminders import conf as _reminders_conf  # noqa: E402

REMINDERS_OFFSETS_HOURS = _reminders_conf.env_offsets("REMINDERS_OFFSETS_HOURS", "72,24")
REMINDERS_OFFSETS_BY_KIND = _reminders_conf.env_offsets_by_kind("REMINDERS_OFFSETS_BY_KIND")
REMINDERS_SEND_WINDOW = _reminders_conf.env_window("REMINDERS_SEND_WINDOW", "08:00-21:00")
REMINDERS_CAP_PER_DAY = env_int("REMINDERS_CAP_PER_DAY", 1, minimum=1)
REMINDERS_CAP_PER_WEEK = env_int("REMINDERS_CAP_PER_WEEK", 3, minimum=1)
REMINDERS_SATISFACTION_ENABLED = env_bool("REMINDERS_SATISFACTION_ENABLED", False)
REMINDERS_SATISFACTION_DELAY_HOURS = env_int("REMINDERS_SATISFACTION_DELAY_HOURS", 2, minimum=0)
REMINDERS_BATCH_SIZE = env_int("REMINDERS_BATCH_SIZE", 50, minimum=1)
REMINDERS_SEND_LEASE_SECONDS = env_int("REMINDERS_SEND_LEASE_SECONDS", 300, minimum=1)
REMINDERS_RETRY_ATTEMPTS = env_int("REMINDERS_RETRY_ATTEMPTS", 5, minimum=1)
REMINDERS_RETRY_BASE_SECONDS = env_int("REMINDERS_RETRY_BASE_SECONDS", 60, minimum=1)
CLINIC_SHORT_NAME = _reminders_conf.env_sms_safe_name("CLINIC_SHORT_NAME", "Harbor Clinic")
CLINIC_PHONE = env_str("CLINIC_PHONE", "+16175550100")
# The console only prints texts: in production the choice must be explicit (twilio, or
# console on purpose), never a silent default that leaves patients without reminders.
if not DEBUG and not os.environ.get("SMS_BACKEND"):
    raise ImproperlyConfigured(
        "SMS_BACKEND must be set when DEBUG is off: twilio to send texts, or console to "
        "only print them (docs/reminders.md, 'Backends')."
    )
SMS_BACKEND = env_str("SMS_BACKEND", "console")
SMS_CONSOLE_LOG = env_str("SMS_CONSOLE_LOG", str(VAR_DIR / "sms-console.jsonl"))
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
# In development with texts only printed, webhooks are checked with a published dev-only
# token (like _DEV_SECRET), so `manage.py simulate_call` rings `make run` with no Twilio
# account. Never with DEBUG off or a real texting backend: there the token must be set.
_DEV_TWILIO_AUTH_TOKEN = "dev-only-twilio-auth-token"
_DEV_WEBHOOKS = DEBUG and SMS_BACKEND in ("console", "reminders.backends.console.ConsoleBackend")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", _DEV_TWILIO_AUTH_TOKEN if _DEV_WEBHOOKS else "")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_STATUS_CALLBACK_URL = env_str("TWILIO_STATUS_CALLBACK_URL", "")
TWILIO_TIMEOUT_SECONDS = env_int("TWILIO_TIMEOUT_SECONDS", 10, minimum=1)
if SMS_BACKEND in ("twilio", "reminders.backends.twilio.TwilioBackend"):
    for _name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        if not globals()[_name]:
            raise ImproperlyConfigured(f"{_name} is required when SMS_BACKEND=twilio.")
    if not re.fullmatch(r"AC[0-9a-f]{32}", TWILIO_ACCOUNT_SID):
        # Every signed webhook names the account; a wrong one refuses them all (400).
        raise ImproperlyConfigured(
            "TWILIO_ACCOUNT_SID must be your account's SID: AC and 32 hex digits, as the "
            "Twilio console shows it."
        )
    # Real texts never go out under the demo clinic's name or number.
    for _name in ("CLINIC_SHORT_NAME", "CLINIC_PHONE"):
        if not os.environ.get(_name):
            raise ImproperlyConfigured(
                f"{_name} is required when SMS_BACKEND=twilio: every text names the clinic "
                "and the HELP reply gives its number."
            )
    if not (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER):
        raise ImproperlyConfigured(
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER is required "
            "when SMS_BACKEND=twilio."
        )
# Webhooks for replies and delivery status (docs/texting.md)
# The public URL Twilio calls, without the path (https://crm.example.org), when a proxy
# stands between: signatures cover the exact URL Twilio used. Blank: the request's own.
TWILIO_WEBHOOK_BASE_URL = env_str("TWILIO_WEBHOOK_BASE_URL", "").rstrip("/")
if TWILIO_WEBHOOK_BASE_URL and not TWILIO_WEBHOOK_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"TWILIO_WEBHOOK_BASE_URL={TWILIO_WEBHOOK_BASE_URL!r} must start with https://"
    )
# Phone calls (Twilio Voice; README, "Phone calls (Twilio Voice)"). Callers wait in
# TWILIO_VOICE_QUEUE; a caller with an open crisis flag goes first: through the TaskRouter
# workflow with a higher task priority when TWILIO_VOICE_WORKFLOW_SID is set, otherwise
# through TWILIO_VOICE_CRISIS_QUEUE, which the desk answers first.
from crm.voice import conf as _voice_conf  # noqa: E402

TWILIO_VOICE_QUEUE = env_str("TWILIO_VOICE_QUEUE", "clinic")
TWILIO_VOICE_CRISIS_QUEUE = env_str("TWILIO_VOICE_CRISIS_QUEUE", "clinic-priority")
TWILIO_VOICE_WORKFLOW_SID = env_str("TWILIO_VOICE_WORKFLOW_SID", "")
TWILIO_VOICE_CRISIS_PRIORITY = env_int("TWILIO_VOICE_CRISIS_PRIORITY", 100, minimum=1)
TWILIO_VOICE_WAIT_URL = env_str("TWILIO_VOICE_WAIT_URL", "")
_voice_conf.check(os.environ)
# A call one of whose callbacks never came is ended from what is known after this much
# silence; one with neither, after the longest call Twilio allows (4 h by default) and that
# silence (crm/voice/settle.py, run every minute by django-q2).
VOICE_SETTLE_AFTER_SECONDS = env_int("VOICE_SETTLE_AFTER_SECONDS", 120, minimum=30)
VOICE_LONGEST_CALL_SECONDS = env_int("VOICE_LONGEST_CALL_SECONDS", 4 * 3600, minimum=60)
# A reply 1-5 counts as a satisfaction score this long after a satisfaction text.
SATISFACTION_REPLY_WINDOW_HOURS = env_int("SATISFACTION_REPLY_WINDOW_HOURS", 72, minimum=1)

# --- Staff sign-in: lockout after repeated failures (django-axes) ---------------------------
# Axes' backend comes first: it refuses a locked-out username or address before any password
# is checked. Failures are logged (logger "axes") and kept in the admin's "Axes" tables;
# `manage.py axes_reset_username NAME` lifts a lockout before it expires.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "crm.signin.lockout.LockoutHandler"
# Counted per username and per address, each on its own (a clinic's desks often share one
# public address, so the address gets a higher limit: LOGIN_ADDRESS_FAILURE_LIMIT).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
# Never reset on success: resetting clears the address's count too, so one valid account
# would let its holder guess everyone else's passwords without end.
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# crm.admin.signin shows axes' tables read-only instead of axes' own, which can delete them.
AXES_ENABLE_ADMIN = False
# The log names the username and address of each failure (axes hides them by default), so
# an operator can tell a forgetful colleague from someone guessing; codes are never logged.
AXES_SENSITIVE_PARAMETERS = ["otp_token"]
# The address the access audit records, believing X-Forwarded-For only as far as
# REST_FRAMEWORK["NUM_PROXIES"] says proxies sit in front.
AXES_CLIENT_IP_CALLABLE = "crm.api.audit.source_address"
AXES_LOCKOUT_CALLABLE = "crm.signin.lockout.lockout_response"

# --- Staff sign-in: the second factor (TOTP, django-otp; crm.signin.second_factor) ---------
# Any staff member may add an authenticator app ("Two-factor sign-in" on the admin's front
# page); whoever has one is asked for its code at every sign-in. With this on, supervisors
# must add one before the admin opens for them.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", False)
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", f"{CLINIC_SHORT_NAME} CRM")

# --- The EHR import (crm.fhir; docs/fhir.md) -----------------------------------------------
# The EHR's FHIR R4 server: when set, a job imports what changed there every
# FHIR_SYNC_MINUTES (a day by default), and `import_fhir --server` defaults to it.
FHIR_SERVER_URL = env_str("FHIR_SERVER_URL", "")
FHIR_SERVER_TOKEN = env_str("FHIR_SERVER_TOKEN", "")  # a bearer token, if the server asks
FHIR_SYNC_MINUTES = env_int("FHIR_SYNC_MINUTES", 24 * 60, minimum=5)
FHIR_PAGE_SIZE = env_int("FHIR_PAGE_SIZE", 200, minimum=1)
# What files name their EHR by (identifiers and keys of their records): the server's base
# URL is best, so that files and the server's sync recognise the same records.
FHIR_SOURCE = env_str("FHIR_SOURCE", FHIR_SERVER_URL or "urn:crm:ehr")
